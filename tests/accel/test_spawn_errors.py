"""spawn(): unretrieved exceptions are reported, contextvars are copied,
blocking callables cannot starve the CPU pool (issue 12)."""
import asyncio
import contextvars
import gc
import os
import subprocess
import sys
import threading
import time

import pytest

import accel

var = contextvars.ContextVar("var", default="unset")


def run(coro):
    return asyncio.run(coro)


async def settle(pred, limit=10.0):
    end = time.monotonic() + limit
    while not pred():
        assert time.monotonic() < end
        await asyncio.sleep(0.01)


def collect_handler_calls(loop):
    calls = []
    loop.set_exception_handler(lambda l, ctx: calls.append(ctx))
    return calls


async def failing():
    await asyncio.sleep(0)
    raise KeyError("from a coroutine")


@pytest.mark.parametrize("make", [lambda: accel.spawn(failing()), lambda: accel.spawn(lambda: 1 / 0)],
                         ids=["coroutine", "callable"])
def test_unretrieved_spawn_exception_reaches_the_exception_handler(make):
    async def main():
        calls = collect_handler_calls(asyncio.get_running_loop())
        make()  # handle dropped at once: the runtime owns it until it ends
        await settle(lambda: calls)
        gc.collect()
        assert len(calls) == 1
        ctx = calls[0]
        assert "never retrieved" in ctx["message"]
        assert isinstance(ctx["exception"], (KeyError, ZeroDivisionError))
        assert isinstance(ctx["future"], accel.Awaitable)
        await settle(lambda: accel._stats()["spawned"] == 0)

    run(main())


def test_retrieved_spawn_exception_is_not_reported():
    async def main():
        calls = collect_handler_calls(asyncio.get_running_loop())
        h1 = accel.spawn(failing())
        with pytest.raises(KeyError):
            await h1
        h2 = accel.spawn(lambda: 1 / 0)
        await settle(h2.done)
        assert isinstance(h2.exception(), ZeroDivisionError)
        h3 = accel.spawn(accel.sleep(0.01, "ok"))
        assert await h3 == "ok"
        del h1, h2, h3
        gc.collect()
        await asyncio.sleep(0.05)
        assert calls == []

    run(main())


def test_unretrieved_spawn_exception_is_printed_in_a_script():
    code = (
        "import asyncio, accel\n"
        "async def main():\n"
        "    accel.spawn(lambda: 1/0)\n"
        "    await asyncio.sleep(0.5)\n"
        "asyncio.run(main())\n"
    )
    env = dict(os.environ)
    if os.environ.get("ACCEL_BUILD_DIR"):
        env["PYTHONPATH"] = os.path.abspath(os.environ["ACCEL_BUILD_DIR"])
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
    assert r.returncode == 0, r.stderr
    assert "never retrieved" in r.stderr and "ZeroDivisionError" in r.stderr, r.stderr


def test_spawn_copies_contextvars():
    async def read_var():
        await asyncio.sleep(0)
        return var.get()

    def set_in_callable():
        var.set("changed in callable")
        return var.get()

    async def main():
        var.set("outer")
        h1 = accel.spawn(read_var())
        h2 = accel.spawn(lambda: var.get())
        h3 = accel.spawn(set_in_callable)
        assert await h1 == "outer"
        assert await h2 == "outer"
        assert await h3 == "changed in callable"
        assert var.get() == "outer"  # the copy, not the caller's context, changed

    run(main())


@pytest.mark.threads
def test_blocking_callables_do_not_starve_the_cpu_pool():
    release = threading.Event()

    async def main():
        n = accel.WORKER_THREADS + 2  # more blockers than CPU workers
        blockers = [accel.spawn(release.wait, 30) for _ in range(n)]
        await settle(lambda: accel._stats()["running_blocking_jobs"] >= min(n, accel._stats()["blocking_threads"]))
        digest = await asyncio.wait_for(accel.sha256(os.urandom(1 << 20)), 10)  # CPU pool still free
        release.set()
        assert all(await asyncio.gather(*blockers))
        return digest

    assert len(run(main())) == 64
