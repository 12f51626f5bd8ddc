#include <cstdint>
#include <cstdlib>
#include <string>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "native/inherited_listeners.hpp"

namespace xaccel
{
    namespace
    {
        // A listening socket on 127.0.0.1 (port 0: the OS picks), as the
        // provisioner makes them.
        int listening_socket(int& port)
        {
            int fd = socket(AF_INET, SOCK_STREAM, 0);
            int on = 1;
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
            sockaddr_in address{};
            address.sin_family = AF_INET;
            address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            socklen_t length = sizeof(address);
            if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 || listen(fd, 8) != 0
                || getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0)
            {
                close(fd);
                return -1;
            }
            port = ntohs(address.sin_port);
            return fd;
        }

        bool is_open(int fd)
        {
            return fcntl(fd, F_GETFD) != -1;
        }

        xeus::xconfiguration config_with(int shell_port, int iopub_port)
        {
            xeus::xconfiguration config;
            config.m_ip = "127.0.0.1";
            config.m_shell_port = std::to_string(shell_port);
            config.m_iopub_port = std::to_string(iopub_port);
            config.m_control_port = "1";
            config.m_stdin_port = "2";
            return config;
        }
    }

    TEST(inherited_listeners, takes_listeners_on_the_connection_files_ports)
    {
        int shell_port = 0;
        int iopub_port = 0;
        int shell = listening_socket(shell_port);
        int iopub = listening_socket(iopub_port);
        ASSERT_GE(shell, 0);
        ASSERT_GE(iopub, 0);
        std::string hand_over = "shell:" + std::to_string(shell) + ",iopub:" + std::to_string(iopub);
        setenv(inherited_listeners::environment_variable, hand_over.c_str(), 1);
        {
            inherited_listeners listeners(config_with(shell_port, iopub_port));
            EXPECT_EQ(std::getenv(inherited_listeners::environment_variable), nullptr);
            EXPECT_TRUE(listeners.has("shell"));
            EXPECT_FALSE(listeners.has("control"));
            EXPECT_NE(fcntl(shell, F_GETFD) & FD_CLOEXEC, 0);
            EXPECT_EQ(listeners.take("shell"), shell);
            EXPECT_EQ(listeners.take("shell"), -1);
            close(shell);
        }
        // The one not taken is closed with the object.
        EXPECT_FALSE(is_open(iopub));
    }

    TEST(inherited_listeners, refuses_what_is_not_a_listener_on_the_right_port)
    {
        int port = 0;
        int elsewhere = listening_socket(port);
        int pipe_ends[2];
        ASSERT_EQ(pipe(pipe_ends), 0);
        int unbound = socket(AF_INET, SOCK_STREAM, 0);
        std::string hand_over = "shell:" + std::to_string(elsewhere) + ",iopub:" + std::to_string(pipe_ends[0])
                                + ",control:" + std::to_string(unbound) + ",stdin:x,heartbeat:"
                                + std::to_string(elsewhere) + ",nonsense";
        setenv(inherited_listeners::environment_variable, hand_over.c_str(), 1);
        inherited_listeners listeners(config_with(port + 1, port + 2));
        for (const char* channel : {"shell", "iopub", "control", "stdin", "heartbeat"})
        {
            EXPECT_FALSE(listeners.has(channel)) << channel;
        }
        // A listener on the wrong port would keep that port: closed. The
        // pipe and the socket that is not listening are not the kernel's to close.
        EXPECT_FALSE(is_open(elsewhere));
        EXPECT_TRUE(is_open(pipe_ends[0]));
        EXPECT_TRUE(is_open(unbound));
        close(pipe_ends[0]);
        close(pipe_ends[1]);
        close(unbound);
    }

    // What the kernel relies on in libzmq: a client that connected before any
    // ZeroMQ socket existed (its connection waits in the listener's backlog)
    // is served once a ROUTER adopts the listener with ZMQ_USE_FD.
    TEST(inherited_listeners, zeromq_serves_a_connection_made_before_it_adopted_the_listener)
    {
        int port = 0;
        int fd = listening_socket(port);
        ASSERT_GE(fd, 0);
        std::string endpoint = "tcp://127.0.0.1:" + std::to_string(port);
        zmq::context_t context;
        zmq::socket_t client(context, zmq::socket_type::dealer);
        client.set(zmq::sockopt::reconnect_ivl, -1);  // a refused connection would stay refused
        client.set(zmq::sockopt::linger, 0);
        client.connect(endpoint);
        client.send(zmq::str_buffer("early"), zmq::send_flags::none);

        zmq::socket_t server(context, zmq::socket_type::router);
        server.set(zmq::sockopt::linger, 0);
        server.set(zmq::sockopt::use_fd, fd);
        server.bind(endpoint);
        server.set(zmq::sockopt::rcvtimeo, 30000);
        zmq::multipart_t request;
        ASSERT_TRUE(request.recv(server));
        ASSERT_EQ(request.size(), 2u);
        EXPECT_EQ(request[1].to_string(), "early");
        request[1] = zmq::message_t(std::string("served"));
        request.send(server);
        client.set(zmq::sockopt::rcvtimeo, 30000);
        zmq::message_t reply;
        ASSERT_TRUE(client.recv(reply));
        EXPECT_EQ(reply.to_string(), "served");
    }
}
