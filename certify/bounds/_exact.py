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

**Sparse Jacobians** (``scipy.sparse``, e.g. network games of thousands of players) up to
``SPARSE_DIM`` are made dense and take the exact path above. Beyond, nothing of size
:math:`d\times d` or :math:`N\times N` is formed: the per-block numbers are exact (one small dense
block per stored block pair), the couplings stay a sparse matrix, and the joint quantities are
the same block relaxations, evaluated sparse and rounded to the safe side:
:math:`\lVert J\rVert_2 \le \lVert B\rVert_2` and :math:`\beta(w) \le \lVert B(w)\rVert_2`
through a Collatz–Wielandt *upper* bound (:func:`sgn.block_lipschitz_bound`), and
:math:`\lambda_{\min}(\operatorname{sym}J) \ge \lambda_{\min}(S)` through a Collatz–Wielandt
*lower* bound (:func:`sgn.sparse_small_gain_margin` with unit weights, :math:`S` being a
symmetric Z-matrix).
"""

from __future__ import annotations

import numpy as np

import sgn
from certify._bound_types import BlockBounds, WeightedBounds
from certify._progress import ticks
from sgn._backend import is_sparse

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


GRAM_FROM = 512
"""Smaller side of a block above which its spectral norm comes from its Gram matrix's eigenvalues."""


def _norm2(a: np.ndarray) -> float:
    r""":math:`\lVert a\rVert_2` in float64 LAPACK (the SVD, or the Gram matrix's top eigenvalue).

    Above :data:`GRAM_FROM` rows and columns: :math:`\sqrt{\lambda_{\max}(G)}` of the smaller Gram
    matrix :math:`G` (``a aᵀ`` or ``aᵀ a``), about 3x faster than the SVD at 5000 x 5000 (a product and
    one symmetric eigendecomposition). Forming :math:`G` adds a rounding error of at most
    :math:`\gamma_n\lVert|a|\rVert_2^2` to :math:`\sigma_{\max}^2`; measured on a random 5000 x 5000
    matrix, the two agree to 1.2e-15 relative (float64 numbers, as the rest of this module).
    """
    if min(a.shape) <= GRAM_FROM:
        return float(np.linalg.norm(a, 2))
    gram = a @ a.T if a.shape[0] <= a.shape[1] else a.T @ a
    return float(np.sqrt(max(np.linalg.eigvalsh(gram)[-1], 0.0)))


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
            block[i] = _norm2(jii)
        for j in range(n):
            if i != j:
                coupling[i, j] = _norm2(jac[sl[i], sl[j]])
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
    lip = _norm2(jac)
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
        block[i] = _norm2(jii)
        for j in range(n):
            if i != j:
                coupling[i, j] = _norm2(jac[bi, offsets[j]:offsets[j + 1]])
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


def _sparse_quantities(jac, dims, advance):
    """``mu``, sparse ``L`` (CSR) and block norms of a sparse Jacobian: exact, one dense block at a time."""
    import scipy.sparse as sp  # the Jacobian is sparse: SciPy is already imported

    n = len(dims)
    if all(d == 1 for d in dims):  # scalar players: the blocks are the entries themselves
        diag = np.asarray(jac.diagonal(), dtype=np.float64)
        off = abs(sp.csr_matrix(jac - sp.diags(diag)))
        off.eliminate_zeros()
        advance(n)
        return diag, off.tocsr(), np.abs(diag)
    offsets = np.cumsum((0,) + tuple(dims))
    owner = np.repeat(np.arange(n), dims)
    coo = jac.tocoo()
    key = owner[coo.row].astype(np.int64) * n + owner[coo.col]
    order = np.argsort(key, kind="stable")
    groups, starts = np.unique(key[order], return_index=True)
    mu, block = np.zeros(n), np.zeros(n)
    rows, cols, vals = [], [], []
    for g, (k, lo) in enumerate(zip(groups, starts, strict=True)):
        sel = order[lo:starts[g + 1] if g + 1 < len(starts) else len(order)]
        i, j = divmod(int(k), n)
        a = np.zeros((dims[i], dims[j]))
        a[coo.row[sel] - offsets[i], coo.col[sel] - offsets[j]] = coo.data[sel]
        if i == j:
            mu[i] = np.linalg.eigvalsh(0.5 * (a + a.T))[0]
            block[i] = np.linalg.norm(a, 2)
            advance(1)
        else:
            rows.append(i)
            cols.append(j)
            vals.append(np.linalg.norm(a, 2))
    coupling = sp.csr_matrix((np.asarray(vals, dtype=np.float64), (rows, cols)), shape=(n, n))
    return mu, coupling, block


def sparse_block_bounds(jac, dims, *, progress: bool = False):
    """Exact per-block bounds and sound joint relaxations of a sparse constant Jacobian.

    Args:
      jac: ``(dim, dim)`` ``scipy.sparse`` Jacobian.
      dims: player block sizes.
      progress: a progress bar on stderr over the players.

    Returns:
      ``(mu, L, block_norm, lip, euc)``: ``L`` a CSR matrix with zero diagonal,
      ``lip >= ||J||_2`` and ``euc <= lambda_min(sym J)`` (module docstring).

    Examples:
      >>> import scipy.sparse as sp
      >>> jac = sp.csr_matrix([[1.0, 10.0], [0.05, 1.0]])
      >>> mu, L, blk, lip, euc = sparse_block_bounds(jac, (1, 1))
      >>> mu.tolist(), L.toarray().tolist(), round(lip, 4), round(euc, 3)
      ([1.0, 1.0], [[0.0, 10.0], [0.05, 0.0]], 10.0995, -4.025)
    """
    n = len(dims)
    with ticks(total=n, desc="exact bounds", enabled=progress) as advance:
        mu, coupling, block = _sparse_quantities(jac, tuple(dims), advance)
    ones = np.ones(n)
    lip = float(sgn.block_lipschitz_bound(block, coupling, ones))
    euc = float(sgn.sparse_small_gain_margin(mu, coupling, ones))
    return mu, coupling, block, lip, euc


def exact_block_bounds(game, *, progress: bool = False) -> BlockBounds:
    """Exact bounds of an affine game (constant Jacobian), in float64, valid on all of R^d.

    Args:
      game: a :class:`games.Game` with a ``constant_jacobian`` (dense or ``scipy.sparse``).
      progress: a progress bar on stderr (many players, sparse Jacobian).

    Returns:
      :class:`BlockBounds` with ``kind="exact"``; its :meth:`~BlockBounds.weighted_lipschitz`
      is the exact weighted norm of the constant Jacobian (or the block bound for large games).
      For a sparse Jacobian beyond ``SPARSE_DIM`` the couplings are a ``scipy.sparse`` matrix.

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
    if is_sparse(jac) and jac.shape[0] > SPARSE_DIM:
        mu, coupling, block, lip, euc = sparse_block_bounds(jac, dims, progress=progress)
        return BlockBounds(mu, coupling, block, lip, euc, kind="exact", n_points=1)
    jac = jac.toarray() if is_sparse(jac) else jac
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
