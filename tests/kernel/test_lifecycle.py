"""Start, shutdown and restart: clean exits, no crash, no orphan."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid

import psutil
import zmq
from jupyter_client import BlockingKernelClient
from jupyter_client.connect import write_connection_file
from jupyter_client.session import Session

from kernel_harness import KERNEL_NAME, execute, require_kernelspec


def _launch(tmp_path, name="k"):
    spec = require_kernelspec()
    path = str(tmp_path / f"{name}.json")
    write_connection_file(path, ip="127.0.0.1", key=uuid.uuid4().hex.encode())
    argv = [a.replace("{connection_file}", path) for a in spec.argv]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    return proc, path


def test_50_start_shutdown_cycles_exit_cleanly(tmp_path):
    for cycle in range(50):
        proc, path = _launch(tmp_path, f"cycle{cycle}")
        kc = BlockingKernelClient(connection_file=path)
        kc.load_connection_file()
        kc.start_channels()
        try:
            kc.wait_for_ready(timeout=30)
            if cycle % 5 == 0:
                assert execute(kc, "x = 1")[0]["status"] == "ok"
            # jupyter_client signals the process group before a shutdown.
            os.killpg(proc.pid, signal.SIGINT)
            kc.shutdown()
            reply = kc.get_control_msg(timeout=10)
            assert reply["msg_type"] == "shutdown_reply"
            _, err = proc.communicate(timeout=15)
        finally:
            kc.stop_channels()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        assert proc.returncode == 0, f"cycle {cycle}: exit status {proc.returncode}\n{err.decode()[-2000:]}"
        assert not psutil.pid_exists(proc.pid) or psutil.Process(proc.pid).status() == psutil.STATUS_ZOMBIE


def test_restart_gives_a_fresh_working_kernel(kernel):
    km, kc = kernel
    execute(kc, "before_restart = 1")
    old_pid = km.provisioner.process.pid
    km.restart_kernel(now=False)
    kc.wait_for_ready(timeout=30)
    assert km.provisioner.process.pid != old_pid
    assert not psutil.pid_exists(old_pid) or psutil.Process(old_pid).status() == psutil.STATUS_ZOMBIE
    reply, _ = execute(kc, "before_restart")
    assert reply["status"] == "error" and reply["ename"] == "NameError"


def test_starting_status_is_published(tmp_path):
    path = str(tmp_path / "starting.json")
    _, info = write_connection_file(path, ip="127.0.0.1")
    ctx = zmq.Context.instance()
    sub = ctx.socket(zmq.SUB)
    sub.setsockopt(zmq.SUBSCRIBE, b"")
    sub.setsockopt(zmq.RECONNECT_IVL, 5)
    sub.connect(f"tcp://127.0.0.1:{info['iopub_port']}")  # before the kernel binds
    spec = require_kernelspec()
    proc = subprocess.Popen([a.replace("{connection_file}", path) for a in spec.argv],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        session = Session(key=info["key"].encode(), signature_scheme=info["signature_scheme"])
        assert sub.poll(15000), "nothing published on iopub"
        _, frames = session.feed_identities(sub.recv_multipart())
        msg = session.deserialize(frames)
        assert msg["msg_type"] == "status" and msg["content"]["execution_state"] == "starting"
    finally:
        proc.kill()
        proc.wait()
        sub.close(0)


def test_kernel_exits_when_its_parent_dies(tmp_path):
    """A client that crashes (SIGKILL) must not leave an orphan kernel."""
    require_kernelspec()
    script = tmp_path / "parent.py"
    script.write_text(
        "import sys, time\n"
        "from jupyter_client import KernelManager\n"
        f"km = KernelManager(kernel_name={KERNEL_NAME!r})\n"
        "km.start_kernel()\n"
        "kc = km.client(); kc.start_channels(); kc.wait_for_ready(timeout=30)\n"
        "print(km.provisioner.process.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        kernel_pid = int(parent.stdout.readline())
        parent.kill()
        parent.wait()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and psutil.pid_exists(kernel_pid):
            try:
                if psutil.Process(kernel_pid).status() == psutil.STATUS_ZOMBIE:
                    break
            except psutil.NoSuchProcess:
                break
            time.sleep(0.05)
        alive = psutil.pid_exists(kernel_pid) and psutil.Process(kernel_pid).status() != psutil.STATUS_ZOMBIE
        if alive:
            os.kill(kernel_pid, signal.SIGKILL)
        assert not alive, "the kernel outlived its parent by 5 s"
    finally:
        if parent.poll() is None:
            parent.kill()


def test_missing_or_bad_connection_file_is_a_clear_error(tmp_path):
    binary = require_kernelspec().argv[0]
    missing = subprocess.run([binary, "-f", str(tmp_path / "nope.json")], capture_output=True, text=True, timeout=30)
    assert missing.returncode == 2 and "cannot read connection file" in missing.stderr
    bad = tmp_path / "bad.json"
    bad.write_text("{ not json")
    broken = subprocess.run([binary, "-f", str(bad)], capture_output=True, text=True, timeout=30)
    assert broken.returncode == 2 and "cannot read connection file" in broken.stderr
    usage = subprocess.run([binary], capture_output=True, text=True, timeout=30)
    assert usage.returncode == 2 and "usage: xaccel -f CONNECTION_FILE" in usage.stdout


def test_a_port_in_use_is_a_clear_error(tmp_path):
    binary = require_kernelspec().argv[0]
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        path = tmp_path / "taken.json"
        write_connection_file(str(path), ip="127.0.0.1", key=b"k", hb_port=port)
        result = subprocess.run([binary, "-f", str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1, result.stderr
    assert "cannot listen on tcp://127.0.0.1 (shell " in result.stderr
    assert f"heartbeat {port}): Address already in use" in result.stderr
