// accel.Channel: the runtime's bounded Channel<T> holding Python objects.
// send/recv complete without a future when they don't block (the common
// case), so a producer/consumer pair costs a few C calls per item. C++
// producers (stream_range, ticker) generate plain integers on runtime
// threads and hand them to the loop, honouring backpressure.
#include <new>
#include <thread>

#include "accel/channel.hpp"
#include "accel/duration.hpp"
#include "internal.hpp"

#include <structmember.h>

namespace accel::binding {

namespace {

// Owning PyObject reference; only created/destroyed with the GIL (the
// channel is only touched from the loop thread).
struct PyRef {
    PyObject* obj = nullptr;
    PyRef() = default;
    explicit PyRef(PyObject* o) : obj(o) {}
    PyRef(PyRef&& o) noexcept : obj(o.obj) { o.obj = nullptr; }
    PyRef& operator=(PyRef&& o) noexcept {
        if (this != &o) {
            Py_XDECREF(obj);
            obj = o.obj;
            o.obj = nullptr;
        }
        return *this;
    }
    PyRef(const PyRef&) = delete;
    PyRef& operator=(const PyRef&) = delete;
    ~PyRef() { Py_XDECREF(obj); }
    PyObject* release() {
        PyObject* o = obj;
        obj = nullptr;
        return o;
    }
};

using PyChannel = accel::Channel<PyRef>;

struct ChannelObject {
    PyObject_HEAD
    PyObject* weakreflist;
    std::shared_ptr<PyChannel> ch;  // producers hold weak_ptrs
};

PyTypeObject* g_channel_type = nullptr;

PyObject* closed_error(const char* msg) {
    return PyObject_CallFunction(channel_closed_type(), "s", msg);
}

PyChannel& chan(PyObject* self) { return *reinterpret_cast<ChannelObject*>(self)->ch; }

// Where a waiting send/recv lives: the queue and thread of its loop.
// Channel operations may come from any thread (holding the GIL); a waiter is
// always resolved on its own loop's thread, which is woken through its
// completion queue, so another thread or another loop can feed it.
struct WaiterHome {
    std::shared_ptr<CompletionQueue> queue;
    std::thread::id thread;
};

// Runs a waiter's completion on its loop thread.
class Deferred final : public LoopTask {
public:
    explicit Deferred(std::function<void()> fn) : fn_(std::move(fn)) {}
    void run_on_loop() override {
        auto fn = std::move(fn_);
        fn_ = nullptr;
        fn();
    }

private:
    std::function<void()> fn_;
};

void deliver(const WaiterHome& home, std::function<void()> fn) {
    if (kSingleThreaded || std::this_thread::get_id() == home.thread) {
        fn();
        return;
    }
    home.queue->post(std::make_shared<Deferred>(std::move(fn)));  // dropped (GIL held) if the loop is gone
}

// A new pending awaitable on the running loop (a new reference) and its
// home, or nullptr with the Python error set.
AwaitableObject* pending_on_running_loop(const char* api, WaiterHome& home) {
    PyRef loop(running_loop(api));
    if (!loop.obj) return nullptr;
    try {
        home.queue = queue_for(loop.obj);
        home.thread = std::this_thread::get_id();
        return awaitable_pending(loop.obj);
    } catch (py::error_already_set& e) {
        e.restore();
        return nullptr;
    } catch (std::exception& e) {  // e.g. eventfd creation failed
        PyErr_SetString(PyExc_RuntimeError, e.what());
        return nullptr;
    }
}

PyObject* ch_send(PyObject* self, PyObject* item) {
    auto& ch = chan(self);
    Py_INCREF(item);
    PyRef v(item);
    switch (ch.try_send(v)) {
        case ChannelStatus::Ok:
            return ready_none();  // fast path: no future, no allocation
        case ChannelStatus::Closed:
            PyErr_SetString(channel_closed_type(), "send on a closed channel");
            return nullptr;
        default:
            break;
    }
    // Full: wait for space (backpressure).
    WaiterHome home;
    AwaitableObject* aw = pending_on_running_loop("Channel.send()", home);
    if (!aw) return nullptr;
    Py_INCREF(aw);
    PyRef keep(reinterpret_cast<PyObject*>(aw));  // held by the waiter until it fires
    auto holder = std::make_shared<PyRef>(std::move(keep));
    auto id = ch.async_send(std::move(v), [holder, home](bool ok) {
        deliver(home, [holder, ok] {
            auto* a = reinterpret_cast<AwaitableObject*>(holder->obj);
            if (ok) {
                awaitable_set_result(a, Py_None);
            } else {
                PyObject* e = closed_error("send on a closed channel");
                if (e) awaitable_set_exception(a, e);
                Py_XDECREF(e);
            }
            Py_CLEAR(holder->obj);
        });
    });
    if (id) {
        std::weak_ptr<PyChannel> weak = reinterpret_cast<ChannelObject*>(self)->ch;
        aw->cpp.on_cancel = [weak, id] {
            if (auto c = weak.lock()) c->cancel_waiter(id);  // the item is dropped, never delivered
        };
    }
    return reinterpret_cast<PyObject*>(aw);
}

PyObject* recv_impl(PyObject* self, bool for_anext) {
    auto& ch = chan(self);
    PyRef out;
    switch (ch.try_recv(out)) {
        case ChannelStatus::Ok: {
            AwaitableObject* aw;
            try {
                aw = awaitable_done(out.obj);
            } catch (py::error_already_set& e) {
                e.restore();
                return nullptr;
            }
            return reinterpret_cast<PyObject*>(aw);
        }
        case ChannelStatus::Closed:
            if (for_anext)
                PyErr_SetNone(PyExc_StopAsyncIteration);
            else
                PyErr_SetString(channel_closed_type(), "recv on a closed and drained channel");
            return nullptr;
        default:
            break;
    }
    WaiterHome home;
    AwaitableObject* aw = pending_on_running_loop(for_anext ? "Channel.__anext__()" : "Channel.recv()", home);
    if (!aw) return nullptr;
    Py_INCREF(aw);
    auto holder = std::make_shared<PyRef>(reinterpret_cast<PyObject*>(aw));
    std::weak_ptr<PyChannel> weak = reinterpret_cast<ChannelObject*>(self)->ch;
    auto id = ch.async_recv([holder, for_anext, home, weak](std::optional<PyRef> v) {
        auto item = std::make_shared<std::optional<PyRef>>(std::move(v));
        deliver(home, [holder, for_anext, item, weak] {
            auto* a = reinterpret_cast<AwaitableObject*>(holder->obj);
            if (*item) {
                if (a->state == AwState::Pending) {
                    awaitable_set_result(a, (*item)->obj);
                } else if (auto c = weak.lock()) {
                    c->give_back(std::move(**item));  // cancelled on the way: not lost
                }
            } else {
                PyObject* e = for_anext ? PyObject_CallNoArgs(PyExc_StopAsyncIteration)
                                        : closed_error("recv on a closed and drained channel");
                if (e) awaitable_set_exception(a, e);
                Py_XDECREF(e);
            }
            Py_CLEAR(holder->obj);
        });
    });
    if (id) {
        aw->cpp.on_cancel = [weak, id] {
            if (auto c = weak.lock()) c->cancel_waiter(id);
        };
    }
    return reinterpret_cast<PyObject*>(aw);
}

PyObject* ch_recv(PyObject* self, PyObject*) { return recv_impl(self, false); }
PyObject* ch_anext(PyObject* self) { return recv_impl(self, true); }
PyObject* ch_aiter(PyObject* self) {
    Py_INCREF(self);
    return self;
}

PyObject* ch_close(PyObject* self, PyObject*) {
    chan(self).close();
    Py_RETURN_NONE;
}

PyObject* ch_try_send(PyObject* self, PyObject* item) {
    Py_INCREF(item);
    PyRef v(item);
    auto st = chan(self).try_send(v);
    if (st == ChannelStatus::Closed) {
        PyErr_SetString(channel_closed_type(), "send on a closed channel");
        return nullptr;
    }
    return PyBool_FromLong(st == ChannelStatus::Ok);
}

PyObject* ch_closed(PyObject* self, void*) { return PyBool_FromLong(chan(self).closed()); }
PyObject* ch_capacity(PyObject* self, void*) { return PyLong_FromSize_t(chan(self).capacity()); }
Py_ssize_t ch_len(PyObject* self) { return static_cast<Py_ssize_t>(chan(self).size()); }

PyObject* ch_new(PyTypeObject* type, PyObject* args, PyObject* kwargs) {
    static const char* kwlist[] = {"capacity", nullptr};
    Py_ssize_t capacity = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "n:Channel", const_cast<char**>(kwlist), &capacity))
        return nullptr;
    if (capacity < 1) {
        PyErr_SetString(PyExc_ValueError, "Channel capacity must be >= 1");
        return nullptr;
    }
    auto* self = reinterpret_cast<ChannelObject*>(type->tp_alloc(type, 0));
    if (!self) return nullptr;
    self->weakreflist = nullptr;
    try {
        new (&self->ch) std::shared_ptr<PyChannel>(std::make_shared<PyChannel>(static_cast<std::size_t>(capacity)));
    } catch (std::bad_alloc&) {
        new (&self->ch) std::shared_ptr<PyChannel>();
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
    return reinterpret_cast<PyObject*>(self);
}

// GC support: items (buffered or held by waiting senders) may refer back to
// the channel; the collector must see them to break such cycles.
int ch_traverse(PyObject* self, visitproc visit, void* arg) {
    Py_VISIT(Py_TYPE(self));
    auto& ch = reinterpret_cast<ChannelObject*>(self)->ch;
    if (!ch) return 0;
    int rc = 0;
    ch->for_each_value([&](const PyRef& r) {
        if (!rc && r.obj) rc = visit(r.obj, arg);
    });
    return rc;
}

int ch_clear(PyObject* self) {
    auto& ch = reinterpret_cast<ChannelObject*>(self)->ch;
    if (ch) {
        ch->close();  // waiting senders fail and drop their items
        ch->clear();
    }
    return 0;
}

void ch_dealloc(PyObject* self) {
    auto* c = reinterpret_cast<ChannelObject*>(self);
    PyObject_GC_UnTrack(self);
    if (c->weakreflist) PyObject_ClearWeakRefs(self);
    // Wake waiters and drop buffered items here, with the GIL; producers
    // only hold weak_ptrs, so no Python object outlives this point.
    if (c->ch) {
        c->ch->close();
        c->ch->clear();
    }
    c->ch.~shared_ptr();
    PyTypeObject* tp = Py_TYPE(self);
    tp->tp_free(self);
    Py_DECREF(tp);
}

PyMethodDef ch_methods[] = {
    {"send", ch_send, METH_O,
     "send($self, item, /)\n--\n\nPut an item; waits while the channel is full (backpressure).\n"
     "Completes immediately when there is room. Raises ChannelClosed if closed.\n"
     "If the awaiting task is cancelled the item is not delivered."},
    {"recv", ch_recv, METH_NOARGS,
     "recv($self, /)\n--\n\nTake the oldest item, waiting while empty. Raises ChannelClosed once\n"
     "the channel is closed and drained."},
    {"try_send", ch_try_send, METH_O,
     "try_send($self, item, /)\n--\n\nPut an item without waiting; False if full. Raises ChannelClosed if closed."},
    {"close", ch_close, METH_NOARGS,
     "close($self, /)\n--\n\nNo more sends: waiting senders get ChannelClosed, waiting receivers are woken;\n"
     "buffered items can still be received. C++ producers stop."},
    {nullptr, nullptr, 0, nullptr}};

PyGetSetDef ch_getset[] = {
    {"closed", ch_closed, nullptr, "True after close().", nullptr},
    {"capacity", ch_capacity, nullptr, "Maximum number of buffered items.", nullptr},
    {nullptr, nullptr, nullptr, nullptr, nullptr}};

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Winvalid-offsetof"
PyMemberDef ch_members[] = {
    {"__weaklistoffset__", T_PYSSIZET, offsetof(ChannelObject, weakreflist), READONLY, nullptr},
    {nullptr, 0, 0, 0, nullptr}};
#pragma GCC diagnostic pop

// ---- C++ producers -------------------------------------------------------

// Produces 0, 1, 2... into a channel. Steps are posted to the loop's
// completion queue (from the timer thread when there is an interval); the
// loop side converts the integer and pushes it, waiting for space if full.
class Producer final : public LoopTask, public std::enable_shared_from_this<Producer> {
public:
    Producer(std::weak_ptr<PyChannel> ch, std::shared_ptr<CompletionQueue> q, long long count, double interval,
             bool drop_when_full)
        : ch_(std::move(ch)), queue_(std::move(q)), count_(count), interval_(interval), drop_(drop_when_full) {}

    void start() {
        start_ = TimerQueue::Clock::now();
        schedule();
    }

    void run_on_loop() override {  // GIL held, loop thread
        auto ch = ch_.lock();
        if (!ch || ch->closed()) return;  // consumer gone or closed: stop
        for (;;) {
            PyObject* num = PyLong_FromLongLong(next_);
            if (!num) {
                PyErr_WriteUnraisable(nullptr);
                return;
            }
            PyRef v(num);
            auto st = ch->try_send(v);
            if (st == ChannelStatus::Closed) return;
            if (st == ChannelStatus::Full) {
                if (drop_) {  // ticker: a slow consumer misses ticks
                    ++next_;
                    schedule();
                    return;
                }
                auto self = shared_from_this();
                ch->async_send(std::move(v), [self](bool ok) {
                    if (!ok) return;
                    ++self->next_;
                    self->after_item();
                });
                return;
            }
            ++next_;
            if (interval_ > 0 || (count_ >= 0 && next_ >= count_)) break;
        }
        after_item();
    }

private:
    void after_item() {
        if (count_ >= 0 && next_ >= count_) {
            if (auto ch = ch_.lock()) ch->close();
            return;
        }
        schedule();
    }

    void schedule() {
        auto rt = runtime_if_alive();
        if (!rt) return;
        auto self = shared_from_this();
        if (interval_ <= 0) {
            queue_->post(self);
            return;
        }
        if (is_never(interval_)) return;  // inf/huge interval: the next item never comes
        // Absolute deadlines: the period does not drift with loop latency.
        ++ticks_;
        auto period = std::chrono::duration_cast<TimerQueue::Clock::duration>(
            std::chrono::duration<double>(interval_));
        auto deadline = start_ + period * ticks_;
        auto now = TimerQueue::Clock::now();
        if (deadline < now) {  // fell behind (consumer slow): skip missed slots
            ticks_ = (now - start_) / period + 1;
            deadline = start_ + period * ticks_;
        }
        std::weak_ptr<CompletionQueue> wq = queue_;
        rt->timers().add(deadline, [self, wq] {
            if (auto q = wq.lock()) q->post(self);
        });
    }

    std::weak_ptr<PyChannel> ch_;
    std::shared_ptr<CompletionQueue> queue_;
    long long count_;
    long long next_ = 0;
    long long ticks_ = 0;
    double interval_;
    bool drop_;
    TimerQueue::Clock::time_point start_;
};

py::object make_channel(std::size_t capacity) {
    return py::reinterpret_steal<py::object>(
        PyObject_CallFunction(reinterpret_cast<PyObject*>(g_channel_type), "n", static_cast<Py_ssize_t>(capacity)));
}

py::object start_producer(long long count, double interval, std::size_t capacity, bool drop, const char* api) {
    runtime();  // started now: the producer schedules through runtime_if_alive()
    PyObject* loop = running_loop(api);
    if (!loop) throw py::error_already_set();
    py::object l = py::reinterpret_steal<py::object>(loop);
    py::object chobj = make_channel(capacity);
    if (!chobj) throw py::error_already_set();
    auto& ch = reinterpret_cast<ChannelObject*>(chobj.ptr())->ch;
    auto p = std::make_shared<Producer>(ch, queue_for(l.ptr()), count, interval, drop);
    if (count == 0) {
        ch->close();
        return chobj;
    }
    p->start();
    return chobj;
}

}  // namespace

void init_channel(py::module_& m) {
    static PyType_Slot slots[] = {
        {Py_tp_new, reinterpret_cast<void*>(ch_new)},
        {Py_tp_dealloc, reinterpret_cast<void*>(ch_dealloc)},
        {Py_tp_traverse, reinterpret_cast<void*>(ch_traverse)},
        {Py_tp_clear, reinterpret_cast<void*>(ch_clear)},
        {Py_tp_methods, ch_methods},
        {Py_tp_getset, ch_getset},
        {Py_tp_members, ch_members},
        {Py_am_aiter, reinterpret_cast<void*>(ch_aiter)},
        {Py_am_anext, reinterpret_cast<void*>(ch_anext)},
        {Py_sq_length, reinterpret_cast<void*>(ch_len)},
        {Py_tp_doc, const_cast<char*>(
            "Channel(capacity)\n\n"
            "Bounded FIFO channel. `await ch.send(x)` waits while the channel holds\n"
            "`capacity` items; `await ch.recv()` waits while it is empty; `async for x in ch`\n"
            "receives until the channel is closed and drained. Every method is safe from any\n"
            "thread and any event loop: a waiting send/recv is resumed on the loop that\n"
            "awaits it (woken through its completion queue), e.g. a plain thread can\n"
            "try_send()/close() while a loop awaits recv(). send()/recv() that must wait\n"
            "need a running loop in the calling thread. Producers can be Python coroutines,\n"
            "other threads or the C++ runtime (stream_range, ticker).")},
        {0, nullptr}};
    static PyType_Spec spec = {"accel.Channel", sizeof(ChannelObject), 0, Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
                               slots};
    g_channel_type = reinterpret_cast<PyTypeObject*>(PyType_FromSpec(&spec));
    if (!g_channel_type) throw py::error_already_set();
    m.add_object("Channel", py::reinterpret_borrow<py::object>(reinterpret_cast<PyObject*>(g_channel_type)));

    m.def(
        "stream_range",
        [](py::handle n_obj, py::handle interval_obj, py::handle capacity_obj) {
            const char* api = "accel.stream_range()";
            long long n = args::integer(n_obj, api, "n");
            double interval = args::seconds(interval_obj, api, "interval");
            long long capacity = args::integer(capacity_obj, api, "capacity");
            if (n < 0) throw py::value_error("stream_range: n must be >= 0");
            if (interval < 0) throw py::value_error("stream_range: interval must be >= 0");
            if (capacity < 1) throw py::value_error("stream_range: capacity must be >= 1");
            return start_producer(n, interval, static_cast<std::size_t>(capacity), false, api);
        },
        py::arg("n"), py::arg("interval") = 0.0, py::arg("capacity") = 64,
        "stream_range(n, interval=0.0, capacity=64)\n--\n\n"
        "A Channel fed by a C++ producer with 0..n-1 (one item every `interval` seconds,\n"
        "or as fast as the consumer takes them), then closed. The producer respects\n"
        "backpressure: it waits while the channel is full. Closing the channel stops it.");
    m.def(
        "ticker",
        [](py::handle interval_obj) {
            double interval = args::seconds(interval_obj, "accel.ticker()", "interval");
            if (!(interval > 0)) throw py::value_error("ticker: interval must be > 0");
            return start_producer(-1, interval, 1, true, "accel.ticker()");
        },
        py::arg("interval"),
        "ticker(interval)\n--\n\n"
        "A Channel that receives the tick number 0, 1, 2... every `interval` seconds from\n"
        "the C++ timer thread (absolute deadlines, no drift). Ticks are dropped while the\n"
        "consumer is behind. Runs until the channel is closed or garbage collected.\n"
        "An infinite (or >= 1e9 s) interval never ticks.");
}

}  // namespace accel::binding
