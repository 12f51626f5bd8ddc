"""Output and errors of a background task belong to the request that created
it (ipykernel 7: a context variable for the parent header); context variables
live on from cell to cell and reach the tasks created later (beyond ipykernel)."""

import time

import pytest

from kernel_harness import execute, start_kernel, stop_kernel, value_of


@pytest.fixture
def kc():
    km, client = start_kernel()
    yield client
    stop_kernel(km, client)


def collect_iopub(kc, until, timeout=30):
    """iopub messages until `until(msgs)` is true."""
    msgs = []
    deadline = time.monotonic() + timeout
    while not until(msgs):
        msgs.append(kc.get_iopub_msg(timeout=max(0.1, deadline - time.monotonic())))
    return msgs


def text_by_parent(msgs):
    out = {}
    for m in msgs:
        if m["msg_type"] == "stream":
            key = m["parent_header"].get("msg_id")
            out[key] = out.get(key, "") + m["content"]["text"]
    return out


def test_a_task_prints_into_the_cell_that_created_it(kc):
    cell1 = kc.execute(
        "import asyncio\n"
        "async def ticker():\n"
        "    for i in range(6):\n"
        "        print('tick', i)\n"
        "        await asyncio.sleep(0.25)\n"
        "ticking = asyncio.create_task(ticker())\n")
    # Cell 2 runs while the ticker goes on; its own output stays its own.
    cell2 = kc.execute("import asyncio\nprint('cell 2 starts')\nawait asyncio.sleep(0.6)\nprint('cell 2 ends')")
    msgs = collect_iopub(kc, lambda ms: text_by_parent(ms).get(cell1, "").count("tick") == 6)
    texts = text_by_parent(msgs)
    assert texts[cell1] == "".join(f"tick {i}\n" for i in range(6))
    assert "tick" not in texts.get(cell2, "")
    reply, _ = execute(kc, "await ticking")
    assert reply["status"] == "ok"


def test_output_while_idle_keeps_the_creating_cell_as_parent(kc):
    cell1 = kc.execute("import asyncio\nasync def later():\n    await asyncio.sleep(0.3)\n    print('late line')\n"
                       "t = asyncio.create_task(later())")
    msgs = collect_iopub(kc, lambda ms: "late line" in text_by_parent(ms).get(cell1, ""))
    assert [m for m in msgs if m["msg_type"] == "stream"][-1]["parent_header"]["msg_id"] == cell1


def test_an_unhandled_task_error_goes_to_the_creating_cell(kc):
    cell1 = kc.execute(
        "import asyncio\n"
        "async def fails_later():\n"
        "    await asyncio.sleep(0.5)\n"
        "    raise RuntimeError('late failure')\n"
        "late = asyncio.create_task(fails_later(), name='late-task')\n"
        "del late\n")
    cell2 = kc.execute("import asyncio\nawait asyncio.sleep(1.5)")
    msgs = collect_iopub(kc, lambda ms: any(m["msg_type"] == "status" and m["parent_header"].get("msg_id") == cell2
                                            and m["content"]["execution_state"] == "idle" for m in ms))
    errors = [m for m in msgs if m["msg_type"] == "error"]
    assert len(errors) == 1
    error = errors[0]
    assert error["parent_header"]["msg_id"] == cell1
    assert error["content"]["ename"] == "RuntimeError" and error["content"]["evalue"] == "late failure"
    assert "late-task" in error["content"]["traceback"][0]
    reply = kc.get_shell_msg(timeout=10)
    while reply["parent_header"]["msg_id"] != cell2:
        reply = kc.get_shell_msg(timeout=10)
    assert reply["content"]["status"] == "ok"  # another cell's task error is not this cell's


def test_a_task_created_by_a_comm_callback_prints_under_that_comm_message(kc):
    execute(kc, (
        "import asyncio, comm\n"
        "def opened(c, msg):\n"
        "    @c.on_msg\n"
        "    def got(msg):\n"
        "        async def later():\n"
        "            await asyncio.sleep(0.2)\n"
        "            print('from the comm task')\n"
        "        asyncio.create_task(later())\n"
        "comm.get_comm_manager().register_target('probe', opened)\n"
    ))
    comm_id = "probe-comm-1"
    kc.shell_channel.send(kc.session.msg("comm_open", {"comm_id": comm_id, "target_name": "probe", "data": {}}))
    msg = kc.session.msg("comm_msg", {"comm_id": comm_id, "data": {}})
    kc.shell_channel.send(msg)
    comm_msg_id = msg["header"]["msg_id"]
    msgs = collect_iopub(kc, lambda ms: "from the comm task" in "".join(text_by_parent(ms).values()))
    assert text_by_parent(msgs)[comm_msg_id] == "from the comm task\n"


def test_context_variables_live_on_across_cells_and_into_later_tasks(kc):
    execute(kc, "import contextvars, asyncio\ncv = contextvars.ContextVar('cv', default=0)\ncv.set(1)")
    assert value_of(kc, "cv.get()") == "1"
    # Set in a cell that awaits (it runs as a task).
    reply, _ = execute(kc, "await asyncio.sleep(0)\ncv.set(2)")
    assert reply["status"] == "ok"
    assert value_of(kc, "cv.get()") == "2"
    execute(kc, "async def read():\n    return cv.get()\nseen = await asyncio.create_task(read())")
    assert value_of(kc, "seen") == "2"
    # A task created in a later, non-awaiting cell sees it too.
    execute(kc, "t = asyncio.create_task(read())")
    execute(kc, "await asyncio.sleep(0.05)")
    assert value_of(kc, "t.result()") == "2"
    # The decimal context is a context variable as well.
    execute(kc, "import decimal\ndecimal.getcontext().prec = 5\nawait asyncio.sleep(0)")
    assert value_of(kc, "str(decimal.Decimal(1) / 3)") == "'0.33333'"
