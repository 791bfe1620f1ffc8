r"""The certification pipeline: route the game to its geometry, bound, then assemble the certificate.

Given a game and a region :math:`K`, bound :math:`\mu_i, L_{ij}` on :math:`K` in the game's
geometry, choose weights :math:`w` maximising :math:`\alpha_*(w)` and certify when it exceeds a
small tolerance (:func:`certify._assemble.assemble`). Routes:

* **Euclidean** (block-scalar metrics :math:`M(w)`): any :mod:`certify.bounds` method — exact,
  sampled, interval, padded, refine, matrix-free; steps for projected Euler and RK4.
* **Mirror** (entropy-regularised normal-form games, ℓ1/KL geometry): exact global bounds
  :math:`\mu_i = \tau` and tangent couplings; mirror-descent steps.
* **Fisher** (entropy-regularised Markov games, the paper's pipeline): sampled bounds of the
  Fisher-normalised Jacobian on a logit box around the equilibrium; NPG steps.

All arithmetic is float64 (the pipeline enables x64 locally; spec-sgn-math §3, §6, §7).
"""

from __future__ import annotations

import math

import jax
import numpy as np

import sgn
from certify import bounds as bounds_lib
from certify._assemble import (
    MARGIN_TOL,
    Route,
    assemble,
    euclidean_steps,
    mirror_steps,
    natural_gradient_steps,
    refuse,
    tolerance_scale,
)
from certify._certificate import Certificate, Status
from certify._interval import NotEnclosable
from certify._weights import WEIGHT_METHODS
from certify.bounds._tabular import RESIDUAL_TOL, fisher_bounds, fisher_equilibrium, mirror_bounds, mirror_step_bounds
from games import Game, Region
from sgn import _checks

GEOMETRIES = ("euclidean", "mirror", "fisher")


def _check_region(game: Game, region) -> Region | None:
    if region is None:
        return None
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


def _sgn_decides(margin_tol: float):
    """The refine method's stopping rule: the comparison matrix certifies with these bounds."""

    def decided(bb) -> bool:
        if not (np.all(np.isfinite(bb.mu)) and np.all(bb.mu > 0)):
            return False
        return sgn.perron_value(bb.mu, bb.coupling) > margin_tol * tolerance_scale(bb)

    return decided


def _euclidean_route(game, region, method, *, margin_tol, progress, weights, seed) -> Route | Certificate:
    _checks.check_pseudo_gradient(game.pseudo_gradient, game.dim)
    try:
        bb = method(game, region, decide=_sgn_decides(margin_tol), progress=progress)
    except NotEnclosable as err:  # a sound method cannot enclose F as written: refuse, naming why
        recorded = (region or game.default_region()).to_dict()
        return refuse(game, status=Status.NOT_CERTIFIED, reason=f"{method.name} bounds cannot be proven: {err.reason}",
                      geometry="euclidean", region=recorded, bounds_kind=method.kind, n_points=0, weights=weights,
                      margin_tol=margin_tol, seed=seed, extra={**method.settings(), "not_enclosable": err.kind})
    recorded = None if bb.kind == "exact" else (region or game.default_region())
    return Route("euclidean", bb, recorded, euclidean_steps(game, recorded, bb), method.settings(), dict(bb.info))


def _not_applicable(game, spec, allowed: str) -> ValueError:
    name = spec if isinstance(spec, str) else getattr(spec, "name", type(spec).__name__)
    return ValueError(f"expected bounds {allowed} for the {game.geometry} geometry of {game.name!r}, got {name!r}")


def _mirror_route(game, region, spec) -> Route:
    if not (spec in ("auto", "exact") or isinstance(spec, bounds_lib.Exact)):
        raise _not_applicable(game, spec, "'auto' or 'exact' (the KL-geometry bounds are exact and global)")
    if region is not None:
        raise ValueError(f"expected no region for the mirror geometry of {game.name!r} (its bounds are global), "
                         f"got {region.to_dict()}")
    bb, extra = mirror_bounds(game)
    rule = mirror_step_bounds(float(game.data["tau"]), bb.coupling)
    extra["loop_gain"] = rule["loop_gain"]
    return Route("mirror", bb, None, mirror_steps(rule), bounds_lib.Exact().settings(), extra)


def _fisher_route(game, region, spec, *, n_samples, seed, margin_tol, weights):
    if isinstance(spec, bounds_lib.Sampled):
        n_samples, seed = spec.n_samples, spec.seed
    elif spec not in ("auto", "sampled"):
        raise _not_applicable(game, spec, "'auto' or 'sampled' (the paper's sampled Fisher bounds)")
    n_samples = 0 if n_samples is None else n_samples
    settings = bounds_lib.Sampled(n_samples=n_samples, seed=seed).settings()
    theta, res = fisher_equilibrium(game)
    if not res < RESIDUAL_TOL:
        return refuse(game, status=Status.NOT_CERTIFIED, reason=f"no stationary point found (residual {res:.3g})",
                      geometry="fisher", region=None, bounds_kind="sampled", n_points=0, weights=weights,
                      margin_tol=margin_tol, seed=seed, extra={**settings, "residual": res})
    fb = fisher_bounds(game, region, n_samples=n_samples, seed=seed, equilibrium=(theta, res))
    return Route("fisher", fb.bounds, fb.region, natural_gradient_steps, settings, fb.extra, fb.details)


def certify(game: Game, *, region=None, bounds="auto", weights: str = "perron", n_samples: int | None = None,
            seed: int = 0, margin_tol: float = MARGIN_TOL, subdivisions: int | None = None,
            progress: bool = False) -> Certificate:
    r"""Certifies (or refuses) convergence of gradient play on ``game`` over ``region``.

    .. math::

       \text{certified} \iff \alpha_*(w) = \lambda_{\min}(S(w)) > \text{tol}
       \quad\Rightarrow\quad \langle F(x) - F(y), M(w)(x - y)\rangle \ge
       \alpha_*\lVert x - y\rVert^2_{M(w)} \ \text{on } K .

    Args:
      game: a :class:`games.Game` (Euclidean, or a tabular game in the mirror/Fisher geometry).
      region: a :class:`games.Region` (or ``(lo, hi)``); default: the game's own region
        (affine games need none: their bounds are global).
      bounds: a :mod:`certify.bounds` method object, or its spelling ``"auto"``, ``"exact"``,
        ``"sampled"``, ``"interval"``, ``"padded"``, ``"refine"``, ``"matrix_free"``.
      weights: ``"perron"`` (closed form), ``"auto"``, ``"sdp"`` or ``"lp"``.
      n_samples: sample points of a spelled sampled / matrix-free method (default: the
        method's own; 0 extra points for the Fisher geometry, whose cube vertices are used).
      seed: sampling seed (same inputs and seed give a bit-identical certificate).
      margin_tol: relative tolerance applied against certifying.
      subdivisions: sub-boxes per coordinate of a spelled ``"interval"`` method.
      progress: progress bars on stderr for long bound computations.

    Returns:
      A :class:`Certificate`; ``status`` says certified / not_certified / invalid.

    Raises:
      TypeError, ValueError: for malformed arguments (never for a game that merely fails).

    Examples:
      >>> import games
      >>> c = certify(games.get_game("sgn-toy"))
      >>> c.status, round(c.margin, 6), [round(w, 6) for w in c.weights]
      (<Status.CERTIFIED: 'certified'>, 0.292893, [1.0, 200.0])
      >>> certify(games.get_game("coordination", tau=1.5)).geometry
      'mirror'
    """
    if not isinstance(game, Game):
        raise TypeError(f"expected a games.Game, got {type(game).__name__}")
    seed = _checks.check_nonnegative_int(seed, "seed")
    if n_samples is not None:
        n_samples = _checks.check_nonnegative_int(n_samples, "n_samples")
    if isinstance(margin_tol, bool) or not (isinstance(margin_tol, int | float) and margin_tol >= 0
                                            and math.isfinite(margin_tol)):
        raise ValueError(f"expected a finite margin_tol >= 0, got {margin_tol!r}")
    if weights not in WEIGHT_METHODS:
        raise ValueError(f"expected a weight method in {WEIGHT_METHODS}, got {weights!r}")
    if game.geometry not in GEOMETRIES:
        raise ValueError(f"expected a game geometry in {GEOMETRIES}, got {game.geometry!r}")
    reg = _check_region(game, region)
    with jax.enable_x64(True):
        if game.geometry == "mirror":
            route = _mirror_route(game, reg, bounds)
        elif game.geometry == "fisher":
            route = _fisher_route(game, reg, bounds, n_samples=n_samples, seed=seed, margin_tol=margin_tol,
                                  weights=weights)
        else:
            method = bounds_lib.resolve(bounds, game, n_samples=n_samples, seed=seed, subdivisions=subdivisions)
            route = _euclidean_route(game, reg, method, margin_tol=margin_tol, progress=progress, weights=weights,
                                     seed=seed)
        if isinstance(route, Certificate):
            return route
        return assemble(game, route, weights=weights, margin_tol=margin_tol, seed=seed, progress=progress)
