// xaccel: the options @jupyterlite/xeus gives a new xaccel kernel's worker, built from
// the site's files. Loaded by the app pages of a site built by lite/build, and put at the
// head of the extension's worker bundles by lite/site_patch.py: the worker started while
// the page loads builds its own options with it (worker/xaccel-prestart-worker.js), and
// the page builds the same ones to check, when the notebook asks for a kernel, that the
// kernel it wants is the one that worker started (xaccel-prestart.js).
(function () {
  "use strict";
  var KERNEL = "xaccel";

  function getJson(url) {
    return fetch(url).then(function (r) {
      if (!r.ok) throw new Error(r.status + " " + r.statusText + ": " + url);
      return r.json();
    });
  }

  // The xaccel kernelspec as the extension builds it (xeus/kernels.json, then the kernel's
  // kernel.json with name, dir and envName set and its resources made absolute).
  function kernelSpec(baseUrl) {
    return getJson(new URL("xeus/kernels.json", baseUrl)).then(function (kernels) {
      var ours = kernels.filter(function (k) { return k.kernel === KERNEL; });
      if (ours.length !== 1) throw new Error(ours.length + " xaccel kernels in xeus/kernels.json");
      var env = ours[0].env_name;
      return getJson(new URL("xeus/" + env + "/" + KERNEL + "/kernel.json", baseUrl)).then(function (spec) {
        spec.name = KERNEL;
        spec.dir = KERNEL;
        spec.envName = env;
        Object.keys(spec.resources || {}).forEach(function (k) {
          spec.resources[k] = new URL(spec.resources[k], baseUrl).href;
        });
        return spec;
      });
    });
  }

  // baseUrl: the site's root, absolute.
  self.xaccelKernelOptions = function (baseUrl) {
    return kernelSpec(baseUrl).then(function (spec) {
      return {
        baseUrl: baseUrl, kernelId: "xaccel-prestart", mountDrive: true, kernelSpec: spec,
        browsingContextId: "", empackEnvMetaLink: new URL("xeus/" + spec.envName, baseUrl).href,
      };
    });
  };
})();
