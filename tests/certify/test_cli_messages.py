"""Messages that explain themselves (issue 24): every one is one line naming what was expected and what was got."""

import argparse
import json

import pytest

import certify
import games
from certify import cli
from certify.cli._main import build_parser


def _error(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("sgn: error: ")
    return err[0][len("sgn: error: "):]


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_huge_seed_is_refused_in_our_words(capsys):
    assert cli.main(["certify", "sgn-toy", "--seed", "99999999999999999999"]) == 2
    assert _error(capsys) == "expected --seed between 0 and 4294967295, got 99999999999999999999"
    assert cli.main(["sweep", "lq64", "--param", "lam=0:1:2", "--seed", str(2**32)]) == 2
    assert _error(capsys) == "expected --seed between 0 and 4294967295, got 4294967296"


@pytest.mark.parametrize(("typed", "meant"), [("sgn_toy", "sgn-toy"), ("lq46", "lq64"), ("tanhsin", "tanh-sin")])
def test_misspelled_game_gets_did_you_mean(typed, meant, capsys):
    assert cli.main(["certify", typed]) == 2
    assert _error(capsys).endswith(f"got {typed!r} (did you mean {meant!r}?)")
    with pytest.raises(ValueError, match=f"did you mean {meant!r}"):
        games.get_game(typed)


def test_game_file_messages(folder, capsys):
    (folder / "three.py").write_text("game = 3\n")
    assert cli.main(["certify", "three.py"]) == 2
    assert _error(capsys) == "expected `game` in three.py to be a games.Game, got int 3"
    (folder / "x.py").mkdir()
    assert cli.main(["certify", "x.py"]) == 2
    assert _error(capsys) == f"expected a game file, got the directory {(folder / 'x.py').resolve()}"


def test_sgn_debug_shows_the_users_traceback(folder, capsys, monkeypatch):
    (folder / "bad.py").write_text("def make(c: float = 1.0):\n    return 1 / 0\n")
    assert cli.main(["certify", "bad.py:make"]) == 2
    assert _error(capsys) == "bad.py:make raised ZeroDivisionError: division by zero (line 2)"
    monkeypatch.setenv("SGN_DEBUG", "1")
    assert cli.main(["certify", "bad.py:make"]) == 2
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err
    assert 'bad.py", line 2, in make' in err
    assert err.strip().splitlines()[-1].startswith("sgn: error: bad.py:make raised ZeroDivisionError")


def test_json_region_with_unknown_keys_is_refused(capsys):
    region = json.dumps({"lo": [-1, -1], "hi": [1, 1], "hl": 2})
    assert cli.main(["certify", "tanh-sin", "--region", region]) == 2
    assert _error(capsys) == "expected a JSON region with exactly the keys 'lo' and 'hi', got unknown keys ['hl']"


def test_verify_on_a_game_definition_says_so(folder, capsys):
    (folder / "firms.toml").write_text('kind = "quadratic"\nJ = [[1.0, 0.5], [0.8, 1.0]]\n')
    (folder / "firms.json").write_text('{"kind": "quadratic", "J": [[1.0, 0.5], [0.8, 1.0]]}')
    for name in ("firms.toml", "firms.json"):
        assert cli.main(["verify", name]) == 2
        assert _error(capsys) == (f"{name} is a game definition, not a certificate: certify it first "
                                  f"(sgn certify {name} --out cert.json), then sgn verify cert.json")


def test_region_as_a_pair_and_short_reprs():
    g = games.from_pseudo_gradient(lambda x: x, (1, 1), region=([-1.0, -2.0], [1.0, 2.0]))
    assert g.region.hi.tolist() == [1.0, 2.0]
    with pytest.raises(TypeError, match="expected region as a games.Region or \\(lo, hi\\), got str"):
        games.from_pseudo_gradient(lambda x: x, (1, 1), region="box")
    big = games.get_game("lq64")
    assert repr(big) == ("Game('lq64', 2 players, dims=(32, 32), euclidean, affine, lam=1.0, a=10.0, b=0.05, "
                         "half=32, seed=12345)")
    cert = certify.certify(big)
    assert repr(cert) == ("Certificate('lq64', certified, margin=0.292893, bounds='exact', geometry='euclidean', "
                          "players=2)")  # margin 1 - sqrt(10 * 0.05 * lam^2), lam = 1
    assert "importlib" not in dir(certify)
    assert {"certify", "sweep_parameter", "plots"} <= set(dir(certify))


def test_every_option_has_help_and_every_help_lists_exit_codes():
    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, sub in subparsers.choices.items():
        for action in sub._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            assert action.help, f"sgn {name} {action.option_strings or action.dest} has no help text"
        text = sub.format_help()
        for code in ("0 ", "1 ", "2 ", "130"):
            assert f"\n  {code}" in text, f"sgn {name} --help does not list exit code {code}"
    assert "130  interrupted" in parser.format_help()
