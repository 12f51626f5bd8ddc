// Python -> JSON for everything the kernel sends (display data, metadata,
// comm messages, replies). Iterative with a bounded depth and a check for
// cycles, so that no user value can crash the kernel: what JSON cannot carry
// becomes a Python exception in the code that tried to send it.
#include <cmath>
#include <string>
#include <unordered_set>
#include <vector>

#include "json_python.hpp"

namespace xaccel
{
    namespace
    {
        std::string utf8_of(PyObject* text)
        {
            Py_ssize_t size = 0;
            const char* data = PyUnicode_AsUTF8AndSize(text, &size);
            if (data != nullptr)
            {
                return std::string(data, static_cast<std::size_t>(size));
            }
            // Lone surrogates cannot be UTF-8: replace them rather than fail.
            PyErr_Clear();
            py::bytes encoded = py::reinterpret_steal<py::bytes>(PyUnicode_AsEncodedString(text, "utf-8", "replace"));
            if (!encoded)
            {
                throw py::error_already_set();
            }
            return std::string(encoded);
        }

        std::string repr_of(py::handle obj)
        {
            std::string text = py::repr(obj).cast<std::string>();
            constexpr std::size_t limit = 80;
            return text.size() > limit ? text.substr(0, limit) + "..." : text;
        }

        std::string type_name(py::handle obj)
        {
            return Py_TYPE(obj.ptr())->tp_name;
        }

        // A container being converted: its snapshot, its JSON slot, progress.
        struct frame
        {
            py::object container; // on the current path (cycle check); kept alive
            py::object items;     // tuple of values, or of (key, value) pairs
            nl::json* target;     // stable: arrays are sized up front, map nodes never move
            Py_ssize_t size;
            Py_ssize_t next;
            bool is_object;
            std::string key; // the key being converted (objects), for error messages
            bool key_known;
        };

        class encoder
        {
        public:
            nl::json encode(py::handle root)
            {
                nl::json result;
                place(root, result);
                while (!m_stack.empty())
                {
                    frame& top = m_stack.back();
                    if (top.next == top.size)
                    {
                        m_on_path.erase(top.container.ptr());
                        m_stack.pop_back();
                        continue;
                    }
                    py::handle item = PyTuple_GET_ITEM(top.items.ptr(), top.next);
                    ++top.next;
                    // `top` may move when place() pushes: take what it needs first.
                    if (top.is_object)
                    {
                        top.key_known = false;
                        top.key = key_string(PyTuple_GET_ITEM(item.ptr(), 0));
                        top.key_known = true;
                        nl::json& object = *top.target;
                        if (object.contains(top.key))
                        {
                            fail_value("two keys of this dict become the same JSON key '" + top.key + "'");
                        }
                        nl::json& slot = object[top.key];
                        place(PyTuple_GET_ITEM(item.ptr(), 1), slot);
                    }
                    else
                    {
                        nl::json& slot = (*top.target)[static_cast<std::size_t>(top.next - 1)];
                        place(item, slot);
                    }
                }
                return result;
            }

        private:
            void place(py::handle value, nl::json& slot)
            {
                PyObject* v = value.ptr();
                if (v == Py_None)
                {
                    slot = nullptr;
                }
                else if (PyBool_Check(v))
                {
                    slot = (v == Py_True);
                }
                else if (PyLong_Check(v))
                {
                    slot = integer(v);
                }
                else if (PyFloat_Check(v))
                {
                    slot = finite(PyFloat_AS_DOUBLE(v));
                }
                else if (PyUnicode_Check(v))
                {
                    slot = utf8_of(v);
                }
                else if (PyDict_Check(v))
                {
                    // A snapshot: code run while converting (str(), int()) may change the dict.
                    py::object pairs = py::reinterpret_steal<py::object>(PyDict_Items(v));
                    if (!pairs)
                    {
                        throw py::error_already_set();
                    }
                    push(value, py::reinterpret_steal<py::object>(PySequence_Tuple(pairs.ptr())), slot, true);
                }
                else if (PyList_Check(v) || PyTuple_Check(v))
                {
                    push(value, py::reinterpret_steal<py::object>(PySequence_Tuple(v)), slot, false);
                }
                else
                {
                    place_other(value, slot);
                }
            }

            // jupyter_client's json_default, in its order.
            void place_other(py::handle value, nl::json& slot)
            {
                py::module_ datetime = py::module_::import("datetime");
                if (py::isinstance(value, datetime.attr("datetime")))
                {
                    py::object aware = value.attr("tzinfo").is_none() ? value.attr("astimezone")()
                                                                      : py::reinterpret_borrow<py::object>(value);
                    std::string text = aware.attr("isoformat")().cast<std::string>();
                    const std::string utc = "+00:00";
                    if (text.size() >= utc.size() && text.compare(text.size() - utc.size(), utc.size(), utc) == 0)
                    {
                        text.replace(text.size() - utc.size(), utc.size(), "Z");
                    }
                    slot = text;
                }
                else if (py::isinstance(value, datetime.attr("date")))
                {
                    slot = value.attr("isoformat")().cast<std::string>();
                }
                else if (PyBytes_Check(value.ptr()))
                {
                    py::object text = py::module_::import("binascii").attr("b2a_base64")(value, py::arg("newline") = false);
                    slot = std::string(text.cast<py::bytes>());
                }
                else if (py::isinstance(value, py::module_::import("collections.abc").attr("Iterable")))
                {
                    py::object items = py::reinterpret_steal<py::object>(PySequence_Tuple(value.ptr()));
                    push(value, std::move(items), slot, false);
                }
                else if (py::isinstance(value, py::module_::import("numbers").attr("Integral")))
                {
                    py::object number = py::reinterpret_steal<py::object>(PyNumber_Long(value.ptr()));
                    if (!number)
                    {
                        throw py::error_already_set();
                    }
                    slot = integer(number.ptr());
                }
                else if (py::isinstance(value, py::module_::import("numbers").attr("Real")))
                {
                    double number = PyFloat_AsDouble(value.ptr());
                    if (number == -1.0 && PyErr_Occurred())
                    {
                        throw py::error_already_set();
                    }
                    slot = finite(number);
                }
                else
                {
                    fail_type("an object of type " + type_name(value) + " has no JSON form: " + repr_of(value));
                }
            }

            void push(py::handle container, py::object items, nl::json& slot, bool is_object)
            {
                if (!items)
                {
                    throw py::error_already_set();
                }
                if (m_on_path.count(container.ptr()) != 0)
                {
                    fail_value("the " + type_name(container) + " contains itself; JSON cannot represent a cycle");
                }
                if (m_stack.size() >= max_json_depth)
                {
                    fail_value("nested more than " + std::to_string(max_json_depth) + " levels deep");
                }
                Py_ssize_t size = PyTuple_GET_SIZE(items.ptr());
                if (is_object)
                {
                    slot = nl::json::object();
                }
                else
                {
                    slot = nl::json::array();
                    slot.get_ref<nl::json::array_t&>().resize(static_cast<std::size_t>(size));
                }
                m_on_path.insert(container.ptr());
                m_stack.push_back(frame{py::reinterpret_borrow<py::object>(container), std::move(items), &slot, size, 0,
                                        is_object, {}, false});
            }

            nl::json integer(PyObject* v)
            {
                int overflow = 0;
                long long small = PyLong_AsLongLongAndOverflow(v, &overflow);
                if (small == -1 && PyErr_Occurred())
                {
                    throw py::error_already_set();
                }
                if (overflow == 0)
                {
                    return small;
                }
                if (overflow > 0)
                {
                    unsigned long long big = PyLong_AsUnsignedLongLong(v);
                    if (!(big == static_cast<unsigned long long>(-1) && PyErr_Occurred()))
                    {
                        return big;
                    }
                    PyErr_Clear();
                }
                // Beyond 64 bits: exact digits as text (nlohmann has no big integers).
                py::object digits = py::reinterpret_steal<py::object>(PyLong_Type.tp_repr(v));
                return utf8_of(digits.ptr());
            }

            double finite(double v)
            {
                if (!std::isfinite(v))
                {
                    fail_value(std::string("JSON has no ") + (std::isnan(v) ? "NaN" : "infinity")
                               + " (out of range float values are not JSON compliant)");
                }
                return v;
            }

            // json.dumps' rules for keys.
            std::string key_string(PyObject* key)
            {
                if (PyUnicode_Check(key))
                {
                    return utf8_of(key);
                }
                if (key == Py_None)
                {
                    return "null";
                }
                if (PyBool_Check(key))
                {
                    return key == Py_True ? "true" : "false";
                }
                if (PyLong_Check(key))
                {
                    py::object digits = py::reinterpret_steal<py::object>(PyLong_Type.tp_repr(key));
                    return utf8_of(digits.ptr());
                }
                if (PyFloat_Check(key))
                {
                    finite(PyFloat_AS_DOUBLE(key));
                    py::object text = py::reinterpret_steal<py::object>(PyFloat_Type.tp_repr(key));
                    return utf8_of(text.ptr());
                }
                fail_type("keys must be str, int, float, bool or None, not " + type_name(key) + " ("
                          + repr_of(key) + ")");
            }

            // Where the conversion is, as Python subscripts: ['data']['application/json'][3]
            std::string path() const
            {
                std::string out;
                for (const frame& f : m_stack)
                {
                    if (f.next == 0 || (f.is_object && !f.key_known))
                    {
                        continue;
                    }
                    if (f.is_object)
                    {
                        out += "[" + py::repr(py::str(f.key)).cast<std::string>() + "]";
                    }
                    else
                    {
                        out += "[" + std::to_string(f.next - 1) + "]";
                    }
                }
                return out;
            }

            std::string where() const
            {
                std::string p = path();
                return p.empty() ? "" : " (at " + p + ")";
            }

            [[noreturn]] void fail_value(const std::string& what) const
            {
                throw py::value_error("cannot send as JSON: " + what + where());
            }

            [[noreturn]] void fail_type(const std::string& what) const
            {
                throw py::type_error("cannot send as JSON: " + what + where());
            }

            std::vector<frame> m_stack;
            std::unordered_set<PyObject*> m_on_path;
        };
    }

    nl::json to_json(py::handle obj)
    {
        return encoder().encode(obj);
    }
}
