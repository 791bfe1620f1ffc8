"""Helpers of the RLVR example (examples/rlvr/rlvr.py), and its texts against the stored tuning runs; the full run
is exercised by notebook 04."""

import dataclasses
import importlib.util
import json
import math
import os
import pathlib
import re
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


@pytest.mark.slow
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


# ---- the stored tuning runs (seeds 0-3) and the sentences that quote them ----

_RESULTS = _PATH.parent / "results"
_ROOT = _PATH.parents[2]
# folder under results/tuning -> (the CLI overrides of that run, {variant: label in the text})
_TUNING = {
    "tuned": ({}, {"grpo": "GRPO", "clip_cov": "Clip-Cov 0.15 (tuned)",
                   "kl_cov": "KL-Cov coef 3 (tuned)", "entropy": "entropy bonus (tuned)"}),
    "clip_cov_0.2": ({"clip_cov_fraction": 0.2}, {"clip_cov": "Clip-Cov 0.2"}),
    "clip_cov_0.3": ({"clip_cov_fraction": 0.3}, {"clip_cov": "Clip-Cov 0.3"}),
    "kl_cov_coef2": ({"kl_cov_coef": 2.0}, {"kl_cov": "KL-Cov coef 2"}),
}


def _tuning(folder):
    with open(_RESULTS / "tuning" / folder / "summary.json") as f:
        return json.load(f)


def _span(runs, key):
    vals = [r[key] for r in runs]
    return f"{min(vals):.2f}-{max(vals):.2f}"


def _tuning_lines():
    """label -> the one-line summary every text must carry: ranges over the tuning seeds of the
    last-10-rollout entropy and reward and of the final greedy accuracy, read from the stored runs."""
    lines = {}
    for folder, (_, labels) in _TUNING.items():
        runs = _tuning(folder)["runs"]
        for variant, label in labels.items():
            rs = runs[variant]
            lines[label] = (f"{label}: final entropy {_span(rs, 'final_entropy_last10')} nats, "
                            f"greedy accuracy {_span(rs, 'acc_greedy')}, "
                            f"training reward {_span(rs, 'final_reward_mean_last10')}")
    return lines


def _texts():
    """The three places that describe the tuning, whitespace-normalised: the script's docstring,
    the README's RL section and notebook 04's markdown."""
    import nbformat

    readme = (_ROOT / "README.md").read_text()
    start = readme.index("## The RL example")
    section = readme[start:readme.index("\n## ", start + 1)]
    nb = nbformat.read(_ROOT / "notebooks" / "04_token_entropy.ipynb", as_version=4)
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    return {name: " ".join(text.split()) for name, text in
            (("rlvr.py", rlvr.__doc__), ("README.md", section), ("notebook 04", markdown))}


def test_tuning_runs_are_stored_on_the_tuning_seeds_with_their_settings():
    with open(_RESULTS / "summary.json") as f:
        evaluation = json.load(f)
    assert sorted(evaluation["seeds"]) == sorted(rlvr.EVAL_SEEDS)
    assert not set(rlvr.TUNING_SEEDS) & set(rlvr.EVAL_SEEDS)
    for folder, (overrides, labels) in _TUNING.items():
        data = _tuning(folder)
        assert data["seeds"] == list(rlvr.TUNING_SEEDS), folder
        assert not set(data["seeds"]) & set(evaluation["seeds"]), folder
        assert set(data["runs"]) >= set(labels), folder
        for variant, runs in data["runs"].items():
            assert sorted(r["seed"] for r in runs) == list(rlvr.TUNING_SEEDS), (folder, variant)
            # the stored configuration is the current default plus the folder's override only, so
            # the tuned defaults of Config are the settings these runs used
            assert data["configs"][variant] == dataclasses.asdict(rlvr.config_for(variant, **overrides))


def test_texts_quote_the_stored_tuning_runs():
    lines = _tuning_lines()
    spans = {line.split("final entropy ")[1].split(" nats")[0] for line in lines.values()}
    for name, text in _texts().items():
        assert "not stored" not in text, name
        assert "examples/rlvr/results/tuning/" in text, name
        for line in lines.values():
            assert line in text, (name, line)
        # any other entropy range the text quotes in nats is one of the stored ones
        for span in (a + "-" + b for a, b in re.findall(r"(\d\.\d\d)[-–](\d\.\d\d) nats", text)):
            assert span in spans, (name, span)


def _by_seed(folder, variant, key):
    return {r["seed"]: r[key] for r in _tuning(folder)["runs"][variant]}


def test_tuning_observations_hold_on_every_tuning_seed():
    texts = _texts()
    # Clip-Cov: the final entropy rises with the fraction on every seed
    h = [_by_seed(f, "clip_cov", "final_entropy_last10") for f in ("tuned", "clip_cov_0.2", "clip_cov_0.3")]
    assert rlvr.Config().clip_cov_fraction == 0.15
    assert all(h[0][s] < h[1][s] < h[2][s] for s in rlvr.TUNING_SEEDS)
    assert "the final entropy rises with the fraction" in texts["rlvr.py"]
    assert "final entropy rises with the fraction" in texts["notebook 04"]
    # ... and 0.3 runs away on the seed that starts at the highest entropy
    h0 = _by_seed("clip_cov_0.3", "clip_cov", "initial_entropy")
    reward = _by_seed("clip_cov_0.3", "clip_cov", "final_reward_mean_last10")
    seed = max(h[2], key=h[2].get)
    assert seed == max(h0, key=h0.get)
    assert h[2][seed] > 2 * h0[seed]  # ran away: the entropy more than doubled during RL
    runaway = (f"the entropy ran away ({h0[seed]:.2f} -> {h[2][seed]:.2f} nats) and the training reward "
               f"fell to {reward[seed]:.2f}")
    for name, text in texts.items():
        for phrase in (f"on seed {seed}", "starts at the highest entropy", runaway):
            assert phrase in text, (name, phrase)
    # KL-Cov: coefficient 3 (tuned) keeps more entropy than 2 and costs more greedy accuracy, on every seed
    assert rlvr.Config().kl_cov_coef == 3.0
    h3, h2 = (_by_seed(f, "kl_cov", "final_entropy_last10") for f in ("tuned", "kl_cov_coef2"))
    a3, a2 = (_by_seed(f, "kl_cov", "acc_greedy") for f in ("tuned", "kl_cov_coef2"))
    grpo = _by_seed("tuned", "grpo", "acc_greedy")
    assert all(h3[s] > h2[s] and a3[s] < a2[s] < grpo[s] for s in rlvr.TUNING_SEEDS)
    for name, text in texts.items():
        assert "coefficient 3 keeps more entropy than 2 and costs more greedy accuracy" in text, name
