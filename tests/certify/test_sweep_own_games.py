"""Sweeps of one's own game: a .py factory, a declarative TOML file (any numeric key), a Python callable (issue 24).

Expected numbers, by hand: for J = [[1, a], [b, 1]] (two scalar players, mu = (1, 1), L12 = |a|,
L21 = |b|) the optimal SGN margin is 1 - sqrt(|a b|) (2x2 comparison matrix [[1, -a], [-b, 1]],
Perron-optimal weights), and the Euclidean margin is lambda_min(sym J) = 1 - (a + b) / 2.
"""

import hashlib
import json
import math

import numpy as np
import pytest

import certify
import games
from certify import cli

DUEL = '''import games


def make_game(coupling: float = 0.5):
    """J = [[1, c], [0.9 c, 1]]."""
    return games.quadratic([[1.0, coupling], [0.9 * coupling, 1.0]], dims=(1, 1))
'''
FIRMS = 'kind = "quadratic"\nJ = [[1.0, 0.5], [0.8, 1.0]]\n'


@pytest.fixture
def own(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "duel.py").write_text(DUEL)
    (tmp_path / "firms.toml").write_text(FIRMS)
    return tmp_path


@pytest.mark.slow
def test_cli_sweeps_a_py_factory_and_records_its_sha(own, capsys):
    assert cli.main(["sweep", "duel.py:make_game", "--param", "coupling=0:1.5:7", "--json", "--out", "s.json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert json.loads((own / "s.json").read_text()) == data
    c = np.linspace(0.0, 1.5, 7)
    np.testing.assert_allclose(data["margin"], 1.0 - c * math.sqrt(0.9), atol=1e-9)
    np.testing.assert_allclose(data["euclidean_margin"], 1.0 - 0.95 * c, atol=1e-9)
    assert data["certified"] == [bool(v * math.sqrt(0.9) < 1) for v in c]  # c < 1.054
    assert data["source"]["sha256"] == hashlib.sha256(DUEL.encode()).hexdigest()
    assert data["source"]["factory"] == "make_game"
    assert data["source"]["path"] == str((own / "duel.py").resolve())


def test_cli_sweeps_any_numeric_key_of_a_toml_file(own, capsys):
    assert cli.main(["sweep", "firms.toml", "--param", "J[0][1]=0:3:4"]) == 0
    text = capsys.readouterr().out
    assert "certified J[0][1]: 0 .. 1" in text
    assert hashlib.sha256(FIRMS.encode()).hexdigest() in text
    result = certify.sweep_parameter("firms.toml", "J[0][1]", [0.0, 1.0, 2.0, 3.0])
    np.testing.assert_allclose(result.margin[:2], [1.0, 1.0 - math.sqrt(0.8)], atol=1e-9)
    assert result.certified.tolist() == [True, True, False, False]  # certified iff 0.8 a < 1
    assert result.source["sha256"] == hashlib.sha256(FIRMS.encode()).hexdigest()
    assert (own / "firms.toml").read_text() == FIRMS  # the file itself is never edited


def test_toml_key_errors_name_the_numeric_keys(own, capsys):
    assert cli.main(["sweep", "firms.toml", "--param", "tau=0:1:3"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == ("sgn: error: expected a numeric key of firms.toml to sweep (one of J[0][0], J[0][1], J[1][0], "
                   "J[1][1]), got 'tau'")
    assert cli.main(["sweep", "duel.py", "--param", "coupling=0:1:3"]) == 2
    assert "a game file without a factory has no parameter to vary" in capsys.readouterr().err
    assert cli.main(["sweep", "duel.py:make_game", "--param", "gain=0:1:3"]) == 2
    assert "expected parameters of 'duel.py:make_game' among ['coupling'], got ['gain']" in capsys.readouterr().err


def test_sweep_output_may_not_replace_the_definition(own, capsys):
    assert cli.main(["sweep", "firms.toml", "--param", "J[0][1]=0:1:2", "--out", "firms.toml"]) == 2
    assert "it is an input of this command" in capsys.readouterr().err
    assert (own / "firms.toml").read_text() == FIRMS


@pytest.mark.slow
def test_library_takes_a_python_factory_and_a_declared_tau():
    def make(coupling: float = 0.0):
        return games.quadratic([[1.0, coupling], [0.9 * coupling, 1.0]], dims=(1, 1))

    r = certify.sweep_parameter(make, "coupling", [0.0, 1.0, 1.2])
    np.testing.assert_allclose(r.margin, 1.0 - np.array([0.0, 1.0, 1.2]) * math.sqrt(0.9), atol=1e-9)
    assert r.certified.tolist() == [True, True, False]
    assert r.source is None
    with pytest.raises(TypeError, match="expected a game name, a game file reference or a factory"):
        certify.sweep_parameter(3, "coupling", [0.0])


def test_mirror_sweep_prints_the_mirror_step_and_no_euclidean_test(capsys):
    assert cli.main(["sweep", "coordination", "--param", "tau=0.5:2:4"]) == 0
    text = capsys.readouterr().out
    assert "nan" not in text
    assert "Euclidean test passes" not in text
    assert "(the Euclidean test does not apply: mirror geometry)" in text
    assert text.splitlines()[0].split() == ["tau", "margin", "certified", "w2/w1", "mirror", "h<"]
    r = certify.sweep_parameter("coordination", "tau", [1.5, 2.0])
    for v, step, margin in zip([1.5, 2.0], r.euler_step, r.margin, strict=True):
        cert = certify.certify(games.get_game("coordination", tau=v))  # the step a certificate reports
        assert step == pytest.approx(cert.steps.euler_step, rel=1e-12)
        assert margin == pytest.approx(cert.margin, rel=1e-12)
    assert r.geometry == "mirror"
