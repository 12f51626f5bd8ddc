"""While a cell is suspended in an `await`, the kernel handles comm messages
and the other requests that only read its state (kernel/core/beside_cell.hpp);
execute requests still wait, in order, for the running cell."""

import time

from kernel_harness import execute, of_type, reply_to, stream_text, wait_until_running

ECHO_TARGET = (
    "import comm\n"
    "def _echo_target(c, open_msg):\n"
    "    @c.on_msg\n"
    "    def _(msg):\n"
    "        c.send({'echo': msg['content']['data']})\n"
    "comm.get_comm_manager().register_target('test.echo', _echo_target)\n"
)


def collect_until(kc, done, timeout=30):
    """iopub messages until `done(messages)` is true."""
    messages = []
    deadline = time.monotonic() + timeout
    while not done(messages):
        messages.append(kc.get_iopub_msg(timeout=max(deadline - time.monotonic(), 0.01)))
    return messages


def is_idle(msg, msg_id):
    return (msg["msg_type"] == "status" and msg["parent_header"].get("msg_id") == msg_id
            and msg["content"]["execution_state"] == "idle")


def test_comm_message_is_handled_while_a_cell_awaits(kernel):
    _, kc = kernel
    assert execute(kc, ECHO_TARGET)[0]["status"] == "ok"
    kc.shell_channel.send(kc.session.msg("comm_open", {"comm_id": "c-1", "target_name": "test.echo", "data": {}}))
    cell_id = kc.execute("import asyncio\nawait asyncio.sleep(5)\nprint('cell done')")
    wait_until_running(kc, cell_id)
    comm_msg = kc.session.msg("comm_msg", {"comm_id": "c-1", "data": {"n": 1}})
    kc.shell_channel.send(comm_msg)
    comm_id = comm_msg["header"]["msg_id"]

    messages = collect_until(kc, lambda ms: any(is_idle(m, cell_id) for m in ms))
    echo = [m for m in messages if m["msg_type"] == "comm_msg" and m["content"]["comm_id"] == "c-1"]
    assert echo and echo[0]["content"]["data"] == {"echo": {"n": 1}}
    # The comm's answer and idle carry the comm message as parent and leave
    # while the cell still runs (before the cell's output and idle).
    assert echo[0]["parent_header"]["msg_id"] == comm_id
    order = [i for i, m in enumerate(messages) if m is echo[0] or is_idle(m, comm_id)
             or (m["msg_type"] == "stream" and m["parent_header"].get("msg_id") == cell_id)]
    kinds = [messages[i]["msg_type"] for i in order]
    assert kinds == ["comm_msg", "status", "stream"], kinds
    assert reply_to(kc, cell_id)["content"]["status"] == "ok"


def test_await_widget_change_returns_after_the_slider_moves(kernel):
    _, kc = kernel
    cell_id = kc.execute(
        "import ipywidgets as w\n"
        "slider = w.IntSlider(value=1)\n"
        "display(slider)\n"
        "new = await xaccel.wait_for_change(slider, 'value')\n"
        "print('new value', new)\n"
    )
    opens = collect_until(kc, lambda ms: any(
        m["msg_type"] == "comm_open" and m["content"]["data"]["state"].get("_model_name") == "IntSliderModel"
        for m in ms))
    comm_id = [m for m in opens if m["msg_type"] == "comm_open"
               and m["content"]["data"]["state"].get("_model_name") == "IntSliderModel"][0]["content"]["comm_id"]
    # The front end moves the slider while the cell awaits the change.
    kc.shell_channel.send(kc.session.msg("comm_msg", {
        "comm_id": comm_id, "data": {"method": "update", "state": {"value": 7}, "buffer_paths": []}}))
    messages = collect_until(kc, lambda ms: any(is_idle(m, cell_id) for m in ms))
    cell_output = [m for m in opens + messages if m["parent_header"].get("msg_id") == cell_id]
    assert stream_text(cell_output) == "new value 7\n"
    assert reply_to(kc, cell_id)["content"]["status"] == "ok"
    # The helper leaves no observer behind.
    reply, outputs = execute(kc, "len(slider._trait_notifiers['value']['change'])")
    assert of_type(outputs, "execute_result")[0]["content"]["data"]["text/plain"] == "0"


def test_wait_for_change_times_out(kernel):
    _, kc = kernel
    reply, outputs = execute(kc, (
        "import ipywidgets as w\n"
        "try:\n"
        "    await xaccel.wait_for_change(w.IntSlider(), 'value', timeout=0.2)\n"
        "except TimeoutError:\n"
        "    print('timed out')\n"
    ))
    assert reply["status"] == "ok", reply
    assert stream_text(outputs) == "timed out\n"


def test_reading_requests_answer_and_executes_queue_while_a_cell_awaits(kernel, tmp_path):
    _, kc = kernel
    execute(kc, "import asyncio, os\nvalue_for_completion = 1")
    # The cell awaits until the test has every reading reply (no fixed sleep
    # that a loaded machine could outlast): a kernel that answered them only
    # after the cell would never be released, and the test would time out.
    release = tmp_path / "release"
    cell_id = kc.execute(f"while not os.path.exists({str(release)!r}):\n    await asyncio.sleep(0.02)\nfirst = True")
    wait_until_running(kc, cell_id)
    queued_id = kc.execute("print('second sees first:', first)")
    complete_id = kc.complete("value_for_comp", 14)
    inspect_id = kc.inspect("asyncio.sleep", 13)
    complete_msg = kc.session.msg("is_complete_request", {"code": "for x in y:"})
    kc.shell_channel.send(complete_msg)
    info_id = kc.kernel_info()

    order = []
    replies = {}
    reading = {complete_id, inspect_id, complete_msg["header"]["msg_id"], info_id}
    wanted = reading | {cell_id, queued_id}
    while wanted - set(replies):
        reply = kc.get_shell_msg(timeout=60)
        parent = reply["parent_header"].get("msg_id")
        if parent in wanted:
            order.append(parent)
            replies[parent] = reply
        if reading <= set(replies) and not release.exists():
            release.touch()
    # The reading requests were answered while the cell awaited; the execute
    # sent meanwhile ran after it, and saw what it set.
    assert order[-2:] == [cell_id, queued_id], order
    assert replies[complete_id]["content"]["matches"] == ["value_for_completion"]
    assert replies[inspect_id]["content"]["found"] is True
    assert replies[complete_msg["header"]["msg_id"]]["content"]["status"] == "incomplete"
    assert replies[info_id]["content"]["implementation"] == "xaccel"
    assert replies[queued_id]["content"]["status"] == "ok"
    messages = collect_until(kc, lambda ms: any(is_idle(m, queued_id) for m in ms))
    assert stream_text([m for m in messages if m["parent_header"].get("msg_id") == queued_id]) == \
        "second sees first: True\n"


def test_execute_queued_during_a_failing_await_is_aborted(kernel):
    _, kc = kernel
    cell_id = kc.execute("import asyncio\nawait asyncio.sleep(1)\nraise ValueError('boom')")
    wait_until_running(kc, cell_id)
    queued_id = kc.execute("print('must not run')")
    assert reply_to(kc, cell_id)["content"]["status"] == "error"
    assert reply_to(kc, queued_id)["content"]["status"] == "aborted"
    # A request sent after the error's reply runs.
    reply, outputs = execute(kc, "print('runs')")
    assert reply["status"] == "ok" and stream_text(outputs) == "runs\n"


def test_interrupt_during_a_comm_handler_beside_a_cell_stops_the_cell(kernel):
    km, kc = kernel
    assert execute(kc, (
        "import comm, sys, time\n"
        "def _slow_target(c, open_msg):\n"
        "    @c.on_msg\n"
        "    def _(msg):\n"
        "        print('handler started', flush=True)\n"
        "        time.sleep(20)\n"
        "comm.get_comm_manager().register_target('test.slow', _slow_target)\n"
    ))[0]["status"] == "ok"
    kc.shell_channel.send(kc.session.msg("comm_open", {"comm_id": "s-1", "target_name": "test.slow", "data": {}}))
    cell_id = kc.execute("import asyncio\nawait asyncio.sleep(30)")
    wait_until_running(kc, cell_id)
    kc.shell_channel.send(kc.session.msg("comm_msg", {"comm_id": "s-1", "data": {}}))
    collect_until(kc, lambda ms: any(m["msg_type"] == "stream" and "handler started" in m["content"]["text"]
                                     for m in ms))
    sent = time.monotonic()
    km.interrupt_kernel()
    reply = reply_to(kc, cell_id)["content"]
    # The interrupt stopped the handler and went on to the cell it was meant for.
    assert reply["status"] == "error" and reply["ename"] == "KeyboardInterrupt", reply
    assert time.monotonic() - sent < 15
    reply, outputs = execute(kc, "print('alive')")
    assert reply["status"] == "ok" and stream_text(outputs) == "alive\n"
