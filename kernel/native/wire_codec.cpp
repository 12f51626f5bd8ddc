#include "wire_codec.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

namespace xaccel
{
    namespace
    {
        const std::string delimiter = "<IDS|MSG>";

        byte_view view(const zmq::message_t& frame)
        {
            return {static_cast<const char*>(frame.data()), frame.size()};
        }

        byte_view view(const std::string& text)
        {
            return {text.data(), text.size()};
        }

        std::string dump(const nl::json& value)
        {
            // Invalid UTF-8 from user code is replaced, never a throw.
            return value.dump(-1, ' ', false, nl::json::error_handler_t::replace);
        }

        // All the messages of a request (busy, execute_input, outputs, its
        // reply, idle) have its header as their parent: each thread keeps the
        // text of the last parent it wrote instead of dumping it every time.
        const std::string& parent_text(const nl::json& parent)
        {
            struct last_parent
            {
                nl::json value;
                std::string text;
            };
            thread_local last_parent last;  // text empty: nothing written yet
            if (last.text.empty() || last.value != parent)
            {
                last.text = dump(parent);
                last.value = parent;
            }
            return last.text;
        }

        bool is_delimiter(const zmq::message_t& frame)
        {
            return frame.size() == delimiter.size() && std::memcmp(frame.data(), delimiter.data(), delimiter.size()) == 0;
        }

        nl::json parse(const zmq::message_t& frame, const char* what)
        {
            const char* data = static_cast<const char*>(frame.data());
            try
            {
                return nl::json::parse(data, data + frame.size());
            }
            catch (nl::json::exception& e)
            {
                throw std::runtime_error(std::string(what) + " is not valid JSON: " + e.what());
            }
        }
    }

    void send_frames(zmq::socket_t& socket, wire_frames frames)
    {
        for (std::size_t i = 0; i < frames.size(); ++i)
        {
            int flags = i + 1 < frames.size() ? ZMQ_SNDMORE : 0;
            while (zmq_msg_send(frames[i].handle(), socket.handle(), flags) < 0)
            {
                if (zmq_errno() != EINTR)
                {
                    throw zmq::error_t();
                }
            }
        }
    }

    wire_codec::wire_codec(const std::string& scheme, const std::string& key, wire_limits limits)
        : m_signer(scheme, key)
        , m_limits(limits)
    {
    }

    wire_frames wire_codec::encode_parts(wire_frames frames, const message& msg) const
    {
        const std::string header = dump(msg.header);
        const std::string& parent = parent_text(msg.parent_header);
        const std::string metadata = dump(msg.metadata);
        const std::string content = dump(msg.content);
        std::string signature = m_signer.sign(view(header), view(parent), view(metadata), view(content));
        frames.reserve(frames.size() + 6 + msg.buffers.size());
        frames.emplace_back(delimiter.data(), delimiter.size());
        frames.emplace_back(signature.data(), signature.size());
        for (const std::string* part : {&header, &parent, &metadata, &content})
        {
            frames.emplace_back(part->data(), part->size());
        }
        for (const std::string& buffer : msg.buffers)
        {
            frames.emplace_back(buffer.data(), buffer.size());
        }
        return frames;
    }

    wire_frames wire_codec::encode(const message& msg) const
    {
        wire_frames frames;
        for (const std::string& identity : msg.identities)
        {
            frames.emplace_back(identity.data(), identity.size());
        }
        return encode_parts(std::move(frames), msg);
    }

    wire_frames wire_codec::encode_iopub(const std::string& topic, const message& msg) const
    {
        wire_frames frames;
        frames.emplace_back(topic.data(), topic.size());
        return encode_parts(std::move(frames), msg);
    }

    nl::json rejection_content(const std::string& problem)
    {
        return nl::json{{"status", "error"},
                        {"ename", "MessageRejected"},
                        {"evalue", "the kernel rejected this message: " + problem},
                        {"traceback", nl::json::array()}};
    }

    wire_codec::decoded wire_codec::decode(zmq::multipart_t& wire, channel origin, bool check_replay)
    {
        decoded result;
        std::size_t first = wire.size();
        for (std::size_t i = 0; i < wire.size(); ++i)
        {
            if (is_delimiter(wire[i]))
            {
                first = i;
                break;
            }
        }
        if (first == wire.size())
        {
            result.problem = "message has no <IDS|MSG> delimiter";
            return result;
        }
        std::size_t after = wire.size() - first - 1;
        if (after < 5)
        {
            result.problem = "message has " + std::to_string(after) + " frames after the delimiter, expected at least 5";
            return result;
        }
        std::size_t bytes = 0;
        for (std::size_t i = first + 1; i < wire.size(); ++i)
        {
            bytes += wire[i].size();
        }
        if (bytes > m_limits.max_bytes)
        {
            result.problem = "message of " + std::to_string(bytes) + " bytes is larger than "
                             + std::to_string(m_limits.max_bytes) + " (XACCEL_MAX_MESSAGE_BYTES)";
            return result;
        }
        result.msg.origin = origin;
        for (std::size_t i = 0; i < first; ++i)
        {
            result.msg.identities.push_back(wire[i].to_string());
        }
        const zmq::message_t& signature = wire[first + 1];
        const zmq::message_t& header = wire[first + 2];
        const zmq::message_t& parent = wire[first + 3];
        const zmq::message_t& metadata = wire[first + 4];
        const zmq::message_t& content = wire[first + 5];
        if (!m_signer.verify(view(signature), view(header), view(parent), view(metadata), view(content)))
        {
            result.problem = "invalid signature";
            return result;
        }
        if (check_replay && m_signer.enabled() && !m_replays.first_time(signature.to_string()))
        {
            result.problem = "replayed message (its signature was seen before)";
            return result;
        }

        std::string problem = check_json_frame(static_cast<const char*>(header.data()), header.size(), m_limits);
        if (!problem.empty())
        {
            result.problem = "header: " + problem;
            return result;
        }
        try
        {
            result.msg.header = parse(header, "header");
            const std::pair<const zmq::message_t*, const char*> parts[] = {
                {&parent, "parent header"}, {&metadata, "metadata"}, {&content, "content"}};
            for (const auto& [frame, name] : parts)
            {
                problem = check_json_frame(static_cast<const char*>(frame->data()), frame->size(), m_limits);
                if (!problem.empty())
                {
                    result.problem = std::string(name) + ": " + problem;
                    result.trusted_header = std::move(result.msg.header);
                    return result;
                }
            }
            result.msg.parent_header = parse(parent, "parent header");
            result.msg.metadata = parse(metadata, "metadata");
            result.msg.content = parse(content, "content");
        }
        catch (std::exception& e)
        {
            result.problem = e.what();
            return result;
        }
        for (std::size_t i = first + 6; i < wire.size(); ++i)
        {
            result.msg.buffers.push_back(wire[i].to_string());
        }
        return result;
    }
}
