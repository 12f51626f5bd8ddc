#include "zmq_transport.hpp"

#include "interrupts.hpp"

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <unistd.h>
#include <vector>
#include <iostream>
#include <stdexcept>

#include <pybind11/pybind11.h>
#include <xeus/xkernel.hpp>
#include <xeus/xmessage.hpp>
#include <xeus/xzmq_serializer.hpp>
#include <zmq_addon.hpp>

namespace py = pybind11;

namespace xaccel
{
    namespace
    {
        xeus::buffer_sequence to_xeus_buffers(const buffer_sequence& buffers)
        {
            xeus::buffer_sequence out;
            out.reserve(buffers.size());
            for (const auto& b : buffers)
            {
                out.emplace_back(b.begin(), b.end());
            }
            return out;
        }

        // xeus's deserializer trusts the frame count (a short message aborts
        // inside libzmq), so the layout is checked first: identities, the
        // delimiter, signature, header, parent header, metadata, content.
        void check_frames(const zmq::multipart_t& wire)
        {
            static const std::string delimiter = "<IDS|MSG>";
            for (std::size_t i = 0; i < wire.size(); ++i)
            {
                const zmq::message_t& frame = wire[i];
                if (frame.size() == delimiter.size()
                    && std::equal(delimiter.begin(), delimiter.end(), static_cast<const char*>(frame.data())))
                {
                    if (wire.size() - i - 1 < 5)
                    {
                        throw std::runtime_error("message has " + std::to_string(wire.size() - i - 1)
                                                 + " frames after the delimiter, expected at least 5");
                    }
                    return;
                }
            }
            throw std::runtime_error("message has no <IDS|MSG> delimiter");
        }

        // The protocol says an empty key disables signing; xeus 2.4.1 would
        // still compute an HMAC with the empty key and reject every message.
        class no_authentication final : public xeus::xauthentication
        {
            std::string sign_impl(const xeus::xraw_buffer&, const xeus::xraw_buffer&, const xeus::xraw_buffer&,
                                  const xeus::xraw_buffer&) const override
            {
                return {};
            }

            bool verify_impl(const xeus::xraw_buffer&, const xeus::xraw_buffer&, const xeus::xraw_buffer&,
                             const xeus::xraw_buffer&, const xeus::xraw_buffer&) const override
            {
                return true;
            }
        };

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

    zmq_transport::zmq_transport(zmq::context_t& context, const xeus::xconfiguration& config)
        : xeus::xserver_zmq(context, config, nl::json::error_handler_t::replace)
        , m_username(xeus::get_user_name())
    {
        if (config.m_key.empty())
        {
            p_auth = std::make_unique<no_authentication>();
        }
        // The control thread signs with its own copy (no sharing across threads).
        std::unique_ptr<xeus::xauthentication> control_auth;
        if (config.m_key.empty())
        {
            control_auth = std::make_unique<no_authentication>();
        }
        else
        {
            control_auth = xeus::make_xauthentication(config.m_signature_scheme, config.m_key);
        }
        p_control = std::make_unique<control_thread>(context, std::move(control_auth), m_error_handler);
        if (pipe2(m_signal_pipe, O_NONBLOCK | O_CLOEXEC) != 0)
        {
            throw std::runtime_error("cannot create the signal wake-up pipe");
        }
        py::module_::import("signal").attr("set_wakeup_fd")(m_signal_pipe[1], py::arg("warn_on_full_buffer") = false);
    }

    zmq_transport::~zmq_transport()
    {
        stop();
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
        start_publisher_thread();
        start_heartbeat_thread();
        p_control->start(m_controller, *p_core);
        m_channels_started = true;
    }

    void zmq_transport::stop()
    {
        if (m_channels_started)
        {
            m_channels_started = false;
            p_control->stop();
            stop_channels();
        }
    }

    void zmq_transport::send(channel c, const message& routing, message reply)
    {
        xeus::xmessage msg(routing.identities, std::move(reply.header), std::move(reply.parent_header),
                           std::move(reply.metadata), std::move(reply.content), to_xeus_buffers(reply.buffers));
        zmq::multipart_t wire = xeus::xzmq_serializer::serialize(std::move(msg), *p_auth, m_error_handler);
        wire.send(c == channel::control ? m_controller : m_shell);
    }

    void zmq_transport::publish(message msg)
    {
        std::string topic = "kernel." + msg.header.value("msg_type", std::string());
        xeus::xpub_message pub(topic, std::move(msg.header), std::move(msg.parent_header), std::move(msg.metadata),
                               std::move(msg.content), to_xeus_buffers(msg.buffers));
        zmq::multipart_t wire = xeus::xzmq_serializer::serialize_iopub(std::move(pub), *p_auth, m_error_handler);
        wire.send(m_publisher_pub);
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
        try
        {
            check_frames(wire);
            xeus::xmessage msg = xeus::xzmq_serializer::deserialize(wire, *p_auth);
            out.origin = origin;
            out.identities = msg.identities();
            out.header = msg.header();
            out.parent_header = msg.parent_header();
            out.metadata = msg.metadata();
            out.content = msg.content();
            out.buffers.clear();
            for (const auto& b : msg.buffers())
            {
                out.buffers.emplace_back(b.begin(), b.end());
            }
            return true;
        }
        catch (std::exception& e)
        {
            // A wrong signature or a frame that is not a Jupyter message: the
            // sender gets nothing back, the kernel goes on.
            std::cerr << "xaccel: rejected a message on " << channel_name(origin) << ": " << e.what() << std::endl;
            out.header = nullptr;
            return true;
        }
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
            if (receive(m_shell, channel::shell, msg) && !msg.header.is_null())
            {
                p_core->handle(std::move(msg));
            }
        }
        check_signals();
    }

    std::vector<message> zmq_transport::take_waiting_shell()
    {
        std::vector<message> waiting;
        message msg;
        while (receive(m_shell, channel::shell, msg))
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
        zmq::pollitem_t items[] = {{static_cast<void*>(m_controller), 0, ZMQ_POLLIN, 0},
                                   {nullptr, fd, ZMQ_POLLIN, 0},
                                   {static_cast<void*>(m_shell), 0, ZMQ_POLLIN, 0}};
        int count = accept_shell ? 3 : 2;
        if (fd < 0)
        {
            items[1].fd = -1;
            items[1].events = 0;
        }
        poll_items(items, count, timeout_ms);
        return (items[0].revents & ZMQ_POLLIN) || (accept_shell && (items[2].revents & ZMQ_POLLIN));
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
        bool announced = false;
        bool answered = false;
        long waited_ms = 0;
        while (!p_core->engine_started() && !p_core->stop_requested())
        {
            long timeout = !announced ? announce_ms : (answered ? quiet_after_reply_ms : wait_for_client_ms - waited_ms);
            zmq::pollitem_t items[] = {{static_cast<void*>(m_controller), 0, ZMQ_POLLIN, 0},
                                       {static_cast<void*>(m_shell), 0, ZMQ_POLLIN, 0}};
            try
            {
                int ready = poll_items(items, 2, std::max(timeout, 0L));
                if (!announced)
                {
                    p_core->announce_start();
                    announced = true;
                }
                if (ready == 0)
                {
                    waited_ms += timeout;
                    if (answered || waited_ms >= wait_for_client_ms)
                    {
                        return;
                    }
                    continue;
                }
                serve_one_before_engine(m_controller, channel::control);
                serve_one_before_engine(m_shell, channel::shell);
                check_signals();
                answered = true;
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
    }

    void zmq_transport::serve_one_before_engine(zmq::socket_t& socket, channel origin)
    {
        message msg;
        if (!receive(socket, origin, msg) || msg.header.is_null())
        {
            return;
        }
        if (msg.msg_type() != "kernel_info_request")
        {
            start_engine();
        }
        p_core->handle(std::move(msg));
    }

    void zmq_transport::start_engine()
    {
        p_core->start_engine();
    }

    nl::json zmq_transport::request_input(message request)
    {
        std::vector<std::string> identities = request.identities;
        xeus::xmessage msg(identities, std::move(request.header), std::move(request.parent_header),
                           std::move(request.metadata), std::move(request.content), {});
        zmq::multipart_t wire = xeus::xzmq_serializer::serialize(std::move(msg), *p_auth, m_error_handler);
        wire.send(m_stdin);

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
