// xaccel: the worker side of the kernel started while JupyterLab boots.
//
// lite/site_patch.py puts this file (after ../xaccel-kernel-options.js) at the head of
// the @jupyterlite/xeus worker bundles, calls `attach` from their kernel object's
// constructor and routes `initialize` through this file. The page script
// lite/page/xaccel-prestart.js creates a worker as the page loads, with
//   #xaccel-prestart=<the site's root, URI-encoded>
// in its URL. Such a worker builds the options the xeus extension would send for the
// xaccel kernelspec and runs the whole kernel start at once (wasm, file tree, CPython,
// IPython), while the app is still loading: nothing from the page is awaited (a message
// would be held until the page's busy main thread saw this worker's script run). When
// the notebook's kernel is created, the patched page chunk hands it this worker (the
// page script checks that the kernel's options are the ones the worker started with),
// and its `initialize` only waits for that start and redoes the two steps that depend
// on the kernel the page created: the logger (its kernel id) and stdin (its browsing
// context). A worker created the ordinary way has no such hash and starts when asked.
(function () {
  "use strict";
  var EARLY = /^#xaccel-prestart=([^&]+)$/;
  var early = null;  // {promise, adopted} once this worker started early
  // How this worker's kernel started (read by the browser tests): "early" or "asked",
  // and when (epoch ms) its start began and the page's kernel took it.
  var state = { start: null, began_ms: null, taken_ms: null };

  self.xaccelPrestart = {
    state: state,

    attach: function (kernel) {
      var asked = EARLY.exec(self.location.hash);
      if (early || !asked) return;
      early = { adopted: false, promise: null };
      state.start = "early";
      early.promise = self.xaccelKernelOptions(decodeURIComponent(asked[1])).then(function (options) {
        state.began_ms = Date.now();
        return kernel._xeusInitialize(options);
      });
      early.promise.catch(function () {});  // rethrown by initialize() below
    },

    initialize: async function (kernel, options) {
      state.taken_ms = Date.now();
      if (!early || early.adopted) {
        state.start = state.start || "asked";
        state.began_ms = state.began_ms || state.taken_ms;
        return kernel._xeusInitialize(options);
      }
      early.adopted = true;
      await early.promise;
      var logger = kernel.logger;
      kernel.logger = kernel.initializeLogger(options);
      if (logger && logger._channel) logger._channel.close();
      kernel.initializeStdin(options.baseUrl, options.browsingContextId);
    },
  };
})();
