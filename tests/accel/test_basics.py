import asyncio
import gc
import time

import pytest

import accel


def run(coro):
    return asyncio.run(coro)


def test_sleep_returns_result_after_delay():
    async def main():
        t0 = time.monotonic()
        r = await accel.sleep(0.05, result="done")
        return r, time.monotonic() - t0

    r, dt = run(main())
    assert r == "done"
    assert 0.045 <= dt < 1.0


def test_sleep_default_result_is_none():
    async def main():
        return await accel.sleep(0.001)

    assert run(main()) is None


def test_sleep_zero_is_already_complete():
    async def main():
        aw = accel.sleep(0, 7)
        assert aw.done()
        assert aw.result() == 7
        return await aw

    assert run(main()) == 7


def test_sleep_rejects_nan():
    async def main():
        with pytest.raises(ValueError):
            accel.sleep(float("nan"))

    run(main())


def test_needs_running_loop():
    with pytest.raises(RuntimeError, match="no running event loop"):
        accel.sleep(1)
    with pytest.raises(RuntimeError, match="accel.sha256"):
        accel.sha256(b"x" * 100000)


def test_awaitable_is_future_like_and_reawaitable():
    async def main():
        aw = accel.sleep(0.01, "v")
        assert not aw.done()
        with pytest.raises(asyncio.InvalidStateError):
            aw.result()
        assert await aw == "v"
        assert aw.done() and not aw.cancelled()
        assert await aw == "v"  # awaiting again returns immediately
        assert aw.exception() is None
        assert "finished" in repr(aw)

    run(main())


def test_awaitable_works_with_asyncio_helpers():
    async def main():
        r = await asyncio.wait_for(accel.sleep(0.01, 1), 1)
        t = asyncio.ensure_future(accel.sleep(0.01, 2))
        done, _ = await asyncio.wait({t})
        r2 = await asyncio.gather(accel.sleep(0.01, 3), accel.sleep(0, 4))
        return r, t.result(), r2

    assert run(main()) == (1, 2, [3, 4])


def test_several_asyncio_run_calls_fresh_loops():
    async def main(i):
        a = await accel.sleep(0.005, i)
        b = await accel.sha256(b"z" * 200000)
        return a, b

    for i in range(5):
        assert run(main(i))[0] == i
    gc.collect()


def test_works_on_a_manually_managed_loop():
    async def main():
        return await accel.gather(accel.sleep(0.01, "a"), accel.sleep(0.02, "b"))

    loop = asyncio.new_event_loop()
    try:
        assert loop.run_until_complete(main()) == ["a", "b"]
    finally:
        loop.close()


def test_cancel_method_and_cancelled_error():
    async def main():
        aw = accel.sleep(10)
        assert aw.cancel() is True
        assert aw.cancelled()
        assert aw.cancel() is False
        with pytest.raises(asyncio.CancelledError):
            await aw
        with pytest.raises(asyncio.CancelledError):
            aw.result()

    run(main())


def test_many_concurrent_sleeps():
    async def main():
        n = 10_000
        t0 = time.monotonic()
        res = await asyncio.gather(*(accel.sleep(0.05, i) for i in range(n)))
        dt = time.monotonic() - t0
        assert res == list(range(n))
        return dt

    dt = run(main())
    assert dt < 5


def test_docstrings_everywhere():
    names = ["sleep", "timeout", "gather", "spawn", "fetch", "fetch_many", "read_file", "write_file",
             "Channel", "stream_range", "ticker", "sha256", "compress", "decompress", "sum_f64", "Awaitable",
             "Response", "set_fetch_hook"]
    for n in names:
        assert getattr(accel, n).__doc__, n
    assert accel.__doc__


@pytest.mark.single_threaded
def test_single_threaded_build_starts_no_threads(tmp_path):
    import os

    async def main():
        await accel.gather(accel.sleep(0.01), accel.sha256(bytes(1_000_000)), accel.compress(bytes(100_000)),
                           accel.write_file(tmp_path / "f", b"x"), accel.sum_f64(memoryview(bytes(800_000)).cast("d")))
        return [x async for x in accel.stream_range(3, interval=0.001)]

    before = len(os.listdir("/proc/self/task"))
    assert run(main()) == [0, 1, 2]
    assert accel.WORKER_THREADS == 0
    assert len(os.listdir("/proc/self/task")) == before
