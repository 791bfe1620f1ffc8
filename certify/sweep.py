r"""Batched certification maps: sweeps over a game parameter and tilings of a region, sharded.

For each item :math:`k` of a batch (a parameter value :math:`\theta_k` of an affine game, or a
tile :math:`K_k` of a box) we compute the SGN quantities of spec-sgn-math §2–§4 in one batched
call per kernel:

.. math::

   \mu_i = \min_x \lambda_{\min}(\operatorname{sym} J_{ii}),\quad
   L_{ij} = \max_x \lVert J_{ij}\rVert_2,\quad
   w = v/u \ (\text{Perron, Noda iteration}),\quad
   \alpha_*(w) = \lambda_{\min}(S(w)),\quad
   \beta(w) = \max_x \lVert M^{1/2} J M^{-1/2}\rVert_2,

with the Euclidean (Rosen, :math:`w = 1`) margin :math:`\min_x\lambda_{\min}(\operatorname{sym}J)`
beside it. For an affine game the Jacobian is constant and the bounds are exact; for a tiling of
a nonlinear game the extremes are over seeded sample points per tile (an *estimate*, never a
guarantee: use :func:`certify.certify` with ``bounds="interval"`` on a tile for a sound one).
An item is certified when :math:`\alpha_*(w) > \text{tol}\cdot\max(1, |\mu|, L)`, as in
:func:`certify.certify`. Everything is float64 (certificates).

**Devices.** Every kernel is ``jit(shard_map(vmap(f)))`` over a 1-D :class:`jax.sharding.Mesh`
whose single axis ``"batch"`` spans all visible devices: the batch is padded to a multiple of the
device count (repeating the last item), each device computes its slice with the same per-item
code, and the padding is dropped. Items never interact, so the results equal the single-device
ones. One decomposition type per ``jit`` (``eigvalsh`` or ``svd``): on CPU, jax 0.10.2 can
deadlock when one ``jit`` holds many batched ``eigvalsh``/SVD calls (spec-sound-bounds §7).

**Many processes.** With :func:`jax.distributed.initialize` called first, ``jax.devices()``
lists the devices of all processes, :func:`make_mesh` spans them, inputs are placed with
:func:`jax.make_array_from_callback` (every process builds the same host batch, deterministic from
the seed, and supplies only its own shards), each process computes its share of the batch, and
outputs are gathered with ``multihost_utils.process_allgather``: every process returns the
one-process result. The ``sgn`` command joins the processes itself from the environment
(``certify._runtime``); on two hosts::

    # on host 0 (10.0.0.1):
    SGN_COORDINATOR=10.0.0.1:1234 SGN_NUM_PROCESSES=2 SGN_PROCESS_ID=0 sgn sweep lq64 --param lam=0:2.5:61
    # on host 1:
    SGN_COORDINATOR=10.0.0.1:1234 SGN_NUM_PROCESSES=2 SGN_PROCESS_ID=1 sgn sweep lq64 --param lam=0:2.5:61

and under SLURM, ``SGN_COORDINATOR=auto srun sgn sweep ...`` (JAX reads the cluster's variables).
From Python, call ``jax.distributed.initialize(...)`` before the first sweep. Games the batched path
cannot take (the per-value fallback loop) are certified in full by every process.

References:
  Vedula et al., `Small-Gain Nash <https://arxiv.org/abs/2512.06791>`_, 2025.
  JAX authors, `Distributed arrays and automatic parallelization
  <https://docs.jax.dev/en/latest/notebooks/Distributed_arrays_and_automatic_parallelization.html>`_.
"""

from __future__ import annotations

import dataclasses
import functools
import json

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh

import sgn
from certify import _json
from certify._decision import MARGIN_TOL, decide
from certify._pipeline import certify as certify_one
from certify._progress import track
from certify._sharding import fetch as _fetch
from certify._sharding import make_mesh
from certify._sharding import put as _put
from certify._sharding import sharded as _sharded
from certify._sweep_source import game_family, recorded_source
from certify.bounds._methods import as_region, resolve
from certify.bounds._sampled import gram_spectral_norm, sharded_jacobian_kernel
from certify.bounds._sampling import sample_points
from games import Game, Region
from sgn import _checks
from sgn._backend import is_sparse

__all__ = [
    "RegionMap",
    "SweepResult",
    "certify_region_grid",
    "make_mesh",
    "sweep_games",
    "sweep_parameter",
]

MAX_ITEMS = 1_000_000


# --- per-matrix kernels (one decomposition type per jit) ----------------------------------------


def _sym(a):
    return 0.5 * (a + jnp.swapaxes(a, -1, -2))


def _lambda_min_sym(a):
    if a.shape[-1] == 1:  # static shape: scalar blocks need no LAPACK call
        return a[..., 0, 0]
    return jnp.linalg.eigvalsh(_sym(a))[..., 0]


def _norm2(a):
    if a.shape[-1] == 1 or a.shape[-2] == 1:
        return jnp.sqrt(jnp.sum(a * a, axis=(-2, -1)))
    return gram_spectral_norm(a)


def _blocks(jac, dims):
    """``(N, N, m, m)`` blocks when all block sizes equal ``m``."""
    n, m = len(dims), dims[0]
    return jac.reshape(n, m, n, m).transpose(0, 2, 1, 3)


@functools.lru_cache(maxsize=128)
def _kernel(kind: str, dims: tuple, mesh: Mesh):
    n = len(dims)
    off = np.cumsum((0,) + dims)
    equal = len(set(dims)) == 1

    def diag_min(jac):
        if equal:
            b = _blocks(jac, dims)
            return _lambda_min_sym(b[jnp.arange(n), jnp.arange(n)])
        return jnp.stack([_lambda_min_sym(jac[off[i]:off[i + 1], off[i]:off[i + 1]]) for i in range(n)])

    def block_norms(jac):
        if equal:
            return _norm2(_blocks(jac, dims))
        return jnp.stack([jnp.stack([_norm2(jac[off[i]:off[i + 1], off[j]:off[j + 1]]) for j in range(n)])
                          for i in range(n)])

    def full_min(jac):
        return _lambda_min_sym(jac)

    def full_norm(jac):
        return _norm2(jac)

    def scaled(jac, w):  # M^1/2 J M^-1/2
        s = jnp.repeat(jnp.sqrt(w), np.asarray(dims), total_repeat_length=int(off[-1]))
        return s[:, None] * jac / s[None, :]

    def weighted_norm(jac, w):
        return _norm2(scaled(jac, w))

    def weighted_min(jac, w):
        return _lambda_min_sym(scaled(jac, w))

    def weights(mu, coupling):
        w, lo, hi = sgn.perron_weights_jax(mu, coupling)
        return w, lo, hi, _lambda_min_sym(sgn.gain_matrix(mu, coupling, w))

    table = {"diag_min": (diag_min, 1), "block_norms": (block_norms, 1), "full_min": (full_min, 1),
             "full_norm": (full_norm, 1), "weighted_norm": (weighted_norm, 2), "weighted_min": (weighted_min, 2),
             "weights": (weights, 2)}
    fn, n_in = table[kind]
    return _sharded(fn, mesh, n_in)


def _matrix_quantities(jacs_dev, dims, mesh):
    """Per-matrix mu, block norms, couplings, ||J|| and lambda_min(sym J) (device arrays, padded)."""
    mu = _kernel("diag_min", dims, mesh)(jacs_dev)
    norms = _kernel("block_norms", dims, mesh)(jacs_dev)
    lip = _kernel("full_norm", dims, mesh)(jacs_dev)
    euc = _kernel("full_min", dims, mesh)(jacs_dev)
    return mu, norms, lip, euc


def _split_norms(norms: np.ndarray):
    n = norms.shape[-1]
    eye = np.eye(n, dtype=bool)
    block = np.diagonal(norms, axis1=-2, axis2=-1).copy()
    coupling = np.where(eye, 0.0, norms)
    return block, coupling


# --- results -----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class SweepResult:
    r"""A certification map over a game parameter (host NumPy, float64).

    Attributes:
      game: registered game name.
      param: the swept parameter.
      values: ``(n_values,)`` parameter values.
      params: the other (fixed) parameters.
      mu: ``(n_values, n_players)`` curvature bounds.
      coupling: ``(n_values, n_players, n_players)`` coupling bounds.
      weights: ``(n_values, n_players)`` Perron weights (``min = 1``).
      margin: ``(n_values,)`` the certified margin: the SGN margin :math:`\alpha_*(w)` of the
        weights, or where the comparison matrix refuses and a direct test proves more, that test's
        :math:`\lambda_{\min}(\operatorname{sym}(M^{1/2}DF M^{-1/2}))` (as :func:`certify.certify`).
      sgn_margin: ``(n_values,)`` the small-gain margin :math:`\alpha_*(w)` at the SGN weights.
      perron_lower: ``(n_values,)`` Collatz–Wielandt lower bound on the optimum.
      perron_upper: ``(n_values,)`` Collatz–Wielandt upper bound on the optimum.
      euclidean_margin: ``(n_values,)`` :math:`\lambda_{\min}(\operatorname{sym}J)` (Rosen, w = 1).
      beta: ``(n_values,)`` weighted Lipschitz constant :math:`\beta(w)`.
      euler_step: ``(n_values,)`` :math:`2\alpha_*/\beta^2` where certified, else 0.
      certified: ``(n_values,)`` certified, as :func:`certify.certify` decides (small-gain or direct test).
      proved_by: ``(n_values,)`` the test that certified (``"small-gain"``, ``"direct (w = 1)"``,
        ``"direct (SGN weights)"``), ``""`` where not certified.
      euclidean_certified: ``(n_values,)`` Euclidean margin ``> 0``.
      bounds_kind: ``"exact"`` (batched affine path) or what :func:`certify.certify` reported.
      batched: True for the one-call batched path, False for the per-value fallback loop.
      n_devices: devices the batch was sharded over.
      geometry: ``"euclidean"``, or ``"mirror"`` / ``"fisher"`` for tabular games, whose
        ``euler_step`` is the geometry's own step (mirror-descent / natural-gradient) and whose
        Euclidean test does not apply (``euclidean_margin`` NaN).
      source: the definition of a game from a file or module (kind, path or module, factory,
        fixed parameters and its SHA-256, as certificates record it); ``None`` for registered games.

    Examples:
      >>> r = sweep_parameter("lq64", "lam", [0.0, 2.0], params={"half": 4})  # certified iff |lam| < sqrt 2
      >>> r.certified.tolist(), r.bounds_kind, r.batched
      ([True, False], 'exact', True)
    """

    game: str
    param: str
    values: np.ndarray
    params: dict
    mu: np.ndarray
    coupling: np.ndarray
    weights: np.ndarray
    margin: np.ndarray
    sgn_margin: np.ndarray
    perron_lower: np.ndarray
    perron_upper: np.ndarray
    euclidean_margin: np.ndarray
    beta: np.ndarray
    euler_step: np.ndarray
    certified: np.ndarray
    euclidean_certified: np.ndarray
    proved_by: np.ndarray
    bounds_kind: str
    batched: bool
    n_devices: int
    source: dict | None = None
    geometry: str = "euclidean"

    def certified_ranges(self, *, euclidean: bool = False) -> list[tuple[float, float]]:
        """The runs of consecutive certified values as ``(first, last)`` pairs, in sweep order.

        Examples:
          >>> import numpy as np
          >>> r = sweep_parameter("lq64", "lam", np.linspace(-2.0, 2.0, 9), params={"half": 4})
          >>> r.certified_ranges()  # |lam| < sqrt(2): the range starts mid-sweep
          [(-1.0, 1.0)]
        """
        flags = np.asarray(self.euclidean_certified if euclidean else self.certified, dtype=bool)
        edges = np.flatnonzero(np.diff(np.concatenate([[False], flags, [False]]).astype(int)))
        return [(float(self.values[a]), float(self.values[b - 1])) for a, b in zip(edges[::2], edges[1::2],
                                                                                  strict=True)]

    def last_certified(self, *, euclidean: bool = False) -> float:
        """The largest value of the leading certified run (``nan`` if the first is not)."""
        flags = self.euclidean_certified if euclidean else self.certified
        if not flags.size or not flags[0]:
            return float("nan")
        stop = int(np.argmin(flags)) if not flags.all() else flags.size
        return float(self.values[stop - 1])

    def to_dict(self) -> dict:
        """JSON-ready dictionary (non-finite floats as the strings ``"nan"``, ``"inf"``, like certificates)."""
        return _json.encode({f.name: getattr(self, f.name) for f in dataclasses.fields(self)})

    def to_json(self) -> str:
        """JSON text of :meth:`to_dict`."""
        return json.dumps(self.to_dict(), indent=1, allow_nan=False)

    def table(self) -> str:
        """A fixed-width text table: value, Euclidean margin, SGN margin, weights, step.

        Tabular games (mirror / Fisher geometry) show their own step (mirror-descent or
        natural-gradient) and leave out the Euclidean test, which does not apply to them.
        """
        euclidean = self.geometry == "euclidean"
        step_head = {"euclidean": "euler h<", "mirror": "mirror h<", "fisher": "NPG h<"}.get(self.geometry, "step h<")
        head = f"{self.param:>10s}  " + (f"{'euclidean':>11s}  " if euclidean else "") + \
            f"{'margin':>11s}  {'certified':>9s}  {'w2/w1':>10s}  {step_head:>10s}"
        rows = [head]
        for k, v in enumerate(self.values):
            ratio = self.weights[k, 1] / self.weights[k, 0] if self.weights.shape[1] > 1 else 1.0
            verdict = ("yes" if self.proved_by[k] in ("small-gain", "") else "direct") if self.certified[k] else "no"
            step = f"{self.euler_step[k]:10.4g}" if self.certified[k] else f"{'-':>10s}"
            euc = f"{self.euclidean_margin[k]:11.6g}  " if euclidean else ""
            rows.append(f"{v:10.6g}  {euc}{self.margin[k]:11.6g}  {verdict:>9s}  {ratio:10.4g}  {step}")
        estimate = " (ESTIMATE: sampled bounds, not a guarantee)" if self.bounds_kind == "sampled" else ""
        rows.append(f"certified {self.param}: {_ranges_text(self.certified_ranges())}{estimate}")
        direct = [self.values[k] for k in range(len(self.values)) if self.proved_by[k].startswith("direct")]
        if direct:
            rows.append(f"  (by a direct monotonicity test, the strongest that passes there: "
                        f"{', '.join(f'{v:.6g}' for v in direct)})")
        if euclidean:
            rows.append(f"Euclidean test passes {self.param}: {_ranges_text(self.certified_ranges(euclidean=True))}")
        else:
            rows.append(f"(the Euclidean test does not apply: {self.geometry} geometry)")
        if self.source:
            where = self.source.get("path") or self.source.get("module")
            factory = f":{self.source['factory']}" if self.source.get("factory") else ""
            rows.append(f"definition {where}{factory} (SHA-256 {self.source.get('sha256')})")
        return "\n".join(rows)


def _ranges_text(ranges) -> str:
    if not ranges:
        return "none"
    return ", ".join(f"{a:.6g}" if a == b else f"{a:.6g} .. {b:.6g}" for a, b in ranges)


@dataclasses.dataclass(frozen=True)
class RegionMap:
    r"""A certification map over a tiling of a box (sampled bounds per tile: an estimate).

    Attributes:
      lo: ``(n_tiles, dim)`` tile lower corners.
      hi: ``(n_tiles, dim)`` tile upper corners.
      divisions: tiles per coordinate.
      mu: ``(n_tiles, n_players)``; coupling: ``(n_tiles, n_players, n_players)``.
      weights: ``(n_tiles, n_players)`` the proving test's weights (the SGN weights where not certified).
      margin, euclidean_margin, beta: ``(n_tiles,)``: the proving test's margin and :math:`\beta`, as
        :func:`certify.certify` decides (:mod:`certify._decision`); the Euclidean margin beside them.
      sgn_margin: ``(n_tiles,)`` the small-gain margin :math:`\alpha_*(w)` at the SGN weights.
      euler_step: ``(n_tiles,)`` :math:`2\alpha/\beta^2` where certified, else 0.
      certified: ``(n_tiles,)`` (estimate).
      proved_by: ``(n_tiles,)`` the test that certified each tile, ``""`` where none.
      n_points: sample points per tile.
      n_devices: devices the tiles were sharded over.

    Examples:
      >>> import games
      >>> m = certify_region_grid(games.get_game("tanh-sin"), divisions=2, n_samples=8)
      >>> m.lo.shape, m.certified.shape
      ((4, 2), (4,))
    """

    lo: np.ndarray
    hi: np.ndarray
    divisions: tuple
    mu: np.ndarray
    coupling: np.ndarray
    weights: np.ndarray
    margin: np.ndarray
    sgn_margin: np.ndarray
    euclidean_margin: np.ndarray
    beta: np.ndarray
    euler_step: np.ndarray
    certified: np.ndarray
    proved_by: np.ndarray
    n_points: int
    n_devices: int

    def to_dict(self) -> dict:
        """JSON-ready dictionary (non-finite floats as strings)."""
        return _json.encode({f.name: getattr(self, f.name) for f in dataclasses.fields(self)})


# --- affine sweeps -----------------------------------------------------------------------------


def _certify_jacobians(jacs: np.ndarray, dims: tuple, mesh: Mesh, margin_tol: float):
    """Batched exact SGN quantities of constant Jacobians ``(B, d, d)``, decided by :func:`_decided`."""
    b = jacs.shape[0]
    jd = _put(jacs, mesh)
    mu_d, norms_d, lip_d, euc_d = _matrix_quantities(jd, dims, mesh)
    norms = _fetch(norms_d, b)
    _, coupling = _split_norms(norms)
    w_d, lo_d, hi_d, margin_d = _kernel("weights", dims, mesh)(mu_d, _put(coupling, mesh))
    beta = _fetch(_kernel("weighted_norm", dims, mesh)(jd, w_d), b)
    direct = _fetch(_kernel("weighted_min", dims, mesh)(jd, w_d), b)
    q = {"mu": _fetch(mu_d, b), "coupling": coupling, "weights": _fetch(w_d, b), "margin": _fetch(margin_d, b),
         "perron_lower": _fetch(lo_d, b), "perron_upper": _fetch(hi_d, b),
         "euclidean_margin": _fetch(euc_d, b), "beta": beta}
    return _decided(q, direct, _fetch(lip_d, b), margin_tol)


def _decided(q: dict, direct: np.ndarray, lipschitz: np.ndarray, margin_tol: float) -> dict:
    r"""Per item, the decision of :func:`certify._decision.decide` (as :func:`certify.certify` makes it).

    ``q`` holds the SGN quantities (``margin``, ``weights``, ``beta`` at the SGN weights,
    ``euclidean_margin``); ``direct`` is the direct modulus at the SGN weights and ``lipschitz``
    :math:`\beta(1)`. The proving test's margin, weights and :math:`\beta` replace the SGN ones.
    """
    d = decide(np.stack([q["margin"], q["euclidean_margin"], direct], axis=1), q["mu"], q["coupling"],
               margin_tol=margin_tol)
    return {**q, "margin": d.margin, "sgn_margin": q["margin"], "weights": d.choose(q["weights"], 1.0, q["weights"]),
            "beta": d.choose(q["beta"], lipschitz, q["beta"]), "certified": d.certified, "proved_by": d.proved_by}


def _dense(jac):
    """A constant Jacobian as a dense array (the batched kernels work on dense stacks)."""
    return jac.toarray() if is_sparse(jac) else np.asarray(jac)


def _finish(game_name, param, values, params, q, kind, batched, n_devices):
    margin, beta = q["margin"], q["beta"]
    with np.errstate(divide="ignore", invalid="ignore"):
        euler = np.where(q["certified"], np.asarray(sgn.euler_step_bound(margin, beta)), 0.0)
    return SweepResult(game=game_name, param=param, values=np.asarray(values, dtype=np.float64),
                       params=dict(params), mu=q["mu"], coupling=q["coupling"], weights=q["weights"],
                       margin=margin, sgn_margin=q["sgn_margin"], perron_lower=q["perron_lower"],
                       perron_upper=q["perron_upper"],
                       euclidean_margin=q["euclidean_margin"], beta=beta, euler_step=euler,
                       certified=np.asarray(q["certified"], dtype=bool),
                       euclidean_certified=np.asarray(q["euclidean_margin"] > 0, dtype=bool),
                       proved_by=np.asarray(q["proved_by"], dtype=str), bounds_kind=kind, batched=batched,
                       n_devices=n_devices)


def sweep_games(games_list, *, mesh: Mesh | None = None, margin_tol: float = MARGIN_TOL,
                param: str = "index", values=None, game_name: str = "", params=None) -> SweepResult:
    """Certifies a list of affine games with equal block sizes in one batched, sharded call.

    Args:
      games_list: affine :class:`games.Game` objects sharing ``dims``.
      mesh: device mesh (default :func:`make_mesh` over all devices).
      margin_tol: relative tolerance applied against certifying.
      param: label of the axis (for the table).
      values: ``(n_games,)`` labels (default ``0, 1, ...``).
      game_name: name recorded in the result.
      params: fixed parameters recorded in the result.

    Returns:
      :class:`SweepResult` with exact bounds (float64).

    Raises:
      ValueError: empty list, non-affine games or differing ``dims``.

    Examples:
      >>> import games
      >>> r = sweep_games([games.get_game("lq64", half=4, lam=v) for v in (0.0, 2.0)], param="lam",
      ...                 values=[0.0, 2.0])
      >>> r.certified.tolist()  # certified iff |lam| < sqrt 2
      [True, False]
    """
    games_list = list(games_list)
    if not games_list:
        raise ValueError("expected at least one game, got an empty list")
    if len(games_list) > MAX_ITEMS:
        raise ValueError(f"expected at most {MAX_ITEMS} games, got {len(games_list)}")
    dims = games_list[0].dims
    for g in games_list:
        if not isinstance(g, Game) or not g.is_affine:
            raise ValueError(f"expected affine games for the batched sweep, got {getattr(g, 'name', g)!r}")
        if g.dims != dims:
            raise ValueError(f"expected equal block sizes {dims}, got {g.dims}")
    mesh = make_mesh() if mesh is None else mesh
    vals = np.arange(len(games_list), dtype=np.float64) if values is None else np.asarray(values, float)
    with jax.enable_x64(True):
        jacs = np.stack([_dense(g.constant_jacobian) for g in games_list]).astype(np.float64)
        q = _certify_jacobians(jacs, tuple(dims), mesh, margin_tol)
    return _finish(game_name or games_list[0].name, param, vals, params or {}, q, "exact", True,
                   mesh.devices.size)


def _fallback_loop(name, param, built, values, params, margin_tol, options, progress):
    """Per-value :func:`certify.certify` for games the batched path cannot take."""
    certs = [certify_one(g, margin_tol=margin_tol, region=options["region"], bounds=resolve(game=g, **options))
             for g in track(built, desc=f"sweep {param}", enabled=progress)]
    def arr(path):
        return np.asarray([c.value(path) for c in certs], dtype=np.float64)

    q = {"mu": arr("bounds.mu"), "coupling": arr("bounds.coupling"), "weights": arr("weights.values"),
         "margin": arr("margin"), "sgn_margin": arr("sgn_margin"), "perron_lower": arr("sgn_margin"),
         "perron_upper": np.full(len(certs), np.nan),
         "euclidean_margin": arr("bounds.euclidean_margin"), "beta": arr("bounds.weighted_lipschitz"),
         "certified": np.asarray([c.certified for c in certs]),
         "proved_by": np.asarray([c.proved_by for c in certs], dtype=str)}
    result = _finish(name, param, values, params, q, certs[0].bounds.kind, False, 1)
    if certs[0].settings.geometry == "euclidean":
        return result
    steps = np.where(result.certified, arr("steps.euler_step"), 0.0)  # each certificate's mirror-descent / NPG step
    return dataclasses.replace(result, euler_step=steps, geometry=certs[0].settings.geometry)


def sweep_parameter(game: str, param: str, values, *, params=None, mesh: Mesh | None = None,
                    margin_tol: float = MARGIN_TOL, n_samples: int | None = None, seed: int | None = None,
                    bounds="auto", region=None, progress: bool = False) -> SweepResult:
    r"""Certification map of a game over one parameter, in one batched call.

    Affine games (constant Jacobian, e.g. ``lq64`` over ``lam``) are certified with exact bounds
    in one sharded batch: per value, blockwise ``eigvalsh``/``svd``, the Perron weights by dense
    Noda iteration and :math:`\alpha_*(w)` (nothing game-specific is exploited). Other games
    (nonlinear, or tabular games in the mirror geometry, e.g. a sweep over ``tau``) fall back to
    one :func:`certify.certify` per value, and the result says so (``batched=False``).

    Args:
      game: a registered game name, ``FILE.py:FACTORY``, ``MODULE:FACTORY``, a declarative
        ``FILE.toml``/``FILE.json``, or a Python factory returning a :class:`games.Game`
        (:func:`certify._sweep_source.game_family`).
      param: the parameter to sweep (for a declarative file, any numeric key: ``tau``, ``J[0][1]``).
      values: ``(n_values,)`` finite values.
      params: other parameters of the game, fixed.
      mesh: device mesh (default: all devices).
      margin_tol: relative tolerance applied against certifying.
      n_samples: sample points per value on the fallback path (default: the method's own);
        refused where the bound method takes none (:func:`certify.bounds.resolve`).
      seed: sampling seed on the fallback path (default: the method's own); refused likewise.
      bounds: bound method per value, as in :func:`certify.certify` (``"auto"``: the batched
        exact path for affine games); any other method takes the per-value path.
      region: region per value (as in :func:`certify.certify`); forces the per-value path.
      progress: a progress bar over the values of the per-value path.

    Returns:
      :class:`SweepResult` (float64).

    Raises:
      ValueError: unknown game or parameter, empty or non-finite values.

    Examples:
      >>> import numpy as np
      >>> r = sweep_parameter("lq64", "lam", np.linspace(0.0, 2.5, 61), params={"half": 4})
      >>> r.last_certified(), round(r.last_certified(euclidean=True), 6)
      (1.375, 0.166667)
    """
    params = dict(params or {})
    family = game_family(game, param, params)
    values = np.atleast_1d(np.asarray(values, dtype=np.float64))
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"expected a non-empty 1-D array of values, got shape {values.shape}")
    _checks.check_finite(values, "values")
    built = [family.build(float(v)) for v in values]  # the registry makes whole ints int
    source = recorded_source(family, built)
    players = sorted({g.n_players for g in built})
    if len(players) > 1:
        raise ValueError(f"expected a parameter that keeps the number of players, got {param!r} giving "
                         f"{players[0]} to {players[-1]} players (certify each size on its own)")
    options = {"spec": bounds, "n_samples": n_samples, "seed": seed, "region": region}
    for g in (built[0], built[-1]):  # options that do not apply are refused before any work
        resolve(game=g, **options)
    batched = bounds in ("auto", "exact") and region is None and n_samples is None and seed is None
    if batched and all(g.is_affine and g.geometry == "euclidean" and g.dims == built[0].dims for g in built):
        result = sweep_games(built, mesh=mesh, margin_tol=margin_tol, param=param, values=values,
                             game_name=family.name, params=params)
        return dataclasses.replace(result, source=source)
    result = _fallback_loop(family.name, param, built, values, params, margin_tol, options, progress)
    return dataclasses.replace(result, source=source)


# --- sampled bounds and region tilings ----------------------------------------------------------


def _point_quantities(game: Game, points: np.ndarray, mesh: Mesh):
    """Per-point F, J, mu, block norms, ||J||, lambda_min(sym J) (points sharded)."""
    n = points.shape[0]
    pts = _put(points, mesh)
    ok_d, j_d = sharded_jacobian_kernel(game.pseudo_gradient, mesh)(pts)  # J stays on the devices
    mu_d, norms_d, lip_d, euc_d = _matrix_quantities(j_d, tuple(game.dims), mesh)
    finite = _fetch(ok_d, n)
    return j_d, finite, _fetch(mu_d, n), _fetch(norms_d, n), _fetch(lip_d, n), _fetch(euc_d, n)


def _tiles(reg: Region, divisions):
    d = reg.dim
    div = np.broadcast_to(np.asarray(divisions), (d,)) if np.ndim(divisions) == 0 else np.asarray(divisions)
    if div.shape != (d,) or not np.all(div == np.floor(div)) or np.any(div < 1):
        raise ValueError(f"expected divisions as a positive int or {d} positive ints, got {divisions!r}")
    div = div.astype(int)
    if int(np.prod(div.astype(float))) > MAX_ITEMS:
        raise ValueError(f"expected at most {MAX_ITEMS} tiles, got {int(np.prod(div.astype(float)))}")
    idx = np.stack(np.meshgrid(*[np.arange(k) for k in div], indexing="ij"), -1).reshape(-1, d)
    width = (reg.hi - reg.lo) / div
    lo = reg.lo + idx * width
    hi = np.where(idx == div - 1, reg.hi, reg.lo + (idx + 1) * width)
    return lo, hi, tuple(int(k) for k in div)


def certify_region_grid(game: Game, region=None, *, divisions=4, n_samples: int = 64, seed: int = 0,
                        mesh: Mesh | None = None, margin_tol: float = MARGIN_TOL) -> RegionMap:
    r"""Certification map over a tiling of a box: sampled SGN bounds and margin per tile.

    The box is cut into ``divisions`` tiles per coordinate. Each tile is sampled at its
    vertices (when ``dim <= 10``), ``n_samples`` seeded uniform points and its centre; all
    tiles' points go through one sharded ``jit(vmap(jacfwd(F)))``, then per-point block
    quantities, per-tile extremes, Perron weights and :math:`\alpha_*(w)` per tile.

    Args:
      game: a Euclidean-geometry game.
      region: the box (default: the game's region).
      divisions: tiles per coordinate (int or one int per coordinate).
      n_samples: uniform points per tile.
      seed: sampling seed (results do not depend on the device count).
      mesh: device mesh (default: all devices).
      margin_tol: relative tolerance applied against certifying.

    Returns:
      :class:`RegionMap` (float64; sampled: an estimate per tile).

    Raises:
      ValueError: no region, bad divisions, too many tiles.

    Examples:
      >>> import games
      >>> m = certify_region_grid(games.get_game("tanh-sin"), divisions=2, n_samples=8)
      >>> m.margin.shape, bool(m.certified.all())
      ((4,), True)
    """
    reg = as_region(game, region)
    if reg is None:
        raise ValueError(f"expected a compact region to tile for {game.name!r}, got none")
    _checks.check_int(n_samples, "n_samples", least=0)
    lo, hi, div = _tiles(reg, divisions)
    t, d = lo.shape
    unit_box = Region(np.zeros(d), np.ones(d))
    corners = sample_points(unit_box, vertices=True, center=False)  # the 2^d vertices when few
    uniform = sample_points(unit_box, n_samples=t * int(n_samples), seed=seed, vertices=False, center=False)
    parts = [np.broadcast_to(corners[None], (t,) + corners.shape),
             uniform.reshape(t, int(n_samples), d), np.full((t, 1, d), 0.5)]
    unit = np.concatenate(parts, axis=1)
    points = lo[:, None, :] + unit * (hi - lo)[:, None, :]
    per_tile = points.shape[1]
    mesh = make_mesh() if mesh is None else mesh
    dims = tuple(game.dims)
    with jax.enable_x64(True):
        flat = points.reshape(-1, d)
        if not game.is_unconstrained:
            flat = np.asarray(jax.vmap(game.project)(jnp.asarray(flat)))
        j_d, finite, mu_p, norms_p, lip_p, euc_p = _point_quantities(game, flat, mesh)
        shape = (t, per_tile)
        ok = finite.reshape(shape).all(1)
        mu = mu_p.reshape(shape + mu_p.shape[1:]).min(1)
        _, coupling = _split_norms(norms_p.reshape(shape + norms_p.shape[1:]).max(1))
        euc = euc_p.reshape(shape).min(1)
        mu = np.where(ok[:, None], mu, np.nan)
        w_d, _, _, margin_d = _kernel("weights", dims, mesh)(_put(mu, mesh), _put(coupling, mesh))
        weights, margin = _fetch(w_d, t), _fetch(margin_d, t)
        w_points = _put(np.repeat(weights, per_tile, axis=0), mesh)
        wn = _fetch(_kernel("weighted_norm", dims, mesh)(j_d, w_points), t * per_tile)
        wmin = _fetch(_kernel("weighted_min", dims, mesh)(j_d, w_points), t * per_tile)
    bad = np.where(ok, 0.0, np.nan)  # a tile with a non-finite point decides nothing
    q = {"mu": mu, "coupling": coupling, "weights": weights, "margin": margin + bad,
         "euclidean_margin": euc + bad, "beta": wn.reshape(shape).max(1)}
    q = _decided(q, wmin.reshape(shape).min(1) + bad, lip_p.reshape(shape).max(1), margin_tol)
    with np.errstate(divide="ignore", invalid="ignore"):
        euler = np.where(q["certified"], np.asarray(sgn.euler_step_bound(q["margin"], q["beta"])), 0.0)
    return RegionMap(lo=lo, hi=hi, divisions=div, mu=mu, coupling=coupling, weights=q["weights"],
                     margin=q["margin"], sgn_margin=q["sgn_margin"], euclidean_margin=euc, beta=q["beta"],
                     euler_step=euler,
                     certified=q["certified"], proved_by=q["proved_by"], n_points=per_tile,
                     n_devices=mesh.devices.size)
