"""Values that JSON cannot carry become a Python exception in the cell, never a
crash; values it can carry are sent as ipykernel sends them."""


import os

import pytest

from kernel_harness import execute, of_type, start_kernel, stop_kernel

DISPLAY = "from IPython.display import display\n"


def _error(kc, code):
    reply, outputs = execute(kc, code, timeout=60)
    errors = of_type(outputs, "error")
    assert reply["status"] == "error", (reply, outputs)
    assert len(errors) == 1, outputs
    return errors[0]["content"]


def _assert_alive(km, kc):
    assert km.is_alive()
    reply, outputs = execute(kc, "print('still here')")
    assert reply["status"] == "ok"
    assert of_type(outputs, "stream")[0]["content"]["text"] == "still here\n"


@pytest.mark.parametrize(
    "setup, ename, words",
    [
        ("d = {}; d['self'] = d", "ValueError", ["contains itself", "['self']"]),
        ("d = []\nfor _ in range(100000): d = [d]", "ValueError", ["nested more than 1000 levels deep"]),
        ("d = {(1, 2): 'tuple key'}", "TypeError", ["keys must be str, int, float, bool or None, not tuple"]),
        ("d = {1: 'a', '1': 'b'}", "ValueError", ["same JSON key '1'"]),
        ("d = {'x': float('nan')}", "ValueError", ["JSON has no NaN", "['x']"]),
        ("d = {'x': object()}", "TypeError", ["type object has no JSON form"]),
    ],
    ids=["cycle", "deep", "tuple-key", "key-collision", "nan", "object"],
)
def test_display_of_a_value_json_cannot_carry_is_an_error_in_the_cell(shared_kernel, setup, ename, words):
    km, kc = shared_kernel
    error = _error(kc, setup + "\n" + DISPLAY + "display({'application/json': d}, raw=True)\nprint('not reached')")
    assert error["ename"] == ename
    for word in words:
        assert word in error["evalue"], error
    # The traceback points at the display() call of the cell.
    assert any("display" in line for line in error["traceback"])
    _assert_alive(km, kc)


def test_cycles_elsewhere_in_messages(shared_kernel):
    km, kc = shared_kernel
    # In metadata, in a comm message, as a user expression's value.
    error = _error(kc, "m = {}; m['m'] = m\n" + DISPLAY + "display({'text/plain': 'x'}, metadata=m, raw=True)")
    assert error["ename"] == "ValueError" and "contains itself" in error["evalue"]
    error = _error(kc, "from comm import create_comm\nc = create_comm(target_name='nowhere')\n"
                       "loop = []; loop.append(loop)\nc.send({'loop': loop})")
    assert error["ename"] == "ValueError" and "contains itself" in error["evalue"]
    _assert_alive(km, kc)


@pytest.fixture
def deep_kernel():
    # The transport rejects messages nested deeper than XACCEL_MAX_JSON_DEPTH
    # (test_hostile_messages.py); raised here to reach the conversion itself.
    km, kc = start_kernel(env={**os.environ, "XACCEL_MAX_JSON_DEPTH": "200000"})
    yield km, kc
    stop_kernel(km, kc)


def test_a_deeply_nested_incoming_message_within_the_limit_arrives_and_the_kernel_stays_alive(deep_kernel):
    km, kc = deep_kernel
    reply, _ = execute(kc, "from comm import get_comm_manager\nreceived = []\n"
                           "get_comm_manager().register_target('deep', "
                           "lambda comm, msg: comm.on_msg(received.append))")
    assert reply["status"] == "ok"
    session = kc.session
    kc.shell_channel.send(session.msg("comm_open", {"comm_id": "deep-1", "target_name": "deep", "data": {}}))
    # Python's json cannot even write this: build the frames by hand.
    depth = 100000
    content = '{"comm_id": "deep-1", "data": ' + "[" * depth + "]" * depth + "}"
    msg = session.msg("comm_msg", {})
    parts = [session.pack(msg["header"]), b"{}", b"{}", content.encode()]
    kc.shell_channel.socket.send_multipart([b"<IDS|MSG>", session.sign(parts), *parts])
    reply, outputs = execute(kc, "depth, value = 0, received[0]['content']['data']\n"
                                 "while value:\n    value, depth = value[0], depth + 1\nprint(len(received), depth)")
    assert reply["status"] == "ok", reply
    assert of_type(outputs, "stream")[0]["content"]["text"] == f"1 {depth - 1}\n"
    _assert_alive(km, kc)


# What ipykernel 7.4 sends for values JSON has a form for (jupyter_client's
# json_default): the same data must arrive from xaccel.
CONVERTIBLE = (
    "import datetime\n"
    "d = {'tuple': (1, 2), 'bytes': b'\\x00\\xffabc', 'set': {3}, 'frozenset': frozenset([4]),\n"
    "     'gen': (i for i in range(3)), 'range': range(2), 'date': datetime.date(2020, 1, 2),\n"
    "     'utc': datetime.datetime(2020, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc),\n"
    "     'keys': {1: 'int', 2.5: 'float', False: 'bool', None: 'none'}, 'text': 'héllo ✓',\n"
    "     'numbers': [0, -1, 2**63 - 1, 1.5, True, None]}\n"
    + DISPLAY + "display({'application/json': d}, raw=True)"
)


def _displayed(name):
    km, kc = start_kernel(name)
    try:
        reply, outputs = execute(kc, CONVERTIBLE, timeout=60)
        assert reply["status"] == "ok", reply
        return of_type(outputs, "display_data")[0]["content"]["data"]["application/json"]
    finally:
        stop_kernel(km, kc)


def test_convertible_values_arrive_as_ipykernel_sends_them():
    assert _displayed(None) == _displayed("python3")
