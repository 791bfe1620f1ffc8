r"""Optimal block weights by the Perron closed form.

For the comparison Z-matrix :math:`K`, the best achievable SGN margin over all weights is

.. math::

   \sup_{w>0} \alpha_*(w) = \lambda_P(K) := \min \operatorname{Re}\,\sigma(K),

attained (when :math:`K` is irreducible) at :math:`w_i = v_i / u_i` with :math:`K u = \lambda_P u`,
:math:`v^\top K = \lambda_P v^\top` the right and left Perron vectors (spec-sgn-math §4A).
For a reducible :math:`K` (a cascade, e.g. :math:`L_{21} = 0`) the supremum is not attained; we
then couple the missing links with a vanishing :math:`\varepsilon` and return finite weights
whose margin on the *original* bounds is within ``tol`` of the supremum.

References:
  Kaszkurewicz & Bhaya, Matrix Diagonal Stability in Systems and Computation, 2000.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from sgn import _checks
from sgn._backend import is_sparse
from sgn._large import optimal_weights_sparse, sparse_small_gain_margin
from sgn._margin import gain_matrix

PERRON_TOL = 1e-9
"""Default gap allowed between the returned margin and the supremum for reducible ``K``."""

DENSE_MAX_PLAYERS = 64
"""Above this many players (or for SciPy-sparse couplings) :func:`perron_weights` runs the sparse Noda iteration."""


def _as_host(mu, coupling):
    _checks.check_bounds_pair(mu, coupling)
    mu = np.asarray(mu, dtype=np.float64)
    n = mu.shape[0]
    coupling = np.asarray(coupling, dtype=np.float64) * (1.0 - np.eye(n))
    return mu, coupling


def _host_margin(mu, coupling, weights):
    r"""Exact :math:`\alpha_*(w)` of checked host arrays (float64 NumPy, no input checks)."""
    return float(np.linalg.eigvalsh(gain_matrix(mu, coupling, weights))[0])


def perron_value(mu, coupling) -> float:
    r""":math:`\lambda_P(K)`, the supremum of the SGN margin over all block weights.

    Args:
      mu: ``(n_players,)`` curvature lower bounds.
      coupling: ``(n_players, n_players)`` coupling upper bounds.

    Returns:
      Python float (host-side NumPy: a nonsymmetric eigenvalue problem).

    Examples:
      >>> import numpy as np
      >>> round(perron_value(np.ones(3), np.array([[0, 2, 0], [0, 0, 2], [0.1, 0, 0.0]])), 6)
      0.263194
    """
    mu, coupling = _as_host(mu, coupling)
    shift = float(np.max(mu))  # lambda_P(K) = s - rho(sI - K) with sI - K >= 0
    return shift - _checks.spectral_radius_nonnegative(shift * np.eye(mu.shape[0]) - np.diag(mu) + coupling)


def _perron_candidates(k):
    r"""Candidate right/left Perron vector pairs of the Z-matrix K (positive entries).

    Two routes, because each fails somewhere: (1) shifted inverse iteration — ``K - sI`` with
    ``s`` just below :math:`\lambda_P(K)` is a nonsingular M-matrix with a positive inverse when
    ``K`` is irreducible, so iterating from the ones vector stays positive (this keeps entries
    far below 1e-16 of the largest, which ``abs`` of LAPACK eigenvectors loses on large rings
    and grids); (2) ``abs`` of the LAPACK eigenvectors, which converges where the spectral gap is
    tiny (nearly reducible K, where inverse iteration is slow).
    """
    n = k.shape[0]
    vals = np.linalg.eigvals(k)
    lam = float(np.min(vals.real))
    scale = max(1.0, float(np.max(np.abs(k))))
    out = []
    for delta in (1e-7, 1e-4):
        a = k - (lam - delta * scale) * np.eye(n)
        u, v = np.ones(n), np.ones(n)
        try:
            for _ in range(12):
                u = np.linalg.solve(a, u)
                u /= np.max(np.abs(u))
                v = np.linalg.solve(a.T, v)
                v /= np.max(np.abs(v))
        except np.linalg.LinAlgError:
            continue
        if np.all(np.isfinite(u)) and np.all(np.isfinite(v)) and np.all(u > 0) and np.all(v > 0):
            out.append((u, v))
            break
    _, right = np.linalg.eig(k)
    vals_t, left = np.linalg.eig(k.T)
    u = np.abs(right[:, int(np.argmin(vals.real))].real)
    v = np.abs(left[:, int(np.argmin(vals_t.real))].real)
    if u.max() > 0 and v.max() > 0:
        out.append((u / u.max(), v / v.max()))
    return out


def _is_irreducible(coupling) -> bool:
    """The coupling graph is strongly connected: reachability by repeated Boolean squaring (NumPy).

    ``ceil(log2 n)`` squarings of ``A | I`` cover every path of length ``< n``; for the few
    players of the dense path this is cheaper than importing SciPy's graph routines.
    """
    n = coupling.shape[0]
    reach = ((coupling > 0) | np.eye(n, dtype=bool)).astype(np.float64)
    for _ in range(int(np.ceil(np.log2(n))) if n > 1 else 0):
        reach = ((reach @ reach) > 0).astype(np.float64)
    return bool(np.all(reach > 0))


def _irreducible_weights(mu, coupling):
    """Best of the Perron candidates w = v/u, judged by the exact margin on (mu, coupling)."""
    best_w, best_margin = np.ones(mu.shape[0]), -np.inf
    for u, v in _perron_candidates(np.diag(mu) - coupling):
        with np.errstate(divide="ignore", invalid="ignore"):
            w = v / u
        if not (np.all(np.isfinite(w)) and np.all(w > 0)):
            continue
        w = w / w.min()
        margin = _host_margin(mu, coupling, w)
        if margin > best_margin:
            best_w, best_margin = w, margin
    return best_w


def dense_perron_weights(mu, coupling, *, tol=PERRON_TOL):
    r"""The dense route of :func:`perron_weights`: block weights maximising the SGN margin, by the closed form.

    .. math::

       w_i^* = v_i / u_i, \qquad \alpha_*(w^*) = \lambda_P(K).

    For a reducible comparison matrix the supremum :math:`\lambda_P(K)` is not attained. The
    returned weights are finite and reach a margin of at least ``lambda_P(K) - tol`` (relative to
    ``max(1, |lambda_P|)``), never NaN.

    Host-side (NumPy): it solves a nonsymmetric eigenproblem and may loop over ``epsilon`` for
    reducible ``K``, so it is not ``jit``-able; use :func:`sgn.small_gain_margin` inside ``jit``.

    Args:
      mu: ``(n_players,)`` curvature lower bounds.
      coupling: ``(n_players, n_players)`` coupling upper bounds.
      tol: allowed relative gap to the supremum for reducible ``K``.

    Returns:
      ``(weights, margin)``: ``(n_players,)`` NumPy weights normalised to ``min(w) = 1`` and the
      margin :math:`\alpha_*(w)` they achieve (Python float).

    Raises:
      ValueError: on malformed or non-finite bounds.

    Examples:
      >>> import numpy as np
      >>> w, a = dense_perron_weights(np.ones(2), np.array([[0, 10.0], [0.05, 0]]))
      >>> np.round(w, 6).tolist(), round(a, 6)
      ([1.0, 200.0], 0.292893)
    """
    mu, coupling = _as_host(mu, coupling)
    n = mu.shape[0]
    if n == 1:
        return np.ones(1), float(mu[0])
    target = perron_value(mu, coupling)
    if _is_irreducible(coupling):
        w = _irreducible_weights(mu, coupling)
        return w, _host_margin(mu, coupling, w)
    scale = max(float(np.max(coupling)), float(np.max(np.abs(mu))), 1e-300)
    off = 1.0 - np.eye(n)
    allowed = tol * max(1.0, abs(target))
    best_w, best_margin = np.ones(n), _host_margin(mu, coupling, np.ones(n))
    eps = 1e-2
    for _ in range(60):
        w = _irreducible_weights(mu, coupling + eps * scale * off)
        if np.all(np.isfinite(w)):
            margin = _host_margin(mu, coupling, w)
            if margin > best_margin:
                best_w, best_margin = w, margin
            if margin >= target - allowed:
                break
        eps *= 0.1
        if eps < 1e-300:
            break
    return best_w, best_margin


@dataclasses.dataclass(frozen=True)
class PerronWeights:
    r"""Perron-optimal block weights and what proves their margin.

    Attributes:
      weights: ``(n_players,)`` weights normalised to ``min(w) = 1``.
      margin: :math:`\alpha_*(w)` of the weights: exact (``eigvalsh`` of :func:`sgn.gain_matrix`)
        for few players, else a proven lower bound (:func:`sgn.sparse_small_gain_margin`).
      lower: a lower bound on :math:`\alpha_*(w)` from the method itself (the margin for the
        dense route, the Collatz–Wielandt bound of the Noda iteration for the sparse one).
      upper: an upper bound on :math:`\lambda_P(K) = \sup_w \alpha_*(w)`.
      converged: the sparse iteration's bracket closed to ``tol`` (always ``True`` when dense).
      route: ``"dense"`` (closed form) or ``"sparse"`` (Noda iteration).
      reason: one line on the route taken.

    Examples:
      >>> import numpy as np
      >>> r = perron_weights(np.ones(2), np.array([[0, 10.0], [0.05, 0]]))
      >>> r.route, round(r.margin, 6), round(r.upper, 6)
      ('dense', 0.292893, 0.292893)
    """

    weights: np.ndarray
    margin: float
    lower: float
    upper: float
    converged: bool
    route: str
    reason: str


def perron_weights(mu, coupling, *, tol: float = PERRON_TOL, progress=None) -> PerronWeights:
    r"""The one entry point for Perron weights: :math:`w_i = v_i/u_i`, maximising :math:`\alpha_*(w)`.

    .. math::

       \alpha_*(w^*) = \lambda_P(K) = \sup_{w>0}\alpha_*(w), \qquad K = \operatorname{diag}(\mu) - L .

    Up to ``DENSE_MAX_PLAYERS`` players with dense couplings: the dense closed form
    (:func:`dense_perron_weights`; for a reducible :math:`K` within ``tol`` of the supremum), with
    the exact margin and :math:`\lambda_P(K)` (:func:`perron_value`). More players, or SciPy-sparse
    couplings: Noda's inverse iteration per component of the coupling graph
    (:func:`sgn._large.optimal_weights_sparse`, bracket ``tol``) and the margin bounded below by
    :func:`sparse_small_gain_margin`. Host-side NumPy/SciPy, float64; inside ``jit`` use
    :func:`perron_weights_jax`, its traced twin (fixed iterations, dense).

    Args:
      mu: ``(n_players,)`` curvature lower bounds.
      coupling: ``(n_players, n_players)`` coupling upper bounds, dense or ``scipy.sparse``.
      tol: relative gap allowed to the supremum (reducible :math:`K`) or Noda's bracket tolerance.
      progress: optional callable advanced by the players of each solved block (sparse route).

    Returns:
      :class:`PerronWeights`.

    Raises:
      ValueError: on malformed or non-finite bounds.

    Examples:
      >>> import numpy as np
      >>> r = perron_weights(np.ones(2), np.array([[0, 10.0], [0.05, 0]]))
      >>> np.round(r.weights, 6).tolist(), round(r.margin, 6)
      ([1.0, 200.0], 0.292893)
    """
    n = int(np.shape(mu)[0])
    if is_sparse(coupling) or n > DENSE_MAX_PLAYERS:
        r = optimal_weights_sparse(mu, coupling, tol=tol, progress=progress)
        margin = sparse_small_gain_margin(mu, coupling, r.weights, lower_hint=r.lower if np.isfinite(r.lower) else None,
                                          progress=progress)
        nnz = coupling.nnz if is_sparse(coupling) else int(np.count_nonzero(np.asarray(coupling) * (1 - np.eye(n))))
        return PerronWeights(r.weights, float(margin), float(r.lower), float(r.upper), bool(r.converged), "sparse",
                             f"{n} players, {nnz} couplings: sparse Noda iteration")
    w, margin = dense_perron_weights(mu, coupling, tol=tol)
    return PerronWeights(np.asarray(w, dtype=np.float64), float(margin), float(margin), perron_value(mu, coupling),
                         True, "dense", f"{n} players: dense closed form")
