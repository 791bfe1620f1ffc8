"""The notebooks are stored executed (text and figures, so they read well on a code host) and import only
public names (default suite); each re-executes from its own folder, as `jupyter lab notebooks/` runs it,
showing the same claims (slow suite: `make test-slow`)."""

import pathlib
import re

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = pathlib.Path(__file__).resolve().parents[1]
FOLDER = ROOT / "notebooks"
PRIVATE = re.compile(r"^\s*(from|import)\s+\w+(\.\w+)*\._", re.MULTILINE)


def _text(nb):
    return "\n".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))


def _images(nb):
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
            if "image/png" in o.get("data", {})]


def _workflow_claims(nb):
    text = _text(nb)
    # the flax game, its sound certificate with per-player weights; the strongest passing test proves it (the
    # direct test at the SGN weights: its margin 0.495 beats the small-gain margin on this game)
    assert "Game('robust-fit', 2 players, dims=(3, 2)" in text
    assert re.search(r"Certificate\('robust-fit', certified, margin=[0-9.]+, bounds='sound'", text)
    assert "proved by: direct (SGN weights)" in text
    # training at the certified step: cert.optimizer() is sgn.certified_sgd(h*), inside the box, within the bound
    assert "cert.optimizer() == sgn.certified_sgd(h*): True" in text
    assert "both runs stay in the box: True" in text
    assert re.search(r"W-distance after 150 steps: \S+ <= certified \S+: True", text)
    # the game file on the command line, verify, and the sweep of its own parameter with the SHA-256
    assert "$ sgn certify my_game.py:make_game --bounds interval --out cert.json   (exit code 0)" in text
    assert "wrote --out cert.json" in text
    assert "recomputed and consistent (certified)" in text
    assert ": OK" in text
    assert "wrote --out sweep.json" in text
    assert re.search(r"SGN certifies reg >= \S+; the Euclidean test passes reg >= \S+; definition SHA-256", text)
    assert len(_images(nb)) == 2  # training contraction, sweep of reg


def _quadratic_claims(nb):
    text = _text(nb)
    assert "SGN certifies up to lam = 1.3750" in text
    assert "Euclidean test passes up to lam = 0.1667" in text
    assert len(_images(nb)) == 3  # band, phase portrait, LQ sweep


def _nonlinear_claims(nb):
    text = _text(nb)
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
    assert len(_images(nb)) == 1  # sampled vs sound bounds, and the refined boxes


def _markov_claims(nb):
    text = _text(nb)
    assert "certified alpha=" in text  # the Fisher-geometry certificate of the cooperative Markov game
    assert "0.8 not_certified" in text  # the tau sweep: refused below, certified above
    assert "1.2 certified" in text
    # the regularised value approaches the Shapley value within tau log 2 (one line per tau)
    assert len(re.findall(r"gap \d\.\d+ <= tau log 2", text)) == 3
    assert len(_images(nb)) == 1  # KL decay at the certified step, and the timescale band


def _token_claims(nb):
    text = _text(nb)
    assert "| clip_cov_paper |" in text  # the stored table of the evaluation seeds
    assert "(5/5)" in text  # paired differences to GRPO, by seed
    assert "grpo      H:" in text  # the live run
    assert "clip_cov  H:" in text
    assert "a = " in text
    assert len(_images(nb)) == 1  # entropy and reward curves of the stored run


NOTEBOOKS = [("00_your_own_game.ipynb", _workflow_claims),
             ("01_quadratic_games.ipynb", _quadratic_claims),
             ("02_nonlinear_games.ipynb", _nonlinear_claims),
             ("03_markov_games.ipynb", _markov_claims),
             ("04_token_entropy.ipynb", _token_claims)]


def test_every_notebook_is_checked():
    assert sorted(p.name for p in FOLDER.glob("*.ipynb")) == sorted(name for name, _ in NOTEBOOKS)


@pytest.mark.parametrize(("name", "claims"), NOTEBOOKS)
def test_stored_notebook_shows_its_results_and_imports_only_public_names(name, claims):
    nb = nbformat.read(FOLDER / name, as_version=4)
    assert PRIVATE.search("\n".join(c.source for c in nb.cells if c.cell_type == "code")) is None
    assert all(c.get("execution_count") for c in nb.cells if c.cell_type == "code")  # stored executed
    claims(nb)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize(("name", "claims"), NOTEBOOKS)
def test_notebook_reexecutes_from_its_own_folder(name, claims, tmp_path, monkeypatch):
    """The kernel starts in notebooks/ (as `jupyter lab notebooks/` or nbconvert there), with the installed
    package only: no PYTHONPATH, and a working directory elsewhere for the test process itself."""
    nb = nbformat.read(FOLDER / name, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
    monkeypatch.delenv("PYTHONPATH", raising=False)
    monkeypatch.chdir(tmp_path)
    NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(FOLDER)}}).execute()
    claims(nb)
