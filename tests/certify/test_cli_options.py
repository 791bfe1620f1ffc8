"""Options that mean what they say: regions as written, refusals naming the option, many-player summaries,
basins that claim nothing outside the region, sweeps, safe output files, one progress bar, `sgn games`."""

import importlib.metadata
import io
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import matplotlib.figure
import numpy as np
import pytest

import certify
import games
from certify import _progress as progress
from certify import cli, plots

SGN = Path(sys.executable).parent / "sgn"


def run(argv, capsys):
    code = cli.main(argv)
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def error_line(err):
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("sgn: error: ")
    return lines[0]


# --- regions as the README writes them ------------------------------------------------------------


@pytest.mark.parametrize("spelling", [["--region", "-1:1"], ["--region=-1:1"], ["--region", "-1,-1:1,1"],
                                      ["--region", "-.5:.5"]])
def test_region_with_a_leading_minus(spelling, capsys):
    code, out, _ = run(["certify", "tanh-sin", *spelling, "--json"], capsys)
    assert code == 0
    region = json.loads(out)["region"]
    half = 0.5 if "-.5:.5" in spelling else 1.0
    assert region == {"lo": [-half, -half], "hi": [half, half]}


# --- options that do not apply are refused, naming the option --------------------------------------


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["certify", "coordination", "--samples", "8"], "--samples does not apply: coordination is certified in "
                                                        "the mirror (KL) geometry"),
        (["certify", "coordination", "--region", "0:1"], "--region does not apply: coordination"),
        (["certify", "coordination", "--bounds", "interval"], "--bounds interval does not apply: coordination"),
        (["certify", "markov-coop", "--bounds", "refine"], "--bounds refine does not apply: markov-coop is "
                                                           "certified in the Fisher geometry"),
        (["certify", "sgn-toy", "--samples", "8"], "--samples does not apply to --bounds exact (what --bounds auto "
                                                   "means for this affine game)"),
        (["certify", "tanh-sin", "--bounds", "interval", "--samples", "8"], "--samples does not apply to --bounds "
                                                                            "interval"),
        (["certify", "sgn-toy", "--region", "-1:1"], "--region does not apply to the exact bounds of the affine game"),
        (["certify", "tanh-sin", "--bounds", "exact"], "--bounds exact needs an affine game"),
        (["sweep", "coordination", "--param", "tau=1:2:3", "--samples", "8"], "--samples does not apply"),
    ],
)
def test_options_that_do_not_apply_exit_2_naming_them(argv, fragment, capsys):
    code, _, err = run(argv, capsys)
    assert code == 2
    assert fragment in error_line(err)


def test_a_nonlinear_game_without_region_asks_for_one(tmp_path, capsys):
    path = tmp_path / "free.py"
    path.write_text("import jax.numpy as jnp, games\ngame = games.from_pseudo_gradient(lambda z: z + 0.1 * jnp.tanh("
                    "z[::-1]), (1, 1))\n")
    code, _, err = run(["certify", str(path)], capsys)
    assert code == 2
    assert "free has no region of its own" in error_line(err)
    assert "use --region LO:HI" in err
    code, out, _ = run(["certify", str(path), "--region", "-1:1", "--json"], capsys)
    assert code == 0  # mu = 1 - 0.1 * 0 ... >= 0.9, L <= 0.1: certified (sampled)
    assert json.loads(out)["bounds"]["kind"] == "sampled"


def test_fisher_options_are_honoured_and_sampled_bounds_say_estimate(capsys):
    # markov-coop: 8 logit coordinates, so the cube's 2^8 = 256 vertices plus 8 extra sample points.
    code, out, _ = run(["certify", "markov-coop", "--samples", "8", "--weight-method", "lp"], capsys)
    assert code == 0
    assert "margin" in out
    verdict = next(line for line in out.splitlines() if line.startswith("margin"))
    assert verdict.endswith("certified (ESTIMATE: sampled bounds, not a guarantee)")
    code, out, _ = run(["certify", "markov-coop", "--samples", "8", "--json"], capsys)
    cert = json.loads(out)
    assert cert["bounds"]["n_points"] == 2**8 + 8
    assert cert["extra"]["n_samples"] == 8


# --- many players ----------------------------------------------------------------------------------


def test_many_players_are_summarised_and_full_on_request(capsys):
    code, out, _ = run(["certify", "ring"], capsys)
    assert code == 0
    assert max(len(line) for line in out.splitlines()) < 200
    code, js, _ = run(["certify", "ring", "--json"], capsys)
    cert = json.loads(js)
    mu, coupling = np.array(cert["bounds"]["mu"]), np.array(cert["bounds"]["coupling"])
    w = np.array(cert["weights"]["values"])
    assert coupling.shape == (64, 64)  # the JSON keeps everything
    i, j = np.unravel_index(np.argmax(coupling), coupling.shape)
    assert f"mu        {mu.min():.6g} (player {mu.argmin() + 1}) .. {mu.max():.6g} (player {mu.argmax() + 1})" in out
    assert f"strongest L_{i + 1},{j + 1} = {coupling[i, j]:.6g}" in out
    assert f"64 x 64, {np.count_nonzero(coupling)} of {64 * 63} off-diagonal nonzero" in out
    assert f"{w.max():.6g} (player {w.argmax() + 1})" in out
    assert "players   64 with dims 1 each (joint dimension 64)" in out
    code, full, _ = run(["certify", "ring", "--full"], capsys)
    mu_line = next(line for line in full.splitlines() if line.startswith("mu"))
    assert mu_line.count(",") == 63


# --- basins ----------------------------------------------------------------------------------------


def test_json_basin_keeps_the_basin_and_verify_reads_it(tmp_path, capsys):
    code, out, _ = run(["certify", "sgn-toy", "--json", "--basin"], capsys)
    assert code == 0
    doc = json.loads(out)
    assert doc["basin"]["solution"] == [0.0, 0.0]  # F = Jx with J invertible: x* = 0
    assert doc["basin"]["radius"] == "inf"
    assert doc["basin"]["nash_check"] == "passed"
    path = tmp_path / "with_basin.json"
    path.write_text(out)
    code, out, _ = run(["verify", str(path), "--pairs", "4", "--steps", "10"], capsys)
    assert code == 0


def test_basin_outside_the_region_claims_nothing(capsys):
    # tanh-sin's only equilibrium is (0, 0) (F = 0 needs y = 0.8 sin x and x + tanh(y)/2 + x^3/10 = 0, whose
    # only root is x = 0); it lies outside [2, 3]^2, where the game is certified (mu >= 1, small couplings).
    code, out, _ = run(["certify", "tanh-sin", "--region", "2:3", "--basin"], capsys)
    assert code == 0
    assert "OUTSIDE the region" in out
    assert "forward-invariant" not in out
    assert "passed" not in out
    code, out, _ = run(["certify", "tanh-sin", "--region", "2:3", "--basin", "--json"], capsys)
    basin = json.loads(out)["basin"]
    assert basin["in_region"] is False
    assert basin["nash_check"] == "unknown"
    assert basin["radius"] == "nan"
    assert np.allclose(basin["solution"], [0.0, 0.0], atol=1e-6)


# --- sweeps ----------------------------------------------------------------------------------------


@pytest.mark.slow
def test_sweep_ranges_estimate_exit_codes_and_json(tmp_path, capsys):
    # lq64: certified iff |lam| < sqrt 2 (spec §8.2); on -2, -1.5, ..., 2 that is -1 .. 1, starting mid-sweep.
    code, out, _ = run(["sweep", "lq64", "--param", "lam=-2:2:9", "--param", "half=4"], capsys)
    assert code == 0
    assert "certified lam: -1 .. 1\n" in out
    assert "ESTIMATE" not in out
    code, out, _ = run(["sweep", "saddle", "--param", "c=2:3:2"], capsys)
    assert code == 1  # nothing certified: exit 1, as the README states
    assert "certified c: none" in out
    code, out, _ = run(["sweep", "tanh-sin", "--param", "coupling=0:3:4", "--samples", "16"], capsys)
    assert code == 0
    assert "(ESTIMATE: sampled bounds, not a guarantee)" in out
    code, out, _ = run(["sweep", "tanh-sin", "--param", "coupling=0:3:4", "--bounds", "interval", "--json"], capsys)
    doc = json.loads(out, parse_constant=lambda c: pytest.fail(f"bare {c} in the JSON"))
    assert doc["bounds_kind"] == "sound"
    assert "nan" in doc["perron_upper"]  # the per-value path has no upper Perron bound: the string "nan"
    code, out, _ = run(["sweep", "tanh-sin", "--param", "coupling=0:3:4", "--region", "-0.5:0.5", "--json"],
                       capsys)
    assert code == 0


# --- output files ----------------------------------------------------------------------------------


def test_same_path_and_missing_folder_are_refused_up_front(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(certify, "certify", lambda *a, **k: pytest.fail("computed before checking the outputs"))
    same = str(tmp_path / "x.png")
    code, _, err = run(["certify", "--plot", same, "--phase-plot", same], capsys)
    assert code == 2
    assert "expected different files for --plot and --phase-plot" in error_line(err)
    code, _, err = run(["certify", "--out", str(tmp_path / "nope" / "c.json")], capsys)
    assert code == 2
    assert "no such directory" in error_line(err)
    code, _, err = run(["certify", "--out", str(tmp_path)], capsys)
    assert "it is a directory" in error_line(err)
    code, _, err = run(["certify", "cyclic3", "--plot", str(tmp_path / "b.png")], capsys)
    assert "--plot draws the timescale band of a two-player game, got 3 players" in error_line(err)


@pytest.mark.parametrize("failure", [ValueError("simulated plot failure"), KeyboardInterrupt()])
def test_a_failed_run_leaves_previous_files_as_they_were(tmp_path, capsys, monkeypatch, failure):
    out, band = tmp_path / "c.json", tmp_path / "band.png"
    out.write_text("previous certificate\n")
    band.write_bytes(b"previous plot")

    def broken(cert, path):
        Path(path).write_bytes(b"half a plot")
        raise failure

    monkeypatch.setattr(plots, "plot_band", broken)
    code, stdout, err = run(["certify", "--out", str(out), "--plot", str(band)], capsys)
    assert code == (130 if isinstance(failure, KeyboardInterrupt) else 2)
    assert out.read_text() == "previous certificate\n"
    assert band.read_bytes() == b"previous plot"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["band.png", "c.json"]
    assert stdout == ""  # nothing reported for a run that did not complete


def test_a_successful_run_replaces_files_and_keeps_their_permissions(tmp_path, capsys):
    out = tmp_path / "c.json"
    out.write_text("old")
    os.chmod(out, 0o640)
    code, _, _ = run(["certify", "--out", str(out), "--plot", str(tmp_path / "band.png")], capsys)
    assert code == 0
    assert json.loads(out.read_text())["status"] == "certified"
    assert out.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["band.png", "c.json"]


# --- progress ----------------------------------------------------------------------------------------


class _Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.slow
def test_one_progress_bar_on_a_terminal_none_under_json(monkeypatch, capsys):
    made = []
    real = progress._tqdm()

    def counting(*args, **kwargs):
        bar = real(*args, **kwargs)
        made.append(bar)
        return bar

    monkeypatch.setattr(progress, "_tqdm", lambda: counting)
    monkeypatch.setattr(progress, "DELAY", 0.0)
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    # refine cannot make the comparison matrix certify (L12 L21 > mu1 mu2 on the box); the direct test does
    assert cli.main(["certify", "tanh-sin", "--bounds", "refine", "--param", "coupling=1.6"]) == 0
    assert len(made) == 1  # the run's bar; the refine rounds count on it
    assert "refine rounds" in terminal.getvalue()
    made.clear()
    assert cli.main(["sweep", "tanh-sin", "--param", "coupling=0:1:3", "--samples", "8"]) == 0
    assert len(made) == 1
    assert "sweep coupling" in terminal.getvalue()
    made.clear()
    assert cli.main(["certify", "tanh-sin", "--bounds", "refine", "--param", "coupling=1.6", "--json"]) == 0
    assert made == []
    capsys.readouterr()


# --- games, version ------------------------------------------------------------------------------------


def test_games_lists_parameters_and_describes_one(capsys):
    code, out, _ = run(["games"], capsys)
    assert code == 0
    lines = out.splitlines()
    toy = lines.index(next(line for line in lines if line.startswith("sgn-toy ")))
    assert lines[toy + 1].split() == [f"{k}={v!r}" for k, v in games.game_parameters("sgn-toy").items()]
    code, out, _ = run(["games", "lq64"], capsys)
    assert code == 0
    assert out.startswith("lq64 — Paper's 64-d LQ family")
    assert "lam = 1.0" in out
    assert "players     2 with dims (32, 32); joint dimension 64" in out
    code, _, err = run(["games", "nope"], capsys)
    assert code == 2
    assert "expected a registered game" in error_line(err)


def test_version(capsys):
    code, out, _ = run(["--version"], capsys)
    assert code == 0
    assert out.strip() == f"sgn {importlib.metadata.version('sgn')}"


# --- the phase portrait ---------------------------------------------------------------------------------


def _drawn(monkeypatch, cert, game, tmp_path):
    seen = {}

    def capture(fig, path, **kwargs):
        ax = fig.axes[0]
        seen["title"] = ax.get_title()
        seen["lines"] = {line.get_label(): np.asarray(line.get_xydata()) for line in ax.get_lines()}
        seen["ylabel"] = ax.get_ylabel()

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", capture)
    plots.plot_phase(cert, game, str(tmp_path / "p.png"))
    return seen


def test_phase_portrait_is_centred_on_the_located_solution(tmp_path, monkeypatch):
    # F(x) = Jx + b with the paper's J and b = -J (1, 0.5): x* = (1, 0.5).
    jac = np.array([[1.0, 10.0], [0.05, 1.0]])
    game = games.quadratic(jac, b=-jac @ np.array([1.0, 0.5]), name="shifted")
    seen = _drawn(monkeypatch, certify.certify(game), game, tmp_path)
    np.testing.assert_allclose(seen["lines"]["x* (located)"][0], [1.0, 0.5], atol=1e-9)
    ball = seen["lines"]["Euclidean ball"]
    np.testing.assert_allclose(ball.mean(axis=0), [1.0, 0.5], atol=1e-2)  # a circle around x*
    # sym J has eigenvalue 1 - 5.025 < 0: the start direction grows the Euclidean distance first; the W-norm
    # (w = (1, 200)) never grows. Weights 200 apart: axes not to scale, and the label says so.
    assert seen["title"] == "shifted\nleaves the Euclidean ball, stays in the SGN ellipse"  # two lines: fits
    assert "not to scale" in seen["ylabel"]
    # A symmetric positive definite J: the Euclidean distance shrinks too, and the title follows the data.
    calm = games.quadratic([[2.0, 0.0], [0.0, 1.0]], b=[-2.0, 1.0], name="calm")
    seen = _drawn(monkeypatch, certify.certify(calm), calm, tmp_path)
    np.testing.assert_allclose(seen["lines"]["x* (located)"][0], [1.0, -1.0], atol=1e-9)
    assert seen["title"] == "calm\nstays in the Euclidean ball, stays in the SGN ellipse"


# --- a user's games.py next to the experiment ----------------------------------------------------------


@pytest.mark.skipif(not SGN.exists(), reason="the sgn console script is not installed next to this Python")
@pytest.mark.slow
def test_a_users_games_py_does_not_break_the_package(tmp_path):
    (tmp_path / "games.py").write_text("raise SystemExit('the user games.py was imported')\n")
    (tmp_path / "policy.py").write_text("raise SystemExit('the user policy.py was imported')\n")
    (tmp_path / "mine.toml").write_text('kind = "quadratic"\nJ = [[2.0]]\n')
    for cmd in ([str(SGN)], [sys.executable, "-m", "certify.cli"]):
        proc = subprocess.run([*cmd, "certify", "mine.toml", "--json"], capture_output=True, text=True, cwd=tmp_path,
                              timeout=300, check=False)
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)["margin"] == 2.0  # one player with J = 2: margin mu = 2
    (tmp_path / "experiment.py").write_text(textwrap.dedent("""\
        import certify
        """))
    proc = subprocess.run([sys.executable, "experiment.py"], capture_output=True, text=True, cwd=tmp_path,
                          timeout=300, check=False)
    assert proc.returncode != 0
    assert proc.stderr.strip().splitlines()[-1] == (
        f"ImportError: a file of yours, {tmp_path / 'games.py'}, shadows the package 'games' that certify needs "
        "(Python puts the script's folder first on sys.path): rename it (e.g. my_games.py), or run the `sgn` command")
