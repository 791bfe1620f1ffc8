"""A cheaper path to exact bounds of large affine games (joint dimension above ``LARGE_DIM``).

For a constant Jacobian :math:`J` the per-block quantities :math:`\\mu_i = \\lambda_{\\min}(\\operatorname{sym}J_{ii})`,
:math:`\\lVert J_{ii}\\rVert_2` and :math:`L_{ij} = \\lVert J_{ij}\\rVert_2` are still computed exactly with
LAPACK, block by block. The *joint* quantities would need an SVD and an eigendecomposition of the
full :math:`d\\times d` matrix (minutes at :math:`d = 10^4`); they are replaced by sound block
relaxations built from the per-block numbers (spec-sgn-math §6.3):

.. math::

   \\lVert J\\rVert_2 \\le \\lVert B\\rVert_2,\\quad B_{ii} = \\lVert J_{ii}\\rVert_2,\\ B_{ij} = L_{ij};\\qquad
   \\lambda_{\\min}(\\operatorname{sym}J) \\ge \\lambda_{\\min}(S),\\quad S_{ii} = \\mu_i,\\
   S_{ij} = -\\tfrac12 (L_{ij} + L_{ji}) .

Both follow from :math:`x^\\top A x \\ge \\sum_i \\lambda_{\\min}(A_{ii})\\lVert x_i\\rVert^2 - \\sum_{i\\ne j}
\\lVert A_{ij}\\rVert\\lVert x_i\\rVert\\lVert x_j\\rVert` (and its norm analogue), our own short derivation.
So the Lipschitz constant is an upper bound and the Euclidean margin a lower bound: both err on
the safe side. The weighted Lipschitz constant :math:`\\beta(w)` then uses the block bound
:func:`sgn.block_lipschitz_bound`, and the exact RK4 factor at the guideline is not computed.
"""

from __future__ import annotations

import numpy as np

LARGE_DIM = 2048
"""Joint dimension above which the full-matrix SVD / eigendecomposition is replaced by block relaxations."""


def is_large(dim: int) -> bool:
    """True when the joint dimension takes the cheaper path."""
    return int(dim) > LARGE_DIM


def block_quantities(jac: np.ndarray, dims):
    """mu, L, block norms, an upper bound on ``||J||_2`` and a lower bound on ``lambda_min(sym J)``.

    Examples:
      >>> import numpy as np
      >>> mu, L, blk, lip, euc = block_quantities(np.array([[1.0, 10.0], [0.05, 1.0]]), (1, 1))
      >>> mu.tolist(), L.tolist(), blk.tolist()
      ([1.0, 1.0], [[0.0, 10.0], [0.05, 0.0]], [1.0, 1.0])
      >>> round(euc, 6)  # 1 - |10 + 0.05| / 2 = -4.025: exact here (scalar blocks)
      -4.025
    """
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
    b = np.diag(block) + coupling
    lip = float(np.linalg.norm(b, 2))
    euc = float(np.linalg.eigvalsh(np.diag(mu) - sym_coupling)[0])
    return mu, coupling, block, lip, euc
