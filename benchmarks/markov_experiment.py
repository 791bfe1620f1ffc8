"""Reproduces the SGN paper's Markov experiment on the cooperative 2-state game (spec §7.1, §8.3).

1. The Fisher certificate: alpha, band, beta, eta_max = 2 alpha / beta^2 (and eta_safe = eta_max/2).
2. NPG vs Euclidean PG at eta_safe over 20 seeds: the Lyapunov function sum_i w_i KL(pi_i* || pi_i).
3. Stability sweep: convergence probability of NPG (and EPG) vs eta / eta_max over logspace(-1, 1, 20).
4. The timescale plot alpha_*(r) with the band.

Also reports NPG's linear stability limit at the equilibrium, which explains where the sweep fails.
Usage: python benchmarks/markov_experiment.py [--seeds 20] [--steps 2000]
(writes out/markov_experiment.json and out/markov_*.png)
"""

import argparse
import json
import os

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import certify  # noqa: E402
import games  # noqa: E402,F401
from certify.bounds import fisher_normalised_jacobians  # noqa: E402
from games._markov import split_logits  # noqa: E402
from games._registry import get_game  # noqa: E402
from policy._learners import npg, run_learner, softmax_pg  # noqa: E402
from policy._measures import kl_to_qre  # noqa: E402
from sgn import margin_at_ratio  # noqa: E402


def run(seeds=20, steps=2000, trace_steps=400, sigma=1.0, out_dir="out", plots=True):
    game = get_game("markov-coop")
    tg = game.data["tabular"]
    shapes = game.data["logit_shapes"]
    cert = certify.certify(game)
    theta_star = jnp.asarray(cert.extra["equilibrium"])
    star = split_logits(theta_star, shapes)
    w = jnp.asarray(cert.weights)
    alpha, beta, eta_max = cert.margin, cert.weighted_lipschitz, cert.euler_step
    eta_safe = cert.euler_best_step

    n0, _ = fisher_normalised_jacobians(tg, theta_star)
    lam = np.linalg.eigvals(np.asarray(n0))
    eta_linear = float(np.min(2 * lam.real / np.abs(lam) ** 2))

    rng = np.random.default_rng(0)
    starts = theta_star[None, :] + sigma * jnp.asarray(rng.normal(size=(seeds, game.dim)))

    def lyap(z):
        return kl_to_qre(z, star, w)

    def traj(make, eta, th0, n):
        _, tr = run_learner(make(step=eta), tg, split_logits(th0, shapes), n_steps=n, measure=lyap)
        return jnp.concatenate([lyap(split_logits(th0, shapes))[None], tr])

    traces = {}
    for name, make in (("npg", npg), ("epg", softmax_pg)):
        f = jax.jit(jax.vmap(lambda th, make=make: traj(make, eta_safe, th, trace_steps)))
        traces[name] = np.asarray(f(starts))

    ratios = np.logspace(-1, 1, 20)

    def final(make, eta, th0):
        s, _ = run_learner(make(step=eta), tg, split_logits(th0, shapes), n_steps=steps)
        return lyap(list(s.logits))

    sweep, sweep_v = {}, {}
    for name, make in (("npg", npg), ("epg", softmax_pg)):
        f = jax.jit(jax.vmap(jax.vmap(lambda eta, th, make=make: final(make, eta, th), (None, 0)), (0, None)))
        v = np.asarray(f(jnp.asarray(ratios * eta_max), starts))
        ok = np.isfinite(v) & (v < 1e-8)
        sweep[name] = ok.mean(axis=1).tolist()
        sweep_v[name] = [float(x) if np.isfinite(x) else None for x in np.median(v, axis=1)]
    npg_ok = np.asarray(sweep["npg"])
    last_ok = float(ratios[npg_ok >= 1.0].max()) if np.any(npg_ok >= 1.0) else None
    first_fail = next((float(r) for r, p in zip(ratios, npg_ok, strict=True) if p < 1.0 and r > 1.0), None)

    r_grid = np.logspace(-2, 2, 200)
    mu = np.asarray(cert.mu)
    coupling = np.asarray(cert.coupling)
    alpha_r = np.asarray(margin_at_ratio(mu, coupling, r_grid))

    result = {
        "certificate": {"alpha": alpha, "beta": beta, "eta_max": eta_max, "eta_safe": eta_safe,
                        "band": cert.band, "weights": cert.weights, "mu": cert.mu,
                        "coupling": cert.coupling, "alpha_true": cert.extra["alpha_true"],
                        "riemannian_margin": cert.extra["riemannian"]["margin"]},
        "alpha_at_r1": float(margin_at_ratio(mu, coupling, 1.0)),
        "eta_linear_stability": eta_linear, "eta_linear_over_eta_max": eta_linear / eta_max,
        "sweep_ratios": ratios.tolist(), "sweep_convergence": sweep,
        "sweep_final_lyapunov_median": sweep_v, "converged_if": "final Lyapunov < 1e-8 (finite)",
        "npg_last_converging_ratio": last_ok, "npg_first_failing_ratio": first_fail,
        "lyapunov_final_median": {k: float(np.median(v[:, -1])) for k, v in traces.items()},
        "seeds": seeds, "steps": steps, "init_sigma": sigma,
    }
    if plots:
        _plots(result, traces, r_grid, alpha_r, out_dir)
    return result


def _plots(result, traces, r_grid, alpha_r, out_dir):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    os.makedirs(out_dir, exist_ok=True)
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for name, tr in traces.items():
        med = np.median(tr, axis=0)
        ax.semilogy(med, label=f"{name.upper()} (median of {tr.shape[0]} seeds)")
        ax.fill_between(np.arange(tr.shape[1]), tr.min(0), tr.max(0), alpha=0.2)
    ax.set_xlabel("iteration")
    ax.set_ylabel(r"$\sum_i w_i\,\mathrm{KL}(\pi_i^*\|\pi_i)$")
    ax.set_title(r"NPG vs EPG at $\eta = \alpha/\beta^2$")
    ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, "markov_lyapunov.png"), dpi=120)
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for name, p in result["sweep_convergence"].items():
        ax.semilogx(result["sweep_ratios"], p, marker="o", label=name.upper())
    ax.axvline(1.0, color="k", ls="--", label=r"$\eta_{\max}$ (certified)")
    ax.axvline(result["eta_linear_over_eta_max"], color="r", ls=":", label="linear stability limit")
    ax.set_xlabel(r"$\eta/\eta_{\max}$")
    ax.set_ylabel("convergence probability")
    ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, "markov_sweep.png"), dpi=120)
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.semilogx(r_grid, alpha_r)
    ax.axhline(0.0, color="k", lw=0.8)
    band = result["certificate"]["band"]
    if band is not None:
        ax.axvspan(band[0], band[1] if band[1] is not None else r_grid[-1], alpha=0.15, label="band")
        ax.legend()
    ax.set_xlabel(r"$r = w_2/w_1$")
    ax.set_ylabel(r"$\alpha_*(r)$")
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, "markov_timescale.png"), dpi=120)
    plt.close("all")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=20)
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--sigma", type=float, default=1.0)
    args = p.parse_args()
    result = run(seeds=args.seeds, steps=args.steps, sigma=args.sigma)
    print(json.dumps(result, indent=2))
    os.makedirs("out", exist_ok=True)
    with open("out/markov_experiment.json", "w") as f:
        json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
