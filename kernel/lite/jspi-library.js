// --js-library of xaccel.js (see jspi.cpp). With -sJSPI, Emscripten makes fd_sync
// (fsync(), which sqlite calls for IPython's history) a suspending import, even for
// MEMFS where it has nothing to wait for; called from a timer callback it then fails
// with "SuspendError: trying to suspend without WebAssembly.promising", and from a
// cell it would suspend the cell. This synchronous fd_sync leaves only
// _xaccel_jspi.wait() (an EM_ASYNC_JS function) able to suspend.
addToLibrary({
  fd_sync__deps: ['$SYSCALLS'],
  fd_sync__async: false,
  fd_sync: (fd) => {
    try {
      var stream = SYSCALLS.getStreamFromFD(fd);
      if (stream.stream_ops?.fsync) {
        return stream.stream_ops.fsync(stream);
      }
      return 0;
    } catch (e) {
      if (typeof FS == 'undefined' || !(e.name === 'ErrnoError')) throw e;
      return e.errno;
    }
  },
});
