// asyncio.run() and loop.run_until_complete() in a browser cell, through
// JavaScript Promise Integration (JSPI): `_xaccel_jspi.wait()` suspends the
// whole wasm stack (the cell, IPython, the kernel core) and returns to the
// JavaScript event loop, which goes on running the kernel's asyncio loop
// (webloop.py: timers and zero-delay tasks call into wasm on their own stack);
// `_xaccel_jspi.resume()`, called when the awaited future is done, lets the
// suspended stack continue. Python side: xaccel_kernel/webrun.py.
//
// Requirements, each checked in a probe with Emscripten 3.1.69 + Chromium 156:
// - linked with -sJSPI; `xserver.notify_listener` is bound with
//   emscripten::async() (WebAssembly.promising), so a cell runs on a stack
//   that may suspend;
// - no JavaScript frame between that entry and the suspension: C++ is built
//   with -fwasm-exceptions (with -fexceptions, every call that has a
//   destructor to run goes through a JavaScript invoke_* wrapper, and JSPI
//   fails with "SuspendError: trying to suspend JS frames"); CPython 3.11's
//   JavaScript call trampoline (PY_CALL_TRAMPOLINE) is not compiled into this
//   CPython; both functions below are METH_FASTCALL.
// - browsers without JSPI (Firefox, Safari, node 20) load the same build:
//   jspi-pre.js gives them stand-ins for WebAssembly.Suspending/promising that
//   are never used to suspend, and available() is false there.
#include <emscripten.h>

#include <Python.h>
#include <pybind11/embed.h>

EM_JS(int, xw_jspi_available, (), {
    return (typeof WebAssembly.Suspending === "function" && !Module.__xwJspiStandIn) ? 1 : 0;
});

// The one suspending import (-sJSPI wraps EM_ASYNC_JS functions in WebAssembly.Suspending).
EM_ASYNC_JS(void, xw_jspi_wait, (), {
    await new Promise((resolve) => { Module.__xwJspiResume = resolve; });
});

EM_JS(void, xw_jspi_resume, (), {
    var resume = Module.__xwJspiResume;
    Module.__xwJspiResume = null;
    if (resume) resume();
});

namespace
{
    bool g_waiting = false;

    PyObject* available(PyObject*, PyObject* const*, Py_ssize_t)
    {
        return PyBool_FromLong(xw_jspi_available());
    }

    PyObject* wait(PyObject*, PyObject* const*, Py_ssize_t)
    {
        if (!xw_jspi_available())
        {
            PyErr_SetString(PyExc_RuntimeError, "this browser has no JavaScript Promise Integration");
            return nullptr;
        }
        if (g_waiting)
        {
            PyErr_SetString(PyExc_RuntimeError, "the kernel already waits for a suspended cell");
            return nullptr;
        }
        // The GIL stays with this (the only) thread: code that JavaScript
        // runs meanwhile nests like a call and has left when this returns.
        g_waiting = true;
        xw_jspi_wait();
        g_waiting = false;
        Py_RETURN_NONE;
    }

    PyObject* resume(PyObject*, PyObject* const*, Py_ssize_t)
    {
        xw_jspi_resume();
        Py_RETURN_NONE;
    }

    PyObject* waiting(PyObject*, PyObject* const*, Py_ssize_t)
    {
        return PyBool_FromLong(g_waiting);
    }

    PyMethodDef methods[] = {
        {"available", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)(void)>(&available)), METH_FASTCALL,
         "Whether this browser can suspend the wasm stack (JSPI)."},
        {"wait", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)(void)>(&wait)), METH_FASTCALL,
         "Suspend the wasm stack until resume() is called; JavaScript runs meanwhile."},
        {"resume", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)(void)>(&resume)), METH_FASTCALL,
         "Let the stack suspended in wait() continue (after the current JavaScript task)."},
        {"waiting", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)(void)>(&waiting)), METH_FASTCALL,
         "Whether a stack is suspended in wait()."},
        {nullptr, nullptr, 0, nullptr}};
}

PYBIND11_EMBEDDED_MODULE(_xaccel_jspi, m)
{
    m.doc() = "Suspend the wasm stack until a future is done (JavaScript Promise Integration).";
    if (PyModule_AddFunctions(m.ptr(), methods) != 0)
    {
        throw pybind11::error_already_set();
    }
}
