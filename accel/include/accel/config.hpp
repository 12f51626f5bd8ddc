// Build-time selection between the threaded runtime and the single-threaded
// backend (browser / Emscripten). Everything else keys off these aliases.
#pragma once

#include <mutex>

#if defined(__EMSCRIPTEN__) && !defined(ACCEL_SINGLE_THREADED)
#define ACCEL_SINGLE_THREADED 1
#endif

namespace accel {

#if defined(ACCEL_SINGLE_THREADED)
inline constexpr bool kSingleThreaded = true;
// No threads exist, so locking is a no-op; keeps the code paths identical.
struct NullMutex {
    void lock() {}
    void unlock() {}
    bool try_lock() { return true; }
};
using Mutex = NullMutex;
#else
inline constexpr bool kSingleThreaded = false;
using Mutex = std::mutex;
#endif

using Lock = std::unique_lock<Mutex>;

}  // namespace accel
