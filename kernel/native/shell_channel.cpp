#include "shell_channel.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <iostream>
#include <stdexcept>

#include <poll.h>
#include <sys/timerfd.h>
#include <unistd.h>

namespace xaccel
{
    namespace
    {
        shell_channel* g_shell_channel = nullptr;

        // Whether this thread holds the socket (a thread that holds it sends
        // at once: it must not try to take it again). As whom: m_holder.
        thread_local bool t_holding = false;

        // Whether the header frame of `wire` mentions a subshell at all: the
        // common request (no subshell) goes to the main thread unparsed.
        bool mentions_subshell(const zmq::multipart_t& wire)
        {
            static constexpr char delimiter[] = "<IDS|MSG>";
            static constexpr char key[] = "\"subshell_id\"";
            for (std::size_t i = 0; i + 2 < wire.size(); ++i)
            {
                const zmq::message_t& frame = wire[i];
                if (frame.size() == sizeof(delimiter) - 1
                    && std::memcmp(frame.data(), delimiter, frame.size()) == 0)
                {
                    const zmq::message_t& header = wire[i + 2];
                    const char* begin = static_cast<const char*>(header.data());
                    const char* end = begin + header.size();
                    return std::search(begin, end, key, key + sizeof(key) - 1) != end;
                }
            }
            return false;
        }
    }

    shell_channel* shell_channel::current() noexcept
    {
        return g_shell_channel;
    }

    shell_channel::shell_channel(wire_codec& codec, iopub_publisher& iopub, subshell_registry& subshells)
        : r_codec(codec)
        , r_iopub(iopub)
        , r_subshells(subshells)
        , m_timer_fd(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC))
    {
        if (m_timer_fd < 0)
        {
            throw std::runtime_error(std::string("cannot create the shell channel's timer: ") + std::strerror(errno));
        }
    }

    shell_channel::~shell_channel()
    {
        stop();
        if (g_shell_channel == this)
        {
            g_shell_channel = nullptr;
        }
        close(m_timer_fd);
    }

    void shell_channel::start(zmq::socket_t& shell, kernel_core& core)
    {
        p_core = &core;
        m_router = std::move(shell);
        g_shell_channel = this;
        m_thread = std::thread([this] { run(); });
    }

    void shell_channel::stop()
    {
        if (!m_thread.joinable())
        {
            return;
        }
        m_stop = true;
        m_wake.notify();
        m_thread.join();
        // Replies queued last leave now (no one else holds the socket).
        if (try_take(holder::sender))
        {
            let_go();
        }
    }

    // ---- holding the socket ------------------------------------------------

    bool shell_channel::try_take(holder who)
    {
        if (!m_router_mutex.try_lock())
        {
            return false;
        }
        // Replies queued while someone else held the socket leave first.
        m_holder = who;
        t_holding = true;
        flush_outgoing();
        return true;
    }

    void shell_channel::let_go()
    {
        // A main thread that waits without the socket (it was held when its
        // wait began) takes it on its next round: wake it.
        const bool wake_main = m_holder.load() != holder::main_thread;
        while (true)
        {
            flush_outgoing();
            m_holder = holder::none;
            t_holding = false;
            m_router_mutex.unlock();
            if (wake_main && m_main_waiting)
            {
                m_main_wake.notify();
            }
            // A reply queued just before the unlock by a thread that could
            // not take the socket: send it, unless someone holds it again
            // (who sends it when they take it or are woken).
            if (!outgoing_waiting())
            {
                return;
            }
            if (!m_router_mutex.try_lock())
            {
                wake_holder();
                return;
            }
            m_holder = holder::sender;
            t_holding = true;
        }
    }

    void shell_channel::flush_outgoing()
    {
        std::deque<wire_frames> outgoing;
        {
            std::lock_guard<std::mutex> lock(m_queues_mutex);
            outgoing.swap(m_outgoing);
        }
        for (wire_frames& frames : outgoing)
        {
            try
            {
                send_frames(m_router, std::move(frames));
            }
            catch (std::exception& e)
            {
                std::cerr << "xaccel: shell channel: cannot send a reply: " << e.what() << std::endl;
            }
        }
    }

    bool shell_channel::outgoing_waiting()
    {
        std::lock_guard<std::mutex> lock(m_queues_mutex);
        return !m_outgoing.empty();
    }

    void shell_channel::wake_holder()
    {
        switch (m_holder.load())
        {
        case holder::main_thread: m_main_wake.notify(); break;
        case holder::standby: m_wake.notify(); break;
        default: break;  // none or a sender: they send what is queued before letting go
        }
    }

    // Everything the socket has now: subshell requests are routed at once,
    // the others queued for the main thread (in arrival order).
    void shell_channel::receive_all()
    {
        while (true)
        {
            zmq::multipart_t wire;
            try
            {
                if (!wire.recv(m_router, ZMQ_DONTWAIT))
                {
                    return;
                }
            }
            catch (zmq::error_t& e)
            {
                if (e.num() != EINTR)
                {
                    std::cerr << "xaccel: shell channel: " << e.what() << std::endl;
                    return;
                }
                continue;
            }
            try
            {
                route(wire);
            }
            catch (std::exception& e)
            {
                std::cerr << "xaccel: shell channel: " << e.what() << std::endl;
            }
        }
    }

    void shell_channel::send(wire_frames frames)
    {
        {
            std::lock_guard<std::mutex> lock(m_queues_mutex);
            m_outgoing.push_back(std::move(frames));
        }
        if (t_holding)
        {
            flush_outgoing();
        }
        else if (try_take(holder::sender))
        {
            let_go();
        }
        else
        {
            wake_holder();
        }
    }

    void shell_channel::send(const message& reply)
    {
        send(r_codec.encode(reply));
    }

    // ---- the main thread ---------------------------------------------------

    shell_channel::main_wait::main_wait(shell_channel& channel)
        : m_channel(channel)
    {
        m_channel.m_main_waiting = true;
        m_channel.arm_takeover(false);
        m_holding = m_channel.try_take(holder::main_thread);
        if (!m_holding)
        {
            // The standby thread (or a sender, for a moment) has it: ask for
            // it back; the standby thread wakes this wait when it lets go.
            m_channel.m_wake.notify();
        }
    }

    shell_channel::main_wait::~main_wait()
    {
        try
        {
            if (m_holding)
            {
                m_channel.receive_all();
                m_channel.let_go();
            }
        }
        catch (std::exception& e)
        {
            std::cerr << "xaccel: shell channel: " << e.what() << std::endl;
        }
        m_channel.m_main_wake.drain();
        m_channel.m_main_waiting = false;
        m_channel.arm_takeover(true);
        // Ended by the takeover timer at the latest (run()).
        m_channel.r_iopub.open_hold();
    }

    bool shell_channel::next_request(zmq::multipart_t& out)
    {
        std::lock_guard<std::mutex> lock(m_queues_mutex);
        if (m_requests.empty())
        {
            return false;
        }
        out = std::move(m_requests.front());
        m_requests.pop_front();
        return true;
    }

    bool shell_channel::has_requests()
    {
        std::lock_guard<std::mutex> lock(m_queues_mutex);
        return !m_requests.empty();
    }

    void shell_channel::collect_now()
    {
        if (try_take(holder::sender))
        {
            receive_all();
            let_go();
        }
    }

    void shell_channel::arm_takeover(bool armed)
    {
        itimerspec spec{};
        if (armed)
        {
            spec.it_value.tv_nsec = std::chrono::nanoseconds(takeover_after).count();
        }
        timerfd_settime(m_timer_fd, 0, &spec, nullptr);
    }

    // ---- the standby thread ------------------------------------------------

    void shell_channel::run()
    {
        while (!m_stop)
        {
            pollfd fds[] = {{m_wake.read_fd(), POLLIN, 0}, {m_timer_fd, POLLIN, 0}};
            if (poll(fds, 2, -1) < 0)
            {
                if (errno == EINTR)
                {
                    continue;
                }
                std::cerr << "xaccel: shell channel: poll failed: " << std::strerror(errno) << std::endl;
                return;
            }
            m_wake.drain();
            bool expired = take_timer_expiry();
            // The main thread has been away from its wait for a while (and
            // is still away): serve the socket until it is back.
            if (expired && !m_stop && !m_main_waiting && try_take(holder::standby))
            {
                serve_while_main_away();
            }
        }
    }

    void shell_channel::serve_while_main_away()
    {
        while (!m_stop && !m_main_waiting)
        {
            // The timer too: the main thread may come back and leave again
            // (arming it) while this thread still serves.
            zmq::pollitem_t items[] = {{static_cast<void*>(m_router), 0, ZMQ_POLLIN, 0},
                                       {nullptr, m_wake.read_fd(), ZMQ_POLLIN, 0},
                                       {nullptr, m_timer_fd, ZMQ_POLLIN, 0}};
            if (zmq_poll(items, 3, -1) < 0 && zmq_errno() != EINTR)
            {
                std::cerr << "xaccel: shell channel: zmq_poll failed: " << zmq_strerror(zmq_errno()) << std::endl;
                break;
            }
            m_wake.drain();
            take_timer_expiry();
            flush_outgoing();
            receive_all();
        }
        let_go();  // wakes the main thread's wait, which takes the socket on its next round
    }

    bool shell_channel::take_timer_expiry()
    {
        std::uint64_t expirations = 0;
        bool expired = read(m_timer_fd, &expirations, sizeof(expirations)) == sizeof(expirations);
        if (expired && !m_main_waiting)
        {
            // A request that takes a while: its busy (held back) goes out now.
            r_iopub.release();
        }
        return expired;
    }

    void shell_channel::queue_for_main(zmq::multipart_t wire)
    {
        {
            std::lock_guard<std::mutex> lock(m_queues_mutex);
            m_requests.push_back(std::move(wire));
        }
        // Called by the holder of the socket: a main thread that holds it
        // finds the request when its wait ends, any other must be woken.
        if (m_holder.load() != holder::main_thread)
        {
            m_main_wake.notify();
        }
    }

    void shell_channel::route(zmq::multipart_t& wire)
    {
        if (!mentions_subshell(wire))
        {
            queue_for_main(std::move(wire));
            return;
        }
        // Parsed to find its subshell; the main thread checks a request it
        // gets as before (incl. replays), so here only a subshell's is.
        zmq::multipart_t copy = wire.clone();
        wire_codec::decoded peek = r_codec.decode(copy, channel::shell, false);
        auto id = peek.problem.empty() ? peek.msg.header.find("subshell_id") : peek.msg.header.end();
        if (!peek.problem.empty() || id == peek.msg.header.end() || !id->is_string())
        {
            queue_for_main(std::move(wire));  // the main shell's (subshell_id null), or rejected there
            return;
        }
        const std::string subshell_id = id->get<std::string>();
        wire_codec::decoded result = r_codec.decode(wire, channel::shell, true);
        if (!result.problem.empty())
        {
            std::cerr << "xaccel: rejected a message for subshell " << subshell_id << ": " << result.problem
                      << std::endl;
            return;
        }
        if (!result.msg.content.is_object())
        {
            std::cerr << "xaccel: ignored a malformed message on shell: content is not a JSON object" << std::endl;
            return;
        }
        message request = std::move(result.msg);
        if (!r_subshells.push(subshell_id, request))
        {
            answer_unknown_subshell(request, subshell_id);
        }
    }

    void shell_channel::answer_unknown_subshell(const message& request, const std::string& subshell_id)
    {
        // As ipykernel 7.4: busy, an error reply, idle (for a comm message
        // without a reply, the idle tells the client the kernel is done).
        std::cerr << "xaccel: " << request.msg_type() << " for an unknown subshell " << subshell_id << std::endl;
        publish_status("busy", request.header);
        const std::string reply_type = reply_type_for(request.msg_type());
        if (!reply_type.empty())
        {
            message reply;
            reply.identities = request.identities;
            reply.header = make_header(reply_type, p_core->session(), p_core->get_transport().username());
            reply.parent_header = request.header;
            reply.metadata = nl::json{{"status", "error"}};
            reply.content = nl::json{{"status", "error"},
                                     {"ename", "UnknownSubshellError"},
                                     {"evalue", "Unknown subshell_id '" + subshell_id + "'"},
                                     {"traceback", nl::json::array()}};
            // The caller holds the socket.
            send_frames(m_router, r_codec.encode(reply));
        }
        publish_status("idle", request.header);
    }

    void shell_channel::publish_status(const char* state, const nl::json& parent)
    {
        message msg;
        msg.header = make_header("status", p_core->session(), p_core->get_transport().username());
        msg.parent_header = parent;
        msg.content = nl::json{{"execution_state", state}};
        r_iopub.publish(std::move(msg));
    }
}
