"""End-to-end RLVR demo: entropy collapse under GRPO and its control, on a CPU in minutes.

A tiny causal transformer (flax.linen) learns to *sort* ``n_digits`` digits: the prompt is the
digits and a separator, the response must be the sorted digits, the reward is exact match (1/0).
After a short supervised warm-up the policy is trained with group-sampled RL (``group`` responses
per prompt, sampling temperature ``temperature``) using one of

* ``grpo``      -- GRPO advantages, symmetric PPO clip, token-mean, no KL;
* ``clip_cov``  -- Clip-Cov (Cui et al. 2025), a random subset of moderate-covariance tokens cut;
* ``kl_cov``    -- KL-Cov, :math:`|\\log\\pi-\\log\\pi_{\\rm old}|` penalty on the top-covariance tokens;
* ``entropy``   -- the same PPO loss with an entropy bonus :math:`-c\\bar H`; with
  ``entropy_target > 0`` (default) the coefficient is Skywork-OR1's adaptive one
  (:func:`policy._regularizers.adaptive_entropy_update`, starting at ``entropy_coef``).

Each rollout is used for ``updates`` minibatch updates (so the behaviour policy lags and KL-Cov's
penalty is not identically zero). All methods share seeds and budget. Logged per step (JSONL):
reward, token entropy of the sampled policy, clip fractions; every ``eval_every`` steps: greedy
accuracy and pass@k on held-out prompts. Finally :math:`R = -a e^{H} + b` is fitted by least squares
over (entropy, reward) pairs of all steps (Cui et al.'s empirical law) and a and b are reported.

Hyperparameters (defaults; chosen by a small sweep at 100-150 steps on seed 0, then checked on seed 1).
The papers' ratios (Clip-Cov ``clip_cov_ratio`` 2e-4, lb 1, ub 5; KL-Cov ``kl_cov_ratio`` 2e-4,
coefficient 1) are tuned for 7B/32B models and batches of ~10^5-10^6 response tokens. Here a
minibatch holds ``prompts * group / updates * n_digits`` = 160 tokens, so ``2e-4 * 160 = 0.03``
and the ``max(floor(.), 1)`` floor selects exactly one token per minibatch (effective ratio 0.6%):
measurably nothing. The scale of the covariance also differs: with std-normalised group
advantages (up to ~2.6 for one outlier in a group of 8) and log-probs down to ~-5, the
entropy-reducing tokens (a confident token rewarded, an unlikely wrong token punished) have
covariance ~0.2-10, so the paper's window (1, 5) misses the largest ones.

* Clip-Cov: ``clip_cov_ratio`` 0.3, window (0.2, 20). With lb 0 the random subset is wasted on
  zero-advantage tokens (covariance ~0 from the minibatch mean) and entropy fell to 0.15; with
  window (0.2, 5) it settled near 0.18; ratio 0.5 with lb 0.1 cuts almost every positive-cov
  token and the entropy *explodes* (H -> 1.7, accuracy -> 0.1).
* KL-Cov: ``kl_cov_ratio`` 0.1, ``kl_cov_coef`` 3 (top 16 tokens per minibatch). Coefficient 1
  (paper) or 2 slowed collapse only to ~0.13-0.2; 4 held more entropy (~0.3) but cost training
  reward. The penalty only acts from the 2nd of the ``updates`` minibatches on (on-policy it is 0).
* Entropy bonus: adaptive target 0.3 nats (Skywork-OR1 / TRL default is 0.2 for LLMs),
  delta 0.01, initial coefficient 0.1. A fixed coefficient is knife-edge here: 0.05 and 0.15
  only slow the collapse, 0.2 holds ~0.26, 0.3 makes entropy explode to ~2.4.
* Shared: lr 3e-4 (Adam), 16 prompts x group 8, 4 off-policy minibatch updates per rollout,
  PPO eps 0.2, temperature 1, 150 RL steps after 30 supervised warm-up steps.

Usage::

    python -m policy.rlvr --method all --out runs/rlvr     # seeds 0 and 1, ~3-4 min on 2 cores
    python -m policy.rlvr --method all --seed 0 --steps 200 --out runs/rlvr200
    python -m policy.rlvr --method clip_cov --clip-cov-ratio 2e-4 --clip-cov-low 1 --clip-cov-high 5
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

from policy._advantages import grpo_advantages
from policy._core import entropy_from_logits, log_probs_from_logits
from policy._objectives import clip_cov_loss, entropy_bonus_loss, grpo_loss, kl_cov_loss
from policy._regularizers import adaptive_entropy_init, adaptive_entropy_update

METHODS = ("grpo", "clip_cov", "kl_cov", "entropy")
DEFAULT_SEEDS = (0, 1)


@dataclasses.dataclass(frozen=True)
class Config:
    """Run configuration (all sizes small enough for a 2-core CPU)."""

    method: str = "grpo"
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
    clip_cov_ratio: float = 0.3
    clip_cov_low: float = 0.2
    clip_cov_high: float = 20.0
    kl_cov_ratio: float = 0.1
    kl_cov_coef: float = 3.0
    entropy_coef: float = 0.1
    entropy_target: float = 0.3
    entropy_delta: float = 0.01
    eval_every: int = 10
    eval_prompts: int = 64
    pass_k: int = 8
    seed: int = 0


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
    """Unbiased pass@k estimator :math:`1 - \\binom{n-c}{k}/\\binom{n}{k}` (Chen et al. 2021)."""
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


def _loss_fn(cfg, model):
    def loss(params, seqs, old_logp, adv, mask, key, ent_coef):
        logits = _response_logits(model, params, seqs, cfg)
        resp = seqs[:, -cfg.n_digits:]
        logp = log_probs_from_logits(logits, resp, temperature=cfg.temperature)
        ent = entropy_from_logits(logits, temperature=cfg.temperature)
        if cfg.method == "grpo":
            return grpo_loss(logp, old_logp, adv, mask, entropy=ent, eps=cfg.eps, kl_coef=0.0,
                             agg="token-mean")
        if cfg.method == "clip_cov":
            return clip_cov_loss(logp, old_logp, adv, mask, key=key, entropy=ent,
                                 ratio=cfg.clip_cov_ratio, cov_low=cfg.clip_cov_low,
                                 cov_high=cfg.clip_cov_high, eps_low=cfg.eps, eps_high=cfg.eps)
        if cfg.method == "kl_cov":
            return kl_cov_loss(logp, old_logp, adv, mask, entropy=ent, ratio=cfg.kl_cov_ratio,
                               kl_coef=cfg.kl_cov_coef)
        return entropy_bonus_loss(logp, old_logp, adv, mask, ent, coef=ent_coef,
                                  eps_low=cfg.eps)

    return loss


def run(cfg: Config, *, out: str | None = None, progress: bool = True) -> dict[str, Any]:
    """Warm up, then run RL with ``cfg.method``; returns the history and the final figures."""
    if cfg.method not in METHODS:
        raise ValueError(f"expected method in {METHODS}, got {cfg.method!r}")
    if cfg.temperature <= 0:
        raise ValueError(f"expected temperature > 0, got {cfg.temperature}")
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
        adv = grpo_advantages(reward, gids, num_groups=cfg.prompts)
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
        acc = jnp.mean(jnp.all(greedy[:, -cfg.n_digits:] == eval_targets, axis=1))
        rep = jnp.repeat(eval_prompts, cfg.pass_k, axis=0)
        s = sample(model, params, rep, k, cfg, temperature=cfg.temperature)
        ok = jnp.all(s[:, -cfg.n_digits:] == jnp.repeat(eval_targets, cfg.pass_k, axis=0), axis=1)
        return acc, ok.reshape(cfg.eval_prompts, cfg.pass_k).sum(axis=1)

    def eval_record(params, k):
        acc, c = evaluate(params, k)
        c = np.asarray(c)
        return {
            "acc_greedy": float(acc),
            "pass@1": float(np.mean([pass_at_k(cfg.pass_k, int(x), 1) for x in c])),
            f"pass@{cfg.pass_k}": float(np.mean([pass_at_k(cfg.pass_k, int(x), cfg.pass_k)
                                                 for x in c])),
        }

    history = []
    fh = None
    if out:
        os.makedirs(out, exist_ok=True)
        fh = open(os.path.join(out, f"metrics_{cfg.method}_seed{cfg.seed}.jsonl"),
                  "w")
    rkey = jax.random.key(cfg.seed + 2)
    ekey = jax.random.key(cfg.seed + 3)
    it = range(cfg.steps + 1)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(it, desc=cfg.method, leave=False, file=sys.stderr)
        it = bar
    # entropy bonus: fixed coefficient, or (entropy_target > 0) the Skywork-OR1 adaptive one
    ent_state = adaptive_entropy_init(cfg.entropy_coef)
    ent_coef = jnp.asarray(cfg.entropy_coef, jnp.float32)
    t0 = time.perf_counter()
    for step in it:
        k = jax.random.fold_in(rkey, step)
        seqs, reward, old_logp, adv, ent = rollout(params, k)
        rec = {"method": cfg.method, "step": step, "reward": float(jnp.mean(reward)),
               "entropy": float(ent)}
        if cfg.method == "entropy" and cfg.entropy_target > 0:
            ent_state, ent_coef = adaptive_entropy_update(
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
            rec.update({name: float(met[name]) for name in
                        ("pg_clipfrac", "ppo_kl", "cov_logp_adv", "n_selected", "adv/frac_zero")})
        history.append(rec)
        if fh:
            fh.write(json.dumps(rec) + "\n")
        if bar is not None:
            bar.set_postfix(R=f"{rec['reward']:.2f}", H=f"{rec['entropy']:.3f}")
    if fh:
        fh.close()
    a, b = fit_entropy_law([r["entropy"] for r in history], [r["reward"] for r in history])
    last = [r for r in history if "acc_greedy" in r][-1]
    tail = history[-10:]
    summary = {
        "method": cfg.method, "seed": cfg.seed, "final_entropy": history[-1]["entropy"],
        "final_entropy_last10": float(np.mean([r["entropy"] for r in tail])),
        "initial_entropy": history[0]["entropy"],
        "final_reward_mean_last10": float(np.mean([r["reward"] for r in tail])),
        "acc_greedy": last["acc_greedy"], "pass@1": last["pass@1"],
        f"pass@{cfg.pass_k}": last[f"pass@{cfg.pass_k}"], "fit_a": a, "fit_b": b,
        "seconds": time.perf_counter() - t0,
    }
    return {"history": history, "summary": summary}


def plot(results, out):
    """Entropy / accuracy vs step and the reward-entropy fit (matplotlib imported lazily).

    ``results`` maps a method to one run's result or to a list of them (one per seed); seeds of a
    method share a colour and differ in line style.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, 3, figsize=(15, 4))
    styles = ("-", "--", ":", "-.")
    for ci, (name, runs) in enumerate(results.items()):
        runs = runs if isinstance(runs, list) else [runs]
        color = f"C{ci}"
        for si, res in enumerate(runs):
            h = res["history"]
            label = name if si == 0 else None
            ls = styles[si % len(styles)]
            ax[0].plot([r["step"] for r in h], [r["entropy"] for r in h], ls, color=color,
                       label=label)
            ev = [r for r in h if "acc_greedy" in r]
            ax[1].plot([r["step"] for r in ev], [r["acc_greedy"] for r in ev], ls, color=color,
                       label=label)
            ent = np.array([r["entropy"] for r in h])
            ax[2].scatter(ent, [r["reward"] for r in h], s=6, color=color, label=label)
            a, b = res["summary"]["fit_a"], res["summary"]["fit_b"]
            xs = np.linspace(ent.min(), ent.max(), 50)
            ax[2].plot(xs, -a * np.exp(xs) + b, ls, color=color)
    ax[0].set(xlabel="RL step", ylabel="token entropy (nats)", yscale="log",
              title="policy entropy (sampled rollouts)")
    ax[1].set(xlabel="RL step", ylabel="greedy exact-match accuracy", title="held-out accuracy")
    ax[2].set(xlabel="entropy H", ylabel="rollout reward R", title="R = -a exp(H) + b")
    for a_ in ax:
        a_.legend()
    seeds = [r["summary"]["seed"] for r in next(iter(results.values()), [])] \
        if all(isinstance(v, list) for v in results.values()) else []
    if len(seeds) > 1:
        names = ("solid", "dashed", "dotted", "dash-dot")
        fig.suptitle(", ".join(f"seed {sd}: {names[i % len(names)]}"
                               for i, sd in enumerate(seeds)), fontsize=9)
    fig.tight_layout()
    path = os.path.join(out, "rlvr.png")
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def summary_table(summaries, pass_k=Config.pass_k) -> str:
    """Plain-text table of the run summaries (one row per method and seed)."""
    head = (f"{'method':9s} {'seed':>4s} {'H0':>6s} {'H_end':>6s} {'H_10':>6s} {'H0/H_10':>7s} "
            f"{'acc':>5s} {'pass@1':>6s} {f'pass@{pass_k}':>6s} {'a':>7s} {'b':>7s} {'sec':>5s}")
    rows = [head, "-" * len(head)]
    for s in summaries:
        rows.append(
            f"{s['method']:9s} {s['seed']:4d} {s['initial_entropy']:6.3f} {s['final_entropy']:6.3f} "
            f"{s['final_entropy_last10']:6.3f} "
            f"{s['initial_entropy'] / max(s['final_entropy_last10'], 1e-12):7.2f} "
            f"{s['acc_greedy']:5.2f} {s['pass@1']:6.2f} {s[f'pass@{pass_k}']:6.2f} "
            f"{s['fit_a']:7.3f} {s['fit_b']:7.3f} {s['seconds']:5.0f}")
    return "\n".join(rows)


_CLI_FIELDS = ("steps", "warmup_steps", "temperature", "lr", "updates", "group", "prompts",
               "clip_cov_ratio", "clip_cov_low", "clip_cov_high", "kl_cov_ratio", "kl_cov_coef",
               "entropy_coef", "entropy_target", "eval_every", "pass_k")


def main(argv=None):
    """CLI entry point: ``python -m policy.rlvr --method {grpo,clip_cov,kl_cov,entropy,all}``.

    Writes ``metrics_<method>_seed<seed>.jsonl`` per run, ``summary.json`` (per method: one
    summary per seed) and ``rlvr.png``, and prints a summary table.
    """
    ap = argparse.ArgumentParser(description="Tiny RLVR run: entropy collapse and its control.")
    ap.add_argument("--method", default="all", choices=(*METHODS, "all"))
    ap.add_argument("--out", default="runs/rlvr")
    ap.add_argument("--seeds", type=int, nargs="+", default=None,
                    help="one run per seed and method (default: 0 1, or --seed)")
    ap.add_argument("--seed", type=int, default=None, help="a single seed (same as --seeds S)")
    for name in _CLI_FIELDS:
        default = getattr(Config, name)
        ap.add_argument("--" + name.replace("_", "-"), type=type(default), default=default)
    ap.add_argument("--no-plot", action="store_true")
    args = ap.parse_args(argv)
    if args.temperature <= 0:
        print(f"error: expected --temperature > 0, got {args.temperature}", file=sys.stderr)
        return 2
    methods = METHODS if args.method == "all" else (args.method,)
    seeds = args.seeds or ([args.seed] if args.seed is not None else list(DEFAULT_SEEDS))
    overrides = {name: getattr(args, name) for name in _CLI_FIELDS}
    results: dict[str, list] = {m: [] for m in methods}
    t0 = time.perf_counter()
    for seed in seeds:
        for m in methods:
            cfg = Config(method=m, seed=seed, **overrides)
            res = run(cfg, out=args.out)
            results[m].append(res)
            print(json.dumps(res["summary"]), flush=True)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "summary.json"), "w") as f:
        cfg_all = {k: v for k, v in dataclasses.asdict(Config(**overrides)).items()
                   if k not in ("method", "seed")}
        json.dump({"config": cfg_all, "seeds": seeds,
                   "runs": {m: [r["summary"] for r in rs] for m, rs in results.items()}},
                  f, indent=1)
    print()
    print(summary_table([rs[i]["summary"] for i in range(len(seeds)) for rs in results.values()],
                        args.pass_k))
    print(f"H0/H_10: initial entropy over the mean of the last 10 rollouts; "
          f"total {time.perf_counter() - t0:.0f} s")
    if not args.no_plot:
        print("plot:", plot(results, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
