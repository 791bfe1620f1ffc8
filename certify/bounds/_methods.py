r"""Bound methods as strategy objects: how :math:`\mu_i`, :math:`L_{ij}` and :math:`\beta(w)` are obtained.

Every method maps a game and a region :math:`K` to one :class:`~certify.bounds.BlockBounds`,

.. math::

   \mu_i \le \inf_K \lambda_{\min}(\operatorname{sym}J_{ii}), \qquad
   L_{ij} \ge \sup_K \lVert J_{ij}\rVert_2, \qquad
   \beta(w) \ge \sup_K \lVert M^{1/2}DF M^{-1/2}\rVert_2 ,

whose ``kind`` says what the numbers mean: ``exact`` (:class:`Exact`, affine games, valid on all of
:math:`\mathbb R^d`), ``sound`` (:class:`Interval`, :class:`Padded`, :class:`Refine`: guaranteed
enclosures over the box) or ``sampled`` (:class:`Sampled`, :class:`MatrixFree`: extremes over
points, an *estimate*). The CLI spellings ``"auto"``, ``"exact"``, ``"sampled"``, ``"interval"``,
``"padded"``, ``"refine"`` and ``"matrix_free"`` map to these objects through :func:`resolve`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import ClassVar

import numpy as np

import certify.bounds._sound as _sound
import sgn
from certify._bound_types import BlockBounds, WeightedBounds
from certify._interval import interval_lambda_min, interval_weighted_lipschitz
from certify._interval._matrix import _scaled
from certify._progress import ticks
from certify.bounds._exact import exact_block_bounds
from certify.bounds._matrix_free import MATRIX_FREE_METHODS, matrix_free_region_bounds
from certify.bounds._sampled import sampled_block_bounds
from certify.bounds._sampling import MAX_VERTEX_DIM
from games import Game, Region


def _check_count(value, name, least):
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < least:
        raise ValueError(f"expected an int {name} >= {least}, got {value!r}")


class BoundsMethod:
    """Base class of the bound methods: ``method(game, region) -> BlockBounds``.

    Subclasses are frozen dataclasses whose fields are the method's settings; ``name`` is the
    CLI spelling and ``kind`` the meaning of the numbers (``exact`` / ``sound`` / ``sampled``).

    Examples:
      >>> import games
      >>> method = Sampled(n_samples=8)
      >>> isinstance(method, BoundsMethod), method.name, method.kind
      (True, 'sampled', 'sampled')
      >>> method(games.get_game("tanh-sin")).n_points  # 4 vertices + 8 points + the centre
      13
    """

    name: ClassVar[str] = ""
    kind: ClassVar[str] = ""

    def __call__(self, game: Game, region: Region | None = None, *, decide: Callable | None = None,
                 progress: bool = False) -> BlockBounds:
        """Bounds of ``game`` on ``region`` (default: the game's own region).

        Args:
          game: a :class:`games.Game` in the Euclidean geometry.
          region: a :class:`games.Region`; ignored by :class:`Exact` (global bounds).
          decide: optional host predicate on :class:`BlockBounds` that stops an adaptive method
            (:class:`Refine`) once it holds, e.g. "SGN certifies with these bounds".
          progress: progress bars on stderr for long computations.
        """
        if not isinstance(game, Game):
            raise TypeError(f"expected a games.Game, got {type(game).__name__}")
        return self._bound(game, self._region(game, region), decide=decide, progress=progress)

    def _bound(self, game, region, *, decide, progress) -> BlockBounds:
        raise NotImplementedError

    def _region(self, game: Game, region) -> Region:
        reg = game.default_region() if region is None else region
        if reg is None:
            raise ValueError(f"expected a compact region for {self.name} bounds on {game.name!r}, got none "
                             "(pass region=games.Region(lo, hi), or --region LO:HI on the command line)")
        if reg.dim != game.dim:
            raise ValueError(f"expected a region of dimension {game.dim}, got {reg.dim}")
        reg.check_full_dimensional(f"{self.name} bounds")
        return reg

    def settings(self) -> dict:
        """JSON-able record of the method and its settings (stored in certificates to recompute them).

        Examples:
          >>> Sampled(n_samples=64, seed=3).settings()
          {'bounds_method': 'sampled', 'n_samples': 64, 'seed': 3, 'vertices': True}
        """
        return {"bounds_method": self.name, **dataclasses.asdict(self)}


@dataclasses.dataclass(frozen=True)
class Exact(BoundsMethod):
    r"""The constant Jacobian's own numbers (affine games only; valid on all of :math:`\mathbb R^d`).

    Examples:
      >>> import games
      >>> Exact()(games.get_game("sgn-toy")).coupling.tolist()
      [[0.0, 10.0], [0.05, 0.0]]
    """

    name: ClassVar[str] = "exact"
    kind: ClassVar[str] = "exact"

    def _region(self, game, region):
        return region

    def _bound(self, game, region, *, decide, progress):
        return exact_block_bounds(game, progress=progress)


@dataclasses.dataclass(frozen=True)
class Sampled(BoundsMethod):
    """Extremes over the box's vertices (when ``dim <= 10``), ``n_samples`` seeded points and the centre.

    An estimate, never a guarantee: a sampled minimum can miss the infimum.

    Attributes:
      n_samples: seeded uniform points.
      seed: sampling seed (same seed, same certificate).
      vertices: include the box's vertices when few.

    Examples:
      >>> import games
      >>> b = Sampled(n_samples=16)(games.get_game("tanh-sin"))
      >>> b.kind, b.n_points
      ('sampled', 21)
    """

    n_samples: int = 1024
    seed: int = 0
    vertices: bool = True
    name: ClassVar[str] = "sampled"
    kind: ClassVar[str] = "sampled"

    def __post_init__(self):
        _check_count(self.n_samples, "n_samples", 0)
        _check_count(self.seed, "seed", 0)

    def _bound(self, game, region, *, decide, progress):
        if self.n_samples == 0 and not (self.vertices and game.dim <= MAX_VERTEX_DIM):
            raise ValueError(f"expected n_samples >= 1 for sampled bounds in dimension {game.dim} (no vertices are "
                             "sampled there: the centre alone is no region estimate), got 0")
        return sampled_block_bounds(game, region, n_samples=self.n_samples, seed=self.seed,
                                    vertices=self.vertices, progress=progress)


def _with_sound_beta(game, bb: BlockBounds, jacobians: Callable) -> BlockBounds:
    r"""Attaches the sound :math:`\beta(w)` and direct modulus of the same boxes: worst case over boxes.

    ``jacobians()`` returns the interval Jacobians ``(jlo, jhi)`` of the boxes, ``(n_boxes, d, d)``.
    """

    def weighted(weights):
        jlo, jhi = (np.asarray(a) for a in jacobians())
        sound = float(interval_weighted_lipschitz(jlo, jhi, game.dims, weights))
        slo, shi, _, _ = _scaled(jlo, jhi, game.dims, weights)  # M^1/2 [J] M^-1/2, rounded outward
        block = float(sgn.block_lipschitz_bound(bb.block_norm, bb.coupling, weights))
        return WeightedBounds(min(block, sound), float(np.min(interval_lambda_min(slo, shi))))

    return dataclasses.replace(bb, weighted=weighted)


def _grid_jacobians(game, region, subdivisions):
    return lambda: _sound.interval_jacobian_grid(game.pseudo_gradient, region.lo, region.hi,
                                                 subdivisions=subdivisions)[2:]


@dataclasses.dataclass(frozen=True)
class Interval(BoundsMethod):
    """Sound interval-Jacobian enclosures on a uniform grid of sub-boxes, worst case over the boxes.

    Attributes:
      subdivisions: pieces per coordinate (an int or one int per coordinate).

    Examples:
      >>> import games
      >>> b = Interval()(games.get_game("tanh-sin"))
      >>> b.kind, b.n_points
      ('sound', 1)
    """

    subdivisions: int | tuple = 1
    name: ClassVar[str] = "interval"
    kind: ClassVar[str] = "sound"

    def _bound(self, game, region, *, decide, progress):
        bb = _sound.sound_block_bounds(game.pseudo_gradient, region.lo, region.hi, game.dims,
                                       subdivisions=self.subdivisions)
        return _with_sound_beta(game, bb, _grid_jacobians(game, region, self.subdivisions))


@dataclasses.dataclass(frozen=True)
class Padded(BoundsMethod):
    """Sound bounds from exact values on a grid, padded by a Lipschitz constant of the Jacobian.

    Attributes:
      grid: points per coordinate (>= 2).
      hessian_bound: a known Lipschitz constant of :math:`DF` on the box (default: computed by
        the interval engine).

    Examples:
      >>> import games
      >>> Padded(grid=5)(games.get_game("tanh-sin")).kind
      'sound'
    """

    grid: int = 9
    hessian_bound: float | None = None
    name: ClassVar[str] = "padded"
    kind: ClassVar[str] = "sound"

    def _bound(self, game, region, *, decide, progress):
        bb = _sound.lipschitz_padded_bounds(game.pseudo_gradient, region.lo, region.hi, game.dims, grid=self.grid,
                                            hessian_bound=self.hessian_bound)
        return _with_sound_beta(game, bb, _grid_jacobians(game, region, 1))


@dataclasses.dataclass(frozen=True)
class Refine(BoundsMethod):
    r"""Interval bounds tightened by branch and bound until ``decide`` holds or the budget is spent.

    The pipeline's ``decide`` is "the SGN comparison matrix certifies with these bounds"; then
    :math:`\beta(w)` is computed soundly on the final boxes.

    Attributes:
      max_rounds: bisection rounds.
      max_boxes: largest partition.

    Examples:
      >>> import games
      >>> b = Refine(max_rounds=2)(games.get_game("tanh-sin"), decide=lambda b: b.mu.min() > 0)
      >>> b.kind
      'sound'
    """

    max_rounds: int = 16
    max_boxes: int = 4096
    name: ClassVar[str] = "refine"
    kind: ClassVar[str] = "sound"

    def __post_init__(self):
        _check_count(self.max_rounds, "max_rounds", 0)
        _check_count(self.max_boxes, "max_boxes", 1)

    def _bound(self, game, region, *, decide, progress):
        decide = decide or (lambda b: False)
        with ticks(total=self.max_rounds + 1, desc="refine rounds", enabled=progress) as tick:
            bb, record = _sound.refine_block_bounds(game.pseudo_gradient, region.lo, region.hi, game.dims,
                                                    decide=decide, max_rounds=self.max_rounds,
                                                    max_boxes=self.max_boxes, on_round=lambda r, n: tick())
        boxes = np.asarray(record.box_lo), np.asarray(record.box_hi)
        bb = dataclasses.replace(bb, info={"refine": self.report(record)})
        return _with_sound_beta(game, bb, lambda: _sound._evaluate(game.pseudo_gradient, *boxes,
                                                                    assume_continuous=False))

    def report(self, record) -> dict:
        """Rounds, boxes, evaluations and why the search stopped (recorded in the certificate's ``extra``).

        ``stopped`` is ``decided``, ``max_rounds``, ``max_boxes`` or ``unsplittable`` (no box could be
        bisected further, or ``F`` is NaN on a whole box).
        """
        if record.decided:
            stopped = "decided"
        elif record.rounds >= self.max_rounds:
            stopped = "max_rounds"
        elif record.boxes >= self.max_boxes:
            stopped = "max_boxes"
        else:
            stopped = "unsplittable"
        return {"rounds": int(record.rounds), "boxes": int(record.boxes), "evaluations": int(record.evaluations),
                "max_rounds": int(self.max_rounds), "max_boxes": int(self.max_boxes), "stopped": stopped,
                "budget_spent": stopped in ("max_rounds", "max_boxes")}


@dataclasses.dataclass(frozen=True)
class MatrixFree(BoundsMethod):
    r"""Lanczos / power-iteration estimates at the centre and ``n_samples`` points, never forming a Jacobian.

    For games whose players are networks (millions of parameters). An estimate, never a guarantee.

    Attributes:
      n_samples: seeded uniform points besides the centre.
      seed: seed of the points and of the Krylov start vectors.
      iterations: Krylov steps per quantity and point.
      method: ``"lanczos"`` or ``"power"`` for the norms.
      full: also estimate :math:`\lVert DF\rVert_2` and :math:`\lambda_{\min}(\operatorname{sym}DF)`
        (reported only; ``False`` halves the compile time and leaves them NaN).

    Examples:
      >>> import games
      >>> MatrixFree(n_samples=2, iterations=2)(games.get_game("tanh-sin")).n_points
      3
    """

    n_samples: int = 4
    seed: int = 0
    iterations: int = 30
    method: str = "lanczos"
    full: bool = True
    name: ClassVar[str] = "matrix_free"
    kind: ClassVar[str] = "sampled"

    def __post_init__(self):
        _check_count(self.n_samples, "n_samples", 0)
        _check_count(self.seed, "seed", 0)
        _check_count(self.iterations, "iterations", 1)
        if self.method not in MATRIX_FREE_METHODS:
            raise ValueError(f"expected a matrix-free method in {MATRIX_FREE_METHODS}, got {self.method!r}")

    def _bound(self, game, region, *, decide, progress):
        return matrix_free_region_bounds(game, region, n_samples=self.n_samples, seed=self.seed,
                                         iterations=self.iterations, method=self.method, full=self.full)


METHODS = {cls.name: cls for cls in (Exact, Sampled, Interval, Padded, Refine, MatrixFree)}
NAMES = ("auto", *METHODS)
"""The CLI spellings of the bound methods."""


def resolve(spec, game: Game, *, n_samples: int | None = None, seed: int = 0, subdivisions=None) -> BoundsMethod:
    """The bound method an argument names: a :class:`BoundsMethod` as is, or a CLI spelling.

    ``"auto"`` is :class:`Exact` for affine games and :class:`Sampled` otherwise. ``n_samples``,
    ``seed`` and ``subdivisions`` fill the spelled method's settings where they apply (defaults:
    the method's own).

    Raises:
      ValueError: for an unknown spelling or invalid settings.

    Examples:
      >>> import games
      >>> resolve("auto", games.get_game("sgn-toy")), resolve("sampled", games.get_game("tanh-sin"), n_samples=8)
      (Exact(), Sampled(n_samples=8, seed=0, vertices=True))
    """
    if isinstance(spec, BoundsMethod):
        return spec
    if spec not in NAMES:
        raise ValueError(f"expected a bounds method in {NAMES} or a certify.bounds method object, got {spec!r}")
    if spec == "auto":
        spec = "exact" if game.is_affine else "sampled"
    cls = METHODS[spec]
    options = {"seed": seed, "n_samples": n_samples, "subdivisions": subdivisions}
    fields = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in options.items() if k in fields and v is not None})
