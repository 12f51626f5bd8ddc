"""Stream output: batched, ordered, and never lost under a slow reader."""

import time

from kernel_harness import execute, of_type, stream_text


def test_5000_prints_reach_a_slow_reader_complete_and_in_order(kernel):
    _, kc = kernel
    msg_id = kc.execute("for i in range(5000):\n    print(i)")
    time.sleep(2.0)  # the client starts reading late
    texts, saw_idle = [], False
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        msg = kc.get_iopub_msg(timeout=10)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "stream":
            assert not saw_idle, "stream output after idle"
            texts.append(msg["content"]["text"])
        elif msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            saw_idle = True
            break
    assert saw_idle
    assert "".join(texts) == "".join(f"{i}\n" for i in range(5000))
    assert kc.get_shell_msg(timeout=10)["content"]["status"] == "ok"


def test_prints_are_batched_into_few_messages(shared_kernel):
    _, kc = shared_kernel
    _, outputs = execute(kc, "for i in range(1000):\n    print(i)")
    streams = of_type(outputs, "stream")
    assert 1 <= len(streams) <= 3
    assert stream_text(outputs) == "".join(f"{i}\n" for i in range(1000))


def test_long_running_cell_streams_while_it_runs(shared_kernel):
    _, kc = shared_kernel
    msg_id = kc.execute("import time\nfor i in range(6):\n    print(i)\n    time.sleep(0.15)")
    first_stream_at = None
    start = time.monotonic()
    while True:
        msg = kc.get_iopub_msg(timeout=10)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "stream" and first_stream_at is None:
            first_stream_at = time.monotonic() - start
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
    kc.get_shell_msg(timeout=10)
    assert first_stream_at is not None and first_stream_at < 0.7


def test_stdout_and_stderr_keep_their_order(shared_kernel):
    _, kc = shared_kernel
    _, outputs = execute(kc, "import sys\nprint('a')\nprint('b', file=sys.stderr)\nprint('c')")
    sequence = [(m["content"]["name"], m["content"]["text"]) for m in of_type(outputs, "stream")]
    assert sequence == [("stdout", "a\n"), ("stderr", "b\n"), ("stdout", "c\n")]


def test_output_from_another_thread_arrives(shared_kernel):
    _, kc = shared_kernel
    _, outputs = execute(kc, "import threading\nt = threading.Thread(target=print, args=('from thread',))\n"
                             "t.start(); t.join()\nimport time; time.sleep(0.3)")
    assert "from thread" in stream_text(outputs)
