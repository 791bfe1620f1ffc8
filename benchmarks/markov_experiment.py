"""The SGN paper's Markov experiment on the cooperative 2-state game (spec §7.1, §8.3), two protocols.

1. The Fisher certificate: alpha, band, beta, eta_max = 2 alpha / beta^2 (and eta_safe = eta_max/2).
2. NPG vs Euclidean PG at eta_safe over the seeds: the Lyapunov function sum_i w_i KL(pi_i* || pi_i).
3. Stability sweep: convergence probability of NPG (and EPG) vs eta / eta_max over logspace(-1, 1, 20).
4. The timescale plot alpha_*(r) with the band, and NPG's linear stability limit at the equilibrium.

Two convergence protocols for the sweep (``--protocol``):

* ``authors`` (default; the authors' ``markov/experiment.py``): starts theta ~ N(0, 0.01^2) per
  coordinate, 500 steps; their loop tests, at each step, the gradient norm before the update (< 1e-6:
  stop, converged) and then the distance after it (> 100 or NaN: stop, diverged), and the sweep counts
  a run as converged if it stopped converged or its last distance is < 1. A bounded oscillation
  (NPG beyond its linear limit settles on a period-2 orbit around theta*) therefore counts as
  converged: the sweep measures *boundedness*; and since the gradient test comes first, a saturated
  policy, whose gradient vanishes while its logits run off, counts as converged too (above
  eta = 2/tau, 7.41 x eta_max). ``sweep_stopped_by`` counts which test ended each run.
* ``ours``: starts theta* + N(0, sigma^2) (sigma = 1, a wider spread), ``--steps`` steps (2000); converged
  iff the final Lyapunov function is below 1e-8. This measures *convergence* to the equilibrium, so
  NPG fails exactly at its linear stability limit (about 4.8 x eta_max), where the period-doubling
  starts.

Both agree that every certified step (eta <= eta_max) converges; they differ in where failure is
declared above it. ``benchmarks/markov_vs_authors.py`` puts both beside the authors' own code (from
the authors' starting points) and explains each difference. Distances here are between centred
logits (the authors' least-squares natural gradient leaves the tiny initial gauge component
unchanged, so the two differ by ~0.01).

Usage: python benchmarks/markov_experiment.py [--protocol authors|ours] [--seeds 20] [--steps 2000]
(writes out/markov_experiment_<protocol>.json and out/markov_*.png)
"""

import argparse
import json
import os

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import certify  # noqa: E402
from games import get_game  # noqa: E402
from games.tabular import flatten_logits, policy_payoffs, reduced_basis, split_logits  # noqa: E402
from policy.tabular import kl_to_qre, npg, run_learner, softmax_pg  # noqa: E402
from sgn import euler_step_bound, margin_at_ratio  # noqa: E402

PROTOCOLS = {
    "authors": {"sigma": 0.01, "around_equilibrium": False, "steps": 500},
    "ours": {"sigma": 1.0, "around_equilibrium": True, "steps": None},
}


def npg_linear_limit(tg, theta_star, shapes):
    """Largest NPG step with spectral radius < 1 at theta* (gauge-free coordinates).

    NPG is theta <- theta + eta (u(theta) - tau theta) per state; with N = -D(u - tau theta) restricted
    to the gauge-free subspace, the linearised map I - eta N is stable iff eta < 2 Re(l) / |l|^2 for
    every eigenvalue l of N.
    """
    basis = reduced_basis(tg)

    def direction(phi):
        z = split_logits(basis @ phi, shapes)
        u = policy_payoffs(tg, [jax.nn.softmax(zi, axis=-1) for zi in z])
        return basis.T @ flatten_logits([ui - tg.tau * zi for ui, zi in zip(u, z, strict=True)])

    lam = np.linalg.eigvals(-np.asarray(jax.jacfwd(direction)(basis.T @ theta_star)))
    return float(np.min(2 * lam.real / np.abs(lam) ** 2))


def run(seeds=20, steps=2000, trace_steps=400, sigma=None, protocol="authors", out_dir="out", plots=True,
        ratios=None, starts=None):
    """Runs the experiment; returns a JSON-able dict.

    ``ratios`` (default ``logspace(-1, 1, 20)``) are the sweep's eta / eta_max; ``starts`` (``(n, dim)``
    logits, default: drawn by the protocol) replaces the random starting points, e.g. by the authors'
    own (``benchmarks/markov_vs_authors.py``).
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f"expected protocol in {tuple(PROTOCOLS)}, got {protocol!r}")
    spec = PROTOCOLS[protocol]
    sigma = spec["sigma"] if sigma is None else sigma
    sweep_steps = spec["steps"] or steps
    game = get_game("markov-coop")
    tg = game.data["tabular"]
    shapes = game.data["logit_shapes"]
    cert = certify.certify(game)
    theta_star = jnp.asarray(cert.extra["equilibrium"])
    star = split_logits(theta_star, shapes)
    w = jnp.asarray(cert.weights.values)
    # The paper's experiment is stated for the small-gain certificate: alpha = alpha_*(w) at the SGN weights
    # (``sgn_margin``; the certificate may report a stronger direct test at the same weights and beta).
    alpha, beta = cert.sgn_margin, cert.bounds.weighted_lipschitz
    eta_max = float(euler_step_bound(alpha, beta))
    eta_safe = eta_max / 2
    eta_linear = npg_linear_limit(tg, theta_star, shapes)

    if starts is None:
        rng = np.random.default_rng(0)
        centre = theta_star if spec["around_equilibrium"] else jnp.zeros_like(theta_star)
        starts = centre[None, :] + sigma * jnp.asarray(rng.normal(size=(seeds, game.dim)))
    starts = jnp.asarray(starts, dtype=theta_star.dtype)
    seeds = int(starts.shape[0])

    def lyap(z):
        return kl_to_qre(z, star, w)

    def traj(make, eta, th0, n):
        _, tr = run_learner(make(step=eta), tg, split_logits(th0, shapes), n_steps=n, measure=lyap)
        return jnp.concatenate([lyap(split_logits(th0, shapes))[None], tr])

    traces = {}
    for name, make in (("npg", npg), ("epg", softmax_pg)):
        f = jax.jit(jax.vmap(lambda th, make=make: traj(make, eta_safe, th, trace_steps)))
        traces[name] = np.asarray(f(starts))

    def dist(z):
        zc = [zi - jnp.mean(zi, axis=-1, keepdims=True) for zi in z]
        return jnp.linalg.norm(flatten_logits(zc) - theta_star)

    def grad_norm(z):
        return jnp.linalg.norm(game.pseudo_gradient(flatten_logits(z)))

    def converged(make, eta, th0):
        z0 = split_logits(th0, shapes)
        if protocol == "ours":
            s, _ = run_learner(make(step=eta), tg, z0, n_steps=sweep_steps)
            v = lyap(list(s.logits))
            return jnp.isfinite(v) & (v < 1e-8), v, jnp.int32(2)
        # the authors' loop, iteration k: gradient g_k at theta_k, update, distance d_k of theta_{k+1};
        # stop converged if g_k < 1e-6 (tested first), stop diverged if d_k > 100 or NaN; the sweep then
        # counts a run as converged if it stopped converged or its last distance is < 1
        _, (g, d) = run_learner(make(step=eta), tg, z0, n_steps=sweep_steps,
                                measure=lambda z: (grad_norm(z), dist(z)))
        g = jnp.concatenate([grad_norm(z0)[None], g[:-1]])  # gradient before step k
        small = g < 1e-6
        bad = ~jnp.isfinite(d) | (d > 100)
        first_small = jnp.argmax(small) + jnp.where(jnp.any(small), 0, sweep_steps)
        first_bad = jnp.argmax(bad) + jnp.where(jnp.any(bad), 0, sweep_steps)
        stop = jnp.minimum(jnp.minimum(first_small, first_bad), sweep_steps - 1)
        by_gradient = (first_small <= first_bad) & (first_small < sweep_steps)
        ok = by_gradient | (d[stop] < 1.0)
        stopped_by = jnp.where(by_gradient, 0, jnp.where(first_bad < sweep_steps, 1, 2))
        return ok, d[stop], stopped_by

    ratios = np.logspace(-1, 1, 20) if ratios is None else np.asarray(ratios, dtype=np.float64)
    sweep, sweep_v, stopped = {}, {}, {}
    for name, make in (("npg", npg), ("epg", softmax_pg)):
        f = jax.jit(jax.vmap(jax.vmap(lambda eta, th, make=make: converged(make, eta, th), (None, 0)), (0, None)))
        ok, v, by = f(jnp.asarray(ratios * eta_max), starts)
        sweep[name] = np.asarray(ok).mean(axis=1).tolist()
        sweep_v[name] = [float(x) if np.isfinite(x) else None for x in np.median(np.asarray(v), axis=1)]
        by = np.asarray(by)
        stopped[name] = [{k: int(np.sum(row == i)) for i, k in enumerate(("gradient", "diverged", "steps"))}
                         for row in by]
    npg_ok = np.asarray(sweep["npg"])
    last_ok = float(ratios[npg_ok >= 1.0].max()) if np.any(npg_ok >= 1.0) else None
    first_fail = next((float(r) for r, p in zip(ratios, npg_ok, strict=True) if p < 1.0 and r > 1.0), None)

    r_grid = np.logspace(-2, 2, 200)
    mu = np.asarray(cert.bounds.mu)
    coupling = np.asarray(cert.bounds.coupling)
    alpha_r = np.asarray(margin_at_ratio(mu, coupling, r_grid))

    result = {
        "protocol": protocol,
        "certificate": {"alpha": alpha, "beta": beta, "eta_max": eta_max, "eta_safe": eta_safe,
                        "band": cert.weights.band, "weights": cert.weights.values, "mu": cert.bounds.mu,
                        "coupling": cert.bounds.coupling,
                        "alpha_true": cert.extra.get("alpha_true"),
                        "riemannian_margin": cert.extra.get("riemannian", {}).get("margin")},
        "alpha_at_r1": float(margin_at_ratio(mu, coupling, 1.0)),
        "eta_linear_stability": eta_linear, "eta_linear_over_eta_max": eta_linear / eta_max,
        "sweep_ratios": ratios.tolist(), "sweep_convergence": sweep,
        "sweep_final_median": sweep_v,
        "sweep_stopped_by": stopped,
        "converged_if": ("|grad| < 1e-6 before the distance passed 100, or final distance < 1 (authors)"
                         if protocol == "authors" else "final Lyapunov < 1e-8 (finite)"),
        "npg_last_converging_ratio": last_ok, "npg_first_failing_ratio": first_fail,
        "lyapunov_final_median": {k: float(np.median(v[:, -1])) for k, v in traces.items()},
        "seeds": seeds, "sweep_steps": sweep_steps, "init_sigma": sigma,
        "init_centre": "theta*" if spec["around_equilibrium"] else "0",
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
    ax.set_ylabel(f"convergence probability ({result['protocol']} protocol)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, f"markov_sweep_{result['protocol']}.png"), dpi=120)
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.semilogx(r_grid, alpha_r)
    ax.axhline(0.0, color="k", lw=0.8)
    band = result["certificate"]["band"]
    if band is not None:
        ax.axvspan(band[0], band[1] if np.isfinite(band[1]) else r_grid[-1], alpha=0.15, label="band")
        ax.legend()
    ax.set_xlabel(r"$r = w_2/w_1$")
    ax.set_ylabel(r"$\alpha_*(r)$")
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, "markov_timescale.png"), dpi=120)
    plt.close("all")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--protocol", default="authors", choices=tuple(PROTOCOLS))
    p.add_argument("--seeds", type=int, default=20)
    p.add_argument("--steps", type=int, default=2000, help="sweep steps of the 'ours' protocol")
    p.add_argument("--sigma", type=float, default=None, help="initial spread (default: the protocol's)")
    args = p.parse_args()
    result = run(seeds=args.seeds, steps=args.steps, sigma=args.sigma, protocol=args.protocol)
    print(json.dumps(result, indent=2))
    os.makedirs("out", exist_ok=True)
    with open(f"out/markov_experiment_{args.protocol}.json", "w") as f:
        json.dump(result, f, indent=2)


if __name__ == "__main__":
    main()
