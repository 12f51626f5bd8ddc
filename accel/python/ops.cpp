// Leaf operations: sleep, file I/O, sha256, zlib, float64 sum.
#include <cmath>
#include <cstring>
#include <string>

#include "accel/compress.hpp"
#include "accel/digest.hpp"
#include "accel/file_io.hpp"
#include "accel/reduce.hpp"
#include "internal.hpp"
#include "accel/duration.hpp"

namespace accel::binding {

namespace {

// Below this size the work is done inline: a thread hop costs more.
constexpr std::size_t kInlineBytes = 64 * 1024;

py::object loop_or_throw(const char* api) {
    PyObject* loop = running_loop(api);
    if (!loop) throw py::error_already_set();
    return py::reinterpret_steal<py::object>(loop);
}

PyObject* convert_extra(PyOp&, AwaitableObject* aw) {
    PyObject* r = aw->extra ? aw->extra : Py_None;
    Py_INCREF(r);
    return r;
}

PyObject* convert_bytes(PyOp& op, AwaitableObject*) {
    auto& s = std::any_cast<std::string&>(op.value);
    return PyBytes_FromStringAndSize(s.data(), static_cast<Py_ssize_t>(s.size()));
}

PyObject* convert_str(PyOp& op, AwaitableObject*) {
    auto& s = std::any_cast<std::string&>(op.value);
    return PyUnicode_FromStringAndSize(s.data(), static_cast<Py_ssize_t>(s.size()));
}

PyObject* convert_double(PyOp& op, AwaitableObject*) {
    return PyFloat_FromDouble(std::any_cast<double>(op.value));
}

PyObject* convert_size(PyOp& op, AwaitableObject*) {
    return PyLong_FromSize_t(std::any_cast<std::size_t>(op.value));
}

// Buffer view released on scope exit unless handed to an op.
struct LocalView {
    Py_buffer view{};
    bool held = false;
    LocalView(py::handle data, int flags) {
        if (PyObject_GetBuffer(data.ptr(), &view, flags) < 0) throw py::error_already_set();
        held = true;
    }
    ~LocalView() {
        if (held) PyBuffer_Release(&view);
    }
    LocalView(const LocalView&) = delete;
    LocalView& operator=(const LocalView&) = delete;
    std::size_t size() const { return static_cast<std::size_t>(view.len); }
    void hand_to(PyOp& op) {
        op.view = view;
        op.has_view = true;
        held = false;
    }
};

// Acquire a contiguous read-only view of `data` into op->view.
void take_view(PyOp& op, py::handle data, int flags = PyBUF_SIMPLE) {
    if (PyObject_GetBuffer(data.ptr(), &op.view, flags) < 0) throw py::error_already_set();
    op.has_view = true;
}

// Runs `work` on the executor; the job owns a reference to the op, so the
// buffer stays alive until the job finished or was dropped.
// A C++ exception in `work` (std::bad_alloc...) becomes the operation's
// Python exception (MemoryError...), never std::terminate.
void submit(const std::shared_ptr<PyOp>& op, std::function<void(PyOp&)> work) {
    auto& ex = runtime().executor();
    auto job = ex.submit([op, work = std::move(work)] {
                             if (!op->cancelled()) {
                                 Error err = capture_errors([&] { work(*op); });
                                 if (err) {
                                     op->value.reset();
                                     op->error = std::move(err);
                                 }
                             }
                             op->complete();
                         },
                         [op] { op->complete(); });
    op->cancel_work = [job] {
        if (auto* rt = runtime_if_alive()) rt->executor().cancel(job);
    };
}

// Cancellation predicate for chunked work on a worker thread.
std::function<bool()> cancel_check(PyOp& o) {
    return [&o] { return o.cancelled(); };
}

py::object sleep(py::handle seconds_obj, py::object result) {
    // asyncio's meaning: <= 0 returns at once; inf/huge never completes.
    double seconds = args::seconds(seconds_obj, "accel.sleep()", "seconds");
    if (seconds <= 0) return steal(awaitable_done(result.ptr()));  // done: await returns at once
    auto loop = loop_or_throw("accel.sleep()");
    auto [aw, op] = PyOp::create(loop.ptr(), convert_extra);
    reinterpret_cast<AwaitableObject*>(aw.ptr())->extra = result.release().ptr();
    auto id = runtime().timers().add_after(seconds, [op = op] { op->complete(); });
    op->cancel_work = [id] {
        if (auto* rt = runtime_if_alive()) rt->timers().cancel(id);
    };
    return aw;
}

py::object read_file(py::handle path, py::handle max_size_obj) {
    std::string p = args::fs_path(path, "accel.read_file()", "path");
    std::size_t max_size = kNoSizeLimit;
    if (!max_size_obj.is_none()) {
        long long n = args::integer(max_size_obj, "accel.read_file()", "max_size");
        if (n < 0) throw py::value_error("accel.read_file(): max_size must be >= 0 (or None for no limit)");
        max_size = static_cast<std::size_t>(n);
    }
    auto loop = loop_or_throw("accel.read_file()");
    auto [aw, op] = PyOp::create(loop.ptr(), convert_bytes);
    submit(op, [p, max_size](PyOp& o) {
        std::string data;
        o.error = accel::read_file(p, data, max_size, cancel_check(o));
        o.value = std::move(data);
    });
    return aw;
}

py::object write_file(py::handle path, py::handle data) {
    std::string p = args::fs_path(path, "accel.write_file()", "path");
    py::object payload = py::reinterpret_borrow<py::object>(data);
    if (PyUnicode_Check(data.ptr())) payload = py::reinterpret_steal<py::object>(PyUnicode_AsUTF8String(data.ptr()));
    if (!payload) throw py::error_already_set();
    args::require_buffer(payload, "accel.write_file()", "data");
    auto loop = loop_or_throw("accel.write_file()");
    auto [aw, op] = PyOp::create(loop.ptr(), convert_size);
    take_view(*op, payload);
    submit(op, [p](PyOp& o) {
        o.error = accel::write_file(p, o.view.buf, static_cast<std::size_t>(o.view.len), cancel_check(o));
        o.value = static_cast<std::size_t>(o.view.len);
    });
    return aw;
}

py::object sha256(py::handle data) {
    args::require_buffer(data, "accel.sha256()", "data");
    auto loop = loop_or_throw("accel.sha256()");
    LocalView v(data, PyBUF_SIMPLE);
    if (v.size() <= kInlineBytes) return steal(awaitable_done(py::str(sha256_hex(v.view.buf, v.size())).ptr()));
    auto [aw, op] = PyOp::create(loop.ptr(), convert_str);
    v.hand_to(*op);
    submit(op, [](PyOp& o) {
        auto hex = sha256_hex(o.view.buf, static_cast<std::size_t>(o.view.len), [&o] { return o.cancelled(); });
        o.value = std::move(hex);
    });
    return aw;
}

py::object compress(py::handle data, py::handle level_obj) {
    args::require_buffer(data, "accel.compress()", "data");
    long long level = args::integer(level_obj, "accel.compress()", "level");
    if (level < -1 || level > 9) throw py::value_error("Bad compression level");  // zlib's message
    auto loop = loop_or_throw("accel.compress()");
    auto [aw, op] = PyOp::create(loop.ptr(), convert_bytes);
    take_view(*op, data);
    submit(op, [level = static_cast<int>(level)](PyOp& o) {
        std::string out;
        o.error = zlib_compress(o.view.buf, static_cast<std::size_t>(o.view.len), level, out, cancel_check(o));
        o.value = std::move(out);
    });
    return aw;
}

py::object decompress(py::handle data) {
    args::require_buffer(data, "accel.decompress()", "data");
    auto loop = loop_or_throw("accel.decompress()");
    auto [aw, op] = PyOp::create(loop.ptr(), convert_bytes);
    take_view(*op, data);
    submit(op, [](PyOp& o) {
        std::string out;
        o.error = zlib_decompress(o.view.buf, static_cast<std::size_t>(o.view.len), out, cancel_check(o));
        o.value = std::move(out);
    });
    return aw;
}

py::object sum_f64(py::handle data) {
    args::require_buffer(data, "accel.sum_f64()", "data");
    auto loop = loop_or_throw("accel.sum_f64()");
    LocalView v(data, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT);
    const char* fmt = v.view.format ? v.view.format : "B";
    bool is_f64 = v.view.itemsize == 8 && (!std::strcmp(fmt, "d") || !std::strcmp(fmt, "<d") ||
                                           !std::strcmp(fmt, "=d") || !std::strcmp(fmt, "@d"));
    if (!is_f64)
        throw py::type_error(std::string("accel.sum_f64() needs a float64 buffer (format 'd'), got format '") +
                             fmt + "' with itemsize " + std::to_string(v.view.itemsize));
    const auto* p = static_cast<const double*>(v.view.buf);
    std::size_t n = v.size() / sizeof(double);
    if (v.size() <= kInlineBytes) return steal(awaitable_done(py::float_(accel::sum_f64(p, n)).ptr()));
    auto [aw, op] = PyOp::create(loop.ptr(), convert_double);
    v.hand_to(*op);
    auto stop = std::make_shared<std::atomic<bool>>(false);
    auto ids = std::make_shared<std::vector<Executor::JobId>>();
    std::shared_ptr<PyOp> keep = op;
    parallel_sum_f64(runtime().executor(), p, n, stop,
                     [keep](double total, bool ok) {
                         if (ok) keep->value = total;
                         else keep->error = Error::make(ErrorKind::Cancelled, "sum cancelled");
                         keep->complete();
                     },
                     ids.get());
    op->cancel_work = [stop, ids] {
        stop->store(true);
        if (auto* rt = runtime_if_alive())
            for (auto id : *ids) rt->executor().cancel(id);
    };
    return aw;
}

}  // namespace

void init_ops(py::module_& m) {
    m.def("sleep", &sleep, py::arg("seconds"), py::arg("result") = py::none(),
          "sleep(seconds, result=None)\n--\n\n"
          "Complete after `seconds` using the runtime's timer queue and return `result`.\n"
          "Expiries that fall together wake the loop once. seconds <= 0 gives an\n"
          "already-complete awaitable (no yield to the loop, unlike asyncio.sleep(0));\n"
          "inf (or >= 1e9) never completes. NaN raises ValueError.\n"
          "Cancelling the awaiting task removes the timer.");
    m.def("read_file", &read_file, py::arg("path"), py::kw_only(), py::arg("max_size") = py::none(),
          "read_file(path, *, max_size=None)\n--\n\n"
          "Read a whole file on a worker thread, in 1 MiB chunks (a cancel stops at the\n"
          "next chunk, also for endless files such as /dev/zero or a pipe). More than\n"
          "max_size bytes raises OSError(EFBIG). Failures raise the matching OSError\n"
          "subclass (FileNotFoundError, PermissionError, IsADirectoryError...) with errno\n"
          "and filename set; running out of memory raises MemoryError.");
    m.def("write_file", &write_file, py::arg("path"), py::arg("data"),
          "write_file(path, data)\n--\n\n"
          "Create/truncate `path` and write `data` (bytes-like, zero-copy; str is UTF-8\n"
          "encoded) on a worker thread, in 1 MiB chunks (a cancel stops at the next one).\n"
          "Returns the number of bytes written. Failures raise the matching OSError\n"
          "subclass with errno and filename.");
    m.def("sha256", &sha256, py::arg("data"),
          "sha256(data)\n--\n\n"
          "Hex SHA-256 digest of a bytes-like object (same value as\n"
          "hashlib.sha256(data).hexdigest()). Computed with OpenSSL on a worker thread,\n"
          "without the GIL and zero-copy; the buffer is kept alive until the work ends.\n"
          "Inputs up to 64 KiB are hashed inline.");
    m.def("compress", &compress, py::arg("data"), py::arg("level") = -1,
          "compress(data, level=-1)\n--\n\n"
          "zlib-format compression on a worker thread; byte-identical to\n"
          "zlib.compress(data, level). Raises ValueError for a bad level. Cancellable.");
    m.def("decompress", &decompress, py::arg("data"),
          "decompress(data)\n--\n\n"
          "Inverse of compress()/zlib.compress() on a worker thread. Corrupt or truncated\n"
          "input raises zlib.error; output too large for memory raises MemoryError.\n"
          "Cancellable.");
    m.def("sum_f64", &sum_f64, py::arg("data"),
          "sum_f64(data)\n--\n\n"
          "Sum of a C-contiguous float64 buffer (array('d'), numpy float64 array,\n"
          "memoryview.cast('d')...). Large inputs are split across the worker threads;\n"
          "the result can differ from a sequential sum in the last bits (rounding).\n"
          "Raises TypeError for other element types.");
}

}  // namespace accel::binding
