"""Shutdown is prompt whatever the kernel runs, and a kernel whose client died
stops its running cell and exits."""

import os
import sqlite3
import subprocess
import sys
import time
import uuid

import psutil
import pytest
from jupyter_client import BlockingKernelClient
from jupyter_client.connect import write_connection_file

from kernel_harness import KERNEL_NAME, execute, require_kernelspec, wait_until_running

RUNNING = {
    "awaited sleep": "import asyncio\nawait asyncio.sleep(100)",
    "busy loop": "while True:\n    pass",
    # Blocked in a system call: no bytecode runs until it is interrupted.
    "synchronous sleep": "import time\ntime.sleep(100)",
}


def launch(tmp_path):
    spec = require_kernelspec()
    path = str(tmp_path / "kernel.json")
    write_connection_file(path, ip="127.0.0.1", key=uuid.uuid4().hex.encode())
    env = dict(os.environ, IPYTHONDIR=str(tmp_path / "ipython"))
    argv = [a.replace("{connection_file}", path) for a in spec.argv]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, start_new_session=True)
    kc = BlockingKernelClient(connection_file=path)
    kc.load_connection_file()
    kc.start_channels()
    return proc, kc


@pytest.mark.parametrize("code", RUNNING.values(), ids=RUNNING.keys())
def test_shutdown_during_a_running_cell_is_prompt(tmp_path, code):
    proc, kc = launch(tmp_path)
    try:
        kc.wait_for_ready(timeout=30)
        assert execute(kc, "marker = 'saved-before-shutdown'")[0]["status"] == "ok"
        wait_until_running(kc, kc.execute(code))
        time.sleep(0.3)
        sent = time.monotonic()
        kc.shutdown()
        reply = kc.get_control_msg(timeout=5)
        replied = time.monotonic() - sent
        assert reply["msg_type"] == "shutdown_reply"
        proc.wait(timeout=10)
        exited = time.monotonic() - sent
    finally:
        kc.stop_channels()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    err = proc.stderr.read().decode()
    # Bounds for a loaded machine; the cell alone would run for 100 s.
    assert replied < 5 and exited < 10, (replied, exited)
    assert proc.returncode == 0, err[-2000:]
    # History was written at exit.
    db = tmp_path / "ipython" / "profile_default" / "history.sqlite"
    with sqlite3.connect(db) as conn:
        sources = [row[0] for row in conn.execute("SELECT source_raw FROM history")]
    assert "marker = 'saved-before-shutdown'" in sources
    assert code in sources


PARENT = """
import sys, time
from jupyter_client import KernelManager
km = KernelManager(kernel_name={kernel!r})
km.start_kernel()
kc = km.client(); kc.start_channels(); kc.wait_for_ready(timeout=30)
msg_id = kc.execute({code!r})
while True:
    msg = kc.get_iopub_msg(timeout=30)
    if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "execute_input":
        break
print(km.provisioner.process.pid, flush=True)
time.sleep(100)
"""


def gone(pid):
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


@pytest.mark.parametrize("code", RUNNING.values(), ids=RUNNING.keys())
def test_kernel_stops_its_cell_and_exits_when_its_parent_dies(tmp_path, code):
    require_kernelspec()
    script = tmp_path / "parent.py"
    script.write_text(PARENT.format(kernel=KERNEL_NAME, code=code))
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    kernel_pid = None
    try:
        kernel_pid = int(parent.stdout.readline())
        time.sleep(0.3)
        parent.kill()
        parent.wait()
        killed = time.monotonic()
        while not gone(kernel_pid) and time.monotonic() - killed < 10:
            time.sleep(0.05)
        assert gone(kernel_pid), "the kernel outlived its parent by 10 s (its cell runs for 100 s)"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        if kernel_pid is not None and not gone(kernel_pid):
            os.kill(kernel_pid, 9)
