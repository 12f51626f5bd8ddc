// The native transport: the shell, control and stdin sockets and the
// heartbeat thread of xeus 2.4.1's ZeroMQ server, driven by the kernel's own
// single wait instead of xeus's blocking loop, so the asyncio loop and the
// sockets share one poll. The wire format (wire_codec) and iopub
// (iopub_publisher) are the project's own; see README.md.
#ifndef XACCEL_NATIVE_ZMQ_TRANSPORT_HPP
#define XACCEL_NATIVE_ZMQ_TRANSPORT_HPP

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <xeus/xkernel_configuration.hpp>
#include <xeus/xserver_zmq.hpp>

#include "../core/kernel_core.hpp"
#include "../core/transport.hpp"
#include "control_thread.hpp"
#include "inherited_listeners.hpp"
#include "iopub_publisher.hpp"
#include "reserved_port.hpp"
#include "shell_channel.hpp"
#include "subshell_registry.hpp"
#include "wire_codec.hpp"

namespace xaccel
{
    namespace detail
    {
        // Held before xeus's server is built (a base constructed first): the
        // ports xeus binds that are not the kernel's (reserved_port.hpp), for
        // its unused iopub publisher and for each channel whose listener was
        // inherited (that socket adopts it once xeus has bound the spare).
        struct xeus_spare_ports
        {
            xeus_spare_ports(const xeus::xconfiguration& config, const inherited_listeners& listeners);
            // The connection as xeus is to bind it.
            xeus::xconfiguration for_xeus(xeus::xconfiguration config) const;
            void release() noexcept;

            std::map<std::string, std::unique_ptr<reserved_port>> m_spares;  // by channel
        };
    }

    class zmq_transport final : private detail::xeus_spare_ports, public xeus::xserver_zmq, public transport
    {
    public:
        zmq_transport(zmq::context_t& context, const xeus::xconfiguration& config, inherited_listeners& listeners);
        ~zmq_transport() override;

        void attach(kernel_core& core) noexcept { p_core = &core; }

        // Starts the iopub, heartbeat and control threads (control_thread.hpp:
        // from then on m_controller is the main thread's end of its relay).
        void start_channels();
        // Stops them after iopub has sent what was queued.
        void stop();

        void send(channel c, const message& routing, message reply) override;
        void publish(message msg) override;
        nl::json request_input(message request) override;
        bool wait(int fd, int timeout_ms, bool accept_shell) override;
        void dispatch(bool accept_shell) override;
        std::vector<message> take_waiting_shell() override;

        // Serves requests until one starts the engine, or the client has
        // been quiet for a moment; kernel_info needs no engine.
        void serve_until_engine_started();

        // Starts the engine (an interrupt meanwhile is remembered, not raised:
        // see xaccel_kernel/interrupts.py).
        void start_engine();
        // For another thread, without the GIL: asks the main thread to start
        // the engine now and returns once it has (or the kernel stops).
        void wait_for_engine();
        std::string username() const override { return m_username; }
        nl::json connection_ports() const override { return m_ports; }

    private:
        std::mutex m_engine_mutex;
        std::condition_variable m_engine_changed;
        bool m_engine_ready = false;       // guarded by m_engine_mutex
        bool m_engine_wait_over = false;   // the kernel stops: waiters return
        std::atomic<bool> m_engine_wanted{false};

        // Receives one message from `socket` without blocking; false if none.
        bool receive(zmq::socket_t& socket, channel origin, message& out);
        // The next shell request for the main thread; false if none waits.
        bool take_shell(message& out);
        // Checks and parses `wire`; a rejected message is logged (and answered
        // when its header can be trusted) and `out` gets a null header.
        bool decode(zmq::multipart_t& wire, channel origin, message& out);
        // poll_items() over the first `count` of `items` and the shell socket
        // (shell_channel::main_wait); `items` has room for two more.
        void poll_with_shell(zmq::pollitem_t* items, int count, long timeout_ms);
        void handle_control();
        void serve_before_engine(message msg);
        void answer_rejected(const message& request, const std::string& problem);

        int poll_items(zmq::pollitem_t* items, int count, long timeout_ms);

        // Whether `msg` opens a request of the main thread's: its busy status
        // or the echo of its code, which an open hold keeps (iopub_publisher.hpp).
        bool opens_request(const message& msg) const;

        kernel_core* p_core = nullptr;
        const std::thread::id m_main_thread = std::this_thread::get_id();
        wire_codec m_codec;
        std::unique_ptr<iopub_publisher> p_iopub;
        // Read end / write end; Python's signal handler writes to the latter.
        int m_signal_pipe[2] = {-1, -1};
        std::string m_username;
        nl::json m_ports;  // for connect_reply
        bool m_channels_started = false;
        std::unique_ptr<control_thread> p_control;
        // The shell socket, shared with a standby thread that serves kernel
        // subshells while the main thread is busy (shell_channel.hpp).
        subshell_registry m_subshells;
        std::unique_ptr<shell_channel> p_shell_channel;
    };
}

#endif
