r"""Plots (matplotlib, imported lazily): the timescale band, a 2-D phase portrait, distance decay, sweeps.

* band: :math:`\alpha_*(r)` against :math:`\log r` with the certified band shaded and the
  optimum :math:`r^*` marked;
* phase: a gradient-play trajectory with the Euclidean ball :math:`\lVert x\rVert \le \lVert x_0\rVert`
  and the SGN ellipse :math:`\lVert x\rVert_M \le \lVert x_0\rVert_M` (the latter is forward-invariant);
* decay: certified :math:`q^k` against observed :math:`\lVert x_k - y_k\rVert_M/\lVert x_0-y_0\rVert_M`;
* sweep: SGN and Euclidean margins against a swept game parameter.

Every function writes a file and returns nothing; matplotlib (Agg) is imported on first use.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

import sgn
from certify._certificate import Certificate

__all__ = ["plot_band", "plot_decay", "plot_phase", "plot_sweep"]

def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_band(cert: Certificate, path: str) -> None:
    """Writes the band plot of a two-player certificate to ``path``."""
    if len(cert.mu) != 2:
        raise ValueError(f"expected a two-player certificate for the band plot, got {len(cert.mu)} players")
    plt = _pyplot()
    mu, L = np.asarray(cert.mu), np.asarray(cert.coupling)
    r_star = cert.weights[1] / cert.weights[0]
    centre = np.log10(r_star) if np.isfinite(r_star) and r_star > 0 else 0.0
    r = np.logspace(centre - 3, centre + 3, 600)
    alpha = np.asarray(sgn.margin_at_ratio(mu, L, r))
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.semilogx(r, alpha, label=r"$\alpha_*(r)$")
    ax.axhline(0.0, color="k", lw=0.8)
    if cert.band is not None:
        lo, hi = cert.band
        ax.axvspan(max(lo, r[0]), min(hi, r[-1]), color="tab:green", alpha=0.2,
                   label=f"band ({lo:.4g}, {hi:.4g})")
    ax.plot([r_star], [cert.margin], "o", color="tab:red", label=f"optimum r* = {r_star:.4g}")
    ax.set_ylim(max(alpha.min(), -2 * abs(cert.margin) - 1), max(alpha.max(), 0) * 1.2 + 0.05)
    ax.set_xlabel(r"weight ratio $r = w_2/w_1$")
    ax.set_ylabel(r"SGN margin $\alpha_*(r)$")
    ax.set_title(f"{cert.game['name']}: timescale band")
    ax.legend(loc="lower center", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_phase(cert: Certificate, game, path: str, *, x0=(0.15, -0.15), step=5e-4,
               n_steps=20000) -> None:
    """Phase portrait of a 2-D game: trajectory, Euclidean ball and SGN ellipse."""
    if game.dim != 2:
        raise ValueError(f"expected a 2-D game for the phase portrait, got dimension {game.dim}")
    plt = _pyplot()
    with jax.enable_x64(True):
        xs = np.asarray(sgn.projected_euler(game.pseudo_gradient, jnp.asarray(x0, float),
                                            step=step, n_steps=n_steps, project=game.project))
    w = np.asarray(cert.weights)
    r0 = float(np.linalg.norm(x0))
    m0 = float(np.sqrt(np.sum(w * np.asarray(x0) ** 2)))
    t = np.linspace(0, 2 * np.pi, 400)
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot(r0 * np.cos(t), r0 * np.sin(t), "--", color="tab:gray", label="Euclidean ball")
    ax.plot(m0 / np.sqrt(w[0]) * np.cos(t), m0 / np.sqrt(w[1]) * np.sin(t), color="tab:green",
            label="SGN ellipse (invariant)")
    ax.plot(xs[:, 0], xs[:, 1], color="tab:blue", label="gradient play")
    ax.plot([x0[0]], [x0[1]], "o", color="tab:blue")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$ (axes not to scale)")
    ax.set_title(f"{cert.game['name']}: leaves the ball, stays in the ellipse", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_decay(cert: Certificate, game, path: str, *, n_steps=200, seed=0) -> None:
    """Certified ``q^k`` against observed W-norm distance decay of two trajectories."""
    plt = _pyplot()
    h = cert.euler_best_step
    rng = np.random.default_rng(seed)
    lo = np.asarray(cert.region["lo"]) if cert.region else -np.ones(game.dim)
    hi = np.asarray(cert.region["hi"]) if cert.region else np.ones(game.dim)
    x0, y0 = lo + rng.random((2, game.dim)) * (hi - lo)
    with jax.enable_x64(True):
        xs, ys = (np.asarray(sgn.projected_euler(game.pseudo_gradient, jnp.asarray(z), step=h, n_steps=n_steps,
                                                 project=game.project)) for z in (x0, y0))
    s = np.repeat(np.sqrt(cert.weights), game.dims)
    d = np.linalg.norm((xs - ys) * s, axis=1)
    k = np.arange(n_steps + 1)
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.semilogy(k, d / d[0], label="observed")
    ax.semilogy(k, cert.euler_factor**k, "--", label=f"certified q^k, q = {cert.euler_factor:.6f}")
    ax.set_xlabel("step k")
    ax.set_ylabel(r"$\|x_k - y_k\|_M / \|x_0 - y_0\|_M$")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_sweep(result, path: str) -> None:
    """Margins (SGN and Euclidean) against the swept parameter of a :class:`certify.SweepResult`."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(result.values, result.margin, "o-", ms=3, label="SGN margin α*(w), Perron w")
    ax.plot(result.values, result.euclidean_margin, "s-", ms=3, label="Euclidean margin λmin(sym J)")
    ax.fill_between(result.values, 0, 1, where=result.certified, transform=ax.get_xaxis_transform(),
                    alpha=0.12, color="tab:green", label="SGN certified")
    ax.axhline(0.0, color="k", lw=0.8)
    ax.set_xlabel(result.param)
    ax.set_ylabel("margin")
    ax.set_title(f"{result.game}: certification map")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
