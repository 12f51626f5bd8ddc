"""The kernelspec's provisioner (kernel/python/xaccel_kernel/provisioner.py)
listens on the kernel's ports before the kernel exists and hands the sockets
down (kernel/native/inherited_listeners.hpp): a client's first connection
is queued instead of refused and left to ZeroMQ's reconnect back-off."""

import os
import socket
import subprocess
import uuid

import zmq
from jupyter_client import BlockingKernelClient
from jupyter_client.connect import write_connection_file
from jupyter_client.session import Session

from kernel_harness import execute, own_ipython_dir, require_kernelspec, start_kernel, start_manager, stop_kernel, stream_text


def kernel_info_without_retry(km, timeout_s=30):
    """kernel_info through sockets that connect once, right away, and never
    retry (ZMQ_RECONNECT_IVL -1): a refused first connection is never made
    good. Returns (reply, whether a status arrived on iopub)."""
    info = km.get_connection_info()
    session = Session(key=info["key"], signature_scheme=info["signature_scheme"])
    ctx = zmq.Context()
    try:
        sockets = []
        for kind, port in ((zmq.DEALER, info["shell_port"]), (zmq.SUB, info["iopub_port"])):
            sock = ctx.socket(kind)
            sock.setsockopt(zmq.RECONNECT_IVL, -1)
            sock.linger = 0
            if kind == zmq.SUB:
                sock.setsockopt(zmq.SUBSCRIBE, b"")
            sock.connect(f"tcp://127.0.0.1:{port}")
            sockets.append(sock)
        shell, iopub = sockets
        reply = None
        # Statuses published before the SUB's subscription reached the
        # kernel are not its: ask again (as jupyter_client's wait_for_ready
        # does) until one arrives. A refused SUB never gets one.
        for _ in range(30):
            session.send(shell, "kernel_info_request", {})
            if not shell.poll(timeout_s * 1000):
                return None, False
            _, frames = session.feed_identities(shell.recv_multipart())
            reply = session.deserialize(frames)
            while iopub.poll(1000):
                _, frames = session.feed_identities(iopub.recv_multipart())
                if session.deserialize(frames)["msg_type"] == "status":
                    return reply, True
        return reply, False
    finally:
        ctx.destroy(linger=0)


def test_kernelspec_names_the_provisioner():
    spec = require_kernelspec()
    assert spec.metadata["kernel_provisioner"]["provisioner_name"] == "xaccel-provisioner"
    km = start_manager()
    try:
        assert type(km.provisioner).__name__ == "XaccelProvisioner"
    finally:
        km.shutdown_kernel(now=True)


def test_first_connection_is_queued_not_refused():
    # The client connects while the kernel process is still starting: with
    # the listeners handed down the connection waits in their backlog; a
    # kernel binding its ports itself would refuse it, and these sockets
    # never try again.
    km = start_manager()
    try:
        reply, got_status = kernel_info_without_retry(km)
        assert reply is not None, "no kernel_info_reply: the first connection was refused"
        assert reply["msg_type"] == "kernel_info_reply" and reply["content"]["implementation"] == "xaccel"
        assert got_status, "no status on iopub: its first connection was refused"
        # A restart gets the ports handed down again.
        km.restart_kernel(now=True)
        reply, got_status = kernel_info_without_retry(km)
        assert reply is not None and got_status, "after a restart the first connection was refused"
    finally:
        km.shutdown_kernel(now=True)


CHILD_SEES = r"""
import os, subprocess
print(os.environ.get("XACCEL_LISTEN_FDS"))
listing = subprocess.run("ls -l /proc/self/fd", shell=True, close_fds=False, capture_output=True, text=True).stdout
print(sum("socket:" in line for line in listing.splitlines()))
"""


def test_hand_over_does_not_reach_the_kernels_children():
    # The variable is gone from the kernel's environment and the listeners
    # are close-on-exec: a subprocess that inherits every fd gets no socket.
    km, kc = start_kernel()
    try:
        reply, outputs = execute(kc, CHILD_SEES)
        assert reply["status"] == "ok", reply
        assert stream_text(outputs).split() == ["None", "0"]
    finally:
        stop_kernel(km, kc)


def listener(port=0):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(8)
    return sock


def test_bad_hand_over_is_refused_and_the_kernel_binds_itself(tmp_path):
    # A pipe, a listener on another port and a malformed entry are refused
    # by name; the good stdin listener is taken; the kernel works.
    spec = require_kernelspec()
    stdin_listener = listener()
    wrong_port = listener()
    pipe_read, pipe_write = os.pipe()
    path = str(tmp_path / "kernel.json")
    write_connection_file(path, ip="127.0.0.1", key=uuid.uuid4().hex.encode(),
                          stdin_port=stdin_listener.getsockname()[1])
    hand_over = (f"shell:{pipe_read},iopub:{wrong_port.fileno()},control:nope,"
                 f"stdin:{stdin_listener.fileno()}")
    env = dict(os.environ, **spec.env, XACCEL_LISTEN_FDS=hand_over, IPYTHONDIR=own_ipython_dir())
    log = tmp_path / "kernel.log"
    with open(log, "w") as err:
        proc = subprocess.Popen([a.replace("{connection_file}", path) for a in spec.argv], env=env,
                                pass_fds=(pipe_read, wrong_port.fileno(), stdin_listener.fileno()),
                                stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)
    stdin_listener.close()
    wrong_port.close()
    kc = BlockingKernelClient(connection_file=path)
    kc.load_connection_file()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=30)
        fds = set(os.listdir(f"/proc/{proc.pid}/fd"))
        assert str(pipe_read) in fds, "the kernel closed a pipe it was wrongly handed"
        assert str(wrong_port.fileno()) not in fds, "the kernel kept a listener on the wrong port"
        reply, outputs = execute(kc, "print(6 * 7)")
        assert reply["status"] == "ok" and stream_text(outputs) == "42\n"
        refused = [line for line in log.read_text().splitlines() if "XACCEL_LISTEN_FDS" in line]
        assert len(refused) == 3, refused
        assert "shell:" in refused[0] and "not a socket" in refused[0]
        assert "iopub:" in refused[1] and "the connection file says" in refused[1]
        assert "control:nope" in refused[2]
    finally:
        kc.shutdown()
        kc.stop_channels()
        try:
            proc.wait(timeout=10)
        finally:
            if proc.poll() is None:
                proc.kill()
        os.close(pipe_read)
        os.close(pipe_write)
