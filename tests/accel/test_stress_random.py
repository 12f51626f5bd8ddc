"""Randomised stress (issue 12): 10,000 operations per seed -- sleep, timeout,
gather, channel send/recv (across two threads and two loops in the threaded
build), fetch to 127.0.0.1, temp-file write/read, spawn -- with cancellation
at random points. Every awaited result is checked; afterwards no fd, thread,
timer, job, spawn handle or Python object may be left behind."""
import asyncio
import gc
import hashlib
import os
import random
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import accel

N_OPS = 10_000
BATCH = 100
THREADED = not accel.SINGLE_THREADED


class Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        body = self.path.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def server():
    if not THREADED:
        yield None
        return
    class Server(ThreadingHTTPServer):
        def handle_error(self, request, client_address):
            pass  # clients aborting keep-alive connections (cancelled fetches) are expected

    srv = Server(("127.0.0.1", 0), Echo)
    srv.daemon_threads = True
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


class Doubler:
    """A second thread with its own loop: recv x from `inbox`, send 2x to `outbox`."""

    def __init__(self):
        self.inbox, self.outbox = accel.Channel(8), accel.Channel(8)
        self.thread = threading.Thread(target=lambda: asyncio.run(self._main()))
        self.thread.start()

    async def _main(self):
        async for x in self.inbox:
            await self.outbox.send((x[0], x[1] * 2))
        self.outbox.close()

    def stop(self):
        self.inbox.close()
        self.thread.join(30)
        assert not self.thread.is_alive()


def fd_kinds():
    files, sockets = [], 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue  # the listing's own fd
        if target.startswith("socket:"):
            sockets += 1
        else:
            files.append(target.split("[")[0])
    return sorted(files), sockets


def counts():
    gc.collect()
    files, sockets = fd_kinds()
    return {
        "fds": files,
        # keep-alive connections (curl's cache and the test server) come and go
        "sockets": sockets,
        # native threads only: the test server starts a Python thread per connection
        "threads": len(os.listdir("/proc/self/task")) - len(threading.enumerate()),
        "awaitables": sum(type(o) is accel.Awaitable for o in gc.get_objects()),
        "objects": len(gc.get_objects()),
    }


async def one_op(rng, i, ctx):
    """Runs one random operation; returns (expected, got) pairs to compare."""
    kind = rng.choice(ctx["kinds"])
    if kind == "sleep":
        return i, await accel.sleep(rng.uniform(0, 0.004), i)
    if kind == "timeout_ok":
        return i, await accel.timeout(accel.sleep(rng.uniform(0, 0.003), i), 5)
    if kind == "timeout_expires":
        try:
            await accel.timeout(accel.sleep(10, i), rng.uniform(0, 0.003))
        except TimeoutError:
            return "timeout", "timeout"
        return "timeout", "no timeout"
    if kind == "gather":
        k = rng.randint(0, 5)
        return list(range(k)), await accel.gather(*(accel.sleep(rng.uniform(0, 0.003), j) for j in range(k)))
    if kind == "channel_local":
        ch = accel.Channel(rng.randint(1, 3))
        k = rng.randint(0, 6)

        async def produce():
            for j in range(k):
                await ch.send(j)
            ch.close()

        producer = asyncio.ensure_future(produce())
        try:
            return list(range(k)), [x async for x in ch]
        finally:
            producer.cancel()
    if kind == "channel_threads":
        async with ctx["lock"]:  # one request in flight
            await ctx["doubler"].inbox.send((i, i))
            while True:  # replies to cancelled requests are stale: skip them
                reply = await ctx["doubler"].outbox.recv()
                if reply[0] == i:
                    return (i, 2 * i), reply
    if kind == "fetch":
        r = await accel.fetch(f"{ctx['url']}/n/{i}", timeout=30)
        return (200, f"/n/{i}".encode()), (r.status, r.body)
    if kind == "file":
        data = rng.randbytes(rng.randint(0, 70_000))
        path = os.path.join(ctx["tmp"], f"f{ctx['seed']}_{i}")
        assert await accel.write_file(path, data) == len(data)
        back = await accel.read_file(path)
        os.unlink(path)
        return data, back
    if kind == "spawn":
        return i * 3, await accel.spawn(lambda: i * 3)
    if kind == "sha256":
        data = rng.randbytes(rng.randint(0, 100_000))
        return hashlib.sha256(data).hexdigest(), await accel.sha256(data)
    raise AssertionError(kind)


async def guarded(rng, i, ctx):
    """Cancels about 1 op in 8 at a random point; checks every other result."""
    task = asyncio.ensure_future(one_op(rng, i, ctx))
    if rng.random() < 0.125:
        for _ in range(rng.randint(0, 3)):
            await asyncio.sleep(0)
        task.cancel()
    try:
        expected, got = await task
    except asyncio.CancelledError:
        ctx["cancelled"] += 1
        return
    assert got == expected, (i, expected, got)
    ctx["checked"] += 1


async def stress(seed, url, tmp):
    rng = random.Random(seed)
    kinds = ["sleep", "timeout_ok", "timeout_expires", "gather", "channel_local", "file", "spawn", "sha256"]
    ctx = {"kinds": kinds, "lock": asyncio.Lock(), "url": url, "tmp": tmp, "seed": seed,
           "cancelled": 0, "checked": 0}
    doubler = None
    if THREADED:
        kinds += ["channel_threads", "fetch"]
        doubler = ctx["doubler"] = Doubler()
    try:
        for start in range(0, N_OPS, BATCH):
            await asyncio.wait_for(asyncio.gather(*(guarded(rng, i, ctx) for i in range(start, start + BATCH))), 60)
    finally:
        if doubler:
            doubler.stop()
    # Only numbers: ctx holds the asyncio.Lock, which is bound to this loop.
    return {"checked": ctx["checked"], "cancelled": ctx["cancelled"]}


def settle_stats():
    import time

    end = time.monotonic() + 10
    while True:
        s = accel._stats()
        idle = (s["timers"], s["queued_jobs"], s["running_jobs"], s["queued_blocking_jobs"],
                s["running_blocking_jobs"], s["spawned"]) == (0,) * 6
        if idle or time.monotonic() > end:
            return s
        time.sleep(0.02)


@pytest.mark.timeout(900)
def test_random_operations_three_seeds(server, tmp_path):
    asyncio.run(stress(0, server, str(tmp_path)))  # warm-up: pools, bridges, caches
    settle_stats()
    base = counts()
    for seed in (1, 2, 3):
        ctx = asyncio.run(stress(seed, server, str(tmp_path)))
        assert ctx["checked"] + ctx["cancelled"] == N_OPS
        assert ctx["checked"] > N_OPS * 0.8
        s = settle_stats()
        assert (s["timers"], s["queued_jobs"], s["running_jobs"], s["spawned"]) == (0, 0, 0, 0), s
        assert s["queued_blocking_jobs"] == 0 and s["running_blocking_jobs"] == 0, s
        now = counts()
        assert len(now["fds"]) <= len(base["fds"]), " ".join(base["fds"]) + " || " + " ".join(now["fds"])
        assert now["sockets"] <= base["sockets"] + 40, (base, now)
        assert now["threads"] <= base["threads"], (base, now)
        assert now["awaitables"] <= base["awaitables"], (base, now)
        # Caches (e.g. interned strings, the loop's internals) may wobble a little.
        assert now["objects"] <= base["objects"] + 500, (base, now)
