"""`sgn certify` on the default game prints the report of the issue and writes its files."""

import json

import pytest

from certify import cli


def test_demo_report_and_outputs(tmp_path, capsys):
    out = tmp_path / "certificate.json"
    band, phase = tmp_path / "band.png", tmp_path / "phase.png"
    code = cli.main(["certify", "--out", str(out), "--plot", str(band), "--phase-plot", str(phase)])
    assert code == 0
    text = capsys.readouterr().out
    for expected in ("-4.025", "fails", "0.292893", "(1, 200)", "34.3146", "1165.69",
                     "h < 0.201010", "1.46447", "certifies"):
        assert expected in text
    data = json.loads(out.read_text())
    assert data["status"] == "certified"
    assert data["game"]["name"] == "sgn-toy"
    assert band.stat().st_size > 1000
    assert phase.stat().st_size > 1000
    assert band.read_bytes()[:4] == b"\x89PNG"


def test_verify_round_trip(tmp_path, capsys):
    out = tmp_path / "c.json"
    assert cli.main(["certify", "cyclic3", "--out", str(out), "--json"]) == 0
    assert cli.main(["verify", str(out), "--pairs", "8", "--steps", "30"]) == 0
    assert "OK" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["certify", "no-such-game"], "expected a registered game"),
        (["certify", "sgn-toy", "--param", "a"], "expected --param KEY=VALUE"),
        (["certify", "tanh-sin", "--region", "1:-1"], "expected lo <= hi"),
        (["certify", "tanh-sin", "--region", "abc"], "expected --region LO:HI"),
        (["verify", "/nonexistent/c.json"], "cannot read certificate"),
    ],
)
def test_bad_input_is_one_line_exit_2(argv, fragment, capsys):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("sgn: error:")
    assert fragment in err[0]


def test_basin_and_nash_check_lines(capsys):
    # tanh-sin on [-1, 1]^2: F(0) = 0, so x* = 0; sound weights w ∝ (1.6, 1) (r* = L12/L21 = 0.5/0.8),
    # and the W-ball radius is min_k sqrt(w_k) * 1 = 1 (min weight normalised to 1).
    assert cli.main(["certify", "tanh-sin", "--bounds", "interval", "--basin"]) == 0
    out = capsys.readouterr().out
    assert "x* = (0, 0)" in out
    assert "W-ball of radius 1 " in out
    assert "Nash check              passed (sound)" in out
    assert cli.main(["certify", "non-nash", "--basin"]) == 1
    assert "Nash check              failed (sound)" in capsys.readouterr().out


def test_make_demo_prints_what_the_readme_shows(tmp_path, monkeypatch, capsys):
    """The README's `make demo` block, line for line (the Makefile runs exactly this command, silently)."""
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parents[2]
    readme = (root / "README.md").read_text(encoding="utf-8")
    block = re.search(r"`make demo` prints[^\n]*\n\n```\n(.*?)```", readme, re.S).group(1)
    makefile = (root / "Makefile").read_text(encoding="utf-8")
    command = re.search(r"@\$\(VENV\)/bin/sgn (certify [^\n]+)", makefile).group(1).split()
    monkeypatch.chdir(tmp_path)
    (tmp_path / "out").mkdir()
    assert cli.main(command) == 0
    captured = capsys.readouterr()
    err = captured.err.splitlines()
    shown = "\n".join([err[0], *captured.out.splitlines(), *err[1:]]) + "\n"  # a terminal interleaves them so
    assert shown == block
