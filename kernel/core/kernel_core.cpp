#include "kernel_core.hpp"

#include <iostream>
#include <stdexcept>
#include <utility>

#include "json_python.hpp"

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

        std::string reply_type_for(const std::string& request_type)
        {
            const std::string suffix = "_request";
            if (request_type.size() > suffix.size()
                && request_type.compare(request_type.size() - suffix.size(), suffix.size(), suffix) == 0)
            {
                return request_type.substr(0, request_type.size() - suffix.size()) + "_reply";
            }
            return {};
        }
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

    void kernel_core::publish(const std::string& msg_type, nl::json content, nl::json metadata, buffer_sequence buffers)
    {
        message msg;
        msg.origin = channel::iopub;
        msg.header = make_header(msg_type, m_session, m_transport.username());
        msg.parent_header = m_execution_parent;
        msg.metadata = std::move(metadata);
        msg.content = std::move(content);
        msg.buffers = std::move(buffers);
        m_transport.publish(std::move(msg));
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
        std::string problem;
        if (!validate(request, problem))
        {
            std::cerr << "xaccel: ignored a malformed message on " << channel_name(request.origin) << ": "
                      << problem << std::endl;
            return;
        }
        if (m_deferred && request.origin == channel::shell)
        {
            // Shell requests are answered in order: wait for the running cell.
            m_waiting.push_back(std::move(request));
            return;
        }

        publish_status("busy", request.header);
        bool finished = true;
        try
        {
            if (request.msg_type() == "kernel_info_request")
            {
                reply(request, "kernel_info_reply", kernel_info());
                publish_status("idle", request.header);
                return;
            }
            start_engine();
            // Errors of background tasks that happened while idle belong to
            // the next message handled: the engine prints them under it.
            if (request.origin == channel::shell)
            {
                m_execution_parent = request.header;
                m_execution_identities = request.identities;
                m_engine.attr("before_request")();
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
        if (finished)
        {
            publish_status("idle", request.header);
        }
        else
        {
            m_deferred = std::make_unique<message>(std::move(request));
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
        reply(*request, "execute_reply", std::move(reply_content));
        publish_status("idle", request->header);
        // Requests that arrived meanwhile, in order, until one defers again.
        while (!m_deferred && !m_waiting.empty())
        {
            message next = std::move(m_waiting.front());
            m_waiting.pop_front();
            handle(std::move(next));
        }
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
            py::dict msg;
            msg["header"] = to_python(request.header);
            msg["parent_header"] = to_python(request.parent_header);
            msg["metadata"] = to_python(request.metadata);
            msg["content"] = to_python(request.content);
            py::list buffers;
            for (const auto& b : request.buffers)
            {
                buffers.append(py::memoryview(py::bytes(b)));
            }
            msg["buffers"] = buffers;
            m_engine.attr("comm_message")(type, msg);
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
        py::object result = m_engine.attr("execute")(code->get_ref<const std::string&>(), silent, store_history,
                                                     to_python(user_expressions), allow_stdin, stop_on_error);
        if (result.is_none())
        {
            // The engine runs the cell on the event loop and will call
            // finish_execute() (the browser build, where nothing may block).
            return false;
        }
        reply(request, "execute_reply", to_json(result));
        return true;
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
                        {"supported_features",
                         m_debugger_available ? nl::json::array({"debugger"}) : nl::json::array()}};
    }

    void kernel_core::shutdown_request(const message& request)
    {
        m_restart_requested = request.content.value("restart", false);
        m_stop_requested = true;
        reply(request, "shutdown_reply", nl::json{{"status", "ok"}, {"restart", m_restart_requested}});
    }

    void kernel_core::interrupt_request(const message& request)
    {
        // Same path as SIGINT: the engine sees KeyboardInterrupt at its next
        // check, which cancels an awaited cell or stops running code.
        PyErr_SetInterrupt();
        reply(request, "interrupt_reply", nl::json{{"status", "ok"}});
    }
}
