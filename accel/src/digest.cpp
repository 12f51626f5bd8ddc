#include "accel/digest.hpp"

#include <memory>

#include <openssl/evp.h>

namespace accel {

std::string sha256_hex(const void* data, std::size_t size, const std::function<bool()>& should_stop) {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
    const auto* p = static_cast<const unsigned char*>(data);
    constexpr std::size_t kChunk = 4 << 20;  // cancellation granularity
    while (size > 0) {
        if (should_stop && should_stop()) return {};
        std::size_t n = size < kChunk ? size : kChunk;
        EVP_DigestUpdate(ctx.get(), p, n);
        p += n;
        size -= n;
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx.get(), md, &len);
    static const char* hex = "0123456789abcdef";
    std::string out(len * 2, '0');
    for (unsigned i = 0; i < len; ++i) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    return out;
}

}  // namespace accel
