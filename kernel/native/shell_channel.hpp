// The shell channel's own thread (native build), for kernel subshells.
//
// It owns the shell ROUTER socket. A request whose header names a subshell
// (`subshell_id`) goes to that subshell's queue (subshell_registry.hpp),
// checked and parsed here; one for an unknown subshell is answered here with
// an UnknownSubshellError. Every other request goes unchanged over an inproc
// PAIR to the main thread, which sees the relay as its shell socket and
// answers through it, as the control relay does (control_thread.hpp). So the
// main thread needs no change, and a subshell is served while the main
// thread is busy, even in a blocking call. Replies of subshell threads are
// sent from here (ZeroMQ sockets are used by one thread only).
//
// This thread never runs Python.
#ifndef XACCEL_NATIVE_SHELL_CHANNEL_HPP
#define XACCEL_NATIVE_SHELL_CHANNEL_HPP

#include <atomic>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "../core/kernel_core.hpp"
#include "iopub_publisher.hpp"
#include "relay.hpp"
#include "subshell_registry.hpp"
#include "wire_codec.hpp"

namespace xaccel
{
    class shell_channel
    {
    public:
        shell_channel(zmq::context_t& context, wire_codec& codec, iopub_publisher& iopub,
                      subshell_registry& subshells);
        ~shell_channel();

        shell_channel(const shell_channel&) = delete;
        shell_channel& operator=(const shell_channel&) = delete;

        // Takes over `shell` (the bound shell ROUTER socket) and leaves in
        // its place the main thread's end of the relay.
        void start(zmq::socket_t& shell, kernel_core& core);
        void stop();

        // Sends `reply` (identities set) on the shell socket. Thread-safe.
        void send(message reply);

        // The shell channel of this process (native build), or null.
        static shell_channel* current() noexcept;

    private:
        void run();
        void route(zmq::multipart_t& wire);
        void answer_unknown_subshell(const message& request, const std::string& subshell_id);
        void publish_status(const char* state, const nl::json& parent);
        void send_outgoing();

        zmq::context_t& m_context;
        wire_codec& r_codec;
        iopub_publisher& r_iopub;
        subshell_registry& r_subshells;
        kernel_core* p_core = nullptr;

        zmq::socket_t m_router;
        zmq::socket_t m_relay;  // this thread's end of the relay to the main thread
        wake_pipe m_wake{"shell channel"};
        std::thread m_thread;
        std::atomic<bool> m_stop{false};

        std::mutex m_outgoing_mutex;
        std::deque<message> m_outgoing;
    };
}

#endif
