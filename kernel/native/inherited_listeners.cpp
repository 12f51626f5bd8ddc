#include "inherited_listeners.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <sstream>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

namespace xaccel
{
    namespace
    {
        bool is_socket(int fd)
        {
            struct stat info{};
            return fstat(fd, &info) == 0 && S_ISSOCK(info.st_mode);
        }

        int socket_option(int fd, int option)
        {
            int value = 0;
            socklen_t length = sizeof(value);
            return getsockopt(fd, SOL_SOCKET, option, &value, &length) == 0 ? value : -1;
        }

        // Empty if `fd` listens on the address `config` gives `channel`; else why not.
        std::string check(int fd, const xeus::xconfiguration& config, const std::string& channel)
        {
            const std::string* port = connection_port(config, channel);
            if (port == nullptr)
            {
                return "'" + channel + "' is not a channel the launcher can hand over";
            }
            if (config.m_transport != "tcp")
            {
                return "the connection file's transport is " + config.m_transport + ", not tcp";
            }
            if (!is_socket(fd))
            {
                return "not a socket";
            }
            if (socket_option(fd, SO_DOMAIN) != AF_INET || socket_option(fd, SO_TYPE) != SOCK_STREAM)
            {
                return "not a TCP/IPv4 socket";
            }
            if (socket_option(fd, SO_ACCEPTCONN) != 1)
            {
                return "not listening";
            }
            sockaddr_in address{};
            socklen_t length = sizeof(address);
            if (getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0)
            {
                return std::string("getsockname: ") + std::strerror(errno);
            }
            in_addr expected{};
            if (config.m_ip == "*")
            {
                expected.s_addr = htonl(INADDR_ANY);
            }
            else if (inet_pton(AF_INET, config.m_ip.c_str(), &expected) != 1)
            {
                return "the connection file's ip '" + config.m_ip + "' is not a numeric IPv4 address";
            }
            char bound[INET_ADDRSTRLEN] = {};
            inet_ntop(AF_INET, &address.sin_addr, bound, sizeof(bound));
            std::string where = std::string(bound) + ":" + std::to_string(ntohs(address.sin_port));
            if (address.sin_addr.s_addr != expected.s_addr || std::to_string(ntohs(address.sin_port)) != *port)
            {
                return "it listens on " + where + ", the connection file says " + config.m_ip + ":" + *port;
            }
            return {};
        }

        // "3" -> 3; -1 unless a whole decimal number above stderr's fd.
        int parse_fd(const std::string& text)
        {
            if (text.empty() || text.size() > 9 || text.find_first_not_of("0123456789") != std::string::npos)
            {
                return -1;
            }
            int fd = std::stoi(text);
            return fd > 2 ? fd : -1;
        }
    }

    std::string* connection_port(xeus::xconfiguration& config, const std::string& channel)
    {
        return channel == "shell"     ? &config.m_shell_port
               : channel == "iopub"   ? &config.m_iopub_port
               : channel == "control" ? &config.m_control_port
               : channel == "stdin"   ? &config.m_stdin_port
                                      : nullptr;
    }

    const std::string* connection_port(const xeus::xconfiguration& config, const std::string& channel)
    {
        return connection_port(const_cast<xeus::xconfiguration&>(config), channel);
    }

    inherited_listeners::inherited_listeners(const xeus::xconfiguration& config)
    {
        const char* value = std::getenv(environment_variable);
        if (value == nullptr)
        {
            return;
        }
        const std::string list = value;
        unsetenv(environment_variable);
        std::istringstream items(list);
        std::string item;
        while (std::getline(items, item, ','))
        {
            const std::size_t colon = item.find(':');
            const std::string channel = item.substr(0, colon);
            const int fd = colon == std::string::npos ? -1 : parse_fd(item.substr(colon + 1));
            std::string problem = fd < 0 ? "no file descriptor number" : check(fd, config, channel);
            if (problem.empty() && m_fds.count(channel) != 0)
            {
                problem = "named twice";
            }
            if (problem.empty())
            {
                fcntl(fd, F_SETFD, fcntl(fd, F_GETFD) | FD_CLOEXEC);
                m_fds[channel] = fd;
                continue;
            }
            std::cerr << "xaccel: " << environment_variable << ": '" << item << "' refused (" << problem
                      << "); that channel binds its port itself" << std::endl;
            // A listener on the wrong address is the launcher's and useless
            // here; anything else (a file, a pipe) is left alone.
            if (fd >= 0 && is_socket(fd) && socket_option(fd, SO_ACCEPTCONN) == 1)
            {
                close(fd);
            }
        }
    }

    inherited_listeners::~inherited_listeners()
    {
        for (const auto& entry : m_fds)
        {
            close(entry.second);
        }
    }

    bool inherited_listeners::has(const std::string& channel) const
    {
        return m_fds.count(channel) != 0;
    }

    int inherited_listeners::take(const std::string& channel)
    {
        auto found = m_fds.find(channel);
        if (found == m_fds.end())
        {
            return -1;
        }
        int fd = found->second;
        m_fds.erase(found);
        return fd;
    }
}
