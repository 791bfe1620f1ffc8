"""Helpers of the RLVR demo (the full run is exercised by the notebook test)."""

import json
import os

import numpy as np
import pytest

from policy.rlvr import Config, fit_entropy_law, main, pass_at_k, run, summary_table


def test_pass_at_k_hand_values():
    assert pass_at_k(4, 1, 2) == pytest.approx(0.5)  # 1 - C(3,2)/C(4,2) = 1 - 3/6
    assert pass_at_k(4, 0, 2) == 0.0
    assert pass_at_k(4, 3, 2) == 1.0
    assert pass_at_k(8, 2, 1) == pytest.approx(0.25)


def test_fit_entropy_law_recovers_parameters():
    h = np.linspace(0.05, 1.0, 20)
    r = -0.3 * np.exp(h) + 1.1
    a, b = fit_entropy_law(h, r)
    assert a == pytest.approx(0.3)
    assert b == pytest.approx(1.1)


def test_bad_inputs():
    with pytest.raises(ValueError, match="expected method in"):
        run(Config(method="ppo"), progress=False)
    with pytest.raises(ValueError, match="expected temperature > 0, got -1.0"):
        run(Config(temperature=-1.0), progress=False)
    assert main(["--method", "grpo", "--temperature", "-1"]) == 2


def test_summary_table_rows():
    s = {"method": "grpo", "seed": 0, "initial_entropy": 0.5, "final_entropy": 0.1,
         "final_entropy_last10": 0.125, "acc_greedy": 0.8, "pass@1": 0.7, "pass@8": 0.9,
         "fit_a": 0.3, "fit_b": 1.1, "seconds": 12.0}
    text = summary_table([s, {**s, "method": "kl_cov", "seed": 1}])
    lines = text.splitlines()
    assert len(lines) == 4
    assert "pass@8" in lines[0]
    assert lines[2].split()[:2] == ["grpo", "0"]
    assert lines[3].split()[:2] == ["kl_cov", "1"]
    assert "4.00" in lines[2]  # H0 / H_10 = 0.5 / 0.125


def test_main_writes_metrics_summary_and_plot(tmp_path, capsys):
    out = str(tmp_path)
    rc = main(["--method", "entropy", "--steps", "2", "--warmup-steps", "1", "--eval-every", "1",
               "--seeds", "0", "--out", out])
    assert rc == 0
    with open(os.path.join(out, "metrics_entropy_seed0.jsonl")) as f:
        recs = [json.loads(line) for line in f]
    assert [r["step"] for r in recs] == [0, 1, 2]
    assert all("entropy" in r and "acc_greedy" in r and "entropy_coef" in r for r in recs)
    with open(os.path.join(out, "summary.json")) as f:
        summ = json.load(f)
    (s,) = summ["runs"]["entropy"]
    for key in ("final_entropy", "acc_greedy", "pass@1", "pass@8", "fit_a", "fit_b"):
        assert np.isfinite(s[key])
    assert os.path.exists(os.path.join(out, "rlvr.png"))
    assert "H0/H_10" in capsys.readouterr().out
