// Listening sockets handed over by the kernel's launcher.
//
// A Jupyter client connects as soon as it has started the kernel process,
// a few milliseconds before any kernel could listen; ZeroMQ then waits its
// reconnect interval (100 to 200 ms by default) before it tries again. The
// launcher of xaccel (xaccel_kernel/provisioner.py) listens on the shell,
// iopub, control and stdin ports itself before it starts the kernel and
// passes those sockets down, as systemd's socket activation does: early
// connections wait in the socket's backlog and the kernel's ZeroMQ sockets
// adopt the listeners (ZMQ_USE_FD) instead of binding the ports again.
//
// The hand-over is the environment variable XACCEL_LISTEN_FDS, e.g.
// "shell:3,iopub:4,control:5,stdin:6". A socket that is not a listening TCP
// socket on the address the connection file gives its channel is refused
// with a message, and the channel binds its port itself.
#ifndef XACCEL_NATIVE_INHERITED_LISTENERS_HPP
#define XACCEL_NATIVE_INHERITED_LISTENERS_HPP

#include <map>
#include <string>

#include <xeus/xkernel_configuration.hpp>

namespace xaccel
{
    // The connection file's port for a channel ("shell", "iopub", "control",
    // "stdin"); nullptr for any other name.
    std::string* connection_port(xeus::xconfiguration& config, const std::string& channel);
    const std::string* connection_port(const xeus::xconfiguration& config, const std::string& channel);

    class inherited_listeners
    {
    public:
        static constexpr const char* environment_variable = "XACCEL_LISTEN_FDS";

        // Reads and unsets the variable (the kernel's own subprocesses must
        // not see it) and checks each socket against `config`; the accepted
        // ones are marked close-on-exec.
        explicit inherited_listeners(const xeus::xconfiguration& config);
        // Closes the sockets no channel took.
        ~inherited_listeners();

        inherited_listeners(const inherited_listeners&) = delete;
        inherited_listeners& operator=(const inherited_listeners&) = delete;

        // Whether a listener was accepted for `channel` ("shell", "iopub",
        // "control" or "stdin").
        bool has(const std::string& channel) const;
        // Hands the listener over (ZeroMQ closes it with its socket); -1 if none.
        int take(const std::string& channel);

    private:
        std::map<std::string, int> m_fds;
    };
}

#endif
