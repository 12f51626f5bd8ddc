// xaccel: how the kernel's two big files load (a --pre-js of xaccel.js).
//
// lite/build ships xaccel.wasm and xaccel.data gzip-compressed (many static hosts,
// lite/serve among them, send them without HTTP compression: 48 MB raw, 15 MB
// gzip). This file inflates them with the browser's DecompressionStream while they
// download; a file that is not gzip (a raw build) is used as it is.
//  - the wasm: Module.instantiateWasm; the inflated stream goes straight into
//    WebAssembly.instantiateStreaming (compilation overlaps the download);
//  - the file tree (lite/pack_data.py's format): fetched and inflated in parallel
//    with the wasm, written into MEMFS in a preRun (before CPython starts).
// Under node (lite/tests/node_kernel.js) the files are read with fs and zlib.

// Start-up marks, seconds after t0 (Date.now() when xaccel.js started), read by
// bench/lite; main.cpp adds start_* (CPython + kernel core) and engine_* (IPython).
Module.__xwLoad = { t0: Date.now() };
Module.__xwMark = function (name) { Module.__xwLoad[name] = (Date.now() - Module.__xwLoad.t0) / 1000; };

function xwIsGzip(bytes) {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

// A ReadableStream of `url`'s bytes, inflated when they are gzip.
function xwOpenStream(url) {
  return fetch(url, { credentials: "same-origin" }).then(function (response) {
    if (!response.ok) throw new Error(`${response.status} ${response.statusText}: ${url}`);
    var reader = response.body.getReader();
    return reader.read().then(function (first) {
      var head = first.done ? new Uint8Array(0) : first.value;
      var body = new ReadableStream({
        start: function (ctrl) { if (head.length) ctrl.enqueue(head); if (first.done) ctrl.close(); },
        pull: function (ctrl) {
          return reader.read().then(function (r) { if (r.done) ctrl.close(); else ctrl.enqueue(r.value); });
        },
        cancel: function (why) { return reader.cancel(why); },
      });
      return xwIsGzip(head) ? body.pipeThrough(new DecompressionStream("gzip")) : body;
    });
  });
}

// The whole (inflated) file as a Uint8Array.
function xwReadAll(url) {
  if (ENVIRONMENT_IS_NODE) {
    var raw = require("fs").readFileSync(url);
    if (xwIsGzip(raw)) raw = require("zlib").gunzipSync(raw);
    return Promise.resolve(new Uint8Array(raw.buffer, raw.byteOffset, raw.length));
  }
  return xwOpenStream(url).then(function (s) { return new Response(s).arrayBuffer(); })
    .then(function (b) { return new Uint8Array(b); });
}

function xwInstantiate(url, imports) {
  if (ENVIRONMENT_IS_NODE || typeof WebAssembly.instantiateStreaming !== "function") {
    return xwReadAll(url).then(function (bytes) { return WebAssembly.instantiate(bytes, imports); });
  }
  return xwOpenStream(url).then(function (s) {
    return WebAssembly.instantiateStreaming(new Response(s, { headers: { "Content-Type": "application/wasm" } }), imports);
  });
}

// lite/pack_data.py: "XAFS0001", uint32 LE index length, JSON index, file bytes.
function xwMountTree(bytes) {
  var magic = String.fromCharCode.apply(null, bytes.subarray(0, 8));
  if (magic !== "XAFS0001") throw new Error("xaccel.data: not a file tree written by lite/pack_data.py");
  var n = new DataView(bytes.buffer, bytes.byteOffset + 8, 4).getUint32(0, true);
  var index = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + n)));
  var at = 12 + n;
  index.dirs.forEach(function (d) { FS.mkdirTree(d); });
  index.files.forEach(function (f) {
    // canOwn: MEMFS keeps a view of this buffer instead of copying each file
    FS.writeFile(f[0], bytes.subarray(at, at + f[1]), { canOwn: true });
    at += f[1];
  });
  return index.files.length;
}

Module.instantiateWasm = function (imports, receiveInstance) {
  var load = Module.__xwLoad;
  // Both downloads start now; the tree is mounted once the runtime reaches preRun.
  load.data = xwReadAll(locateFile("xaccel.data")).then(function (bytes) {
    Module.__xwMark("data_s");
    return bytes;
  });
  load.data.catch(function () {});  // reported by the preRun below
  xwInstantiate(locateFile("xaccel.wasm"), imports).then(function (result) {
    Module.__xwMark("wasm_s");
    receiveInstance(result.instance, result.module);
  }, function (e) {
    abort(`loading xaccel.wasm failed: ${e}`);
  });
  return {};
};

Module.preRun = [].concat(Module.preRun || [], function xwMountData() {
  addRunDependency("xaccel-data");
  Module.__xwLoad.data.then(function (bytes) {
    var load = Module.__xwLoad;
    load.files = xwMountTree(bytes);
    Module.__xwMark("mounted_s");
    removeRunDependency("xaccel-data");
  }).catch(function (e) {
    abort(`loading xaccel.data failed: ${e}`);
  });
});
