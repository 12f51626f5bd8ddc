#include "shell_channel.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <stdexcept>

namespace xaccel
{
    namespace
    {
        shell_channel* g_shell_channel = nullptr;

        // Whether the header frame of `wire` mentions a subshell at all: the
        // common request (no subshell) is relayed without being parsed here.
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

    shell_channel::shell_channel(zmq::context_t& context, wire_codec& codec, iopub_publisher& iopub,
                                 subshell_registry& subshells)
        : m_context(context)
        , r_codec(codec)
        , r_iopub(iopub)
        , r_subshells(subshells)
    {
    }

    shell_channel::~shell_channel()
    {
        stop();
        if (g_shell_channel == this)
        {
            g_shell_channel = nullptr;
        }
    }

    void shell_channel::start(zmq::socket_t& shell, kernel_core& core)
    {
        p_core = &core;
        m_router = std::move(shell);
        m_relay = open_relay(m_context, "inproc://xaccel-shell-relay", shell);
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
        send_outgoing();
    }

    void shell_channel::send(message reply)
    {
        {
            std::lock_guard<std::mutex> lock(m_outgoing_mutex);
            m_outgoing.push_back(std::move(reply));
        }
        m_wake.notify();
    }

    void shell_channel::send_outgoing()
    {
        std::deque<message> outgoing;
        {
            std::lock_guard<std::mutex> lock(m_outgoing_mutex);
            outgoing.swap(m_outgoing);
        }
        for (const message& reply : outgoing)
        {
            send_frames(m_router, r_codec.encode(reply));
        }
    }

    void shell_channel::run()
    {
        while (!m_stop)
        {
            zmq::pollitem_t items[] = {{static_cast<void*>(m_router), 0, ZMQ_POLLIN, 0},
                                       {static_cast<void*>(m_relay), 0, ZMQ_POLLIN, 0},
                                       {nullptr, m_wake.read_fd(), ZMQ_POLLIN, 0}};
            if (zmq_poll(items, 3, -1) < 0)
            {
                if (zmq_errno() == EINTR)
                {
                    continue;
                }
                std::cerr << "xaccel: shell channel: zmq_poll failed: " << zmq_strerror(zmq_errno()) << std::endl;
                return;
            }
            try
            {
                if (items[2].revents & ZMQ_POLLIN)
                {
                    m_wake.drain();
                }
                // Replies of the main thread, then of the subshells.
                zmq::multipart_t reply;
                while (reply.recv(m_relay, ZMQ_DONTWAIT))
                {
                    reply.send(m_router);
                }
                send_outgoing();
                if (items[0].revents & ZMQ_POLLIN)
                {
                    zmq::multipart_t wire;
                    while (!m_stop && wire.recv(m_router, ZMQ_DONTWAIT))
                    {
                        route(wire);
                        wire.clear();
                    }
                }
            }
            catch (std::exception& e)
            {
                std::cerr << "xaccel: shell channel: " << e.what() << std::endl;
            }
        }
    }

    void shell_channel::route(zmq::multipart_t& wire)
    {
        if (!mentions_subshell(wire))
        {
            wire.send(m_relay);
            return;
        }
        // Parsed to find its subshell; the main thread checks a request it
        // gets as before (incl. replays), so here only a subshell's is.
        zmq::multipart_t copy = wire.clone();
        wire_codec::decoded peek = r_codec.decode(copy, channel::shell, false);
        auto id = peek.problem.empty() ? peek.msg.header.find("subshell_id") : peek.msg.header.end();
        if (!peek.problem.empty() || id == peek.msg.header.end() || !id->is_string())
        {
            wire.send(m_relay);  // the main shell's (subshell_id null), or rejected there
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
        std::string type = request.msg_type();
        const std::string suffix = "_request";
        if (type.size() > suffix.size() && type.compare(type.size() - suffix.size(), suffix.size(), suffix) == 0)
        {
            message reply;
            reply.identities = request.identities;
            reply.header = make_header(type.substr(0, type.size() - suffix.size()) + "_reply", p_core->session(),
                                       p_core->get_transport().username());
            reply.parent_header = request.header;
            reply.metadata = nl::json{{"status", "error"}};
            reply.content = nl::json{{"status", "error"},
                                     {"ename", "UnknownSubshellError"},
                                     {"evalue", "Unknown subshell_id '" + subshell_id + "'"},
                                     {"traceback", nl::json::array()}};
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
