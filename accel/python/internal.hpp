// Shared declarations of the binding layer. Everything here runs with the
// GIL held on an event-loop thread unless a comment says otherwise.
#pragma once

#include <pybind11/pybind11.h>

#include <any>
#include <atomic>
#include <functional>
#include <memory>
#include <vector>

#include "accel/completion_queue.hpp"
#include "accel/error.hpp"
#include "accel/runtime.hpp"

namespace py = pybind11;

namespace accel::binding {

// ---- runtime -------------------------------------------------------------
Runtime& runtime();  // throws RuntimeError after shutdown
Runtime* runtime_if_alive();  // nullptr after shutdown (for cancel paths)
void init_runtime(py::module_& m);

// ---- errors --------------------------------------------------------------
void init_errors(py::module_& m);
// New reference to an exception instance for `err`.
PyObject* make_exception(const Error& err);
PyObject* channel_closed_type();  // borrowed
PyObject* cancelled_error_type();  // borrowed (asyncio.CancelledError)
PyObject* invalid_state_error_type();  // borrowed

// ---- loop bridge ---------------------------------------------------------
void init_loop_bridge(py::module_& m);
// New reference to the running loop, or nullptr with RuntimeError set.
PyObject* running_loop(const char* api);
// Completion queue drained on `loop`'s thread (created on first use).
std::shared_ptr<CompletionQueue> queue_for(PyObject* loop);
// Interpreter shutdown: drop every bridge while Python is still alive.
void forget_all_loops();

// ---- awaitables ----------------------------------------------------------
enum class AwState : unsigned char { Pending, Ok, Error, Cancelled };

struct AwaitableObject;
using DoneCallback = std::function<void(AwaitableObject*)>;

struct AwaitableCpp {
    std::shared_ptr<class PyOp> op;       // C++ work feeding this awaitable
    std::function<void()> on_cancel;      // stops whatever produces the result
    std::vector<DoneCallback> done_callbacks;
};

// Future-compatible: asyncio.isfuture() is true, Tasks wait on it directly
// (it yields itself, like asyncio.Future) and Task.cancel() reaches cancel().
struct AwaitableObject {
    PyObject_HEAD
    PyObject* weakreflist;
    PyObject* loop;        // loop that resolves it (nullptr when created done)
    PyObject* callbacks;   // list of (fn, context) from add_done_callback, or nullptr
    PyObject* result;      // value or exception instance
    PyObject* extra;       // kept alive for the op (e.g. sleep's result)
    PyObject* cancel_msg;  // cancel(msg): message of the CancelledError
    AwState state;
    char blocking;         // _asyncio_future_blocking (asyncio's Task protocol)
    bool detached;         // spawn(): dropping the handle does not cancel
    bool log_unretrieved;  // spawn(): report an exception nobody retrieved
    bool retrieved;        // result()/exception()/await saw the exception
    AwaitableCpp cpp;      // placement-constructed in tp_new/alloc
};

void init_awaitable(py::module_& m);
bool is_accel_awaitable(PyObject* o);
// New references.
AwaitableObject* awaitable_pending(PyObject* loop);
AwaitableObject* awaitable_done(PyObject* value);
PyObject* ready_none();
// Number of spawn() handles owned by the runtime (diagnostics).
std::size_t spawned_count();
// Resolve (no-op unless pending). Borrowed arguments.
void awaitable_set_result(AwaitableObject* aw, PyObject* value);
void awaitable_set_exception(AwaitableObject* aw, PyObject* exc);
// Cancel a pending awaitable and the work behind it.
void awaitable_cancel(AwaitableObject* aw);
void awaitable_add_done_callback(AwaitableObject* aw, DoneCallback cb);

inline py::object steal(AwaitableObject* aw) {
    return py::reinterpret_steal<py::object>(reinterpret_cast<PyObject*>(aw));
}

// ---- C++ operations ------------------------------------------------------
// Bridges one piece of C++ work to its awaitable. Workers only touch the
// plain C++ fields and call complete(); the Python side (owner, converter,
// buffer release) is used on the loop thread in run_on_loop().
class PyOp final : public LoopTask, public std::enable_shared_from_this<PyOp> {
public:
    using Converter = PyObject* (*)(PyOp& op, AwaitableObject* aw);  // new ref or nullptr+error

    // Creates a pending awaitable on `loop` linked to a new op.
    static std::pair<py::object, std::shared_ptr<PyOp>> create(PyObject* loop, Converter conv);
    ~PyOp() override;

    // Any thread, exactly-once effective: hands the op to the loop.
    void complete();
    bool cancelled() const { return cancelled_.load(std::memory_order_relaxed); }
    // Loop thread: stop the work (drop job, remove timer, abort transfer).
    void cancel();
    void run_on_loop() override;

    // Plain C++ results, written by the worker before complete().
    std::any value;
    Error error;

    // Loop-thread-only fields.
    std::function<void()> cancel_work;
    std::function<void()> on_loop;  // extra loop-side step (timeout timers, producers)
    AwaitableObject* owner = nullptr;  // weak, GIL-guarded
    Converter convert = nullptr;
    // Exporter buffer kept alive until the worker is done with it.
    Py_buffer view{};
    bool has_view = false;
    // spawn(callable): objects the worker uses while holding the GIL.
    PyObject* call_target = nullptr;
    PyObject* call_args = nullptr;
    PyObject* call_kwargs = nullptr;
    PyObject* call_result = nullptr;
    PyObject* call_exc = nullptr;
    PyObject* call_context = nullptr;  // contextvars copy the call runs in

private:
    void release_python();  // requires the GIL
    std::shared_ptr<CompletionQueue> queue_;
    std::atomic<bool> posted_{false};
    std::atomic<bool> cancelled_{false};
};

// ---- completion listeners for any awaitable (accel or asyncio) -------------
// fn(ok, value_or_exception, cancelled) runs on the loop thread. For
// non-accel awaitables the object is wrapped with asyncio.ensure_future.
// Returns a callable that cancels the child.
using Listener = std::function<void(bool ok, py::handle value, bool cancelled)>;
std::function<void()> listen(py::handle child, PyObject* loop, Listener fn);

// ---- feature modules -----------------------------------------------------
void init_ops(py::module_& m);
void init_channel(py::module_& m);
void init_combinators(py::module_& m);
void init_fetch(py::module_& m);

// Single-threaded backend: ask the running loop to pump the runtime soon.
void request_pump();

}  // namespace accel::binding

// ---- argument parsing (args.cpp) -------------------------------------------
// Clear TypeError/ValueError messages naming the function and the parameter,
// e.g. "accel.sleep(): seconds must be a number (int or float), not 'str'".
namespace accel::binding::args {
// Seconds as a float; NaN -> ValueError. Negative and inf are returned as is.
double seconds(py::handle value, const char* api, const char* name);
// None -> std::nullopt-like flag: returns false and leaves `out` untouched.
bool optional_seconds(py::handle value, const char* api, const char* name, double& out);
long long integer(py::handle value, const char* api, const char* name);
std::string fs_path(py::handle value, const char* api, const char* name);
// Raises TypeError naming the parameter when `value` has no buffer interface.
void require_buffer(py::handle value, const char* api, const char* name);
}  // namespace accel::binding::args
