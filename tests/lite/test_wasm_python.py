"""CPython 3.11 for wasm32-emscripten (built by lite/build-toolchain), run under node.

Every test runs the wasm interpreter through lite/python-node. When the toolchain has
not been built, the tests fail (never skip) and name what is missing and the command
that builds it.
"""
from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LITE = REPO / "lite"
PYTHON_NODE = LITE / "python-node"
BUILD_CMD = "lite/build-toolchain"
CACHE_ROOT = Path(os.environ.get("XACCEL_CACHE", Path.home() / ".cache" / "xaccel"))
ENV_FILE = CACHE_ROOT / "env.sh"
HERE = Path(__file__).resolve().parent

# generous but bounded: each CPython test module below takes 5-25 s here
SNIPPET_TIMEOUT = 120
TEST_MODULE_TIMEOUT = 300  # these tests carry a pytest-timeout mark above it


def _read_env() -> dict[str, str]:
    env = {}
    for line in ENV_FILE.read_text().splitlines():
        m = re.match(r"export (\w+)='([^']*)'", line.strip())
        if m:
            env[m.group(1)] = m.group(2)
    return env


def require_toolchain() -> dict[str, str]:
    """Fail (not skip) with the missing piece and the build command."""
    if not PYTHON_NODE.is_file() or not os.access(PYTHON_NODE, os.X_OK):
        pytest.fail(f"{PYTHON_NODE} is missing or not executable")
    if not ENV_FILE.is_file():
        pytest.fail(
            f"wasm toolchain not built: {ENV_FILE} is missing. Build it with `{BUILD_CMD}` "
            "(from scratch about 35 min on 2 cores, from cache under a minute)"
        )
    env = _read_env()
    js = env.get("XACCEL_PYTHON_NODE_JS", "")
    missing = [p for p in (js, js[:-3] + ".wasm" if js else "") if not p or not Path(p).is_file()]
    if missing:
        pytest.fail(
            f"wasm toolchain incomplete: node-target CPython missing ({', '.join(missing) or 'XACCEL_PYTHON_NODE_JS unset'}). "
            f"Build it with `{BUILD_CMD}`"
        )
    return env


def python_node(*args: str, timeout: float = SNIPPET_TIMEOUT, cwd: Path | None = None):
    cmd = [str(PYTHON_NODE), *args]
    try:
        return subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout, cwd=cwd, stdin=subprocess.DEVNULL
        )
    except subprocess.TimeoutExpired as exc:
        out = (exc.stdout or b"")[-4000:]
        pytest.fail(f"timed out after {timeout}s: {shlex.join(cmd)}\n{out!r}")


def describe(proc) -> str:
    return f"exit {proc.returncode}\n--- stdout ---\n{proc.stdout[-6000:]}\n--- stderr ---\n{proc.stderr[-6000:]}"


# ---------------------------------------------------------------------------
# the interpreter itself


def test_platform_is_emscripten():
    require_toolchain()
    proc = python_node("-c", "import sys; print(sys.platform)")
    assert proc.returncode == 0, describe(proc)
    assert proc.stdout.strip() == "emscripten"


def test_stdlib_modules_work():
    require_toolchain()
    code = textwrap.dedent(
        r"""
        import sys, asyncio, json, zlib, bz2, re, datetime, decimal, hashlib
        data = b"xaccel " * 1000
        out = {
            "platform": sys.platform,
            "version": list(sys.version_info[:3]),
            "zlib": zlib.decompress(zlib.compress(data, 9)) == data and len(zlib.compress(data)) < 100,
            "zlib_crc": zlib.crc32(b"hello"),
            "bz2": bz2.decompress(bz2.compress(data)) == data,
            "json": json.loads(json.dumps({"a": [1, 2.5, None, "\u00e9"]})),
            "re": re.fullmatch(r"(\w+)-(\d+)", "wasm-32").groups(),
            "date": (datetime.date(2024, 2, 28) + datetime.timedelta(days=2)).isoformat(),
            "decimal": str(decimal.Decimal("0.1") + decimal.Decimal("0.2")),
            "sha256": hashlib.sha256(b"abc").hexdigest(),
            "asyncio_future": asyncio.Future.__module__,
        }
        print(json.dumps(out))
        """
    )
    proc = python_node("-c", code)
    assert proc.returncode == 0, describe(proc)
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["platform"] == "emscripten"
    assert out["version"][:2] == [3, 11]
    assert out["zlib"] is True
    assert out["zlib_crc"] == 907060870
    assert out["bz2"] is True
    assert out["json"] == {"a": [1, 2.5, None, "\u00e9"]}
    assert out["re"] == ["wasm", "32"]
    assert out["date"] == "2024-03-01"
    assert out["decimal"] == "0.3"
    assert out["sha256"] == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert out["asyncio_future"] == "_asyncio"  # the C accelerator module is built in


def test_asyncio_event_loop_without_self_pipe():
    """asyncio on Emscripten: the default loop needs socket.socketpair() (its self-pipe),
    which the wasm build cannot provide; a SelectorEventLoop without the self-pipe (what
    the kernel's own loop does) runs coroutines, timers and tasks."""
    require_toolchain()
    code = textwrap.dedent(
        """
        import asyncio
        class NoSelfPipeLoop(asyncio.SelectorEventLoop):
            def _make_self_pipe(self):
                self._ssock = self._csock = None
            def _close_self_pipe(self):
                pass
            def _write_to_self(self):
                pass
        async def main():
            await asyncio.sleep(0.01)
            t = asyncio.ensure_future(asyncio.sleep(0, result=41))
            fut = asyncio.get_running_loop().create_future()
            asyncio.get_running_loop().call_later(0.01, fut.set_result, 1)
            return await t + await fut
        with asyncio.Runner(loop_factory=NoSelfPipeLoop) as runner:
            print("result", runner.run(main()))
        """
    )
    proc = python_node("-c", code)
    assert proc.returncode == 0, describe(proc)
    assert "result 42" in proc.stdout


def test_asyncio_default_loop_fails_cleanly():
    """With `ws` on NODE_PATH (lite/node_modules), the default loop's socketpair() raises
    OSError instead of aborting node with "Cannot find module 'ws'"."""
    require_toolchain()
    code = textwrap.dedent(
        """
        import asyncio
        try:
            asyncio.new_event_loop()
        except OSError as exc:
            print("OSError", exc.errno)
        else:
            print("default loop created")
        """
    )
    proc = python_node("-c", code)
    assert proc.returncode == 0, describe(proc)
    assert "Cannot find module" not in proc.stderr
    assert proc.stdout.startswith(("OSError", "default loop created")), describe(proc)


def test_sqlite3_in_memory():
    require_toolchain()
    code = (
        "import sqlite3; c = sqlite3.connect(':memory:'); c.execute('create table t(x)'); "
        "c.executemany('insert into t values (?)', [(1,), (2,)]); "
        "print(c.execute('select sum(x) from t').fetchone()[0], sqlite3.sqlite_version)"
    )
    proc = python_node("-c", code)
    assert proc.returncode == 0, describe(proc)
    total, version = proc.stdout.split()
    assert total == "3" and version.startswith("3.")


def test_exit_status_is_pythons():
    require_toolchain()
    assert python_node("-c", "raise SystemExit(7)").returncode == 7
    proc = python_node("-c", "1/0")
    assert proc.returncode == 1 and "ZeroDivisionError" in proc.stderr


def test_file_with_args_and_module(tmp_path):
    require_toolchain()
    script = tmp_path / "prog.py"
    script.write_text("import sys, os\nprint(sys.argv[1:], os.path.basename(os.getcwd()))\n")
    proc = python_node(str(script), "a", "b c", cwd=tmp_path)
    assert proc.returncode == 0, describe(proc)
    assert proc.stdout.strip() == f"['a', 'b c'] {tmp_path.name}"
    # relative path from the current directory, host file system visible (NODERAWFS)
    proc = python_node("prog.py", "x", cwd=tmp_path)
    assert proc.stdout.strip() == f"['x'] {tmp_path.name}", describe(proc)
    proc = python_node("-m", "json.tool", "--compact", str(tmp_path / "missing.json"))
    assert proc.returncode != 0
    (tmp_path / "d.json").write_text('{"k": [1, 2]}')
    proc = python_node("-m", "json.tool", "--compact", str(tmp_path / "d.json"))
    assert proc.returncode == 0 and proc.stdout.strip() == '{"k":[1,2]}', describe(proc)
    proc = python_node("-m", "unittest", "test.test_json.test_default", cwd=tmp_path)
    assert proc.returncode == 0 and re.search(r"^OK$", proc.stderr, re.M), describe(proc)


# ---------------------------------------------------------------------------
# CPython's own test modules on the wasm build


def _assert_regrtest_passed(proc, name: str):
    assert proc.returncode == 0, describe(proc)
    assert "Tests result: SUCCESS" in proc.stdout, describe(proc)
    # a module skipped as a whole also ends in SUCCESS: require that it really ran
    assert "1 test OK." in proc.stdout and "test skipped" not in proc.stdout, describe(proc)
    ran = re.findall(r"^Ran (\d+) tests? in", proc.stdout, re.M)
    assert ran and int(ran[-1]) > 0, describe(proc)
    assert re.search(r"^OK( \(.*\))?$", proc.stdout, re.M), describe(proc)


@pytest.mark.timeout(TEST_MODULE_TIMEOUT + 60)
@pytest.mark.parametrize("name", ["test_json", "test_re", "test_zlib", "test_time"])
def test_cpython_test_module(name, tmp_path):
    require_toolchain()
    proc = python_node("-m", "test", name, "-v", timeout=TEST_MODULE_TIMEOUT, cwd=tmp_path)
    _assert_regrtest_passed(proc, name)


@pytest.mark.timeout(TEST_MODULE_TIMEOUT + 60)
def test_cpython_test_asyncio_futures(tmp_path):
    """test_asyncio.test_futures, run by tests/lite/wasm_asyncio_tests.py (see there why)."""
    require_toolchain()
    runner = HERE / "wasm_asyncio_tests.py"
    proc = python_node(str(runner), "test_asyncio.test_futures", timeout=TEST_MODULE_TIMEOUT, cwd=tmp_path)
    _assert_regrtest_passed(proc, "test_asyncio.test_futures")
    m = re.search(r"^Ran (\d+) tests", proc.stdout, re.M)
    assert m and int(m.group(1)) >= 140, describe(proc)  # 143 of 155: see the runner
