// A TCP port held for a socket that is about to bind it.
//
// xeus 2.4.1 binds its own iopub publisher, which the kernel replaces
// (iopub_publisher.hpp), before it binds the other channels. Letting the OS
// pick that spare port (port 0) could hand out one of the connection file's
// ports, freed by the client a moment ago and not yet bound (or the ports of
// another kernel starting at the same time): that kernel then died with
// "Address already in use". reserved_port picks a port that no bind(0) is
// handed (see the constructor) outside a given set, and keeps a bound,
// non-listening SO_REUSEADDR socket on it, so no one else takes it, until the
// ZeroMQ listener (which also sets SO_REUSEADDR) has bound it.
#ifndef XACCEL_NATIVE_RESERVED_PORT_HPP
#define XACCEL_NATIVE_RESERVED_PORT_HPP

#include <string>
#include <vector>

namespace xaccel
{
    class reserved_port
    {
    public:
        // Throws std::runtime_error when `ip` is not a numeric IPv4 address
        // (or "*": any) or no port outside `avoid` can be bound.
        reserved_port(const std::string& ip, const std::vector<int>& avoid);
        ~reserved_port();

        reserved_port(const reserved_port&) = delete;
        reserved_port& operator=(const reserved_port&) = delete;

        int number() const noexcept { return m_port; }
        // Lets the port go; the socket that bound it keeps it.
        void release() noexcept;

    private:
        int m_fd = -1;
        int m_port = 0;
    };
}

#endif
