r"""The certificate: a result object (never a bool) with a JSON round trip.

A certificate records the game (name, parameters, fingerprint), the region, the bounds it rests
on and their kind (``exact`` / ``sound`` / ``sampled``), the block weights and the margin
:math:`\alpha_*(w)` (the flow's contraction rate in :math:`M(w)`), the Euclidean (Rosen, ``w = 1``)
margin for comparison, the weighted Lipschitz constant :math:`\beta`, step sizes for projected
Euler and RK4, and for two players the timescale band. Status is ``certified``,
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
import enum
import json

import numpy as np

import sgn
from certify import _json
from sgn._backend import is_sparse

SCHEMA_VERSION = 2
"""Version 2: ``proved_by`` is a field, the strongest passing test is reported, the mirror and
Fisher methods are named ``mirror`` / ``fisher``. Version-1 files are read by :func:`upgrade_v1`."""
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


class Status(enum.StrEnum):
    """Outcome of a certification; compares equal to its string value (``"certified"``, ...).

    * ``CERTIFIED``: the margin exceeds the tolerance; the claim of the certificate holds under its
      bounds (an estimate when the bounds were sampled).
    * ``NOT_CERTIFIED``: the test proved nothing (SGN is sufficient: never evidence of divergence),
      including when a sound method cannot enclose ``F`` as written (the reason names the construct).
    * ``INVALID``: the game's numbers are unusable on the region (``F`` or its Jacobian is, or for
      sound bounds may be, NaN/Inf somewhere on it).

    Examples:
      >>> Status("certified") is Status.CERTIFIED, Status.NOT_CERTIFIED == "not_certified"
      (True, True)
    """

    CERTIFIED = "certified"
    NOT_CERTIFIED = "not_certified"
    INVALID = "invalid"


@dataclasses.dataclass(frozen=True)
class Certificate:
    """Outcome of :func:`certify.certify` (all numbers float64, host side).

    Attributes:
      status: ``"certified"``, ``"not_certified"`` or ``"invalid"``.
      reason: why not certified / invalid (empty when certified).
      game: ``{"name", "params", "dims", "strategy_sets", "fingerprint"}``.
      region: ``{"lo", "hi"}`` or ``None`` (global bounds of an affine game).
      bounds_kind: ``"exact"``, ``"sound"`` or ``"sampled"``.
      mu: curvature bounds per player.
      coupling: coupling bounds ``L_ij``: rows of numbers, or for sparse couplings of many players
        ``{"shape", "rows", "cols", "values"}`` (coordinate form; see :meth:`coupling_matrix`).
      block_norm: bounds on ``||J_ii||_2``.
      lipschitz: Euclidean Lipschitz bound ``sup ||DF||_2``.
      euclidean_margin: ``inf lambda_min(sym DF)`` bound (the Rosen test with ``w = 1``).
      gain: loop gain ``rho(D_mu^{-1} L)`` (``inf`` if some ``mu_i <= 0``).
      weights: block weights (``min = 1``).
      margin: the proving test's margin (the SGN margin ``alpha_*(w)`` when not certified); the
        contraction rate of the flow in ``M(w)``.
      weighted_lipschitz: ``beta(w)`` (how it was obtained follows ``bounds_kind``).
      euler_step: certified Euler steps are ``0 < h < euler_step`` (``2 alpha / beta^2``).
      euler_best_step: ``alpha / beta^2``.
      euler_factor: contraction factor per Euler step at ``euler_best_step``.
      rk4_step_guideline: ``2.5 / beta`` (exact only for metric-normal linear games).
      rk4_step: rigorous RK4 step (conservative).
      rk4_guideline_factor: exact ``||M^{1/2} P(-hJ) M^{-1/2}||`` at the guideline (affine
        games; ``nan`` otherwise).
      band: ``[lo, hi]`` of ``r = w2/w1`` with positive margin (two players), else ``None``.
      weight_method: ``"perron"``, ``"sdp"`` or ``"lp"``.
      solver: cvxpy solver that produced the weights, if any.
      margin_tol: tolerance applied against certifying near-threshold games.
      n_points: sample points / boxes behind the bounds.
      seed: sampling seed.
      geometry: ``"euclidean"``, ``"mirror"`` or ``"fisher"``.
      proved_by: the test that proved the claim (``"small-gain"``, ``"direct (w = 1)"``,
        ``"direct (SGN weights)"``; :mod:`certify._decision`), ``""`` when not certified.
      sgn_margin: the small-gain margin ``alpha_*(w)`` at ``weights`` (the paper's quantity),
        whichever test proved the claim (NaN when no bounds were obtained).
      extra: method-specific JSON-able data (e.g. mirror/Fisher details).
      schema_version: JSON schema version.

    Examples:
      >>> import certify, games
      >>> c = certify.certify(games.get_game("sgn-toy"))
      >>> c.status, c.certified, round(c.euler_step, 6)
      (<Status.CERTIFIED: 'certified'>, True, 0.20101)
      >>> Certificate.from_json(c.to_json()) == c
      True
    """

    status: str
    reason: str
    game: dict
    region: dict | None
    bounds_kind: str
    mu: list
    coupling: list | dict
    block_norm: list
    lipschitz: float
    euclidean_margin: float
    gain: float
    weights: list
    margin: float
    weighted_lipschitz: float
    euler_step: float
    euler_best_step: float
    euler_factor: float
    rk4_step_guideline: float
    rk4_step: float
    rk4_guideline_factor: float
    band: list | None
    weight_method: str
    solver: str | None
    margin_tol: float
    n_points: int
    seed: int
    geometry: str = "euclidean"
    proved_by: str = ""
    sgn_margin: float = float("nan")
    extra: dict = dataclasses.field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION

    def __post_init__(self):
        try:
            object.__setattr__(self, "status", Status(self.status))
        except ValueError:
            raise ValueError(f"expected status in {[s.value for s in Status]}, got {self.status!r}") from None

    def __eq__(self, other) -> bool:
        """Field-wise equality in which NaN equals NaN (so a JSON round trip gives an equal certificate)."""
        if not isinstance(other, Certificate):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # mutable fields (lists, dicts): unhashable, as a dataclass with eq would be

    def __repr__(self) -> str:
        """One line: game, status, margin, bounds and geometry (``to_json()`` has everything)."""
        name = (self.game or {}).get("name", "?")
        return (f"Certificate({name!r}, {self.status}, margin={self.margin:.6g}, bounds={self.bounds_kind!r}, "
                f"geometry={self.geometry!r}, players={len(self.mu)})")

    @property
    def certified(self) -> bool:
        """True only for status ``certified``."""
        return self.status == Status.CERTIFIED

    @property
    def is_estimate(self) -> bool:
        """True when a ``certified`` status rests on sampled (not guaranteed) bounds."""
        return self.certified and self.bounds_kind == "sampled"

    def coupling_matrix(self):
        """The coupling bounds as a NumPy array, or a ``scipy.sparse`` CSR matrix when stored sparse.

        Examples:
          >>> import certify, games
          >>> certify.certify(games.get_game("sgn-toy")).coupling_matrix().tolist()
          [[0.0, 10.0], [0.05, 0.0]]
        """
        parts = sparse_parts(self.coupling)
        if parts is None:
            return np.asarray(self.coupling, dtype=np.float64)
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
            return sgn.certified_sgd(self.euler_best_step)
        rates = np.asarray(self.weights) / np.max(self.weights)
        step = 0.5 * float(sgn.ttur_step_bound(self.margin, self.weighted_lipschitz, rates))
        return sgn.certified_sgd(step, player_rates=list(rates))

    def to_dict(self) -> dict:
        """JSON-ready dictionary (non-finite floats as strings)."""
        return _json.encode(dataclasses.asdict(self))

    def to_json(self, *, indent: int | None = 2) -> str:
        """Serialises with exact float round trip and sorted keys."""
        return json.dumps(self.to_dict(), indent=indent, sort_keys=True, allow_nan=False)

    @classmethod
    def from_dict(cls, data) -> Certificate:
        """Inverse of :meth:`to_dict`; raises ``ValueError`` on a malformed document."""
        if not isinstance(data, dict):
            raise ValueError(f"expected a JSON object for a certificate, got {type(data).__name__}")
        version = data.get("schema_version")
        if version == 1:
            data = upgrade_v1(data)
        elif version != SCHEMA_VERSION:
            raise ValueError(f"expected schema_version 1 or {SCHEMA_VERSION}, got {version!r}")
        names = {f.name for f in dataclasses.fields(cls)}
        missing = sorted(n for n in names if n not in data and n not in ("extra", "geometry", "proved_by",
                                                                         "sgn_margin"))
        if missing:
            raise ValueError(f"expected certificate fields {missing}, got none")
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValueError(f"expected only known certificate fields, got unknown {unknown}")
        decoded = _json.decode(dict(data))
        for key, value in decoded.items():
            _check_field_type(key, value)
        return cls(**decoded)

    @classmethod
    def from_json(cls, text: str) -> Certificate:
        """Parses a JSON certificate; raises ``ValueError`` if it is not valid JSON or malformed."""
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            detail = getattr(err, "msg", str(err))
            raise ValueError(f"expected a JSON certificate, got unreadable text ({detail})") from err
        return cls.from_dict(data)


def upgrade_v1(data: dict) -> dict:
    """A version-1 certificate document in the version-2 layout (its ``schema_version`` stays 1).

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


_FLOAT_FIELDS = ("lipschitz", "euclidean_margin", "gain", "margin", "sgn_margin", "weighted_lipschitz", "euler_step",
                 "euler_best_step", "euler_factor", "rk4_step_guideline", "rk4_step",
                 "rk4_guideline_factor", "margin_tol")
_VECTOR_FIELDS = ("mu", "block_norm", "weights")
_STR_FIELDS = ("status", "reason", "bounds_kind", "weight_method", "geometry", "proved_by")


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
    elif key == "coupling":
        ok = _is_coupling(value)
    elif key == "band":
        ok = value is None or (_is_vector(value) and len(value) == 2)
    elif key in _STR_FIELDS:
        ok = isinstance(value, str)
    elif key == "solver":
        ok = value is None or isinstance(value, str)
    elif key in ("n_points", "seed", "schema_version"):
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
