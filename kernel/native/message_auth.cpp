#include "message_auth.hpp"

#include <stdexcept>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

namespace xaccel
{
    namespace
    {
        struct mac_deleter
        {
            void operator()(EVP_MAC* mac) const noexcept { EVP_MAC_free(mac); }
        };
        struct mac_ctx_deleter
        {
            void operator()(EVP_MAC_CTX* ctx) const noexcept { EVP_MAC_CTX_free(ctx); }
        };
        using mac_ptr = std::unique_ptr<EVP_MAC, mac_deleter>;
        using mac_ctx_ptr = std::unique_ptr<EVP_MAC_CTX, mac_ctx_deleter>;

        std::string to_hex(const unsigned char* data, std::size_t size)
        {
            static const char digits[] = "0123456789abcdef";
            std::string out(size * 2, '0');
            for (std::size_t i = 0; i < size; ++i)
            {
                out[2 * i] = digits[data[i] >> 4];
                out[2 * i + 1] = digits[data[i] & 0xf];
            }
            return out;
        }
    }

    // A context keyed once; each signature works on a copy of it.
    struct message_signer::state
    {
        mac_ptr mac;
        mac_ctx_ptr keyed;
    };

    message_signer::message_signer(const std::string& scheme, const std::string& key)
    {
        if (key.empty())
        {
            return;
        }
        const std::string prefix = "hmac-";
        if (scheme.compare(0, prefix.size(), prefix) != 0)
        {
            throw std::runtime_error("unsupported signature scheme '" + scheme + "'");
        }
        std::string digest = scheme.substr(prefix.size());
        auto s = std::make_unique<state>();
        s->mac.reset(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
        if (!s->mac)
        {
            throw std::runtime_error("OpenSSL has no HMAC");
        }
        s->keyed.reset(EVP_MAC_CTX_new(s->mac.get()));
        OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest.data(), 0),
                               OSSL_PARAM_construct_end()};
        if (!s->keyed
            || EVP_MAC_init(s->keyed.get(), reinterpret_cast<const unsigned char*>(key.data()), key.size(), params) != 1)
        {
            throw std::runtime_error("unsupported signature scheme '" + scheme + "'");
        }
        p_state = std::move(s);
        m_enabled = true;
    }

    message_signer::~message_signer() = default;

    std::string message_signer::sign(byte_view header, byte_view parent, byte_view metadata, byte_view content) const
    {
        if (!m_enabled)
        {
            return {};
        }
        mac_ctx_ptr ctx(EVP_MAC_CTX_dup(p_state->keyed.get()));
        if (!ctx)
        {
            throw std::runtime_error("cannot copy the HMAC context");
        }
        for (const byte_view& part : {header, parent, metadata, content})
        {
            EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(part.data), part.size);
        }
        unsigned char digest[EVP_MAX_MD_SIZE];
        std::size_t length = 0;
        if (EVP_MAC_final(ctx.get(), digest, &length, sizeof(digest)) != 1)
        {
            throw std::runtime_error("HMAC failed");
        }
        return to_hex(digest, length);
    }

    bool message_signer::verify(byte_view signature, byte_view header, byte_view parent, byte_view metadata,
                                byte_view content) const
    {
        if (!m_enabled)
        {
            return true;
        }
        std::string expected = sign(header, parent, metadata, content);
        // The length is no secret (it follows from the scheme); the bytes
        // are compared in constant time.
        return signature.size == expected.size()
               && CRYPTO_memcmp(expected.data(), signature.data, expected.size()) == 0;
    }

    bool replay_guard::first_time(const std::string& signature)
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        if (!m_seen.insert(signature).second)
        {
            return false;
        }
        m_order.push_back(signature);
        if (m_order.size() > m_capacity)
        {
            m_seen.erase(m_order.front());
            m_order.pop_front();
        }
        return true;
    }
}
