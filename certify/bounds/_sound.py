"""Sound block bounds of a game's Jacobian over a box: subdivision, branch and bound, padded grids.

Three drivers produce :class:`~certify._bound_types.BlockBounds` with ``kind="sound"``, i.e.

.. math::

   \\mu_i\\le\\inf_{x\\in X}\\lambda_{\\min}(\\operatorname{sym}J_{ii}(x)),\\qquad
   L_{ij}\\ge\\sup_{x\\in X}\\lVert J_{ij}(x)\\rVert_2,\\qquad
   \\ell\\ge\\sup_{x\\in X}\\lVert DF(x)\\rVert_2, \\ \\dots

on a box :math:`X=[lo,hi]`:

* :func:`sound_block_bounds`: interval Jacobians (:mod:`certify._interval`) on a uniform grid of
  sub-boxes :math:`X=\\bigcup_k X_k`, reduced per box (:mod:`certify._interval._matrix`) and then
  worst case over boxes (never the bound of the hull, which forgets correlations).
* :func:`refine_block_bounds`: branch and bound; bisect the boxes that bind the bound, along their
  widest coordinate, until a user decision (e.g. "the SGN comparison matrix is a nonsingular
  M-matrix") is reached or the budget is spent.
* :func:`lipschitz_padded_bounds`: exact values on a grid, padded by a bound :math:`H` on the
  Lipschitz constant of :math:`x\\mapsto DF(x)` times the grid's covering radius :math:`\\rho`.

The arithmetic is in the dtype of ``lo``/``hi``; float64 is required for the soundness claims
(the engine's outward rounding is calibrated for float64 on CPU).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from scipy.stats import rankdata

from certify._bound_types import BlockBounds
from certify._interval._engine import interval_jacobian
from certify._interval._matrix import _check_dims, _nonneg_norm, _per_box_bounds, _worst_case

__all__ = [
    "RefineRecord",
    "interval_jacobian_grid",
    "lipschitz_padded_bounds",
    "refine_block_bounds",
    "sound_block_bounds",
]

_EPS = float(np.finfo(np.float64).eps)
_QUANTITIES = ("mu", "coupling", "block_norm", "lipschitz", "euclidean_margin")
_LOWER = ("mu", "euclidean_margin")  # lower bounds: smaller is worse
_MIN_BATCH = 32  # smallest padded batch: fewer distinct shapes, hence fewer compilations


@functools.lru_cache(maxsize=64)
def _batched_jacobian(F, assume_continuous):
    return jax.jit(jax.vmap(lambda a, b: interval_jacobian(F, a, b, assume_continuous=assume_continuous)))


def _check_box(lo, hi):
    lo = np.asarray(lo)
    hi = np.asarray(hi)
    if lo.ndim != 1 or lo.shape != hi.shape or lo.shape[0] == 0:
        raise ValueError(f"expected lo and hi of one shape (n,), got {lo.shape} and {hi.shape}")
    if not (np.issubdtype(lo.dtype, np.floating) and np.issubdtype(hi.dtype, np.floating)):
        raise TypeError(f"expected floating lo and hi, got {lo.dtype} and {hi.dtype}")
    if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):
        raise ValueError("expected finite box corners, got NaN or Inf")
    if np.any(lo > hi):
        raise ValueError(f"expected lo <= hi, got lo={lo} and hi={hi}")
    dtype = np.result_type(lo.dtype, hi.dtype)
    return lo.astype(dtype), hi.astype(dtype)


def _subdivide(lo, hi, subdivisions):
    n = lo.shape[0]
    ks = (subdivisions,) * n if np.ndim(subdivisions) == 0 else tuple(subdivisions)
    if len(ks) != n or any(int(k) != k or k < 1 for k in ks):
        raise ValueError(f"expected subdivisions >= 1 (an int or {n} ints), got {subdivisions!r}")
    ks = tuple(int(k) for k in ks)
    edges = [lo[m] + (hi[m] - lo[m]) * np.arange(ks[m] + 1) / ks[m] for m in range(n)]
    for m in range(n):
        edges[m][-1] = hi[m]
    idx = np.stack(np.meshgrid(*[np.arange(k) for k in ks], indexing="ij"), -1).reshape(-1, n)
    cols = range(n)
    blo = np.stack([edges[m][idx[:, m]] for m in cols], -1)
    bhi = np.stack([edges[m][idx[:, m] + 1] for m in cols], -1)
    return blo, bhi


def _evaluate(F, blo, bhi, *, assume_continuous, pad=True):
    """Interval Jacobians of many boxes in one jitted call (batch padded to a power of two)."""
    nb = blo.shape[0]
    size = max(_MIN_BATCH, 1 << max(0, math.ceil(math.log2(nb)))) if pad else nb
    if size > nb:
        blo = np.concatenate([blo, np.repeat(blo[:1], size - nb, axis=0)])
        bhi = np.concatenate([bhi, np.repeat(bhi[:1], size - nb, axis=0)])
    jlo, jhi = _batched_jacobian(F, assume_continuous)(jnp.asarray(blo), jnp.asarray(bhi))
    jlo, jhi = np.asarray(jlo), np.asarray(jhi)
    if jlo.ndim != 3 or jlo.shape[1] != jlo.shape[2]:
        raise ValueError(f"expected F: R^n -> R^n, got Jacobian shape {jlo.shape[1:]}")
    return jlo[:nb], jhi[:nb]


def interval_jacobian_grid(F, lo, hi, *, subdivisions=1, assume_continuous=False):
    """Interval Jacobians of a uniform grid of sub-boxes of ``[lo, hi]``, in one jitted call.

    Args:
      F: ``(n,) -> (n,)`` pseudo-gradient written in JAX.
      lo: ``(n,)`` lower corner (float64 for soundness).
      hi: ``(n,)`` upper corner.
      subdivisions: pieces per axis, an int or ``n`` ints; ``prod`` sub-boxes in all.
      assume_continuous: see :func:`certify._interval.interval_jacobian`.

    Returns:
      ``(box_lo, box_hi, Jlo, Jhi)``: ``(n_boxes, n)`` corners and ``(n_boxes, n, n)`` enclosures.

    Raises:
      ValueError, TypeError: for a malformed box or subdivision.
    """
    lo, hi = _check_box(lo, hi)
    blo, bhi = _subdivide(lo, hi, subdivisions)
    jlo, jhi = _evaluate(F, blo, bhi, assume_continuous=assume_continuous, pad=False)
    return blo, bhi, jlo, jhi


def sound_block_bounds(F, lo, hi, dims, *, subdivisions=1, assume_continuous=False, exact_max_dim=10) -> BlockBounds:
    """Sound :class:`BlockBounds` of ``F`` over the box ``[lo, hi]``.

    The box is cut into a uniform grid of sub-boxes :math:`X_k`; on each, the interval-jet
    enclosure :math:`[J](X_k)\\ni DF(x)` is reduced to per-box bounds (Hertz/Weyl for
    :math:`\\lambda_{\\min}`, vertex or magnitude norms), and the result is the worst case over
    :math:`k`, e.g. :math:`\\mu_i=\\min_k\\mu_i(X_k)`. Finer grids give tighter bounds (the
    enclosure's overestimation is :math:`O(\\text{width})`), at :math:`\\prod_m k_m` boxes.

    Not jit-compatible: the matrix reductions run in NumPy on the host (see
    :mod:`certify._interval._matrix` on the XLA CPU deadlock); the Jacobian enclosures of all
    sub-boxes are one ``jit(vmap)`` call.

    Args:
      F: ``(d,) -> (d,)`` pseudo-gradient written in JAX.
      lo: ``(d,)`` lower corner of the box (float64 for soundness).
      hi: ``(d,)`` upper corner.
      dims: player block sizes, summing to ``d``.
      subdivisions: pieces per axis (an int or ``d`` ints).
      assume_continuous: see :func:`certify._interval.interval_jacobian`.
      exact_max_dim: size limit of the exact vertex formulas.

    Returns:
      :class:`BlockBounds` with ``kind="sound"`` and ``n_points`` = number of sub-boxes.

    Raises:
      ValueError, TypeError: for a malformed box, dims or subdivision.
      NotImplementedError: if ``F`` uses a primitive without a sound rule.

    Examples:
      >>> import jax.numpy as jnp
      >>> F = lambda z: jnp.stack([z[0] + 0.5 * jnp.tanh(z[1]), z[1] - 0.8 * jnp.sin(z[0])])
      >>> b = sound_block_bounds(F, -jnp.ones(2), jnp.ones(2), (1, 1))
      >>> round(float(b.coupling[0, 1]), 9), round(float(b.coupling[1, 0]), 9)
      (0.5, 0.8)
    """
    lo, hi = _check_box(lo, hi)
    _check_dims(dims, lo.shape[0])
    blo, bhi = _subdivide(lo, hi, subdivisions)
    jlo, jhi = _evaluate(F, blo, bhi, assume_continuous=assume_continuous)
    return _worst_case(_per_box_bounds(jlo, jhi, dims, exact_max_dim=exact_max_dim))


@dataclasses.dataclass(frozen=True)
class RefineRecord:
    """What :func:`refine_block_bounds` did.

    Attributes:
      rounds: bisection rounds run.
      boxes: boxes in the final partition.
      decided: whether ``decide`` returned True on the final bounds.
      evaluations: boxes whose interval Jacobian was computed (all rounds).
      box_lo: ``(boxes, d)`` lower corners of the final partition.
      box_hi: ``(boxes, d)`` upper corners.
    """

    rounds: int
    boxes: int
    decided: bool
    evaluations: int
    box_lo: np.ndarray
    box_hi: np.ndarray


def _badness(per, quantities):
    """Per-box, per-quantity values oriented so that larger = worse; (n_boxes, n_q) array."""
    cols = []
    for q in quantities:
        v = per[q].reshape(per[q].shape[0], -1)
        if q == "coupling":
            n = per[q].shape[1]
            v = v[:, ~np.eye(n, dtype=bool).ravel()]
        cols.append(-v if q in _LOWER else v)
    return np.concatenate(cols, axis=1)


def _scores(per, quantities):
    """Rank score in (0, 1] per box: how close it is to the worst box of some quantity."""
    bad = _badness(per, quantities)
    nb = bad.shape[0]
    bad = np.nan_to_num(bad, nan=np.inf, posinf=1e300, neginf=-1e300)
    spread = bad.max(axis=0) - bad.min(axis=0)
    active = spread > 1e-12 * (1.0 + np.abs(bad).max(axis=0))
    if not np.any(active):
        active[:] = True
    ranks = np.stack([rankdata(bad[:, c], method="max") for c in np.flatnonzero(active)], 1)
    pct = ranks / nb
    return pct.max(axis=1) + 1e-3 * pct.mean(axis=1)


def refine_block_bounds(
    F,
    lo,
    hi,
    dims,
    *,
    decide: Callable[[BlockBounds], bool],
    max_rounds: int = 16,
    max_boxes: int = 4096,
    split_fraction: float = 0.25,
    quantities: Sequence[str] = ("mu", "coupling"),
    assume_continuous: bool = False,
    exact_max_dim: int = 10,
) -> tuple[BlockBounds, RefineRecord]:
    """Branch and bound on the box until ``decide(bounds)`` holds or the budget is spent.

    Each round ranks the boxes of the current partition by how close each is to the worst box
    of one of ``quantities`` (e.g. the one with the smallest :math:`\\mu_i` or largest
    :math:`L_{ij}`), bisects the top ``split_fraction`` of them (at least one) along the
    coordinate that is widest relative to the original box, and evaluates all children in one
    jitted, vmapped call (batch padded to a power of two so shapes repeat). The bounds are the
    worst case over the partition, so they stay sound in every round and tighten as the boxes
    that bind them shrink.

    Not jit-compatible (host loop; NumPy reductions).

    Args:
      F: ``(d,) -> (d,)`` pseudo-gradient written in JAX.
      lo: ``(d,)`` lower corner (float64 for soundness).
      hi: ``(d,)`` upper corner.
      dims: player block sizes, summing to ``d``.
      decide: host predicate on :class:`BlockBounds`; True stops the search (e.g. "the comparison
        matrix with these :math:`\\mu, L` is a nonsingular M-matrix").
      max_rounds: largest number of bisection rounds.
      max_boxes: largest partition size.
      split_fraction: fraction of boxes bisected per round.
      quantities: which fields of :class:`BlockBounds` the ranking looks at.
      assume_continuous: see :func:`certify._interval.interval_jacobian`.
      exact_max_dim: size limit of the exact vertex formulas.

    Returns:
      ``(bounds, record)``: the final sound :class:`BlockBounds` and a :class:`RefineRecord`.

    Raises:
      ValueError, TypeError: for a malformed box, dims, budget or quantity name.

    Examples:
      >>> import jax.numpy as jnp
      >>> F = lambda z: jnp.stack([z[0] + 0.5 * jnp.tanh(z[1]), z[1] - 0.8 * jnp.sin(z[0])])
      >>> b, rec = refine_block_bounds(F, -jnp.ones(2), jnp.ones(2), (1, 1),
      ...                              decide=lambda b: b.lipschitz < 1.5)
      >>> rec.decided, b.lipschitz < 1.5
      (True, True)
    """
    lo, hi = _check_box(lo, hi)
    _check_dims(dims, lo.shape[0])
    if not callable(decide):
        raise TypeError(f"expected a callable decide, got {type(decide).__name__}")
    if int(max_rounds) < 0 or int(max_boxes) < 1:
        raise ValueError(f"expected max_rounds >= 0 and max_boxes >= 1, got {max_rounds}, {max_boxes}")
    if not 0.0 < float(split_fraction) <= 1.0:
        raise ValueError(f"expected 0 < split_fraction <= 1, got {split_fraction}")
    bad_q = [q for q in quantities if q not in _QUANTITIES]
    if not quantities or bad_q:
        raise ValueError(f"expected quantities among {_QUANTITIES}, got {tuple(quantities)}")

    def reduce(a, b):
        return _per_box_bounds(a, b, dims, exact_max_dim=exact_max_dim)

    width0 = np.where(hi > lo, hi - lo, 1.0)
    blo, bhi = lo[None].copy(), hi[None].copy()
    per = reduce(*_evaluate(F, blo, bhi, assume_continuous=assume_continuous))
    evaluations = 1
    bounds = _worst_case(per)
    decided = bool(decide(bounds))
    rounds = 0
    while not decided and rounds < int(max_rounds):
        nb = blo.shape[0]
        n_split = min(max(1, math.ceil(float(split_fraction) * nb)), int(max_boxes) - nb)
        rel = (bhi - blo) / width0
        if n_split <= 0 or not np.any(rel > 0):
            break
        score = _scores(per, quantities)
        score = np.where(rel.max(axis=1) > 0, score, -np.inf)
        pick = np.argsort(-score, kind="stable")[:n_split]
        pick = pick[np.isfinite(score[pick])]
        axis = np.argmax(rel[pick], axis=1)
        mid = 0.5 * (blo[pick, axis] + bhi[pick, axis])
        lo1, hi1 = blo[pick].copy(), bhi[pick].copy()
        lo2, hi2 = blo[pick].copy(), bhi[pick].copy()
        hi1[np.arange(len(pick)), axis] = mid
        lo2[np.arange(len(pick)), axis] = mid
        clo, chi = np.concatenate([lo1, lo2]), np.concatenate([hi1, hi2])
        cper = reduce(*_evaluate(F, clo, chi, assume_continuous=assume_continuous))
        evaluations += clo.shape[0]
        keep = np.ones(nb, bool)
        keep[pick] = False
        blo = np.concatenate([blo[keep], clo])
        bhi = np.concatenate([bhi[keep], chi])
        per = {k: np.concatenate([per[k][keep], cper[k]]) for k in per}
        rounds += 1
        bounds = _worst_case(per)
        decided = bool(decide(bounds))
    record = RefineRecord(
        rounds=rounds,
        boxes=int(blo.shape[0]),
        decided=decided,
        evaluations=evaluations,
        box_lo=blo,
        box_hi=bhi,
    )
    return bounds, record


def _hessian_blocks(F, lo, hi, sl, assume_continuous):
    """Sound Lipschitz constants of ``x -> J_IJ(x)`` (spectral norm) for all block pairs."""
    d = lo.shape[0]

    def jac_flat(x):
        return jax.jacfwd(F)(x).reshape(-1)

    tlo, thi = jax.jit(lambda a, b: interval_jacobian(jac_flat, a, b, assume_continuous=assume_continuous))(
        jnp.asarray(lo), jnp.asarray(hi)
    )
    tlo, thi = np.asarray(tlo).reshape(d, d, d), np.asarray(thi).reshape(d, d, d)
    mag = np.maximum(np.abs(tlo), np.abs(thi))  # |d_m J_kl| <= mag[k, l, m]

    def lip(si, sj):
        # ||sum_m u_m T_m||_2 <= sum_m |u_m| ||mag_m||_2 <= ||u||_2 sqrt(sum_m ||mag_m||_2^2)
        blocks = np.moveaxis(mag[si, sj, :], -1, 0)
        if not np.all(np.isfinite(blocks)):
            return np.inf
        norms = _nonneg_norm(blocks)
        return float(np.sqrt(np.sum(norms**2)) * (1.0 + 8.0 * _EPS))

    n = len(sl)
    h = np.array([[lip(sl[i], sl[j]) for j in range(n)] for i in range(n)])
    full = lip(slice(0, d), slice(0, d))
    return h, full


def lipschitz_padded_bounds(
    F,
    lo,
    hi,
    dims,
    *,
    grid: int | Sequence[int] = 9,
    hessian_bound: float | None = None,
    assume_continuous: bool = False,
    exact_max_dim: int = 10,
) -> BlockBounds:
    """Sound bounds from exact values on a grid, padded by a Jacobian Lipschitz constant.

    Let :math:`G\\subset X` be a grid with ``grid`` points per axis (corners included) and
    covering radius :math:`\\rho=\\tfrac12\\lVert(s_1,\\dots,s_d)\\rVert_2` (:math:`s_m` the
    spacing), so every :math:`x\\in X` has a grid point :math:`g` with
    :math:`\\lVert x-g\\rVert_2\\le\\rho`. If :math:`\\lVert J_{IJ}(x)-J_{IJ}(y)\\rVert_2\\le
    H_{IJ}\\lVert x-y\\rVert_2` on :math:`X` (a Lipschitz bound in the spectral norm and the
    Euclidean norm on :math:`x`), then, since :math:`\\lVert\\cdot\\rVert_2` is 1-Lipschitz in the
    spectral norm and :math:`|\\lambda_{\\min}(\\operatorname{sym}A)-
    \\lambda_{\\min}(\\operatorname{sym}B)|\\le\\lVert\\operatorname{sym}(A-B)\\rVert_2\\le
    \\lVert A-B\\rVert_2` (Weyl),

    .. math::

       \\mu_i\\ge\\min_{g\\in G}\\lambda_{\\min}(\\operatorname{sym}J_{ii}(g))-H_{ii}\\rho,\\qquad
       L_{ij}\\le\\max_{g\\in G}\\lVert J_{ij}(g)\\rVert_2+H_{ij}\\rho,

    and likewise for block norms, :math:`\\sup\\lVert DF\\rVert_2` and
    :math:`\\inf\\lambda_{\\min}(\\operatorname{sym}DF)` with the full-matrix :math:`H`. The grid
    values themselves are interval-jet enclosures at the points (so rounding is covered). When
    ``hessian_bound`` is None, :math:`H_{IJ}` comes from the interval engine applied to
    :math:`x\\mapsto DF(x)` over :math:`X`: with :math:`\\bar T_m\\ge|\\partial_m J_{IJ}|` entry-wise,
    :math:`\\lVert\\sum_m u_m\\partial_m J\\rVert_2\\le\\sum_m|u_m|\\lVert\\bar T_m\\rVert_2\\le
    \\lVert u\\rVert_2(\\sum_m\\lVert\\bar T_m\\rVert_2^2)^{1/2}` (Perron-Frobenius, Cauchy-Schwarz).
    A user ``hessian_bound`` must bound the Lipschitz constant of the full :math:`DF`, which
    bounds every block's. Our own construction (standard covering argument).

    Not jit-compatible (host reductions). Cost: ``grid ** d`` points.

    Args:
      F: ``(d,) -> (d,)`` pseudo-gradient written in JAX (twice differentiable for the default
        Hessian bound).
      lo: ``(d,)`` lower corner (float64 for soundness).
      hi: ``(d,)`` upper corner.
      dims: player block sizes, summing to ``d``.
      grid: points per axis (>= 2), an int or ``d`` ints.
      hessian_bound: optional Lipschitz constant of :math:`DF` on the box (spectral norm).
      assume_continuous: see :func:`certify._interval.interval_jacobian`.
      exact_max_dim: size limit of the exact vertex formulas (per point; radii are tiny).

    Returns:
      :class:`BlockBounds` with ``kind="sound"`` and ``n_points`` = grid size.

    Raises:
      ValueError, TypeError: for a malformed box, dims, grid or ``hessian_bound``.

    Examples:
      >>> import jax.numpy as jnp
      >>> F = lambda z: jnp.stack([z[0] + 0.5 * jnp.tanh(z[1]), z[1] - 0.8 * jnp.sin(z[0])])
      >>> b = lipschitz_padded_bounds(F, -jnp.ones(2), jnp.ones(2), (1, 1), grid=33)
      >>> bool(0.5 <= b.coupling[0, 1] < 0.6 and 0.9 < b.mu[0] <= 1.0)
      True
    """
    lo, hi = _check_box(lo, hi)
    d = lo.shape[0]
    _, sl = _check_dims(dims, d)
    ks = (grid,) * d if np.ndim(grid) == 0 else tuple(grid)
    if len(ks) != d or any(int(k) != k or k < 2 for k in ks):
        raise ValueError(f"expected grid >= 2 points per axis (an int or {d} ints), got {grid!r}")
    axes = [np.clip(lo[m] + (hi[m] - lo[m]) * np.linspace(0.0, 1.0, int(ks[m])), lo[m], hi[m])
            for m in range(d)]  # fmt: skip
    pts = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, d)
    spacing = np.array([np.max(np.diff(a)) for a in axes])
    scale = float(np.max(np.maximum(np.abs(lo), np.abs(hi))))
    rho = 0.5 * float(np.linalg.norm(spacing)) * (1.0 + 8.0 * _EPS) + 8.0 * _EPS * scale * d

    if hessian_bound is None:
        h, h_full = _hessian_blocks(F, lo, hi, sl, assume_continuous)
    else:
        hb = float(hessian_bound)
        if not hb >= 0.0:
            raise ValueError(f"expected a nonnegative hessian_bound, got {hessian_bound!r}")
        h, h_full = np.full((len(sl), len(sl)), hb), hb
    pad, pad_full = h * rho * (1.0 + 4.0 * _EPS), h_full * rho * (1.0 + 4.0 * _EPS)

    jlo, jhi = _evaluate(F, pts, pts, assume_continuous=assume_continuous)
    b = _worst_case(_per_box_bounds(jlo, jhi, dims, exact_max_dim=exact_max_dim))
    n = len(sl)
    off = ~np.eye(n, dtype=bool)
    return BlockBounds(
        mu=b.mu - np.diag(pad),
        coupling=np.where(off, b.coupling + pad, 0.0),
        block_norm=b.block_norm + np.diag(pad),
        lipschitz=float(b.lipschitz + pad_full),
        euclidean_margin=float(b.euclidean_margin - pad_full),
        kind="sound",
        n_points=int(pts.shape[0]),
    )
