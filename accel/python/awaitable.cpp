// accel.Awaitable: a future-like object that is its own iterator. When it is
// already complete, `await` returns through am_send without yielding or
// raising StopIteration; otherwise it yields a loop future, like
// asyncio.Future, so any asyncio-compatible Task can wait on it.
#include <new>

#include "internal.hpp"

#include <structmember.h>

namespace accel::binding {

namespace {

PyTypeObject* g_type = nullptr;
PyObject* g_ready_none = nullptr;
PyObject* s_create_future = nullptr;
PyObject* s_set_result = nullptr;
PyObject* s_blocking = nullptr;
PyObject* s_cancel = nullptr;

AwaitableObject* alloc_awaitable() {
    auto* aw = PyObject_GC_New(AwaitableObject, g_type);
    if (!aw) return nullptr;
    aw->weakreflist = nullptr;
    aw->loop = aw->fut = aw->result = aw->extra = nullptr;
    aw->state = AwState::Pending;
    aw->detached = false;
    new (&aw->cpp) AwaitableCpp();
    PyObject_GC_Track(aw);
    return aw;
}

// Runs the done callbacks exactly once; they may drop the last reference.
void finish(AwaitableObject* aw) {
    if (aw->fut) {
        PyObject* fut = aw->fut;
        aw->fut = nullptr;
        PyObject* r = PyObject_CallMethodOneArg(fut, s_set_result, Py_None);
        if (!r) PyErr_Clear();  // the future was cancelled by its Task: fine
        Py_XDECREF(r);
        Py_DECREF(fut);
    }
    aw->cpp.on_cancel = nullptr;
    if (aw->cpp.op) {
        aw->cpp.op->owner = nullptr;
        aw->cpp.op.reset();
    }
    if (aw->cpp.done_callbacks.empty()) return;
    auto cbs = std::move(aw->cpp.done_callbacks);
    aw->cpp.done_callbacks.clear();
    Py_INCREF(aw);
    for (auto& cb : cbs) {
        // Callbacks call into Python through pybind11; an error there must not
        // unwind through the C frames above us.
        try {
            cb(aw);
        } catch (py::error_already_set& e) {
            e.restore();
            PyErr_WriteUnraisable(reinterpret_cast<PyObject*>(aw));
        } catch (std::exception& e) {
            PyErr_SetString(PyExc_RuntimeError, e.what());
            PyErr_WriteUnraisable(reinterpret_cast<PyObject*>(aw));
        }
    }
    cbs.clear();
    Py_DECREF(aw);
}

void raise_stored(AwaitableObject* aw) {
    if (aw->state == AwState::Cancelled && !aw->result) {
        PyErr_SetNone(cancelled_error_type());
        return;
    }
    PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(aw->result)), aw->result);
}

// Never throws: it runs from C slots and from dealloc. A failure in a
// Python-level cancel (e.g. Task.cancel) is reported, not propagated.
void cancel_work(AwaitableObject* aw) {
    PyObject *et, *ev, *etb;
    PyErr_Fetch(&et, &ev, &etb);
    auto on_cancel = std::move(aw->cpp.on_cancel);
    aw->cpp.on_cancel = nullptr;
    try {
        if (aw->cpp.op) {
            aw->cpp.op->owner = nullptr;
            aw->cpp.op->cancel();
            aw->cpp.op.reset();
        }
        if (on_cancel) on_cancel();
    } catch (py::error_already_set& e) {
        e.restore();
        PyErr_WriteUnraisable(nullptr);
    } catch (std::exception& e) {
        PyErr_SetString(PyExc_RuntimeError, e.what());
        PyErr_WriteUnraisable(nullptr);
    }
    PyErr_Restore(et, ev, etb);
}

// ---- type slots ----------------------------------------------------------

PySendResult aw_send_impl(AwaitableObject* aw, PyObject** out) {
    switch (aw->state) {
        case AwState::Ok:
            Py_INCREF(aw->result);
            *out = aw->result;
            return PYGEN_RETURN;
        case AwState::Error:
        case AwState::Cancelled:
            raise_stored(aw);
            *out = nullptr;
            return PYGEN_ERROR;
        case AwState::Pending:
            break;
    }
    if (!aw->loop) {
        PyErr_SetString(PyExc_RuntimeError, "accel awaitable has no event loop");
        *out = nullptr;
        return PYGEN_ERROR;
    }
    if (!aw->fut) {
        aw->fut = PyObject_CallMethodNoArgs(aw->loop, s_create_future);
        if (!aw->fut) {
            *out = nullptr;
            return PYGEN_ERROR;
        }
    }
    // Same protocol as asyncio.Future.__await__: tell the Task to wait on it.
    if (PyObject_SetAttr(aw->fut, s_blocking, Py_True) < 0) {
        *out = nullptr;
        return PYGEN_ERROR;
    }
    Py_INCREF(aw->fut);
    *out = aw->fut;
    return PYGEN_NEXT;
}

PySendResult aw_am_send(PyObject* self, PyObject*, PyObject** out) {
    return aw_send_impl(reinterpret_cast<AwaitableObject*>(self), out);
}

PyObject* aw_iternext(PyObject* self) {
    PyObject* out = nullptr;
    switch (aw_send_impl(reinterpret_cast<AwaitableObject*>(self), &out)) {
        case PYGEN_NEXT:
            return out;
        case PYGEN_RETURN: {
            // StopIteration(value): wrap so tuples aren't unpacked as args.
            PyObject* exc = PyObject_CallOneArg(PyExc_StopIteration, out);
            Py_DECREF(out);
            if (exc) {
                PyErr_SetObject(PyExc_StopIteration, exc);
                Py_DECREF(exc);
            }
            return nullptr;
        }
        default:
            return nullptr;
    }
}

PyObject* aw_await(PyObject* self) {
    Py_INCREF(self);
    return self;
}

PyObject* aw_send_method(PyObject* self, PyObject* arg) {
    (void)arg;
    return aw_iternext(self);
}

// Task cancellation arrives here (yield-from delegates throw to us): stop
// the C++ work, then let the exception propagate into the coroutine.
PyObject* aw_throw(PyObject* self, PyObject* const* args, Py_ssize_t nargs) {
    auto* aw = reinterpret_cast<AwaitableObject*>(self);
    if (nargs < 1 || nargs > 3) {
        PyErr_SetString(PyExc_TypeError, "throw expected 1 to 3 arguments");
        return nullptr;
    }
    if (aw->state == AwState::Pending) awaitable_cancel(aw);
    PyObject* typ = args[0];
    PyObject* val = nargs > 1 ? args[1] : nullptr;
    if (PyExceptionInstance_Check(typ)) {
        PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(typ)), typ);
    } else if (PyExceptionClass_Check(typ)) {
        if (val && val != Py_None)
            PyErr_SetObject(typ, val);
        else
            PyErr_SetNone(typ);
    } else {
        PyErr_SetString(PyExc_TypeError, "exceptions must be classes or instances deriving from BaseException");
    }
    return nullptr;
}

PyObject* aw_close(PyObject* self, PyObject*) {
    auto* aw = reinterpret_cast<AwaitableObject*>(self);
    if (aw->state == AwState::Pending) awaitable_cancel(aw);
    Py_RETURN_NONE;
}

PyObject* aw_done(PyObject* self, PyObject*) {
    return PyBool_FromLong(reinterpret_cast<AwaitableObject*>(self)->state != AwState::Pending);
}

PyObject* aw_cancelled(PyObject* self, PyObject*) {
    return PyBool_FromLong(reinterpret_cast<AwaitableObject*>(self)->state == AwState::Cancelled);
}

PyObject* aw_cancel(PyObject* self, PyObject*) {
    auto* aw = reinterpret_cast<AwaitableObject*>(self);
    if (aw->state != AwState::Pending) Py_RETURN_FALSE;
    awaitable_cancel(aw);
    Py_RETURN_TRUE;
}

PyObject* aw_result(PyObject* self, PyObject*) {
    auto* aw = reinterpret_cast<AwaitableObject*>(self);
    if (aw->state == AwState::Pending) {
        PyErr_SetString(invalid_state_error_type(), "Result is not ready.");
        return nullptr;
    }
    if (aw->state == AwState::Ok) {
        Py_INCREF(aw->result);
        return aw->result;
    }
    raise_stored(aw);
    return nullptr;
}

PyObject* aw_exception(PyObject* self, PyObject*) {
    auto* aw = reinterpret_cast<AwaitableObject*>(self);
    if (aw->state == AwState::Pending) {
        PyErr_SetString(invalid_state_error_type(), "Exception is not set.");
        return nullptr;
    }
    if (aw->state == AwState::Cancelled) {
        raise_stored(aw);
        return nullptr;
    }
    if (aw->state == AwState::Error) {
        Py_INCREF(aw->result);
        return aw->result;
    }
    Py_RETURN_NONE;
}

PyObject* aw_repr(PyObject* self) {
    static const char* names[] = {"pending", "finished", "failed", "cancelled"};
    auto* aw = reinterpret_cast<AwaitableObject*>(self);
    return PyUnicode_FromFormat("<accel.Awaitable %s>", names[static_cast<int>(aw->state)]);
}

int aw_traverse(PyObject* self, visitproc visit, void* arg) {
    auto* aw = reinterpret_cast<AwaitableObject*>(self);
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(aw->loop);
    Py_VISIT(aw->fut);
    Py_VISIT(aw->result);
    Py_VISIT(aw->extra);
    return 0;
}

int aw_clear(PyObject* self) {
    auto* aw = reinterpret_cast<AwaitableObject*>(self);
    Py_CLEAR(aw->loop);
    Py_CLEAR(aw->fut);
    Py_CLEAR(aw->result);
    Py_CLEAR(aw->extra);
    return 0;
}

void aw_dealloc(PyObject* self) {
    auto* aw = reinterpret_cast<AwaitableObject*>(self);
    PyObject_GC_UnTrack(self);
    if (aw->weakreflist) PyObject_ClearWeakRefs(self);
    // Abandoned while pending (e.g. its coroutine was dropped): stop the
    // work so nothing leaks. spawn() handles are owned by the runtime.
    if (aw->state == AwState::Pending && !aw->detached) cancel_work(aw);
    if (aw->cpp.op) aw->cpp.op->owner = nullptr;
    aw->cpp.~AwaitableCpp();
    aw_clear(self);
    PyTypeObject* tp = Py_TYPE(self);
    PyObject_GC_Del(self);
    Py_DECREF(tp);
}

PyMethodDef aw_methods[] = {
    {"send", aw_send_method, METH_O, "Coroutine protocol: resume the await."},
    {"throw", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(aw_throw)), METH_FASTCALL,
     "Coroutine protocol: raise inside the await (cancels the underlying work)."},
    {"close", aw_close, METH_NOARGS, "Cancel the underlying work if still pending."},
    {"done", aw_done, METH_NOARGS, "True once the result, an exception or a cancellation is set."},
    {"cancelled", aw_cancelled, METH_NOARGS, "True if it was cancelled."},
    {"cancel", aw_cancel, METH_NOARGS,
     "Cancel the underlying C++ or Python work (timer removed, transfer aborted, queued job dropped).\n"
     "Returns False if already done."},
    {"result", aw_result, METH_NOARGS, "Return the result or raise its exception (InvalidStateError if pending)."},
    {"exception", aw_exception, METH_NOARGS, "Return the exception (or None); raises CancelledError if cancelled."},
    {nullptr, nullptr, 0, nullptr}};

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Winvalid-offsetof"
PyMemberDef aw_members[] = {
    {"__weaklistoffset__", T_PYSSIZET, offsetof(AwaitableObject, weakreflist), READONLY, nullptr},
    {nullptr, 0, 0, 0, nullptr}};
#pragma GCC diagnostic pop

}  // namespace

// ---- public helpers ------------------------------------------------------

bool is_accel_awaitable(PyObject* o) { return Py_TYPE(o) == g_type; }

AwaitableObject* awaitable_pending(PyObject* loop) {
    auto* aw = alloc_awaitable();
    if (!aw) throw py::error_already_set();
    Py_INCREF(loop);
    aw->loop = loop;
    return aw;
}

AwaitableObject* awaitable_done(PyObject* value) {
    auto* aw = alloc_awaitable();
    if (!aw) throw py::error_already_set();
    Py_INCREF(value);
    aw->result = value;
    aw->state = AwState::Ok;
    return aw;
}

PyObject* ready_none() {
    Py_INCREF(g_ready_none);
    return g_ready_none;
}

void awaitable_set_result(AwaitableObject* aw, PyObject* value) {
    if (aw->state != AwState::Pending) return;
    Py_INCREF(value);
    aw->result = value;
    aw->state = AwState::Ok;
    finish(aw);
}

void awaitable_set_exception(AwaitableObject* aw, PyObject* exc) {
    if (aw->state != AwState::Pending) return;
    Py_INCREF(exc);
    aw->result = exc;
    aw->state = AwState::Error;
    finish(aw);
}

void awaitable_cancel(AwaitableObject* aw) {
    if (aw->state != AwState::Pending) return;
    Py_INCREF(aw);
    aw->state = AwState::Cancelled;
    cancel_work(aw);
    if (aw->fut) {
        PyObject* r = PyObject_CallMethodNoArgs(aw->fut, s_cancel);
        if (!r) PyErr_Clear();
        Py_XDECREF(r);
        Py_CLEAR(aw->fut);
    }
    finish(aw);
    Py_DECREF(aw);
}

void awaitable_add_done_callback(AwaitableObject* aw, DoneCallback cb) {
    if (aw->state != AwState::Pending) {
        cb(aw);
        return;
    }
    aw->cpp.done_callbacks.push_back(std::move(cb));
}

// ---- PyOp ----------------------------------------------------------------

std::pair<py::object, std::shared_ptr<PyOp>> PyOp::create(PyObject* loop, Converter conv) {
    auto op = std::make_shared<PyOp>();
    op->queue_ = queue_for(loop);
    op->convert = conv;
    AwaitableObject* aw = awaitable_pending(loop);
    aw->cpp.op = op;
    op->owner = aw;
    return {steal(aw), op};
}

PyOp::~PyOp() {
    // Normally released in run_on_loop; this is the safety net for ops that
    // were never delivered (e.g. dropped at interpreter shutdown).
    if (has_view || call_target || call_args || call_kwargs || call_result || call_exc || on_loop) {
        if (Py_IsInitialized()) {
            py::gil_scoped_acquire gil;
            release_python();
        }
    }
}

void PyOp::release_python() {
    if (has_view) {
        PyBuffer_Release(&view);
        has_view = false;
    }
    Py_CLEAR(call_target);
    Py_CLEAR(call_args);
    Py_CLEAR(call_kwargs);
    Py_CLEAR(call_result);
    Py_CLEAR(call_exc);
    on_loop = nullptr;
}

void PyOp::complete() {
    if (posted_.exchange(true, std::memory_order_acq_rel)) return;
    auto self = shared_from_this();
    if (!queue_->post(self)) {
        // The loop is gone: nobody will run us; just free Python leftovers.
        py::gil_scoped_acquire gil;
        release_python();
    }
}

void PyOp::cancel() {
    cancelled_.store(true, std::memory_order_relaxed);
    auto fn = std::move(cancel_work);
    cancel_work = nullptr;
    if (fn) fn();
}

void PyOp::run_on_loop() {
    auto keep = shared_from_this();
    if (on_loop) {
        auto fn = std::move(on_loop);
        on_loop = nullptr;
        fn();
    }
    AwaitableObject* aw = owner;
    if (aw && aw->state == AwState::Pending && !cancelled()) {
        owner = nullptr;
        Py_INCREF(aw);
        PyObject* r = nullptr;
        if (error) {
            PyObject* exc = make_exception(error);
            if (exc) {
                awaitable_set_exception(aw, exc);
                Py_DECREF(exc);
            }
        } else {
            r = convert ? convert(*this, aw) : (Py_INCREF(Py_None), Py_None);
            if (r) {
                awaitable_set_result(aw, r);
                Py_DECREF(r);
            }
        }
        if (aw->state == AwState::Pending) {
            // Converting the result failed: the awaiter gets that error
            // instead of hanging.
            if (!PyErr_Occurred()) PyErr_SetString(PyExc_SystemError, "accel: failed to deliver a result");
            {
                PyObject *t, *v, *tb;
                PyErr_Fetch(&t, &v, &tb);
                PyErr_NormalizeException(&t, &v, &tb);
                if (tb) PyException_SetTraceback(v, tb);
                awaitable_set_exception(aw, v);
                Py_XDECREF(t);
                Py_XDECREF(v);
                Py_XDECREF(tb);
            }
        }
        Py_DECREF(aw);
    }
    release_python();
}

// ---- listeners -----------------------------------------------------------

std::function<void()> listen(py::handle child, PyObject* loop, Listener fn) {
    if (is_accel_awaitable(child.ptr())) {
        auto* aw = reinterpret_cast<AwaitableObject*>(child.ptr());
        awaitable_add_done_callback(aw, [fn](AwaitableObject* a) {
            switch (a->state) {
                case AwState::Ok: fn(true, a->result, false); break;
                case AwState::Error: fn(false, a->result, false); break;
                default: fn(false, py::none(), true); break;
            }
        });
        py::object keep = py::reinterpret_borrow<py::object>(child);
        return [keep] { awaitable_cancel(reinterpret_cast<AwaitableObject*>(keep.ptr())); };
    }
    // A Python coroutine or future: let asyncio drive it and listen for the end.
    // Borrowed for the life of the process (a static py::object would be
    // destroyed after the interpreter is gone).
    static PyObject* ensure_future =
        py::module_::import("asyncio").attr("ensure_future").cast<py::object>().release().ptr();
    py::object fut = py::handle(ensure_future)(child, py::arg("loop") = py::handle(loop));
    fut.attr("add_done_callback")(py::cpp_function([fn](py::object f) {
        if (f.attr("cancelled")().cast<bool>()) {
            fn(false, py::none(), true);
            return;
        }
        py::object exc = f.attr("exception")();
        if (!exc.is_none())
            fn(false, exc, false);
        else
            fn(true, f.attr("result")(), false);
    }));
    return [fut] { fut.attr("cancel")(); };
}

void init_awaitable(py::module_& m) {
    static PyType_Slot slots[] = {
        {Py_tp_dealloc, reinterpret_cast<void*>(aw_dealloc)},
        {Py_tp_traverse, reinterpret_cast<void*>(aw_traverse)},
        {Py_tp_clear, reinterpret_cast<void*>(aw_clear)},
        {Py_tp_iter, reinterpret_cast<void*>(PyObject_SelfIter)},
        {Py_tp_iternext, reinterpret_cast<void*>(aw_iternext)},
        {Py_tp_methods, aw_methods},
        {Py_tp_repr, reinterpret_cast<void*>(aw_repr)},
        {Py_am_await, reinterpret_cast<void*>(aw_await)},
        {Py_am_send, reinterpret_cast<void*>(aw_am_send)},
        {Py_tp_members, aw_members},
        {Py_tp_doc, const_cast<char*>(
            "Result of an accel operation. Await it from any asyncio event loop; it is resolved\n"
            "thread-safely on the loop that created it. Awaiting a finished one returns at once\n"
            "without yielding. Cancelling the awaiting Task cancels the underlying work.\n"
            "Also future-like: done(), cancelled(), cancel(), result(), exception().")},
        {0, nullptr}};
    static PyType_Spec spec = {"accel.Awaitable", sizeof(AwaitableObject), 0,
                               Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC, slots};
    auto* type = reinterpret_cast<PyTypeObject*>(PyType_FromSpec(&spec));
    if (!type) throw py::error_already_set();
    g_type = type;
    s_create_future = PyUnicode_InternFromString("create_future");
    s_set_result = PyUnicode_InternFromString("set_result");
    s_blocking = PyUnicode_InternFromString("_asyncio_future_blocking");
    s_cancel = PyUnicode_InternFromString("cancel");
    g_ready_none = reinterpret_cast<PyObject*>(awaitable_done(Py_None));
    m.add_object("Awaitable", py::reinterpret_borrow<py::object>(reinterpret_cast<PyObject*>(type)));
}

}  // namespace accel::binding
