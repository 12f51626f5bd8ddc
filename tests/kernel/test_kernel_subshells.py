"""Kernel subshells (protocol 5.5, JEP 91) on the real kernel: lifecycle and
bad ids, cells of two subshells running at the same time, a subshell served
while the main shell blocks, and comms sent to a subshell."""

import time

from kernel_harness import execute, stream_text, wait_until_running


def control(kc, msg_type, content=None, timeout=30):
    msg = kc.session.msg(msg_type, content or {})
    kc.control_channel.send(msg)
    deadline = time.monotonic() + timeout
    while True:
        reply = kc.get_control_msg(timeout=max(deadline - time.monotonic(), 0.01))
        if reply["parent_header"].get("msg_id") == msg["header"]["msg_id"]:
            return reply


def create(kc):
    reply = control(kc, "create_subshell_request")
    assert reply["msg_type"] == "create_subshell_reply"
    assert reply["content"]["status"] == "ok", reply["content"]
    return reply["content"]["subshell_id"]


def send_execute(kc, code, subshell_id=None, **content):
    msg = kc.session.msg("execute_request", {"code": code, "silent": False, "store_history": True,
                                             "user_expressions": {}, "allow_stdin": False, **content})
    if subshell_id is not None:
        msg["header"]["subshell_id"] = subshell_id
    kc.shell_channel.send(msg)
    return msg["header"]["msg_id"]


def replies_to(kc, msg_ids, timeout=60):
    """{msg_id: reply}, and the order they came in."""
    replies, order = {}, []
    deadline = time.monotonic() + timeout
    while set(msg_ids) - set(replies):
        reply = kc.get_shell_msg(timeout=max(deadline - time.monotonic(), 0.01))
        parent = reply["parent_header"].get("msg_id")
        if parent in msg_ids:
            replies[parent] = reply
            order.append(parent)
    return replies, order


def iopub_of(kc, msg_id, timeout=30):
    """iopub messages of a request up to and including its idle."""
    messages = []
    deadline = time.monotonic() + timeout
    while True:
        msg = kc.get_iopub_msg(timeout=max(deadline - time.monotonic(), 0.01))
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        messages.append(msg)
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return messages


def test_kernel_info_advertises_subshells(shared_kernel):
    _, kc = shared_kernel
    info = kc.kernel_info(reply=True, timeout=30)["content"]
    assert "kernel subshells" in info["supported_features"]


def test_lifecycle_and_bad_ids(kernel):
    _, kc = kernel
    assert control(kc, "list_subshell_request")["content"] == {"status": "ok", "subshell_id": []}
    first, second = create(kc), create(kc)
    assert first != second
    assert control(kc, "list_subshell_request")["content"]["subshell_id"] == [first, second]

    reply = control(kc, "delete_subshell_request", {"subshell_id": first})
    assert reply["msg_type"] == "delete_subshell_reply" and reply["content"]["status"] == "ok"
    assert control(kc, "list_subshell_request")["content"]["subshell_id"] == [second]

    # Deleting again, an id that never existed, and no id at all: clear errors.
    for content in ({"subshell_id": first}, {"subshell_id": "no-such-subshell"}):
        reply = control(kc, "delete_subshell_request", content)["content"]
        assert reply["status"] == "error"
        assert reply["evalue"] == f"Unknown subshell_id {content['subshell_id']!r}"
    assert control(kc, "delete_subshell_request", {})["content"]["status"] == "error"

    # A request sent to a deleted subshell gets an error reply and busy/idle.
    msg_id = send_execute(kc, "a = 1", first)
    replies, _ = replies_to(kc, [msg_id])
    content = replies[msg_id]["content"]
    assert content["status"] == "error" and content["ename"] == "UnknownSubshellError"
    assert [m["content"]["execution_state"] for m in iopub_of(kc, msg_id)] == ["busy", "idle"]

    # The kernel goes on: the other subshell and the main shell answer.
    msg_id = send_execute(kc, "print('still here')", second)
    assert replies_to(kc, [msg_id])[0][msg_id]["content"]["status"] == "ok"
    assert stream_text(iopub_of(kc, msg_id)) == "still here\n"
    assert control(kc, "delete_subshell_request", {"subshell_id": second})["content"]["status"] == "ok"
    reply, outputs = execute(kc, "print('main')")
    assert reply["status"] == "ok" and stream_text(outputs) == "main\n"


def test_cells_of_two_subshells_overlap_in_time(kernel):
    _, kc = kernel
    execute(kc, "import time\nspans = {}")
    a, b = create(kc), create(kc)
    code = "start = time.time()\ntime.sleep(1.5)\nspans[{name!r}] = (start, time.time())"
    ids = [send_execute(kc, code.format(name="a"), a), send_execute(kc, code.format(name="b"), b)]
    replies, _ = replies_to(kc, ids)
    assert all(r["content"]["status"] == "ok" for r in replies.values()), replies
    reply, outputs = execute(kc, "print(spans['a'][0], spans['a'][1], spans['b'][0], spans['b'][1])")
    a_start, a_end, b_start, b_end = map(float, stream_text(outputs).split())
    # Each started before the other ended: they ran at the same time.
    assert max(a_start, b_start) < min(a_end, b_end), (a_start, a_end, b_start, b_end)


def test_subshell_runs_while_the_main_shell_blocks(kernel):
    _, kc = kernel
    execute(kc, "import time")
    subshell = create(kc)
    main_id = send_execute(kc, "shared = 42\ntime.sleep(5)\nprint('main done')")
    wait_until_running(kc, main_id)
    sub_id = send_execute(kc, "print('subshell sees', shared)", subshell)
    replies, order = replies_to(kc, [main_id, sub_id])
    # The subshell answered while the main shell was still in time.sleep.
    assert order == [sub_id, main_id]
    assert replies[sub_id]["content"]["status"] == "ok"
    assert replies[sub_id]["parent_header"]["subshell_id"] == subshell
    sub_messages = iopub_of(kc, sub_id)
    kinds = [m["msg_type"] for m in sub_messages]
    assert kinds[0] == "status" and "execute_input" in kinds and kinds[-1] == "status"
    assert stream_text(sub_messages) == "subshell sees 42\n"
    # Every message of the subshell's request names it as parent.
    assert all(m["parent_header"]["msg_id"] == sub_id for m in sub_messages)
    assert stream_text(iopub_of(kc, main_id)) == "main done\n"


def test_subshell_await_uses_its_own_loop(kernel):
    _, kc = kernel
    execute(kc, "import asyncio, threading\nmain_loop = asyncio.get_running_loop()")
    subshell = create(kc)
    msg_id = send_execute(kc, (
        "await asyncio.sleep(0.1)\n"
        "print(threading.current_thread() is threading.main_thread(), asyncio.get_running_loop() is main_loop)\n"
        "print(await asyncio.gather(asyncio.sleep(0.05, 'a'), asyncio.sleep(0.05, 'b')))\n"
    ), subshell)
    replies, _ = replies_to(kc, [msg_id])
    assert replies[msg_id]["content"]["status"] == "ok", replies[msg_id]["content"]
    assert stream_text(iopub_of(kc, msg_id)) == "False False\n['a', 'b']\n"


def test_stop_on_error_is_per_subshell_and_input_is_refused(kernel):
    _, kc = kernel
    subshell = create(kc)
    ids = [send_execute(kc, "import asyncio\nawait asyncio.sleep(0.5)\nraise ValueError('x')", subshell),
           send_execute(kc, "print('aborted')", subshell),
           send_execute(kc, "import time\ntime.sleep(1)\nprint('main runs')")]
    replies, _ = replies_to(kc, ids)
    assert [replies[i]["content"]["status"] for i in ids] == ["error", "aborted", "ok"]
    # Cleared: the next one runs.
    msg_id = send_execute(kc, "input('?')", subshell, allow_stdin=True)
    content = replies_to(kc, [msg_id])[0][msg_id]["content"]
    assert content["status"] == "error" and content["ename"] == "StdinNotImplementedError"


def test_comm_message_on_a_subshell_reaches_a_cell_awaiting_a_change(kernel):
    """JupyterLab 4.4.4+ sends widget comm messages on a subshell."""
    _, kc = kernel
    subshell = create(kc)
    execute(kc, "import ipywidgets as w\nslider = w.IntSlider(value=1)")
    comm_id = execute(kc, "print(slider.comm.comm_id)")[1]
    comm_id = stream_text(comm_id).strip()
    # The subshell handles the comm at once: it must come after the observer
    # is in place, which the cell says once its waiting task has started.
    main_id = send_execute(kc, (
        "import asyncio\n"
        "waiting = asyncio.ensure_future(xaccel.wait_for_change(slider))\n"
        "await asyncio.sleep(0)\n"
        "print('waiting', flush=True)\n"
        "print('changed to', await waiting)\n"))
    deadline = time.monotonic() + 30
    while True:
        out = kc.get_iopub_msg(timeout=max(deadline - time.monotonic(), 0.01))
        if out["parent_header"].get("msg_id") == main_id and out["msg_type"] == "stream":
            break
    msg = kc.session.msg("comm_msg", {"comm_id": comm_id,
                                      "data": {"method": "update", "state": {"value": 5}, "buffer_paths": []}})
    msg["header"]["subshell_id"] = subshell
    kc.shell_channel.send(msg)
    replies, _ = replies_to(kc, [main_id])
    assert replies[main_id]["content"]["status"] == "ok"
    assert stream_text(iopub_of(kc, main_id)) == "changed to 5\n"  # ("waiting" was read above)
