r"""Result type for region bounds of a game's Jacobian blocks.

For a game with pseudo-gradient :math:`F` and Jacobian blocks :math:`J_{ij}(x)` on a region
:math:`K`, the small-gain certificate rests on

.. math::

   \mu_i \le \inf_{x\in K} \lambda_{\min}(\operatorname{sym} J_{ii}(x)), \qquad
   L_{ij} \ge \sup_{x\in K} \lVert J_{ij}(x) \rVert_2 .

Bounds are ``exact`` (constant Jacobian), ``sound`` (guaranteed enclosures) or ``sampled``
(extremes over sample points: an estimate, never a guarantee).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

import sgn
from sgn import _checks

BOUND_KINDS = ("exact", "sound", "sampled")


@dataclasses.dataclass(frozen=True)
class BlockBounds:
    """Per-block curvature and coupling bounds of a game on a region (float64, host side).

    Attributes:
      mu: ``(n_players,)`` lower bounds on each player's curvature.
      coupling: ``(n_players, n_players)`` upper bounds ``L_ij`` on ``||J_ij||_2``, zero diagonal.
      block_norm: ``(n_players,)`` upper bounds on ``||J_ii||_2`` (used by the block bound on beta).
      lipschitz: upper bound on the Euclidean Lipschitz constant ``sup ||DF||_2``.
      euclidean_margin: lower bound on ``inf lambda_min(sym DF)`` (the Rosen/Euclidean test).
      kind: ``"exact"``, ``"sound"`` or ``"sampled"``.
      n_points: number of points (sampled) or boxes (sound) the bounds were computed from.
      weighted: the producing method's ``weights -> beta(w)`` (same points, boxes or matrix),
        used by :meth:`weighted_lipschitz`; ``None`` falls back to the block bound.

    Examples:
      >>> import numpy as np
      >>> b = BlockBounds(np.ones(2), np.array([[0.0, 10.0], [0.05, 0.0]]), np.ones(2), 10.1, -4.0,
      ...                 kind="sampled")
      >>> b.n_players, round(b.weighted_lipschitz([1.0, 200.0]), 6)  # block bound: 1 + 1/sqrt(2)
      (2, 1.707107)
    """

    mu: np.ndarray
    coupling: np.ndarray
    block_norm: np.ndarray
    lipschitz: float
    euclidean_margin: float
    kind: str
    n_points: int = 1
    weighted: Callable | None = dataclasses.field(default=None, repr=False, compare=False)

    def __post_init__(self):
        if self.kind not in BOUND_KINDS:
            raise ValueError(f"expected kind in {BOUND_KINDS}, got {self.kind!r}")

    @property
    def n_players(self) -> int:
        """Number of players."""
        return int(np.asarray(self.mu).shape[0])

    def weighted_lipschitz(self, weights) -> float:
        r"""Upper bound (exact/sound) or estimate (sampled) of :math:`\beta(w)` on the same region.

        .. math::

           \beta(w) = \sup_K \lVert M^{1/2} DF M^{-1/2}\rVert_2
           \le \lVert B(w)\rVert_2, \quad B_{ii} = \lVert J_{ii}\rVert,\ B_{ij} = L_{ij}\sqrt{w_i/w_j},

        computed by the producing method on its own points, boxes or matrix when it left a hook
        (``weighted``), else the block bound (:func:`sgn.block_lipschitz_bound`).
        """
        w = np.asarray(weights, dtype=np.float64)
        _checks.check_weights(w, self.n_players)
        if self.weighted is not None:
            return float(self.weighted(w))
        return float(sgn.block_lipschitz_bound(self.block_norm, self.coupling, w))
