// One CompletionQueue per asyncio loop. Runtime threads post plain C++
// completions; the loop wakes through an eventfd registered with
// loop.add_reader (one wakeup per batch) and resolves them with the GIL.
// Loops without add_reader get loop.call_soon_threadsafe instead.
#include <unordered_map>

#include "internal.hpp"

namespace accel::binding {

void g_pump_timer_reset();

namespace {

struct Entry {
    std::shared_ptr<CompletionQueue> queue;
    py::object weak_loop;  // its callback tears the bridge down
};

std::unordered_map<PyObject*, Entry> g_bridges;
PyObject* g_last_loop = nullptr;  // borrowed; cleared by the weakref callback
std::shared_ptr<CompletionQueue> g_last_queue;
PyObject* g_get_running_loop = nullptr;

void drain(CompletionQueue& q) {
    auto batch = q.take();
    for (auto& task : batch) {
        try {
            task->run_on_loop();
        } catch (py::error_already_set& e) {
            e.restore();
        } catch (std::exception& e) {
            PyErr_SetString(PyExc_RuntimeError, e.what());
        }
        if (PyErr_Occurred()) PyErr_WriteUnraisable(nullptr);  // keep draining the batch
    }
}

// Keeps a Python object alive from C++ code that may be destroyed without
// the GIL (the fallback notifier); takes the GIL only to drop the reference.
struct GilRef {
    PyObject* obj;
    explicit GilRef(PyObject* o) : obj(o) { Py_INCREF(o); }
    ~GilRef() {
        if (!Py_IsInitialized()) return;
        py::gil_scoped_acquire gil;
        Py_DECREF(obj);
    }
};

void forget(PyObject* loop) {
    auto it = g_bridges.find(loop);
    if (it == g_bridges.end()) return;
    auto q = it->second.queue;
    g_bridges.erase(it);
    if (g_last_loop == loop) {
        g_last_loop = nullptr;
        g_last_queue.reset();
    }
    drain(*q);  // release buffers of anything that finished meanwhile
    q->close();
}

std::shared_ptr<CompletionQueue> create_bridge(PyObject* loop_ptr) {
    py::handle loop(loop_ptr);
    std::shared_ptr<CompletionQueue> q;
    std::weak_ptr<CompletionQueue> weak;
    auto drain_fn = [](std::weak_ptr<CompletionQueue> w) {
        return py::cpp_function([w] {
            if (auto q = w.lock()) drain(*q);
        });
    };
    if (!kSingleThreaded) {
        q = std::make_shared<CompletionQueue>(true);
        try {
            loop.attr("add_reader")(q->fd(), drain_fn(q));
        } catch (py::error_already_set& e) {
            if (!e.matches(PyExc_NotImplementedError)) throw;
            q.reset();
        }
    }
    if (!q) {
        // No fd watching (Proactor loop, browser): call_soon[_threadsafe].
        q = std::make_shared<CompletionQueue>(false);
        auto ref = std::make_shared<GilRef>(loop_ptr);
        auto fn = std::make_shared<GilRef>(drain_fn(q).release().ptr());
        Py_DECREF(fn->obj);  // GilRef took its own reference
        const char* method = kSingleThreaded ? "call_soon" : "call_soon_threadsafe";
        q->set_notifier([ref, fn, method] {
            if (!Py_IsInitialized()) return;
            py::gil_scoped_acquire gil;  // only for the call itself
            PyObject* closed = PyObject_CallMethod(ref->obj, "is_closed", nullptr);
            bool is_closed = closed == Py_True;
            Py_XDECREF(closed);
            PyErr_Clear();
            if (is_closed) return;  // late completion for a finished loop: nobody awaits it
            PyObject* r = PyObject_CallMethod(ref->obj, method, "O", fn->obj);
            if (!r) PyErr_WriteUnraisable(ref->obj);
            Py_XDECREF(r);
        });
    }
    // Tear down when the loop is garbage collected.
    py::cpp_function on_dead([loop_ptr](py::handle) { forget(loop_ptr); });
    py::object weak_loop;
    PyObject* wr = PyWeakref_NewRef(loop_ptr, on_dead.ptr());
    if (wr) {
        weak_loop = py::reinterpret_steal<py::object>(wr);
    } else {
        PyErr_Clear();  // not weak-referenceable: the bridge lives as long as the process
        Py_INCREF(loop_ptr);
    }
    g_bridges.emplace(loop_ptr, Entry{q, std::move(weak_loop)});
    return q;
}

}  // namespace

void forget_all_loops() {
    std::vector<PyObject*> loops;
    for (auto& [loop, entry] : g_bridges) loops.push_back(loop);
    for (auto* loop : loops) forget(loop);
    g_pump_timer_reset();
}

PyObject* running_loop(const char* api) {
    PyObject* loop = PyObject_CallNoArgs(g_get_running_loop);
    if (!loop) return nullptr;
    if (loop == Py_None) {
        Py_DECREF(loop);
        PyErr_Format(PyExc_RuntimeError,
                     "%s must be called from a coroutine running in an asyncio event loop "
                     "(no running event loop)", api);
        return nullptr;
    }
    return loop;
}

std::shared_ptr<CompletionQueue> queue_for(PyObject* loop) {
    if (loop == g_last_loop && g_last_queue) return g_last_queue;
    auto it = g_bridges.find(loop);
    std::shared_ptr<CompletionQueue> q = it != g_bridges.end() ? it->second.queue : create_bridge(loop);
    g_last_loop = loop;
    g_last_queue = q;
    return q;
}

// ---- single-threaded backend pump -----------------------------------------

namespace {
// Pump state for the loop currently driving the runtime. A new loop (e.g.
// the next asyncio.run) resets it; handles on a closed loop are forgotten.
struct PumpState {
    py::object loop;
    bool soon_scheduled = false;
    py::object timer;  // TimerHandle for the next deadline
};
PumpState g_pump;

py::object current_loop() {
    PyObject* loop = PyObject_CallNoArgs(g_get_running_loop);
    if (!loop) throw py::error_already_set();
    return py::reinterpret_steal<py::object>(loop);
}

void use_loop(const py::object& l) {
    if (g_pump.loop.ptr() == l.ptr()) return;
    g_pump.loop = l;
    g_pump.soon_scheduled = false;
    g_pump.timer = py::object();
}

void pump() {
    py::object l = current_loop();
    if (l.is_none()) return;
    use_loop(l);
    g_pump.soon_scheduled = false;
    if (g_pump.timer) {
        g_pump.timer.attr("cancel")();
        g_pump.timer = py::object();
    }
    runtime().pump();
    auto next = runtime().timers().next_deadline();
    if (!next || *next == TimerQueue::Clock::time_point::max()) return;  // none, or "never"
    double delay = std::chrono::duration<double>(*next - TimerQueue::Clock::now()).count();
    g_pump.timer = l.attr("call_later")(delay > 0 ? delay : 0, py::cpp_function(&pump));
}
}  // namespace

void g_pump_timer_reset() { g_pump = PumpState(); }

void request_pump() {
    if (!kSingleThreaded) return;
    PyObject* loop = PyObject_CallNoArgs(g_get_running_loop);
    if (!loop) {
        PyErr_Clear();
        return;
    }
    py::object l = py::reinterpret_steal<py::object>(loop);
    if (l.is_none()) return;
    use_loop(l);
    if (g_pump.soon_scheduled) return;
    g_pump.soon_scheduled = true;
    l.attr("call_soon")(py::cpp_function(&pump));
}

void init_loop_bridge(py::module_& m) {
    g_get_running_loop = py::module_::import("asyncio").attr("_get_running_loop").cast<py::object>().release().ptr();
    m.def("_bridge_count", [] { return g_bridges.size(); },
          "Number of event loops with a live accel bridge (diagnostics).");
}

void install_pump_hooks(Runtime& rt) {
    if (kSingleThreaded) {
        // New work or an earlier deadline: make sure the running loop pumps.
        // These hooks fire on the loop thread (there are no other threads).
        rt.executor().set_work_hook([] { request_pump(); });
        rt.timers().set_deadline_hook([] { request_pump(); });
    }
}

}  // namespace accel::binding
