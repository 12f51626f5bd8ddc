// The runtime bundle: executor, timers and (lazily) the HTTP backend.
#pragma once

#include <atomic>
#include <memory>

#include "accel/completion_queue.hpp"
#include "accel/executor.hpp"
#include "accel/http_client.hpp"
#include "accel/timer_queue.hpp"

namespace accel {

class Runtime {
public:
    // threads: CPU pool size (0 = one per core). blocking_threads: pool for
    // blocking calls (spawn(fn)), created on first use (0 = default).
    explicit Runtime(std::size_t threads = 0, std::size_t blocking_threads = 0);
    ~Runtime();
    Runtime(const Runtime&) = delete;
    Runtime& operator=(const Runtime&) = delete;

    Executor& executor() { return executor_; }
    // Separate pool for callables that may block (sleep, network, locks), so
    // they cannot starve the CPU pool. The single-threaded build has one queue.
    Executor& blocking_executor();
    // Threads of the blocking pool: configured size, and started so far (0
    // until first use).
    std::size_t blocking_threads() const { return blocking_threads_; }
    bool blocking_started() const;
    TimerQueue& timers() { return timers_; }
    // nullptr if no backend is available (single-threaded build without a hook).
    FetchBackend* fetch_backend();
    void set_fetch_backend(std::unique_ptr<FetchBackend> backend);
    void shutdown();

    // Single-threaded backend: run due timers and queued jobs once.
    void pump();

private:
    Executor executor_;
    std::size_t blocking_threads_;
    mutable Mutex blocking_mutex_;
    std::unique_ptr<Executor> blocking_;
    TimerQueue timers_;
    Mutex fetch_mutex_;
    std::unique_ptr<FetchBackend> fetch_;
    bool fetch_tried_ = false;
    std::atomic<bool> shut_down_{false};
};

}  // namespace accel
