// A Jupyter message as the kernel logic sees it: parsed parts, no wire format.
#ifndef XACCEL_CORE_MESSAGE_HPP
#define XACCEL_CORE_MESSAGE_HPP

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace xaccel
{
    namespace nl = nlohmann;

    enum class channel
    {
        shell,
        control,
        stdin_channel,
        iopub
    };

    const char* channel_name(channel c) noexcept;

    using buffer_sequence = std::vector<std::string>;

    struct message
    {
        channel origin = channel::shell;
        // Routing identities of the sender (ZeroMQ); empty for other transports.
        std::vector<std::string> identities;
        nl::json header = nl::json::object();
        nl::json parent_header = nl::json::object();
        nl::json metadata = nl::json::object();
        nl::json content = nl::json::object();
        buffer_sequence buffers;

        std::string msg_type() const;
    };

    // "complete_reply" for "complete_request"; empty for a type that is not
    // a request (comm messages, replies, ...).
    std::string reply_type_for(const std::string& request_type);

    // Builds a protocol 5.3 header for a message the kernel sends.
    nl::json make_header(const std::string& msg_type, const std::string& session, const std::string& username);

    // A random UUID4 as a lowercase hex string with dashes.
    std::string new_uuid();
    // Seeds this thread's UUID generator again: a kernel restored from a memory
    // snapshot would otherwise repeat the identifiers of the start it was taken from.
    void reseed_new_uuid();

    // Current UTC time in ISO 8601 with microseconds, as Jupyter dates are.
    std::string iso8601_now();
}

#endif
