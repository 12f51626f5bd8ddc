"""sys.stdout and sys.stderr of the kernel: batched stream messages.

Writes are buffered and published at most once per flush interval while code
runs, and at once when a cell ends or other output must keep its order. A
write from another thread is handed to the loop thread, and is published on
the same interval; a kernel subshell's thread publishes on its own loop.

Each write belongs to the request of the context it is made in (see
parent.py): text of a background task keeps the cell that created the task as
its parent, even when it is flushed while another cell runs.
"""

import io
import itertools
import threading
import time

import _xaccel

from . import parent as parents

FLUSH_INTERVAL = 0.2
# Orders the pending text of stdout and stderr (appends from other threads).
_sequence = itertools.count()


class OutStream(io.TextIOBase):
    def __init__(self, name, loop_thread_id, schedule_threadsafe, schedule_later):
        super().__init__()
        self.name = name
        self.partner = None
        self._loop_thread_id = loop_thread_id
        self._schedule_threadsafe = schedule_threadsafe
        self._schedule_later = schedule_later
        self._lock = threading.Lock()
        # [parent header, [text, ...]] in order of writing.
        self._segments = []
        self._first_write = None
        self._first_sequence = None
        self._flush_scheduled = False
        # The fd capture of this stream (fd_capture.py), native build only.
        self.capture = None
        # Whether either captured fd holds output: one poll of both pipes,
        # for the loop thread only (FdCaptures.has_data); None without capture.
        self.fds_have_data = None

    # io.TextIOBase API
    encoding = "utf-8"
    errors = "strict"

    def readable(self):
        return False

    def writable(self):
        return True

    def seekable(self):
        return False

    def isatty(self):
        return False

    def fileno(self):
        if self.capture is not None:
            # What is written to it (subprocess's stdout=sys.stdout) is captured too.
            return self.capture.fd
        raise io.UnsupportedOperation(f"{self.name} of the kernel has no file descriptor")

    def write(self, text):
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        if not text:
            return 0
        on_loop_thread = threading.get_ident() == self._loop_thread_id
        # What went to fds 1 and 2 before this write comes first. The pipes
        # are nearly always empty and a system call costs 1-2 us here: the
        # loop thread checks both with one poll (a print is two writes).
        if on_loop_thread and self.fds_have_data is not None:
            if self.fds_have_data():
                self._drain_fds()
        else:
            self._drain_fds()
        own_loop = None if on_loop_thread else _subshell_loop()
        publishes_here = on_loop_thread or own_loop is not None
        if publishes_here and self.partner is not None and self.partner._segments:
            # stdout and stderr share one timeline in the client.
            self.partner.flush()
        header = parents.header()
        now = time.monotonic()
        with self._lock:
            if self._segments and self._segments[-1][0] is header:
                self._segments[-1][1].append(text)
            else:
                self._segments.append([header, [text]])
            if self._first_write is None:
                self._first_write = now
                self._first_sequence = next(_sequence)
            overdue = now - self._first_write >= FLUSH_INTERVAL
            schedule = not self._flush_scheduled
            self._flush_scheduled = True
        if publishes_here:
            if overdue:
                self.flush()
            elif schedule:
                schedule_later = self._schedule_later if on_loop_thread else own_loop.call_later
                schedule_later(FLUSH_INTERVAL, self._scheduled_flush)
        elif schedule:
            # Output of other threads is batched on the same interval.
            self._schedule_threadsafe(self._schedule_later, FLUSH_INTERVAL, self._scheduled_flush)
        return len(text)

    def has_pending(self):
        """Whether text waits to be published (fd output aside)."""
        return bool(self._segments)

    def _pending_since(self):
        with self._lock:
            return self._first_sequence if self._segments else None

    def _drain_fds(self):
        for stream in (self, self.partner):
            if stream is not None and stream.capture is not None:
                stream.capture.drain()

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def _scheduled_flush(self):
        self._flush_scheduled = False
        self.flush()

    def flush(self):
        if threading.get_ident() != self._loop_thread_id and _subshell_loop() is None:
            self._schedule_threadsafe(self.flush)
            return
        if self.capture is not None:
            self.capture.drain()
        partner = self.partner
        if partner is not None:
            theirs, ours = partner._pending_since(), self._pending_since()
            if theirs is not None and ours is not None and theirs < ours:
                # Text another thread appended to the partner came first.
                partner.flush()
        with self._lock:
            if not self._segments:
                return
            segments, self._segments = self._segments, []
            self._first_write = None
            self._first_sequence = None
        for header, parts in segments:
            _xaccel.publish("stream", {"name": self.name, "text": "".join(parts)}, None, None, header)


def _subshell_loop():
    """The event loop of the calling thread if it is a kernel subshell's
    (subshells.py): it publishes its text itself, since the loop thread may
    be busy for long."""
    return getattr(threading.current_thread(), "xaccel_subshell_loop", None)


def make_streams(loop):
    thread_id = threading.get_ident()
    out = OutStream("stdout", thread_id, loop.call_soon_threadsafe, loop.call_later)
    err = OutStream("stderr", thread_id, loop.call_soon_threadsafe, loop.call_later)
    out.partner, err.partner = err, out
    return out, err
