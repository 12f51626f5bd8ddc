#include "accel/completion_queue.hpp"

#include <cerrno>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <system_error>

#include <fcntl.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/eventfd.h>
#endif

namespace accel {

CompletionQueue::CompletionQueue(bool use_fd) {
    if (!use_fd) return;
#if defined(__linux__)
    read_fd_ = write_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (read_fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
#else
    int fds[2];
    if (::pipe(fds) != 0) throw std::system_error(errno, std::generic_category(), "pipe");
    for (int fd : fds) {
        ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
        ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    }
    read_fd_ = fds[0];
    write_fd_ = fds[1];
#endif
}

CompletionQueue::~CompletionQueue() {
    close();
    if (read_fd_ >= 0) ::close(read_fd_);
    if (write_fd_ >= 0 && write_fd_ != read_fd_) ::close(write_fd_);
}

void CompletionQueue::set_notifier(std::function<void()> notifier) {
    Lock lk(mutex_);
    notifier_ = std::move(notifier);
}

bool CompletionQueue::post(std::shared_ptr<LoopTask> task) {
    std::function<void()> notify;
    {
        Lock lk(mutex_);
        if (closed_) return false;
        tasks_.push_back(std::move(task));
        if (signalled_) return true;  // a wakeup is already on its way
        signalled_ = true;
        if (write_fd_ < 0) notify = notifier_;
        if (write_fd_ >= 0) {
            std::uint64_t one = 1;
            // EAGAIN only if the counter is saturated: already readable.
            [[maybe_unused]] auto n = ::write(write_fd_, &one, sizeof one);
        }
    }
    if (notify) notify();
    return true;
}

std::vector<std::shared_ptr<LoopTask>> CompletionQueue::take() {
    std::vector<std::shared_ptr<LoopTask>> out;
    Lock lk(mutex_);
    if (read_fd_ >= 0 && signalled_) {
        char buf[64];
        while (::read(read_fd_, buf, sizeof buf) > 0) {
        }
    }
    signalled_ = false;
    out.swap(tasks_);
    return out;
}

void CompletionQueue::close() {
    std::vector<std::shared_ptr<LoopTask>> dropped;
    Lock lk(mutex_);
    closed_ = true;
    dropped.swap(tasks_);
    notifier_ = nullptr;
    lk.unlock();
}

bool CompletionQueue::closed() const {
    Lock lk(mutex_);
    return closed_;
}

}  // namespace accel
