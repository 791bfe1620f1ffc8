"""Executes notebooks/01_quadratic_games.ipynb (its own cells assert the paper's claims)."""

import pathlib

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK = pathlib.Path(__file__).resolve().parents[1] / "notebooks" / "01_quadratic_games.ipynb"


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_quadratic_notebook_runs(tmp_path):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "SGN certifies up to lam = 1.3750" in outputs
    assert "Euclidean test passes up to lam = 0.1667" in outputs
