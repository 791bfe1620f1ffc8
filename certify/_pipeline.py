"""The certification pipeline: bounds -> weights -> margin -> step sizes -> certificate.

Given a game and a region :math:`K`, estimate :math:`\\mu_i, L_{ij}` on :math:`K`, choose
weights :math:`w` maximising :math:`\\alpha_*(w)`, and certify when :math:`\\alpha_*(w)` exceeds a
small tolerance (applied *against* certifying, so near-threshold games are refused). On success
the flow contracts in :math:`\\lVert\\cdot\\rVert_{M(w)}` at rate :math:`\\alpha_*`, and projected
Euler with :math:`0 < h < 2\\alpha_*/\\beta^2` contracts by :math:`q_E(h)` per step
(spec-sgn-math §3, §6). All arithmetic is float64 (the pipeline enables x64 locally).
"""

from __future__ import annotations

import math

import jax
import numpy as np

import sgn
from certify import _exact_large
from certify._bound_types import BlockBounds
from certify._bounds import _check_game, _resolve_region, estimate_block_bounds
from certify._certificate import CERTIFIED, INVALID, NOT_CERTIFIED, Certificate
from certify._optimize import optimize_block_weights
from games import Game
from sgn import _checks
from sgn._weights import DENSE_MAX_PLAYERS

MARGIN_TOL = 1e-9
"""Relative tolerance against certifying: certified iff ``margin > MARGIN_TOL * scale``."""


def _scale(bounds: BlockBounds) -> float:
    vals = [1.0, *np.abs(bounds.mu).tolist(), *np.abs(bounds.coupling).ravel().tolist()]
    return float(max(vals))


LARGE_EXACT_DIM = 256
"""Above this joint dimension, norms of constant Jacobians use sparse iterative solvers."""


def _sparse_weighted_norm(jac, weights, dims) -> float:
    """:math:`\\lVert M^{1/2} J M^{-1/2}\\rVert_2` by ARPACK, padded by its tolerance."""
    import scipy.sparse as sp  # noqa: PLC0415
    from scipy.sparse.linalg import ArpackError, ArpackNoConvergence, svds  # noqa: PLC0415

    s = np.repeat(np.sqrt(np.asarray(weights, dtype=np.float64)), dims)
    scaled = sp.csr_matrix(s[:, None] * np.asarray(jac) / s[None, :])
    try:
        top = svds(scaled, k=1, tol=1e-12, return_singular_vectors=False, v0=np.ones(scaled.shape[1]))
        return float(np.max(top)) * (1 + 1e-9)
    except (ArpackNoConvergence, ArpackError):
        return float(np.linalg.norm(scaled.toarray(), 2))


def _weighted_lipschitz(game: Game, region, bounds: BlockBounds, weights, *, n_samples, seed,
                        bounds_method="auto", subdivisions=1, boxes=None):
    block = float(sgn.block_lipschitz_bound(bounds.block_norm, bounds.coupling, weights))
    if bounds.kind == "exact" and _exact_large.is_large(game.dim):
        return block  # a d x d SVD takes minutes at d = 1e4; the block bound is an upper bound
    if bounds.kind == "exact" and game.dim > LARGE_EXACT_DIM:
        return min(block, _sparse_weighted_norm(game.constant_jacobian, weights, game.dims))
    if bounds.kind == "exact":
        return float(sgn.weighted_lipschitz(game.constant_jacobian, weights, game.dims))
    if bounds_method == "matrix_free":
        from certify._matrix_free import matrix_free_weighted_lipschitz, region_points  # noqa: PLC0415

        points = region_points(region, n_samples=n_samples, seed=seed)
        return matrix_free_weighted_lipschitz(game, points, weights, seed=seed)
    if bounds.kind == "sampled":
        from certify._bounds import sampled_weighted_lipschitz  # noqa: PLC0415

        return sampled_weighted_lipschitz(game, region, weights, n_samples=n_samples, seed=seed)
    # sound: the same boxes as the bounds, worst case over boxes (never the hull)
    from certify._interval._matrix import interval_weighted_lipschitz  # noqa: PLC0415
    from certify.bounds._sound import _evaluate, interval_jacobian_grid  # noqa: PLC0415

    if boxes is not None:
        jlo, jhi = _evaluate(game.pseudo_gradient, boxes[0], boxes[1], assume_continuous=False)
    else:
        _, _, jlo, jhi = interval_jacobian_grid(game.pseudo_gradient, region.lo, region.hi,
                                                subdivisions=subdivisions)
    sound = float(interval_weighted_lipschitz(np.asarray(jlo), np.asarray(jhi), game.dims, weights))
    return min(block, sound)


def _refined_bounds(game: Game, region, *, margin_tol: float):
    """Sound bounds tightened by branch and bound until SGN certifies or the budget is spent."""
    from certify.bounds._sound import refine_block_bounds  # noqa: PLC0415

    if region is None:
        raise ValueError(f"expected a compact region for refine bounds on {game.name!r}, got none")

    def decided(bb: BlockBounds) -> bool:
        if not (np.all(np.isfinite(bb.mu)) and np.all(bb.mu > 0)):
            return False
        return sgn.perron_value(bb.mu, bb.coupling) > margin_tol * _scale(bb)

    bb, record = refine_block_bounds(game.pseudo_gradient, region.lo, region.hi, game.dims,
                                     decide=decided)
    return bb, (np.asarray(record.box_lo), np.asarray(record.box_hi))


def _weight_route(method: str, n_players: int) -> str:
    """Which algorithm produced the weights (the closed form switches route with the size)."""
    if method != "perron":
        return f"cvxpy {method} bisection"
    if n_players > DENSE_MAX_PLAYERS:
        return "Perron closed form, sparse Noda iteration"
    return "Perron closed form, dense"


def _invalid(game, region, bounds, reason, *, weight_method, seed, margin_tol):
    n = game.n_players
    nan = float("nan")
    return Certificate(
        status=INVALID, reason=reason, game=game.describe(),
        region=None if region is None else region.to_dict(), bounds_kind=bounds.kind,
        mu=[nan] * n, coupling=[[nan] * n for _ in range(n)], block_norm=[nan] * n,
        lipschitz=nan, euclidean_margin=nan, gain=nan, weights=[1.0] * n, margin=nan,
        weighted_lipschitz=nan, euler_step=0.0, euler_best_step=0.0, euler_factor=nan,
        rk4_step_guideline=0.0, rk4_step=0.0, rk4_guideline_factor=nan, band=None,
        weight_method=weight_method, solver=None, margin_tol=margin_tol,
        n_points=int(bounds.n_points), seed=int(seed))


def _refusal_reason(bounds: BlockBounds, gain: float, margin: float, tol: float) -> str:
    bad = [i for i, m in enumerate(bounds.mu) if not m > 0]
    if bad:
        i = bad[0]
        return (f"player {i + 1} has curvature bound mu_{i + 1} = {bounds.mu[i]:.6g} <= 0: "
                "no block weights can make F strongly monotone")
    if gain >= 1:
        return f"small-gain condition fails: rho(D^-1 L) = {gain:.6g} >= 1"
    return (f"margin alpha = {margin:.6g} is within the tolerance {tol:.3g} of zero: "
            "refused conservatively")


def certify(game: Game, *, region=None, bounds: str = "auto", weights: str = "perron",
            n_samples: int = 1024, seed: int = 0, margin_tol: float = MARGIN_TOL,
            subdivisions: int = 1, progress: bool = False) -> Certificate:
    """Certifies (or refuses) convergence of gradient play on ``game`` over ``region``.

    Args:
      game: a :class:`games.Game`.
      region: a :class:`games.Region` (or ``(lo, hi)``); default: the game's own region
        (affine games need none: their bounds are global).
      bounds: ``"auto"``, ``"exact"``, ``"sampled"``, ``"interval"``, ``"padded"``,
        ``"refine"`` (interval bounds tightened by branch and bound until SGN certifies or the
        budget is spent) or ``"matrix_free"``.
      weights: ``"perron"``, ``"sdp"`` or ``"lp"``.
      n_samples: sample points for sampled bounds.
      seed: sampling seed (same inputs and seed give a bit-identical certificate).
      margin_tol: relative tolerance applied against certifying.
      subdivisions: sub-boxes per coordinate for interval bounds.
      progress: show progress bars on stderr for long bound computations.

    Returns:
      A :class:`Certificate`; ``status`` says certified / not_certified / invalid.

    Raises:
      TypeError, ValueError: for malformed arguments (never for a game that merely fails).

    Examples:
      >>> import games
      >>> c = certify(games.get_game("sgn-toy"))
      >>> c.status, round(c.margin, 6), [round(w, 6) for w in c.weights]
      ('certified', 0.292893, [1.0, 200.0])
    """
    _check_game(game)
    seed = _checks.check_nonnegative_int(seed, "seed")
    n_samples = _checks.check_nonnegative_int(n_samples, "n_samples")
    if not (isinstance(margin_tol, int | float) and margin_tol >= 0 and math.isfinite(margin_tol)):
        raise ValueError(f"expected a finite margin_tol >= 0, got {margin_tol!r}")
    with jax.enable_x64(True):
        if game.geometry != "euclidean":
            from certify._mirror_adapter import certify_tabular  # noqa: PLC0415

            return certify_tabular(game, region=region, seed=seed, margin_tol=margin_tol)
        return _certify_euclidean(game, region=region, bounds=bounds, weights=weights,
                                  n_samples=n_samples, seed=seed, margin_tol=margin_tol,
                                  subdivisions=subdivisions, progress=progress)


def _certify_euclidean(game, *, region, bounds, weights, n_samples, seed, margin_tol, subdivisions,
                       progress):
    _checks.check_pseudo_gradient(game.pseudo_gradient, game.dim)
    reg = _resolve_region(game, region)
    refined_boxes = None
    if bounds == "refine":
        bb, refined_boxes = _refined_bounds(game, reg, margin_tol=margin_tol)
    else:
        bb = estimate_block_bounds(game, reg, method=bounds, n_samples=n_samples, seed=seed,
                                   subdivisions=subdivisions, progress=progress)
    finite = (np.all(np.isfinite(bb.mu)) and np.all(np.isfinite(bb.coupling))
              and np.isfinite(bb.lipschitz))
    if not finite:
        return _invalid(game, reg, bb, "the game's F or Jacobian is NaN/Inf at a point of the region",
                        weight_method=weights, seed=seed, margin_tol=margin_tol)
    wres = optimize_block_weights(bb.mu, bb.coupling, method=weights)
    w = np.asarray(wres.weights, dtype=np.float64)
    margin = float(wres.margin)
    gain = sgn.small_gain_ratio(bb.mu, bb.coupling)
    tol = margin_tol * _scale(bb)
    certified = margin > tol and wres.status == "optimal"
    beta = float(_weighted_lipschitz(game, reg, bb, w, n_samples=n_samples, seed=seed,
                                     bounds_method=bounds, subdivisions=subdivisions,
                                     boxes=refined_boxes))
    nan = float("nan")
    if certified:
        euler = float(sgn.euler_step_bound(margin, beta))
        best = float(sgn.euler_best_step(margin, beta))
        factor = float(sgn.euler_contraction_factor(best, margin, beta))
        guide = float(sgn.rk4_step_guideline(beta))
        rk4 = float(sgn.rk4_step_bound(margin, beta))
        guide_factor = (float(sgn.linear_step_norm(game.constant_jacobian, w, game.dims, guide,
                                                   scheme="rk4"))
                        if game.is_affine and game.dim <= LARGE_EXACT_DIM
                        and not _exact_large.is_large(game.dim) else nan)
        reason = ""
    else:
        euler = best = guide = rk4 = 0.0
        factor = guide_factor = nan
        reason = (_refusal_reason(bb, gain, margin, tol) if wres.status == "optimal"
                  else f"weight optimisation failed ({wres.method}: {wres.status})")
    band = None
    if game.n_players == 2:
        lo, hi = sgn.timescale_band(bb.mu, bb.coupling)
        lo, hi = float(lo), float(hi)
        band = [lo, hi] if certified and not math.isnan(lo) else None
    return Certificate(
        status=CERTIFIED if certified else NOT_CERTIFIED, reason=reason, game=game.describe(),
        region=None if (reg is None or bb.kind == "exact") else reg.to_dict(),
        bounds_kind=bb.kind, mu=np.asarray(bb.mu, float).tolist(),
        coupling=np.asarray(bb.coupling, float).tolist(),
        block_norm=np.asarray(bb.block_norm, float).tolist(), lipschitz=float(bb.lipschitz),
        euclidean_margin=float(bb.euclidean_margin), gain=float(gain), weights=w.tolist(),
        margin=margin, weighted_lipschitz=beta, euler_step=euler, euler_best_step=best,
        euler_factor=factor, rk4_step_guideline=guide, rk4_step=rk4,
        rk4_guideline_factor=guide_factor, band=band, weight_method=wres.method,
        solver=wres.solver, margin_tol=float(margin_tol), n_points=int(bb.n_points),
        seed=int(seed), extra={"bounds_method": bounds, "n_samples": int(n_samples),
                               "weight_route": _weight_route(wres.method, game.n_players),
                               "subdivisions": int(subdivisions)})
