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
from jax.sharding import Mesh

import certify.bounds._sound as _sound
import sgn
from certify._bound_types import BlockBounds, WeightedBounds
from certify._interval import interval_lambda_min, interval_weighted_lipschitz
from certify._interval._matrix import _scaled
from certify._progress import ticks
from certify.bounds._exact import exact_block_bounds
from certify.bounds._matrix_free import MATRIX_FREE_METHODS, matrix_free_region_bounds
from certify.bounds._sampled import sampled_block_bounds
from certify.bounds._tabular import fisher_bounds, mirror_bounds
from games import Game, Region
from sgn import _checks


def as_region(game: Game, region, *, default: bool = True) -> Region | None:
    """The one region check: a :class:`games.Region`, ``(lo, hi)`` or ``{"lo", "hi"}`` of the game's dimension.

    ``None`` gives the game's own region when ``default`` (which may be ``None`` too), else ``None``.

    Raises:
      TypeError: for anything else; ValueError: for a region of another dimension.

    Examples:
      >>> import games
      >>> as_region(games.get_game("tanh-sin"), ([-1.0, -1.0], [1.0, 1.0])).to_dict()
      {'lo': [-1.0, -1.0], 'hi': [1.0, 1.0]}
    """
    if region is None:
        return game.default_region() if default else None
    if isinstance(region, Region):
        reg = region
    elif isinstance(region, dict):
        reg = Region.from_dict(region)
    elif isinstance(region, tuple | list) and len(region) == 2:
        reg = Region(*region)
    else:
        raise TypeError(f"expected a games.Region or (lo, hi), got {type(region).__name__}")
    if reg.dim != game.dim:
        raise ValueError(f"expected a region of dimension {game.dim}, got {reg.dim}")
    return reg


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
    geometry: ClassVar[str] = "euclidean"
    """The geometry the bounds are in: ``"euclidean"``, ``"mirror"`` (KL) or ``"fisher"``."""
    takes_region: ClassVar[bool] = True
    """Whether the bounds hold on a region (``False``: global bounds, a region does not apply)."""
    absent_means: ClassVar[dict] = {}
    """Settings added after certificates were first written, with the value that a file without them
    was computed with (:func:`certify._integrity.check_certificate` recomputes it so)."""

    @classmethod
    def options(cls) -> tuple[str, ...]:
        """The settings a caller may fill by name (``n_samples``, ``seed``, ``subdivisions``, ...).

        Examples:
          >>> Sampled.options(), Exact.options()
          (('n_samples', 'seed', 'vertices'), ())
        """
        return tuple(f.name for f in dataclasses.fields(cls) if not f.metadata.get("placement"))

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
        reg = as_region(game, region)
        if reg is None:
            raise ValueError(f"expected a compact region for {self.name} bounds on {game.name!r}, got none "
                             "(pass region=games.Region(lo, hi), or --region LO:HI on the command line)")
        reg.check_full_dimensional(f"{self.name} bounds")
        return reg

    def settings(self) -> dict:
        """JSON-able record of the method and its settings (stored in certificates to recompute them).

        Examples:
          >>> Sampled(n_samples=64, seed=3).settings()
          {'bounds_method': 'sampled', 'n_samples': 64, 'seed': 3, 'vertices': True}
        """
        return {"bounds_method": self.name, **{k: getattr(self, k) for k in self.options()}}


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
    takes_region: ClassVar[bool] = False

    def _region(self, game, region):
        return None

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
      mesh: a device mesh (:func:`certify.sweep.make_mesh`) to shard the points over, across
        devices and the processes of a :func:`jax.distributed` run; ``None``: the default device.
        A placement, not a setting: the bounds equal the one-device ones (to rounding), so it
        is not recorded in :meth:`settings`.

    Examples:
      >>> import games
      >>> from certify.sweep import make_mesh
      >>> b = Sampled(n_samples=16)(games.get_game("tanh-sin"))
      >>> b.kind, b.n_points
      ('sampled', 21)
      >>> Sampled(n_samples=16, mesh=make_mesh())(games.get_game("tanh-sin")).mu.tolist() == b.mu.tolist()
      True
    """

    n_samples: int = 1024
    seed: int = 0
    vertices: bool = True
    mesh: Mesh | None = dataclasses.field(default=None, compare=False, repr=False, metadata={"placement": True})
    name: ClassVar[str] = "sampled"
    kind: ClassVar[str] = "sampled"

    def __post_init__(self):
        _checks.check_int(self.n_samples, "n_samples", least=1)  # a few vertices and the centre are no region estimate
        _checks.check_int(self.seed, "seed", least=0)

    def _bound(self, game, region, *, decide, progress):
        return sampled_block_bounds(game, region, n_samples=self.n_samples, seed=self.seed,
                                    vertices=self.vertices, mesh=self.mesh, progress=progress)


def _with_sound_evidence(game, region, bb: BlockBounds, jlo, jhi) -> BlockBounds:
    r"""Attaches the sound :math:`\beta(w)` and direct modulus of the boxes, and :math:`|F|` at the centre.

    ``jlo, jhi`` are the interval Jacobians ``(n_boxes, d, d)`` the bounds were computed from (stored:
    each weighted question is a pure function of them, worst case over the boxes, and never re-runs
    the engine). The centre value is enclosed once, by the same compiled engine.
    """
    jlo, jhi = np.asarray(jlo), np.asarray(jhi)
    c = np.asarray(region.center, dtype=np.float64)[None]
    box = _sound.enclose_boxes(game.pseudo_gradient, c, c, assume_continuous=False)
    center = np.maximum(np.abs(box.flo[0]), np.abs(box.fhi[0]))

    def weighted(weights):
        sound = float(interval_weighted_lipschitz(jlo, jhi, game.dims, weights))
        slo, shi, _, _ = _scaled(jlo, jhi, game.dims, weights)  # M^1/2 [J] M^-1/2, rounded outward
        block = float(sgn.block_lipschitz_bound(bb.block_norm, bb.coupling, weights))
        return WeightedBounds(min(block, sound), float(np.min(interval_lambda_min(slo, shi))))

    return dataclasses.replace(bb, weighted=weighted, center_value=center)


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
        bb, (jlo, jhi) = _sound.sound_grid_bounds(game.pseudo_gradient, region.lo, region.hi, game.dims,
                                                  subdivisions=self.subdivisions)
        return _with_sound_evidence(game, region, bb, jlo, jhi)


@dataclasses.dataclass(frozen=True)
class Padded(BoundsMethod):
    """Sound bounds from exact values on a grid, padded by a Lipschitz constant of the Jacobian.

    Attributes:
      grid: points per coordinate (>= 2); default ``None``: the finest grid of at most 9 points
        per coordinate within the point budget (9 up to 4 dimensions, 2 from 10 to 15; above 15
        even 2 points per coordinate exceed it and the method refuses, kind ``cost``).
      hessian_bound: a known Lipschitz constant of :math:`DF` on the box (default: computed by
        the interval engine).

    Examples:
      >>> import games
      >>> Padded(grid=5)(games.get_game("tanh-sin")).kind
      'sound'
    """

    grid: int | None = None
    hessian_bound: float | None = None
    name: ClassVar[str] = "padded"
    kind: ClassVar[str] = "sound"

    def _bound(self, game, region, *, decide, progress):
        bb = _sound.lipschitz_padded_bounds(game.pseudo_gradient, region.lo, region.hi, game.dims, grid=self.grid,
                                            hessian_bound=self.hessian_bound)
        _, _, jlo, jhi = _sound.interval_jacobian_grid(game.pseudo_gradient, region.lo, region.hi)
        return _with_sound_evidence(game, region, bb, jlo, jhi)


def proved_margin(bb: BlockBounds) -> float:
    r"""The larger of the margins that two sound tests prove from ``bb`` (``-inf``: neither is a number).

    Small gain at the best weights (:math:`\lambda_P`, :func:`sgn.perron_value`, where every
    :math:`\mu_i > 0`) and the direct test at :math:`w = 1` (``euclidean_margin``).

    Examples:
      >>> bb = BlockBounds(mu=np.array([1.0, 0.5]), coupling=np.array([[0.0, 0.2], [0.2, 0.0]]),
      ...                  block_norm=np.ones(2), lipschitz=2.0, euclidean_margin=0.1, kind="sound", n_points=1)
      >>> round(proved_margin(bb), 6)  # lambda_min [[1, -.2], [-.2, .5]] = .75 - sqrt(.0625 + .04)
      0.429844
    """
    values = [float(bb.euclidean_margin)]
    if np.all(np.isfinite(bb.mu)) and np.all(bb.mu > 0) and np.all(np.isfinite(bb.coupling)):
        values.append(sgn.perron_value(bb.mu, bb.coupling))
    finite = [v for v in values if np.isfinite(v)]
    return max(finite) if finite else -np.inf


@dataclasses.dataclass(frozen=True)
class Refine(BoundsMethod):
    r"""Interval bounds tightened by branch and bound until ``decide`` holds or the budget is spent.

    The pipeline's ``decide`` is "the SGN comparison matrix certifies with these bounds"; then
    :math:`\beta(w)` is computed soundly on the final boxes.

    Once decided, the search goes on for up to ``tighten_rounds`` rounds (within the same budget) while
    the margin it proves (:func:`proved_margin`) still grows by ``min_gain`` of itself per round, so
    that the certificate states the strongest claim the budget buys, not merely the first one.

    Attributes:
      max_rounds: bisection rounds.
      max_boxes: largest partition.
      tighten_rounds: most rounds after the first decided one (0: stop there).
      min_gain: relative margin gain per round below which tightening stops (after two such rounds).

    Examples:
      >>> import games
      >>> b = Refine(max_rounds=2)(games.get_game("tanh-sin"), decide=lambda b: b.mu.min() > 0)
      >>> b.kind
      'sound'
    """

    max_rounds: int = 16
    max_boxes: int = 4096
    tighten_rounds: int = 4
    min_gain: float = 0.02
    name: ClassVar[str] = "refine"
    kind: ClassVar[str] = "sound"
    absent_means: ClassVar[dict] = {"tighten_rounds": 0}

    def __post_init__(self):
        _checks.check_int(self.max_rounds, "max_rounds", least=0)
        _checks.check_int(self.max_boxes, "max_boxes", least=1)
        _checks.check_int(self.tighten_rounds, "tighten_rounds", least=0)
        if isinstance(self.min_gain, bool) or not isinstance(self.min_gain, int | float) or not (
                0.0 <= self.min_gain < float("inf")):
            raise ValueError(f"expected a finite min_gain >= 0, got {self.min_gain!r}")

    def _bound(self, game, region, *, decide, progress):
        decide = decide or (lambda b: False)
        with ticks(total=self.max_rounds + 1, desc="refine rounds", enabled=progress) as tick:
            bb, record = _sound.refine_block_bounds(game.pseudo_gradient, region.lo, region.hi, game.dims,
                                                    decide=decide, max_rounds=self.max_rounds,
                                                    max_boxes=self.max_boxes, on_round=lambda r, n: tick(),
                                                    score=proved_margin, tighten_rounds=self.tighten_rounds,
                                                    min_gain=self.min_gain)  # fmt: skip
        bb = dataclasses.replace(bb, info={"refine": self.report(record)})
        return _with_sound_evidence(game, region, bb, record.box_jlo, record.box_jhi)

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
        tightened = int(record.rounds - record.decided_round) if record.decided_round is not None else 0
        return {"rounds": int(record.rounds), "boxes": int(record.boxes), "evaluations": int(record.evaluations),
                "max_rounds": int(self.max_rounds), "max_boxes": int(self.max_boxes), "stopped": stopped,
                "budget_spent": stopped in ("max_rounds", "max_boxes"), "tightened_rounds": tightened}


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
        _checks.check_int(self.n_samples, "n_samples", least=0)
        _checks.check_int(self.seed, "seed", least=0)
        _checks.check_int(self.iterations, "iterations", least=1)
        if self.method not in MATRIX_FREE_METHODS:
            raise ValueError(f"expected a matrix-free method in {MATRIX_FREE_METHODS}, got {self.method!r}")

    def _bound(self, game, region, *, decide, progress):
        return matrix_free_region_bounds(game, region, n_samples=self.n_samples, seed=self.seed,
                                         iterations=self.iterations, method=self.method, full=self.full)


@dataclasses.dataclass(frozen=True)
class Mirror(BoundsMethod):
    r"""Exact, global ℓ1/KL bounds of an entropy-regularised normal-form game (:math:`\mu_i = \tau`).

    Examples:
      >>> import games
      >>> Mirror()(games.get_game("coordination", tau=1.5)).mu.tolist()
      [1.5, 1.5]
    """

    name: ClassVar[str] = "mirror"
    kind: ClassVar[str] = "exact"
    geometry: ClassVar[str] = "mirror"
    takes_region: ClassVar[bool] = False

    def _region(self, game, region):
        return None

    def _bound(self, game, region, *, decide, progress):
        return mirror_bounds(game)[0]


@dataclasses.dataclass(frozen=True)
class Fisher(BoundsMethod):
    """The paper's sampled bounds of a Markov game's Fisher-normalised Jacobian on a logit box.

    Points: the box's vertices and ``n_samples`` seeded uniform points; the box defaults to a cube
    around the equilibrium (:func:`certify.bounds.fisher_bounds`). An estimate, never a guarantee.

    Attributes:
      n_samples: seeded uniform points besides the vertices.
      seed: sampling seed.

    Examples:
      >>> import games
      >>> Fisher()(games.get_game("markov-coop")).kind
      'sampled'
    """

    n_samples: int = 0
    seed: int = 0
    name: ClassVar[str] = "fisher"
    kind: ClassVar[str] = "sampled"
    geometry: ClassVar[str] = "fisher"

    def __post_init__(self):
        _checks.check_int(self.n_samples, "n_samples", least=0)
        _checks.check_int(self.seed, "seed", least=0)

    def _region(self, game, region):
        return as_region(game, region, default=False)

    def _bound(self, game, region, *, decide, progress):
        return fisher_bounds(game, region, n_samples=self.n_samples, seed=self.seed).bounds


METHODS = {cls.name: cls for cls in (Exact, Sampled, Interval, Padded, Refine, MatrixFree, Mirror, Fisher)}
NAMES = ("auto", *METHODS)
"""The CLI spellings of the bound methods."""
_GEOMETRY_TEXT = {"mirror": "the mirror (KL) geometry with exact, global bounds",
                  "fisher": "the Fisher geometry with the paper's sampled bounds"}
_SPELLINGS = {"mirror": ("auto", "exact", "mirror"), "fisher": ("auto", "sampled", "fisher")}
"""The spellings that name a geometry's own method (``auto`` and the method of the same meaning)."""
_WHY_NOT = {"n_samples": "it takes no sample points", "seed": "its bounds use no random numbers",
            "subdivisions": "it cuts the region into no sub-boxes"}


class NotApplicable(ValueError):
    """An option that does not apply to the bound method (or geometry) of a game.

    The library and the command line state the same rule; :meth:`text` words it with the
    caller's names for the options (``n_samples`` or ``--samples``).

    Attributes:
      option: ``"bounds"``, ``"region"``, ``"n_samples"``, ``"seed"`` or ``"subdivisions"``.
    """

    LIBRARY = {"bounds": "bounds", "region": "region", "n_samples": "n_samples", "seed": "seed",
               "subdivisions": "subdivisions"}

    def __init__(self, option: str, template: str):
        self.option, self.template = option, template
        super().__init__(self.text(self.LIBRARY))

    def text(self, names: dict) -> str:
        """The message with ``names[option]`` for each option (e.g. ``{"n_samples": "--samples"}``)."""
        return self.template.format(**{**self.LIBRARY, **names})


def _spelled(spec) -> str:
    return spec if isinstance(spec, str) else spec.name


def _for_geometry(spec, game: Game):
    """The method a spelling or object means in the game's geometry, or the reason it does not apply."""
    if game.geometry in _SPELLINGS:
        legacy = isinstance(spec, Exact | Sampled) and _spelled(spec) in _SPELLINGS[game.geometry]
        if isinstance(spec, BoundsMethod) and spec.geometry == game.geometry:
            return spec
        if legacy and isinstance(spec, Sampled):  # files from before the Fisher method had its own name
            return Fisher(n_samples=spec.n_samples, seed=spec.seed)
        if legacy or spec in _SPELLINGS[game.geometry]:
            return METHODS[game.geometry]()
        first, second = _SPELLINGS[game.geometry][:2]
        raise NotApplicable("bounds", f"{{bounds}} {_spelled(spec)} does not apply: {game.name} is certified in "
                            f"{_GEOMETRY_TEXT[game.geometry]}; use {{bounds}} {first} or {second} "
                            f"(expected bounds {first!r} or {second!r})")
    if isinstance(spec, BoundsMethod):
        method = spec
    else:
        method = METHODS["exact" if game.is_affine else "sampled"]() if spec == "auto" else METHODS[spec]()
    if method.geometry != game.geometry:
        raise NotApplicable("bounds", f"{{bounds}} {method.name} does not apply: {game.name} is certified in the "
                            f"{game.geometry} geometry; use {{bounds}} auto")
    if isinstance(method, Exact) and not game.is_affine:
        raise NotApplicable("bounds", f"{{bounds}} exact needs an affine game (constant Jacobian), got the nonlinear "
                            f"{game.name}; use {{bounds}} sampled, interval, padded or refine")
    return method


def resolve(spec, game: Game, *, region=None, n_samples: int | None = None, seed: int | None = None,
            subdivisions=None) -> BoundsMethod:
    """The bound method an argument names, checked against the game: the one "does not apply" rule.

    ``spec`` is a :class:`BoundsMethod` or a spelling in :data:`NAMES`; ``"auto"`` is the game's
    own method (:class:`Exact` for affine games, :class:`Sampled` for other Euclidean ones,
    :class:`Mirror` / :class:`Fisher` for tabular games). Each method declares its geometry,
    whether it takes a region and its settings; an option given where the method does not
    declare it is refused (a ``region`` where the bounds are global, ``n_samples`` where no
    points are sampled, ``seed`` where nothing is random, ``subdivisions`` where no boxes are
    cut), as is a method of another geometry. Given options fill a spelled method's settings.

    Raises:
      NotApplicable: (a ``ValueError``) naming the option that does not apply and what would.
      ValueError: for an unknown spelling or invalid settings.

    Examples:
      >>> import games
      >>> resolve("auto", games.get_game("sgn-toy")), resolve("sampled", games.get_game("tanh-sin"), n_samples=8)
      (Exact(), Sampled(n_samples=8, seed=0, vertices=True))
      >>> try:
      ...     resolve("interval", games.get_game("tanh-sin"), seed=3)
      ... except NotApplicable as err:
      ...     print(err.text({"seed": "--seed", "bounds": "--bounds"}))
      --seed does not apply to --bounds interval: its bounds use no random numbers; drop --seed
    """
    if not isinstance(spec, BoundsMethod) and spec not in NAMES:
        raise ValueError(f"expected a bounds method in {NAMES} or a certify.bounds method object, got {spec!r}")
    method = _for_geometry(spec, game)
    given = {k: v for k, v in {"n_samples": n_samples, "seed": seed, "subdivisions": subdivisions}.items()
             if v is not None}
    for option in given:
        if option in method.options():
            continue
        if method.geometry != "euclidean":
            raise NotApplicable(option, f"{{{option}}} does not apply: {game.name} is certified in "
                                f"{_GEOMETRY_TEXT[method.geometry]} ({_WHY_NOT[option]}); drop {{{option}}}")
        auto = " (what {bounds} auto means for this affine game)" if spec == "auto" else ""
        use = {"n_samples": "use {bounds} sampled or matrix_free, or drop {n_samples}",
               "seed": "drop {seed}", "subdivisions": "use {bounds} interval, or drop {subdivisions}"}[option]
        raise NotApplicable(option, f"{{{option}}} does not apply to {{bounds}} {method.name}{auto}: "
                            f"{_WHY_NOT[option]}; {use}")
    if region is not None and not method.takes_region:
        if method.geometry != "euclidean":
            raise NotApplicable("region", f"{{region}} does not apply: {game.name} is certified in "
                                f"{_GEOMETRY_TEXT[method.geometry]}; expected no region: drop {{region}}")
        raise NotApplicable("region", f"{{region}} does not apply to the exact bounds of the affine game {game.name}: "
                            "they hold on all of R^d; drop {region}, or use {bounds} sampled or interval to bound "
                            "a region")
    if given and isinstance(spec, BoundsMethod):
        raise ValueError(f"expected {sorted(given)} as settings of the method object {spec!r}, got them beside it")
    return dataclasses.replace(method, **given) if given else method
