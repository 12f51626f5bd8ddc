"""JupyterLab from .venv with the xaccel kernel, in headless Chromium (the DOM
is what is asserted): Run All stops at an error, ipywidgets' interact, Output
and Button put their output where ipykernel's do, a slider's observer runs
while a cell sleeps, and a subshell console answers meanwhile.

tests/kernel/lab_browser.js drives the page with playwright-core (installed by
`npm ci --prefix lite/tests`) and Debian's /usr/bin/chromium; a missing piece
makes the test FAIL with its name."""

import json
import uuid
from pathlib import Path

import pytest

from kernel_harness import KERNEL_NAME, require_kernelspec
from lab_server import jupyter_lab, require_browser_tools, run_driver


def _notebook(cells):
    return {
        "cells": [{"cell_type": "code", "execution_count": None, "id": uuid.uuid4().hex[:8], "metadata": {},
                   "outputs": [], "source": source} for source in cells],
        "metadata": {"kernelspec": {"name": KERNEL_NAME, "display_name": "xaccel", "language": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


RUN_ALL = ["print('A')", "b_ran = True\n1/0", "c_ran = True\nprint('C ran')", "d_ran = True\nprint('D ran')"]

WIDGETS = [
    "from ipywidgets import interact\n"
    "@interact(x=(0, 10))\n"
    "def square(x=3):\n"
    "    print(f'square of {x} is {x * x}')",

    "import ipywidgets as widgets\n"
    "out = widgets.Output(layout={'border': '1px solid'})\n"
    "display(out)\n"
    "with out:\n"
    "    print('inside the output widget')",

    "button = widgets.Button(description='Click me')\n"
    "log = widgets.Output()\n"
    "def on_click(b):\n"
    "    with log:\n"
    "        print('button clicked')\n"
    "button.on_click(on_click)\n"
    "display(button, log)",
]

BUSY = [
    "import time, ipywidgets as widgets\n"
    "slider = widgets.IntSlider(description='s')\n"
    "label = widgets.Label('not moved')\n"
    "slider.observe(lambda change: setattr(label, 'value', f'moved to {change.new}'), 'value')\n"
    "display(slider, label)",

    "busy_value = 4321\nprint('sleeping', flush=True)\ntime.sleep(5)\nprint('sleep over')",

    "print('sleeping again', flush=True)\ntime.sleep(10)\nprint('second sleep over')",
]

@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    require_browser_tools("the JupyterLab browser test")
    require_kernelspec()
    root = tmp_path_factory.mktemp("lab-root")
    (root / "run_all.ipynb").write_text(json.dumps(_notebook(RUN_ALL)))
    (root / "widgets.ipynb").write_text(json.dumps(_notebook(WIDGETS)))
    (root / "busy.ipynb").write_text(json.dumps(_notebook(BUSY)))
    state = tmp_path_factory.mktemp("lab-state")
    with jupyter_lab(root, state) as server:
        yield server


@pytest.fixture(scope="module")
def page(lab):
    base, token, server_log = lab
    result = run_driver(Path(__file__).with_name("lab_browser.js"), base, token, timeout=400)
    print("\nwhat the page showed:", json.dumps({k: result.get(k) for k in ("run_all", "widgets", "busy")}))
    if result.get("fatal"):
        pytest.fail(f"browser session failed: {result['fatal']}\npage: {json.dumps(result.get('page'))[:3000]}\n"
                    "console:\n" + "\n".join(result.get("console", [])) + "\nserver log:\n"
                    + server_log.read_text()[-3000:])
    return result


@pytest.mark.timeout(600)
def test_run_all_stops_at_the_error(page):
    cells = page["run_all"]["cells"]
    assert len(cells) == 4
    assert cells[0]["prompt"] == "[1]:" and "A" in cells[0]["output"]
    assert cells[1]["prompt"] == "[2]:" and "ZeroDivisionError" in cells[1]["output"]
    for later in cells[2:]:
        # Aborted: never run, so no execution count and no output.
        assert later["prompt"] == "[ ]:" and later["output"].strip() == "", later
    assert page["run_all"]["later_cells_ran"] == "False False"


@pytest.mark.timeout(600)
def test_interact_output_updates_inside_its_output_area(page):
    before, after = page["widgets"]["before"][0], page["widgets"]["after"][0]
    assert any("square of 3 is 9" in text for text in before["in_output_widgets"])
    # All of the function's output is inside the widget, none in the cell.
    assert before["output"].count("square of") == sum(t.count("square of") for t in before["in_output_widgets"]) == 1
    assert any("square of 4 is 16" in text for text in after["in_output_widgets"])
    assert "square of 3" not in after["output"]
    assert after["output"].count("square of") == 1


@pytest.mark.timeout(600)
def test_with_output_prints_inside_the_output_widget(page):
    cell = page["widgets"]["after"][1]
    assert cell["in_output_widgets"] and "inside the output widget" in cell["in_output_widgets"][0]
    assert cell["output"].count("inside the output widget") == 1


@pytest.mark.timeout(600)
def test_a_button_click_writes_into_an_output_widget(page):
    before, after = page["widgets"]["before"][2], page["widgets"]["after"][2]
    assert "button clicked" not in before["output"]
    assert any("button clicked" in text for text in after["in_output_widgets"])
    assert after["output"].count("button clicked") == 1


@pytest.mark.timeout(600)
def test_slider_observer_runs_while_a_cell_sleeps(page):
    slider = page["busy"]["slider"]
    # The label changed while the cell was still inside time.sleep(5).
    assert "sleeping" in slider["sleeping_cell"]["output"], slider
    assert "sleep over" not in slider["sleeping_cell"]["output"], slider
    print("label updated", slider["label_after_ms"], "ms after the slider moved")


@pytest.mark.timeout(600)
def test_subshell_console_reads_a_variable_while_the_notebook_is_busy(page):
    result = page["busy"]["console"]
    assert result["subshell_id"]
    assert "sleeping again" in result["busy_cell"]["output"], result
    assert "second sleep over" not in result["busy_cell"]["output"], result
    print("subshell console answered in", result["answer_after_ms"], "ms")
    # Then the notebook's cells ended normally.
    cells = page["busy"]["cells"]
    assert "sleep over" in cells[1]["output"] and "second sleep over" in cells[2]["output"]
