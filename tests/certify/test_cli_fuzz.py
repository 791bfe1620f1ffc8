"""CLI fuzz: random argument strings and malformed files end with exit 0/1/2, one error line, no traceback.

Runs in-process through ``certify.cli.main(argv)`` (one process: the first certify call compiles
once). A seeded generator builds argument lists from fragments of valid and invalid syntax;
malformed certificate files are written to a temporary directory.
"""

import contextlib
import io
import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from certify import cli

GAMES = ["sgn-toy", "saddle", "rotation", "cyclic3", "bilinear", "rps", "tanh-sin", "tandem", "nope", "", "-"]
FLAGS = [
    ["--param", "a=5"], ["--param", "a="], ["--param", "=3"], ["--param", "a"], ["--param", "a=x"],
    ["--param", "a=nan"], ["--param", "a=1e400"], ["--param", "zz=1"], ["--param", "c=0.5"],
    ["--param", "half=1.5"], ["--param", "radius=-1"], ["--region", "-1:1"], ["--region", "1:-1"],
    ["--region", "0:0"], ["--region", "a:b"], ["--region", "-1,-1:1"], ["--region", "-1,-1,-1:1,1,1"],
    ["--region", '{"lo": [-1, -1], "hi": [1, 1]}'], ["--region", '{"lo": "x"}'], ["--region", "{bad"],
    ["--region", "-inf:1"], ["--weight-method", "sdp"], ["--weight-method", "lp"], ["--weight-method", "magic"],
    ["--bounds", "exact"], ["--bounds", "sampled"], ["--bounds", "nope"], ["--samples", "8"],
    ["--samples", "0"], ["--samples", "-5"], ["--samples", "x"], ["--samples", "10000000"],
    ["--seed", "3"], ["--seed", "-1"], ["--seed", "1.5"], ["--json"], ["--unknown-flag"], ["--out"],
]


def run(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(argv)
    return code, out.getvalue(), err.getvalue()


def check_outcome(argv, code, err):
    assert code in (0, 1, 2), (argv, code, err)
    assert "Traceback" not in err, (argv, err)
    if code == 2:
        errors = [line for line in err.splitlines() if line.startswith("sgn: error:")]
        assert len(errors) == 1, (argv, err)
        assert errors[0].strip() == err.strip().splitlines()[-1].strip(), (argv, err)


def random_certify_argv(rng):
    argv = ["certify"]
    if rng.random() < 0.8:
        argv.append(rng.choice(GAMES))
    for _ in range(rng.randint(0, 3)):
        argv += rng.choice(FLAGS)
    if rng.random() < 0.1:
        argv.append(rng.choice(["--samples", "--seed", "--region"]))  # flag missing its value
    if rng.random() < 0.05:
        argv.insert(1, "".join(rng.choice("abc-=:{}, 01") for _ in range(rng.randint(1, 8))))
    return argv


def _certificate_text():
    code, out, _ = run(["certify", "--json"])
    assert code == 0
    return out


def malformed_files(tmp: Path, rng, n):
    good = _certificate_text()
    doc = json.loads(good)
    variants = [
        ("empty", ""), ("binary", None), ("not json", "hello"), ("list", "[1, 2, 3]"),
        ("truncated", good[: len(good) // 3]), ("good", good),
    ]
    keys = sorted(doc)
    for i in range(n):
        d = json.loads(good)
        key = rng.choice(keys)
        kind = rng.choice(["drop", "string", "number", "null", "list", "nested", "version"])
        if kind == "drop":
            d.pop(key)
        elif kind == "string":
            d[key] = "abc"
        elif kind == "number":
            d[key] = rng.choice([0.5, -1, 1e300, 0])
        elif kind == "null":
            d[key] = None
        elif kind == "list":
            d[key] = [1.0, "x"]
        elif kind == "nested":
            d["game"]["params"] = {"a": rng.choice([5.0, "x", None, [1]])}
        else:
            d["schema_version"] = rng.choice([0, 2, "1", None])
        variants.append((f"edit{i}-{kind}-{key}", json.dumps(d)))
    paths = []
    for name, text in variants:
        p = tmp / f"{name}.json"
        if text is None:
            p.write_bytes(bytes(range(256)))
        else:
            p.write_text(text)
        paths.append(p)
    paths += [tmp / "missing.json", tmp]  # a file that does not exist, a directory
    return paths


def _fuzz(tmp_path, n_args, n_files, seed):
    rng = random.Random(seed)
    seen = {0: 0, 1: 0, 2: 0}
    for _ in range(n_args):
        argv = random_certify_argv(rng)
        code, _, err = run(argv)
        check_outcome(argv, code, err)
        seen[code] += 1
    for path in malformed_files(tmp_path, rng, n_files):
        argv = ["verify", str(path), "--pairs", "4", "--steps", "10"]
        code, _, err = run(argv)
        check_outcome(argv, code, err)
        seen[code] += 1
    for argv in ([], ["frobnicate"], ["verify"], ["games", "extra"], ["--help"], ["certify", "--help"],
                 ["verify", "x.json", "--pairs", "0"]):
        code, _, err = run(argv)
        check_outcome(argv, code, err)
        seen[code] += 1
    return seen


@pytest.mark.slow
def test_cli_fuzz_default(tmp_path):
    seen = _fuzz(tmp_path, n_args=200, n_files=60, seed=0)
    assert seen[2] > 50  # plenty of malformed input was generated
    assert seen[0] + seen[1] > 20  # and plenty of valid runs


@pytest.mark.slow
def test_cli_fuzz_many(tmp_path):
    seen = _fuzz(tmp_path, n_args=1500, n_files=400, seed=1)
    assert seen[2] > 300


def test_missing_optional_dependency_is_one_line(monkeypatch):
    import games._registry as registry

    def needs_pyspiel():
        import pyspiel_missing_for_test  # noqa: F401

    monkeypatch.setitem(registry._REGISTRY, "needs-pyspiel",
                        registry._Entry(needs_pyspiel, "test entry needing a missing module"))
    code, _, err = run(["certify", "needs-pyspiel"])
    assert code == 2
    assert err.strip() == ("sgn: error: optional dependency 'pyspiel_missing_for_test' is not installed "
                           "(e.g. pip install 'sgn[openspiel]' for pyspiel)")


def test_internal_error_is_one_line(monkeypatch):
    import certify

    def broken(*args, **kwargs):
        raise ZeroDivisionError("simulated bug")

    monkeypatch.setattr(certify, "certify", broken)
    code, _, err = run(["certify"])
    assert code == 2
    assert err.strip().splitlines()[-1].startswith("sgn: error: internal error (ZeroDivisionError: simulated bug)")
    assert "Traceback" not in err


def test_tampered_file_names_the_field(tmp_path):
    doc = json.loads(_certificate_text())
    doc["margin"] = 0.5
    p = tmp_path / "t.json"
    p.write_text(json.dumps(doc))
    code, _, err = run(["verify", str(p)])
    assert code == 2
    assert "field 'margin' is 0.5 but recomputes to 0.29289" in err


@pytest.mark.parametrize("argv", [["certify", "--param", "a=oops"], ["verify", "/nonexistent/cert.json"]])
@pytest.mark.slow
def test_subprocess_has_no_traceback(argv):
    proc = subprocess.run([sys.executable, "-m", "certify.cli", *argv], capture_output=True, text=True,
                          timeout=300, check=False)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert proc.stderr.startswith("sgn: error: ")
