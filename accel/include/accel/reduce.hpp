// Float64 reductions, split across the executor for large inputs.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>

#include "accel/executor.hpp"

namespace accel {

double sum_f64(const double* data, std::size_t n);

// Splits the sum into chunks on the executor; done(sum, completed) runs
// once on whichever thread finishes last (completed=false if any chunk was
// dropped or `stop` was set).
void parallel_sum_f64(Executor& ex, const double* data, std::size_t n,
                      std::shared_ptr<std::atomic<bool>> stop,
                      std::function<void(double, bool)> done,
                      std::vector<Executor::JobId>* job_ids = nullptr);

}  // namespace accel
