"""JupyterLab's visual debugger on xaccel, in headless Chromium.

JupyterLab from the venv serves a notebook on the xaccel kernel;
lab_debugger_test.js (playwright-core driving Debian's chromium) enables the
debugger, clicks the gutter to set a breakpoint, runs the cell, reads the
Callstack and Variables panels, presses Continue and waits for the output.
Missing chromium, node or playwright-core make the test FAIL naming it.
"""

from pathlib import Path

import nbformat
import pytest

from kernel_harness import KERNEL_NAME, require_kernelspec
from lab_server import jupyter_lab, require_browser_tools, run_driver

SCRIPT = Path(__file__).with_name("lab_debugger_test.js")
CELL = "a = 1\nb = [a, 'two', {'three': 3}]\nc = a + 1\nprint('finished', c)"


@pytest.fixture
def lab(tmp_path):
    require_kernelspec()
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": KERNEL_NAME, "display_name": "xaccel", "language": "python"}
    nb.cells.append(nbformat.v4.new_code_cell(CELL))
    nbformat.write(nb, tmp_path / "debug.ipynb")
    with jupyter_lab(tmp_path, tmp_path / "lab-state") as (base, token, _log):
        yield f"{base}lab/tree/debug.ipynb?token={token}"


@pytest.mark.timeout(300)
def test_breakpoint_callstack_variables_continue_in_jupyterlab(lab):
    require_browser_tools("the JupyterLab debugger test")
    result = run_driver(SCRIPT, lab, timeout=240)
    print(f"\nJupyterLab debugger session: {result}")
    assert not result.get("fatal"), f"steps done: {result['steps']}\n{result['fatal']}\nDOM: {result.get('dom')}"
    # Callstack: the cell's module frame, in the cell's file, stopped on line 3.
    [frame] = [f for f in result["callstack"] if "<module>" in f]
    assert frame.rstrip().endswith(".py:3"), frame
    # Variables (tree view): the globals set by lines 1-2 with value or type;
    # c (line 3) is not assigned yet.
    words = result["variables"].split()
    assert words[words.index("a") + 1] == "1", words
    assert words[words.index("b") + 1] == "list", words
    assert "c" not in words
    assert "finished 2" in result["output"]
