#include "kernel_core.hpp"

#include <iostream>
#include <stdexcept>
#include <utility>

#include "beside_cell.hpp"
#include "json_python.hpp"
#include "python_message.hpp"
#include "send_time.hpp"

namespace xaccel
{
    namespace
    {
        kernel_core* g_current = nullptr;

        // Requests whose content the engine answers as a whole, and their reply types.
        struct simple_request
        {
            const char* request;
            const char* engine_method;
            const char* reply;
        };

        constexpr simple_request simple_requests[] = {
            {"complete_request", "complete", "complete_reply"},
            {"inspect_request", "inspect", "inspect_reply"},
            {"is_complete_request", "is_complete", "is_complete_reply"},
            {"history_request", "history", "history_reply"},
            {"comm_info_request", "comm_info", "comm_info_reply"},
        };

        nl::json error_content(const std::string& ename, const std::string& evalue)
        {
            return nl::json{{"status", "error"},
                            {"ename", ename},
                            {"evalue", evalue},
                            {"traceback", nl::json::array({ename + ": " + evalue})}};
        }

        // Marks a cell's code as running for the scope's lifetime.
        class running_cell
        {
        public:
            running_cell(bool& flag, execution_observer* observer) noexcept
                : m_flag(flag)
                , m_observer(observer)
            {
                m_flag = true;
                if (m_observer != nullptr)
                {
                    m_observer->cell_started();
                }
            }

            ~running_cell()
            {
                m_flag = false;
                if (m_observer != nullptr)
                {
                    m_observer->cell_finished();
                }
            }

            running_cell(const running_cell&) = delete;
            running_cell& operator=(const running_cell&) = delete;

        private:
            bool& m_flag;
            execution_observer* m_observer;
        };

    }

    kernel_core::kernel_core(transport& t, std::string version)
        : m_transport(t)
        , m_version(std::move(version))
        , m_session(new_uuid())
    {
        g_current = this;
    }

    kernel_core::~kernel_core()
    {
        if (g_current == this)
        {
            g_current = nullptr;
        }
    }

    kernel_core* kernel_core::current() noexcept
    {
        return g_current;
    }

    void kernel_core::start_engine()
    {
        if (m_engine)
        {
            return;
        }
        if (m_before_engine_start)
        {
            m_before_engine_start();
        }
        py::module_ engine_module = py::module_::import("xaccel_kernel.engine");
        m_engine = engine_module.attr("Engine")();
    }

    void kernel_core::announce_start()
    {
        publish_status("starting", nl::json::object());
    }

    void kernel_core::shutdown_engine()
    {
        if (m_engine_shut_down || !m_engine)
        {
            return;
        }
        m_engine_shut_down = true;
        try
        {
            m_engine.attr("shutdown")(m_restart_requested);
        }
        catch (py::error_already_set& e)
        {
            std::cerr << "xaccel: error while shutting down the engine: " << e.what() << std::endl;
        }
    }

    std::string kernel_core::publish(const std::string& msg_type, nl::json content, nl::json metadata,
                                     buffer_sequence buffers, nl::json parent)
    {
        message msg;
        msg.origin = channel::iopub;
        msg.header = make_header(msg_type, m_session, m_transport.username());
        msg.parent_header = parent.is_object() ? std::move(parent) : m_execution_parent;
        msg.metadata = std::move(metadata);
        msg.content = std::move(content);
        msg.buffers = std::move(buffers);
        std::string msg_id = msg.header.value("msg_id", std::string());
        m_transport.publish(std::move(msg));
        return msg_id;
    }

    void kernel_core::publish_status(const char* state, const nl::json& parent)
    {
        message msg;
        msg.origin = channel::iopub;
        msg.header = make_header("status", m_session, m_transport.username());
        msg.parent_header = parent;
        msg.content = nl::json{{"execution_state", state}};
        m_transport.publish(std::move(msg));
    }

    void kernel_core::reply(const message& request, const std::string& reply_type, nl::json content)
    {
        message msg;
        msg.origin = request.origin;
        msg.header = make_header(reply_type, m_session, m_transport.username());
        msg.parent_header = request.header;
        msg.metadata = nl::json::object();
        msg.content = std::move(content);
        m_transport.send(request.origin, request, std::move(msg));
    }

    std::string kernel_core::request_input(const std::string& prompt, bool password)
    {
        message msg;
        msg.origin = channel::stdin_channel;
        msg.identities = m_execution_identities;
        msg.header = make_header("input_request", m_session, m_transport.username());
        msg.parent_header = m_execution_parent;
        msg.content = nl::json{{"prompt", prompt}, {"password", password}};
        nl::json reply = m_transport.request_input(std::move(msg));
        auto it = reply.find("value");
        if (it == reply.end() || !it->is_string())
        {
            throw std::runtime_error("input_reply without a string 'value'");
        }
        return it->get<std::string>();
    }

    bool kernel_core::validate(const message& request, std::string& problem) const
    {
        if (!request.header.is_object())
        {
            problem = "header is not a JSON object";
            return false;
        }
        for (const char* field : {"msg_id", "msg_type"})
        {
            auto it = request.header.find(field);
            if (it == request.header.end() || !it->is_string())
            {
                problem = std::string("header has no string field '") + field + "'";
                return false;
            }
        }
        if (!request.content.is_object())
        {
            problem = "content is not a JSON object";
            return false;
        }
        return true;
    }

    void kernel_core::handle(message request)
    {
        handle_one(std::move(request));
        handle_waiting();
    }

    void kernel_core::handle_waiting()
    {
        if (m_handling_waiting || m_executing)
        {
            return;  // the outer call goes on with the queue
        }
        struct flag_guard
        {
            bool& flag;
            explicit flag_guard(bool& f) : flag(f) { flag = true; }
            ~flag_guard() { flag = false; }
        } guard(m_handling_waiting);
        // Requests in order, until one defers its reply again (or, for a
        // request handled beside a running cell, until that cell ends).
        while (!m_deferred && !m_executing && !m_waiting.empty())
        {
            request_queue::entry next = m_waiting.pop();
            if (next.queued_before_error && next.request.msg_type() == "execute_request")
            {
                abort_request(next.request);
            }
            else
            {
                handle_one(std::move(next.request));
            }
        }
    }

    void kernel_core::handle_one(message request)
    {
        std::string problem;
        if (!validate(request, problem))
        {
            std::cerr << "xaccel: ignored a malformed message on " << channel_name(request.origin) << ": "
                      << problem << std::endl;
            return;
        }
        if (request.origin == channel::shell)
        {
            if ((m_executing || m_deferred) && runs_beside_cell(request.msg_type()))
            {
                handle_beside_cell(request);
                return;
            }
            if (m_executing || ((m_deferred || !m_waiting.empty()) && !m_handling_waiting))
            {
                // Shell requests are answered in order: wait for the running
                // cell and for the requests queued before this one. A request
                // can arrive while a cell's code runs when that cell's stack is
                // suspended (asyncio.run in the browser, kernel/lite/jspi.cpp).
                m_waiting.push(std::move(request));
                return;
            }
        }
        if (request.origin == channel::shell && m_waiting.sent_before_error(request))
        {
            abort_request(request);  // stop_on_error: sent before the error's reply
            return;
        }

        publish_status("busy", request.header);
        bool finished = true;
        try
        {
            if (const char* reply_type = engine_free_reply_type(request.msg_type()))
            {
                reply(request, reply_type, engine_free_reply(request.msg_type()));
                publish_status("idle", request.header);
                return;
            }
            start_engine();
            if (request.origin == channel::shell)
            {
                // The parent of the output that this request causes.
                m_execution_parent = request.header;
                m_execution_identities = request.identities;
                m_engine.attr("before_request")(python_message(request));
            }
            finished = dispatch(request);
        }
        catch (py::error_already_set& e)
        {
            fail(request, py::str(e.type().attr("__name__")), py::str(e.value()));
        }
        catch (std::exception& e)
        {
            fail(request, "KernelError", e.what());
        }
        if (request.origin == channel::shell && m_engine)
        {
            after_request();
        }
        if (finished)
        {
            publish_status("idle", request.header);
        }
        else
        {
            m_deferred = std::make_unique<message>(std::move(request));
        }
    }

    void kernel_core::handle_beside_cell(const message& request)
    {
        // The cell's parent (for output, stdin and the watchdog) comes back
        // afterwards; the request's own output leaves before its idle.
        const nl::json cell_parent = m_execution_parent;
        const std::vector<std::string> cell_identities = m_execution_identities;
        publish_status("busy", request.header);
        bool interrupted = false;
        try
        {
            if (const char* reply_type = engine_free_reply_type(request.msg_type()))
            {
                reply(request, reply_type, engine_free_reply(request.msg_type()));
            }
            else
            {
                m_execution_parent = request.header;
                m_execution_identities = request.identities;
                py::object entered = m_engine.attr("enter_beside_cell")(python_message(request));
                message copy = request;
                try
                {
                    dispatch(copy);
                }
                catch (...)
                {
                    m_engine.attr("leave_beside_cell")(entered);
                    throw;
                }
                m_engine.attr("leave_beside_cell")(entered);
            }
        }
        catch (py::error_already_set& e)
        {
            fail(request, py::str(e.type().attr("__name__")), py::str(e.value()));
            // An interrupt is meant for the cell: it goes on to cancel it.
            interrupted = e.matches(PyExc_KeyboardInterrupt);
        }
        catch (std::exception& e)
        {
            fail(request, "KernelError", e.what());
        }
        m_execution_parent = cell_parent;
        m_execution_identities = cell_identities;
        publish_status("idle", request.header);
        if (interrupted && m_executing)
        {
            // Natively the cell drives the loop below us: it cancels the cell.
            PyErr_SetNone(PyExc_KeyboardInterrupt);
            throw py::error_already_set();
        }
        if (interrupted)
        {
            // Browser: nothing of the cell is on the stack; it takes the
            // interrupt at its next check.
            PyErr_SetInterrupt();
        }
    }

    void kernel_core::after_request()
    {
        // Output written while handling the request leaves before its idle.
        try
        {
            m_engine.attr("after_request")();
        }
        catch (py::error_already_set& e)
        {
            // An interrupt after the request ran has nothing left to stop.
            if (!e.matches(PyExc_KeyboardInterrupt))
            {
                std::cerr << "xaccel: error after a request: " << e.what() << std::endl;
            }
        }
    }

    void kernel_core::fail(const message& request, const std::string& ename, const std::string& evalue)
    {
        std::string type = request.msg_type();
        std::cerr << "xaccel: error handling " << type << ": " << ename << ": " << evalue << std::endl;
        std::string reply_type = reply_type_for(type);
        if (!reply_type.empty())
        {
            reply(request, reply_type, error_content(ename, evalue));
        }
    }

    void kernel_core::finish_execute(nl::json reply_content)
    {
        if (!m_deferred)
        {
            throw std::runtime_error("finish_execute: no execute_request is waiting for its reply");
        }
        std::unique_ptr<message> request = std::move(m_deferred);
        stop_queued_executes(reply_content, request->content);
        reply(*request, "execute_reply", std::move(reply_content));
        publish_status("idle", request->header);
        handle_waiting();
    }

    void kernel_core::stop_queued_executes(const nl::json& reply_content, const nl::json& request_content)
    {
        // As ipykernel: a failed (or interrupted) cell that is not silent and
        // has stop_on_error aborts the executes already queued. They are
        // taken from the transport before the error's reply leaves, so a
        // request sent after that reply is never among them.
        if (reply_content.value("status", std::string()) != "error" || request_content.value("silent", false)
            || !request_content.value("stop_on_error", true))
        {
            return;
        }
        for (message& waiting : m_transport.take_waiting_shell())
        {
            m_waiting.push(std::move(waiting));
        }
        m_waiting.mark_queued_before_error();
        if (m_transport.requests_wait_out_of_reach())
        {
            m_waiting.mark_error_time(now_ms());
        }
    }

    void kernel_core::abort_request(const message& request)
    {
        publish_status("busy", request.header);
        message msg;
        msg.origin = request.origin;
        msg.header = make_header("execute_reply", m_session, m_transport.username());
        msg.parent_header = request.header;
        msg.metadata = nl::json{{"status", "aborted"},
                                {"started", iso8601_now()},
                                {"dependencies_met", true},
                                {"engine", m_session}};
        msg.content = nl::json{{"status", "aborted"}};
        m_transport.send(request.origin, request, std::move(msg));
        publish_status("idle", request.header);
    }

    nl::json kernel_core::call_engine(const char* method, py::object args)
    {
        py::object result = m_engine.attr(method)(std::move(args));
        return to_json(result);
    }

    bool kernel_core::dispatch(message& request)
    {
        const std::string type = request.msg_type();
        if (type == "execute_request")
        {
            return execute_request(request);
        }
        if (type == "shutdown_request")
        {
            shutdown_request(request);
            return true;
        }
        if (type == "interrupt_request")
        {
            interrupt_request(request);
            return true;
        }
        if (type == "comm_open" || type == "comm_msg" || type == "comm_close")
        {
            m_engine.attr("comm_message")(type, python_message(request));
            return true;
        }
        for (const auto& entry : simple_requests)
        {
            if (type == entry.request)
            {
                reply(request, entry.reply, call_engine(entry.engine_method, to_python(request.content)));
                return true;
            }
        }
        std::cerr << "xaccel: unknown message type '" << type << "' on " << channel_name(request.origin)
                  << "; ignored" << std::endl;
        return true;
    }

    bool kernel_core::execute_request(const message& request)
    {
        const nl::json& c = request.content;
        auto code = c.find("code");
        if (code == c.end() || !code->is_string())
        {
            reply(request, "execute_reply", error_content("MessageError", "execute_request needs a string 'code'"));
            return true;
        }
        bool silent = c.value("silent", false);
        bool store_history = c.value("store_history", !silent);
        nl::json user_expressions = c.value("user_expressions", nl::json::object());
        bool allow_stdin = c.value("allow_stdin", true);
        bool stop_on_error = c.value("stop_on_error", true);

        if (!silent)
        {
            int count = m_engine.attr("next_execution_count")().cast<int>();
            publish("execute_input", nl::json{{"code", *code}, {"execution_count", count}}, nl::json::object(), {});
        }
        py::object result;
        {
            running_cell running(m_executing, m_observer);
            result = m_engine.attr("execute")(code->get_ref<const std::string&>(), silent, store_history,
                                              to_python(user_expressions), allow_stdin, stop_on_error);
        }
        if (result.is_none())
        {
            // The engine runs the cell on the event loop and will call
            // finish_execute() (the browser build, where nothing may block).
            return false;
        }
        nl::json reply_content = to_json(result);
        stop_queued_executes(reply_content, c);
        reply(request, "execute_reply", std::move(reply_content));
        return true;
    }

    const char* kernel_core::engine_free_reply_type(const std::string& msg_type) noexcept
    {
        if (msg_type == "kernel_info_request")
        {
            return "kernel_info_reply";
        }
        if (msg_type == "connect_request")
        {
            return "connect_reply";  // deprecated since protocol 5.1, still answered by ipykernel
        }
        return nullptr;
    }

    nl::json kernel_core::engine_free_reply(const std::string& msg_type) const
    {
        if (msg_type == "kernel_info_request")
        {
            return kernel_info();
        }
        nl::json content = m_transport.connection_ports();
        content["status"] = "ok";
        return content;
    }

    nl::json kernel_core::kernel_info() const
    {
        // Built here, not by the engine: it must not wait for IPython's import.
        std::string python_version = Py_GetVersion();
        python_version = python_version.substr(0, python_version.find(' '));
        nl::json language_info = {{"name", "python"},
                                  {"version", python_version},
                                  {"mimetype", "text/x-python"},
                                  {"codemirror_mode", {{"name", "ipython"}, {"version", 3}}},
                                  {"pygments_lexer", "ipython3"},
                                  {"nbconvert_exporter", "python"},
                                  {"file_extension", ".py"}};
        nl::json help_links = nl::json::array(
            {{{"text", "Python Reference"}, {"url", "https://docs.python.org/3/"}},
             {{"text", "IPython Reference"}, {"url", "https://ipython.readthedocs.io/en/stable/"}},
             {{"text", "asyncio"}, {"url", "https://docs.python.org/3/library/asyncio.html"}}});
        nl::json features = nl::json::array();
        if (m_debugger_available)
        {
            features.push_back("debugger");
        }
        if (m_subshells_available)
        {
            features.push_back("kernel subshells");
        }
        return nl::json{{"status", "ok"},
                        {"protocol_version", "5.3"},
                        {"implementation", "xaccel"},
                        {"implementation_version", m_version},
                        {"language_info", std::move(language_info)},
                        {"banner", "xaccel " + m_version + ": Python " + python_version
                                       + " with a live asyncio loop.\nCells can await; `accel` is preloaded."},
                        {"help_links", std::move(help_links)},
                        {"debugger", m_debugger_available},
                        // JEP 92 (protocol 5.5): optional features by name.
                        {"supported_features", std::move(features)}};
    }

    void kernel_core::shutdown_request(const message& request)
    {
        m_restart_requested = request.content.value("restart", false);
        m_stop_requested = true;
        reply(request, "shutdown_reply", nl::json{{"status", "ok"}, {"restart", m_restart_requested}});
        if (m_executing)
        {
            // Stop the running cell so that the kernel can exit now.
            PyErr_SetInterrupt();
        }
    }

    void kernel_core::interrupt_request(const message& request)
    {
        // Same path as SIGINT: the engine sees KeyboardInterrupt at its next
        // check, which cancels an awaited cell or stops running code.
        PyErr_SetInterrupt();
        reply(request, "interrupt_reply", nl::json{{"status", "ok"}});
    }
}
