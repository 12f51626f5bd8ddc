"""Interrupts stop running code promptly and leave the kernel usable."""

import time

import pytest

from kernel_harness import INTERRUPTED_WITHIN_S, execute, interrupt_after, of_type, start_kernel, stop_kernel


@pytest.mark.parametrize("mode", ["signal", "message"])
def test_interrupt_awaited_sleep(mode):
    km, kc = start_kernel(interrupt_mode=mode)
    try:
        reply, elapsed = interrupt_after(km, kc, "import asyncio\nawait asyncio.sleep(100)")
        assert reply["status"] == "error" and reply["ename"] == "KeyboardInterrupt"
        assert elapsed < INTERRUPTED_WITHIN_S
        reply, _ = execute(kc, "1 + 1")
        assert reply["status"] == "ok"
    finally:
        stop_kernel(km, kc)


@pytest.mark.parametrize("code", ["import time\ntime.sleep(100)", "while True:\n    pass"])
def test_signal_interrupt_stops_synchronous_code(code):
    km, kc = start_kernel()
    try:
        reply, elapsed = interrupt_after(km, kc, code)
        assert reply["ename"] == "KeyboardInterrupt"
        assert elapsed < INTERRUPTED_WITHIN_S
        assert km.is_alive()
        reply, outputs = execute(kc, "'still here'")
        assert of_type(outputs, "execute_result")[0]["content"]["data"]["text/plain"] == "'still here'"
    finally:
        stop_kernel(km, kc)


def test_interrupt_while_idle_is_harmless(kernel):
    km, kc = kernel
    for _ in range(3):
        km.interrupt_kernel()
        time.sleep(0.1)
    assert km.is_alive()
    reply, _ = execute(kc, "2 + 2")
    assert reply["status"] == "ok"


def test_interrupt_during_input(kernel):
    km, kc = kernel
    msg_id = kc.execute("input('waiting: ')", allow_stdin=True)
    kc.get_stdin_msg(timeout=10)
    km.interrupt_kernel()
    reply = kc.get_shell_msg(timeout=10)
    assert reply["parent_header"]["msg_id"] == msg_id
    assert reply["content"]["ename"] == "KeyboardInterrupt"
    assert execute(kc, "3")[0]["status"] == "ok"
