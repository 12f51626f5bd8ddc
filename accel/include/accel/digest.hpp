// SHA-256 via OpenSSL libcrypto (uses SHA-NI/AVX2 when the CPU has them).
// A single digest is inherently sequential; the win is running it off the
// event loop thread and the GIL.
#pragma once

#include <cstddef>
#include <functional>
#include <string>

namespace accel {

// should_stop is polled between chunks; returns "" if it asked to stop.
std::string sha256_hex(const void* data, std::size_t size,
                       const std::function<bool()>& should_stop = {});

}  // namespace accel
