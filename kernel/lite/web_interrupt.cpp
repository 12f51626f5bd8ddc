// Kernel > Interrupt in the browser: the C side of kernel/lite/interrupt_pre.js.
//
// Built-in module `_xaccel_interrupt` (used by xaccel_kernel/webinterrupt.py):
//   set_handler(cb)   cb() is called when an interrupt message finds the worker free
//                     (an awaiting cell); it returns 1 if it stopped something, else 0
//   arm(flag)         whether CPython may take the shared signal word now (a cell's
//                     own code runs), see Module.Py_EmscriptenSignalBuffer
//   sleep(seconds)    time.sleep that an interrupt ends; False when the page gave no
//                     SharedArrayBuffer (the caller then sleeps as CPython does)
//   isolated()        whether the page gave the shared signal word
//   take_forced()     whether the signal CPython took last was a forced one (a second
//                     interrupt while the worker was held outside a cell), and forgets it
#include <emscripten.h>

#include <pybind11/embed.h>

namespace py = pybind11;

// CPython 3.11's Python/emscripten_signal.c: non-zero makes the eval loop (every 50
// instructions) and PyErr_CheckSignals read Module.Py_EmscriptenSignalBuffer[0].
extern "C" int Py_EMSCRIPTEN_SIGNAL_HANDLING;

EM_JS(void, xw_interrupt_arm, (int armed), { Module.__xwInterrupt.armed = !!armed; });

EM_JS(int, xw_interrupt_isolated, (), { return Module.__xwInterrupt.signals ? 1 : 0; });

EM_JS(int, xw_interrupt_take_forced, (), {
    var st = Module.__xwInterrupt;
    var forced = st.forced;
    st.forced = false;
    return forced ? 1 : 0;
});

// Waits up to `ms`; returns -1 without a shared signal word, 1 when an interrupt
// is waiting for the code that sleeps (armed, or a forced one), 0 when the time is over.
EM_JS(int, xw_interrupt_sleep, (double ms), {
    var st = Module.__xwInterrupt;
    var s = st.signals;
    if (!s) return -1;
    var end = performance.now() + ms;
    for (;;) {
        var word = Atomics.load(s, 0);
        if (word !== 0 && (st.armed || word === 3 /* FORCED, interrupt_pre.js */)) return 1;
        var left = end - performance.now();
        if (left <= 0) return 0;
        // word 1 changes only with a forced interrupt: unarmed code sleeps through
        // a plain one
        Atomics.wait(s, st.armed ? 0 : 1, 0, left);
    }
});

namespace
{
    // Never destroyed before Python: the worker never exits its runtime (EXIT_RUNTIME=0).
    py::object g_interrupt_handler;
}

extern "C" EMSCRIPTEN_KEEPALIVE void xaccel_web_enable_signals()
{
    Py_EMSCRIPTEN_SIGNAL_HANDLING = 1;
}

extern "C" EMSCRIPTEN_KEEPALIVE int xaccel_web_interrupt()
{
    py::gil_scoped_acquire gil;
    py::object& handler = g_interrupt_handler;
    if (!handler)
    {
        return 0;
    }
    PyObject* r = PyObject_CallNoArgs(handler.ptr());
    if (r == nullptr)
    {
        PyErr_Print();
        return 0;
    }
    int stopped = PyObject_IsTrue(r) == 1 ? 1 : 0;
    Py_DECREF(r);
    return stopped;
}

PYBIND11_EMBEDDED_MODULE(_xaccel_interrupt, m)
{
    m.doc() = "Kernel > Interrupt in the browser worker (messages and the shared signal word).";
    m.def(
        "set_handler", [](py::object cb) { g_interrupt_handler = std::move(cb); }, py::arg("callback"));
    m.def(
        "arm", [](bool armed) { xw_interrupt_arm(armed ? 1 : 0); }, py::arg("armed"));
    m.def("isolated", []() { return xw_interrupt_isolated() != 0; });
    m.def("take_forced", []() { return xw_interrupt_take_forced() != 0; });
    m.def(
        "sleep",
        [](double seconds)
        {
            double end = emscripten_get_now() + seconds * 1000.0;
            for (;;)
            {
                int r = xw_interrupt_sleep(end - emscripten_get_now());
                if (r < 0)
                {
                    return false;
                }
                if (r == 0)
                {
                    return true;
                }
                if (PyErr_CheckSignals() != 0)  // raises KeyboardInterrupt
                {
                    throw py::error_already_set();
                }
            }
        },
        py::arg("seconds"));
}
