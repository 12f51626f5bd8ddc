"""Exceptions of background tasks are shown, never silently dropped.

A task whose exception nobody retrieved by the end of the loop iteration in
which it finished is reported: as an error output of the cell that created it
while that cell runs, otherwise on stderr of the next request handled.
"""

import asyncio
import sys
import traceback


class TaskErrorReporter:
    def __init__(self, shell):
        self._shell = shell
        self._running_cell = None  # token of the cell being executed
        self._pending = []  # reports waiting for the next request

    def cell_started(self, token):
        self._running_cell = token

    def cell_finished(self):
        self._running_cell = None

    def task_factory(self, loop, coro, context=None):
        task = asyncio.Task(coro, loop=loop, context=context)
        origin = self._running_cell
        task.add_done_callback(lambda t: loop.call_soon(self._check, t, origin))
        return task

    def _check(self, task, origin):
        if task.cancelled() or not task._log_traceback:
            return
        # Claimed now: asyncio's own "never retrieved" log would repeat it.
        exc = task.exception()
        if origin is not None and origin == self._running_cell:
            self._shell.showtraceback((type(exc), exc, exc.__traceback__))
        else:
            name = task.get_name()
            text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
            self._pending.append(f"Unhandled exception in background task {name!r}:\n{text}")

    def flush_pending(self):
        while self._pending:
            sys.stderr.write(self._pending.pop(0))
        sys.stderr.flush()
