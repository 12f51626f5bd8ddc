#include "wire_limits.hpp"

#include <cstdlib>
#include <iostream>

namespace xaccel
{
    namespace
    {
        std::size_t positive_env(const char* name, std::size_t fallback)
        {
            const char* text = std::getenv(name);
            if (text == nullptr || *text == '\0')
            {
                return fallback;
            }
            char* end = nullptr;
            unsigned long long value = std::strtoull(text, &end, 10);
            if (*end != '\0' || value == 0)
            {
                std::cerr << "xaccel: ignored " << name << "='" << text << "' (not a positive integer)" << std::endl;
                return fallback;
            }
            return static_cast<std::size_t>(value);
        }
    }

    wire_limits wire_limits::from_environment()
    {
        wire_limits limits;
        limits.max_depth = positive_env("XACCEL_MAX_JSON_DEPTH", limits.max_depth);
        limits.max_bytes = positive_env("XACCEL_MAX_MESSAGE_BYTES", limits.max_bytes);
        return limits;
    }

    std::size_t json_depth(const char* data, std::size_t size, std::size_t stop_at)
    {
        std::size_t depth = 0;
        std::size_t deepest = 0;
        bool in_string = false;
        for (std::size_t i = 0; i < size; ++i)
        {
            char c = data[i];
            if (in_string)
            {
                if (c == '\\')
                {
                    ++i;  // the escaped character cannot end the string
                }
                else if (c == '"')
                {
                    in_string = false;
                }
                continue;
            }
            switch (c)
            {
            case '"':
                in_string = true;
                break;
            case '[':
            case '{':
                if (++depth > deepest)
                {
                    deepest = depth;
                    if (deepest > stop_at)
                    {
                        return deepest;
                    }
                }
                break;
            case ']':
            case '}':
                // Unbalanced input is the parser's to reject.
                if (depth > 0)
                {
                    --depth;
                }
                break;
            default:
                break;
            }
        }
        return deepest;
    }

    std::string check_json_frame(const char* data, std::size_t size, const wire_limits& limits)
    {
        if (json_depth(data, size, limits.max_depth) > limits.max_depth)
        {
            return "JSON nested deeper than " + std::to_string(limits.max_depth)
                   + " levels (XACCEL_MAX_JSON_DEPTH)";
        }
        return {};
    }
}
