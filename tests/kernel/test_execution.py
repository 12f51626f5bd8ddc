"""Execution and IPython behaviour through a real kernel process."""

import re

from kernel_harness import execute, of_type, stream_text


def test_execute_result_carries_the_execution_count(shared_kernel):
    _, kc = shared_kernel
    reply, outputs = execute(kc, "6 * 7")
    assert reply["status"] == "ok"
    (result,) = of_type(outputs, "execute_result")
    assert result["content"]["data"]["text/plain"] == "42"
    assert result["content"]["execution_count"] == reply["execution_count"]
    (inp,) = of_type(outputs, "execute_input")
    assert inp["content"]["execution_count"] == reply["execution_count"]


def test_trailing_semicolon_hides_the_result(shared_kernel):
    _, kc = shared_kernel
    _, outputs = execute(kc, "6 * 7;")
    assert not of_type(outputs, "execute_result")


def test_error_names_the_exception_class_with_a_readable_traceback(shared_kernel):
    _, kc = shared_kernel
    reply, outputs = execute(kc, "def f():\n    return 1 / 0\nf()")
    assert reply["status"] == "error"
    assert reply["ename"] == "ZeroDivisionError"
    assert reply["evalue"] == "division by zero"
    (error,) = of_type(outputs, "error")
    assert error["content"]["ename"] == "ZeroDivisionError"
    plain = re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(error["content"]["traceback"]))
    assert "return 1 / 0" in plain and "ZeroDivisionError" in plain


def test_syntax_error_is_reported(shared_kernel):
    _, kc = shared_kernel
    reply, outputs = execute(kc, "1 +* 2")
    assert reply["status"] == "error" and reply["ename"] == "SyntaxError"
    assert of_type(outputs, "error")


def test_magics_time_timeit_capture_and_shell(shared_kernel):
    _, kc = shared_kernel
    _, outputs = execute(kc, "%time x = sum(range(1000))")
    assert "Wall time" in stream_text(outputs)
    _, outputs = execute(kc, "%timeit -n 10 -r 2 sum(range(100))")
    assert "per loop" in stream_text(outputs)
    _, outputs = execute(kc, "%%capture captured\nprint('hidden')")
    assert stream_text(outputs) == ""
    _, outputs = execute(kc, "captured.stdout")
    assert "hidden" in of_type(outputs, "execute_result")[0]["content"]["data"]["text/plain"]
    _, outputs = execute(kc, "!echo from-the-shell")
    assert "from-the-shell" in stream_text(outputs)


def test_rich_reprs(shared_kernel):
    _, kc = shared_kernel
    code = (
        "import base64\n"
        "PNG = base64.b64decode('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==')\n"
        "class Rich:\n"
        "    def _repr_html_(self): return '<i>rich</i>'\n"
        "    def _repr_png_(self): return PNG\n"
        "    def _repr_latex_(self): return r'$\\alpha$'\n"
        "Rich()"
    )
    _, outputs = execute(kc, code)
    data = of_type(outputs, "execute_result")[0]["content"]["data"]
    assert data["text/html"] == "<i>rich</i>"
    assert data["text/latex"] == "$\\alpha$"
    assert data["image/png"].startswith("iVBORw0KGgo")


def test_display_update_and_clear_output(shared_kernel):
    _, kc = shared_kernel
    code = (
        "from IPython.display import display, clear_output, Markdown\n"
        "h = display(Markdown('*one*'), display_id=True)\n"
        "h.update(Markdown('*two*'))\n"
        "clear_output(wait=True)\n"
    )
    _, outputs = execute(kc, code)
    kinds = [m["msg_type"] for m in outputs if m["msg_type"] != "execute_input"]
    assert kinds == ["display_data", "update_display_data", "clear_output"]
    assert of_type(outputs, "update_display_data")[0]["content"]["transient"]["display_id"]
    assert of_type(outputs, "clear_output")[0]["content"]["wait"] is True


def test_matplotlib_is_inline_by_default(shared_kernel):
    _, kc = shared_kernel
    code = "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3])\nplt.show()"
    reply, outputs = execute(kc, code, timeout=60)
    assert reply["status"] == "ok", reply
    images = [m for m in of_type(outputs, "display_data") if "image/png" in m["content"]["data"]]
    assert len(images) == 1


def test_input_and_getpass_over_stdin(shared_kernel):
    _, kc = shared_kernel
    msg_id = kc.execute("name = input('who? ')\nimport getpass\npw = getpass.getpass()\nprint(name, len(pw))",
                        allow_stdin=True)
    request = kc.get_stdin_msg(timeout=10)
    assert request["content"] == {"prompt": "who? ", "password": False}
    kc.input("ada")
    request = kc.get_stdin_msg(timeout=10)
    assert request["content"]["password"] is True
    kc.input("secret")
    reply = kc.get_shell_msg(timeout=10)
    assert reply["parent_header"]["msg_id"] == msg_id and reply["content"]["status"] == "ok"
    _, outputs = execute(kc, "print(name, len(pw))")
    assert stream_text(outputs) == "ada 6\n"


def test_input_without_stdin_support_is_a_clear_error(shared_kernel):
    _, kc = shared_kernel
    reply, _ = execute(kc, "input()", allow_stdin=False)
    assert reply["status"] == "error" and reply["ename"] == "StdinNotImplementedError"


def test_completion_uses_jedi_types(shared_kernel):
    _, kc = shared_kernel
    execute(kc, "import os\nvalue_of_interest = 3")
    reply = kc.complete("value_of_", 9, reply=True, timeout=10)["content"]
    assert reply["matches"] == ["value_of_interest"]
    assert (reply["cursor_start"], reply["cursor_end"]) == (0, 9)
    reply = kc.complete("os.pa", 5, reply=True, timeout=10)["content"]
    assert "os.path" in reply["matches"] or "path" in reply["matches"]
    types = reply["metadata"]["_jupyter_types_experimental"]
    assert any(t["type"] == "module" for t in types)


def test_inspection_request_and_question_mark(shared_kernel):
    _, kc = shared_kernel
    reply = kc.inspect("len", 3, detail_level=0, reply=True, timeout=10)["content"]
    assert reply["found"] is True
    assert "Return the number of items" in reply["data"]["text/plain"]
    reply = kc.inspect("no_such_name_here", 5, reply=True, timeout=10)["content"]
    assert reply["found"] is False
    reply, _ = execute(kc, "len?")
    pages = [p for p in reply["payload"] if p["source"] == "page"]
    assert pages and "Return the number of items" in pages[0]["data"]["text/plain"]
    # A payload goes out with its own cell only.
    reply, _ = execute(kc, "pass")
    assert reply["payload"] == []


def test_is_complete(shared_kernel):
    _, kc = shared_kernel

    def is_complete(code):
        msg_id = kc.is_complete(code)
        reply = kc.get_shell_msg(timeout=10)
        assert reply["parent_header"]["msg_id"] == msg_id
        return reply["content"]

    assert is_complete("x = 1")["status"] == "complete"
    assert is_complete("for i in range(3):") == {"status": "incomplete", "indent": "    "}
    assert is_complete("1 +* 2")["status"] == "invalid"


def test_history_entries_are_three_tuples(shared_kernel):
    _, kc = shared_kernel
    execute(kc, "history_marker = 'abc'")
    tail = kc.history(hist_access_type="tail", n=2, reply=True, timeout=10)["content"]["history"]
    assert all(len(entry) == 3 for entry in tail)
    assert tail[-1][2] == "history_marker = 'abc'"
    session, line = tail[-1][0], tail[-1][1]
    rng = kc.history(hist_access_type="range", session=session, start=line, stop=line + 1, raw=True,
                     output=False, reply=True, timeout=10)["content"]["history"]
    assert rng == [[session, line, "history_marker = 'abc'"]]
    found = kc.history(hist_access_type="search", pattern="history_marker*", reply=True, timeout=10)
    assert any("history_marker" in entry[2] for entry in found["content"]["history"])


def test_kernel_info(shared_kernel):
    _, kc = shared_kernel
    info = kc.kernel_info(reply=True, timeout=10)["content"]
    import platform

    assert info["implementation"] == "xaccel" and info["implementation_version"]
    assert info["language_info"]["name"] == "python"
    assert info["language_info"]["version"] == platform.python_version()
    assert info["banner"] and info["help_links"]
    assert info["protocol_version"] == "5.3"


def test_connect_request_reports_the_connection_file_ports(shared_kernel):
    km, kc = shared_kernel
    expected = {name: km.get_connection_info()[name]
                for name in ("shell_port", "iopub_port", "stdin_port", "control_port", "hb_port")}
    expected["status"] = "ok"

    def connect(channel, subshell_id=None):
        msg = kc.session.msg("connect_request")
        if subshell_id is not None:
            msg["header"]["subshell_id"] = subshell_id
        channel.send(msg)
        reply = channel.get_msg(timeout=10)
        assert reply["parent_header"]["msg_id"] == msg["header"]["msg_id"]
        assert reply["msg_type"] == "connect_reply"
        return reply["content"]

    assert connect(kc.shell_channel) == expected
    assert connect(kc.control_channel) == expected
    # A busy kernel answers on control and in a subshell (as ipykernel does).
    create = kc.session.msg("create_subshell_request")
    kc.control_channel.send(create)
    subshell_id = kc.control_channel.get_msg(timeout=10)["content"]["subshell_id"]
    msg_id = kc.execute("waited = input()", allow_stdin=True)
    kc.get_stdin_msg(timeout=10)
    assert connect(kc.control_channel) == expected
    assert connect(kc.shell_channel, subshell_id) == expected
    kc.input("done")
    reply = kc.get_shell_msg(timeout=10)
    assert reply["parent_header"]["msg_id"] == msg_id and reply["content"]["status"] == "ok"


def test_accel_is_preloaded(shared_kernel):
    _, kc = shared_kernel
    reply, outputs = execute(kc, "accel.__name__")
    assert reply["status"] == "ok", reply
    assert of_type(outputs, "execute_result")[0]["content"]["data"]["text/plain"] == "'accel'"


def test_input_variables_counts_and_last_result_follow_ipython(shared_kernel):
    # The kernel keeps these as plain attributes rather than IPython's traits
    # (shell.py, history.py, display.py): the values must still be IPython's.
    _, kc = shared_kernel
    first, _ = execute(kc, "first_marker = 1")
    execute(kc, "second_marker = 2")
    reply, outputs = execute(kc, "(_i, _ii, _iii == In[-4], In[-1] == get_ipython().history_manager._i00)")
    (result,) = of_type(outputs, "execute_result")
    assert result["content"]["data"]["text/plain"] == "('second_marker = 2', 'first_marker = 1', True, True)"
    assert reply["execution_count"] == first["execution_count"] + 2
    reply, outputs = execute(kc, f"_i{first['execution_count']}, get_ipython().execution_count")
    (result,) = of_type(outputs, "execute_result")
    assert result["content"]["data"]["text/plain"] == f"('first_marker = 1', {reply['execution_count'] + 1})"
    assert result["content"]["execution_count"] == reply["execution_count"]
    reply, _ = execute(kc, "1 / 0")
    assert reply["status"] == "error"
    _, outputs = execute(kc, "ip = get_ipython(); (ip.last_execution_succeeded, ip.last_execution_result.error_in_exec.__class__.__name__)")
    (result,) = of_type(outputs, "execute_result")
    assert result["content"]["data"]["text/plain"] == "(False, 'ZeroDivisionError')"
    _, outputs = execute(kc, "ip.last_execution_succeeded, Out[max(Out)] is _")
    (result,) = of_type(outputs, "execute_result")
    assert result["content"]["data"]["text/plain"] == "(True, True)"
