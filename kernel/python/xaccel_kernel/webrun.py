"""asyncio.run() and loop.run_until_complete() in the browser build.

Natively they work in a cell (loop.py runs them on a fresh loop). In the
browser the kernel runs in the page's web worker, which must never block: the
JavaScript event loop owns the thread and delivers the timers, fetch results
and messages that the coroutine waits for.

Where the browser has JavaScript Promise Integration (JSPI: Chromium 137 and
later), they run the coroutine as a task on the kernel's own loop and suspend
the wasm stack of the cell until it is done (`_xaccel_jspi`, kernel/lite/jspi.cpp),
as Pyodide does: the JavaScript event loop goes on meanwhile, so the task, the
loop's other tasks and the page all keep running. Unlike natively, the
coroutine shares the kernel's loop (tasks it leaves behind keep running).

Without JSPI (Firefox, Safari), and inside a task or callback of the loop
(suspending there would stop the loop that must finish the work), they raise
one clear error that says what works instead: `await`.
"""

import asyncio
import inspect
from asyncio import events

try:
    import _xaccel_jspi
except ImportError:  # the native build
    _xaccel_jspi = None

AWAIT_INSTEAD = (
    "{what} cannot block in this browser: the kernel runs in the page's web worker, "
    "which must return to the JavaScript event loop for timers, fetches and messages, "
    "and this browser cannot suspend WebAssembly (no JavaScript Promise Integration). "
    "Use `await` instead, at the top level of a cell (e.g. `await main()` for "
    "`asyncio.run(main())`), or schedule it with asyncio.create_task()."
)

INSIDE_LOOP = (
    "{what} cannot wait inside a task or callback of the kernel's event loop (the loop "
    "would have to stop to wait for itself): use `await` there instead."
)


def jspi_available():
    return _xaccel_jspi is not None and _xaccel_jspi.available()


def blocking_error(what):
    return RuntimeError(AWAIT_INSTEAD.format(what=what))


def _discard(main):
    # The coroutine will never run: close it so that no "was never awaited"
    # warning adds noise below the error.
    if inspect.iscoroutine(main):
        main.close()


def run_sync(awaitable, what):
    """Run `awaitable` on the kernel's loop; suspend this cell until it is done."""
    loop = events._get_running_loop()
    if not jspi_available():
        _discard(awaitable)
        raise blocking_error(what)
    if loop is None or getattr(loop, "_in_iteration", False) or _xaccel_jspi.waiting():
        _discard(awaitable)
        raise RuntimeError(INSIDE_LOOP.format(what=what))
    future = asyncio.ensure_future(awaitable, loop=loop)
    future.add_done_callback(lambda _: _xaccel_jspi.resume())
    _xaccel_jspi.wait()  # JavaScript (and the loop) run until the future is done
    return future.result()


def run(main, *, debug=None):
    if not inspect.iscoroutine(main):
        raise ValueError(f"a coroutine was expected, got {main!r}")
    return run_sync(main, "asyncio.run()")


def _runner_run(self, coro, *, context=None):
    if not inspect.iscoroutine(coro):
        raise ValueError(f"a coroutine was expected, got {coro!r}")
    return run_sync(coro, "asyncio.Runner.run()")


def install():
    asyncio.run = run
    asyncio.runners.run = run
    asyncio.Runner.run = _runner_run
