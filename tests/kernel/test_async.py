"""Top-level await with one live event loop (issue: asyncio that just works)."""

import time

import psutil
import pytest

from kernel_harness import (
    INTERRUPTED_WITHIN_S,
    busy_task_code,
    eventually,
    execute,
    interrupt_after,
    interrupt_until_reply,
    of_type,
    reply_to,
    start_kernel,
    stop_kernel,
    wait_for_print,
)


# A task that, once `go` is set, says so and never awaits again (its output
# goes to the cell that started it).
HOG = (
    "import asyncio, time\n"
    "go = asyncio.Event()\n"
    "async def hog():\n"
    "    await go.wait()\n"
    "    print('hogging', flush=True)\n"
    "    while True:\n"
    "        time.sleep(0.01)\n"
    "hog_task = asyncio.create_task(hog())\n"
)


def result_of(kc, code, **kwargs):
    reply, outputs = execute(kc, code, **kwargs)
    assert reply["status"] == "ok", reply
    results = of_type(outputs, "execute_result")
    return results[0]["content"]["data"]["text/plain"] if results else None


def assert_still_counting(kc, counter):
    """The earlier cell's task that increments `counter` still runs."""
    before = int(result_of(kc, counter))
    assert eventually(lambda: int(result_of(kc, counter)) > before), result_of(kc, counter)


def test_await_async_for_and_async_with_at_top_level(shared_kernel):
    _, kc = shared_kernel
    assert result_of(kc, "import asyncio\nawait asyncio.sleep(0.01)\n'awaited'") == "'awaited'"
    code = (
        "async def agen():\n"
        "    for i in range(3):\n"
        "        await asyncio.sleep(0)\n"
        "        yield i\n"
        "items = [i async for i in agen()]\n"
        "async for i in agen():\n"
        "    items.append(i)\n"
        "items"
    )
    assert result_of(kc, code) == "[0, 1, 2, 0, 1, 2]"
    code = (
        "import contextlib\n"
        "@contextlib.asynccontextmanager\n"
        "async def managed():\n"
        "    yield 'inside'\n"
        "async with managed() as value:\n"
        "    pass\n"
        "value"
    )
    assert result_of(kc, code) == "'inside'"


def test_one_loop_runs_between_cells(kernel):
    _, kc = kernel
    result_of(kc, (
        "import asyncio\n"
        "first_loop = asyncio.get_running_loop()\n"
        "ticks = 0\n"
        "async def ticker():\n"
        "    global ticks\n"
        "    while True:\n"
        "        ticks += 1\n"
        "        await asyncio.sleep(0.02)\n"
        "ticker_task = asyncio.get_running_loop().create_task(ticker())\n"
    ))
    first = int(result_of(kc, "ticks"))
    # The kernel is idle between these cells: the task must go on.
    assert eventually(lambda: int(result_of(kc, "ticks")) - first >= 10), result_of(kc, "ticks")
    assert result_of(kc, "asyncio.get_running_loop() is first_loop") == "True"


def test_asyncio_run_and_run_until_complete_inside_a_cell(kernel):
    _, kc = kernel
    result_of(kc, (
        "import asyncio\n"
        "beats = 0\n"
        "async def beat():\n"
        "    global beats\n"
        "    while True:\n"
        "        beats += 1\n"
        "        await asyncio.sleep(0.01)\n"
        "beat_task = asyncio.ensure_future(beat())\n"
    ))
    assert result_of(kc, "asyncio.run(asyncio.sleep(0.01, result='ran'))") == "'ran'"
    assert result_of(kc, "asyncio.get_event_loop().run_until_complete(asyncio.sleep(0.01, result='ruc'))") == "'ruc'"
    before = int(result_of(kc, "beats"))
    # the kernel's loop is unharmed
    assert eventually(lambda: int(result_of(kc, "beats")) > before + 5), result_of(kc, "beats")
    assert result_of(kc, "beat_task.done()") == "False"


@pytest.mark.parametrize("mode", ["signal", "message"])
def test_interrupt_cancels_the_awaited_work_and_keeps_earlier_tasks(mode):
    km, kc = start_kernel(interrupt_mode=mode)
    try:
        result_of(kc, (
            "import asyncio\n"
            "alive = 0\n"
            "async def background():\n"
            "    global alive\n"
            "    while True:\n"
            "        alive += 1\n"
            "        await asyncio.sleep(0.02)\n"
            "bg = asyncio.create_task(background())\n"
        ))
        reply, elapsed = interrupt_after(km, kc, "cancelled = False\ntry:\n    await asyncio.sleep(100)\n"
                                                 "except asyncio.CancelledError:\n    cancelled = True\n    raise\n")
        assert elapsed < INTERRUPTED_WITHIN_S
        assert reply["ename"] == "KeyboardInterrupt"
        assert result_of(kc, "cancelled") == "True"
        assert_still_counting(kc, "alive")
    finally:
        stop_kernel(km, kc)


@pytest.mark.parametrize("mode, block", [
    ("signal", "time.sleep(0.02)"),
    ("message", "time.sleep(0.02)"),
    # in a task the earlier task starts while the cell awaits
    ("signal", "await asyncio.gather(asyncio.sleep(0), blocking())"),
])
def test_interrupt_that_lands_in_an_earlier_task_stops_the_cell_not_the_task(mode, block):
    # The earlier task holds the main thread nearly all the time (a blocking
    # call between its awaits), so the interrupt lands in it, not in the cell.
    km, kc = start_kernel(interrupt_mode=mode)
    try:
        result_of(kc, busy_task_code(block))
        msg_id = kc.execute("cell_awaits = True\ncancelled = False\ntry:\n    await asyncio.sleep(100)\n"
                            "except asyncio.CancelledError:\n    cancelled = True\n    raise\n")
        wait_for_print(kc, "busy beside the awaiting cell")
        km.interrupt_kernel()
        reply = reply_to(kc, msg_id, timeout=10)["content"]
        assert reply["ename"] == "KeyboardInterrupt"
        assert result_of(kc, "cancelled") == "True"
        assert result_of(kc, "busy_task.done()") == "False"
        assert_still_counting(kc, "beats")
    finally:
        stop_kernel(km, kc)


def test_second_interrupt_stops_an_earlier_task_that_never_yields():
    # The first interrupt waits for the loop to get the thread back, which a
    # task that never awaits again never gives: the next one raises in it.
    km, kc = start_kernel()
    try:
        result_of(kc, HOG)
        # The task runs once the cell awaits: an interrupt then cannot land in
        # the cell's own code.
        msg_id = kc.execute("go.set()\nawait asyncio.sleep(100)\n")
        wait_for_print(kc, "hogging")
        reply = interrupt_until_reply(km, kc, msg_id)
        assert reply is not None, "two interrupts did not stop a task that never yields"
        assert reply["content"]["ename"] == "KeyboardInterrupt"
        assert result_of(kc, "hog_task.done(), type(hog_task.exception()).__name__") == "(True, 'KeyboardInterrupt')"
        assert result_of(kc, "'alive'") == "'alive'"
    finally:
        stop_kernel(km, kc)


def test_interrupts_free_a_kernel_that_a_task_holds_between_cells():
    # No cell runs: a task that never yields keeps the kernel from reading the
    # next request. The first interrupt is remembered (it may be meant for that
    # request); the second lands in the same task and stops it.
    km, kc = start_kernel()
    try:
        result_of(kc, (
            "import asyncio, time\n"
            "ticks = 0\n"
            "async def ticker():\n"
            "    global ticks\n"
            "    while True:\n"
            "        ticks += 1\n"
            "        await asyncio.sleep(0.01)\n"
            "ticker_task = asyncio.create_task(ticker())\n"
        ))
        result_of(kc, HOG)
        result_of(kc, "go.set()")
        wait_for_print(kc, "hogging")
        msg_id = kc.execute("'served'")
        reply = interrupt_until_reply(km, kc, msg_id)
        assert reply is not None, "interrupts did not free the kernel from a task that never yields"
        assert result_of(kc, "hog_task.done(), type(hog_task.exception()).__name__") == "(True, 'KeyboardInterrupt')"
        assert result_of(kc, "ticker_task.done()") == "False"
        assert_still_counting(kc, "ticks")
    finally:
        stop_kernel(km, kc)


def test_background_task_error_is_shown_in_the_running_cell(shared_kernel):
    _, kc = shared_kernel
    reply, outputs = execute(kc, (
        "import asyncio\n"
        "async def fails_soon():\n"
        "    raise ValueError('background failure')\n"
        "asyncio.create_task(fails_soon(), name='doomed')\n"
        "await asyncio.sleep(0.2)\n"
    ))
    errors = of_type(outputs, "error")
    assert errors and errors[0]["content"]["ename"] == "ValueError"
    assert errors[0]["content"]["evalue"] == "background failure"


def test_awaited_task_errors_are_not_reported_twice(shared_kernel):
    _, kc = shared_kernel
    reply, outputs = execute(kc, (
        "async def f():\n    raise KeyError('once')\n"
        "t = asyncio.create_task(f())\n"
        "try:\n    await t\nexcept KeyError:\n    caught = True\n"
        "caught"
    ))
    assert reply["status"] == "ok" and not of_type(outputs, "error")


def test_input_in_a_cell_that_awaits(shared_kernel):
    _, kc = shared_kernel
    msg_id = kc.execute("import asyncio\nawait asyncio.sleep(0.05)\nanswer = input('q? ')\n"
                        "await asyncio.sleep(0.05)\nprint('got', answer)", allow_stdin=True)
    assert kc.get_stdin_msg(timeout=10)["content"]["prompt"] == "q? "
    kc.input("42")
    reply = kc.get_shell_msg(timeout=10)
    assert reply["parent_header"]["msg_id"] == msg_id and reply["content"]["status"] == "ok"
    assert result_of(kc, "answer") == "'42'"


def test_background_output_while_idle_reaches_the_client(kernel):
    _, kc = kernel
    msg_id = kc.execute("import asyncio\nasync def later():\n    await asyncio.sleep(0.3)\n"
                        "    print('printed while idle')\nlater_task = asyncio.create_task(later())")
    kc.get_shell_msg(timeout=10)
    deadline = time.monotonic() + 5
    text = ""
    while time.monotonic() < deadline and "printed while idle" not in text:
        msg = kc.get_iopub_msg(timeout=5)
        if msg["msg_type"] == "stream":
            text += msg["content"]["text"]
    assert "printed while idle" in text


def _kernel_process(km):
    return psutil.Process(km.provisioner.process.pid)


@pytest.mark.cpu_budget
def test_idle_kernel_uses_no_cpu_and_a_ticker_stays_cheap(kernel):
    km, kc = kernel
    proc = _kernel_process(km)
    # IPython loads lazily after start-up; on a loaded machine that can still
    # be going on here. Idle means after it: the first cell waits for it.
    result_of(kc, "pass")
    time.sleep(0.5)
    t0 = proc.cpu_times()
    time.sleep(2.0)
    t1 = proc.cpu_times()
    idle_cpu = (t1.user + t1.system) - (t0.user + t0.system)
    assert idle_cpu < 0.05, f"idle kernel used {idle_cpu:.3f} s of CPU in 2 s"

    result_of(kc, (
        "import asyncio\n"
        "ticks = 0\n"
        "async def tick():\n"
        "    global ticks\n"
        "    while True:\n"
        "        ticks += 1\n"
        "        await asyncio.sleep(0.01)\n"
        "tick_task = asyncio.create_task(tick())\n"
    ))
    t0 = proc.cpu_times()
    start = time.monotonic()
    time.sleep(5.0)
    t1 = proc.cpu_times()
    share = ((t1.user + t1.system) - (t0.user + t0.system)) / (time.monotonic() - start)
    assert share <= 0.05, f"a 10 ms ticker cost {share:.1%} of a core"
    assert int(result_of(kc, "ticks")) > 300
