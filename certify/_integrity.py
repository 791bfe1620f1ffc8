"""Certificate integrity: rebuild the game from the file, recompute, compare field by field.

A certificate file names its game (registry name and parameters) and records a fingerprint
of it. :func:`check_certificate` rebuilds the game, checks the fingerprint, re-runs the same
pipeline with the recorded settings and seed, and reports the first field that disagrees
(tampering, or a certificate for a different game).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from certify._certificate import Certificate

NUMERIC_FIELDS = ("mu", "coupling", "block_norm", "lipschitz", "euclidean_margin", "gain",
                  "weights", "margin", "weighted_lipschitz", "euler_step", "euler_best_step",
                  "euler_factor", "rk4_step_guideline", "rk4_step", "rk4_guideline_factor", "band")
EXACT_FIELDS = ("status", "bounds_kind", "region", "weight_method", "geometry", "solver", "n_points", "reason")
MAX_SAMPLES = 1_000_000
"""Largest ``n_samples`` a certificate file may ask the recomputation for (a hand-edited file
must not make ``sgn verify`` run for hours)."""
MAX_SUBDIVISIONS = 64


@dataclasses.dataclass(frozen=True)
class IntegrityResult:
    """Outcome of :func:`check_certificate`.

    Attributes:
      consistent: every field matches the recomputation.
      message: the first disagreement (empty when consistent).
      game: the rebuilt game.
      recomputed: the recomputed certificate.
    """

    consistent: bool
    message: str
    game: object
    recomputed: Certificate | None


def _close(a, b, rtol):
    if a is None or b is None:
        return a is None and b is None
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        return False
    same_nan = np.isnan(a) & np.isnan(b)
    same_inf = np.isinf(a) & np.isinf(b) & (np.sign(a) == np.sign(b))
    ok = np.isclose(a, b, rtol=rtol, atol=rtol * 1e-3) | same_nan | same_inf
    return bool(np.all(ok))


def _bounded_int(value, name, lo, hi) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ValueError(f"expected an integer in [{lo}, {hi}] in field {name!r}, got {value!r}")
    return value


def check_certificate(cert: Certificate, *, rtol: float | None = None) -> IntegrityResult:
    """Recomputes ``cert`` from its game and reports whether every number follows.

    Args:
      cert: a certificate (e.g. read with :meth:`Certificate.from_json`).
      rtol: relative tolerance; default 1e-9 for the closed form, 1e-6 for cvxpy weights.

    Returns:
      :class:`IntegrityResult`.

    Raises:
      ValueError: if the game cannot be rebuilt (unknown name or parameters) or the recorded
        settings are malformed.
      TypeError: if ``cert`` is not a :class:`Certificate`.
    """
    import games  # noqa: PLC0415
    from certify._pipeline import certify  # noqa: PLC0415

    if not isinstance(cert, Certificate):
        raise TypeError(f"expected a Certificate, got {type(cert).__name__}")
    name = cert.game.get("name")
    params = cert.game.get("params", {})
    if not isinstance(params, dict):
        raise ValueError(f"expected game parameters as an object, got {type(params).__name__}")
    if name not in games.game_names():
        raise ValueError(f"expected a certificate for a registered game, got game name {name!r}")
    game = games.get_game(name, **params)
    if game.fingerprint() != cert.game.get("fingerprint"):
        return IntegrityResult(False, f"field 'game.fingerprint' is {cert.game.get('fingerprint')!r}"
                               f" but the game {name!r} with these parameters has {game.fingerprint()!r}",
                               game, None)
    if cert.game.get("dims") is not None and list(cert.game.get("dims")) != list(game.dims):
        return IntegrityResult(False, f"field 'game.dims' is {cert.game.get('dims')!r} but the game has "
                               f"{list(game.dims)!r}", game, None)
    extra = cert.extra or {}
    kwargs = {"seed": cert.seed, "margin_tol": cert.margin_tol}
    if cert.geometry == "euclidean":
        n_samples = _bounded_int(extra.get("n_samples", 1024), "extra.n_samples", 0, MAX_SAMPLES)
        subdivisions = _bounded_int(extra.get("subdivisions", 1), "extra.subdivisions", 1, MAX_SUBDIVISIONS)
        bounds = extra.get("bounds_method", cert.bounds_kind)
        if not isinstance(bounds, str):
            raise ValueError(f"expected a string in field 'extra.bounds_method', got {bounds!r}")
        kwargs.update(region=cert.region and games.Region.from_dict(cert.region),
                      bounds=bounds, weights=cert.weight_method, n_samples=n_samples,
                      subdivisions=subdivisions)
    fresh = certify(game, **kwargs)
    tol = rtol if rtol is not None else (1e-9 if cert.weight_method == "perron" else 1e-6)
    for field in EXACT_FIELDS:
        if getattr(fresh, field) != getattr(cert, field):
            return IntegrityResult(False, f"field {field!r} is {getattr(cert, field)!r} but recomputes to "
                                   f"{getattr(fresh, field)!r}", game, fresh)
    for field in NUMERIC_FIELDS:
        if not _close(getattr(cert, field), getattr(fresh, field), tol):
            return IntegrityResult(False, f"field {field!r} is {getattr(cert, field)!r} but recomputes to "
                                   f"{getattr(fresh, field)!r}", game, fresh)
    if not (isinstance(cert.margin_tol, float) and math.isfinite(cert.margin_tol)):
        return IntegrityResult(False, "field 'margin_tol' is not a finite number", game, fresh)
    return IntegrityResult(True, "", game, fresh)
