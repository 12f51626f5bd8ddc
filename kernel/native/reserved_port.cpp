#include "reserved_port.hpp"

#include <algorithm>
#include <cstring>
#include <memory>
#include <stdexcept>

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace xaccel
{
    namespace
    {
        struct addrinfo_deleter
        {
            void operator()(addrinfo* info) const noexcept { freeaddrinfo(info); }
        };
        using addrinfo_ptr = std::unique_ptr<addrinfo, addrinfo_deleter>;

        // ZeroMQ's "*" is the wildcard address.
        addrinfo_ptr numeric_address(const std::string& ip)
        {
            addrinfo hints{};
            hints.ai_family = AF_UNSPEC;
            hints.ai_socktype = SOCK_STREAM;
            hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
            addrinfo* found = nullptr;
            const char* host = ip == "*" ? nullptr : ip.c_str();
            int rc = getaddrinfo(host, "0", &hints, &found);
            if (rc != 0 || found == nullptr)
            {
                throw std::runtime_error("'" + ip + "' is not a numeric IP address: " + gai_strerror(rc));
            }
            return addrinfo_ptr(found);
        }

        int port_of(const sockaddr_storage& address)
        {
            if (address.ss_family == AF_INET6)
            {
                return ntohs(reinterpret_cast<const sockaddr_in6&>(address).sin6_port);
            }
            return ntohs(reinterpret_cast<const sockaddr_in&>(address).sin_port);
        }
    }

    reserved_port::reserved_port(const std::string& ip, const std::vector<int>& avoid)
    {
        addrinfo_ptr address = numeric_address(ip);
        // A port in `avoid` is released and another asked for; the OS picks
        // at random, so a handful of tries is plenty.
        for (int attempt = 0; attempt < 32; ++attempt)
        {
            int fd = socket(address->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
            if (fd < 0)
            {
                throw std::runtime_error(std::string("cannot open a socket: ") + std::strerror(errno));
            }
            int on = 1;
            sockaddr_storage bound{};
            socklen_t length = sizeof(bound);
            if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0
                || bind(fd, address->ai_addr, address->ai_addrlen) != 0
                || getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length) != 0)
            {
                int error = errno;
                close(fd);
                throw std::runtime_error("cannot bind a spare port on " + ip + ": " + std::strerror(error));
            }
            int port = port_of(bound);
            if (std::find(avoid.begin(), avoid.end(), port) == avoid.end())
            {
                m_fd = fd;
                m_port = port;
                return;
            }
            close(fd);
        }
        throw std::runtime_error("no spare port on " + ip + " outside the connection file's ports");
    }

    reserved_port::~reserved_port()
    {
        release();
    }

    void reserved_port::release() noexcept
    {
        if (m_fd >= 0)
        {
            close(m_fd);
            m_fd = -1;
        }
    }
}
