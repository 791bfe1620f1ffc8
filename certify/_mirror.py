"""Small-gain certificates in the mirror (KL) and Fisher geometries for entropy-regularised games.

**(a) Normal-form games, ℓ1/KL geometry.** With entropy temperature :math:`\\tau > 0`, player
:math:`i`'s loss :math:`f_i = -u_i - \\tau H(x_i)` has curvature :math:`\\mu_i = \\tau` in
:math:`\\lVert\\cdot\\rVert_1` on the simplex (Pinsker: :math:`\\langle\\tau(\\log x - \\log y), x - y\\rangle
\\ge \\tau\\lVert x - y\\rVert_1^2`), and the coupling is the ℓ1→ℓ∞ norm of the payoff block on the
tangent spaces,

.. math::

   L_{ij} = \\sup_{x_{-ij}}\\ \\sup\\{\\delta_i^\\top B_{ij}\\delta_j : 1^\\top\\delta = 0,
   \\lVert\\delta\\rVert_1 = 1\\} = \\tfrac14 \\max_{k,k',a,b}(B_{ka} - B_{kb} - B_{k'a} + B_{k'b})

(spec-sgn-math §7.2; the supremum is attained at :math:`\\delta = (e_k - e_{k'})/2`; for
:math:`N \\ge 3` players the block :math:`B_{ij}` is multilinear in the others' strategies, so the
outer supremum is a maximum over their pure profiles and the bounds are exact). The SGN theorem
(spec §3.2) then holds with per-block ℓ1 norms: :math:`\\sum_i w_i\\langle F_i(x) - F_i(y), x_i - y_i
\\rangle \\ge \\alpha_* \\sum_i w_i\\lVert x_i - y_i\\rVert_1^2`, and along the mirror flow
:math:`\\dot z_i = -F_i(x)`, :math:`x_i = \\operatorname{softmax}(z_i)`, the Lyapunov function
:math:`D = \\sum_i w_i \\mathrm{KL}(x_i^*\\|x_i)` decreases: :math:`\\dot D \\le -\\alpha_*\\sum_i w_i
\\lVert x_i - x_i^*\\rVert_1^2`.

*Step size (our own derivation; the paper gives none for this geometry).* The Euclidean rule
:math:`h < 2\\alpha/\\beta^2` does not transfer: :math:`\\nabla H` is unbounded on the simplex, so
:math:`F` has no finite ℓ1→ℓ∞ Lipschitz constant :math:`\\beta`. Instead write mirror descent
(= multiplicative weights = NPG) in logits: :math:`z_i^+ = (1 - h\\tau) z_i + h\\,g_i(x_{-i})`, with
:math:`g_i = \\nabla_{x_i}u_i` and the QRE satisfying :math:`\\tau z_i^* = g_i(x^*_{-i})` up to
constants. Measure errors by the oscillation :math:`e_i = \\operatorname{osc}(z_i - z_i^*)`
(:math:`\\operatorname{osc} v = \\max v - \\min v`). Two facts: (i)
:math:`\\lVert\\operatorname{softmax}(z) - \\operatorname{softmax}(z')\\rVert_1 \\le
\\tfrac12\\operatorname{osc}(z - z')` (the softmax Jacobian maps :math:`v` to the centred
:math:`p \\odot (v - p^\\top v)`, whose ℓ1 norm is a mean absolute deviation, at most half the range);
(ii) :math:`\\operatorname{osc}(B\\delta) \\le 2L\\lVert\\delta\\rVert_1` for tangent :math:`\\delta`. Hence
:math:`e^+ \\le (|1 - h\\tau|\\,I + hL)\\,e` componentwise, a nonnegative comparison system, and for
:math:`0 < h \\le 1/\\tau` its spectral radius is :math:`1 - h\\lambda_P(K)`, :math:`K = \\tau I - L`.
So mirror descent contracts **globally** in the Perron-weighted max-norm of the log-ratio
oscillations iff :math:`\\lambda_P(K) > 0` (the same small-gain condition as the flow), for every
step :math:`0 < h < 2/(\\tau + \\rho(L))`, with factor
:math:`q(h) = |1 - h\\tau| + h\\rho(L)`, best at :math:`h = 1/\\tau` (smoothed best response) where
:math:`q = \\rho(L)/\\tau`. Since :math:`\\mathrm{KL}(x^*\\|x) \\le \\operatorname{osc}(\\log x^* - \\log x)`,
the KL Lyapunov function converges at the same linear rate (as a bound, not monotonically).

**(b) Markov games, Fisher geometry (the paper's pipeline, spec §7.1).** Policies are softmax in
logits; at every point :math:`\\theta` of a cube around the equilibrium we form, in gauge-free
coordinates (the logit directions :math:`1_s` change nothing), the Fisher-normalised Jacobian
:math:`N = G^{-1/2}\\hat H G^{-1/2}`, with :math:`\\hat H` the reduced game Jacobian and
:math:`G = \\operatorname{blockdiag}_i G_i` the reduced (unweighted) Fisher metric. Then
:math:`\\mu_i = \\lambda_{\\min}(\\operatorname{sym} N_{ii})`, :math:`L_{ij} = \\lVert N_{ij}\\rVert_2`
(equal to the paper's "smallest nonzero eigenvalue" / clamped-pseudo-inverse quantities), and
:math:`\\beta(w) = \\lVert W^{1/2} N W^{-1/2}\\rVert_2` is the Lipschitz constant of the natural
gradient field :math:`G^{-1}\\hat H` in :math:`M(w) = \\operatorname{diag}(w_i G_i)`. Bounds are the
min/max over the :math:`2^{\\rm dim}` vertices (sampled, not rigorous), the weights are the Perron
optimum, and the certified NPG step is :math:`\\eta < 2\\alpha_*/\\beta^2`.

*What is approximate.* The paper's construction drops two terms that vanish at the equilibrium
but not on the cube: the derivative of the inverse metric in the natural-gradient Jacobian,
:math:`J_\\Phi = D(G^{-1}F) = G^{-1}DF + (DG^{-1})[\\cdot]F`, and the metric's rate of change
:math:`\\dot M` in the Riemannian contraction condition :math:`\\operatorname{sym}(MJ_\\Phi) - \\tfrac12\\dot M
\\succeq \\alpha M` (Lohmiller & Slotine 1998). We compute both exactly by autodiff at every
vertex (the ``riemannian`` entry: :math:`\\tilde N = G^{1/2}J_\\Phi G^{-1/2} - \\tfrac12
G^{-1/2}\\dot G G^{-1/2}`, with :math:`\\dot G = DG[-\\Phi]`) and report the SGN margin built from
them, so the flow certificate no longer rests on the dropped term (it is still sampled). The
Euler step rule :math:`\\eta < 2\\alpha/\\beta^2` is exact only for a constant metric; for the
state-dependent Fisher metric it is a first-order guideline, validated by the experiment script.

References:
  Vedula et al., `Small-Gain Nash <https://arxiv.org/abs/2512.06791>`_, 2025.
  Lohmiller & Slotine, On contraction analysis for non-linear systems, Automatica 34(6), 1998.
  Cen, Wei & Chi, `Fast Policy Extragradient Methods for Competitive Games with Entropy
  Regularization <https://arxiv.org/abs/2105.15186>`_, 2021.
"""

from __future__ import annotations

import itertools

import jax
import jax.numpy as jnp
import numpy as np

from games._game import Game
from games._markov import (
    TabularGame,
    flatten_logits,
    logit_pseudo_gradient,
    logit_shapes,
    reduced_basis,
    split_logits,
    stationary_point,
)
from games._region import Region
from sgn import optimal_weights, small_gain_margin, timescale_band

_MAX_POINTS = 1 << 16
_RESIDUAL_TOL = 1e-8


def _f(x) -> float | None:
    x = float(x)
    return x if np.isfinite(x) else None


def _band(mu, coupling):
    if len(mu) != 2 or np.any(np.asarray(mu) <= 0):
        return None
    lo, hi = timescale_band(np.asarray(mu), np.asarray(coupling))
    if not np.isfinite(float(lo)):
        return None
    return [float(lo), _f(hi)]


def tangent_coupling(block) -> float:
    """ℓ1→ℓ∞ tangent-space norm :math:`\\tfrac14\\max_{k,k'}\\operatorname{osc}(B_k - B_{k'})` of a payoff block.

    Examples:
      >>> tangent_coupling(np.array([[1.0, -1.0], [-1.0, 1.0]]))
      1.0
    """
    b = np.asarray(block, dtype=np.float64)
    diff = b[:, None, :] - b[None, :, :]
    return 0.25 * float(np.max(np.ptp(diff, axis=-1)))


def matrix_coupling(payoffs) -> np.ndarray:
    """Exact coupling bounds :math:`L_{ij}` for payoff tensors ``(N, n_1, ..., n_N)``.

    For three or more players the maximum runs over the other players' pure profiles.
    """
    payoffs = np.asarray(payoffs, dtype=np.float64)
    n = payoffs.shape[0]
    out = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            if i == j:
                continue
            t = np.moveaxis(payoffs[i], (i, j), (0, 1))
            t = t.reshape(t.shape[0], t.shape[1], -1)
            out[i, j] = max(tangent_coupling(t[:, :, c]) for c in range(t.shape[2]))
    return out


def mirror_step_bounds(tau: float, coupling) -> dict:
    """Certified mirror-descent steps from the log-ratio comparison system (module docstring).

    Args:
      tau: common curvature :math:`\\tau > 0`.
      coupling: ``(N, N)`` couplings :math:`L`.

    Returns:
      ``{"step_bound", "step", "contraction_factor", "loop_gain"}``: any ``0 < h < step_bound``
      contracts with factor :math:`|1 - h\\tau| + h\\rho(L)`; ``step = 1/tau`` is the best.

    Examples:
      >>> d = mirror_step_bounds(2.0, np.array([[0.0, 1.0], [1.0, 0.0]]))
      >>> d["step_bound"], d["step"], d["contraction_factor"]
      (0.6666666666666666, 0.5, 0.5)
    """
    lmat = np.asarray(coupling, dtype=np.float64) * (1 - np.eye(len(coupling)))
    rho = float(np.max(np.abs(np.linalg.eigvals(lmat)))) if lmat.size else 0.0
    if tau <= 0 or rho >= tau:
        return {"step_bound": 0.0, "step": 0.0, "contraction_factor": None, "loop_gain": rho}
    return {"step_bound": 2.0 / (tau + rho), "step": 1.0 / tau, "contraction_factor": rho / tau,
            "loop_gain": rho}


def _certify_matrix(game: Game) -> dict:
    payoffs = np.asarray(game.data["payoffs"], dtype=np.float64)
    tau = float(game.data["tau"])
    n = payoffs.shape[0]
    mu = np.full(n, tau)
    coupling = matrix_coupling(payoffs)
    out = {"geometry": "mirror", "bounds": "exact", "n_points": 1, "mu": mu.tolist(),
           "coupling": coupling.tolist(), "beta": None,
           "lyapunov": "sum_i w_i KL(x_i* || x_i)",
           "step_rule": "mirror descent x_i+ ~ x_i^(1-h tau) exp(h grad_i u_i): contracts for "
                        "0 < h < 2/(tau + rho(L)) (log-ratio comparison system)"}
    if tau <= 0:
        w = np.ones(n)
        margin = float(small_gain_margin(mu, coupling, w))
        out.update(status="not_certified", reason="tau = 0: no entropy curvature (mu_i = 0)",
                   weights=w.tolist(), margin=margin, band=None, step_bound=0.0, step=0.0,
                   contraction_factor=None, loop_gain=None, equilibrium=None, residual=None)
        return out
    w, _ = optimal_weights(mu, coupling)
    margin = float(small_gain_margin(mu, coupling, w))
    steps = mirror_step_bounds(tau, coupling)
    out.update(weights=[float(v) for v in w], margin=margin, band=_band(mu, coupling), **steps)
    tg = game.data["tabular"]
    z, res = stationary_point(tg)
    out["equilibrium"] = [np.asarray(jax.nn.softmax(zi[0])).tolist() for zi in z]
    out["residual"] = float(res)
    if margin > 0:
        out.update(status="certified",
                   reason=f"small-gain margin {margin:.6g} > 0 in the KL geometry: unique QRE, "
                          f"mirror descent contracts for steps below {steps['step_bound']:.6g}")
    else:
        out.update(status="not_certified",
                   reason=f"small-gain margin {margin:.6g} <= 0: loop gain rho(L)/tau = "
                          f"{steps['loop_gain'] / tau:.6g} >= 1 (not evidence of divergence)")
    return out


# ----------------------------------------------------------------------------------------------
# Fisher geometry (Markov games)
# ----------------------------------------------------------------------------------------------


def _fisher_full(probs, dtype):
    blocks = []
    for p in probs:
        fish = jax.vmap(lambda q: jnp.diag(q) - jnp.outer(q, q))(p)  # (S, n, n)
        s, n = p.shape
        eye = jnp.eye(s, dtype=dtype)
        blocks.append(jnp.einsum("st,sab->satb", eye, fish).reshape(s * n, s * n))
    return jax.scipy.linalg.block_diag(*blocks)


def _sqrt_pair(g):
    lam, v = jnp.linalg.eigh(g)
    lam = jnp.maximum(lam, jnp.finfo(g.dtype).tiny)
    root = jnp.sqrt(lam)[None, :]
    return (v * root) @ v.T, (v / root) @ v.T


def fisher_normalised_jacobians(tg: TabularGame, theta):
    """Fisher-normalised Jacobians at one flat logit point (gauge-free coordinates).

    Args:
      tg: tabular game data.
      theta: ``(dim,)`` flat joint logits.

    Returns:
      ``(n, n_riem)``, both ``(dim_reduced, dim_reduced)``: the paper's
      :math:`N = G^{-1/2}\\hat H G^{-1/2}` and the exact Riemannian
      :math:`\\tilde N = G^{1/2}J_\\Phi G^{-1/2} - \\tfrac12 G^{-1/2}\\dot G G^{-1/2}` (module docstring).
    """
    shapes = logit_shapes(tg)
    dtype = theta.dtype
    basis = reduced_basis(tg, dtype)

    def field(th):
        return flatten_logits(logit_pseudo_gradient(tg, split_logits(th, shapes)))

    def gram(phi):
        probs = [jax.nn.softmax(z, axis=-1) for z in split_logits(theta + basis @ phi, shapes)]
        return basis.T @ _fisher_full(probs, dtype) @ basis

    zero = jnp.zeros(basis.shape[1], dtype)
    f_red = basis.T @ field(theta)
    h_red = basis.T @ jax.jacfwd(field)(theta) @ basis
    g0 = gram(zero)
    d_gram = jax.jacfwd(gram)(zero)  # (m, m, m): d G / d phi_k
    half, inv_half = _sqrt_pair(g0)
    g_inv = inv_half @ inv_half
    n_paper = inv_half @ h_red @ inv_half
    phi = g_inv @ f_red  # natural-gradient field Phi = G^{-1} F
    # D(G^{-1} F)[v] = G^{-1} (H v - DG[v] Phi);  G_dot = DG[-Phi].
    j_nat = g_inv @ (h_red - jnp.einsum("abk,b->ak", d_gram, phi))
    g_dot = jnp.einsum("abk,k->ab", d_gram, -phi)
    n_riem = half @ j_nat @ inv_half - 0.5 * inv_half @ g_dot @ inv_half
    return n_paper, n_riem


def _block_bounds(mats, red_dims):
    """Per-point mu_i = lambda_min(sym N_ii), L_ij = ||N_ij||_2 for a batch ``(P, m, m)``."""
    off = np.cumsum((0,) + tuple(red_dims))
    n = len(red_dims)
    mus, ls = [], []
    for i in range(n):
        bi = slice(off[i], off[i + 1])
        d = mats[:, bi, bi]
        mus.append(jnp.linalg.eigvalsh(0.5 * (d + jnp.swapaxes(d, 1, 2)))[:, 0])
        row = []
        for j in range(n):
            if i == j:
                row.append(jnp.zeros(mats.shape[0], mats.dtype))
            else:
                bj = slice(off[j], off[j + 1])
                row.append(jnp.linalg.svd(mats[:, bi, bj], compute_uv=False)[:, 0])
        ls.append(jnp.stack(row, axis=-1))
    return jnp.stack(mus, axis=-1), jnp.stack(ls, axis=-2)  # (P, n), (P, n, n)


def _scaled(mats, weights, red_dims):
    s = jnp.repeat(jnp.sqrt(weights), np.asarray(red_dims), total_repeat_length=int(sum(red_dims)))
    return s[None, :, None] * mats / s[None, None, :]


def fisher_point_quantities(tg: TabularGame, points, weights=None):
    """Vectorised local SGN quantities at a batch of logit points (``jit`` + ``vmap`` inside).

    Args:
      tg: game data.
      points: ``(n_points, dim)`` flat logits.
      weights: optional ``(n_players,)`` weights for ``beta`` / ``alpha_true``.

    Returns:
      dict of arrays: ``mu`` ``(P, N)``, ``coupling`` ``(P, N, N)``, ``mu_riem``, ``coupling_riem``,
      and, with weights, ``beta`` ``(P,)``, ``alpha_true`` ``(P,)``, ``alpha_true_riem`` ``(P,)``.
    """
    red_dims = tuple(s * (n - 1) for s, n in logit_shapes(tg))
    return _point_quantities(tg, jnp.asarray(points), weights, red_dims)


def _point_quantities_impl(tg, points, weights, red_dims):
    n_p, n_r = jax.vmap(lambda th: fisher_normalised_jacobians(tg, th))(points)
    mu, lc = _block_bounds(n_p, red_dims)
    mu_r, lc_r = _block_bounds(n_r, red_dims)
    out = {"mu": mu, "coupling": lc, "mu_riem": mu_r, "coupling_riem": lc_r,
           "metric_term": jnp.linalg.norm(n_r - n_p, ord=2, axis=(1, 2))}
    if weights is not None:
        a = _scaled(n_p, weights, red_dims)
        ar = _scaled(n_r, weights, red_dims)
        out["beta"] = jnp.linalg.svd(a, compute_uv=False)[:, 0]
        out["alpha_true"] = jnp.linalg.eigvalsh(0.5 * (a + jnp.swapaxes(a, 1, 2)))[:, 0]
        out["alpha_true_riem"] = jnp.linalg.eigvalsh(0.5 * (ar + jnp.swapaxes(ar, 1, 2)))[:, 0]
    return out


_point_quantities = jax.jit(_point_quantities_impl, static_argnums=(3,))


def cube_points(center, radius, *, points_per_dim: int = 2) -> np.ndarray:
    """Grid points of the cube ``center ± radius`` (``points_per_dim = 2``: the :math:`2^{\\rm dim}` vertices)."""
    center = np.asarray(center, dtype=np.float64)
    radius = np.broadcast_to(np.asarray(radius, dtype=np.float64), center.shape)
    n_points = points_per_dim ** center.shape[0]
    if n_points > _MAX_POINTS:
        raise ValueError(f"expected at most {_MAX_POINTS} evaluation points, got "
                         f"{points_per_dim}^{center.shape[0]} = {n_points}")
    ticks = np.linspace(-1.0, 1.0, points_per_dim)
    grid = np.array(list(itertools.product(ticks, repeat=center.shape[0])))
    return center[None, :] + grid * radius[None, :]


def _certify_fisher(game: Game, region, radius, points_per_dim) -> dict:
    tg = game.data["tabular"]
    shapes = logit_shapes(tg)
    z, res = stationary_point(tg)
    theta_star = np.asarray(flatten_logits(z))
    res = float(res)
    out = {"geometry": "fisher", "bounds": "sampled",
           "equilibrium": theta_star.tolist(), "residual": res,
           "lyapunov": "sum_i w_i KL(pi_i* || pi_i) (summed over states)",
           "step_rule": "NPG theta <- theta - eta G^-1 grad f: eta < 2 alpha / beta^2"}
    if not (res < _RESIDUAL_TOL):
        out.update(status="not_certified", reason=f"no stationary point found (residual {res:.3g})",
                   mu=None, coupling=None, weights=None, margin=None, beta=None, band=None,
                   step_bound=0.0, step=0.0, n_points=0)
        return out
    if region is None:
        region = Region.around(theta_star, radius)
    elif region.dim != game.dim:
        raise ValueError(f"expected a region of dimension {game.dim}, got {region.dim}")
    pts = cube_points(region.center, region.radius, points_per_dim=points_per_dim)
    q = fisher_point_quantities(tg, pts)
    mu = np.min(np.asarray(q["mu"]), axis=0)
    coupling = np.max(np.asarray(q["coupling"]), axis=0)
    mu_r = np.min(np.asarray(q["mu_riem"]), axis=0)
    coupling_r = np.max(np.asarray(q["coupling_riem"]), axis=0)
    n = len(shapes)
    base = {"mu": mu.tolist(), "coupling": coupling.tolist(), "n_points": int(pts.shape[0]),
            "region": region.to_dict()}
    out.update(base)
    if np.any(mu <= 0):
        w = np.ones(n)
    else:
        w, _ = optimal_weights(mu, coupling)
    margin = float(small_gain_margin(mu, coupling, w))
    q2 = fisher_point_quantities(tg, pts, jnp.asarray(w))
    beta = float(np.max(np.asarray(q2["beta"])))
    eta_max = 2.0 * margin / beta**2 if margin > 0 else 0.0
    riem = {"mu": mu_r.tolist(), "coupling": coupling_r.tolist(),
            "metric_term_max": float(np.max(np.asarray(q["metric_term"]))),
            "alpha_true": float(np.min(np.asarray(q2["alpha_true_riem"])))}
    if np.all(mu_r > 0):
        w_r, _ = optimal_weights(mu_r, coupling_r)
        riem["weights"] = [float(v) for v in w_r]
        riem["margin"] = float(small_gain_margin(mu_r, coupling_r, w_r))
        riem["margin_at_paper_weights"] = float(small_gain_margin(mu_r, coupling_r, w))
    else:
        riem["weights"], riem["margin"] = None, float(np.min(mu_r))
        riem["margin_at_paper_weights"] = None
    out.update(weights=[float(v) for v in w], ratio=float(w[-1] / w[0]) if n == 2 else None,
               margin=margin, beta=beta, step_bound=eta_max, step=eta_max / 2.0,
               contraction_factor=_f(np.sqrt(max(1.0 - margin**2 / beta**2, 0.0)))
               if margin > 0 else None,
               alpha_true=float(np.min(np.asarray(q2["alpha_true"]))),
               band=_band(mu, coupling), riemannian=riem)
    if margin > 0:
        out.update(status="certified",
                   reason=f"Fisher SGN margin {margin:.6g} > 0 on {pts.shape[0]} sampled points; "
                          f"NPG step < {eta_max:.6g}")
    else:
        out.update(status="not_certified",
                   reason=f"Fisher SGN margin {margin:.6g} <= 0 on the region")
    return out


def certify_mirror(game: Game, *, region: Region | None = None, radius: float = 0.1,
                   points_per_dim: int = 2) -> dict:
    """SGN certificate of an entropy-regularised game in its mirror/Fisher geometry.

    Host-side (float64 when x64 is enabled; the per-point Fisher computation is one ``jit``-ed
    ``vmap`` over all points). The result is a plain JSON-able dict.

    Args:
      game: a game with ``geometry`` ``"mirror"`` (from :func:`games.matrix_game`) or ``"fisher"``
        (from :func:`games.markov_game`).
      region: Fisher case only: the logit box on which bounds are sampled; default the cube of
        half-width ``radius`` around the computed equilibrium. Ignored for matrix games, whose
        bounds are global and exact.
      radius: half-width of the default cube (the paper uses 0.1).
      points_per_dim: grid points per coordinate (2: the cube's vertices, as in the paper).

    Returns:
      dict with keys

      * ``status``: ``"certified"``, ``"not_certified"`` or ``"invalid"``; ``reason``: one line.
      * ``geometry``: ``"mirror"`` or ``"fisher"``; ``bounds``: ``"exact"`` or ``"sampled"``;
        ``n_points``.
      * ``mu`` ``(N,)``, ``coupling`` ``(N, N)``: curvature and coupling bounds (ℓ1 / Fisher-normalised).
      * ``weights`` ``(N,)`` (Perron-optimal), ``margin`` :math:`\\alpha_*(w)`, ``band``
        ``[r_lo, r_hi]`` of ``r = w2/w1`` (two players; ``r_hi`` ``None`` = unbounded) or ``None``.
      * ``beta``: Lipschitz constant of the natural-gradient field in ``M(w)`` (Fisher), ``None``
        for the mirror case (no finite one exists there).
      * ``step_bound``: largest certified step (mirror descent / NPG); ``step``: the recommended
        step (mirror: ``1/tau``; Fisher: ``alpha/beta^2``); ``contraction_factor`` at ``step``.
      * ``equilibrium``: mixed strategies (mirror) or flat logits (Fisher); ``residual``.
      * ``lyapunov``, ``step_rule``: what the certificate is about, in words.
      * mirror only: ``loop_gain`` :math:`\\rho(L)`. Fisher only: ``alpha_true`` (exact weighted
        modulus of the paper's field, min over points), ``ratio`` ``w2/w1``, ``region`` and
        ``riemannian`` (bounds with the metric-derivative terms included: ``mu``, ``coupling``,
        ``weights``, ``margin``, ``margin_at_paper_weights``, ``alpha_true``, ``metric_term_max``).

    Raises:
      ValueError: for a region of the wrong dimension or too many grid points.

    Examples:
      >>> from games._registry import get_game
      >>> c = certify_mirror(get_game("coordination", tau=1.5))
      >>> c["status"], c["coupling"], round(c["margin"], 6)
      ('certified', [[0.0, 1.0], [1.0, 0.0]], 0.5)
      >>> certify_mirror(get_game("coordination", tau=0.9))["status"]
      'not_certified'
    """
    if game.geometry == "mirror" and "payoffs" in game.data:
        return _certify_matrix(game)
    if game.geometry == "fisher" and "tabular" in game.data:
        return _certify_fisher(game, region, radius, points_per_dim)
    return {"status": "invalid", "geometry": game.geometry,
            "reason": f"expected a tabular game with geometry 'mirror' or 'fisher' built by "
                      f"games.matrix_game / games.markov_game, got geometry {game.geometry!r}",
            "bounds": None, "mu": None, "coupling": None, "weights": None, "margin": None,
            "beta": None, "band": None, "step_bound": 0.0, "step": 0.0, "n_points": 0}
