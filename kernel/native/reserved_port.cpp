#include "reserved_port.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
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

        // The IPv4 address ZeroMQ binds for `ip` (xeus does not enable
        // ZeroMQ's IPv6, and a bind never looks names up): a numeric address,
        // or "*" for any. An interface name ("lo") is not resolved here.
        sockaddr_in bind_address(const std::string& ip)
        {
            addrinfo hints{};
            hints.ai_family = AF_INET;
            hints.ai_socktype = SOCK_STREAM;
            hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
            addrinfo* found = nullptr;
            const char* host = ip == "*" ? nullptr : ip.c_str();
            int rc = getaddrinfo(host, "0", &hints, &found);
            if (rc != 0 || found == nullptr)
            {
                throw std::runtime_error("'" + ip + "' is not a numeric IPv4 address: " + gai_strerror(rc));
            }
            std::unique_ptr<addrinfo, addrinfo_deleter> owner(found);
            sockaddr_in address{};
            std::memcpy(&address, found->ai_addr, sizeof(address));
            return address;
        }

        // A bound, non-listening SO_REUSEADDR socket on `port` (0: the OS
        // picks); -1 if the port is taken.
        int hold(sockaddr_in address, int port, int& bound_port)
        {
            int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            if (fd < 0)
            {
                throw std::runtime_error(std::string("cannot open a socket: ") + std::strerror(errno));
            }
            address.sin_port = htons(static_cast<std::uint16_t>(port));
            socklen_t length = sizeof(address);
            int on = 1;
            if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0
                || bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0
                || getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0)
            {
                int error = errno;
                close(fd);
                if (error == EADDRINUSE || error == EACCES)
                {
                    return -1;
                }
                throw std::runtime_error(std::string("cannot bind a spare port: ") + std::strerror(error));
            }
            bound_port = ntohs(address.sin_port);
            return fd;
        }

        // Linux's ephemeral port range and the ports it keeps out of it.
        struct port_range
        {
            int low = 0;
            int high = -1;
            std::vector<std::pair<int, int>> reserved;

            bool reserves(int port) const
            {
                return std::any_of(reserved.begin(), reserved.end(),
                                   [port](const auto& r) { return port >= r.first && port <= r.second; });
            }
        };

        port_range ephemeral_ports()
        {
            port_range range;
            std::ifstream("/proc/sys/net/ipv4/ip_local_port_range") >> range.low >> range.high;
            std::ifstream reserved_file("/proc/sys/net/ipv4/ip_local_reserved_ports");
            std::string item;
            while (std::getline(reserved_file, item, ','))
            {
                int first = 0;
                int last = 0;
                char dash = 0;
                std::istringstream in(item);
                if (in >> first)
                {
                    last = (in >> dash >> last) ? last : first;
                    range.reserved.emplace_back(first, last);
                }
            }
            return range;
        }
    }

    // Linux gives bind(0) ports of one parity of its ephemeral range and
    // connect() the other. jupyter_client picks the connection file's ports
    // with bind(0), for this kernel and for any other starting meanwhile: a
    // port of the other parity is none of them. The parity bind(0) uses is
    // read from one bind(0); without a usable range, the OS's pick (outside
    // `avoid`) is kept.
    reserved_port::reserved_port(const std::string& ip, const std::vector<int>& avoid)
    {
        const sockaddr_in address = bind_address(ip);
        auto avoided = [&avoid](int port) { return std::find(avoid.begin(), avoid.end(), port) != avoid.end(); };
        port_range range = ephemeral_ports();
        int probe_port = 0;
        int probe = hold(address, 0, probe_port);
        if (probe >= 0)
        {
            close(probe);  // at once: it may be a port a client has just picked
        }
        if (probe >= 0 && range.high - range.low >= 64)
        {
            std::mt19937 random(std::random_device{}());
            const int count = (range.high - range.low) / 2;
            const int first = range.low + (range.low + probe_port + 1) % 2;  // the other parity
            int index = std::uniform_int_distribution<int>(0, count - 1)(random);
            for (int tries = 0; tries < count && tries < 256; ++tries, index = (index + 1) % count)
            {
                int port = first + 2 * index;
                if (avoided(port) || range.reserves(port))
                {
                    continue;
                }
                m_fd = hold(address, port, m_port);
                if (m_fd >= 0)
                {
                    return;
                }
            }
        }
        // No range to choose from, or nothing free in it: the OS's pick.
        for (int attempt = 0; attempt < 32; ++attempt)
        {
            m_fd = hold(address, 0, m_port);
            if (m_fd < 0)
            {
                break;
            }
            if (!avoided(m_port))
            {
                return;
            }
            release();
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
