r"""Interval-jet interpreter: enclosures of a JAX function's values and Jacobian over a box.

For :math:`F:\mathbb{R}^n\to\mathbb{R}^m` written in JAX and a box
:math:`X=[\underline x,\overline x]`, the flat as-written program of :math:`F`
(:mod:`certify._interval._ir`) is interpreted with every value carrying a value interval and a
tangent interval (:mod:`certify._interval._jet`), by the rules of
:mod:`certify._interval._rules`:

.. math::

   [\dot{(g\circ v)}] = [g'([v])]\,[\dot v], \qquad
   [\dot{(a b)}] = [a][\dot b] + [b][\dot a],

with sharp ranges of :math:`g` and :math:`g'` for each elementary function, Rump's midpoint-radius
matrix products with an explicit rounding term, and outward rounding everywhere. At the end,
for every :math:`x\in X`, :math:`F(x)\in[F]` and :math:`DF(x)\in[J]` (Clarke's generalised
Jacobian at kinks of ``abs``, ``max``, ``min``, ``sort`` and proven-continuous branches).

Contract of the results (float64 for certificates; the dtype of ``lo``/``hi`` is used):

* an entry of :math:`F` that may be NaN somewhere in :math:`X` (a domain edge: ``sqrt`` of a
  negative number, ``0 * inf``, ...) comes out with NaN value bounds and a NaN Jacobian row;
* a value that may overflow has an infinite bound; a derivative that may be unbounded (a domain
  edge such as ``sqrt`` at 0, or a branch switch not proven continuous) has infinite bounds;
* :class:`Enclosure` additionally carries NaN flags and *cause* ids naming the operation behind
  a NaN/infinite value or an unbounded derivative, for the drivers' messages;
* a construct without a sound rule raises
  :class:`~certify._interval._errors.NotEnclosable` at trace time.

Soundness rests on the measured accuracy of XLA's transcendental functions (see
:mod:`certify._interval._arith`); GPU float32 fast-math is not covered.

References:
  Rump, `Fast and parallel interval arithmetic <https://doi.org/10.1023/A:1022374804152>`_, 1999.
  Moore, Kearfott & Cloud, *Introduction to Interval Analysis*, SIAM, 2009.
"""

from __future__ import annotations

import collections
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.extend import core as jcore

from certify._interval import _arith, _causes, _ir, _rounding
from certify._interval._errors import NotEnclosable
from certify._interval._jet import Context, Jet, Site, const_jet, point, unsupported
from certify._interval._rules import EXACT_ON_POINTS, RULES, VALUE_DETAILS, rule

__all__ = [
    "CompiledEnclosure",
    "Enclosure",
    "compile_enclosure",
    "compile_options",
    "compile_program",
    "interpret",
    "interval_enclosure",
    "interval_jacobian",
    "Rounding",
    "interval_rounding_error",
    "rounding_error",
    "interval_value_and_jacobian",
]

_MAX_UNROLL_OPS = 200_000  # largest number of operations a loop may unroll to
_MAX_WHILE_TRIPS = 10_000


class Enclosure(NamedTuple):
    """Enclosures of ``F`` and ``DF`` over one box (a pytree; batched under ``vmap``).

    Attributes:
      flo: ``out`` lower value bounds (NaN where ``F`` may be NaN).
      fhi: ``out`` upper value bounds (NaN where ``F`` may be NaN).
      jlo: ``out + (n,)`` lower Jacobian bounds (NaN rows where ``F`` may be NaN).
      jhi: ``out + (n,)`` upper Jacobian bounds.
      nan: ``out`` int8: 0 never NaN, 1 possibly NaN, 2 NaN on the whole box.
      vcause: int32 id of the operation behind a NaN/infinite value (0 = none).
      tcause: int32 id of the operation behind an unbounded derivative (0 = none).
    """

    flo: jax.Array
    fhi: jax.Array
    jlo: jax.Array
    jhi: jax.Array
    nan: jax.Array
    vcause: jax.Array
    tcause: jax.Array


# --------------------------------------------------------------------------------------------
# Interpretation.
# --------------------------------------------------------------------------------------------


def _concrete(x) -> bool:
    return not isinstance(x, jax.core.Tracer)


def interpret(ctx: Context, prog: _ir.Program, args: list[Jet]) -> list[Jet]:
    """Runs ``prog`` on input jets; returns the output jets."""
    env: dict[int, Jet] = {}
    for i, c in prog.consts.items():
        env[i] = _flushable(ctx, const_jet(c, assume_finite=ctx.consts_finite))
    env.update(zip(prog.invars, args, strict=True))
    ctx.stack.append((prog, env))
    try:
        for op in prog.ops:
            outs = _eval_op(ctx, op, [env[i] for i in op.ins])
            env.update(zip(op.outs, outs, strict=True))
        return [env[i] for i in prog.outvars]
    finally:
        ctx.stack.pop()


def _eval_op(ctx: Context, op: _ir.Op, ins: list[Jet]) -> list[Jet]:
    name = op.name
    avals = [ctx.program.avals[o] for o in op.outs]
    floats = [jnp.issubdtype(a.dtype, jnp.floating) for a in avals]
    if all(a.pt and a.nan is None for a in ins) and name not in ("cond", "while", "scan"):
        exact = name in EXACT_ON_POINTS or not any(floats)
        if exact or name not in RULES:
            vals = _bind_points(op, [a.lo for a in ins])
            if exact:  # exact operations keep finite inputs finite
                fin = all(a.fin for a in ins)
                outs = [point(v, fin=fin if isinstance(v, jax.core.Tracer) else None) for v in vals]
            else:
                # A box-independent value from a primitive without a rule: its computed value,
                # widened as a transcendental result.
                outs = [Jet(*_arith.widen(v, v, _arith.TRANS_ULPS), dep=False) if f else point(v)
                        for v, f in zip(vals, floats, strict=True)]  # fmt: skip
            outs = [_flushable(ctx, o) for o in _flag_constant_nan(ctx, op, outs, ins)]
            return _rounding.inject(ctx, op, ins, outs) if ctx.rounding else outs
    fn = RULES.get(name)
    if fn is None:
        unsupported(name)
    outs = fn(ctx, op, ins)
    _finish(ctx, op, ins, outs)
    return _rounding.inject(ctx, op, ins, outs) if ctx.rounding else outs


def _flushable(ctx: Context, j: Jet) -> Jet:
    """A concrete float constant with subnormal entries, as the hull of its values and zero there.

    XLA's CPU code flushes subnormal operands and results to zero at run time, while its constant
    folding (and JAX's evaluation of a constant at trace time) may keep them: either may be what a
    program computes. So a subnormal entry ``c > 0`` stands for ``[0, tiny]`` (``c < 0``: ``[-tiny, 0]``;
    normal endpoints, which the engine's own arithmetic does not flush, as :func:`normal_box` does
    for a box), and in the rounding pass it carries an error of ``tiny`` (a tangent, as an input's
    flush does, :func:`_enclose`). Constants are concrete here whenever they may be subnormal: the
    compiled engine passes only normal ones as arguments (:func:`compile_enclosure`).
    """
    if not (j.is_float and j.concrete and j.nan is None):
        return j
    v = np.asarray(j.lo)
    sub = subnormal(v)
    if not sub.any():
        return j
    tiny = float(jnp.finfo(v.dtype).tiny)
    lo, hi = (jnp.asarray(e) for e in _normal_edges(v, v, tiny))
    if not ctx.rounding:
        return Jet(lo, hi, dep=False, fin=True)
    e = jnp.asarray(np.where(sub, tiny, 0).astype(v.dtype))[..., None]
    return Jet(lo, hi, -e, e, dep=True, fin=True)


def subnormal(a) -> np.ndarray:
    """The subnormal entries of the host float array ``a`` (any float dtype, ``bfloat16`` included)."""
    a = np.asarray(a)
    return (a != 0) & (np.abs(a) < jnp.finfo(a.dtype).tiny)


def _flag_constant_nan(ctx: Context, op: _ir.Op, outs: list[Jet], ins: list[Jet]) -> list[Jet]:
    """NaN values made from constants (``0/0``, ``inf - inf``, an out-of-bounds fill) are flagged.

    A NaN value gets the NaN flag 2 (NaN everywhere) and names ``op`` as its cause; it is no
    longer an exact point (a NaN endpoint would otherwise read as "unbounded" downstream).
    """
    if not all(a.fin for a in ins) and any(a.nan is not None or not a.concrete for a in ins):
        return outs  # inputs already flagged (or traced and unchecked): their flags carry the cause
    res = []
    for o in outs:
        if not o.is_float or o.fin or isinstance(o.lo, jax.core.Tracer) or isinstance(o.hi, jax.core.Tracer):
            res.append(o)
            continue
        lo, hi = np.asarray(o.lo), np.asarray(o.hi)
        bad_nan = np.isnan(lo) | np.isnan(hi)
        if not bad_nan.any():  # infinite constants stay exact points: their infinite values carry the news
            res.append(o)
            continue
        site = ctx.site(op, "value", f"{op.name} of constants gives NaN")
        j = Jet(o.lo, o.hi, dep=False, nan=jnp.asarray(np.where(bad_nan, 2, 0).astype(np.int8)))
        j.vc = jnp.asarray(site, jnp.int32)
        res.append(j)
    return res


def _bind_points(op, xs):
    def bind():
        out = op.prim.bind(*xs, **op.params)
        return list(out) if op.prim.multiple_results else [out]

    if all(_concrete(x) for x in xs):
        with jax.ensure_compile_time_eval():
            return bind()
    return bind()


def _max_cause(ctx: Context, causes):
    return _causes.cause_max(ctx.causes, causes)  # the largest of the present causes


# Operations that may turn finite, non-NaN inputs into NaN/infinite values (domain edges,
# overflow, division by zero) or bounded tangents into unbounded ones: they register a cause
# site. Every other operation only passes causes on (no extra flags: smaller programs).
VALUE_SOURCES = frozenset({
    "exp", "exp2", "expm1", "sinh", "cosh", "tan", "log", "log1p", "sqrt", "rsqrt", "asin", "acos",
    "atanh", "acosh", "erf_inv", "pow", "div", "integer_pow", "rem", "sin", "cos", "convert_element_type",
    "reduce_precision", "mul", "add", "sub", "dot_general", "reduce_sum", "cumsum", "reduce_prod", "square",
})  # fmt: skip
TANGENT_SOURCES = VALUE_SOURCES | {"cbrt"}


def _finish(ctx: Context, op: _ir.Op, ins: list[Jet], outs: list[Jet]) -> None:
    """Sanitises value endpoints and passes on (or registers) causes of NaN/infinite results.

    Value endpoints that came out NaN (e.g. ``inf - inf`` inside an outward rounding) mean
    "unbounded" and become infinite; NaN *values* of the function are tracked by explicit flags
    set by the rules. Tangent endpoints may stay NaN inside the program (NaN = unbounded; every
    rule propagates it) and are made infinite at the end. Causes are expressions over elementwise
    flags, evaluated at the end of the pass (:mod:`certify._interval._causes`).
    """
    in_vc = _max_cause(ctx, [a.vc for a in ins])
    in_tc = _max_cause(ctx, [a.tc for a in ins] + [a.vc for a in ins])
    for o in outs:
        if not o.is_float or o.pt:
            o.vc = o.tc = None
            continue
        o.lo, o.hi = _arith.sanitize(o.lo, o.hi)
        vc = _max_cause(ctx, [o.vc, in_vc])
        if op.name in VALUE_SOURCES:
            bad = [jnp.isinf(o.lo) | jnp.isinf(o.hi)]
            if o.nan is not None:
                bad.append(o.nan >= 1)
            vc = _causes.first_of(ctx.causes, vc, bad, ctx.site(op, "value", VALUE_DETAILS.get(op.name, "")))
        o.vc = vc
        if o.tlo is None:
            o.tc = None
            continue
        tc = _max_cause(ctx, [o.tc, in_tc])
        if op.name in TANGENT_SOURCES:
            bad = [~jnp.isfinite(o.tlo) | ~jnp.isfinite(o.thi)]
            tc = _causes.first_of(ctx.causes, tc, bad, ctx.site(op, "tangent"))
        o.tc = tc


# --------------------------------------------------------------------------------------------
# Loops (rules that need the interpreter).
# --------------------------------------------------------------------------------------------


def _index(j: Jet, i: int) -> Jet:
    """Entry ``i`` along the leading axis of a jet."""
    def take(x):
        return None if x is None else x[i]

    return Jet(take(j.lo), j.lo[i] if j.pt else take(j.hi), take(j.tlo), take(j.thi), dep=j.dep, pt=j.pt,
               nan=take(j.nan), vc=j.vc, tc=j.tc)  # fmt: skip


def _stack(jets: list[Jet], ctx: Context) -> Jet:
    def st(xs):
        return jnp.stack(xs)

    lo = st([j.lo for j in jets])
    hi = st([j.hi for j in jets])
    dep = any(j.dep for j in jets)
    tl = th = None
    if any(j.tlo is not None for j in jets) and jnp.issubdtype(lo.dtype, jnp.floating):
        ts = [ctx.tangent(j) for j in jets]
        tl, th = st([t[0] for t in ts]), st([t[1] for t in ts])
    nan = None
    if any(j.nan is not None for j in jets):
        nan = st([jnp.zeros(j.shape, jnp.int8) if j.nan is None else j.nan for j in jets])
    pt = all(j.pt for j in jets)
    return Jet(lo, lo if pt else hi, tl, th, dep=dep, pt=pt, nan=nan, vc=_max_cause(ctx, [j.vc for j in jets]),
               tc=_max_cause(ctx, [j.tc for j in jets]))  # fmt: skip


@rule("scan")
def _scan(ctx, op, ins):
    """``lax.scan`` / ``fori_loop`` with a static trip count, unrolled."""
    p = op.params
    body = ctx.sub(p["jaxpr"])
    length, nc, ncar = int(p["length"]), p["num_consts"], p["num_carry"]
    if length * max(1, len(body.ops)) > _MAX_UNROLL_OPS:
        raise NotEnclosable(f"primitive 'scan' with {length} iterations of {len(body.ops)} operations is too long "
                            f"to unroll (limit {_MAX_UNROLL_OPS} operations)", kind="cost")  # fmt: skip
    consts, carry, xs = ins[:nc], list(ins[nc:nc + ncar]), ins[nc + ncar:]
    steps = range(length - 1, -1, -1) if p["reverse"] else range(length)
    ys: dict[int, Jet] = {}
    for i in steps:
        out = interpret(ctx, body, [*consts, *carry, *[_index(x, i) for x in xs]])
        carry = out[:ncar]
        ys[i] = out[ncar:]
    n_ys = len(op.outs) - ncar
    stacked = [_stack([ys[i][k] for i in range(length)], ctx) for k in range(n_ys)] if length else []
    return list(carry) + stacked


@rule("while")
def _while(ctx, op, ins):
    """``lax.while_loop`` whose trip count is known at trace time, unrolled."""
    p = op.params
    cond, body = ctx.sub(p["cond_jaxpr"]), ctx.sub(p["body_jaxpr"])
    cn, bn = p["cond_nconsts"], p["body_nconsts"]
    cconsts, bconsts, carry = ins[:cn], ins[cn:cn + bn], list(ins[cn + bn:])
    for _ in range(_MAX_WHILE_TRIPS):
        (pred,) = interpret(ctx, cond, [*cconsts, *carry])
        if pred.dep:
            raise NotEnclosable("primitive 'while' whose trip count depends on the box has no sound interval "
                                "rule", kind="unsupported")  # fmt: skip
        if not pred.concrete:
            raise NotEnclosable("primitive 'while' whose trip count is not known at trace time has no sound "
                                "interval rule (use lax.fori_loop with static bounds)", kind="unsupported")
        if not bool(np.asarray(pred.lo)):
            return carry
        carry = interpret(ctx, body, [*bconsts, *carry])
    raise NotEnclosable(f"primitive 'while' runs more than {_MAX_WHILE_TRIPS} iterations", kind="cost")


# --------------------------------------------------------------------------------------------
# Entry points.
# --------------------------------------------------------------------------------------------


def normal_box(lo, hi):
    """``[lo, hi]`` with subnormal edges moved outward to ``-tiny``, ``0`` or ``tiny`` (host NumPy).

    XLA on CPU flushes subnormal inputs to zero, the engine's own box edges included: a box
    ``[-5e-324, 0]`` would be read as ``[0, 0]``. The widened box contains the box and its flushed
    image; the rounding pass adds the flush (at most ``tiny`` per coordinate) as input error.
    Traced boxes are returned unchanged.
    """
    if isinstance(lo, jax.core.Tracer) or isinstance(hi, jax.core.Tracer):
        return lo, hi
    a, b = np.asarray(lo), np.asarray(hi)
    if not np.issubdtype(a.dtype, np.floating):
        return lo, hi
    return _normal_edges(a, b, np.finfo(a.dtype).tiny)


def _normal_edges(a, b, t):
    """``[a, b]`` (host arrays) with subnormal edges moved outward to ``-t``, ``0`` or ``t``."""
    a = np.where((a > -t) & (a < 0), -t, np.where((a > 0) & (a < t), 0.0, a)).astype(a.dtype)
    b = np.where((b < t) & (b > 0), t, np.where((b < 0) & (b > -t), 0.0, b)).astype(b.dtype)
    return a, b


def _check_box(lo, hi):
    lo, hi = normal_box(lo, hi)
    lo, hi = jnp.asarray(lo), jnp.asarray(hi)
    if lo.ndim != 1 or hi.shape != lo.shape:
        raise ValueError(f"expected lo and hi of the same shape (n,), got {lo.shape} and {hi.shape}")
    if not (jnp.issubdtype(lo.dtype, jnp.floating) and lo.dtype == hi.dtype):
        raise TypeError(f"expected lo and hi of one floating dtype, got {lo.dtype} and {hi.dtype}")
    return lo, hi


def _trace(F, n, dtype):
    """The closed jaxpr of ``F`` on ``(n,)`` inputs (``F`` may be one already), checked: one float output."""
    closed = F if isinstance(F, jcore.ClosedJaxpr) else jax.make_jaxpr(F)(jax.ShapeDtypeStruct((n,), dtype))
    if [(a.shape, a.dtype) for a in closed.in_avals] != [((n,), np.dtype(dtype))]:
        raise ValueError(f"expected F of one ({n},) {np.dtype(dtype)} input, got {closed.in_avals}")
    if len(closed.out_avals) != 1:
        raise ValueError(f"expected F to return one array, got {len(closed.out_avals)} outputs")
    if not jnp.issubdtype(closed.out_avals[0].dtype, jnp.floating):
        raise ValueError(f"expected F to return a float array, got {closed.out_avals[0].dtype}")
    return closed


def _enclose(closed, consts, lo, hi, ctx: Context) -> Enclosure:
    prog = _ir.program_of(closed, consts)
    n = lo.shape[0]
    # The rounding pass has one tangent column (the evaluation error): the inputs are exact, except
    # that XLA flushes subnormal ones to zero (an error in [-tiny, tiny] each, see normal_box).
    if ctx.rounding:
        t = float(jnp.finfo(lo.dtype).tiny)
        flush = jnp.where((lo < t) & (hi > -t), t, 0.0).astype(lo.dtype)[:, None]
        tlo, thi = -flush, flush
    else:
        tlo = thi = jnp.eye(n, dtype=lo.dtype)
    fin = ctx.consts_finite or (_concrete(lo) and _concrete(hi) and bool(np.all(np.isfinite(np.asarray(lo))))
                                and bool(np.all(np.isfinite(np.asarray(hi)))))  # fmt: skip
    x = Jet(lo, hi, tlo, thi, dep=True, fin=fin)
    ctx.input_id = prog.invars[0]
    ctx.causes = _causes.Flags()
    (out,) = interpret(ctx, prog, [x])
    jlo, jhi = _arith.sanitize(*ctx.tangent(out))
    flo, fhi = out.lo, out.hi
    if out.pt:
        flo = fhi = out.lo
    nan = jnp.zeros(flo.shape, jnp.int8) if out.nan is None else jnp.broadcast_to(out.nan, flo.shape)
    bad = nan >= 1
    flo, fhi = jnp.where(bad, jnp.nan, flo), jnp.where(bad, jnp.nan, fhi)
    jlo, jhi = jnp.where(bad[..., None], jnp.nan, jlo), jnp.where(bad[..., None], jnp.nan, jhi)
    zero = jnp.zeros((), jnp.int32)
    vc, tc = _causes.evaluate(ctx.causes, [out.vc, out.tc])
    vc = zero if vc is None else vc
    tc = zero if tc is None else tc
    return Enclosure(flo, fhi, jlo, jhi, nan, vc, tc)


def interval_enclosure(F, lo, hi, *, assume_continuous=False) -> Enclosure:
    """Encloses ``F`` and ``DF`` over the box ``[lo, hi]``, with NaN flags and causes.

    Jit- and vmap-compatible over boxes (``F`` is traced once per shape).

    Args:
      F: function of one array of shape ``(n,)`` returning one float array of shape ``out``.
      lo: ``(n,)`` lower corner of the box (float64 for sound certificates).
      hi: ``(n,)`` upper corner, ``hi >= lo`` (not checked inside ``jit``).
      assume_continuous: if True, a branch whose predicate is undecided on the box gets the hull
        of its branches' tangents without a continuity proof (a user assertion; unsound for a
        function that jumps). Default False: continuity is proven or the tangent is unbounded.

    Returns:
      An :class:`Enclosure`.

    Raises:
      NotEnclosable: for a primitive or construct without a sound rule.
      ValueError, TypeError: for a malformed box or an ``F`` of the wrong kind.

    Examples:
      >>> import jax.numpy as jnp
      >>> e = interval_enclosure(lambda x: jnp.sqrt(x), jnp.array([-1.0]), jnp.array([4.0]))
      >>> int(e.nan[0]), bool(jnp.isnan(e.flo[0]))  # sqrt of a possibly negative number
      (1, True)
    """
    lo, hi = _check_box(lo, hi)
    closed = _trace(F, lo.shape[0], lo.dtype)
    ctx = Context(lo.shape[0], assume_continuous=assume_continuous, interpret=interpret)
    return _enclose(closed, list(closed.consts), lo, hi, ctx)


class Rounding(NamedTuple):
    """The rounding pass's result over one box (a pytree; batched under ``vmap``).

    Attributes:
      err: ``out`` bounds on ``|F as JAX computes it - F|`` per entry (``inf`` where unbounded).
      cause: int32 id of the operation behind an unbounded ``err`` (0 = none).
    """

    err: jax.Array
    cause: jax.Array


def rounding_error(enc: Enclosure):
    """Per-entry bound on ``|F as JAX computes it - F|`` from a rounding-pass enclosure (inf if unbounded).

    An error interval that comes out NaN or inverted (an engine inconsistency) counts as unbounded.
    """
    e = jnp.maximum(jnp.abs(enc.jlo), jnp.abs(enc.jhi))
    e = jnp.where(enc.jlo > enc.jhi, jnp.inf, e)[..., 0]
    return jnp.where(jnp.isnan(e), jnp.inf, e)


def _rounding_of(enc: Enclosure) -> Rounding:
    """:class:`Rounding` of a rounding-pass enclosure (the tangent's cause first, then the value's)."""
    return Rounding(rounding_error(enc), jnp.where(enc.tcause > 0, enc.tcause, enc.vcause).astype(jnp.int32))


def interval_rounding_error(F, lo, hi, *, assume_continuous=False):
    r"""Bounds the evaluation error of ``F`` as JAX computes it over the box ``[lo, hi]``.

    Returns ``eps`` (shape of ``F``'s output) with :math:`|\tilde F_k(x) - F_k(x)|\le\varepsilon_k`
    for every :math:`x` in the box, :math:`\tilde F` the rounded evaluation and :math:`F` the
    program in exact arithmetic (see :mod:`certify._interval._rounding`); ``inf`` where it cannot
    be bounded (a branch that rounding may switch, a value that may overflow).

    Examples:
      >>> import jax.numpy as jnp
      >>> e = interval_rounding_error(lambda z: (z + 1e20) - 1e20, -jnp.ones(1), jnp.ones(1))
      >>> bool(e[0] >= 8192.0)  # half an ulp of 1e20
      True
      >>> e = interval_rounding_error(lambda z: 3.0 * z, -jnp.ones(1), jnp.ones(1))
      >>> bool(0 < e[0] < 1e-15)
      True
    """
    lo, hi = _check_box(lo, hi)
    closed = _trace(F, lo.shape[0], lo.dtype)
    ctx = Context(1, assume_continuous=assume_continuous, interpret=interpret, rounding=True)
    return rounding_error(_enclose(closed, list(closed.consts), lo, hi, ctx))


def interval_value_and_jacobian(F, lo, hi, *, assume_continuous=False):
    r"""Encloses :math:`F(x)` and :math:`DF(x)` for every :math:`x` in the box ``[lo, hi]``.

    .. math::

       F(x)\in[F_{lo}, F_{hi}],\qquad DF(x)\in[J_{lo}, J_{hi}]\quad\forall x\in[lo, hi].

    Entries of ``F`` that may be NaN on the box come out NaN (value and Jacobian row); see
    :func:`interval_enclosure` for the arguments.

    Returns:
      ``(Flo, Fhi, Jlo, Jhi)`` with shapes ``out`` and ``out + (n,)``.

    Raises:
      NotEnclosable: for a primitive or construct without a sound rule.
      ValueError, TypeError: for a malformed box.

    Examples:
      >>> import jax.numpy as jnp
      >>> flo, fhi, jlo, jhi = interval_value_and_jacobian(
      ...     jnp.sin, jnp.array([0.0]), jnp.array([1.0]))
      >>> bool(jlo[0, 0] <= jnp.cos(1.0) and jhi[0, 0] >= 1.0)
      True
    """
    e = interval_enclosure(F, lo, hi, assume_continuous=assume_continuous)
    return e.flo, e.fhi, e.jlo, e.jhi


def interval_jacobian(F, lo, hi, *, assume_continuous=False):
    """Encloses the Jacobian :math:`DF(x)` for every :math:`x` in the box ``[lo, hi]``.

    Jit- and vmap-compatible over boxes (``F`` is traced once per shape). See
    :func:`interval_enclosure` for the arguments.

    Returns:
      ``(Jlo, Jhi)`` of shape ``out + (n,)`` with ``Jlo <= DF(x) <= Jhi`` entry-wise.

    Examples:
      >>> import jax.numpy as jnp
      >>> F = lambda z: jnp.stack([z[0] + 0.5 * jnp.tanh(z[1]), z[1] - 0.8 * jnp.sin(z[0])])
      >>> jlo, jhi = interval_jacobian(F, -jnp.ones(2), jnp.ones(2))
      >>> round(float(jlo[0, 1]), 4), round(float(jhi[0, 1]), 4)
      (0.21, 0.5)
    """
    e = interval_enclosure(F, lo, hi, assume_continuous=assume_continuous)
    return e.jlo, e.jhi


# --------------------------------------------------------------------------------------------
# Compiled enclosures for the drivers (one compilation per structure of F).
# --------------------------------------------------------------------------------------------

STATIC_CONST_SIZE = 16  # constants up to this size are baked in (and usable for continuity proofs)
QUICK_COMPILE = {
    "xla_backend_optimization_level": 0,
    "xla_llvm_disable_expensive_passes": True,
    "xla_cpu_use_fusion_emitters": False,
}
"""XLA options for the engine's programs on few boxes: they run once or a few times, and compile
1.2-1.8x faster without LLVM's optimisations and 1.3-1.7x faster again with XLA's classic
elemental emitters instead of its fusion emitters (measured on the engine's programs), while
running up to 4x slower. No fast-math at either level, so the IEEE operations (``+ - * /``,
``sqrt``) round as at the default level; the transcendental functions may differ in their last
bits, and the margins that cover them (:mod:`certify._interval._arith`) are checked under these
options too (``tests/certify/test_transcendental_accuracy.py``). Batches of
:data:`OPTIMISE_FROM` boxes or more are compiled with JAX's defaults (there the run time
dominates)."""
OPTIMISE_FROM = 1024


def compile_options(boxes: int) -> dict | None:
    """XLA options of the engine's programs for ``boxes`` per batch (QUICK_COMPILE, or None: JAX's defaults).

    :data:`QUICK_COMPILE` below :data:`OPTIMISE_FROM` boxes, JAX's defaults from there.
    """
    return QUICK_COMPILE if boxes < OPTIMISE_FROM else None


def compile_program(jitted, *args, boxes: int):
    """``jitted`` lowered for ``args`` and compiled ahead of time with :func:`compile_options`."""
    return jitted.lower(*args).compile(compiler_options=compile_options(boxes))


def _engine_program(closed, consts, lo, hi, *, n, assume_continuous):
    """The engine's enclosure program for a batch of boxes ``lo``, ``hi`` (``(b, n)``): ``(Enclosure, sites)``.

    ``n`` tangent columns, vmapped over the boxes. Traced once per structure of ``F`` and batch
    shape (tests count the calls).
    """
    ctx = Context(n, assume_continuous=assume_continuous, consts_finite=True, interpret=interpret)
    enc = jax.vmap(lambda a, b: _enclose(closed, consts, a, b, ctx))(lo, hi)
    return enc, ctx.sites


def _rounding_program(closed, consts, lo, hi, *, assume_continuous):
    """The rounding pass for a batch of boxes: ``(Rounding, sites)``.

    :mod:`certify._interval._rounding`, one tangent column. A program of its own, compiled only when
    a bound needs it (a certificate); traced once per structure of ``F`` and batch shape (tests
    count the calls).
    """
    ctx = Context(1, assume_continuous=assume_continuous, consts_finite=True, interpret=interpret, rounding=True)
    rnd = jax.vmap(lambda a, b: _rounding_of(_enclose(closed, consts, a, b, ctx)))(lo, hi)
    return rnd, ctx.sites


class CompiledEnclosure:
    """The jitted engine programs (boxes batched) of one structure of ``F``; call with ``(consts, blo, bhi)``.

    Two programs: the enclosure pass, and, with ``rounding``, the rounding pass, compiled on its
    first use. The rounding pass costs about twice the enclosure pass's compilation (it widens
    every value of the program), and only a certificate needs it: a bound that certifies nothing
    never compiles it. ``sites`` and ``rounding_sites`` list the cause sites of the two passes
    (filled when traced); a cause id ``c > 0`` is ``sites[c - 1]`` (``rounding_sites[c - 1]``).
    Batches below :data:`OPTIMISE_FROM` boxes are compiled with :data:`QUICK_COMPILE`.
    """

    def __init__(self, closed, static_idx, n, dtype, assume_continuous, rounding=False):
        self.closed = closed  # keeps the objects of the structure key alive
        self.static_idx = tuple(static_idx)
        self.n = n
        self.rounding = bool(rounding)
        self.sites: list[Site] = []
        self.rounding_sites: list[Site] = []
        consts = list(closed.consts)
        self.dynamic_idx = tuple(k for k in range(len(consts)) if k not in set(self.static_idx))

        def full(dyn):
            out = list(consts)
            for k, v in zip(self.dynamic_idx, dyn, strict=True):
                out[k] = v
            return out

        def enclose(dyn, blo, bhi):
            enc, self.sites = _engine_program(closed, full(dyn), blo, bhi, n=n, assume_continuous=assume_continuous)
            return enc

        def round_(dyn, blo, bhi):
            rnd, self.rounding_sites = _rounding_program(closed, full(dyn), blo, bhi,
                                                         assume_continuous=assume_continuous)  # fmt: skip
            return rnd

        self.fn = jax.jit(enclose)  # lowered and compiled per batch shape by _run
        self.rounding_fn = jax.jit(round_) if self.rounding else None
        self._executables: dict = {}

    def _run(self, jitted, dyn_consts, blo, bhi):
        """``jitted``'s compiled program run on the boxes: its outputs as NumPy arrays.

        Compiled ahead of time (:func:`compile_program`) per argument shapes and kept by this object,
        so a long process that jits many other functions (a fuzzer) never evicts it from JAX's shared
        trace caches and traces and compiles it again. A refusal raised while tracing
        (:class:`NotEnclosable`: an unsupported construct) is kept too and raised again at once.
        """
        blo, bhi = normal_box(blo, bhi)
        args = ([jnp.asarray(d) for d in dyn_consts], jnp.asarray(blo), jnp.asarray(bhi))
        key = (id(jitted), blo.shape, tuple((d.shape, str(d.dtype), d.weak_type) for d in args[0]))
        exe = self._executables.get(key)
        if exe is None:
            try:
                exe = compile_program(jitted, *args, boxes=blo.shape[0])
            except NotEnclosable as err:  # a refusal while tracing: it is the structure's, kept
                exe = err
            self._executables[key] = exe
        if isinstance(exe, NotEnclosable):
            raise NotEnclosable(exe.reason, kind=exe.kind)
        return [np.asarray(x) for x in exe(*args)]

    def __call__(self, dyn_consts, blo, bhi, *, rounding: bool = False) -> tuple[Enclosure, Rounding | None]:
        """Enclosures of the boxes, and their rounding bounds when asked (``None`` otherwise)."""
        if rounding and not self.rounding:
            raise ValueError("expected a program compiled with the rounding pass, got one without it")
        enc = Enclosure(*self._run(self.fn, dyn_consts, blo, bhi))
        return enc, (self.rounding_bounds(dyn_consts, blo, bhi) if rounding else None)

    def rounding_bounds(self, dyn_consts, blo, bhi) -> Rounding:
        """The rounding pass alone on the boxes (compiled on first use)."""
        if not self.rounding:
            raise ValueError("expected a program compiled with the rounding pass, got one without it")
        return Rounding(*self._run(self.rounding_fn, dyn_consts, blo, bhi))

    def site(self, cause: int) -> Site | None:
        """The site of an enclosure cause id (``None`` for 0)."""
        return self.sites[int(cause) - 1] if int(cause) > 0 else None

    def rounding_site(self, cause: int) -> Site | None:
        """The site of a rounding-pass cause id (``None`` for 0)."""
        return self.rounding_sites[int(cause) - 1] if int(cause) > 0 else None


_CACHE: collections.OrderedDict = collections.OrderedDict()
_CACHE_SIZE = 32


def compile_enclosure(F, n: int, dtype, *, assume_continuous: bool = False, rounding: bool = False):
    """The :class:`CompiledEnclosure` for ``F`` on ``(n,)`` inputs, and its dynamic constants.

    ``F``: a function, or its closed jaxpr (traced already).

    ``rounding``: the program also carries the rounding pass (run on request, see
    :class:`CompiledEnclosure`).

    Functions with the same structure (operations, literals, small constants) share one
    compilation; their large constants (e.g. network weights) are passed as arguments. Dynamic
    constants must be finite and free of subnormal entries (checked here); others are baked in instead.
    """
    closed = _trace(F, n, dtype)
    consts = list(closed.consts)
    static = []
    for k, c in enumerate(consts):
        try:
            a = np.asarray(c) if not isinstance(c, jax.core.Tracer) else None
        except (TypeError, ValueError):  # e.g. typed PRNG keys: keep them baked in
            a = None
        if a is None or a.size <= STATIC_CONST_SIZE or not np.issubdtype(a.dtype, np.number):
            static.append(k)
        elif np.issubdtype(a.dtype, np.floating) and not np.all(np.isfinite(a)):
            static.append(k)
        elif np.issubdtype(a.dtype, np.floating) and subnormal(a).any():
            static.append(k)  # subnormal entries: the interpreter widens them (_flushable), so they stay concrete
    key = (_ir.structure_key(closed, static), n, str(np.dtype(dtype)), bool(assume_continuous), bool(rounding))
    comp = _CACHE.get(key)
    if comp is None:
        comp = CompiledEnclosure(closed, static, n, dtype, assume_continuous, rounding)
        _CACHE[key] = comp
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    else:
        _CACHE.move_to_end(key)
    dyn = [jnp.asarray(consts[k]) for k in comp.dynamic_idx]
    return comp, dyn
