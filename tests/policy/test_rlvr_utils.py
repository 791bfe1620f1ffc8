"""Helpers of the RLVR example (examples/rlvr/rlvr.py); the full run is exercised by notebook 04."""

import importlib.util
import json
import math
import os
import pathlib
import sys

import numpy as np
import pytest

_PATH = pathlib.Path(__file__).resolve().parents[2] / "examples" / "rlvr" / "rlvr.py"
_spec = importlib.util.spec_from_file_location("rlvr_example", _PATH)
rlvr = importlib.util.module_from_spec(_spec)
sys.modules["rlvr_example"] = rlvr  # dataclasses resolve annotations through sys.modules
_spec.loader.exec_module(rlvr)


def test_pass_at_k_hand_values():
    assert rlvr.pass_at_k(4, 1, 2) == pytest.approx(0.5)  # 1 - C(3,2)/C(4,2) = 1 - 3/6
    assert rlvr.pass_at_k(4, 0, 2) == 0.0
    assert rlvr.pass_at_k(4, 3, 2) == 1.0
    assert rlvr.pass_at_k(8, 2, 1) == pytest.approx(0.25)


def test_fit_entropy_law_recovers_parameters():
    h = np.linspace(0.05, 1.0, 20)
    r = -0.3 * np.exp(h) + 1.1
    a, b = rlvr.fit_entropy_law(h, r)
    assert a == pytest.approx(0.3)
    assert b == pytest.approx(1.1)


def test_paper_variants_override_the_tuned_settings():
    cfg = rlvr.config_for("clip_cov_paper", steps=3)
    assert (cfg.method, cfg.clip_cov_fraction, cfg.clip_cov_low, cfg.clip_cov_high, cfg.steps) == (
        "clip_cov", 2e-4, 1.0, 5.0, 3)
    assert rlvr.config_for("kl_cov_paper").kl_cov_fraction == 2e-3
    assert rlvr.config_for("clip_cov").clip_cov_fraction == rlvr.Config().clip_cov_fraction
    with pytest.raises(ValueError, match="expected a variant in"):
        rlvr.config_for("ppo")


def test_report_statistics_by_hand():
    runs = {"grpo": [{"seed": s, "acc_greedy": v} for s, v in ((1, 0.5), (2, 0.7), (3, 0.6))],
            "x": [{"seed": s, "acc_greedy": v} for s, v in ((1, 0.6), (2, 0.9), (3, 0.6))]}
    rep = rlvr.report(runs)
    r = rep["grpo"]["acc_greedy"]
    assert r["mean"] == pytest.approx(0.6)
    assert r["sd"] == pytest.approx(0.1)  # deviations -0.1, 0.1, 0: sqrt(0.02 / 2)
    half = 4.302652729911275 * 0.1 / math.sqrt(3)  # t_{0.975, 2}
    assert r["ci"] == pytest.approx([0.6 - half, 0.6 + half])
    d = rep["x"]["acc_greedy"]["diff_vs_grpo"]  # paired differences 0.1, 0.2, 0
    assert d["mean"] == pytest.approx(0.1)
    assert d["sd"] == pytest.approx(0.1)
    assert rep["x"]["acc_greedy"]["wins_vs_grpo"] == 2
    assert "| x |  |  | 0.700 ± 0.173 [0.270, 1.130] |" in rlvr.format_report(rep)  # sd sqrt(0.03)


def test_bad_inputs():
    with pytest.raises(ValueError, match="expected method in"):
        rlvr.run(rlvr.Config(method="ppo"), progress=False)
    with pytest.raises(ValueError, match="expected temperature > 0, got -1.0"):
        rlvr.run(rlvr.Config(temperature=-1.0), progress=False)
    assert rlvr.main(["--method", "grpo", "--temperature", "-1"]) == 2


def test_summary_table_rows():
    s = {"method": "grpo", "seed": 0, "initial_entropy": 0.5, "final_entropy": 0.1,
         "final_entropy_last10": 0.125, "acc_greedy": 0.8, "pass@1": 0.7, "pass@8": 0.9,
         "fit_a": 0.3, "fit_b": 1.1, "seconds": 12.0}
    text = rlvr.summary_table([s, {**s, "method": "kl_cov_paper", "seed": 1}])
    lines = text.splitlines()
    assert len(lines) == 4
    assert "pass@8" in lines[0]
    assert lines[2].split()[:2] == ["grpo", "0"]
    assert lines[3].split()[:2] == ["kl_cov_paper", "1"]
    assert "4.00" in lines[2]  # H0 / H_10 = 0.5 / 0.125


def test_main_writes_metrics_summary_and_plot(tmp_path, capsys):
    out = str(tmp_path)
    rc = rlvr.main(["--method", "entropy", "--steps", "2", "--warmup-steps", "1", "--eval-every", "1",
                    "--eval-prompts", "4", "--seeds", "0", "--out", out])
    assert rc == 0
    with open(os.path.join(out, "metrics_entropy_seed0.jsonl")) as f:
        recs = [json.loads(line) for line in f]
    assert [r["step"] for r in recs] == [0, 1, 2]
    assert all("entropy" in r and "acc_greedy" in r and "entropy_coef" in r for r in recs)
    with open(os.path.join(out, "summary.json")) as f:
        summ = json.load(f)
    (s,) = summ["runs"]["entropy"]
    for key in ("final_entropy", "acc_greedy", "pass@1", "pass@8", "fit_a", "fit_b", "acc_greedy_se"):
        assert np.isfinite(s[key])
    assert len(summ["curves"]["entropy"]["entropy_mean"]) == 3
    assert os.path.exists(os.path.join(out, "rlvr.png"))
    assert "H0/H_10" in capsys.readouterr().out
