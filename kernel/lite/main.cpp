// xaccel in the browser: the JupyterLite (@jupyterlite/xeus 5.1) entry point.
//
// The worker of @jupyterlite/xeus imports xaccel.js, calls createXeusModule(),
// then `new Module.xkernel(argv)`, `.get_server()`, `.start()`, and hands every
// message to `xserver.notify_listener(msg)`. Replies and iopub messages leave with
// `postMessage({...msg, channel})`; input() uses the worker's synchronous
// `globalThis.get_stdin(msg)`.
//
// The kernel logic is kernel/core, shared with the native build: this file only
// provides a transport (postMessage) and `_xaccel_web`, the bridge through which
// the Python event loop (xaccel_kernel/webloop.py) schedules JavaScript timers,
// zero-delay tasks and Fetch API requests. Nothing here ever blocks or polls.
#include <emscripten.h>
#include <emscripten/bind.h>
#include <emscripten/val.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include <pybind11/embed.h>

#include "../core/kernel_core.hpp"
#include "../core/python_runtime.hpp"
#include "start_snapshot.hpp"

namespace py = pybind11;
namespace nl = nlohmann;
using emscripten::val;

// ---------------------------------------------------------------------------
// JavaScript side of the bridge.

EM_JS_DEPS(xaccel_lite, "$UTF8ToString,$stringToNewUTF8");

EM_JS(void, xw_set_timeout, (int id, double ms), {
    if (!Module.__xwTimers) Module.__xwTimers = new Map();
    Module.__xwTimers.set(id, setTimeout(function () {
        Module.__xwTimers.delete(id);
        _xaccel_web_fire(id);
    }, ms));
});

EM_JS(void, xw_clear_timeout, (int id), {
    if (!Module.__xwTimers) return;
    var h = Module.__xwTimers.get(id);
    if (h !== undefined) {
        clearTimeout(h);
        Module.__xwTimers.delete(id);
    }
});

// A macrotask without setTimeout's 4 ms clamping: the JavaScript event loop
// (messages, timers, fetch completions) runs between two of them.
EM_JS(void, xw_post_soon, (int id), {
    if (!Module.__xwChannel) {
        Module.__xwQueue = [];
        Module.__xwChannel = new MessageChannel();
        Module.__xwChannel.port1.onmessage = function () {
            var q = Module.__xwQueue;
            Module.__xwQueue = [];
            for (var i = 0; i < q.length; i++) _xaccel_web_fire(q[i]);
        };
    }
    Module.__xwQueue.push(id);
    if (Module.__xwQueue.length === 1) Module.__xwChannel.port2.postMessage(0);
});

EM_JS(void, xw_fetch, (int id, const char* url, const char* method, const char* headers_json,
                       const uint8_t* body, int body_len, int has_body, double timeout_ms), {
    var u = UTF8ToString(url);
    var init = { method: UTF8ToString(method), headers: JSON.parse(UTF8ToString(headers_json)) };
    if (has_body) init.body = HEAPU8.slice(body, body + body_len);
    var ctrl = new AbortController();
    init.signal = ctrl.signal;
    if (!Module.__xwFetches) Module.__xwFetches = new Map();
    Module.__xwFetches.set(id, ctrl);
    var timedOut = false;
    var timer = timeout_ms > 0 ? setTimeout(function () { timedOut = true; ctrl.abort(); }, timeout_ms) : null;
    // Relative URLs resolve against the site root (the worker script lives
    // under <site>/extensions/...), so accel.fetch("files/x.csv") works.
    var base = (typeof location !== "undefined") ? String(location.href) : "http://localhost/";
    var cut = base.indexOf("/extensions/");
    if (cut >= 0) base = base.slice(0, cut + 1);
    (async function () {
        var meta, bytes;
        try {
            var resolved = new URL(u, base).href;
            var r = await fetch(resolved, init);
            bytes = new Uint8Array(await r.arrayBuffer());
            var hs = {};
            r.headers.forEach(function (v, k) { hs[k] = v; });
            meta = { status: r.status, url: r.url || resolved, headers: hs };
        } catch (e) {
            var name = timedOut ? "TimeoutError" : (e && e.name === "AbortError" ? "AbortError" : "FetchError");
            if (e instanceof TypeError && /URL/.test(String(e.message))) name = "ValueError";
            meta = { error: name, message: String((e && e.message) || e) };
            bytes = new Uint8Array(0);
        }
        if (timer !== null) clearTimeout(timer);
        if (!Module.__xwFetches.has(id)) return;  // aborted by the kernel: nobody waits
        Module.__xwFetches.delete(id);
        var mp = stringToNewUTF8(JSON.stringify(meta));
        var bp = _malloc(bytes.length || 1);
        HEAPU8.set(bytes, bp);
        _xaccel_web_fetch_done(id, mp, bp, bytes.length);
    })();
});

// A synchronous GET (allowed in the kernel's web worker) of a small text file of the
// site, for the stdlib sources (websource.py). Returns a malloc'ed UTF-8 string, or 0.
EM_JS(char*, xw_read_url_sync, (const char* url), {
    if (typeof XMLHttpRequest === "undefined") return 0;
    var base = (typeof location !== "undefined") ? String(location.href) : "http://localhost/";
    var cut = base.indexOf("/extensions/");
    if (cut >= 0) base = base.slice(0, cut + 1);
    try {
        var xhr = new XMLHttpRequest();
        xhr.open("GET", new URL(UTF8ToString(url), base).href, false);
        xhr.send(null);
        if (xhr.status !== 200) return 0;
        return stringToNewUTF8(xhr.responseText);
    } catch (e) {
        return 0;
    }
});

EM_JS(void, xw_fetch_abort, (int id), {
    if (!Module.__xwFetches) return;
    var c = Module.__xwFetches.get(id);
    if (c) {
        Module.__xwFetches.delete(id);
        c.abort();
    }
});

// ---------------------------------------------------------------------------
// Callbacks from JavaScript into Python.

namespace
{
    int g_next_id = 1;
    std::unordered_map<int, py::object> g_callbacks;

    int store(py::object cb)
    {
        int id = g_next_id++;
        if (g_next_id > 0x3fffffff)
        {
            g_next_id = 1;
        }
        g_callbacks[id] = std::move(cb);
        return id;
    }

    py::object take(int id)
    {
        auto it = g_callbacks.find(id);
        if (it == g_callbacks.end())
        {
            return py::object();
        }
        py::object cb = std::move(it->second);
        g_callbacks.erase(it);
        return cb;
    }

    void report(const char* where)
    {
        // The loop catches its own errors; this is the last line of defence.
        std::fprintf(stderr, "xaccel: error in %s callback\n", where);
        PyErr_Print();
    }
}

extern "C" EMSCRIPTEN_KEEPALIVE void xaccel_web_fire(int id)
{
    py::gil_scoped_acquire gil;
    py::object cb = take(id);
    if (!cb)
    {
        return;
    }
    PyObject* r = PyObject_CallNoArgs(cb.ptr());
    if (r == nullptr)
    {
        report("timer");
    }
    Py_XDECREF(r);
}

extern "C" EMSCRIPTEN_KEEPALIVE void xaccel_web_fetch_done(int id, char* meta, uint8_t* body, int body_len)
{
    std::string meta_text(meta);
    std::free(meta);
    py::gil_scoped_acquire gil;
    py::bytes data(reinterpret_cast<const char*>(body), static_cast<std::size_t>(body_len));
    std::free(body);
    py::object cb = take(id);
    if (!cb)
    {
        return;
    }
    PyObject* r = PyObject_CallFunctionObjArgs(cb.ptr(), py::str(meta_text).ptr(), data.ptr(), nullptr);
    if (r == nullptr)
    {
        report("fetch");
    }
    Py_XDECREF(r);
}

PYBIND11_EMBEDDED_MODULE(_xaccel_web, m)
{
    m.doc() = "JavaScript timers, macrotasks and the Fetch API for the browser event loop.";
    m.def(
        "set_timeout",
        [](double ms, py::object cb)
        {
            int id = store(std::move(cb));
            xw_set_timeout(id, ms < 0 ? 0 : ms);
            return id;
        },
        py::arg("ms"), py::arg("callback"), "Call `callback()` after `ms` milliseconds (a JS setTimeout).");
    m.def(
        "clear_timeout",
        [](int id)
        {
            xw_clear_timeout(id);
            take(id);
        },
        py::arg("id"));
    m.def(
        "post_soon",
        [](py::object cb)
        {
            int id = store(std::move(cb));
            xw_post_soon(id);
            return id;
        },
        py::arg("callback"), "Call `callback()` in a new JS macrotask (no timer clamping).");
    m.def(
        "fetch",
        [](const std::string& url, const std::string& method, const std::string& headers_json, py::object body,
           double timeout_s, py::object cb)
        {
            std::string data;
            bool has_body = !body.is_none();
            if (has_body)
            {
                data = body.cast<std::string>();
            }
            int id = store(std::move(cb));
            xw_fetch(id, url.c_str(), method.c_str(), headers_json.c_str(),
                     reinterpret_cast<const uint8_t*>(data.data()), static_cast<int>(data.size()), has_body ? 1 : 0,
                     timeout_s > 0 ? timeout_s * 1000.0 : 0.0);
            return id;
        },
        py::arg("url"), py::arg("method"), py::arg("headers_json"), py::arg("body"), py::arg("timeout"),
        py::arg("callback"), "Start a Fetch API request; `callback(meta_json, body_bytes)` on completion.");
    m.def(
        "read_url",
        [](const std::string& url) -> py::object
        {
            std::unique_ptr<char, decltype(&std::free)> text(xw_read_url_sync(url.c_str()), &std::free);
            if (!text)
            {
                return py::none();
            }
            return py::str(text.get());
        },
        py::arg("url"), "Synchronous GET of a text file of the site (relative to its root); None if unavailable.");
    m.def(
        "fetch_abort",
        [](int id)
        {
            xw_fetch_abort(id);
            take(id);
        },
        py::arg("id"));
}

// ---------------------------------------------------------------------------
// The transport: postMessage out, notify_listener in.

namespace xaccel
{
    namespace
    {
        val to_js(const message& msg, const char* channel)
        {
            nl::json j{{"header", msg.header},
                       {"parent_header", msg.parent_header},
                       {"metadata", msg.metadata},
                       {"content", msg.content},
                       {"channel", channel}};
            val out = val::global("JSON").call<val>(
                "parse", j.dump(-1, ' ', false, nl::json::error_handler_t::replace));
            val buffers = val::array();
            for (const auto& b : msg.buffers)
            {
                val view(emscripten::typed_memory_view(b.size(), reinterpret_cast<const uint8_t*>(b.data())));
                buffers.call<void>("push", view.call<val>("slice"));
            }
            out.set("buffers", buffers);
            return out;
        }

        nl::json from_js_json(const val& v)
        {
            if (v.isUndefined() || v.isNull())
            {
                return nl::json::object();
            }
            std::string text = val::global("JSON").call<std::string>("stringify", v);
            return nl::json::parse(text, nullptr, false);
        }

        channel channel_from(const std::string& name)
        {
            if (name == "control")
            {
                return channel::control;
            }
            if (name == "stdin")
            {
                return channel::stdin_channel;
            }
            return channel::shell;
        }
    }

    class browser_transport final : public transport
    {
    public:
        void send(channel c, const message&, message reply) override
        {
            keep_queue_for_the_kernel(reply);
            post(reply, channel_name(c));
        }

        void publish(message msg) override
        {
            post(msg, "iopub");
        }

        // For its lifetime, messages are built as usual and then dropped (the
        // warm-up of a restored kernel: see warm_up_restored()).
        class muted
        {
        public:
            explicit muted(browser_transport& t) noexcept
                : m_transport(t)
            {
                m_transport.m_muted = true;
            }
            ~muted() { m_transport.m_muted = false; }
            muted(const muted&) = delete;
            muted& operator=(const muted&) = delete;

        private:
            browser_transport& m_transport;
        };

        nl::json request_input(message request) override
        {
            val get_stdin = val::global("get_stdin");
            if (get_stdin.isUndefined())
            {
                throw std::runtime_error("input() is not available: the worker provides no get_stdin()");
            }
            val reply = get_stdin(to_js(request, "stdin"));
            nl::json j = from_js_json(reply);
            if (j.is_object() && j.contains("error"))
            {
                throw std::runtime_error("input() failed: " + j["error"].dump());
            }
            if (j.is_object() && j.contains("content") && j["content"].is_object())
            {
                return j["content"];
            }
            return j;
        }

        bool wait(int, int, bool) override
        {
            throw std::runtime_error("_xaccel.wait is not used in the browser (the JavaScript event loop waits)");
        }

        void dispatch(bool) override
        {
            throw std::runtime_error("_xaccel.dispatch is not used in the browser");
        }

        std::string username() const override
        {
            return "web_user";
        }

        // JupyterLite's page hands the worker one request at a time: the rest
        // wait there, out of take_waiting_shell()'s reach.
        bool requests_wait_out_of_reach() const override { return true; }

    private:
        // JupyterLite 0.8's kernel service (in the page) drops every request it
        // still queues when it sees an execute_reply with status "error", without
        // answering them (their cells would wait forever) and whatever their
        // stop_on_error; it leaves the queue alone for replies whose
        // metadata.cause is "interrupt" (those it makes itself). So the kernel
        // marks its error replies that way and answers the queued requests
        // itself: aborted if stop_on_error says so (kernel_core), else run.
        static void keep_queue_for_the_kernel(message& reply)
        {
            if (reply.msg_type() == "execute_reply" && reply.content.value("status", std::string()) == "error")
            {
                if (!reply.metadata.is_object())
                {
                    reply.metadata = nl::json::object();
                }
                reply.metadata["cause"] = "interrupt";
            }
        }

        void post(const message& msg, const char* channel) const
        {
            val out = to_js(msg, channel);
            if (!m_muted)
            {
                val::global("postMessage")(out);
            }
        }

        bool m_muted = false;
    };
}

// ---------------------------------------------------------------------------
// The objects the worker sees.

namespace
{
    // CPython and the kernel logic, one of each per worker. Globals rather than
    // members of xkernel: a start restored from a memory snapshot
    // (start_snapshot.cpp) finds them already made, and the worker's new xkernel
    // takes them over.
    std::unique_ptr<xaccel::python_runtime> g_python;

    struct prepared_kernel
    {
        xaccel::browser_transport transport;
        xaccel::kernel_core core{transport, XACCEL_VERSION};
    };

    std::unique_ptr<prepared_kernel> g_kernel;
    // Requests handed to the kernel so far (a snapshot is only taken before the first).
    unsigned g_requests = 0;

    // Start-up marks for bench/lite (Module.__xwLoad, kernel/lite/load_pre.js).
    void mark(const char* name)
    {
        EM_ASM({ if (Module.__xwMark) Module.__xwMark(UTF8ToString($0)); }, name);
    }

    // Imports IPython (the engine) in its own macrotask, right after start(): the
    // worker may have been started while JupyterLab boots (lite/page/xaccel-prestart.js),
    // long before the first request, and the import (about a second) is then done by
    // the time the notebook asks. A request handled earlier starts the engine itself.
    void warm_up(void* core)
    {
        py::gil_scoped_acquire gil;
        try
        {
            mark("engine_begin_s");
            static_cast<xaccel::kernel_core*>(core)->start_engine();
            mark("engine_end_s");
            xaccel::web::offer_snapshot();
        }
        catch (std::exception& e)
        {
            std::cerr << "xaccel: could not start the Python engine: " << e.what() << std::endl;
        }
    }

    xaccel::message warm_up_request(const char* msg_type, nl::json content)
    {
        xaccel::message m;
        m.header = xaccel::make_header(msg_type, "xaccel-warm-up", "web_user");
        m.content = std::move(content);
        return m;
    }

    // A kernel restored from a start-up snapshot has run, in this worker, none of
    // the code that requests run, and the browser compiles each wasm function on
    // its first call: the first cell took 0.1-0.2 s instead of 0.04 s, and the page's
    // first history_request 0.15 s. Before any execute_request, requests that change
    // nothing a user sees are handled with the transport muted: a silent
    // execute_request (no execution count, no history, no display), a
    // history_request and a kernel_info_request; then the display formatting of a
    // result (websnapshot.warm_up). That runs right after start() when no request
    // came first: the worker started early and the page's app is still booting
    // (22 warm loads each: the app 0.1 s slower, the first result 0.2 s sooner);
    // otherwise once the page's requests pause for a moment.
    constexpr int warm_up_after_idle_ms = 300;
    bool g_warm_up_due = false;   // restored, not warmed up yet
    bool g_ran_code = false;      // an execute_request came: too late, and user hooks may exist

    void warm_up_restored(void* requests_then)
    {
        if (!g_kernel || !g_warm_up_due || g_ran_code
            || reinterpret_cast<std::uintptr_t>(requests_then) != g_requests)
        {
            return;  // not due, too late, or a later request armed it again
        }
        g_warm_up_due = false;
        mark("warm_up_begin_s");
        try
        {
            xaccel::browser_transport::muted quiet(g_kernel->transport);
            py::gil_scoped_acquire gil;
            xaccel::kernel_core& core = g_kernel->core;
            core.handle(warm_up_request("execute_request", {{"code", "1 + 1"}, {"silent", true}, {"store_history", false},
                                                            {"user_expressions", nl::json::object()},
                                                            {"allow_stdin", false}, {"stop_on_error", false}}));
            core.handle(warm_up_request("history_request", {{"output", false}, {"raw", true},
                                                            {"hist_access_type", "tail"}, {"n", 1}}));
            core.handle(warm_up_request("kernel_info_request", nl::json::object()));
            py::module_::import("xaccel_kernel.websnapshot").attr("warm_up")();
        }
        catch (std::exception& e)
        {
            std::cerr << "xaccel: the warm-up of the restored kernel failed: " << e.what() << std::endl;
        }
        mark("warm_up_end_s");
    }

    void arm_warm_up(int after_ms)
    {
        if (g_warm_up_due && !g_ran_code)
        {
            emscripten_async_call(&warm_up_restored, reinterpret_cast<void*>(static_cast<std::uintptr_t>(g_requests)),
                                  after_ms);
        }
    }

    class xserver
    {
    public:
        explicit xserver(xaccel::kernel_core* core)
            : m_core(core)
        {
        }

        void notify_listener(val msg)
        {
            xaccel::message m;
            m.header = xaccel::from_js_json(msg["header"]);
            m.parent_header = xaccel::from_js_json(msg["parent_header"]);
            m.metadata = xaccel::from_js_json(msg["metadata"]);
            m.content = xaccel::from_js_json(msg["content"]);
            val ch = msg["channel"];
            m.origin = ch.isString() ? xaccel::channel_from(ch.as<std::string>()) : xaccel::channel::shell;
            val buffers = msg["buffers"];
            if (!buffers.isUndefined() && !buffers.isNull())
            {
                unsigned n = buffers["length"].as<unsigned>();
                for (unsigned i = 0; i < n; ++i)
                {
                    val b = buffers[i];
                    val bytes = val::global("Uint8Array").new_(b.instanceof(val::global("ArrayBuffer")) ? b : b["buffer"],
                                                              b.instanceof(val::global("ArrayBuffer")) ? val(0) : b["byteOffset"],
                                                              b["byteLength"]);
                    std::vector<uint8_t> v = emscripten::convertJSArrayToNumberVector<uint8_t>(bytes);
                    m.buffers.emplace_back(v.begin(), v.end());
                }
            }
            if (m_core == nullptr)
            {
                return;
            }
            ++g_requests;
            if (m.msg_type() == "execute_request")
            {
                g_ran_code = true;
            }
            {
                py::gil_scoped_acquire gil;
                m_core->handle(std::move(m));  // never throws
            }
            arm_warm_up(warm_up_after_idle_ms);
        }

    private:
        xaccel::kernel_core* m_core;
    };

    class xkernel
    {
    public:
        xkernel()
            : xkernel(val::array())
        {
        }

        explicit xkernel(val argv)
        {
            if (!argv.isUndefined() && !argv.isNull())
            {
                unsigned n = argv["length"].as<unsigned>();
                for (unsigned i = 0; i < n; ++i)
                {
                    m_argv.push_back(argv[i].as<std::string>());
                }
            }
            if (m_argv.empty())
            {
                m_argv.push_back("xaccel");
            }
        }

        xserver* get_server()
        {
            if (!m_server)
            {
                m_server = std::make_unique<xserver>(nullptr);
            }
            return m_server.get();
        }

        void start()
        {
            mark("start_begin_s");
            try
            {
                if (!g_python)
                {
                    xaccel::register_builtin_modules();
                    xaccel::python_options options;
                    options.executable = "/usr/local/bin/python3.11";
                    options.home = "/usr/local";
                    options.argv = m_argv;
                    options.install_signal_handlers = false;
                    g_python = std::make_unique<xaccel::python_runtime>(options);
                }
                if (!g_kernel)
                {
                    g_kernel = std::make_unique<prepared_kernel>();
                }
                xaccel::kernel_core* core = &g_kernel->core;
                *m_server = xserver(core);
                core->announce_start();
                mark("start_end_s");
                arm_warm_up(0);
                if (!core->engine_started())
                {
                    emscripten_async_call(&warm_up, core, 0);
                }
            }
            catch (py::error_already_set& e)
            {
                fail(std::string("xaccel: could not start the Python engine: ") + e.what());
            }
            catch (std::exception& e)
            {
                fail(std::string("xaccel: could not start: ") + e.what());
            }
        }

    private:
        [[noreturn]] static void fail(const std::string& what)
        {
            std::cerr << what << std::endl;
            val::global("Error").new_(what).throw_();
        }

        std::vector<std::string> m_argv;
        std::unique_ptr<xserver> m_server = std::make_unique<xserver>(nullptr);
    };

    std::string get_exception_message(intptr_t ptr)
    {
        auto* e = reinterpret_cast<std::exception*>(ptr);
        return e != nullptr ? std::string(e->what()) : std::string("unknown C++ exception");
    }
}

namespace xaccel::web
{
    kernel_core* started_kernel() noexcept
    {
        return g_kernel ? &g_kernel->core : nullptr;
    }

    unsigned requests_handled() noexcept
    {
        return g_requests;
    }

    bool callbacks_pending() noexcept
    {
        return !g_callbacks.empty();
    }

    void forget_callbacks()
    {
        py::gil_scoped_acquire gil;
        g_callbacks.clear();
    }

    void warm_up_restored_kernel()
    {
        g_warm_up_due = true;  // armed once start() ran, or by the page's first requests
    }
}

EMSCRIPTEN_BINDINGS(xaccel_lite)
{
    // async(): a promising entry point (JSPI), so that a cell may suspend (jspi.cpp)
    emscripten::class_<xserver>("xserver").function("notify_listener", &xserver::notify_listener, emscripten::async());
    emscripten::class_<xkernel>("xkernel")
        .constructor<>()
        .constructor<val>()
        .function("get_server", &xkernel::get_server, emscripten::allow_raw_pointers())
        .function("start", &xkernel::start);
    emscripten::function("get_exception_message", &get_exception_message);
}
