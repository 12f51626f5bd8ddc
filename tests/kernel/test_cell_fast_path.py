"""The kernel skips IPython's static input transforms, and the compile that
looks for top-level await, for cells they cannot change
(kernel/python/xaccel_kernel/cell_transform.py). What IPython does with
transformer-sensitive cells must stay exactly the same."""

import json

from kernel_harness import execute, stream_text

# Inside the kernel: the kernel's transform manager against IPython's own, on
# cells with and without IPython syntax; and which of them took the fast path.
COMPARE = r"""
import json, warnings
from IPython.core.inputtransformer2 import TransformerManager
from IPython.core.async_helpers import _should_be_async
from xaccel_kernel import cell_transform
ip = get_ipython()
cells = json.loads(CELLS)
def run(manager, cell):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out = manager.transform_cell(cell)
        except Exception as exc:
            out = f"{type(exc).__name__}: {exc}"
    return [out, [str(w.message) for w in caught]]
reference = TransformerManager()
result = []
for cell in cells:
    ours, theirs = run(ip.input_transformer_manager, cell), run(reference, cell)
    fast = cell_transform.plain_transform(cell) is not None
    is_async = ip.should_run_async(cell, transformed_cell=cell)
    result.append([cell, ours == theirs, fast, is_async == _should_be_async(cell), is_async])
print(json.dumps(result))
"""

PLAIN = [
    "pass",
    "x = 1",
    "def f(a, b):\n    return a / b, a % b\n",
    "for i in range(3):\n    if i != 2:\n        print(i, end=';')\n",
    "class A:\n    x = 1\n\n    \n    def f(self):\n        return {'a': [1, 2]}\n",
    "s = '%d items' % 3",
    "x = (1,\n     2)\ny = x",
]
SPECIAL = [
    "a = %pwd",
    "a = !echo hi",
    "!echo hi",
    "%time x = 1",
    "%%time\nx = 1\n",
    "x?",
    "?x",
    "x??",
    ",print a b",
    ";print a b",
    "/print 1 2",
    ">>> x = 1\n... y = 2\n",
    "In [1]: x = 1\n   ...: y = 2\n",
    "  x = 1\n  y = 2\n",
    "\n\nx = 1",
    "if True:\n        x = 1\n    y = 2\n",
    "if True:\n\tx = 1\n        y = 2\n",
    "x = 1\r\ny = 2\r\n",
    "é = 1",
    "x = '\\d'\nif x:\n    y = 1\n",
    "y = 1if 1 else 2\nif y:\n    pass\n",
    "a = \\\n  %pwd",
]
# Plain for the static transforms, but top-level asynchronous code.
AWAITING = ["await asyncio.sleep(0)", "async with x:\n    pass\n", "[i async for i in x]"]


def test_fast_path_gives_what_ipython_gives(shared_kernel):
    km, kc = shared_kernel
    cells = PLAIN + SPECIAL + AWAITING
    reply, outputs = execute(kc, f"CELLS = {json.dumps(json.dumps(cells))}\n" + COMPARE)
    assert reply["status"] == "ok", reply
    rows = json.loads(stream_text(outputs))
    assert [row[0] for row in rows] == cells
    for cell, same, fast, async_same, is_async in rows:
        assert same, f"transform differs from IPython's for {cell!r}"
        assert async_same, f"should_run_async differs from IPython's for {cell!r}"
        assert is_async == (cell in AWAITING), (cell, is_async)
        # The fast path is taken for plain code, never for IPython syntax.
        assert fast == (cell not in SPECIAL), (cell, fast)


def test_transformer_sensitive_cells_still_transformed(shared_kernel):
    km, kc = shared_kernel
    reply, outputs = execute(kc, "import os\na = %pwd\nprint(a == os.getcwd())")
    assert reply["status"] == "ok", reply
    assert stream_text(outputs).strip() == "True"

    reply, outputs = execute(kc, "!echo from-the-shell")
    assert reply["status"] == "ok", reply
    assert "from-the-shell" in stream_text(outputs)

    reply, outputs = execute(kc, ">>> doctest_value = 41\n>>> doctest_value += 1\n")
    assert reply["status"] == "ok", reply
    reply, outputs = execute(kc, "    indented_value = 7\n    print(doctest_value, indented_value)\n")
    assert reply["status"] == "ok", reply
    assert stream_text(outputs).strip() == "42 7"

    reply, _ = execute(kc, "len?")
    assert reply["status"] == "ok", reply
    assert any(p.get("source") == "page" for p in reply["payload"]), reply["payload"]

    # The pure-Python tokenizer's IndentationError, raised while transforming.
    reply, outputs = execute(kc, "if True:\n        x = 1\n    y = 2\n")
    assert reply["status"] == "error"
    assert reply["ename"] == "IndentationError"


def test_plain_and_awaiting_cells_run_and_are_stored(shared_kernel):
    km, kc = shared_kernel
    reply, outputs = execute(kc, "import asyncio\nawait asyncio.sleep(0)\nawaited = 5\nawaited")
    assert reply["status"] == "ok", reply
    results = [o for o in outputs if o["msg_type"] == "execute_result"]
    assert results and results[-1]["content"]["data"]["text/plain"] == "5"

    reply, outputs = execute(kc, "def twice(v):\n    \n    return 2 * v\nprint(twice(21))")
    assert reply["status"] == "ok", reply
    assert stream_text(outputs).strip() == "42"
    count = reply["execution_count"]
    reply, outputs = execute(kc, "print(repr(_i), repr(In[-2]))")
    assert reply["status"] == "ok", reply
    # IPython keeps the raw cell in _i, the transformed one in In: as
    # IPython's dedent does, the whitespace-only line is emptied.
    raw = "def twice(v):\n    \n    return 2 * v\nprint(twice(21))"
    transformed = "def twice(v):\n\n    return 2 * v\nprint(twice(21))"
    assert stream_text(outputs).strip() == f"{raw!r} {transformed!r}"

    kc.history(hist_access_type="range", session=0, start=count, stop=count + 1, raw=False, output=False)
    msg = kc.get_shell_msg(timeout=30)
    assert msg["content"]["status"] == "ok"
    stored = [text for _, line, text in msg["content"]["history"] if line == count]
    assert stored == [transformed], msg["content"]["history"]
