#include "watchdog.hpp"

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <pybind11/pybind11.h>

namespace xaccel
{
    namespace
    {
        // While a pending call waits to be run: how often the watchdog checks
        // whether the main thread is blocked in a system call.
        constexpr int tick_ms = 50;

        // The watchdog a pending call serves: a queued call may outlive the
        // object (Python runs leftover calls as it finalizes). Only the main
        // thread sets and reads it.
        watchdog* g_serving = nullptr;

        // The watchdog the control thread tells about waiting messages (it
        // outlives the control thread: main.cpp stops that one first).
        std::atomic<watchdog*> g_active{nullptr};

        // Ticks without the main thread running its pending call after
        // which it is taken as blocked in a system call.
        constexpr int blocked_after_ticks = 2;

        // A pidfd for the process that started the kernel (as jupyter_client
        // sets JPY_PARENT_PID), -1 if none; -2 if it is already gone.
        int open_parent()
        {
            const char* text = std::getenv("JPY_PARENT_PID");
            if (text == nullptr || *text == '\0')
            {
                return -1;
            }
            char* end = nullptr;
            long pid = std::strtol(text, &end, 10);
            if (*end != '\0' || pid <= 1)
            {
                return -1;
            }
            long fd = syscall(SYS_pidfd_open, static_cast<pid_t>(pid), 0);
            if (fd < 0)
            {
                return errno == ESRCH ? -2 : -1;
            }
            return static_cast<int>(fd);
        }
    }

    watchdog::watchdog(std::function<void()> serve_control, std::function<void()> parent_exited)
        : m_serve_control(std::move(serve_control))
        , m_parent_exited(std::move(parent_exited))
        , m_main_thread(pthread_self())
        , m_wake_fd(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC))
        , m_parent_fd(open_parent())
    {
        if (m_wake_fd < 0)
        {
            throw std::runtime_error("watchdog: cannot create an eventfd");
        }
        if (m_parent_fd == -2)
        {
            m_parent_fd = -1;
            m_parent_exited();
        }
        m_thread = std::thread([this] { run(); });
        g_serving = this;
        g_active = this;
    }

    watchdog::~watchdog()
    {
        stop();
        close(m_wake_fd);
        if (m_parent_fd >= 0)
        {
            close(m_parent_fd);
        }
    }

    void watchdog::stop() noexcept
    {
        if (g_serving == this)
        {
            g_serving = nullptr;
        }
        watchdog* self = this;
        g_active.compare_exchange_strong(self, nullptr);
        if (m_thread.joinable())
        {
            m_stopping = true;
            wake();
            // The thread may wait for the GIL (see run()).
            Py_BEGIN_ALLOW_THREADS
            m_thread.join();
            Py_END_ALLOW_THREADS
        }
    }

    void watchdog::wake() noexcept
    {
        std::uint64_t one = 1;
        ssize_t written = write(m_wake_fd, &one, sizeof(one));
        (void)written;  // a full counter wakes the thread as well
    }

    void watchdog::cell_started() noexcept
    {
        // Sequentially consistent with control_waiting(): of a cell that
        // starts and a message that arrives at once, one side wakes the thread.
        m_executing = true;
        if (m_control_waiting)
        {
            wake();
        }
    }

    void watchdog::cell_finished() noexcept
    {
        // No wake-up: the main thread serves control itself from now on.
        m_executing = false;
        m_shutdown_waiting = false;
    }

    void watchdog::control_waiting(bool shutdown) noexcept
    {
        watchdog* dog = g_active.load();
        if (dog == nullptr)
        {
            return;
        }
        if (shutdown)
        {
            dog->m_shutdown_waiting = true;
        }
        dog->m_control_waiting = true;
        if (dog->m_executing)
        {
            dog->wake();
        }
    }

    void watchdog::run()
    {
        int unserved_ticks = 0;
        while (!m_stopping)
        {
            // Ticks only while a running cell has control messages waiting;
            // otherwise sleep (a cell start or a message wakes the thread).
            const bool needed = m_executing && m_control_waiting;
            pollfd fds[2] = {{m_wake_fd, POLLIN, 0}, {m_parent_fd, POLLIN, 0}};
            int ready = poll(fds, m_parent_fd >= 0 ? 2 : 1, needed ? tick_ms : -1);
            if (ready < 0)
            {
                continue;  // EINTR
            }
            if (fds[0].revents & POLLIN)
            {
                std::uint64_t count = 0;
                ssize_t got = read(m_wake_fd, &count, sizeof(count));
                (void)got;
            }
            if (m_parent_fd >= 0 && fds[1].revents != 0)
            {
                close(m_parent_fd);
                m_parent_fd = -1;
                m_parent_exited();
                // EINTR for whatever the main thread waits in; the kernel's
                // handler raises KeyboardInterrupt in a running cell.
                pthread_kill(m_main_thread, SIGINT);
                continue;
            }
            if (m_stopping || !m_executing || !m_control_waiting)
            {
                unserved_ticks = 0;
                continue;
            }
            if (m_scheduled.exchange(true))
            {
                // The pending call has not run yet: the cell is in a system
                // call (or C code holding the GIL).
                if (ready == 0 && ++unserved_ticks >= blocked_after_ticks && m_shutdown_waiting.exchange(false))
                {
                    pthread_kill(m_main_thread, SIGINT);
                }
                continue;
            }
            unserved_ticks = 0;
            if (Py_AddPendingCall(&watchdog::serve_control_now, nullptr) != 0)
            {
                m_scheduled = false;  // the queue is full: next tick
                continue;
            }
            // Python 3.11 does not wake the main thread for a call added
            // from another thread; asking for the GIL does (the main thread
            // runs its pending calls before it hands the GIL over, or when it
            // takes it back after a blocking call). This GIL handoff is why
            // the watchdog asks only when a control message waits.
            PyGILState_STATE state = PyGILState_Ensure();
            PyGILState_Release(state);
        }
    }

    int watchdog::serve_control_now(void*)
    {
        watchdog* dog = g_serving;
        if (dog == nullptr)
        {
            return 0;
        }
        // Cleared before serving: a message relayed from now on asks again.
        dog->m_scheduled = false;
        dog->m_control_waiting = false;
        dog->m_shutdown_waiting = false;
        if (!dog->m_executing || dog->m_stopping)
        {
            return 0;
        }
        try
        {
            dog->m_serve_control();
            return 0;
        }
        catch (pybind11::error_already_set& e)
        {
            // KeyboardInterrupt (an interrupt_request or a shutdown): raised
            // in the running cell.
            e.restore();
            return -1;
        }
        catch (std::exception& e)
        {
            std::cerr << "xaccel: while serving control during a cell: " << e.what() << std::endl;
            return 0;
        }
    }
}
