"""Kernel > Interrupt in the browser (sys.platform == "emscripten").

The page script (lite/page/xaccel-interrupt.js) reaches the kernel's worker in two
ways (kernel/lite/interrupt_pre.js, kernel/lite/web_interrupt.cpp):

- a message, read when the worker is free, that is when the running cell awaits:
  the cell's awaited work is cancelled and the cell ends with KeyboardInterrupt;
  tasks that earlier cells started keep running;
- on a cross-origin isolated page, a SharedArrayBuffer word that CPython's eval loop
  reads (Python/emscripten_signal.c) while a cell's own code runs ("armed"):
  synchronous code (`while True: pass`, `time.sleep(100)`) stops with
  KeyboardInterrupt as it would natively. Without isolation there is no shared
  memory, and synchronous code runs on until it returns (the page says why);
- also on an isolated page, a second interrupt while the first is still unread
  (a background task that never awaits holds the worker, between cells or beside an
  awaiting cell) is "forced": CPython takes the word unarmed, and KeyboardInterrupt
  stops that task, as natively (interrupts.py); the kernel's own code is never
  stopped this way.
"""

import asyncio
import signal
import time

import _xaccel_interrupt

_real_sleep = time.sleep
_state = {"task": None, "on_interrupt": None, "armed": False, "loop": None}


def install(loop):
    """`loop.on_interrupt()` is called before the running cell's work is cancelled."""
    _state["on_interrupt"] = loop.on_interrupt
    _state["loop"] = loop
    # The signal word raises through Python's SIGINT handler (none is installed in
    # the browser by default, and a default handler would drop the signal).
    signal.signal(signal.SIGINT, _on_sigint)
    _xaccel_interrupt.set_handler(_interrupt)
    time.sleep = sleep


def _on_sigint(signum, frame):
    forced = _xaccel_interrupt.take_forced()
    if forced and not _state["armed"] and asyncio.current_task(_state["loop"]) is None:
        return  # the kernel's own code holds the worker: not stopped from here
    raise KeyboardInterrupt


def arm(flag):
    """Whether the shared signal word may interrupt the code that runs now.
    Returns the previous setting."""
    previous = _state["armed"]
    _state["armed"] = bool(flag)
    _xaccel_interrupt.arm(bool(flag))
    return previous


def isolated():
    return _xaccel_interrupt.isolated()


def sleep(secs):
    """time.sleep() that an interrupt ends (on a cross-origin isolated page)."""
    if not isinstance(secs, (int, float)):
        secs = float(secs)
    if secs < 0:
        raise ValueError("sleep length must be non-negative")
    if not _xaccel_interrupt.sleep(float(secs)):
        _real_sleep(secs)


def _interrupt():
    """An interrupt message found the worker free: stop the awaiting cell."""
    task = _state["task"]
    if task is None or task.done():
        return False
    on_interrupt = _state["on_interrupt"]
    if on_interrupt is not None:
        on_interrupt()
    task.cancel()
    return True


def cell_task(task):
    """The task of the awaiting cell that an interrupt stops."""
    _state["task"] = task

    def forget(done):
        if _state["task"] is done:
            _state["task"] = None

    task.add_done_callback(forget)


class _Armed:
    """Arms the signal word for each step of the wrapped coroutine only (not for
    the other tasks the browser loop runs between its steps)."""

    def __init__(self, coro):
        self._coro = coro

    def __await__(self):
        inner = self._coro.__await__()
        send, error = None, None
        while True:
            arm(True)
            try:
                if error is not None:
                    step = inner.throw(error)
                else:
                    step = inner.send(send)
            except StopIteration as stop:
                return stop.value
            finally:
                arm(False)
                error = None
            try:
                send = yield step
            except GeneratorExit:
                inner.close()
                raise
            except BaseException as exc:  # noqa: BLE001 - passed on to the cell's coroutine
                send, error = None, exc


async def armed(coro):
    """`coro` as a coroutine whose own steps an interrupt may stop."""
    return await _Armed(coro)

