r"""The certify-and-refuse tail every route ends in: weights -> margin -> steps -> refusal -> certificate.

Given bounds :math:`\mu, L` on a region (in whatever geometry the route works in), choose block
weights :math:`w` maximising :math:`\alpha_*(w)` (:func:`certify.optimize_block_weights`), bound the
direct moduli at :math:`w = 1` and at those weights, and let :func:`certify._decision.decide` pick
the strongest test that passes its tolerance (applied *against* certifying, ``MARGIN_TOL``). On
success the route's step rule turns the chosen :math:`(\alpha, \beta(w))` into step sizes
(projected Euler :math:`h < 2\alpha/\beta^2` and RK4 in the Euclidean geometry, NPG in the Fisher
geometry, mirror descent :math:`h < 2/(\tau + \rho(L))` in the KL geometry); otherwise the reason
is named. Host float64.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

import certify.bounds._exact as _exact
import sgn
from certify._bound_types import BlockBounds
from certify._certificate import Bounds, Certificate, Settings, Status, Steps, Weights, encode_coupling
from certify._decision import DIRECT_EUCLIDEAN, MARGIN_TOL, decide
from certify._rounding import rounding_claim
from certify._weights import optimize_block_weights
from sgn._backend import is_sparse

NAN = math.nan


@dataclasses.dataclass(frozen=True)
class Route:
    r"""What a route (Euclidean, matrix-free, mirror, Fisher) hands to :func:`assemble`.

    Attributes:
      geometry: ``"euclidean"``, ``"mirror"`` or ``"fisher"``.
      bounds: the bounds in that geometry (``weighted_lipschitz`` gives its :math:`\beta(w)`).
      region: the region recorded in the certificate (``None``: global bounds).
      steps: ``(margin, beta, weights) -> (Steps, notes)`` for a certified margin; ``notes`` are
        JSON-able hypotheses of the steps (e.g. ``rk4_region``: the inner box where the RK4 step
        holds), recorded in the certificate's ``extra``.
      settings: how the bounds were obtained (recorded so that ``verify`` can recompute them).
      extra: JSON-able route details recorded in the certificate.
      details: optional ``weights -> dict`` of weight-dependent details.
    """

    geometry: str
    bounds: BlockBounds
    region: object
    steps: Callable
    settings: dict
    extra: dict = dataclasses.field(default_factory=dict)
    details: Callable | None = None


def _rk4_region(game, region, bounds: BlockBounds, step: float):
    r"""A step and an inner box on which every RK4 stage of every iterate stays in the bounded box.

    The RK4 factor rests on mean-value Jacobians between *stage* points, so it needs the stages
    :math:`x - \tfrac h2 F(x), \dots, x - hF(\cdot)` inside the box :math:`K` where the bounds hold.
    With :math:`G \ge \sup_K \lVert F\rVert_2` every stage of an iterate :math:`x` lies within
    :math:`hG` of :math:`x` (by induction over the four stages), so iterates in the inner box
    :math:`K_h = [lo + hG, hi - hG]` keep all stages in :math:`K`. We use
    :math:`G = \lVert F(c)\rVert_2 + L_F \lVert (hi - lo)/2\rVert_2` (:math:`c` the centre,
    :math:`L_F \ge \sup_K\lVert DF\rVert_2` the bounds' Lipschitz constant). When :math:`K_h` is
    empty the step is reduced until :math:`K_h` keeps half of each half-width (the RK4 factor is
    below one on the whole interval :math:`(0, h]`). Our own construction.

    Returns:
      ``(step, (lo, hi))``, or ``(0.0, None)`` when no finite :math:`G` is available.
    """
    half = 0.5 * (region.hi - region.lo)
    lip = bounds.lipschitz if np.isfinite(bounds.lipschitz) else bounds.weighted_lipschitz(np.ones(game.n_players))
    if bounds.center_value is not None:  # |F(c)| enclosed soundly (rounding included) by the bound method
        f_c = np.asarray(bounds.center_value, dtype=np.float64)
    elif bounds.kind == "sound":  # a sound claim needs a sound F(c): none was stored
        return 0.0, None
    else:
        with jax.enable_x64(True):
            f_c = np.abs(np.asarray(game.pseudo_gradient(jnp.asarray(region.center))))
    # hypot: no underflow of the squares (subnormal half-widths gave G = 0 and a division by 0)
    g = (math.hypot(*np.ravel(f_c).tolist()) + lip * math.hypot(*np.ravel(half).tolist())) * (1.0 + 1e-12)
    if not math.isfinite(g):
        return 0.0, None
    if g > 0.0 and g * step >= float(np.min(half)):  # G = 0: F vanishes on K, the stages never move
        step = min(step, 0.5 * float(np.min(half)) / g)
    shrink = step * g
    return step, (region.lo + shrink, region.hi - shrink)


def euclidean_steps(game, region=None, bounds: BlockBounds | None = None) -> Callable:
    """Projected Euler and RK4 steps in :math:`M(w)` (spec-sgn-math §6); exact RK4 factor for affine games.

    On a bounded region the rigorous RK4 step comes with the inner box on which it holds
    (:func:`_rk4_region`); global (affine) bounds need none.
    """

    def steps(margin, beta, weights) -> tuple[Steps, dict]:
        best = float(sgn.euler_best_step(margin, beta))
        guide = float(sgn.rk4_step_guideline(beta))
        factor = NAN
        if game.is_affine and game.dim <= _exact.SPARSE_DIM and not _exact.is_large(game.dim):
            factor = float(sgn.linear_step_norm(game.constant_jacobian, weights, game.dims, guide, scheme="rk4"))
        rk4, notes = float(sgn.rk4_step_bound(margin, beta)), {}
        if region is not None and rk4 > 0:
            rk4, box = _rk4_region(game, region, bounds, rk4)
            notes["rk4_region"] = None if box is None else {"lo": box[0].tolist(), "hi": box[1].tolist()}
        return Steps(float(sgn.euler_step_bound(margin, beta)), best,
                     float(sgn.euler_contraction_factor(best, margin, beta)), guide, rk4, factor), notes

    return steps


def natural_gradient_steps(margin, beta, weights) -> tuple[Steps, dict]:
    r"""NPG steps :math:`\eta < 2\alpha/\beta^2` in the Fisher metric (no RK4 claim)."""
    best = float(sgn.euler_best_step(margin, beta))
    factor = float(sgn.euler_contraction_factor(best, margin, beta))
    return Steps(float(sgn.euler_step_bound(margin, beta)), best, factor), {}


def mirror_steps(rule: dict) -> Callable:
    """Mirror-descent steps from the log-ratio comparison system (``mirror_step_bounds`` output)."""

    def steps(margin, beta, weights) -> tuple[Steps, dict]:
        return Steps(float(rule["step_bound"]), float(rule["step"]), float(rule["contraction_factor"])), {}

    return steps


def refusal_reason(bounds: BlockBounds, gain: float, margin: float, tol: float) -> str:
    """One line on why a margin does not certify: a non-positive curvature, the loop gain, the tolerance."""
    bad = [i for i, m in enumerate(bounds.mu) if not m > 0]
    if bad:
        i = bad[0]
        return (f"player {i + 1} has curvature bound mu_{i + 1} = {bounds.mu[i]:.6g} <= 0: "
                "no block weights can make F strongly monotone")
    if gain >= 1:
        return f"small-gain condition fails: rho(D^-1 L) = {gain:.6g} >= 1"
    return (f"margin alpha = {margin:.6g} is within the tolerance {tol:.3g} of zero: "
            "refused conservatively")


def _weight_route(wres) -> str:
    """Which algorithm produced the weights."""
    if wres.method != "perron":
        return f"cvxpy {wres.method} bisection"
    return "Perron closed form, sparse Noda iteration" if "sparse" in wres.reason else "Perron closed form, dense"


def issue(game, *, status: Status, reason: str, region, bounds: Bounds, weights: Weights, settings: Settings,
          steps: Steps | None = None, proved_by: str = "", margin: float = NAN, sgn_margin: float = NAN,
          extra: dict | None = None) -> Certificate:
    """The one place a :class:`Certificate` is built (every route, certified or refused, ends here)."""
    return Certificate(status=status, reason=reason, proved_by=proved_by, margin=float(margin),
                       sgn_margin=float(sgn_margin), game=game.describe(), region=region, bounds=bounds,
                       weights=weights, steps=steps or Steps(), settings=settings, extra=dict(extra or {}))


def refuse(game, *, status: Status, reason: str, geometry: str, region, bounds_kind: str, n_points: int,
           weight_method: str, margin_tol: float, seed: int, extra: dict | None = None) -> Certificate:
    """A certificate with no usable bounds: ``invalid`` (bad numbers) or ``not_certified`` (nothing to bound).

    Every number is NaN, the weights are ones and no step is certified.
    """
    n = game.n_players
    return issue(game, status=status, reason=reason, region=region,
                 bounds=Bounds.unavailable(n, bounds_kind, n_points), weights=Weights([1.0] * n, weight_method),
                 settings=Settings(geometry, float(margin_tol), int(seed)), extra=extra)


def _finite(bb: BlockBounds) -> bool:
    """The bounds a certificate rests on are numbers (a NaN Lipschitz constant means "not computed")."""
    coupling = bb.coupling.data if is_sparse(bb.coupling) else bb.coupling
    return bool(np.all(np.isfinite(bb.mu)) and np.all(np.isfinite(coupling)) and not np.isinf(bb.lipschitz))


def _unusable(bb: BlockBounds) -> tuple[Status, str]:
    """Status and reason for bounds that are not all finite.

    NaN means ``F`` is (or, for sound bounds, may be) NaN somewhere on the region: the input is
    invalid. An infinite *sound* bound only says the enclosure is unbounded (e.g. the derivative
    of ``sqrt`` at 0): nothing is proved, but the game is not shown invalid.
    """
    coupling = bb.coupling.data if is_sparse(bb.coupling) else bb.coupling
    has_nan = bool(np.any(np.isnan(bb.mu)) or np.any(np.isnan(coupling)))
    if bb.kind == "sound" and not has_nan:
        return Status.NOT_CERTIFIED, bb.reason or "the sound Jacobian enclosure is unbounded on the region"
    return Status.INVALID, bb.reason or "the game's F or Jacobian is NaN/Inf at a point of the region"


def _band(bb: BlockBounds):
    lo, hi = (float(v) for v in sgn.timescale_band(bb.mu, bb.coupling))
    return None if math.isnan(lo) else [lo, hi]


def assemble(game, route: Route, *, weight_method: str = "perron", margin_tol: float = MARGIN_TOL,
             seed: int = 0, progress: bool = False, strongest: bool = True) -> Certificate:
    """Turns a route's bounds into a certificate: the one place where "certified" is decided.

    Args:
      game: the :class:`games.Game`.
      route: the route's bounds, region, step rule and details.
      weight_method: weight method for :func:`certify.optimize_block_weights`.
      margin_tol: relative tolerance against certifying.
      seed: seed recorded in the certificate.
      progress: a progress bar on stderr for the weights of many players.
      strongest: report the strongest passing test (``False``: the rule of version-1 files,
        see :func:`certify._decision.decide`).

    Returns:
      :class:`certify.Certificate` (``invalid`` when the bounds are not finite).
    """
    bb = route.bounds
    region = None if route.region is None else route.region.to_dict()
    extra = {**route.settings, **route.extra}
    if not _finite(bb):
        status, reason = _unusable(bb)
        return refuse(game, status=status, reason=reason, geometry=route.geometry,
                      region=region, bounds_kind=bb.kind, n_points=bb.n_points, weight_method=weight_method,
                      margin_tol=margin_tol, seed=seed, extra=extra)
    wres = optimize_block_weights(bb.mu, bb.coupling, weight_method=weight_method, progress=progress)
    w = np.asarray(wres.weights, dtype=np.float64)
    gain = float(sgn.small_gain_ratio(bb.mu, bb.coupling))
    at_sgn = bb.at_weights(w)  # beta(w) and the direct modulus at the SGN weights, one pass
    margins = [float(wres.margin), float(bb.euclidean_margin), at_sgn.margin]
    decision = decide([margins], bb.mu, bb.coupling, margin_tol=margin_tol, weights_ok=wres.ok,
                      strongest=strongest)
    test, certified = str(decision.proved_by[0]), bool(decision.certified[0])
    ones = np.ones(bb.n_players)
    chosen = ones if test == DIRECT_EUCLIDEAN else w
    margin = float(decision.margin[0])
    beta = bb.weighted_lipschitz(ones) if test == DIRECT_EUCLIDEAN else at_sgn.lipschitz
    extra["weight_route"] = _weight_route(wres)
    extra["direct_margin"] = at_sgn.margin
    sgn_passed = bool(decision.passed[0, 0])
    reason = ""
    if not sgn_passed:
        reason = (refusal_reason(bb, gain, float(wres.margin), float(decision.tol[0])) if wres.ok
                  else f"weight optimisation failed ({wres.method}: {wres.status})")
    if certified and reason:
        extra["sgn_refusal"] = reason
    if not certified:
        reason += (f"; direct tests: lambda_min(sym DF) >= {_num(bb.euclidean_margin)}, at the SGN weights "
                   f">= {_num(at_sgn.margin)}")
    else:
        reason = ""
    steps, notes = route.steps(margin, beta, chosen) if certified else (Steps(), {})
    if certified:  # issue 19: the floating-point claim (certify._rounding)
        more, refusal = rounding_claim(bb, step=steps.euler_best_step, factor=steps.euler_factor, weights=chosen,
                                       region=region)  # fmt: skip
        extra.update(more)
        if refusal:
            certified, reason, steps, notes, test = False, refusal, Steps(), {}, ""
    extra.update(notes)
    band = _band(bb) if sgn_passed and game.n_players == 2 else None
    if route.details is not None:
        extra.update(route.details(chosen))
    bounds = Bounds(bb.kind, np.asarray(bb.mu, float).tolist(), encode_coupling(bb.coupling),
                    np.asarray(bb.block_norm, float).tolist(), float(bb.lipschitz), float(beta),
                    float(bb.euclidean_margin), gain, int(bb.n_points))
    return issue(game, status=Status.CERTIFIED if certified else Status.NOT_CERTIFIED, reason=reason, region=region,
                 bounds=bounds, weights=Weights(np.asarray(chosen, float).tolist(), weight_method, wres.solver, band),
                 steps=steps, settings=Settings(route.geometry, float(margin_tol), int(seed)), proved_by=test,
                 margin=margin, sgn_margin=float(wres.margin), extra=extra)


def _num(x) -> str:
    return f"{x:.6g}" if math.isfinite(x) else "unavailable"
