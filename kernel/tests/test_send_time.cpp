// Header dates -> milliseconds since the epoch (stop_on_error in the browser).
#include <gtest/gtest.h>

#include "core/send_time.hpp"

namespace xaccel
{
    TEST(send_time, parses_the_dates_jupyter_clients_write)
    {
        // JupyterLab (Date.toISOString) and jupyter_client (microseconds, +00:00).
        EXPECT_EQ(parse_iso8601_ms("1970-01-01T00:00:00.000Z"), 0);
        EXPECT_EQ(parse_iso8601_ms("2026-12-01T19:05:07.123Z"), 1796151907123LL);  // checked with Python's datetime
        EXPECT_EQ(parse_iso8601_ms("2026-12-01T19:05:07.123456+00:00"), parse_iso8601_ms("2026-12-01T19:05:07.123Z"));
        EXPECT_EQ(parse_iso8601_ms("2026-12-01 19:05:07.1"), parse_iso8601_ms("2026-12-01T19:05:07.100Z"));
        EXPECT_EQ(parse_iso8601_ms("2026-12-01T19:05:07"), parse_iso8601_ms("2026-12-01T19:05:07.000Z"));
        // An offset names local time: 21:05 at +02:00 is 19:05 UTC.
        EXPECT_EQ(parse_iso8601_ms("2026-12-01T21:05:07.5+02:00"), parse_iso8601_ms("2026-12-01T19:05:07.500Z"));
        EXPECT_EQ(parse_iso8601_ms("2026-12-01T17:35:07-0130"), parse_iso8601_ms("2026-12-01T19:05:07Z"));
        // Leap years and the end of February.
        EXPECT_EQ(*parse_iso8601_ms("2024-03-01T00:00:00Z") - *parse_iso8601_ms("2024-02-28T00:00:00Z"),
                  2 * 86400 * 1000LL);
    }

    TEST(send_time, rejects_what_is_not_a_date)
    {
        for (const char* bad : {"", "yesterday", "2026-12-01", "2026-13-01T00:00:00Z", "2026-12-01T24:00:00Z",
                                "2026-12-01T19:05:07.Z", "2026-12-01T19:05:07Zjunk", "2026-12-01T19:05:07+2"})
        {
            EXPECT_FALSE(parse_iso8601_ms(bad).has_value()) << bad;
        }
    }

    TEST(send_time, header_date_and_clock)
    {
        message m;
        EXPECT_FALSE(sent_at_ms(m).has_value());
        m.header["date"] = 12;
        EXPECT_FALSE(sent_at_ms(m).has_value());
        m.header = make_header("execute_request", "s", "u");
        std::int64_t now = now_ms();
        ASSERT_TRUE(sent_at_ms(m).has_value());
        // The header was made just before: within a generous minute of now.
        EXPECT_LE(*sent_at_ms(m), now);
        EXPECT_GT(*sent_at_ms(m), now - 60000);
    }
}
