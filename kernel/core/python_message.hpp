// A request as the Python side sees it: ipykernel's message dict (GIL must be held).
#ifndef XACCEL_CORE_PYTHON_MESSAGE_HPP
#define XACCEL_CORE_PYTHON_MESSAGE_HPP

#include <pybind11/pybind11.h>

#include "message.hpp"

namespace xaccel
{
    namespace py = pybind11;

    // header, parent_header, metadata, content, msg_id, msg_type and buffers
    // (as memoryviews); routing identities are left to callers that need them.
    py::dict python_message(const message& request);
}

#endif
