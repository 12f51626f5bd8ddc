#include "control_thread.hpp"

#include <algorithm>
#include <cerrno>
#include <iostream>
#include <stdexcept>

#include <pybind11/embed.h>
#include <zmq_addon.hpp>

#include "../core/json_python.hpp"
#include "watchdog.hpp"

namespace py = pybind11;

namespace xaccel
{
    namespace
    {
        // The control thread of this process, for the `_xaccel_control` module.
        control_thread* g_control = nullptr;
    }

    // A Python thread state for this (non-Python) thread, made on first use
    // and kept, so that threading sees one thread, marked for debugpy as one
    // of the kernel's own: it is never traced nor paused.
    struct control_thread::python_state
    {
        PyGILState_STATE gil_state;
        PyThreadState* saved = nullptr;

        python_state()
        {
            gil_state = PyGILState_Ensure();
            try
            {
                py::object thread = py::module_::import("threading").attr("current_thread")();
                thread.attr("name") = "xaccel-control";
                thread.attr("pydev_do_not_trace") = true;
                thread.attr("is_pydev_daemon_thread") = true;
            }
            catch (py::error_already_set& e)
            {
                std::cerr << "xaccel: control thread: " << e.what() << std::endl;
            }
            saved = PyEval_SaveThread();
        }

        ~python_state()
        {
            PyEval_RestoreThread(saved);
            PyGILState_Release(gil_state);
        }
    };

    control_thread::control_thread(zmq::context_t& context, wire_codec& codec, iopub_publisher& iopub)
        : m_context(context)
        , r_codec(codec)
        , r_iopub(iopub)
    {
    }

    control_thread::~control_thread()
    {
        stop();
        if (g_control == this)
        {
            g_control = nullptr;
        }
    }

    void control_thread::start(zmq::socket_t& controller, kernel_core& core)
    {
        p_core = &core;
        m_router = std::move(controller);
        m_relay = open_relay(m_context, "inproc://xaccel-control-relay", controller);
        g_control = this;
        m_thread = std::thread([this] { run(); });
    }

    void control_thread::stop()
    {
        if (!m_thread.joinable())
        {
            return;
        }
        m_stop = true;
        m_wake.notify();
        if (PyGILState_Check())
        {
            // The thread may be waiting for the GIL to finish a debug request.
            py::gil_scoped_release release;
            m_thread.join();
        }
        else
        {
            m_thread.join();
        }
    }

    void control_thread::run()
    {
        while (!m_stop)
        {
            zmq::pollitem_t items[] = {{static_cast<void*>(m_router), 0, ZMQ_POLLIN, 0},
                                       {static_cast<void*>(m_relay), 0, ZMQ_POLLIN, 0},
                                       {nullptr, m_wake.read_fd(), ZMQ_POLLIN, 0},
                                       {nullptr, m_adapter_fd, ZMQ_POLLIN, 0}};
            int count = m_adapter_fd >= 0 ? 4 : 3;
            if (zmq_poll(items, count, -1) < 0)
            {
                if (zmq_errno() == EINTR)
                {
                    continue;
                }
                std::cerr << "xaccel: control thread: zmq_poll failed: " << zmq_strerror(zmq_errno()) << std::endl;
                return;
            }
            try
            {
                // Replies of the main thread go out unchanged (the last one,
                // a shutdown_reply, may come together with the stop).
                zmq::multipart_t reply;
                while (reply.recv(m_relay, ZMQ_DONTWAIT))
                {
                    reply.send(m_router);
                }
                if (m_stop)
                {
                    break;
                }
                if (items[0].revents & ZMQ_POLLIN)
                {
                    zmq::multipart_t wire;
                    while (!m_stop && wire.recv(m_router, ZMQ_DONTWAIT))
                    {
                        handle_request(wire);
                        wire.clear();
                    }
                }
                if (count == 4 && (items[3].revents & ZMQ_POLLIN))
                {
                    // debugpy sent something unasked (an event): publish it.
                    call_debugger("on_adapter_readable");
                }
            }
            catch (std::exception& e)
            {
                std::cerr << "xaccel: control thread: " << e.what() << std::endl;
            }
        }
        p_python.reset();
    }

    void control_thread::handle_request(zmq::multipart_t& wire)
    {
        // Checked here, before anything parses it: the layout, size, whole
        // signature, replays and nesting depth (wire_codec.hpp). The main
        // thread checks a relayed message again, all but the replay.
        zmq::multipart_t copy = wire.clone();
        wire_codec::decoded result = r_codec.decode(copy, channel::control);
        if (!result.problem.empty())
        {
            std::cerr << "xaccel: rejected a message on control: " << result.problem << std::endl;
            if (result.trusted_header.is_object())
            {
                result.msg.header = std::move(result.trusted_header);
                answer_rejected(result.msg, result.problem);
            }
            return;
        }
        const std::string msg_type = result.msg.msg_type();
        // Interrupt and shutdown need this thread only while a debugger
        // session exists (the main thread may be stopped at a breakpoint).
        const bool served_here = msg_type == "debug_request" || kernel_core::engine_free_reply_type(msg_type)
                                 || msg_type == "create_subshell_request" || msg_type == "delete_subshell_request"
                                 || msg_type == "list_subshell_request"
                                 || (m_session_active
                                     && (msg_type == "interrupt_request" || msg_type == "shutdown_request"));
        if (!served_here)
        {
            // The main thread answers it, as before.
            wire.send(m_relay);
            // Served at once even while a cell runs (watchdog.hpp).
            watchdog::control_waiting(msg_type == "shutdown_request");
            return;
        }
        if (!result.msg.content.is_object())
        {
            std::cerr << "xaccel: ignored a malformed message on control: content is not a JSON object" << std::endl;
            return;
        }
        if (msg_type == "shutdown_request")
        {
            // A thread stopped at a breakpoint must run on for the main
            // thread to see the shutdown: end the debugger session first.
            call_debugger("release");
            wire.send(m_relay);
            watchdog::control_waiting(true);
            return;
        }
        serve_here(std::move(result.msg));
    }

    void control_thread::serve_here(message request)
    {
        const nl::json& header = request.header;
        const std::vector<std::string>& identities = request.identities;
        const std::string msg_type = request.msg_type();
        publish("status", nl::json{{"execution_state", "busy"}}, header);
        if (const char* reply_type = kernel_core::engine_free_reply_type(msg_type))
        {
            send_reply(header, identities, reply_type, p_core->engine_free_reply(msg_type));
        }
        else if (msg_type == "interrupt_request")
        {
            serve_interrupt(header, identities);
        }
        else if (msg_type == "create_subshell_request" || msg_type == "delete_subshell_request"
                 || msg_type == "list_subshell_request")
        {
            send_reply(header, identities, msg_type.substr(0, msg_type.size() - 8) + "_reply",
                       serve_subshell_request(msg_type, request.content));
        }
        else
        {
            serve_debug_request(header, identities, request.content);
        }
        publish("status", nl::json{{"execution_state", "idle"}}, header);
    }

    void control_thread::answer_rejected(const message& request, const std::string& problem)
    {
        // As the main thread does (zmq_transport.cpp): a signed request whose
        // other parts were rejected still gets an error reply and its busy/idle.
        const std::string reply_type = reply_type_for(request.msg_type());
        if (reply_type.empty())
        {
            return;
        }
        publish("status", nl::json{{"execution_state", "busy"}}, request.header);
        send_reply(request.header, request.identities, reply_type, rejection_content(problem));
        publish("status", nl::json{{"execution_state", "idle"}}, request.header);
    }

    void control_thread::serve_interrupt(const nl::json& header, const std::vector<std::string>& identities)
    {
        // As SIGINT does: the main thread sees KeyboardInterrupt at its next
        // check (Python also writes its wake-up fd, so the kernel's wait
        // ends). Code stopped at a breakpoint is resumed by the debugger's
        // SIGINT handler, on the main thread (debugger.py).
        PyErr_SetInterrupt();
        send_reply(header, identities, "interrupt_reply", nl::json{{"status", "ok"}});
    }

    void control_thread::serve_debug_request(const nl::json& header, const std::vector<std::string>& identities,
                                             const nl::json& content)
    {
        m_debug_parent = header;
        wait_for_engine_once();
        nl::json reply;
        {
            if (!p_python)
            {
                p_python = std::make_unique<python_state>();
            }
            py::gil_scoped_acquire gil;
            try
            {
                py::object debugger = py::module_::import("xaccel_kernel.debugger").attr("control_side")();
                m_debugger_loaded = true;
                reply = to_json(debugger.attr("handle_request")(to_python(content)));
            }
            catch (py::error_already_set& e)
            {
                std::cerr << "xaccel: error handling debug_request: " << e.what() << std::endl;
                reply = nl::json{{"type", "response"},
                                 {"request_seq", content.value("seq", 0)},
                                 {"command", content.value("command", std::string())},
                                 {"success", false},
                                 {"message", e.what()}};
            }
            refresh_debugger_state();
        }
        send_reply(header, identities, "debug_reply", std::move(reply));
    }

    void control_thread::wait_for_engine_once()
    {
        if (!m_engine_waited && m_wait_for_engine)
        {
            m_wait_for_engine();
        }
        m_engine_waited = true;
    }

    bool control_thread::call_debugger(const char* method)
    {
        if (!m_debugger_loaded)
        {
            return false;
        }
        py::gil_scoped_acquire gil;
        try
        {
            py::module_::import("xaccel_kernel.debugger").attr("control_side")().attr(method)();
        }
        catch (py::error_already_set& e)
        {
            std::cerr << "xaccel: debugger." << method << ": " << e.what() << std::endl;
        }
        refresh_debugger_state();
        return true;
    }

    // With the GIL held.
    void control_thread::refresh_debugger_state()
    {
        try
        {
            py::object debugger = py::module_::import("xaccel_kernel.debugger").attr("control_side")();
            m_adapter_fd = debugger.attr("adapter_fd")().cast<int>();
            m_session_active = debugger.attr("session_active")().cast<bool>();
        }
        catch (py::error_already_set& e)
        {
            std::cerr << "xaccel: debugger state: " << e.what() << std::endl;
            m_adapter_fd = -1;
            m_session_active = false;
        }
    }

    void control_thread::send_reply(const nl::json& request_header, const std::vector<std::string>& identities,
                                    const std::string& reply_type, nl::json content)
    {
        message msg;
        msg.identities = identities;
        msg.header = make_header(reply_type, p_core->session(), p_core->get_transport().username());
        msg.parent_header = request_header;
        msg.content = std::move(content);
        send_frames(m_router, r_codec.encode(msg));
    }

    void control_thread::publish(const std::string& msg_type, nl::json content, const nl::json& parent)
    {
        message msg;
        msg.header = make_header(msg_type, p_core->session(), p_core->get_transport().username());
        msg.parent_header = parent;
        msg.content = std::move(content);
        r_iopub.publish(std::move(msg));
    }

    void control_thread::publish_debug_event(nl::json content)
    {
        publish("debug_event", std::move(content), m_debug_parent);
    }
}

// Reached by the Python debugger, on the control thread only.
PYBIND11_EMBEDDED_MODULE(_xaccel_control, m)
{
    m.doc() = "The native kernel's control thread, as the debugger sees it.";
    m.def(
        "publish_debug_event",
        [](py::handle content)
        {
            if (xaccel::g_control == nullptr)
            {
                throw std::runtime_error("the control thread is not running");
            }
            xaccel::g_control->publish_debug_event(xaccel::to_json(content));
        },
        py::arg("content"), "Publish a debug_event on iopub.");
}
