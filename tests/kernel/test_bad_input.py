"""Bad input gets a clear error or is ignored, and the kernel stays alive."""

import json

from jupyter_client.session import Session

from hostile_frames import wait_for_log
from kernel_harness import execute


def _alive(kc):
    reply, outputs = execute(kc, "'alive'")
    return reply["status"] == "ok"


def test_wrong_signature_is_ignored_and_logged(logged_kernel, tmp_path):
    km, kc, log = logged_kernel
    marker = tmp_path / "should-not-exist"
    forger = Session(key=b"not-the-key", signature_scheme="hmac-sha256")
    forger.send(kc.shell_channel.socket, "execute_request",
                {"code": f"open({str(marker)!r}, 'w').write('ran')", "silent": False})
    assert "rejected a message on shell" in wait_for_log(log, "rejected a message")
    assert _alive(kc)
    assert not marker.exists()


def test_frames_that_are_not_json(logged_kernel):
    km, kc, log = logged_kernel
    session = kc.session
    parts = [b"{not json", b"{}", b"{}", b"{}"]
    signature = session.sign(parts).encode() if hasattr(session.sign(parts), "encode") else session.sign(parts)
    kc.shell_channel.socket.send_multipart([b"<IDS|MSG>", signature, *parts])
    assert "rejected a message on shell" in wait_for_log(log, "rejected a message")
    assert _alive(kc)


def test_too_few_frames(logged_kernel):
    km, kc, log = logged_kernel
    kc.shell_channel.socket.send_multipart([b"<IDS|MSG>", b"abc"])
    assert "rejected a message on shell" in wait_for_log(log, "rejected a message")
    assert _alive(kc)


def test_header_without_msg_type(logged_kernel):
    km, kc, log = logged_kernel
    session = kc.session
    parts = [json.dumps({"msg_id": "x1"}).encode(), b"{}", b"{}", b'{"code": "1"}']
    signature = session.sign(parts)
    kc.shell_channel.socket.send_multipart([b"<IDS|MSG>", signature.encode() if isinstance(signature, str) else signature, *parts])
    assert "header has no string field 'msg_type'" in wait_for_log(log, "msg_type")
    assert _alive(kc)


def test_unknown_message_type(logged_kernel):
    km, kc, log = logged_kernel
    kc.shell_channel.send(kc.session.msg("frobnicate_request", {}))
    assert "unknown message type 'frobnicate_request'" in wait_for_log(log, "frobnicate")
    assert _alive(kc)


def test_execute_request_without_code_gets_an_error_reply(logged_kernel):
    km, kc, log = logged_kernel
    msg = kc.session.msg("execute_request", {"silent": False})
    kc.shell_channel.send(msg)
    reply = kc.get_shell_msg(timeout=10)
    assert reply["parent_header"]["msg_id"] == msg["header"]["msg_id"]
    assert reply["content"]["status"] == "error" and "code" in reply["content"]["evalue"]
    assert _alive(kc)
