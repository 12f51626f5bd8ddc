"""The shipped stub accel.pyi is checked by mypy: against a sample program
(which must type-check, while a wrong use must not) and against the runtime
module with stubtest (names and signatures agree)."""
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

STUBS = Path(__file__).resolve().parents[2] / "accel" / "python" / "stubs"


def mypy(*args, tmp_path):
    try:
        import mypy  # noqa: F401
    except ImportError:
        pytest.fail("mypy is not installed in this venv (it is pinned in requirements.txt: run ./dev setup)")
    env = dict(os.environ, MYPYPATH=str(STUBS))
    if os.environ.get("ACCEL_BUILD_DIR"):
        env["PYTHONPATH"] = os.path.abspath(os.environ["ACCEL_BUILD_DIR"])
    env["MYPY_CACHE_DIR"] = str(tmp_path / "cache")
    return subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, timeout=300, env=env,
                          cwd=tmp_path)


GOOD = """
import asyncio
import accel

async def main() -> None:
    await accel.sleep(0.1)
    s: str = await accel.sleep(0.1, "x")
    digest: str = await accel.sha256(b"abc")
    data: bytes = await accel.read_file("/etc/hostname", max_size=1 << 20)
    written: int = await accel.write_file("/tmp/x", "text")
    r: accel.Response = await accel.fetch("http://127.0.0.1/", headers={"a": "b"}, timeout=None)
    ok: bool = r.ok
    ch: accel.Channel[int] = accel.Channel(4)
    await ch.send(1)
    i: int = await ch.recv()
    async for t in accel.ticker(0.1):
        tick: int = t
    h = accel.spawn(lambda: 42)
    v: int = await h
    res = await accel.timeout(accel.sleep(1, 3), 2.0)
    three: int = res
    aw = accel.sleep(1)
    done, pending = await asyncio.wait([aw])
    fut: asyncio.Future[None] = asyncio.ensure_future(aw)
    aw.add_done_callback(lambda f: None)
    accel.configure(worker_threads=2)
"""

BAD = """
import accel

async def main() -> None:
    s: str = await accel.sha256(b"abc", level=3)
    n: int = await accel.read_file("/x")
"""


def test_stub_types_a_sample_program(tmp_path):
    (tmp_path / "good.py").write_text(textwrap.dedent(GOOD))
    r = mypy("mypy", "--strict", "good.py", tmp_path=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    (tmp_path / "bad.py").write_text(textwrap.dedent(BAD))
    r = mypy("mypy", "--strict", "bad.py", tmp_path=tmp_path)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "level" in r.stdout and "bytes" in r.stdout, r.stdout


def test_stub_matches_the_runtime_module(tmp_path):
    allow = tmp_path / "allow.txt"
    # Response is a pybind11 class (its metaclass is pybind11's); its members
    # are still checked. __init__ of the C types is a slot wrapper.
    allow.write_text("accel.Response\naccel.Channel.__init__\naccel.Response.__init__\n")
    r = mypy("mypy.stubtest", "accel", "--allowlist", str(allow), tmp_path=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
