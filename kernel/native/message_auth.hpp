// Message signing and verification (HMAC over header, parent header,
// metadata and content, hex encoded) and the replay guard.
//
// xeus 2.4.1's verifier compares only as many bytes as its own signature has,
// so a valid signature with bytes appended passed; this one compares the whole
// signature in constant time. The key is set up once, not per message.
#ifndef XACCEL_NATIVE_MESSAGE_AUTH_HPP
#define XACCEL_NATIVE_MESSAGE_AUTH_HPP

#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>

namespace xaccel
{
    struct byte_view
    {
        const char* data;
        std::size_t size;
    };

    class message_signer
    {
    public:
        // `scheme` as in the connection file ("hmac-sha256"). An empty key
        // disables signing, as the protocol says.
        message_signer(const std::string& scheme, const std::string& key);
        ~message_signer();

        message_signer(const message_signer&) = delete;
        message_signer& operator=(const message_signer&) = delete;

        bool enabled() const noexcept { return m_enabled; }

        // Hex digest of the four parts; empty when signing is disabled.
        // Safe to call from several threads.
        std::string sign(byte_view header, byte_view parent, byte_view metadata, byte_view content) const;

        // True if `signature` is exactly the digest (always true when disabled).
        bool verify(byte_view signature, byte_view header, byte_view parent, byte_view metadata,
                    byte_view content) const;

    private:
        struct state;
        std::unique_ptr<state> p_state;
        bool m_enabled = false;
    };

    // Remembers the signatures of recent accepted messages, so that a
    // captured message sent again is not handled twice.
    class replay_guard
    {
    public:
        explicit replay_guard(std::size_t capacity = 1 << 16) : m_capacity(capacity) {}

        // False if `signature` was seen already; otherwise records it.
        // Thread-safe (the main and the control thread both decode).
        bool first_time(const std::string& signature);

    private:
        std::mutex m_mutex;
        std::size_t m_capacity;
        std::unordered_set<std::string> m_seen;
        std::deque<std::string> m_order;
    };
}

#endif
