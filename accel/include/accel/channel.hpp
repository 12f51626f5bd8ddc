// Bounded multi-producer multi-consumer channel with backpressure.
// Waiters are callbacks, so the same channel serves blocking C++ threads,
// timer-driven producers and the Python binding (which resumes asyncio
// tasks from the callbacks). Callbacks always run outside the lock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <stdexcept>
#include <utility>

#include "accel/config.hpp"

#if !defined(ACCEL_SINGLE_THREADED)
#include <condition_variable>
#include <memory>
#endif

namespace accel {

enum class ChannelStatus { Ok, Full, Empty, Closed };

template <class T>
class Channel {
public:
    using WaiterId = std::uint64_t;
    using SendCallback = std::function<void(bool delivered)>;
    using RecvCallback = std::function<void(std::optional<T>)>;

    explicit Channel(std::size_t capacity) : capacity_(capacity) {
        if (capacity == 0) throw std::invalid_argument("channel capacity must be >= 1");
    }
    Channel(const Channel&) = delete;
    Channel& operator=(const Channel&) = delete;

    // Non-blocking send; moves from `value` only on Ok.
    ChannelStatus try_send(T& value) {
        Lock lk(mutex_);
        if (closed_) return ChannelStatus::Closed;
        if (!receivers_.empty()) {
            auto w = std::move(receivers_.front());
            receivers_.pop_front();
            lk.unlock();
            w.cb(std::optional<T>(std::move(value)));
            return ChannelStatus::Ok;
        }
        if (buffer_.size() >= capacity_) return ChannelStatus::Full;
        buffer_.push_back(std::move(value));
        return ChannelStatus::Ok;
    }

    ChannelStatus try_recv(T& out) {
        Lock lk(mutex_);
        if (buffer_.empty()) return closed_ ? ChannelStatus::Closed : ChannelStatus::Empty;
        out = std::move(buffer_.front());
        buffer_.pop_front();
        SendCallback wake = admit_sender_locked();
        lk.unlock();
        if (wake) wake(true);
        return ChannelStatus::Ok;
    }

    // Completes immediately (cb runs inline, returns 0) or queues the sender
    // until space frees up; returns the waiter id for cancel_waiter().
    WaiterId async_send(T value, SendCallback cb) {
        Lock lk(mutex_);
        if (closed_) {
            lk.unlock();
            cb(false);
            return 0;
        }
        if (!receivers_.empty()) {
            auto w = std::move(receivers_.front());
            receivers_.pop_front();
            lk.unlock();
            w.cb(std::optional<T>(std::move(value)));
            cb(true);
            return 0;
        }
        if (buffer_.size() < capacity_) {
            buffer_.push_back(std::move(value));
            lk.unlock();
            cb(true);
            return 0;
        }
        WaiterId id = next_id_++;
        senders_.push_back(Sender{id, std::move(value), std::move(cb)});
        return id;
    }

    // cb gets nullopt once the channel is closed and drained.
    WaiterId async_recv(RecvCallback cb) {
        Lock lk(mutex_);
        if (!buffer_.empty()) {
            std::optional<T> v(std::move(buffer_.front()));
            buffer_.pop_front();
            SendCallback wake = admit_sender_locked();
            lk.unlock();
            cb(std::move(v));
            if (wake) wake(true);
            return 0;
        }
        if (closed_) {
            lk.unlock();
            cb(std::nullopt);
            return 0;
        }
        WaiterId id = next_id_++;
        receivers_.push_back(Receiver{id, std::move(cb)});
        return id;
    }

    // True if the waiter was removed before completing (its callback will
    // never run). A cancelled sender's value is discarded.
    bool cancel_waiter(WaiterId id) {
        if (id == 0) return false;
        Lock lk(mutex_);
        for (auto it = receivers_.begin(); it != receivers_.end(); ++it) {
            if (it->id == id) {
                auto dead = std::move(*it);
                receivers_.erase(it);
                lk.unlock();  // destroy the callback outside the lock
                return true;
            }
        }
        for (auto it = senders_.begin(); it != senders_.end(); ++it) {
            if (it->id == id) {
                auto dead = std::move(*it);
                senders_.erase(it);
                lk.unlock();
                return true;
            }
        }
        return false;
    }

    // Pending senders fail, pending receivers get nullopt; buffered values
    // stay receivable.
    void close() {
        Lock lk(mutex_);
        if (closed_) return;
        closed_ = true;
        auto receivers = std::move(receivers_);
        auto senders = std::move(senders_);
        receivers_.clear();
        senders_.clear();
        lk.unlock();
        for (auto& r : receivers) r.cb(std::nullopt);
        for (auto& s : senders) s.cb(false);
    }

    // Hands back a value a receiver took but could not accept (it was
    // cancelled while the value travelled to its thread): the next receiver
    // gets it first. May exceed the capacity by one item for a moment.
    void give_back(T value) {
        Lock lk(mutex_);
        if (!receivers_.empty()) {
            auto w = std::move(receivers_.front());
            receivers_.pop_front();
            lk.unlock();
            w.cb(std::optional<T>(std::move(value)));
            return;
        }
        buffer_.push_front(std::move(value));
    }

    // Visits every value held (buffered and in waiting senders), under the
    // lock: fn must not call back into the channel (used for GC traversal).
    template <class Fn>
    void for_each_value(Fn&& fn) const {
        Lock lk(mutex_);
        for (const auto& v : buffer_) fn(v);
        for (const auto& s : senders_) fn(s.value);
    }

    // Drops buffered values (the Python binding calls this with the GIL).
    void clear() {
        Lock lk(mutex_);
        auto b = std::move(buffer_);
        buffer_.clear();
        lk.unlock();
    }

#if !defined(ACCEL_SINGLE_THREADED)
    // Blocking helpers for plain C++ threads.
    bool send(T value) {
        auto p = std::make_shared<Latch<bool>>();
        async_send(std::move(value), [p](bool ok) { p->set(ok); });
        return p->wait();
    }
    std::optional<T> recv() {
        auto p = std::make_shared<Latch<std::optional<T>>>();
        async_recv([p](std::optional<T> v) { p->set(std::move(v)); });
        return p->wait();
    }
#endif

    std::size_t size() const {
        Lock lk(mutex_);
        return buffer_.size();
    }
    std::size_t capacity() const { return capacity_; }
    bool closed() const {
        Lock lk(mutex_);
        return closed_;
    }
    std::size_t waiting_senders() const {
        Lock lk(mutex_);
        return senders_.size();
    }
    std::size_t waiting_receivers() const {
        Lock lk(mutex_);
        return receivers_.size();
    }

private:
    struct Sender {
        WaiterId id;
        T value;
        SendCallback cb;
    };
    struct Receiver {
        WaiterId id;
        RecvCallback cb;
    };

#if !defined(ACCEL_SINGLE_THREADED)
    template <class V>
    struct Latch {
        std::mutex m;
        std::condition_variable cv;
        std::optional<V> value;
        void set(V v) {
            std::lock_guard<std::mutex> lk(m);
            value.emplace(std::move(v));
            cv.notify_all();
        }
        V wait() {
            std::unique_lock<std::mutex> lk(m);
            cv.wait(lk, [&] { return value.has_value(); });
            return std::move(*value);
        }
    };
#endif

    // A slot just freed: move the oldest waiting sender's value in.
    SendCallback admit_sender_locked() {
        if (senders_.empty() || buffer_.size() >= capacity_) return {};
        auto s = std::move(senders_.front());
        senders_.pop_front();
        buffer_.push_back(std::move(s.value));
        return std::move(s.cb);
    }

    const std::size_t capacity_;
    mutable Mutex mutex_;
    std::deque<T> buffer_;
    std::deque<Sender> senders_;
    std::deque<Receiver> receivers_;
    WaiterId next_id_ = 1;
    bool closed_ = false;
};

}  // namespace accel
