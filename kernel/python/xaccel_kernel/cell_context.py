"""Context variables live on from cell to cell (ipykernel loses them).

A cell that awaits runs as an asyncio task, in a copy of the context, and a
request may be handled inside a loop callback's context (the browser build):
what a cell sets with `ContextVar.set()` would be lost. The kernel keeps the
context of the last request instead, and puts its values back into whatever
context the next request runs in. Tasks copy the context they are created in,
so they see every value set by earlier cells.
"""

import contextvars

_MISSING = object()


class KernelContext:
    def __init__(self):
        self._saved = contextvars.copy_context()

    def save(self, context=None):
        """Keep `context` (default: the current one) for the next request."""
        self._saved = context if context is not None else contextvars.copy_context()

    def restore(self):
        """Set the saved values in the current context where they differ."""
        current = contextvars.copy_context()
        for var, value in self._saved.items():
            if current.get(var, _MISSING) is not value:
                var.set(value)

    def run_awaiting_cell(self, loop, coro, drive):
        """Run a cell's coroutine as a task with `drive`, then carry the
        context it ended with into the current one."""
        context = contextvars.copy_context()
        task = loop.create_task(coro, context=context)
        try:
            return drive(task)
        finally:
            self.save(context)
            self.restore()
