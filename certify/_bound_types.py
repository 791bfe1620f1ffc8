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


class WeightedBounds(tuple):
    r"""``(lipschitz, margin)`` of a game on a region in the metric :math:`M(w)`.

    * ``lipschitz`` bounds :math:`\beta(w) = \sup_K\lVert M^{1/2}DF\,M^{-1/2}\rVert_2` (above);
    * ``margin`` bounds the *direct* modulus :math:`\inf_K\lambda_{\min}(\operatorname{sym}
      (M^{1/2}DF\,M^{-1/2}))` (below; NaN when the method cannot bound it).

    The direct modulus is the exact strong-monotonicity constant of :math:`F` in :math:`M(w)` on
    the convex region (mean-value argument; :math:`\lambda_{\min}\circ\operatorname{sym}` is
    concave), so it is never below the SGN margin :math:`\alpha_*(w)`, which discards the sign
    and skew structure of the couplings (spec-sgn-math §3.1).

    Examples:
      >>> WeightedBounds(1.7, 0.29).margin
      0.29
    """

    __slots__ = ()

    def __new__(cls, lipschitz: float, margin: float = float("nan")):
        return super().__new__(cls, (float(lipschitz), float(margin)))

    @property
    def lipschitz(self) -> float:
        r"""Upper bound (or estimate) of :math:`\beta(w)`."""
        return self[0]

    @property
    def margin(self) -> float:
        """Lower bound (or estimate) of the direct weighted modulus; NaN when unavailable."""
        return self[1]


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
      weighted: the producing method's ``weights -> WeightedBounds``, a pure function of the
        evidence the method stored (its points' Jacobians, boxes' interval Jacobians or matrix),
        used by :meth:`at_weights`; ``None`` falls back to the block bound.
      center_value: ``(d,)`` upper bound on :math:`|F(c)|` at the region's centre, enclosed with
        rounding (sound methods; ``None`` otherwise): what the RK4 region needs of :math:`F`.
      info: JSON-able record of what the method did (e.g. ``refine``'s rounds and boxes), kept
        in the certificate's ``extra``.
      rounding: sound bounds: an upper bound on ``sup ||F as JAX computes it - F||_2`` over the
        region (``inf`` if it cannot be bounded, with ``rounding_cause``); NaN when not bounded.
      rounding_cause: the operation that made ``rounding`` infinite.
      rounding_fn: ``() -> (rounding, rounding_cause)`` when the method defers the rounding bound
        (the sound methods: its pass is compiled only for a certificate); read both through
        :meth:`rounding_error`.

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
    reason: str = ""
    weighted: Callable | None = dataclasses.field(default=None, repr=False, compare=False)
    center_value: np.ndarray | None = dataclasses.field(default=None, repr=False, compare=False)
    info: dict = dataclasses.field(default_factory=dict, repr=False, compare=False)
    # Evaluation error of F as JAX computes it (sound bounds only; NaN = not bounded by the method):
    # sup_x ||F~(x) - F(x)||_2 on the region, and what made it infinite (issue 19).
    rounding: float = float("nan")
    rounding_cause: str = ""
    rounding_fn: Callable | None = dataclasses.field(default=None, repr=False, compare=False)

    def __post_init__(self):
        if self.kind not in BOUND_KINDS:
            raise ValueError(f"expected kind in {BOUND_KINDS}, got {self.kind!r}")

    def rounding_error(self) -> tuple[float, str]:
        """``(rounding, rounding_cause)``, computed on the first call where the method deferred it."""
        if self.rounding_fn is not None:
            return self.rounding_fn()
        return float(self.rounding), self.rounding_cause

    @property
    def n_players(self) -> int:
        """Number of players."""
        return int(np.asarray(self.mu).shape[0])

    def at_weights(self, weights) -> WeightedBounds:
        r""":math:`\beta(w)` and the direct weighted modulus on the same region, in one pass.

        Computed by the producing method on its own points, boxes or matrix when it left a hook
        (``weighted``); otherwise :math:`\beta(w) \le \lVert B(w)\rVert_2` with
        :math:`B_{ii} = \lVert J_{ii}\rVert`, :math:`B_{ij} = L_{ij}\sqrt{w_i/w_j}`
        (:func:`sgn.block_lipschitz_bound`) and no direct modulus (NaN).

        Raises:
          ValueError: unless ``weights`` holds ``n_players`` positive finite numbers.
        """
        w = np.asarray(weights, dtype=np.float64)
        _checks.check_weights(w, self.n_players)
        if self.weighted is not None:
            return self.weighted(w)
        return WeightedBounds(float(sgn.block_lipschitz_bound(self.block_norm, self.coupling, w)))

    def weighted_lipschitz(self, weights) -> float:
        r"""Upper bound (exact/sound) or estimate (sampled) of :math:`\beta(w)`: ``at_weights(w).lipschitz``.

        .. math::

           \beta(w) = \sup_K \lVert M^{1/2} DF M^{-1/2}\rVert_2 .
        """
        return self.at_weights(weights).lipschitz
