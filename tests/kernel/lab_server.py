"""JupyterLab from the venv for the headless-Chromium tests of tests/kernel: the tools
those tests need, a Lab server on 127.0.0.1 and a free port, and the node driver run."""

import contextlib
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

import pytest

from kernel_harness import ROOT

CHROMIUM = Path(os.environ.get("XACCEL_CHROMIUM", "/usr/bin/chromium"))
NODE_MODULES = ROOT / "lite" / "tests" / "node_modules"

# JupyterLab settings that keep it from asking about news or updates.
QUIET_SETTINGS = {"@jupyterlab/apputils-extension/notification.jupyterlab-settings":
                  {"fetchNews": "false", "checkForUpdates": False}}


def require_browser_tools(what):
    """Fails the test, naming what is missing, unless chromium, node and playwright-core are there."""
    missing = []
    if not CHROMIUM.exists():
        missing.append(f"{CHROMIUM} (apt-get install chromium)")
    if shutil.which("node") is None:
        missing.append("node (apt-get install nodejs)")
    if not (NODE_MODULES / "playwright-core" / "package.json").is_file():
        missing.append("npm package playwright-core (npm ci --prefix lite/tests)")
    if missing:
        pytest.fail(f"{what} needs: " + "; ".join(missing), pytrace=False)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def jupyter_lab(root, state):
    """JupyterLab serving `root`, with its settings, workspaces and log under `state`;
    yields (base URL ending in '/', token, log path)."""
    for name, values in QUIET_SETTINGS.items():
        path = Path(state) / "settings" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    port, token = _free_port(), uuid.uuid4().hex
    log_path = Path(state) / "server.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen(
            [str(Path(sys.prefix) / "bin" / "jupyter"), "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
             f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}", "--allow-root",
             "--LabApp.expose_app_in_browser=True", f"--LabApp.user_settings_dir={Path(state) / 'settings'}",
             f"--LabApp.workspaces_dir={Path(state) / 'workspaces'}",
             "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
            stdout=log, stderr=subprocess.STDOUT, cwd=root)
        base = f"http://127.0.0.1:{port}/"
        try:
            deadline = time.monotonic() + 90
            while True:
                try:
                    urllib.request.urlopen(f"{base}api/status?token={token}", timeout=10).read()
                    break
                except OSError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        pytest.fail(f"JupyterLab did not start:\n{log_path.read_text()[-3000:]}")
                    time.sleep(0.2)
            yield base, token, log_path
        finally:
            server.terminate()
            try:
                server.wait(20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(10)


def run_driver(script, *args, timeout):
    """Runs a node driver (playwright-core from lite/tests); returns the JSON object it printed last."""
    env = dict(os.environ, NODE_PATH=str(NODE_MODULES))
    proc = subprocess.run(["node", str(script), *args], capture_output=True, text=True, timeout=timeout, env=env)
    if proc.returncode == 2:
        pytest.fail(proc.stderr.strip(), pytrace=False)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if not lines:
        pytest.fail(f"{Path(script).name} printed no result (exit {proc.returncode}):\n{proc.stdout[-2000:]}\n"
                    f"{proc.stderr[-2000:]}")
    return json.loads(lines[-1])
