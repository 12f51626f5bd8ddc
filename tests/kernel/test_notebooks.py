"""The demo notebooks run end to end on the xaccel kernel (nbclient)."""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from kernel_harness import require_kernelspec

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
# Cells that show an error on purpose: (notebook, cell index) -> ename.
EXPECTED_ERRORS = {("async-tour.ipynb", 12): "ValueError"}


@pytest.mark.parametrize("name", sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")))
def test_notebook_runs(name, tmp_path):
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
        expected = EXPECTED_ERRORS.get((name, index))
        if expected:
            assert [e.ename for e in errors] == [expected], f"cell {index}: {errors}"
        else:
            assert not errors, f"{name} cell {index} failed: {errors[0].ename}: {errors[0].evalue}"
    assert code_cells > 0
