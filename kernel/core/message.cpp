#include "message.hpp"

#include <chrono>
#include <ctime>
#include <random>

namespace xaccel
{
    const char* channel_name(channel c) noexcept
    {
        switch (c)
        {
        case channel::shell: return "shell";
        case channel::control: return "control";
        case channel::stdin_channel: return "stdin";
        case channel::iopub: return "iopub";
        }
        return "unknown";
    }

    std::string message::msg_type() const
    {
        if (header.is_object())
        {
            auto it = header.find("msg_type");
            if (it != header.end() && it->is_string())
            {
                return it->get<std::string>();
            }
        }
        return {};
    }

    std::string reply_type_for(const std::string& request_type)
    {
        const std::string suffix = "_request";
        if (request_type.size() > suffix.size()
            && request_type.compare(request_type.size() - suffix.size(), suffix.size(), suffix) == 0)
        {
            return request_type.substr(0, request_type.size() - suffix.size()) + "_reply";
        }
        return {};
    }

    namespace
    {
        // One engine per thread: seeded once, never shared across threads.
        std::mt19937_64& uuid_engine()
        {
            thread_local std::mt19937_64 engine{std::random_device{}()};
            return engine;
        }

        // Fixed-width formatting for the identifiers and dates of every
        // message (snprintf and strftime parse their format each time).
        void put_hex(char* out, unsigned long long value, int digits)
        {
            static constexpr char hex[] = "0123456789abcdef";
            for (int i = digits - 1; i >= 0; --i, value >>= 4)
            {
                out[i] = hex[value & 0xfULL];
            }
        }

        void put_decimal(char* out, long long value, int digits)
        {
            for (int i = digits - 1; i >= 0; --i, value /= 10)
            {
                out[i] = static_cast<char>('0' + value % 10);
            }
        }
    }

    void reseed_new_uuid()
    {
        uuid_engine().seed(std::random_device{}());
    }

    std::string new_uuid()
    {
        std::mt19937_64& engine = uuid_engine();
        std::uniform_int_distribution<unsigned long long> dist;
        unsigned long long hi = dist(engine);
        unsigned long long lo = dist(engine);
        hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
        lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // RFC 4122 variant
        std::string text(36, '-');  // 8-4-4-4-12 hex digits
        put_hex(&text[0], hi >> 32, 8);
        put_hex(&text[9], (hi >> 16) & 0xffffULL, 4);
        put_hex(&text[14], hi & 0xffffULL, 4);
        put_hex(&text[19], lo >> 48, 4);
        put_hex(&text[24], lo & 0xffffffffffffULL, 12);
        return text;
    }

    std::string iso8601_now()
    {
        using namespace std::chrono;
        auto now = system_clock::now();
        auto secs = time_point_cast<seconds>(now);
        auto micros = duration_cast<microseconds>(now - secs).count();
        std::time_t t = system_clock::to_time_t(secs);
        std::tm tm{};
        gmtime_r(&t, &tm);
        std::string text = "0000-00-00T00:00:00.000000Z";
        put_decimal(&text[0], tm.tm_year + 1900LL, 4);
        put_decimal(&text[5], tm.tm_mon + 1, 2);
        put_decimal(&text[8], tm.tm_mday, 2);
        put_decimal(&text[11], tm.tm_hour, 2);
        put_decimal(&text[14], tm.tm_min, 2);
        put_decimal(&text[17], tm.tm_sec, 2);
        put_decimal(&text[20], static_cast<long long>(micros), 6);
        return text;
    }

    nl::json make_header(const std::string& msg_type, const std::string& session, const std::string& username)
    {
        // Filled in place: nlohmann's initializer lists copy every element once more.
        nl::json header(nl::json::value_t::object);
        auto& fields = header.get_ref<nl::json::object_t&>();
        fields.emplace("msg_id", new_uuid());
        fields.emplace("msg_type", msg_type);
        fields.emplace("session", session);
        fields.emplace("username", username);
        fields.emplace("date", iso8601_now());
        fields.emplace("version", "5.3");
        return header;
    }
}
