// `_xaccel_subshells`: how a subshell's Python thread (xaccel_kernel/
// subshells.py) takes its requests and sends its replies (native build).
#include <pybind11/embed.h>
#include <pybind11/stl.h>

#include "../core/json_python.hpp"
#include "../core/kernel_core.hpp"
#include "../core/python_message.hpp"
#include "shell_channel.hpp"
#include "subshell_registry.hpp"

namespace py = pybind11;

namespace
{
    xaccel::subshell_registry& registry()
    {
        xaccel::subshell_registry* r = xaccel::current_subshells();
        if (r == nullptr)
        {
            throw std::runtime_error("this kernel has no subshells");
        }
        return *r;
    }

    // A request as Python sees it (ipykernel's message dict), with the
    // routing identities its reply needs.
    py::dict python_request(const xaccel::message& request)
    {
        py::dict msg = xaccel::python_message(request);
        py::list identities;
        for (const auto& id : request.identities)
        {
            identities.append(py::bytes(id));
        }
        msg["identities"] = identities;
        return msg;
    }
}

PYBIND11_EMBEDDED_MODULE(_xaccel_subshells, m)
{
    m.doc() = "The native kernel's subshells, as their Python threads see them.";

    py::class_<xaccel::subshell_queue, std::shared_ptr<xaccel::subshell_queue>>(m, "Queue")
        .def("fileno", &xaccel::subshell_queue::fileno, "Readable while requests wait or once closed.")
        .def(
            "take",
            [](xaccel::subshell_queue& q)
            {
                bool closed = false;
                std::vector<xaccel::message> requests = q.take(closed);
                py::list out;
                for (const auto& r : requests)
                {
                    out.append(python_request(r));
                }
                return py::make_tuple(out, closed);
            },
            "(requests waiting, closed): takes them without blocking.");

    m.def(
        "queue", [](const std::string& id) { return registry().queue(id); }, py::arg("subshell_id"),
        "The request queue of a subshell, or None.");

    m.def("close_all", []() { registry().close_all(); }, "Close every subshell's queue (shutdown).");

    m.def(
        "reply",
        [](py::handle request, const std::string& reply_type, py::handle content, py::handle metadata)
        {
            xaccel::kernel_core* core = xaccel::kernel_core::current();
            xaccel::shell_channel* channel = xaccel::shell_channel::current();
            if (core == nullptr || channel == nullptr)
            {
                throw std::runtime_error("the shell channel is not running");
            }
            xaccel::message reply;
            for (py::handle id : request["identities"])
            {
                reply.identities.push_back(py::cast<std::string>(id));
            }
            reply.header = xaccel::make_header(reply_type, core->session(), core->get_transport().username());
            reply.parent_header = xaccel::to_json(request["header"]);
            reply.metadata = metadata.is_none() ? nlohmann::json::object() : xaccel::to_json(metadata);
            reply.content = xaccel::to_json(content);
            channel->send(std::move(reply));
        },
        py::arg("request"), py::arg("reply_type"), py::arg("content"), py::arg("metadata") = py::none(),
        "Send the reply to `request` (a dict from Queue.take) on the shell channel.");

    m.def(
        "engine_free_reply",
        [](const std::string& msg_type) -> py::object
        {
            const char* reply_type = xaccel::kernel_core::engine_free_reply_type(msg_type);
            if (!reply_type)
            {
                return py::none();
            }
            return py::make_tuple(reply_type,
                                  xaccel::to_python(xaccel::kernel_core::current()->engine_free_reply(msg_type)));
        },
        py::arg("msg_type"),
        "(reply type, content) for a request that needs no engine (kernel_info, connect), else None.");
}
