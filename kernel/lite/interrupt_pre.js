// xaccel: the worker side of Kernel > Interrupt (a --pre-js of xaccel.js).
//
// JupyterLite's interrupt only cancels requests still queued in the page; the page
// script lite/page/xaccel-interrupt.js therefore posts to this worker directly:
//   {xaccel_interrupt: "buffer", buffer: SharedArrayBuffer}  once, on a cross-origin
//       isolated page: word 0 is CPython's signal word (the page stores SIGINT there,
//       CPython's eval loop reads it through Module.Py_EmscriptenSignalBuffer, so a
//       busy cell stops without the worker ever reading a message); word 1 stays 0
//       (an interruptible-free sleep waits on it);
//   {xaccel_interrupt: "interrupt", seq}  on every interrupt: when the worker reads it,
//       the running cell is awaiting (or the signal word went unread): the kernel
//       cancels the awaited work of the running cell (xaccel_web_interrupt).
// The worker answers {xaccel_interrupt_done: seq, result}, which tells the page that
// the worker was free to read messages. An interrupt that comes while an earlier one
// is still unanswered stores FORCED instead of SIGINT in word 0, and 1 in word 1 (which
// wakes an unarmed sleep): the worker is held by code outside any cell, a background
// task that never awaits, and CPython takes the word even unarmed (webinterrupt.py
// then stops that task, never the kernel's own code).
var XW_SIGINT = 2, XW_FORCED = 3;
Module.__xwInterrupt = { signals: null, armed: false, forced: false };

// CPython reads and clears word 0 through this object, only while the kernel runs a
// cell's own code ("armed"): a signal that arrives while a background task's callback
// runs is left for the message above, which stops the cell and not that task.
Module.Py_EmscriptenSignalBuffer = {
    get 0() {
        var st = Module.__xwInterrupt;
        var s = st.signals;
        if (!s || (!st.armed && Atomics.load(s, 0) !== XW_FORCED)) return 0;
        var word = Atomics.exchange(s, 0, 0);
        Atomics.store(s, 1, 0);
        if (word === XW_FORCED) {
            st.forced = true;
            return XW_SIGINT;
        }
        return word;
    },
    set 0(value) {},
};

if (typeof WorkerGlobalScope !== "undefined" && self instanceof WorkerGlobalScope) {
    self.addEventListener("message", function (event) {
        var data = event.data;
        if (!data || typeof data !== "object" || !data.xaccel_interrupt) return;
        var st = Module.__xwInterrupt;
        if (data.xaccel_interrupt === "buffer") {
            st.signals = new Int32Array(data.buffer);
            _xaccel_web_enable_signals();
            return;
        }
        if (data.xaccel_interrupt === "interrupt") {
            // Still set: no cell code read it (the cell awaits): cancel what it awaits.
            var unread = true;
            if (st.signals) {
                unread = Atomics.exchange(st.signals, 0, 0) !== 0;
                Atomics.store(st.signals, 1, 0);
            }
            var result = unread ? _xaccel_web_interrupt() : 2;
            self.postMessage({ xaccel_interrupt_done: data.seq, result: result });
        }
    });
}
