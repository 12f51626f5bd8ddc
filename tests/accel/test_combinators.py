import asyncio
import threading

import pytest

import accel


def run(coro):
    return asyncio.run(coro)


def test_gather_mixed_children_in_order():
    async def coro(v):
        await asyncio.sleep(0.01)
        return v

    async def main():
        fut = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().call_later(0.01, fut.set_result, "f")
        return await accel.gather(accel.sleep(0.03, "a"), coro("c"), fut, accel.sleep(0, "z"))

    assert run(main()) == ["a", "c", "f", "z"]


def test_gather_empty():
    async def main():
        return await accel.gather()

    assert run(main()) == []


def test_gather_propagates_first_exception():
    async def boom():
        await asyncio.sleep(0.01)
        raise KeyError("boom")

    async def main():
        other = accel.sleep(0.05, "still ran")
        with pytest.raises(KeyError, match="boom"):
            await accel.gather(other, boom())
        assert await other == "still ran"  # as in asyncio.gather: not cancelled

    run(main())


def test_gather_return_exceptions():
    async def boom():
        raise ValueError("bad")

    async def main():
        r = await accel.gather(accel.sleep(0.01, 1), boom(), accel.read_file("/nonexistent/x"),
                               return_exceptions=True)
        assert r[0] == 1
        assert isinstance(r[1], ValueError)
        assert isinstance(r[2], FileNotFoundError)

    run(main())


def test_cancelling_gather_cancels_children():
    async def main():
        child_cancelled = asyncio.Event()

        async def py_child():
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                child_cancelled.set()
                raise

        s = accel.sleep(10)
        t = asyncio.ensure_future(accel.gather(s, py_child()))
        await asyncio.sleep(0.02)
        t.cancel()
        with pytest.raises(asyncio.CancelledError):
            await t
        await asyncio.sleep(0.01)
        assert s.cancelled()
        assert child_cancelled.is_set()

    run(main())


def test_timeout_expires_and_cancels_cpp_work():
    async def main():
        before = accel._stats()["timers"]
        inner = accel.sleep(10)
        with pytest.raises(TimeoutError, match="0.05 seconds"):
            await accel.timeout(inner, 0.05)
        assert inner.cancelled()
        assert accel._stats()["timers"] == before  # inner timer removed

    run(main())


def test_timeout_cancels_python_coroutine():
    async def main():
        state = {}

        async def slow():
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                state["cancelled"] = True
                raise

        with pytest.raises(TimeoutError):
            await accel.timeout(slow(), 0.05)
        await asyncio.sleep(0.01)
        assert state.get("cancelled")

    run(main())


def test_timeout_passes_result_and_exception_through():
    async def bad():
        raise OSError(5, "io")

    async def main():
        assert await accel.timeout(accel.sleep(0.01, "ok"), 1) == "ok"
        assert await accel.timeout(asyncio.sleep(0.01, "py"), 1) == "py"
        assert await accel.timeout(accel.sleep(0.01, "nolimit"), None) == "nolimit"
        with pytest.raises(OSError):
            await accel.timeout(bad(), 1)

    run(main())


def test_cancelling_timeout_cancels_inner():
    async def main():
        inner = accel.sleep(10)
        t = asyncio.ensure_future(accel.timeout(inner, 5))
        await asyncio.sleep(0.01)
        t.cancel()
        with pytest.raises(asyncio.CancelledError):
            await t
        assert inner.cancelled()

    run(main())


@pytest.mark.threads
def test_spawn_callable_runs_on_worker_thread():
    main_thread = threading.get_ident()

    def work(a, b=0):
        return a + b, threading.get_ident()

    async def main():
        h = accel.spawn(work, 40, b=2)
        r, tid = await h
        assert r == 42
        assert tid != main_thread
        assert h.done() and h.result() == (r, tid)

    run(main())


def test_spawn_callable_exception_collected_later():
    def fail():
        raise ZeroDivisionError("nope")

    async def main():
        h = accel.spawn(fail)
        await accel.sleep(0.05)
        while not h.done():
            await asyncio.sleep(0.01)
        assert isinstance(h.exception(), ZeroDivisionError)
        with pytest.raises(ZeroDivisionError, match="nope"):
            await h

    run(main())


def test_spawn_coroutine_owned_by_runtime():
    results = []

    async def bg():
        await accel.sleep(0.02)
        results.append("ran")
        return 5

    async def main():
        accel.spawn(bg())  # handle dropped on purpose: the runtime keeps it alive
        import gc
        gc.collect()
        await asyncio.sleep(0.1)
        assert results == ["ran"]
        h = accel.spawn(bg())
        assert await h == 5

    run(main())


def test_spawn_cancel():
    async def main():
        flag = {}

        async def bg():
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                flag["c"] = True
                raise

        h = accel.spawn(bg())
        await asyncio.sleep(0.01)
        assert h.cancel()
        await asyncio.sleep(0.01)
        assert flag.get("c")
        with pytest.raises(asyncio.CancelledError):
            await h

    run(main())


def test_spawn_rejects_non_callable():
    async def main():
        with pytest.raises(TypeError):
            accel.spawn(42)

    run(main())
