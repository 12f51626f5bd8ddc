// `_xaccel`: the built-in module through which the Python side of the kernel
// reaches the C++ core (publishing, stdin, and the transport's wait).
#include <pybind11/embed.h>
#include <pybind11/stl.h>

#include "diagnostics.hpp"
#include "json_python.hpp"
#include "kernel_core.hpp"
#include "murmur_hash.hpp"

namespace py = pybind11;
namespace nl = nlohmann;

namespace
{
    xaccel::kernel_core& core()
    {
        xaccel::kernel_core* k = xaccel::kernel_core::current();
        if (k == nullptr)
        {
            throw std::runtime_error("the xaccel kernel core is not running");
        }
        return *k;
    }

    xaccel::buffer_sequence to_buffers(const py::object& buffers)
    {
        xaccel::buffer_sequence out;
        if (buffers.is_none())
        {
            return out;
        }
        for (py::handle item : buffers)
        {
            py::buffer_info info = py::reinterpret_borrow<py::buffer>(item).request();
            out.emplace_back(static_cast<const char*>(info.ptr), static_cast<std::size_t>(info.size * info.itemsize));
        }
        return out;
    }
}

PYBIND11_EMBEDDED_MODULE(_xaccel, m)
{
    m.doc() = "Internal bridge between the xaccel kernel core (C++) and its Python engine.";

    m.def(
        "publish",
        [](const std::string& msg_type, py::handle content, py::object metadata, py::object buffers,
           py::object parent)
        {
            nl::json meta = metadata.is_none() ? nl::json::object() : xaccel::to_json(metadata);
            nl::json parent_header = parent.is_none() ? nl::json() : xaccel::to_json(parent);
            return core().publish(msg_type, xaccel::to_json(content), std::move(meta), to_buffers(buffers),
                                  std::move(parent_header));
        },
        py::arg("msg_type"), py::arg("content"), py::arg("metadata") = py::none(), py::arg("buffers") = py::none(),
        py::arg("parent") = py::none(),
        "Publish an iopub message; its parent header is `parent`, or the request being executed.\n"
        "Returns its msg_id.");

    m.def(
        "input_request",
        [](const std::string& prompt, bool password) { return core().request_input(prompt, password); },
        py::arg("prompt"), py::arg("password") = false,
        "Ask the front end for a line of input over the stdin channel.");

    m.def(
        "wait",
        [](int fd, int timeout_ms, bool accept_shell)
        { return core().get_transport().wait(fd, timeout_ms, accept_shell); },
        py::arg("fd"), py::arg("timeout_ms"), py::arg("accept_shell"),
        "Block until a kernel message or `fd` is ready (the event loop's single wait).");

    m.def(
        "dispatch", [](bool accept_shell) { core().get_transport().dispatch(accept_shell); },
        py::arg("accept_shell"), "Handle the kernel messages that are ready.");

    m.def(
        "finish_execute", [](py::handle reply) { core().finish_execute(xaccel::to_json(reply)); },
        py::arg("reply"), "Send the execute_reply of a cell that finished on the event loop.");

    m.def("stop_requested", []() { return core().stop_requested(); });
    m.def("cell_running", []() { return core().cell_running(); },
          "Whether a cell runs: while it drives the loop, comms and other requests are served beside it.");
    m.def("request_stop", []() { core().request_stop(); }, "End the kernel's main loop.");
    m.def("session", []() { return core().session(); });
    m.def("redirect_diagnostics", &xaccel::redirect_diagnostics, py::arg("fd"),
          "Write the kernel's own diagnostics (C++ and sanitizers) to `fd` from now on.");
    m.def("parent_header", []() { return xaccel::to_python(core().execution_parent()); });
    m.def(
        "murmur2_32",
        [](py::bytes data, std::uint32_t seed)
        {
            char* bytes = nullptr;
            Py_ssize_t size = 0;
            PyBytes_AsStringAndSize(data.ptr(), &bytes, &size);
            return xaccel::murmur2_32(reinterpret_cast<const unsigned char*>(bytes), static_cast<std::size_t>(size),
                                      seed);
        },
        py::arg("data"), py::arg("seed"), "MurmurHash2 (32-bit, x86) of `data`, as xaccel_kernel.cells.murmur2_32.");
}
