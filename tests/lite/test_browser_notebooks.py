"""Run All in the xaccel JupyterLite site, in headless Chromium.

One browser session (lite/tests/notebooks_test.js, playwright-core driving Debian's
/usr/bin/chromium) opens every notebook the site ships, runs Lab's "Run All Cells"
and reports each code cell's outputs; then it runs the stop_on_error scenario on a
notebook it creates. The site is the one lite/build writes (the `site` fixture of
test_browser.py builds and serves it). Missing chromium, node or playwright-core make
the tests FAIL with the name of what is missing (never skip).
"""
from __future__ import annotations

import json
import re

import pytest
from site_server import BUILD_SITE, OUTPUT, run_js
from test_browser import site  # noqa: F401 - the fixture

pytestmark = pytest.mark.timeout(3600 if BUILD_SITE else 900)

# The tag nbval and nbsphinx use (tests/kernel/test_notebooks.py too): the cell's
# error is the point of the demo.
INTENDED_ERROR_TAG = "raises-exception"


def shipped_notebooks():
    """The notebooks the built site offers (its contents index)."""
    index = json.loads((OUTPUT / "api" / "contents" / "all.json").read_text())
    names = sorted(item["path"] for item in index["content"] if item["type"] == "notebook")
    return names


@pytest.fixture(scope="module")
def run(site):  # noqa: F811 - the imported fixture
    names = shipped_notebooks()
    result = run_js("notebooks_test.js", site, *names, timeout=850)
    print("\nRun All times (s): " + ", ".join(f"{k} {v['seconds']:.1f}" for k, v in result["notebooks"].items()))
    return result


def _plain(text):
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def _errors(cell):
    return [o for o in cell["outputs"] if o["output_type"] == "error"]


def test_the_site_ships_the_demo_notebooks(site):  # noqa: F811
    names = shipped_notebooks()
    for demo in ("accel-tour.ipynb", "async-tour.ipynb", "kernel-tour.ipynb", "numpy-tour.ipynb"):
        assert demo in names, names


def test_every_shipped_notebook_runs_clean(run):
    assert set(run["notebooks"]) == set(shipped_notebooks())
    problems = []
    for name, nb in run["notebooks"].items():
        assert nb["cells"], f"{name}: no code cells"
        for cell in nb["cells"]:
            errors = _errors(cell)
            where = f"{name} cell {cell['index']} ({cell['source'][:60]!r})"
            if cell["execution_count"] is None:
                problems.append(f"{where} did not run")
            if INTENDED_ERROR_TAG in cell["tags"]:
                if not errors:
                    problems.append(f"{where} is tagged {INTENDED_ERROR_TAG} but shows no error")
                continue
            for e in errors:
                problems.append(f"{where}: {e['ename']}: {e['evalue']}\n" + _plain("\n".join(e["traceback"]))[-1500:])
        assert len(nb["replies"]) == len(nb["cells"])
    assert not problems, "\n\n".join(problems)


def test_browser_notes_explain_replaced_cells(site):  # noqa: F811
    """A cell replaced in the site's copy is preceded by the sentence that says why."""
    from_site = json.loads((OUTPUT / "files" / "async-tour.ipynb").read_text())
    sources = ["".join(c["source"]) if isinstance(c["source"], list) else c["source"] for c in from_site["cells"]]
    notes = [i for i, s in enumerate(sources) if s.startswith("**In the browser:**")]
    assert notes, "async-tour.ipynb in the site has no browser note"
    # asyncio.run needs JSPI: the copy prints the error's advice where the browser lacks it
    assert "except RuntimeError" in sources[notes[0] + 1], sources[notes[0] + 1]


def test_run_all_stops_at_an_error_and_later_cells_run(run):
    s = run["stop_on_error"]
    assert s["run_all"] == ["ok", "error", "aborted"], s["run_all"]
    first, failed, third = s["after_run_all"]
    assert [o.get("text") for o in first["outputs"]] == ["A\n"]
    assert [o["ename"] for o in _errors(failed)] == ["ZeroDivisionError"]
    # the third cell never ran: no output, no execution count, nothing in the DOM
    assert third["outputs"] == [] and third["dom_outputs"] == 0, third
    assert third["execution_count"] is None, third
    # run on its own after the error's reply, it runs
    assert s["run_again"] == ["ok"]
    third = s["after_run_again"][2]
    assert [o.get("text") for o in third["outputs"]] == ["C ran\n"], third
    assert third["dom_outputs"] == 1 and third["execution_count"] is not None, third


def test_asyncio_run_suspends_the_cell_with_jspi(run):
    """Chromium has JavaScript Promise Integration: asyncio.run() and run_until_complete()
    work in a cell while the kernel's loop goes on (a ticker task keeps ticking), the cells
    that Run All queued meanwhile run after it, and inside a task the error names `await`."""
    a = run["asyncio_run"]
    assert a["jspi"], "this Chromium has no JSPI (WebAssembly.Suspending)"
    assert a["run_all"] == ["ok"] * 5, a
    texts = ["".join(o.get("text", "") for o in c["outputs"]) for c in a["cells"]]
    assert texts[1] == "asyncio.run returned True True\n", a["cells"][1]
    assert a["cells"][2]["outputs"][0]["data"]["text/plain"] == "7"
    assert texts[3] == "queued cell ran, ticker alive: True\n"
    assert texts[4].startswith("in a task: asyncio.run() cannot wait inside a task"), texts[4]
    assert "use `await` there instead" in texts[4]
    counts = [c["execution_count"] for c in a["cells"]]
    assert counts == sorted(counts) and None not in counts, counts
