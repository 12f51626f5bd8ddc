#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "accel/cancellation.hpp"

using accel::CancellationSource;

TEST(Cancellation, CallbacksRunOnce) {
    CancellationSource src;
    int n = 0;
    auto reg = src.token().on_cancel([&] { ++n; });
    EXPECT_FALSE(src.token().is_cancelled());
    EXPECT_TRUE(src.cancel());
    EXPECT_FALSE(src.cancel());
    EXPECT_EQ(n, 1);
    EXPECT_TRUE(src.token().is_cancelled());
}

TEST(Cancellation, RegistrationAfterCancelRunsImmediately) {
    CancellationSource src;
    src.cancel();
    int n = 0;
    auto reg = src.token().on_cancel([&] { ++n; });
    EXPECT_EQ(n, 1);
}

TEST(Cancellation, UnregisterOnDestruction) {
    CancellationSource src;
    int n = 0;
    { auto reg = src.token().on_cancel([&] { ++n; }); }
    src.cancel();
    EXPECT_EQ(n, 0);
}

TEST(Cancellation, TokenOutlivesSourceSafely) {
    accel::CancellationToken tok;
    accel::CancelRegistration reg;
    {
        CancellationSource src;
        tok = src.token();
        reg = tok.on_cancel([] {});
    }
    reg.reset();
    EXPECT_FALSE(tok.is_cancelled());
}

#if !defined(ACCEL_SINGLE_THREADED)
TEST(Cancellation, ConcurrentCancelAndRegister) {
    for (int round = 0; round < 200; ++round) {
        CancellationSource src;
        std::atomic<int> n{0};
        std::vector<accel::CancelRegistration> regs;
        std::thread t([&] { src.cancel(); });
        for (int i = 0; i < 50; ++i) regs.push_back(src.token().on_cancel([&] { ++n; }));
        t.join();
        EXPECT_EQ(n.load(), 50);
    }
}
#endif
