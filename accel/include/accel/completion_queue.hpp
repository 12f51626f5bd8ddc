// Hand-off from runtime threads to an event loop thread. Producers post
// plain C++ tasks; the loop is woken once per batch (eventfd/pipe readable,
// or a notifier callback when the loop can't watch fds) and runs them all.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "accel/config.hpp"

namespace accel {

class LoopTask {
public:
    virtual ~LoopTask() = default;
    // Called on the loop thread only.
    virtual void run_on_loop() = 0;
};

class CompletionQueue {
public:
    // use_fd: create an eventfd (pipe off Linux) the loop can watch.
    explicit CompletionQueue(bool use_fd);
    ~CompletionQueue();
    CompletionQueue(const CompletionQueue&) = delete;
    CompletionQueue& operator=(const CompletionQueue&) = delete;

    int fd() const { return read_fd_; }
    // Called (outside the lock) when the queue goes from empty to non-empty
    // and there is no fd; must be thread-safe.
    void set_notifier(std::function<void()> notifier);
    // Thread-safe. Returns false (task dropped) after close().
    bool post(std::shared_ptr<LoopTask> task);
    // Loop thread: take the batch and re-arm the wakeup.
    std::vector<std::shared_ptr<LoopTask>> take();
    void close();
    bool closed() const;

private:
    mutable Mutex mutex_;
    std::vector<std::shared_ptr<LoopTask>> tasks_;
    bool signalled_ = false;
    bool closed_ = false;
    int read_fd_ = -1;
    int write_fd_ = -1;
    std::function<void()> notifier_;
};

}  // namespace accel
