#include "accel/cancellation.hpp"

#include <algorithm>

namespace accel {

CancelRegistration& CancelRegistration::operator=(CancelRegistration&& o) noexcept {
    if (this != &o) {
        reset();
        state_ = std::move(o.state_);
        id_ = o.id_;
        o.id_ = 0;
    }
    return *this;
}

void CancelRegistration::reset() {
    auto s = state_.lock();
    state_.reset();
    if (!s || id_ == 0) return;
    std::function<void()> dead;  // destroyed outside the lock
    {
        Lock lk(s->mutex);
        auto it = std::find_if(s->callbacks.begin(), s->callbacks.end(),
                               [&](const auto& p) { return p.first == id_; });
        if (it != s->callbacks.end()) {
            dead = std::move(it->second);
            s->callbacks.erase(it);
        }
    }
    id_ = 0;
}

CancelRegistration CancellationToken::on_cancel(std::function<void()> fn) const {
    if (!state_) return {};
    Lock lk(state_->mutex);
    if (state_->cancelled.load(std::memory_order_acquire)) {
        lk.unlock();
        fn();
        return {};
    }
    auto id = state_->next_id++;
    state_->callbacks.emplace_back(id, std::move(fn));
    return CancelRegistration(state_, id);
}

bool CancellationSource::cancel() {
    std::vector<std::pair<std::uint64_t, std::function<void()>>> cbs;
    {
        Lock lk(state_->mutex);
        if (state_->cancelled.exchange(true, std::memory_order_acq_rel)) return false;
        cbs = std::move(state_->callbacks);
        state_->callbacks.clear();
    }
    for (auto& cb : cbs) cb.second();
    return true;
}

}  // namespace accel
