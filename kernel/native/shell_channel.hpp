// The shell ROUTER socket (native build), shared by the main thread and a
// standby thread so that kernel subshells are served while the main thread
// is busy, without a thread hop on the main shell's requests.
//
// The socket has one holder at a time (a mutex; taking it is also the full
// memory barrier ZeroMQ asks for when a socket moves between threads):
//
// - The main thread holds it while it waits for messages, the usual state
//   of a kernel between requests: it receives its requests and sends its
//   replies itself.
// - When the main thread has been away from its wait for `takeover_after`
//   (a cell, or a long handler), the standby thread takes the socket: it
//   routes requests that name a subshell (`subshell_id`) to that subshell's
//   queue (subshell_registry.hpp), answers those for an unknown subshell
//   with an UnknownSubshellError, and queues the others for the main thread.
//   It lets go as soon as the main thread waits again.
//
// Replies from any thread (the main thread's, subshells') go through send():
// sent at once when no one holds the socket, otherwise queued for the holder,
// who sends what is queued when it takes the socket and before it lets go.
//
// None of this runs Python.
#ifndef XACCEL_NATIVE_SHELL_CHANNEL_HPP
#define XACCEL_NATIVE_SHELL_CHANNEL_HPP

#include <algorithm>
#include <atomic>
#include <chrono>
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
        // How long the main thread may be away from its wait before the
        // standby thread serves the socket (subshell requests wait this long
        // at most when they arrive as the main thread gets busy).
        static constexpr std::chrono::milliseconds takeover_after{10};

        shell_channel(wire_codec& codec, iopub_publisher& iopub, subshell_registry& subshells);
        ~shell_channel();

        shell_channel(const shell_channel&) = delete;
        shell_channel& operator=(const shell_channel&) = delete;

        // Takes over `shell` (the bound shell ROUTER socket) and starts the
        // standby thread.
        void start(zmq::socket_t& shell, kernel_core& core);
        void stop();

        // One wait of the main thread, as a scope: the socket is taken for
        // the wait if possible (router() is then the socket to poll), and on
        // leaving the scope what arrived is received and the socket let go.
        class main_wait
        {
        public:
            explicit main_wait(shell_channel& channel);
            ~main_wait();
            main_wait(const main_wait&) = delete;
            main_wait& operator=(const main_wait&) = delete;

            // The socket to poll, or null while the standby thread has it
            // (its requests then come through wake_fd()).
            void* router() const noexcept { return m_holding ? m_channel.m_router.handle() : nullptr; }
            // Readable when the main thread has something to do: a request
            // queued for it, replies to send, the socket given back.
            int wake_fd() const noexcept { return m_channel.m_main_wake.read_fd(); }
            // The poll timeout to use for `requested_ms` (-1: none): without the
            // socket, the wait is short, so that a hand-back whose wake-up was
            // missed costs a round, never a hang.
            long timeout_ms(long requested_ms) const noexcept
            {
                constexpr long without_socket_ms = 5;
                if (m_holding)
                {
                    return requested_ms;
                }
                return requested_ms < 0 ? without_socket_ms : std::min(requested_ms, without_socket_ms);
            }

        private:
            shell_channel& m_channel;
            bool m_holding = false;
        };

        // Main thread: the oldest request waiting for it (raw frames).
        bool next_request(zmq::multipart_t& out);
        bool has_requests();
        // Main thread: receives what has arrived, if the socket is free.
        void collect_now();

        // Sends a message (identities first) on the shell socket. Thread-safe.
        void send(wire_frames frames);
        void send(const message& reply);

        // The shell channel of this process (native build), or null.
        static shell_channel* current() noexcept;

    private:
        enum class holder
        {
            none,
            main_thread,  // in its wait
            standby,      // while the main thread is away
            sender        // briefly, to send
        };

        void run();
        void serve_while_main_away();
        // Reads the takeover timer; when it expired with the main thread
        // still away, sends the iopub messages its request held back.
        bool take_timer_expiry();
        // Takes the socket if no one holds it (and sends what is queued).
        bool try_take(holder who);
        // For the holder of the socket.
        void let_go();
        void receive_all();
        void flush_outgoing();
        void route(zmq::multipart_t& wire);
        void queue_for_main(zmq::multipart_t wire);
        void answer_unknown_subshell(const message& request, const std::string& subshell_id);
        void publish_status(const char* state, const nl::json& parent);

        void arm_takeover(bool armed);
        bool outgoing_waiting();
        void wake_holder();

        wire_codec& r_codec;
        iopub_publisher& r_iopub;
        subshell_registry& r_subshells;
        kernel_core* p_core = nullptr;

        zmq::socket_t m_router;
        std::mutex m_router_mutex;  // held by whoever uses m_router
        std::atomic<holder> m_holder{holder::none};
        std::atomic<bool> m_main_waiting{false};

        wake_pipe m_wake{"shell channel"};  // the standby thread's
        wake_pipe m_main_wake{"main thread's shell"};
        int m_timer_fd = -1;  // the takeover timer, read by the standby thread
        std::thread m_thread;
        std::atomic<bool> m_stop{false};

        std::mutex m_queues_mutex;
        std::deque<zmq::multipart_t> m_requests;  // for the main thread
        std::deque<wire_frames> m_outgoing;
    };
}

#endif
