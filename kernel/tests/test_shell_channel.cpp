// The shell socket shared by the main thread and the standby thread
// (native/shell_channel.hpp), on a real ZeroMQ ROUTER with a DEALER client.
// Waits are bounded by generous deadlines, never by a fixed sleep that a
// loaded machine could outrun.
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

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
        constexpr auto deadline = std::chrono::seconds(20);

        bool eventually(const std::function<bool()>& done)
        {
            auto end = std::chrono::steady_clock::now() + deadline;
            while (!done())
            {
                if (std::chrono::steady_clock::now() > end)
                {
                    return false;
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
            }
            return true;
        }

        std::string header_text(const zmq::multipart_t& wire)
        {
            for (std::size_t i = 0; i + 2 < wire.size(); ++i)
            {
                if (wire[i].to_string() == "<IDS|MSG>")
                {
                    return wire[i + 2].to_string();
                }
            }
            return {};
        }

        class shell_channel_test : public ::testing::Test
        {
        protected:
            void SetUp() override
            {
                testing::install_scripted_engine();
                core = std::make_unique<kernel_core>(transport, "9.9.9");
                iopub = std::make_unique<iopub_publisher>(context, "inproc://test-iopub", codec);
                zmq::socket_t router(context, zmq::socket_type::router);
                router.bind("inproc://test-shell");
                channel = std::make_unique<shell_channel>(codec, *iopub, subshells);
                channel->start(router, *core);
                client = zmq::socket_t(context, zmq::socket_type::dealer);
                client.set(zmq::sockopt::routing_id, "client");
                client.set(zmq::sockopt::linger, 0);
                client.connect("inproc://test-shell");
            }

            void TearDown() override
            {
                channel->stop();
                channel.reset();
                iopub->stop(0);
            }

            // Sends a signed request; `subshell` adds a subshell_id.
            std::string send_request(const std::string& type, const std::string& subshell = "")
            {
                message msg;
                msg.header = make_header(type, "session", "tester");
                if (!subshell.empty())
                {
                    msg.header["subshell_id"] = subshell;
                }
                msg.content = nl::json{{"code", "pass"}};
                send_frames(client, codec.encode(msg));
                return msg.header["msg_id"];
            }

            // One short wait of the main thread; returns whether it held the
            // socket (else the standby thread had it).
            bool main_wait_once()
            {
                shell_channel::main_wait wait(*channel);
                zmq::pollitem_t items[] = {{nullptr, wait.wake_fd(), ZMQ_POLLIN, 0},
                                           {wait.router(), 0, ZMQ_POLLIN, 0}};
                zmq::poll(items, wait.router() ? 2 : 1, std::chrono::milliseconds(10));
                return wait.router() != nullptr;
            }

            zmq::context_t context;
            wire_codec codec{"hmac-sha256", "key", wire_limits{}};
            testing::recording_transport transport;
            std::unique_ptr<kernel_core> core;
            std::unique_ptr<iopub_publisher> iopub;
            subshell_registry subshells;
            std::unique_ptr<shell_channel> channel;
            zmq::socket_t client;
        };
    }

    TEST_F(shell_channel_test, the_waiting_main_thread_holds_the_socket_and_replies_directly)
    {
        std::string id = send_request("kernel_info_request");
        // The main thread's first wait holds the socket (the standby thread
        // takes it only after a wait ended and takeover_after passed).
        EXPECT_TRUE(main_wait_once());
        // Its waits receive the request themselves (a later one may find the
        // socket with the standby thread on a slow machine: it queues the
        // request the same way).
        ASSERT_TRUE(eventually(
            [&]
            {
                main_wait_once();
                return channel->has_requests();
            }));
        zmq::multipart_t wire;
        ASSERT_TRUE(channel->next_request(wire));
        EXPECT_NE(header_text(wire).find(id), std::string::npos);
        EXPECT_FALSE(channel->next_request(wire));

        message reply;
        reply.identities = {"client"};
        reply.header = make_header("kernel_info_reply", "session", "tester");
        reply.parent_header = nl::json{{"msg_id", id}};
        channel->send(reply);
        zmq::multipart_t answer;
        client.set(zmq::sockopt::rcvtimeo, 20000);
        ASSERT_TRUE(answer.recv(client));
        EXPECT_NE(answer.str().find("kernel_info_reply"), std::string::npos);
    }

    TEST_F(shell_channel_test, while_the_main_thread_is_away_the_standby_routes_subshell_requests)
    {
        std::string subshell = subshells.create();
        // The main thread waited once and went away (into a cell): after
        // takeover_after the standby thread serves the socket.
        {
            shell_channel::main_wait wait(*channel);
        }
        std::string for_subshell = send_request("execute_request", subshell);
        std::string for_main = send_request("execute_request");
        std::string unknown = send_request("execute_request", "no-such-subshell");
        auto queue = subshells.queue(subshell);
        std::vector<message> taken;
        bool closed = false;
        ASSERT_TRUE(eventually(
            [&]
            {
                for (message& m : queue->take(closed))
                {
                    taken.push_back(std::move(m));
                }
                return !taken.empty();
            }));
        EXPECT_EQ(taken.at(0).header["msg_id"], for_subshell);
        // The main shell's request waits for the main thread, unparsed.
        ASSERT_TRUE(eventually([&] { return channel->has_requests(); }));
        zmq::multipart_t wire;
        ASSERT_TRUE(channel->next_request(wire));
        EXPECT_NE(header_text(wire).find(for_main), std::string::npos);
        // The unknown subshell gets its error reply from the standby thread.
        zmq::multipart_t answer;
        client.set(zmq::sockopt::rcvtimeo, 20000);
        ASSERT_TRUE(answer.recv(client));
        EXPECT_NE(answer.str().find("UnknownSubshellError"), std::string::npos);
        EXPECT_NE(answer.str().find(unknown), std::string::npos);
    }

    TEST_F(shell_channel_test, requests_keep_their_order_when_the_main_thread_takes_the_socket_back)
    {
        {
            shell_channel::main_wait wait(*channel);
        }
        std::string first = send_request("execute_request");
        ASSERT_TRUE(eventually([&] { return channel->has_requests(); }));  // taken by the standby
        // The main thread waits again: it gets the socket back (at once, or
        // after the standby lets go and wakes it).
        ASSERT_TRUE(eventually([&] { return main_wait_once(); }));
        std::string second = send_request("execute_request");
        std::vector<std::string> order;
        zmq::multipart_t wire;
        ASSERT_TRUE(eventually(
            [&]
            {
                main_wait_once();
                while (channel->next_request(wire))
                {
                    order.push_back(header_text(wire));
                }
                return order.size() >= 2;
            }));
        ASSERT_EQ(order.size(), 2u);
        EXPECT_NE(order[0].find(first), std::string::npos);
        EXPECT_NE(order[1].find(second), std::string::npos);
    }

    TEST_F(shell_channel_test, a_reply_sent_while_the_standby_holds_the_socket_is_delivered)
    {
        {
            shell_channel::main_wait wait(*channel);
        }
        std::string id = send_request("execute_request");
        ASSERT_TRUE(eventually([&] { return channel->has_requests(); }));  // the standby holds it now
        message reply;
        reply.identities = {"client"};
        reply.header = make_header("execute_reply", "session", "tester");
        reply.parent_header = nl::json{{"msg_id", id}};
        // From another thread, as a subshell replies.
        std::thread([&] { channel->send(reply); }).join();
        zmq::multipart_t answer;
        client.set(zmq::sockopt::rcvtimeo, 20000);
        ASSERT_TRUE(answer.recv(client));
        EXPECT_NE(answer.str().find("execute_reply"), std::string::npos);
    }
}
