"""SIGINT in the kernel: an interrupt stops the running cell and is never lost.

- The kernel installs its own SIGINT handler as it starts, whatever it
  inherited (a server started with `nohup` or `&` from a script passes SIGINT
  ignored), and installs it again before every cell.
- User code cannot switch it off: `signal.signal(SIGINT, h)` in a cell makes
  `h` the cell's handler as user code sees it (`signal.getsignal`). A function
  is called on an interrupt, as in a script; SIG_IGN or SIG_DFL leave the
  kernel's KeyboardInterrupt in place.
- An interrupt that arrives while no cell runs (the kernel still loads
  IPython, or has not read the execute_request yet) is remembered: the next
  cell stops with KeyboardInterrupt at its start if its request was sent
  before the interrupt. An interrupt sent before a request never stops it.
- An interrupt that lands in a cell but outside its code (IPython's work
  before and between its statements, event callbacks) raises there, and the
  cell's code stops at its start too: IPython swallows KeyboardInterrupt in
  places (event callbacks), and the interrupt must not be lost there.
- While an awaiting cell drives the event loop, an interrupt that lands in a
  task an earlier cell started, or in the loop's own machinery, does not raise
  there (it would kill that task, or drop a callback the loop had taken off its
  queue): the loop takes it after the callback and cancels the cell's work
  instead (loop.py). A second interrupt that lands in the same task (or the
  same non-task code) before the loop took the first raises there: a task
  that never yields can still be stopped.
- Between cells, a task that never yields holds the kernel: no request is
  read. A first interrupt is remembered as above; a second one that lands in
  the same task, with no wait of the kernel in between, raises in that task.

Interrupts raise only inside cells (and comm handlers), and in a task that
holds the kernel as above: elsewhere the kernel's own code runs, and an
interrupt there would only break the kernel.

The module imports nothing heavy: the native kernel installs the handler
before it loads IPython.
"""

import _signal
import signal
import sys
import threading
import time
from datetime import datetime

_real_signal = signal.signal
_SIGINT = int(signal.SIGINT)
_real_getsignal = signal.getsignal

# A remembered interrupt stops a cell only if that cell's request is read
# within this time after the kernel was free to read again: a guard against a
# client whose clock lags the kernel's (the request's date is the client's).
KEEP_SECONDS = 2.0


class _State:
    def __init__(self):
        self.installed = False
        # True while a cell (or a comm handler) runs: interrupts raise.
        self.in_user_code = False
        # True while the cell's own code runs (IPython's run_code).
        self.in_code = False
        # The cell's code stops with KeyboardInterrupt as it starts (an
        # interrupt was remembered for the cell, or raised outside its code).
        self.stop_code = False
        # Wall time of the last interrupt that no running code took.
        self.pending_at = None
        # Monotonic time of the kernel's first wait after it (None: not yet).
        self.noticed_at = None
        # What `signal.getsignal(SIGINT)` tells user code.
        self.user_handler = signal.default_int_handler
        # Set by the loop while a cell drives it: where an interrupt that
        # lands now is to be left for the loop to take (see defer_to()).
        self.defers = None
        # Where the interrupt the loop has yet to take landed (None: none).
        self.deferred_in = None
        # Set by the loop: the task its iteration runs now (None: none).
        self.loop_task = None
        # The task that ran when the remembered interrupt came, until the
        # kernel next waits.
        self.pending_task = None
        # Called first on every interrupt (see first_on_interrupt()).
        self.first = []


_state = _State()


def _stop_requested():
    try:
        import _xaccel

        return _xaccel.stop_requested()
    except Exception:  # noqa: BLE001 - no kernel core (tests, shutdown)
        return False


def _on_sigint(signum, frame):
    for call in _state.first:
        call()
    if _state.in_user_code:
        handler = _state.user_handler
        if callable(handler) and handler is not signal.default_int_handler and not _stop_requested():
            return handler(signum, frame)
        place = _state.defers() if _state.defers is not None else None
        if place is not None:
            if _state.deferred_in is None:
                _state.deferred_in = place
                return None
            if place is not _state.deferred_in:
                return None  # one waits for the loop already
            # Still the same code since the last interrupt: it holds the thread.
            _state.deferred_in = None
        if not _state.in_code:
            _state.stop_code = True
        raise KeyboardInterrupt
    task = _state.loop_task() if _state.loop_task is not None else None
    if task is not None and task is _state.pending_task:
        # The kernel has not waited since the last interrupt, which landed in
        # this task too: it holds the kernel.
        _state.pending_task = None
        raise KeyboardInterrupt
    _state.pending_at = time.time()
    _state.noticed_at = None
    _state.pending_task = task
    return None


def _user_signal(signalnum, handler):
    """signal.signal() as user code sees it: SIGINT stays the kernel's."""
    if signalnum != signal.SIGINT or threading.current_thread() is not threading.main_thread():
        return _real_signal(signalnum, handler)
    if not callable(handler) and handler not in (signal.SIG_IGN, signal.SIG_DFL):
        raise TypeError("signal handler must be signal.SIG_IGN, signal.SIG_DFL, or a callable object")
    previous = _state.user_handler
    _state.user_handler = handler
    return previous


def _user_getsignal(signalnum):
    if signalnum == signal.SIGINT:
        return _state.user_handler
    return _real_getsignal(signalnum)


def install():
    """Install the kernel's SIGINT handler (again: user code, or a C
    extension, may have replaced it at the C level)."""
    if sys.platform == "emscripten":
        return  # no signals in the browser: interrupts come as messages
    # The C function itself: signal.signal()'s enum conversions cost more
    # than the system call, and this runs before every cell.
    _signal.signal(_SIGINT, _on_sigint)
    if not _state.installed:
        _state.installed = True
        signal.signal = _user_signal
        signal.getsignal = _user_getsignal


def defer_to(defers):
    """While a cell drives the loop: `defers()` returns None where an interrupt
    that lands now raises, else what runs there (a task, or the loop for its
    own code), and the interrupt is left for the loop (take_deferred()).
    Returns the previous setting; an interrupt deferred before is forgotten."""
    previous = _state.defers
    _state.defers = defers
    _state.deferred_in = None
    return previous


def take_deferred():
    """Whether an interrupt was deferred since the last call (and forget it)."""
    if _state.deferred_in is None:
        return False
    _state.deferred_in = None
    return True


def first_on_interrupt(call):
    """`call()` runs first on every interrupt, before the kernel decides where
    it raises (the debugger resumes a thread stopped at a breakpoint)."""
    _state.first.append(call)


def watch_loop(loop_task):
    """`loop_task()` returns the task the kernel's loop runs now, or None."""
    _state.loop_task = loop_task


def waiting():
    """Called as the kernel starts a wait for messages."""
    _state.pending_task = None
    if _state.pending_at is not None and _state.noticed_at is None:
        _state.noticed_at = time.monotonic()


def _sent_at(header):
    date = (header or {}).get("date")
    if not isinstance(date, str):
        return None
    try:
        return datetime.fromisoformat(date.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _claim(get_header):
    """Whether the cell whose request header `get_header()` returns must stop
    at once (a remembered interrupt arrived after the request was sent).
    Forgets the interrupt either way."""
    at, noticed = _state.pending_at, _state.noticed_at
    _state.pending_at = _state.noticed_at = _state.pending_task = None
    if at is None:
        return False
    if noticed is not None and time.monotonic() - noticed > KEEP_SECONDS:
        return False
    sent = _sent_at(get_header())
    return sent is not None and sent <= at


def _arm(flag):
    """In the browser, a cell's own code may be stopped through the page's shared
    signal word (webinterrupt.py) only while it runs. Returns the previous setting."""
    if sys.platform == "emscripten":
        from . import webinterrupt

        return webinterrupt.arm(flag)
    return False


class cell:
    """Context of a running cell: `with cell(get_header):`, where
    `get_header()` returns the header of the cell's execute_request."""

    def __init__(self, get_header):
        self._get_header = get_header

    def __enter__(self):
        install()
        _state.stop_code = _claim(self._get_header)
        _state.in_user_code = True
        _arm(True)
        return self

    def __exit__(self, *exc):
        _state.in_user_code = False
        _state.stop_code = False
        _arm(False)
        return False


class cell_code:
    """Context of the cell's own code (each of IPython's run_code calls):
    `with cell_code() as stop:`, where `stop` says that the code must raise
    KeyboardInterrupt before its first statement."""

    def __enter__(self):
        stop, _state.stop_code = _state.stop_code, False
        self._outer = _state.in_code
        _state.in_code = True
        return stop

    def __exit__(self, *exc):
        _state.in_code = self._outer
        return False


class user_code:
    """Context of user code outside a cell (comm handlers): interrupts raise."""

    def __enter__(self):
        self._outer = _state.in_user_code
        _state.in_user_code = True
        self._outer_armed = _arm(True)

    def __exit__(self, *exc):
        _state.in_user_code = self._outer
        _arm(self._outer_armed)
        return False
