"""Hand-built wire messages for the transport tests: deep JSON that Python's
json module could not even produce, replays, tampered signatures."""

import json
import time
import uuid

DELIMITER = b"<IDS|MSG>"


def nested(levels, leaf="1"):
    """`levels` levels of {"a": ...} as JSON text, built without recursion."""
    return '{"a":' * levels + leaf + "}" * levels


DEEP_SLOT = "@@deep@@"


def json_with_deep(obj, levels):
    """json.dumps(obj) with the string DEEP_SLOT replaced by deep JSON."""
    return json.dumps(obj).replace(json.dumps(DEEP_SLOT), nested(levels))


def header(session, msg_type, msg_id=None):
    return {
        "msg_id": msg_id or uuid.uuid4().hex,
        "msg_type": msg_type,
        "session": session.session,
        "username": "test",
        "date": "2026-01-01T00:00:00.000000Z",
        "version": "5.3",
    }


def frames(session, msg_type, content="{}", header_json=None, parent="{}", metadata="{}"):
    """The frames after the routing identity: delimiter, signature, parts.
    Every part is JSON text; returns (frames, msg_id)."""
    head = header(session, msg_type)
    header_json = header_json or json.dumps(head)
    parts = [p.encode() for p in (header_json, parent, metadata, content)]
    signature = session.sign(parts)
    if isinstance(signature, str):
        signature = signature.encode()
    return [DELIMITER, signature, *parts], head["msg_id"]


def header_with(session, msg_type, extra_key, extra_json):
    """A header with one more field whose value is raw JSON text."""
    text = json.dumps(header(session, msg_type))
    return text[:-1] + ', "' + extra_key + '": ' + extra_json + "}"


def replies_to(kc, msg_id, timeout):
    """[the shell reply whose parent is `msg_id`], or [] after `timeout` s
    (other replies read meanwhile are dropped)."""
    found = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            msg = kc.get_shell_msg(timeout=max(0.05, deadline - time.monotonic()))
        except Exception:
            break
        if msg["parent_header"].get("msg_id") == msg_id:
            found.append(msg)
            break
    return found


def wait_for_log(path, needle, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = path.read_text()
        if needle in text:
            return text
        time.sleep(0.05)
    return path.read_text()
