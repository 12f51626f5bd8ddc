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
PyObject* s_call_soon = nullptr;
PyObject* s_context = nullptr;
PyObject* s_call_exception_handler = nullptr;
PyObject* g_get_running_loop = nullptr;

AwaitableObject* alloc_awaitable() {
    auto* aw = PyObject_GC_New(AwaitableObject, g_type);
    if (!aw) return nullptr;
    aw->weakreflist = nullptr;
    aw->loop = aw->callbacks = aw->result = aw->extra = aw->cancel_msg = nullptr;
    aw->state = AwState::Pending;
    aw->blocking = 0;
    aw->detached = false;
    aw->log_unretrieved = false;
    aw->retrieved = false;
    new (&aw->cpp) AwaitableCpp();
    PyObject_GC_Track(aw);
    return aw;
}

// The loop that runs done callbacks: the awaitable's own, else (created
// already done, e.g. sleep(0)) the running loop. New reference or nullptr+error.
PyObject* callback_loop(AwaitableObject* aw) {
    if (aw->loop) {
        Py_INCREF(aw->loop);
        return aw->loop;
    }
    PyObject* loop = PyObject_CallNoArgs(g_get_running_loop);
    if (loop == Py_None) {
        Py_DECREF(loop);
        PyErr_SetString(PyExc_RuntimeError,
                        "this accel awaitable was created already complete, outside any event loop, and there "
                        "is no running event loop to schedule callbacks on");
        return nullptr;
    }
    return loop;
}

// loop.call_soon(fn, aw, context=ctx), like asyncio.Future does.
int schedule_callback(PyObject* loop, PyObject* fn, PyObject* ctx, AwaitableObject* aw) {
    PyObject* args[] = {loop, fn, reinterpret_cast<PyObject*>(aw), ctx};
    PyObject* names = nullptr;
    Py_ssize_t nargs = 3;
    if (ctx && ctx != Py_None) {
        names = PyTuple_Pack(1, s_context);
        if (!names) return -1;
    }
    PyObject* r = PyObject_VectorcallMethod(s_call_soon, args, nargs, names);
    Py_XDECREF(names);
    if (!r) return -1;
    Py_DECREF(r);
    return 0;
}

// Runs the done callbacks exactly once; they may drop the last reference.
void finish(AwaitableObject* aw) {
    aw->cpp.on_cancel = nullptr;
    if (aw->cpp.op) {
        aw->cpp.op->owner = nullptr;
        aw->cpp.op.reset();
    }
    Py_INCREF(aw);
    if (PyObject* cbs = aw->callbacks) {
        aw->callbacks = nullptr;
        PyObject* loop = callback_loop(aw);
        for (Py_ssize_t i = 0; loop && i < PyList_GET_SIZE(cbs); ++i) {
            PyObject* item = PyList_GET_ITEM(cbs, i);
            // A closed loop cannot run callbacks any more: nobody waits there.
            if (schedule_callback(loop, PyTuple_GET_ITEM(item, 0), PyTuple_GET_ITEM(item, 1), aw) < 0)
                PyErr_Clear();
        }
        if (!loop) PyErr_Clear();
        Py_XDECREF(loop);
        Py_DECREF(cbs);
    }
    if (!aw->cpp.done_callbacks.empty()) {
        auto cbs = std::move(aw->cpp.done_callbacks);
        aw->cpp.done_callbacks.clear();
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
    }
    Py_DECREF(aw);
}

void raise_stored(AwaitableObject* aw) {
    if (aw->state == AwState::Cancelled && !aw->result) {
        if (aw->cancel_msg)
            PyErr_SetObject(cancelled_error_type(), aw->cancel_msg);
        else
            PyErr_SetNone(cancelled_error_type());
        return;
    }
    aw->retrieved = true;
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
    // Same protocol as asyncio.Future.__await__: yield ourselves with
    // _asyncio_future_blocking set; the Task calls add_done_callback.
    aw->blocking = 1;
    Py_INCREF(aw);
    *out = reinterpret_cast<PyObject*>(aw);
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

PyObject* aw_done(PyObject* self, PyObject*) {
    return PyBool_FromLong(reinterpret_cast<AwaitableObject*>(self)->state != AwState::Pending);
}

PyObject* aw_cancelled(PyObject* self, PyObject*) {
    return PyBool_FromLong(reinterpret_cast<AwaitableObject*>(self)->state == AwState::Cancelled);
}

PyObject* aw_cancel(PyObject* self, PyObject* args, PyObject* kwargs) {
    static const char* kwlist[] = {"msg", nullptr};
    PyObject* msg = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|O:cancel", const_cast<char**>(kwlist), &msg)) return nullptr;
    auto* aw = reinterpret_cast<AwaitableObject*>(self);
    if (aw->state != AwState::Pending) Py_RETURN_FALSE;
    if (msg != Py_None) {
        Py_INCREF(msg);
        Py_XSETREF(aw->cancel_msg, msg);
    }
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
        aw->retrieved = true;
        Py_INCREF(aw->result);
        return aw->result;
    }
    Py_RETURN_NONE;
}

PyObject* aw_add_done_callback(PyObject* self, PyObject* args, PyObject* kwargs) {
    static const char* kwlist[] = {"fn", "context", nullptr};
    PyObject* fn = nullptr;
    PyObject* ctx = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|$O:add_done_callback", const_cast<char**>(kwlist), &fn, &ctx))
        return nullptr;
    if (!PyCallable_Check(fn)) {
        PyErr_Format(PyExc_TypeError, "add_done_callback(): fn must be callable, not %.100s", Py_TYPE(fn)->tp_name);
        return nullptr;
    }
    auto* aw = reinterpret_cast<AwaitableObject*>(self);
    if (ctx == Py_None) {
        ctx = PyContext_CopyCurrent();
        if (!ctx) return nullptr;
    } else {
        Py_INCREF(ctx);
    }
    PyObject* ctx_ref = ctx;  // owned
    if (aw->state != AwState::Pending) {
        PyObject* loop = callback_loop(aw);
        int rc = loop ? schedule_callback(loop, fn, ctx_ref, aw) : -1;
        Py_XDECREF(loop);
        Py_DECREF(ctx_ref);
        if (rc < 0) return nullptr;
        Py_RETURN_NONE;
    }
    if (!aw->callbacks) {
        aw->callbacks = PyList_New(0);
        if (!aw->callbacks) {
            Py_DECREF(ctx_ref);
            return nullptr;
        }
    }
    PyObject* item = PyTuple_Pack(2, fn, ctx_ref);
    Py_DECREF(ctx_ref);
    if (!item) return nullptr;
    int rc = PyList_Append(aw->callbacks, item);
    Py_DECREF(item);
    if (rc < 0) return nullptr;
    Py_RETURN_NONE;
}

PyObject* aw_remove_done_callback(PyObject* self, PyObject* fn) {
    auto* aw = reinterpret_cast<AwaitableObject*>(self);
    Py_ssize_t removed = 0;
    if (aw->callbacks) {
        PyObject* keep = PyList_New(0);
        if (!keep) return nullptr;
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(aw->callbacks); ++i) {
            PyObject* item = PyList_GET_ITEM(aw->callbacks, i);
            int eq = PyObject_RichCompareBool(PyTuple_GET_ITEM(item, 0), fn, Py_EQ);
            if (eq < 0) {
                Py_DECREF(keep);
                return nullptr;
            }
            if (eq) {
                ++removed;
            } else if (PyList_Append(keep, item) < 0) {
                Py_DECREF(keep);
                return nullptr;
            }
        }
        Py_SETREF(aw->callbacks, keep);
    }
    return PyLong_FromSsize_t(removed);
}

// asyncio.gather reads these on its children (3.11: tasks.py _done_callback).
PyObject* aw_make_cancelled_error(PyObject* self, PyObject*) {
    auto* aw = reinterpret_cast<AwaitableObject*>(self);
    return aw->cancel_msg ? PyObject_CallOneArg(cancelled_error_type(), aw->cancel_msg)
                          : PyObject_CallNoArgs(cancelled_error_type());
}

PyObject* aw_get_loop(PyObject* self, PyObject*) { return callback_loop(reinterpret_cast<AwaitableObject*>(self)); }

PyObject* aw_repr(PyObject* self) {
    static const char* names[] = {"pending", "finished", "failed", "cancelled"};
    auto* aw = reinterpret_cast<AwaitableObject*>(self);
    return PyUnicode_FromFormat("<accel.Awaitable %s>", names[static_cast<int>(aw->state)]);
}

int aw_traverse(PyObject* self, visitproc visit, void* arg) {
    auto* aw = reinterpret_cast<AwaitableObject*>(self);
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(aw->loop);
    Py_VISIT(aw->callbacks);
    Py_VISIT(aw->result);
    Py_VISIT(aw->extra);
    Py_VISIT(aw->cancel_msg);
    return 0;
}

int aw_clear(PyObject* self) {
    auto* aw = reinterpret_cast<AwaitableObject*>(self);
    Py_CLEAR(aw->loop);
    Py_CLEAR(aw->callbacks);
    Py_CLEAR(aw->result);
    Py_CLEAR(aw->extra);
    Py_CLEAR(aw->cancel_msg);
    return 0;
}

// PEP 442 finalizer: a spawn() handle whose exception nobody retrieved is
// reported through the loop's exception handler, like asyncio's "Task
// exception was never retrieved".
void aw_finalize(PyObject* self) {
    auto* aw = reinterpret_cast<AwaitableObject*>(self);
    if (!aw->log_unretrieved || aw->retrieved || aw->state != AwState::Error || !aw->loop || !aw->result) return;
    aw->log_unretrieved = false;
    PyObject *et, *ev, *etb;
    PyErr_Fetch(&et, &ev, &etb);
    PyObject* ctx = Py_BuildValue("{s:s,s:O,s:O}", "message", "accel.spawn() exception was never retrieved",
                                  "exception", aw->result, "future", self);
    PyObject* r = ctx ? PyObject_CallMethodOneArg(aw->loop, s_call_exception_handler, ctx) : nullptr;
    if (!r) PyErr_WriteUnraisable(self);
    Py_XDECREF(r);
    Py_XDECREF(ctx);
    PyErr_Restore(et, ev, etb);
}

void aw_dealloc(PyObject* self) {
    auto* aw = reinterpret_cast<AwaitableObject*>(self);
    if (PyObject_CallFinalizerFromDealloc(self) < 0) return;  // resurrected
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
    {"done", aw_done, METH_NOARGS, "done($self, /)\n--\n\nTrue once the result, an exception or a cancellation is set."},
    {"cancelled", aw_cancelled, METH_NOARGS, "cancelled($self, /)\n--\n\nTrue if it was cancelled."},
    {"cancel", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(aw_cancel)), METH_VARARGS | METH_KEYWORDS,
     "cancel($self, /, msg=None)\n--\n\n"
     "Cancel the underlying C++ or Python work (timer removed, transfer aborted, queued job dropped).\n"
     "Returns False if already done. Awaiting then raises CancelledError(msg)."},
    {"result", aw_result, METH_NOARGS,
     "result($self, /)\n--\n\nReturn the result or raise its exception (InvalidStateError if pending)."},
    {"exception", aw_exception, METH_NOARGS,
     "exception($self, /)\n--\n\nReturn the exception (or None); raises CancelledError if cancelled."},
    {"add_done_callback", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(aw_add_done_callback)),
     METH_VARARGS | METH_KEYWORDS,
     "add_done_callback($self, fn, /, *, context=None)\n--\n\n"
     "Like asyncio.Future.add_done_callback: fn(awaitable) is scheduled with loop.call_soon once done."},
    {"remove_done_callback", aw_remove_done_callback, METH_O,
     "remove_done_callback($self, fn, /)\n--\n\nRemove every registration of fn; returns how many."},
    {"_make_cancelled_error", aw_make_cancelled_error, METH_NOARGS,
     "_make_cancelled_error($self, /)\n--\n\nThe CancelledError to raise (asyncio.Future protocol)."},
    {"get_loop", aw_get_loop, METH_NOARGS,
     "get_loop($self, /)\n--\n\nThe event loop this awaitable is bound to (the running loop for one created "
     "already complete)."},
    {nullptr, nullptr, 0, nullptr}};

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Winvalid-offsetof"
PyMemberDef aw_members[] = {
    {"__weaklistoffset__", T_PYSSIZET, offsetof(AwaitableObject, weakreflist), READONLY, nullptr},
    {"_asyncio_future_blocking", T_BOOL, offsetof(AwaitableObject, blocking), 0,
     "asyncio's Task protocol flag (makes asyncio.isfuture() true)."},
    {"_cancel_message", T_OBJECT, offsetof(AwaitableObject, cancel_msg), READONLY,
     "Message given to cancel(), or None (read by asyncio.gather)."},
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
    if (has_view || call_target || call_args || call_kwargs || call_result || call_exc || call_context || on_loop) {
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
    Py_CLEAR(call_context);
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
        {Py_tp_finalize, reinterpret_cast<void*>(aw_finalize)},
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
            "Result of an accel operation, bound to the event loop running when it was created\n"
            "and resolved there thread-safely. It is asyncio-Future-compatible (asyncio.isfuture()\n"
            "is true): await it, or pass it to asyncio.wait, ensure_future, shield, wait_for,\n"
            "gather. Awaiting a finished one returns at once without yielding. Cancelling the\n"
            "awaiting Task cancels the underlying work.")},
        {0, nullptr}};
    static PyType_Spec spec = {"accel.Awaitable", sizeof(AwaitableObject), 0,
                               Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC, slots};
    auto* type = reinterpret_cast<PyTypeObject*>(PyType_FromSpec(&spec));
    if (!type) throw py::error_already_set();
    g_type = type;
    s_call_soon = PyUnicode_InternFromString("call_soon");
    s_context = PyUnicode_InternFromString("context");
    s_call_exception_handler = PyUnicode_InternFromString("call_exception_handler");
    g_get_running_loop =
        py::module_::import("asyncio").attr("_get_running_loop").cast<py::object>().release().ptr();
    g_ready_none = reinterpret_cast<PyObject*>(awaitable_done(Py_None));
    m.add_object("Awaitable", py::reinterpret_borrow<py::object>(reinterpret_cast<PyObject*>(type)));
}

}  // namespace accel::binding
