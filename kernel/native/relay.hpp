// A pipe that wakes a zmq_poll from another thread (control_thread,
// shell_channel), and the inproc PAIR over which the control thread relays
// requests to the main thread.
#ifndef XACCEL_NATIVE_RELAY_HPP
#define XACCEL_NATIVE_RELAY_HPP

#include <string>

#include <zmq.hpp>

namespace xaccel
{
    // A non-blocking pipe: notify() from any thread makes read_fd() readable.
    class wake_pipe
    {
    public:
        // owner names the thread in the error thrown if no pipe can be made.
        explicit wake_pipe(const std::string& owner);
        ~wake_pipe();
        wake_pipe(const wake_pipe&) = delete;
        wake_pipe& operator=(const wake_pipe&) = delete;

        int read_fd() const { return m_fds[0]; }
        void notify() const;
        void drain() const;

    private:
        int m_fds[2] = {-1, -1};
    };

    // Binds a PAIR at the inproc endpoint and returns it (the relaying thread's
    // end); main_end becomes the PAIR connected to it, so that the main thread
    // reads relayed requests where it used to read the ROUTER itself.
    zmq::socket_t open_relay(zmq::context_t& context, const std::string& endpoint, zmq::socket_t& main_end);
}

#endif
