// The subshells of the native kernel (protocol 5.5, JEP 91): their ids and
// the queue of shell requests of each one.
//
// The shell channel thread pushes requests that name a subshell; the
// subshell's Python thread (xaccel_kernel/subshells.py) takes them, woken by
// the queue's eventfd, which its asyncio loop watches. The control thread
// creates, deletes and lists subshells. Every method is thread-safe.
#ifndef XACCEL_NATIVE_SUBSHELL_REGISTRY_HPP
#define XACCEL_NATIVE_SUBSHELL_REGISTRY_HPP

#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "../core/message.hpp"

namespace xaccel
{
    // The requests of one subshell. Outlives its removal from the registry
    // until its thread lets it go.
    class subshell_queue
    {
    public:
        subshell_queue();
        ~subshell_queue();
        subshell_queue(const subshell_queue&) = delete;
        subshell_queue& operator=(const subshell_queue&) = delete;

        void push(message request);
        // Ends the subshell: its thread sees `closed` once the queue is empty.
        void close();
        // The requests waiting, oldest first, without blocking.
        std::vector<message> take(bool& closed);
        // Readable while requests wait or once closed.
        int fileno() const noexcept { return m_event_fd; }

    private:
        void wake() noexcept;

        std::mutex m_mutex;
        std::deque<message> m_requests;
        bool m_closed = false;
        int m_event_fd = -1;
    };

    class subshell_registry
    {
    public:
        // A new subshell; returns its id.
        std::string create();
        // Closes the subshell's queue; false if `id` names none.
        bool remove(const std::string& id);
        // Ids in creation order.
        std::vector<std::string> ids() const;
        // Queues `request` for subshell `id`; false if there is none.
        bool push(const std::string& id, message request);
        std::shared_ptr<subshell_queue> queue(const std::string& id) const;
        bool empty() const;
        // Closes every queue (the kernel is shutting down).
        void close_all();

    private:
        mutable std::mutex m_mutex;
        std::vector<std::pair<std::string, std::shared_ptr<subshell_queue>>> m_subshells;
    };

    // The registry of this process (null in the browser build and before the
    // transport exists), for the `_xaccel_subshells` module.
    subshell_registry* current_subshells() noexcept;
    void set_current_subshells(subshell_registry* registry) noexcept;
}

#endif
