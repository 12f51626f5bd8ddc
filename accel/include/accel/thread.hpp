// Runtime threads never take process signals: SIGINT must reach the thread
// that runs Python's signal handlers (the kernel's main thread), not a
// worker or the timer thread, whatever signal mask the creating thread has.
#pragma once

#include <thread>
#include <utility>

#if defined(__unix__) || defined(__APPLE__)
#include <csignal>
#include <pthread.h>
#endif

namespace accel {

template <class Fn>
std::thread start_thread(Fn&& fn) {
#if defined(__unix__) || defined(__APPLE__)
    struct MaskAll {  // the new thread inherits "all blocked"; the caller's mask is restored
        sigset_t old;
        MaskAll() {
            sigset_t all;
            sigfillset(&all);
            pthread_sigmask(SIG_BLOCK, &all, &old);
        }
        ~MaskAll() { pthread_sigmask(SIG_SETMASK, &old, nullptr); }
    } mask;
    return std::thread(std::forward<Fn>(fn));
#else
    return std::thread(std::forward<Fn>(fn));
#endif
}

}  // namespace accel
