"""Exceptions of background tasks are shown, never silently dropped.

A task whose exception nobody retrieved by the end of the loop iteration in
which it finished is reported as an error output of the request that created
it (the cell, or the comm message whose callback created it), whether that
request still runs or ended long ago: the task's context carries its parent
(see parent.py), as ipykernel 7 does for output.
"""

import asyncio
import sys

import _xaccel

from . import parent as parents


class TaskErrorReporter:
    def __init__(self, shell):
        self._shell = shell

    def task_factory(self, loop, coro, context=None):
        task = asyncio.Task(coro, loop=loop, context=context)
        # The done callback, and the check it schedules, run in the context
        # of the creator: its parent is the request that created the task.
        task.add_done_callback(lambda t: loop.call_soon(self._check, t))
        return task

    def _check(self, task):
        if task.cancelled() or not task._log_traceback:
            return
        # Claimed now: asyncio's own "never retrieved" log would repeat it.
        exc = task.exception()
        try:
            stb = self._shell.InteractiveTB.structured_traceback(type(exc), exc, exc.__traceback__)
        except Exception:  # noqa: BLE001 - a report must come out regardless
            import traceback

            stb = traceback.format_exception(type(exc), exc, exc.__traceback__)
        content = {
            "ename": type(exc).__name__,
            "evalue": str(exc),
            "traceback": [f"Unhandled exception in background task {task.get_name()!r}:", *stb],
        }
        sys.stdout.flush()
        sys.stderr.flush()
        _xaccel.publish("error", content, None, None, parents.header())
