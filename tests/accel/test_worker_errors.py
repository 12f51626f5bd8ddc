"""Exceptions on runtime threads become Python exceptions; chunked, cancellable I/O and zlib (issue 12)."""
import asyncio
import errno
import os
import threading
import time
import zlib

import pytest

import accel


def run(coro):
    return asyncio.run(coro)


async def settle(pred, limit=10.0):
    end = time.monotonic() + limit
    while not pred():
        assert time.monotonic() < end, accel._stats()
        await asyncio.sleep(0.01)


def test_read_file_max_size(tmp_path):
    p = tmp_path / "f"
    p.write_bytes(b"x" * 1000)

    async def main():
        assert await accel.read_file(p, max_size=1000) == b"x" * 1000
        with pytest.raises(OSError) as e:
            await accel.read_file(p, max_size=999)
        assert e.value.errno == errno.EFBIG
        assert "max_size" in str(e.value) and e.value.filename == str(p)
        with pytest.raises(OSError) as e:
            await accel.read_file("/dev/zero", max_size=5 << 20)  # endless: stops at the limit
        assert e.value.errno == errno.EFBIG
        with pytest.raises(ValueError, match="max_size"):
            accel.read_file(p, max_size=-1)
        with pytest.raises(TypeError, match="max_size"):
            accel.read_file(p, max_size="big")

    run(main())


@pytest.mark.threads
def test_cancelled_read_of_endless_pipe_stops_and_frees_the_worker(tmp_path):
    """The issue's /dev/zero case, made deterministic with a FIFO fed slowly:
    after cancel the worker stops at the next chunk and closes the file, so
    the writer gets EPIPE, and the pool is free again."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    stop = threading.Event()
    outcome = {}

    def writer():
        fd = os.open(fifo, os.O_WRONLY)
        try:
            while not stop.is_set():
                os.write(fd, b"z" * 65536)
                time.sleep(0.005)
        except BrokenPipeError:
            outcome["epipe"] = True
        finally:
            os.close(fd)

    t = threading.Thread(target=writer)
    t.start()
    try:
        async def main():
            aw = accel.read_file(fifo)
            await asyncio.sleep(0.2)
            assert not aw.done()
            assert aw.cancel()
            await settle(lambda: accel._stats()["running_jobs"] == 0)
            assert await accel.sha256(b"pool still works" * 10000)  # worker free

        run(main())
        t.join(10)
        assert outcome.get("epipe"), "the reader did not close the pipe after cancel"
    finally:
        stop.set()
        t.join(10)


@pytest.mark.threads
def test_cancelled_compress_and_decompress_stop_early():
    data = os.urandom(1 << 20) * 48  # 48 MiB, slow to compress at level 9

    async def main():
        aw = accel.compress(data, 9)
        await asyncio.sleep(0.05)
        t0 = time.monotonic()
        aw.cancel()
        await settle(lambda: accel._stats()["running_jobs"] == 0)
        stopped_after = time.monotonic() - t0
        z = zlib.compress(b"\0" * (64 << 20), 1)
        aw = accel.decompress(z)
        await asyncio.sleep(0.01)
        aw.cancel()
        await settle(lambda: accel._stats()["running_jobs"] == 0)
        return stopped_after

    # A full level-9 pass over 48 MiB of random data takes seconds; a cancel
    # is honoured at the next 1 MiB step.
    assert run(main()) < 5


def test_decompress_bomb_is_a_clean_error_or_result():
    z = zlib.compress(b"\0" * (32 << 20), 9)

    async def main():
        out = await accel.decompress(z)
        assert len(out) == 32 << 20
        with pytest.raises(zlib.error):
            await accel.decompress(z[:-10])

    run(main())


def test_write_file_chunks_and_returns_size(tmp_path):
    data = os.urandom(3 << 20)

    async def main():
        n = await accel.write_file(tmp_path / "w", data)
        assert n == len(data)
        assert await accel.read_file(tmp_path / "w") == data

    run(main())


def test_out_of_memory_on_a_worker_is_a_memory_error_not_an_abort():
    """The issue's case: reading /dev/zero (and inflating a zip bomb) until
    memory runs out used to abort the process through std::terminate. Under
    an address-space limit the operation now fails with MemoryError and the
    process goes on."""
    import subprocess
    import sys

    code = r"""
import asyncio, resource, zlib, accel
bomb = zlib.compressobj(1)
parts = [bomb.compress(b"\0" * (64 << 20)) for _ in range(16)]  # 1 GiB of zeros
parts.append(bomb.flush())
bomb = b"".join(parts)

async def main():
    await accel.sha256(bytes(1 << 20))  # pools and arenas exist before the limit
    await accel.sleep(0.01)
    with open("/proc/self/status") as f:
        vm = next(int(l.split()[1]) * 1024 for l in f if l.startswith("VmSize:"))
    resource.setrlimit(resource.RLIMIT_AS, (vm + (384 << 20), resource.RLIM_INFINITY))
    for label, aw in (("read", lambda: accel.read_file("/dev/zero")), ("inflate", lambda: accel.decompress(bomb))):
        try:
            await aw()
            print(label, "no error")
        except MemoryError as e:
            print(label, "MemoryError", e)
    print("alive", await accel.sleep(0, 1))

asyncio.run(main())
"""
    import os

    env = dict(os.environ)
    if os.environ.get("ACCEL_BUILD_DIR"):
        env["PYTHONPATH"] = os.path.abspath(os.environ["ACCEL_BUILD_DIR"])
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "read MemoryError" in r.stdout, r.stdout + r.stderr[-2000:]
    assert "inflate MemoryError" in r.stdout, r.stdout + r.stderr[-2000:]
    assert "alive 1" in r.stdout
