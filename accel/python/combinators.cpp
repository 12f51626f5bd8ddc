// gather / timeout / spawn: compose accel awaitables and Python coroutines.
// Children that are accel awaitables are watched natively; anything else is
// driven by asyncio (ensure_future) and watched through a done callback, so
// the runtime can await Python coroutines.
#include <cmath>
#include <cstdio>
#include <string>

#include "accel/duration.hpp"
#include "internal.hpp"

namespace accel::binding {

namespace {

py::object loop_or_throw(const char* api) {
    PyObject* loop = running_loop(api);
    if (!loop) throw py::error_already_set();
    return py::reinterpret_steal<py::object>(loop);
}

// Weak reference to the combined awaitable, so children's callbacks don't
// keep an abandoned gather/timeout alive (its dealloc cancels the children).
struct WeakAw {
    py::object ref;
    explicit WeakAw(py::handle aw) : ref(py::reinterpret_steal<py::object>(PyWeakref_NewRef(aw.ptr(), nullptr))) {
        if (!ref) throw py::error_already_set();
    }
    AwaitableObject* get() const {
        PyObject* o = PyWeakref_GetObject(ref.ptr());
        return o == Py_None ? nullptr : reinterpret_cast<AwaitableObject*>(o);
    }
};

struct GatherState {
    py::list results;
    std::vector<std::function<void()>> cancel_children;
    std::vector<py::object> accel_children;  // to detach them after a failure
    std::size_t remaining = 0;
    bool return_exceptions = false;
    std::unique_ptr<WeakAw> self;

    void cancel_all() {
        auto cancels = std::move(cancel_children);
        cancel_children.clear();
        for (auto& c : cancels) c();
    }
};

py::object gather(py::args aws, bool return_exceptions) {
    if (aws.size() == 0) return steal(awaitable_done(py::list().ptr()));
    auto loop = loop_or_throw("accel.gather()");
    py::object g = steal(awaitable_pending(loop.ptr()));
    auto st = std::make_shared<GatherState>();
    st->results = py::list(aws.size());
    st->remaining = aws.size();
    st->return_exceptions = return_exceptions;
    st->self = std::make_unique<WeakAw>(g);
    for (std::size_t i = 0; i < aws.size(); ++i) {
        auto cancel = listen(aws[i], loop.ptr(), [st, i](bool ok, py::handle value, bool cancelled) {
            AwaitableObject* gw = st->self ? st->self->get() : nullptr;
            if (!gw || gw->state != AwState::Pending) return;
            if (!ok && !st->return_exceptions) {
                // Like asyncio.gather: the first failure propagates and the others
                // keep running. Pending accel children are detached: dropping them
                // no longer cancels their work (Python children are asyncio Tasks).
                for (auto& c : st->accel_children) {
                    auto* a = reinterpret_cast<AwaitableObject*>(c.ptr());
                    if (a->state == AwState::Pending) a->detached = true;
                }
                auto drop_refs = std::move(st->cancel_children);
                auto drop_children = std::move(st->accel_children);
                st->cancel_children.clear();
                st->accel_children.clear();
                if (cancelled) {
                    py::object e = py::reinterpret_steal<py::object>(PyObject_CallNoArgs(cancelled_error_type()));
                    awaitable_set_exception(gw, e.ptr());
                } else {
                    awaitable_set_exception(gw, value.ptr());
                }
                return;
            }
            if (cancelled) {
                py::object e = py::reinterpret_steal<py::object>(PyObject_CallNoArgs(cancelled_error_type()));
                st->results[i] = e;
            } else {
                st->results[i] = value;
            }
            if (--st->remaining == 0) {
                st->cancel_children.clear();
                st->accel_children.clear();
                awaitable_set_result(gw, st->results.ptr());
            }
        });
        st->cancel_children.push_back(std::move(cancel));
        if (is_accel_awaitable(aws[i].ptr())) st->accel_children.push_back(aws[i]);
    }
    auto* gw = reinterpret_cast<AwaitableObject*>(g.ptr());
    if (gw->state == AwState::Pending) gw->cpp.on_cancel = [st] { st->cancel_all(); };
    return g;
}

struct TimeoutState {
    std::unique_ptr<WeakAw> self;
    std::function<void()> cancel_child;
    std::shared_ptr<PyOp> timer;
    double seconds = 0;

    void stop_timer() {
        if (timer) {
            timer->cancel();
            timer.reset();
        }
    }
};

py::object timeout(py::object aw, py::object seconds_obj) {
    double seconds = 0.0;
    // None, inf and huge values: no limit. <= 0: expires at once unless the
    // awaitable is already done (like asyncio.wait_for(aw, 0)).
    bool no_limit = !args::optional_seconds(seconds_obj, "accel.timeout()", "seconds", seconds) || is_never(seconds);
    if (!is_accel_awaitable(aw.ptr()) && !PyCoro_CheckExact(aw.ptr()) && !py::hasattr(aw, "__await__")) {
        PyErr_Format(PyExc_TypeError, "accel.timeout(): awaitable must be an awaitable, not '%.100s'",
                     Py_TYPE(aw.ptr())->tp_name);
        throw py::error_already_set();
    }
    auto loop = loop_or_throw("accel.timeout()");
    py::object t = steal(awaitable_pending(loop.ptr()));
    auto st = std::make_shared<TimeoutState>();
    st->self = std::make_unique<WeakAw>(t);
    st->seconds = seconds;
    st->cancel_child = listen(aw, loop.ptr(), [st](bool ok, py::handle value, bool cancelled) {
        st->stop_timer();
        AwaitableObject* tw = st->self ? st->self->get() : nullptr;
        st->cancel_child = nullptr;
        if (!tw || tw->state != AwState::Pending) return;
        if (ok) {
            awaitable_set_result(tw, value.ptr());
        } else if (cancelled) {
            awaitable_cancel(tw);
        } else {
            awaitable_set_exception(tw, value.ptr());
        }
    });
    auto* tw = reinterpret_cast<AwaitableObject*>(t.ptr());
    if (tw->state != AwState::Pending) return t;  // child was already done
    if (no_limit) {
        tw->cpp.on_cancel = [st] {
            auto c = std::move(st->cancel_child);
            st->cancel_child = nullptr;
            if (c) c();
        };
        return t;
    }
    // The deadline is a runtime timer; its expiry runs on the loop thread.
    auto [timer_aw, op] = PyOp::create(loop.ptr(), nullptr);
    reinterpret_cast<AwaitableObject*>(timer_aw.ptr())->detached = true;
    std::weak_ptr<TimeoutState> weak = st;
    op->on_loop = [weak] {
        auto s = weak.lock();
        if (!s) return;
        s->timer.reset();
        AwaitableObject* tw2 = s->self ? s->self->get() : nullptr;
        auto cancel = std::move(s->cancel_child);
        s->cancel_child = nullptr;
        if (!tw2 || tw2->state != AwState::Pending) return;
        Py_INCREF(tw2);
        char msg[128];
        std::snprintf(msg, sizeof msg, "accel.timeout: operation did not complete within %g seconds", s->seconds);
        PyObject* e = PyObject_CallFunction(PyExc_TimeoutError, "s", msg);
        if (e) awaitable_set_exception(tw2, e);
        Py_XDECREF(e);
        Py_DECREF(tw2);
        if (cancel) cancel();  // inner C++ work or Python task is cancelled
    };
    auto id = runtime().timers().add_after(seconds, [op = op] { op->complete(); });
    op->cancel_work = [id] {
        if (auto* rt = runtime_if_alive()) rt->timers().cancel(id);
    };
    st->timer = op;
    tw->cpp.on_cancel = [st] {
        st->stop_timer();
        auto c = std::move(st->cancel_child);
        st->cancel_child = nullptr;
        if (c) c();
    };
    return t;
}

// spawn(callable, *args, **kwargs): the job runs on a thread of the blocking
// pool (not the CPU pool of sha256/compress/sum_f64) and takes the GIL only
// for the call itself, inside a copy of the caller's contextvars.
PyObject* convert_call(PyOp& op, AwaitableObject*) {
    if (op.call_exc) {
        PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(op.call_exc)), op.call_exc);
        return nullptr;
    }
    PyObject* r = op.call_result ? op.call_result : Py_None;
    Py_INCREF(r);
    return r;
}

// Runtime-owned handles. A plain PyObject* kept for the life of the process
// (a static py::object would be destroyed after the interpreter).
py::handle spawned() {
    static PyObject* s = PySet_New(nullptr);
    return s;
}

// The runtime owns the handle until the work ends (no lost tasks); then an
// exception nobody retrieves is reported when the handle is freed.
void own_until_done(py::handle h) {
    auto* hw = reinterpret_cast<AwaitableObject*>(h.ptr());
    hw->detached = true;
    hw->log_unretrieved = true;
    if (PySet_Add(spawned().ptr(), h.ptr()) < 0) throw py::error_already_set();
    awaitable_add_done_callback(hw, [](AwaitableObject* w) {
        if (PySet_Discard(spawned().ptr(), reinterpret_cast<PyObject*>(w)) < 0) PyErr_Clear();
    });
}

py::object spawn(py::object target, py::args args, py::kwargs kwargs) {
    auto loop = loop_or_throw("accel.spawn()");
    bool awaitable = PyCoro_CheckExact(target.ptr()) || is_accel_awaitable(target.ptr()) ||
                     py::hasattr(target, "__await__");
    if (awaitable) {
        if (args.size() || kwargs.size()) throw py::type_error("accel.spawn(awaitable) takes no extra arguments");
        py::object h = steal(awaitable_pending(loop.ptr()));
        auto* hw = reinterpret_cast<AwaitableObject*>(h.ptr());
        // A coroutine becomes an asyncio Task (ensure_future), which copies the
        // current contextvars like asyncio.create_task.
        auto wh = std::make_shared<py::object>(py::reinterpret_steal<py::object>(PyWeakref_NewRef(h.ptr(), nullptr)));
        if (!*wh) throw py::error_already_set();
        auto cancel = listen(target, loop.ptr(), [wh](bool ok, py::handle value, bool cancelled) {
            PyObject* o = PyWeakref_GetObject(wh->ptr());
            if (o == Py_None) return;
            auto* w = reinterpret_cast<AwaitableObject*>(o);
            if (ok)
                awaitable_set_result(w, value.ptr());
            else if (cancelled)
                awaitable_cancel(w);
            else
                awaitable_set_exception(w, value.ptr());
        });
        if (hw->state == AwState::Pending) {
            hw->cpp.on_cancel = cancel;
            own_until_done(h);
        }
        return h;
    }
    if (!PyCallable_Check(target.ptr())) {
        PyErr_Format(PyExc_TypeError, "accel.spawn(): target must be a coroutine, an awaitable or a callable, not '%.100s'",
                     Py_TYPE(target.ptr())->tp_name);
        throw py::error_already_set();
    }
    py::object ctx = py::reinterpret_steal<py::object>(PyContext_CopyCurrent());
    if (!ctx) throw py::error_already_set();
    auto [h, op] = PyOp::create(loop.ptr(), convert_call);
    own_until_done(h);
    op->call_target = target.release().ptr();
    op->call_args = args.release().ptr();
    op->call_kwargs = kwargs.release().ptr();
    op->call_context = ctx.release().ptr();
    auto& ex = runtime().blocking_executor();
    auto job = ex.submit(
        [op = op] {
            if (!op->cancelled()) {
                py::gil_scoped_acquire gil;  // only around the Python call
                PyObject* r = nullptr;
                if (PyContext_Enter(op->call_context) == 0) {
                    r = PyObject_Call(op->call_target, op->call_args, op->call_kwargs);
                    PyObject *t, *v, *tb;
                    PyErr_Fetch(&t, &v, &tb);
                    if (PyContext_Exit(op->call_context) < 0) PyErr_Clear();
                    PyErr_Restore(t, v, tb);
                }
                if (r) {
                    op->call_result = r;
                } else {
                    PyObject *t, *v, *tb;
                    PyErr_Fetch(&t, &v, &tb);
                    PyErr_NormalizeException(&t, &v, &tb);
                    if (tb) PyException_SetTraceback(v, tb);
                    op->call_exc = v;
                    Py_XDECREF(t);
                    Py_XDECREF(tb);
                }
            }
            op->complete();
        },
        [op = op] { op->complete(); });
    op->cancel_work = [job] {
        if (auto* rt = runtime_if_alive()) rt->blocking_executor().cancel(job);
    };
    return h;
}

}  // namespace

std::size_t spawned_count() { return static_cast<std::size_t>(PySet_GET_SIZE(spawned().ptr())); }

void init_combinators(py::module_& m) {
    m.def("gather", &gather, py::arg("return_exceptions") = false,
          "gather(*aws, return_exceptions=False)\n--\n\n"
          "Run accel awaitables, coroutines and futures concurrently; results in argument\n"
          "order. Without return_exceptions the first exception propagates and the other\n"
          "children keep running (as in asyncio.gather; they are kept alive until they\n"
          "end); with it, exceptions are returned in place. Cancelling the gather cancels\n"
          "every child. gather() with no argument is already complete (needs no loop).");
    m.def("timeout", &timeout, py::arg("awaitable"), py::arg("seconds"),
          "timeout(awaitable, seconds)\n--\n\n"
          "Result of `awaitable`, or TimeoutError if it takes longer than `seconds`; on\n"
          "expiry the inner work is cancelled (C++ work stopped, Python task cancelled).\n"
          "seconds=None, inf or >= 1e9 mean no limit; <= 0 expires at once unless the\n"
          "awaitable is already done; NaN raises ValueError.");
    m.def("spawn", &spawn, py::arg("target"),
          "spawn(target, /, *args, **kwargs)\n--\n\n"
          "Start background work owned by the runtime (it keeps running even if the handle\n"
          "is dropped). A coroutine/awaitable runs on the current loop as an asyncio Task;\n"
          "a plain callable runs on the blocking pool (accel.configure(blocking_threads=)),\n"
          "never on the CPU pool, taking the GIL only for the call. Both run in a copy of\n"
          "the caller's contextvars. Collect the outcome with `await handle`,\n"
          "handle.result() or handle.exception(); cancel with handle.cancel(). An exception\n"
          "nobody retrieves is reported through the loop's exception handler when the\n"
          "handle is freed (like asyncio's 'Task exception was never retrieved').");
}

}  // namespace accel::binding
