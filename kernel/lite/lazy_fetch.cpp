// `_xaccel_lazy`: a synchronous binary GET of a file of the site, for packages the
// browser kernel loads on first import (numpy's Python files: lite/numpy/
// _xaccel_builtin_ext.py unpacks the zip this returns). Synchronous XHR with an
// ArrayBuffer response is allowed in the kernel's web worker; the import that needs the
// files cannot continue without them anyway.
#include <emscripten.h>

#include <cstdlib>
#include <memory>
#include <string>

#include <pybind11/embed.h>

namespace py = pybind11;

// Returns the body's length and a malloc'ed copy in *out, or -1 (no XHR, not 200).
EM_JS(int, xl_read_url_bytes, (const char* url, unsigned char** out), {
    if (typeof XMLHttpRequest === "undefined") return -1;
    var base = (typeof location !== "undefined") ? String(location.href) : "http://localhost/";
    var cut = base.indexOf("/extensions/");
    if (cut >= 0) base = base.slice(0, cut + 1);
    try {
        var xhr = new XMLHttpRequest();
        xhr.open("GET", new URL(UTF8ToString(url), base).href, false);
        xhr.responseType = "arraybuffer";
        xhr.send(null);
        if (xhr.status !== 200 || !xhr.response) return -1;
        var bytes = new Uint8Array(xhr.response);
        var p = _malloc(bytes.length || 1);
        HEAPU8.set(bytes, p);
        HEAPU32[out >> 2] = p;
        return bytes.length;
    } catch (e) {
        return -1;
    }
});

PYBIND11_EMBEDDED_MODULE(_xaccel_lazy, m)
{
    m.doc() = "Synchronous reads of the site's files for packages loaded on first import.";
    m.def(
        "read_url_bytes",
        [](const std::string& url) -> py::object
        {
            unsigned char* raw = nullptr;
            int n = xl_read_url_bytes(url.c_str(), &raw);
            if (n < 0)
            {
                return py::none();
            }
            std::unique_ptr<unsigned char, decltype(&std::free)> data(raw, &std::free);
            return py::bytes(reinterpret_cast<const char*>(data.get()), static_cast<std::size_t>(n));
        },
        py::arg("url"), "GET a file of the site (relative to its root) as bytes; None if unavailable.");
}
