#include "accel/executor.hpp"

#include <utility>

#include "accel/thread.hpp"

namespace accel {

std::size_t Executor::default_threads() {
    unsigned n = std::thread::hardware_concurrency();
    return n == 0 ? 2 : n;
}

std::size_t Executor::default_blocking_threads() {
    // Like concurrent.futures.ThreadPoolExecutor: blocking calls mostly wait.
    std::size_t n = default_threads() + 4;
    return n > 32 ? 32 : n;
}

Executor::Executor(std::size_t threads) {
#if !defined(ACCEL_SINGLE_THREADED)
    if (threads == 0) threads = default_threads();
    threads_.reserve(threads);
    for (std::size_t i = 0; i < threads; ++i) threads_.push_back(start_thread([this] { worker_loop(); }));
#else
    (void)threads;
#endif
}

Executor::~Executor() { shutdown(); }

Executor::JobId Executor::submit(std::function<void()> run, std::function<void()> on_drop) {
    std::function<void()> hook;
    JobId id;
    {
        Lock lk(mutex_);
        if (stopping_) {
            lk.unlock();
            if (on_drop) on_drop();
            return 0;
        }
        id = next_id_++;
        queue_.emplace(id, Job{std::move(run), std::move(on_drop)});
        hook = work_hook_;
    }
#if !defined(ACCEL_SINGLE_THREADED)
    cv_.notify_one();
#endif
    if (hook) hook();
    return id;
}

bool Executor::cancel(JobId id) {
    Job job;
    {
        Lock lk(mutex_);
        auto it = queue_.find(id);
        if (it == queue_.end()) return false;
        job = std::move(it->second);
        queue_.erase(it);
    }
    if (job.on_drop) job.on_drop();
    return true;
}

void Executor::shutdown() {
    std::map<JobId, Job> dropped;
    {
        Lock lk(mutex_);
        if (stopping_ && threads_.empty() && queue_.empty()) return;
        stopping_ = true;
        dropped.swap(queue_);
    }
#if !defined(ACCEL_SINGLE_THREADED)
    cv_.notify_all();
#endif
    for (auto& [id, job] : dropped) {
        try {
            if (job.on_drop) job.on_drop();
        } catch (...) {
        }
    }
    for (auto& t : threads_) {
        if (t.joinable()) t.join();
    }
    threads_.clear();
}

void Executor::run_job(Job& job) noexcept {
    // An exception escaping a worker would call std::terminate. Jobs are
    // expected to report their own errors; if one throws anyway, on_drop
    // runs so its owner still learns that the job ended.
    running_.fetch_add(1, std::memory_order_relaxed);
    try {
        job.run();
    } catch (...) {
        try {
            if (job.on_drop) job.on_drop();
        } catch (...) {
        }
    }
    running_.fetch_sub(1, std::memory_order_relaxed);
}

std::size_t Executor::pending() const {
    Lock lk(mutex_);
    return queue_.size();
}

bool Executor::is_shut_down() const {
    Lock lk(mutex_);
    return stopping_;
}

void Executor::set_work_hook(std::function<void()> hook) {
    Lock lk(mutex_);
    work_hook_ = std::move(hook);
}

std::size_t Executor::run_pending(std::size_t max_jobs) {
    std::size_t ran = 0;
    while (ran < max_jobs) {
        Job job;
        {
            Lock lk(mutex_);
            if (queue_.empty()) break;
            auto it = queue_.begin();
            job = std::move(it->second);
            queue_.erase(it);
        }
        run_job(job);
        ++ran;
    }
    return ran;
}

void Executor::worker_loop() {
#if !defined(ACCEL_SINGLE_THREADED)
    for (;;) {
        Job job;
        {
            Lock lk(mutex_);
            cv_.wait(lk, [this] { return stopping_ || !queue_.empty(); });
            if (queue_.empty()) return;  // stopping and drained
            auto it = queue_.begin();
            job = std::move(it->second);
            queue_.erase(it);
        }
        run_job(job);
    }
#endif
}

}  // namespace accel
