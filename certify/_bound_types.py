"""Result type for region bounds of a game's Jacobian blocks.

For a game with pseudo-gradient :math:`F` and Jacobian blocks :math:`J_{ij}(x)` on a region
:math:`K`, the small-gain certificate rests on

.. math::

   \\mu_i \\le \\inf_{x\\in K} \\lambda_{\\min}(\\operatorname{sym} J_{ii}(x)), \\qquad
   L_{ij} \\ge \\sup_{x\\in K} \\lVert J_{ij}(x) \\rVert_2 .

Bounds are ``exact`` (constant Jacobian), ``sound`` (guaranteed enclosures) or ``sampled``
(extremes over sample points: an estimate, never a guarantee).
"""

from __future__ import annotations

import dataclasses

import numpy as np

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
      reason: why some bounds are NaN (``F`` may be NaN or undefined on the region) or infinite
        (the Jacobian enclosure is unbounded); empty when all are finite.
    """

    mu: np.ndarray
    coupling: np.ndarray
    block_norm: np.ndarray
    lipschitz: float
    euclidean_margin: float
    kind: str
    n_points: int = 1
    reason: str = ""

    def __post_init__(self):
        if self.kind not in BOUND_KINDS:
            raise ValueError(f"expected kind in {BOUND_KINDS}, got {self.kind!r}")

    @property
    def n_players(self) -> int:
        """Number of players."""
        return int(np.asarray(self.mu).shape[0])
