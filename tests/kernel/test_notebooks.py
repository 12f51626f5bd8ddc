"""The demo notebooks run end to end on the xaccel kernel (nbclient), clean:
no error output and nothing on stderr, except in cells tagged
`raises-exception` (the tag nbval and nbsphinx use), which must show an error."""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from kernel_harness import require_kernelspec

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
INTENDED_ERROR_TAG = "raises-exception"
# What the tagged cells raise: (notebook, cell index) -> ename.
EXPECTED_ERRORS = {("async-tour.ipynb", 12): "ValueError"}


@pytest.mark.parametrize("name", sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")))
def test_notebook_runs_clean(name, tmp_path):
    require_kernelspec()
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = NotebookClient(nb, kernel_name="xaccel", timeout=120, allow_errors=True,
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    code_cells = 0
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        code_cells += 1
        errors = [o for o in cell.outputs if o.output_type == "error"]
        stderr = "".join(o.text for o in cell.outputs if o.output_type == "stream" and o.name == "stderr")
        if INTENDED_ERROR_TAG in cell.metadata.get("tags", []):
            expected = EXPECTED_ERRORS[(name, index)]
            assert [e.ename for e in errors] == [expected], f"{name} cell {index}: {errors}"
            continue
        assert not errors, f"{name} cell {index} failed: {errors[0].ename}: {errors[0].evalue}"
        assert not stderr, f"{name} cell {index} wrote to stderr:\n{stderr}"
    assert code_cells > 0
    tagged = {(name, i) for i, c in enumerate(nb.cells) if INTENDED_ERROR_TAG in c.metadata.get("tags", [])}
    assert tagged == {key for key in EXPECTED_ERRORS if key[0] == name}
