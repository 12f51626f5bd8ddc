#include <gtest/gtest.h>

#include <cerrno>
#include <cstdio>
#include <condition_variable>
#include <mutex>
#include <string>

#include "accel/completion_queue.hpp"
#include "accel/compress.hpp"
#include "accel/digest.hpp"
#include "accel/file_io.hpp"

TEST(Digest, KnownVectors) {
    EXPECT_EQ(accel::sha256_hex("", 0), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(accel::sha256_hex("abc", 3), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    std::string two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    EXPECT_EQ(accel::sha256_hex(two_blocks.data(), two_blocks.size()),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    std::string million(1000000, 'a');
    EXPECT_EQ(accel::sha256_hex(million.data(), million.size()),
              "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    // Padding edge cases around the 64-byte block boundary.
    const std::pair<std::size_t, const char*> edges[] = {
        {55, "d5e285683cd4efc02d021a5c62014694958901005d6f71e89e0989fac77e4072"},
        {56, "04c26261370ee7541549d16dee320c723e3fd14671e66a099afe0a377c16888e"},
        {63, "75220b47218278e656f2013bb8f0c455a25eaf01e86c64924e9d48d89776d6f2"},
        {64, "7ce100971f64e7001e8fe5a51973ecdfe1ced42befe7ee8d5fd6219506b5393c"},
        {119, "000b48d4edf0fa7bee3c6236ecd2785baa5db4eeb8bb54341b029e0d9fa5fb0c"},
        {120, "13f05a0b594787f5ecd315edc96141bd3243203d1b7d4f0836f37308b276ba98"}};
    for (auto& [n, hex] : edges) {
        std::string s(n, 'x');
        EXPECT_EQ(accel::sha256_hex(s.data(), s.size()), hex) << n;
    }
}

TEST(Compress, RoundTrip) {
    std::string in(100000, 'x');
    for (std::size_t i = 0; i < in.size(); i += 7) in[i] = static_cast<char>('a' + i % 26);
    std::string z, back;
    ASSERT_FALSE(accel::zlib_compress(in.data(), in.size(), 6, z));
    EXPECT_LT(z.size(), in.size());
    ASSERT_FALSE(accel::zlib_decompress(z.data(), z.size(), back));
    EXPECT_EQ(back, in);
    auto err = accel::zlib_decompress("garbage", 7, back);
    EXPECT_EQ(err.kind, accel::ErrorKind::Data);
}

TEST(FileIo, MissingFileReportsErrno) {
    std::string out;
    auto err = accel::read_file("/nonexistent/accel/file", out);
    EXPECT_EQ(err.kind, accel::ErrorKind::OS);
    EXPECT_EQ(err.code, ENOENT);
    EXPECT_EQ(err.filename, "/nonexistent/accel/file");
}

TEST(FileIo, WriteThenRead) {
    std::string path = testing::TempDir() + "accel_io_test.bin";
    std::string data = "hello\0world";
    ASSERT_FALSE(accel::write_file(path, data.data(), data.size()));
    std::string out;
    ASSERT_FALSE(accel::read_file(path, out));
    EXPECT_EQ(out, data);
    std::remove(path.c_str());
}

namespace {
struct CountTask : accel::LoopTask {
    int* n;
    explicit CountTask(int* p) : n(p) {}
    void run_on_loop() override { ++*n; }
};
}  // namespace

TEST(CompletionQueue, BatchesWakeups) {
    accel::CompletionQueue q(!accel::kSingleThreaded);
    int notified = 0, ran = 0;
    q.set_notifier([&] { ++notified; });
    for (int i = 0; i < 100; ++i) ASSERT_TRUE(q.post(std::make_shared<CountTask>(&ran)));
    auto batch = q.take();
    EXPECT_EQ(batch.size(), 100u);
    for (auto& t : batch) t->run_on_loop();
    EXPECT_EQ(ran, 100);
    EXPECT_LE(notified, 1);
    q.close();
    EXPECT_FALSE(q.post(std::make_shared<CountTask>(&ran)));
}

#include <algorithm>
#include <map>

#include "accel/http_client.hpp"

namespace {
// Completes requests only when the test says so; records concurrency.
struct FakeBackend : accel::FetchBackend {
    std::map<RequestId, std::pair<accel::HttpRequest, Callback>> live;
    RequestId next = 1;
    std::size_t max_live = 0;
    int cancelled = 0;
    RequestId start(accel::HttpRequest req, Callback cb) override {
        auto id = next++;
        live.emplace(id, std::make_pair(std::move(req), std::move(cb)));
        max_live = std::max(max_live, live.size());
        return id;
    }
    bool cancel(RequestId id) override {
        ++cancelled;
        return live.erase(id) > 0;
    }
    void finish_one() {
        auto it = live.begin();
        auto [req, cb] = std::move(it->second);
        live.erase(it);
        accel::HttpResult r;
        if (req.url == "bad") {
            r.error = accel::Error::make(accel::ErrorKind::Connection, "refused", 111);
        } else {
            r.response.status = 200;
            r.response.body = req.url;
        }
        cb(std::move(r));
    }
};
}  // namespace

TEST(BatchFetch, RespectsConcurrencyAndKeepsOrder) {
    FakeBackend be;
    std::vector<accel::HttpRequest> reqs;
    for (int i = 0; i < 10; ++i) reqs.push_back({i == 3 ? "bad" : "u" + std::to_string(i), "GET", {}, {}, 0});
    std::vector<accel::HttpResult> got;
    bool done = false;
    auto batch = accel::BatchFetch::start(be, reqs, 3, [&](std::vector<accel::HttpResult> rs) {
        got = std::move(rs);
        done = true;
    });
    while (!be.live.empty()) be.finish_one();
    ASSERT_TRUE(done);
    EXPECT_EQ(be.max_live, 3u);
    ASSERT_EQ(got.size(), 10u);
    EXPECT_EQ(got[0].response.body, "u0");
    EXPECT_EQ(got[9].response.body, "u9");
    EXPECT_EQ(got[3].error.kind, accel::ErrorKind::Connection);
}

TEST(BatchFetch, CancelAbortsInFlightAndNeverCompletes) {
    FakeBackend be;
    std::vector<accel::HttpRequest> reqs(5, accel::HttpRequest{"u", "GET", {}, {}, 0});
    bool done = false;
    auto batch = accel::BatchFetch::start(be, reqs, 2, [&](std::vector<accel::HttpResult>) { done = true; });
    EXPECT_EQ(be.live.size(), 2u);
    batch->cancel();
    EXPECT_EQ(be.cancelled, 2);
    EXPECT_TRUE(be.live.empty());
    EXPECT_FALSE(done);
}

TEST(BatchFetch, EmptyCompletesImmediately) {
    FakeBackend be;
    bool done = false;
    auto batch = accel::BatchFetch::start(be, {}, 4, [&](std::vector<accel::HttpResult> rs) { done = rs.empty(); });
    EXPECT_TRUE(done);
}

#if !defined(ACCEL_SINGLE_THREADED)
TEST(CurlBackend, ConnectionRefusedReportsError) {
    auto be = accel::make_curl_backend();
    ASSERT_TRUE(be);
    std::mutex m;
    std::condition_variable cv;
    bool done = false;
    accel::HttpResult res;
    // Port 1 on localhost: nothing listens there.
    be->start({"http://127.0.0.1:1/", "GET", {}, {}, 5}, [&](accel::HttpResult r) {
        std::lock_guard<std::mutex> lk(m);
        res = std::move(r);
        done = true;
        cv.notify_all();
    });
    std::unique_lock<std::mutex> lk(m);
    ASSERT_TRUE(cv.wait_for(lk, std::chrono::seconds(10), [&] { return done; }));
    EXPECT_EQ(res.error.kind, accel::ErrorKind::Connection);
    EXPECT_EQ(res.error.code, ECONNREFUSED);
    lk.unlock();
    be->shutdown();
}
#endif
