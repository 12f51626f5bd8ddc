// xaccel: start the kernel's worker while JupyterLab boots (loaded by the app pages of a
// site built by lite/build).
//
// JupyterLite creates a kernel's worker only when a notebook asks for a kernel, after the
// whole app has loaded; the kernel's own start (wasm, file tree, CPython, IPython import,
// about 2 s) then follows the app's (2.5-3.7 s). On the pages that open kernels this
// script creates the xaccel kernel's worker at once, with the site's root in the hash of
// its URL: the worker builds the options the @jupyterlite/xeus extension would send for
// the xaccel kernelspec (xaccel-kernel-options.js) and starts, so the two starts overlap
// (the worker side: worker/xaccel-prestart-worker.js). It needs no message from this
// page: a message posted to a worker waits until the page's main thread, busy booting
// the app, has seen the worker's script run (0.8 s of an idle worker in a cold load's
// trace). The extension's page chunk, patched by lite/site_patch.py, asks
// `xaccelTakeWorker` for a worker before creating one: the first xaccel kernel of the
// page gets this one if its options match the ones this page built the same way; any
// other kernel (a restart, a second notebook) gets a new worker as before.
//
// A page without cross-origin isolation reaches stdin and the contents drive through
// JupyterLite's service worker, which only serves workers created once it is active: the
// worker waits for it there. `"xaccelPrestartKernel": false` in jupyter-lite.json's
// jupyter-config-data turns this off. window.__xaccelPrestart tells what happened.
(function () {
  "use strict";
  // lite/site_patch.py writes the worker bundles' paths (from the site's root) here
  var BUNDLES = "__XACCEL_WORKER_BUNDLES__";
  var KERNEL = "xaccel";
  var EARLY = "#xaccel-prestart=";  // the worker's side: worker/xaccel-prestart-worker.js
  var APP_PAGES = /\/(lab|notebooks|repl|consoles)\/(index\.html)?$/;
  var CONFIG_WAIT_MS = 60000;

  var root = new URL("../", document.currentScript.src);
  var state = (window.__xaccelPrestart = { status: "not started", reason: "" });
  var t0 = performance.now();
  var worker = null;   // created once the config allows it
  var options = null;  // the options it starts with, as this page built them: it can be taken from then on

  function mark(name) { state[name + "_s"] = (performance.now() - t0) / 1000; }
  function stop(status, reason) {
    state.status = status;
    state.reason = reason;
    if (worker) worker.terminate();
    worker = options = null;
  }

  // The merged page config: config-utils.js rewrites the config element before it loads
  // the app's bundle (the element holds "{}" until then).
  function pageConfig() {
    var el = document.getElementById("jupyter-config-data");
    return new Promise(function (resolve, reject) {
      var until = performance.now() + CONFIG_WAIT_MS;
      (function poll() {
        var config = {};
        try { config = JSON.parse(el.textContent || "{}"); } catch (e) { /* half written */ }
        if (config.baseUrl) return resolve(config);
        if (performance.now() > until) return reject(new Error("the page config was not written"));
        setTimeout(poll, 10);
      })();
    });
  }

  function serviceWorkerActive() {
    var sw = navigator.serviceWorker;
    if (self.crossOriginIsolated === true || !sw || sw.controller) return Promise.resolve();
    return new Promise(function (resolve) { sw.addEventListener("controllerchange", resolve, { once: true }); });
  }

  // What the worker uses of the options must equal what the page chunk would send.
  function mismatch(ours, e, baseUrl) {
    var a = ours.kernelSpec, b = e.kernelSpec || {};
    var same = function (x, y) { return JSON.stringify(x) === JSON.stringify(y); };
    if (ours.baseUrl !== baseUrl) return "base URL " + baseUrl;
    if (ours.empackEnvMetaLink !== (e.empackEnvMetaLink || "")) return "environment link " + e.empackEnvMetaLink;
    if (!same([a.name, a.dir, a.envName, a.argv, a.metadata], [b.name, b.dir, b.envName, b.argv, b.metadata])) {
      return "kernelspec " + b.name;
    }
    return "";
  }

  // Called by the patched page chunk (initWorker) with the kernel's options.
  self.xaccelTakeWorker = function (e, baseUrl) {
    if (!options || !e || !e.kernelSpec || e.kernelSpec.name !== KERNEL) return null;
    var why = mismatch(options, e, baseUrl);
    if (why) {
      stop("discarded", "the kernel was created with another " + why);
      return null;
    }
    var taken = worker;
    worker = options = null;
    state.status = "adopted";
    mark("adopted");
    return taken;
  };

  function start() {
    if (!APP_PAGES.test(location.pathname)) return stop("off", "not a page that opens kernels");
    if (typeof BUNDLES !== "object") return stop("off", "lite/site_patch.py did not name the worker bundles");
    var isolated = self.crossOriginIsolated === true;
    var createWorker = function (baseUrl) {
      state.script = new URL(isolated ? BUNDLES.isolated : BUNDLES.plain, root).href;
      worker = new Worker(state.script + EARLY + encodeURIComponent(baseUrl));
      mark("created");
    };
    state.status = "starting";
    pageConfig().then(function (config) {
      if (config.xaccelPrestartKernel === false) throw { off: "xaccelPrestartKernel is false" };
      var baseUrl = new URL(config.baseUrl, location.href).href;
      if (isolated) createWorker(baseUrl);
      return Promise.all([baseUrl, self.xaccelKernelOptions(baseUrl), serviceWorkerActive()]);
    }).then(function (got) {
      if (!worker) createWorker(got[0]);
      options = got[1];
      state.status = "started";
      mark("started");
    }).catch(function (err) {
      if (err && err.off) return stop("off", err.off);
      console.warn("xaccel: the kernel is not started early: " + err);
      stop("failed", String(err));
    });
  }

  start();
})();
