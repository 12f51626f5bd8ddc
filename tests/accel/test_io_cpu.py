import array
import asyncio
import errno
import gc
import hashlib
import os
import zlib

import pytest

import accel


def run(coro):
    return asyncio.run(coro)


def test_write_then_read(tmp_path):
    p = tmp_path / "f.bin"
    data = os.urandom(300_000)

    async def main():
        n = await accel.write_file(p, data)
        assert n == len(data)
        assert await accel.read_file(str(p)) == data
        assert await accel.write_file(p, "héllo") == len("héllo".encode())
        assert await accel.read_file(p) == "héllo".encode()
        assert await accel.write_file(p, memoryview(b"abcdef")[1:4]) == 3
        assert await accel.read_file(p) == b"bcd"

    run(main())


@pytest.mark.parametrize("path_kind, exc, code", [
    ("missing", FileNotFoundError, errno.ENOENT),
    ("dir", IsADirectoryError, errno.EISDIR),
    ("notdir", NotADirectoryError, errno.ENOTDIR),
])
def test_read_errors_are_matching_oserrors(tmp_path, path_kind, exc, code):
    f = tmp_path / "file"
    f.write_bytes(b"x")
    path = {"missing": tmp_path / "nope", "dir": tmp_path, "notdir": f / "child"}[path_kind]

    async def main():
        with pytest.raises(exc) as info:
            await accel.read_file(path)
        assert info.value.errno == code
        assert info.value.filename == str(path)
        assert os.strerror(code) in str(info.value)

    run(main())


def test_write_errors(tmp_path):
    async def main():
        with pytest.raises(FileNotFoundError) as info:
            await accel.write_file(tmp_path / "no" / "dir" / "x", b"1")
        assert info.value.errno == errno.ENOENT
        assert info.value.filename.endswith("x")
        with pytest.raises(IsADirectoryError):
            await accel.write_file(tmp_path, b"1")
        with pytest.raises(TypeError):
            await accel.write_file(tmp_path / "y", 12345)

    run(main())


@pytest.mark.parametrize("size", [0, 1, 63, 64 * 1024, 64 * 1024 + 1, 3_000_001])
def test_sha256_matches_hashlib(size):
    data = os.urandom(size)

    async def main():
        return await accel.sha256(data)

    assert run(main()) == hashlib.sha256(data).hexdigest()


def test_sha256_accepts_buffers_zero_copy():
    raw = bytearray(os.urandom(1_000_000))

    async def main():
        a = await accel.sha256(raw)
        b = await accel.sha256(memoryview(raw)[10:])
        c = await accel.sha256(array.array("d", range(100000)))
        return a, b, c

    a, b, c = run(main())
    assert a == hashlib.sha256(raw).hexdigest()
    assert b == hashlib.sha256(raw[10:]).hexdigest()
    assert c == hashlib.sha256(array.array("d", range(100000)).tobytes()).hexdigest()


def test_buffer_kept_alive_by_awaitable():
    async def main():
        data = bytearray(os.urandom(8_000_000))
        expect = hashlib.sha256(data).hexdigest()
        aw = accel.sha256(data)
        with pytest.raises(BufferError):
            data.extend(b"x")  # exported buffer is locked while the work runs
        del data
        gc.collect()
        return expect, await aw

    expect, got = run(main())
    assert expect == got


def test_sha256_type_error():
    async def main():
        with pytest.raises(TypeError):
            accel.sha256("text")

    run(main())


@pytest.mark.parametrize("level", [-1, 0, 1, 6, 9])
def test_compress_matches_zlib(level):
    data = (b"accel " * 50000) + os.urandom(1000)

    async def main():
        c = await accel.compress(data, level)
        assert c == zlib.compress(data, level)
        assert await accel.decompress(c) == data
        assert await accel.decompress(zlib.compress(data, level)) == data

    run(main())


def test_compress_errors():
    async def main():
        with pytest.raises(ValueError):
            accel.compress(b"x", 11)
        with pytest.raises(zlib.error):
            await accel.decompress(b"not zlib data at all")
        with pytest.raises(zlib.error, match="incomplete or truncated"):
            await accel.decompress(zlib.compress(b"x" * 1000)[:-3])
        assert await accel.compress(b"") == zlib.compress(b"")

    run(main())


def test_sum_f64_small_and_large():
    small = array.array("d", [0.5] * 100)
    large = array.array("d", (i * 0.25 for i in range(3_000_000)))

    async def main():
        return await accel.sum_f64(small), await accel.sum_f64(large), await accel.sum_f64(memoryview(large)[:10])

    s, l, m = run(main())
    assert s == 50.0
    assert l == pytest.approx(sum(large), rel=1e-12)
    assert m == sum(large[:10])


def test_sum_f64_numpy_and_type_errors():
    import numpy as np
    a = np.random.default_rng(1).random(2_000_000)

    async def main():
        assert await accel.sum_f64(a) == pytest.approx(float(a.sum()), rel=1e-12)
        with pytest.raises(TypeError, match="float64"):
            accel.sum_f64(array.array("i", [1, 2]))
        with pytest.raises(TypeError, match="float64"):
            accel.sum_f64(a.astype(np.float32))

    run(main())
