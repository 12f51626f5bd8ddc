#include "subshell_registry.hpp"

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <sys/eventfd.h>
#include <unistd.h>

namespace xaccel
{
    namespace
    {
        subshell_registry* g_subshells = nullptr;
    }

    subshell_registry* current_subshells() noexcept
    {
        return g_subshells;
    }

    void set_current_subshells(subshell_registry* registry) noexcept
    {
        g_subshells = registry;
    }

    subshell_queue::subshell_queue()
        : m_event_fd(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC))
    {
        if (m_event_fd < 0)
        {
            throw std::runtime_error("cannot create a subshell's eventfd");
        }
    }

    subshell_queue::~subshell_queue()
    {
        ::close(m_event_fd);
    }

    void subshell_queue::wake() noexcept
    {
        std::uint64_t one = 1;
        (void)!write(m_event_fd, &one, sizeof(one));
    }

    void subshell_queue::push(message request)
    {
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            m_requests.push_back(std::move(request));
        }
        wake();
    }

    void subshell_queue::close()
    {
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            m_closed = true;
        }
        wake();
    }

    std::vector<message> subshell_queue::take(bool& closed)
    {
        std::uint64_t count = 0;
        (void)!read(m_event_fd, &count, sizeof(count));
        std::lock_guard<std::mutex> lock(m_mutex);
        std::vector<message> out(std::make_move_iterator(m_requests.begin()),
                                 std::make_move_iterator(m_requests.end()));
        m_requests.clear();
        closed = m_closed;
        return out;
    }

    std::string subshell_registry::create()
    {
        std::string id = new_uuid();
        auto queue = std::make_shared<subshell_queue>();
        std::lock_guard<std::mutex> lock(m_mutex);
        m_subshells.emplace_back(id, std::move(queue));
        return id;
    }

    bool subshell_registry::remove(const std::string& id)
    {
        std::shared_ptr<subshell_queue> queue;
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            auto it = std::find_if(m_subshells.begin(), m_subshells.end(),
                                   [&](const auto& entry) { return entry.first == id; });
            if (it == m_subshells.end())
            {
                return false;
            }
            queue = std::move(it->second);
            m_subshells.erase(it);
        }
        queue->close();
        return true;
    }

    std::vector<std::string> subshell_registry::ids() const
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        std::vector<std::string> out;
        for (const auto& entry : m_subshells)
        {
            out.push_back(entry.first);
        }
        return out;
    }

    std::shared_ptr<subshell_queue> subshell_registry::queue(const std::string& id) const
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        for (const auto& entry : m_subshells)
        {
            if (entry.first == id)
            {
                return entry.second;
            }
        }
        return nullptr;
    }

    bool subshell_registry::push(const std::string& id, message request)
    {
        std::shared_ptr<subshell_queue> q = queue(id);
        if (!q)
        {
            return false;
        }
        q->push(std::move(request));
        return true;
    }

    bool subshell_registry::empty() const
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        return m_subshells.empty();
    }

    void subshell_registry::close_all()
    {
        std::vector<std::pair<std::string, std::shared_ptr<subshell_queue>>> all;
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            all.swap(m_subshells);
        }
        for (auto& entry : all)
        {
            entry.second->close();
        }
    }
}
