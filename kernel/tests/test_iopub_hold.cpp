// The hold of a request's opening messages (native/iopub_publisher.hpp), on
// a real XPUB socket with a SUB reader; and its end by the shell channel's
// takeover timer when a request runs on (native/shell_channel.hpp).
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/kernel_core.hpp"
#include "native/iopub_publisher.hpp"
#include "native/shell_channel.hpp"
#include "native/subshell_registry.hpp"
#include "native/wire_codec.hpp"
#include "recording_transport.hpp"
#include "scripted_engine.hpp"

namespace xaccel
{
    namespace
    {
        message iopub_message(const std::string& type, nl::json content)
        {
            message msg;
            msg.header = make_header(type, "session", "tester");
            msg.parent_header = nl::json{{"msg_id", "request"}};
            msg.content = std::move(content);
            return msg;
        }

        message status(const char* state)
        {
            return iopub_message("status", nl::json{{"execution_state", state}});
        }

        // A shell channel with its standby thread running on `endpoint`,
        // publishing through `iopub`; stopped when it goes.
        struct running_shell
        {
            running_shell(zmq::context_t& context, wire_codec& codec, iopub_publisher& iopub,
                          const std::string& endpoint)
                : channel(codec, iopub, subshells)
            {
                testing::install_scripted_engine();
                core = std::make_unique<kernel_core>(transport, "9.9.9");
                zmq::socket_t router(context, zmq::socket_type::router);
                router.bind(endpoint);
                channel.start(router, *core);
            }
            ~running_shell() { channel.stop(); }

            testing::recording_transport transport;
            std::unique_ptr<kernel_core> core;
            subshell_registry subshells;
            shell_channel channel;
        };

        class iopub_hold_test : public ::testing::Test
        {
        protected:
            void SetUp() override
            {
                iopub = std::make_unique<iopub_publisher>(context, "inproc://hold-iopub", codec);
                reader = zmq::socket_t(context, zmq::socket_type::sub);
                reader.set(zmq::sockopt::linger, 0);
                reader.set(zmq::sockopt::subscribe, "");
                reader.connect("inproc://hold-iopub");
                // The subscription reaches the publisher asynchronously:
                // publish until a message arrives, then start from there.
                reader.set(zmq::sockopt::rcvtimeo, 10);
                zmq::multipart_t probe;
                auto end = std::chrono::steady_clock::now() + std::chrono::seconds(20);
                do
                {
                    iopub->publish(iopub_message("probe", nl::json::object()));
                    ASSERT_LT(std::chrono::steady_clock::now(), end) << "the SUB reader never joined";
                } while (!probe.recv(reader));
                while (probe.recv(reader))
                {
                }
                reader.set(zmq::sockopt::rcvtimeo, 20000);
            }

            void TearDown() override { iopub->stop(0); }

            // The type, and for a status its state, of the next message.
            std::string next()
            {
                zmq::multipart_t wire;
                if (!wire.recv(reader))
                {
                    return "(nothing within 20 s)";
                }
                nl::json header = nl::json::parse(wire[3].to_string());
                nl::json content = nl::json::parse(wire[6].to_string());
                std::string type = header["msg_type"];
                return type == "status" ? "status:" + content["execution_state"].get<std::string>() : type;
            }

            // Whether a message is ready now (nothing kept back leaks out).
            bool anything_ready()
            {
                zmq::pollitem_t item{static_cast<void*>(reader), 0, ZMQ_POLLIN, 0};
                return zmq::poll(&item, 1, std::chrono::milliseconds(0)) > 0;
            }

            zmq::context_t context;
            wire_codec codec{"hmac-sha256", "key", wire_limits{}};
            std::unique_ptr<iopub_publisher> iopub;
            zmq::socket_t reader;
        };
    }

    TEST_F(iopub_hold_test, without_an_open_hold_a_held_message_goes_out_at_once)
    {
        iopub->hold(status("busy"));
        EXPECT_EQ(next(), "status:busy");
    }

    TEST_F(iopub_hold_test, kept_messages_precede_the_next_published_one)
    {
        iopub->open_hold();
        iopub->hold(status("busy"));
        iopub->hold(iopub_message("execute_input", nl::json{{"code", "pass"}}));
        // inproc delivers a sent message at once: nothing was sent.
        EXPECT_FALSE(anything_ready());
        iopub->publish(iopub_message("stream", nl::json{{"name", "stdout"}, {"text", "hi\n"}}));
        EXPECT_EQ(next(), "status:busy");
        EXPECT_EQ(next(), "execute_input");
        EXPECT_EQ(next(), "stream");
    }

    TEST_F(iopub_hold_test, release_sends_what_is_kept_and_ends_the_hold)
    {
        iopub->open_hold();
        iopub->hold(status("busy"));
        iopub->release();
        EXPECT_EQ(next(), "status:busy");
        // Ended: the next opening message is not kept.
        iopub->hold(iopub_message("execute_input", nl::json{{"code", "pass"}}));
        EXPECT_EQ(next(), "execute_input");
    }

    TEST_F(iopub_hold_test, stopping_sends_what_is_kept)
    {
        iopub->open_hold();
        iopub->hold(status("busy"));
        iopub->stop(5000);
        EXPECT_EQ(next(), "status:busy");
    }

    TEST_F(iopub_hold_test, a_request_that_runs_on_has_its_busy_sent_by_the_takeover_timer)
    {
        running_shell shell(context, codec, *iopub, "inproc://hold-shell");
        shell_channel& channel = shell.channel;
        {
            // The main thread leaves its wait to handle a request: the hold opens.
            shell_channel::main_wait wait(channel);
        }
        iopub->hold(status("busy"));
        // The main thread never comes back (a long cell): the standby
        // thread's timer sends the busy status.
        EXPECT_EQ(next(), "status:busy");
    }

    TEST_F(iopub_hold_test, the_timer_ends_a_hold_that_opened_while_the_standby_serves)
    {
        running_shell shell(context, codec, *iopub, "inproc://hold-shell-standby");
        shell_channel& channel = shell.channel;
        // Each round: the main thread waits a moment and leaves again (as when
        // requests are queued for it), often before the standby thread, which
        // served the socket since the round before, has noticed; the standby
        // then serves on while the main thread's request keeps its busy.
        for (int round = 0; round < 30; ++round)
        {
            {
                shell_channel::main_wait wait(channel);
            }
            iopub->hold(status("busy"));
            ASSERT_EQ(next(), "status:busy") << "round " << round;
        }
    }
}
