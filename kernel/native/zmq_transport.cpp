#include "zmq_transport.hpp"

#include "interrupts.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <fcntl.h>
#include <unistd.h>
#include <vector>
#include <iostream>
#include <stdexcept>
#include <string>
#include <utility>

#include <pybind11/pybind11.h>
#include <xeus/xkernel.hpp>
#include <xeus/xmiddleware.hpp>
#include <zmq_addon.hpp>

namespace py = pybind11;

namespace xaccel
{
    namespace
    {
        // A socket that xeus bound to a spare port takes over the listener
        // the launcher handed down for the connection file's port.
        void adopt_listener(zmq::socket_t& socket, const std::string& endpoint, int fd)
        {
            socket.unbind(socket.get(zmq::sockopt::last_endpoint));
            socket.set(zmq::sockopt::use_fd, fd);
            socket.bind(endpoint);
            socket.set(zmq::sockopt::use_fd, -1);
        }

        std::vector<int> tcp_ports(const xeus::xconfiguration& config)
        {
            std::vector<int> ports;
            for (const std::string* port : {&config.m_shell_port, &config.m_control_port, &config.m_stdin_port,
                                            &config.m_iopub_port, &config.m_hb_port})
            {
                try
                {
                    ports.push_back(std::stoi(*port));
                }
                catch (std::exception&)
                {
                    // Not a number: ZeroMQ's bind reports it below.
                }
            }
            return ports;
        }

        nl::json connect_reply_ports(const xeus::xconfiguration& config)
        {
            nl::json ports = nl::json::object();
            for (auto [name, port] : {std::pair("shell_port", &config.m_shell_port),
                                      std::pair("iopub_port", &config.m_iopub_port),
                                      std::pair("stdin_port", &config.m_stdin_port),
                                      std::pair("control_port", &config.m_control_port),
                                      std::pair("hb_port", &config.m_hb_port)})
            {
                try
                {
                    ports[name] = std::stoi(*port);
                }
                catch (std::exception&)
                {
                    // Not a number (an ipc path): nothing to report.
                }
            }
            return ports;
        }

        std::string describe_endpoints(const xeus::xconfiguration& config)
        {
            return config.m_transport + "://" + config.m_ip + " (shell " + config.m_shell_port + ", iopub "
                   + config.m_iopub_port + ", stdin " + config.m_stdin_port + ", control " + config.m_control_port
                   + ", heartbeat " + config.m_hb_port + ")";
        }

        bool origin_has_no_reply(channel origin)
        {
            return origin != channel::shell && origin != channel::control;
        }

        // Runs Python's signal handlers now (SIGINT raises KeyboardInterrupt).
        void check_signals()
        {
            if (PyErr_CheckSignals() != 0)
            {
                throw py::error_already_set();
            }
        }

    }

    // Every blocking wait of the kernel goes through here. Besides `items`, it
    // watches the signal pipe: Python's C signal handler writes to it, so a
    // SIGINT that lands just before zmq_poll starts (no EINTR then) still
    // wakes the wait at once.
    int zmq_transport::poll_items(zmq::pollitem_t* items, int count, long timeout_ms)
    {
        // Nothing is kept back while the main thread waits.
        p_iopub->release();
        std::vector<zmq::pollitem_t> all(items, items + count);
        all.push_back({nullptr, m_signal_pipe[0], ZMQ_POLLIN, 0});
        int rc = 0;
        {
            py::gil_scoped_release release;
            rc = zmq_poll(all.data(), static_cast<int>(all.size()), timeout_ms);
        }
        if (rc < 0 && zmq_errno() != EINTR)
        {
            throw std::runtime_error(std::string("zmq_poll failed: ") + zmq_strerror(zmq_errno()));
        }
        if (all.back().revents & ZMQ_POLLIN)
        {
            char drain[64];
            while (read(m_signal_pipe[0], drain, sizeof(drain)) > 0)
            {
            }
            --rc;
        }
        std::copy(all.begin(), all.begin() + count, items);
        // A signal arrived: its Python handler runs here.
        check_signals();
        return rc < 0 ? 0 : rc;
    }

    // xeus 2.4.1 binds its own iopub publisher when the server is built;
    // iopub_publisher replaces it, so xeus's binds a spare port and is never
    // started. The same for a channel whose listener was inherited: xeus
    // binds a spare, which the channel then swaps for the listener.
    detail::xeus_spare_ports::xeus_spare_ports(const xeus::xconfiguration& config,
                                               const inherited_listeners& listeners)
    {
        if (config.m_transport != "tcp")
        {
            return;
        }
        // Two held ports can share a number (both SO_REUSEADDR, neither
        // listening): each spare avoids the ones taken before it.
        std::vector<int> avoid = tcp_ports(config);
        for (const char* channel : {"iopub", "shell", "control", "stdin"})
        {
            if (channel != std::string("iopub") && !listeners.has(channel))
            {
                continue;
            }
            try
            {
                m_spares[channel] = std::make_unique<reserved_port>(config.m_ip, avoid);
                avoid.push_back(m_spares[channel]->number());
            }
            catch (std::exception& e)
            {
                // ZeroMQ may still bind what was asked for (it reports what it cannot).
                std::cerr << "xaccel: no spare port held for xeus's " << channel << " socket (" << e.what()
                          << "); it binds port 0" << std::endl;
                m_spares[channel] = nullptr;
            }
        }
    }

    xeus::xconfiguration detail::xeus_spare_ports::for_xeus(xeus::xconfiguration config) const
    {
        if (config.m_transport != "tcp")
        {
            config.m_iopub_port += "-unused";
            return config;
        }
        for (const auto& spare : m_spares)
        {
            *connection_port(config, spare.first) = spare.second ? std::to_string(spare.second->number()) : "0";
        }
        return config;
    }

    void detail::xeus_spare_ports::release() noexcept
    {
        m_spares.clear();
    }

    // A port in use (or a bad address) ends the kernel with a message that
    // says which addresses it was asked to listen on.
    zmq_transport::zmq_transport(zmq::context_t& context, const xeus::xconfiguration& config,
                                 inherited_listeners& listeners)
    try : detail::xeus_spare_ports(config, listeners)
        , xeus::xserver_zmq(context, for_xeus(config), nl::json::error_handler_t::replace)
        , m_codec(config.m_signature_scheme, config.m_key, wire_limits::from_environment())
        , m_username(xeus::get_user_name())
        , m_ports(connect_reply_ports(config))
    {
        auto endpoint = [&config](const std::string& port)
        { return xeus::get_end_point(config.m_transport, config.m_ip, port); };
        for (auto [socket, channel] : {std::pair(&m_shell, "shell"), std::pair(&m_controller, "control"),
                                       std::pair(&m_stdin, "stdin")})
        {
            if (listeners.has(channel))
            {
                adopt_listener(*socket, endpoint(*connection_port(config, channel)), listeners.take(channel));
            }
        }
        detail::xeus_spare_ports::release();
        // Two clients with one ZeroMQ identity: replies go to the newest
        // connection, as with ipykernel.
        for (zmq::socket_t* socket : {&m_shell, &m_controller, &m_stdin})
        {
            socket->set(zmq::sockopt::router_handover, true);
        }
        p_iopub = std::make_unique<iopub_publisher>(context, endpoint(config.m_iopub_port), m_codec,
                                                    listeners.take("iopub"));
        p_control = std::make_unique<control_thread>(context, m_codec, *p_iopub);
        p_shell_channel = std::make_unique<shell_channel>(m_codec, *p_iopub, m_subshells);
        if (pipe2(m_signal_pipe, O_NONBLOCK | O_CLOEXEC) != 0)
        {
            throw std::runtime_error("cannot create the signal wake-up pipe");
        }
        py::module_::import("signal").attr("set_wakeup_fd")(m_signal_pipe[1], py::arg("warn_on_full_buffer") = false);
    }
    catch (zmq::error_t& e)
    {
        throw std::runtime_error("cannot listen on " + describe_endpoints(config) + ": " + e.what());
    }

    zmq_transport::~zmq_transport()
    {
        stop();
        if (current_subshells() == &m_subshells)
        {
            set_current_subshells(nullptr);
        }
        try
        {
            py::module_::import("signal").attr("set_wakeup_fd")(-1);
        }
        catch (std::exception&)
        {
            // Shutting down anyway; the pipe is closed right below.
        }
        close(m_signal_pipe[0]);
        close(m_signal_pipe[1]);
    }

    void zmq_transport::start_channels()
    {
        start_heartbeat_thread();
        p_control->set_engine_waiter([this] { wait_for_engine(); });
        p_control->start(m_controller, *p_core);
        // From here on the shell socket belongs to p_shell_channel.
        p_shell_channel->start(m_shell, *p_core);
        p_control->set_subshells(&m_subshells);
        set_current_subshells(&m_subshells);
        p_core->set_subshells_available(true);
        m_channels_started = true;
    }

    void zmq_transport::stop()
    {
        {
            // The control thread may wait for the engine: it is not coming.
            std::lock_guard<std::mutex> lock(m_engine_mutex);
            m_engine_wait_over = true;
        }
        m_engine_changed.notify_all();
        if (m_channels_started)
        {
            // First: the control and shell threads publish through iopub.
            p_control->stop();
            m_subshells.close_all();
            p_shell_channel->stop();
        }
        p_iopub->stop(1000);
        if (m_channels_started)
        {
            m_channels_started = false;
            zmq::message_t request("stop", 4);
            zmq::message_t answer;
            m_heartbeat_controller.send(request, zmq::send_flags::none);
            (void)m_heartbeat_controller.recv(answer);
        }
    }

    void zmq_transport::send(channel c, const message& routing, message reply)
    {
        reply.identities = routing.identities;
        if (c == channel::control)
        {
            send_frames(m_controller, m_codec.encode(reply));
        }
        else
        {
            p_shell_channel->send(m_codec.encode(reply));
        }
        // After the reply: a request that ends within its hold has its reply
        // sent first, while ZeroMQ's I/O thread is not yet busy with iopub.
        p_iopub->release();
    }

    // The hold (iopub_publisher.hpp): opened when the main thread leaves its
    // wait with the shell socket (shell_channel::main_wait), it keeps the
    // main thread's busy and execute_input until the first of: any other
    // message published (so they precede all of a request's output and its
    // idle), a reply or input request sent, the main thread waiting again,
    // or the shell channel's takeover timer (10 ms).
    bool zmq_transport::opens_request(const message& msg) const
    {
        if (std::this_thread::get_id() != m_main_thread)
        {
            return false;
        }
        const std::string type = msg.msg_type();
        if (type == "execute_input")
        {
            return true;
        }
        if (type != "status" || !msg.content.is_object())
        {
            return false;
        }
        auto state = msg.content.find("execution_state");
        return state != msg.content.end() && *state == "busy";
    }

    void zmq_transport::publish(message msg)
    {
        if (opens_request(msg))
        {
            p_iopub->hold(std::move(msg));
        }
        else
        {
            p_iopub->publish(std::move(msg));
        }
    }

    bool zmq_transport::receive(zmq::socket_t& socket, channel origin, message& out)
    {
        zmq::multipart_t wire;
        try
        {
            if (!wire.recv(socket, ZMQ_DONTWAIT))
            {
                return false;
            }
        }
        catch (zmq::error_t& e)
        {
            if (e.num() == EINTR)
            {
                return false;
            }
            throw;
        }
        return decode(wire, origin, out);
    }

    bool zmq_transport::take_shell(message& out)
    {
        zmq::multipart_t wire;
        if (!p_shell_channel->next_request(wire))
        {
            return false;
        }
        return decode(wire, channel::shell, out);
    }

    bool zmq_transport::decode(zmq::multipart_t& wire, channel origin, message& out)
    {
        // Control messages come through the control thread, which checked
        // their signature for replays already (control_thread.hpp).
        wire_codec::decoded result = m_codec.decode(wire, origin, origin != channel::control);
        if (result.problem.empty())
        {
            out = std::move(result.msg);
            return true;
        }
        // A wrong or replayed signature, a frame that is not a Jupyter
        // message, or one too deep or too large to parse safely: logged, and
        // the kernel goes on.
        std::cerr << "xaccel: rejected a message on " << channel_name(origin) << ": " << result.problem << std::endl;
        if (result.trusted_header.is_object())
        {
            result.msg.header = std::move(result.trusted_header);
            answer_rejected(result.msg, result.problem);
        }
        out.header = nullptr;
        return true;
    }

    // A signed request whose header is sound but whose other parts were
    // rejected still gets its reply (an error) and its busy/idle.
    void zmq_transport::answer_rejected(const message& request, const std::string& problem)
    {
        const std::string reply_type = reply_type_for(request.msg_type());
        if (p_core == nullptr || origin_has_no_reply(request.origin) || reply_type.empty())
        {
            return;
        }
        auto status = [&](const char* state)
        {
            message msg;
            msg.header = make_header("status", p_core->session(), m_username);
            msg.parent_header = request.header;
            msg.content = nl::json{{"execution_state", state}};
            publish(std::move(msg));
        };
        status("busy");
        message reply;
        reply.header = make_header(reply_type, p_core->session(), m_username);
        reply.parent_header = request.header;
        reply.content = rejection_content(problem);
        send(request.origin, request, std::move(reply));
        status("idle");
    }

    void zmq_transport::handle_control()
    {
        message msg;
        while (receive(m_controller, channel::control, msg))
        {
            if (!msg.header.is_null())
            {
                p_core->handle(std::move(msg));
            }
            msg = message{};
        }
    }

    void zmq_transport::dispatch(bool accept_shell)
    {
        handle_control();
        if (accept_shell && !p_core->stop_requested())
        {
            // One shell request per call: the event loop runs between requests.
            message msg;
            if (take_shell(msg) && !msg.header.is_null())
            {
                p_core->handle(std::move(msg));
            }
        }
        check_signals();
    }

    std::vector<message> zmq_transport::take_waiting_shell()
    {
        std::vector<message> waiting;
        p_shell_channel->collect_now();
        message msg;
        while (take_shell(msg))
        {
            if (!msg.header.is_null())
            {
                waiting.push_back(std::move(msg));
            }
            msg = message{};
        }
        return waiting;
    }

    bool zmq_transport::wait(int fd, int timeout_ms, bool accept_shell)
    {
        zmq::pollitem_t items[4] = {{static_cast<void*>(m_controller), 0, ZMQ_POLLIN, 0},
                                    {nullptr, fd, ZMQ_POLLIN, 0}};
        int count = 2;
        if (fd < 0)
        {
            items[1].fd = -1;
            items[1].events = 0;
        }
        if (!accept_shell)
        {
            poll_items(items, count, timeout_ms);
            return items[0].revents & ZMQ_POLLIN;
        }
        poll_with_shell(items, count, timeout_ms);
        return (items[0].revents & ZMQ_POLLIN) || p_shell_channel->has_requests();
    }

    void zmq_transport::poll_with_shell(zmq::pollitem_t* items, int count, long timeout_ms)
    {
        shell_channel::main_wait shell(*p_shell_channel);
        items[count++] = {nullptr, shell.wake_fd(), ZMQ_POLLIN, 0};
        if (shell.router() != nullptr)
        {
            items[count++] = {shell.router(), 0, ZMQ_POLLIN, 0};
        }
        poll_items(items, count, p_shell_channel->has_requests() ? 0 : shell.timeout_ms(timeout_ms));
        // Leaving the scope receives what arrived and lets the socket go.
    }

    void zmq_transport::serve_until_engine_started()
    {
        // 'starting' goes out after a first short wait (or with the first
        // request): iopub subscribers that connect as the kernel binds (ZeroMQ
        // joins late) then still see it. The engine starts with the first
        // request that needs it; otherwise once the client has been quiet
        // after being answered, or after a longer wait for a client that is
        // slow to connect (its first kernel_info must not wait for IPython).
        constexpr long announce_ms = 50;
        constexpr long quiet_after_reply_ms = 50;
        constexpr long wait_for_client_ms = 1000;
        using clock = std::chrono::steady_clock;
        auto ms_since = [](clock::time_point t)
        { return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - t).count()); };
        const clock::time_point started = clock::now();
        clock::time_point last_answer = started;
        bool announced = false;
        bool answered = false;
        // A debug_request waits on the control thread for the engine
        // (wait_for_engine): it starts at once then.
        while (!p_core->engine_started() && !p_core->stop_requested() && !m_engine_wanted)
        {
            long timeout = !announced ? announce_ms - ms_since(started)
                           : answered ? quiet_after_reply_ms - ms_since(last_answer)
                                      : wait_for_client_ms - ms_since(started);
            zmq::pollitem_t items[3] = {{static_cast<void*>(m_controller), 0, ZMQ_POLLIN, 0}};
            try
            {
                poll_with_shell(items, 1, std::max(timeout, 0L));
                bool arrived = (items[0].revents & ZMQ_POLLIN) || p_shell_channel->has_requests();
                if (!announced && (arrived || ms_since(started) >= announce_ms))
                {
                    p_core->announce_start();
                    announced = true;
                }
                if (!arrived)
                {
                    bool quiet = announced && (answered ? ms_since(last_answer) >= quiet_after_reply_ms
                                                        : ms_since(started) >= wait_for_client_ms);
                    if (quiet)
                    {
                        return;
                    }
                    continue;  // not yet (or the shell channel's wake-up)
                }
                message msg;
                if (receive(m_controller, channel::control, msg))
                {
                    serve_before_engine(std::move(msg));
                }
                msg = message{};
                if (take_shell(msg))
                {
                    serve_before_engine(std::move(msg));
                }
                check_signals();
                answered = true;
                last_answer = clock::now();
            }
            catch (py::error_already_set& e)
            {
                // An interrupt before any code runs has nothing to stop.
                if (!e.matches(PyExc_KeyboardInterrupt))
                {
                    throw;
                }
            }
        }
        if (!announced && !p_core->stop_requested())
        {
            p_core->announce_start();  // the engine was wanted before the first wait ended
        }
    }

    void zmq_transport::serve_before_engine(message msg)
    {
        if (msg.header.is_null())
        {
            return;
        }
        if (!kernel_core::engine_free_reply_type(msg.msg_type()))
        {
            start_engine();
        }
        p_core->handle(std::move(msg));
    }

    void zmq_transport::start_engine()
    {
        p_core->start_engine();
        {
            std::lock_guard<std::mutex> lock(m_engine_mutex);
            m_engine_ready = true;
        }
        m_engine_changed.notify_all();
    }

    void zmq_transport::wait_for_engine()
    {
        std::unique_lock<std::mutex> lock(m_engine_mutex);
        if (!m_engine_ready && !m_engine_wait_over)
        {
            m_engine_wanted = true;
            // Wakes the main thread's wait (serve_until_engine_started).
            char wake = 'e';
            (void)!write(m_signal_pipe[1], &wake, 1);
        }
        m_engine_changed.wait(lock, [this] { return m_engine_ready || m_engine_wait_over; });
    }

    nl::json zmq_transport::request_input(message request)
    {
        p_iopub->release();
        send_frames(m_stdin, m_codec.encode(request));

        // Control stays served while waiting, so an interrupt_request or a
        // shutdown reaches a kernel blocked in input().
        while (true)
        {
            zmq::pollitem_t items[] = {{static_cast<void*>(m_stdin), 0, ZMQ_POLLIN, 0},
                                       {static_cast<void*>(m_controller), 0, ZMQ_POLLIN, 0}};
            poll_items(items, 2, -1);
            if (items[1].revents & ZMQ_POLLIN)
            {
                handle_control();
                check_signals();
                if (p_core->stop_requested())
                {
                    PyErr_SetString(PyExc_EOFError, "the kernel is shutting down");
                    throw py::error_already_set();
                }
            }
            if (items[0].revents & ZMQ_POLLIN)
            {
                message reply;
                if (receive(m_stdin, channel::stdin_channel, reply) && !reply.header.is_null()
                    && reply.msg_type() == "input_reply")
                {
                    return reply.content;
                }
            }
        }
    }
}
