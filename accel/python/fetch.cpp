// fetch / fetch_many: HTTP/1.1 through the runtime's FetchBackend (libcurl
// multi on the I/O thread natively). The single-threaded build has no
// native backend: a Python hook (set_fetch_hook) or a C++ backend supplied
// by the embedder (the browser's Fetch API) fills the seam.
#include <string>

#include <pybind11/eval.h>

#include "accel/http_client.hpp"
#include "accel/duration.hpp"
#include "internal.hpp"

namespace accel::binding {

namespace {

struct Response {
    long status = 0;
    std::string url;
    py::dict headers;  // lower-cased names; repeated headers joined with ", "
    py::bytes body;

    std::string charset() const {
        if (!headers.contains("content-type")) return "utf-8";
        std::string ct = py::str(headers["content-type"]);
        auto pos = ct.find("charset=");
        if (pos == std::string::npos) return "utf-8";
        std::string cs = ct.substr(pos + 8);
        auto end = cs.find_first_of("; ");
        if (end != std::string::npos) cs = cs.substr(0, end);
        if (!cs.empty() && cs.front() == '"') cs = cs.substr(1, cs.size() > 2 ? cs.size() - 2 : 0);
        return cs.empty() ? "utf-8" : cs;
    }
};

py::object g_fetch_hook;  // optional Python fallback (async callable)

py::object make_response(HttpResponse&& r) {
    Response resp;
    resp.status = r.status;
    resp.url = std::move(r.url);
    for (auto& [k, v] : r.headers) {
        std::string key = k;
        for (auto& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        py::str pk(key);
        if (resp.headers.contains(pk))
            resp.headers[pk] = py::str(std::string(py::str(resp.headers[pk])) + ", " + v);
        else
            resp.headers[pk] = py::str(v);
    }
    resp.body = py::bytes(r.body);
    return py::cast(std::move(resp));
}

PyObject* convert_response(PyOp& op, AwaitableObject*) {
    auto& res = std::any_cast<HttpResult&>(op.value);
    try {
        return make_response(std::move(res.response)).release().ptr();
    } catch (py::error_already_set& e) {
        e.restore();
        return nullptr;
    }
}

PyObject* convert_many(PyOp& op, AwaitableObject*) {
    auto& results = std::any_cast<std::vector<HttpResult>&>(op.value);
    try {
        py::list out(results.size());
        for (std::size_t i = 0; i < results.size(); ++i) {
            if (results[i].error) {
                PyObject* e = make_exception(results[i].error);
                if (!e) throw py::error_already_set();
                out[i] = py::reinterpret_steal<py::object>(e);
            } else {
                out[i] = make_response(std::move(results[i].response));
            }
        }
        return out.release().ptr();
    } catch (py::error_already_set& e) {
        e.restore();
        return nullptr;
    }
}

std::string str_arg(py::handle v, const char* api, const char* name) {
    if (!PyUnicode_Check(v.ptr())) {
        PyErr_Format(PyExc_TypeError, "%s: %s must be a str, not '%.100s'", api, name, Py_TYPE(v.ptr())->tp_name);
        throw py::error_already_set();
    }
    return v.cast<std::string>();
}

// Builds and validates a request: http/https only, no CR/LF in the method or
// headers (accel::validate_request), clear TypeErrors for wrong types.
HttpRequest build_request(const char* api, py::handle url, py::handle method, py::handle headers, py::handle body,
                          py::handle timeout) {
    HttpRequest req;
    req.url = str_arg(url, api, "url");
    req.method = str_arg(method, api, "method");
    if (!headers.is_none()) {
        py::object items = py::hasattr(headers, "items") ? headers.attr("items")() : py::reinterpret_borrow<py::object>(headers);
        if (!py::isinstance<py::iterable>(items)) {
            PyErr_Format(PyExc_TypeError, "%s: headers must be a dict or (name, value) pairs, not '%.100s'", api,
                         Py_TYPE(headers.ptr())->tp_name);
            throw py::error_already_set();
        }
        for (auto kv : items) {
            py::tuple pair = py::reinterpret_borrow<py::object>(kv);  // any 2-item sequence
            if (pair.size() != 2) throw py::value_error(std::string(api) + ": each header must be a (name, value) pair");
            req.headers.emplace_back(str_arg(pair[0], api, "header name"), str_arg(pair[1], api, "header value"));
        }
    }
    if (!body.is_none()) {
        if (PyUnicode_Check(body.ptr())) {
            req.body = body.cast<std::string>();
        } else {
            args::require_buffer(body, api, "body");
            py::buffer_info info = py::reinterpret_borrow<py::buffer>(body).request();
            req.body.assign(static_cast<const char*>(info.ptr), static_cast<std::size_t>(info.size * info.itemsize));
        }
    }
    double t = 0;
    if (args::optional_seconds(timeout, api, "timeout", t)) {
        if (!(t > 0)) {
            PyErr_Format(PyExc_ValueError, "%s: timeout must be > 0 seconds (or None)", api);
            throw py::error_already_set();
        }
        req.timeout = is_never(t) ? 0.0 : t;  // inf: no limit
    }
    // The browser's fetch hook resolves a relative URL against the page.
    const bool hook_resolves_relative = g_fetch_hook && runtime().fetch_backend() == nullptr;
    if (Error bad = validate_request(req, hook_resolves_relative)) {
        PyErr_SetString(PyExc_ValueError, bad.message.c_str());
        throw py::error_already_set();
    }
    return req;
}

// nullptr when the build has no native backend (single-threaded) and the
// embedder has not supplied one.
FetchBackend* native_backend() { return runtime().fetch_backend(); }

[[noreturn]] void no_backend(const char* api) {
    PyErr_Format(PyExc_NotImplementedError,
                 "%s is not available: this accel build is single-threaded and has no native HTTP "
                 "backend. Install one with accel.set_fetch_hook(async_fn) (the browser build "
                 "supplies the Fetch API).",
                 api);
    throw py::error_already_set();
}

// Python fallback used when there is no native backend.
const char* kFallback = R"PY(
import asyncio as _asyncio

async def _fetch_many_with_hook(hook, urls, concurrency, timeout):
    sem = _asyncio.Semaphore(concurrency)
    async def one(url):
        async with sem:
            try:
                return await hook(url, method="GET", headers=None, body=None, timeout=timeout)
            except Exception as exc:  # one result or exception per URL
                return exc
    return list(await _asyncio.gather(*(one(u) for u in urls)))
)PY";

py::object fetch(py::object url, py::object method, py::object headers, py::object body, py::object timeout) {
    HttpRequest req = build_request("accel.fetch()", url, method, headers, body, timeout);
    PyObject* loop = running_loop("accel.fetch()");
    if (!loop) throw py::error_already_set();
    py::object l = py::reinterpret_steal<py::object>(loop);
    FetchBackend* backend = native_backend();
    if (!backend) {
        if (g_fetch_hook) {
            return g_fetch_hook(url, py::arg("method") = method, py::arg("headers") = headers,
                                py::arg("body") = body, py::arg("timeout") = timeout);
        }
        no_backend("accel.fetch()");
    }
    auto [aw, op] = PyOp::create(l.ptr(), convert_response);
    auto id = backend->start(std::move(req), [op = op](HttpResult r) {
        if (r.error)
            op->error = std::move(r.error);
        else
            op->value = std::move(r);
        op->complete();
    });
    op->cancel_work = [backend, id] {
        if (runtime_if_alive()) backend->cancel(id);  // transfer aborted on the I/O thread
    };
    return aw;
}

py::object fetch_many(py::object urls, py::object concurrency_obj, py::object timeout) {
    const char* api = "accel.fetch_many()";
    if (!py::isinstance<py::iterable>(urls) || PyUnicode_Check(urls.ptr())) {
        PyErr_Format(PyExc_TypeError, "%s: urls must be an iterable of str, not '%.100s'", api,
                     Py_TYPE(urls.ptr())->tp_name);
        throw py::error_already_set();
    }
    long long concurrency = args::integer(concurrency_obj, api, "concurrency");
    if (concurrency < 1) throw py::value_error("fetch_many: concurrency must be >= 1");
    std::vector<HttpRequest> reqs;
    py::list url_list;
    py::str get("GET");
    for (auto u : urls) {
        reqs.push_back(build_request(api, u, get, py::none(), py::none(), timeout));
        url_list.append(u);
    }
    PyObject* loop = running_loop(api);
    if (!loop) throw py::error_already_set();
    py::object l = py::reinterpret_steal<py::object>(loop);
    FetchBackend* backend = native_backend();
    if (!backend) {
        if (g_fetch_hook) {
            static PyObject* helper = [] {  // process lifetime, see awaitable.cpp
                py::dict d;
                py::exec(kFallback, d);
                return d["_fetch_many_with_hook"].cast<py::object>().release().ptr();
            }();
            return py::handle(helper)(g_fetch_hook, url_list, concurrency, timeout);
        }
        no_backend("accel.fetch_many()");
    }
    auto [aw, op] = PyOp::create(l.ptr(), convert_many);
    auto batch = BatchFetch::start(*backend, std::move(reqs), static_cast<std::size_t>(concurrency), [op = op](std::vector<HttpResult> rs) {
        op->value = std::move(rs);
        op->complete();
    });
    op->cancel_work = [batch] {
        if (runtime_if_alive()) batch->cancel();
    };
    return aw;
}

}  // namespace

void init_fetch(py::module_& m) {
    py::class_<Response>(m, "Response", "HTTP response returned by fetch()/fetch_many().")
        .def_readonly("status", &Response::status, "HTTP status code (int).")
        .def_readonly("url", &Response::url, "Final URL (after redirects).")
        .def_readonly("headers", &Response::headers,
                      "Response headers as a dict with lower-cased names (repeats joined by ', ').")
        .def_readonly("body", &Response::body, "Raw body (bytes, already content-decoded).")
        .def_property_readonly("ok", [](const Response& r) { return r.status >= 200 && r.status < 300; },
                               "True for 2xx statuses.")
        .def(
            "text",
            [](const Response& r, py::object encoding, const std::string& errors) {
                std::string enc = encoding.is_none() ? r.charset() : encoding.cast<std::string>();
                return r.body.attr("decode")(enc, errors);
            },
            py::arg("encoding") = py::none(), py::arg("errors") = "replace",
            "text(encoding=None, errors='replace') -> str: body decoded with the charset from\n"
            "Content-Type (default UTF-8).")
        .def(
            "json", [](const Response& r) { return py::module_::import("json").attr("loads")(r.body); },
            "json() -> object: body parsed with json.loads (raises json.JSONDecodeError).")
        .def("__repr__", [](const Response& r) {
            return "<accel.Response " + std::to_string(r.status) + " " + r.url + " (" +
                   std::to_string(PyBytes_GET_SIZE(r.body.ptr())) + " bytes)>";
        });

    m.def("fetch", &fetch, py::arg("url"), py::kw_only(), py::arg("method") = "GET",
          py::arg("headers") = py::none(), py::arg("body") = py::none(), py::arg("timeout") = py::none(),
          "fetch(url, *, method='GET', headers=None, body=None, timeout=None)\n--\n\n"
          "HTTP/1.1 request via libcurl's multi interface on the runtime's I/O thread.\n"
          "headers: dict or (name, value) pairs; body: bytes-like or str. Redirects are\n"
          "followed. Errors: TimeoutError (timeout seconds elapsed), ConnectionRefusedError,\n"
          "accel.FetchError (other transport failures), ValueError (a URL that is not\n"
          "http:// or https://, a method or header with CR/LF or other invalid characters).\n"
          "timeout=None or inf: no limit.\n"
          "Cancelling the awaiting task aborts the transfer. HTTP error statuses are not\n"
          "exceptions: check Response.status / Response.ok.");
    m.def("fetch_many", &fetch_many, py::arg("urls"), py::kw_only(), py::arg("concurrency") = 64,
          py::arg("timeout") = py::none(),
          "fetch_many(urls, *, concurrency=64, timeout=None)\n--\n\n"
          "GET every URL with at most `concurrency` transfers in flight (connections are\n"
          "reused). Returns one entry per URL, in order: a Response or the exception\n"
          "instance for that URL. timeout applies to each request.");
    m.def(
        "set_fetch_hook",
        [](py::object hook) {
            if (!hook.is_none() && !PyCallable_Check(hook.ptr())) throw py::type_error("hook must be callable or None");
            g_fetch_hook = hook.is_none() ? py::object() : hook;
        },
        py::arg("hook"),
        "set_fetch_hook(hook)\n--\n\n"
        "Fallback used by fetch()/fetch_many() when the build has no native HTTP backend\n"
        "(single-threaded/browser builds): async_fn(url, method=, headers=, body=, timeout=)\n"
        "must return a Response-like object. Ignored when libcurl is available.");
    m.def("has_native_fetch", [] { return native_backend() != nullptr; },
          "has_native_fetch()\n--\n\nTrue if fetch() uses the native libcurl backend.");
    // Drop the hook before interpreter teardown.
    py::module_::import("atexit").attr("register")(py::cpp_function([] { g_fetch_hook = py::object(); }));
}

}  // namespace accel::binding
