// The seam between the kernel logic and a message transport (ZeroMQ natively,
// postMessage in the browser). The kernel core only ever talks to this.
#ifndef XACCEL_CORE_TRANSPORT_HPP
#define XACCEL_CORE_TRANSPORT_HPP

#include <string>

#include "message.hpp"

namespace xaccel
{
    class transport
    {
    public:
        virtual ~transport() = default;

        // Sends a fully built message on shell, control or stdin; for shell and
        // control, `routing` is the request being answered.
        virtual void send(channel c, const message& routing, message reply) = 0;

        // Publishes on iopub.
        virtual void publish(message msg) = 0;

        // Sends an input_request and blocks until its input_reply arrives.
        // Returns the reply content. Throws python-visible errors (e.g.
        // KeyboardInterrupt) through the Python error state when interrupted.
        virtual nl::json request_input(message request) = 0;

        // Blocks until a kernel message or the descriptor `fd` is ready, or
        // `timeout_ms` passes (-1: no limit). Shell messages are only waited
        // for when `accept_shell` is true. Returns true when messages wait.
        virtual bool wait(int fd, int timeout_ms, bool accept_shell) = 0;

        // Handles the messages that are ready now without blocking.
        virtual void dispatch(bool accept_shell) = 0;

        // Takes the shell requests that already arrived but were not handled
        // yet, oldest first, without blocking (after an execute error, queued
        // executes are aborted). A transport that hands over every request as
        // it arrives has none.
        virtual std::vector<message> take_waiting_shell() { return {}; }

        // True when requests can wait where take_waiting_shell() cannot reach
        // them (the browser: JupyterLite's page hands the worker one request
        // at a time). After an execute error, the core then also aborts the
        // executes whose header `date` is before the error (send_time.hpp).
        virtual bool requests_wait_out_of_reach() const { return false; }

        virtual std::string username() const = 0;

        // The ports a connect_reply reports, as {"shell_port": N, ...}: the
        // native kernel's connection file; empty where there are none (the
        // browser), as ipykernel answers when it recorded no ports.
        virtual nl::json connection_ports() const { return nl::json::object(); }
    };
}

#endif
