#include "iopub_publisher.hpp"

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <iostream>

namespace xaccel
{
    namespace
    {
        constexpr std::size_t default_backlog_bytes = std::size_t(512) << 20;
        // Messages a subscriber's ZeroMQ queue holds before sends to it wait
        // in the backlog; beyond that, waiting output stays mergeable.
        constexpr int queue_messages = 10000;
        // A reader that takes nothing for this long no longer holds the
        // others back: the waiting messages go out, dropped for it alone.
        constexpr auto stall_limit = std::chrono::seconds(10);
        // ... and ZeroMQ drops for full readers for this long afterwards, so
        // a reader stalled for good delays the others once, not every time.
        constexpr auto lossy_period = std::chrono::seconds(60);
        // Merging stops once a waiting stream message holds this much text.
        constexpr std::size_t max_merged_text = std::size_t(1) << 20;

        std::size_t backlog_bound()
        {
            const char* text = std::getenv("XACCEL_IOPUB_BACKLOG_BYTES");
            if (text != nullptr && *text != '\0')
            {
                char* end = nullptr;
                unsigned long long value = std::strtoull(text, &end, 10);
                if (*end == '\0' && value > 0)
                {
                    return static_cast<std::size_t>(value);
                }
                std::cerr << "xaccel: ignored XACCEL_IOPUB_BACKLOG_BYTES='" << text << "' (not a positive integer)"
                          << std::endl;
            }
            return default_backlog_bytes;
        }

        std::string topic_of(const message& msg)
        {
            return "kernel." + msg.msg_type();
        }

        std::string parent_id(const message& msg)
        {
            if (msg.parent_header.is_object())
            {
                auto it = msg.parent_header.find("msg_id");
                if (it != msg.parent_header.end() && it->is_string())
                {
                    return it->get<std::string>();
                }
            }
            return {};
        }

        std::size_t size_of(const wire_frames& frames)
        {
            std::size_t bytes = 0;
            for (const auto& frame : frames)
            {
                bytes += frame.size();
            }
            return bytes;
        }
    }

    iopub_publisher::iopub_publisher(zmq::context_t& context, const std::string& endpoint, const wire_codec& codec,
                                     int listen_fd)
        : m_socket(context, zmq::socket_type::xpub)
        , r_codec(codec)
        , m_max_backlog_bytes(backlog_bound())
    {
        m_socket.set(zmq::sockopt::linger, 1000);
        m_socket.set(zmq::sockopt::sndhwm, queue_messages);
        m_socket.set(zmq::sockopt::xpub_nodrop, true);
        m_socket.set(zmq::sockopt::use_fd, listen_fd);
        m_socket.bind(endpoint);
        m_socket.set(zmq::sockopt::use_fd, -1);
        m_thread = std::thread(&iopub_publisher::run, this);
    }

    iopub_publisher::~iopub_publisher()
    {
        stop(1000);
    }

    iopub_publisher::entry iopub_publisher::make_entry(message msg) const
    {
        entry e;
        e.frames = r_codec.encode_iopub(topic_of(msg), msg);
        e.bytes = size_of(e.frames);
        std::string type = msg.msg_type();
        e.is_status = type == "status";
        if (type == "stream")
        {
            e.stream = std::make_unique<message>(std::move(msg));
        }
        return e;
    }

    bool iopub_publisher::try_send(wire_frames& frames)
    {
        for (std::size_t i = 0; i < frames.size(); ++i)
        {
            int flags = (i + 1 < frames.size() ? ZMQ_SNDMORE : 0) | (i == 0 ? ZMQ_DONTWAIT : 0);
            while (zmq_msg_send(frames[i].handle(), m_socket.handle(), flags) < 0)
            {
                int error = zmq_errno();
                if (error == EAGAIN && i == 0)
                {
                    // A subscriber's queue is full; nothing was sent.
                    return false;
                }
                if (error != EINTR)
                {
                    throw zmq::error_t();
                }
            }
        }
        if (++m_sends_since_drain >= 64)
        {
            drain_subscriptions();
        }
        return true;
    }

    bool iopub_publisher::merge_into_last(message& msg)
    {
        if (m_backlog.empty() || !m_backlog.back().stream || msg.msg_type() != "stream")
        {
            return false;
        }
        entry& last = m_backlog.back();
        nl::json& text = last.stream->content["text"];
        const nl::json& name = msg.content.value("name", nl::json());
        const nl::json& more = msg.content.value("text", nl::json());
        if (!text.is_string() || !more.is_string() || last.stream->content.value("name", nl::json()) != name
            || parent_id(*last.stream) != parent_id(msg) || text.get_ref<std::string&>().size() > max_merged_text)
        {
            return false;
        }
        text.get_ref<std::string&>() += more.get_ref<const std::string&>();
        m_backlog_bytes -= last.bytes;
        last.frames = r_codec.encode_iopub(topic_of(*last.stream), *last.stream);
        last.bytes = size_of(last.frames);
        m_backlog_bytes += last.bytes;
        return true;
    }

    void iopub_publisher::enqueue(entry e)
    {
        if (!e.is_status && m_backlog_bytes + e.bytes > m_max_backlog_bytes)
        {
            // A reader stalled for good: output is dropped, loudly; the
            // status messages (a client's idle) still go out.
            if (m_dropped++ % 1000 == 0)
            {
                std::cerr << "xaccel: iopub readers are " << m_backlog_bytes
                          << " bytes behind (XACCEL_IOPUB_BACKLOG_BYTES): dropped " << m_dropped
                          << " output message(s) so far" << std::endl;
            }
            return;
        }
        m_backlog_bytes += e.bytes;
        m_backlog.push_back(std::move(e));
        m_wake.notify_one();
    }

    void iopub_publisher::publish(message msg)
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        end_lossy_period();
        release_held();
        if (!m_backlog.empty())
        {
            if (!merge_into_last(msg))
            {
                enqueue(make_entry(std::move(msg)));
            }
            return;
        }
        send_or_enqueue(make_entry(std::move(msg)));
    }

    void iopub_publisher::send_or_enqueue(entry e)
    {
        if (!m_backlog.empty())
        {
            enqueue(std::move(e));
        }
        else if (!try_send(e.frames))
        {
            m_last_progress = std::chrono::steady_clock::now();
            enqueue(std::move(e));
        }
    }

    void iopub_publisher::open_hold()
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        if (!m_stopping)
        {
            m_hold_open = true;
        }
    }

    void iopub_publisher::hold(message msg)
    {
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            if (m_hold_open)
            {
                m_held.push_back(make_entry(std::move(msg)));
                return;
            }
        }
        publish(std::move(msg));
    }

    void iopub_publisher::release()
    {
        if (!m_hold_open.load())
        {
            return;
        }
        std::lock_guard<std::mutex> lock(m_mutex);
        end_lossy_period();
        release_held();
    }

    void iopub_publisher::release_held()
    {
        m_hold_open = false;
        while (!m_held.empty())
        {
            entry e = std::move(m_held.front());
            m_held.pop_front();
            send_or_enqueue(std::move(e));
        }
    }

    void iopub_publisher::send_backlog()
    {
        while (!m_backlog.empty())
        {
            entry& first = m_backlog.front();
            if (!try_send(first.frames))
            {
                return;
            }
            m_backlog_bytes -= first.bytes;
            m_backlog.pop_front();
        }
        m_drained.notify_all();
    }

    void iopub_publisher::drain_subscriptions()
    {
        // XPUB hands subscriptions up like messages; nothing here needs them.
        m_sends_since_drain = 0;
        zmq::message_t ignored;
        while (zmq_msg_recv(ignored.handle(), m_socket.handle(), ZMQ_DONTWAIT) >= 0)
        {
        }
    }

    void iopub_publisher::send_past_stalled_reader()
    {
        std::cerr << "xaccel: an iopub reader took nothing for " << stall_limit.count()
                  << " s: for the next " << lossy_period.count()
                  << " s the other readers get every message and a reader that is full misses some" << std::endl;
        m_socket.set(zmq::sockopt::xpub_nodrop, false);
        m_lossy_until = std::chrono::steady_clock::now() + lossy_period;
        m_lossy = true;
        send_backlog();
    }

    void iopub_publisher::end_lossy_period()
    {
        if (m_lossy && std::chrono::steady_clock::now() >= m_lossy_until)
        {
            m_socket.set(zmq::sockopt::xpub_nodrop, true);
            m_lossy = false;
        }
    }

    void iopub_publisher::run()
    {
        try
        {
            run_loop();
        }
        catch (std::exception& e)
        {
            // No exception may leave a thread; what waits is lost, loudly.
            std::lock_guard<std::mutex> lock(m_mutex);
            std::cerr << "xaccel: the iopub thread stopped: " << e.what() << "; " << m_backlog.size()
                      << " message(s) not sent" << std::endl;
            m_backlog.clear();
            m_backlog_bytes = 0;
            m_drained.notify_all();
        }
    }

    void iopub_publisher::run_loop()
    {
        std::unique_lock<std::mutex> lock(m_mutex);
        while (true)
        {
            m_wake.wait(lock, [this] { return m_stopping || !m_backlog.empty(); });
            if (m_backlog.empty())
            {
                break;  // stopping, nothing left
            }
            auto progress = std::chrono::steady_clock::now();
            std::size_t before = m_backlog.size();
            send_backlog();
            if (m_backlog.size() < before)
            {
                m_last_progress = progress;
            }
            else if (progress - m_last_progress > stall_limit)
            {
                send_past_stalled_reader();
                m_last_progress = progress;
            }
            if (!m_backlog.empty())
            {
                if (m_stopping && m_abandon)
                {
                    break;
                }
                // A reader is behind: try again shortly.
                lock.unlock();
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
                lock.lock();
            }
        }
    }

    void iopub_publisher::stop(int timeout_ms)
    {
        {
            std::unique_lock<std::mutex> lock(m_mutex);
            if (!m_thread.joinable())
            {
                return;
            }
            m_stopping = true;
            release_held();
            m_wake.notify_one();
            bool sent = m_drained.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                                           [this] { return m_backlog.empty(); });
            if (!sent)
            {
                std::cerr << "xaccel: " << m_backlog.size()
                          << " iopub message(s) not sent at exit: a reader stopped reading" << std::endl;
                m_abandon = true;
            }
        }
        m_thread.join();
    }
}
