"""Signed messages built to hurt the kernel: JSON nested 100,000 levels deep
anywhere in a message. Each is rejected before any parser sees it (logged;
an error reply when the header can be trusted) and the kernel answers the
next request."""

import pytest

from hostile_frames import DEEP_SLOT, frames, header_with, json_with_deep, nested, replies_to, wait_for_log
from kernel_harness import execute

DEEP = 100_000


def _answers_next_request(km, kc):
    assert km.is_alive(), "the kernel process died"
    msg_id = kc.kernel_info()
    replies = replies_to(kc, msg_id, timeout=30)
    assert replies, "no reply to the next kernel_info_request"
    assert replies[0]["content"]["status"] == "ok"


def _send(kc, parts, socket=None):
    (socket or kc.shell_channel.socket).send_multipart(parts)


@pytest.mark.parametrize("part", ["metadata", "content", "parent"])
def test_deep_part_of_kernel_info_gets_an_error_reply(logged_kernel, part):
    km, kc, log = logged_kernel
    session = kc.session
    parts, msg_id = frames(session, "kernel_info_request", **{part: nested(DEEP)})
    _send(kc, parts)
    replies = replies_to(kc, msg_id, timeout=30)
    assert replies, "no error reply to a kernel_info_request with deep " + part
    reply = replies[0]
    assert reply["header"]["msg_type"] == "kernel_info_reply"
    assert reply["content"]["status"] == "error"
    assert "nested deeper" in reply["content"]["evalue"]
    assert "rejected a message on shell" in wait_for_log(log, "nested deeper")
    _answers_next_request(km, kc)


def test_deep_header_is_dropped_and_logged(logged_kernel):
    km, kc, log = logged_kernel
    deep_header = header_with(kc.session, "kernel_info_request", "x", nested(DEEP))
    parts, _ = frames(kc.session, "kernel_info_request", header_json=deep_header)
    _send(kc, parts)
    assert "header: JSON nested deeper" in wait_for_log(log, "header: JSON nested deeper")
    _answers_next_request(km, kc)


def test_deep_message_on_control(logged_kernel):
    km, kc, log = logged_kernel
    parts, msg_id = frames(kc.session, "kernel_info_request", content=nested(DEEP))
    _send(kc, parts, kc.control_channel.socket)
    reply = kc.control_channel.get_msg(timeout=30)
    assert reply["parent_header"]["msg_id"] == msg_id
    assert reply["content"]["status"] == "error"
    _answers_next_request(km, kc)


def test_deep_comm_msg_data(logged_kernel):
    km, kc, log = logged_kernel
    content = json_with_deep({"comm_id": "c1", "data": DEEP_SLOT}, DEEP)
    parts, _ = frames(kc.session, "comm_msg", content=content)
    _send(kc, parts)
    assert "content: JSON nested deeper" in wait_for_log(log, "content: JSON nested deeper")
    _answers_next_request(km, kc)


def test_deep_complete_request(logged_kernel):
    km, kc, log = logged_kernel
    content = json_with_deep({"code": "pri", "cursor_pos": 3, "extra": DEEP_SLOT}, DEEP)
    parts, msg_id = frames(kc.session, "complete_request", content=content)
    _send(kc, parts)
    replies = replies_to(kc, msg_id, timeout=30)
    assert replies and replies[0]["header"]["msg_type"] == "complete_reply"
    assert replies[0]["content"]["status"] == "error"
    _answers_next_request(km, kc)


def test_deep_user_expressions_do_not_run_the_code(logged_kernel, tmp_path):
    km, kc, log = logged_kernel
    marker = tmp_path / "ran"
    code = f"open({str(marker)!r}, 'w').write('ran')"
    content = json_with_deep(
        {"code": code, "silent": False, "store_history": True, "allow_stdin": False,
         "stop_on_error": True, "user_expressions": {"x": DEEP_SLOT}},
        DEEP,
    )
    parts, msg_id = frames(kc.session, "execute_request", content=content)
    _send(kc, parts)
    replies = replies_to(kc, msg_id, timeout=30)
    assert replies and replies[0]["header"]["msg_type"] == "execute_reply"
    assert replies[0]["content"]["status"] == "error"
    reply, _ = execute(kc, "1 + 1")
    assert reply["status"] == "ok"
    assert not marker.exists()


def test_moderately_nested_data_is_still_accepted(logged_kernel):
    km, kc, log = logged_kernel
    reply, _ = execute(kc, "pass", user_expressions={"x": "1"})
    assert reply["status"] == "ok"
    parts, msg_id = frames(kc.session, "kernel_info_request", metadata=nested(50))
    _send(kc, parts)
    replies = replies_to(kc, msg_id, timeout=30)
    assert replies and replies[0]["content"]["status"] == "ok"
