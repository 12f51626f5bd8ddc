// The runtime bundle: executor, timers and (lazily) the HTTP backend.
#pragma once

#include <memory>

#include "accel/completion_queue.hpp"
#include "accel/executor.hpp"
#include "accel/http_client.hpp"
#include "accel/timer_queue.hpp"

namespace accel {

class Runtime {
public:
    explicit Runtime(std::size_t threads = 0);
    ~Runtime();
    Runtime(const Runtime&) = delete;
    Runtime& operator=(const Runtime&) = delete;

    Executor& executor() { return executor_; }
    TimerQueue& timers() { return timers_; }
    // nullptr if no backend is available (single-threaded build without a hook).
    FetchBackend* fetch_backend();
    void set_fetch_backend(std::unique_ptr<FetchBackend> backend);
    void shutdown();

    // Single-threaded backend: run due timers and queued jobs once.
    void pump();

private:
    Executor executor_;
    TimerQueue timers_;
    Mutex fetch_mutex_;
    std::unique_ptr<FetchBackend> fetch_;
    bool fetch_tried_ = false;
    bool shut_down_ = false;
};

}  // namespace accel
