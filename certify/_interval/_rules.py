"""Primitive rules of the interval engine: a table ``primitive name -> rule``.

A rule maps the input jets of one operation (:class:`certify._interval._jet.Jet`) to its output
jets: value enclosure, tangent enclosure (chain and product rules in interval arithmetic), NaN
flags and, where the rule itself may create a jump, a forced cause. Shared conventions:

* elementary functions use the sharp value and derivative ranges of
  :data:`certify._interval._arith.ELEMENTARY` on the part of the argument inside the domain,
  and flag NaN where the argument may leave it (never clipping the outside away);
* IEEE special cases are flagged, not hidden: ``0 * inf``, ``inf - inf``, ``0 / 0``,
  ``inf / inf``, ``sin(inf)``;
* comparisons are undecided when an operand may be NaN (``isnan(s) = (s != s)`` is decided only
  for a value that is surely or surely not NaN);
* a branch (``select_n``) whose predicate is undecided on the box gets the hull of the branch
  values, and the hull of the branch tangents only where continuity across the switch is
  proven (:mod:`certify._interval._exact`); elsewhere its tangent is unbounded with a cause
  naming the construct. Piecewise-constant operations (``floor``, ``sign``, ...) likewise.

Unknown primitives and box-dependent indices raise
:class:`~certify._interval._errors.NotEnclosable`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from certify._interval import _arith, _causes, _exact, _patterns
from certify._interval._arith import ELEMENTARY, eps, imul, reduced_format, tiny, widen
from certify._interval._errors import NotEnclosable
from certify._interval._ir import Op
from certify._interval._jet import Context, Face, Jet, bcast, combine_nan, point, tadd, tscale, unsupported

__all__ = ["EXACT_ON_POINTS", "RULES", "VALUE_DETAILS"]

Rule = Callable[[Context, Op, list], list]
RULES: dict[str, Rule] = {}

# Primitives that are exact (no rounding) when every input is a known point.
EXACT_ON_POINTS = frozenset({
    "eq", "ne", "lt", "le", "gt", "ge", "and", "or", "not", "xor", "iota", "select_n",
    "convert_element_type", "max", "min", "abs", "neg", "sign", "floor", "ceil", "round",
    "slice", "squeeze", "reshape", "broadcast_in_dim", "concatenate", "transpose", "rev",
    "pad", "stack", "split", "dynamic_slice", "dynamic_update_slice", "gather", "scatter",
    "reduce_max", "reduce_min", "reduce_and", "reduce_or", "is_finite", "argmax", "argmin",
    "clamp", "sort",
})  # fmt: skip

# What may make an operation's value NaN or infinite (for refusal messages).
VALUE_DETAILS = {
    "sqrt": "sqrt of an argument that may be negative",
    "rsqrt": "rsqrt of an argument that may be negative or 0",
    "log": "log of an argument that may be negative or 0",
    "log1p": "log1p of an argument that may be below -1",
    "pow": "a power whose base may be negative or 0",
    "asin": "asin of an argument that may leave [-1, 1]",
    "acos": "acos of an argument that may leave [-1, 1]",
    "atanh": "atanh of an argument that may leave (-1, 1)",
    "acosh": "acosh of an argument that may be below 1",
    "erf_inv": "erf_inv of an argument that may leave (-1, 1)",
    "div": "a division by a value that may be 0 (or 0/0, inf/inf)",
    "rem": "a remainder by a value that may be 0",
    "mul": "a product that may be 0 * inf or overflow",
    "dot_general": "a matrix product with possibly infinite or NaN entries",
    "exp": "exp that may overflow",
    "exp2": "exp2 that may overflow",
    "expm1": "expm1 that may overflow",
    "sinh": "sinh that may overflow",
    "cosh": "cosh that may overflow",
    "integer_pow": "an integer power that may overflow or divide by 0",
    "add": "a sum that may be inf - inf or overflow",
    "sub": "a difference that may be inf - inf or overflow",
    "tan": "tan near a pole",
    "sin": "sin of a possibly infinite argument",
    "cos": "cos of a possibly infinite argument",
}


def rule(*names):
    """Registers a rule for the primitives ``names``."""

    def deco(f):
        for n in names:
            RULES[n] = f
        return f

    return deco


def _out_aval(ctx: Context, op: Op, k: int = 0):
    return ctx.program.avals[op.outs[k]]


def _float(x) -> bool:
    return jnp.issubdtype(x.dtype, jnp.floating)


def _int8(b):
    return b.astype(jnp.int8)


def _maybe_inf(a: Jet):
    return jnp.isinf(a.lo) | jnp.isinf(a.hi)


def _has0(a: Jet):
    return (a.lo <= 0) & (a.hi >= 0)


def _require_float(name, *jets):
    for a in jets:
        if a.dep and not a.is_float:
            unsupported(name, " on box-dependent integers")


# --------------------------------------------------------------------------------------------
# Elementary functions.
# --------------------------------------------------------------------------------------------


def apply_elementary(spec, a: Jet) -> Jet:
    """``g(a)`` for an :class:`~certify._interval._arith.Elementary` ``g``."""
    lo, hi = a.lo, a.hi
    flag = None
    if spec.dlo is not None or spec.dhi is not None:
        dlo = -jnp.inf if spec.dlo is None else spec.dlo
        dhi = jnp.inf if spec.dhi is None else spec.dhi
        total = (hi < dlo) | (lo > dhi)
        part = (lo < dlo) | (hi > dhi)
        flag = _int8(jnp.where(total, 2, jnp.where(part, 1, 0)))
        lo = jnp.clip(lo, dlo, dhi)
        hi = jnp.clip(hi, dlo, dhi)
    if spec.nan_at_inf and not a.fin:  # sin/cos/tan(+-inf) = NaN; ranges over infinite intervals are fine
        inf_lo, inf_hi = jnp.isinf(a.lo), jnp.isinf(a.hi)
        f2 = _int8(jnp.where(inf_lo & inf_hi & (a.lo == a.hi), 2, jnp.where(inf_lo | inf_hi, 1, 0)))
        flag = combine_nan(flag, f2)
    vlo, vhi = spec.value(lo, hi)
    tlo = thi = None
    if a.tlo is not None:
        tlo, thi = tscale(*spec.deriv(lo, hi), a)
    fin = a.fin and spec.bounded and flag is None
    return Jet(vlo, vhi, tlo, thi, dep=a.dep, nan=combine_nan(a.nan, flag), fin=fin)


@rule(*ELEMENTARY)
def _elementary(ctx, op, ins):
    out = apply_elementary(ELEMENTARY[op.name], ins[0])
    if op.name in ("log", "log1p"):
        out = _patterns.tight(ctx, op, out)
    return [out]


# --------------------------------------------------------------------------------------------
# Arithmetic.
# --------------------------------------------------------------------------------------------


def _binary(ctx, op, ins):
    shape = _out_aval(ctx, op).shape
    return [bcast(a, shape) for a in ins]


def _same(op) -> bool:
    return len(op.ins) == 2 and op.ins[0] == op.ins[1]


def scale(a: Jet, c: float) -> Jet:
    """``c * a`` for a Python constant ``c``."""
    return mul(a, bcast(point(jnp.asarray(c, a.dtype)), a.shape))


def _zero_times_inf(a: Jet, b: Jet):
    """Entries where ``a * b`` may be ``0 * inf`` (None if impossible by static finiteness)."""
    terms = [_has0(a) & _maybe_inf(b) if not b.fin else None, _has0(b) & _maybe_inf(a) if not a.fin else None]
    terms = [t for t in terms if t is not None]
    if not terms:
        return None
    return _int8(terms[0] if len(terms) == 1 else terms[0] | terms[1])


def mul(a: Jet, b: Jet) -> Jet:
    """Product ``a * b`` (product rule for the tangent; ``0 * inf`` flagged as NaN)."""
    lo, hi = imul(a.lo, a.hi, b.lo, b.hi)
    nan = combine_nan(a.nan, b.nan, _zero_times_inf(a, b))
    t = tadd(tscale(b.lo, b.hi, a), tscale(a.lo, a.hi, b))
    return Jet(lo, hi, *t, dep=a.dep or b.dep, nan=nan)


def square(a: Jet) -> Jet:
    """``a * a`` with the sharp range of the square."""
    lo, hi = _arith.ipow_int(a.lo, a.hi, 2)
    t = tscale(*widen(2.0 * a.lo, 2.0 * a.hi), a)
    return Jet(lo, hi, *t, dep=a.dep, nan=a.nan)


def add(a: Jet, b: Jet, *, sub=False) -> Jet:
    """``a + b`` (or ``a - b``), flagging ``inf - inf``."""
    cancel = None
    if sub:
        lo, hi = _arith.isub(a.lo, a.hi, b.lo, b.hi)
        if not (a.fin or b.fin):
            cancel = ((a.hi == jnp.inf) & (b.hi == jnp.inf)) | ((a.lo == -jnp.inf) & (b.lo == -jnp.inf))
    else:
        lo, hi = _arith.iadd(a.lo, a.hi, b.lo, b.hi)
        if not (a.fin or b.fin):
            cancel = ((a.hi == jnp.inf) & (b.lo == -jnp.inf)) | ((a.lo == -jnp.inf) & (b.hi == jnp.inf))
    nan = combine_nan(a.nan, b.nan, None if cancel is None else _int8(cancel))
    t = tadd((a.tlo, a.thi), (b.tlo, b.thi), sub=sub)
    return Jet(lo, hi, *t, dep=a.dep or b.dep, nan=nan)


def div(a: Jet, b: Jet) -> Jet:
    """``a / b``: ``d(a/b) = da / b - (a / b^2) db`` with ``b^2`` taken sharply."""
    rlo, rhi = _arith.irecip(b.lo, b.hi)
    lo, hi = imul(a.lo, a.hi, rlo, rhi)
    bad = (_has0(a) & _has0(b)) | (_maybe_inf(a) & _maybe_inf(b))
    nan = combine_nan(a.nan, b.nan, _int8(bad))
    t1 = tscale(rlo, rhi, a)
    slo, shi = _arith.ipow_int(b.lo, b.hi, 2)
    qlo, qhi = imul(a.lo, a.hi, *_arith.irecip(slo, shi))
    t2 = tscale(-qhi, -qlo, b)
    return Jet(lo, hi, *tadd(t1, t2), dep=a.dep or b.dep, nan=nan)


def _same_operand_constant(a: Jet, value: float, nan_where) -> Jet:
    c = jnp.full(a.shape, value, a.dtype)
    return Jet(c, c, dep=False, nan=combine_nan(a.nan, _int8(nan_where)))


@rule("add", "add_any")
def _add(ctx, op, ins):
    a, b = _binary(ctx, op, ins)
    _require_float(op.name, a, b)
    if _same(op):
        return [scale(a, 2.0)]
    return [_patterns.tight(ctx, op, add(a, b))]


@rule("sub")
def _sub(ctx, op, ins):
    a, b = _binary(ctx, op, ins)
    _require_float(op.name, a, b)
    if _same(op):  # x - x = 0, NaN where x may be NaN or infinite
        return [_same_operand_constant(a, 0.0, _maybe_inf(a))]
    return [_patterns.tight(ctx, op, add(a, b, sub=True))]


@rule("neg")
def _neg(ctx, op, ins):
    a = ins[0]
    t = (None, None) if a.tlo is None else (-a.thi, -a.tlo)
    return [Jet(-a.hi, -a.lo, *t, dep=a.dep, nan=a.nan, fin=a.fin)]


@rule("mul")
def _mul(ctx, op, ins):
    a, b = _binary(ctx, op, ins)
    _require_float(op.name, a, b)
    return [square(a) if _same(op) else mul(a, b)]


@rule("div")
def _div(ctx, op, ins):
    a, b = _binary(ctx, op, ins)
    _require_float(op.name, a, b)
    if _same(op):  # x / x = 1, NaN where x may be 0, NaN or infinite
        return [_same_operand_constant(a, 1.0, _has0(a) | _maybe_inf(a))]
    return [_patterns.tight(ctx, op, div(a, b))]


@rule("square")
def _square(ctx, op, ins):
    return [square(ins[0])]


def integer_pow(a: Jet, k: int) -> Jet:
    """``a ** k`` for an integer ``k`` (``0 ** -k = inf``, as in IEEE)."""
    lo, hi = _arith.ipow_int(a.lo, a.hi, k)
    if k == 0:
        return Jet(lo, hi, dep=False)
    dlo, dhi = _arith.ipow_int(a.lo, a.hi, k - 1)
    kk = jnp.asarray(float(k), lo.dtype)
    dlo, dhi = imul(dlo, dhi, kk, kk)
    return Jet(lo, hi, *tscale(dlo, dhi, a), dep=a.dep, nan=a.nan)


@rule("integer_pow")
def _integer_pow(ctx, op, ins):
    return [integer_pow(ins[0], int(op.params["y"]))]


@rule("pow")
def _pow(ctx, op, ins):
    a, b = _binary(ctx, op, ins)
    _require_float(op.name, a, b)
    if b.concrete and b.nan is None:
        vals = np.unique(np.asarray(b.lo))
        if vals.size == 1:
            p = float(vals[0])
            if p.is_integer() and abs(p) < 2**31:
                return [integer_pow(a, int(p))]
            return [apply_elementary(_arith.power_elementary(p), a)]
    # x ** y = exp(y log x): NaN for x < 0 (flagged by log), 0 * log 0 flagged by the product.
    return [apply_elementary(ELEMENTARY["exp"], mul(b, apply_elementary(ELEMENTARY["log"], a)))]


@rule("max", "min")
def _max_min(ctx, op, ins):
    a, b = _binary(ctx, op, ins)
    if _same(op):
        return [a]
    return [minmax(ctx, a, b, is_max=op.name == "max")]


def minmax(ctx, a: Jet, b: Jet, *, is_max: bool) -> Jet:
    """``max(a, b)`` / ``min(a, b)``; Clarke hull of the tangents where neither surely wins."""
    if is_max:
        lo, hi = jnp.maximum(a.lo, b.lo), jnp.maximum(a.hi, b.hi)
        a_wins, b_wins = a.lo >= b.hi, b.lo >= a.hi
    else:
        lo, hi = jnp.minimum(a.lo, b.lo), jnp.minimum(a.hi, b.hi)
        a_wins, b_wins = a.hi <= b.lo, b.hi <= a.lo
    dep = a.dep or b.dep
    nan = combine_nan(a.nan, b.nan)
    fin = a.fin and b.fin
    if not dep or not _float(lo) or (a.tlo is None and b.tlo is None):
        return Jet(lo, hi, dep=dep, nan=nan, fin=fin)
    (alo, ahi), (blo, bhi) = ctx.tangent(a), ctx.tangent(b)
    aw, bw = a_wins[..., None], b_wins[..., None]
    tlo = jnp.where(aw, alo, jnp.where(bw, blo, jnp.minimum(alo, blo)))
    thi = jnp.where(aw, ahi, jnp.where(bw, bhi, jnp.maximum(ahi, bhi)))
    return Jet(lo, hi, tlo, thi, dep=True, nan=nan, fin=fin)


@rule("clamp")
def _clamp(ctx, op, ins):
    shape = _out_aval(ctx, op).shape
    lo_b, x, hi_b = (bcast(a, shape) for a in ins)
    return [minmax(ctx, minmax(ctx, x, lo_b, is_max=True), hi_b, is_max=False)]


@rule("abs")
def _abs(ctx, op, ins):
    a = ins[0]
    if not a.is_float:
        _require_float(op.name, a)
    has0 = _has0(a)
    m = jnp.maximum(-a.lo, a.hi)
    lo = jnp.where(has0, jnp.zeros_like(a.lo), jnp.minimum(jnp.abs(a.lo), jnp.abs(a.hi)))
    hi = jnp.where(has0, m, jnp.maximum(jnp.abs(a.lo), jnp.abs(a.hi)))
    one = jnp.ones_like(a.lo)
    dlo = jnp.where(a.lo >= 0, one, -one)
    dhi = jnp.where(a.hi <= 0, -one, one)
    dlo = jnp.where((a.lo >= 0) & (a.hi <= 0), one, dlo)  # a == 0 on the box: its tangent is 0
    return [Jet(lo, hi, *tscale(dlo, dhi, a), dep=a.dep, nan=a.nan, fin=a.fin)]


@rule("rem")
def _rem(ctx, op, ins):
    """``fmod(a, b) = a - b trunc(a / b)``: exact where ``trunc(a / b)`` is decided, else a jump."""
    a, b = _binary(ctx, op, ins)
    _require_float(op.name, a, b)
    q = div(a, b)
    klo, khi = jnp.trunc(q.lo), jnp.trunc(q.hi)
    decided = (klo == khi) & jnp.isfinite(klo)
    k = jnp.where(decided, klo, jnp.zeros_like(klo))
    kj = Jet(k, k, dep=False)
    r = add(a, mul(kj, b), sub=True)
    bound = jnp.maximum(jnp.abs(b.lo), jnp.abs(b.hi))
    lo = jnp.where(decided, jnp.maximum(r.lo, -bound), -bound)
    hi = jnp.where(decided, jnp.minimum(r.hi, bound), bound)
    lo = jnp.where(a.lo >= 0, jnp.maximum(lo, 0.0), lo)  # fmod has the sign of a
    hi = jnp.where(a.hi <= 0, jnp.minimum(hi, 0.0), hi)
    nan = combine_nan(a.nan, b.nan, _int8(_has0(b) | _maybe_inf(a)))
    out = Jet(lo, hi, dep=a.dep or b.dep, nan=nan)
    if out.dep and (a.tlo is not None or b.tlo is not None):
        tlo, thi = ctx.tangent(r)
        dd = decided[..., None]
        ulo, uhi = ctx.unbounded_tangent(lo.shape, lo.dtype)
        out.tlo, out.thi = jnp.where(dd, tlo, ulo), jnp.where(dd, thi, uhi)
        site = ctx.site(op, "step")
        out.tc = _causes.first_of(ctx.causes, None, [~decided], site)
    return [out]


@rule("atan2")
def _atan2(ctx, op, ins):
    """``atan2(y, x)``: corners give the range off the branch cut ``{y = 0, x < 0}`` and the origin."""
    y, x = _binary(ctx, op, ins)
    _require_float(op.name, y, x)
    corners = [jnp.arctan2(yy, xx) for yy in (y.lo, y.hi) for xx in (x.lo, x.hi)]
    clo = jnp.minimum(jnp.minimum(corners[0], corners[1]), jnp.minimum(corners[2], corners[3]))
    chi = jnp.maximum(jnp.maximum(corners[0], corners[1]), jnp.maximum(corners[2], corners[3]))
    clo, chi = widen(clo, chi, _arith.TRANS_ULPS, 4 * eps(clo))
    # An interval that reaches 0 may hold -0.0 (e.g. -y at y = 0) as well as +0.0, and
    # atan2(-0.0, x < 0) = -pi while atan2(+0.0, x < 0) = pi: the cut counts from either side.
    cut = (y.lo <= 0) & (y.hi >= 0) & (x.lo < 0)
    origin = _has0(x) & _has0(y)
    bad = cut | origin | _maybe_inf(x) | _maybe_inf(y)
    pi = jnp.asarray(math.pi, clo.dtype)
    lo = jnp.where(bad, -pi, jnp.maximum(clo, -pi))
    hi = jnp.where(bad, pi, jnp.minimum(chi, pi))
    lo, hi = widen(lo, hi)
    nan = combine_nan(x.nan, y.nan)
    out = Jet(lo, hi, dep=x.dep or y.dep, nan=nan)
    if out.dep and (x.tlo is not None or y.tlo is not None):
        x2, y2 = _arith.ipow_int(x.lo, x.hi, 2), _arith.ipow_int(y.lo, y.hi, 2)
        rlo, rhi = _arith.irecip(*_arith.iadd(*x2, *y2))
        dy = imul(x.lo, x.hi, rlo, rhi)  # d/dy = x / r^2
        dx = imul(-y.hi, -y.lo, rlo, rhi)  # d/dx = -y / r^2
        tlo, thi = tadd(tscale(*dy, y), tscale(*dx, x))
        if tlo is None:
            tlo, thi = ctx.tangent(out)
        bb = bad[..., None]
        ulo, uhi = ctx.unbounded_tangent(lo.shape, lo.dtype)
        out.tlo, out.thi = jnp.where(bb, ulo, tlo), jnp.where(bb, uhi, thi)
        site = ctx.site(op, "jump", "atan2 across its branch cut {y = 0, x < 0} or the origin")
        out.tc = _causes.first_of(ctx.causes, None, [bad], site)
    return [out]


# --------------------------------------------------------------------------------------------
# Piecewise-constant operations.
# --------------------------------------------------------------------------------------------


def step_jet(ctx, op, lo, hi, dep, out_dtype, nan=None) -> Jet:
    """A piecewise-constant value: zero tangent where decided, unbounded (a jump) elsewhere."""
    out = Jet(lo, hi, dep=dep, nan=nan)
    if not dep or not jnp.issubdtype(out_dtype, jnp.floating):
        return out
    decided = lo == hi
    ulo, uhi = ctx.unbounded_tangent(lo.shape, lo.dtype)
    z = jnp.zeros_like(ulo)
    dd = decided[..., None]
    out.tlo, out.thi = jnp.where(dd, z, ulo), jnp.where(dd, z, uhi)
    site = ctx.site(op, "step")
    out.tc = _causes.first_of(ctx.causes, None, [~decided], site)
    return out


@rule("floor", "ceil", "round", "sign")
def _piecewise_constant(ctx, op, ins):
    a = ins[0]
    lo, hi = op.prim.bind(a.lo, **op.params), op.prim.bind(a.hi, **op.params)  # all monotone
    return [step_jet(ctx, op, lo, hi, a.dep, _out_aval(ctx, op).dtype, a.nan)]


# --------------------------------------------------------------------------------------------
# Comparisons, logic, branches.
# --------------------------------------------------------------------------------------------


def _maybe_nan(a: Jet):
    return None if a.nan is None else a.nan >= 1


def _surely_nan(a: Jet):
    return None if a.nan is None else a.nan == 2


def _or(x, y):
    if x is None:
        return y
    return x if y is None else x | y


_SYMBOL = {"lt": "<", "le": "<=", "gt": ">", "ge": ">=", "eq": "==", "ne": "!="}
_FLIP = {"lt": "gt", "le": "ge", "gt": "lt", "ge": "le", "eq": "eq", "ne": "ne"}


@rule("eq", "ne", "lt", "le", "gt", "ge")
def _compare(ctx, op, ins):
    a, b = _binary(ctx, op, ins)
    name = op.name
    maybe = _or(_maybe_nan(a), _maybe_nan(b))
    surely = _or(_surely_nan(a), _surely_nan(b))
    if _same(op):
        truth = name in ("eq", "le", "ge")
        shape = a.shape
        if maybe is None:
            v = jnp.full(shape, truth)
            return [Jet(v, v, dep=False, pt=True)]
        if name == "ne":
            return [Jet(a.nan == 2, a.nan >= 1, dep=a.dep)]
        if truth:
            return [Jet(a.nan == 0, a.nan != 2, dep=a.dep)]
        v = jnp.zeros(shape, bool)
        return [Jet(v, v, dep=False, pt=True)]
    if name == "lt":
        sure, poss = a.hi < b.lo, a.lo < b.hi
    elif name == "le":
        sure, poss = a.hi <= b.lo, a.lo <= b.hi
    elif name == "gt":
        sure, poss = a.lo > b.hi, a.hi > b.lo
    elif name == "ge":
        sure, poss = a.lo >= b.hi, a.hi >= b.lo
    else:
        overlap = (a.lo <= b.hi) & (b.lo <= a.hi)
        point_eq = (a.lo == a.hi) & (b.lo == b.hi) & (a.lo == b.lo)
        sure, poss = (point_eq, overlap) if name == "eq" else (~overlap, ~point_eq)
    if maybe is not None:
        if name == "ne":
            sure, poss = sure | surely, poss | maybe
        else:
            sure, poss = sure & ~maybe, poss & ~surely
    out = Jet(sure, poss, dep=a.dep or b.dep)
    out.face = _face(ctx, op, a, b, name)
    return [out]


def _face(ctx, op, a, b, name):
    """Face info for ``u ⋈ c`` with ``u`` box-dependent and ``c`` a concrete constant."""
    if not (a.is_float and b.is_float):
        return None
    if a.dep and b.concrete and b.nan is None:
        u_id, c, sym = op.ins[0], b.lo, _SYMBOL[name]
    elif b.dep and a.concrete and a.nan is None:
        u_id, c, sym = op.ins[1], a.lo, _SYMBOL[_FLIP[name]]
    else:
        return None
    shape = ctx.program.avals[u_id].shape
    c = np.broadcast_to(np.asarray(c), shape)
    return Face(u_id, c, f"{_exact.describe(ctx, u_id)} {sym} {_exact.describe_const(c)}", scope=ctx.env)


@rule("and", "or", "xor", "not")
def _logical(ctx, op, ins):
    shape = _out_aval(ctx, op).shape
    ins = [bcast(a, shape) for a in ins]
    if any(a.dep and a.dtype != bool for a in ins):
        unsupported(op.name, " on box-dependent integers")
    if op.name == "not":
        (a,) = ins
        return [Jet(~a.hi, ~a.lo, dep=a.dep, face=a.face)]
    a, b = ins
    dep = a.dep or b.dep
    if op.name == "and":
        return [Jet(a.lo & b.lo, a.hi & b.hi, dep=dep)]
    if op.name == "or":
        return [Jet(a.lo | b.lo, a.hi | b.hi, dep=dep)]
    decided = (a.lo == a.hi) & (b.lo == b.hi)
    x = a.lo ^ b.lo
    return [Jet(decided & x, ~decided | x, dep=dep)]


@rule("is_finite")
def _is_finite(ctx, op, ins):
    a = ins[0]
    sure = jnp.isfinite(a.lo) & jnp.isfinite(a.hi)
    poss = ~((a.lo == a.hi) & jnp.isinf(a.lo))
    if a.nan is not None:
        sure, poss = sure & (a.nan == 0), poss & (a.nan != 2)
    return [Jet(sure, poss, dep=a.dep)]


def _big(x, sign):
    if jnp.issubdtype(x.dtype, jnp.floating):
        return jnp.full_like(x, sign * jnp.inf)
    if x.dtype == bool:
        return jnp.full_like(x, sign > 0)
    info = jnp.iinfo(x.dtype)
    return jnp.full_like(x, info.max if sign > 0 else info.min)


def select(ctx, op, pred: Jet, cases: list[Jet], out_dtype, prove) -> Jet:
    """``select_n(pred, *cases)`` (also ``cond``): decided entries pick a case, others take hulls.

    Where the predicate is undecided, the tangent is the hull of the possible cases' tangents
    only if the switch is proven continuous (or ``assume_continuous``); otherwise unbounded.
    """
    shape = cases[0].shape
    dep_cases = any(c.dep for c in cases)
    if not pred.dep:
        p = pred.lo.astype(jnp.int32) if pred.lo.dtype == bool else pred.lo
        if p.shape != shape:
            p = jnp.broadcast_to(p, shape)
        lo = lax.select_n(p, *[c.lo for c in cases])
        hi = lax.select_n(p, *[c.hi for c in cases])
        nans = [c.nan for c in cases]
        nan = None
        if any(f is not None for f in nans):
            nan = lax.select_n(p, *[jnp.zeros(shape, jnp.int8) if f is None else f for f in nans])
        out = Jet(lo, hi, dep=dep_cases, nan=nan, fin=all(c.fin for c in cases))
        if dep_cases and jnp.issubdtype(out_dtype, jnp.floating) and any(c.tlo is not None for c in cases):
            ts = [ctx.tangent(c) for c in cases]
            pb = jnp.broadcast_to(p[..., None], shape + (ctx.n,))
            out.tlo = lax.select_n(pb, *[t[0] for t in ts])
            out.thi = lax.select_n(pb, *[t[1] for t in ts])
        return out
    plo = jnp.broadcast_to(pred.lo.astype(jnp.int32), shape)
    phi = jnp.broadcast_to(pred.hi.astype(jnp.int32), shape)
    inc = [(plo <= k) & (k <= phi) for k in range(len(cases))]
    lo, hi = _big(cases[0].lo, 1), _big(cases[0].hi, -1)
    nan = None
    for k, c in enumerate(cases):
        lo = jnp.where(inc[k], jnp.minimum(lo, c.lo), lo)
        hi = jnp.where(inc[k], jnp.maximum(hi, c.hi), hi)
        if c.nan is not None:
            nan = combine_nan(nan, jnp.where(inc[k], c.nan, 0).astype(jnp.int8))
    out = Jet(lo, hi, dep=True, nan=nan)
    if not jnp.issubdtype(out_dtype, jnp.floating):
        return out
    tlo = thi = None
    for k, c in enumerate(cases):
        a, b = ctx.tangent(c)
        ik = inc[k][..., None]
        if tlo is None:
            tlo, thi = jnp.where(ik, a, jnp.inf), jnp.where(ik, b, -jnp.inf)
        else:
            tlo = jnp.where(ik, jnp.minimum(tlo, a), tlo)
            thi = jnp.where(ik, jnp.maximum(thi, b), thi)
    undecided = plo != phi
    if ctx.rounding:  # rounding may pick the other branch: at most sum_k e_k more (module _rounding)
        extra = None
        for k, c in enumerate(cases):
            a, b = ctx.tangent(c)
            m = jnp.where(inc[k][..., None], jnp.maximum(jnp.abs(a), jnp.abs(b)), 0.0)
            extra = m if extra is None else extra + m
        extra = jnp.where(undecided[..., None], extra, 0.0)
        tlo, thi = tlo - extra, thi + extra
    if not ctx.assume_continuous:
        equal, differ = prove(shape)
        bad = undecided & ~equal
        ulo, uhi = ctx.unbounded_tangent(shape, tlo.dtype)
        tlo, thi = jnp.where(bad[..., None], ulo, tlo), jnp.where(bad[..., None], uhi, thi)
        what = f"jnp.where/select_n on `{pred.face.text}`" if pred.face is not None else "jnp.where/select_n"
        if op is not None and op.name == "cond":
            what = what.replace("jnp.where/select_n", "lax.cond")
        s_jump = ctx.site(op, "jump", what)
        s_cont = ctx.site(op, "continuity", what)
        jump = _causes.first_of(ctx.causes, None, [bad & differ], s_jump)
        out.tc = _causes.first_of(ctx.causes, jump, [bad], s_cont)  # a jump, else an unproven switch
    out.tlo, out.thi = tlo, thi
    return out


@rule("select_n")
def _select_n(ctx, op, ins):
    aval = _out_aval(ctx, op)
    cases = [bcast(c, aval.shape) for c in ins[1:]]
    face, case_ids = ins[0].face, op.ins[1:]
    return [select(ctx, op, ins[0], cases, aval.dtype, lambda shape: _exact.prove_switch(ctx, face, case_ids, shape))]


@rule("cond")
def _cond(ctx, op, ins):
    index, operands = ins[0], ins[1:]
    branches = [ctx.sub(br) for br in op.params["branches"]]
    if index.concrete:
        k = int(np.clip(np.asarray(index.lo), 0, len(branches) - 1))
        return ctx.interpret(ctx, branches[k], operands)
    outs = [ctx.interpret(ctx, br, operands) for br in branches]
    index = Jet(jnp.clip(index.lo, 0, len(branches) - 1), jnp.clip(index.hi, 0, len(branches) - 1),
                dep=index.dep, pt=index.pt, face=index.face)  # fmt: skip
    res = []
    for k in range(len(outs[0])):
        aval = _out_aval(ctx, op, k)
        cases = [bcast(o[k], aval.shape) for o in outs]
        pred = index if index.shape == aval.shape else Jet(
            jnp.broadcast_to(index.lo, aval.shape), jnp.broadcast_to(index.hi, aval.shape), dep=index.dep,
            pt=index.pt, face=None)  # fmt: skip
        def prove(shape, k=k):
            return _exact.prove_cond(ctx, index.face, branches, op.ins[1:], k, shape)

        res.append(select(ctx, op, pred, cases, aval.dtype, prove))
    return res


@rule("convert_element_type")
def _convert(ctx, op, ins):
    a = ins[0]
    new_dtype = op.params["new_dtype"]
    src_float = a.is_float
    dst_float = jnp.issubdtype(new_dtype, jnp.floating)
    narrowing = src_float and dst_float and jnp.finfo(new_dtype).bits < jnp.finfo(a.dtype).bits
    if src_float and dst_float:
        lo, hi = a.lo.astype(new_dtype), a.hi.astype(new_dtype)
        tl = th = None
        if a.tlo is not None:
            tl, th = a.tlo.astype(new_dtype), a.thi.astype(new_dtype)
        if narrowing:
            lo, hi = widen(lo, hi)
            if tl is not None:
                tl, th = widen(tl, th)
        return [Jet(lo, hi, tl, th, dep=a.dep, pt=a.pt and not narrowing, nan=a.nan, fin=a.fin)]
    if src_float and new_dtype == jnp.bool_:  # x != 0 (NaN != 0 is True)
        z = point(jnp.zeros((), a.dtype))
        return RULES["ne"](ctx, Op(lax.ne_p, {}, (op.ins[0], -1), op.outs), [a, z])
    lo, hi = a.lo.astype(new_dtype), a.hi.astype(new_dtype)  # monotone (truncation toward 0)
    if src_float and a.nan is not None:  # NaN -> int is unspecified: any integer
        lo = jnp.where(a.nan >= 1, _big(lo, -1), lo)
        hi = jnp.where(a.nan >= 1, _big(hi, 1), hi)
    if dst_float:
        lo, hi = widen(lo, hi)
        return [step_jet(ctx, op, lo, hi, a.dep, new_dtype)]
    return [Jet(lo, hi, dep=a.dep, face=a.face if a.dtype == bool else None)]


@rule("reduce_precision")
def _reduce_precision(ctx, op, ins):
    a = ins[0]
    e, small, big = reduced_format(op.params, a.lo.dtype)
    lo, hi = widen(a.lo, a.hi, e / eps(a.lo), absolute=small)
    over_lo, over_hi = a.lo < -big, a.hi > big  # may round to -inf / +inf (a value source: causes)
    lo, hi = jnp.where(over_lo, -jnp.inf, lo), jnp.where(over_hi, jnp.inf, hi)
    tl = th = None
    if a.tlo is not None:
        tl, th = widen(a.tlo, a.thi, e / eps(a.lo))
        over = (over_lo | over_hi)[..., None]
        tl, th = jnp.where(over, -jnp.inf, tl), jnp.where(over, jnp.inf, th)
    return [Jet(lo, hi, tl, th, dep=a.dep, nan=a.nan)]


# --------------------------------------------------------------------------------------------
# Linear algebra and reductions.
# --------------------------------------------------------------------------------------------


def _any_bad(a: Jet, consts_finite: bool):
    """Traced bool: some entry may be NaN or infinite (None if surely none)."""
    if a.fin or (a.pt and a.nan is None and not a.concrete and consts_finite):
        return None
    bad = jnp.any(_maybe_inf(a))
    if a.nan is not None:
        bad = bad | jnp.any(a.nan >= 1)
    return bad


@rule("dot_general")
def _dot_general(ctx, op, ins):
    a, b = ins
    _require_float(op.name, a, b)
    params = op.params
    dn = params["dimension_numbers"]
    pet = params.get("preferred_element_type")

    def dg(x, y):
        return lax.dot_general(x, y, dn, preferred_element_type=pet)

    k = math.prod(a.shape[d] for d in dn[0][0])

    def mm(alo, ahi, apt, blo, bhi, bpt):
        def mid_rad(lo, hi, pt):
            if pt:
                return lo, None
            c = 0.5 * (lo + hi)
            return c, jnp.maximum(hi - c, c - lo) * (1.0 + 2.0 * eps(lo))

        ac, ar = mid_rad(alo, ahi, apt)
        bc, br = mid_rad(blo, bhi, bpt)
        c = dg(ac, bc)
        r = jnp.zeros_like(c)
        if br is not None:
            r = r + dg(jnp.abs(ac), br)
        if ar is not None:
            r = r + dg(ar, jnp.abs(bc))
        if ar is not None and br is not None:
            r = r + dg(ar, br)
        gamma = (k + 2) * eps(c)
        rad = (r + gamma * (dg(jnp.abs(ac), jnp.abs(bc)) + r)) * (1.0 + 2.0 * eps(c))
        rad = rad + (k + 1) * tiny(c)
        return widen(c - rad, c + rad)

    lo, hi = mm(a.lo, a.hi, a.pt, b.lo, b.hi, b.pt)
    # NaN (0 * inf, inf - inf) possible anywhere once an operand may hold NaN or inf (conservative).
    bad = [x for x in (_any_bad(a, ctx.consts_finite), _any_bad(b, ctx.consts_finite)) if x is not None]
    nan = None
    if bad:
        flag = bad[0] if len(bad) == 1 else bad[0] | bad[1]
        nan = jnp.broadcast_to(flag, lo.shape).astype(jnp.int8)
    parts = []
    if a.tlo is not None:
        f = jax.vmap(lambda tl, th: mm(tl, th, False, b.lo, b.hi, b.pt), in_axes=-1, out_axes=-1)
        parts.append(f(a.tlo, a.thi))
    if b.tlo is not None:
        f = jax.vmap(lambda tl, th: mm(a.lo, a.hi, a.pt, tl, th, False), in_axes=-1, out_axes=-1)
        parts.append(f(b.tlo, b.thi))
    t = (None, None)
    for p in parts:
        t = tadd(t, p)
    return [Jet(lo, hi, *t, dep=a.dep or b.dep, nan=nan)]


def _reduce_nan(a: Jet, red):
    """NaN flag of a sum-like reduction: NaN inputs, or +inf and -inf both possible."""
    cancel = red(_int8(a.hi == jnp.inf)) & red(_int8(a.lo == -jnp.inf))
    nan = None if a.nan is None else red(a.nan)
    return combine_nan(nan, cancel.astype(jnp.int8))


def sum_like(ctx, bind, a: Jet, k: int, nan) -> Jet:
    """Linear reductions (reduce_sum, cumsum): endpoints separately plus gamma_k rounding slack."""

    def slack(lo, hi):
        s = bind(jnp.maximum(jnp.abs(lo), jnp.abs(hi)))
        return (k + 2) * eps(s) * s + (k + 1) * tiny(s)

    e = slack(a.lo, a.hi)
    lo, hi = widen(bind(a.lo) - e, bind(a.hi) + e)
    if a.tlo is None:
        return Jet(lo, hi, dep=a.dep, nan=nan)
    fv = jax.vmap(bind, in_axes=-1, out_axes=-1)
    et = jax.vmap(slack, in_axes=-1, out_axes=-1)(a.tlo, a.thi)
    tlo, thi = widen(fv(a.tlo) - et, fv(a.thi) + et)
    return Jet(lo, hi, tlo, thi, dep=True, nan=nan)


@rule("reduce_sum")
def _reduce_sum(ctx, op, ins):
    a = ins[0]
    _require_float(op.name, a)
    axes = tuple(op.params["axes"])
    k = math.prod(a.shape[d] for d in axes)

    def bind(x):
        return op.prim.bind(x, **op.params)

    nan = _reduce_nan(a, lambda f: jnp.max(f, axis=axes))
    return [sum_like(ctx, bind, a, k, nan)]


@rule("cumsum")
def _cumsum(ctx, op, ins):
    a = ins[0]
    _require_float(op.name, a)
    axis, rev = op.params["axis"], op.params.get("reverse", False)

    def bind(x):
        return op.prim.bind(x, **op.params)

    nan = _reduce_nan(a, lambda f: lax.cummax(f, axis=axis, reverse=rev))
    return [sum_like(ctx, bind, a, a.shape[axis], nan)]


@rule("reduce_max", "reduce_min")
def _reduce_extreme(ctx, op, ins):
    a = ins[0]
    axes = tuple(op.params["axes"])
    is_max = op.name == "reduce_max"
    red = jnp.max if is_max else jnp.min
    lo, hi = red(a.lo, axis=axes), red(a.hi, axis=axes)
    nan = None if a.nan is None else jnp.max(a.nan, axis=axes)
    if a.tlo is None or not a.is_float:
        return [Jet(lo, hi, dep=a.dep, nan=nan)]
    # Elements that can attain the extreme; Clarke hull of their tangents (max is continuous).
    cand = a.hi >= jnp.expand_dims(lo, axes) if is_max else a.lo <= jnp.expand_dims(hi, axes)
    c = cand[..., None]
    tlo = jnp.min(jnp.where(c, a.tlo, jnp.inf), axis=axes)
    thi = jnp.max(jnp.where(c, a.thi, -jnp.inf), axis=axes)
    return [Jet(lo, hi, tlo, thi, dep=True, nan=nan)]


@rule("reduce_prod")
def _reduce_prod(ctx, op, ins):
    """Product over axes as a chain of interval products (product rule for the tangent)."""
    a = ins[0]
    _require_float(op.name, a)
    axes = tuple(op.params["axes"])
    keep = [d for d in range(len(a.shape)) if d not in axes]
    perm = list(axes) + keep
    k = math.prod(a.shape[d] for d in axes)
    rest = tuple(a.shape[d] for d in keep)

    def lead(x, extra=()):
        p = perm + [len(a.shape) + i for i in range(len(extra))]
        return jnp.transpose(x, p).reshape((k,) + rest + tuple(extra))

    n = (ctx.n,) if a.tlo is not None else ()
    lo, hi = lead(a.lo), lead(a.hi)
    tl = th = None
    if a.tlo is not None:
        tl, th = lead(a.tlo, n), lead(a.thi, n)
    nan = None if a.nan is None else lead(a.nan)

    def item(i):
        return Jet(lo[i], hi[i], None if tl is None else tl[i], None if th is None else th[i], dep=a.dep,
                   nan=None if nan is None else nan[i])  # fmt: skip

    out = Jet(jnp.ones(rest, a.dtype), jnp.ones(rest, a.dtype), dep=False, pt=True)
    for i in range(k):
        out = mul(out, item(i))
    return [out]


@rule("argmax", "argmin")
def _argextreme(ctx, op, ins):
    raise NotEnclosable(f"primitive {op.name!r} of a box-dependent value has no sound interval rule (an index "
                        "that may change inside a box)", kind="unsupported")


@rule("sort")
def _sort(ctx, op, ins):
    """Sort of one operand: order statistics of the endpoints; Clarke hull of candidate tangents."""
    if len(ins) != 1:
        unsupported("sort", " with several operands (argsort, sort by key)")
    a = ins[0]
    dim = op.params["dimension"]
    lo, hi = jnp.sort(a.lo, axis=dim), jnp.sort(a.hi, axis=dim)
    nan = None if a.nan is None else jnp.broadcast_to(jnp.max(a.nan, axis=dim, keepdims=True), a.shape)
    out = Jet(lo, hi, dep=a.dep, nan=nan)
    if a.tlo is None:
        return [out]
    # Element i may sit at rank k iff its interval meets [lo_k, hi_k] (k-th order statistics).
    ai_lo = jnp.expand_dims(jnp.moveaxis(a.lo, dim, -1), -1)  # (..., i, 1)
    ai_hi = jnp.expand_dims(jnp.moveaxis(a.hi, dim, -1), -1)
    sk_lo = jnp.expand_dims(jnp.moveaxis(lo, dim, -1), -2)  # (..., 1, k)
    sk_hi = jnp.expand_dims(jnp.moveaxis(hi, dim, -1), -2)
    cand = (ai_lo <= sk_hi) & (ai_hi >= sk_lo)  # (..., i, k)
    tl = jnp.moveaxis(a.tlo, dim, -2)[..., :, None, :]  # (..., i, 1, n)
    th = jnp.moveaxis(a.thi, dim, -2)[..., :, None, :]
    c = cand[..., None]
    tlo = jnp.min(jnp.where(c, tl, jnp.inf), axis=-3)  # (..., k, n)
    thi = jnp.max(jnp.where(c, th, -jnp.inf), axis=-3)
    out.tlo, out.thi = jnp.moveaxis(tlo, -2, dim), jnp.moveaxis(thi, -2, dim)
    return [out]


# --------------------------------------------------------------------------------------------
# Structural operations.
# --------------------------------------------------------------------------------------------

STRUCTURAL = frozenset({
    "slice", "squeeze", "reshape", "broadcast_in_dim", "concatenate", "transpose", "rev", "pad",
    "stack", "split", "dynamic_slice", "dynamic_update_slice", "gather", "scatter", "tile",
})  # fmt: skip

# Operand positions that are indices (must be exactly known, never box-dependent).
_INDEX_OPERANDS = {
    "dynamic_slice": lambda k: k >= 1,
    "dynamic_update_slice": lambda k: k >= 2,
    "gather": lambda k: k == 1,
    "scatter": lambda k: k == 1,
}


def is_index_operand(name, k) -> bool:
    """Whether operand ``k`` of primitive ``name`` is an index."""
    return _INDEX_OPERANDS.get(name, lambda k: False)(k)


def _distinct_targets(op, ins) -> bool:
    """Whether a scatter with known indices writes every update entry to its own place."""
    idx, upd = ins[1], ins[2]
    if not idx.concrete:
        return False
    n = int(np.prod(upd.shape))
    ids = np.arange(n, dtype=np.int32).reshape(upd.shape)
    base = np.full(ins[0].shape, -1, np.int32)
    with jax.ensure_compile_time_eval():
        out = np.asarray(op.prim.bind(base, np.asarray(idx.lo), ids, **op.params))
    landed = np.unique(out[out >= 0])
    return landed.size == n


@rule(*STRUCTURAL)
def _structural(ctx, op, ins):
    """Moves entries around: applied to lo, hi and NaN flags separately, vmapped over tangents."""
    name, params = op.name, op.params
    for k, a in enumerate(ins):
        if is_index_operand(name, k) and a.dep:
            raise NotEnclosable(f"primitive {name!r} with box-dependent indices has no sound interval rule "
                                "(the selected entries may change inside a box)", kind="unsupported")  # fmt: skip
    if name == "scatter" and not params.get("unique_indices", False) and not _distinct_targets(op, ins):
        unsupported(name, " with possibly repeated (or dropped) indices")

    def bind(*xs):
        return op.prim.bind(*xs, **params)

    def as_list(x):
        return list(x) if op.prim.multiple_results else [x]

    data = [a for k, a in enumerate(ins) if not is_index_operand(name, k)]
    los = as_list(bind(*[a.lo for a in ins]))
    his = as_list(bind(*[a.hi for a in ins]))
    nans = [None] * len(los)
    if any(a.nan is not None for a in data):
        flags = [a.lo if is_index_operand(name, k) else (jnp.zeros(a.shape, jnp.int8) if a.nan is None else a.nan)
                 for k, a in enumerate(ins)]  # fmt: skip
        nans = as_list(bind(*flags))
    fill_vc = None
    if name in _FILLING and _float(los[0]):  # out-of-bounds entries are filled with NaN: a NaN value
        filled = [jnp.isnan(lo) | jnp.isnan(hi) for lo, hi in zip(los, his, strict=True)]
        nans = [combine_nan(f, _int8(b) * 2) for f, b in zip(nans, filled, strict=True)]
        site = ctx.site(op, "value", f"{name} with out-of-bounds indices fills NaN")
        fill_vc = [_causes.first_of(ctx.causes, None, [b], site) for b in filled]
    dep = any(a.dep for a in data)
    fin = all(a.fin for a in data)
    if fill_vc is not None:
        fin = False
    if not dep or not any(a.tlo is not None for a in data) or not _float(los[0]):
        outs = [Jet(lo, hi, dep=dep, nan=f, fin=fin) for lo, hi, f in zip(los, his, nans, strict=True)]
        return _with_causes(outs, fill_vc)
    args_lo, args_hi, axes = [], [], []
    for k, a in enumerate(ins):
        if is_index_operand(name, k):
            args_lo.append(a.lo)
            args_hi.append(a.lo)
            axes.append(None)
        else:
            tl, th = ctx.tangent(a)
            args_lo.append(tl)
            args_hi.append(th)
            axes.append(-1)
    fv = jax.vmap(bind, in_axes=axes, out_axes=-1)
    tlos, this = as_list(fv(*args_lo)), as_list(fv(*args_hi))
    outs = [Jet(lo, hi, tl, th, dep=True, nan=f, fin=fin)
            for lo, hi, tl, th, f in zip(los, his, tlos, this, nans, strict=True)]  # fmt: skip
    return _with_causes(outs, fill_vc)


# Structural primitives that may produce values of their own: NaN for out-of-bounds indices.
_FILLING = frozenset({"gather", "dynamic_slice", "pad"})


def _with_causes(outs, vcs):
    if vcs is not None:
        for o, c in zip(outs, vcs, strict=True):
            o.vc = c
    return outs


@rule("scatter-add")
def _scatter_add(ctx, op, ins):
    operand, idx, upd = ins
    if idx.dep:
        unsupported(op.name, " with box-dependent indices")
    m = upd.lo.size + 1

    def bind(o, u):
        return op.prim.bind(o, idx.lo, u, **op.params)

    def slack(olo, ohi, ulo, uhi):
        s = bind(jnp.maximum(jnp.abs(olo), jnp.abs(ohi)), jnp.maximum(jnp.abs(ulo), jnp.abs(uhi)))
        return (m + 2) * eps(s) * s + m * tiny(s)

    e = slack(operand.lo, operand.hi, upd.lo, upd.hi)
    lo, hi = widen(bind(operand.lo, upd.lo) - e, bind(operand.hi, upd.hi) + e)
    # NaN where a NaN or an infinite value (inf - inf) may be added in.
    fo = combine_nan(operand.nan, _int8(_maybe_inf(operand)))
    fu = combine_nan(upd.nan, _int8(_maybe_inf(upd)))
    nan = (bind(fo.astype(lo.dtype), fu.astype(lo.dtype)) > 0).astype(jnp.int8)
    if not (operand.dep or upd.dep):
        return [Jet(lo, hi, dep=False, nan=nan)]
    (otl, oth), (utl, uth) = ctx.tangent(operand), ctx.tangent(upd)
    fv = jax.vmap(bind, in_axes=-1, out_axes=-1)
    et = jax.vmap(slack, in_axes=-1, out_axes=-1)(otl, oth, utl, uth)
    tlo, thi = widen(fv(otl, utl) - et, fv(oth, uth) + et)
    return [Jet(lo, hi, tlo, thi, dep=True, nan=nan)]


@rule("reduce_and", "reduce_or")
def _reduce_logical(ctx, op, ins):
    a = ins[0]
    axes = tuple(op.params["axes"])
    red = jnp.all if op.name == "reduce_and" else jnp.any
    return [Jet(red(a.lo, axis=axes), red(a.hi, axis=axes), dep=a.dep)]

