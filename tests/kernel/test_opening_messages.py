"""A request's opening messages (its busy status and, for an execute, the
echo of its code) may be held back for a few milliseconds so that a quick
request is answered sooner (kernel/native/iopub_publisher.hpp): they must
still come first on iopub, and come while a long request runs, whether it
blocks in a system call or awaits."""

import errno
import os
import queue
import time

from kernel_harness import eventually, interrupt_until_reply, reply_to


def _iopub_of(kc, msg_id, until, timeout=30):
    """The iopub messages of `msg_id`, as types (a status as status:STATE), up
    to the first `until`; TimeoutError when it does not come within `timeout`."""
    seen = []
    deadline = time.monotonic() + timeout
    while until not in seen:
        try:
            msg = kc.get_iopub_msg(timeout=max(deadline - time.monotonic(), 0.01))
        except queue.Empty:
            raise TimeoutError(f"no {until} of {msg_id} within {timeout} s (got {seen})") from None
        if msg["parent_header"].get("msg_id") == msg_id:
            kind = msg["msg_type"]
            if kind == "status":
                kind += ":" + msg["content"]["execution_state"]
            seen.append(kind)
    return seen


def test_quick_requests_open_with_busy_and_their_code_and_end_with_idle(shared_kernel):
    _, kc = shared_kernel
    for code, middle in (("pass", []), ("print('x'); 6 * 7", ["stream", "execute_result"])):
        for _ in range(10):
            msg_id = kc.execute(code)
            assert _iopub_of(kc, msg_id, "status:idle") == ["status:busy", "execute_input", *middle, "status:idle"]
            assert reply_to(kc, msg_id)["content"]["status"] == "ok"
    for _ in range(10):
        msg_id = kc.kernel_info()
        assert _iopub_of(kc, msg_id, "status:idle") == ["status:busy", "status:idle"]
        reply_to(kc, msg_id)


def test_a_cell_blocked_in_a_system_call_shows_busy_and_its_code_while_it_runs(shared_kernel, tmp_path):
    _, kc = shared_kernel
    fifo = tmp_path / "gate"
    os.mkfifo(fifo)
    # Opening a FIFO to read blocks until a writer opens it: the cell stays
    # in that system call (no bytecode runs) until the test lets it go.
    msg_id = kc.execute(f"import os\nos.close(os.open({str(fifo)!r}, os.O_RDONLY))")
    assert _iopub_of(kc, msg_id, "execute_input") == ["status:busy", "execute_input"]

    def let_go():
        try:
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            return True
        except OSError as e:  # ENXIO: the cell has not opened it yet
            if e.errno != errno.ENXIO:
                raise
            return False

    # The cell was still blocked when its busy came: no reply could exist.
    assert let_go() or eventually(let_go)
    assert reply_to(kc, msg_id)["content"]["status"] == "ok"
    assert _iopub_of(kc, msg_id, "status:idle") == ["status:idle"]


def test_an_awaiting_cell_shows_busy_and_its_code_while_it_awaits(kernel):
    km, kc = kernel
    msg_id = kc.execute("import asyncio\nawait asyncio.sleep(3600)")
    assert _iopub_of(kc, msg_id, "execute_input") == ["status:busy", "execute_input"]
    reply = interrupt_until_reply(km, kc, msg_id)
    assert reply is not None and reply["content"]["ename"] == "KeyboardInterrupt"
