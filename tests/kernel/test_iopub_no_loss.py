"""Nothing is lost on iopub when readers fall behind: every display_data of
a cell and its final idle reach the executing client and a subscriber that
reads only 2,000 messages a second. (The old publisher dropped beyond 1,000
queued messages.)"""

import threading
import time

import pytest
import zmq
from jupyter_client.session import Session

from kernel_harness import execute

COUNT = 20_000  # 20x the old high-water mark
CODE = f"for i in range({COUNT}): display(i)"
READ_RATE = 2000  # messages per second for the slow reader
DEADLINE = 150  # seconds; the slow reader alone needs COUNT / READ_RATE


class Tally:
    def __init__(self):
        self.values = []
        self.idle = False
        self.error = None


def _tally(msg, msg_id, tally):
    if msg["parent_header"].get("msg_id") != msg_id:
        return False
    kind = msg["header"]["msg_type"]
    if kind == "display_data":
        tally.values.append(msg["content"]["data"]["text/plain"])
    elif kind == "status" and msg["content"]["execution_state"] == "idle":
        tally.idle = True
        return True
    return False


def _read_client(kc, msg_id, tally, deadline):
    try:
        while time.monotonic() < deadline:
            try:
                msg = kc.get_iopub_msg(timeout=1)
            except Exception:
                continue
            if _tally(msg, msg_id, tally):
                return
    except Exception as e:  # reported by the test
        tally.error = e


def _subscribe(km, kc):
    """A raw SUB socket that is known to receive (ZeroMQ joins late)."""
    info = km.get_connection_info()
    context = zmq.Context.instance()
    socket = context.socket(zmq.SUB)
    socket.setsockopt(zmq.LINGER, 0)
    socket.setsockopt(zmq.SUBSCRIBE, b"")
    socket.connect(f"tcp://{info['ip']}:{info['iopub_port']}")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        kc.kernel_info()
        kc.get_shell_msg(timeout=30)
        if socket.poll(500):
            while socket.poll(200):
                socket.recv_multipart()
            return socket
    socket.close()
    pytest.fail("the extra iopub subscriber never received anything")


def _check(tally, who):
    assert tally.error is None, f"{who}: {tally.error!r}"
    assert len(tally.values) == COUNT, f"{who} got {len(tally.values)} of {COUNT} display_data"
    assert tally.values == [str(i) for i in range(COUNT)], f"{who} got outputs out of order"
    assert tally.idle, f"{who} never got the idle status"


@pytest.mark.timeout(DEADLINE + 60)
def test_executing_client_gets_every_output(shared_kernel):
    km, kc = shared_kernel
    msg_id = kc.execute(CODE)
    tally = Tally()
    _read_client(kc, msg_id, tally, time.monotonic() + DEADLINE)
    _check(tally, "the executing client")
    reply = kc.get_shell_msg(timeout=30)
    assert reply["content"]["status"] == "ok"


@pytest.mark.timeout(DEADLINE + 60)
def test_slow_subscriber_and_executing_client_get_every_output(shared_kernel):
    km, kc = shared_kernel
    slow = _subscribe(km, kc)
    try:
        deadline = time.monotonic() + DEADLINE
        msg_id = kc.execute(CODE)
        client = Tally()
        reader = threading.Thread(target=_read_client, args=(kc, msg_id, client, deadline))
        reader.start()

        # Its own session: the client's one refuses messages it has seen.
        session = Session(key=kc.session.key, signature_scheme=kc.session.signature_scheme)
        tally = Tally()
        received = 0
        start = time.monotonic()
        while time.monotonic() < deadline:
            if not slow.poll(1000):
                continue
            parts = slow.recv_multipart()
            received += 1
            _, rest = session.feed_identities(parts)
            if _tally(session.deserialize(rest), msg_id, tally):
                break
            ahead = start + received / READ_RATE - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)
        reader.join(timeout=max(0, deadline - time.monotonic()) + 5)
        _check(tally, "the slow subscriber")
        _check(client, "the executing client")
        assert kc.get_shell_msg(timeout=30)["content"]["status"] == "ok"
    finally:
        slow.close()
    # The kernel serves on normally afterwards.
    reply, _ = execute(kc, "'after'")
    assert reply["status"] == "ok"


@pytest.mark.timeout(DEADLINE + 60)
def test_a_stalled_subscriber_does_not_hold_the_others_back(kernel):
    """A subscriber that never reads paces everyone for 10 s at most; then the
    executing client gets every output and the idle, and later cells too.
    (Its own kernel: the kernel then drops for full readers for a minute.)"""
    km, kc = kernel
    stalled = _subscribe(km, kc)
    try:
        msg_id = kc.execute(CODE)
        tally = Tally()
        _read_client(kc, msg_id, tally, time.monotonic() + DEADLINE)
        _check(tally, "the executing client")
        assert kc.get_shell_msg(timeout=30)["content"]["status"] == "ok"
        reply, outputs = execute(kc, "print('later')", timeout=60)
        assert reply["status"] == "ok"
        assert any(m["header"]["msg_type"] == "stream" and m["content"]["text"] == "later\n" for m in outputs)
    finally:
        stalled.close()
