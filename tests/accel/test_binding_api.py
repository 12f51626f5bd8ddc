"""Binding polish: TypeErrors naming the parameter, real signatures, HTTP
input validation, configurable pools, documented loop requirements (issue 12)."""
import asyncio
import inspect
import os
import subprocess
import sys

import pytest

import accel


def run(coro):
    return asyncio.run(coro)


@pytest.mark.parametrize("call, param", [
    (lambda: accel.timeout(accel.sleep(0), "x"), "seconds"),
    (lambda: accel.timeout(42, 1), "awaitable"),
    (lambda: accel.sleep("1"), "seconds"),
    (lambda: accel.sleep(None), "seconds"),
    (lambda: accel.read_file(3.5), "path"),
    (lambda: accel.write_file("/tmp/x", 5), "data"),
    (lambda: accel.sha256("text"), "data"),
    (lambda: accel.compress(b"x", "9"), "level"),
    (lambda: accel.decompress(None), "data"),
    (lambda: accel.sum_f64(1.0), "data"),
    (lambda: accel.ticker("fast"), "interval"),
    (lambda: accel.stream_range("3"), "n"),
    (lambda: accel.fetch(b"http://127.0.0.1/"), "url"),
    (lambda: accel.fetch("http://127.0.0.1/", method=1), "method"),
    (lambda: accel.fetch("http://127.0.0.1/", headers={"a": 1}), "header value"),
    (lambda: accel.fetch("http://127.0.0.1/", timeout="1"), "timeout"),
    (lambda: accel.fetch_many("http://127.0.0.1/"), "urls"),
    (lambda: accel.fetch_many([], concurrency="2"), "concurrency"),
    (lambda: accel.spawn(5), "target"),
    (lambda: accel.configure(worker_threads="2"), "worker_threads"),
])
def test_bad_argument_types_raise_type_error_naming_the_parameter(call, param):
    async def main():
        with pytest.raises(TypeError, match=param):
            call()

    run(main())


@pytest.mark.parametrize("fn, params", [
    (accel.sleep, ["seconds", "result"]),
    (accel.timeout, ["awaitable", "seconds"]),
    (accel.gather, ["aws", "return_exceptions"]),
    (accel.spawn, ["target", "args", "kwargs"]),
    (accel.read_file, ["path", "max_size"]),
    (accel.write_file, ["path", "data"]),
    (accel.sha256, ["data"]),
    (accel.compress, ["data", "level"]),
    (accel.fetch, ["url", "method", "headers", "body", "timeout"]),
    (accel.fetch_many, ["urls", "concurrency", "timeout"]),
    (accel.stream_range, ["n", "interval", "capacity"]),
    (accel.ticker, ["interval"]),
    (accel.configure, ["worker_threads", "blocking_threads"]),
    (accel.Channel.send, ["self", "item"]),
    (accel.Awaitable.add_done_callback, ["self", "fn", "context"]),
])
def test_signatures_show_real_parameter_names(fn, params):
    assert list(inspect.signature(fn).parameters) == params
    assert "arg0" not in (fn.__doc__ or "") and "handle" not in str(inspect.signature(fn))


@pytest.mark.parametrize("kwargs, match", [
    ({"url": "file:///etc/hostname"}, "scheme 'file'"),
    ({"url": "ftp://127.0.0.1/x"}, "scheme 'ftp'"),
    ({"url": "127.0.0.1/x"}, "http:// or https://"),
    ({"url": "http://127.0.0.1/\r\nX-Evil: 1"}, "CR, LF"),
    ({"url": "http://127.0.0.1/", "method": "GET\r\nX-Evil: 1"}, "method"),
    ({"url": "http://127.0.0.1/", "method": "GE T"}, "method"),
    ({"url": "http://127.0.0.1/", "headers": {"X-A": "v\r\nX-Evil: 1"}}, "X-A"),
    ({"url": "http://127.0.0.1/", "headers": [("X-A\n", "v")]}, "header name"),
    ({"url": "http://127.0.0.1/", "headers": {"Bad Name": "v"}}, "header name"),
])
def test_fetch_rejects_bad_input_before_sending(kwargs, match):
    async def main():
        url = kwargs.pop("url")
        with pytest.raises(ValueError, match=match):
            accel.fetch(url, **kwargs)

    run(main())


def test_fetch_many_validates_every_url():
    async def main():
        with pytest.raises(ValueError, match="scheme 'file'"):
            accel.fetch_many(["http://127.0.0.1:9/", "file:///etc/passwd"])

    run(main())


def test_fetch_hook_also_gets_validated_input():
    """The single-threaded build (hook backend) validates too."""
    calls = []

    async def hook(url, **kw):
        calls.append(url)

    async def main():
        if accel.has_native_fetch():
            return
        accel.set_fetch_hook(hook)
        try:
            with pytest.raises(ValueError):
                accel.fetch("file:///etc/hostname")
        finally:
            accel.set_fetch_hook(None)
        assert calls == []

    run(main())


def test_what_needs_a_running_loop_is_documented_behaviour():
    # Already-complete results need no loop (README, "Python API").
    assert accel.sleep(0, "z").result() == "z"
    assert accel.sleep(-1).done()
    assert accel.gather().result() == []
    # Anything that starts work needs one, with a clear message.
    for call in (lambda: accel.sleep(1), lambda: accel.read_file("/x"), lambda: accel.gather(accel.sleep(0)),
                 lambda: accel.spawn(lambda: 1)):
        with pytest.raises(RuntimeError, match="running event loop|no running event loop"):
            call()


def test_gather_failure_leaves_other_children_running():
    """As asyncio.gather: the first error propagates, the others go on."""
    async def boom():
        await asyncio.sleep(0.01)
        raise KeyError("first")

    async def main():
        seen = []

        async def survivor():
            await asyncio.sleep(0.1)
            seen.append("coroutine finished")

        with pytest.raises(KeyError):
            await accel.gather(boom(), accel.sleep(0.1), survivor())
        assert accel._stats()["timers"] == 1  # the unreferenced accel child still runs
        await asyncio.sleep(0.3)
        assert seen == ["coroutine finished"]
        assert accel._stats()["timers"] == 0

    run(main())


def run_python(code, **env_extra):
    env = dict(os.environ, **env_extra)
    if os.environ.get("ACCEL_BUILD_DIR"):
        env["PYTHONPATH"] = os.path.abspath(os.environ["ACCEL_BUILD_DIR"])
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


@pytest.mark.threads
def test_worker_count_from_environment_and_configure():
    out = run_python("import accel, asyncio\n"
                     "print(accel._stats()['started'], accel.WORKER_THREADS)\n"
                     "async def m():\n    await accel.sha256(bytes(1 << 20))\n"
                     "asyncio.run(m())\n"
                     "s = accel._stats(); print(s['started'], s['worker_threads'], s['blocking_threads'])",
                     ACCEL_WORKER_THREADS="3", ACCEL_BLOCKING_THREADS="5")
    assert out.split("\n") == ["False 3", "True 3 5"]
    out = run_python("import accel, asyncio, os\n"
                     "accel.configure(worker_threads=1, blocking_threads=2)\n"
                     "async def main():\n"
                     "    await accel.sha256(bytes(1 << 20))\n"
                     "    await accel.spawn(lambda: None)\n"
                     "asyncio.run(main())\n"
                     "s = accel._stats(); print(s['worker_threads'], s['blocking_threads'], s['blocking_threads_started'])\n"
                     "try:\n"
                     "    accel.configure(worker_threads=4)\n"
                     "except RuntimeError as e:\n"
                     "    print('late:', 'before the first' in str(e))\n",
                     ACCEL_WORKER_THREADS="3")
    assert out.split("\n") == ["1 2 2", "late: True"]
    tasks = int(run_python("import accel, asyncio, os\n"
                           "accel.configure(worker_threads=2)\n"
                           "async def m():\n    await accel.sha256(bytes(1 << 20))\n"
                           "asyncio.run(m())\n"
                           "print(len(os.listdir('/proc/self/task')))"))
    assert tasks <= 1 + 2 + 1 + 2  # main + workers + timer + slack (no blocking pool until used)


def test_bad_worker_env_is_a_clear_error():
    env = dict(os.environ, ACCEL_WORKER_THREADS="many")
    if os.environ.get("ACCEL_BUILD_DIR"):
        env["PYTHONPATH"] = os.path.abspath(os.environ["ACCEL_BUILD_DIR"])
    code = "import accel, asyncio\nasync def m():\n    await accel.sha256(bytes(1 << 20))\nasyncio.run(m())"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
    if accel.SINGLE_THREADED:
        assert r.returncode == 0, r.stderr  # no threads: the variable is ignored
    else:
        assert r.returncode != 0 and "ACCEL_WORKER_THREADS=many" in r.stderr, r.stderr
