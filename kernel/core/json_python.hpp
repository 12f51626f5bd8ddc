// Conversions between nlohmann::json and Python objects (GIL must be held).
#ifndef XACCEL_CORE_JSON_PYTHON_HPP
#define XACCEL_CORE_JSON_PYTHON_HPP

#include <nlohmann/json.hpp>
#include <pybind11/pybind11.h>

namespace xaccel
{
    namespace nl = nlohmann;
    namespace py = pybind11;

    py::object to_python(const nl::json& value);

    // Objects with no JSON form (dates, sets, custom classes) are written as
    // their str(), as Jupyter kernels conventionally do, so that a rich repr
    // with odd metadata never breaks the message.
    nl::json to_json(py::handle obj);
}

#endif
