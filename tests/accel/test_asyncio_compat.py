"""accel awaitables are accepted wherever asyncio accepts a Future (issue 12)."""
import asyncio
import contextvars

import pytest

import accel


def run(coro):
    return asyncio.run(coro)


def test_is_a_future_not_a_coroutine():
    async def main():
        aw = accel.sleep(1)
        assert asyncio.isfuture(aw)
        assert not asyncio.iscoroutine(aw)
        assert aw.get_loop() is asyncio.get_running_loop()
        assert accel.sleep(0).get_loop() is asyncio.get_running_loop()  # created done: running loop
        aw.cancel()

    run(main())


def test_asyncio_wait_and_as_completed():
    async def main():
        a, b = accel.sleep(0.01, "a"), accel.sleep(5, "b")
        done, pending = await asyncio.wait([a, b], timeout=1)
        assert done == {a} and pending == {b}
        done, pending = await asyncio.wait([b, accel.sleep(0.01)], return_when=asyncio.FIRST_COMPLETED)
        assert b in pending
        b.cancel()
        got = [await f for f in asyncio.as_completed([accel.sleep(0.02, 2), accel.sleep(0.01, 1)])]
        assert sorted(got) == [1, 2]

    run(main())


def test_ensure_future_shield_wait_for_gather():
    async def main():
        aw = accel.sleep(0.05, "x")
        assert asyncio.ensure_future(aw) is aw
        inner = accel.sleep(0.1, "inner")
        outer = asyncio.shield(inner)
        outer.cancel()
        with pytest.raises(asyncio.CancelledError):
            await outer
        assert await inner == "inner" and not inner.cancelled()  # shielded
        slow = accel.sleep(5)
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(slow, 0.05)
        assert slow.cancelled()  # wait_for cancels it, and the timer goes away
        assert accel._stats()["timers"] == 0
        assert await asyncio.gather(accel.sleep(0.01, 1), accel.sleep(0, 2)) == [1, 2]
        assert await aw == "x"
        task = asyncio.ensure_future(accel.sleep(0.01, "via loop"))
        assert await task == "via loop"
        assert asyncio.get_running_loop().run_in_executor  # sanity

    run(main())


def test_add_and_remove_done_callback():
    var = contextvars.ContextVar("v", default=None)

    async def main():
        seen = []
        aw = accel.sleep(0.01, 5)
        aw.add_done_callback(lambda f: seen.append(("first", f.result())))
        cb = lambda f: seen.append("removed")  # noqa: E731
        aw.add_done_callback(cb)
        assert aw.remove_done_callback(cb) == 1
        ctx = contextvars.copy_context()
        ctx.run(var.set, "in ctx")
        aw.add_done_callback(lambda f: seen.append(var.get()), context=ctx)
        await aw
        await asyncio.sleep(0)
        assert seen == [("first", 5), "in ctx"]
        done = accel.sleep(0, "already")
        done.add_done_callback(lambda f: seen.append(f.result()))  # scheduled, not called inline
        assert seen[-1] == "in ctx"
        await asyncio.sleep(0)
        assert seen[-1] == "already"

    run(main())


def test_task_cancel_cancels_the_work_and_keeps_message():
    async def main():
        aw = accel.sleep(10)

        async def waiter():
            return await aw

        t = asyncio.ensure_future(waiter())
        await asyncio.sleep(0.01)
        t.cancel("stop it")
        with pytest.raises(asyncio.CancelledError):
            await t
        assert aw.cancelled()
        assert accel._stats()["timers"] == 0
        aw2 = accel.sleep(10)
        aw2.cancel(msg="why")
        with pytest.raises(asyncio.CancelledError, match="why"):
            aw2.result()

    run(main())


def test_run_until_complete_accepts_an_accel_awaitable():
    loop = asyncio.new_event_loop()
    try:
        async def make():
            return accel.sleep(0.01, "ruc")

        aw = loop.run_until_complete(make())
        assert loop.run_until_complete(aw) == "ruc"
    finally:
        loop.close()


def test_awaiting_on_another_loop_is_refused():
    import threading

    box = {}

    async def make():
        box["aw"] = accel.sleep(5)

    loop_a = asyncio.new_event_loop()
    loop_a.run_until_complete(make())

    async def other():
        with pytest.raises(RuntimeError, match="different loop"):
            await box["aw"]

    t = threading.Thread(target=lambda: asyncio.run(other()))
    t.start()
    t.join(10)
    box["aw"].cancel()
    loop_a.close()


def test_asyncio_gather_with_cancelled_accel_children():
    async def main():
        a, b = accel.sleep(10), accel.sleep(0.01, "b")
        a.cancel("no need")
        res = await asyncio.gather(a, b, return_exceptions=True)
        assert isinstance(res[0], asyncio.CancelledError) and res[0].args == ("no need",)
        assert res[1] == "b"
        c = accel.sleep(10)
        c.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.gather(c, accel.sleep(0.01))

    run(main())
