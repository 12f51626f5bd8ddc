// A transport that records what the kernel core sends, for unit tests of the
// core's message logic (the real transports are tested end to end in tests/).
#ifndef XACCEL_TESTS_RECORDING_TRANSPORT_HPP
#define XACCEL_TESTS_RECORDING_TRANSPORT_HPP

#include <string>
#include <utility>
#include <vector>

#include "core/transport.hpp"

namespace xaccel::testing
{
    struct sent_message
    {
        channel where;
        message msg;
    };

    class recording_transport final : public transport
    {
    public:
        void send(channel c, const message&, message reply) override { sent.push_back({c, std::move(reply)}); }
        void publish(message msg) override { sent.push_back({channel::iopub, std::move(msg)}); }
        nl::json request_input(message request) override
        {
            sent.push_back({channel::stdin_channel, std::move(request)});
            return nl::json{{"value", input_value}};
        }
        bool wait(int, int, bool) override { return false; }
        void dispatch(bool) override {}
        std::vector<message> take_waiting_shell() override { return std::exchange(waiting_shell, {}); }
        std::string username() const override { return "tester"; }
        bool requests_wait_out_of_reach() const override { return out_of_reach; }
        nl::json connection_ports() const override { return ports; }

        // "iopub:status:busy", "shell:execute_reply", ... in order.
        std::vector<std::string> summary() const
        {
            std::vector<std::string> out;
            for (const auto& s : sent)
            {
                std::string line = std::string(channel_name(s.where)) + ":" + s.msg.msg_type();
                if (s.msg.msg_type() == "status")
                {
                    line += ":" + s.msg.content.value("execution_state", std::string());
                }
                out.push_back(line);
            }
            return out;
        }

        std::vector<sent_message> sent;
        // Shell requests "waiting in the socket", for take_waiting_shell().
        std::vector<message> waiting_shell;
        std::string input_value = "typed";
        // Behave like the browser transport (requests wait in the page).
        bool out_of_reach = false;
        // What connect_reply reports (none, as in the browser, unless set).
        nl::json ports = nl::json::object();
    };
}

#endif
