r"""Bounds of entropy-regularised (tabular) games in their mirror (KL) and Fisher geometries.

**(a) Normal-form games, ℓ1/KL geometry.** With entropy temperature :math:`\tau > 0`, player
:math:`i`'s loss :math:`f_i = -u_i - \tau H(x_i)` has curvature :math:`\mu_i = \tau` in
:math:`\lVert\cdot\rVert_1` on the simplex (Pinsker: :math:`\langle\tau(\log x - \log y), x - y\rangle
\ge \tau\lVert x - y\rVert_1^2`), and the coupling is the ℓ1→ℓ∞ norm of the payoff block on the
tangent spaces,

.. math::

   L_{ij} = \sup_{x_{-ij}}\ \sup\{\delta_i^\top B_{ij}\delta_j : 1^\top\delta = 0,
   \lVert\delta\rVert_1 = 1\} = \tfrac14 \max_{k,k',a,b}(B_{ka} - B_{kb} - B_{k'a} + B_{k'b})

(spec-sgn-math §7.2; the supremum is attained at :math:`\delta = (e_k - e_{k'})/2`; for
:math:`N \ge 3` players the block :math:`B_{ij}` is multilinear in the others' strategies, so the
outer supremum is a maximum over their pure profiles and the bounds are exact). The SGN theorem
(spec §3.2) then holds with per-block ℓ1 norms: :math:`\sum_i w_i\langle F_i(x) - F_i(y), x_i - y_i
\rangle \ge \alpha_* \sum_i w_i\lVert x_i - y_i\rVert_1^2`, and along the mirror flow
:math:`\dot z_i = -F_i(x)`, :math:`x_i = \operatorname{softmax}(z_i)`, the Lyapunov function
:math:`D = \sum_i w_i \mathrm{KL}(x_i^*\|x_i)` decreases: :math:`\dot D \le -\alpha_*\sum_i w_i
\lVert x_i - x_i^*\rVert_1^2`.

*Step size (our own derivation; the paper gives none for this geometry).* The Euclidean rule
:math:`h < 2\alpha/\beta^2` does not transfer: :math:`\nabla H` is unbounded on the simplex, so
:math:`F` has no finite ℓ1→ℓ∞ Lipschitz constant :math:`\beta`. Instead write mirror descent
(= multiplicative weights = NPG) in logits: :math:`z_i^+ = (1 - h\tau) z_i + h\,g_i(x_{-i})`, with
:math:`g_i = \nabla_{x_i}u_i` and the QRE satisfying :math:`\tau z_i^* = g_i(x^*_{-i})` up to
constants. Measure errors by the oscillation :math:`e_i = \operatorname{osc}(z_i - z_i^*)`
(:math:`\operatorname{osc} v = \max v - \min v`). Two facts: (i)
:math:`\lVert\operatorname{softmax}(z) - \operatorname{softmax}(z')\rVert_1 \le
\tfrac12\operatorname{osc}(z - z')` (the softmax Jacobian maps :math:`v` to the centred
:math:`p \odot (v - p^\top v)`, whose ℓ1 norm is a mean absolute deviation, at most half the range);
(ii) :math:`\operatorname{osc}(B\delta) \le 2L\lVert\delta\rVert_1` for tangent :math:`\delta`. Hence
:math:`e^+ \le (|1 - h\tau|\,I + hL)\,e` componentwise, a nonnegative comparison system, and for
:math:`0 < h \le 1/\tau` its spectral radius is :math:`1 - h\lambda_P(K)`, :math:`K = \tau I - L`.
So mirror descent contracts **globally** in the Perron-weighted max-norm of the log-ratio
oscillations iff :math:`\lambda_P(K) > 0` (the same small-gain condition as the flow), for every
step :math:`0 < h < 2/(\tau + \rho(L))`, with factor
:math:`q(h) = |1 - h\tau| + h\rho(L)`, best at :math:`h = 1/\tau` (smoothed best response) where
:math:`q = \rho(L)/\tau`. Since :math:`\mathrm{KL}(x^*\|x) \le \operatorname{osc}(\log x^* - \log x)`,
the KL Lyapunov function converges at the same linear rate (as a bound, not monotonically).

**(b) Markov games, Fisher geometry (the paper's pipeline, spec §7.1).** Policies are softmax in
logits; at every point :math:`\theta` of a cube around the equilibrium we form, in gauge-free
coordinates (the logit directions :math:`1_s` change nothing), the Fisher-normalised Jacobian
:math:`N = G^{-1/2}\hat H G^{-1/2}`, with :math:`\hat H` the reduced game Jacobian and
:math:`G = \operatorname{blockdiag}_i G_i` the reduced (unweighted) Fisher metric. Then
:math:`\mu_i = \lambda_{\min}(\operatorname{sym} N_{ii})`, :math:`L_{ij} = \lVert N_{ij}\rVert_2`
(equal to the paper's "smallest nonzero eigenvalue" / clamped-pseudo-inverse quantities), and
:math:`\beta(w) = \lVert W^{1/2} N W^{-1/2}\rVert_2` is the Lipschitz constant of the natural
gradient field :math:`G^{-1}\hat H` in :math:`M(w) = \operatorname{diag}(w_i G_i)`. Bounds are the
min/max over the :math:`2^{\rm dim}` vertices (sampled, not rigorous), the weights are the Perron
optimum, and the certified NPG step is :math:`\eta < 2\alpha_*/\beta^2`.

*What is approximate.* The paper's construction drops two terms that vanish at the equilibrium
but not on the cube: the derivative of the inverse metric in the natural-gradient Jacobian,
:math:`J_\Phi = D(G^{-1}F) = G^{-1}DF + (DG^{-1})[\cdot]F`, and the metric's rate of change
:math:`\dot M` in the Riemannian contraction condition :math:`\operatorname{sym}(MJ_\Phi) - \tfrac12\dot M
\succeq \alpha M` (Lohmiller & Slotine 1998). We compute both exactly by autodiff at every
vertex (the ``riemannian`` entry: :math:`\tilde N = G^{1/2}J_\Phi G^{-1/2} - \tfrac12
G^{-1/2}\dot G G^{-1/2}`, with :math:`\dot G = DG[-\Phi]`) and report the SGN margin built from
them, so the flow certificate no longer rests on the dropped term (it is still sampled). The
Euler step rule :math:`\eta < 2\alpha/\beta^2` is exact only for a constant metric; for the
state-dependent Fisher metric it is a first-order guideline, validated by the experiment script.

References:
  Vedula et al., `Small-Gain Nash <https://arxiv.org/abs/2512.06791>`_, 2025.
  Lohmiller & Slotine, On contraction analysis for non-linear systems, Automatica 34(6), 1998.
  Cen, Wei & Chi, `Fast Policy Extragradient Methods for Competitive Games with Entropy
  Regularization <https://arxiv.org/abs/2105.15186>`_, 2021.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

import sgn
from certify._bound_types import BlockBounds, WeightedBounds
from certify.bounds._sampling import sample_points
from games import Region
from games._markov import block_basis, helmert_basis, log_softmax, pseudo_gradient_in
from games.tabular import TabularGame, logit_shapes, split_logits, stationary_point
from sgn import _backend

RESIDUAL_TOL = 1e-8
"""Largest stationarity residual accepted for the equilibrium a Fisher certificate is built around."""
DEFAULT_RADIUS = 0.1
"""Half-width of the default logit cube around the equilibrium (the paper's)."""


def host_float64(tg: TabularGame) -> TabularGame:
    """The game's arrays as host float64 NumPy when x64 is enabled (as in the pipeline), else unchanged.

    A game built before x64 was enabled holds float32 arrays; its equilibrium and Fisher bounds
    would then be computed in float32. Certificates are float64, whoever built the game.

    Examples:
      >>> import jax, games
      >>> with jax.enable_x64(True):
      ...     host_float64(games.get_game("markov-coop").data["tabular"]).rewards.dtype
      dtype('float64')
    """
    if jax.dtypes.canonicalize_dtype(np.float64) != np.float64:
        return tg
    return jax.tree_util.tree_map(lambda a: np.asarray(a, dtype=np.float64), tg)


def _numpy64(tg: TabularGame) -> TabularGame:
    """The game as float64 NumPy arrays: its equilibrium is solved on the host, nothing compiled."""
    return TabularGame(*(np.asarray(a, dtype=np.float64) for a in tg))


def tangent_coupling(block) -> float:
    r"""ℓ1→ℓ∞ tangent-space norm :math:`\tfrac14\max_{k,k'}\operatorname{osc}(B_k - B_{k'})` of a payoff block.

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

    Examples:
      >>> matrix_coupling(np.array([[[1.0, -1.0], [-1.0, 1.0]]] * 2)).tolist()
      [[0.0, 1.0], [1.0, 0.0]]
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
    r"""Certified mirror-descent steps from the log-ratio comparison system (module docstring).

    Args:
      tau: common curvature :math:`\tau > 0`.
      coupling: ``(N, N)`` couplings :math:`L`.

    Returns:
      ``{"step_bound", "step", "contraction_factor", "loop_gain"}``: any ``0 < h < step_bound``
      contracts with factor :math:`|1 - h\tau| + h\rho(L)`; ``step = 1/tau`` is the best
      (``contraction_factor`` is NaN when nothing contracts).

    Examples:
      >>> d = mirror_step_bounds(2.0, np.array([[0.0, 1.0], [1.0, 0.0]]))
      >>> d["step_bound"], d["step"], d["contraction_factor"]
      (0.6666666666666666, 0.5, 0.5)
    """
    lmat = np.asarray(coupling, dtype=np.float64) * (1 - np.eye(len(coupling)))
    rho = float(np.max(np.abs(np.linalg.eigvals(lmat)))) if lmat.size else 0.0
    if tau <= 0 or rho >= tau:
        return {"step_bound": 0.0, "step": 0.0, "contraction_factor": float("nan"), "loop_gain": rho}
    return {"step_bound": 2.0 / (tau + rho), "step": 1.0 / tau, "contraction_factor": rho / tau,
            "loop_gain": rho}


MIRROR_NOT_APPLICABLE = {
    "lipschitz": "no finite value: F_i contains tau grad H(x_i), unbounded on the simplex, so F has no "
                 "l1 -> l_inf Lipschitz constant; weighted_lipschitz is that of the log-ratio field instead",
    "block_norm": "not used: the mirror bounds are mu_i = tau and the tangent couplings",
    "euclidean_margin": "not used: the mirror geometry has no Euclidean (w = 1) test",
}
"""Why a mirror-geometry certificate's NaN fields have no value (recorded in its ``extra``)."""

MIRROR_LIPSCHITZ = ("beta = tau + rho(L): Lipschitz constant of the log-ratio field z_i -> -tau z_i + grad_i u_i("
                    "softmax z) in the Perron-weighted max-norm of the oscillations osc(z_i - z_i') (the norm of "
                    "the step rule, whatever w); the mirror step bound is 2/beta (2 alpha/beta^2 would be smaller)")
"""What a mirror certificate's ``weighted_lipschitz`` is (recorded in its ``extra``)."""


def mirror_lipschitz(tau: float, coupling) -> float:
    r"""Lipschitz constant :math:`\beta = \tau + \rho(L)` of mirror descent's log-ratio field (module docstring).

    The field is :math:`G_i(z) = -\tau z_i + g_i(\operatorname{softmax} z_{-i})`; by facts (i) and (ii)
    of the module docstring :math:`\operatorname{osc}(G_i(z) - G_i(z')) \le \tau e_i + \sum_j L_{ij}e_j`
    with :math:`e_j = \operatorname{osc}(z_j - z_j')`, so in the max-norm :math:`\max_i e_i/v_i`
    weighted by the Perron vector :math:`v` of :math:`L` (:math:`Lv = \rho v`) the constant is
    :math:`\tau + \rho(L)` (for reducible :math:`L`, any larger number, with weights
    :math:`v > 0` by Collatz--Wielandt). Mirror descent :math:`z^+ = z + hG(z)` contracts for
    :math:`h < 2/\beta` (:func:`mirror_step_bounds`). NaN when :math:`\tau \le 0`.

    Examples:
      >>> mirror_lipschitz(1.5, np.array([[0.0, 0.75], [0.75, 0.0]]))
      2.25
    """
    if not tau > 0:
        return float("nan")
    return float(tau) + mirror_step_bounds(tau, coupling)["loop_gain"]


def mirror_bounds(game) -> tuple[BlockBounds, dict]:
    r"""Exact ℓ1/KL bounds of an entropy-regularised normal-form game: :math:`\mu_i = \tau`, tangent couplings.

    Returns:
      ``(bounds, extra)``: :class:`BlockBounds` with ``kind="exact"`` (``mu``, ``coupling`` and
      ``weighted_lipschitz``, which is :func:`mirror_lipschitz` for every ``w``: there is no finite
      ℓ1→ℓ∞ Lipschitz constant of :math:`F`, so ``lipschitz`` is NaN) and JSON-able details (the QRE,
      its residual, the Lyapunov function, the step rule, what ``weighted_lipschitz`` is).

    Examples:
      >>> import games
      >>> b, extra = mirror_bounds(games.get_game("coordination", tau=1.5))
      >>> b.mu.tolist(), b.coupling.tolist(), extra["lyapunov"]
      ([1.5, 1.5], [[0.0, 1.0], [1.0, 0.0]], 'sum_i w_i KL(x_i* || x_i)')
    """
    payoffs = np.asarray(game.data["payoffs"], dtype=np.float64)
    tau = float(game.data["tau"])
    n = payoffs.shape[0]
    nan = np.full(n, np.nan)
    coupling = matrix_coupling(payoffs)
    beta = mirror_lipschitz(tau, coupling)
    bounds = BlockBounds(np.full(n, tau), coupling, nan, np.nan, np.nan, kind="exact",
                         n_points=1, weighted=lambda w: WeightedBounds(beta))
    extra = {"lyapunov": "sum_i w_i KL(x_i* || x_i)", "not_applicable": MIRROR_NOT_APPLICABLE,
             "weighted_lipschitz": MIRROR_LIPSCHITZ,
             "step_rule": "mirror descent x_i+ ~ x_i^(1-h tau) exp(h grad_i u_i): contracts for "
                          "0 < h < 2/(tau + rho(L)) (log-ratio comparison system)",
             "equilibrium": None, "residual": None}
    if tau > 0:
        qre = stationary_point(_numpy64(game.data["tabular"]))
        z, res = qre.logits, float(qre.residual)
        probs = [np.exp(zi[0] - np.max(zi[0])) for zi in z]
        extra["equilibrium"] = [(p / np.sum(p)).tolist() for p in probs]
        extra["residual"] = res
    return bounds, extra


# ----------------------------------------------------------------------------------------------
# Fisher geometry (Markov games)
# ----------------------------------------------------------------------------------------------


_COMPLEX_STEP = 1e-30


def _jacobian(xp, f, x):
    """``Df(x)`` of shape ``(..., *out, n_in)``.

    ``jacfwd`` in JAX (``x`` one point); the complex step on the host (``x`` with leading batch axes,
    ``f`` analytic and batched).
    """
    if xp is not np:
        return jax.jacfwd(f)(x)
    n = x.shape[-1]
    out = f(x[..., None, :] + 1j * _COMPLEX_STEP * np.eye(n)).imag / _COMPLEX_STEP  # (..., n_in, *out)
    return np.moveaxis(out, x.ndim - 1, -1)


def _gram(xp, logits, helmert):
    r"""Reduced Fisher metric :math:`G = B^\top\operatorname{blockdiag}(\operatorname{diag}p - pp^\top)B`.

    Shape ``(..., m, m)``, block diagonal per player and state.
    """
    blocks = []
    for z, h in zip(logits, helmert, strict=True):
        p = xp.exp(log_softmax(xp, z))  # (..., S, n)
        hp = xp.einsum("...sa,ak->...sk", p, h)
        g = xp.einsum("...sa,ak,al->...skl", p, h, h) - hp[..., :, None] * hp[..., None, :]  # (..., S, k, k)
        blocks.append(g)
    m = sum(b.shape[-3] * b.shape[-1] for b in blocks)
    batch = blocks[0].shape[:-3]
    out = xp.zeros((*batch, m, m), dtype=blocks[0].dtype)
    o = 0
    for g in blocks:
        for state in range(g.shape[-3]):
            out = _set_block(xp, out, o, g[..., state, :, :])
            o += g.shape[-1]
    return out


def _set_block(xp, out, o, block):
    k = block.shape[-1]
    if xp is np:
        out[..., o:o + k, o:o + k] = block
        return out
    return out.at[..., o:o + k, o:o + k].set(block)


def _sqrt_pair(xp, g):
    lam, v = xp.linalg.eigh(g)
    lam = xp.maximum(lam, np.finfo(g.dtype).tiny)
    root = xp.sqrt(lam)[..., None, :]
    vt = xp.swapaxes(v, -1, -2)
    return (v * root) @ vt, (v / root) @ vt


def normalised_jacobians_in(xp, tg: TabularGame, theta):
    """:func:`fisher_normalised_jacobians` in the namespace ``xp``.

    One point ``(dim,)`` in JAX (``vmap`` it); a batch ``(P, dim)`` on the host in one pass.
    """
    shapes = logit_shapes(tg)
    dtype = theta.dtype
    basis = xp.asarray(block_basis(shapes), dtype)
    helmert = [xp.asarray(helmert_basis(n), dtype) for _, n in shapes]

    def field(th):
        return _flat(xp, pseudo_gradient_in(xp, tg, split_logits(th, shapes)))

    def gram(phi):  # host: phi (..., directions, m) of the complex step; JAX: one (m,) vector
        th = np.expand_dims(theta, -2) + phi @ basis.T if xp is np else theta + basis @ phi
        return _gram(xp, split_logits(th, shapes), helmert)

    jac = _jacobian(xp, field, theta)  # (..., dim, dim)
    f = field(theta)
    f_red = f @ basis
    h_red = basis.T @ jac @ basis
    m = basis.shape[1]
    d_gram = _jacobian(xp, gram, xp.zeros((*theta.shape[:-1], m), dtype))  # dG/dphi_k: (..., m, m, m)
    g0 = _gram(xp, split_logits(theta, shapes), helmert)
    half, inv_half = _sqrt_pair(xp, g0)
    g_inv = inv_half @ inv_half
    n_paper = inv_half @ h_red @ inv_half
    phi = xp.einsum("...ab,...b->...a", g_inv, f_red)  # natural-gradient field Phi = G^{-1} F
    # D(G^{-1} F)[v] = G^{-1} (H v - DG[v] Phi);  G_dot = DG[-Phi].
    j_nat = g_inv @ (h_red - xp.einsum("...abk,...b->...ak", d_gram, phi))
    g_dot = xp.einsum("...abk,...k->...ab", d_gram, -phi)
    n_riem = half @ j_nat @ inv_half - 0.5 * inv_half @ g_dot @ inv_half
    return n_paper, n_riem


def _flat(xp, parts):
    return xp.concatenate([z.reshape(*z.shape[:-2], -1) for z in parts], axis=-1)


def fisher_normalised_jacobians(tg: TabularGame, theta):
    r"""Fisher-normalised Jacobians at one flat logit point (gauge-free coordinates).

    Args:
      tg: tabular game data.
      theta: ``(dim,)`` flat joint logits.

    Returns:
      ``(n, n_riem)``, both ``(dim_reduced, dim_reduced)``: the paper's
      :math:`N = G^{-1/2}\hat H G^{-1/2}` and the exact Riemannian
      :math:`\tilde N = G^{1/2}J_\Phi G^{-1/2} - \tfrac12 G^{-1/2}\dot G G^{-1/2}` (module docstring).
      NumPy float64 data and point run on the host (complex-step derivatives, nothing compiled);
      JAX arrays use ``jacfwd``.

    Examples:
      >>> import games, jax.numpy as jnp
      >>> tg = games.get_game("markov-coop").data["tabular"]
      >>> n, n_riem = fisher_normalised_jacobians(tg, jnp.zeros(8))
      >>> n.shape, round(float(jnp.linalg.norm(n[:2, 2:], 2)), 6)  # L12 = 0.55 at the equilibrium
      ((4, 4), 0.55)
      >>> n_host, _ = fisher_normalised_jacobians(_numpy64(tg), np.zeros(8))
      >>> bool(np.allclose(n_host, n, atol=1e-12))
      True
    """
    if _backend.namespace(theta, *tg) is np:
        return normalised_jacobians_in(np, _numpy64(tg), np.asarray(theta, np.float64))
    return normalised_jacobians_in(jnp, jax.tree_util.tree_map(jnp.asarray, tg), jnp.asarray(theta))


HOST_MAX_WORK = 1 << 20
"""Largest ``points * dim**2`` evaluated on the host (float64 NumPy, complex step); larger batches,
and JAX game data, go to the ``jit``-ed JAX kernel."""


@jax.jit
def _normalised_batch(tg, points):
    """The JAX kernel: one ``vmap`` over the points, compiled once per shape."""
    return jax.vmap(lambda th: normalised_jacobians_in(jnp, tg, th))(points)


def normalised_points(tg: TabularGame, points):
    """Fisher-normalised Jacobians ``(paper, riemannian)``, each ``(P, m, m)`` float64 NumPy, of a batch of points.

    Small games with NumPy data run on the host (nothing traced or compiled: a fresh process answers
    in milliseconds); JAX game data or more than :data:`HOST_MAX_WORK` work go to one compiled
    ``vmap``. Both evaluate :func:`normalised_jacobians_in`.

    Examples:
      >>> import games
      >>> tg = games.get_game("markov-coop").data["tabular"]
      >>> paper, riem = normalised_points(tg, np.zeros((3, 8)))
      >>> paper.shape, round(float(np.linalg.norm(paper[0, :2, 2:], 2)), 6)
      ((3, 4, 4), 0.55)
    """
    dim = points.shape[-1]
    if _backend.namespace(*tg, points) is np and points.shape[0] * dim * dim <= HOST_MAX_WORK:
        return normalised_jacobians_in(np, _numpy64(tg), np.asarray(points, np.float64))
    n_p, n_r = _normalised_batch(tg, jnp.asarray(points))
    return np.asarray(n_p, dtype=np.float64), np.asarray(n_r, dtype=np.float64)


def _sym_min(a):
    return np.linalg.eigvalsh(0.5 * (a + np.swapaxes(a, -1, -2)))[..., 0]


def _norm2(a):
    return np.linalg.svd(a, compute_uv=False)[..., 0]


def _block_quantities(mats, red_dims):
    """Per-point mu_i = lambda_min(sym N_ii), L_ij = ||N_ij||_2 of a batch ``(P, m, m)`` (NumPy)."""
    off = np.cumsum((0,) + tuple(red_dims))
    n = len(red_dims)
    mu = np.stack([_sym_min(mats[:, off[i]:off[i + 1], off[i]:off[i + 1]]) for i in range(n)], axis=-1)
    coupling = np.zeros((mats.shape[0], n, n))
    for i in range(n):
        for j in range(n):
            if i != j:
                coupling[:, i, j] = _norm2(mats[:, off[i]:off[i + 1], off[j]:off[j + 1]])
    return mu, coupling


def _scaled(mats, weights, red_dims):
    s = np.repeat(np.sqrt(np.asarray(weights, dtype=np.float64)), red_dims)
    return s[None, :, None] * mats / s[None, None, :]


def fisher_point_quantities(tg: TabularGame, points, weights=None):
    """Local SGN quantities in the Fisher geometry at a batch of logit points.

    The normalised Jacobians of all points come from :func:`normalised_points` (host NumPy for small
    games, else one ``jit``-ed ``vmap``); the small per-point reductions run in NumPy.

    Args:
      tg: game data.
      points: ``(n_points, dim)`` flat logits.
      weights: optional ``(n_players,)`` weights for ``beta`` / ``alpha_true``.

    Returns:
      dict of NumPy arrays: ``mu`` ``(P, N)``, ``coupling`` ``(P, N, N)``, ``mu_riem``,
      ``coupling_riem``, ``metric_term`` ``(P,)`` and, with weights, ``beta`` ``(P,)``,
      ``alpha_true`` ``(P,)``, ``alpha_true_riem`` ``(P,)``.

    Examples:
      >>> import games, numpy as np
      >>> q = fisher_point_quantities(games.get_game("markov-coop").data["tabular"], np.zeros((1, 8)))
      >>> np.round(q["mu"], 6).tolist()  # tau = 1 at the uniform equilibrium
      [[1.0, 1.0]]
    """
    return FisherPoints(tg, points).quantities(weights)


class FisherPoints:
    """The evidence of Fisher bounds: the normalised Jacobians at the logit points (paper's and Riemannian).

    Every weight-dependent quantity (:meth:`at_weights`, :meth:`weighted`) is a pure function of
    them: nothing is sampled or differentiated again.
    """

    def __init__(self, tg, points):
        self.red_dims = tuple(s * (n - 1) for s, n in logit_shapes(tg))
        self.paper, self.riem = normalised_points(tg, points)

    def quantities(self, weights=None) -> dict:
        mu, lc = _block_quantities(self.paper, self.red_dims)
        mu_r, lc_r = _block_quantities(self.riem, self.red_dims)
        out = {"mu": mu, "coupling": lc, "mu_riem": mu_r, "coupling_riem": lc_r,
               "metric_term": _norm2(self.riem - self.paper)}
        if weights is not None:
            out.update(self.weighted(weights))
        return out

    def at_weights(self, weights) -> WeightedBounds:
        r"""Natural-gradient :math:`\beta(w)` and the direct modulus, worst case over the points."""
        q = self.weighted(weights)
        return WeightedBounds(float(np.max(q["beta"])), float(np.min(q["alpha_true"])))

    def weighted(self, weights) -> dict:
        a = _scaled(self.paper, weights, self.red_dims)
        ar = _scaled(self.riem, weights, self.red_dims)
        return {"beta": _norm2(a), "alpha_true": _sym_min(a), "alpha_true_riem": _sym_min(ar)}


@dataclasses.dataclass(frozen=True)
class FisherBounds:
    r"""Sampled Fisher-geometry bounds and what a certificate records beside them.

    Attributes:
      bounds: :class:`BlockBounds` (``kind="sampled"``) of the paper's Fisher-normalised
        quantities; ``weighted_lipschitz(w)`` is the largest natural-gradient
        :math:`\beta(w)` over the points.
      region: the logit box the points were drawn from.
      extra: JSON-able details (equilibrium, residual, Lyapunov function, step rule).
      details: ``weights -> dict`` of weight-dependent details (``alpha_true``, ``ratio`` and the
        ``riemannian`` bounds with the metric-derivative terms included).
    """

    bounds: BlockBounds
    region: Region
    extra: dict
    details: object


def fisher_equilibrium(game):
    """The stationary point of a Markov game's logit field and its residual (host float64 NumPy).

    Examples:
      >>> import games
      >>> theta, res = fisher_equilibrium(games.get_game("markov-coop"))
      >>> theta.shape, bool(res < RESIDUAL_TOL)
      ((8,), True)
    """
    qre = stationary_point(_numpy64(game.data["tabular"]))
    return np.concatenate([np.ravel(zi) for zi in qre.logits]), float(qre.residual)


def fisher_bounds(game, region: Region | None = None, *, n_samples: int = 0, seed: int = 0,
                  points_per_dim: int = 2, equilibrium=None) -> FisherBounds:
    r"""Fisher-geometry bounds of a Markov game on a logit box (the paper's pipeline, sampled).

    Points: the grid with ``points_per_dim`` per coordinate (2: the :math:`2^{\rm dim}`
    vertices, as in the paper) plus ``n_samples`` seeded uniform points of the box, which
    defaults to the cube of half-width ``DEFAULT_RADIUS`` around the equilibrium.

    Raises:
      ValueError: a region of the wrong dimension, or too many grid points.

    Examples:
      >>> import games
      >>> fb = fisher_bounds(games.get_game("markov-coop"))
      >>> fb.bounds.kind, fb.bounds.n_points
      ('sampled', 256)
    """
    tg = host_float64(game.data["tabular"])
    theta_star, res = fisher_equilibrium(game) if equilibrium is None else equilibrium
    if region is None:
        region = Region.around(theta_star, DEFAULT_RADIUS)
    elif region.dim != game.dim:
        raise ValueError(f"expected a region of dimension {game.dim}, got {region.dim}")
    pts = sample_points(region, n_samples=n_samples, seed=seed, center=False, points_per_dim=points_per_dim)
    fisher = FisherPoints(tg, pts)
    q = fisher.quantities()
    mu, coupling = np.min(q["mu"], axis=0), np.max(q["coupling"], axis=0)
    mu_r, coupling_r = np.min(q["mu_riem"], axis=0), np.max(q["coupling_riem"], axis=0)
    n = game.n_players
    nan = np.full(n, np.nan)
    bounds = BlockBounds(mu, coupling, nan, np.nan, np.nan, kind="sampled", n_points=int(pts.shape[0]),
                         weighted=fisher.at_weights)

    def details(weights) -> dict:
        q2 = fisher.weighted(weights)
        riem = {"mu": mu_r.tolist(), "coupling": coupling_r.tolist(),
                "metric_term_max": float(np.max(q["metric_term"])),
                "alpha_true": float(np.min(q2["alpha_true_riem"])),
                "weights": None, "margin": float(np.min(mu_r)), "margin_at_paper_weights": None}
        if np.all(mu_r > 0):
            w_r = sgn.perron_weights(mu_r, coupling_r).weights
            riem.update(weights=[float(v) for v in w_r],
                        margin=float(sgn.small_gain_margin(mu_r, coupling_r, w_r)),
                        margin_at_paper_weights=float(sgn.small_gain_margin(mu_r, coupling_r, weights)))
        return {"alpha_true": float(np.min(q2["alpha_true"])),
                "ratio": float(weights[-1] / weights[0]) if n == 2 else None, "riemannian": riem}

    extra = {"equilibrium": theta_star.tolist(), "residual": res,
             "lyapunov": "sum_i w_i KL(pi_i* || pi_i) (summed over states)",
             "step_rule": "NPG theta <- theta - eta G^-1 grad f: eta < 2 alpha / beta^2"}
    return FisherBounds(bounds, region, extra, details)
