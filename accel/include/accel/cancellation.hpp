// Cooperative cancellation: a source flips a flag once and runs the
// registered callbacks (e.g. "remove this timer", "abort this transfer").
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "accel/config.hpp"

namespace accel {

namespace detail {
struct CancelState {
    std::atomic<bool> cancelled{false};
    Mutex mutex;
    std::uint64_t next_id = 1;
    std::vector<std::pair<std::uint64_t, std::function<void()>>> callbacks;
};
}  // namespace detail

// Unregisters its callback when destroyed (RAII), so a finished operation
// never gets a late cancel callback.
class CancelRegistration {
public:
    CancelRegistration() = default;
    CancelRegistration(std::weak_ptr<detail::CancelState> s, std::uint64_t id)
        : state_(std::move(s)), id_(id) {}
    CancelRegistration(CancelRegistration&& o) noexcept { *this = std::move(o); }
    CancelRegistration& operator=(CancelRegistration&& o) noexcept;
    CancelRegistration(const CancelRegistration&) = delete;
    CancelRegistration& operator=(const CancelRegistration&) = delete;
    ~CancelRegistration() { reset(); }
    void reset();

private:
    std::weak_ptr<detail::CancelState> state_;
    std::uint64_t id_ = 0;
};

class CancellationToken {
public:
    CancellationToken() = default;
    explicit CancellationToken(std::shared_ptr<detail::CancelState> s) : state_(std::move(s)) {}
    bool is_cancelled() const {
        return state_ && state_->cancelled.load(std::memory_order_acquire);
    }
    // Runs fn immediately (on this thread) if already cancelled.
    [[nodiscard]] CancelRegistration on_cancel(std::function<void()> fn) const;

private:
    std::shared_ptr<detail::CancelState> state_;
};

class CancellationSource {
public:
    CancellationSource() : state_(std::make_shared<detail::CancelState>()) {}
    CancellationToken token() const { return CancellationToken(state_); }
    bool is_cancelled() const { return state_->cancelled.load(std::memory_order_acquire); }
    // Returns false if it was already cancelled. Callbacks run on the caller.
    bool cancel();

private:
    std::shared_ptr<detail::CancelState> state_;
};

}  // namespace accel
