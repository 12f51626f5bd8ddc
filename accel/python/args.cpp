// Argument conversion with messages that name the function and parameter
// (pybind11's own casts say "Unable to cast Python instance ..." instead).
#include <cmath>
#include <string>

#include "internal.hpp"

namespace accel::binding::args {

namespace {
[[noreturn]] void type_error(const char* api, const char* name, const char* expected, py::handle value) {
    PyErr_Format(PyExc_TypeError, "%s: %s must be %s, not '%.100s'", api, name, expected, Py_TYPE(value.ptr())->tp_name);
    throw py::error_already_set();
}
}  // namespace

double seconds(py::handle value, const char* api, const char* name) {
    PyObject* v = value.ptr();
    if (PyBool_Check(v) || !(PyFloat_Check(v) || PyLong_Check(v) || PyIndex_Check(v) ||
                             (Py_TYPE(v)->tp_as_number && Py_TYPE(v)->tp_as_number->nb_float)))
        type_error(api, name, "a number (int or float)", value);
    double d = PyFloat_AsDouble(v);
    if (d == -1.0 && PyErr_Occurred()) {
        if (PyErr_ExceptionMatches(PyExc_OverflowError)) {  // a huge int: "never"
            PyErr_Clear();
            return PyObject_RichCompareBool(v, py::int_(0).ptr(), Py_GT) == 1 ? HUGE_VAL : -HUGE_VAL;
        }
        throw py::error_already_set();
    }
    if (std::isnan(d)) {
        PyErr_Format(PyExc_ValueError, "%s: %s must not be NaN", api, name);
        throw py::error_already_set();
    }
    return d;
}

bool optional_seconds(py::handle value, const char* api, const char* name, double& out) {
    if (value.is_none()) return false;
    out = seconds(value, api, name);
    return true;
}

long long integer(py::handle value, const char* api, const char* name) {
    if (PyBool_Check(value.ptr()) || !PyIndex_Check(value.ptr())) type_error(api, name, "an int", value);
    long long n = PyLong_AsLongLong(value.ptr());
    if (n == -1 && PyErr_Occurred()) {
        if (PyErr_ExceptionMatches(PyExc_OverflowError)) {
            PyErr_Clear();
            PyErr_Format(PyExc_ValueError, "%s: %s is out of range", api, name);
        }
        throw py::error_already_set();
    }
    return n;
}

std::string fs_path(py::handle value, const char* api, const char* name) {
    PyObject* v = value.ptr();
    if (!PyUnicode_Check(v) && !PyBytes_Check(v) && !PyObject_HasAttrString(v, "__fspath__"))
        type_error(api, name, "a str, bytes or os.PathLike object", value);
    PyObject* bytes = nullptr;
    if (!PyUnicode_FSConverter(v, &bytes)) throw py::error_already_set();
    std::string s(PyBytes_AS_STRING(bytes), static_cast<std::size_t>(PyBytes_GET_SIZE(bytes)));
    Py_DECREF(bytes);
    if (s.find('\0') != std::string::npos) {
        PyErr_Format(PyExc_ValueError, "%s: %s must not contain NUL characters", api, name);
        throw py::error_already_set();
    }
    return s;
}

void require_buffer(py::handle value, const char* api, const char* name) {
    if (!PyObject_CheckBuffer(value.ptr())) type_error(api, name, "a bytes-like object", value);
}

}  // namespace accel::binding::args
