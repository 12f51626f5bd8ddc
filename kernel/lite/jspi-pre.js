// --pre-js of xaccel.js (see jspi.cpp). The build uses JavaScript Promise
// Integration (-sJSPI), whose glue wraps one import in WebAssembly.Suspending and
// the message entry point in WebAssembly.promising while the module loads. A
// browser without JSPI (Firefox, Safari, node 20) gets stand-ins so that the same
// build loads and works there; the wasm stack is then never suspended
// (_xaccel_jspi.available() is false and asyncio.run() says to use `await`).
if (typeof WebAssembly.Suspending !== "function") {
  Module.__xwJspiStandIn = true;
  // `new WebAssembly.Suspending(f)` then yields f itself (never called: see above).
  WebAssembly.Suspending = function (f) { return f; };
  // An async entry point returns a Promise, as with JSPI.
  WebAssembly.promising = function (f) {
    return function () { return Promise.resolve(f.apply(this, arguments)); };
  };
}
