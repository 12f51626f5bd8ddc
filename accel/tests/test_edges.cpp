// Edge cases of issue 12: durations, exceptions on runtime threads,
// cancellable chunked I/O and zlib, HTTP request validation, pools.
#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <limits>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

#include "accel/channel.hpp"
#include "accel/compress.hpp"
#include "accel/duration.hpp"
#include "accel/executor.hpp"
#include "accel/file_io.hpp"
#include "accel/http_client.hpp"
#include "accel/runtime.hpp"
#include "accel/timer_queue.hpp"

using namespace std::chrono_literals;

namespace {
template <class Pred>
bool eventually(accel::Executor& ex, accel::TimerQueue* tq, Pred p) {
    auto end = std::chrono::steady_clock::now() + 5s;
    while (!p()) {
        if (accel::kSingleThreaded) ex.run_pending();
        if (tq) tq->poll();
        if (std::chrono::steady_clock::now() > end) return false;
        std::this_thread::sleep_for(1ms);
    }
    return true;
}
}  // namespace

TEST(Duration, HugeAndInfiniteMeanNever) {
    const double inf = std::numeric_limits<double>::infinity();
    auto now = accel::SteadyClock::now();
    EXPECT_EQ(accel::deadline_after(inf, now), accel::SteadyClock::time_point::max());
    EXPECT_EQ(accel::deadline_after(1e10, now), accel::SteadyClock::time_point::max());
    EXPECT_EQ(accel::deadline_after(1e300, now), accel::SteadyClock::time_point::max());
    // Below the cap: an ordinary, later deadline (no wrap-around).
    EXPECT_GT(accel::deadline_after(1e8, now), now + std::chrono::hours(24 * 365));
    EXPECT_EQ(accel::deadline_after(-1, now), now);
    EXPECT_EQ(accel::deadline_after(std::nan(""), now), now);
    EXPECT_EQ(accel::to_duration(-5), accel::SteadyClock::duration::zero());
    EXPECT_GT(accel::to_duration(inf), accel::SteadyClock::duration::zero());
}

TEST(TimerQueue, NeverTimerDoesNotFireAndCancels) {
    accel::TimerQueue tq;
    std::atomic<int> fired{0};
    auto never = tq.add_after(std::numeric_limits<double>::infinity(), [&] { ++fired; });
    auto huge = tq.add_after(1e10, [&] { ++fired; });
    std::atomic<bool> soon{false};
    tq.add_after(0.01, [&] { soon = true; });  // the thread still serves other timers
    auto end = std::chrono::steady_clock::now() + 5s;
    while (!soon && std::chrono::steady_clock::now() < end) {
        tq.poll();
        std::this_thread::sleep_for(1ms);
    }
    ASSERT_TRUE(soon);
    std::this_thread::sleep_for(20ms);
    tq.poll();
    EXPECT_EQ(fired.load(), 0);
    EXPECT_EQ(tq.size(), 2u);
    EXPECT_TRUE(tq.cancel(never));
    EXPECT_TRUE(tq.cancel(huge));
    EXPECT_EQ(tq.size(), 0u);
}

TEST(TimerQueue, ThrowingCallbackDoesNotKillTheTimerThread) {
    accel::TimerQueue tq;
    tq.add_after(0, [] { throw std::bad_alloc(); });
    std::atomic<bool> later{false};
    tq.add_after(0.005, [&] { later = true; });
    auto end = std::chrono::steady_clock::now() + 5s;
    while (!later && std::chrono::steady_clock::now() < end) {
        tq.poll();
        std::this_thread::sleep_for(1ms);
    }
    EXPECT_TRUE(later);
}

TEST(Executor, ThrowingJobRunsOnDropAndWorkerSurvives) {
    accel::Executor ex(1);
    std::atomic<int> dropped{0}, ran{0};
    ex.submit([] { throw std::runtime_error("boom"); }, [&] { ++dropped; });
    ex.submit([&] { ++ran; });
    ASSERT_TRUE(eventually(ex, nullptr, [&] { return ran.load() == 1 && dropped.load() == 1; }));
    EXPECT_EQ(ex.running(), 0u);
}

TEST(Error, FromCurrentException) {
    auto e = accel::capture_errors([] { throw std::bad_alloc(); });
    EXPECT_EQ(e.kind, accel::ErrorKind::Memory);
    e = accel::capture_errors([] { throw std::runtime_error("x"); });
    EXPECT_EQ(e.kind, accel::ErrorKind::Runtime);
    EXPECT_EQ(e.message, "x");
    e = accel::capture_errors([] { throw 42; });
    EXPECT_EQ(e.kind, accel::ErrorKind::Runtime);
    EXPECT_FALSE(accel::capture_errors([] {}));
}

TEST(FileIo, MaxSizeOnEndlessFile) {
    std::string out;
    auto err = accel::read_file("/dev/zero", out, 3 * accel::kFileChunk + 5);
    EXPECT_EQ(err.kind, accel::ErrorKind::OS);
    EXPECT_EQ(err.code, EFBIG);
    EXPECT_NE(err.message.find("max_size"), std::string::npos);
    EXPECT_TRUE(out.empty());
}

TEST(FileIo, MaxSizeBoundaryOnRegularFile) {
    std::string path = testing::TempDir() + "accel_edges_max.bin";
    std::string data(1000, 'q');
    ASSERT_FALSE(accel::write_file(path, data.data(), data.size()));
    std::string out;
    EXPECT_FALSE(accel::read_file(path, out, 1000));
    EXPECT_EQ(out, data);
    EXPECT_EQ(accel::read_file(path, out, 999).code, EFBIG);
    std::remove(path.c_str());
}

TEST(FileIo, CancelStopsAnEndlessRead) {
    std::string out;
    std::atomic<int> checks{0};
    auto err = accel::read_file("/dev/zero", out, accel::kNoSizeLimit, [&] { return ++checks > 4; });
    EXPECT_EQ(err.kind, accel::ErrorKind::Cancelled);
    EXPECT_TRUE(out.empty());
}

TEST(FileIo, CancelStopsAChunkedWrite) {
    std::string path = testing::TempDir() + "accel_edges_w.bin";
    std::string data(8 * accel::kFileChunk, 'w');
    int checks = 0;
    auto err = accel::write_file(path, data.data(), data.size(), [&] { return ++checks > 2; });
    EXPECT_EQ(err.kind, accel::ErrorKind::Cancelled);
    std::remove(path.c_str());
}

TEST(Compress, CancelStopsCompressAndDecompress) {
    std::string in(16 * accel::kFileChunk, '\0');
    for (std::size_t i = 0; i < in.size(); i += 13) in[i] = static_cast<char>(i * 7);
    std::string z, back;
    int checks = 0;
    auto err = accel::zlib_compress(in.data(), in.size(), 1, z, [&] { return ++checks > 2; });
    EXPECT_EQ(err.kind, accel::ErrorKind::Cancelled);
    ASSERT_FALSE(accel::zlib_compress(in.data(), in.size(), 1, z));
    checks = 0;
    err = accel::zlib_decompress(z.data(), z.size(), back, [&] { return ++checks > 2; });
    EXPECT_EQ(err.kind, accel::ErrorKind::Cancelled);
    ASSERT_FALSE(accel::zlib_decompress(z.data(), z.size(), back));
    EXPECT_EQ(back, in);
}

TEST(Http, ValidateRequest) {
    accel::HttpRequest r;
    r.url = "http://127.0.0.1:1/x";
    EXPECT_FALSE(accel::validate_request(r));
    r.url = "HTTPS://example.com/";
    EXPECT_FALSE(accel::validate_request(r));
    for (const char* bad : {"file:///etc/hostname", "ftp://h/x", "gopher://h", "/relative", "",
                            "http://h/\r\nX-Injected: 1"}) {
        r.url = bad;
        auto e = accel::validate_request(r);
        EXPECT_EQ(e.kind, accel::ErrorKind::InvalidArgument) << bad;
    }
    r.url = "file:///etc/hostname";
    EXPECT_NE(accel::validate_request(r).message.find("'file'"), std::string::npos);
    r.url = "http://h/";
    for (const char* bad : {"GET\r\nX: y", "GE T", "", "GET\n"}) {
        r.method = bad;
        EXPECT_EQ(accel::validate_request(r).kind, accel::ErrorKind::InvalidArgument) << bad;
    }
    r.method = "PATCH";
    r.headers = {{"X-Ok", "a value: with colon"}};
    EXPECT_FALSE(accel::validate_request(r));
    r.headers = {{"X-Bad", "v\r\nX-Injected: 1"}};
    EXPECT_EQ(accel::validate_request(r).kind, accel::ErrorKind::InvalidArgument);
    r.headers = {{"X Bad", "v"}};
    EXPECT_EQ(accel::validate_request(r).kind, accel::ErrorKind::InvalidArgument);
    r.headers = {{"X-Bad\n", "v"}};
    EXPECT_EQ(accel::validate_request(r).kind, accel::ErrorKind::InvalidArgument);
}

TEST(Http, RelativeUrlsOnlyForABackendThatResolvesThem) {
    accel::HttpRequest r;
    for (const char* url : {"files/hello.txt", "/x?y=1", "//host/path", "a/b:c"}) {
        r.url = url;
        EXPECT_EQ(accel::validate_request(r).kind, accel::ErrorKind::InvalidArgument) << url;
        EXPECT_FALSE(accel::validate_request(r, true)) << url;
    }
    for (const char* bad : {"file:///etc/hostname", "javascript:alert(1)", "data:text/plain,x", "", "x\r\ny"}) {
        r.url = bad;
        EXPECT_EQ(accel::validate_request(r, true).kind, accel::ErrorKind::InvalidArgument) << bad;
    }
}

#if !defined(ACCEL_SINGLE_THREADED)
TEST(Http, CurlBackendRefusesInvalidRequests) {
    auto backend = accel::make_curl_backend();
    ASSERT_TRUE(backend);
    accel::HttpRequest r;
    r.url = "file:///etc/hostname";
    accel::HttpResult got;
    bool called = false;
    backend->start(r, [&](accel::HttpResult res) {
        got = std::move(res);
        called = true;
    });
    ASSERT_TRUE(called);  // inline: the request never reaches curl
    EXPECT_EQ(got.error.kind, accel::ErrorKind::InvalidArgument);
    backend->shutdown();
}
#endif

TEST(Runtime, ConfiguredPoolsAndLazyBlockingPool) {
    accel::Runtime rt(3, 5);
    if (accel::kSingleThreaded) {
        EXPECT_EQ(&rt.blocking_executor(), &rt.executor());
        return;
    }
    EXPECT_EQ(rt.executor().thread_count(), 3u);
    EXPECT_FALSE(rt.blocking_started());
    EXPECT_EQ(rt.blocking_threads(), 5u);
    auto& b = rt.blocking_executor();
    EXPECT_TRUE(rt.blocking_started());
    EXPECT_EQ(b.thread_count(), 5u);
    EXPECT_NE(&b, &rt.executor());
    // Blocking jobs do not occupy the CPU pool.
    std::atomic<bool> release{false};
    std::atomic<int> blocked{0}, cpu_done{0};
    for (int i = 0; i < 5; ++i)
        b.submit([&] {
            ++blocked;
            while (!release) std::this_thread::sleep_for(1ms);
        });
    for (int i = 0; i < 10; ++i) rt.executor().submit([&] { ++cpu_done; });
    ASSERT_TRUE(eventually(rt.executor(), nullptr, [&] { return cpu_done.load() == 10 && blocked.load() == 5; }));
    release = true;
    rt.shutdown();
}

TEST(Channel, GiveBackGoesFirstOrToAWaitingReceiver) {
    accel::Channel<int> ch(2);
    int v = 1;
    ASSERT_EQ(ch.try_send(v), accel::ChannelStatus::Ok);
    ch.give_back(0);  // a receiver could not take 0: it is next in line
    int out = -1;
    ASSERT_EQ(ch.try_recv(out), accel::ChannelStatus::Ok);
    EXPECT_EQ(out, 0);
    ASSERT_EQ(ch.try_recv(out), accel::ChannelStatus::Ok);
    EXPECT_EQ(out, 1);
    std::optional<int> got;
    ch.async_recv([&](std::optional<int> x) { got = x; });
    ch.give_back(7);
    EXPECT_EQ(got, std::optional<int>(7));
}

TEST(Channel, ForEachValueSeesBufferedAndWaitingSenders) {
    accel::Channel<int> ch(1);
    int v = 1;
    ASSERT_EQ(ch.try_send(v), accel::ChannelStatus::Ok);
    ch.async_send(2, [](bool) {});  // waits: full
    int sum = 0, n = 0;
    ch.for_each_value([&](const int& x) {
        sum += x;
        ++n;
    });
    EXPECT_EQ(n, 2);
    EXPECT_EQ(sum, 3);
}

#if !defined(ACCEL_SINGLE_THREADED)
#include <csignal>
#include <pthread.h>

// The kernel unblocks SIGINT on its main thread only; runtime threads started
// later (lazily, from that thread) must still never receive it.
TEST(Threads, RuntimeThreadsBlockSignalsWhateverTheCreatorsMask) {
    sigset_t none, old;
    sigemptyset(&none);
    pthread_sigmask(SIG_SETMASK, &none, &old);  // creator accepts everything
    accel::Executor ex(1);
    std::atomic<int> blocked{-1};
    ex.submit([&] {
        sigset_t cur;
        pthread_sigmask(SIG_BLOCK, nullptr, &cur);
        blocked = sigismember(&cur, SIGINT);
    });
    ASSERT_TRUE(eventually(ex, nullptr, [&] { return blocked.load() != -1; }));
    EXPECT_EQ(blocked.load(), 1);
    sigset_t after;
    pthread_sigmask(SIG_SETMASK, &old, &after);
    EXPECT_EQ(sigismember(&after, SIGINT), 0);  // the creator's mask is unchanged
}
#endif
