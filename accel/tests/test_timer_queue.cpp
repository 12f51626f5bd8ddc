#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "accel/timer_queue.hpp"

using namespace std::chrono_literals;
using accel::TimerQueue;

namespace {
// Threaded backend waits; single-threaded backend polls.
template <class Pred>
bool wait_for(TimerQueue& tq, Pred done, std::chrono::milliseconds limit = 2000ms) {
    auto end = std::chrono::steady_clock::now() + limit;
    while (!done()) {
        if (std::chrono::steady_clock::now() > end) return false;
        tq.poll();
        std::this_thread::sleep_for(1ms);
    }
    return true;
}
}  // namespace

TEST(TimerQueue, FiresInDeadlineOrder) {
    TimerQueue tq;
    std::mutex m;
    std::vector<int> order;
    auto now = TimerQueue::Clock::now();
    for (int i : {3, 1, 2}) {
        tq.add(now + std::chrono::milliseconds(10 * i), [&, i] {
            std::lock_guard<std::mutex> lk(m);
            order.push_back(i);
        });
    }
    ASSERT_TRUE(wait_for(tq, [&] {
        std::lock_guard<std::mutex> lk(m);
        return order.size() == 3;
    }));
    EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

TEST(TimerQueue, DoesNotFireEarly) {
    TimerQueue tq;
    std::atomic<bool> fired{false};
    auto start = TimerQueue::Clock::now();
    std::atomic<long long> at{0};
    tq.add_after(0.05, [&] {
        at = std::chrono::duration_cast<std::chrono::milliseconds>(TimerQueue::Clock::now() - start).count();
        fired = true;
    });
    ASSERT_TRUE(wait_for(tq, [&] { return fired.load(); }));
    EXPECT_GE(at.load(), 50);
}

TEST(TimerQueue, CancelPreventsFiring) {
    TimerQueue tq;
    std::atomic<int> fired{0};
    auto id = tq.add_after(0.02, [&] { ++fired; });
    tq.add_after(0.04, [&] { fired += 10; });
    EXPECT_TRUE(tq.cancel(id));
    EXPECT_FALSE(tq.cancel(id));
    ASSERT_TRUE(wait_for(tq, [&] { return fired.load() != 0; }));
    EXPECT_EQ(fired.load(), 10);
    EXPECT_EQ(tq.size(), 0u);
}

TEST(TimerQueue, ManyTimersBatch) {
    TimerQueue tq;
    std::atomic<int> fired{0};
    for (int i = 0; i < 10000; ++i) tq.add_after(0.01, [&] { ++fired; });
    ASSERT_TRUE(wait_for(tq, [&] { return fired.load() == 10000; }));
}

TEST(TimerQueue, CancelManyCompacts) {
    TimerQueue tq;
    std::vector<TimerQueue::TimerId> ids;
    for (int i = 0; i < 5000; ++i) ids.push_back(tq.add_after(100.0, [] {}));
    for (auto id : ids) EXPECT_TRUE(tq.cancel(id));
    EXPECT_EQ(tq.size(), 0u);
    EXPECT_FALSE(tq.next_deadline().has_value());
}

TEST(TimerQueue, ShutdownDropsPending) {
    std::atomic<int> fired{0};
    {
        TimerQueue tq;
        tq.add_after(10.0, [&] { ++fired; });
        tq.shutdown();
        EXPECT_EQ(tq.add_after(0, [&] { ++fired; }), 0u);
    }
    EXPECT_EQ(fired.load(), 0);
}
