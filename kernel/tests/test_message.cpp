#include <regex>
#include <set>

#include <gtest/gtest.h>

#include "core/message.hpp"

namespace xaccel
{
    TEST(message, uuid_is_random_version_4)
    {
        std::set<std::string> seen;
        const std::regex shape("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
        for (int i = 0; i < 1000; ++i)
        {
            std::string id = new_uuid();
            EXPECT_TRUE(std::regex_match(id, shape)) << id;
            seen.insert(id);
        }
        EXPECT_EQ(seen.size(), 1000u);
    }

    TEST(message, dates_are_iso8601_utc_with_microseconds)
    {
        const std::regex shape(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z)");
        EXPECT_TRUE(std::regex_match(iso8601_now(), shape)) << iso8601_now();
    }

    TEST(message, header_has_every_protocol_field)
    {
        nl::json h = make_header("status", "session-1", "ada");
        EXPECT_EQ(h["msg_type"], "status");
        EXPECT_EQ(h["session"], "session-1");
        EXPECT_EQ(h["username"], "ada");
        EXPECT_EQ(h["version"], "5.3");
        EXPECT_TRUE(h["msg_id"].is_string());
        EXPECT_TRUE(h["date"].is_string());
    }

    TEST(message, msg_type_is_empty_for_malformed_headers)
    {
        message m;
        EXPECT_EQ(m.msg_type(), "");
        m.header = nl::json::array();
        EXPECT_EQ(m.msg_type(), "");
        m.header = nl::json{{"msg_type", 3}};
        EXPECT_EQ(m.msg_type(), "");
        m.header = nl::json{{"msg_type", "kernel_info_request"}};
        EXPECT_EQ(m.msg_type(), "kernel_info_request");
    }

    TEST(message, a_request_type_names_its_reply_and_other_types_none)
    {
        EXPECT_EQ(reply_type_for("complete_request"), "complete_reply");
        EXPECT_EQ(reply_type_for("create_subshell_request"), "create_subshell_reply");
        EXPECT_EQ(reply_type_for("comm_msg"), "");
        EXPECT_EQ(reply_type_for("execute_reply"), "");
        EXPECT_EQ(reply_type_for("_request"), "");
        EXPECT_EQ(reply_type_for(""), "");
    }
}
