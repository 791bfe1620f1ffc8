"""Optimal block weights by the Perron closed form.

For the comparison Z-matrix :math:`K`, the best achievable SGN margin over all weights is

.. math::

   \\sup_{w>0} \\alpha_*(w) = \\lambda_P(K) := \\min \\operatorname{Re}\\,\\sigma(K),

attained (when :math:`K` is irreducible) at :math:`w_i = v_i / u_i` with :math:`K u = \\lambda_P u`,
:math:`v^\\top K = \\lambda_P v^\\top` the right and left Perron vectors (spec-sgn-math §4A).
For a reducible :math:`K` (a cascade, e.g. :math:`L_{21} = 0`) the supremum is not attained; we
then couple the missing links with a vanishing :math:`\\varepsilon` and return finite weights
whose margin on the *original* bounds is within ``tol`` of the supremum.

References:
  Kaszkurewicz & Bhaya, Matrix Diagonal Stability in Systems and Computation, 2000.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse.csgraph import connected_components

from sgn import _checks

PERRON_TOL = 1e-9
"""Default gap allowed between the returned margin and the supremum for reducible ``K``."""


def _as_host(mu, coupling):
    _checks.check_bounds_pair(mu, coupling)
    mu = np.asarray(mu, dtype=np.float64)
    n = mu.shape[0]
    coupling = np.asarray(coupling, dtype=np.float64) * (1.0 - np.eye(n))
    return mu, coupling


def _host_margin(mu, coupling, weights):
    root = np.sqrt(weights)
    scale = root[:, None] / root[None, :]
    s = np.diag(mu) - 0.5 * (coupling * scale + coupling.T * scale.T)
    return float(np.linalg.eigvalsh(s)[0])


def perron_value(mu, coupling) -> float:
    """:math:`\\lambda_P(K)`, the supremum of the SGN margin over all block weights.

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
    return float(np.min(np.linalg.eigvals(np.diag(mu) - coupling).real))


def _perron_vectors(k):
    """Right and left eigenvectors for the eigenvalue of K with least real part, made positive."""
    vals, right = np.linalg.eig(k)
    i = int(np.argmin(vals.real))
    u = np.abs(right[:, i].real)
    vals_t, left = np.linalg.eig(k.T)
    j = int(np.argmin(vals_t.real))
    v = np.abs(left[:, j].real)
    return float(vals[i].real), u / u.max(), v / v.max()


def _is_irreducible(coupling) -> bool:
    n = coupling.shape[0]
    if n == 1:
        return True
    n_comp, _ = connected_components(coupling > 0, directed=True, connection="strong")
    return n_comp == 1


def _irreducible_weights(mu, coupling):
    _, u, v = _perron_vectors(np.diag(mu) - coupling)
    w = v / u
    return w / w.min()


def optimal_weights(mu, coupling, *, tol=PERRON_TOL):
    """Block weights maximising the SGN margin, by the Perron closed form.

    .. math::

       w_i^* = v_i / u_i, \\qquad \\alpha_*(w^*) = \\lambda_P(K).

    For a reducible comparison matrix the supremum :math:`\\lambda_P(K)` is not attained. The
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
      margin :math:`\\alpha_*(w)` they achieve (Python float).

    Raises:
      ValueError: on malformed or non-finite bounds.

    Examples:
      >>> import numpy as np
      >>> w, a = optimal_weights(np.ones(2), np.array([[0, 10.0], [0.05, 0]]))
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
