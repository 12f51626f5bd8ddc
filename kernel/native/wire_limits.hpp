// Limits checked on raw JSON frames before any parser sees them. JSON code
// that recurses (nlohmann's dump, the conversion to Python objects) overflows
// the stack on deeply nested input, so depth is measured here with a linear,
// non-recursive scan.
#ifndef XACCEL_NATIVE_WIRE_LIMITS_HPP
#define XACCEL_NATIVE_WIRE_LIMITS_HPP

#include <cstddef>
#include <string>

namespace xaccel
{
    struct wire_limits
    {
        // Deepest nesting of arrays and objects accepted in one JSON frame.
        std::size_t max_depth = 100;
        // Largest message accepted (all frames after the delimiter).
        std::size_t max_bytes = std::size_t(256) << 20;

        // Defaults, overridden by XACCEL_MAX_JSON_DEPTH and
        // XACCEL_MAX_MESSAGE_BYTES when set to a positive integer.
        static wire_limits from_environment();
    };

    // The deepest nesting of '[' and '{' in `data` outside strings. Stops
    // counting (and returns a value above `stop_at`) once `stop_at` is passed.
    std::size_t json_depth(const char* data, std::size_t size, std::size_t stop_at);

    // Empty if the frame is within the limits, else why not.
    std::string check_json_frame(const char* data, std::size_t size, const wire_limits& limits);
}

#endif
