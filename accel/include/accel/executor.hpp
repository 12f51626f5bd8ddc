// Fixed-size worker pool sized to the cores. Queued jobs can be cancelled
// (dropped) until a worker picks them up; shutdown drops what is queued.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <thread>
#include <vector>

#include "accel/config.hpp"

namespace accel {

class Executor {
public:
    using JobId = std::uint64_t;

    // threads == 0 means "one per core". Ignored by the single-threaded
    // backend, where jobs run from run_pending() on the caller's thread.
    explicit Executor(std::size_t threads = 0);
    ~Executor();
    Executor(const Executor&) = delete;
    Executor& operator=(const Executor&) = delete;

    // on_drop runs instead of run if the job is cancelled or the executor
    // shuts down before the job starts; exactly one of the two runs, except
    // that if run throws, the exception is swallowed and on_drop runs too.
    JobId submit(std::function<void()> run, std::function<void()> on_drop = {});
    // True if the job was still queued; its on_drop ran on this thread.
    bool cancel(JobId id);
    // Stop accepting work, drop queued jobs, wait for running ones.
    void shutdown();

    std::size_t thread_count() const { return threads_.size(); }
    std::size_t pending() const;
    std::size_t running() const { return running_.load(std::memory_order_relaxed); }
    bool is_shut_down() const;

    // Single-threaded backend: run queued jobs on the calling thread.
    std::size_t run_pending(std::size_t max_jobs = SIZE_MAX);
    // Single-threaded backend: called after a job is queued (to schedule a pump).
    void set_work_hook(std::function<void()> hook);

    static std::size_t default_threads();
    static std::size_t default_blocking_threads();

private:
    struct Job {
        std::function<void()> run;
        std::function<void()> on_drop;
    };
    void worker_loop();
    void run_job(Job& job) noexcept;

    mutable Mutex mutex_;
#if !defined(ACCEL_SINGLE_THREADED)
    std::condition_variable cv_;
#endif
    std::map<JobId, Job> queue_;  // ordered by id => FIFO, O(log n) cancel
    JobId next_id_ = 1;
    bool stopping_ = false;
    std::function<void()> work_hook_;
    std::vector<std::thread> threads_;
    std::atomic<std::size_t> running_{0};
};

}  // namespace accel
