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
from certify._assemble import Route, assemble, euclidean_steps, mirror_steps, natural_gradient_steps, refuse
from certify._certificate import Certificate, Status
from certify._decision import MARGIN_TOL, decide
from certify._interval import NotEnclosable
from certify._weights import WEIGHT_METHODS
from certify.bounds._methods import as_region
from certify.bounds._tabular import RESIDUAL_TOL, fisher_bounds, fisher_equilibrium, mirror_bounds, mirror_step_bounds
from games import Game
from sgn import _checks

GEOMETRIES = ("euclidean", "mirror", "fisher")


def _sgn_decides(margin_tol: float):
    """The refine method's stopping rule: the small-gain test passes with these bounds."""

    def decided(bb) -> bool:
        if not (np.all(np.isfinite(bb.mu)) and np.all(bb.mu > 0)):
            return False
        margins = [[sgn.perron_value(bb.mu, bb.coupling), math.nan, math.nan]]
        return bool(decide(margins, bb.mu, bb.coupling, margin_tol=margin_tol).certified[0])

    return decided


def _euclidean_route(game, region, method, *, margin_tol, progress, weight_method) -> Route | Certificate:
    _checks.check_pseudo_gradient(game.pseudo_gradient, game.dim)
    try:
        bb = method(game, region, decide=_sgn_decides(margin_tol), progress=progress)
    except NotEnclosable as err:  # a sound method cannot enclose F as written: refuse, naming why
        recorded = (region or game.default_region()).to_dict()
        return refuse(game, status=Status.NOT_CERTIFIED, reason=f"{method.name} bounds cannot be proven: {err.reason}",
                      geometry="euclidean", region=recorded, bounds_kind=method.kind, n_points=0,
                      weight_method=weight_method, margin_tol=margin_tol, seed=_seed(method),
                      extra={**method.settings(), "not_enclosable": err.kind})
    recorded = None if bb.kind == "exact" else (region or game.default_region())
    return Route("euclidean", bb, recorded, euclidean_steps(game, recorded, bb), method.settings(), dict(bb.info))


def _mirror_route(game, method) -> Route:
    bb, extra = mirror_bounds(game)
    rule = mirror_step_bounds(float(game.data["tau"]), bb.coupling)
    extra["loop_gain"] = rule["loop_gain"]
    return Route("mirror", bb, None, mirror_steps(rule), method.settings(), extra)


def _fisher_route(game, region, method, *, margin_tol, weight_method):
    theta, res = fisher_equilibrium(game)
    if not res < RESIDUAL_TOL:
        return refuse(game, status=Status.NOT_CERTIFIED, reason=f"no stationary point found (residual {res:.3g})",
                      geometry="fisher", region=None, bounds_kind="sampled", n_points=0, weight_method=weight_method,
                      margin_tol=margin_tol, seed=method.seed, extra={**method.settings(), "residual": res})
    fb = fisher_bounds(game, region, n_samples=method.n_samples, seed=method.seed, equilibrium=(theta, res))
    return Route("fisher", fb.bounds, fb.region, natural_gradient_steps, method.settings(), fb.extra, fb.details)


def _seed(method) -> int:
    """The sampling seed recorded in the certificate (0 for methods that draw no random numbers)."""
    return int(getattr(method, "seed", 0))


def _check_arguments(game, weight_method, margin_tol) -> None:
    if not isinstance(game, Game):
        raise TypeError(f"expected a games.Game, got {type(game).__name__}")
    if isinstance(margin_tol, bool) or not (isinstance(margin_tol, int | float) and margin_tol >= 0
                                            and math.isfinite(margin_tol)):
        raise ValueError(f"expected a finite margin_tol >= 0, got {margin_tol!r}")
    if weight_method not in WEIGHT_METHODS:
        raise ValueError(f"expected a weight method in {WEIGHT_METHODS}, got {weight_method!r}")
    if game.geometry not in GEOMETRIES:
        raise ValueError(f"expected a game geometry in {GEOMETRIES}, got {game.geometry!r}")


def run(game: Game, *, region=None, bounds="auto", weight_method: str = "perron", margin_tol: float = MARGIN_TOL,
        progress: bool = False, strongest: bool = True) -> Certificate:
    """:func:`certify` with the choice of decision rule (``strongest=False``: version-1 certificates).

    Used by :func:`certify.check_certificate` to recompute files written before the strongest
    test was reported (:func:`certify._decision.decide`).
    """
    _check_arguments(game, weight_method, margin_tol)
    reg = as_region(game, region, default=False)
    method = bounds_lib.resolve(bounds, game, region=reg)
    with jax.enable_x64(True):
        if method.geometry == "mirror":
            route = _mirror_route(game, method)
        elif method.geometry == "fisher":
            route = _fisher_route(game, reg, method, margin_tol=margin_tol, weight_method=weight_method)
        else:
            route = _euclidean_route(game, reg, method, margin_tol=margin_tol, progress=progress,
                                    weight_method=weight_method)
        if isinstance(route, Certificate):
            return route
        return assemble(game, route, weight_method=weight_method, margin_tol=margin_tol, seed=_seed(method),
                        progress=progress, strongest=strongest)


def certify(game: Game, *, region=None, bounds="auto", weight_method: str = "perron", margin_tol: float = MARGIN_TOL,
            progress: bool = False) -> Certificate:
    r"""Certifies (or refuses) convergence of gradient play on ``game`` over ``region``.

    .. math::

       \text{certified} \iff \alpha(w) > \text{tol}
       \quad\Rightarrow\quad \langle F(x) - F(y), M(w)(x - y)\rangle \ge
       \alpha\lVert x - y\rVert^2_{M(w)} \ \text{on } K ,

    where :math:`\alpha(w)` is the margin of the strongest test that passes: the small-gain test
    at the optimal weights, or the direct test at :math:`w = 1` or at those weights
    (:mod:`certify._decision`); ``proved_by`` names it.

    Args:
      game: a :class:`games.Game` (Euclidean, or a tabular game in the mirror/Fisher geometry).
      region: a :class:`games.Region` (or ``(lo, hi)``); default: the game's own region
        (global bounds, of affine and mirror games, take none).
      bounds: a :mod:`certify.bounds` method object (its settings: sample points, seed,
        subdivisions, ...), or its spelling ``"auto"``, ``"exact"``, ``"sampled"``,
        ``"interval"``, ``"padded"``, ``"refine"``, ``"matrix_free"``, ``"mirror"``, ``"fisher"``
        (with the method's default settings; :func:`certify.bounds.resolve` checks that it applies).
      weight_method: ``"perron"`` (closed form), ``"auto"``, ``"sdp"`` or ``"lp"``.
      margin_tol: relative tolerance applied against certifying.
      progress: progress bars on stderr for long bound computations.

    Returns:
      A :class:`Certificate`; ``status`` says certified / not_certified / invalid.

    Raises:
      TypeError, ValueError: for malformed arguments or options that do not apply to the game
        (never for a game that merely fails).

    Examples:
      >>> import games
      >>> from certify.bounds import Sampled
      >>> c = certify(games.get_game("sgn-toy"))
      >>> c.status, round(c.margin, 6), [round(w, 6) for w in c.weights.values], c.proved_by
      (<Status.CERTIFIED: 'certified'>, 0.292893, [1.0, 200.0], 'small-gain')
      >>> certify(games.get_game("coordination", tau=1.5)).settings.geometry
      'mirror'
      >>> certify(games.get_game("tanh-sin"), bounds=Sampled(n_samples=64, seed=1)).settings.seed
      1
    """
    return run(game, region=region, bounds=bounds, weight_method=weight_method, margin_tol=margin_tol,
               progress=progress)
