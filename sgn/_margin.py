r"""The small-gain comparison matrix and the SGN margin.

For curvature bounds :math:`\mu_i` and coupling bounds :math:`L_{ij}` the comparison matrix is
the Z-matrix :math:`K_{ii} = \mu_i,\ K_{ij} = -L_{ij}`. With block weights :math:`w > 0` the SGN
margin is

.. math::

   \alpha_*(w) = \lambda_{\min}(S(w)), \qquad S_{ii} = \mu_i,\quad
   S_{ij} = -\tfrac12\Big(L_{ij}\sqrt{w_i/w_j} + L_{ji}\sqrt{w_j/w_i}\Big),

which equals :math:`\tfrac12\lambda_{\min}(\bar W^{-1/2} C(w) \bar W^{-1/2})` with
:math:`C(w) = \bar W K + K^\top \bar W`. If :math:`\alpha_*(w) > 0` the pseudo-gradient is
:math:`\alpha_*`-strongly monotone in the metric :math:`M(w) = \operatorname{blockdiag}(w_i I)`
(spec-sgn-math §3).

References:
  Vedula et al., `Small-Gain Nash: Certified Contraction to Nash Equilibria in Differentiable
  Games <https://arxiv.org/abs/2512.06791>`_, 2025.
  Moylan & Hill, Stability criteria for large-scale systems, IEEE TAC 23(2), 1978.
"""

from __future__ import annotations

import numpy as np

from sgn import _checks
from sgn._backend import as_arrays, is_sparse, namespace


def _off_diagonal_csr(coupling):
    """A float64 CSR copy of a sparse ``coupling`` with its diagonal and explicit zeros removed."""
    import scipy.sparse as sp  # the input is sparse: SciPy is already imported

    off = sp.csr_matrix(coupling, dtype=np.float64, copy=True)
    off.setdiag(0.0)
    off.eliminate_zeros()
    return off


def comparison_matrix(mu, coupling):
    r"""The comparison (gain) matrix :math:`K = \operatorname{diag}(\mu) - L`.

    Args:
      mu: ``(n_players,)`` curvature lower bounds.
      coupling: ``(n_players, n_players)`` coupling upper bounds ``L_ij >= 0``; the diagonal
        is ignored.

    Returns:
      ``(n_players, n_players)`` Z-matrix with ``mu`` on the diagonal and ``-L`` off it (NumPy
      float64 for host inputs, ``jax.numpy`` for JAX arrays and tracers).

    Raises:
      ValueError: if shapes disagree or entries are NaN/Inf or couplings negative.

    Examples:
      >>> import numpy as np
      >>> K = comparison_matrix(np.array([1.0, 1.0]), np.array([[0.0, 10.0], [0.05, 0.0]]))
      >>> np.asarray(K).tolist()
      [[1.0, -10.0], [-0.05, 1.0]]
    """
    _checks.check_bounds_pair(mu, coupling)
    xp, mu, coupling = as_arrays(mu, coupling)
    n = mu.shape[0]
    off = coupling * (1.0 - xp.eye(n, dtype=coupling.dtype))
    return xp.diag(mu) - off


def gain_matrix(mu, coupling, weights):
    r"""The symmetric gain matrix :math:`S(w)` whose smallest eigenvalue is the SGN margin.

    .. math::

       S_{ii} = \mu_i,\qquad
       S_{ij} = -\tfrac12\big(L_{ij}\sqrt{w_i/w_j} + L_{ji}\sqrt{w_j/w_i}\big)\ (i \ne j).

    The one place this formula is written: dense NumPy for host arrays (float64 certificates),
    ``jax.numpy`` for JAX arrays and tracers (``jit``/``vmap``), SciPy sparse (CSR) when
    ``coupling`` is a ``scipy.sparse`` matrix (many players). No input checks (callers check).

    Args:
      mu: ``(n_players,)`` curvature lower bounds.
      coupling: ``(n_players, n_players)`` coupling upper bounds; the diagonal is ignored.
      weights: ``(n_players,)`` positive block weights.

    Returns:
      ``(n_players, n_players)`` symmetric matrix of the inputs' kind.

    Examples:
      >>> import numpy as np
      >>> gain_matrix(np.ones(2), np.array([[0.0, 10.0], [0.05, 0.0]]), np.array([1.0, 200.0])).round(6).tolist()
      [[1.0, -0.707107], [-0.707107, 1.0]]
    """
    if is_sparse(coupling):
        import scipy.sparse as sp  # the input is sparse: SciPy is already imported

        root = np.sqrt(np.asarray(weights, dtype=np.float64))
        half = 0.5 * (sp.diags(root) @ _off_diagonal_csr(coupling) @ sp.diags(1.0 / root))
        return (sp.diags(np.asarray(mu, dtype=np.float64)) - half - half.T).tocsr()
    xp, mu, coupling, weights = as_arrays(mu, coupling, weights)
    n = mu.shape[0]
    off = coupling * (1.0 - xp.eye(n, dtype=coupling.dtype))
    root = xp.sqrt(weights)
    half = 0.5 * off * (root[:, None] / root[None, :])  # L_ij sqrt(w_i / w_j) / 2
    return xp.diag(mu) - half - half.T


def small_gain_margin(mu, coupling, weights):
    r"""SGN margin :math:`\alpha_*(w)`: the certified strong-monotonicity modulus in ``M(w)``.

    .. math::

       \alpha_*(w) = \lambda_{\min}\big(S(w)\big),\quad
       S_{ij} = -\tfrac12\big(L_{ij}\sqrt{w_i/w_j} + L_{ji}\sqrt{w_j/w_i}\big).

    It depends only on the ratios of ``w`` and never exceeds ``min(mu)``. Host arrays are
    computed in NumPy (no compilation; float64 for certificates); JAX arrays and tracers in
    ``jax.numpy``, so the function is ``jit``- and ``vmap``-compatible.

    Args:
      mu: ``(n_players,)`` curvature lower bounds.
      coupling: ``(n_players, n_players)`` coupling upper bounds.
      weights: ``(n_players,)`` positive block weights.

    Returns:
      Scalar margin. Positive means certified (strongly monotone in ``M(w)``).

    Raises:
      ValueError: on shape mismatch, NaN/Inf, negative couplings or non-positive weights
        (value checks only for concrete inputs).

    Examples:
      The paper's toy game is certified at ``w = (1, 200)`` with margin ``1 - 1/sqrt(2)``:

      >>> import numpy as np
      >>> mu, L = np.array([1.0, 1.0]), np.array([[0.0, 10.0], [0.05, 0.0]])
      >>> round(float(small_gain_margin(mu, L, np.array([1.0, 200.0]))), 6)
      0.292893
    """
    _checks.check_bounds_pair(mu, coupling)
    _checks.check_weights(weights, np.shape(mu)[0])
    s = gain_matrix(mu, coupling, weights)
    return namespace(s).linalg.eigvalsh(s)[0]


def sgn_matrix(mu, coupling, weights, *, margin=0.0):
    r"""The LMI matrix :math:`C(w, \alpha) = \bar W (K - \alpha I) + (K - \alpha I)^\top \bar W`.

    :math:`\alpha_*(w) \ge \alpha` iff :math:`C(w, \alpha) \succeq 0`.

    Args:
      mu: ``(n_players,)`` curvature lower bounds.
      coupling: ``(n_players, n_players)`` coupling upper bounds.
      weights: ``(n_players,)`` positive block weights.
      margin: target margin :math:`\alpha`.

    Returns:
      ``(n_players, n_players)`` symmetric matrix (NumPy for host inputs, else ``jax.numpy``).

    Examples:
      >>> import numpy as np
      >>> C = sgn_matrix(np.array([1.0, 1.0]), np.array([[0, 3.0], [3.0, 0]]), np.ones(2))
      >>> np.asarray(C).tolist()
      [[2.0, -6.0], [-6.0, 2.0]]
    """
    k = comparison_matrix(mu, coupling)
    _checks.check_weights(weights, k.shape[0])
    xp, k, weights, margin = as_arrays(k, weights, margin)
    shifted = k - margin * xp.eye(k.shape[0], dtype=k.dtype)
    wk = weights[:, None] * shifted
    return wk + wk.T


def small_gain_ratio(mu, coupling):
    r"""Loop gain :math:`\rho(D_\mu^{-1} L)`; SGN is feasible for some ``w`` iff it is ``< 1``.

    Requires ``mu > 0`` (returns ``inf`` otherwise: no weights can certify a game with a
    non-positive curvature bound). Host-side NumPy (a nonsymmetric eigenvalue problem); a
    ``scipy.sparse`` coupling stays sparse (ARPACK, see
    :func:`sgn._checks.spectral_radius_nonnegative`), so many players need no ``N x N`` array.

    Args:
      mu: ``(n_players,)`` curvature lower bounds.
      coupling: ``(n_players, n_players)`` coupling upper bounds, dense or ``scipy.sparse``.

    Returns:
      Python float.

    Examples:
      >>> import numpy as np
      >>> round(small_gain_ratio(np.ones(2), np.array([[0, 10.0], [0.05, 0]])), 6)
      0.707107
    """
    _checks.check_bounds_pair(mu, coupling)
    mu = np.asarray(mu, dtype=np.float64)
    if np.any(mu <= 0):
        return float("inf")
    if is_sparse(coupling):
        off = _off_diagonal_csr(coupling)
        return _checks.spectral_radius_nonnegative(off.multiply(1.0 / mu[:, None]).tocsr())
    coupling = np.asarray(coupling, dtype=np.float64) * (1.0 - np.eye(mu.shape[0]))
    return _checks.spectral_radius_nonnegative(coupling / mu[:, None])


def euclidean_margin(jacobian):
    r"""Rosen/Euclidean strong-monotonicity modulus :math:`\lambda_{\min}(\operatorname{sym} J)`.

    Args:
      jacobian: ``(dim, dim)`` game Jacobian ``DF(x)``.

    Returns:
      Scalar; the Euclidean test (``w = 1``) passes when it is positive.

    Examples:
      >>> import numpy as np
      >>> round(float(euclidean_margin(np.array([[1.0, 10.0], [0.05, 1.0]]))), 6)
      -4.025
    """
    _checks.check_rank(jacobian, 2, "jacobian")
    xp, j = as_arrays(_dense(jacobian))
    return xp.linalg.eigvalsh(0.5 * (j + j.T))[0]


def _dense(jacobian):
    """A ``scipy.sparse`` Jacobian as a dense array (the dense formulas below need one)."""
    return jacobian.toarray() if is_sparse(jacobian) else jacobian


def _metric_scale(xp, weights, dims):
    if xp is np:
        return np.repeat(np.sqrt(weights), np.asarray(dims))
    return xp.repeat(xp.sqrt(weights), np.asarray(dims), total_repeat_length=int(sum(dims)))


def scaled_jacobian(jacobian, weights, dims):
    r""":math:`M^{1/2} J M^{-1/2}` with :math:`M = \operatorname{blockdiag}(w_i I_{d_i})`, after checks.

    Block :math:`(i, j)` is scaled by :math:`\sqrt{w_i/w_j}`. Host inputs give a float64 NumPy
    array (a ``scipy.sparse`` Jacobian is made dense), JAX inputs a JAX array.
    """
    _checks.check_rank(jacobian, 2, "jacobian")
    dims = _checks.check_dims(dims, np.shape(jacobian)[0])
    _checks.check_weights(weights, len(dims))
    xp, jacobian, weights = as_arrays(_dense(jacobian), weights)
    s = _metric_scale(xp, weights, dims)
    return s[:, None] * jacobian / s[None, :]


def weighted_margin(jacobian, weights, dims):
    r"""Exact modulus :math:`\lambda_{\min}(\operatorname{sym}(M^{1/2} J M^{-1/2}))` at one point.

    This is the quantity SGN lower-bounds (``alpha_true`` in spec-sgn-math §2).

    Args:
      jacobian: ``(dim, dim)`` game Jacobian.
      weights: ``(n_players,)`` positive block weights.
      dims: block sizes (static), summing to ``dim``.

    Returns:
      Scalar.

    Examples:
      >>> import numpy as np
      >>> J = np.array([[1.0, 10.0], [0.05, 1.0]])
      >>> round(float(weighted_margin(J, np.array([1.0, 200.0]), (1, 1))), 6)
      0.292893
    """
    a = scaled_jacobian(jacobian, weights, dims)
    return namespace(a).linalg.eigvalsh(0.5 * (a + a.T))[0]
