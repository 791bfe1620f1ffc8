"""The cold-start benchmark runs end to end in its tiny mode (a smoke run: no timing is asserted)."""

import json
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_cold_start_benchmark_smoke(tmp_path):
    out = tmp_path / "cold.json"
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "cold_start.py"), "--smoke", "--out", str(out)],
                          capture_output=True, text=True, timeout=900, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(out.read_text())
    names = {(r["command"], r["cache"]) for r in result["rows"]}
    assert ("sgn certify sgn-toy --json", "-") in names
    assert {("sgn certify lq64 --param lam=1.2", "warm"), ("sgn certify lq64 --param lam=1.2", "cold")} <= names
    assert all(r["exit_code"] == 0 and r["median_s"] > 0 and r["peak_rss_mib"] > 0 for r in result["rows"])
    assert result["floor_median_s"] > 0
