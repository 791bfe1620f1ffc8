"""Execute notebooks/04_token_entropy.ipynb (stored RL results and a tiny live run) with nbclient."""

import os

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_notebook_runs():
    path = os.path.join(ROOT, "notebooks", "04_token_entropy.ipynb")
    nb = nbformat.read(path, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")  # stripped
    env_pp = os.environ.get("PYTHONPATH", "")
    os.environ["PYTHONPATH"] = ROOT + (os.pathsep + env_pp if env_pp else "")
    try:
        client = nbclient.NotebookClient(nb, timeout=180, kernel_name="python3",
                                         resources={"metadata": {"path": ROOT}})
        client.execute()
    finally:
        os.environ["PYTHONPATH"] = env_pp
    text = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    assert "| clip_cov_paper |" in text  # the stored table of the evaluation seeds
    assert "(5/5)" in text  # paired differences to GRPO, by seed
    assert "grpo      H:" in text  # the live run
    assert "clip_cov  H:" in text
    assert "a = " in text
