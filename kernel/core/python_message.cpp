#include "python_message.hpp"

#include <string>

#include "json_python.hpp"

namespace xaccel
{
    py::dict python_message(const message& request)
    {
        py::dict msg;
        msg["header"] = to_python(request.header);
        msg["parent_header"] = to_python(request.parent_header);
        msg["metadata"] = to_python(request.metadata);
        msg["content"] = to_python(request.content);
        msg["msg_id"] = request.header.value("msg_id", std::string());
        msg["msg_type"] = request.msg_type();
        py::list buffers;
        for (const auto& b : request.buffers)
        {
            buffers.append(py::memoryview(py::bytes(b)));
        }
        msg["buffers"] = buffers;
        return msg;
    }
}
