#include "send_time.hpp"

#include <chrono>
#include <cctype>

namespace xaccel
{
    namespace
    {
        // Reads exactly `n` digits at `pos`.
        bool digits(const std::string& s, std::size_t& pos, int n, int& out)
        {
            out = 0;
            for (int i = 0; i < n; ++i, ++pos)
            {
                if (pos >= s.size() || !std::isdigit(static_cast<unsigned char>(s[pos])))
                {
                    return false;
                }
                out = out * 10 + (s[pos] - '0');
            }
            return true;
        }

        bool expect(const std::string& s, std::size_t& pos, char c)
        {
            if (pos < s.size() && s[pos] == c)
            {
                ++pos;
                return true;
            }
            return false;
        }

        // Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
        std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d)
        {
            y -= m <= 2;
            const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
            const unsigned yoe = static_cast<unsigned>(y - era * 400);
            const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
            const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
            return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
        }
    }

    std::optional<std::int64_t> parse_iso8601_ms(const std::string& s)
    {
        std::size_t pos = 0;
        int year, month, day, hour, minute, second;
        if (!digits(s, pos, 4, year) || !expect(s, pos, '-') || !digits(s, pos, 2, month) || !expect(s, pos, '-')
            || !digits(s, pos, 2, day) || !(expect(s, pos, 'T') || expect(s, pos, 't') || expect(s, pos, ' '))
            || !digits(s, pos, 2, hour) || !expect(s, pos, ':') || !digits(s, pos, 2, minute) || !expect(s, pos, ':')
            || !digits(s, pos, 2, second))
        {
            return std::nullopt;
        }
        if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60)
        {
            return std::nullopt;
        }
        int millis = 0;
        if (expect(s, pos, '.') || expect(s, pos, ','))
        {
            int seen = 0;
            while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos])))
            {
                if (seen < 3)
                {
                    millis = millis * 10 + (s[pos] - '0');
                }
                ++seen;
                ++pos;
            }
            if (seen == 0)
            {
                return std::nullopt;
            }
            for (; seen < 3; ++seen)
            {
                millis *= 10;
            }
        }
        int offset_minutes = 0;
        if (expect(s, pos, 'Z') || expect(s, pos, 'z'))
        {
        }
        else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-'))
        {
            int sign = s[pos] == '-' ? -1 : 1;
            ++pos;
            int oh, om;
            if (!digits(s, pos, 2, oh))
            {
                return std::nullopt;
            }
            expect(s, pos, ':');
            if (!digits(s, pos, 2, om))
            {
                return std::nullopt;
            }
            offset_minutes = sign * (oh * 60 + om);
        }
        if (pos != s.size())
        {
            return std::nullopt;
        }
        std::int64_t seconds = days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * 86400
                               + hour * 3600 + minute * 60 + second - offset_minutes * 60;
        return seconds * 1000 + millis;
    }

    std::optional<std::int64_t> sent_at_ms(const message& request)
    {
        if (!request.header.is_object())
        {
            return std::nullopt;
        }
        auto it = request.header.find("date");
        if (it == request.header.end() || !it->is_string())
        {
            return std::nullopt;
        }
        return parse_iso8601_ms(it->get_ref<const std::string&>());
    }

    std::int64_t now_ms()
    {
        using namespace std::chrono;
        return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
    }
}
