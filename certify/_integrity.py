"""Certificate integrity: rebuild the game from the file, recompute, compare field by field.

A certificate file names its game (registry name and parameters, or for a game defined in a
file the file's path or module, the factory's parameters and the file's SHA-256) and records a
fingerprint of it. :func:`check_certificate` rebuilds the game (:func:`games.rebuild_game`, which
refuses a definition file that changed), checks the fingerprint, re-runs the same
pipeline with the recorded settings and seed, and reports the first field that disagrees
(tampering, or a certificate for a different game).
"""

from __future__ import annotations

import dataclasses
import enum
import math

import numpy as np

import games
from certify import _status
from certify._certificate import Certificate, Steps, sparse_parts
from certify._pipeline import run
from certify._status import Status
from certify.bounds._methods import METHODS, resolve
from games._registry import check_memory

NUMERIC_FIELDS = ("bounds.mu", "bounds.coupling", "bounds.block_norm", "bounds.lipschitz", "bounds.euclidean_margin",
                  "bounds.gain", "weights.values", "margin", "sgn_margin", "bounds.weighted_lipschitz",
                  *(f"steps.{f.name}" for f in dataclasses.fields(Steps)), "weights.band")
"""Fields (dotted paths, :meth:`Certificate.value`) that must recompute to within the tolerance."""
EXACT_FIELDS = ("status", "bounds.kind", "region", "weights.method", "settings.geometry", "weights.solver",
                "bounds.n_points", "reason", "proved_by")
"""Fields that must recompute exactly."""
SETTING_LIMITS = {"n_samples": 1_000_000, "seed": 2**63 - 1, "subdivisions": 64, "grid": 64, "max_rounds": 64,
                  "max_boxes": 1_000_000, "iterations": 1000, "tighten_rounds": 64}
"""Largest value of each recorded integer setting a certificate file may ask the recomputation for
(a hand-edited file must not make ``sgn verify`` run for hours)."""
MAX_DIM = 10**7
"""Largest joint dimension a certificate may record (the memory estimate then decides)."""


@dataclasses.dataclass(frozen=True)
class IntegrityResult:
    """Outcome of :func:`check_certificate`.

    Attributes:
      status: :class:`certify.Status` ``consistent`` when every field matches the recomputation,
        else ``inconsistent`` (``consistent`` says the same as a bool).
      message: the first disagreement (empty when consistent).
      game: the rebuilt game.
      recomputed: the recomputed certificate.

    Examples:
      >>> import certify, games
      >>> r = check_certificate(certify.certify(games.get_game("sgn-toy")))
      >>> r.consistent, r.message
      (True, '')
    """

    status: Status
    message: str
    game: object
    recomputed: Certificate | None

    def __post_init__(self):
        object.__setattr__(self, "status", _status.coerce(self.status, _status.CHECK, "integrity"))

    @property
    def consistent(self) -> bool:
        """True when every field of the certificate recomputes."""
        return self.status == Status.CONSISTENT


def _close(a, b, rtol):
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, dict) or isinstance(b, dict):  # couplings in coordinate form: same pattern, close values
        pa, pb = sparse_parts(a), sparse_parts(b)
        return pa is not None and pb is not None and pa[:3] == pb[:3] and _close(pa[3], pb[3], rtol)
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        return False
    same_nan = np.isnan(a) & np.isnan(b)
    same_inf = np.isinf(a) & np.isinf(b) & (np.sign(a) == np.sign(b))
    ok = np.isclose(a, b, rtol=rtol, atol=rtol * 1e-3) | same_nan | same_inf
    return bool(np.all(ok))


def _shown(value, limit: int = 120) -> str:
    """A field's value for a message: a status as its string, long vectors and matrices cut short."""
    text = repr(value.value if isinstance(value, enum.Enum) else value)
    return text if len(text) <= limit else f"{text[:limit - 20]}... ({len(text)} characters)"


def _bounded_int(value, name, lo, hi) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ValueError(f"expected an integer in [{lo}, {hi}] in field {name!r}, got {value!r}")
    return value


def _recorded_method(cert: Certificate, game):
    """The bound method recorded in ``cert.extra`` (its settings already checked by :func:`_check_sizes`)."""
    extra = cert.extra or {}
    name = extra.get("bounds_method", cert.bounds.kind)
    if not isinstance(name, str) or (name not in METHODS and name != "auto"):
        raise ValueError(f"expected a bounds method name in field 'extra.bounds_method', got {name!r}")
    if name == "auto":  # written before methods were recorded in full
        n_samples = _bounded_int(extra.get("n_samples", 1024), "extra.n_samples", 0, SETTING_LIMITS["n_samples"])
        return resolve("auto", game, n_samples=n_samples, seed=cert.settings.seed)
    cls = METHODS[name]
    kwargs = {}
    recorded = {"seed": cert.settings.seed, **extra}  # files from before the seed was part of the settings
    for field in dataclasses.fields(cls):
        if field.name in recorded:
            kwargs[field.name] = recorded[field.name]
        elif field.name in cls.absent_means:  # a file from before this setting existed
            kwargs[field.name] = cls.absent_means[field.name]
    try:
        return cls(**kwargs)
    except TypeError as err:
        raise ValueError(f"expected valid bound settings in field 'extra', got {err}") from None


def _recorded_dims(cert: Certificate) -> tuple[int, ...]:
    dims = cert.game.get("dims") if isinstance(cert.game, dict) else None
    if (not isinstance(dims, list) or not dims or len(dims) > MAX_DIM
            or any(isinstance(d, bool) or not isinstance(d, int) or not 1 <= d <= MAX_DIM for d in dims)
            or sum(dims) > MAX_DIM):
        raise ValueError(f"expected field 'game.dims' as a list of positive integers summing to at most {MAX_DIM}, "
                         f"got {_shown(dims)}")
    return tuple(dims)


def method_memory(name: str, settings: dict, dim: int) -> float:
    """Estimated peak bytes of the bound method ``name`` with ``settings`` in joint dimension ``dim``.

    Sampled bounds hold every point's Jacobian (:math:`P d^2` floats, with copies); matrix-free
    bounds a Krylov basis per point (:math:`P d (k + 8)`). Other methods are bounded by their own
    settings' limits (:data:`SETTING_LIMITS`).

    Examples:
      >>> method_memory("sampled", {"n_samples": 1024}, 2) < 2**20
      True
      >>> method_memory("matrix_free", {"n_samples": 10**6}, 64) > 2**34  # lq64 with a million points
      True
    """
    cls = METHODS.get(name)
    if cls not in (METHODS.get("sampled"), METHODS.get("matrix_free")):
        return 0.0
    defaults = {f.name: f.default for f in dataclasses.fields(cls)}
    n = settings.get("n_samples", defaults.get("n_samples", 0))
    n = n if isinstance(n, int) and not isinstance(n, bool) else 0
    if name == "sampled":
        points = n + 1 + (2**dim if dim <= 10 else 0)
        return 24.0 * points * float(dim) ** 2
    iterations = settings.get("iterations", defaults.get("iterations", 1))
    iterations = iterations if isinstance(iterations, int) and not isinstance(iterations, bool) else 1
    return 32.0 * (n + 1) * dim * (iterations + 8)


def _check_sizes(cert: Certificate) -> None:
    """The recorded sizes and settings fit the memory budget, checked before the game is built."""
    dim = sum(_recorded_dims(cert))
    extra = cert.extra or {}
    if not isinstance(extra, dict):
        raise ValueError(f"expected field 'extra' as an object, got {type(extra).__name__}")
    for key, limit in SETTING_LIMITS.items():
        if key in extra:
            _bounded_int(extra[key], f"extra.{key}", 0, limit)
    name = extra.get("bounds_method", cert.bounds.kind)
    if name == "auto":
        name = "sampled"
    if isinstance(name, str):
        check_memory(method_memory(name, extra, dim), f"bounds {name!r} with the recorded settings in dimension {dim}")


def check_certificate(cert: Certificate, *, rtol: float | None = None, game=None, allow_code: bool = False,
                      base=None, announce=None) -> IntegrityResult:
    """Recomputes ``cert`` from its game and reports whether every number follows.

    Nothing the certificate names is trusted: its sizes and settings are checked against the memory
    budget before the game is built; a game written in Python runs only when named (``game``) or
    allowed (``allow_code``), after its SHA-256 is checked (:func:`games.rebuild_game`); the
    recomputation is the caller's (the ``sgn verify`` command runs it without any cache).

    Args:
      cert: a certificate (e.g. read with :meth:`Certificate.from_json`).
      rtol: relative tolerance; default 1e-9 for the closed form, 1e-6 for cvxpy weights.
      game: the game definition to rebuild from instead of the recorded one: a reference
        (``FILE``, ``FILE.py:FACTORY``, ``MODULE:FACTORY``) with the recorded SHA-256.
      allow_code: run the Python game code the certificate records (after checking its hash).
      base: the folder the certificate was read from (its game file is looked for relative to it).
      announce: called with one line naming any code about to run.

    Returns:
      :class:`IntegrityResult`.

    Raises:
      ValueError: if the game cannot be rebuilt (unknown name or parameters; a game file that is
        missing or changed since the certificate was issued) or the recorded settings are malformed.
      TypeError: if ``cert`` is not a :class:`Certificate`.

    Examples:
      >>> import dataclasses, certify, games
      >>> c = certify.certify(games.get_game("sgn-toy"))
      >>> check_certificate(c).consistent
      True
      >>> check_certificate(dataclasses.replace(c, margin=0.5)).message[:30]
      "field 'margin' is 0.5 but reco"
    """
    if not isinstance(cert, Certificate):
        raise TypeError(f"expected a Certificate, got {type(cert).__name__}")
    if not isinstance(cert.game, dict):
        raise ValueError(f"expected field 'game' as an object, got {type(cert.game).__name__}")
    name = cert.game.get("name")
    _check_sizes(cert)
    game = games.rebuild_game(cert.game, game=game, allow_code=allow_code, base=base, announce=announce)
    if game.fingerprint() != cert.game.get("fingerprint"):
        return IntegrityResult(Status.INCONSISTENT, f"field 'game.fingerprint' is {cert.game.get('fingerprint')!r}"
                               f" but the game {name!r} with these parameters has {game.fingerprint()!r}",
                               game, None)
    if list(cert.game.get("dims")) != list(game.dims):
        return IntegrityResult(Status.INCONSISTENT, f"field 'game.dims' is {cert.game.get('dims')!r} but the game has "
                               f"{list(game.dims)!r}", game, None)
    margin_tol, weight_method = cert.settings.margin_tol, cert.weights.method
    kwargs = {"margin_tol": margin_tol, "weight_method": weight_method, "bounds": _recorded_method(cert, game),
              "region": cert.region and games.Region.from_dict(cert.region)}
    fresh = run(game, **kwargs, strongest=cert.schema_version >= 2)  # version 1: the small-gain test first
    tol = rtol if rtol is not None else (1e-9 if weight_method == "perron" else 1e-6)
    differs = [f for f in EXACT_FIELDS if fresh.value(f) != cert.value(f)]
    # mirror certificates written before they had a beta (tau + rho(L), issue 22) record NaN there; the mirror
    # step does not use it, so such a file is not a disagreement (a recorded number is still compared)
    beta = cert.bounds.weighted_lipschitz
    older_mirror = fresh.settings.geometry == "mirror" and isinstance(beta, float) and math.isnan(beta)
    differs += [f for f in NUMERIC_FIELDS if not (older_mirror and f == "bounds.weighted_lipschitz")
                and not _close(cert.value(f), fresh.value(f), tol)]
    if differs:
        field = differs[0]
        return IntegrityResult(Status.INCONSISTENT, f"field {field!r} is {_shown(cert.value(field))} but recomputes "
                               f"to {_shown(fresh.value(field))}", game, fresh)
    if not (isinstance(margin_tol, float) and math.isfinite(margin_tol)):
        return IntegrityResult(Status.INCONSISTENT, "field 'settings.margin_tol' is not a finite number", game, fresh)
    return IntegrityResult(Status.CONSISTENT, "", game, fresh)
