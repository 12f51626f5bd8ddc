// Maps plain C++ accel::Error values to the matching Python exceptions.
#include <cerrno>

#include "internal.hpp"

namespace accel::binding {

namespace {
PyObject* g_channel_closed = nullptr;
PyObject* g_fetch_error = nullptr;
PyObject* g_cancelled = nullptr;
PyObject* g_invalid_state = nullptr;
PyObject* g_zlib_error = nullptr;

PyObject* call_exc(PyObject* type, const std::string& msg) {
    PyObject* text = PyUnicode_DecodeUTF8(msg.data(), static_cast<Py_ssize_t>(msg.size()), "replace");
    if (!text) return nullptr;
    PyObject* e = PyObject_CallOneArg(type, text);
    Py_DECREF(text);
    return e;
}
}  // namespace

PyObject* channel_closed_type() { return g_channel_closed; }
PyObject* cancelled_error_type() { return g_cancelled; }
PyObject* invalid_state_error_type() { return g_invalid_state; }

PyObject* make_exception(const Error& err) {
    switch (err.kind) {
        case ErrorKind::OS:
            // OSError(errno, strerror, filename) picks the subclass
            // (FileNotFoundError, PermissionError, IsADirectoryError...).
            if (!err.filename.empty()) {
                PyObject* fname = PyUnicode_DecodeFSDefaultAndSize(err.filename.data(),
                                                                   static_cast<Py_ssize_t>(err.filename.size()));
                if (!fname) return nullptr;
                PyObject* e = PyObject_CallFunction(PyExc_OSError, "isO", err.code, err.message.c_str(), fname);
                Py_DECREF(fname);
                return e;
            }
            return PyObject_CallFunction(PyExc_OSError, "is", err.code, err.message.c_str());
        case ErrorKind::Timeout:
            return call_exc(PyExc_TimeoutError, err.message);
        case ErrorKind::Cancelled:
            return call_exc(g_cancelled, err.message);
        case ErrorKind::InvalidArgument:
            return call_exc(PyExc_ValueError, err.message);
        case ErrorKind::NotImplemented:
            return call_exc(PyExc_NotImplementedError, err.message);
        case ErrorKind::Connection:
            if (err.code == ECONNREFUSED || err.code == ECONNRESET || err.code == ECONNABORTED)
                return PyObject_CallFunction(PyExc_OSError, "is", err.code, err.message.c_str());
            return call_exc(g_fetch_error, err.message);
        case ErrorKind::Closed:
            return call_exc(g_channel_closed, err.message);
        case ErrorKind::Data:
            return call_exc(g_zlib_error, err.message);
        case ErrorKind::Memory:
            return call_exc(PyExc_MemoryError, err.message.empty() ? "out of memory in an accel operation" : err.message);
        case ErrorKind::Runtime:
        case ErrorKind::None:
        default:
            return call_exc(PyExc_RuntimeError, err.message.empty() ? "accel: unknown error" : err.message);
    }
}

void init_errors(py::module_& m) {
    auto asyncio = py::module_::import("asyncio");
    g_cancelled = asyncio.attr("CancelledError").cast<py::object>().release().ptr();
    g_invalid_state = asyncio.attr("InvalidStateError").cast<py::object>().release().ptr();
    g_zlib_error = py::module_::import("zlib").attr("error").cast<py::object>().release().ptr();
    g_channel_closed = PyErr_NewExceptionWithDoc(
        "accel.ChannelClosed", "Raised by Channel.send()/recv() once the channel is closed (and drained, for recv).",
        nullptr, nullptr);
    g_fetch_error = PyErr_NewExceptionWithDoc(
        "accel.FetchError", "An HTTP transfer failed below the HTTP level (DNS, TLS, protocol...).",
        PyExc_ConnectionError, nullptr);
    if (!g_channel_closed || !g_fetch_error) throw py::error_already_set();
    m.add_object("ChannelClosed", py::reinterpret_borrow<py::object>(g_channel_closed));
    m.add_object("FetchError", py::reinterpret_borrow<py::object>(g_fetch_error));
}

}  // namespace accel::binding
