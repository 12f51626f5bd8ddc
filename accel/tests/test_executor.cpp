#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "accel/executor.hpp"
#include "accel/reduce.hpp"

using namespace std::chrono_literals;
using accel::Executor;

namespace {
void drain(Executor& ex) {
    if (accel::kSingleThreaded) ex.run_pending();
}
template <class Pred>
bool eventually(Executor& ex, Pred p) {
    auto end = std::chrono::steady_clock::now() + 5s;
    while (!p()) {
        drain(ex);
        if (std::chrono::steady_clock::now() > end) return false;
        std::this_thread::sleep_for(1ms);
    }
    return true;
}
}  // namespace

TEST(Executor, RunsAllJobs) {
    Executor ex(2);
    std::atomic<int> n{0};
    for (int i = 0; i < 1000; ++i) ex.submit([&] { ++n; });
    ASSERT_TRUE(eventually(ex, [&] { return n.load() == 1000; }));
}

TEST(Executor, CancelQueuedJobRunsOnDrop) {
    Executor ex(1);
    std::mutex m;
    std::condition_variable cv;
    bool release = false;
    std::atomic<int> ran{0}, dropped{0};
    if (!accel::kSingleThreaded) {
        ex.submit([&] {  // occupy the only worker
            std::unique_lock<std::mutex> lk(m);
            cv.wait(lk, [&] { return release; });
        });
    }
    auto id = ex.submit([&] { ++ran; }, [&] { ++dropped; });
    EXPECT_TRUE(ex.cancel(id));
    EXPECT_FALSE(ex.cancel(id));
    {
        std::lock_guard<std::mutex> lk(m);
        release = true;
    }
    cv.notify_all();
    ex.shutdown();
    EXPECT_EQ(ran.load(), 0);
    EXPECT_EQ(dropped.load(), 1);
}

TEST(Executor, ShutdownWithPendingWorkDropsQueuedFinishesRunning) {
    std::atomic<int> ran{0}, dropped{0};
    std::atomic<bool> started{false};
    {
        Executor ex(1);
        if (!accel::kSingleThreaded) {
            ex.submit([&] {
                started = true;
                std::this_thread::sleep_for(50ms);
                ++ran;
            });
            while (!started) std::this_thread::yield();
        }
        for (int i = 0; i < 100; ++i) ex.submit([&] { ++ran; }, [&] { ++dropped; });
        ex.shutdown();
        // After shutdown new work is refused (dropped immediately).
        EXPECT_EQ(ex.submit([&] { ++ran; }, [&] { ++dropped; }), 0u);
    }
    EXPECT_EQ(ran.load(), accel::kSingleThreaded ? 0 : 1);
    EXPECT_EQ(dropped.load(), 101);
}

TEST(Executor, DestructorJoins) {
    std::atomic<int> n{0};
    {
        Executor ex(2);
        for (int i = 0; i < 10; ++i) ex.submit([&] { ++n; });
        drain(ex);
        while (ex.pending() && !accel::kSingleThreaded) std::this_thread::yield();
    }
    SUCCEED();
}

TEST(Executor, ParallelSum) {
    Executor ex(2);
    std::vector<double> v(3'000'000);
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = 0.5 * static_cast<double>(i % 1000);
    double expect = 0;
    for (double x : v) expect += x;
    std::atomic<bool> done{false};
    double got = 0;
    bool ok = false;
    accel::parallel_sum_f64(ex, v.data(), v.size(), nullptr, [&](double s, bool complete) {
        got = s;
        ok = complete;
        done = true;
    });
    ASSERT_TRUE(eventually(ex, [&] { return done.load(); }));
    EXPECT_TRUE(ok);
    EXPECT_NEAR(got, expect, 1e-6 * expect);
}
