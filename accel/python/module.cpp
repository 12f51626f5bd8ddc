// The `accel` Python module: a thin pybind11 layer over the C++ runtime.
// The same sources build the kernel's built-in module (PyInit_accel in a
// static library) and the ordinary extension for the venv.
#include "accel_python.h"
#include "internal.hpp"

namespace accel::binding {

namespace {
std::unique_ptr<Runtime> g_runtime;
bool g_shut_down = false;

void shutdown() {
    if (!g_runtime || g_shut_down) return;
    forget_all_loops();
    g_shut_down = true;  // new calls fail fast; cancel paths become no-ops
    // Workers running spawn()ed callables need the GIL to finish.
    py::gil_scoped_release nogil;
    g_runtime->shutdown();
}
}  // namespace

Runtime& runtime() {
    if (g_shut_down || !g_runtime) throw std::runtime_error("accel runtime is shut down");
    return *g_runtime;
}

Runtime* runtime_if_alive() { return g_shut_down ? nullptr : g_runtime.get(); }

void init_runtime(py::module_& m) {
    if (!g_runtime) g_runtime = std::make_unique<Runtime>();
    m.def("_shutdown", &shutdown,
          "Stop the runtime threads (registered with atexit). Pending work is dropped.");
    m.def(
        "_stats",
        [] {
            py::dict d;
            if (auto* rt = runtime_if_alive()) {
                d["timers"] = rt->timers().size();
                d["queued_jobs"] = rt->executor().pending();
            }
            return d;
        },
        "Runtime counters for tests/diagnostics: live timers, queued jobs.");
    m.attr("SINGLE_THREADED") = kSingleThreaded;
    m.attr("WORKER_THREADS") = g_runtime->executor().thread_count();
    py::module_::import("atexit").attr("register")(m.attr("_shutdown"));
}

}  // namespace accel::binding

PYBIND11_MODULE(accel, m) {
    using namespace accel::binding;
    m.doc() =
        "accel: asyncio-compatible awaitables backed by a C++ runtime (worker pool, timer\n"
        "queue, bounded channels, cancellation, libcurl HTTP). Work runs without the GIL;\n"
        "results are delivered thread-safely to the event loop that awaits them.";
    init_runtime(m);
    init_errors(m);
    init_awaitable(m);
    init_loop_bridge(m);
    init_ops(m);
    init_channel(m);
    init_combinators(m);
    init_fetch(m);
}
