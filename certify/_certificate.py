r"""The certificate: a result object (never a bool) with a JSON round trip.

A certificate records the game (name, parameters, fingerprint), the region, the margin of the
test that proved the claim (the flow's contraction rate in :math:`M(w)`) beside the small-gain
margin :math:`\alpha_*(w)`, and four small records: :class:`Bounds` (their kind ``exact`` /
``sound`` / ``sampled``, :math:`\mu`, :math:`L`, the Lipschitz constants :math:`\beta`, the
Euclidean (Rosen, ``w = 1``) margin, the loop gain), :class:`Weights` (the block weights, their
method and solver, for two players the timescale band), :class:`Steps` (projected Euler and
RK4) and :class:`Settings` (geometry, tolerance, seed). Status is ``certified``,
``not_certified`` (with the reason: SGN is only sufficient, so this never means divergent) or
``invalid`` (bad numbers from the game, e.g. NaN inside the region).

Floats are written with ``repr`` precision so they read back bit for bit; non-finite values
are written as the strings ``"nan"``, ``"inf"``, ``"-inf"``.

The coupling bounds :math:`L` are a list of rows for few players. From ``SPARSE_MIN_PLAYERS`` on,
sparse couplings (bounds given as a ``scipy.sparse`` matrix) are written in coordinate form,
``{"shape": [N, N], "rows": [...], "cols": [...], "values": [...]}`` with the stored entries in
row-major order (every entry not listed is zero), so a 20,000-player ring takes 40,000 entries
rather than :math:`4\cdot 10^8`. :meth:`Certificate.coupling_matrix` reads either form back.
"""

from __future__ import annotations

import dataclasses
import json
import warnings

import numpy as np

import sgn
from certify import _json, _status
from certify._status import Status
from sgn._backend import is_sparse

SCHEMA_VERSION = 3
"""Version 3: the nested layout (``bounds``, ``weights``, ``steps``, ``settings``; :data:`V2_LAYOUT`).
Version 2: ``proved_by`` is a field, the strongest passing test is reported, the mirror and
Fisher methods are named ``mirror`` / ``fisher``. Files of version 2 are read by :func:`nest_v2`,
of version 1 by :func:`upgrade_v1` first."""
SPARSE_KEYS = ("shape", "rows", "cols", "values")
"""Fields of a coupling written in coordinate (COO) form."""
SPARSE_MIN_PLAYERS = 257
"""From this many players on, sparse couplings (and a refusal's, which has no numbers) are written in COO form."""


def encode_coupling(coupling):
    """The ``coupling`` field of a certificate: a list of rows, or a COO dict for ``scipy.sparse``.

    Examples:
      >>> import numpy as np, scipy.sparse as sp
      >>> encode_coupling(np.array([[0.0, 10.0], [0.05, 0.0]]))
      [[0.0, 10.0], [0.05, 0.0]]
      >>> coo = encode_coupling(sp.diags([np.full(299, 0.5), np.full(299, 0.25)], [-1, 1]))
      >>> coo["shape"], coo["rows"][:3], coo["cols"][:3], coo["values"][:3]
      ([300, 300], [0, 1, 1], [1, 0, 2], [0.25, 0.5, 0.25])
    """
    if not is_sparse(coupling):
        return np.asarray(coupling, dtype=np.float64).tolist()
    if coupling.shape[0] < SPARSE_MIN_PLAYERS:
        return coupling.toarray().astype(np.float64).tolist()
    csr = coupling.tocsr(copy=True).astype(np.float64)
    csr.sum_duplicates()
    csr.sort_indices()
    coo = csr.tocoo()
    return {"shape": [int(k) for k in coo.shape], "rows": coo.row.tolist(), "cols": coo.col.tolist(),
            "values": coo.data.tolist()}


def nan_coupling(n: int):
    """The coupling of a certificate that rests on no bounds: NaN rows, or an empty COO matrix for many players.

    Examples:
      >>> nan_coupling(2)
      [[nan, nan], [nan, nan]]
      >>> nan_coupling(1000)["values"]
      []
    """
    if n < SPARSE_MIN_PLAYERS:
        return [[float("nan")] * n for _ in range(n)]
    return {"shape": [n, n], "rows": [], "cols": [], "values": []}


def sparse_parts(value):
    """``(shape, rows, cols, values)`` of a COO coupling dict (``None`` for anything else).

    Examples:
      >>> sparse_parts({"shape": [2, 2], "rows": [0], "cols": [1], "values": [3.0]})
      ((2, 2), [0], [1], [3.0])
      >>> sparse_parts([[0.0]]) is None
      True
    """
    if not (isinstance(value, dict) and set(value) == set(SPARSE_KEYS)):
        return None
    return tuple(value["shape"]), value["rows"], value["cols"], value["values"]


NAN = float("nan")


@dataclasses.dataclass(frozen=True)
class Bounds:
    r"""The bounds a certificate rests on (host float64).

    Attributes:
      kind: ``"exact"``, ``"sound"`` or ``"sampled"``.
      mu: curvature bounds per player.
      coupling: coupling bounds ``L_ij``: rows of numbers, or for sparse couplings of many players
        ``{"shape", "rows", "cols", "values"}`` (coordinate form; see :meth:`Certificate.coupling_matrix`).
      block_norm: bounds on ``||J_ii||_2``.
      lipschitz: Euclidean Lipschitz bound ``sup ||DF||_2``.
      weighted_lipschitz: ``beta(w)`` at the certificate's weights (how it was obtained follows ``kind``).
      euclidean_margin: ``inf lambda_min(sym DF)`` bound (the Rosen test with ``w = 1``).
      gain: loop gain ``rho(D_mu^{-1} L)`` (``inf`` if some ``mu_i <= 0``).
      n_points: sample points / boxes behind the bounds.
    """

    kind: str
    mu: list
    coupling: list | dict
    block_norm: list
    lipschitz: float
    weighted_lipschitz: float
    euclidean_margin: float
    gain: float
    n_points: int

    @classmethod
    def unavailable(cls, n_players: int, kind: str, n_points: int) -> Bounds:
        """The bounds of a certificate that obtained none: every number NaN.

        Examples:
          >>> Bounds.unavailable(2, "sampled", 0).mu
          [nan, nan]
        """
        return cls(kind, [NAN] * n_players, nan_coupling(n_players), [NAN] * n_players, NAN, NAN, NAN, NAN,
                   int(n_points))


@dataclasses.dataclass(frozen=True)
class Weights:
    """The block weights and how they were obtained.

    Attributes:
      values: block weights (``min = 1``).
      method: the weight method asked for: ``"perron"``, ``"auto"``, ``"sdp"`` or ``"lp"``.
      solver: cvxpy solver that produced the weights, if any.
      band: ``[lo, hi]`` of ``r = w2/w1`` with positive small-gain margin (two players), else ``None``.
    """

    values: list
    method: str
    solver: str | None = None
    band: list | None = None


@dataclasses.dataclass(frozen=True)
class Steps:
    """Certified step sizes (zeros and NaN factors when nothing is certified).

    Attributes:
      euler_step: every ``0 < h < euler_step`` contracts (Euler ``2 alpha / beta^2``; NPG; mirror descent).
      euler_best_step: the recommended step (``alpha / beta^2`` for Euler).
      euler_factor: contraction factor per step at ``euler_best_step``.
      rk4_step_guideline: ``2.5 / beta`` (exact only for metric-normal linear games; Euclidean geometry only).
      rk4_step: rigorous RK4 step (conservative; Euclidean geometry only).
      rk4_guideline_factor: exact ``||M^{1/2} P(-hJ) M^{-1/2}||`` at the guideline (affine
        games; ``nan`` otherwise).
    """

    euler_step: float = 0.0
    euler_best_step: float = 0.0
    euler_factor: float = NAN
    rk4_step_guideline: float = 0.0
    rk4_step: float = 0.0
    rk4_guideline_factor: float = NAN


@dataclasses.dataclass(frozen=True)
class Settings:
    """How the certificate was computed (what :func:`certify.check_certificate` recomputes with).

    Attributes:
      geometry: ``"euclidean"``, ``"mirror"`` or ``"fisher"``.
      margin_tol: tolerance applied against certifying near-threshold games.
      seed: sampling seed (0 for methods that draw no random numbers).
    """

    geometry: str
    margin_tol: float
    seed: int


GROUPS = {"bounds": Bounds, "weights": Weights, "steps": Steps, "settings": Settings}
"""The nested parts of a certificate (version 3): JSON key -> record type."""
V2_LAYOUT = {
    "bounds_kind": ("bounds", "kind"), "mu": ("bounds", "mu"), "coupling": ("bounds", "coupling"),
    "block_norm": ("bounds", "block_norm"), "lipschitz": ("bounds", "lipschitz"),
    "weighted_lipschitz": ("bounds", "weighted_lipschitz"), "euclidean_margin": ("bounds", "euclidean_margin"),
    "gain": ("bounds", "gain"), "n_points": ("bounds", "n_points"),
    "weights": ("weights", "values"), "weight_method": ("weights", "method"), "solver": ("weights", "solver"),
    "band": ("weights", "band"),
    **{f.name: ("steps", f.name) for f in dataclasses.fields(Steps)},
    "geometry": ("settings", "geometry"), "margin_tol": ("settings", "margin_tol"), "seed": ("settings", "seed"),
}
"""Version-1/2 (flat) field -> ``(group, field)`` of the nested layout."""
_V2_OPTIONAL = ("extra", "geometry", "proved_by", "sgn_margin")
"""Flat fields a version-1/2 document may leave out (older files lack them)."""


@dataclasses.dataclass(frozen=True, eq=False)
class Certificate:
    """Outcome of :func:`certify.certify` (all numbers float64, host side).

    Attributes:
      status: :class:`Status` ``certified``, ``not_certified`` or ``invalid``.
      reason: why not certified / invalid (empty when certified).
      proved_by: the test that proved the claim (``"small-gain"``, ``"direct (w = 1)"``,
        ``"direct (SGN weights)"``; :mod:`certify._decision`), ``""`` when not certified.
      margin: the proving test's margin (the SGN margin ``alpha_*(w)`` when not certified); the
        contraction rate of the flow in ``M(w)``.
      sgn_margin: the small-gain margin ``alpha_*(w)`` at the SGN weights (the paper's quantity),
        whichever test proved the claim (NaN when no bounds were obtained).
      game: ``{"name", "params", "dims", "strategy_sets", "fingerprint"}``.
      region: ``{"lo", "hi"}`` or ``None`` (global bounds of an affine game).
      bounds: :class:`Bounds` (``mu``, ``L``, Lipschitz constants, the Euclidean margin, the gain).
      weights: :class:`Weights` (``values``, ``method``, ``solver``, timescale ``band``).
      steps: :class:`Steps` (projected Euler and RK4 step sizes and factors).
      settings: :class:`Settings` (``geometry``, ``margin_tol``, ``seed``).
      extra: method-specific JSON-able data (e.g. the bound method's settings, mirror/Fisher details).
      schema_version: the version of the rules the certificate was computed by (the version of
        the file it was read from; :data:`SCHEMA_VERSION` for a new one).

    Examples:
      >>> import certify, games
      >>> c = certify.certify(games.get_game("sgn-toy"))
      >>> c.status, c.certified, round(c.steps.euler_step, 6), c.weights.method
      (<Status.CERTIFIED: 'certified'>, True, 0.20101, 'perron')
      >>> Certificate.from_json(c.to_json()) == c
      True
    """

    status: str
    reason: str
    proved_by: str
    margin: float
    sgn_margin: float
    game: dict
    region: dict | None
    bounds: Bounds
    weights: Weights
    steps: Steps
    settings: Settings
    extra: dict = dataclasses.field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION

    def __post_init__(self):
        object.__setattr__(self, "status", _status.coerce(self.status, _status.CERTIFICATE, "certificate"))
        for name, cls in GROUPS.items():
            part = getattr(self, name)
            if not isinstance(part, cls):
                raise TypeError(f"expected field {name!r} as a {cls.__name__}, got {type(part).__name__}")

    def __eq__(self, other) -> bool:
        """Field-wise equality in which NaN equals NaN (so a JSON round trip gives an equal certificate)."""
        if not isinstance(other, Certificate):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # mutable fields (lists, dicts): unhashable, as a dataclass with eq would be

    def __repr__(self) -> str:
        """One line: game, status, margin, bounds and geometry (``to_json()`` has everything)."""
        name = (self.game or {}).get("name", "?")
        return (f"Certificate({name!r}, {self.status}, margin={self.margin:.6g}, bounds={self.bounds.kind!r}, "
                f"geometry={self.settings.geometry!r}, players={len(self.bounds.mu)})")

    def __getattr__(self, name):
        """Version-2 flat names (``cert.euler_step``) read the nested field, with a ``DeprecationWarning``."""
        place = V2_LAYOUT.get(name)
        if place is None or name == "weights":  # ``weights`` is a record of its own, never an alias
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        warnings.warn(f"Certificate.{name} is deprecated: use Certificate.{place[0]}.{place[1]}",
                      DeprecationWarning, stacklevel=2)
        return getattr(getattr(self, place[0]), place[1])

    @property
    def certified(self) -> bool:
        """True only for status ``certified``."""
        return self.status == Status.CERTIFIED

    @property
    def is_estimate(self) -> bool:
        """True when a ``certified`` status rests on sampled (not guaranteed) bounds."""
        return self.certified and self.bounds.kind == "sampled"

    def value(self, path: str):
        """The field at a dotted ``path`` (``"margin"``, ``"steps.euler_step"``, ``"game.fingerprint"``).

        Examples:
          >>> import certify, games
          >>> certify.certify(games.get_game("sgn-toy")).value("weights.values")
          [1.0, 200.00000000000009]
        """
        obj = self
        for key in path.split("."):
            obj = obj[key] if isinstance(obj, dict) else getattr(obj, key)
        return obj

    def coupling_matrix(self):
        """The coupling bounds as a NumPy array, or a ``scipy.sparse`` CSR matrix when stored sparse.

        Examples:
          >>> import certify, games
          >>> certify.certify(games.get_game("sgn-toy")).coupling_matrix().tolist()
          [[0.0, 10.0], [0.05, 0.0]]
        """
        parts = sparse_parts(self.bounds.coupling)
        if parts is None:
            return np.asarray(self.bounds.coupling, dtype=np.float64)
        import scipy.sparse as sp  # coordinate form: many players

        shape, rows, cols, values = parts
        return sp.csr_matrix((np.asarray(values, dtype=np.float64), (rows, cols)), shape=shape)

    def optimizer(self, *, per_player_rates: bool = False):
        """An ``optax.GradientTransformation`` applying the certified best Euler step.

        With ``per_player_rates=True`` (two players) the rates are the certified weights scaled
        to a maximum of one, and the step is the TTUR bound of :func:`sgn.ttur_step_bound`
        halved.
        """
        if not self.certified:
            raise ValueError(f"expected a certified certificate, got status {self.status!r}")
        if not per_player_rates:
            return sgn.certified_sgd(self.steps.euler_best_step)
        rates = np.asarray(self.weights.values) / np.max(self.weights.values)
        step = 0.5 * float(sgn.ttur_step_bound(self.margin, self.bounds.weighted_lipschitz, rates))
        return sgn.certified_sgd(step, player_rates=list(rates))

    def to_dict(self) -> dict:
        """JSON-ready dictionary in the nested layout (non-finite floats as strings)."""
        return _json.encode(dataclasses.asdict(self))

    def to_json(self, *, indent: int | None = 2) -> str:
        """Serialises with exact float round trip and sorted keys."""
        return json.dumps(self.to_dict(), indent=indent, sort_keys=True, allow_nan=False)

    @classmethod
    def from_dict(cls, data) -> Certificate:
        """Inverse of :meth:`to_dict`; also reads the flat layout of versions 1 and 2.

        Raises ``ValueError`` on a malformed document.
        """
        if not isinstance(data, dict):
            raise ValueError(f"expected a JSON object for a certificate, got {type(data).__name__}")
        version = data.get("schema_version")
        if isinstance(data.get("bounds"), dict):  # the nested layout (any version's certificate written since 3)
            if version not in (1, 2, SCHEMA_VERSION) or isinstance(version, bool):
                raise ValueError(f"expected schema_version 1, 2 or {SCHEMA_VERSION}, got {version!r}")
            return cls._from_nested(data)
        if version == 1:
            data = upgrade_v1(data)
        elif version != 2:
            raise ValueError(f"expected schema_version 1, 2 or {SCHEMA_VERSION}, got {version!r}")
        names = (set(V2_LAYOUT) | {f.name for f in dataclasses.fields(cls)}) - (set(GROUPS) - {"weights"})
        missing = sorted(n for n in names if n not in data and n not in _V2_OPTIONAL)
        if missing:
            raise ValueError(f"expected certificate fields {missing}, got none")
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValueError(f"expected only known certificate fields, got unknown {unknown}")
        return cls._from_nested(nest_v2(data))

    @classmethod
    def _from_nested(cls, data: dict) -> Certificate:
        top = {f.name for f in dataclasses.fields(cls)}
        _check_keys("", data, top)
        parts = {}
        for name, record in GROUPS.items():
            if not isinstance(data[name], dict):
                raise ValueError(f"expected certificate field {name!r} as an object, got {type(data[name]).__name__}")
            _check_keys(f"{name}.", data[name], {f.name for f in dataclasses.fields(record)})
            decoded = _json.decode(dict(data[name]))
            for key, value in decoded.items():
                _check_field_type(f"{name}.{key}", value)
            parts[name] = record(**decoded)
        decoded = _json.decode({k: v for k, v in data.items() if k not in GROUPS})
        for key, value in decoded.items():
            _check_field_type(key, value)
        return cls(**decoded, **parts)

    @classmethod
    def from_json(cls, text: str) -> Certificate:
        """Parses a JSON certificate; raises ``ValueError`` if it is not valid JSON or malformed."""
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            detail = getattr(err, "msg", str(err))
            raise ValueError(f"expected a JSON certificate, got unreadable text ({detail})") from err
        return cls.from_dict(data)


def _check_keys(prefix: str, data: dict, names: set) -> None:
    """Raises ``ValueError`` naming missing or unknown fields of one level of a nested document."""
    missing = sorted(prefix + n for n in names if n not in data)
    if missing:
        raise ValueError(f"expected certificate fields {missing}, got none")
    unknown = sorted(prefix + n for n in set(data) - names)
    if unknown:
        raise ValueError(f"expected only known certificate fields, got unknown {unknown}")


def nest_v2(data: dict) -> dict:
    """A version-2 (flat) certificate document in the nested layout (its ``schema_version`` kept).

    Examples:
      >>> doc = nest_v2({"schema_version": 2, "mu": [1.0], "weights": [1.0], "euler_step": 0.5})
      >>> doc["bounds"]["mu"], doc["weights"]["values"], doc["steps"], doc["settings"]
      ([1.0], [1.0], {'euler_step': 0.5}, {'geometry': 'euclidean'})
    """
    nested = {name: {} for name in GROUPS}
    nested["settings"]["geometry"] = "euclidean"  # files from before the mirror and Fisher geometries
    for key, value in data.items():
        group, field = V2_LAYOUT.get(key, (None, key))
        (nested[group] if group else nested)[field] = value
    nested.setdefault("proved_by", "")
    nested.setdefault("sgn_margin", "nan")
    nested.setdefault("extra", {})
    return nested


def upgrade_v1(data: dict) -> dict:
    """A version-1 certificate document in the (flat) version-2 layout (its ``schema_version`` stays 1).

    Version 1 kept the proving test in ``extra["proved_by"]`` and recorded the mirror and Fisher
    bounds as ``exact`` / ``sampled``; its numbers came from the small-gain test whenever that
    passed, so :func:`certify.check_certificate` recomputes a version-1 file with that rule.

    Examples:
      >>> old = {"schema_version": 1, "status": "certified", "geometry": "mirror",
      ...        "extra": {"bounds_method": "exact", "proved_by": "small-gain"}}
      >>> new = upgrade_v1(old)
      >>> new["proved_by"], new["extra"], new["schema_version"]
      ('small-gain', {'bounds_method': 'mirror'}, 1)
    """
    data = dict(data)
    extra = dict(data.get("extra") or {}) if isinstance(data.get("extra", {}), dict) else data.get("extra")
    if isinstance(extra, dict):
        proved_by = extra.pop("proved_by", "small-gain" if data.get("status") == "certified" else "")
        data.setdefault("proved_by", proved_by)
        data.setdefault("sgn_margin", extra.pop("sgn_margin", data.get("margin", "nan")))
        renamed = {"mirror": "exact", "fisher": "sampled"}.get(data.get("geometry"))
        if renamed is not None and extra.get("bounds_method") == renamed:
            extra["bounds_method"] = data["geometry"]
            extra.pop("vertices", None)
        data["extra"] = extra
    return data


_FLOAT_FIELDS = ("margin", "sgn_margin", "bounds.lipschitz", "bounds.weighted_lipschitz", "bounds.euclidean_margin",
                 "bounds.gain", *(f"steps.{f.name}" for f in dataclasses.fields(Steps)), "settings.margin_tol")
_VECTOR_FIELDS = ("bounds.mu", "bounds.block_norm", "weights.values")
_STR_FIELDS = ("status", "reason", "proved_by", "bounds.kind", "weights.method", "settings.geometry")


def _is_number(x) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _is_vector(x) -> bool:
    return isinstance(x, list) and bool(x) and all(_is_number(v) for v in x)


def _is_index_list(x, size) -> bool:
    return isinstance(x, list) and all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v < size for v in x)


def _is_coupling(value) -> bool:
    """Rows of equal length, or a well-formed square COO dict."""
    parts = sparse_parts(value)
    if parts is None:
        return isinstance(value, list) and bool(value) and all(_is_vector(r) and len(r) == len(value)
                                                                for r in value)
    shape, rows, cols, values = parts
    if not (len(shape) == 2 and all(isinstance(k, int) and not isinstance(k, bool) and k > 0 for k in shape)
            and shape[0] == shape[1]):
        return False
    return (_is_index_list(rows, shape[0]) and _is_index_list(cols, shape[1]) and isinstance(values, list)
            and all(_is_number(v) for v in values) and len(rows) == len(cols) == len(values))


def _check_field_type(key, value) -> None:
    """Raises ``ValueError`` naming ``key`` when a decoded field has the wrong JSON type."""
    ok = True
    if key in _FLOAT_FIELDS:
        ok = _is_number(value)
    elif key in _VECTOR_FIELDS:
        ok = _is_vector(value)
    elif key == "bounds.coupling":
        ok = _is_coupling(value)
    elif key == "weights.band":
        ok = value is None or (_is_vector(value) and len(value) == 2)
    elif key in _STR_FIELDS:
        ok = isinstance(value, str)
    elif key == "weights.solver":
        ok = value is None or isinstance(value, str)
    elif key in ("bounds.n_points", "settings.seed", "schema_version"):
        ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
    elif key == "region":
        ok = value is None or (isinstance(value, dict) and _is_vector(value.get("lo"))
                               and _is_vector(value.get("hi")))
    elif key == "game":
        ok = (isinstance(value, dict) and isinstance(value.get("name"), str)
              and isinstance(value.get("params", {}), dict) and isinstance(value.get("fingerprint"), str))
    elif key == "extra":
        ok = isinstance(value, dict)
    if not ok:
        shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
        raise ValueError(f"expected certificate field {key!r} of the right type, got {type(value).__name__} {shown}")
