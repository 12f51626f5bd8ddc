"""Helpers and fixtures that start the real xaccel kernel through jupyter_client
(imported by conftest.py and the tests; a unique name, unlike `conftest`)."""

import atexit
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest
from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

ROOT = Path(__file__).resolve().parents[2]


# The kernel under test: `xaccel`, or a sanitizer build of it (./dev test
# runs part of the suite again with XACCEL_TEST_KERNEL=xaccel-asan).
KERNEL_NAME = os.environ.get("XACCEL_TEST_KERNEL", "xaccel")


# Every kernel of the tests gets an IPython directory of its own (history,
# profile), so that kernels elsewhere on the machine cannot break the tests
# (IPython moves a history.sqlite it finds locked aside as "corrupt"). Kernels
# that tests start by other means (servers, nbclient) inherit the variable.
_IPYTHON_DIRS = tempfile.mkdtemp(prefix="xaccel-tests-ipython-")
atexit.register(shutil.rmtree, _IPYTHON_DIRS, ignore_errors=True)
os.environ["IPYTHONDIR"] = os.path.join(_IPYTHON_DIRS, "shared")


_TEMPLATE_LOCK = threading.Lock()


def _ipython_dir_template():
    """A profile with its history database, made once: kernels start from a
    copy of it as fast as from an existing ~/.ipython (creating the database
    at start-up would slow the first cell of every test kernel)."""
    template = os.path.join(_IPYTHON_DIRS, "template")
    # Tests start kernels from several threads: none copies a half-made template.
    with _TEMPLATE_LOCK:
        if not os.path.isdir(template):
            from IPython.core.history import HistoryAccessor
            from IPython.core.profiledir import ProfileDir

            os.makedirs(template)
            profile = ProfileDir.create_profile_dir_by_name(template, "default")
            HistoryAccessor(hist_file=os.path.join(profile.location, "history.sqlite")).close()
    return template


def own_ipython_dir():
    directory = tempfile.mkdtemp(prefix="kernel-", dir=_IPYTHON_DIRS)
    shutil.copytree(_ipython_dir_template(), directory, dirs_exist_ok=True)
    return directory


def require_kernelspec(name=None):
    name = name or KERNEL_NAME
    try:
        return KernelSpecManager().get_kernel_spec(name)
    except NoSuchKernel:
        pytest.fail(f"kernelspec '{name}' is not installed in the venv: run ./dev setup", pytrace=False)


def start_manager(name=None, interrupt_mode=None, **kwargs):
    """A started kernel's KernelManager, no client yet."""
    name = name or KERNEL_NAME
    require_kernelspec(name)
    km = KernelManager(kernel_name=name)
    if interrupt_mode:
        km.kernel_spec.interrupt_mode = interrupt_mode
    env = dict(kwargs.pop("env", None) or os.environ)
    if env.get("IPYTHONDIR") in (None, os.environ["IPYTHONDIR"]):
        env["IPYTHONDIR"] = own_ipython_dir()
    km.start_kernel(env=env, **kwargs)
    return km


def start_kernel_without_waiting(name=None, interrupt_mode=None, **kwargs):
    """A kernel and a client whose channels are started, not yet ready."""
    km = start_manager(name, interrupt_mode, **kwargs)
    kc = km.client()
    kc.start_channels()
    return km, kc


def start_kernel(name=None, interrupt_mode=None, **kwargs):
    km, kc = start_kernel_without_waiting(name, interrupt_mode, **kwargs)
    kc.wait_for_ready(timeout=30)
    return km, kc


def stop_kernel(km, kc):
    kc.stop_channels()
    if km.is_alive():
        km.shutdown_kernel(now=False)


@pytest.fixture
def kernel():
    km, kc = start_kernel()
    yield km, kc
    stop_kernel(km, kc)


@pytest.fixture(scope="module")
def shared_kernel():
    km, kc = start_kernel()
    yield km, kc
    stop_kernel(km, kc)


@pytest.fixture
def logged_kernel(tmp_path):
    """A kernel whose stderr goes to a file: (km, kc, path of the log)."""
    path = tmp_path / "kernel.log"
    with open(path, "w+") as log:
        km, kc = start_kernel(stderr=log)
        yield km, kc, path
        stop_kernel(km, kc)


def native_stacks(pid):
    """The C stacks of every thread of process `pid` (gdb), for the message of
    a test that found a kernel stuck: a thread in a lock wait and one in a
    sleep are told apart at a glance."""
    gdb = shutil.which("gdb")
    if gdb is None:
        return "(no stacks: gdb is not installed; apt install gdb)"
    try:
        out = subprocess.run([gdb, "-p", str(pid), "-batch", "-ex", "thread apply all bt 25"],
                             capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        return "(no stacks: gdb took more than 60 s)"
    lines = [line for line in out.stdout.splitlines() if line.startswith(("Thread ", "#"))]
    return "\n".join(lines) or out.stderr[-2000:]


def drain_iopub(kc, timeout=0.2):
    msgs = []
    while True:
        try:
            msgs.append(kc.get_iopub_msg(timeout=timeout))
        except Exception:
            return msgs


def execute(kc, code, timeout=30, **kwargs):
    """Run `code`; return (reply content, iopub messages of the request up to idle)."""
    msg_id = kc.execute(code, **kwargs)
    outputs = []
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"no idle status for {code!r} within {timeout} s")
        msg = kc.get_iopub_msg(timeout=remaining)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
        if msg["msg_type"] != "status":
            outputs.append(msg)
    return reply_to(kc, msg_id, timeout)["content"], outputs


def reply_to(kc, msg_id, timeout=30):
    """The shell reply to the request `msg_id` (replies to earlier requests, such
    as wait_for_ready's kernel_info, may still queue before it); TimeoutError
    when none comes within `timeout`."""
    # a last wait of 0 once the deadline has passed: only what already queued
    return _first_message(kc.get_shell_msg, lambda reply: reply["parent_header"].get("msg_id") == msg_id,
                          timeout, f"reply to {msg_id}", last_wait=0)


def _first_message(get, matches, timeout, what, last_wait=0.01):
    """Reads messages with `get` (a client's get_*_msg) until one for which
    matches(msg) is true; TimeoutError naming `what` when none comes within
    `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            msg = get(timeout=max(deadline - time.monotonic(), last_wait))
        except queue.Empty:
            raise TimeoutError(f"no {what} within {timeout} s") from None
        if matches(msg):
            return msg


def value_of(kc, expression):
    """The text/plain value of `expression`, evaluated as a user expression."""
    reply, _ = execute(kc, "", user_expressions={"v": expression})
    result = reply["user_expressions"]["v"]
    assert result["status"] == "ok", result
    return result["data"]["text/plain"]


def eventually(check, timeout=30.0, interval=0.2):
    """Calls check() until it returns a true value or `timeout` passes; returns
    the last value. For progress that a loaded machine may delay but a working
    kernel always makes (a test then fails by its assertion, not a race)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(interval)


def stream_text(outputs, name="stdout"):
    return "".join(m["content"]["text"] for m in outputs if m["msg_type"] == "stream" and m["content"]["name"] == name)


def of_type(outputs, msg_type):
    return [m for m in outputs if m["msg_type"] == msg_type]


def busy_task_code(block="time.sleep(0.02)"):
    """A cell that starts `busy_task`: between its awaits it runs `block` (by
    default a blocking call, so that the task holds the main thread nearly all
    the time) and counts `beats`; once a later cell sets `cell_awaits`, it prints
    'busy beside the awaiting cell' (that cell awaits then)."""
    return (
        "import asyncio, time\n"
        "beats = 0\n"
        "cell_awaits = False\n"
        "async def blocking():\n"
        "    time.sleep(0.02)\n"
        "async def busy():\n"
        "    global beats\n"
        "    told = False\n"
        "    while True:\n"
        f"        {block}\n"
        "        beats += 1\n"
        "        if cell_awaits and not told:\n"
        "            told = True\n"
        "            print('busy beside the awaiting cell', flush=True)\n"
        "        await asyncio.sleep(0)\n"
        "busy_task = asyncio.create_task(busy())\n"
    )


def interrupt_until_reply(km, kc, msg_id, timeout=60):
    """Interrupts about every second until the reply to `msg_id` comes (None if
    none within `timeout`)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        km.interrupt_kernel()
        try:
            return reply_to(kc, msg_id, timeout=1)
        except TimeoutError:
            pass
    return None


def wait_for_print(kc, text, timeout=30):
    """Until any request's output (a background task's too) has `text` on a stream."""
    _first_message(kc.get_iopub_msg, lambda msg: msg["msg_type"] == "stream" and text in msg["content"]["text"],
                   timeout, f"output with {text!r}")


def wait_until_running(kc, msg_id, timeout=30, printed=None):
    """Until the cell of `msg_id` starts (its execute_input), or with `printed`
    until the cell wrote that text to a stream: a fresh kernel loads IPython
    first, which takes seconds on a loaded machine."""

    def started(msg):
        if msg["parent_header"].get("msg_id") != msg_id:
            return False
        if printed is None:
            return msg["msg_type"] == "execute_input"
        return msg["msg_type"] == "stream" and printed in msg["content"]["text"]

    what = f"start of {msg_id}" if printed is None else f"{printed!r} from {msg_id}"
    _first_message(kc.get_iopub_msg, started, timeout, what)


# An interrupt must end the cell long before the interrupted work would end
# on its own (the tests' cells sleep, wait or loop for 100 s or forever), and
# leave the kernel usable. How fast it does is a figure, measured against the
# peers in bench/kernel/bench_interrupt.py: an end-to-end bound near that
# figure only holds on a quiet machine (an ASan kernel on a loaded one took
# 1.8 s from SIGINT to the reply).
INTERRUPTED_WITHIN_S = 5.0


def interrupt_after(km, kc, code, delay=0.5, printed=None):
    """Run `code`, interrupt the kernel `delay` after it started (with
    `printed`: as soon as the cell printed that text); return (reply content,
    seconds from the interrupt to the reply)."""
    msg_id = kc.execute(code)
    wait_until_running(kc, msg_id, printed=printed)
    if printed is None:
        time.sleep(delay)
    sent = time.monotonic()
    km.interrupt_kernel()
    return reply_to(kc, msg_id, timeout=10)["content"], time.monotonic() - sent
