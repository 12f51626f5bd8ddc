// xaccel: start the kernel from a memory snapshot of an earlier start (a --pre-js of
// xaccel.js; the C++ half is start_snapshot.cpp).
//
// CPython's start and the engine's import (IPython, the shell) are about a second of the
// worker's thread. When a worker has done them and not yet handled a request, its wasm
// memory is copied into the browser's Cache Storage ("xaccel-start-snapshot"), with the
// few files the start wrote; the next load of the same build puts them back as soon as
// the runtime is initialised (before the worker creates its kernel object), and the kernel
// starts where that start ended, with a new session id and new UUID and `random` seeds
// (start_snapshot.cpp, xaccel_kernel/websnapshot.py). What stays from the start the
// snapshot came from: Python's string hash seed (as with PYTHONHASHSEED) and the time the
// history session began.
//
// A snapshot belongs to one build: lite/build writes the build's id (a hash of xaccel.wasm,
// xaccel.data, xaccel.js and the kernelspec) in place of the marker below, and the site's
// entries of other builds are deleted. `"xaccelStartSnapshot": false` in the site's
// jupyter-lite.json turns it off (and deletes what is stored). Under node (no Cache
// Storage) it is off.
Module.__xwSnapshot = (function () {
  var BUILD_ID = "@XACCEL_BUILD_ID@";
  var CACHE_NAME = "xaccel-start-snapshot";
  var MAGIC = "XASN0001";
  // Directories whose files a start may write (IPython's profile); more than this many
  // bytes there and no snapshot is taken.
  var FILE_ROOTS = ["/home/web_user", "/tmp"];
  var MAX_FILE_BYTES = 1 << 20;

  // embind's method callers (emval_methodCallers) live in JavaScript, and C++ keeps their
  // numbers in static variables: the numbers a snapshot's memory holds must mean the same
  // callers in the next worker. Recorded as the wasm asks for them, replayed in order.
  var callers = [];
  var getCaller = null;
  var instantiate = Module.instantiateWasm;

  var state = {
    // off | unavailable | none (nothing stored) | restored | saved | not-taken: ... | failed: ...
    status: "none",
    bytes: 0,
    pending: null,
    offered: function () {},
  };
  if (ENVIRONMENT_IS_NODE || typeof caches === "undefined" || typeof Blob === "undefined") {
    state.status = "unavailable";
    return state;
  }
  if (BUILD_ID.charAt(0) === "@") {
    state.status = "off";  // a build without an id (not made by lite/build)
    return state;
  }

  Module.instantiateWasm = function (imports, receiveInstance) {
    var env = imports.env;
    getCaller = env._emval_get_method_caller;
    env._emval_get_method_caller = function (argCount, argTypes, kind) {
      var id = getCaller(argCount, argTypes, kind);
      callers.push([argCount, argTypes, kind, id]);
      return id;
    };
    return instantiate(imports, receiveInstance);
  };

  // What the memory of a start depends on besides the build: the time zone (libc and
  // Python's time module read it once) and the language (LANG in the environment).
  function context() {
    var year = new Date().getFullYear();
    return [new Date(year, 0, 1).getTimezoneOffset(), new Date(year, 6, 1).getTimezoneOffset(),
            typeof navigator !== "undefined" ? String(navigator.language) : ""].join(" ");
  }

  function replayCallers(list) {
    list.forEach(function (c) {
      if (c[3] < emval_methodCallers.length) return;  // made by this worker's constructors too
      var id = getCaller(c[0], c[1], c[2]);
      if (id !== c[3]) throw new Error("embind method caller " + c[3] + " came back as " + id);
    });
  }

  function siteRoot() {
    var here = String(self.location.href);
    var cut = here.indexOf("/extensions/");
    return cut >= 0 ? here.slice(0, cut + 1) : new URL("./", here).href;
  }

  // One entry per site (sites on one origin share the cache): siteRoot/xaccel-start-snapshot/BUILD_ID
  function entryUrl(build) {
    return new URL("xaccel-start-snapshot/" + (build === undefined ? BUILD_ID : build), siteRoot()).href;
  }

  function enabled() {
    return fetch(new URL("jupyter-lite.json", siteRoot()).href, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : {}; })
      .then(function (j) { return ((j || {})["jupyter-config-data"] || {}).xaccelStartSnapshot !== false; },
            function () { return true; });
  }

  // Layout: MAGIC, uint32 LE header length, JSON header, the memory, the files' bytes.
  function pack(memory, tree) {
    var header = new TextEncoder().encode(JSON.stringify(
      { build: BUILD_ID, context: context(), callers: callers, memory: memory.length,
        dirs: tree.dirs, files: tree.files }));
    var head = new Uint8Array(12);
    head.set(new TextEncoder().encode(MAGIC), 0);
    new DataView(head.buffer).setUint32(8, header.length, true);
    return new Blob([head, header, memory].concat(tree.blobs));
  }

  function unpack(buffer) {
    var bytes = new Uint8Array(buffer);
    if (bytes.length < 12 || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) {
      throw new Error("not a snapshot of this format");
    }
    var n = new DataView(buffer, 8, 4).getUint32(0, true);
    var header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + n)));
    var at = 12 + n;
    var size = header.files.reduce(function (sum, f) { return sum + f[1]; }, 0);
    if (header.build !== BUILD_ID || at + header.memory + size !== bytes.length) {
      throw new Error("snapshot of another build or truncated");
    }
    if (header.context !== context()) return null;  // taken in another time zone or language
    return { memory: bytes.subarray(at, at + header.memory), callers: header.callers, dirs: header.dirs,
             files: header.files, fileBytes: bytes.subarray(at + header.memory) };
  }

  function collectFiles() {
    var tree = { dirs: [], files: [], blobs: [] };
    var total = 0;
    function walk(path) {
      tree.dirs.push(path);
      FS.readdir(path).forEach(function (name) {
        if (name === "." || name === "..") return;
        var child = path + "/" + name;
        var mode = FS.lstat(child).mode;
        if (FS.isDir(mode)) {
          walk(child);
        } else if (FS.isFile(mode)) {
          var data = FS.readFile(child);
          total += data.length;
          tree.files.push([child, data.length]);
          tree.blobs.push(data);
        } else {
          throw new Error("cannot keep " + child + " (not a file or directory)");
        }
      });
    }
    FILE_ROOTS.forEach(function (root) {
      if (FS.analyzePath(root).exists) walk(root);
    });
    if (total > MAX_FILE_BYTES) throw new Error("the start wrote " + total + " bytes of files");
    return tree;
  }

  function restoreFiles(snap) {
    snap.dirs.forEach(function (d) { FS.mkdirTree(d); });
    var at = 0;
    snap.files.forEach(function (f) {
      FS.writeFile(f[0], snap.fileBytes.slice(at, at + f[1]));
      at += f[1];
    });
  }

  // Deletes this site's entries (all builds), or those of other builds than `keep`.
  function forget(keep) {
    var prefix = entryUrl("");
    return caches.open(CACHE_NAME).then(function (cache) {
      return cache.keys().then(function (keys) {
        return Promise.all(keys.map(function (k) {
          return k.url.indexOf(prefix) === 0 && k.url !== keep ? cache.delete(k) : null;
        }));
      });
    }).catch(function () {});
  }

  // Started at once (preRun comes before the downloads finish); the runtime waits for it.
  Module.preRun = [].concat(Module.preRun || [], function xwLoadSnapshot() {
    addRunDependency("xaccel-snapshot");
    enabled().then(function (on) {
      if (!on) {
        state.status = "off";
        return forget();
      }
      return caches.open(CACHE_NAME).then(function (cache) {
        return cache.match(entryUrl());
      }).then(function (response) {
        return response ? response.arrayBuffer() : null;
      }).then(function (buffer) {
        if (buffer) {
          state.pending = unpack(buffer);
          state.bytes = buffer.byteLength;
          Module.__xwMark("snapshot_read_s");
        }
      });
    }).catch(function (e) {
      state.status = "failed: " + e;
      forget();
    }).then(function () {
      removeRunDependency("xaccel-snapshot");
    });
  });

  // Right after the constructors ran: nothing has allocated in the new memory yet.
  var next = Module.onRuntimeInitialized;
  Module.onRuntimeInitialized = function () {
    var snap = state.pending;
    state.pending = null;
    if (snap) {
      try {
        replayCallers(snap.callers);
      } catch (e) {
        state.status = "failed: " + e.message;
        forget();
        snap = null;
      }
    }
    if (snap) {
      var need = snap.memory.length;
      if (HEAPU8.length < need) {
        wasmMemory.grow(Math.ceil((need - HEAPU8.length) / 65536));
        updateMemoryViews();
      }
      HEAPU8.set(snap.memory, 0);
      restoreFiles(snap);
      // This worker's own interrupt set-up (interrupt_pre.js), not the old one's.
      HEAP32[_Py_EMSCRIPTEN_SIGNAL_HANDLING >> 2] = Module.__xwInterrupt.signals ? 1 : 0;
      if (!_xaccel_web_snapshot_restored()) {
        forget();
        abort("the kernel could not start from its start-up snapshot (deleted): reload the page");
      }
      state.status = "restored";
      Module.__xwMark("snapshot_restored_s");
    }
    if (next) return next.apply(this, arguments);
  };

  function save() {
    if (state.status !== "none") return;
    var end = _xaccel_web_snapshot_point() >>> 0;
    if (!end) {
      state.status = "not-taken: the kernel was busy";
      return;
    }
    if (count_emval_handles() !== 0) {
      state.status = "not-taken: the kernel holds JavaScript values";
      return;
    }
    for (var fd = 3; fd < FS.streams.length; fd++) {
      if (FS.streams[fd]) {
        state.status = "not-taken: file " + FS.streams[fd].path + " is open";
        return;
      }
    }
    var blob;
    try {
      blob = pack(HEAPU8.slice(0, end), collectFiles());
    } catch (e) {
      state.status = "not-taken: " + e.message;
      return;
    }
    state.status = "saving";
    state.bytes = blob.size;
    forget(entryUrl()).then(function () {  // the site's snapshots of other builds go
      return caches.open(CACHE_NAME);
    }).then(function (cache) {
      return cache.put(entryUrl(), new Response(blob, { headers: { "Content-Type": "application/octet-stream" } }));
    }).then(function () {
      state.status = "saved";
      Module.__xwMark("snapshot_saved_s");
    }, function (e) {
      state.status = "failed: " + e;
    });
  }

  // start_snapshot.cpp, once the engine has started (inside a wasm call): copy in a
  // macrotask of its own, with nothing of a call on the stack.
  state.offered = function () {
    if (state.status === "none") setTimeout(save, 0);
  };
  return state;
})();
