// The `accel` Python module: a thin pybind11 layer over the C++ runtime.
// The same sources build the kernel's built-in module (PyInit_accel in a
// static library) and the ordinary extension for the venv.
#include <cstdlib>
#include <string>

#include "accel_python.h"
#include "internal.hpp"

namespace accel::binding {

void install_pump_hooks(Runtime& rt);  // loop_bridge.cpp

namespace {
// Created on first use, so the pool sizes can still be configured after
// `import accel` (the kernel imports it at start-up).
std::unique_ptr<Runtime> g_runtime;
bool g_shut_down = false;
std::size_t g_worker_threads = 0;    // 0 = ACCEL_WORKER_THREADS or one per core
std::size_t g_blocking_threads = 0;  // 0 = ACCEL_BLOCKING_THREADS or default

std::size_t from_env(const char* var) {
    const char* v = std::getenv(var);
    if (!v || !*v) return 0;
    char* end = nullptr;
    long n = std::strtol(v, &end, 10);
    if (*end || n < 1 || n > 1024)
        throw py::value_error(std::string("environment variable ") + var + "=" + v +
                              ": expected a thread count between 1 and 1024");
    return static_cast<std::size_t>(n);
}

std::size_t worker_threads() {
    if (kSingleThreaded) return 0;
    if (g_runtime) return g_runtime->executor().thread_count();
    if (g_worker_threads) return g_worker_threads;
    std::size_t env = from_env("ACCEL_WORKER_THREADS");
    return env ? env : Executor::default_threads();
}

std::size_t blocking_threads() {
    if (kSingleThreaded) return 0;
    if (g_runtime) return g_runtime->blocking_threads();
    if (g_blocking_threads) return g_blocking_threads;
    std::size_t env = from_env("ACCEL_BLOCKING_THREADS");
    return env ? env : Executor::default_blocking_threads();
}

void shutdown() {
    if (!g_runtime || g_shut_down) {
        g_shut_down = true;
        return;
    }
    forget_all_loops();
    g_shut_down = true;  // new calls fail fast; cancel paths become no-ops
    // Workers running spawn()ed callables need the GIL to finish.
    py::gil_scoped_release nogil;
    g_runtime->shutdown();
}

void configure(py::object workers, py::object blocking) {
    auto count = [](py::handle v, const char* name) -> std::size_t {
        if (v.is_none()) return 0;
        long long n = args::integer(v, "accel.configure()", name);
        if (n < 1 || n > 1024) {
            PyErr_Format(PyExc_ValueError, "accel.configure(): %s must be between 1 and 1024", name);
            throw py::error_already_set();
        }
        return static_cast<std::size_t>(n);
    };
    std::size_t w = count(workers, "worker_threads"), b = count(blocking, "blocking_threads");
    if (g_runtime || g_shut_down)
        throw std::runtime_error(
            "accel.configure() must be called before the first accel operation starts the runtime "
            "(or set ACCEL_WORKER_THREADS / ACCEL_BLOCKING_THREADS in the environment)");
    if (w) g_worker_threads = w;
    if (b) g_blocking_threads = b;
}
}  // namespace

Runtime& runtime() {
    if (g_shut_down) throw std::runtime_error("accel runtime is shut down");
    if (!g_runtime) {
        g_runtime = std::make_unique<Runtime>(worker_threads(), blocking_threads());
        install_pump_hooks(*g_runtime);
    }
    return *g_runtime;
}

Runtime* runtime_if_alive() { return g_shut_down ? nullptr : g_runtime.get(); }

void init_runtime(py::module_& m) {
    m.def("_shutdown", &shutdown,
          "_shutdown()\n--\n\nStop the runtime threads (registered with atexit). Pending work is dropped.");
    m.def("configure", &configure, py::kw_only(), py::arg("worker_threads") = py::none(),
          py::arg("blocking_threads") = py::none(),
          "configure(*, worker_threads=None, blocking_threads=None)\n--\n\n"
          "Size the CPU pool (sha256, compress, sum_f64, file I/O; default one thread per\n"
          "core, env ACCEL_WORKER_THREADS) and the pool for blocking callables given to\n"
          "spawn() (default min(32, cores + 4), env ACCEL_BLOCKING_THREADS). Call it before\n"
          "the first operation: the runtime starts then and RuntimeError is raised after.\n"
          "Ignored by the single-threaded build (no threads).");
    m.def(
        "_stats",
        [] {
            py::dict d;
            auto* rt = runtime_if_alive();
            d["started"] = rt != nullptr;
            d["worker_threads"] = worker_threads();
            d["blocking_threads"] = blocking_threads();
            d["blocking_threads_started"] = rt && rt->blocking_started() ? rt->blocking_threads() : 0;
            d["timers"] = rt ? rt->timers().size() : 0;
            d["queued_jobs"] = rt ? rt->executor().pending() : 0;
            d["running_jobs"] = rt ? rt->executor().running() : 0;
            bool blocking = rt && rt->blocking_started() && !kSingleThreaded;
            d["queued_blocking_jobs"] = blocking ? rt->blocking_executor().pending() : 0;
            d["running_blocking_jobs"] = blocking ? rt->blocking_executor().running() : 0;
            d["spawned"] = spawned_count();
            return d;
        },
        "_stats()\n--\n\nRuntime counters for tests/diagnostics: pool sizes, live timers, queued and\n"
        "running jobs, runtime-owned spawn() handles. Does not start the runtime.");
    m.attr("SINGLE_THREADED") = kSingleThreaded;
    // WORKER_THREADS is computed on access (module __getattr__): the pool size
    // is only fixed once the runtime starts.
    m.attr("__getattr__") = py::cpp_function(
        [](const std::string& name) -> py::object {
            if (name == "WORKER_THREADS") return py::int_(worker_threads());
            throw py::attribute_error("module 'accel' has no attribute '" + name + "'");
        },
        py::arg("name"));
    py::module_::import("atexit").attr("register")(m.attr("_shutdown"));
}

}  // namespace accel::binding

PYBIND11_MODULE(accel, m) {
    using namespace accel::binding;
    // Docstrings start with a "name(params)\n--\n\n" line, which Python turns
    // into __text_signature__ (inspect.signature shows the real parameters).
    py::options options;
    options.disable_function_signatures();
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
