// The Jupyter wire format on ZeroMQ: identities, "<IDS|MSG>", signature,
// header, parent header, metadata, content, buffers.
//
// Decoding checks everything that can be checked on raw bytes before a JSON
// parser runs: the frame layout, the size, the whole signature (constant
// time), replays of an accepted signature, and the nesting depth.
#ifndef XACCEL_NATIVE_WIRE_CODEC_HPP
#define XACCEL_NATIVE_WIRE_CODEC_HPP

#include <string>
#include <vector>

#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "../core/message.hpp"
#include "message_auth.hpp"
#include "wire_limits.hpp"

namespace xaccel
{
    using wire_frames = std::vector<zmq::message_t>;

    // Sends a whole message on a socket that does not block (ROUTER).
    void send_frames(zmq::socket_t& socket, wire_frames frames);

    // The content of the error reply to a signed request that was rejected.
    nl::json rejection_content(const std::string& problem);

    class wire_codec
    {
    public:
        wire_codec(const std::string& scheme, const std::string& key, wire_limits limits);

        // Frames of `msg` for a ROUTER socket (its identities first).
        // Thread-safe: it only signs.
        wire_frames encode(const message& msg) const;
        // Frames of `msg` for iopub, `topic` first.
        wire_frames encode_iopub(const std::string& topic, const message& msg) const;

        struct decoded
        {
            // Empty if `msg` holds the message; else why it was rejected.
            std::string problem;
            message msg;
            // When only the parts after the header were rejected, the signed
            // header, to answer the request with an error.
            nl::json trusted_header;
        };

        // Thread-safe. `check_replay` is false only for messages that the
        // control thread checked already and relays to the main thread.
        decoded decode(zmq::multipart_t& wire, channel origin, bool check_replay = true);

        const wire_limits& limits() const noexcept { return m_limits; }

    private:
        wire_frames encode_parts(wire_frames frames, const message& msg) const;

        message_signer m_signer;
        replay_guard m_replays;
        wire_limits m_limits;
    };
}

#endif
