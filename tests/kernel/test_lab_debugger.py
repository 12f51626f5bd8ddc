"""JupyterLab's visual debugger on xaccel, in headless Chromium.

JupyterLab from the venv serves a notebook on the xaccel kernel;
lab_debugger_test.js (playwright-core driving Debian's chromium) enables the
debugger, clicks the gutter to set a breakpoint, runs the cell, reads the
Callstack and Variables panels, presses Continue and waits for the output.
Missing chromium, node or playwright-core make the test FAIL naming it.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import nbformat
import pytest

from kernel_harness import KERNEL_NAME, ROOT, require_kernelspec

SCRIPT = Path(__file__).with_name("lab_debugger_test.js")
CHROMIUM = Path(os.environ.get("XACCEL_CHROMIUM", "/usr/bin/chromium"))
PLAYWRIGHT = ROOT / "lite" / "tests" / "node_modules" / "playwright-core" / "package.json"
CELL = "a = 1\nb = [a, 'two', {'three': 3}]\nc = a + 1\nprint('finished', c)"


def _missing():
    missing = []
    if not CHROMIUM.exists():
        missing.append(f"{CHROMIUM} (apt-get install chromium)")
    if shutil.which("node") is None:
        missing.append("node (apt-get install nodejs)")
    if not PLAYWRIGHT.is_file():
        missing.append("npm package playwright-core (npm ci --prefix lite/tests)")
    return missing


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def lab(tmp_path):
    require_kernelspec()
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": KERNEL_NAME, "display_name": "xaccel", "language": "python"}
    nb.cells.append(nbformat.v4.new_code_cell(CELL))
    nbformat.write(nb, tmp_path / "debug.ipynb")
    port, token = _free_port(), uuid.uuid4().hex
    server = subprocess.Popen(
        [str(Path(sys.prefix) / "bin" / "jupyter"), "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={tmp_path}", "--allow-root",
         "--LabApp.expose_app_in_browser=True", "--LabApp.news_url=", "--LabApp.check_for_updates_class="
         "jupyterlab.NeverCheckForUpdate"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5).read()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail("jupyter lab did not start")
                time.sleep(0.3)
        yield f"{base}/lab/tree/debug.ipynb?token={token}"
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.timeout(300)
def test_breakpoint_callstack_variables_continue_in_jupyterlab(lab):
    missing = _missing()
    if missing:
        pytest.fail("the JupyterLab debugger test needs: " + "; ".join(missing))
    proc = subprocess.run(["node", str(SCRIPT), lab], capture_output=True, text=True, timeout=240)
    if proc.returncode == 2:
        pytest.fail(proc.stderr.strip())
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    assert lines, f"no result (exit {proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
    result = json.loads(lines[-1])
    print(f"\nJupyterLab debugger session: {result}")
    assert not result.get("fatal"), f"steps done: {result['steps']}\n{result['fatal']}\nDOM: {result.get('dom')}"
    # Callstack: the cell's module frame, in the cell's file, stopped on line 3.
    [frame] = [f for f in result["callstack"] if "<module>" in f]
    assert frame.rstrip().endswith(".py:3"), frame
    # Variables (tree view): the globals set by lines 1-2 with value or type;
    # c (line 3) is not assigned yet.
    words = result["variables"].split()
    assert words[words.index("a") + 1] == "1", words
    assert words[words.index("b") + 1] == "list", words
    assert "c" not in words
    assert "finished 2" in result["output"]
