#include "accel/timer_queue.hpp"

#include <utility>

#include "accel/duration.hpp"
#include "accel/thread.hpp"

namespace accel {

TimerQueue::TimerQueue() {
#if !defined(ACCEL_SINGLE_THREADED)
    thread_ = start_thread([this] { thread_loop(); });
#endif
}

TimerQueue::~TimerQueue() { shutdown(); }

TimerQueue::TimerId TimerQueue::add_after(double seconds, std::function<void()> fn) {
    // Overflow-safe: inf and huge values give a deadline that never comes.
    return add(deadline_after(seconds), std::move(fn));
}

TimerQueue::TimerId TimerQueue::add(Clock::time_point deadline, std::function<void()> fn) {
    std::function<void()> hook;
    TimerId id;
    {
        Lock lk(mutex_);
        if (stopping_) return 0;
        id = next_id_++;
        // Only an earlier head deadline needs to wake the timer thread; this
        // keeps 100k monotonically increasing sleeps from 100k wakeups.
        bool earlier = heap_.empty() || deadline < heap_.top().deadline;
        heap_.push(Entry{deadline, id});
        live_.emplace(id, std::move(fn));
        if (earlier) {
#if !defined(ACCEL_SINGLE_THREADED)
            cv_.notify_one();
#endif
        }
        // Single-threaded: the driver (possibly a new event loop) must know
        // about every timer, not only a new earliest one.
        if (earlier || kSingleThreaded) hook = deadline_hook_;
    }
    if (hook) hook();
    return id;
}

bool TimerQueue::cancel(TimerId id) {
    std::function<void()> dead;  // destroyed outside the lock
    Lock lk(mutex_);
    auto it = live_.find(id);
    if (it == live_.end()) return false;
    dead = std::move(it->second);
    live_.erase(it);
    compact_if_sparse();
    lk.unlock();
    return true;
}

void TimerQueue::compact_if_sparse() {
    // Cancelled entries stay in the heap until popped; rebuild when they
    // dominate so cancelled far-future timers don't accumulate.
    if (heap_.size() < 1024 || heap_.size() < 4 * live_.size()) return;
    std::vector<Entry> keep;
    keep.reserve(live_.size());
    while (!heap_.empty()) {
        if (live_.count(heap_.top().id)) keep.push_back(heap_.top());
        heap_.pop();
    }
    heap_ = decltype(heap_)(std::greater<Entry>(), std::move(keep));
}

std::size_t TimerQueue::size() const {
    Lock lk(mutex_);
    return live_.size();
}

void TimerQueue::shutdown() {
    decltype(live_) dropped;
    {
        Lock lk(mutex_);
        stopping_ = true;
        dropped.swap(live_);
        heap_ = {};
    }
#if !defined(ACCEL_SINGLE_THREADED)
    cv_.notify_all();
    if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
#endif
}

void TimerQueue::run_guarded(std::function<void()>& fn) noexcept {
    // A throwing callback must not take the timer thread (and the process,
    // via std::terminate) down; callbacks report their own errors.
    try {
        fn();
    } catch (...) {
    }
}

void TimerQueue::collect_due(Clock::time_point now, std::vector<std::function<void()>>& out) {
    while (!heap_.empty() && heap_.top().deadline <= now) {
        auto it = live_.find(heap_.top().id);
        heap_.pop();
        if (it == live_.end()) continue;  // cancelled
        out.push_back(std::move(it->second));
        live_.erase(it);
    }
}

std::size_t TimerQueue::poll(Clock::time_point now) {
    std::vector<std::function<void()>> due;
    {
        Lock lk(mutex_);
        collect_due(now, due);
    }
    for (auto& fn : due) run_guarded(fn);
    return due.size();
}

std::optional<TimerQueue::Clock::time_point> TimerQueue::next_deadline() const {
    Lock lk(mutex_);
    // Skip over cancelled heads lazily (const: just report the first live one).
    auto copy = heap_;
    while (!copy.empty()) {
        if (live_.count(copy.top().id)) return copy.top().deadline;
        copy.pop();
    }
    return std::nullopt;
}

void TimerQueue::set_deadline_hook(std::function<void()> hook) {
    Lock lk(mutex_);
    deadline_hook_ = std::move(hook);
}

void TimerQueue::thread_loop() {
#if !defined(ACCEL_SINGLE_THREADED)
    std::vector<std::function<void()>> due;
    Lock lk(mutex_);
    while (!stopping_) {
        if (heap_.empty()) {
            cv_.wait(lk);
            continue;
        }
        auto now = Clock::now();
        // Copy: the heap may reallocate while the lock is released.
        const auto deadline = heap_.top().deadline;
        if (deadline > now) {
            // A "never" deadline: plain wait (no clock arithmetic near the limit).
            if (deadline == Clock::time_point::max())
                cv_.wait(lk);
            else
                cv_.wait_until(lk, deadline);
            continue;
        }
        collect_due(now, due);
        lk.unlock();
        for (auto& fn : due) run_guarded(fn);  // the whole batch, outside the lock
        due.clear();
        lk.lock();
    }
#endif
}

}  // namespace accel
