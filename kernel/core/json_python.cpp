// JSON -> Python for the messages the kernel receives. Iterative: a client
// may send any nesting depth without overflowing the C stack.
#include <string>
#include <vector>

#include "json_python.hpp"

namespace xaccel
{
    namespace
    {
        // Scalars convert at once; containers get an empty Python object to fill.
        py::object shallow(const nl::json& value)
        {
            switch (value.type())
            {
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
                return py::list(value.size());
            case nl::json::value_t::object:
                return py::dict();
            case nl::json::value_t::binary:
            {
                const auto& bin = value.get_binary();
                return py::bytes(reinterpret_cast<const char*>(bin.data()), bin.size());
            }
            case nl::json::value_t::null:
            case nl::json::value_t::discarded:
                break;
            }
            return py::none();
        }

        bool is_container(const nl::json& value)
        {
            return value.is_array() || value.is_object();
        }

        struct frame
        {
            const nl::json* source;
            py::object target;
            nl::json::const_iterator next;
            std::size_t index;
        };
    }

    py::object to_python(const nl::json& value)
    {
        py::object root = shallow(value);
        std::vector<frame> stack;
        if (is_container(value))
        {
            stack.push_back(frame{&value, root, value.cbegin(), 0});
        }
        while (!stack.empty())
        {
            frame& top = stack.back();
            if (top.next == top.source->cend())
            {
                stack.pop_back();
                continue;
            }
            const nl::json& item = *top.next;
            py::object converted = shallow(item);
            if (top.source->is_array())
            {
                PyList_SET_ITEM(top.target.ptr(), static_cast<Py_ssize_t>(top.index), converted.inc_ref().ptr());
            }
            else
            {
                top.target[py::str(top.next.key())] = converted;
            }
            ++top.next;
            ++top.index;
            if (is_container(item))
            {
                stack.push_back(frame{&item, std::move(converted), item.cbegin(), 0});
            }
        }
        return root;
    }
}
