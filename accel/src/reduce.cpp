#include "accel/reduce.hpp"

#include <algorithm>
#include <vector>

namespace accel {

double sum_f64(const double* data, std::size_t n) {
    // Four independent accumulators let the compiler pipeline/vectorise.
    double a = 0, b = 0, c = 0, d = 0;
    std::size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        a += data[i];
        b += data[i + 1];
        c += data[i + 2];
        d += data[i + 3];
    }
    for (; i < n; ++i) a += data[i];
    return (a + b) + (c + d);
}

namespace {
struct SumJoin {
    std::vector<double> partial;
    std::atomic<std::size_t> remaining;
    std::atomic<bool> ok{true};
    std::function<void(double, bool)> done;
    explicit SumJoin(std::size_t k) : partial(k, 0.0), remaining(k) {}
    void arrive() {
        if (remaining.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
        double total = 0;
        for (double p : partial) total += p;
        done(total, ok.load());
    }
};
}  // namespace

void parallel_sum_f64(Executor& ex, const double* data, std::size_t n, std::shared_ptr<std::atomic<bool>> stop,
                      std::function<void(double, bool)> done, std::vector<Executor::JobId>* job_ids) {
    constexpr std::size_t kMinChunk = 1 << 18;  // below this, splitting costs more than it saves
    std::size_t workers = std::max<std::size_t>(1, ex.thread_count());
    std::size_t k = std::clamp<std::size_t>(n / kMinChunk, 1, workers);
    auto join = std::make_shared<SumJoin>(k);
    join->done = std::move(done);
    std::size_t per = n / k;
    for (std::size_t i = 0; i < k; ++i) {
        std::size_t begin = i * per, end = (i + 1 == k) ? n : begin + per;
        auto id = ex.submit(
            [join, stop, data, begin, end, i] {
                if (stop && stop->load()) {
                    join->ok = false;
                } else {
                    join->partial[i] = sum_f64(data + begin, end - begin);
                }
                join->arrive();
            },
            [join] {
                join->ok = false;
                join->arrive();
            });
        if (job_ids) job_ids->push_back(id);
    }
}

}  // namespace accel
