"""Wraps the mirror/Fisher certificate of :mod:`certify._mirror` into a :class:`Certificate`.

Entropy-regularised games are certified in the KL (mirror) or Fisher geometry rather than a
block-scalar Euclidean metric (spec-sgn-math §7); the margin, weights and band have the same
meaning there, and the step is a mirror-descent / natural-policy-gradient step. The fields with
no counterpart in that geometry (Euclidean margin, RK4 steps) are NaN / 0, and the
geometry-specific details (equilibrium, Lyapunov function, Riemannian bounds) go to ``extra``.
"""

from __future__ import annotations

import math

import numpy as np

import sgn
from certify._certificate import CERTIFIED, NOT_CERTIFIED, Certificate

_MAPPED = {"status", "reason", "geometry", "bounds", "n_points", "mu", "coupling", "weights",
           "margin", "beta", "band", "step_bound", "step", "contraction_factor", "region"}


def _num(x, default=math.nan):
    return default if x is None else float(x)


def certify_tabular(game, *, region=None, seed: int = 0, margin_tol: float = 1e-9) -> Certificate:
    """Certificate of a tabular (matrix or Markov) game in its mirror/Fisher geometry."""
    from certify._mirror import certify_mirror  # noqa: PLC0415

    d = certify_mirror(game, region=region)
    n = game.n_players
    nan = math.nan
    status = d["status"]
    mu = d.get("mu") or [nan] * n
    coupling = d.get("coupling") or [[nan] * n for _ in range(n)]
    margin = _num(d.get("margin"))
    scale = max([1.0, *np.abs(np.asarray(mu, float)).tolist(),
                 *np.abs(np.asarray(coupling, float)).ravel().tolist()])
    reason = d.get("reason", "")
    if status == CERTIFIED and not margin > margin_tol * scale:
        status = NOT_CERTIFIED
        reason = f"margin alpha = {margin:.6g} is within the tolerance of zero: refused conservatively"
    elif status == CERTIFIED:
        reason = ""
    gain = d.get("loop_gain")
    if gain is None and status != "invalid" and np.all(np.isfinite(mu)):
        gain = sgn.small_gain_ratio(np.asarray(mu, float), np.asarray(coupling, float))
    band = d.get("band")
    if band is not None:
        band = [_num(band[0]), _num(band[1], math.inf)]
    certified = status == CERTIFIED
    extra = {k: v for k, v in d.items() if k not in _MAPPED}
    return Certificate(
        status=status, reason=reason, game=game.describe(), region=d.get("region"),
        bounds_kind=d.get("bounds") or "sampled", mu=[float(v) for v in mu],
        coupling=[[float(v) for v in row] for row in coupling], block_norm=[nan] * n,
        lipschitz=nan, euclidean_margin=nan, gain=_num(gain), weights=d.get("weights") or [1.0] * n,
        margin=margin, weighted_lipschitz=_num(d.get("beta")),
        euler_step=_num(d.get("step_bound"), 0.0) if certified else 0.0,
        euler_best_step=_num(d.get("step"), 0.0) if certified else 0.0,
        euler_factor=_num(d.get("contraction_factor")) if certified else nan,
        rk4_step_guideline=0.0, rk4_step=0.0, rk4_guideline_factor=nan,
        band=band if certified else None, weight_method="perron", solver=None,
        margin_tol=float(margin_tol), n_points=int(d.get("n_points") or 0), seed=int(seed),
        geometry=d.get("geometry", game.geometry), extra=extra)
