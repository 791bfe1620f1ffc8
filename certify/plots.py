r"""Plots (matplotlib, imported lazily): the timescale band, a 2-D phase portrait, distance decay, sweeps.

* band: :math:`\alpha_*(r)` against :math:`\log r` with the certified band shaded and the
  optimum :math:`r^*` marked;
* phase: a gradient-play trajectory around the located solution :math:`x^*` with the Euclidean ball
  :math:`\lVert x - x^*\rVert \le \lVert x_0 - x^*\rVert` and the SGN ellipse
  :math:`\lVert x - x^*\rVert_M \le \lVert x_0 - x^*\rVert_M` (the latter is forward-invariant);
* decay: certified :math:`q^k` against observed :math:`\lVert x_k - y_k\rVert_M/\lVert x_0-y_0\rVert_M`;
* sweep: SGN and Euclidean margins against a swept game parameter.

Every function writes a file and returns nothing; matplotlib (Agg) is imported on first use.

Examples:
  >>> import os, tempfile, certify, games
  >>> path = os.path.join(tempfile.mkdtemp(), "band.png")
  >>> plot_band(certify.certify(games.get_game("cyclic3")), path)  # doctest: +IGNORE_EXCEPTION_DETAIL
  Traceback (most recent call last):
  ValueError: expected a two-player certificate for the band plot, got 3 players
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

import sgn
from certify._basin import certified_basin
from certify._certificate import Certificate

__all__ = ["plot_band", "plot_decay", "plot_phase", "plot_sweep"]
PHASE_RADIUS = 0.2
"""Distance of the phase portrait's default start from x* for global (affine) certificates."""
PHASE_MAX_STEPS = 50_000
"""Most Euler steps of the phase portrait's trajectory."""


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_band(cert: Certificate, path: str) -> None:
    """Writes the band plot of a two-player certificate to ``path``.

    Examples:
      >>> import os, tempfile, certify, games
      >>> path = os.path.join(tempfile.mkdtemp(), "band.png")
      >>> plot_band(certify.certify(games.get_game("sgn-toy")), path)
      >>> os.path.getsize(path) > 0
      True
    """
    if len(cert.bounds.mu) != 2:
        raise ValueError(f"expected a two-player certificate for the band plot, got {len(cert.bounds.mu)} players")
    plt = _pyplot()
    mu, L = np.asarray(cert.bounds.mu), np.asarray(cert.bounds.coupling)
    r_star = cert.weights.values[1] / cert.weights.values[0]
    centre = np.log10(r_star) if np.isfinite(r_star) and r_star > 0 else 0.0
    r = np.logspace(centre - 3, centre + 3, 600)
    alpha = np.asarray(sgn.margin_at_ratio(mu, L, r))
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.semilogx(r, alpha, label=r"$\alpha_*(r)$")
    ax.axhline(0.0, color="k", lw=0.8)
    if cert.weights.band is not None:
        lo, hi = cert.weights.band
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


def _phase_start(cert: Certificate, game, centre: np.ndarray) -> np.ndarray:
    """A start point that shows the metric: along the least-monotone direction of sym J(x*), inside the region."""
    with jax.enable_x64(True):
        jac = np.asarray(game.jacobian(jnp.asarray(centre, jnp.float64)), np.float64)
    direction = np.linalg.eigh(0.5 * (jac + jac.T))[1][:, 0]
    radius = PHASE_RADIUS
    if cert.region is not None:
        lo, hi = np.asarray(cert.region["lo"], float), np.asarray(cert.region["hi"], float)
        radius = 0.5 * float(np.min(np.minimum(centre - lo, hi - centre)))
    return centre + radius * direction


def plot_phase(cert: Certificate, game, path: str, *, basin=None, x0=None, step: float | None = None,
               n_steps: int | None = None) -> None:
    r"""Phase portrait of a certified 2-D game around its located solution :math:`x^*`.

    Draws gradient play (projected Euler at a twentieth of the certified best step, for about six
    contraction times :math:`1/\alpha`) from ``x0``, the Euclidean circle
    :math:`\lVert x - x^*\rVert = \lVert x_0 - x^*\rVert` and the SGN ellipse
    :math:`\lVert x - x^*\rVert_M = \lVert x_0 - x^*\rVert_M` (forward-invariant). The default start
    lies along the least-monotone direction of :math:`\operatorname{sym} J(x^*)`, halfway to the
    region's boundary (radius ``PHASE_RADIUS`` for global certificates). The title says what the
    trajectory did (computed, not assumed); the axes are equal unless the ellipse is more than
    ten times longer than wide, and then the label says so.

    Args:
      cert: a certified Euclidean certificate of ``game``.
      game: the 2-D game.
      path: the image file.
      basin: its :func:`certify.certified_basin` (computed when ``None``).
      x0: start point (default above).
      step: Euler step (default above).
      n_steps: number of steps (default above, at most ``PHASE_MAX_STEPS``).

    Raises:
      ValueError: a game that is not 2-D or a certificate that is not certified and Euclidean.

    Examples:
      >>> import certify, games, os, tempfile
      >>> g = games.get_game("sgn-toy")
      >>> path = os.path.join(tempfile.mkdtemp(), "phase.png")
      >>> plot_phase(certify.certify(g), g, path)
      >>> os.path.getsize(path) > 1000
      True
    """
    if game.dim != 2:
        raise ValueError(f"expected a 2-D game for the phase portrait, got dimension {game.dim}")
    if not cert.certified or cert.settings.geometry != "euclidean":
        raise ValueError(f"expected a certified Euclidean certificate, got {cert.status} ({cert.settings.geometry})")
    if basin is None:
        basin = certified_basin(cert, game)
    centre = np.asarray(basin.solution, np.float64)
    start = _phase_start(cert, game, centre) if x0 is None else np.asarray(x0, np.float64)
    h = cert.steps.euler_best_step / 20 if step is None else float(step)
    n = min(PHASE_MAX_STEPS, math.ceil(6.0 / (cert.margin * h))) if n_steps is None else int(n_steps)
    plt = _pyplot()
    with jax.enable_x64(True):
        xs = np.asarray(sgn.projected_euler(game.pseudo_gradient, jnp.asarray(start), step=h, n_steps=n,
                                            project=game.project))
    w = np.asarray(cert.weights.values, np.float64)
    rel = xs - centre
    euclid = np.linalg.norm(rel, axis=1)
    wnorm = np.sqrt(np.sum(w * rel**2, axis=1))
    leaves_ball = bool(euclid.max() > euclid[0] * (1 + 1e-9))
    stays_in_ellipse = bool(np.all(np.diff(wnorm) <= 1e-12 * wnorm[0]))
    t = np.linspace(0, 2 * np.pi, 400)
    r0, m0 = euclid[0], wnorm[0]
    fig, ax = plt.subplots(figsize=(5, 5.6))
    ax.plot(centre[0] + r0 * np.cos(t), centre[1] + r0 * np.sin(t), "--", color="tab:gray", label="Euclidean ball")
    ax.plot(centre[0] + m0 / np.sqrt(w[0]) * np.cos(t), centre[1] + m0 / np.sqrt(w[1]) * np.sin(t),
            color="tab:green", label="SGN ellipse (forward-invariant)")
    ax.plot(xs[:, 0], xs[:, 1], color="tab:blue", label="gradient play")
    ax.plot([start[0]], [start[1]], "o", color="tab:blue")
    ax.plot([centre[0]], [centre[1]], "*", color="tab:red", ms=10, label="x* (located)")
    ax.set_xlabel("$x_1$")
    if max(w) / min(w) <= 100:  # ellipse axes within a factor 10: equal axes
        ax.set_aspect("equal", adjustable="datalim")
        ax.set_ylabel("$x_2$")
    else:
        ax.set_ylabel("$x_2$ (axes not to scale)")
    verdict = (("leaves" if leaves_ball else "stays in") + " the Euclidean ball, "
               + ("stays in" if stays_in_ellipse else "leaves") + " the SGN ellipse")
    ax.set_title(f"{cert.game['name']}\n{verdict}", fontsize=10)  # two short lines: fits the canvas
    # below the axes: the legend never covers the ball, the ellipse or the trajectory
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2, frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)


def plot_decay(cert: Certificate, game, path: str, *, n_steps=200, seed=0) -> None:
    """Certified ``q^k`` against observed W-norm distance decay of two trajectories.

    Examples:
      >>> import os, tempfile, certify, games
      >>> g, path = games.get_game("sgn-toy"), os.path.join(tempfile.mkdtemp(), "decay.png")
      >>> plot_decay(certify.certify(g), g, path, n_steps=20)
      >>> os.path.getsize(path) > 0
      True
    """
    plt = _pyplot()
    h = cert.steps.euler_best_step
    rng = np.random.default_rng(seed)
    lo = np.asarray(cert.region["lo"]) if cert.region else -np.ones(game.dim)
    hi = np.asarray(cert.region["hi"]) if cert.region else np.ones(game.dim)
    x0, y0 = lo + rng.random((2, game.dim)) * (hi - lo)
    with jax.enable_x64(True):
        xs, ys = (np.asarray(sgn.projected_euler(game.pseudo_gradient, jnp.asarray(z), step=h, n_steps=n_steps,
                                                 project=game.project)) for z in (x0, y0))
    s = np.repeat(np.sqrt(cert.weights.values), game.dims)
    d = np.linalg.norm((xs - ys) * s, axis=1)
    k = np.arange(n_steps + 1)
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.semilogy(k, d / d[0], label="observed")
    ax.semilogy(k, cert.steps.euler_factor**k, "--", label=f"certified q^k, q = {cert.steps.euler_factor:.6f}")
    ax.set_xlabel("step k")
    ax.set_ylabel(r"$\|x_k - y_k\|_M / \|x_0 - y_0\|_M$")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_sweep(result, path: str) -> None:
    """Margins (SGN; Euclidean where that test applies) against the parameter of a :class:`certify.SweepResult`.

    Examples:
      >>> import os, tempfile, certify
      >>> path = os.path.join(tempfile.mkdtemp(), "sweep.png")
      >>> plot_sweep(certify.sweep_parameter("lq64", "lam", [0.5, 1.0, 1.5], params={"half": 2}), path)
      >>> os.path.getsize(path) > 0
      True
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(result.values, result.margin, "o-", ms=3, label="SGN margin α*(w), Perron w")
    if getattr(result, "geometry", "euclidean") == "euclidean":  # the Euclidean test does not apply to tabular games
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
