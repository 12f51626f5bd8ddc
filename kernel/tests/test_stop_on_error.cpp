// stop_on_error: after a failed execute, the executes already queued are
// answered `aborted` and not run; other requests and later executes run.
#include <gtest/gtest.h>
#include <pybind11/embed.h>
#include <pybind11/stl.h>

#include "core/kernel_core.hpp"
#include "recording_transport.hpp"
#include "scripted_engine.hpp"

namespace xaccel
{
    namespace py = pybind11;

    namespace
    {
        using testing::request;

        message execute(const std::string& code, nl::json extra = nl::json::object())
        {
            nl::json content = {{"code", code}};
            content.update(extra);
            return request("execute_request", std::move(content));
        }

        class stop_on_error_test : public ::testing::Test
        {
        protected:
            void SetUp() override
            {
                testing::install_scripted_engine();
                core = std::make_unique<kernel_core>(transport, "9.9.9");
            }

            // The codes the engine was asked to run.
            static std::vector<std::string> engine_calls()
            {
                return py::eval("ENGINE.calls").cast<std::vector<std::string>>();
            }

            // Replies on shell, in order, as "type:status".
            std::vector<std::string> replies() const
            {
                std::vector<std::string> out;
                for (const auto& s : transport.sent)
                {
                    if (s.where == channel::shell)
                    {
                        out.push_back(s.msg.msg_type() + ":" + s.msg.content.value("status", std::string()));
                    }
                }
                return out;
            }

            testing::recording_transport transport;
            std::unique_ptr<kernel_core> core;
        };
    }

    TEST_F(stop_on_error_test, executes_waiting_in_the_transport_are_aborted_other_requests_answered)
    {
        message second = execute("second");
        std::string second_id = second.header["msg_id"];
        transport.waiting_shell.push_back(std::move(second));
        transport.waiting_shell.push_back(request("kernel_info_request", nl::json::object()));
        transport.waiting_shell.push_back(execute("third"));
        core->handle(execute("fail"));
        EXPECT_EQ(engine_calls(), std::vector<std::string>{"fail"});

        std::vector<std::string> expected = {"execute_reply:error", "execute_reply:aborted", "kernel_info_reply:ok",
                                             "execute_reply:aborted"};
        EXPECT_EQ(replies(), expected);
        // Every aborted request still gets busy and idle, and no execute_input.
        std::vector<std::string> summary = transport.summary();
        std::vector<std::string> aborted_part(summary.end() - 9, summary.end());
        std::vector<std::string> expected_tail = {
            "iopub:status:busy", "shell:execute_reply",     "iopub:status:idle",
            "iopub:status:busy", "shell:kernel_info_reply", "iopub:status:idle",
            "iopub:status:busy", "shell:execute_reply",     "iopub:status:idle"};
        EXPECT_EQ(aborted_part, expected_tail);
        const message& aborted = transport.sent[summary.size() - 8].msg;
        EXPECT_EQ(aborted.metadata["status"], "aborted");
        EXPECT_EQ(aborted.parent_header["msg_id"], second_id);
        EXPECT_EQ(transport.sent[summary.size() - 9].msg.parent_header["msg_id"], second_id);

        // A request that comes after the error's reply runs.
        transport.sent.clear();
        core->handle(execute("after"));
        EXPECT_EQ(replies(), std::vector<std::string>{"execute_reply:ok"});
        EXPECT_EQ(engine_calls(), (std::vector<std::string>{"fail", "after"}));
    }

    TEST_F(stop_on_error_test, nothing_is_aborted_without_stop_on_error_or_when_silent)
    {
        transport.waiting_shell.push_back(execute("second"));
        core->handle(execute("fail", {{"stop_on_error", false}}));
        core->handle(execute("fail", {{"silent", true}}));
        // The waiting request stays with the transport, which hands it over in turn.
        EXPECT_EQ(transport.waiting_shell.size(), 1u);
        core->handle(std::move(transport.waiting_shell.front()));
        std::vector<std::string> expected = {"execute_reply:error", "execute_reply:error", "execute_reply:ok"};
        EXPECT_EQ(replies(), expected);

        transport.sent.clear();
        py::exec("DEFER = True");
        core->handle(execute("slow", {{"stop_on_error", false}}));
        core->handle(execute("queued"));
        py::exec("DEFER = False");
        core->finish_execute(nl::json{{"status", "error"}, {"ename", "E"}, {"evalue", ""},
                                      {"traceback", nl::json::array()}, {"execution_count", 3}});
        expected = {"execute_reply:error", "execute_reply:ok"};
        EXPECT_EQ(replies(), expected);
    }

    TEST_F(stop_on_error_test, deferred_cell_error_aborts_the_executes_queued_meanwhile)
    {
        py::exec("DEFER = True");
        core->handle(execute("slow"));
        core->handle(execute("queued 1"));
        core->handle(request("comm_info_request", nl::json::object()));
        core->handle(execute("queued 2"));
        EXPECT_EQ(replies(), std::vector<std::string>{"comm_info_reply:ok"});

        py::exec("DEFER = False");
        core->finish_execute(nl::json{{"status", "error"},
                                      {"ename", "KeyboardInterrupt"},
                                      {"evalue", ""},
                                      {"traceback", nl::json::array()},
                                      {"execution_count", 1}});
        // comm_info was answered beside the running cell (beside_cell.hpp).
        std::vector<std::string> expected = {"comm_info_reply:ok", "execute_reply:error", "execute_reply:aborted",
                                             "execute_reply:aborted"};
        EXPECT_EQ(replies(), expected);

        EXPECT_EQ(engine_calls(), (std::vector<std::string>{"slow", "left beside"}));

        transport.sent.clear();
        core->handle(execute("after"));
        EXPECT_EQ(replies(), std::vector<std::string>{"execute_reply:ok"});
    }

    TEST_F(stop_on_error_test, comms_and_reading_requests_are_handled_beside_a_running_cell)
    {
        py::exec("DEFER = True");
        message cell = execute("slow");
        nl::json cell_header = cell.header;
        core->handle(std::move(cell));
        core->handle(execute("queued"));
        message comm = request("comm_msg", {{"comm_id", "c"}, {"data", nl::json::object()}});
        std::string comm_id = comm.header["msg_id"];
        transport.sent.clear();
        core->handle(std::move(comm));
        core->handle(request("kernel_info_request", nl::json::object()));
        // Handled at once, each between its own busy and idle; the queued
        // execute still waits for the cell.
        std::vector<std::string> expected = {"iopub:status:busy", "iopub:status:idle", "iopub:status:busy",
                                             "shell:kernel_info_reply", "iopub:status:idle"};
        EXPECT_EQ(transport.summary(), expected);
        EXPECT_EQ(transport.sent[0].msg.parent_header["msg_id"], comm_id);
        EXPECT_EQ(engine_calls(), (std::vector<std::string>{"slow", "comm_msg", "left beside"}));
        // Output without a parent of its own belongs to the cell again.
        core->publish("stream", {{"name", "stdout"}, {"text", "t"}}, nl::json::object(), {});
        EXPECT_EQ(transport.sent.back().msg.parent_header, cell_header);

        py::exec("DEFER = False");
        core->finish_execute(nl::json{{"status", "ok"}, {"execution_count", 1}});
        EXPECT_EQ(engine_calls(), (std::vector<std::string>{"slow", "comm_msg", "left beside", "queued"}));
    }

    TEST_F(stop_on_error_test, deferred_cell_success_runs_the_queued_executes)
    {
        py::exec("DEFER = True");
        core->handle(execute("slow"));
        core->handle(execute("queued"));
        py::exec("DEFER = False");
        core->finish_execute(nl::json{{"status", "ok"}, {"execution_count", 1}});
        std::vector<std::string> expected = {"execute_reply:ok", "execute_reply:ok"};
        EXPECT_EQ(replies(), expected);
        EXPECT_EQ(engine_calls(), (std::vector<std::string>{"slow", "queued"}));
    }

    // The browser build: queued requests wait in JupyterLite's page and reach
    // the kernel one by one, after the error's reply has left.
    TEST_F(stop_on_error_test, out_of_reach_executes_sent_before_the_error_are_aborted_when_they_arrive)
    {
        transport.out_of_reach = true;
        auto dated = [](message m, const std::string& date) {
            m.header["date"] = date;
            return m;
        };
        // Sent (dated) before the failing cell ran: Run All sends every cell at once.
        message queued = dated(execute("queued"), "2000-01-01T00:00:00.000Z");
        message info = dated(request("kernel_info_request", nl::json::object()), "2000-01-01T00:00:00.000Z");
        message undated = execute("undated");
        undated.header.erase("date");
        core->handle(execute("fail"));
        core->handle(std::move(queued));
        core->handle(std::move(info));
        core->handle(std::move(undated));  // no date: cannot tell, so it runs
        std::vector<std::string> expected = {"execute_reply:error", "execute_reply:aborted", "kernel_info_reply:ok",
                                             "execute_reply:ok"};
        EXPECT_EQ(replies(), expected);
        EXPECT_EQ(engine_calls(), (std::vector<std::string>{"fail", "undated"}));

        // Sent after the error's reply (its date is now or later): runs.
        transport.sent.clear();
        core->handle(execute("after"));
        EXPECT_EQ(replies(), std::vector<std::string>{"execute_reply:ok"});

        // Without stop_on_error nothing is marked; an earlier error's time stays.
        transport.sent.clear();
        core->handle(execute("fail", {{"stop_on_error", false}}));
        core->handle(dated(execute("old"), "2000-01-01T00:00:00Z"));
        expected = {"execute_reply:error", "execute_reply:aborted"};
        EXPECT_EQ(replies(), expected);
    }

    TEST_F(stop_on_error_test, within_reach_header_dates_are_not_looked_at)
    {
        // Natively the transport hands over every waiting request: a stale date
        // (a client's clock may be off) never aborts anything.
        core->handle(execute("fail"));
        message old = execute("old");
        old.header["date"] = "2000-01-01T00:00:00Z";
        core->handle(std::move(old));
        std::vector<std::string> expected = {"execute_reply:error", "execute_reply:ok"};
        EXPECT_EQ(replies(), expected);
    }
}
