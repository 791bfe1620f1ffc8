r"""Exact bounds of affine games: the constant Jacobian's own numbers, in float64 LAPACK.

For :math:`F(x) = Jx + b` the bounds hold on all of :math:`\mathbb R^d`:
:math:`\mu_i = \lambda_{\min}(\operatorname{sym}J_{ii})`, :math:`L_{ij} = \lVert J_{ij}\rVert_2`,
:math:`\lVert DF\rVert_2 = \lVert J\rVert_2` and :math:`\lambda_{\min}(\operatorname{sym}J)`.

**Large games.** Above a joint dimension of ``LARGE_DIM`` the per-block numbers are still exact,
but the *joint* quantities would need an SVD and an eigendecomposition of the full
:math:`d\times d` matrix (minutes at :math:`d = 10^4`); they are replaced by sound block
relaxations built from the per-block numbers (spec-sgn-math §6.3):

.. math::

   \lVert J\rVert_2 \le \lVert B\rVert_2,\quad B_{ii} = \lVert J_{ii}\rVert_2,\ B_{ij} = L_{ij};\qquad
   \lambda_{\min}(\operatorname{sym}J) \ge \lambda_{\min}(S),\quad S_{ii} = \mu_i,\
   S_{ij} = -\tfrac12 (L_{ij} + L_{ji}),

both from :math:`x^\top A x \ge \sum_i \lambda_{\min}(A_{ii})\lVert x_i\rVert^2 - \sum_{i\ne j}
\lVert A_{ij}\rVert\lVert x_i\rVert\lVert x_j\rVert` (and its norm analogue), our own short
derivation; both err on the safe side. The weighted Lipschitz constant :math:`\beta(w)` is the
exact :math:`\lVert M^{1/2}JM^{-1/2}\rVert_2` (dense LAPACK up to ``SPARSE_DIM``, ARPACK up to
``LARGE_DIM``), else the block bound :func:`sgn.block_lipschitz_bound`.
"""

from __future__ import annotations

import numpy as np

import sgn
from certify._bound_types import BlockBounds, WeightedBounds

LARGE_DIM = 2048
"""Joint dimension above which the full-matrix SVD / eigendecomposition is replaced by block relaxations."""
SPARSE_DIM = 256
"""Joint dimension above which the weighted norm of a constant Jacobian uses ARPACK."""


def is_large(dim: int) -> bool:
    """True when the joint dimension takes the block-relaxation path.

    Examples:
      >>> is_large(64), is_large(10_000)
      (False, True)
    """
    return int(dim) > LARGE_DIM


def _block_relaxation(jac: np.ndarray, dims):
    """mu, L, block norms, an upper bound on ``||J||_2`` and a lower bound on ``lambda_min(sym J)``."""
    offsets = np.cumsum((0,) + tuple(dims))
    n = len(dims)
    sl = [slice(offsets[i], offsets[i + 1]) for i in range(n)]
    mu, block, coupling = np.zeros(n), np.zeros(n), np.zeros((n, n))
    for i in range(n):
        jii = jac[sl[i], sl[i]]
        if np.array_equal(jii, jii.T):  # symmetric block: its norm is its largest |eigenvalue|
            eig = np.linalg.eigvalsh(jii)
            mu[i], block[i] = eig[0], max(abs(eig[0]), abs(eig[-1]))
        else:
            mu[i] = np.linalg.eigvalsh(0.5 * (jii + jii.T))[0]
            block[i] = np.linalg.norm(jii, 2)
        for j in range(n):
            if i != j:
                coupling[i, j] = np.linalg.norm(jac[sl[i], sl[j]], 2)
    sym_coupling = 0.5 * (coupling + coupling.T)
    lip = float(np.linalg.norm(np.diag(block) + coupling, 2))
    euc = float(np.linalg.eigvalsh(np.diag(mu) - sym_coupling)[0])
    return mu, coupling, block, lip, euc


def jacobian_quantities(jac: np.ndarray, dims):
    """``(mu, L, block norms, ||J||_2, lambda_min(sym J))`` of one Jacobian (NumPy, float64).

    Args:
      jac: ``(dim, dim)`` Jacobian.
      dims: player block sizes.

    Returns:
      ``mu (n,)``, ``coupling (n, n)`` with zero diagonal, ``block_norm (n,)`` and two floats;
      above ``LARGE_DIM`` the last two are the block relaxations of the module docstring.

    Examples:
      >>> import numpy as np
      >>> mu, L, blk, lip, euc = jacobian_quantities(np.array([[1.0, 10.0], [0.05, 1.0]]), (1, 1))
      >>> mu.tolist(), L.tolist(), round(euc, 6)
      ([1.0, 1.0], [[0.0, 10.0], [0.05, 0.0]], -4.025)
    """
    if is_large(jac.shape[0]):
        return _block_relaxation(jac, dims)
    lip = float(np.linalg.norm(jac, 2))
    euc = float(np.linalg.eigvalsh(0.5 * (jac + jac.T))[0])
    if all(d == 1 for d in dims):  # scalar players: the blocks are the entries themselves
        diag = np.diag(jac).copy()
        return diag, np.abs(jac - np.diag(diag)), np.abs(diag), lip, euc
    offsets = np.cumsum((0,) + tuple(dims))
    n = len(dims)
    mu, block, coupling = np.zeros(n), np.zeros(n), np.zeros((n, n))
    for i in range(n):
        bi = slice(offsets[i], offsets[i + 1])
        jii = jac[bi, bi]
        mu[i] = np.linalg.eigvalsh(0.5 * (jii + jii.T))[0]
        block[i] = np.linalg.norm(jii, 2)
        for j in range(n):
            if i != j:
                coupling[i, j] = np.linalg.norm(jac[bi, offsets[j]:offsets[j + 1]], 2)
    return mu, coupling, block, lip, euc


def _sparse_weighted_norm(jac, weights, dims) -> float:
    r""":math:`\lVert M^{1/2} J M^{-1/2}\rVert_2` by ARPACK, padded by its tolerance."""
    import scipy.sparse as sp
    from scipy.sparse.linalg import ArpackError, ArpackNoConvergence, svds

    s = np.repeat(np.sqrt(np.asarray(weights, dtype=np.float64)), dims)
    scaled = sp.csr_matrix(s[:, None] * np.asarray(jac) / s[None, :])
    try:
        top = svds(scaled, k=1, tol=1e-12, return_singular_vectors=False, v0=np.ones(scaled.shape[1]))
        return float(np.max(top)) * (1 + 1e-9)
    except (ArpackNoConvergence, ArpackError):
        return float(np.linalg.norm(scaled.toarray(), 2))


def exact_block_bounds(game) -> BlockBounds:
    """Exact bounds of an affine game (constant Jacobian), in float64, valid on all of R^d.

    Args:
      game: a :class:`games.Game` with a ``constant_jacobian``.

    Returns:
      :class:`BlockBounds` with ``kind="exact"``; its :meth:`~BlockBounds.weighted_lipschitz`
      is the exact weighted norm of the constant Jacobian (or the block bound for large games).

    Raises:
      ValueError: for a nonlinear game.

    Examples:
      >>> import games
      >>> b = exact_block_bounds(games.get_game("sgn-toy"))
      >>> b.kind, b.coupling.tolist(), round(b.weighted_lipschitz([1.0, 200.0]), 5)
      ('exact', [[0.0, 10.0], [0.05, 0.0]], 1.70711)
      >>> round(b.at_weights([1.0, 200.0]).margin, 6)  # lambda_min(sym(M^1/2 J M^-1/2)) = 1 - 1/sqrt(2)
      0.292893
    """
    jac = game.constant_jacobian
    if jac is None:
        raise ValueError(f"expected an affine game for exact bounds, got {game.name!r} (nonlinear)")
    dims = game.dims
    mu, coupling, block, lip, euc = jacobian_quantities(jac, dims)

    def weighted(weights):
        if is_large(jac.shape[0]):  # block relaxations: the direct modulus is then the SGN margin
            return WeightedBounds(float(sgn.block_lipschitz_bound(block, coupling, weights)),
                                  float(sgn.small_gain_margin(mu, coupling, weights)))
        margin = float(sgn.weighted_margin(jac, weights, dims))
        if jac.shape[0] > SPARSE_DIM:
            return WeightedBounds(min(float(sgn.block_lipschitz_bound(block, coupling, weights)),
                                      _sparse_weighted_norm(jac, weights, dims)), margin)
        return WeightedBounds(float(sgn.weighted_lipschitz(jac, weights, dims)), margin)

    return BlockBounds(mu, coupling, block, lip, euc, kind="exact", n_points=1, weighted=weighted)
