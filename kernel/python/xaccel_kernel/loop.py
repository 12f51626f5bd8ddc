"""The kernel's asyncio event loop.

One loop lives as long as the kernel. It never blocks in its own selector:
its select() waits in the kernel's single poll over the message sockets and
the loop's descriptors (see _xaccel.wait), with the timeout of the next timer.
The kernel drives it one iteration at a time, so that a request can be
handled between iterations and an awaiting cell can drive it further.
"""

import asyncio
import math
import selectors
import threading
import weakref
from asyncio import events

import _xaccel

from . import interrupts


class KernelSelector(selectors.EpollSelector):
    """An epoll selector whose wait also covers the kernel's sockets."""

    def __init__(self):
        super().__init__()
        self.accept_shell = True
        self.messages_ready = False

    def select(self, timeout=None):
        if timeout is None:
            timeout_ms = -1
        elif timeout <= 0:
            timeout_ms = 0
        else:
            # Rounded up: waking early would spin until the timer is due.
            timeout_ms = math.ceil(timeout * 1000)
        interrupts.waiting()
        self.messages_ready = _xaccel.wait(self.fileno(), timeout_ms, self.accept_shell)
        return super().select(0)


class KernelEventLoop(asyncio.SelectorEventLoop):
    """The loop of the kernel, running for the kernel's whole life."""

    def __init__(self):
        super().__init__(KernelSelector())
        self._in_iteration = False
        # Called when an interrupt cancels what drive() runs.
        self.on_interrupt = None
        # While drive() runs: the tasks that were alive when it began.
        self._earlier_tasks = None

    def attach_to_thread(self):
        """Make this the running loop of the calling (main) thread."""
        self._thread_id = threading.get_ident()
        events._set_running_loop(self)
        asyncio.set_event_loop(self)
        interrupts.watch_loop(self._running_task)

    def step(self, accept_shell):
        """One iteration of the loop, then the kernel messages it woke for."""
        selector = self._selector
        selector.accept_shell = accept_shell
        self._in_iteration = True
        try:
            self._run_once()
        finally:
            self._in_iteration = False
        if selector.messages_ready:
            selector.messages_ready = False
            _xaccel.dispatch(accept_shell)

    def drive(self, awaitable):
        """Run the loop until `awaitable` is done, serving control messages,
        and, while a cell runs, the shell requests answered beside it (comms,
        completion, ...; kernel/core/beside_cell.hpp): executes queue up.

        An interrupt (SIGINT or interrupt_request) cancels it; KeyboardInterrupt
        is then raised here once it has finished cancelling.
        """
        future = asyncio.ensure_future(awaitable, loop=self)
        outermost = self._earlier_tasks is None
        if outermost:
            # Tasks of earlier cells keep running through an interrupt: one
            # that lands in them is taken here instead (interrupts.py).
            self._earlier_tasks = weakref.WeakSet(asyncio.all_tasks(self))
            self._earlier_tasks.discard(future)
            previous = interrupts.defer_to(self._code_outside_the_cell)
        interrupted = False
        try:
            while not future.done():
                try:
                    self.step(accept_shell=_xaccel.cell_running())
                    hit = interrupts.take_deferred()
                except KeyboardInterrupt:
                    hit = True
                if hit:
                    interrupted = True
                    if self.on_interrupt is not None:
                        self.on_interrupt()
                    future.cancel()
        finally:
            if outermost:
                self._earlier_tasks = None
                interrupts.defer_to(previous)
        if interrupted and future.cancelled():
            raise KeyboardInterrupt
        return future.result()

    def create_task(self, coro, *, name=None, context=None):
        task = super().create_task(coro, name=name, context=context)
        earlier = self._earlier_tasks
        if earlier is not None and asyncio.current_task(self) in earlier:
            # Work an earlier cell's task starts (gather, a TaskGroup) is its own.
            earlier.add(task)
        return task

    def _running_task(self):
        """The task this loop's iteration runs now, or None."""
        return asyncio.current_task(self) if self._in_iteration else None

    def _code_outside_the_cell(self):
        """What runs now if it is not the driven cell's work: a task that was
        alive before the cell, or the loop (its own code or a callback); else
        None."""
        if not self._in_iteration:
            return None
        task = asyncio.current_task(self)
        if task is None:
            return self
        return task if task in self._earlier_tasks else None

    # Code run by a cell may ask this loop to run: it is not inside one of
    # its own iterations then, so the kernel can drive it instead of failing.
    def run_until_complete(self, future):
        if self._in_iteration:
            raise RuntimeError("This event loop is already running")
        self._check_closed()
        return self.drive(future)

    def run_forever(self):
        raise RuntimeError(
            "The kernel's event loop is always running; schedule work with "
            "asyncio.create_task() or await it in a cell."
        )


_original_run = asyncio.run
_original_runner_run = asyncio.Runner.run


def _outside_kernel_loop(function):
    """Run `function` with no running loop, then restore the kernel's."""
    loop = events._get_running_loop()
    if not isinstance(loop, KernelEventLoop):
        return function()
    events._set_running_loop(None)
    try:
        return function()
    finally:
        events._set_running_loop(loop)
        asyncio.set_event_loop(loop)


def run(main, *, debug=None):
    """asyncio.run() that works in a cell: it runs `main` on a fresh loop, as
    it does in a script, and leaves the kernel's loop as it was."""
    return _outside_kernel_loop(lambda: _original_run(main, debug=debug))


def _runner_run(self, coro, *, context=None):
    return _outside_kernel_loop(lambda: _original_runner_run(self, coro, context=context))


def install_asyncio_patches():
    asyncio.run = run
    asyncio.runners.run = run
    asyncio.Runner.run = _runner_run
