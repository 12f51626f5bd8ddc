// The kernel logic shared by the native and browser builds: it turns Jupyter
// requests into calls on the Python engine and the engine's output into
// replies and iopub messages. It never sees sockets or postMessage.
#ifndef XACCEL_CORE_KERNEL_CORE_HPP
#define XACCEL_CORE_KERNEL_CORE_HPP

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include <pybind11/pybind11.h>

#include "message.hpp"
#include "request_queue.hpp"
#include "transport.hpp"

namespace xaccel
{
    namespace py = pybind11;

    // Told when a cell's code starts and ends running (the native kernel's
    // watchdog serves control messages while synchronous code runs).
    class execution_observer
    {
    public:
        virtual void cell_started() noexcept = 0;
        virtual void cell_finished() noexcept = 0;

    protected:
        ~execution_observer() = default;
    };

    class kernel_core
    {
    public:
        // `version` is the kernel's own version, reported in kernel_info.
        kernel_core(transport& t, std::string version);
        ~kernel_core();

        kernel_core(const kernel_core&) = delete;
        kernel_core& operator=(const kernel_core&) = delete;

        // Imports the Python side (xaccel_kernel) and creates the engine.
        // Idempotent; handle() calls it for the first request that needs it,
        // so kernel_info is answered before IPython is even imported.
        void start_engine();
        bool engine_started() const noexcept { return static_cast<bool>(m_engine); }
        // Runs in start_engine() before the engine's modules are imported
        // (natively: waits for the helper thread that imports them early).
        void set_before_engine_start(std::function<void()> hook) { m_before_engine_start = std::move(hook); }

        // Publishes the 'starting' status, as a new kernel does once.
        void announce_start();

        // Handles one request; never throws (errors become replies and logs),
        // but for KeyboardInterrupt in a request handled while a cell drives
        // the event loop (beside_cell.hpp): it goes on to cancel that cell.
        void handle(message request);

        // Completes an execute_request whose engine call returned None (it
        // went on running on the event loop), then handles what queued up.
        void finish_execute(nl::json reply_content);

        // Publishes on iopub with `parent` as parent header, or (null) the
        // header of the request being executed. Returns the message's msg_id.
        std::string publish(const std::string& msg_type, nl::json content, nl::json metadata, buffer_sequence buffers,
                     nl::json parent = nullptr);

        // input()/getpass() over the stdin channel. Returns the user's text.
        std::string request_input(const std::string& prompt, bool password);

        bool stop_requested() const noexcept { return m_stop_requested; }
        // Ends the kernel's main loop (its parent process went away, ...).
        // May be called from any thread.
        void request_stop() noexcept { m_stop_requested = true; }
        void set_execution_observer(execution_observer* observer) noexcept { m_observer = observer; }
        bool restart_requested() const noexcept { return m_restart_requested; }
        const nl::json& execution_parent() const noexcept { return m_execution_parent; }
        // Whether a cell's code runs (synchronously or driving the loop).
        bool cell_running() const noexcept { return m_executing; }
        const std::string& session() const noexcept { return m_session; }
        // A new session id, for a kernel restored from a memory snapshot (every
        // start of a kernel has its own).
        void renew_session() { m_session = new_uuid(); }
        transport& get_transport() noexcept { return m_transport; }

        // The kernel_info_reply content (thread-safe: no engine, no GIL).
        nl::json kernel_info() const;
        // kernel_info and connect requests need no engine: they are answered
        // before IPython is loaded, beside a running cell, on the control
        // thread and by subshells. The reply type, or nullptr for others.
        static const char* engine_free_reply_type(const std::string& msg_type) noexcept;
        // Its reply content (thread-safe: no engine, no GIL).
        nl::json engine_free_reply(const std::string& msg_type) const;
        // Whether kernel_info advertises the debugger (the native build has
        // one; the browser build has no threads or sockets for debugpy).
        void set_debugger_available(bool available) noexcept { m_debugger_available = available; }
        // Whether kernel_info advertises kernel subshells (native build).
        void set_subshells_available(bool available) noexcept { m_subshells_available = available; }

        // Lets the engine finish: cancels tasks, saves history. Idempotent.
        void shutdown_engine();

        // The kernel of this process, for the built-in module's functions.
        static kernel_core* current() noexcept;

    private:
        // Handles one request (never throws), then the requests it queued.
        void handle_one(message request);
        void handle_waiting();
        // A request answered while a cell awaits (beside_cell.hpp).
        void handle_beside_cell(const message& request);
        // After an execute error with stop_on_error: queued executes are aborted.
        void stop_queued_executes(const nl::json& reply_content, const nl::json& request_content);
        void abort_request(const message& request);
        // False when the request's reply is deferred (see finish_execute).
        bool dispatch(message& request);
        void fail(const message& request, const std::string& ename, const std::string& evalue);
        void after_request();
        nl::json call_engine(const char* method, py::object args);
        void reply(const message& request, const std::string& reply_type, nl::json content);
        void publish_status(const char* state, const nl::json& parent);
        bool validate(const message& request, std::string& problem) const;

        bool execute_request(const message& request);
        void shutdown_request(const message& request);
        void interrupt_request(const message& request);

        transport& m_transport;
        std::string m_version;
        py::object m_engine;
        std::function<void()> m_before_engine_start;
        std::string m_session;
        nl::json m_execution_parent = nl::json::object();
        // Where stdin requests go: the identities of the request being executed.
        std::vector<std::string> m_execution_identities;
        // The execute_request whose reply is deferred, and shell requests
        // that arrived meanwhile or were queued at an execute error.
        std::unique_ptr<message> m_deferred;
        request_queue m_waiting;
        bool m_handling_waiting = false;
        std::atomic<bool> m_stop_requested{false};
        bool m_executing = false;
        execution_observer* m_observer = nullptr;
        bool m_restart_requested = false;
        bool m_engine_shut_down = false;
        bool m_debugger_available = false;
        bool m_subshells_available = false;
    };
}

#endif
