#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "accel/channel.hpp"

using accel::Channel;
using accel::ChannelStatus;

TEST(Channel, TrySendRespectsCapacity) {
    Channel<int> ch(2);
    int a = 1, b = 2, c = 3;
    EXPECT_EQ(ch.try_send(a), ChannelStatus::Ok);
    EXPECT_EQ(ch.try_send(b), ChannelStatus::Ok);
    EXPECT_EQ(ch.try_send(c), ChannelStatus::Full);
    EXPECT_EQ(ch.size(), 2u);
    int out = 0;
    EXPECT_EQ(ch.try_recv(out), ChannelStatus::Ok);
    EXPECT_EQ(out, 1);
}

TEST(Channel, ZeroCapacityRejected) { EXPECT_THROW(Channel<int>(0), std::invalid_argument); }

TEST(Channel, BlockedSenderAdmittedOnRecv) {
    Channel<int> ch(1);
    std::vector<bool> sent;
    ch.async_send(1, [&](bool ok) { sent.push_back(ok); });
    auto id = ch.async_send(2, [&](bool ok) { sent.push_back(ok); });
    EXPECT_NE(id, 0u);
    EXPECT_EQ(sent.size(), 1u);
    EXPECT_EQ(ch.size(), 1u);  // never above capacity
    int out = 0;
    EXPECT_EQ(ch.try_recv(out), ChannelStatus::Ok);
    EXPECT_EQ(out, 1);
    EXPECT_EQ(sent.size(), 2u);
    EXPECT_EQ(ch.size(), 1u);
    EXPECT_EQ(ch.try_recv(out), ChannelStatus::Ok);
    EXPECT_EQ(out, 2);
}

TEST(Channel, WaitingReceiverGetsValueDirectly) {
    Channel<std::unique_ptr<int>> ch(1);
    std::optional<std::unique_ptr<int>> got;
    ch.async_recv([&](std::optional<std::unique_ptr<int>> v) { got = std::move(v); });
    EXPECT_FALSE(got.has_value());
    auto p = std::make_unique<int>(7);
    EXPECT_EQ(ch.try_send(p), ChannelStatus::Ok);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(**got, 7);
    EXPECT_EQ(ch.size(), 0u);
}

TEST(Channel, CloseWakesEveryone) {
    Channel<int> ch(1);
    int r = 0, s = 0;
    ch.async_recv([&](std::optional<int> v) { r = v ? 1 : -1; });
    ch.close();
    EXPECT_EQ(r, -1);
    ch.async_send(5, [&](bool ok) { s = ok ? 1 : -1; });
    EXPECT_EQ(s, -1);
    int x = 5;
    EXPECT_EQ(ch.try_send(x), ChannelStatus::Closed);
}

TEST(Channel, BufferedValuesSurviveClose) {
    Channel<int> ch(4);
    for (int i = 0; i < 3; ++i) {
        int v = i;
        ch.try_send(v);
    }
    ch.close();
    int out = -1;
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(ch.try_recv(out), ChannelStatus::Ok);
        EXPECT_EQ(out, i);
    }
    EXPECT_EQ(ch.try_recv(out), ChannelStatus::Closed);
}

TEST(Channel, CancelWaiter) {
    Channel<int> ch(1);
    int v = 0;
    ch.try_send(v);
    bool called = false;
    auto id = ch.async_send(9, [&](bool) { called = true; });
    EXPECT_TRUE(ch.cancel_waiter(id));
    EXPECT_FALSE(ch.cancel_waiter(id));
    int out;
    ch.try_recv(out);
    EXPECT_EQ(ch.try_recv(out), ChannelStatus::Empty);  // cancelled value discarded
    EXPECT_FALSE(called);
}

#if !defined(ACCEL_SINGLE_THREADED)
TEST(Channel, ThreadedProducersConsumersBackpressure) {
    constexpr int kProducers = 3, kPer = 20000;
    Channel<int> ch(8);
    std::atomic<long long> total{0};
    std::atomic<std::size_t> max_size{0};
    std::vector<std::thread> producers;
    for (int p = 0; p < kProducers; ++p)
        producers.emplace_back([&] {
            for (int i = 1; i <= kPer; ++i) ASSERT_TRUE(ch.send(i));
        });
    std::vector<std::thread> consumers;
    for (int c = 0; c < 2; ++c)
        consumers.emplace_back([&] {
            while (auto v = ch.recv()) {
                total += *v;
                auto s = ch.size();
                auto m = max_size.load();
                while (s > m && !max_size.compare_exchange_weak(m, s)) {
                }
            }
        });
    for (auto& t : producers) t.join();
    ch.close();
    for (auto& t : consumers) t.join();
    EXPECT_EQ(total.load(), static_cast<long long>(kProducers) * kPer * (kPer + 1) / 2);
    EXPECT_LE(max_size.load(), 8u);
}
#endif
