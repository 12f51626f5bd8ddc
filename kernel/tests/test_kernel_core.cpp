// Unit tests of the core's message logic with a scripted Python engine.
#include <gtest/gtest.h>
#include <pybind11/embed.h>

#include "core/kernel_core.hpp"
#include "recording_transport.hpp"
#include "scripted_engine.hpp"

namespace xaccel
{
    namespace py = pybind11;

    namespace
    {
        using testing::request;

        class kernel_core_test : public ::testing::Test
        {
        protected:
            void SetUp() override
            {
                testing::install_scripted_engine();
                core = std::make_unique<kernel_core>(transport, "9.9.9");
            }

            testing::recording_transport transport;
            std::unique_ptr<kernel_core> core;
        };
    }

    TEST_F(kernel_core_test, execute_publishes_busy_input_output_reply_idle_in_order)
    {
        message req = request("execute_request", {{"code", "x"}});
        std::string id = req.header["msg_id"];
        core->handle(std::move(req));
        std::vector<std::string> expected = {"iopub:status:busy", "iopub:execute_input", "iopub:stream",
                                             "shell:execute_reply", "iopub:status:idle"};
        EXPECT_EQ(transport.summary(), expected);
        for (const auto& s : transport.sent)
        {
            EXPECT_EQ(s.msg.parent_header["msg_id"], id) << s.msg.msg_type();
        }
        EXPECT_EQ(transport.sent[1].msg.content["execution_count"], 1);
        EXPECT_EQ(transport.sent[3].msg.content["status"], "ok");
    }

    TEST_F(kernel_core_test, malformed_requests_are_dropped_without_output)
    {
        message no_type = request("execute_request", {{"code", "x"}});
        no_type.header.erase("msg_type");
        core->handle(std::move(no_type));
        message bad_content = request("execute_request", nl::json::array());
        core->handle(std::move(bad_content));
        EXPECT_TRUE(transport.sent.empty());
    }

    TEST_F(kernel_core_test, bad_content_and_engine_errors_get_error_replies)
    {
        core->handle(request("execute_request", {{"code", 7}}));
        core->handle(request("execute_request", {{"code", "boom"}}));
        ASSERT_EQ(transport.sent.size(), 7u);
        EXPECT_EQ(transport.sent[1].msg.content["ename"], "MessageError");
        EXPECT_EQ(transport.sent[5].msg.msg_type(), "execute_reply");
        EXPECT_EQ(transport.sent[5].msg.content["ename"], "RuntimeError");
        EXPECT_EQ(transport.sent[5].msg.content["evalue"], "engine failed");
        EXPECT_EQ(transport.summary().back(), "iopub:status:idle");
    }

    TEST_F(kernel_core_test, unknown_types_are_ignored_but_status_is_kept)
    {
        core->handle(request("frobnicate_request", nl::json::object()));
        std::vector<std::string> expected = {"iopub:status:busy", "iopub:status:idle"};
        EXPECT_EQ(transport.summary(), expected);
    }

    TEST_F(kernel_core_test, deferred_execute_holds_shell_requests_until_finished)
    {
        py::exec("DEFER = True");
        core->handle(request("execute_request", {{"code", "slow"}}));
        core->handle(request("execute_request", {{"code", "queued"}}));
        core->handle(request("kernel_info_request", nl::json::object()));
        core->handle(request("kernel_info_request", nl::json::object(), channel::control));
        std::vector<std::string> expected = {"iopub:status:busy", "iopub:execute_input", "iopub:stream",
                                             // kernel_info (shell: beside the cell, beside_cell.hpp;
                                             // control) is answered while the cell runs; executes wait
                                             "iopub:status:busy", "shell:kernel_info_reply", "iopub:status:idle",
                                             "iopub:status:busy", "control:kernel_info_reply", "iopub:status:idle"};
        EXPECT_EQ(transport.summary(), expected);

        transport.sent.clear();
        py::exec("DEFER = False");
        core->finish_execute(nl::json{{"status", "ok"}, {"execution_count", 1}});
        expected = {"shell:execute_reply", "iopub:status:idle", "iopub:status:busy", "iopub:execute_input",
                    "iopub:stream", "shell:execute_reply", "iopub:status:idle"};
        EXPECT_EQ(transport.summary(), expected);
        EXPECT_THROW(core->finish_execute(nl::json::object()), std::runtime_error);
    }

    TEST_F(kernel_core_test, kernel_info_is_answered_without_starting_the_engine)
    {
        core->handle(request("kernel_info_request", nl::json::object()));
        EXPECT_FALSE(core->engine_started());
        ASSERT_EQ(transport.sent.size(), 3u);
        const nl::json& info = transport.sent[1].msg.content;
        EXPECT_EQ(info["implementation"], "xaccel");
        EXPECT_EQ(info["implementation_version"], "9.9.9");
        EXPECT_EQ(info["language_info"]["name"], "python");
        EXPECT_EQ(info["language_info"]["version"].get<std::string>().substr(0, 4), "3.11");
        EXPECT_EQ(info["supported_features"], nl::json::array());
        core->handle(request("execute_request", {{"code", "x"}}));
        EXPECT_TRUE(core->engine_started());
    }

    TEST_F(kernel_core_test, connect_request_reports_the_transport_ports_on_shell_and_control)
    {
        core->handle(request("connect_request", nl::json::object()));
        transport.ports = {{"shell_port", 5001}, {"hb_port", 5005}};
        core->handle(request("connect_request", nl::json::object(), channel::control));
        std::vector<std::string> expected = {"iopub:status:busy", "shell:connect_reply",   "iopub:status:idle",
                                             "iopub:status:busy", "control:connect_reply", "iopub:status:idle"};
        EXPECT_EQ(transport.summary(), expected);
        EXPECT_EQ(transport.sent[1].msg.content, (nl::json{{"status", "ok"}}));
        EXPECT_EQ(transport.sent[4].msg.content, (nl::json{{"shell_port", 5001}, {"hb_port", 5005}, {"status", "ok"}}));
    }

    TEST_F(kernel_core_test, publish_uses_the_given_parent_or_the_running_request)
    {
        message req = request("execute_request", {{"code", "x"}});
        std::string running = req.header["msg_id"];
        core->handle(std::move(req));
        transport.sent.clear();
        nl::json other = make_header("execute_request", "client", "tester");
        std::string id = core->publish("stream", {{"name", "stdout"}, {"text", "t"}}, nl::json::object(), {}, other);
        core->publish("stream", {{"name", "stdout"}, {"text", "u"}}, nl::json::object(), {});
        ASSERT_EQ(transport.sent.size(), 2u);
        EXPECT_EQ(transport.sent[0].msg.parent_header, other);
        EXPECT_EQ(transport.sent[0].msg.header["msg_id"], id);
        EXPECT_EQ(transport.sent[1].msg.parent_header["msg_id"], running);
    }

    TEST_F(kernel_core_test, kernel_info_advertises_the_debugger_only_where_the_build_has_one)
    {
        // The browser build keeps the default; the native one turns it on.
        nl::json info = core->kernel_info();
        EXPECT_EQ(info["debugger"], false);
        EXPECT_EQ(info["supported_features"], nl::json::array());
        core->set_debugger_available(true);
        info = core->kernel_info();
        EXPECT_EQ(info["debugger"], true);
        EXPECT_EQ(info["supported_features"], nl::json::array({"debugger"}));
        core->set_subshells_available(true);
        EXPECT_EQ(core->kernel_info()["supported_features"], nl::json::array({"debugger", "kernel subshells"}));
    }

    TEST_F(kernel_core_test, shutdown_replies_and_requests_stop)
    {
        core->handle(request("shutdown_request", {{"restart", true}}, channel::control));
        EXPECT_TRUE(core->stop_requested());
        EXPECT_TRUE(core->restart_requested());
        EXPECT_EQ(transport.sent[1].msg.content, (nl::json{{"status", "ok"}, {"restart", true}}));
    }

    TEST_F(kernel_core_test, input_requests_go_to_stdin_with_the_execution_parent)
    {
        message req = request("execute_request", {{"code", "x"}});
        std::string id = req.header["msg_id"];
        core->handle(std::move(req));
        transport.sent.clear();
        EXPECT_EQ(core->request_input("name? ", false), "typed");
        ASSERT_EQ(transport.sent.size(), 1u);
        EXPECT_EQ(transport.sent[0].where, channel::stdin_channel);
        EXPECT_EQ(transport.sent[0].msg.content, (nl::json{{"prompt", "name? "}, {"password", false}}));
        EXPECT_EQ(transport.sent[0].msg.parent_header["msg_id"], id);
    }
}
