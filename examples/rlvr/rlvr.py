r"""End-to-end RLVR demo: entropy collapse under GRPO and its control, on a CPU in minutes.

A tiny causal transformer (flax.linen) learns to *sort* ``n_digits`` digits: the prompt is the
digits and a separator, the response must be the sorted digits, the reward is exact match (1/0).
After a short supervised warm-up the policy is trained with group-sampled RL (``group`` responses
per prompt, sampling temperature ``temperature``) with one of the :mod:`policy.tokens` presets

* ``grpo``      -- GRPO advantages, symmetric PPO clip, token-mean, no KL (:func:`policy.tokens.grpo`);
* ``clip_cov``  -- Clip-Cov (Cui et al. 2025): a random subset of moderate-covariance tokens cut;
* ``kl_cov``    -- KL-Cov: :math:`|\log\pi-\log\pi_{\rm old}|` penalty on the top-covariance tokens;
* ``entropy``   -- the same PPO loss with an entropy bonus :math:`-c\bar H` whose coefficient is
  Skywork-OR1's adaptive one (:func:`policy.tokens.adaptive_entropy_update`);

each in a tuned setting and (``*_paper``) in the papers' / frameworks' setting. Each rollout is used
for ``updates`` minibatch updates (so the behaviour policy lags and KL-Cov's penalty is not
identically zero). All variants share seeds and budget. Logged per step (JSONL): rollout reward,
token entropy of the sampled policy, clip fractions; every ``eval_every`` steps: greedy accuracy
and pass@k on ``eval_prompts`` held-out prompts. :math:`R = -a e^{H} + b` (Cui et al.'s empirical
law) is fitted by least squares over the (entropy, reward) pairs of all steps.

Protocol. Hyperparameters were chosen by hand on the tuning seeds 0-3 only (150 steps). The tuning
runs quoted below are stored in ``examples/rlvr/results/tuning/<setting>/summary.json`` (configuration,
seeds and per-seed summaries; rerun with ``--seeds 0 1 2 3``) and ``tests/policy/test_rlvr_utils.py``
checks every figure quoted here against them. The reported results use the evaluation seeds 100-104,
never looked at while tuning, and 512 evaluation prompts per run (standard error of an accuracy near
0.02 per run). :func:`report` gives, per variant, the mean and standard deviation over seeds, a 95%
t-interval of the mean, and the difference to GRPO paired by seed.

Settings (the tuned ones are the defaults of :class:`Config`). The papers' ratios (Clip-Cov
``clip_cov_ratio`` 2e-4 with covariance window (1, 5); KL-Cov ``k_percent`` 0.2%, i.e. a fraction
2e-3, coefficient 1) are tuned for 7B/32B models and ~10^5-10^6 response tokens per batch. Here a
minibatch holds ``prompts * group / updates * n_digits`` = 160 tokens, so ``2e-4 * 160 = 0.03`` and
the ``max(floor(.), 1)`` floor selects exactly one token per minibatch (effective fraction 0.6%),
which changes nothing measurable; and the covariances of this task (std-normalised advantages up
to ~2.6, log-probs down to ~-5) of the entropy-reducing tokens lie in ~0.2-10, so the window (1, 5)
misses the largest ones.

* Clip-Cov (tuned): fraction 0.15, window (0.2, 20). On every tuning seed the final entropy rises
  with the fraction (0.15 < 0.2 < 0.3), and fraction 0.3 fails: on seed 2 (which starts at the highest
  entropy) the entropy ran away (0.67 -> 1.75 nats) and the training reward fell to 0.00. A fixed
  fraction keeps cutting entropy-reducing updates whatever the entropy, so the runaway threshold
  varies by seed; 0.15 is half of the fraction seen to fail.
* KL-Cov (tuned): fraction 0.1, coefficient 3 (top 16 tokens per minibatch); coefficient 3 keeps
  more entropy than 2 and costs more greedy accuracy, both on every tuning seed.
* Entropy bonus (tuned): adaptive, target 0.3 nats, delta 0.01, initial coefficient 0.1; the paper
  setting is Skywork-OR1 / TRL's: target 0.2, delta 0.005, initial coefficient 0.
* Shared: lr 3e-4 (Adam), 16 prompts x group 8, 4 off-policy minibatch updates per rollout,
  PPO eps 0.2, temperature 1, 150 RL steps after 30 supervised warm-up steps.

Tuning runs (``examples/rlvr/results/tuning/``), ranges over seeds 0-3 of the mean entropy and
reward of the last 10 rollouts and of the greedy accuracy at the last step:

* GRPO: final entropy 0.10-0.13 nats, greedy accuracy 0.77-0.88, training reward 0.69-0.80
* Clip-Cov 0.15 (tuned): final entropy 0.19-0.24 nats, greedy accuracy 0.85-0.94, training reward 0.63-0.75
* Clip-Cov 0.2: final entropy 0.21-0.27 nats, greedy accuracy 0.88-0.91, training reward 0.64-0.71
* Clip-Cov 0.3: final entropy 0.26-1.75 nats, greedy accuracy 0.16-0.92, training reward 0.00-0.69
* KL-Cov coef 3 (tuned): final entropy 0.21-0.28 nats, greedy accuracy 0.65-0.76, training reward 0.52-0.61
* KL-Cov coef 2: final entropy 0.16-0.22 nats, greedy accuracy 0.71-0.83, training reward 0.60-0.69
* entropy bonus (tuned): final entropy 0.27-0.32 nats, greedy accuracy 0.82-0.86, training reward 0.55-0.64

Usage::

    python examples/rlvr/rlvr.py --method all --out runs/rlvr           # 7 variants x seeds 100-104
    python examples/rlvr/rlvr.py --method clip_cov --seeds 0 1 2 3       # a tuning run
    python examples/rlvr/rlvr.py --method clip_cov --clip-cov-fraction 2e-4 --clip-cov-low 1 --clip-cov-high 5
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import sys
import time
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
from scipy import stats

from policy import entropy_from_logits, log_probs_from_logits, tokens

METHODS = ("grpo", "clip_cov", "kl_cov", "entropy")
PAPER = {
    "clip_cov_paper": ("clip_cov", {"clip_cov_fraction": 2e-4, "clip_cov_low": 1.0, "clip_cov_high": 5.0}),
    "kl_cov_paper": ("kl_cov", {"kl_cov_fraction": 2e-3, "kl_cov_coef": 1.0}),
    "entropy_paper": ("entropy", {"entropy_target": 0.2, "entropy_delta": 0.005, "entropy_coef": 0.0}),
}
VARIANTS = (*METHODS, *PAPER)
TUNING_SEEDS = (0, 1, 2, 3)
EVAL_SEEDS = (100, 101, 102, 103, 104)


@dataclasses.dataclass(frozen=True)
class Config:
    """Run configuration (all sizes small enough for a 2-core CPU); defaults are the tuned settings."""

    method: str = "grpo"
    variant: str = ""
    n_digits: int = 5
    n_values: int = 10
    d_model: int = 64
    n_layers: int = 2
    n_heads: int = 4
    warmup_steps: int = 30
    warmup_batch: int = 64
    warmup_lr: float = 3e-3
    steps: int = 150
    prompts: int = 16
    group: int = 8
    updates: int = 4
    lr: float = 3e-4
    temperature: float = 1.0
    eps: float = 0.2
    clip_cov_fraction: float = 0.15
    clip_cov_low: float = 0.2
    clip_cov_high: float = 20.0
    kl_cov_fraction: float = 0.1
    kl_cov_coef: float = 3.0
    entropy_coef: float = 0.1
    entropy_target: float = 0.3
    entropy_delta: float = 0.01
    eval_every: int = 25
    eval_prompts: int = 512
    pass_k: int = 8
    seed: int = 0


def config_for(variant: str, **overrides) -> Config:
    """The :class:`Config` of a named variant (a method, or a method in its paper setting)."""
    if variant in PAPER:
        method, paper = PAPER[variant]
        return Config(method=method, variant=variant, **{**overrides, **paper})
    if variant not in METHODS:
        raise ValueError(f"expected a variant in {VARIANTS}, got {variant!r}")
    return Config(method=variant, variant=variant, **overrides)


class _Block(nn.Module):
    d_model: int
    n_heads: int

    @nn.compact
    def __call__(self, x, mask):
        h = nn.LayerNorm()(x)
        # (named as the deprecated nn.SelfAttention was, so parameters and results are unchanged)
        h = nn.MultiHeadDotProductAttention(num_heads=self.n_heads, qkv_features=self.d_model,
                                            name="SelfAttention_0")(h, mask=mask)
        x = x + h
        h = nn.LayerNorm()(x)
        h = nn.Dense(4 * self.d_model)(h)
        return x + nn.Dense(self.d_model)(nn.gelu(h))


class TinyTransformer(nn.Module):
    """Decoder-only transformer: token + position embeddings, pre-LN blocks, tied-free head."""

    vocab: int
    max_len: int
    d_model: int = 64
    n_layers: int = 2
    n_heads: int = 4

    @nn.compact
    def __call__(self, tokens):
        t = tokens.shape[-1]
        x = nn.Embed(self.vocab, self.d_model)(tokens)
        x = x + nn.Embed(self.max_len, self.d_model)(jnp.arange(t))[None]
        mask = nn.make_causal_mask(tokens)
        for _ in range(self.n_layers):
            x = _Block(self.d_model, self.n_heads)(x, mask)
        return nn.Dense(self.vocab)(nn.LayerNorm()(x))


def _sep(cfg):
    return cfg.n_values


def make_prompts(key, cfg, n):
    """``n`` prompts ``[n, n_digits + 1]`` (digits then separator) and their sorted targets."""
    d = jax.random.randint(key, (n, cfg.n_digits), 0, cfg.n_values)
    prompts = jnp.concatenate([d, jnp.full((n, 1), _sep(cfg))], axis=1)
    return prompts, jnp.sort(d, axis=1)


def _response_logits(model, params, seqs, cfg):
    """Logits predicting the response tokens of full sequences ``[n, L]`` -> ``[n, n_digits, V]``."""
    logits = model.apply(params, seqs[:, :-1])
    return logits[:, cfg.n_digits:, :]


def sample(model, params, prompts, key, cfg, *, temperature, greedy=False):
    """Autoregressively sample ``n_digits`` response tokens (full recompute; sequences are tiny)."""
    n = prompts.shape[0]
    seqs = jnp.concatenate([prompts, jnp.zeros((n, cfg.n_digits), prompts.dtype)], axis=1)
    p0 = prompts.shape[1]

    def step(seqs, i):
        logits = model.apply(params, seqs)[:, p0 - 1 + i, :]
        k = jax.random.fold_in(key, i)
        tok = (jnp.argmax(logits, -1) if greedy
               else jax.random.categorical(k, logits / temperature, axis=-1))
        return seqs.at[:, p0 + i].set(tok.astype(seqs.dtype)), None

    seqs, _ = jax.lax.scan(step, seqs, jnp.arange(cfg.n_digits))
    return seqs


def pass_at_k(n, c, k):
    r"""Unbiased pass@k estimator :math:`1 - \binom{n-c}{k}/\binom{n}{k}` (Chen et al. 2021)."""
    if n - c < k:
        return 1.0
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def fit_entropy_law(entropy, reward):
    """Least-squares fit of :math:`R = -a e^{H} + b`; returns ``(a, b)``."""
    x = np.exp(np.asarray(entropy, float))
    y = np.asarray(reward, float)
    A = np.stack([-x, np.ones_like(x)], axis=1)
    (a, b), *_ = np.linalg.lstsq(A, y, rcond=None)
    return float(a), float(b)


def loss_for(cfg: Config) -> tokens.TokenLoss:
    """The :mod:`policy.tokens` preset of the run's method."""
    if cfg.method == "grpo":
        return tokens.grpo(eps_low=cfg.eps, kl_coef=0.0, aggregation="token-mean")
    if cfg.method == "clip_cov":
        return tokens.clip_cov(fraction=cfg.clip_cov_fraction, cov_low=cfg.clip_cov_low,
                               cov_high=cfg.clip_cov_high, eps_low=cfg.eps, eps_high=cfg.eps)
    if cfg.method == "kl_cov":
        return tokens.kl_cov(fraction=cfg.kl_cov_fraction, coef=cfg.kl_cov_coef)
    return tokens.ppo_entropy_bonus(coef=None, eps_low=cfg.eps)


def _loss_fn(cfg, model):
    loss_fn = loss_for(cfg)

    def loss(params, seqs, old_logp, adv, mask, key, ent_coef):
        logits = _response_logits(model, params, seqs, cfg)
        resp = seqs[:, -cfg.n_digits:]
        logp = log_probs_from_logits(logits, resp, temperature=cfg.temperature)
        ent = entropy_from_logits(logits, temperature=cfg.temperature)
        extra = {"key": key} if cfg.method == "clip_cov" else {}
        if cfg.method == "entropy":
            extra["entropy_coef"] = ent_coef
        return loss_fn(logp=logp, old_logp=old_logp, advantages=adv, mask=mask, entropy=ent, **extra)

    return loss


_SELECTED = {"clip_cov": "clip_cov/n_selected", "kl_cov": "kl_cov/n_selected"}


def run(cfg: Config, *, out: str | None = None, progress: bool = True) -> dict[str, Any]:
    """Warm up, then run RL with ``cfg.method``; returns the history and the final figures."""
    if cfg.method not in METHODS:
        raise ValueError(f"expected method in {METHODS}, got {cfg.method!r}")
    if cfg.temperature <= 0:
        raise ValueError(f"expected temperature > 0, got {cfg.temperature}")
    name = cfg.variant or cfg.method
    vocab = cfg.n_values + 1
    model = TinyTransformer(vocab, 2 * cfg.n_digits + 1, cfg.d_model, cfg.n_layers, cfg.n_heads)
    key = jax.random.key(cfg.seed)
    k_init, k_eval, key = jax.random.split(key, 3)
    params = model.init(k_init, jnp.zeros((1, 2 * cfg.n_digits), jnp.int32))
    eval_prompts, eval_targets = make_prompts(k_eval, cfg, cfg.eval_prompts)

    # ---- supervised warm-up (same for every method: same seed) ----
    wopt = optax.adam(cfg.warmup_lr)
    wstate = wopt.init(params)

    @jax.jit
    def sft_step(params, wstate, k):
        prompts, targets = make_prompts(k, cfg, cfg.warmup_batch)
        seqs = jnp.concatenate([prompts, targets], axis=1)

        def nll(p):
            lg = _response_logits(model, p, seqs, cfg)
            return -jnp.mean(log_probs_from_logits(lg, targets))

        val, g = jax.value_and_grad(nll)(params)
        upd, wstate = wopt.update(g, wstate)
        return optax.apply_updates(params, upd), wstate, val

    wkey = jax.random.key(cfg.seed + 1)
    for i in range(cfg.warmup_steps):
        params, wstate, _ = sft_step(params, wstate, jax.random.fold_in(wkey, i))

    # ---- RL ----
    opt = optax.adam(cfg.lr)
    ostate = opt.init(params)
    loss_fn = _loss_fn(cfg, model)
    n = cfg.prompts * cfg.group
    mb = n // cfg.updates
    gids = jnp.repeat(jnp.arange(cfg.prompts), cfg.group)

    @jax.jit
    def rollout(params, k):
        kp, ks = jax.random.split(k)
        prompts, targets = make_prompts(kp, cfg, cfg.prompts)
        prompts = jnp.repeat(prompts, cfg.group, axis=0)
        targets = jnp.repeat(targets, cfg.group, axis=0)
        seqs = sample(model, params, prompts, ks, cfg, temperature=cfg.temperature)
        reward = jnp.all(seqs[:, -cfg.n_digits:] == targets, axis=1).astype(jnp.float32)
        lg = _response_logits(model, params, seqs, cfg)
        old_logp = log_probs_from_logits(lg, seqs[:, -cfg.n_digits:], temperature=cfg.temperature)
        ent = entropy_from_logits(lg, temperature=cfg.temperature)
        adv = tokens.grpo_advantages(reward, gids, num_groups=cfg.prompts)
        return seqs, reward, old_logp, adv, jnp.mean(ent)

    @jax.jit
    def update(params, ostate, seqs, old_logp, adv, k, ent_coef):
        mask = jnp.ones(old_logp.shape, jnp.float32)
        (val, met), g = jax.value_and_grad(loss_fn, has_aux=True)(params, seqs, old_logp, adv,
                                                                   mask, k, ent_coef)
        upd, ostate = opt.update(g, ostate, params)
        return optax.apply_updates(params, upd), ostate, met

    @jax.jit
    def evaluate(params, k):
        greedy = sample(model, params, eval_prompts, k, cfg, temperature=1.0, greedy=True)
        acc = jnp.all(greedy[:, -cfg.n_digits:] == eval_targets, axis=1)
        rep = jnp.repeat(eval_prompts, cfg.pass_k, axis=0)
        s = sample(model, params, rep, k, cfg, temperature=cfg.temperature)
        ok = jnp.all(s[:, -cfg.n_digits:] == jnp.repeat(eval_targets, cfg.pass_k, axis=0), axis=1)
        return acc, ok.reshape(cfg.eval_prompts, cfg.pass_k).sum(axis=1)

    def eval_record(params, k):
        acc, c = evaluate(params, k)
        acc, c = np.asarray(acc, float), np.asarray(c)
        rec = {"acc_greedy": float(acc.mean()),
               "acc_greedy_se": float(acc.std(ddof=1) / math.sqrt(acc.size))}
        for kk in (1, cfg.pass_k):
            per = np.array([pass_at_k(cfg.pass_k, int(x), kk) for x in c])
            rec[f"pass@{kk}"] = float(per.mean())
            rec[f"pass@{kk}_se"] = float(per.std(ddof=1) / math.sqrt(per.size))
        return rec

    history = []
    fh = None
    if out:
        os.makedirs(out, exist_ok=True)
        fh = open(os.path.join(out, f"metrics_{name}_seed{cfg.seed}.jsonl"), "w")
    try:
        rkey = jax.random.key(cfg.seed + 2)
        ekey = jax.random.key(cfg.seed + 3)
        it = range(cfg.steps + 1)
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(it, desc=name, leave=False, file=sys.stderr)
            it = bar
        ent_state = tokens.adaptive_entropy_init(cfg.entropy_coef)
        ent_coef = jnp.asarray(cfg.entropy_coef, jnp.float32)
        t0 = time.perf_counter()
        for step in it:
            k = jax.random.fold_in(rkey, step)
            seqs, reward, old_logp, adv, ent = rollout(params, k)
            rec = {"method": name, "step": step, "reward": float(jnp.mean(reward)), "entropy": float(ent)}
            if cfg.method == "entropy":
                ent_state, ent_coef = tokens.adaptive_entropy_update(
                    ent_state, ent, target=cfg.entropy_target, delta=cfg.entropy_delta)
                rec["entropy_coef"] = float(ent_coef)
            if step % cfg.eval_every == 0 or step == cfg.steps:
                rec.update(eval_record(params, jax.random.fold_in(ekey, step)))
            if step < cfg.steps:
                perm = jax.random.permutation(jax.random.fold_in(k, 7), n)
                for u in range(cfg.updates):
                    idx = perm[u * mb:(u + 1) * mb]
                    params, ostate, met = update(params, ostate, seqs[idx], old_logp[idx], adv[idx],
                                                 jax.random.fold_in(k, 100 + u), ent_coef)
                rec.update({key_: float(met[key_]) for key_ in
                            ("pg_clipfrac", "ppo_kl", "cov_logp_adv", "adv/frac_zero_seq")})
                if cfg.method in _SELECTED:
                    rec["n_selected"] = float(met[_SELECTED[cfg.method]])
            history.append(rec)
            if fh:
                fh.write(json.dumps(rec) + "\n")
            if bar is not None:
                bar.set_postfix(R=f"{rec['reward']:.2f}", H=f"{rec['entropy']:.3f}")
    finally:
        if fh:
            fh.close()  # also when the run raises
    a, b = fit_entropy_law([r["entropy"] for r in history], [r["reward"] for r in history])
    last = [r for r in history if "acc_greedy" in r][-1]
    tail = history[-10:]
    summary = {
        "method": name, "seed": cfg.seed, "final_entropy": history[-1]["entropy"],
        "final_entropy_last10": float(np.mean([r["entropy"] for r in tail])),
        "initial_entropy": history[0]["entropy"],
        "final_reward_mean_last10": float(np.mean([r["reward"] for r in tail])),
        "fit_a": a, "fit_b": b, "seconds": time.perf_counter() - t0,
        **{k_: v for k_, v in last.items() if k_.startswith(("acc_greedy", "pass@"))},
    }
    return {"history": history, "summary": summary}


REPORTED = ("final_entropy_last10", "final_reward_mean_last10", "acc_greedy", "pass@1", "pass@8")


def _interval(x, level=0.95):
    """Mean, sample standard deviation and the t-interval of the mean of ``x``."""
    x = np.asarray(x, float)
    mean = float(x.mean())
    if x.size < 2:
        return {"mean": mean, "sd": None, "ci": None, "n": int(x.size)}
    sd = float(x.std(ddof=1))
    half = float(stats.t.ppf(0.5 + level / 2, x.size - 1) * sd / math.sqrt(x.size))
    return {"mean": mean, "sd": sd, "ci": [mean - half, mean + half], "n": int(x.size)}


def report(summaries: dict[str, list[dict]], *, baseline: str = "grpo") -> dict:
    """Per variant and metric: mean, sd and 95% t-interval over seeds; differences to ``baseline``.

    ``summaries`` maps a variant to its runs' summaries. The difference to the baseline is paired
    by seed (same warm-up, same evaluation prompts); ``wins`` counts the seeds where the variant's
    value is larger.
    """
    base = {s["seed"]: s for s in summaries.get(baseline, [])}
    out = {}
    for name, runs in summaries.items():
        row = {}
        for metric in REPORTED:
            vals = [s[metric] for s in runs if metric in s]
            if not vals:
                continue
            row[metric] = _interval(vals)
            paired = [(s[metric], base[s["seed"]][metric]) for s in runs
                      if name != baseline and s["seed"] in base and metric in s]
            if paired:
                d = np.array([x - y for x, y in paired])
                row[metric]["diff_vs_" + baseline] = _interval(d)
                row[metric]["wins_vs_" + baseline] = int(np.sum(d > 0))
        out[name] = row
    return out


def format_report(rep: dict) -> str:
    """The report as a Markdown table: mean ± sd [95% CI] per variant and metric."""
    head = "| variant | " + " | ".join(REPORTED) + " |"
    rows = [head, "|" + "---|" * (len(REPORTED) + 1)]
    for name, row in rep.items():
        cells = []
        for metric in REPORTED:
            r = row.get(metric)
            if r is None:
                cells.append("")
            elif r["sd"] is None:
                cells.append(f"{r['mean']:.3f}")
            else:
                cells.append(f"{r['mean']:.3f} ± {r['sd']:.3f} [{r['ci'][0]:.3f}, {r['ci'][1]:.3f}]")
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def mean_curves(results: dict[str, list[dict]]) -> dict:
    """Per variant: the steps, the rollout entropy's mean / min / max over seeds and the mean reward."""
    out = {}
    for name, runs in results.items():
        ent = np.array([[r["entropy"] for r in res["history"]] for res in runs])
        rew = np.array([[r["reward"] for r in res["history"]] for res in runs])
        out[name] = {"step": [r["step"] for r in runs[0]["history"]],
                     "entropy_mean": np.round(ent.mean(0), 3).tolist(),
                     "entropy_min": np.round(ent.min(0), 3).tolist(),
                     "entropy_max": np.round(ent.max(0), 3).tolist(),
                     "reward_mean": np.round(rew.mean(0), 3).tolist()}
    return out


def plot(results, out):
    """Entropy / accuracy vs step and the reward-entropy fit (matplotlib imported lazily).

    ``results`` maps a variant to one run's result or to a list of them (one per seed).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, 3, figsize=(15, 4))
    for ci, (name, runs) in enumerate(results.items()):
        runs = runs if isinstance(runs, list) else [runs]
        color = f"C{ci}"
        for si, res in enumerate(runs):
            h = res["history"]
            label = name if si == 0 else None
            ax[0].plot([r["step"] for r in h], [r["entropy"] for r in h], color=color, alpha=0.6,
                       label=label)
            ev = [r for r in h if "acc_greedy" in r]
            ax[1].plot([r["step"] for r in ev], [r["acc_greedy"] for r in ev], color=color,
                       alpha=0.6, label=label)
            ent = np.array([r["entropy"] for r in h])
            ax[2].scatter(ent, [r["reward"] for r in h], s=4, color=color, label=label)
    ax[0].set(xlabel="RL step", ylabel="token entropy (nats)", yscale="log",
              title="policy entropy (sampled rollouts)")
    ax[1].set(xlabel="RL step", ylabel="greedy exact-match accuracy", title="held-out accuracy")
    ax[2].set(xlabel="entropy H", ylabel="rollout reward R", title="reward vs entropy")
    for a_ in ax:
        a_.legend(fontsize=7)
    fig.tight_layout()
    path = os.path.join(out, "rlvr.png")
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def summary_table(summaries, pass_k=Config.pass_k) -> str:
    """Plain-text table of the run summaries (one row per variant and seed)."""
    head = (f"{'variant':15s} {'seed':>4s} {'H0':>6s} {'H_end':>6s} {'H_10':>6s} {'H0/H_10':>7s} "
            f"{'acc':>5s} {'pass@1':>6s} {f'pass@{pass_k}':>6s} {'a':>7s} {'b':>7s} {'sec':>5s}")
    rows = [head, "-" * len(head)]
    for s in summaries:
        rows.append(
            f"{s['method']:15s} {s['seed']:4d} {s['initial_entropy']:6.3f} {s['final_entropy']:6.3f} "
            f"{s['final_entropy_last10']:6.3f} "
            f"{s['initial_entropy'] / max(s['final_entropy_last10'], 1e-12):7.2f} "
            f"{s['acc_greedy']:5.2f} {s['pass@1']:6.2f} {s[f'pass@{pass_k}']:6.2f} "
            f"{s['fit_a']:7.3f} {s['fit_b']:7.3f} {s['seconds']:5.0f}")
    return "\n".join(rows)


_CLI_FIELDS = ("steps", "warmup_steps", "temperature", "lr", "updates", "group", "prompts",
               "clip_cov_fraction", "clip_cov_low", "clip_cov_high", "kl_cov_fraction", "kl_cov_coef",
               "entropy_coef", "entropy_target", "entropy_delta", "eval_every", "eval_prompts", "pass_k")


def main(argv=None):
    """CLI entry point: ``python examples/rlvr/rlvr.py --method {all,tuned,<variant>}``.

    Writes ``metrics_<variant>_seed<seed>.jsonl`` per run and ``summary.json`` (configuration,
    seeds, per-run summaries, the :func:`report` statistics and the mean curves), prints the
    per-run table and the report, and plots ``rlvr.png``.
    """
    ap = argparse.ArgumentParser(description="Tiny RLVR run: entropy collapse and its control.")
    ap.add_argument("--method", default="all", choices=(*VARIANTS, "all", "tuned"),
                    help="a variant, 'tuned' (the four tuned methods) or 'all' (tuned + paper settings)")
    ap.add_argument("--out", default="runs/rlvr")
    ap.add_argument("--seeds", type=int, nargs="+", default=list(EVAL_SEEDS),
                    help="one run per seed and variant (default: the evaluation seeds 100-104)")
    for name in _CLI_FIELDS:
        default = getattr(Config, name)
        ap.add_argument("--" + name.replace("_", "-"), type=type(default), default=None)
    ap.add_argument("--no-plot", action="store_true")
    args = ap.parse_args(argv)
    if args.temperature is not None and args.temperature <= 0:
        print(f"error: expected --temperature > 0, got {args.temperature}", file=sys.stderr)
        return 2
    variants = {"all": VARIANTS, "tuned": METHODS}.get(args.method, (args.method,))
    overrides = {name: getattr(args, name) for name in _CLI_FIELDS if getattr(args, name) is not None}
    results: dict[str, list] = {v: [] for v in variants}
    t0 = time.perf_counter()
    for seed in args.seeds:
        for v in variants:
            cfg = dataclasses.replace(config_for(v, **overrides), seed=seed)
            res = run(cfg, out=args.out)
            results[v].append(res)
            print(json.dumps(res["summary"]), flush=True)
    wall = time.perf_counter() - t0
    summaries = {v: [r["summary"] for r in rs] for v, rs in results.items()}
    rep = report(summaries)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "summary.json"), "w") as f:
        json.dump({"configs": {v: dataclasses.asdict(config_for(v, **overrides)) for v in variants},
                   "seeds": args.seeds, "wall_seconds": wall, "runs": summaries, "report": rep,
                   "curves": mean_curves(results)}, f)
    print()
    print(summary_table([s for rs in summaries.values() for s in rs], Config.pass_k))
    print()
    print(format_report(rep))
    print(f"H0/H_10: initial entropy over the mean of the last 10 rollouts; total {wall:.0f} s")
    if not args.no_plot:
        print("plot:", plot(results, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
