"""The kernel magics ipykernel 7.4 has (%connect_info, %edit, %less/%more,
%clear, %autosave, %subshell, %qtconsole), `%gui asyncio`, `%autoawait`, and the
environment a cell's tools see (PAGER=cat, colours forced), on the real kernel.
(`XACCEL_TEST_KERNEL=python3` runs them against ipykernel: all pass but the
%qtconsole message, where ipykernel starts nothing and says nothing, and the
runner's module, which is xaccel's.)"""

import json

from kernel_harness import execute, of_type, stream_text, value_of
from test_kernel_subshells import create, replies_to, send_execute


def payloads(reply, source):
    return [p for p in reply.get("payload", []) if p.get("source") == source]


def test_connect_info_prints_the_connection_file(shared_kernel):
    km, kc = shared_kernel
    reply, outputs = execute(kc, "%connect_info")
    assert reply["status"] == "ok", reply
    text = stream_text(outputs)
    info = json.loads(text[: text.index("\n}") + 2])
    for name in ("shell_port", "iopub_port", "stdin_port", "control_port", "hb_port", "key"):
        assert info[name] == km.get_connection_info()[name] or info[name].encode() == km.get_connection_info()[name]
    assert f"--existing {km.connection_file}" in text


def test_edit_asks_the_front_end_to_open_the_file(shared_kernel, tmp_path):
    _, kc = shared_kernel
    source = tmp_path / "module_to_edit.py"
    source.write_text("def f():\n    return 1\n")
    reply, _ = execute(kc, f"%edit -n 2 {source}")
    assert reply["status"] == "ok", reply
    assert payloads(reply, "edit_magic") == [{"source": "edit_magic", "filename": str(source.resolve()),
                                             "line_number": "2"}]  # a string, as IPython parses it


def test_less_and_more_page_a_file(shared_kernel, tmp_path):
    _, kc = shared_kernel
    notes = tmp_path / "notes.txt"
    notes.write_text("first line\nsecond line\n")
    for magic in ("less", "more"):
        reply, _ = execute(kc, f"%{magic} {notes}")
        assert reply["status"] == "ok", reply
        assert payloads(reply, "page")[0]["data"]["text/plain"] == "first line\nsecond line\n"
    reply, outputs = execute(kc, "%less")
    assert reply["status"] == "error" and "Missing filename." in stream_text(outputs, "stderr")


def test_clear_sends_the_terminal_clear_sequence(shared_kernel):
    _, kc = shared_kernel
    reply, outputs = execute(kc, "%clear")
    assert reply["status"] == "ok", reply
    assert "\x1b[2J" in stream_text(outputs)


def test_autosave_tells_the_notebook_front_end(shared_kernel):
    _, kc = shared_kernel
    reply, outputs = execute(kc, "%autosave 30")
    assert reply["status"] == "ok", reply
    script = of_type(outputs, "display_data")[0]["content"]["data"]
    assert script == {"application/javascript": "IPython.notebook.set_autosave_interval(30000)"}
    assert stream_text(outputs) == "Autosaving every 30 seconds\n"
    reply, outputs = execute(kc, "%autosave soon")
    assert reply["status"] == "error" and "requires an integer" in stream_text(outputs, "stderr")


def test_subshell_magic_names_the_running_subshell(shared_kernel):
    _, kc = shared_kernel
    _, outputs = execute(kc, "%subshell")
    assert "subshell id: None\n" in stream_text(outputs)
    subshell_id = create(kc)
    msg_id = send_execute(kc, "%subshell", subshell_id)
    replies, _ = replies_to(kc, [msg_id])
    assert replies[msg_id]["content"]["status"] == "ok"
    printed = ""
    while f"subshell list: " not in printed:
        msg = kc.get_iopub_msg(timeout=30)
        if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "stream":
            printed += msg["content"]["text"]
    assert f"subshell id: {subshell_id}\n" in printed
    assert subshell_id in printed.split("subshell list: ")[1]


def test_qtconsole_without_qtconsole_says_what_is_missing(shared_kernel):
    _, kc = shared_kernel
    reply, outputs = execute(kc, "%qtconsole")
    assert reply["status"] == "ok", reply
    assert "qtconsole is not installed" in stream_text(outputs, "stderr")


def test_gui_asyncio_is_accepted_and_the_environment_is_ipykernels(shared_kernel):
    _, kc = shared_kernel
    reply, outputs = execute(kc, "%gui asyncio")
    assert reply["status"] == "ok" and stream_text(outputs, "stderr") == "", outputs
    assert value_of(kc, "get_ipython().active_eventloop") == "'asyncio'"
    environment = value_of(kc, "[__import__('os').environ.get(k) for k in "
                               "('PAGER', 'GIT_PAGER', 'FORCE_COLOR', 'CLICOLOR_FORCE', 'CLICOLOR', 'TERM')]")
    assert environment == "['cat', 'cat', '1', '1', '1', 'xterm-color']"


def test_autoawait_names_asyncio_and_keeps_the_kernels_runner(kernel):
    _, kc = kernel
    runner = "type(get_ipython().loop_runner).__module__"
    _, outputs = execute(kc, "%autoawait")
    assert stream_text(outputs) == "IPython autoawait is `on`, and set to use `asyncio`\n"
    assert value_of(kc, runner) == "'xaccel_kernel.engine'"
    # As written for ipykernel: the kernel's runner stays (not IPython's,
    # which would run awaiting cells outside the kernel's cell handling).
    reply, _ = execute(kc, "%autoawait asyncio")
    assert reply["status"] == "ok", reply
    assert value_of(kc, runner) == "'xaccel_kernel.engine'"
    _, outputs = execute(kc, "import asyncio\nprint(await asyncio.sleep(0, 'awaited'))")
    assert stream_text(outputs) == "awaited\n"
