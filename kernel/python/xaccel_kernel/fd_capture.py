"""Output written to file descriptors 1 and 2 goes into the cell.

`os.system`, `os.write(1, ...)`, a C extension's printf and child processes
write to the process's fds 1 and 2, not to sys.stdout. As ipykernel does
(OutStream's capture of fd output), each of these fds becomes the write end
of a pipe. A reader thread moves what arrives into the kernel's stream
(sys.stdout or sys.stderr), and the stream takes what is already in the
pipe before each Python-level write and flush, so that fd output and
print() keep the order in which they happened.

The kernel's own diagnostics keep the original stderr (a copy of fd 2):
see diagnostics.py. Native build only: in the browser there are no fds.
"""

import codecs
import io
import os
import select
import signal
import sys
import threading

from . import diagnostics

_CHUNK = 65536


class FdCapture:
    def __init__(self, fd, stream, lock):
        self.fd = fd
        self.stream = stream
        self.original = os.dup(fd)  # not inheritable (PEP 446)
        read_end, write_end = os.pipe()
        os.dup2(write_end, fd)  # fds 1 and 2 stay inheritable: children write here too
        os.close(write_end)
        os.set_blocking(read_end, False)
        self._read_end = read_end
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        # Held while bytes go from the pipe into the stream, so that two
        # readers (this thread and a Python-level write) keep their order.
        # One lock for both fds: a drain of one fd drains the other too
        # (through the stream's write), and two locks taken in opposite
        # orders by the reader thread and the main thread would deadlock.
        self._lock = lock
        self._draining = False
        # Used under _lock only (a poll object allows one caller at a time).
        self._has_data = select.poll()
        self._has_data.register(read_end, select.POLLIN)
        self._stop_read, self._stop_write = os.pipe()
        self._thread = threading.Thread(target=self._run, name=f"xaccel-fd{fd}-reader", daemon=True)
        # The kernel's own thread: a debugger never traces nor pauses it, so
        # output keeps flowing (and only user threads show as stopped).
        self._thread.pydev_do_not_trace = True
        self._thread.is_pydev_daemon_thread = True
        self._thread.start()

    def drain(self):
        """Move what the pipe holds now into the stream."""
        with self._lock:
            if self._draining:  # the stream's write below calls back here
                return
            # Every print drains both pipes, which are nearly always empty: a
            # zero-timeout poll costs ~1 us, a read failing with
            # BlockingIOError ~8 us (1000 prints: ~30 ms).
            if not self._has_data.poll(0):
                return
            self._draining = True
            try:
                while True:
                    try:
                        data = os.read(self._read_end, _CHUNK)
                    except (BlockingIOError, InterruptedError):
                        break
                    except OSError:  # closed by stop()
                        break
                    if not data:
                        break
                    text = self._decoder.decode(data)
                    if text:
                        self.stream.write(text)
                    if len(data) < _CHUNK:
                        break
            finally:
                self._draining = False

    def _run(self):
        # Interrupts belong to the kernel's main thread.
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        poller = select.poll()
        poller.register(self._read_end, select.POLLIN)
        poller.register(self._stop_read, select.POLLIN)
        while True:
            events = dict(poller.poll())
            if self._stop_read in events:
                return
            if events.get(self._read_end, 0) & (select.POLLHUP | select.POLLERR) and not events[self._read_end] & select.POLLIN:
                return
            self.drain()

    def stop(self):
        """Give the fd its original file back; publish what was left."""
        self.drain()
        os.dup2(self.original, self.fd)
        self.drain()
        os.write(self._stop_write, b"x")
        self._thread.join(timeout=2.0)
        with self._lock:
            tail = self._decoder.decode(b"", final=True)
            if tail:
                self.stream.write(tail)
            os.close(self._read_end)
            self._read_end = -1
        for fd in (self._stop_read, self._stop_write):
            os.close(fd)

    def forget_after_fork(self, lock):
        """In a forked child: no reader thread exists there (and its lock may
        be held forever); the child writes to the fds directly."""
        self._lock = lock
        self._draining = True  # drain() does nothing from now on


class FdCaptures:
    """Captures of fds 1 and 2 into sys.stdout and sys.stderr."""

    def __init__(self, stdout, stderr):
        sys.__stdout__.flush()
        sys.__stderr__.flush()
        self._lock = threading.RLock()
        self.captures = [FdCapture(1, stdout, self._lock), FdCapture(2, stderr, self._lock)]
        self._streams = (stdout, stderr)
        # The kernel's own messages keep the original stderr.
        diagnostics.redirect(self.captures[1].original)
        for stream, capture in zip(self._streams, self.captures):
            stream.capture = capture
        os.register_at_fork(after_in_child=self._after_fork_in_child)
        # Both pipes in one poll object, for the loop thread only (see has_data).
        self._any_data = select.poll()
        for capture in self.captures:
            self._any_data.register(capture._read_end, select.POLLIN)
        for stream in self._streams:
            stream.fds_have_data = self.has_data

    def has_data(self):
        """Whether output of fds 1 and 2 may still be on its way to the
        streams (the loop thread's check before each write and flush, nearly
        always idle): a pipe holds some (one system call for both), or a
        reader thread holds the lock while it moves bytes it already took
        out of a pipe; a write that went ahead of those would overtake them."""
        if not self._lock.acquire(blocking=False):
            return True
        try:
            return bool(self._any_data.poll(0))
        finally:
            self._lock.release()

    def _after_fork_in_child(self):
        # A forked child (multiprocessing's fork and forkserver workers,
        # os.fork) has no event loop: its prints go straight to fds 1 and 2,
        # which the parent captures into the cell.
        lock = threading.RLock()
        for stream, capture in zip(self._streams, self.captures):
            stream.capture = None
            stream.fds_have_data = None
            capture.forget_after_fork(lock)
        sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), line_buffering=True)
        sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), line_buffering=True)

    def stop(self):
        for stream in self._streams:
            stream.fds_have_data = None
        for stream, capture in zip(self._streams, self.captures):
            capture.stop()
            stream.capture = None
            stream.flush()
        diagnostics.redirect(2)
        for capture in self.captures:
            os.close(capture.original)
