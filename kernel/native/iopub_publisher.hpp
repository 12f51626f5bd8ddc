// The iopub channel: an XPUB socket that never drops a message silently.
//
// A plain PUB socket (xeus 2.4.1's, behind a thread hop with two high-water
// marks of 1000) drops messages once a subscriber falls 1000 behind. Here the
// socket is told not to drop (ZMQ_XPUB_NODROP): a send that would overflow a
// subscriber's queue fails instead, and the message waits in a backlog that a
// helper thread sends as readers catch up. While messages wait, stream
// messages of the same stream and request are merged. The backlog is bounded
// (XACCEL_IOPUB_BACKLOG_BYTES); past the bound, output is dropped with a
// logged count, status messages never. XPUB cannot send to one subscriber
// alone, so the slowest reader paces all; one that takes nothing for 10 s
// stops holding the others back (logged): for the next 60 s ZeroMQ drops
// for readers that are full, as a plain PUB socket would.
//
// Publishing happens on the kernel's main thread; the fast path (nothing
// waiting) sends directly, with no thread hop.
//
// A hold keeps a request's opening messages (its busy status, the echo of
// its code) from going out at once, so that a request that ends quickly does
// not pay for waking ZeroMQ's I/O thread before its work (which then runs
// beside it, on a 2-core machine often on the same core). hold() keeps a
// message while a hold is open; everything published later goes out after
// what is kept, and release() sends it. zmq_transport.cpp says when a hold
// opens and ends (a few milliseconds at most).
#ifndef XACCEL_NATIVE_IOPUB_PUBLISHER_HPP
#define XACCEL_NATIVE_IOPUB_PUBLISHER_HPP

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include <zmq.hpp>

#include "wire_codec.hpp"

namespace xaccel
{
    class iopub_publisher
    {
    public:
        // With `listen_fd` (an inherited listener, inherited_listeners.hpp) the
        // socket adopts it instead of binding `endpoint` anew.
        iopub_publisher(zmq::context_t& context, const std::string& endpoint, const wire_codec& codec,
                        int listen_fd = -1);
        ~iopub_publisher();

        iopub_publisher(const iopub_publisher&) = delete;
        iopub_publisher& operator=(const iopub_publisher&) = delete;

        void publish(message msg);

        // Opens a hold (see above): hold() keeps messages until release().
        void open_hold();
        // Keeps `msg` while a hold is open; publishes it otherwise.
        void hold(message msg);
        // Sends what is kept and ends the hold. Cheap when nothing is kept.
        void release();

        // Sends what waits, for at most `timeout_ms`, then stops the helper
        // thread. Idempotent.
        void stop(int timeout_ms);

    private:
        struct entry
        {
            wire_frames frames;
            std::size_t bytes = 0;
            bool is_status = false;
            // Kept for stream messages only, to merge later ones into them.
            std::unique_ptr<message> stream;
        };

        entry make_entry(message msg) const;
        // Sends the whole message or nothing; false if a reader is full.
        bool try_send(wire_frames& frames);
        bool merge_into_last(message& msg);
        void enqueue(entry e);
        // Sends what a hold kept, ahead of anything later. Lock held.
        void release_held();
        // Sends `e` now, or queues it behind what waits. Lock held.
        void send_or_enqueue(entry e);
        // Sends queued messages until one does not fit. Lock held.
        void send_backlog();
        void drain_subscriptions();
        void send_past_stalled_reader();
        void end_lossy_period();
        void run();
        void run_loop();

        zmq::socket_t m_socket;
        const wire_codec& r_codec;
        std::size_t m_max_backlog_bytes;

        std::mutex m_mutex;
        std::condition_variable m_wake;
        std::condition_variable m_drained;
        std::deque<entry> m_backlog;
        std::size_t m_backlog_bytes = 0;
        std::deque<entry> m_held;  // kept by an open hold (only while it is open)
        std::atomic<bool> m_hold_open{false};  // written under m_mutex; read without by release()
        std::size_t m_dropped = 0;
        unsigned m_sends_since_drain = 0;
        bool m_stopping = false;
        bool m_abandon = false;
        std::chrono::steady_clock::time_point m_last_progress;
        std::chrono::steady_clock::time_point m_lossy_until;
        bool m_lossy = false;
        std::thread m_thread;
    };
}

#endif
