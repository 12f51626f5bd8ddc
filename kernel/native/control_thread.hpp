// The control channel's own thread (native build).
//
// The main thread runs user code and the asyncio loop. When that code stops
// at a breakpoint, the main thread waits inside debugpy, yet the kernel must
// keep answering control: the debugger's own requests, interrupt, shutdown,
// kernel_info. So this thread owns the control ROUTER socket:
//
//   - debug_request is served here: the Python debugger (xaccel_kernel/
//     debugger.py) talks to debugpy's adapter over TCP on this thread; debugpy
//     serves stack, variables and evaluate from the stopped thread itself;
//   - kernel_info_request and interrupt_request are served here (neither
//     needs the main thread);
//   - every other control message (shutdown, ...) is relayed unchanged over
//     an inproc PAIR to the main thread, which still sees it on its
//     "control" socket and answers through the same relay.
//
// Python is entered here only for debug requests and for an interrupt or a
// shutdown while a debugger session exists; the GIL is taken just around
// those calls and never held while this thread waits.
#ifndef XACCEL_NATIVE_CONTROL_THREAD_HPP
#define XACCEL_NATIVE_CONTROL_THREAD_HPP

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "../core/kernel_core.hpp"
#include "iopub_publisher.hpp"
#include "relay.hpp"
#include "subshell_registry.hpp"
#include "wire_codec.hpp"

namespace xaccel
{
    class control_thread
    {
    public:
        // Messages are checked and signed with the transport's `codec` (one
        // replay history for every channel) and published through its iopub.
        control_thread(zmq::context_t& context, wire_codec& codec, iopub_publisher& iopub);
        ~control_thread();

        control_thread(const control_thread&) = delete;
        control_thread& operator=(const control_thread&) = delete;

        // Takes over `controller` (the bound control ROUTER socket) and
        // leaves in its place the main thread's end of the relay.
        void start(zmq::socket_t& controller, kernel_core& core);
        // Joins the thread; safe to call with or without the GIL.
        void stop();

        // Serves create/delete/list_subshell_request (control_subshells.cpp).
        void set_subshells(subshell_registry* subshells) noexcept { p_subshells = subshells; }

        // Called without the GIL before the first request served here that
        // runs Python (debug_request, create/delete_subshell_request): returns
        // once the main thread has started the engine, so that this thread
        // never imports while the main thread or its start-up helper does
        // (xaccel_kernel/preload.py).
        void set_engine_waiter(std::function<void()> waiter) { m_wait_for_engine = std::move(waiter); }

        // Publishes a debug_event (called by the Python debugger on this thread).
        void publish_debug_event(nl::json content);

    private:
        void run();
        void handle_request(zmq::multipart_t& wire);
        void serve_here(message request);
        void answer_rejected(const message& request, const std::string& problem);
        void send_reply(const nl::json& request_header, const std::vector<std::string>& identities,
                        const std::string& reply_type, nl::json content);
        void publish(const std::string& msg_type, nl::json content, const nl::json& parent);
        void serve_debug_request(const nl::json& header, const std::vector<std::string>& identities,
                                 const nl::json& content);
        void serve_interrupt(const nl::json& header, const std::vector<std::string>& identities);
        nl::json serve_subshell_request(const std::string& msg_type, const nl::json& content);
        // m_wait_for_engine, the first time only (without the GIL).
        void wait_for_engine_once();
        // Calls a method of the Python debugger with the GIL; true if it ran.
        bool call_debugger(const char* method);
        void refresh_debugger_state();

        zmq::context_t& m_context;
        wire_codec& r_codec;
        iopub_publisher& r_iopub;
        kernel_core* p_core = nullptr;
        subshell_registry* p_subshells = nullptr;
        std::function<void()> m_wait_for_engine;

        zmq::socket_t m_router;
        zmq::socket_t m_relay;  // this thread's end of the relay to the main thread
        wake_pipe m_wake{"control thread"};
        std::thread m_thread;
        std::atomic<bool> m_stop{false};

        // Read and written on this thread only.
        bool m_debugger_loaded = false;
        bool m_engine_waited = false;
        bool m_session_active = false;
        int m_adapter_fd = -1;
        nl::json m_debug_parent = nl::json::object();

        struct python_state;
        std::unique_ptr<python_state> p_python;
    };
}

#endif
