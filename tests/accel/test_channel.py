import asyncio
import statistics
import time

import pytest

import accel


def run(coro):
    return asyncio.run(coro)


def test_send_recv_fifo_and_async_for():
    async def main():
        ch = accel.Channel(4)
        got = []

        async def producer():
            for i in range(100):
                await ch.send(i)
            ch.close()

        async def consumer():
            async for x in ch:
                got.append(x)

        await asyncio.gather(producer(), consumer())
        return got

    assert run(main()) == list(range(100))


def test_backpressure_never_exceeds_capacity():
    async def main():
        cap = 3
        ch = accel.Channel(cap)
        max_len = 0
        sent = 0

        async def producer():
            nonlocal sent
            for i in range(50):
                await ch.send(i)
                sent += 1

        p = asyncio.ensure_future(producer())
        await asyncio.sleep(0.01)
        assert sent == cap  # producer blocked on a full channel
        assert len(ch) == cap
        for _ in range(50):
            max_len = max(max_len, len(ch))
            await ch.recv()
        await p
        assert max_len <= cap
        assert ch.capacity == cap

    run(main())


def test_recv_waits_then_gets_value():
    async def main():
        ch = accel.Channel(1)
        t = asyncio.ensure_future(ch.recv())
        await asyncio.sleep(0.01)
        assert not t.done()
        await ch.send("hi")
        assert await t == "hi"

    run(main())


def test_close_semantics():
    async def main():
        ch = accel.Channel(2)
        await ch.send(1)
        ch.close()
        assert ch.closed
        with pytest.raises(accel.ChannelClosed):
            await ch.send(2)
        assert await ch.recv() == 1  # buffered items survive close
        with pytest.raises(accel.ChannelClosed):
            await ch.recv()

        ch2 = accel.Channel(1)
        waiter = asyncio.ensure_future(ch2.recv())
        await asyncio.sleep(0)
        ch2.close()
        with pytest.raises(accel.ChannelClosed):
            await waiter

        ch3 = accel.Channel(1)
        await ch3.send(0)
        blocked = asyncio.ensure_future(ch3.send(1))
        await asyncio.sleep(0)
        ch3.close()
        with pytest.raises(accel.ChannelClosed):
            await blocked

    run(main())


def test_invalid_capacity():
    with pytest.raises(ValueError):
        accel.Channel(0)


def test_try_send():
    async def main():
        ch = accel.Channel(1)
        assert ch.try_send(1) is True
        assert ch.try_send(2) is False
        ch.close()
        with pytest.raises(accel.ChannelClosed):
            ch.try_send(3)

    run(main())


def test_cancelled_send_is_not_delivered():
    async def main():
        ch = accel.Channel(1)
        await ch.send("a")
        t = asyncio.ensure_future(ch.send("b"))
        await asyncio.sleep(0.01)
        t.cancel()
        with pytest.raises(asyncio.CancelledError):
            await t
        assert await ch.recv() == "a"
        assert ch.try_send("c")
        assert await ch.recv() == "c"

    run(main())


def test_cancelled_recv_does_not_steal():
    async def main():
        ch = accel.Channel(1)
        t = asyncio.ensure_future(ch.recv())
        await asyncio.sleep(0.01)
        t.cancel()
        with pytest.raises(asyncio.CancelledError):
            await t
        await ch.send("x")
        assert await ch.recv() == "x"

    run(main())


def test_multiple_producers_consumers():
    async def main():
        ch = accel.Channel(5)
        total = 0

        async def prod(base):
            for i in range(200):
                await ch.send(base + i)

        async def cons():
            nonlocal total
            async for x in ch:
                total += x

        consumers = [asyncio.ensure_future(cons()) for _ in range(3)]
        await asyncio.gather(*(prod(k * 1000) for k in range(4)))
        ch.close()
        await asyncio.gather(*consumers)
        return total

    assert run(main()) == sum(k * 1000 + i for k in range(4) for i in range(200))


def test_stream_range_cpp_producer():
    async def main():
        return [x async for x in accel.stream_range(1000, capacity=8)]

    assert run(main()) == list(range(1000))


def test_stream_range_with_interval_and_backpressure():
    async def main():
        ch = accel.stream_range(5, interval=0.01, capacity=2)
        await asyncio.sleep(0.2)  # producer must stop at capacity
        assert len(ch) == 2
        return [x async for x in ch]

    assert run(main()) == [0, 1, 2, 3, 4]


def test_stream_range_zero_and_errors():
    async def main():
        assert [x async for x in accel.stream_range(0)] == []
        with pytest.raises(ValueError):
            accel.stream_range(-1)

    run(main())


def test_ticker_period_and_close():
    async def main():
        tk = accel.ticker(0.01)
        stamps = []
        async for _ in tk:
            stamps.append(time.monotonic())
            if len(stamps) == 20:
                tk.close()
        gaps = [b - a for a, b in zip(stamps, stamps[1:])]
        assert abs(statistics.mean(gaps) - 0.01) < 0.003
        with pytest.raises(ValueError):
            accel.ticker(0)

    run(main())


def test_closing_consumer_stops_cpp_producer():
    async def main():
        ch = accel.stream_range(10**9, capacity=4)
        assert await ch.recv() == 0
        ch.close()
        await asyncio.sleep(0.02)
        assert len(ch) <= 4

    run(main())
