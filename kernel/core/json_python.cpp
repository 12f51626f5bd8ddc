#include "json_python.hpp"

#include <cmath>
#include <string>

namespace xaccel
{
    py::object to_python(const nl::json& value)
    {
        switch (value.type())
        {
        case nl::json::value_t::null:
            return py::none();
        case nl::json::value_t::boolean:
            return py::bool_(value.get<bool>());
        case nl::json::value_t::number_integer:
            return py::int_(value.get<long long>());
        case nl::json::value_t::number_unsigned:
            return py::int_(value.get<unsigned long long>());
        case nl::json::value_t::number_float:
            return py::float_(value.get<double>());
        case nl::json::value_t::string:
            return py::str(value.get_ref<const std::string&>());
        case nl::json::value_t::array:
        {
            py::list out(value.size());
            std::size_t i = 0;
            for (const auto& item : value)
            {
                out[i++] = to_python(item);
            }
            return std::move(out);
        }
        case nl::json::value_t::object:
        {
            py::dict out;
            for (auto it = value.begin(); it != value.end(); ++it)
            {
                out[py::str(it.key())] = to_python(it.value());
            }
            return std::move(out);
        }
        case nl::json::value_t::binary:
        {
            const auto& bin = value.get_binary();
            return py::bytes(reinterpret_cast<const char*>(bin.data()), bin.size());
        }
        case nl::json::value_t::discarded:
            break;
        }
        return py::none();
    }

    nl::json to_json(py::handle obj)
    {
        if (obj.is_none())
        {
            return nullptr;
        }
        if (PyBool_Check(obj.ptr()))
        {
            return obj.ptr() == Py_True;
        }
        if (PyLong_Check(obj.ptr()))
        {
            int overflow = 0;
            long long v = PyLong_AsLongLongAndOverflow(obj.ptr(), &overflow);
            if (overflow == 0)
            {
                return v;
            }
            return py::str(obj).cast<std::string>();
        }
        if (PyFloat_Check(obj.ptr()))
        {
            double v = PyFloat_AsDouble(obj.ptr());
            if (std::isfinite(v))
            {
                return v;
            }
            return nullptr;
        }
        if (PyUnicode_Check(obj.ptr()))
        {
            Py_ssize_t size = 0;
            const char* data = PyUnicode_AsUTF8AndSize(obj.ptr(), &size);
            if (data == nullptr)
            {
                // Lone surrogates cannot be UTF-8: replace them rather than fail.
                PyErr_Clear();
                py::bytes encoded = py::reinterpret_steal<py::bytes>(
                    PyUnicode_AsEncodedString(obj.ptr(), "utf-8", "replace"));
                return std::string(encoded);
            }
            return std::string(data, static_cast<std::size_t>(size));
        }
        if (PyDict_Check(obj.ptr()))
        {
            nl::json out = nl::json::object();
            for (auto item : py::reinterpret_borrow<py::dict>(obj))
            {
                std::string key = PyUnicode_Check(item.first.ptr()) ? item.first.cast<std::string>()
                                                                    : py::str(item.first).cast<std::string>();
                out[key] = to_json(item.second);
            }
            return out;
        }
        if (PyList_Check(obj.ptr()) || PyTuple_Check(obj.ptr()))
        {
            nl::json out = nl::json::array();
            for (auto item : obj)
            {
                out.push_back(to_json(item));
            }
            return out;
        }
        if (PyBytes_Check(obj.ptr()) || PyByteArray_Check(obj.ptr()))
        {
            // Binary data belongs in buffers; inline, it is decoded leniently.
            py::object text = py::reinterpret_steal<py::object>(
                PyUnicode_FromEncodedObject(obj.ptr(), "utf-8", "replace"));
            return text.cast<std::string>();
        }
        return py::str(obj).cast<std::string>();
    }
}
