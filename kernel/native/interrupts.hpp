// SIGINT must reach only the thread that runs Python and polls the sockets:
// there it interrupts zmq_poll (EINTR) and Python raises KeyboardInterrupt.
// Helper threads (ZeroMQ I/O, iopub, heartbeat, watchdog) must never take it.
// What an interrupt does is decided in Python (xaccel_kernel/interrupts.py).
#ifndef XACCEL_NATIVE_INTERRUPTS_HPP
#define XACCEL_NATIVE_INTERRUPTS_HPP

namespace xaccel
{
    // Call before any thread exists; threads created afterwards inherit the mask.
    void block_interrupts_in_new_threads();

    // Call on the main thread once the helper threads run.
    void accept_interrupts_on_this_thread();

    // Installs the kernel's SIGINT handler, whatever disposition the process
    // inherited (SIG_IGN from `nohup` or a script's `&`). Needs Python.
    void install_interrupt_handler();
}

#endif
