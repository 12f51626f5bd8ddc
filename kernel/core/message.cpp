#include "message.hpp"

#include <array>
#include <chrono>
#include <cstdio>
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
        std::array<char, 37> text{};
        std::snprintf(text.data(), text.size(), "%08llx-%04llx-%04llx-%04llx-%012llx",
                      hi >> 32, (hi >> 16) & 0xffffULL, hi & 0xffffULL, lo >> 48, lo & 0xffffffffffffULL);
        return std::string(text.data());
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
        std::array<char, 40> text{};
        std::size_t n = std::strftime(text.data(), text.size(), "%Y-%m-%dT%H:%M:%S", &tm);
        std::snprintf(text.data() + n, text.size() - n, ".%06lldZ", static_cast<long long>(micros));
        return std::string(text.data());
    }

    nl::json make_header(const std::string& msg_type, const std::string& session, const std::string& username)
    {
        return nl::json{{"msg_id", new_uuid()},
                        {"msg_type", msg_type},
                        {"session", session},
                        {"username", username},
                        {"date", iso8601_now()},
                        {"version", "5.3"}};
    }
}
