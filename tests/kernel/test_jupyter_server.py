"""JupyterLab and Notebook 7 servers list and run the xaccel kernel (REST + websocket)."""

import json
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
from tornado import ioloop, websocket

from kernel_harness import KERNEL_NAME, require_kernelspec

ROOT = Path(__file__).resolve().parents[2]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url, token, method="GET", body=None):
    req = urllib.request.Request(url, method=method, data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Authorization": f"token {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read() or b"null")


async def _execute_over_websocket(ws_url, token, code):
    conn = await websocket.websocket_connect(
        websocket.httpclient.HTTPRequest(ws_url, headers={"Authorization": f"token {token}"}))
    msg_id = uuid.uuid4().hex
    conn.write_message(json.dumps({
        "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": "test", "session": uuid.uuid4().hex,
                   "date": "", "version": "5.3"},
        "parent_header": {}, "metadata": {}, "channel": "shell",
        "content": {"code": code, "silent": False, "store_history": True, "user_expressions": {},
                    "allow_stdin": False, "stop_on_error": True},
    }))
    result = None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        raw = await conn.read_message()
        msg = json.loads(raw)
        if msg.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "execute_result":
            result = msg["content"]["data"]["text/plain"]
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
    conn.close()
    return result


@pytest.mark.parametrize("app", ["lab", "notebook"])
def test_server_runs_the_kernel(app, tmp_path):
    require_kernelspec()
    port, token = _free_port(), uuid.uuid4().hex
    server = subprocess.Popen(
        [str(Path(sys.prefix) / "bin" / "jupyter"), app, "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={ROOT / 'notebooks'}", "--allow-root"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=tmp_path)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                specs = _get(f"{base}/api/kernelspecs", token)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.2)
        assert KERNEL_NAME in specs["kernelspecs"]
        kernel = _get(f"{base}/api/kernels", token, "POST", {"name": KERNEL_NAME})
        ws_url = f"ws://127.0.0.1:{port}/api/kernels/{kernel['id']}/channels"
        result = ioloop.IOLoop.current().run_sync(lambda: _execute_over_websocket(ws_url, token, "import asyncio\nawait asyncio.sleep(0.01)\n6 * 7"), timeout=90)
        assert result == "42"
        _get(f"{base}/api/kernels/{kernel['id']}", token, "DELETE")
    finally:
        server.terminate()
        server.wait(timeout=30)
