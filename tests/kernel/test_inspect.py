"""inspect_request answers what ipykernel 7.4 answers: IPython's compact text
(Signature/Docstring/File/Type), no HTML page; compared with the real
ipykernel kernel (kernelspec `python3` of the venv) for the same requests."""

import re

import pytest

from kernel_harness import execute, start_kernel, stop_kernel

SETUP = (
    "import json, os.path, collections\n"
    "def cell_function(x, y=1, *args, flag=False, **kw):\n"
    "    '''Add things, a docstring of a function defined in a cell.'''\n"
    "    return x\n"
    "class CellClass:\n"
    "    '''A class defined in a cell.'''\n"
    "    def method(self, a):\n"
    "        '''A method.'''\n"
    "value = [1, 2, 3]\n"
)

# (code, cursor position or None for the end)
REQUESTS = [
    ("len", None),
    ("print(", None),
    ("json.dumps", None),
    ("os.path.join", None),
    ("collections.OrderedDict", None),
    ("dict.get", None),
    ("value", None),
    ("cell_function", None),
    ("CellClass", None),
    ("CellClass().method", None),
    ("x = json.loads('1') + 2", 8),
    ("no_such_name_anywhere", None),
]


def _inspect(kc, code, cursor_pos, detail_level, omit_sections=None):
    content = {"code": code, "cursor_pos": len(code) if cursor_pos is None else cursor_pos, "detail_level": detail_level}
    if omit_sections is not None:
        content["omit_sections"] = omit_sections
    msg = kc.session.msg("inspect_request", content)
    kc.shell_channel.send(msg)
    while True:
        reply = kc.get_shell_msg(timeout=30)
        if reply["parent_header"].get("msg_id") == msg["header"]["msg_id"]:
            return reply["content"]


def _normalize(reply):
    """Where a cell's code lives differs by name (/tmp/ipykernel_PID/HASH.py,
    /tmp/xaccel_PID/HASH.py): compare everything else."""
    data = dict(reply.get("data", {}))
    if "text/plain" in data:
        data["text/plain"] = re.sub(r"(File:(?:\x1b\[[0-9;]*m)?\s+)/tmp/(?:ipykernel|xaccel)_\d+/\w+\.py", r"\1<cell>",
                                    data["text/plain"])
        data["text/plain"] = re.sub(r"(File:(?:\x1b\[[0-9;]*m)?\s+)\S*<ipython-input-[^>]*>", r"\1<cell>",
                                    data["text/plain"])
    return {**reply, "data": data}


def _answers(name):
    km, kc = start_kernel(name)
    try:
        reply, _ = execute(kc, SETUP)
        assert reply["status"] == "ok", reply
        return {
            (code, pos, level, tuple(omit or ())): _inspect(kc, code, pos, level, omit)
            for code, pos in REQUESTS
            for level in (0, 1)
            for omit in (None, ["docstring"])
        }
    finally:
        stop_kernel(km, kc)


@pytest.fixture(scope="module")
def answers():
    return _answers(None), _answers("python3")


def test_same_answers_as_ipykernel(answers):
    ours, theirs = answers
    assert ours.keys() == theirs.keys()
    for key in ours:
        assert _normalize(ours[key]) == _normalize(theirs[key]), key


def test_answers_are_compact_text(answers):
    ours, _ = answers
    reply = ours[("json.dumps", None, 0, ())]
    assert reply["status"] == "ok" and reply["found"] is True
    assert set(reply["data"]) == {"text/plain"}
    text = reply["data"]["text/plain"]
    for heading in ("Signature:", "Docstring:", "File:", "Type:"):
        assert heading in re.sub(r"\x1b\[[0-9;]*m", "", text), text
    assert ours[("no_such_name_anywhere", None, 0, ())]["found"] is False
    # detail_level 1 shows the source of a Python function.
    assert "return x" in re.sub(r"\x1b\[[0-9;]*m", "", ours[("cell_function", None, 1, ())]["data"]["text/plain"])
