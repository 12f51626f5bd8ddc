"""What one cell does to the kernel's state must not break or bloat later cells."""

import re

import pytest

from kernel_harness import execute, of_type, stream_text


def result(kc, code):
    reply, outputs = execute(kc, code)
    assert reply["status"] == "ok", reply
    return of_type(outputs, "execute_result")[0]["content"]["data"]["text/plain"]


@pytest.mark.parametrize("name", ["stdout", "stderr"])
@pytest.mark.parametrize("value", ["None", "object()"])
def test_a_stream_without_write_is_restored_with_one_warning(kernel, name, value):
    _, kc = kernel
    execute(kc, f"import sys\nsys.{name} = {value}")
    reply, outputs = execute(kc, "print('out after'); print('err after', file=sys.stderr)")
    assert reply["status"] == "ok", reply
    assert stream_text(outputs, "stdout") == "out after\n"
    warnings = stream_text(outputs, "stderr")
    assert f"sys.{name} was replaced" in warnings and "err after" in warnings
    # Reported once: the next cell is clean.
    reply, outputs = execute(kc, "print('again')")
    assert reply["status"] == "ok" and stream_text(outputs, "stdout") == "again\n"
    assert stream_text(outputs, "stderr") == ""


def test_a_working_stream_set_by_user_code_is_kept(kernel):
    _, kc = kernel
    execute(kc, "import io, sys\ncaptured = io.StringIO()\nsys.stdout = captured")
    execute(kc, "print('into the buffer')")
    reply, outputs = execute(kc, "sys.stdout = sys.stderr\ncaptured.getvalue()")
    assert of_type(outputs, "execute_result")[0]["content"]["data"]["text/plain"] == "'into the buffer\\n'"


def test_identical_cells_share_one_source_cache_entry(kernel):
    _, kc = kernel
    execute(kc, "import linecache")
    before = int(result(kc, "len(linecache.cache)"))
    for _ in range(200):
        assert execute(kc, "x = 1")[0]["status"] == "ok"
    after = int(result(kc, "len(linecache.cache)"))
    # `x = 1` and `len(linecache.cache)` each have their one entry.
    assert after - before <= 2, (before, after)


def test_tracebacks_and_source_still_name_the_cell(kernel):
    _, kc = kernel
    execute(kc, "def f():\n    return 42")
    assert result(kc, "import inspect\ninspect.getsource(f)") == "'def f():\\n    return 42\\n'"
    for _ in range(2):
        reply, outputs = execute(kc, "1/0")
    assert reply["ename"] == "ZeroDivisionError"
    text = re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(of_type(outputs, "error")[0]["content"]["traceback"]))
    count = reply["execution_count"]
    assert f"In[{count}]" in text and "1/0" in text
