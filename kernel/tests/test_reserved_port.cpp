#include <cerrno>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <set>
#include <vector>

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zmq.hpp>

#include "native/reserved_port.hpp"

namespace xaccel
{
    namespace
    {
        struct bind_result
        {
            int error;  // errno, 0 if it bound
            int port;   // the port bound
        };

        // A plain bind (no SO_REUSEADDR) to 127.0.0.1:port, released at once.
        bind_result plain_bind(int port)
        {
            int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            sockaddr_in address{};
            address.sin_family = AF_INET;
            address.sin_port = htons(static_cast<std::uint16_t>(port));
            address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            socklen_t length = sizeof(address);
            bind_result result{0, 0};
            if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0)
            {
                result.error = errno;
            }
            else if (getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0)
            {
                result.port = ntohs(address.sin_port);
            }
            close(fd);
            return result;
        }
    }

    TEST(reserved_port, keeps_others_off_the_port_until_released)
    {
        reserved_port spare("127.0.0.1", {});
        ASSERT_GT(spare.number(), 0);
        EXPECT_EQ(plain_bind(spare.number()).error, EADDRINUSE);
        spare.release();
        EXPECT_EQ(plain_bind(spare.number()).error, 0);
    }

    TEST(reserved_port, a_zeromq_listener_binds_the_held_port)
    {
        reserved_port spare("127.0.0.1", {});
        zmq::context_t context;
        zmq::socket_t publisher(context, zmq::socket_type::pub);
        publisher.set(zmq::sockopt::linger, 0);
        EXPECT_NO_THROW(publisher.bind("tcp://127.0.0.1:" + std::to_string(spare.number())));
    }

    TEST(reserved_port, never_hands_out_an_avoided_port)
    {
        // Every other run of seven ports is avoided (whatever parity the OS
        // prefers), so about half of its picks must be declined.
        std::set<int> avoided;
        for (int port = 1024; port < 65536; ++port)
        {
            if ((port / 7) % 2 == 0)
            {
                avoided.insert(port);
            }
        }
        const std::vector<int> avoid(avoided.begin(), avoided.end());
        for (int round = 0; round < 50; ++round)
        {
            reserved_port spare("127.0.0.1", avoid);
            EXPECT_EQ(avoided.count(spare.number()), 0u) << spare.number();
        }
    }

    TEST(reserved_port, is_never_of_the_parity_bind_0_is_given)
    {
        // jupyter_client picks a kernel's ports with bind(0): Linux hands
        // those out from one parity of its ephemeral range.
        std::set<int> os_parities;
        for (int i = 0; i < 20; ++i)
        {
            bind_result os_pick = plain_bind(0);
            ASSERT_EQ(os_pick.error, 0);
            ASSERT_GT(os_pick.port, 0);
            os_parities.insert(os_pick.port % 2);
        }
        ASSERT_EQ(os_parities.size(), 1u) << "bind(0) gave ports of both parities: this check assumes Linux >= 4.6";
        for (int round = 0; round < 50; ++round)
        {
            reserved_port spare("127.0.0.1", {});
            EXPECT_NE(spare.number() % 2, *os_parities.begin()) << spare.number();
        }
    }

    TEST(reserved_port, takes_the_addresses_zeromq_binds)
    {
        EXPECT_GT(reserved_port("127.0.0.1", {}).number(), 0);
        EXPECT_GT(reserved_port("*", {}).number(), 0);
        EXPECT_GT(reserved_port("0.0.0.0", {}).number(), 0);
        // ZeroMQ binds no name either; the kernel then lets it bind port 0.
        EXPECT_THROW(reserved_port("localhost", {}), std::runtime_error);
    }

    TEST(reserved_port, says_so_when_every_port_is_avoided)
    {
        std::vector<int> every_port;
        for (int port = 1; port < 65536; ++port)
        {
            every_port.push_back(port);
        }
        EXPECT_THROW(reserved_port("127.0.0.1", every_port), std::runtime_error);
    }
}
