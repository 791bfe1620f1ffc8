r"""Exact evaluation at a branch switch: proves (or refutes) continuity of ``where``/``cond``.

Let a branch ``out = select(u ⋈ c, b_0, b_1)`` (or ``lax.cond``) have a predicate that compares a
box-dependent value :math:`u` with a known constant :math:`c`, and let every branch value be
computed from :math:`u` alone (and constants), entry by entry: :math:`b_k=B_k(u)`. On the switching
set :math:`\{x: u(x)=c\}` the branches take the values :math:`B_k(c)`, so if
:math:`B_0(c)=B_1(c)` exactly, then ``out`` is continuous across the switch provided each branch
is continuous on the box (which holds wherever its own tangent enclosure is finite: the hull of
the branch tangents is then a valid Clarke enclosure, as for ``max``). If
:math:`B_0(c)\ne B_1(c)` the branches differ where the predicate switches: ``out`` jumps if the
switching set meets the box.

:math:`B_k(c)` is evaluated in exact rational arithmetic (:class:`fractions.Fraction`) at trace
time, from the program's operations: arithmetic, comparisons, selections, integer powers,
structural moves, and elementary functions at their exact special points (``exp(0) = 1``,
``log(1) = 0``, ``sqrt`` of a square, ...). A finite constant not known at trace time (e.g. a
coefficient array passed to the compiled enclosure) is an unknown finite number ``U``, with
``0 * U = 0`` exactly (so ``k * (x - c)`` at ``x = c`` is 0 for any ``k``). Anything else
(another box-dependent input, a non-special transcendental value, a comparison with ``U``)
leaves the entry *unproven*;
the engine then refuses a derivative bound there. Entry-wise dependence on :math:`u` is enforced:
for an array :math:`u` only elementwise operations may touch :math:`u`-dependent values.
"""

from __future__ import annotations

import math
from fractions import Fraction

import jax
import numpy as np

from certify._interval._ir import source_of
from certify._interval._jet import Context, Face, in_scope

__all__ = ["describe", "describe_const", "prove_cond", "prove_switch"]


class _Fail(Exception):
    """The exact evaluation cannot proceed (unproven)."""


class _Unknown:
    """An unknown finite real number (a constant not known at trace time)."""

    def __repr__(self):
        return "U"


U = _Unknown()


def _finite_op(f):
    """An arithmetic operation that maps unknown finite inputs to an unknown finite output."""

    def g(*xs):
        return U if any(x is U for x in xs) else f(*xs)

    return g


def _mul(x, y):
    if x is U or y is U:
        other = y if x is U else x
        return Fraction(0) if (other is not U and other == 0) else U
    return x * y


def _div(x, y):
    if y is U:
        return None  # may be a division by zero
    return U if x is U else x / y


def _known(f):
    """An operation defined only on known values (comparisons, transcendental special points)."""

    def g(*xs):
        return None if any(x is U for x in xs) else f(*xs)

    return g


def _frac(x):
    if isinstance(x, bool | np.bool_):
        return bool(x)
    if isinstance(x, int | np.integer):
        return Fraction(int(x))
    x = float(x)
    return Fraction(x) if math.isfinite(x) else None


def to_exact(arr) -> np.ndarray:
    """A concrete array as an object array of ``Fraction``/``bool`` (``None`` for non-finite)."""
    a = np.asarray(arr)
    out = np.empty(a.shape, dtype=object)
    for idx in np.ndindex(a.shape):
        out[idx] = _frac(a[idx])
    return out


def _lift(f, nin):
    def g(*xs):
        if any(x is None for x in xs):
            return None
        try:
            return f(*xs)
        except (ZeroDivisionError, ValueError, OverflowError, TypeError):
            return None

    uf = np.frompyfunc(g, nin, 1)

    def apply(*xs):
        return np.asarray(uf(*xs), dtype=object)

    return apply


def _isqrt_frac(q: Fraction):
    if q < 0:
        return None
    p, r = math.isqrt(q.numerator), math.isqrt(q.denominator)
    if p * p == q.numerator and r * r == q.denominator:
        return Fraction(p, r)
    return None


def _icbrt_frac(q: Fraction):
    def icbrt(n):
        s = -1 if n < 0 else 1
        r = round(abs(n) ** (1.0 / 3.0))
        for c in (r - 1, r, r + 1):
            if c >= 0 and c**3 == abs(n):
                return s * c
        return None

    p, r = icbrt(q.numerator), icbrt(q.denominator)
    return None if p is None or r is None else Fraction(p, r)


def _special(table):
    def f(x):
        return table.get(x)

    return f


_ZERO_TO_ZERO = {Fraction(0): Fraction(0)}
_UNARY = {
    "neg": lambda x: -x,
    "abs": abs,
    "sign": lambda x: Fraction((x > 0) - (x < 0)),
    "floor": lambda x: Fraction(math.floor(x)),
    "ceil": lambda x: Fraction(math.ceil(x)),
    "square": lambda x: x * x,
    "exp": _special({Fraction(0): Fraction(1)}),
    "exp2": lambda x: Fraction(2) ** int(x) if x.denominator == 1 and abs(x) < 2048 else None,
    "expm1": _special(_ZERO_TO_ZERO),
    "log": _special({Fraction(1): Fraction(0)}),
    "log1p": _special(_ZERO_TO_ZERO),
    "sin": _special(_ZERO_TO_ZERO),
    "tan": _special(_ZERO_TO_ZERO),
    "tanh": _special(_ZERO_TO_ZERO),
    "sinh": _special(_ZERO_TO_ZERO),
    "asinh": _special(_ZERO_TO_ZERO),
    "atan": _special(_ZERO_TO_ZERO),
    "asin": _special(_ZERO_TO_ZERO),
    "atanh": _special(_ZERO_TO_ZERO),
    "erf": _special(_ZERO_TO_ZERO),
    "erf_inv": _special(_ZERO_TO_ZERO),
    "cos": _special({Fraction(0): Fraction(1)}),
    "cosh": _special({Fraction(0): Fraction(1)}),
    "erfc": _special({Fraction(0): Fraction(1)}),
    "acos": _special({Fraction(1): Fraction(0)}),
    "acosh": _special({Fraction(1): Fraction(0)}),
    "logistic": _special({Fraction(0): Fraction(1, 2)}),
    "sqrt": _isqrt_frac,
    "rsqrt": lambda x: None if x == 0 or _isqrt_frac(x) is None else 1 / _isqrt_frac(x),
    "cbrt": _icbrt_frac,
    "is_finite": lambda x: True,
    "not": lambda x: not x,
}


def _round(x: Fraction, method) -> Fraction:
    fl = math.floor(x)
    d = x - fl
    if d != Fraction(1, 2):
        return Fraction(fl + (1 if d > Fraction(1, 2) else 0))
    if int(method) == 0:  # away from zero
        return Fraction(fl + 1) if x > 0 else Fraction(fl)
    return Fraction(fl if fl % 2 == 0 else fl + 1)  # to nearest even


def _pow(x, y):
    if y.denominator != 1:
        return Fraction(1) if x == 1 else None
    if x == 0 and y < 0:
        return None
    return x ** int(y)


_FINITE_UNARY = ("neg", "abs", "square")
_FINITE_BINARY = ("add", "add_any", "sub", "max", "min")
_BINARY = {
    "add": lambda x, y: x + y,
    "add_any": lambda x, y: x + y,
    "sub": lambda x, y: x - y,
    "mul": _mul,
    "div": _div,
    "max": max,
    "min": min,
    "pow": _pow,
    "eq": lambda x, y: x == y,
    "ne": lambda x, y: x != y,
    "lt": lambda x, y: x < y,
    "le": lambda x, y: x <= y,
    "gt": lambda x, y: x > y,
    "ge": lambda x, y: x >= y,
    "and": lambda x, y: x and y,
    "or": lambda x, y: x or y,
    "xor": lambda x, y: x != y,
}

_ELEMENTWISE = frozenset(set(_UNARY) | set(_BINARY) | {"select_n", "integer_pow", "round", "clamp",
                                                       "convert_element_type"})  # fmt: skip


def _convert(x, params):
    dt = np.dtype(params["new_dtype"])
    if x is None:
        return None
    if dt == np.bool_:
        return x != 0
    if np.issubdtype(dt, np.floating):
        return Fraction(int(x)) if isinstance(x, bool) else x  # real semantics: float casts are the identity
    return Fraction(int(x))  # truncation toward zero


def _apply(op, args, u_shape):
    """Exact outputs of ``op`` on ``args`` = [(value, u-dependent)]."""
    name, p = op.name, op.params
    udep = any(d for _, d in args)
    vals = [v for v, _ in args]
    if udep and u_shape != () and name not in _ELEMENTWISE:
        raise _Fail
    if name in _UNARY:
        wrap = _finite_op if name in _FINITE_UNARY else _known
        return [_lift(wrap(_UNARY[name]), 1)(vals[0])]
    if name in _BINARY:
        wrap = _finite_op if name in _FINITE_BINARY else (lambda f: f) if name in ("mul", "div") else _known
        return [_lift(wrap(_BINARY[name]), 2)(vals[0], vals[1])]
    if name == "integer_pow":
        y = int(p["y"])
        f = _known(lambda x: None if (x == 0 and y < 0) else x**y) if y < 0 else _finite_op(lambda x: x**y)
        return [_lift(f, 1)(vals[0])]
    if name == "round":
        return [_lift(_known(lambda x: _round(x, p.get("rounding_method", 0))), 1)(vals[0])]
    if name == "clamp":
        return [_lift(_finite_op(lambda lo, x, hi: min(max(x, lo), hi)), 3)(*vals)]
    if name == "convert_element_type":
        floating = np.issubdtype(np.dtype(p["new_dtype"]), np.floating)
        return [_lift((lambda x: x) if floating else _known(lambda x: _convert(x, p)), 1)(vals[0])]
    if name == "select_n":
        n = len(vals) - 1

        def pick(q, *cs):
            return None if q is U or not 0 <= int(q) < n else cs[int(q)]

        return [np.asarray(np.frompyfunc(lambda q, *cs: None if q is None else pick(q, *cs), n + 1, 1)(*vals),
                           dtype=object)]  # fmt: skip
    if name == "broadcast_in_dim":
        shape, bdims = tuple(p["shape"]), tuple(p["broadcast_dimensions"])
        x = vals[0]
        tmp = [1] * len(shape)
        for i, d in enumerate(bdims):
            tmp[d] = x.shape[i]
        return [np.broadcast_to(x.reshape(tmp), shape)]
    if name == "reshape":
        return [vals[0].reshape(tuple(p["new_sizes"]))]
    if name == "squeeze":
        return [np.squeeze(vals[0], axis=tuple(p["dimensions"]))]
    if name == "transpose":
        return [np.transpose(vals[0], tuple(p["permutation"]))]
    if name == "rev":
        return [np.flip(vals[0], axis=tuple(p["dimensions"]))]
    if name == "slice":
        strides = p.get("strides") or (1,) * len(p["start_indices"])
        sl = tuple(slice(s, e, st) for s, e, st in zip(p["start_indices"], p["limit_indices"], strides, strict=True))
        return [vals[0][sl]]
    if name == "concatenate":
        return [np.concatenate(vals, axis=int(p["dimension"]))]
    if name in ("reduce_sum", "reduce_max", "reduce_min"):
        x = vals[0]
        axes = tuple(p["axes"])
        shape = tuple(s for d, s in enumerate(x.shape) if d not in axes)
        if any(v is None for v in x.ravel()):
            return [np.full(shape, None, dtype=object)]
        if any(v is U for v in x.ravel()):
            return [np.full(shape, U, dtype=object)]
        red = {"reduce_sum": np.sum, "reduce_max": np.max, "reduce_min": np.min}[name]
        return [np.asarray(red(x, axis=axes), dtype=object)]
    raise _Fail


def _leaf(ctx_env, consts, i):
    jet = ctx_env.get(i) if ctx_env is not None else None
    if jet is not None and not jet.dep:
        if jet.concrete and jet.nan is None:
            return to_exact(jet.lo)
        if jet.fin:  # finite but not known at trace time
            return np.full(jet.shape, U, dtype=object)
        raise _Fail
    if jet is None and i in consts and not isinstance(consts[i], jax.core.Tracer):
        return to_exact(consts[i])
    return None


def _evaluate(prog, env, memo, targets, u_shape):
    """Exact values of ``targets`` in ``prog``; ``memo`` holds ``id -> (value, u-dependent)``."""
    for t in targets:
        stack = [t]
        while stack:
            j = stack[-1]
            if j in memo:
                stack.pop()
                continue
            leaf = _leaf(env, prog.consts, j)
            if leaf is not None:
                memo[j] = (leaf, False)
                stack.pop()
                continue
            op = prog.producer.get(j)
            if op is None or op.name in ("cond", "while", "scan"):
                raise _Fail
            missing = [k for k in op.ins if k not in memo]
            if missing:
                stack.extend(missing)
                continue
            args = [memo[k] for k in op.ins]
            outs = _apply(op, args, u_shape)
            dep = any(d for _, d in args)
            for o, v in zip(op.outs, outs, strict=True):
                v = np.asarray(v, dtype=object)
                if dep and u_shape != () and v.shape != u_shape:
                    raise _Fail  # entry k must depend on u_k alone
                memo[o] = (v, dep)
            stack.pop()
    return [memo[t][0] for t in targets]


def _compare(values, shape):
    v0, v1 = (np.broadcast_to(v, shape) for v in values)
    equal = np.zeros(shape, bool)
    differ = np.zeros(shape, bool)
    for idx in np.ndindex(shape):
        a, b = v0[idx], v1[idx]
        if a is not None and b is not None and a is not U and b is not U:
            equal[idx] = a == b
            differ[idx] = a != b
    return equal, differ


def _unproven(shape):
    return np.zeros(shape, bool), np.zeros(shape, bool)


def prove_switch(ctx: Context, face: Face | None, case_ids, shape):
    """``(equal, differ)``: per entry, branches proven equal / proven different at the switch."""
    if not in_scope(face, ctx) or case_ids is None or len(case_ids) != 2:
        return _unproven(shape)  # no face, or a fact about another program's values
    u_shape = tuple(ctx.program.avals[face.u_id].shape)
    c = to_exact(face.c)
    memo = {face.u_id: (c, True)}
    try:
        vals = _evaluate(ctx.program, ctx.env, memo, list(case_ids), u_shape)
        return _compare(vals, shape)
    except (_Fail, ValueError):
        return _unproven(shape)


def prove_cond(ctx: Context, face: Face | None, branches, operand_ids, k: int, shape):
    """``(equal, differ)`` for output ``k`` of a two-branch ``lax.cond`` switching at ``face``."""
    if not in_scope(face, ctx) or len(branches) != 2:
        return _unproven(shape)
    u_shape = tuple(ctx.program.avals[face.u_id].shape)
    if u_shape != ():
        return _unproven(shape)
    try:
        inputs = []
        for i in operand_ids:
            if i == face.u_id:
                inputs.append((to_exact(face.c), True))
                continue
            leaf = _leaf(ctx.env, ctx.program.consts, i)
            if leaf is None:
                raise _Fail
            inputs.append((leaf, False))
        vals = []
        for br in branches:
            memo = dict(zip(br.invars, inputs, strict=True))
            vals.append(_evaluate(br, None, memo, [br.outvars[k]], u_shape)[0])
        return _compare(vals, shape)
    except (_Fail, ValueError):
        return _unproven(shape)


# --------------------------------------------------------------------------------------------
# Descriptions for messages.
# --------------------------------------------------------------------------------------------

_MOVES = ("squeeze", "reshape", "slice", "convert_element_type", "broadcast_in_dim")


def describe(ctx: Context, i: int) -> str:
    """``x_k`` (1-based) if value ``i`` is one coordinate of the input, else a short description."""
    prog = ctx.program
    j, index = i, 0
    if prog.avals[i].shape == () or int(np.prod(prog.avals[i].shape)) == 1:
        while True:
            if ctx.input_id is not None and j == ctx.input_id and len(ctx.stack) == 1:
                return f"x_{index + 1}"
            op = prog.producer.get(j)
            if op is None or op.name not in _MOVES:
                break
            if op.name == "slice":
                src_shape = prog.avals[op.ins[0]].shape
                if len(src_shape) != 1:
                    break
                index = int(op.params["start_indices"][0]) + index
            elif int(np.prod(prog.avals[op.ins[0]].shape)) != 1 and op.name != "slice":
                break
            j = op.ins[0]
    if ctx.input_id is not None and i == ctx.input_id and len(ctx.stack) == 1:
        return "x"
    op = prog.producer.get(i)
    if op is None:
        return "an input"
    where = source_of(op)
    return f"the {op.name} value" + (f" at {where}" if where else "")


def describe_const(c) -> str:
    """A short text for a comparison constant."""
    a = np.asarray(c)
    vals = np.unique(a)
    if vals.size == 1:
        return f"{float(vals[0]):.6g}"
    return "a constant array"
