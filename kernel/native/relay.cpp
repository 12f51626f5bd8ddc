#include "relay.hpp"

#include <fcntl.h>
#include <stdexcept>
#include <unistd.h>

namespace xaccel
{
    wake_pipe::wake_pipe(const std::string& owner)
    {
        if (pipe2(m_fds, O_NONBLOCK | O_CLOEXEC) != 0)
        {
            throw std::runtime_error("cannot create the " + owner + "'s wake-up pipe");
        }
    }

    wake_pipe::~wake_pipe()
    {
        close(m_fds[0]);
        close(m_fds[1]);
    }

    void wake_pipe::notify() const
    {
        char byte = 1;
        // A full pipe already wakes the reader: nothing to do if this fails.
        (void)!write(m_fds[1], &byte, 1);
    }

    void wake_pipe::drain() const
    {
        char buffer[64];
        while (read(m_fds[0], buffer, sizeof(buffer)) > 0)
        {
        }
    }

    zmq::socket_t open_relay(zmq::context_t& context, const std::string& endpoint, zmq::socket_t& main_end)
    {
        zmq::socket_t own_end(context, zmq::socket_type::pair);
        own_end.set(zmq::sockopt::linger, 0);
        own_end.bind(endpoint);
        zmq::socket_t connected(context, zmq::socket_type::pair);
        connected.set(zmq::sockopt::linger, 0);
        connected.connect(endpoint);
        main_end = std::move(connected);
        return own_end;
    }
}
