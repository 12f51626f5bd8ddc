"""stop_on_error (ipykernel's behaviour): after a failed or interrupted cell,
the execute requests already queued are answered `aborted` and not run; other
requests are answered; requests sent after the error's reply run."""

import time

import pytest

from kernel_harness import execute, start_kernel, stop_kernel, stream_text

# The failing cell waits before failing so that the requests sent right after
# it are surely queued in the kernel when it fails (as ipykernel's own test).
WAIT_THEN_FAIL = "import time\ntime.sleep(0.5)\n1/0"


def replies_to(kc, msg_ids, timeout=30):
    """The shell replies to `msg_ids`, in the order they arrive."""
    wanted = set(msg_ids)
    replies = []
    deadline = time.monotonic() + timeout
    while wanted:
        reply = kc.get_shell_msg(timeout=max(0.1, deadline - time.monotonic()))
        msg_id = reply["parent_header"].get("msg_id")
        if msg_id in wanted:
            wanted.discard(msg_id)
            replies.append(reply)
    return replies


def iopub_until_idle(kc, msg_id, timeout=30):
    """iopub messages of `msg_id` up to its idle status."""
    out = []
    deadline = time.monotonic() + timeout
    while True:
        msg = kc.get_iopub_msg(timeout=max(0.1, deadline - time.monotonic()))
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        out.append(msg)
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return out


@pytest.fixture
def km_kc():
    km, client = start_kernel()
    yield km, client
    stop_kernel(km, client)


@pytest.fixture
def kc(km_kc):
    return km_kc[1]


def test_run_all_with_an_error_in_the_middle_aborts_the_later_cells(kc):
    ids = [kc.execute("print('A')"), kc.execute(WAIT_THEN_FAIL), kc.execute("print('C ran')"),
           kc.execute("print('D ran')")]
    replies = replies_to(kc, ids)
    assert [r["parent_header"]["msg_id"] for r in replies] == ids
    assert [r["content"]["status"] for r in replies] == ["ok", "error", "aborted", "aborted"]
    assert replies[1]["content"]["ename"] == "ZeroDivisionError"
    assert replies[2]["metadata"]["status"] == "aborted"

    # An aborted request is busy then idle, with no execute_input and no output.
    aborted = iopub_until_idle(kc, ids[2])
    assert [m["msg_type"] for m in aborted] == ["status", "status"]
    assert aborted[0]["content"]["execution_state"] == "busy"

    # Sent after the error's reply: runs, and the aborted cells never ran.
    reply, outputs = execute(kc, "print('after'); print('C' in dir())")
    assert reply["status"] == "ok"
    assert stream_text(outputs) == "after\nFalse\n"
    assert reply["execution_count"] == 3  # the aborted requests took no count


def test_an_awaiting_cell_that_fails_aborts_the_queue(kc):
    ids = [kc.execute("import asyncio\nawait asyncio.sleep(0.5)\nraise ValueError('late')"),
           kc.execute("ran = True")]
    replies = replies_to(kc, ids)
    assert [r["content"]["status"] for r in replies] == ["error", "aborted"]
    reply, _ = execute(kc, "'ran' in dir()", user_expressions={"ran": "'ran' in dir()"})
    assert reply["user_expressions"]["ran"]["data"]["text/plain"] == "False"


def test_an_interrupted_cell_aborts_the_queue(km_kc):
    km, kc = km_kc
    ids = [kc.execute("import time\nprint('started', flush=True)\ntime.sleep(60)"), kc.execute("ran = True")]
    # Interrupt once the cell surely runs (its output arrived).
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        msg = kc.get_iopub_msg(timeout=30)
        if msg["msg_type"] == "stream" and "started" in msg["content"]["text"]:
            break
    km.interrupt_kernel()
    replies = replies_to(kc, ids)
    assert replies[0]["content"]["ename"] == "KeyboardInterrupt"
    assert [r["content"]["status"] for r in replies] == ["error", "aborted"]


def test_other_requests_in_the_queue_are_answered(kc):
    ids = [kc.execute(WAIT_THEN_FAIL), kc.kernel_info(), kc.complete("pri", 3), kc.inspect("print"),
           kc.execute("ran = True")]
    replies = replies_to(kc, ids)
    assert [r["parent_header"]["msg_id"] for r in replies] == ids
    assert [r["msg_type"] for r in replies] == ["execute_reply", "kernel_info_reply", "complete_reply",
                                                "inspect_reply", "execute_reply"]
    assert [r["content"]["status"] for r in replies] == ["error", "ok", "ok", "ok", "aborted"]
    assert "print" in replies[2]["content"]["matches"]


def test_without_stop_on_error_or_when_silent_the_queue_runs(kc):
    ids = [kc.execute(WAIT_THEN_FAIL, stop_on_error=False), kc.execute("first = 1"),
           kc.execute(WAIT_THEN_FAIL, silent=True), kc.execute("second = 2")]
    replies = replies_to(kc, ids)
    assert [r["content"]["status"] for r in replies] == ["error", "ok", "error", "ok"]
    reply, _ = execute(kc, "", user_expressions={"both": "first + second"})
    assert reply["user_expressions"]["both"]["data"]["text/plain"] == "3"
