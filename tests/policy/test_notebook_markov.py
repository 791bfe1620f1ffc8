"""Executes notebooks/03_markov_games.ipynb (thin, small sizes) with nbclient."""

import pathlib

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOK = pathlib.Path(__file__).resolve().parents[2] / "notebooks" / "03_markov_games.ipynb"


def test_markov_notebook_runs_and_reports():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")  # outputs stripped
    nbclient.NotebookClient(nb, kernel_name="python3", timeout=120,
                            resources={"metadata": {"path": str(NOTEBOOK.parent.parent)}}).execute()
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "certified" in text
    assert "0.8 not_certified" in text
    assert "1.2 certified" in text
