// A helper thread for what the main thread cannot see while a cell's code
// runs synchronously (`while True: pass`): control messages (shutdown,
// interrupt_request) and the death of the parent process.
//
// - When the control thread relays a message while a cell runs, the
//   watchdog asks the main thread, through a Python pending call (run between
//   two bytecodes, with the GIL), to serve the control socket; an exception
//   from it (KeyboardInterrupt) lands in the cell. It asks only then: waking
//   the main thread for a pending call costs a GIL handoff.
// - A shutdown_request while the cell blocks in a system call
//   (`time.sleep(100)`, a socket read) would wait for that call to end:
//   pending calls run only between bytecodes. When the pending call has not
//   run for two ticks, the watchdog sends SIGINT to the main thread instead:
//   the call fails with EINTR and the kernel's handler raises
//   KeyboardInterrupt in the cell.
// - It watches the parent process (JPY_PARENT_PID) with a pidfd: when the
//   parent goes away it stops the kernel and interrupts the running code.
//
// Without control messages the thread sleeps in poll() and costs nothing,
// also while cells run.
#ifndef XACCEL_NATIVE_WATCHDOG_HPP
#define XACCEL_NATIVE_WATCHDOG_HPP

#include <atomic>
#include <functional>
#include <pthread.h>
#include <thread>

#include "../core/kernel_core.hpp"

namespace xaccel
{
    class watchdog final : public execution_observer
    {
    public:
        // `serve_control` runs on the main thread with the GIL and reports
        // Python errors by throwing; `parent_exited` runs on the watchdog's
        // thread. Construct on the main thread (it is the one interrupted).
        watchdog(std::function<void()> serve_control, std::function<void()> parent_exited);
        ~watchdog();

        watchdog(const watchdog&) = delete;
        watchdog& operator=(const watchdog&) = delete;

        void cell_started() noexcept override;
        void cell_finished() noexcept override;

        // Ends the thread (idempotent). Call before Python is finalized.
        void stop() noexcept;

        // The control thread relayed a message (`shutdown`: a
        // shutdown_request) that the main thread must see now. Any thread.
        static void control_waiting(bool shutdown) noexcept;

    private:
        void run();
        void wake() noexcept;
        static int serve_control_now(void*);

        std::function<void()> m_serve_control;
        std::function<void()> m_parent_exited;
        pthread_t m_main_thread;
        int m_wake_fd = -1;
        int m_parent_fd = -1;
        std::atomic<bool> m_executing{false};
        std::atomic<bool> m_scheduled{false};
        std::atomic<bool> m_stopping{false};
        std::atomic<bool> m_control_waiting{false};
        std::atomic<bool> m_shutdown_waiting{false};
        std::thread m_thread;
    };
}

#endif
