"""notebooks/02_nonlinear_games.ipynb: stored executed (text and figure), public imports only, and re-executed here."""

import pathlib
import re

import nbformat
from nbclient import NotebookClient

NOTEBOOK = pathlib.Path(__file__).resolve().parents[2] / "notebooks" / "02_nonlinear_games.ipynb"
PRIVATE = re.compile(r"^\s*(from|import)\s+\w+(\.\w+)*\._", re.MULTILINE)


def _text(nb):
    return "\n".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))


def _images(nb):
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
            if "image/png" in o.get("data", {})]


def _check_claims(text):
    # Sampled certifies the big box, sound refuses it; the saddle has a negative eigenvalue.
    assert "sampled  certified" in text
    assert "sound    not_certified" in text
    assert "sampled certificate is an estimate: True" in text
    # Refining tightens L_12 but cannot remove the dip: mu_1 stays -1 (= 1 - a/s at the dip, a = 0.02, s = 0.01).
    assert re.search(r"after \d+ rounds of refine \(\d+ boxes\): mu_1 = -1,", text)
    # Subdivision on the smaller box: a sound certificate with a passed (sound) Nash check.
    assert "certified sound margin" in text
    assert "Nash check: passed (sound)" in text
    assert "(estimate)" in text


def test_stored_notebook_shows_its_results_and_imports_only_public_names():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert PRIVATE.search(code) is None
    assert all(c.get("execution_count") for c in nb.cells if c.cell_type == "code")  # stored executed
    assert len(_images(nb)) >= 1
    _check_claims(_text(nb))


def test_notebook_runs_and_shows_the_claim():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
    resources = {"metadata": {"path": str(NOTEBOOK.parent)}}
    NotebookClient(nb, timeout=300, kernel_name="python3", resources=resources).execute()
    assert len(_images(nb)) >= 1
    _check_claims(_text(nb))
