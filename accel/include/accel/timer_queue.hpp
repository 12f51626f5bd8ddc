// Deadline-ordered timers. The threaded backend fires them from one timer
// thread, collecting every expired timer in a single pass so a burst of
// expiries becomes one batch (and one loop wakeup downstream).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <optional>
#include <queue>
#include <thread>
#include <unordered_map>
#include <vector>

#include "accel/config.hpp"

namespace accel {

class TimerQueue {
public:
    using Clock = std::chrono::steady_clock;
    using TimerId = std::uint64_t;

    TimerQueue();
    ~TimerQueue();
    TimerQueue(const TimerQueue&) = delete;
    TimerQueue& operator=(const TimerQueue&) = delete;

    TimerId add(Clock::time_point deadline, std::function<void()> fn);
    // seconds: negative/NaN fire at once; inf or >= kNeverSeconds never fire
    // (the timer stays until cancelled). Callbacks must not throw (a thrown
    // exception is swallowed so the timer thread survives).
    TimerId add_after(double seconds, std::function<void()> fn);
    // True if removed before it fired.
    bool cancel(TimerId id);
    std::size_t size() const;
    // Pending timers are discarded (never fired).
    void shutdown();

    // Single-threaded backend: fire everything due at `now`; returns count.
    std::size_t poll(Clock::time_point now = Clock::now());
    std::optional<Clock::time_point> next_deadline() const;
    // Called when the earliest deadline moved earlier (single-threaded
    // backend: on every add, so the driving loop can (re)arm its pump).
    void set_deadline_hook(std::function<void()> hook);

private:
    struct Entry {
        Clock::time_point deadline;
        TimerId id;
        bool operator>(const Entry& o) const {
            return deadline != o.deadline ? deadline > o.deadline : id > o.id;
        }
    };
    // Pops due entries into `out`; caller holds the lock.
    void collect_due(Clock::time_point now, std::vector<std::function<void()>>& out);
    void compact_if_sparse();
    static void run_guarded(std::function<void()>& fn) noexcept;
    void thread_loop();

    mutable Mutex mutex_;
#if !defined(ACCEL_SINGLE_THREADED)
    std::condition_variable cv_;
#endif
    std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> heap_;
    std::unordered_map<TimerId, std::function<void()>> live_;  // cancelled ids are absent
    TimerId next_id_ = 1;
    bool stopping_ = false;
    std::function<void()> deadline_hook_;
    std::thread thread_;
};

}  // namespace accel
