"""Durations: inf/huge mean "never", negative follows asyncio, NaN is a ValueError (issue 12)."""
import asyncio
import math
import time

import pytest

import accel

INF = float("inf")


def run(coro):
    return asyncio.run(coro)


@pytest.mark.parametrize("seconds", [INF, 1e10, 1e300, 10**30])
def test_huge_sleep_never_completes(seconds):
    async def main():
        aw = accel.sleep(seconds)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(asyncio.shield(aw), 0.2)
        assert not aw.done()
        assert accel._stats()["timers"] >= 1
        aw.cancel()
        assert accel._stats()["timers"] == 0

    run(main())


def test_timeout_inf_and_huge_mean_no_limit():
    async def main():
        assert await accel.timeout(accel.sleep(0.2, "a"), INF) == "a"
        assert await accel.timeout(accel.sleep(0.05, "b"), 1e12) == "b"
        assert await accel.timeout(accel.sleep(0.05, "c"), None) == "c"

    run(main())


def test_negative_and_zero_follow_asyncio():
    async def main():
        t0 = time.monotonic()
        assert await accel.sleep(-1, "now") == "now"  # asyncio.sleep(-1) returns at once
        assert time.monotonic() - t0 < 1
        # wait_for(aw, <=0): TimeoutError unless the awaitable is already done
        with pytest.raises(TimeoutError):
            await accel.timeout(accel.sleep(5), -1)
        with pytest.raises(TimeoutError):
            await accel.timeout(accel.sleep(5), 0)
        assert await accel.timeout(accel.sleep(0, "done"), -1) == "done"
        assert accel._stats()["timers"] == 0

    run(main())


@pytest.mark.parametrize("call", [
    lambda: accel.sleep(math.nan),
    lambda: accel.timeout(accel.sleep(0), math.nan),
    lambda: accel.ticker(math.nan),
    lambda: accel.stream_range(3, interval=math.nan),
    lambda: accel.fetch("http://127.0.0.1:9/", timeout=math.nan),
])
def test_nan_is_a_value_error(call):
    async def main():
        with pytest.raises(ValueError, match="NaN"):
            call()

    run(main())


@pytest.mark.parametrize("call", [lambda: accel.ticker(-1), lambda: accel.ticker(0),
                                  lambda: accel.stream_range(3, interval=-0.5)])
def test_negative_intervals_are_value_errors(call):
    async def main():
        with pytest.raises(ValueError):
            call()

    run(main())


def test_infinite_ticker_never_ticks():
    async def main():
        tk = accel.ticker(INF)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(tk.recv(), 0.2)
        assert len(tk) == 0
        tk.close()
        sr = accel.stream_range(5, interval=1e12)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(sr.recv(), 0.1)
        sr.close()

    run(main())
