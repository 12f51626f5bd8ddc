"""Delivery on different kinds of loops and awaiting patterns."""
import asyncio
import os
import threading

import pytest

import accel


class NoReaderLoop(asyncio.SelectorEventLoop):
    """A loop that cannot watch fds (like Windows' Proactor loop)."""

    def add_reader(self, *args, **kwargs):
        raise NotImplementedError

    remove_reader = add_reader


def test_fallback_to_call_soon_threadsafe_when_add_reader_missing():
    async def main():
        a, b = await accel.gather(accel.sleep(0.01, "timer"), accel.sha256(os.urandom(1_000_000)))
        items = [x async for x in accel.stream_range(5, interval=0.001)]
        return a, len(b), items

    with asyncio.Runner(loop_factory=NoReaderLoop) as runner:
        assert runner.run(main()) == ("timer", 64, [0, 1, 2, 3, 4])


def test_two_tasks_await_the_same_awaitable():
    async def main():
        aw = accel.sleep(0.02, "shared")

        async def waiter():
            return await aw

        return await asyncio.gather(waiter(), waiter())

    assert asyncio.run(main()) == ["shared", "shared"]


def test_wait_for_cancels_the_timer():
    async def main():
        before = accel._stats()["timers"]
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(accel.sleep(10), 0.02)
        await asyncio.sleep(0)
        assert accel._stats()["timers"] == before

    asyncio.run(main())


def test_spawned_coroutine_exception_collected():
    async def bad():
        await accel.sleep(0.01)
        raise LookupError("from coroutine")

    async def main():
        h = accel.spawn(bad())
        with pytest.raises(LookupError, match="from coroutine"):
            await h
        assert isinstance(h.exception(), LookupError)

    asyncio.run(main())


@pytest.mark.threads
def test_loops_in_parallel_threads_do_not_mix_results():
    out = {}

    def worker(k):
        async def main():
            ch = accel.Channel(2)

            async def prod():
                for i in range(200):
                    await ch.send((k, i))
                ch.close()

            got = []

            async def cons():
                async for item in ch:
                    got.append(item)

            await asyncio.gather(prod(), cons(), accel.sleep(0.01))
            return got

        out[k] = asyncio.run(main())

    ts = [threading.Thread(target=worker, args=(k,)) for k in range(3)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    for k in range(3):
        assert out[k] == [(k, i) for i in range(200)]
