#include "accel/runtime.hpp"

namespace accel {

Runtime::Runtime(std::size_t threads, std::size_t blocking_threads)
    : executor_(threads),
      blocking_threads_(kSingleThreaded ? 0 : (blocking_threads ? blocking_threads : Executor::default_blocking_threads())) {}

Executor& Runtime::blocking_executor() {
    if (kSingleThreaded) return executor_;
    Lock lk(blocking_mutex_);
    if (!blocking_) {
        blocking_ = std::make_unique<Executor>(blocking_threads_);
        if (shut_down_) blocking_->shutdown();
    }
    return *blocking_;
}

bool Runtime::blocking_started() const {
    Lock lk(blocking_mutex_);
    return blocking_ != nullptr;
}

Runtime::~Runtime() { shutdown(); }

FetchBackend* Runtime::fetch_backend() {
    Lock lk(fetch_mutex_);
    if (!fetch_ && !fetch_tried_ && !shut_down_) {
        fetch_tried_ = true;  // the I/O thread starts on first use only
        fetch_ = make_curl_backend();
    }
    return fetch_.get();
}

void Runtime::set_fetch_backend(std::unique_ptr<FetchBackend> backend) {
    Lock lk(fetch_mutex_);
    if (fetch_) fetch_->shutdown();
    fetch_ = std::move(backend);
    fetch_tried_ = true;
}

void Runtime::shutdown() {
    std::unique_ptr<FetchBackend> fetch;
    {
        Lock lk(fetch_mutex_);
        shut_down_ = true;
        fetch = std::move(fetch_);
    }
    if (fetch) fetch->shutdown();
    timers_.shutdown();
    executor_.shutdown();
    Executor* blocking;
    {
        Lock lk(blocking_mutex_);
        blocking = blocking_.get();
    }
    if (blocking) blocking->shutdown();
}

void Runtime::pump() {
    timers_.poll();
    executor_.run_pending();
}

}  // namespace accel
