// xaccel: Kernel > Interrupt for the xaccel kernel in JupyterLite (loaded by the app
// pages of a site built by lite/build).
//
// JupyterLite 0.8 answers an interrupt by cancelling the requests still queued in the
// page; nothing reaches the kernel's worker. This script wraps the JupyterLite kernel
// client's interrupt() so that, for xaccel kernels, it also
//  - stores SIGINT in a SharedArrayBuffer shared with the worker when the page is
//    cross-origin isolated: CPython's eval loop reads it while a cell's code runs, so
//    synchronous code stops (the buffer is handed to each worker once it is ready);
//  - posts {xaccel_interrupt: "interrupt"} to the worker: read as soon as the worker is
//    free, it cancels what an awaiting cell awaits (kernel/lite/interrupt_pre.js).
// If the worker has not answered within a second it is running synchronous code; on
// a page without isolation that code cannot be stopped, and a notification says why.
// On an isolated page, an interrupt while an earlier one is still unanswered is
// "forced": it also stops a background task that never awaits and holds the worker
// (kernel/lite/interrupt_pre.js).
(function () {
  "use strict";
  var ISOLATED = self.crossOriginIsolated === true && typeof SharedArrayBuffer === "function";
  var BUSY_NOTE_MS = 1000;
  var notes = (window.__xaccelInterruptNotes = window.__xaccelInterruptNotes || []);
  var seq = 0;

  function notify(message) {
    notes.push(message);
    console.warn("xaccel: " + message);
    var app = window.jupyterapp;
    if (app && app.commands && app.commands.hasCommand("apputils:notify")) {
      app.commands.execute("apputils:notify", {
        message: message, type: "warning", options: { autoClose: 15000 },
      }).catch(function () {});
    }
  }

  function setUp(kernel) {
    if (!kernel || kernel.__xaccel || kernel.name !== "xaccel" || !kernel.worker) return;
    var state = (kernel.__xaccel = { buffer: null, waiting: 0 });
    if (ISOLATED) state.buffer = new SharedArrayBuffer(8);
    kernel.worker.addEventListener("message", function (event) {
      var data = event.data;
      if (data && typeof data === "object" && data.xaccel_interrupt_done !== undefined &&
          data.xaccel_interrupt_done === state.waiting) {
        state.waiting = 0;
      }
    });
    // The worker listens once its runtime exists, which `ready` guarantees.
    Promise.resolve(kernel.ready).then(function () {
      if (state.buffer && kernel.worker) {
        kernel.worker.postMessage({ xaccel_interrupt: "buffer", buffer: state.buffer });
      }
    }).catch(function () {});
  }

  function signal(kernel) {
    var state = kernel.__xaccel;
    if (state.buffer) {
      var word = new Int32Array(state.buffer);
      if (state.waiting !== 0) {
        // the last interrupt is unanswered: force this one (word 1 first, which
        // wakes an unarmed sleep; the worker clears it as it takes word 0)
        Atomics.store(word, 1, 1);
        Atomics.store(word, 0, 3);
        Atomics.notify(word, 1);
      } else {
        Atomics.store(word, 0, 2);  // SIGINT
      }
      Atomics.notify(word, 0);     // ends an interruptible time.sleep at once
    }
    var n = ++seq;
    state.waiting = n;
    kernel.worker.postMessage({ xaccel_interrupt: "interrupt", seq: n });
    setTimeout(function () {
      if (state.waiting !== n) return;
      if (!ISOLATED) {
        notify("The kernel is running synchronous code, which cannot be interrupted here: this page is not " +
               "cross-origin isolated (no SharedArrayBuffer), so the kernel only sees the interrupt once the " +
               "code returns or awaits. Serve the site with the headers 'Cross-Origin-Opener-Policy: same-origin' " +
               "and 'Cross-Origin-Embedder-Policy: require-corp' (lite/serve does), or restart the kernel.");
      } else {
        notify("The kernel is still busy: the running code does not check for interrupts " +
               "(a long call in compiled code, or a background task that never awaits). Interrupt " +
               "again to stop such a task; otherwise wait, or restart the kernel.");
      }
    }, BUSY_NOTE_MS);
  }

  function hook(client) {
    if (client.__xaccelHooked) return;
    client.__xaccelHooked = true;
    var kernels = client._kernels;
    var interrupt = client.interrupt.bind(client);
    client.interrupt = function (id) {
      var kernel = kernels.get(id);
      if (kernel && kernel.__xaccel && kernel.worker) signal(kernel);
      return interrupt(id);
    };
    for (var kernel of kernels.values()) setUp(kernel);
    client.changed.connect(function (_, change) {
      if (change && change.type === "add") setUp(change.newValue);
    });
  }

  function find() {
    var app = window.jupyterapp;
    var manager = app && app.serviceManager && app.serviceManager.kernels;
    var client = manager && manager._kernelAPIClient;
    if (client && client._kernels && typeof client.interrupt === "function" && client.changed) {
      hook(client);
      return;
    }
    setTimeout(find, 50);
  }

  find();
})();
