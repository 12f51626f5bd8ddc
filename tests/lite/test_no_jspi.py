"""The browser kernel where JavaScript cannot suspend WebAssembly (no JSPI).

node 20 runs the same xaccel.js/.wasm/.data that the site ships, the way the
@jupyterlite/xeus worker does (lite/tests/node_kernel.js), and has no JavaScript
Promise Integration, like Firefox and Safari: the kernel must load and run cells
there, and asyncio.run()/run_until_complete() must fail with an error that says to
use `await`. (Chromium, which has JSPI, is tested in test_browser_notebooks.py.)
"""
from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from site_server import LITE, TESTS_JS

KERNEL_DIR = LITE / "_prefix" / "xaccel" / "bin"

pytestmark = pytest.mark.timeout(300)


def run_cells(*cells):
    if shutil.which("node") is None:
        pytest.fail("node is missing (apt-get install nodejs)")
    if not (KERNEL_DIR / "xaccel.js").is_file():
        pytest.fail(f"no browser kernel in {KERNEL_DIR}: run lite/build")
    proc = subprocess.run(["node", str(TESTS_JS / "node_kernel.js"), str(KERNEL_DIR), *cells],
                          capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0 and "DONE" in proc.stdout, proc.stdout[-2000:] + proc.stderr[-2000:]
    messages = [json.loads(l) for l in proc.stdout.splitlines() if l.startswith("{")]
    return [m for m in messages if m["msg_type"] == "execute_reply"], messages


def test_node_has_no_jspi():
    proc = subprocess.run(["node", "-e", "console.log(typeof WebAssembly.Suspending)"], capture_output=True,
                          text=True, timeout=60)
    assert proc.stdout.strip() == "undefined", "this node has JSPI: the test would not cover browsers without it"


def test_kernel_runs_and_asyncio_run_says_to_await():
    replies, messages = run_cells(
        "import asyncio\nasyncio.run(asyncio.sleep(0, result=1))",
        "asyncio.get_event_loop().run_until_complete(asyncio.sleep(0))",
        "await asyncio.sleep(0.01, result='awaited')",
    )
    statuses = [r["content"]["status"] for r in replies]
    assert statuses == ["error", "error", "ok"], replies
    for reply, what in zip(replies[:2], ["asyncio.run()", "loop.run_until_complete()"]):
        assert reply["content"]["ename"] == "RuntimeError"
        assert reply["content"]["evalue"].startswith(what + " cannot block"), reply["content"]["evalue"]
        assert "Use `await` instead" in reply["content"]["evalue"]
    results = [m["content"]["data"]["text/plain"] for m in messages if m["msg_type"] == "execute_result"]
    assert results == ["'awaited'"]
    # no "coroutine ... was never awaited" warning on stderr
    stderr = "".join(m["content"]["text"] for m in messages if m["msg_type"] == "stream"
                     and m["content"]["name"] == "stderr")
    assert "never awaited" not in stderr, stderr
