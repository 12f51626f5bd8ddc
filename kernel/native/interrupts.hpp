// SIGINT must reach only the thread that runs Python and polls the sockets:
// there it interrupts zmq_poll (EINTR) and Python raises KeyboardInterrupt.
// Helper threads (ZeroMQ I/O, iopub, heartbeat) must never take it.
#ifndef XACCEL_NATIVE_INTERRUPTS_HPP
#define XACCEL_NATIVE_INTERRUPTS_HPP

namespace xaccel
{
    // Call before any thread exists; threads created afterwards inherit the mask.
    void block_interrupts_in_new_threads();

    // Call on the main thread once the helper threads run.
    void accept_interrupts_on_this_thread();

    // Holds SIGINT back on this thread for its lifetime (e.g. while the engine
    // imports IPython: an interrupt then must not abort the import); a signal
    // that arrived meanwhile is delivered when it ends.
    class interrupts_deferred
    {
    public:
        interrupts_deferred();
        ~interrupts_deferred();
        interrupts_deferred(const interrupts_deferred&) = delete;
        interrupts_deferred& operator=(const interrupts_deferred&) = delete;
    };
}

#endif
