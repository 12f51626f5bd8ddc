"""JupyterLab's debugger (DAP over the control channel) against the real kernel:
breakpoints in plain cells, in earlier cells' functions, in awaited coroutines
and background tasks; stepping over an await; variables; and the control
channel staying served (kernel_info, interrupt, shutdown) while stopped."""

import time

import pytest

from dap_client import DapClient
from kernel_harness import busy_task_code, execute, of_type, start_kernel, stop_kernel, wait_for_print


@pytest.fixture
def debug_kernel():
    km, kc = start_kernel()
    dap = DapClient(kc)
    try:
        yield km, kc, dap
    finally:
        stop_kernel(km, kc)


def line_of(code, text):
    """1-based number of the line of `code` containing `text`."""
    return next(i for i, line in enumerate(code.splitlines(), 1) if text in line)


def test_kernel_info_and_kernelspec_advertise_the_debugger(kernel):
    from jupyter_client.kernelspec import KernelSpecManager
    from kernel_harness import KERNEL_NAME

    km, kc = kernel
    kc.kernel_info()
    info = kc.get_shell_msg(timeout=30)["content"]
    assert info["debugger"] is True
    assert "debugger" in info["supported_features"]
    assert KernelSpecManager().get_kernel_spec(KERNEL_NAME).metadata.get("debugger") is True


def test_debug_info_before_start_names_cells_like_the_compiler(debug_kernel):
    km, kc, dap = debug_kernel
    info = dap.request("debugInfo")
    assert info["success"]
    body = info["body"]
    assert body["isStarted"] is False and body["hashMethod"] == "Murmur2"
    # The cell's code object carries exactly the name the front end computes.
    code = "import sys\nname = sys._getframe().f_code.co_filename"
    execute(kc, code)
    reply, _ = execute(kc, "name", user_expressions={"n": "name"})
    name = reply["user_expressions"]["n"]["data"]["text/plain"].strip("'")
    assert name.startswith(body["tmpFilePrefix"]) and name.endswith(body["tmpFileSuffix"])
    dap.start()
    assert dap.dump_cell(code) == name


def test_a_request_before_initialize_fails_cleanly(debug_kernel):
    km, kc, dap = debug_kernel
    reply = dap.request("stackTrace", {"threadId": 1})
    assert reply["success"] is False and "initialize" in reply["message"]
    reply, _ = execute(kc, "1 + 1")
    assert reply["status"] == "ok"


def test_breakpoint_in_a_plain_cell_shows_stack_and_variables(debug_kernel):
    km, kc, dap = debug_kernel
    dap.start()
    code = "x = 40\ny = {'k': [1, 2, {'deep': 'value'}]}\nz = x + 2\nprint(z)"
    path = dap.dump_cell(code)
    [bp] = dap.set_breakpoints(path, [3])
    assert bp["verified"]
    msg_id = kc.execute(code)
    body, frame = dap.wait_stopped()
    assert body["reason"] == "breakpoint"
    assert frame["source"]["path"] == path and frame["line"] == 3
    # Globals of the stopped frame, with nested containers expanded.
    globals_ = dap.scope_variables(frame["id"], "Globals")
    assert globals_["x"]["value"] == "40" and "z" not in globals_
    y = dap.variables(globals_["y"]["variablesReference"])
    inner = dap.variables(y["'k'"]["variablesReference"])
    deep = dap.variables(inner["2"]["variablesReference"])
    assert deep["'deep'"]["value"] == "'value'"
    # The kernel's own names are hidden.
    assert "In" not in globals_ and "get_ipython" not in globals_
    dap.continue_(body["threadId"])
    assert dap.shell_reply(msg_id)["status"] == "ok"
    dap.stop()


def test_breakpoint_in_a_function_from_an_earlier_cell(debug_kernel):
    km, kc, dap = debug_kernel
    # Defined before the debugger is even started.
    definition = "def scale(values, factor):\n    result = [v * factor for v in values]\n    return result"
    execute(kc, definition)
    dap.start()
    path = dap.dump_cell(definition)
    dap.set_breakpoints(path, [3])
    msg_id = kc.execute("out = scale([1, 2], factor=10)")
    body, frame = dap.wait_stopped()
    assert frame["name"] == "scale" and frame["line"] == 3 and frame["source"]["path"] == path
    locals_ = dap.scope_variables(frame["id"], "Locals")
    assert locals_["factor"]["value"] == "10"
    assert locals_["result"]["value"] == "[10, 20]"
    dap.continue_(body["threadId"])
    assert dap.shell_reply(msg_id)["status"] == "ok"
    reply, _ = execute(kc, "out", user_expressions={"o": "out"})
    assert reply["user_expressions"]["o"]["data"]["text/plain"] == "[10, 20]"


def test_breakpoint_in_an_awaited_coroutine_of_a_cell(debug_kernel):
    km, kc, dap = debug_kernel
    dap.start()
    code = (
        "import asyncio\n"
        "async def fetch(n):\n"
        "    await asyncio.sleep(0.01)\n"
        "    doubled = n * 2\n"
        "    return doubled\n"
        "answer = await fetch(21)\n"
        "print(answer)"
    )
    path = dap.dump_cell(code)
    dap.set_breakpoints(path, [line_of(code, "return doubled")])
    msg_id = kc.execute(code)
    body, frame = dap.wait_stopped()
    assert frame["name"] == "fetch" and frame["source"]["path"] == path
    locals_ = dap.scope_variables(frame["id"], "Locals")
    assert locals_["doubled"]["value"] == "42"
    dap.continue_(body["threadId"])
    assert dap.shell_reply(msg_id)["status"] == "ok"


def test_breakpoint_in_a_background_task_from_an_earlier_cell(debug_kernel):
    km, kc, dap = debug_kernel
    code = (
        "import asyncio\n"
        "ticks = []\n"
        "async def ticker():\n"
        "    n = 0\n"
        "    while True:\n"
        "        n += 1\n"
        "        ticks.append(n)\n"
        "        await asyncio.sleep(0.02)\n"
        "task = asyncio.create_task(ticker())"
    )
    execute(kc, code)
    dap.start()
    path = dap.dump_cell(code)
    # The task runs while the kernel is idle: it stops there, with no cell running.
    dap.set_breakpoints(path, [line_of(code, "ticks.append(n)")])
    body, frame = dap.wait_stopped()
    assert frame["name"] == "ticker" and frame["source"]["path"] == path
    n = int(dap.scope_variables(frame["id"], "Locals")["n"]["value"])
    assert n >= 1
    # Clear the breakpoint and let the task go on.
    dap.set_breakpoints(path, [])
    dap.continue_(body["threadId"])
    deadline = time.monotonic() + 30
    while True:
        reply, _ = execute(kc, "len(ticks)", user_expressions={"t": "len(ticks)"})
        if int(reply["user_expressions"]["t"]["data"]["text/plain"]) > n + 2:
            break
        assert time.monotonic() < deadline, "the task did not run on after continue"
    execute(kc, "task.cancel()")


def test_step_over_an_await(debug_kernel):
    km, kc, dap = debug_kernel
    dap.start()
    code = (
        "import asyncio\n"
        "async def work():\n"
        "    before = 1\n"
        "    await asyncio.sleep(0.05)\n"
        "    after = before + 1\n"
        "    return after\n"
        "result = await work()"
    )
    path = dap.dump_cell(code)
    dap.set_breakpoints(path, [line_of(code, "await asyncio.sleep")])
    msg_id = kc.execute(code)
    body, frame = dap.wait_stopped()
    assert frame["line"] == line_of(code, "await asyncio.sleep")
    thread = body["threadId"]
    assert dap.request("next", {"threadId": thread})["success"]
    body, frame = dap.wait_stopped()
    assert body["reason"] == "step"
    # Over the await, still in the coroutine, on the next line.
    assert frame["name"] == "work" and frame["line"] == line_of(code, "after = before + 1")
    assert dap.request("next", {"threadId": thread})["success"]
    body, frame = dap.wait_stopped()
    assert frame["line"] == line_of(code, "return after")
    assert dap.scope_variables(frame["id"], "Locals")["after"]["value"] == "2"
    dap.continue_(thread)
    assert dap.shell_reply(msg_id)["status"] == "ok"


def test_step_in_and_out_and_evaluate(debug_kernel):
    km, kc, dap = debug_kernel
    dap.start()
    code = "def inner(v):\n    w = v + 1\n    return w\nstart = 5\nvalue = inner(start)\nprint(value)"
    path = dap.dump_cell(code)
    dap.set_breakpoints(path, [5])
    msg_id = kc.execute(code)
    body, frame = dap.wait_stopped()
    thread = body["threadId"]
    assert dap.request("stepIn", {"threadId": thread})["success"]
    body, frame = dap.wait_stopped()
    assert frame["name"] == "inner"
    reply = dap.request("evaluate", {"expression": "v * 100", "frameId": frame["id"], "context": "repl"})
    assert reply["success"] and reply["body"]["result"] == "500"
    assert dap.request("stepOut", {"threadId": thread})["success"]
    body, frame = dap.wait_stopped()
    # Back in the cell: on the call's line, or the next one once the call returned.
    assert frame["source"]["path"] == path and frame["line"] in (5, 6)
    dap.continue_(thread)
    assert dap.shell_reply(msg_id)["status"] == "ok"


@pytest.mark.parametrize("mode", ["signal", "message"])
def test_interrupt_while_stopped(mode):
    km, kc = start_kernel(interrupt_mode=mode)
    dap = DapClient(kc)
    try:
        dap.start()
        code = "import time\nfor i in range(3):\n    time.sleep(0.01)\nprint('done')"
        path = dap.dump_cell(code)
        dap.set_breakpoints(path, [3])
        msg_id = kc.execute(code)
        dap.wait_stopped()
        km.interrupt_kernel()
        reply = dap.shell_reply(msg_id, timeout=30)
        assert reply["status"] == "error" and reply["ename"] == "KeyboardInterrupt"
        dap.wait_event("continued")
        # The kernel and the debugger go on: the same breakpoint hits again.
        reply, _ = execute(kc, "1 + 1")
        assert reply["status"] == "ok"
        msg_id = kc.execute(code)
        body, frame = dap.wait_stopped()
        assert frame["line"] == 3
        dap.set_breakpoints(path, [])
        dap.continue_(body["threadId"])
        assert dap.shell_reply(msg_id)["status"] == "ok"
    finally:
        stop_kernel(km, kc)


def test_control_is_served_while_stopped(debug_kernel):
    km, kc, dap = debug_kernel
    dap.start()
    code = "a = 1\nb = 2"
    path = dap.dump_cell(code)
    dap.set_breakpoints(path, [2])
    msg_id = kc.execute(code)
    body, _ = dap.wait_stopped()
    # kernel_info on control while the main thread waits in debugpy.
    request = kc.session.msg("kernel_info_request", {})
    kc.control_channel.send(request)
    info = dap.control_reply(request["header"]["msg_id"], timeout=10)["content"]
    assert info["status"] == "ok" and info["debugger"] is True
    assert dap.request("debugInfo")["body"]["stoppedThreads"] == [body["threadId"]]
    dap.continue_(body["threadId"])
    assert dap.shell_reply(msg_id)["status"] == "ok"


def test_shutdown_while_stopped(debug_kernel):
    km, kc, dap = debug_kernel
    dap.start()
    code = "a = 1\nb = 2"
    path = dap.dump_cell(code)
    dap.set_breakpoints(path, [2])
    kc.execute(code)
    dap.wait_stopped()
    # The shutdown is answered (and the process ends by itself) although the
    # main thread was stopped at a breakpoint when it arrived.
    msg_id = kc.shutdown()
    reply = dap.control_reply(msg_id, timeout=30)["content"]
    assert reply["status"] == "ok"
    deadline = time.monotonic() + 30
    while km.is_alive():
        assert time.monotonic() < deadline, "the kernel did not exit after its shutdown_reply"
        time.sleep(0.1)


def test_restart_while_stopped_and_debugging_again(debug_kernel):
    km, kc, dap = debug_kernel
    dap.start()
    code = "a = 1\nb = 2"
    path = dap.dump_cell(code)
    dap.set_breakpoints(path, [2])
    kc.execute(code)
    dap.wait_stopped()
    km.restart_kernel(now=False)
    kc.wait_for_ready(timeout=60)
    reply, _ = execute(kc, "1 + 1")
    assert reply["status"] == "ok"
    # A new kernel: a new debugger session works as the first one did.
    dap = DapClient(kc)
    dap.start()
    path = dap.dump_cell(code)
    dap.set_breakpoints(path, [2])
    msg_id = kc.execute(code)
    body, frame = dap.wait_stopped()
    assert frame["line"] == 2
    dap.continue_(body["threadId"])
    assert dap.shell_reply(msg_id)["status"] == "ok"


def test_interrupt_with_the_debugger_attached_spares_earlier_tasks():
    # The debugger's part of an interrupt (resuming a stopped thread) must not
    # make it raise in whatever runs: here a task of an earlier cell that holds
    # the main thread nearly all the time.
    km, kc = start_kernel()
    dap = DapClient(kc)
    try:
        dap.start()
        assert execute(kc, busy_task_code())[0]["status"] == "ok"
        msg_id = kc.execute("cell_awaits = True\nawait asyncio.sleep(100)")
        wait_for_print(kc, "busy beside the awaiting cell")
        km.interrupt_kernel()
        reply = dap.shell_reply(msg_id, timeout=30)
        assert reply["status"] == "error" and reply["ename"] == "KeyboardInterrupt"
        reply, outputs = execute(kc, "busy_task.done()")
        assert of_type(outputs, "execute_result")[0]["content"]["data"]["text/plain"] == "False"
    finally:
        stop_kernel(km, kc)


@pytest.mark.parametrize("mode", ["signal", "message"])
def test_interrupt_of_running_code_with_the_debugger_attached(mode):
    km, kc = start_kernel(interrupt_mode=mode)
    dap = DapClient(kc)
    try:
        dap.start()
        execute(kc, "import asyncio")
        msg_id = kc.execute("await asyncio.sleep(100)")
        time.sleep(0.5)
        km.interrupt_kernel()
        reply = dap.shell_reply(msg_id, timeout=30)
        assert reply["status"] == "error" and reply["ename"] == "KeyboardInterrupt"
        reply, _ = execute(kc, "1 + 1")
        assert reply["status"] == "ok"
    finally:
        stop_kernel(km, kc)
