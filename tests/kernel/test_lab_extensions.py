"""JupyterLab served from the project venv loads every labextension it announces.

Site-building tools (jupyterlite-xeus, ...) installed in the runtime venv used to add a
labextension whose remoteEntry Lab could not serve: a 404 on every page load. The page's
federated extension list is what the browser loads; each entry must be served (200)
and the server must log no 404 for an extension asset.
"""

import html
import json
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _fetch(url, token):
    req = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, b""


def test_lab_page_loads_every_announced_extension(tmp_path):
    port, token = _free_port(), uuid.uuid4().hex
    log = tmp_path / "server.log"
    with open(log, "wb") as logf:
        server = subprocess.Popen(
            [str(Path(sys.prefix) / "bin" / "jupyter"), "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
             f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={ROOT / 'notebooks'}", "--allow-root"],
            stdout=logf, stderr=subprocess.STDOUT, cwd=tmp_path)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, page = _fetch(f"{base}/lab", token)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise AssertionError(f"jupyter lab did not answer:\n{log.read_text()[-3000:]}")
                time.sleep(0.2)
        assert status == 200
        m = re.search(rb'<script id="jupyter-config-data" type="application/json">(.*?)</script>', page, re.S)
        assert m, "no jupyter-config-data in the Lab page"
        config = json.loads(html.unescape(m.group(1).decode()))
        extensions = config["federated_extensions"]
        names = [e["name"] for e in extensions]
        assert "@jupyter-widgets/jupyterlab-manager" in names, names  # ipywidgets: a runtime need
        assert not [n for n in names if n.startswith("@jupyterlite/")], names  # site-building tools
        for ext in extensions:
            url = f"{base}/lab/extensions/{ext['name']}/{ext['load']}"
            status, body = _fetch(url, token)
            assert status == 200 and body, f"{url}: HTTP {status}"
    finally:
        server.terminate()
        server.wait(15)
    not_found = [l for l in log.read_text().splitlines() if " 404 " in l and "/extensions/" in l]
    assert not not_found, "\n".join(not_found)
