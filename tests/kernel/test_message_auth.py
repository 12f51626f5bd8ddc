"""Signatures are checked whole, replays are refused, and two clients sharing
one ZeroMQ identity: the newest connection gets the replies."""

import json
import time

import pytest
import zmq

from hostile_frames import frames, replies_to, wait_for_log
from kernel_harness import execute


def _appending_cell(kc, path):
    content = json.dumps({"code": f"open({str(path)!r}, 'a').write('x')", "silent": False,
                          "store_history": False, "allow_stdin": False, "stop_on_error": True,
                          "user_expressions": {}})
    return frames(kc.session, "execute_request", content=content)


def test_replayed_message_runs_once(logged_kernel, tmp_path):
    km, kc, log = logged_kernel
    target = tmp_path / "runs.txt"
    parts, msg_id = _appending_cell(kc, target)
    for _ in range(3):
        kc.shell_channel.socket.send_multipart(parts)
    assert replies_to(kc, msg_id, timeout=30), "the first copy got no reply"
    assert "replayed message" in wait_for_log(log, "replayed message")
    reply, _ = execute(kc, "'after'")
    assert reply["status"] == "ok"
    assert target.read_text() == "x"
    assert wait_for_log(log, "replayed message").count("replayed message") == 2


@pytest.mark.parametrize("tamper", [lambda s: s + b"00", lambda s: s[:-2], lambda s: s[:10], lambda s: b""],
                         ids=["appended", "truncated", "prefix", "empty"])
def test_signature_must_match_whole(logged_kernel, tmp_path, tamper):
    km, kc, log = logged_kernel
    target = tmp_path / "runs.txt"
    parts, msg_id = _appending_cell(kc, target)
    parts[1] = tamper(parts[1])
    kc.shell_channel.socket.send_multipart(parts)
    assert "invalid signature" in wait_for_log(log, "invalid signature")
    reply, _ = execute(kc, "'after'")
    assert reply["status"] == "ok"
    assert not target.exists()


def test_two_clients_with_one_identity_newest_gets_replies(logged_kernel):
    km, kc, log = logged_kernel
    info = km.get_connection_info()
    endpoint = f"tcp://{info['ip']}:{info['shell_port']}"
    context = zmq.Context()
    sockets = []
    try:
        for attempt in range(2):
            socket = context.socket(zmq.DEALER)
            socket.setsockopt(zmq.IDENTITY, b"shared-identity")
            socket.setsockopt(zmq.LINGER, 0)
            socket.connect(endpoint)
            sockets.append(socket)
            parts, msg_id = frames(kc.session, "kernel_info_request")
            # The connection handshake may still run: resend until answered.
            deadline = time.monotonic() + 30
            answered = False
            while not answered and time.monotonic() < deadline:
                socket.send_multipart(parts)
                if socket.poll(1000):
                    reply = kc.session.deserialize(kc.session.feed_identities(socket.recv_multipart())[1])
                    answered = reply["parent_header"]["msg_id"] == msg_id
                parts, msg_id = frames(kc.session, "kernel_info_request")
            assert answered, f"connection {attempt + 1} with the shared identity got no reply"
    finally:
        for socket in sockets:
            socket.close()
        context.term()
