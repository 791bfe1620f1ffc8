"""A researcher's own games: files (.py, .toml, .json) and module factories, through `sgn` and the library.

The end-to-end test writes a 3-player quadratic game as TOML, a bimatrix game as JSON and a
nonlinear game as a Python factory into a temporary folder, certifies each with the command line
(in-process, ``certify.cli.main``; what only the console script does is tested in ``test_signals.py``
and ``test_cli_fuzz.py``), verifies the certificates, edits each definition and sees `sgn verify` refuse it.
The numbers are derived independently in the comments (closed forms, NumPy).
"""

import json
import os
import re
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import certify
import games
from certify import cli

# Player i's loss couples to the next player: a Z-matrix J (nonpositive off-diagonals), so the gain
# matrix S(w) is exactly sym(W^1/2 J W^-1/2) and the loop gain is (4 * 2 * 0.1)^(1/3) = 0.928 < 1.
TOML_GAME = """\
kind = "quadratic"
name = "three-firms"
description = "Three players in a cycle of couplings."
J = [[1.0, -4.0, 0.0],
     [0.0, 1.0, -2.0],
     [-0.1, 0.0, 1.0]]
b = [0.0, 0.0, 0.0]

[[players]]
dim = 1

[[players]]
dim = 1

[[players]]
dim = 1
"""

# Both players maximise x'Ay with A = [[1, -1], [-1, 1]] and entropy tau = 1.5 (coordination):
# mu_i = tau, L_12 = L_21 = (1/4) * osc((1, -1) - (-1, 1)) = (1/4) * 4 = 1, margin = tau - 1 = 0.5.
JSON_GAME = {"kind": "matrix", "A": [[1.0, -1.0], [-1.0, 1.0]], "B": [[1.0, -1.0], [-1.0, 1.0]], "tau": 1.5}

PY_GAME = '''\
"""A nonlinear duel: F = (x + c tanh y, y - c sin x) on [-1, 1]^2."""
import jax.numpy as jnp

import games


def make_game(coupling: float = 0.3):
    def pseudo_gradient(z):
        x, y = z[0], z[1]
        return jnp.stack([x + coupling * jnp.tanh(y), y - coupling * jnp.sin(x)])

    return games.from_pseudo_gradient(pseudo_gradient, (1, 1), region=games.Region([-1.0, -1.0], [1.0, 1.0]))
'''


def _one_error_line(stderr):
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("sgn: error: "), stderr
    return lines[0]


def test_three_file_games_certify_verify_and_refuse_edits(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))  # the game file's folder is appended to it

    def sgn(*args):
        code = cli.main([str(a) for a in args])
        out, err = capsys.readouterr()
        assert "Traceback" not in err, err
        return code, out, err

    (tmp_path / "firms.toml").write_text(TOML_GAME)
    (tmp_path / "coord.json").write_text(json.dumps(JSON_GAME))
    (tmp_path / "duel.py").write_text(PY_GAME)

    # TOML: exact bounds of the constant Jacobian.
    code, out, err = sgn("certify", "firms.toml", "--out", "firms.cert.json")
    assert code == 0, err
    cert = json.loads((tmp_path / "firms.cert.json").read_text())
    jac = np.array([[1.0, -4.0, 0.0], [0.0, 1.0, -2.0], [-0.1, 0.0, 1.0]])
    assert cert["status"] == "certified"
    assert cert["bounds"]["kind"] == "exact"
    assert cert["bounds"]["mu"] == [1.0, 1.0, 1.0]
    np.testing.assert_allclose(cert["bounds"]["coupling"], np.abs(jac - np.diag(np.diag(jac))), rtol=1e-12)
    root = np.sqrt(np.asarray(cert["weights"]["values"]))
    weighted = root[:, None] * jac / root[None, :]
    assert cert["margin"] == pytest.approx(np.linalg.eigvalsh(0.5 * (weighted + weighted.T))[0], rel=1e-9)
    # No other weights do better (the Perron weights are optimal): a seeded random search.
    rng = np.random.default_rng(0)
    best = max(np.linalg.eigvalsh(0.5 * (m + m.T))[0] for r in np.exp(rng.uniform(-6, 6, (2000, 3)))
               for m in [np.sqrt(r)[:, None] * jac / np.sqrt(r)[None, :]])
    assert best <= cert["margin"] + 1e-9
    assert np.linalg.eigvalsh(0.5 * (jac + jac.T))[0] < 0 < cert["margin"]  # Euclidean test fails
    assert cert["game"]["name"] == "three-firms"
    assert cert["game"]["source"]["path"] == str(tmp_path / "firms.toml")
    assert "three-firms" in out
    assert "from " in out

    # JSON: the entropy-regularised bimatrix game in the mirror (KL) geometry.
    code, out, err = sgn("certify", "coord.json", "--out", "coord.cert.json")
    assert code == 0, err
    cert = json.loads((tmp_path / "coord.cert.json").read_text())
    assert cert["settings"]["geometry"] == "mirror"
    assert cert["bounds"]["mu"] == [1.5, 1.5]
    assert cert["bounds"]["coupling"] == [[0.0, 1.0], [1.0, 0.0]]
    assert cert["margin"] == pytest.approx(0.5, rel=1e-12)

    # Python factory with a parameter, sound interval bounds on [-1, 1]^2: J_11 = J_22 = 1, so mu = 1;
    # L_12 = sup c sech^2 y = c and L_21 = sup c |cos x| = c (both at 0), margin 1 - c = 0.7 (Perron w = 1).
    code, out, err = sgn("certify", "duel.py:make_game", "--param", "coupling=0.3", "--bounds", "interval", "--out",
               "duel.cert.json")
    assert code == 0, err
    cert = json.loads((tmp_path / "duel.cert.json").read_text())
    assert cert["bounds"]["kind"] == "sound"
    assert cert["game"]["params"] == {"coupling": 0.3}
    assert cert["game"]["source"]["factory"] == "make_game"
    assert cert["bounds"]["mu"] == pytest.approx([1.0, 1.0], abs=1e-12)
    assert cert["bounds"]["coupling"][0][1] == pytest.approx(0.3, rel=1e-9)
    assert cert["bounds"]["coupling"][1][0] == pytest.approx(0.3, rel=1e-9)
    assert cert["sgn_margin"] == pytest.approx(0.7, rel=1e-9)
    # the strongest claim: sym J = [[1, c (sech^2 y - cos x) / 2], [., 1]] gives lambda_min >= 1 - c/2 max |sech^2 y
    # - cos x| = 1 - 0.15 (1 - sech^2 1) on the box (at x = 0, y = +-1), which the direct test at w = 1 proves
    assert cert["proved_by"] == "direct (w = 1)"
    assert cert["margin"] == pytest.approx(1 - 0.15 * (1 - 1 / np.cosh(1.0) ** 2), abs=1e-6)

    # Python code runs in verify only when named (--game; issue 25); declarative files need nothing.
    named = {"firms": [], "coord": [], "duel": ["--game", "duel.py"]}
    for name in ("firms", "coord", "duel"):
        code, out, err = sgn("verify", f"{name}.cert.json", "--pairs", "4", "--steps", "20", *named[name])
        assert code == 0, (name, err)
        assert "recomputed and consistent" in out

    # Edit each definition: verify refuses, naming the file, without running the changed code.
    (tmp_path / "firms.toml").write_text(TOML_GAME.replace("-4.0", "-4.5"))
    (tmp_path / "coord.json").write_text(json.dumps({**JSON_GAME, "tau": 2.0}))
    (tmp_path / "duel.py").write_text(PY_GAME + "\nraise SystemExit('the edited file must not run')\n")
    for name, file in (("firms", "firms.toml"), ("coord", "coord.json"), ("duel", "duel.py")):
        code, out, err = sgn("verify", f"{name}.cert.json", *named[name])
        assert code == 2
        line = _one_error_line(err)
        assert str(tmp_path / file) in line
        assert "changed since the certificate was issued" in line


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return str(path)


def test_python_file_with_one_game_and_a_game_variable(tmp_path):
    path = _write(tmp_path, "one.py", """\
        import games
        mine = games.quadratic([[2.0, 1.0], [0.0, 3.0]])
        """)
    g = games.load_game(path)
    assert g.name == "one"  # the constructor's default name becomes the file's
    assert g.constant_jacobian.tolist() == [[2.0, 1.0], [0.0, 3.0]]
    assert g.source["factory"] is None
    assert g.source["kind"] == "file"
    two = _write(tmp_path, "two.py", """\
        import games
        a = games.quadratic([[2.0]])
        b = games.quadratic([[3.0]])
        """)
    with pytest.raises(ValueError, match=r"exactly one Game, got 2 \(a, b\); name one"):
        games.load_game(two)
    assert games.load_game(two + ":b").constant_jacobian.tolist() == [[3.0]]
    named = _write(tmp_path, "named.py", """\
        import games
        game = games.quadratic([[5.0]], name="mine")
        other = games.quadratic([[6.0]])
        """)
    assert games.load_game(named).name == "mine"


def test_factory_parameters_are_validated_like_the_registry(tmp_path):
    path = _write(tmp_path, "fac.py", """\
        import games
        def make(n: int = 2, scale: float = 1.0, label: str = "x", flag: bool = False):
            return games.quadratic(scale * __import__("numpy").eye(n))
        def needs(k):
            return games.quadratic([[float(k)]])
        def broken():
            return 1 / 0
        def not_a_game():
            return {"J": 1}
        """)
    g = games.load_game(path + ":make", n=3, scale=2.0)
    assert g.dims == (1, 1, 1)
    assert g.params == {"n": 3, "scale": 2.0, "label": "x", "flag": False}
    with pytest.raises(ValueError, match=r"expected parameters of 'fac.py:make' among \['flag', 'label', 'n', "
                                         r"'scale'\], got \['zz'\]"):
        games.load_game(path + ":make", zz=1)
    with pytest.raises(ValueError, match="expected an integer for parameter 'n'"):
        games.load_game(path + ":make", n=2.5)
    with pytest.raises(TypeError, match="expected a number for parameter 'scale'"):
        games.load_game(path + ":make", scale="big")
    with pytest.raises(TypeError, match="expected a bool for parameter 'flag'"):
        games.load_game(path + ":make", flag=1)
    with pytest.raises(ValueError, match=r"required parameters \['k'\]"):
        games.load_game(path + ":needs")
    with pytest.raises(ValueError, match=r"fac.py:broken raised ZeroDivisionError: division by zero \(line 7\)"):
        games.load_game(path + ":broken")
    with pytest.raises(TypeError, match="expected 'fac.py:not_a_game' to return a games.Game, got dict"):
        games.load_game(path + ":not_a_game")
    with pytest.raises(ValueError, match="expected fac.py to define 'nope'"):
        games.load_game(path + ":nope")


@pytest.fixture
def forget_mylab():
    """Drops the ``mylab`` package this test imports from its folder, so no later test gets it from sys.modules."""
    yield
    for name in [n for n in sys.modules if n == "mylab" or n.startswith("mylab.")]:
        del sys.modules[name]


def test_module_factory_and_sibling_imports(tmp_path, monkeypatch, forget_mylab):
    pkg = tmp_path / "mylab"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "helpers.py").write_text("SCALE = 4.0\n")
    (pkg / "duels.py").write_text(textwrap.dedent("""\
        import games
        from mylab.helpers import SCALE
        def make_game(a: float = 1.0):
            return games.quadratic([[SCALE, a], [0.0, SCALE]])
        """))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", os.getcwd())])
    g = games.load_game("mylab.duels:make_game", a=2.0)
    assert g.constant_jacobian.tolist() == [[4.0, 2.0], [0.0, 4.0]]
    assert g.source["kind"] == "module"
    assert g.source["module"] == "mylab.duels"
    assert g.source["path"] == str(pkg / "duels.py")
    rebuilt = games.rebuild_game(g.describe(), allow_code=True)
    assert rebuilt.fingerprint() == g.fingerprint()
    # A file beside a helper module imports it (its folder is appended to sys.path, never prepended).
    (tmp_path / "consts.py").write_text("K = 7.0\n")
    path = _write(tmp_path, "uses_sibling.py", """\
        import games
        from consts import K
        game = games.quadratic([[K]])
        """)
    assert games.load_game(path).constant_jacobian.tolist() == [[7.0]]
    assert str(tmp_path) in sys.path
    assert sys.path[0] != str(tmp_path)
    with pytest.raises(ValueError, match="expected an importable module 'nosuchpkg.mod'"):
        games.load_game("nosuchpkg.mod:make")


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"kind": "quadratic", "J": [[1.0, 0.0], [0.0, 1.0]], "players": [{"dim": 1}, {"dim": 0}]},
         r"players\[1\].dim: expected a positive integer, got 0"),
        ({"kind": "quadratic", "J": [[1.0, 0.0], [0.0, 1.0]], "players": [{"dim": 1}, {"dim": 2}]},
         r"players: expected dims summing to 2 \(the size of J\), got \[1, 2\]"),
        ({"kind": "quadratic", "J": [[1.0, 0.0], [0.0]]}, "J: expected a square matrix with rows of equal length"),
        ({"kind": "quadratic", "J": [[1.0, "x"], [0.0, 1.0]]}, "J: expected a square matrix"),
        ({"kind": "quadratic", "J": [[1.0, 2.0, 3.0]]}, r"J: expected a square matrix, got shape \(1, 3\)"),
        ({"kind": "quadratic", "J": [[1.0]], "b": [1.0, 2.0]}, "b: expected a number or a vector of length 1"),
        ({"kind": "quadratic", "J": [[1.0]], "Jac": 1}, "unknown key 'Jac'"),
        ({"kind": "quadratic"}, "J: expected a value, got none"),
        ({"kind": "quadratic", "J": [[1.0]], "players": [{"dim": 1, "set": {"type": "box", "lo": 1, "hi": 0}}]},
         r"players\[0\].set: expected lo <= hi"),
        ({"kind": "quadratic", "J": [[1.0]], "players": [{"dim": 1, "set": "cube"}]}, r"players\[0\].set: expected"),
        ({"kind": "quadratic", "J": [[1.0]], "region": {"lo": 1, "hi": -1}}, "region: expected lo <= hi"),
        ({"kind": "matrix", "A": [[1.0, 0.0]], "tau": -1}, "tau: expected a number >= 0, got -1"),
        ({"kind": "matrix", "A": [[1.0, 0.0]]}, "tau: expected a value, got none"),
        ({"kind": "matrix", "A": [[1.0, 0.0]], "B": [[1.0]], "tau": 1}, r"B: expected the shape of A \(1, 2\)"),
        ({"kind": "polymatrix", "players": [{"actions": 2}, {"actions": 2}],
          "payoffs": [{"players": [0, 2], "A": [[1.0, 0.0], [0.0, 1.0]]}]},
         r"payoffs\[0\].players: expected two distinct player indices in \[0, 1\]"),
        ({"kind": "polymatrix", "players": [{"actions": 2}, {"actions": 3}],
          "payoffs": [{"players": [0, 1], "A": [[1.0, 0.0], [0.0, 1.0]]}]},
         r"payoffs\[0\].A: expected shape \(2, 3\)"),
        ({"kind": "markov", "transitions": [[[[1.0]]]], "rewards": [[[1.0]]], "gamma": 1.0, "tau": 1.0},
         "gamma: expected a number < 1, got 1.0"),
        ({"kind": "zerosum"}, "kind: expected one of 'quadratic', 'matrix', 'polymatrix', 'markov', got 'zerosum'"),
    ],
)
def test_declarative_schema_errors_name_the_key(tmp_path, doc, message):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(ValueError, match=r"bad.json: " + message):
        games.load_game(str(path))


def test_declarative_file_errors(tmp_path):
    bad_toml = tmp_path / "broken.toml"
    bad_toml.write_text('kind = "quadratic"\nJ = [[1.0, \n')
    with pytest.raises(ValueError, match=r"broken.toml: invalid TOML"):
        games.load_game(str(bad_toml))
    with pytest.raises(ValueError, match="to exist, got no such file"):
        games.load_game(str(tmp_path / "missing.toml"))
    with pytest.raises(ValueError, match="expected no parameters for the declarative game"):
        games.load_game(str(bad_toml), a=1)
    with pytest.raises(ValueError, match="a registered game .*, a game file .* or MODULE:FACTORY, got 'nope'"):
        games.load_game("nope")


def test_declarative_games_match_the_constructors(tmp_path):
    # Each file kind builds the same game as the constructor it names (a second route to the numbers).
    (tmp_path / "q.toml").write_text(textwrap.dedent("""\
        kind = "quadratic"
        J = [[2.0, 0.5], [0.1, 1.0]]
        b = 1.0
        [[players]]
        dim = 1
        set = {type = "box", lo = -1, hi = 1}
        [[players]]
        dim = 1
        set = "simplex"
        """))
    g = games.load_game(str(tmp_path / "q.toml"))
    ref = games.quadratic([[2.0, 0.5], [0.1, 1.0]], b=[1.0, 1.0], sets=[games.Box(-1.0, 1.0), games.Simplex()])
    assert g.constant_jacobian.tolist() == ref.constant_jacobian.tolist()
    assert [s.to_dict() for s in g.strategy_sets] == [s.to_dict() for s in ref.strategy_sets]
    poly = {"kind": "polymatrix", "players": [{"actions": 2}, {"actions": 2}, {"actions": 2}],
            "payoffs": [{"players": [0, 1], "A": [[1.0, -1.0], [-1.0, 1.0]]},
                        {"players": [1, 2], "A": [[0.5, 0.0], [0.0, 0.5]]},
                        {"players": [2, 0], "A": [[0.0, 1.0], [1.0, 0.0]]}]}
    (tmp_path / "p.json").write_text(json.dumps(poly))
    g = games.load_game(str(tmp_path / "p.json"))
    ref = games.polymatrix({(0, 1): [[1.0, -1.0], [-1.0, 1.0]], (1, 2): [[0.5, 0.0], [0.0, 0.5]],
                            (2, 0): [[0.0, 1.0], [1.0, 0.0]]}, (2, 2, 2))
    assert g.constant_jacobian.tolist() == ref.constant_jacobian.tolist()
    # With tau: player i's payoff tensor T_i[a] = sum_j A_ij[a_i, a_j], checked entry by entry.
    (tmp_path / "pt.json").write_text(json.dumps({**poly, "tau": 2.0}))
    g = games.load_game(str(tmp_path / "pt.json"))
    tensors = g.data["payoffs"]
    blocks = {(0, 1): np.array([[1.0, -1.0], [-1.0, 1.0]]), (1, 2): np.array([[0.5, 0.0], [0.0, 0.5]]),
              (2, 0): np.array([[0.0, 1.0], [1.0, 0.0]])}
    for a in np.ndindex(2, 2, 2):
        for i in range(3):
            expected = sum(m[a[p], a[q]] for (p, q), m in blocks.items() if p == i)
            assert tensors[i][a] == expected
    markov = {"kind": "markov", "gamma": 0.9, "tau": 1.0,
              "transitions": np.asarray(games.get_game("markov-coop").data["transitions"]).tolist(),
              "rewards": np.asarray(games.get_game("markov-coop").data["rewards"]).tolist()}
    (tmp_path / "m.json").write_text(json.dumps(markov))
    g = games.load_game(str(tmp_path / "m.json"))
    assert g.geometry == "fisher"
    assert g.dims == (4, 4)
    cert = certify.certify(g)
    ref_cert = certify.certify(games.get_game("markov-coop"))
    assert cert.margin == ref_cert.margin
    assert cert.weights.values == ref_cert.weights.values


def test_rebuild_refuses_missing_and_changed_files(tmp_path):
    path = tmp_path / "g.toml"
    path.write_text('kind = "quadratic"\nJ = [[2.0]]\n')
    desc = games.load_game(str(path)).describe()
    assert games.rebuild_game(desc).fingerprint() == desc["fingerprint"]
    path.write_text('kind = "quadratic"\nJ = [[3.0]]\n')
    with pytest.raises(ValueError, match=r"g.toml changed since the certificate was issued \(SHA-256"):
        games.rebuild_game(desc)
    path.unlink()
    with pytest.raises(ValueError, match="recorded in the certificate to exist, got no such file"):
        games.rebuild_game(desc)
    with pytest.raises(ValueError, match="expected a game source of kind 'file'"):
        games.rebuild_game({**desc, "source": {"kind": "web", "params": {}, "factory": None}})
    with pytest.raises(ValueError, match="registered game or a game file, got game name 'zz'"):
        games.rebuild_game({"name": "zz", "params": {}})


def test_fingerprint_follows_the_file_content_not_its_path(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    text = 'kind = "quadratic"\nname = "same"\nJ = [[2.0]]\n'
    (a / "g.toml").write_text(text)
    (b / "g.toml").write_text(text)
    assert games.load_game(str(a / "g.toml")).fingerprint() == games.load_game(str(b / "g.toml")).fingerprint()
    (b / "g.toml").write_text(text + "# a comment\n")
    assert games.load_game(str(a / "g.toml")).fingerprint() != games.load_game(str(b / "g.toml")).fingerprint()


README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_game_files_are_complete_and_certify(tmp_path):
    # Every fenced block of the README whose info string names a file ("```toml firms.toml") is written out
    # and certified; the numbers are checked against the registered games they reproduce or closed forms.
    blocks = dict((name, body) for name, body in re.findall(r"```\w+ (\S+\.(?:py|toml|json))\n(.*?)```",
                                                              README.read_text(), flags=re.S))
    assert set(blocks) == {"duel.py", "firms.toml", "coord.json", "triangle.toml", "pennies.json"}
    for name, body in blocks.items():
        (tmp_path / name).write_text(body)
    load = {name: games.load_game(str(tmp_path / name)) for name in blocks}
    duel = certify.certify(games.load_game(str(tmp_path / "duel.py") + ":make_game", coupling=0.3),
                           bounds="interval")
    assert duel.sgn_margin == pytest.approx(0.7, rel=1e-9)  # 1 - c, as in the end-to-end test
    assert duel.margin == pytest.approx(1 - 0.15 * (1 - 1 / np.cosh(1.0) ** 2), abs=1e-6)  # the direct test
    firms = certify.certify(load["firms.toml"])
    assert firms.certified
    assert firms.bounds.euclidean_margin < 0
    coord = certify.certify(load["coord.json"])
    reference = certify.certify(games.get_game("coordination", tau=1.5))
    assert coord.margin == reference.margin == pytest.approx(0.5)
    triangle = certify.certify(load["triangle.toml"])
    # Mirror geometry: mu_i = tau = 2. Tangent couplings L_ij = (1/4) max_k,k' osc(A_k - A_k') of the pair
    # i <- j: (0,1): rows (1,-1), (-1,1) differ by (2,-2), osc 4 -> 1; (1,2): (0.5,-0.5,-0.5), osc 1 -> 0.25;
    # (2,0): rows (1,0), (0,1), (0.5,0.5), largest difference (1,-1), osc 2 -> 0.5. A cycle: rho(L) =
    # (1 * 0.25 * 0.5)^(1/3) = 0.5 < tau.
    assert triangle.settings.geometry == "mirror"
    assert triangle.bounds.mu == [2.0, 2.0, 2.0]
    assert triangle.bounds.coupling == [[0.0, 1.0, 0.0], [0.0, 0.0, 0.25], [0.5, 0.0, 0.0]]
    assert triangle.extra["loop_gain"] == pytest.approx(0.5, rel=1e-12)
    assert triangle.certified
    pennies = certify.certify(load["pennies.json"])
    zerosum = certify.certify(games.get_game("markov-zerosum"))
    assert pennies.margin == pytest.approx(zerosum.margin, rel=1e-9)
    assert pennies.weights.values == pytest.approx(zerosum.weights.values, rel=1e-9)
