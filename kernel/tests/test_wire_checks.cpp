#include <string>

#include <gtest/gtest.h>

#include "native/message_auth.hpp"
#include "native/wire_codec.hpp"
#include "native/wire_limits.hpp"

namespace xaccel
{
    namespace
    {
        std::size_t depth(const std::string& text, std::size_t stop_at = 1000)
        {
            return json_depth(text.data(), text.size(), stop_at);
        }

        byte_view view(const std::string& text)
        {
            return {text.data(), text.size()};
        }
    }

    TEST(wire_limits, depth_counts_nesting_outside_strings)
    {
        EXPECT_EQ(depth("1"), 0u);
        EXPECT_EQ(depth("{}"), 1u);
        EXPECT_EQ(depth(R"({"a": [1, {"b": []}], "c": {}})"), 4u);
        EXPECT_EQ(depth(R"({"a": "[[[[{{{{"})"), 1u);
        EXPECT_EQ(depth(R"({"a": "quote \" [[[ and \\", "b": [[]]})"), 3u);
    }

    TEST(wire_limits, deep_input_stops_early_and_is_rejected)
    {
        std::string deep(100000, '[');
        EXPECT_EQ(depth(deep, 100), 101u);
        wire_limits limits;
        limits.max_depth = 100;
        EXPECT_FALSE(check_json_frame(deep.data(), deep.size(), limits).empty());
        std::string fine = std::string(100, '[') + std::string(100, ']');
        EXPECT_TRUE(check_json_frame(fine.data(), fine.size(), limits).empty());
    }

    TEST(message_auth, whole_signature_must_match)
    {
        message_signer signer("hmac-sha256", "secret");
        std::string h = "{}", p = "{}", m = "{}", c = R"({"code": "1"})";
        std::string good = signer.sign(view(h), view(p), view(m), view(c));
        ASSERT_EQ(good.size(), 64u);
        EXPECT_TRUE(signer.verify(view(good), view(h), view(p), view(m), view(c)));
        EXPECT_FALSE(signer.verify(view(good + "00"), view(h), view(p), view(m), view(c)));
        EXPECT_FALSE(signer.verify(view(good.substr(0, 10)), view(h), view(p), view(m), view(c)));
        EXPECT_FALSE(signer.verify(view(""), view(h), view(p), view(m), view(c)));
        std::string other = c + " ";
        EXPECT_FALSE(signer.verify(view(good), view(h), view(p), view(m), view(other)));
    }

    TEST(message_auth, known_hmac_sha256_value)
    {
        // RFC 4231 test case 2, the four parts concatenated.
        message_signer signer("hmac-sha256", "Jefe");
        std::string a = "what do ya ", b = "want ", c = "for ", d = "nothing?";
        EXPECT_EQ(signer.sign(view(a), view(b), view(c), view(d)),
                  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }

    TEST(message_auth, empty_key_disables_signing)
    {
        message_signer signer("hmac-sha256", "");
        EXPECT_FALSE(signer.enabled());
        EXPECT_EQ(signer.sign(view("{}"), view("{}"), view("{}"), view("{}")), "");
        EXPECT_TRUE(signer.verify(view("anything"), view("{}"), view("{}"), view("{}"), view("{}")));
    }

    TEST(message_auth, replay_guard_remembers_a_bounded_history)
    {
        replay_guard guard(3);
        EXPECT_TRUE(guard.first_time("a"));
        EXPECT_FALSE(guard.first_time("a"));
        EXPECT_TRUE(guard.first_time("b"));
        EXPECT_TRUE(guard.first_time("c"));
        EXPECT_TRUE(guard.first_time("d"));  // "a" falls out of the history
        EXPECT_TRUE(guard.first_time("a"));
        EXPECT_FALSE(guard.first_time("d"));
    }

    TEST(wire_codec, each_message_carries_its_own_parent_header)
    {
        // The codec reuses the text of the last parent it wrote (per thread):
        // messages with other parents, in any order, must still carry theirs.
        wire_codec codec("hmac-sha256", "secret", wire_limits{});
        message_signer signer("hmac-sha256", "secret");
        auto with_parent = [](nl::json parent) {
            message msg;
            msg.header = make_header("status", "session", "user");
            msg.parent_header = std::move(parent);
            msg.content = nl::json{{"execution_state", "busy"}};
            return msg;
        };
        const nl::json first = {{"msg_id", "a"}, {"msg_type", "execute_request"}};
        const nl::json second = {{"msg_id", "b"}, {"msg_type", "execute_request"}};
        for (const nl::json& parent : {first, first, second, nl::json::object(), first, second, second})
        {
            wire_frames frames = codec.encode_iopub("status", with_parent(parent));
            ASSERT_EQ(frames.size(), 7u);
            EXPECT_EQ(nl::json::parse(frames[4].to_string()), parent);
            std::string parts[4];
            for (int i = 0; i < 4; ++i)
            {
                parts[i] = frames[3 + i].to_string();
            }
            EXPECT_TRUE(signer.verify(view(frames[2].to_string()), view(parts[0]), view(parts[1]), view(parts[2]),
                                      view(parts[3])));
        }
    }
}
