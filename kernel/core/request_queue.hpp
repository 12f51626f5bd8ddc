// Shell requests held back by the kernel core, in arrival order: those that
// arrive while a cell runs on the event loop (browser build), and those taken
// from the transport after an execute error with stop_on_error.
//
// After such an error, every request queued at that moment is marked: an
// execute_request among them is answered `aborted` instead of being run (as
// ipykernel does); other requests are handled normally, in order. Requests
// queued later run normally.
//
// Where requests also wait out of the kernel's reach (see
// transport::requests_wait_out_of_reach), the time of the error is kept: an
// execute_request sent before it (its header's `date`) is aborted when it
// arrives; one sent after the error's reply runs.
#ifndef XACCEL_CORE_REQUEST_QUEUE_HPP
#define XACCEL_CORE_REQUEST_QUEUE_HPP

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>

#include "message.hpp"
#include "send_time.hpp"

namespace xaccel
{
    class request_queue
    {
    public:
        struct entry
        {
            message request;
            // Queued before an execute error that stops the queue.
            bool queued_before_error = false;
        };

        void push(message request) { m_items.push_back(std::move(request)); }
        bool empty() const noexcept { return m_items.empty(); }
        std::size_t size() const noexcept { return m_items.size(); }

        // Marks every request queued now as queued before an error.
        void mark_queued_before_error() noexcept { m_marked = m_items.size(); }

        // The oldest request. Precondition: !empty().
        entry pop()
        {
            entry e{std::move(m_items.front()), m_marked > 0};
            m_items.pop_front();
            if (m_marked > 0)
            {
                --m_marked;
            }
            return e;
        }

        // Remembers when the last stopping error happened (before its reply left).
        void mark_error_time(std::int64_t ms) noexcept { m_error_ms = ms; }

        // An execute_request sent before the last stopping error.
        bool sent_before_error(const message& request) const
        {
            if (!m_error_ms || request.msg_type() != "execute_request")
            {
                return false;
            }
            std::optional<std::int64_t> sent = sent_at_ms(request);
            // Whole milliseconds on both sides: a request sent in the same
            // millisecond as the error may be one sent after its reply.
            return sent && *sent < *m_error_ms;
        }

    private:
        std::deque<message> m_items;
        std::optional<std::int64_t> m_error_ms;
        // How many requests at the front were queued before the last error.
        std::size_t m_marked = 0;
    };
}

#endif
