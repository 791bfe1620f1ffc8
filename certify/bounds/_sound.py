r"""Sound block bounds of a game's Jacobian over a box: subdivision, branch and bound, padded grids.

Three drivers produce :class:`~certify._bound_types.BlockBounds` with ``kind="sound"``, i.e.

.. math::

   \mu_i\le\inf_{x\in X}\lambda_{\min}(\operatorname{sym}J_{ii}(x)),\qquad
   L_{ij}\ge\sup_{x\in X}\lVert J_{ij}(x)\rVert_2,\qquad
   \ell\ge\sup_{x\in X}\lVert DF(x)\rVert_2, \ \dots

on a box :math:`X=[lo,hi]` (:math:`J` the Clarke generalised Jacobian where ``F`` has kinks):

* :func:`sound_block_bounds`: interval Jacobians (:mod:`certify._interval`) on a uniform grid of
  sub-boxes :math:`X=\bigcup_k X_k`, reduced per box (:mod:`certify._interval._matrix`) and then
  worst case over boxes (never the bound of the hull, which forgets correlations).
* :func:`refine_block_bounds`: branch and bound; bisect the boxes that bind the bound, along their
  widest coordinate, until a user decision is reached or the budget is spent.
* :func:`lipschitz_padded_bounds`: exact Jacobians on a grid, padded by a bound :math:`H` on the
  Lipschitz constant of :math:`x\mapsto DF(x)` times the grid's covering radius.

Every driver's Jacobian enclosure of a box is the engine's intersected with an affine-form
(first-order Taylor-model) enclosure of :math:`x\mapsto DF(x)` where ``F`` is a smooth float64
program (:mod:`certify._interval._affine`, :class:`_AffineJacobian`): both are sound, and the
affine one keeps the correlations that interval propagation loses, its overestimation second
order in the box radius (the registered ``neural-duel`` is certified by ``interval`` with it).

Contract with the pipeline (``F`` as written: domain edges, NaN guards, ``custom_jvp``,
``stop_gradient``, steps and branches all count):

* ``F`` may be NaN or undefined somewhere on the region (a domain edge, ``0 * inf``): the bounds
  come back NaN with :attr:`BlockBounds.reason` naming the operation (report *invalid*);
* the Jacobian enclosure is unbounded (a derivative blow-up at a domain edge, or boxes too coarse
  for an enclosure): the bounds come back infinite, with a reason;
* ``F`` may jump on the region (``jnp.where``/``lax.cond``/``floor``/``sign`` whose switch could not
  be proven continuous), a primitive has no sound rule, or a mode would exceed its budget:
  :class:`~certify._interval.NotEnclosable` is raised, with ``kind`` and ``reason``;
* malformed arguments (including budgets asked for that are too large up front) raise
  ``ValueError``/``TypeError``.

Costs (one interval enclosure of a box costs about :math:`n+1` evaluations of ``F`` and
:math:`n` times its memory, :math:`n` the dimension; it is compiled once per structure of ``F``
and batch size; the rounding pass of :mod:`certify._interval._rounding` is a second program, about
twice the enclosure's compilation, compiled and run only when a certificate needs the rounding
bound; the affine form of a smooth ``F`` is a third, compiled once per program and batch size,
about :math:`n` times the memory of an enclosure): ``sound_block_bounds`` evaluates
:math:`\prod_m k_m` boxes; ``refine`` at most ``max_boxes`` boxes in all rounds together (plus
host reductions per box: :math:`O(d^3)`, with :math:`2^{d_i-1}` eigenproblems for small blocks);
``padded`` evaluates the grid points
(capped at ``max_points``) and one second-order enclosure of the whole box (about :math:`n^2`
evaluations of ``F``). The arithmetic is in the dtype of ``lo``/``hi``; float64 is required for
the soundness claims (the engine's outward rounding is calibrated for float64 on CPU).
"""

from __future__ import annotations

import collections
import dataclasses
import functools
import math
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.extend import core as jcore

from certify._bound_types import BlockBounds
from certify._interval import _ir, _patterns
from certify._interval._affine import NotAffine, affine_range
from certify._interval._errors import NotEnclosable
from certify._interval._interpreter import STATIC_CONST_SIZE, compile_enclosure, compile_program, subnormal
from certify._interval._matrix import _check_dims, _nonneg_norm, _per_box_bounds, _worst_case, norm2_upper
from sgn import _checks

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
_MIN_BATCH = 32  # batches are padded to one of two sizes: fewer distinct shapes, fewer compilations
_BIG_BATCH = 1024
MAX_BOXES = 1 << 16
"""Default budget of sub-boxes for :func:`sound_block_bounds`."""
MAX_POINTS = 1 << 15
"""Default budget of grid points for :func:`lipschitz_padded_bounds`."""
_BATCH_BYTES = 1 << 30  # memory budget of one batched enclosure call (rough estimate)
_WORK_BYTES = 1 << 42  # budget of interval data processed by one bound computation (~4 TiB: hours on a CPU)


def _check_box(lo, hi):
    lo = np.asarray(lo)
    hi = np.asarray(hi)
    if lo.ndim != 1 or lo.shape != hi.shape or lo.shape[0] == 0:
        raise ValueError(f"expected lo and hi of one shape (n,), got {lo.shape} and {hi.shape}")
    if not (np.issubdtype(lo.dtype, np.floating) and np.issubdtype(hi.dtype, np.floating)):
        raise TypeError(f"expected floating lo and hi, got {lo.dtype} and {hi.dtype}")
    _checks.check_box(lo, hi, "box")
    dtype = np.result_type(lo.dtype, hi.dtype)
    return lo.astype(dtype), hi.astype(dtype)


def _counts(per_axis, n, what, minimum):
    if np.ndim(per_axis) == 0:  # one count for every axis: checked once (n may be millions)
        ok = not isinstance(per_axis, bool) and int(per_axis) == per_axis and per_axis >= minimum
        if not ok:
            raise ValueError(f"expected {what} >= {minimum} (an int or {n} ints), got {per_axis!r}")
        return (int(per_axis),) * n
    ks = tuple(per_axis)
    if len(ks) != n or any(isinstance(k, bool) or int(k) != k or k < minimum for k in ks):
        raise ValueError(f"expected {what} >= {minimum} (an int or {n} ints), got {per_axis!r}")
    return tuple(int(k) for k in ks)


def _check_budget(ks, budget, what, hint):
    n_split = sum(1 for k in ks if k > 1)
    # Each split axis at least doubles the count: past log2(budget) of them it is over budget (no
    # product of millions of factors).
    total = math.inf if n_split > math.log2(max(budget, 1)) else math.prod(ks)
    if total > budget:
        shown = f"{ks[0]}^{len(ks)}" if len(set(ks)) == 1 else " x ".join(map(str, ks))
        raise ValueError(f"expected at most {budget} {what}, got {shown} = {total:.4g} ({hint})")
    return total


def _grid_indices(ks):
    """All multi-indices of a grid with ``ks[m]`` entries per axis, row-major (no meshgrid)."""
    total = math.prod(ks)
    idx = np.empty((total, len(ks)), dtype=np.int64)
    flat = np.arange(total)
    for m in range(len(ks) - 1, -1, -1):
        idx[:, m] = flat % ks[m]
        flat //= ks[m]
    return idx


def _subdivide(lo, hi, ks):
    if math.prod(ks) == 1:  # one box (vectorised: n may be millions)
        return lo[None].copy(), hi[None].copy()
    edges = [lo[m] + (hi[m] - lo[m]) * np.arange(ks[m] + 1) / ks[m] for m in range(len(ks))]
    for m in range(len(ks)):
        edges[m][-1] = hi[m]
    idx = _grid_indices(ks)
    cols = range(len(ks))
    blo = np.stack([edges[m][idx[:, m]] for m in cols], -1)
    bhi = np.stack([edges[m][idx[:, m] + 1] for m in cols], -1)
    return blo, bhi


# --------------------------------------------------------------------------------------------
# Batched enclosures and their diagnosis.
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass
class _Boxes:
    """Enclosures of a batch of boxes (host arrays) and the compiled function behind them.

    ``rerr``/``rcause``: the rounding pass's per-box, per-entry bounds on ``|F as JAX computes it - F|``
    and the cause ids behind unbounded ones (``None`` until asked: :meth:`_Encloser.with_rounding`).
    ``source``: the :class:`_Encloser` that made them (its compiled engine is :attr:`comp`).
    """

    blo: np.ndarray
    bhi: np.ndarray
    flo: np.ndarray
    fhi: np.ndarray
    jlo: np.ndarray
    jhi: np.ndarray
    nan: np.ndarray
    vcause: np.ndarray
    tcause: np.ndarray
    source: _Encloser = dataclasses.field(repr=False, compare=False)
    rerr: np.ndarray | None = None
    rcause: np.ndarray | None = None

    _ARRAYS = ("blo", "bhi", "flo", "fhi", "jlo", "jhi", "nan", "vcause", "tcause", "rerr", "rcause")

    @property
    def comp(self):
        """The compiled engine behind the boxes (its cause sites name what made a bound unbounded)."""
        return self.source.comp

    def select(self, keep):
        return dataclasses.replace(self, **{k: None if getattr(self, k) is None else getattr(self, k)[keep]
                                            for k in self._ARRAYS})  # fmt: skip

    @staticmethod
    def concat(a, b):
        def cat(k):
            x, y = getattr(a, k), getattr(b, k)
            return None if x is None or y is None else np.concatenate([x, y])

        return dataclasses.replace(b, **{k: cat(k) for k in _Boxes._ARRAYS})


def _jaxpr_size(jaxpr, depth=0) -> int:
    """Entries computed by one evaluation of ``jaxpr``: loops count once per iteration, branches all."""
    total = 0
    for eqn in jaxpr.eqns:
        for v in eqn.outvars:
            total += int(np.prod(v.aval.shape)) if hasattr(v.aval, "shape") else 1
        if depth > 8:
            continue
        times = int(eqn.params.get("length", 1)) if eqn.primitive.name == "scan" else 1
        for val in eqn.params.values():
            for sub in val if isinstance(val, list | tuple) else (val,):
                inner = getattr(sub, "jaxpr", sub)
                if hasattr(inner, "eqns"):
                    total += times * _jaxpr_size(inner, depth + 1)
    return total


def _program_size(closed) -> int:
    """Entries computed by one evaluation of ``closed`` (at least 1); remembered for the engine's few programs."""
    # keyed by identity; the entry holds the program, so its id cannot pass to another object meanwhile
    return _cached(_SIZE_CACHE, id(closed), lambda: (closed, max(_jaxpr_size(closed.jaxpr), 1)))[1]


def _bytes_per_box(comp, n) -> int:
    """Rough memory of one box's enclosure: every value with ``n`` tangent columns, lo and hi.

    With the rounding pass, that pass (one tangent column) is counted too, as if both ran at once.
    """
    columns = (n + 3) + (4 if comp.rounding else 0)
    return _program_size(comp.closed) * columns * 8 * 3


def _power_of_two_at_most(x) -> int:
    """The largest power of two not above ``x`` (1 where ``x < 2``): batch sizes."""
    return 1 << int(math.floor(math.log2(x))) if x >= 1 else 1


def _batch_cap(comp, n) -> int:
    return _power_of_two_at_most(_BATCH_BYTES // _bytes_per_box(comp, n))


def check_cost(comp, n, n_boxes, what) -> None:
    """Cost before work: refuses (kind ``cost``) when one box exceeds the memory budget, or all boxes the work budget.

    The estimate comes from the traced program alone (entries of every value, loop bodies once per
    iteration, times the tangent width ``n``), before anything is compiled or allocated.
    """
    per_box = _bytes_per_box(comp, n)
    if per_box > _BATCH_BYTES:
        raise NotEnclosable(f"{what} would need about {per_box / 2**30:.3g} GiB for one box ({n} tangent columns "
                            f"over a program of {_program_size(comp.closed):.4g} entries), over the budget of "
                            f"{_BATCH_BYTES / 2**30:.3g} GiB; use sampled or matrix_free bounds", kind="cost")
    work = float(per_box) * float(n_boxes)
    if work > _WORK_BYTES:
        raise NotEnclosable(f"{what} would process about {work / 2**40:.3g} TiB of interval data ({n_boxes} boxes), "
                            f"over the budget of {_WORK_BYTES / 2**40:.3g} TiB; use fewer boxes", kind="cost")


def _batch_size(nb, cap) -> int:
    """Batch of ``_MIN_BATCH`` boxes, or ``_BIG_BATCH`` for many: two compilations at most."""
    size = _BIG_BATCH if nb >= _BIG_BATCH else _MIN_BATCH
    return max(1, min(size, cap))


def _chunks(blo, bhi, cap):
    """``(lo, hi, m)`` chunks of the boxes, padded to one of a few batch sizes (fewer compilations)."""
    nb = blo.shape[0]
    start = 0
    while start < nb:
        size = _batch_size(nb - start, cap)
        a, b = blo[start:start + size], bhi[start:start + size]
        m = a.shape[0]
        if m < size:
            a = np.concatenate([a, np.repeat(a[:1], size - m, axis=0)])
            b = np.concatenate([b, np.repeat(b[:1], size - m, axis=0)])
        yield a, b, m
        start += m


class _Encloser:
    """Interval enclosures of boxes for one ``F`` (traced once), in jitted chunks.

    With ``rounding`` (the default), the compiled enclosure also has the rounding pass beside it
    (:class:`certify._interval._interpreter.CompiledEnclosure`), run on the boxes of a bound only when
    a certificate needs its rounding error (:meth:`with_rounding`): a bound that certifies nothing
    never compiles it.
    """

    def __init__(self, F, n, dtype, *, assume_continuous, square=True, rounding=True, n_boxes=1,
                 what="the interval enclosure"):
        self.comp, self.dyn = compile_enclosure(F, n, dtype, assume_continuous=assume_continuous, rounding=rounding)
        check_cost(self.comp, n, n_boxes, what)
        self.cap = _batch_cap(self.comp, n)
        self.square = square
        self._affine_of = functools.cache(lambda: _AffineJacobian.of(F, n, dtype) if square else None)

    def _chunks(self, blo, bhi):
        return _chunks(blo, bhi, self.cap)

    def __call__(self, blo, bhi) -> _Boxes:
        """Enclosures of the boxes (their rounding bounds: :meth:`with_rounding`)."""
        parts = []
        for a, b, m in self._chunks(blo, bhi):
            e, _ = self.comp(self.dyn, a, b)
            parts.append([np.asarray(x)[:m] for x in e])
        flo, fhi, jlo, jhi, nan, vc, tc = (np.concatenate([p[k] for p in parts]) for k in range(len(parts[0])))
        jlo, jhi = self._tighten(blo, bhi, jlo, jhi, nan)
        flipped = jlo > jhi  # an engine inconsistency: an unbounded entry (a refusal), never an exception
        if np.any(flipped):
            jlo, jhi = np.where(flipped, -np.inf, jlo), np.where(flipped, np.inf, jhi)
        if self.square and (jlo.ndim != 3 or jlo.shape[1] != jlo.shape[2]):
            raise ValueError(f"expected F: R^n -> R^n, got Jacobian shape {jlo.shape[1:]}")
        return _Boxes(blo, bhi, flo, fhi, jlo, jhi, nan, vc, tc, self)

    def _tighten(self, blo, bhi, jlo, jhi, nan):
        """The engine's Jacobian enclosures intersected with the affine ones (:class:`_AffineJacobian`).

        Skipped (nothing compiled) where the affine form cannot help: ``F`` may be NaN or its
        enclosure is unbounded somewhere (the engine's diagnosis stands), or the enclosure is
        already exact up to rounding (an affine ``F``).
        """
        if jlo.ndim != 3 or np.any(nan) or not (np.all(np.isfinite(jlo)) and np.all(np.isfinite(jhi))):
            return jlo, jhi
        if np.all(jhi - jlo <= 1e-9 * (1.0 + np.abs(jlo) + np.abs(jhi))):
            return jlo, jhi
        affine = self._affine_of()
        if affine is None:
            return jlo, jhi
        res = affine(blo, bhi)
        if res is None:
            return jlo, jhi
        alo, ahi = res
        return tighten(jlo, jhi, alo.reshape(jlo.shape), ahi.reshape(jhi.shape))

    def with_rounding(self, boxes: _Boxes) -> _Boxes:
        """``boxes`` with the rounding pass's bounds (``rerr``, ``rcause``) over each of them."""
        if boxes.rerr is not None:
            return boxes
        parts = [[np.asarray(x)[:m] for x in self.comp.rounding_bounds(self.dyn, a, b)]
                 for a, b, m in self._chunks(boxes.blo, boxes.bhi)]  # fmt: skip
        rerr, rcause = (np.concatenate([p[k] for p in parts]) for k in range(2))
        return dataclasses.replace(boxes, rerr=rerr, rcause=rcause)


def tighten(jlo, jhi, alo, ahi):
    """The intersection of two sound enclosures, entry by entry.

    An endpoint of ``[jlo, jhi]`` is kept where the other narrows it by no more than ``1e-9`` of its
    width plus ``1e-12`` of its magnitude (rounding-level differences would only make the same bounds
    differ in their last digits between versions). An empty intersection (one of them is wrong) comes
    out with ``lo > hi``, which the caller treats as unbounded.
    """
    with np.errstate(invalid="ignore", over="ignore"):  # NaN rows (F may be NaN) and infinite widths stay
        tol = 1e-9 * (jhi - jlo) + 1e-12 * (np.abs(jlo) + np.abs(jhi))
        return np.where(alo > jlo + tol, alo, jlo), np.where(ahi < jhi - tol, ahi, jhi)


_AFFINE_CACHE: collections.OrderedDict = collections.OrderedDict()
_SIZE_CACHE: collections.OrderedDict = collections.OrderedDict()  # id(closed jaxpr) -> (it, _program_size)


def _cached(cache: collections.OrderedDict, key, make, size: int = 32):
    """``cache[key]``, made by ``make()`` on a miss (``None`` is kept too).

    Beyond ``size`` entries the least recently used goes.
    """
    if key in cache:
        cache.move_to_end(key)
        return cache[key]
    cache[key] = value = make()
    while len(cache) > size:
        cache.popitem(last=False)
    return value
_SMALL_BOX_BYTES = 1 << 20  # affine forms of one box below this: one box runs padded in the usual batch


def _dynamic_const(v) -> bool:
    """A constant passed as an argument of the affine program: a finite float array of more than 16 entries.

    None of them subnormal: those stay in the structure key, and :meth:`_AffineJacobian._make` refuses them.
    """
    try:
        a = np.asarray(v)
    except (TypeError, ValueError):
        return False
    return (a.size > STATIC_CONST_SIZE and np.issubdtype(a.dtype, np.floating) and bool(np.all(np.isfinite(a)))
            and not subnormal(a).any())  # fmt: skip


class _AffineJacobian:
    """Affine-form enclosures of ``DF`` over boxes (:mod:`certify._interval._affine`), to tighten the engine's.

    Both enclosures hold for ``F`` as written (the affine one for the exact-real Jacobian of its
    as-written program, :func:`_as_written_jacobian`), so their intersection does; an entry whose
    affine enclosure is not finite keeps the engine's. Only for smooth float64 programs: a
    construct without an affine rule (a branch on the box, a loop, a kink, another float type)
    leaves the engine's enclosure alone (:meth:`of` gives ``None``), as does a program whose one
    box would exceed the memory budget.
    """

    def __init__(self, fn, dyn, compiled, single=True):
        self.fn, self.dyn = fn, dyn
        self.compiled = compiled  # batch size -> (compiled program, its memory in bytes), shared per structure
        self.cap = _BIG_BATCH
        self.single = single  # a single box runs in a batch of its own (else padded to the usual batch)

    @classmethod
    def of(cls, F, n, dtype):
        """The affine enclosure of ``F``'s Jacobian on ``(n,)`` float64 inputs, or None where it does not apply.

        Keyed on the structure of ``F`` (its large finite float constants are arguments, as for the
        engine): functions that differ only in those share one traced and compiled program.
        """
        if np.dtype(dtype) != np.float64:
            return None
        try:  # JAX's own derivative of the as-written program; a tightening only, so a failure leaves it out
            jac = _as_written_jacobian(F, n, dtype)
        except (TypeError, ValueError, NotImplementedError):
            return None
        dyn = [jnp.asarray(c) for c in jac.closed.consts[jac.static:]]
        made = _cached(_AFFINE_CACHE, jac.key, lambda: cls._make(jac, dyn, n))
        return None if made is None else cls(made.fn, dyn, made.compiled, made.single)

    @classmethod
    def _make(cls, jac, dyn, n):
        """The program of one structure of ``F`` (None: not smooth, or over the memory budget)."""
        # Cost before work: every value with n coefficients, which XLA's buffer reuse brings down by 3-7x
        # (measured: neural-duel 370 MiB estimated, 116 MiB compiled); far over the budget, never compiled.
        box_bytes = _program_size(jac.closed) * (n + 2) * 8
        if box_bytes > 4 * _BATCH_BYTES:
            return None
        consts = _ir.program_of(jac.closed).consts.values()  # literals included
        if any(subnormal(a).any() for a in map(np.asarray, consts) if np.issubdtype(a.dtype, np.floating)):
            return None  # XLA flushes subnormal operands in the affine program's own arithmetic: the engine's stands
        own = list(jac.closed.consts[:jac.static])

        def enclose(dyn_consts, lo, hi):
            return affine_range(_ir.program_of(jac.closed, consts=own + list(dyn_consts)), lo, hi)

        batch = jax.ShapeDtypeStruct((1, n), np.float64)
        fn = jax.jit(jax.vmap(enclose, in_axes=(None, 0, 0)))
        try:
            jax.eval_shape(fn, dyn, batch, batch)  # the interpretation is traced here: NotAffine if not smooth
        except NotAffine:
            return None
        # one box alone costs a compilation more; worth it only where a padded batch runs long
        return cls(fn, dyn, {}, single=box_bytes > _SMALL_BOX_BYTES)

    def _program(self, size, n):
        if size not in self.compiled:
            spec = jax.ShapeDtypeStruct((size, n), np.float64)
            comp = compile_program(self.fn, self.dyn, spec, spec, boxes=size)
            mem = comp.memory_analysis()
            used = (mem.temp_size_in_bytes + mem.output_size_in_bytes + mem.argument_size_in_bytes) if mem else 0
            self.compiled[size] = (comp, used)
        return self.compiled[size]

    def __call__(self, blo, bhi):
        """``(jlo, jhi)``: ``(boxes, n * n)`` enclosures of ``vec DF`` over each box, or None over the budget.

        Compiled for the batch size in use (one box alone where its forms are large, else one of two
        sizes, a single box padded: one compilation serves both); where one box's program is compiled,
        batches are sized from its memory; a batch whose program needs more memory than the budget is
        halved, and a single box over the budget leaves the engine's enclosure alone.
        """
        nb, n = blo.shape
        size = 1 if nb == 1 and self.single else _batch_size(nb, self.cap)
        if nb == 1 and self.compiled and 1 not in self.compiled:  # a compiled batch serves one box (padded)
            size = min(self.compiled)
        elif size > 1 and size not in self.compiled and self.compiled.get(1, (None, 0))[1] > 0:
            # One box's memory known: a batch that fits, without compiling one that does not. Batches need
            # more per box than one box alone (neural-duel: 115 MiB alone; 2, 4, 8 boxes: 237, 543, 1316
            # MiB), so twice one box's memory each; a batch still over the budget is halved below.
            fit = _BATCH_BYTES // (2 * self.compiled[1][1])
            size = self.cap = min(size, _power_of_two_at_most(fit))
        while True:
            comp, used = self._program(size, n)
            if used <= _BATCH_BYTES:
                break
            if size == 1:
                return None
            fit = _BATCH_BYTES * size / used  # boxes per batch within the budget (fewer than size)
            size = self.cap = min(size // 2, _power_of_two_at_most(fit))  # size >= 2 here
        if nb == 1 and size == 1:
            lo_, hi_ = comp(self.dyn, blo, bhi)
            return np.asarray(lo_), np.asarray(hi_)
        outs = []
        for a, b, m in _chunks(blo, bhi, size if nb == 1 else self.cap):  # batches no larger than checked above
            lo_, hi_ = self._program(a.shape[0], n)[0](self.dyn, a, b)
            outs.append((np.asarray(lo_)[:m], np.asarray(hi_)[:m]))
        return np.concatenate([o[0] for o in outs]), np.concatenate([o[1] for o in outs])


def enclose_boxes(F, blo, bhi, *, assume_continuous, square=True, rounding=True,
                  what="the interval enclosure") -> _Boxes:
    """Interval enclosures of many boxes (see :class:`_Encloser`; ``rounding``: the rounding pass is available)."""
    enc = _Encloser(F, blo.shape[1], blo.dtype, assume_continuous=assume_continuous, square=square,
                    rounding=rounding, n_boxes=blo.shape[0], what=what)  # fmt: skip
    return enc(blo, bhi)


def rounding_bound(boxes: _Boxes) -> tuple[float, str]:
    r"""``(eps, cause)``: :math:`\sup_x\lVert\tilde F(x)-F(x)\rVert_2` over the boxes (``F`` as JAX computes it).

    Per entry the worst case over boxes of the rounding pass (:mod:`certify._interval._rounding`:
    ``boxes`` with ``rerr``, from :meth:`_Encloser.with_rounding`), then the Euclidean norm; ``inf``
    with the operation named in ``cause`` when it cannot be bounded.
    """
    per = boxes.rerr.reshape(boxes.rerr.shape[0], -1)
    worst = per.max(axis=0)
    # norm2_upper: the plain sum of squares would underflow to 0 on subnormal regions (a zero bound
    # on a nonzero error) and overflow on huge ones.
    eps = float(norm2_upper(worst))
    cause = ""
    if not math.isfinite(eps):
        rows = np.flatnonzero((~np.isfinite(per)).any(axis=1))
        site = boxes.comp.rounding_site(boxes.rcause[rows[0]]) if rows.size else None
        cause = site.message() if site is not None else "an operation whose rounding could not be bounded"
    return eps, cause


def _with_rounding(b: BlockBounds, boxes: _Boxes) -> BlockBounds:
    """``b`` with the rounding bound over ``boxes``, computed when first asked for (by a certificate).

    Only for bounds a certificate may rest on. The rounding pass is a program of its own: deferred,
    it is compiled and run only for a bound that certifies (:meth:`BlockBounds.rounding_error`). A
    construct the rounding pass cannot bound makes the error unbounded, with the engine's reason
    (the certificate is then refused for rounding), never an exception.
    """
    if b.reason:
        return b

    @functools.cache
    def bound():
        try:
            return rounding_bound(boxes.source.with_rounding(boxes))
        except NotEnclosable as err:
            return math.inf, err.reason

    return dataclasses.replace(b, rounding_fn=bound)


def _box_text(lo, hi) -> str:
    if lo.shape[0] > 4:
        return "a sub-box of the region"
    return "the sub-box " + " x ".join(f"[{a:.4g}, {b:.4g}]" for a, b in zip(lo, hi, strict=True))


@dataclasses.dataclass(frozen=True)
class _Diagnosis:
    """What is wrong with a batch of enclosures: ``kind`` in ok / undefined / discontinuous / unbounded."""

    kind: str
    reason: str = ""
    surely_nan: bool = False


def _diagnose(boxes: _Boxes) -> _Diagnosis:
    value_bad = (np.any(boxes.nan >= 1, axis=1) | np.any(~np.isfinite(boxes.flo), axis=1)
                 | np.any(~np.isfinite(boxes.fhi), axis=1))  # fmt: skip
    if np.any(value_bad):
        k = int(np.flatnonzero(value_bad)[0])
        surely = bool(np.any(boxes.nan == 2))
        if surely:
            k = int(np.flatnonzero(np.any(boxes.nan == 2, axis=1))[0])
        site = boxes.comp.site(boxes.vcause[k])
        what = site.message() if site is not None else "an operation may overflow or be NaN"
        head = "F is NaN on part of the region" if surely else "F may be NaN or infinite on the region"
        return _Diagnosis("undefined", f"{head}: {what}, e.g. on {_box_text(boxes.blo[k], boxes.bhi[k])}", surely)
    tan_bad = np.any(~np.isfinite(boxes.jlo), axis=(1, 2)) | np.any(~np.isfinite(boxes.jhi), axis=(1, 2))
    if np.any(tan_bad):
        bad = np.flatnonzero(tan_bad)
        sites = [boxes.comp.site(boxes.tcause[k]) for k in bad]
        jumps = [i for i, s in enumerate(sites) if s is not None and s.discontinuous]
        k = int(bad[jumps[0]]) if jumps else int(bad[0])
        site = sites[jumps[0]] if jumps else sites[0]
        what = site.message() if site is not None else "the derivative may overflow"
        where = _box_text(boxes.blo[k], boxes.bhi[k])
        if jumps:
            return _Diagnosis("discontinuous", f"F may jump on the region: {what}, e.g. on {where}")
        return _Diagnosis("unbounded", f"the Jacobian enclosure is unbounded on the region: {what}, e.g. on {where}")
    return _Diagnosis("ok")


def _nan_bounds(n_players, n_points, reason) -> BlockBounds:
    nan = np.full(n_players, np.nan)
    return BlockBounds(nan, np.full((n_players, n_players), np.nan), nan.copy(), np.nan, np.nan, kind="sound",
                       n_points=int(n_points), reason=reason)  # fmt: skip


def _bounds(boxes: _Boxes, dims, exact_max_dim, per=None):
    """Sound bounds of the boxes, following the contract (NaN / infinite / raise)."""
    diag = _diagnose(boxes)
    if diag.kind == "undefined":
        return _nan_bounds(len(dims), boxes.blo.shape[0], diag.reason), per
    if diag.kind == "discontinuous":
        raise NotEnclosable(diag.reason, kind="discontinuous")
    if per is None:
        per = _per_box_bounds(boxes.jlo, boxes.jhi, dims, exact_max_dim=exact_max_dim)
    b = _worst_case(per)
    if diag.kind == "unbounded":
        b = dataclasses.replace(b, reason=diag.reason)
    return b, per


def interval_jacobian_grid(F, lo, hi, *, subdivisions=1, assume_continuous=False, max_boxes=MAX_BOXES):
    """Interval Jacobians of a uniform grid of sub-boxes of ``[lo, hi]``.

    Args:
      F: ``(n,) -> (n,)`` pseudo-gradient written in JAX.
      lo: ``(n,)`` lower corner (float64 for soundness).
      hi: ``(n,)`` upper corner.
      subdivisions: pieces per axis, an int or ``n`` ints; ``prod`` sub-boxes in all.
      assume_continuous: see :func:`certify._interval.interval_enclosure`.
      max_boxes: largest number of sub-boxes.

    Returns:
      ``(box_lo, box_hi, Jlo, Jhi)``: ``(n_boxes, n)`` corners and ``(n_boxes, n, n)`` enclosures
      (NaN where ``F`` may be NaN, infinite where unbounded).

    Raises:
      ValueError, TypeError: for a malformed box or subdivision, or more than ``max_boxes`` boxes.
      NotEnclosable: if ``F`` uses a construct without a sound rule.

    Examples:
      >>> import jax.numpy as jnp
      >>> blo, bhi, jlo, jhi = interval_jacobian_grid(lambda z: z**2, -jnp.ones(2), jnp.ones(2), subdivisions=2)
      >>> blo.shape, jlo.shape
      ((4, 2), (4, 2, 2))
    """
    lo, hi = _check_box(lo, hi)
    ks = _counts(subdivisions, lo.shape[0], "subdivisions", 1)
    _check_budget(ks, max_boxes, "sub-boxes", "use fewer subdivisions or refine bounds")
    blo, bhi = _subdivide(lo, hi, ks)
    boxes = enclose_boxes(F, blo, bhi, assume_continuous=assume_continuous)
    return blo, bhi, boxes.jlo, boxes.jhi


def sound_block_bounds(F, lo, hi, dims, *, subdivisions=1, assume_continuous=False, exact_max_dim=10,
                       max_boxes=MAX_BOXES) -> BlockBounds:
    r"""Sound :class:`BlockBounds` of ``F`` over the box ``[lo, hi]``.

    The box is cut into a uniform grid of sub-boxes :math:`X_k`; on each, the interval-jet
    enclosure :math:`[J](X_k)\ni DF(x)` is reduced to per-box bounds (Hertz/Weyl for
    :math:`\lambda_{\min}`, vertex or magnitude norms), and the result is the worst case over
    :math:`k`, e.g. :math:`\mu_i=\min_k\mu_i(X_k)`. Finer grids give tighter bounds (the
    enclosure's overestimation is :math:`O(\text{width})`), at :math:`\prod_m k_m` boxes; one
    box works at any dimension.

    Not jit-compatible: the matrix reductions run in NumPy on the host (see
    :mod:`certify._interval._matrix` on the XLA CPU deadlock); the enclosures are jitted,
    vmapped calls in chunks.

    Args:
      F: ``(d,) -> (d,)`` pseudo-gradient written in JAX.
      lo: ``(d,)`` lower corner of the box (float64 for soundness).
      hi: ``(d,)`` upper corner.
      dims: player block sizes, summing to ``d``.
      subdivisions: pieces per axis (an int or ``d`` ints).
      assume_continuous: see :func:`certify._interval.interval_enclosure`.
      exact_max_dim: size limit of the exact vertex formulas.
      max_boxes: largest number of sub-boxes (checked before any work).

    Returns:
      :class:`BlockBounds` with ``kind="sound"`` and ``n_points`` = number of sub-boxes; NaN
      fields (with ``reason``) if ``F`` may be NaN on the region, infinite ones if the Jacobian
      enclosure is unbounded.

    Raises:
      ValueError, TypeError: for a malformed box, dims or subdivision, or too many sub-boxes.
      NotEnclosable: if ``F`` may jump on the region or uses a construct without a sound rule.

    Examples:
      >>> import jax.numpy as jnp
      >>> F = lambda z: jnp.stack([z[0] + 0.5 * jnp.tanh(z[1]), z[1] - 0.8 * jnp.sin(z[0])])
      >>> b = sound_block_bounds(F, -jnp.ones(2), jnp.ones(2), (1, 1))
      >>> round(float(b.coupling[0, 1]), 9), round(float(b.coupling[1, 0]), 9)
      (0.5, 0.8)
    """
    return sound_grid_bounds(F, lo, hi, dims, subdivisions=subdivisions, assume_continuous=assume_continuous,
                             exact_max_dim=exact_max_dim, max_boxes=max_boxes)[0]


def sound_grid_bounds(F, lo, hi, dims, *, subdivisions=1, assume_continuous=False, exact_max_dim=10,
                      max_boxes=MAX_BOXES):
    """:func:`sound_block_bounds` and the evidence it rests on: ``(bounds, (Jlo, Jhi))``.

    ``(Jlo, Jhi)`` are the ``(n_boxes, d, d)`` interval Jacobians of the sub-boxes, from the same
    single evaluation (weighted quantities are derived from them without re-running the engine).
    """
    lo, hi = _check_box(lo, hi)
    _check_dims(dims, lo.shape[0])
    ks = _counts(subdivisions, lo.shape[0], "subdivisions", 1)
    _check_budget(ks, max_boxes, "sub-boxes", "use fewer subdivisions or refine bounds")
    enclose = _Encloser(F, lo.shape[0], lo.dtype, assume_continuous=assume_continuous, n_boxes=math.prod(ks),
                        what="interval bounds")  # cost before work: before the boxes exist  # fmt: skip
    blo, bhi = _subdivide(lo, hi, ks)
    boxes = enclose(blo, bhi)  # the rounding bound, when a certificate asks for it, over the same boxes
    bounds = _with_rounding(_bounds(boxes, dims, exact_max_dim)[0], boxes)
    return bounds, (boxes.jlo, boxes.jhi)


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
      box_jlo: ``(boxes, d, d)`` interval Jacobians of the final partition (lower ends).
      box_jhi: ``(boxes, d, d)`` upper ends.
      decided_round: the first round whose bounds ``decide`` accepted (``None``: never; rounds after it
        tightened the bounds, ``tighten_rounds``).

    Examples:
      >>> import jax.numpy as jnp
      >>> F = lambda z: z + 0.1 * jnp.sin(z[::-1])
      >>> _, rec = refine_block_bounds(F, -jnp.ones(2), jnp.ones(2), (1, 1), decide=lambda b: b.mu.min() > 0)
      >>> rec.rounds, rec.boxes, rec.decided  # decided on the whole box: no bisection
      (0, 1, True)
    """

    rounds: int
    boxes: int
    decided: bool
    evaluations: int
    box_lo: np.ndarray
    box_hi: np.ndarray
    box_jlo: np.ndarray | None = None
    box_jhi: np.ndarray | None = None
    decided_round: int | None = None


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
    cols = bad[:, active]
    # "max" ranks (ties share the highest rank): how many boxes are at most this bad
    ranks = np.stack([np.searchsorted(np.sort(c), c, side="right") for c in cols.T], 1)
    pct = ranks / nb
    return pct.max(axis=1) + 1e-3 * pct.mean(axis=1)


def _relevance(enclose, lo, hi, base: _Boxes):
    """How much halving each coordinate (around the centre) narrows the Jacobian enclosure.

    ``r_m = sum(width [J](X)) - sum(width [J](X with x_m halved))``, from one batch of ``d``
    boxes; coordinates the Jacobian does not depend on (e.g. entering linearly) get 0 and are
    never bisected while others help. Infinite widths count as a large finite number.
    """
    d = lo.shape[0]
    c, q = 0.5 * (lo + hi), 0.25 * (hi - lo)
    blo, bhi = np.repeat(lo[None], d, 0), np.repeat(hi[None], d, 0)
    blo[np.arange(d), np.arange(d)] = (c - q)
    bhi[np.arange(d), np.arange(d)] = (c + q)
    halved = enclose(blo, bhi)

    def width(jlo, jhi):
        w = np.nan_to_num(jhi - jlo, nan=1e300, posinf=1e300)
        return np.sum(np.minimum(w, 1e300), axis=(-2, -1))

    return np.maximum(width(base.jlo, base.jhi) - width(halved.jlo, halved.jhi), 0.0)


def _bisect(blo, bhi, pick, width0, relevance=None):
    rel = (bhi[pick] - blo[pick]) / width0
    score = rel
    if relevance is not None and np.any(relevance > 0):
        score = rel * relevance[None] + 1e-12 * rel  # relevant coordinates first, widest among ties
    axis = np.argmax(score, axis=1)
    rows = np.arange(len(pick))
    mid = 0.5 * (blo[pick, axis] + bhi[pick, axis])
    lo1, hi1 = blo[pick].copy(), bhi[pick].copy()
    lo2, hi2 = blo[pick].copy(), bhi[pick].copy()
    hi1[rows, axis] = mid
    lo2[rows, axis] = mid
    return np.concatenate([lo1, lo2]), np.concatenate([hi1, hi2])


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
    on_round: Callable[[int, int], None] | None = None,
    score: Callable[[BlockBounds], float] | None = None,
    tighten_rounds: int = 0,
    min_gain: float = 0.02,
) -> tuple[BlockBounds, RefineRecord]:
    """Branch and bound on the box until ``decide(bounds)`` holds or the budget is spent.

    Each round ranks the boxes of the current partition by how close each is to the worst box
    of one of ``quantities`` (boxes whose enclosure is unbounded first), bisects the top
    ``split_fraction`` of them (at least one) along the coordinate that matters most: its width
    relative to the original box times its *relevance* (how much halving it narrows the
    Jacobian enclosure of the whole box, measured once with ``d`` extra boxes; coordinates the
    Jacobian does not depend on are not bisected), and evaluates all children in jitted,
    vmapped calls. The bounds are the worst
    case over the partition, so they stay sound in every round. A branch of ``F`` (``jnp.where``)
    is enclosed exactly on the boxes where it is decided, and on the boxes holding its switch
    with the hull of both branches when the switch is proven continuous. The search stops early
    when ``F`` is NaN on a whole sub-box. Works at any dimension (one box to start; cost grows
    with ``max_boxes``). With ``score`` and ``tighten_rounds``, a decided search goes on for up to
    ``tighten_rounds`` more rounds (within the budget), bisecting every box, while ``score(bounds)``
    (larger = a stronger claim, e.g. the margin) still grows: it stops after two rounds in a row
    that add less than ``min_gain`` times its value, and returns the decided partition that scored
    best (bounds need not improve monotonically under bisection). Every partition's bounds hold.

    Not jit-compatible (host loop; NumPy reductions).

    Args:
      F: ``(d,) -> (d,)`` pseudo-gradient written in JAX.
      lo: ``(d,)`` lower corner (float64 for soundness).
      hi: ``(d,)`` upper corner.
      dims: player block sizes, summing to ``d``.
      decide: host predicate on :class:`BlockBounds`; True stops the search.
      max_rounds: largest number of bisection rounds.
      max_boxes: largest partition size.
      split_fraction: fraction of boxes bisected per round.
      quantities: which fields of :class:`BlockBounds` the ranking looks at.
      assume_continuous: see :func:`certify._interval.interval_enclosure`.
      exact_max_dim: size limit of the exact vertex formulas.
      on_round: ``(round, boxes) -> None``, called once per round before its decision (progress).
      score: host function of :class:`BlockBounds`, larger = stronger (used only once decided).
      tighten_rounds: most rounds after the first decided one (0: stop as soon as decided).
      min_gain: relative gain of ``score`` per round below which tightening counts a round as stale.

    Returns:
      ``(bounds, record)``: the final sound :class:`BlockBounds` (NaN or infinite with a reason,
      as for :func:`sound_block_bounds`) and a :class:`RefineRecord`.

    Raises:
      ValueError, TypeError: for a malformed box, dims, budget or quantity name.
      NotEnclosable: if ``F`` may still jump on the final partition, or uses a construct without
        a sound rule.

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
    if int(tighten_rounds) < 0 or not (math.isfinite(float(min_gain)) and float(min_gain) >= 0):
        raise ValueError(f"expected tighten_rounds >= 0 and a finite min_gain >= 0, got {tighten_rounds}, {min_gain}")
    if tighten_rounds and not callable(score):
        raise TypeError(f"expected a callable score with tighten_rounds > 0, got {type(score).__name__}")

    def reduce(bx):
        return _per_box_bounds(bx.jlo, bx.jhi, dims, exact_max_dim=exact_max_dim)

    def record(rounds, decided, evaluations, bx):
        first = (tighten.first if tighten.first is not None else rounds) if decided else None
        return RefineRecord(rounds=rounds, boxes=int(bx.blo.shape[0]), decided=decided, evaluations=evaluations,
                            box_lo=bx.blo, box_hi=bx.bhi, box_jlo=bx.jlo, box_jhi=bx.jhi, decided_round=first)

    tighten = _Tightening(score, int(tighten_rounds), float(min_gain))
    width0 = np.where(hi > lo, hi - lo, 1.0)
    enclose = _Encloser(F, lo.shape[0], lo.dtype, assume_continuous=assume_continuous, n_boxes=int(max_boxes),
                        what="refine bounds")  # fmt: skip
    boxes = root = enclose(lo[None].copy(), hi[None].copy())  # rounding: on the final partition, if asked
    per = reduce(boxes)
    evaluations, rounds = 1, 0
    relevance = None
    kept = None  # the decided partition with the best score so far, while tightening
    while True:
        diag = _diagnose(boxes)
        if diag.surely_nan:  # F is NaN on a whole sub-box: no bisection can help
            return _nan_bounds(len(dims), boxes.blo.shape[0], diag.reason), record(rounds, False, evaluations, boxes)
        bounds = _worst_case(per)
        nb = boxes.blo.shape[0]
        if on_round is not None:
            on_round(rounds, nb)
        decided = diag.kind == "ok" and bool(decide(bounds))
        tightening = decided and tighten.goes_on(rounds, bounds)
        if decided and tighten.latest_is_best:
            kept = (boxes, per)
        fraction = 1.0 if tightening else float(split_fraction)  # tightening: every box, the worst case is anywhere
        n_split = min(max(1, math.ceil(fraction * nb)), int(max_boxes) - nb)
        rel = (boxes.bhi - boxes.blo) / width0
        if (decided and not tightening) or rounds >= int(max_rounds) or n_split <= 0 or not np.any(rel > 0):
            break
        rank = _scores(per, quantities)
        rank = np.where(rel.max(axis=1) > 0, rank, -np.inf)
        pick = np.argsort(-rank, kind="stable")[:n_split]
        pick = pick[np.isfinite(rank[pick])]
        if relevance is None and lo.shape[0] > 1:
            relevance = _relevance(enclose, lo, hi, root)
            evaluations += lo.shape[0]
        clo, chi = _bisect(boxes.blo, boxes.bhi, pick, width0, relevance)
        children = enclose(clo, chi)
        cper = reduce(children)
        evaluations += clo.shape[0]
        keep = np.ones(nb, bool)
        keep[pick] = False
        boxes = _Boxes.concat(boxes.select(keep), children)
        per = {k: np.concatenate([per[k][keep], cper[k]]) for k in per}
        rounds += 1
    if kept is not None:  # the best decided partition (the last one, unless a later round did not pay)
        (boxes, per), decided = kept, True
    bounds, _ = _bounds(boxes, dims, exact_max_dim, per)
    bounds = _with_rounding(bounds, boxes)
    return bounds, record(rounds, decided, evaluations, boxes)


@dataclasses.dataclass
class _Tightening:
    """:func:`refine_block_bounds`' rule for going on once decided: while ``score`` still grows."""

    score: Callable[[BlockBounds], float] | None
    rounds: int
    min_gain: float
    first: int | None = None  # the first decided round
    best: float = -math.inf
    stale: int = 0  # rounds in a row that added less than min_gain
    latest_is_best: bool = False  # the last decided round scored at least as well as every earlier one

    def goes_on(self, round_, bounds) -> bool:
        """Whether to split again after the decided round ``round_`` with worst-case ``bounds``."""
        self.latest_is_best = False
        if self.score is None or self.rounds <= 0:
            return False
        value = float(self.score(bounds))
        if self.first is None:
            self.first = round_
        else:
            gained = value - self.best >= self.min_gain * max(abs(self.best), 1e-12)
            self.stale = 0 if gained and math.isfinite(value) else self.stale + 1
        self.latest_is_best = math.isfinite(value) and value >= self.best
        self.best = max(self.best, value) if math.isfinite(value) else self.best
        return round_ - self.first < self.rounds and self.stale < 2


# --------------------------------------------------------------------------------------------
# Lipschitz-padded grids.
# --------------------------------------------------------------------------------------------


class _Jacobian(NamedTuple):
    """The closed jaxpr of ``x -> vec DF(x)`` and its structure key (that of ``F``).

    Its constants from ``static`` on are ``F``'s large finite float constants (:func:`_dynamic_const`).
    """

    closed: Any
    static: int
    key: Any


_JACOBIAN_CACHE: collections.OrderedDict = collections.OrderedDict()


def _as_written_jacobian(F, n, dtype) -> _Jacobian:
    """``x -> vec(DF(x))`` for ``F`` as written (primal of custom rules, ``stop_gradient`` = identity).

    Derived (``jax.jacfwd`` of the as-written program) once per structure of ``F``: ``F``'s large
    finite float constants are inputs of that derivation, so functions that differ only in them (a
    network's weights) share it, and only those constants are substituted.
    """
    closed = jax.make_jaxpr(F)(jax.ShapeDtypeStruct((n,), dtype))
    consts = list(closed.consts)
    dynamic = [k for k, v in enumerate(consts) if _dynamic_const(v)]
    key = (_ir.structure_key(closed, [k for k in range(len(consts)) if k not in dynamic]), n, str(np.dtype(dtype)))

    def jac_flat(x, *dyn):
        full = list(consts)
        for k, v in zip(dynamic, dyn, strict=True):
            full[k] = v
        prog = _ir.program_of(closed, consts=full)
        frozen = _patterns.frozen_shifts(prog)
        return jax.jacfwd(lambda z: _ir.run_program(prog, z, frozen=frozen)[0])(x).reshape(-1)

    def derive():
        specs = [jax.ShapeDtypeStruct(np.shape(consts[k]), np.asarray(consts[k]).dtype) for k in dynamic]
        traced = jax.make_jaxpr(jac_flat)(jax.ShapeDtypeStruct((n,), dtype), *specs)
        jaxpr = traced.jaxpr  # F's constants move from inputs to constants, after DF's own
        return (jaxpr.replace(constvars=[*jaxpr.constvars, *jaxpr.invars[1:]], invars=jaxpr.invars[:1]),
                list(traced.consts))  # fmt: skip

    jaxpr, own = _cached(_JACOBIAN_CACHE, key, derive)
    return _Jacobian(jcore.ClosedJaxpr(jaxpr, own + [consts[k] for k in dynamic]), len(own), key)


def _hessian_blocks(F, lo, hi, sl, assume_continuous):
    """Sound Lipschitz constants of ``x -> J_IJ(x)`` (spectral norm) for all block pairs."""
    d = lo.shape[0]
    jac = _as_written_jacobian(F, d, lo.dtype)
    boxes = enclose_boxes(jac.closed, lo[None], hi[None], assume_continuous=assume_continuous, square=False,
                          rounding=False, what="padded bounds' second-order enclosure")  # fmt: skip
    diag = _diagnose_hessian(boxes)
    if diag is not None:
        raise NotEnclosable(diag, kind="unbounded")
    tlo, thi = boxes.jlo[0].reshape(d, d, d), boxes.jhi[0].reshape(d, d, d)
    mag = np.maximum(np.abs(tlo), np.abs(thi))  # |d_m J_kl| <= mag[k, l, m]

    def lip(si, sj):
        # ||sum_m u_m T_m||_2 <= sum_m |u_m| ||mag_m||_2 <= ||u||_2 sqrt(sum_m ||mag_m||_2^2)
        blocks = np.moveaxis(mag[si, sj, :], -1, 0)
        return float(norm2_upper(_nonneg_norm(blocks), up=1.0 + 8.0 * _EPS))

    n = len(sl)
    h = np.array([[lip(sl[i], sl[j]) for j in range(n)] for i in range(n)])
    return h, lip(slice(0, d), slice(0, d))


def _diagnose_hessian(boxes: _Boxes):
    bad_v = np.any(boxes.nan >= 1) or not np.all(np.isfinite(boxes.flo)) or not np.all(np.isfinite(boxes.fhi))
    bad_t = not (np.all(np.isfinite(boxes.jlo)) and np.all(np.isfinite(boxes.jhi)))
    if not (bad_v or bad_t):
        return None
    site = boxes.comp.site(boxes.vcause[0] if bad_v else boxes.tcause[0])
    what = site.message() if site is not None else "an operation may overflow"
    return ("padded bounds need a bound on the second derivatives of F over the whole region, and their "
            f"enclosure is unbounded: {what}; use interval or refine bounds")  # fmt: skip


def _padded_grid(grid, d, max_points):
    if grid is None:
        if 2**d > max_points:
            raise NotEnclosable(f"padded bounds need at least 2^{d} = {2**d:.4g} grid points in {d} dimensions, "
                                f"over the budget of {max_points}; use interval or refine bounds", kind="cost")
        k = 2
        while (k + 1) ** d <= max_points and k + 1 <= 9:
            k += 1
        return (k,) * d
    ks = _counts(grid, d, "grid", 2)
    _check_budget(ks, max_points, "grid points", "use a coarser grid, or interval or refine bounds")
    return ks


def lipschitz_padded_bounds(
    F,
    lo,
    hi,
    dims,
    *,
    grid: int | Sequence[int] | None = None,
    hessian_bound: float | None = None,
    assume_continuous: bool = False,
    exact_max_dim: int = 10,
    max_points: int = MAX_POINTS,
) -> BlockBounds:
    r"""Sound bounds from exact values on a grid, padded by a Jacobian Lipschitz constant.

    Let :math:`G\subset X` be a grid with ``grid`` points per axis (corners included) and
    covering radius :math:`\rho=\tfrac12\lVert(s_1,\dots,s_d)\rVert_2` (:math:`s_m` the
    spacing), so every :math:`x\in X` has a grid point :math:`g` with
    :math:`\lVert x-g\rVert_2\le\rho`. If :math:`F` is :math:`C^1` on :math:`X` and
    :math:`\lVert J_{IJ}(x)-J_{IJ}(y)\rVert_2\le H_{IJ}\lVert x-y\rVert_2`, then, since
    :math:`\lVert\cdot\rVert_2` is 1-Lipschitz in the spectral norm and
    :math:`|\lambda_{\min}(\operatorname{sym}A)-\lambda_{\min}(\operatorname{sym}B)|\le
    \lVert A-B\rVert_2` (Weyl),

    .. math::

       \mu_i\ge\min_{g\in G}\lambda_{\min}(\operatorname{sym}J_{ii}(g))-H_{ii}\rho,\qquad
       L_{ij}\le\max_{g\in G}\lVert J_{ij}(g)\rVert_2+H_{ij}\rho,

    and likewise for block norms, :math:`\sup\lVert DF\rVert_2` and
    :math:`\inf\lambda_{\min}(\operatorname{sym}DF)` with the full-matrix :math:`H`. The grid
    values are interval-jet enclosures at the points (so rounding is covered). Both ingredients
    describe the same function, ``F`` as written:

    * ``F`` must be continuous on :math:`X` with a bounded derivative: its first-order enclosure
      over the whole box must be finite (a ``jnp.where``/``floor``/``sign`` jump makes the
      derivative enclosure unbounded, and JAX's derivative of a step, 0, is never used);
    * when ``hessian_bound`` is None, :math:`H_{IJ}` comes from the interval engine applied to
      ``jax.jacfwd`` of the *as-written* program (``custom_jvp``/``custom_vjp`` replaced by their
      primal computation, ``stop_gradient`` by the identity), over :math:`X`: with
      :math:`\bar T_m\ge|\partial_m J_{IJ}|`,
      :math:`\lVert\sum_m u_m\partial_m J\rVert_2\le\lVert u\rVert_2
      (\sum_m\lVert\bar T_m\rVert_2^2)^{1/2}`. Its finiteness (including continuity proofs of
      the branches inside ``DF``) shows :math:`DF` Lipschitz, hence :math:`F\in C^1`.

    A user ``hessian_bound`` must bound the Lipschitz constant of the full :math:`DF` (which
    bounds every block's) of the function as written. Our own construction (standard covering
    argument).

    Cost: the grid points (``grid`` per axis, capped by ``max_points``; the default picks the
    finest grid of at most 9 points per axis within the budget, so :math:`d\le15` at the
    default budget) plus one second-order enclosure of the box (about :math:`d^2` evaluations of
    ``F``). Not jit-compatible (host reductions).

    Args:
      F: ``(d,) -> (d,)`` pseudo-gradient written in JAX.
      lo: ``(d,)`` lower corner (float64 for soundness).
      hi: ``(d,)`` upper corner.
      dims: player block sizes, summing to ``d``.
      grid: points per axis (>= 2), an int or ``d`` ints; None chooses within ``max_points``.
      hessian_bound: optional Lipschitz constant of :math:`DF` on the box (spectral norm).
      assume_continuous: see :func:`certify._interval.interval_enclosure`.
      exact_max_dim: size limit of the exact vertex formulas (per point; radii are tiny).
      max_points: largest number of grid points.

    Returns:
      :class:`BlockBounds` with ``kind="sound"`` and ``n_points`` = grid size; NaN fields (with
      ``reason``) if ``F`` may be NaN on the region.

    Raises:
      ValueError, TypeError: for a malformed box, dims, grid (or more than ``max_points``
        points) or ``hessian_bound``.
      NotEnclosable: if ``F`` may jump, its first or second derivative enclosure over the region
        is unbounded, the default grid does not fit in ``max_points``, or ``F`` uses a construct
        without a sound rule.

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
    hb = None
    if hessian_bound is not None:
        hb = float(hessian_bound)
        if not hb >= 0.0:
            raise ValueError(f"expected a nonnegative hessian_bound, got {hessian_bound!r}")
    enclose = _Encloser(F, d, lo.dtype, assume_continuous=assume_continuous, what="padded bounds")  # cost first
    ks = _padded_grid(grid, d, int(max_points))
    check_cost(enclose.comp, d, 1 + math.prod(ks), "padded bounds")
    whole = enclose(lo[None].copy(), hi[None].copy())  # the rounding bound of the whole box, if asked
    diag = _diagnose(whole)
    if diag.kind == "undefined":
        return _nan_bounds(len(sl), math.prod(ks), diag.reason)
    if diag.kind != "ok":
        raise NotEnclosable(f"padded bounds need F Lipschitz on the whole region, with a finite derivative "
                            f"enclosure: {diag.reason}", kind=diag.kind)  # fmt: skip

    axes = [np.clip(lo[m] + (hi[m] - lo[m]) * np.linspace(0.0, 1.0, ks[m]), lo[m], hi[m]) for m in range(d)]
    pts = np.stack([axes[m][idx] for m, idx in enumerate(_grid_indices(ks).T)], -1)
    spacing = np.array([np.max(np.diff(a)) for a in axes])
    scale = float(np.max(np.maximum(np.abs(lo), np.abs(hi))))
    rho = 0.5 * float(norm2_upper(spacing, up=1.0 + 8.0 * _EPS)) + 8.0 * _EPS * scale * d

    if hb is None:
        h, h_full = _hessian_blocks(F, lo, hi, sl, assume_continuous)
    else:
        h, h_full = np.full((len(sl), len(sl)), hb), hb
    pad, pad_full = h * rho * (1.0 + 4.0 * _EPS), h_full * rho * (1.0 + 4.0 * _EPS)

    points = enclose(pts, pts)
    b, _ = _bounds(points, dims, exact_max_dim)
    n = len(sl)
    off = ~np.eye(n, dtype=bool)
    out = BlockBounds(
        mu=b.mu - np.diag(pad),
        coupling=np.where(off, b.coupling + pad, 0.0),
        block_norm=b.block_norm + np.diag(pad),
        lipschitz=float(b.lipschitz + pad_full),
        euclidean_margin=float(b.euclidean_margin - pad_full),
        kind="sound",
        n_points=int(pts.shape[0]),
        reason=b.reason,
    )
    return _with_rounding(out, whole)
