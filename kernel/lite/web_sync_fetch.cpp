// A synchronous GET of bytes from the kernel's worker (browser %pip: webpip.py).
//
// Built-in module `_xaccel_websync`:
//   get(url) -> (status, final_url, body bytes); relative URLs resolve against the
//   site root. Raises OSError when the request fails (network, CORS, bad URL).
// Synchronous XMLHttpRequest with an ArrayBuffer response is allowed in a worker; a
// cell's %pip then runs like pip in a script, without awaiting.
#include <emscripten.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include <pybind11/embed.h>

namespace py = pybind11;

EM_JS_DEPS(xaccel_websync, "$UTF8ToString,$stringToNewUTF8");

// Returns the body length, or -1 (then Module.__xwSync.error says why).
EM_JS(int, xw_sync_get, (const char* url), {
    var base = (typeof location !== "undefined") ? String(location.href) : "http://localhost/";
    var cut = base.indexOf("/extensions/");
    if (cut >= 0) base = base.slice(0, cut + 1);
    var result = { status: 0, url: "", error: null, bytes: null };
    Module.__xwSync = result;
    try {
        if (typeof XMLHttpRequest === "undefined") throw new Error("no XMLHttpRequest here");
        var resolved = new URL(UTF8ToString(url), base).href;
        var xhr = new XMLHttpRequest();
        xhr.open("GET", resolved, false);
        xhr.responseType = "arraybuffer";
        xhr.send(null);
        result.status = xhr.status;
        result.url = xhr.responseURL || resolved;
        result.bytes = new Uint8Array(xhr.response || new ArrayBuffer(0));
        return result.bytes.length;
    } catch (e) {
        result.error = String((e && e.message) || e);
        return -1;
    }
});

EM_JS(char*, xw_sync_meta, (), {
    var r = Module.__xwSync || {};
    return stringToNewUTF8(JSON.stringify({ status: r.status || 0, url: r.url || "", error: r.error }));
});

EM_JS(void, xw_sync_take, (uint8_t* out), {
    var r = Module.__xwSync;
    if (r && r.bytes) HEAPU8.set(r.bytes, out);
    Module.__xwSync = null;
});

PYBIND11_EMBEDDED_MODULE(_xaccel_websync, m)
{
    m.doc() = "Synchronous GET of bytes from the browser worker (for %pip).";
    m.def(
        "get",
        [](const std::string& url)
        {
            int n = xw_sync_get(url.c_str());
            std::unique_ptr<char, decltype(&std::free)> meta(xw_sync_meta(), &std::free);
            py::object json = py::module_::import("json");
            py::dict info = json.attr("loads")(py::str(meta.get()));
            if (n < 0)
            {
                xw_sync_take(nullptr);
                std::string why = py::str(info["error"]);
                PyErr_SetString(PyExc_OSError, (url + ": " + why).c_str());
                throw py::error_already_set();
            }
            std::vector<uint8_t> body(static_cast<std::size_t>(n));
            xw_sync_take(body.data());
            return py::make_tuple(info["status"], info["url"],
                                  py::bytes(reinterpret_cast<const char*>(body.data()), body.size()));
        },
        py::arg("url"));
}
