"""An interrupt is never lost: not while a fresh kernel loads IPython, not when
the kernel inherited SIGINT ignored or blocked, not when user code replaces
the SIGINT handler."""

import signal
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from kernel_harness import execute, native_stacks, of_type, reply_to, start_kernel, stop_kernel
from kernel_harness import interrupt_after as harness_interrupt_after

SLEEP = "import time\ntime.sleep(100)"
SLEEP_RUNNING = "import time\nprint('running', flush=True)\ntime.sleep(100)"
LOOP_RUNNING = "print('running', flush=True)\nwhile True:\n    pass"


def interrupt_first_cell(_):
    """A fresh kernel: its first cell, interrupted 0.05 s after it was sent
    (IPython is still loading then). Returns the reply and the seconds from
    the interrupt to the reply."""
    with tempfile.TemporaryFile("w+") as log:
        km, kc = start_kernel(stderr=log)
        try:
            msg_id = kc.execute(SLEEP)
            time.sleep(0.05)
            sent = time.monotonic()
            km.interrupt_kernel()
            try:
                reply = reply_to(kc, msg_id, timeout=15)["content"]
            except TimeoutError:
                raise AssertionError(f"no execute_reply within 15 s of the interrupt\n{stuck_kernel(km, kc, msg_id, log)}")
            elapsed = time.monotonic() - sent
            after, _ = execute(kc, "'usable'")
            return reply, elapsed, after["status"]
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=True)


def stuck_kernel(km, kc, msg_id, log):
    """What a kernel that did not answer an interrupted cell was doing: its
    threads' stacks, whether a second interrupt ends the cell (the first was
    lost) and what it wrote to stderr."""
    if not km.is_alive():
        facts = [f"the kernel died (exit code {km.provisioner.process.poll()})"]
    else:
        facts = ["stacks of the kernel's threads:\n" + native_stacks(km.provisioner.process.pid)]
        km.interrupt_kernel()
        try:
            reply = reply_to(kc, msg_id, timeout=10)["content"]
            facts.append(f"a second interrupt ended the cell: the first was lost ({reply.get('ename')})")
        except TimeoutError:
            facts.append("a second interrupt did not end the cell within 10 s either: the kernel is stuck")
    log.flush()
    log.seek(0)
    facts.append("kernel stderr:\n" + log.read()[-4000:])
    return "\n".join(facts)


def test_interrupt_while_loading_ipython_reaches_the_first_cell_20_times():
    # Four kernels at a time: quicker, and the machine is loaded as a busy
    # one would be (the import then takes longer, the case that lost them).
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(interrupt_first_cell, range(20)))
    for reply, elapsed, after in results:
        assert reply["status"] == "error" and reply["ename"] == "KeyboardInterrupt", reply
        assert elapsed < 15
        assert after == "ok"


def test_interrupt_sent_before_a_cell_does_not_stop_it():
    """The other side of remembering: interrupts that arrive while a fresh
    kernel loads, before any cell was sent, stop nothing."""
    km, kc = start_kernel()
    try:
        km.interrupt_kernel()
        time.sleep(0.02)
        km.interrupt_kernel()
        # The kernel notes an interrupt when it next runs: on a loaded
        # machine that may take a while.
        time.sleep(0.5)
        reply, outputs = execute(kc, "'ran'")
        assert reply["status"] == "ok", reply
        assert of_type(outputs, "execute_result")[0]["content"]["data"]["text/plain"] == "'ran'"
    finally:
        stop_kernel(km, kc)


def _ignore_sigint():
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _block_sigint():
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})


@pytest.mark.parametrize("inherited", [_ignore_sigint, _block_sigint], ids=["ignored", "blocked"])
def test_interrupt_works_when_sigint_was_inherited_ignored_or_blocked(inherited):
    # As from `nohup jupyter lab &` or a script that starts the server with `&`.
    km, kc = start_kernel(preexec_fn=inherited)
    try:
        assert execute(kc, "1")[0]["status"] == "ok"
        sent = time.monotonic()
        reply = interrupt_after(km, kc, SLEEP_RUNNING)
        assert reply["ename"] == "KeyboardInterrupt"
        assert time.monotonic() - sent < 5
    finally:
        stop_kernel(km, kc)


def interrupt_after(km, kc, code):
    """Run `code`, which prints 'running' once it runs, then interrupt it."""
    return harness_interrupt_after(km, kc, code, printed="running")[0]


def test_user_code_cannot_switch_the_interrupt_off(kernel):
    km, kc = kernel
    # In the same cell as the loop, and for the cells after it.
    reply = interrupt_after(km, kc, "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n" + LOOP_RUNNING)
    assert reply["ename"] == "KeyboardInterrupt"
    reply = interrupt_after(km, kc, SLEEP_RUNNING)
    assert reply["ename"] == "KeyboardInterrupt"
    # User code still sees what it set.
    _, outputs = execute(kc, "signal.getsignal(signal.SIGINT) is signal.SIG_IGN")
    assert of_type(outputs, "execute_result")[0]["content"]["data"]["text/plain"] == "True"
    # Also when the C-level handler is replaced behind Python's back.
    assert execute(kc, "import ctypes\nctypes.CDLL(None).signal(signal.SIGINT.value, 1)")[0]["status"] == "ok"
    reply = interrupt_after(km, kc, LOOP_RUNNING)
    assert reply["ename"] == "KeyboardInterrupt"
    assert execute(kc, "'usable'")[0]["status"] == "ok"


def test_a_python_sigint_handler_from_user_code_is_called(kernel):
    km, kc = kernel
    code = ("import signal\nhits = []\nsignal.signal(signal.SIGINT, lambda s, f: hits.append(s))\n"
            "print('running', flush=True)\nwhile not hits:\n    pass\nhits")
    reply = interrupt_after(km, kc, code)
    assert reply["status"] == "ok", reply
    _, outputs = execute(kc, "hits")
    assert of_type(outputs, "execute_result")[0]["content"]["data"]["text/plain"] == "[2]"
    # Back to the default: interrupts raise again.
    execute(kc, "signal.signal(signal.SIGINT, signal.default_int_handler)")
    assert interrupt_after(km, kc, SLEEP_RUNNING)["ename"] == "KeyboardInterrupt"


def test_message_interrupt_stops_a_synchronous_loop():
    # interrupt_request arrives on control while Python runs without waiting.
    km, kc = start_kernel(interrupt_mode="message")
    try:
        execute(kc, "1")
        sent = time.monotonic()
        reply = interrupt_after(km, kc, LOOP_RUNNING)
        assert reply["ename"] == "KeyboardInterrupt"
        assert time.monotonic() - sent < 5
        assert execute(kc, "'usable'")[0]["status"] == "ok"
    finally:
        stop_kernel(km, kc)


def test_an_interrupt_that_ipython_swallows_before_the_code_still_stops_it(kernel):
    """IPython's event callbacks swallow KeyboardInterrupt ("Error in callback"):
    an interrupt that lands in a pre_run_cell callback must still stop the cell
    (ipykernel runs the cell's code as if nothing happened)."""
    km, kc = kernel
    execute(kc, (
        "import time\n"
        "def slow_callback(info):\n"
        "    get_ipython().events.unregister('pre_run_cell', slow_callback)  # once\n"
        "    print('running', flush=True)\n"
        "    until = time.monotonic() + 30\n"
        "    while time.monotonic() < until:\n"
        "        pass\n"
        "get_ipython().events.register('pre_run_cell', slow_callback)"))
    sent = time.monotonic()
    reply = interrupt_after(km, kc, "print('the code ran')\ntime.sleep(100)")
    assert reply["status"] == "error" and reply["ename"] == "KeyboardInterrupt", reply
    assert time.monotonic() - sent < 30
    _, outputs = execute(kc, "'usable'")
    assert of_type(outputs, "execute_result")[0]["content"]["data"]["text/plain"] == "'usable'"
