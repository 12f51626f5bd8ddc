// --pre-js of the node-target CPython build used by lite/python-node.
// Emscripten gives a wasm process a fixed environment (USER=web_user, HOME=/home/web_user,
// ...); forward the host environment instead so os.environ, HOME, TMPDIR, LANG and the
// PYTHON* variables set by lite/python-node behave as in a native python.
Module['preRun'] = Module['preRun'] || [];
Module['preRun'].push(function () {
  for (var key in process.env) {
    ENV[key] = process.env[key];
  }
});

// When the Python process exits, end node too: a socket Python opened (Emscripten's
// socket emulation runs a `ws` server for listen()) would otherwise keep node's event
// loop, and so lite/python-node, alive after Python has finished.
Module['onExit'] = function (status) {
  process.exit(status);
};
