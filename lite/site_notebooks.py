#!/usr/bin/env python3
"""Writes the site's copies of the demo notebooks (lite/build runs this).

    python3 lite/site_notebooks.py SRC_DIR OUT_DIR

The demo notebooks in notebooks/ are written for the native kernel. A code cell
whose native behaviour the browser cannot have carries its browser version in
its metadata, next to the code it replaces, so that both stay together:

    "metadata": {"xaccel": {"browser": {
        "source": ["code the site's copy runs instead\n", "(a string or lines)"],
        "why": "One sentence, shown above the cell, that says why."}}}

The site's copy gets that source and, just above the cell, a Markdown cell with
the sentence. A Markdown cell (e.g. a heading that names native behaviour) may
carry a browser `source` alone. Everything else is copied unchanged (outputs
are dropped).
Standard library only: the host python3.11 runs it.
"""
import json
import sys
from pathlib import Path

NOTE_PREFIX = "**In the browser:** "


def browser_version(nb):
    cells = []
    for cell in nb["cells"]:
        browser = cell.get("metadata", {}).get("xaccel", {}).get("browser")
        if cell["cell_type"] == "code":
            cell = dict(cell, outputs=[], execution_count=None)
        if browser is None:
            cells.append(cell)
            continue
        source = browser.get("source")
        if isinstance(source, list):
            source = "".join(source)
        if not isinstance(source, str) or (cell["cell_type"] == "code" and not browser.get("why")):
            raise ValueError(f"xaccel.browser needs a 'source' (and for code, a 'why'): {cell.get('source')!r}")
        if browser.get("why"):
            note = {"cell_type": "markdown", "metadata": {}, "source": NOTE_PREFIX + browser["why"]}
            if "id" in cell:
                note["id"] = cell["id"] + "-browser-note"
            cells.append(note)
        metadata = {k: v for k, v in cell["metadata"].items() if k != "xaccel"}
        cells.append(dict(cell, metadata=metadata, source=source))
    return dict(nb, cells=cells)


def main(src, out):
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.ipynb"):
        old.unlink()
    for path in sorted(src.glob("*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        text = json.dumps(browser_version(nb), indent=1, ensure_ascii=False) + "\n"
        (out / path.name).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(Path(sys.argv[1]), Path(sys.argv[2]))
