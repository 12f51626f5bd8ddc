// Conversions between nlohmann::json and Python objects (GIL must be held).
// Both are iterative (an explicit stack, no recursion): no nesting depth can
// overflow the C stack, natively or in the browser.
#ifndef XACCEL_CORE_JSON_PYTHON_HPP
#define XACCEL_CORE_JSON_PYTHON_HPP

#include <cstddef>

#include <nlohmann/json.hpp>
#include <pybind11/pybind11.h>

namespace xaccel
{
    namespace nl = nlohmann;
    namespace py = pybind11;

    // Deepest nesting to_json() accepts (Python's own json module stops near
    // its recursion limit, 1000, too). Deeper values are refused, not sent:
    // serializers and front ends (nlohmann's dump, JSON.parse) recurse.
    constexpr std::size_t max_json_depth = 1000;

    py::object to_python(const nl::json& value);

    // What ipykernel sends for the same value (jupyter_client's json.dumps
    // with its `json_default`, allow_nan=False): dict keys that are int,
    // float, bool or None become strings; tuples, sets and other iterables
    // become arrays; bytes become base64 text; dates become ISO 8601 text;
    // numbers.Integral/Real become numbers. Lone surrogates in text are
    // replaced. What JSON cannot carry raises a Python exception naming
    // where in the value it is:
    //   ValueError: a cycle, nesting deeper than max_json_depth, NaN or
    //               infinity, two keys that become the same string;
    //   TypeError:  other key types, objects with no JSON form.
    nl::json to_json(py::handle obj);
}

#endif
