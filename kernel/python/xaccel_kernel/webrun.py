"""asyncio.run() and loop.run_until_complete() in the browser build.

Natively they work in a cell (loop.py runs them on a fresh loop). In the
browser the kernel runs in the page's web worker, which must never block: the
JavaScript event loop owns the thread and delivers the timers, fetch results
and messages that the inner loop would wait for. Blocking until a coroutine is
done would need the wasm stack to be suspended (JavaScript Promise
Integration); this build does not do that (see lite/README.md), so they raise
one clear error that says what works instead: `await`.
"""

import asyncio
import inspect

AWAIT_INSTEAD = (
    "{what} cannot block in the browser: the kernel runs in the page's web worker, "
    "which must return to the JavaScript event loop for timers, fetches and messages. "
    "Use `await` instead, at the top level of a cell (e.g. `await main()` for "
    "`asyncio.run(main())`), or schedule it with asyncio.create_task()."
)


def blocking_error(what):
    return RuntimeError(AWAIT_INSTEAD.format(what=what))


def _discard(main):
    # The coroutine will never run: close it so that no "was never awaited"
    # warning adds noise below the error.
    if inspect.iscoroutine(main):
        main.close()


def run(main, *, debug=None):
    _discard(main)
    raise blocking_error("asyncio.run()")


def _runner_run(self, coro, *, context=None):
    _discard(coro)
    raise blocking_error("asyncio.Runner.run()")


def install():
    asyncio.run = run
    asyncio.runners.run = run
    asyncio.Runner.run = _runner_run
