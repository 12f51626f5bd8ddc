"""Output written to file descriptors 1 and 2 (os.system, os.write, C printf,
child processes) appears in the cell, in order with Python's prints, and
none is lost (as ipykernel's fd capture). The kernel's own diagnostics stay
on its stderr."""

import time

import pytest

from kernel_harness import execute, of_type, start_kernel, stop_kernel, stream_text


def _streams(outputs):
    """The stream messages as (name, text), adjacent ones of a name joined."""
    merged = []
    for m in of_type(outputs, "stream"):
        name, text = m["content"]["name"], m["content"]["text"]
        if merged and merged[-1][0] == name:
            merged[-1] = (name, merged[-1][1] + text)
        else:
            merged.append((name, text))
    return merged


def test_fd_writes_appear_in_order_with_prints(shared_kernel):
    km, kc = shared_kernel
    code = (
        "import ctypes, os, subprocess, sys\n"
        "libc = ctypes.CDLL(None)\n"
        "print('1 print')\n"
        "os.system('echo 2 os.system')\n"
        "os.write(1, b'3 os.write\\n')\n"
        "libc.printf(b'4 printf\\n'); libc.fflush(None)\n"
        "subprocess.run(['sh', '-c', 'echo 5 child'])\n"
        "subprocess.run(['echo', '6 stdout=sys.stdout'], stdout=sys.stdout)\n"
        "print('7 print')\n"
    )
    reply, outputs = execute(kc, code)
    assert reply["status"] == "ok", reply
    assert stream_text(outputs) == (
        "1 print\n2 os.system\n3 os.write\n4 printf\n5 child\n6 stdout=sys.stdout\n7 print\n"
    )


def test_stdout_and_stderr_interleave_with_prints(shared_kernel):
    # Between two Python-level writes the order is exact. (Two fd writes to
    # different fds with no print between them travel through two pipes:
    # their relative order is not known, as in ipykernel.)
    km, kc = shared_kernel
    code = (
        "import os, subprocess, sys\n"
        "print('a')\n"
        "os.write(2, b'b\\n')\n"
        "print('c')\n"
        "subprocess.run(['sh', '-c', 'echo d >&2'])\n"
        "print('e', file=sys.stderr)\n"
        "os.write(1, b'f\\n')\n"
        "print('g', file=sys.stderr)\n"
        "os.system('echo h')\n"
        "print('i')\n"
    )
    reply, outputs = execute(kc, code)
    assert reply["status"] == "ok", reply
    assert _streams(outputs) == [("stdout", "a\n"), ("stderr", "b\n"), ("stdout", "c\n"), ("stderr", "d\ne\n"),
                                 ("stdout", "f\n"), ("stderr", "g\n"), ("stdout", "h\ni\n")]


def test_fd_output_between_the_writes_of_one_print_keeps_its_place(shared_kernel):
    # print(a, b) is four writes: str(a), " ", str(b), "\n"; str(b) runs
    # between the second and the third. The kernel's main thread checks both
    # pipes with one poll per write, so fd output made there (to fd 1 or 2)
    # comes before "b", after many prints, and on stderr too. libc's write
    # through PyDLL keeps the GIL: the pipe reader thread cannot move the
    # bytes in time by itself, only the write's own check can.
    km, kc = shared_kernel
    code = (
        "import ctypes, sys\n"
        "libc = ctypes.PyDLL(None)\n"
        "class Loud:\n"
        "    def __init__(self, fd): self.fd = fd\n"
        "    def __str__(self):\n"
        "        libc.write(self.fd, b'[fd%d]' % self.fd, 5)\n"
        "        return 'b'\n"
        "for i in range(300): print(i)\n"
        "print('a', Loud(1))\n"
        "print('c', Loud(2), file=sys.stderr)\n"
        "print('d', Loud(1), file=sys.stderr)\n"
    )
    reply, outputs = execute(kc, code)
    assert reply["status"] == "ok", reply
    numbers = "".join(f"{i}\n" for i in range(300))
    assert _streams(outputs) == [("stdout", numbers + "a [fd1]b\n"), ("stderr", "c [fd2]b\nd "),
                                 ("stdout", "[fd1]"), ("stderr", "b\n")]


def test_a_child_writing_both_fds_while_the_cell_prints_to_both(shared_kernel):
    # The pipe reader threads and the main thread's writes all drain both
    # pipes; with a lock per pipe, taken in opposite orders, this deadlocked
    # the kernel within a few thousand lines. (One write per line, so that
    # lines of the two writers stay whole.)
    km, kc = shared_kernel
    code = (
        "import subprocess, sys\n"
        "child = subprocess.Popen(['sh', '-c', 'i=0; while [ $i -lt 20000 ]; do echo o$i; echo e$i >&2; i=$((i+1)); done'])\n"
        "n = 0\n"
        "while child.poll() is None:\n"
        "    sys.stdout.write(f'p {n}\\n'); sys.stderr.write(f'q {n}\\n'); n += 1\n"
        "print('rc', child.wait(), n > 0)\n"
    )
    reply, outputs = execute(kc, code, timeout=60)
    assert reply["status"] == "ok", reply
    lines = {"stdout": [], "stderr": []}
    for name, text in _streams(outputs):
        lines[name] += text.splitlines()
    assert [x for x in lines["stdout"] if x.startswith("o")] == [f"o{i}" for i in range(20000)]
    assert [x for x in lines["stderr"] if x.startswith("e")] == [f"e{i}" for i in range(20000)]
    prints = [x for x in lines["stdout"] if x.startswith("p ")]
    assert prints == [f"p {i}" for i in range(len(prints))] and prints
    assert lines["stdout"][-1] == "rc 0 True"


@pytest.mark.parametrize("fd", [1, 2])
def test_a_megabyte_from_a_child_process_arrives_whole(shared_kernel, fd):
    km, kc = shared_kernel
    size = 1 << 20
    name = {1: "stdout", 2: "stderr"}[fd]
    code = (
        "import subprocess, sys\n"
        f"print('before', file=sys.{name})\n"
        "script = 'import os\\nline = bytes(range(48, 48 + 63)) + bytes([10])\\n"
        f"for _ in range({size // 64}): os.write({fd}, line)'\n"
        "subprocess.run([sys.executable, '-c', script], check=True)\n"
        f"print('after', file=sys.{name})\n"
    )
    reply, outputs = execute(kc, code, timeout=120)
    assert reply["status"] == "ok", reply
    line = "".join(chr(c) for c in range(48, 48 + 63)) + "\n"
    text = stream_text(outputs, name)
    assert len(text) == len("before\n") + size + len("after\n")
    assert text == "before\n" + line * (size // 64) + "after\n"


def test_a_megabyte_written_by_the_kernel_itself(shared_kernel):
    km, kc = shared_kernel
    code = (
        "import os\n"
        "for i in range(256):\n"
        "    os.write(1, (f'{i:04d}' * 1024).encode())\n"
        "    if i % 64 == 0:\n"
        "        print(f'<{i}>', end='')\n"
    )
    reply, outputs = execute(kc, code, timeout=120)
    assert reply["status"] == "ok", reply
    expected = ""
    for i in range(256):
        expected += f"{i:04d}" * 1024
        if i % 64 == 0:
            expected += f"<{i}>"
    assert stream_text(outputs) == expected


def test_fd_output_without_a_newline_and_not_utf8(shared_kernel):
    km, kc = shared_kernel
    reply, outputs = execute(kc, "import os\nos.write(1, 'h\u00e9'.encode()[:2]); os.write(1, 'h\u00e9'.encode()[2:] + b'\\xff!')")
    assert reply["status"] == "ok", reply
    assert stream_text(outputs) == "h\u00e9\ufffd!"


def test_output_of_a_forked_worker_appears_in_the_cell(shared_kernel):
    km, kc = shared_kernel
    code = (
        "import multiprocessing\n"
        "def hello(x):\n"
        "    print('worker says', x)\n"
        "    return x\n"
        "with multiprocessing.get_context('fork').Pool(1) as pool:\n"
        "    print(pool.map(hello, [7]))\n"
    )
    reply, outputs = execute(kc, code, timeout=60)
    assert reply["status"] == "ok", reply
    assert stream_text(outputs) == "worker says 7\n[7]\n"


def test_kernel_diagnostics_stay_on_the_kernel_stderr(tmp_path):
    log_path = tmp_path / "kernel.log"
    with open(log_path, "w+") as log:
        km, kc = start_kernel(stderr=log)
        try:
            reply, outputs = execute(kc, "print('ready')")
            kc.shell_channel.send(kc.session.msg("frobnicate_request", {}))
            deadline = time.monotonic() + 10
            while "frobnicate" not in log_path.read_text() and time.monotonic() < deadline:
                time.sleep(0.05)
            reply, outputs = execute(kc, "import os; os.write(2, b'user text\\n')")
            assert stream_text(outputs, "stderr") == "user text\n"
        finally:
            stop_kernel(km, kc)
    text = log_path.read_text()
    assert "unknown message type 'frobnicate_request'" in text
    assert "user text" not in text


def test_fds_are_given_back_at_shutdown(tmp_path):
    # Output after the engine shut down (at exit) reaches the real stderr
    # again instead of a pipe nobody reads.
    log_path = tmp_path / "kernel.log"
    with open(log_path, "w+") as log:
        km, kc = start_kernel(stderr=log)
        try:
            execute(kc, "import atexit, os\natexit.register(os.write, 2, b'written at exit\\n')")
        finally:
            stop_kernel(km, kc)
        deadline = time.monotonic() + 10
        while "written at exit" not in log_path.read_text() and time.monotonic() < deadline:
            time.sleep(0.05)
    assert "written at exit" in log_path.read_text()
