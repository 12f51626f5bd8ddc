// xaccel: the worker side of the kernel started while JupyterLab boots.
//
// lite/site_patch.py makes the @jupyterlite/xeus worker bundles load this file from
// their kernel object's constructor and route `initialize` through it. The page script
// lite/page/xaccel-prestart.js creates a worker as the page loads and posts
//   {xaccel_prestart: options}
// with the options the xeus extension would send for the xaccel kernelspec. The worker
// then runs the whole kernel start at once (wasm, file tree, CPython, IPython), while
// the app is still loading. When the notebook's kernel is created, the patched page
// chunk hands it this worker (the page script checks that the kernel's options are the
// ones the worker started with), and its `initialize` only waits for that start and
// redoes the two steps that depend on the kernel the page created: the logger (its
// kernel id) and stdin (its browsing context). A worker created the ordinary way gets
// no such message and starts when asked, as before.
(function () {
  "use strict";
  var early = null;  // {options, promise, adopted} once the page asked for an early start

  self.xaccelPrestart = {
    attach: function (kernel) {
      self.addEventListener("message", function (event) {
        var data = event.data;
        if (early || !data || typeof data !== "object" || !data.xaccel_prestart) return;
        early = { options: data.xaccel_prestart, adopted: false, promise: null };
        early.promise = kernel._xeusInitialize(early.options);
        early.promise.catch(function () {});  // rethrown by initialize() below
      });
    },

    initialize: async function (kernel, options) {
      if (!early || early.adopted) return kernel._xeusInitialize(options);
      early.adopted = true;
      await early.promise;
      var logger = kernel.logger;
      kernel.logger = kernel.initializeLogger(options);
      if (logger && logger._channel) logger._channel.close();
      kernel.initializeStdin(options.baseUrl, options.browsingContextId);
    },
  };
})();
