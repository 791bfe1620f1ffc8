"""Interval forward-mode ("interval jet") enclosures of a JAX function's Jacobian over a box.

For :math:`F:\\mathbb{R}^n\\to\\mathbb{R}^m` written in JAX and a box
:math:`X=[\\underline x,\\overline x]`, we interpret the jaxpr of :math:`F` with every variable
:math:`v` carrying a *value interval* :math:`[v]\\ni v(x)` and a *tangent interval*
:math:`[\\dot v]\\ni \\partial v(x)/\\partial x` (shape ``v.shape + (n,)``), valid for every
:math:`x\\in X`. Rules are the chain rule in interval arithmetic,

.. math::

   [\\dot{(g\\circ v)}] = [g'([v])]\\,[\\dot v], \\qquad
   [\\dot{(a b)}] = [a][\\dot b] + [b][\\dot a],

with *sharp* ranges :math:`g([v])` and :math:`g'([v])` for each elementary function (monotone, even
or periodic structure), so that a function that uses each variable once gets an exact entry-wise
enclosure (no dependency problem from re-interpreting JAX's JVP expressions). Matrix products use
the midpoint-radius product of Rump (1999) with an explicit floating-point error term; sums get
the :math:`\\gamma_k\\sum|x_i|` rounding slack; every non-exact operation is rounded outward. At
the end, :math:`DF(x)\\in[J]` for every :math:`x\\in X` (Clarke generalised Jacobian at kinks of ``abs``,
``max``, ``min``).

Soundness: the enclosure is computed in the dtype of ``lo``/``hi``; soundness claims need float64.
Outward rounding uses 4 ulps for IEEE-exact arithmetic and 2048 ulps for transcendental functions
(XLA's CPU float64 ``sinh``/``cosh``/``log1p`` were measured at up to 495 ulps from libm; the rest
at <= 16). XLA's transcendental accuracy is not formally specified, so the result is sound up to
that measured accuracy; GPU float32 fast-math is not covered.

Branches: ``select_n`` (``jnp.where``) and ``cond`` whose predicate depends on the box pick the
right branch wherever the predicate interval is decided. Where it is not decided the value is the
hull of the branches and the tangent is unbounded (``[-inf, inf]``), because a branch switch may be
discontinuous; with ``assume_continuous=True`` the tangent is instead the hull of the branches'
tangents, which is sound for functions continuous across the switch (Clarke). Piecewise-constant
operations (``floor``, ``sign``, comparisons cast to float) follow the same rule. Unsupported
primitives raise ``NotImplementedError`` naming the primitive; nothing is guessed.

References:
  Rump, `Fast and parallel interval arithmetic <https://doi.org/10.1023/A:1022374804152>`_, 1999.
  Moore, Kearfott & Cloud, *Introduction to Interval Analysis*, SIAM, 2009.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.extend import core as jcore

__all__ = ["interval_jacobian", "interval_value_and_jacobian"]

ARITH_ULPS = 4.0
TRANS_ULPS = 2048.0
_PEAK_PAD = 1e-12  # relative enlargement of the interval when testing whether it holds a peak.


# --------------------------------------------------------------------------------------------
# Interval helpers on (lo, hi) array pairs.
# --------------------------------------------------------------------------------------------


def _eps(x):
    return float(jnp.finfo(x.dtype).eps)


def _tiny(x):
    return float(jnp.finfo(x.dtype).tiny)


def _sanitize(lo, hi):
    """NaN endpoints mean 'no information': replace by the whole real line."""
    return jnp.where(jnp.isnan(lo), -jnp.inf, lo), jnp.where(jnp.isnan(hi), jnp.inf, hi)


def _widen(lo, hi, ulps=ARITH_ULPS, absolute=0.0):
    """Outward rounding: ``ulps`` relative units plus an absolute term plus the smallest normal."""
    e = ulps * _eps(lo)
    a = absolute + _tiny(lo)
    return _sanitize(lo - (jnp.abs(lo) * e + a), hi + (jnp.abs(hi) * e + a))


def _pmul(a, b):
    """Endpoint product with the interval convention ``0 * inf = 0``."""
    p = a * b
    return jnp.where((a == 0) | (b == 0), jnp.zeros_like(p), p)


def _imul(alo, ahi, blo, bhi):
    p1, p2, p3, p4 = _pmul(alo, blo), _pmul(alo, bhi), _pmul(ahi, blo), _pmul(ahi, bhi)
    lo = jnp.minimum(jnp.minimum(p1, p2), jnp.minimum(p3, p4))
    hi = jnp.maximum(jnp.maximum(p1, p2), jnp.maximum(p3, p4))
    return _widen(lo, hi)


def _iadd(alo, ahi, blo, bhi):
    return _widen(alo + blo, ahi + bhi)


def _isub(alo, ahi, blo, bhi):
    return _widen(alo - bhi, ahi - blo)


def _irecip(lo, hi):
    ok = (lo > 0) | (hi < 0)
    rlo = jnp.where(ok, 1.0 / hi, -jnp.inf)
    rhi = jnp.where(ok, 1.0 / lo, jnp.inf)
    return _widen(rlo, rhi)


def _ipow_int(lo, hi, k: int):
    """Sharp range of ``x**k`` for an integer ``k`` (``k < 0`` through the reciprocal)."""
    if k == 0:
        return jnp.ones_like(lo), jnp.ones_like(hi)
    if k < 0:
        plo, phi = _ipow_int(lo, hi, -k)
        return _irecip(plo, phi)
    if k == 1:
        return lo, hi
    pl, ph = lax.integer_pow(lo, k), lax.integer_pow(hi, k)
    if k % 2 == 1:
        return _widen(pl, ph, ARITH_ULPS * k)
    has0 = (lo <= 0) & (hi >= 0)
    rlo = jnp.where(has0, jnp.zeros_like(pl), jnp.minimum(pl, ph))
    return _widen(rlo, jnp.maximum(pl, ph), ARITH_ULPS * k)


def _has_point(lo, hi, x0, period):
    """Whether ``[lo, hi]`` (slightly enlarged) holds ``x0 + k * period`` for an integer ``k``."""
    pad = _PEAK_PAD * (1.0 + jnp.abs(lo) + jnp.abs(hi))
    k = jnp.ceil((lo - pad - x0) / period)
    return x0 + k * period <= hi + pad


def _periodic(f, lo, hi, argmax, argmin, period):
    """Range of a ``period``-periodic function with one max/min per period (sin, cos)."""
    fl, fh = f(lo), f(hi)
    rlo = jnp.where(_has_point(lo, hi, argmin, period), -1.0, jnp.minimum(fl, fh))
    rhi = jnp.where(_has_point(lo, hi, argmax, period), 1.0, jnp.maximum(fl, fh))
    rlo, rhi = _widen(rlo, rhi, TRANS_ULPS, 4 * _eps(lo))
    return jnp.maximum(rlo, -1.0), jnp.minimum(rhi, 1.0)


def _inc(f, lo, hi):
    return _widen(f(lo), f(hi), TRANS_ULPS)


def _dec(f, lo, hi):
    return _widen(f(hi), f(lo), TRANS_ULPS)


def _even_peak(f, lo, hi, peak):
    """Range of an even ``f`` that is nonincreasing in ``|x|`` (maximum ``peak`` at 0)."""
    fl, fh = f(lo), f(hi)
    has0 = (lo <= 0) & (hi >= 0)
    return _widen(jnp.minimum(fl, fh), jnp.where(has0, peak, jnp.maximum(fl, fh)), TRANS_ULPS)


def _even_valley(f, lo, hi, valley):
    """Range of an even ``f`` that is nondecreasing in ``|x|`` (minimum ``valley`` at 0)."""
    fl, fh = f(lo), f(hi)
    has0 = (lo <= 0) & (hi >= 0)
    return _widen(jnp.where(has0, valley, jnp.minimum(fl, fh)), jnp.maximum(fl, fh), TRANS_ULPS)


def _domain(lo, hi, dom_lo=None, dom_hi=None):
    """Clips to a function's domain; returns (lo, hi, valid) with valid False if disjoint."""
    valid = jnp.ones(lo.shape, bool)
    if dom_lo is not None:
        valid = valid & (hi >= dom_lo)
        lo = jnp.maximum(lo, dom_lo)
    if dom_hi is not None:
        valid = valid & (lo <= dom_hi)
        hi = jnp.minimum(hi, dom_hi)
    return lo, hi, valid


def _invalid_to_full(pair, valid):
    lo, hi = pair
    return jnp.where(valid, lo, -jnp.inf), jnp.where(valid, hi, jnp.inf)


# --------------------------------------------------------------------------------------------
# Elementary functions: (range of f, range of f') on [lo, hi], both sharp.
# --------------------------------------------------------------------------------------------


def _sech2(x):
    c = jnp.cosh(x)
    return 1.0 / (c * c)


def _dlogistic(x):
    e = jnp.exp(-jnp.abs(x))  # stable form of s (1 - s)
    return e / ((1.0 + e) * (1.0 + e))


_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _rule_sin(lo, hi):
    v = _periodic(jnp.sin, lo, hi, jnp.pi / 2, -jnp.pi / 2, 2 * jnp.pi)
    d = _periodic(jnp.cos, lo, hi, 0.0, jnp.pi, 2 * jnp.pi)
    return v, d


def _rule_cos(lo, hi):
    v = _periodic(jnp.cos, lo, hi, 0.0, jnp.pi, 2 * jnp.pi)
    slo, shi = _periodic(jnp.sin, lo, hi, jnp.pi / 2, -jnp.pi / 2, 2 * jnp.pi)
    return v, (-shi, -slo)


def _rule_tan(lo, hi):
    pole = _has_point(lo, hi, jnp.pi / 2, jnp.pi) | (hi - lo >= jnp.pi)
    tlo, thi = _inc(jnp.tan, lo, hi)
    slo, shi = _ipow_int(tlo, thi, 2)
    dlo, dhi = _widen(1.0 + slo, 1.0 + shi)
    v = (jnp.where(pole, -jnp.inf, tlo), jnp.where(pole, jnp.inf, thi))
    d = (jnp.where(pole, jnp.ones_like(dlo), dlo), jnp.where(pole, jnp.inf, dhi))
    return v, d


def _rule_log(lo, hi):
    lo, hi, ok = _domain(lo, hi, 0.0)
    return _invalid_to_full(_inc(jnp.log, lo, hi), ok), _invalid_to_full(_dec(lambda x: 1.0 / x, lo, hi), ok)


def _rule_log1p(lo, hi):
    lo, hi, ok = _domain(lo, hi, -1.0)
    return _invalid_to_full(_inc(jnp.log1p, lo, hi), ok), _invalid_to_full(_dec(lambda x: 1.0 / (1.0 + x), lo, hi), ok)


def _rule_sqrt(lo, hi):
    lo, hi, ok = _domain(lo, hi, 0.0)
    return _invalid_to_full(_inc(jnp.sqrt, lo, hi), ok), _invalid_to_full(_dec(lambda x: 0.5 / jnp.sqrt(x), lo, hi), ok)


def _rule_rsqrt(lo, hi):
    lo, hi, ok = _domain(lo, hi, 0.0)
    return _invalid_to_full(_dec(lax.rsqrt, lo, hi), ok), _invalid_to_full(
        _inc(lambda x: -0.5 / (x * jnp.sqrt(x)), lo, hi), ok
    )


def _rule_cbrt(lo, hi):
    def d(x):
        c = jnp.cbrt(x)
        return 1.0 / (3.0 * c * c)

    return _inc(jnp.cbrt, lo, hi), _even_peak(d, lo, hi, jnp.inf)


def _rule_asin(lo, hi):
    lo, hi, ok = _domain(lo, hi, -1.0, 1.0)
    d = _even_valley(lambda x: 1.0 / jnp.sqrt((1.0 - x) * (1.0 + x)), lo, hi, 1.0)
    return _invalid_to_full(_inc(jnp.arcsin, lo, hi), ok), _invalid_to_full(d, ok)


def _rule_acos(lo, hi):
    lo, hi, ok = _domain(lo, hi, -1.0, 1.0)
    d = _even_peak(lambda x: -1.0 / jnp.sqrt((1.0 - x) * (1.0 + x)), lo, hi, -1.0)
    return _invalid_to_full(_dec(jnp.arccos, lo, hi), ok), _invalid_to_full(d, ok)


def _rule_atanh(lo, hi):
    lo, hi, ok = _domain(lo, hi, -1.0, 1.0)
    d = _even_valley(lambda x: 1.0 / ((1.0 - x) * (1.0 + x)), lo, hi, 1.0)
    return _invalid_to_full(_inc(jnp.arctanh, lo, hi), ok), _invalid_to_full(d, ok)


def _rule_acosh(lo, hi):
    lo, hi, ok = _domain(lo, hi, 1.0)
    d = _dec(lambda x: 1.0 / jnp.sqrt((x - 1.0) * (x + 1.0)), lo, hi)
    return _invalid_to_full(_inc(jnp.arccosh, lo, hi), ok), _invalid_to_full(d, ok)


_UNARY = {
    "sin": _rule_sin,
    "cos": _rule_cos,
    "tan": _rule_tan,
    "tanh": lambda lo, hi: (_inc(jnp.tanh, lo, hi), _even_peak(_sech2, lo, hi, 1.0)),
    "logistic": lambda lo, hi: (
        _inc(jax.nn.sigmoid, lo, hi),
        _even_peak(_dlogistic, lo, hi, 0.25),
    ),
    "exp": lambda lo, hi: (_inc(jnp.exp, lo, hi), _inc(jnp.exp, lo, hi)),
    "exp2": lambda lo, hi: (
        _inc(jnp.exp2, lo, hi),
        _inc(lambda x: math.log(2.0) * jnp.exp2(x), lo, hi),
    ),
    "expm1": lambda lo, hi: (_inc(jnp.expm1, lo, hi), _inc(jnp.exp, lo, hi)),
    "log": _rule_log,
    "log1p": _rule_log1p,
    "sqrt": _rule_sqrt,
    "rsqrt": _rule_rsqrt,
    "cbrt": _rule_cbrt,
    "sinh": lambda lo, hi: (_inc(jnp.sinh, lo, hi), _even_valley(jnp.cosh, lo, hi, 1.0)),
    "cosh": lambda lo, hi: (_even_valley(jnp.cosh, lo, hi, 1.0), _inc(jnp.sinh, lo, hi)),
    "atan": lambda lo, hi: (
        _inc(jnp.arctan, lo, hi),
        _even_peak(lambda x: 1.0 / (1.0 + x * x), lo, hi, 1.0),
    ),
    "asinh": lambda lo, hi: (
        _inc(jnp.arcsinh, lo, hi),
        _even_peak(lambda x: 1.0 / jnp.sqrt(1.0 + x * x), lo, hi, 1.0),
    ),
    "asin": _rule_asin,
    "acos": _rule_acos,
    "atanh": _rule_atanh,
    "acosh": _rule_acosh,
    "erf": lambda lo, hi: (
        _inc(lax.erf, lo, hi),
        _even_peak(lambda x: _TWO_OVER_SQRT_PI * jnp.exp(-x * x), lo, hi, _TWO_OVER_SQRT_PI),
    ),
    "erfc": lambda lo, hi: (
        _dec(lax.erfc, lo, hi),
        _even_valley(lambda x: -_TWO_OVER_SQRT_PI * jnp.exp(-x * x), lo, hi, -_TWO_OVER_SQRT_PI),
    ),
}

_PIECEWISE_CONSTANT = {"floor", "ceil", "round", "sign"}

# Primitives that are exact (no rounding) when every input is a known point.
_EXACT_ON_POINTS = {
    "eq", "ne", "lt", "le", "gt", "ge", "and", "or", "not", "xor", "iota", "select_n",
    "convert_element_type", "max", "min", "abs", "neg", "sign", "floor", "ceil", "round",
    "slice", "squeeze", "reshape", "broadcast_in_dim", "concatenate", "transpose", "rev",
    "pad", "stack", "split", "unstack", "copy", "copy_p", "dynamic_slice",
    "dynamic_update_slice", "gather", "scatter", "tile", "reduce_max", "reduce_min",
    "reduce_and", "reduce_or", "is_finite", "argmax", "argmin", "clamp",
}  # fmt: skip

# Structural primitives: applied to lo and hi separately, vmapped over the tangent axis.
_STRUCTURAL = {
    "slice", "squeeze", "reshape", "broadcast_in_dim", "concatenate", "transpose", "rev", "pad",
    "stack", "split", "unstack", "copy", "copy_p", "dynamic_slice", "dynamic_update_slice",
    "gather", "scatter", "tile",
}  # fmt: skip

# Operand positions that are indices (must be exactly known, never box-dependent).
_INDEX_OPERANDS = {
    "dynamic_slice": lambda k: k >= 1,
    "dynamic_update_slice": lambda k: k >= 2,
    "gather": lambda k: k == 1,
    "scatter": lambda k: k == 1,
}

_IDENTITY = {"stop_gradient", "optimization_barrier", "sharding_constraint", "device_put"}
_CALLS = {"pjit", "jit", "closed_call", "core_call", "remat2", "checkpoint", "remat",
          "custom_jvp_call", "custom_vjp_call", "custom_vjp_call_jaxpr"}  # fmt: skip


# --------------------------------------------------------------------------------------------
# Jets.
# --------------------------------------------------------------------------------------------


def _is_float(x):
    return jnp.issubdtype(x.dtype, jnp.floating)


class _Jet:
    """Value interval ``[lo, hi]`` and tangent interval ``[tlo, thi]`` (or ``None`` = zero).

    ``dep`` is True when the value depends on the point of the box; a box-independent value
    (``dep`` False) has zero derivative. ``pt`` is True when ``lo`` is the exact value (``lo is
    hi``): literals, constants and exact operations on them. Booleans are intervals with
    ``False < True`` (``lo`` = surely true, ``hi`` = possibly true).
    """

    __slots__ = ("lo", "hi", "tlo", "thi", "dep", "pt")

    def __init__(self, lo, hi, tlo=None, thi=None, *, dep, pt=False):
        self.lo, self.hi, self.tlo, self.thi, self.dep, self.pt = lo, hi, tlo, thi, dep, pt

    @property
    def shape(self):
        return self.lo.shape


def _point(x):
    x = jnp.asarray(x)
    return _Jet(x, x, dep=False, pt=True)


def _value(lo, hi, dep_from):
    """A jet for a new value without tangent; dependent if any input is."""
    return _Jet(lo, hi, dep=any(a.dep for a in dep_from))


class _Ctx:
    def __init__(self, n, assume_continuous):
        self.n = n
        self.assume_continuous = assume_continuous

    def tangent(self, a):
        """Tangent arrays of jet ``a`` (zeros when it has none)."""
        if a.tlo is not None:
            return a.tlo, a.thi
        z = jnp.zeros(a.shape + (self.n,), a.lo.dtype if _is_float(a.lo) else jnp.float64)
        return z, z

    def unbounded_tangent(self, shape, dtype):
        return (
            jnp.full(shape + (self.n,), -jnp.inf, dtype),
            jnp.full(shape + (self.n,), jnp.inf, dtype),
        )


def _bcast(a, shape):
    if a.shape == tuple(shape):
        return a
    lo = jnp.broadcast_to(a.lo, shape)
    hi = lo if a.pt else jnp.broadcast_to(a.hi, shape)
    if a.tlo is None:
        return _Jet(lo, hi, dep=a.dep, pt=a.pt)
    tshape = tuple(shape) + (a.tlo.shape[-1],)
    return _Jet(lo, hi, jnp.broadcast_to(a.tlo, tshape), jnp.broadcast_to(a.thi, tshape), dep=a.dep)


def _tscale(dlo, dhi, a):
    """Tangent of ``g(a)`` given the range ``[dlo, dhi]`` of ``g'`` over ``[a]``."""
    if a.tlo is None:
        return None, None
    return _imul(dlo[..., None], dhi[..., None], a.tlo, a.thi)


def _tadd(a, b, sub=False):
    if a.tlo is None and b.tlo is None:
        return None, None
    if b.tlo is None:
        return a.tlo, a.thi
    blo, bhi = (-b.thi, -b.tlo) if sub else (b.tlo, b.thi)
    if a.tlo is None:
        return blo, bhi
    return _iadd(a.tlo, a.thi, blo, bhi)


def _hull_tangents(ctx, jets, shape, dtype):
    tl = [ctx.tangent(j) for j in jets]
    lo = tl[0][0]
    hi = tl[0][1]
    for a, b in tl[1:]:
        lo, hi = jnp.minimum(lo, a), jnp.maximum(hi, b)
    return lo, hi


def _unsupported(name, why=""):
    raise NotImplementedError(
        f"interval_jacobian: primitive {name!r} is not supported{why}; rewrite F with supported "
        "operations (see certify/_interval.py) rather than trusting an unsound enclosure"
    )


# --------------------------------------------------------------------------------------------
# Rules.
# --------------------------------------------------------------------------------------------


def _mul(a, b):
    lo, hi = _imul(a.lo, a.hi, b.lo, b.hi)
    t1 = _tscale(b.lo, b.hi, a)
    t2 = _tscale(a.lo, a.hi, b)
    tl, th = _tadd(_Jet(None, None, *t1, dep=True), _Jet(None, None, *t2, dep=True))
    return _Jet(lo, hi, tl, th, dep=a.dep or b.dep)


def _square(a):
    lo, hi = _ipow_int(a.lo, a.hi, 2)
    tlo, thi = _tscale(*_widen(2.0 * a.lo, 2.0 * a.hi), a)
    return _Jet(lo, hi, tlo, thi, dep=a.dep)


def _unary(rule, a):
    (lo, hi), (dlo, dhi) = rule(a.lo, a.hi)
    tlo, thi = _tscale(dlo, dhi, a)
    return _Jet(lo, hi, tlo, thi, dep=a.dep)


def _integer_pow(a, k):
    lo, hi = _ipow_int(a.lo, a.hi, k)
    if k == 0:
        return _Jet(lo, hi, dep=False)
    dlo, dhi = _ipow_int(a.lo, a.hi, k - 1)
    dlo, dhi = _imul(dlo, dhi, jnp.asarray(float(k), lo.dtype), jnp.asarray(float(k), lo.dtype))
    tlo, thi = _tscale(dlo, dhi, a)
    return _Jet(lo, hi, tlo, thi, dep=a.dep)


def _pow_const(a, p: float):
    """``x ** p`` for a known real exponent ``p`` (domain ``x >= 0`` unless ``p`` is an integer)."""
    if float(p).is_integer() and abs(p) < 2**31:
        return _integer_pow(a, int(p))
    lo, hi, ok = _domain(a.lo, a.hi, 0.0)

    def pw(q):
        def f(x):
            return jnp.power(x, q)

        if q > 0:
            return _inc(f, lo, hi)
        if q < 0:
            return _dec(f, lo, hi)
        return jnp.ones_like(lo), jnp.ones_like(hi)

    v = _invalid_to_full(pw(p), ok)
    dlo, dhi = pw(p - 1.0)
    dlo, dhi = _imul(dlo, dhi, jnp.asarray(p, lo.dtype), jnp.asarray(p, lo.dtype))
    dlo, dhi = _invalid_to_full((dlo, dhi), ok)
    return _Jet(*v, *_tscale(dlo, dhi, a), dep=a.dep)


def _div(a, b):
    rlo, rhi = _irecip(b.lo, b.hi)
    lo, hi = _imul(a.lo, a.hi, rlo, rhi)
    # d(a/b) = (1/b) da - (a / b^2) db, with b^2 taken sharply.
    t1 = _tscale(rlo, rhi, a)
    slo, shi = _ipow_int(b.lo, b.hi, 2)
    qlo, qhi = _imul(a.lo, a.hi, *_irecip(slo, shi))
    t2 = _tscale(-qhi, -qlo, b)
    tl, th = _tadd(_Jet(None, None, *t1, dep=True), _Jet(None, None, *t2, dep=True))
    return _Jet(lo, hi, tl, th, dep=a.dep or b.dep)


def _minmax(ctx, a, b, is_max):
    if is_max:
        lo, hi = jnp.maximum(a.lo, b.lo), jnp.maximum(a.hi, b.hi)
        a_wins, b_wins = a.lo >= b.hi, b.lo >= a.hi
    else:
        lo, hi = jnp.minimum(a.lo, b.lo), jnp.minimum(a.hi, b.hi)
        a_wins, b_wins = a.hi <= b.lo, b.hi <= a.lo
    dep = a.dep or b.dep
    if not dep or not _is_float(lo):
        return _Jet(lo, hi, dep=dep)
    (alo, ahi), (blo, bhi) = ctx.tangent(a), ctx.tangent(b)
    aw, bw = a_wins[..., None], b_wins[..., None]
    # Clarke hull where neither side surely wins (max/min are continuous).
    tlo = jnp.where(aw, alo, jnp.where(bw, blo, jnp.minimum(alo, blo)))
    thi = jnp.where(aw, ahi, jnp.where(bw, bhi, jnp.maximum(ahi, bhi)))
    return _Jet(lo, hi, tlo, thi, dep=True)


def _abs(ctx, a):
    has0 = (a.lo <= 0) & (a.hi >= 0)
    m = jnp.maximum(-a.lo, a.hi)
    lo = jnp.where(has0, jnp.zeros_like(a.lo), jnp.minimum(jnp.abs(a.lo), jnp.abs(a.hi)))
    hi = jnp.where(has0, m, jnp.maximum(jnp.abs(a.lo), jnp.abs(a.hi)))
    one = jnp.ones_like(a.lo)
    dlo = jnp.where(a.lo >= 0, one, -one)
    dhi = jnp.where(a.hi <= 0, -one, one)
    dlo = jnp.where((a.lo >= 0) & (a.hi <= 0), one, dlo)  # a == 0 on the box: tangent is 0 anyway
    return _Jet(lo, hi, *_tscale(dlo, dhi, a), dep=a.dep)


def _piecewise_constant(ctx, prim, params, a, out_dtype):
    """floor, ceil, round, sign: monotone, so the endpoints give the range."""
    lo, hi = prim.bind(a.lo, **params), prim.bind(a.hi, **params)
    return _step_jet(ctx, lo, hi, a.dep, out_dtype)


def _step_jet(ctx, lo, hi, dep, out_dtype):
    """A piecewise-constant value: zero tangent where decided, unbounded tangent elsewhere."""
    if not dep or not jnp.issubdtype(out_dtype, jnp.floating):
        return _Jet(lo, hi, dep=dep)
    decided = (lo == hi)[..., None]
    ulo, uhi = ctx.unbounded_tangent(lo.shape, lo.dtype)
    z = jnp.zeros_like(ulo)
    return _Jet(lo, hi, jnp.where(decided, z, ulo), jnp.where(decided, z, uhi), dep=True)


def _compare(name, a, b):
    # lo = surely true, hi = possibly true.
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
        same = (a.lo == a.hi) & (b.lo == b.hi) & (a.lo == b.lo)
        sure, poss = (same, overlap) if name == "eq" else (~overlap, ~same)
    return _Jet(sure, poss, dep=a.dep or b.dep)


def _select(ctx, pred, cases, out_dtype):
    shape = cases[0].shape
    if pred.pt:
        p = pred.lo.astype(jnp.int32) if pred.lo.dtype == bool else pred.lo
        lo = lax.select_n(pred.lo, *[c.lo for c in cases])
        hi = lax.select_n(pred.lo, *[c.hi for c in cases])
        dep = any(c.dep for c in cases)
        if not dep or not jnp.issubdtype(out_dtype, jnp.floating):
            return _Jet(lo, hi, dep=dep)
        ts = [ctx.tangent(c) for c in cases]
        pb = jnp.broadcast_to(p[..., None], shape + (ctx.n,))
        return _Jet(lo, hi, lax.select_n(pb, *[t[0] for t in ts]),
                    lax.select_n(pb, *[t[1] for t in ts]), dep=True)  # fmt: skip
    plo = pred.lo.astype(jnp.int32)
    phi = pred.hi.astype(jnp.int32)
    inc = [(plo <= k) & (k <= phi) for k in range(len(cases))]
    lo, hi = _big(cases[0].lo, 1), _big(cases[0].hi, -1)
    for k, c in enumerate(cases):
        lo = jnp.where(inc[k], jnp.minimum(lo, c.lo), lo)
        hi = jnp.where(inc[k], jnp.maximum(hi, c.hi), hi)
    dep = pred.dep or any(c.dep for c in cases)
    if not dep or not jnp.issubdtype(out_dtype, jnp.floating):
        return _Jet(lo, hi, dep=dep)
    ts = [ctx.tangent(c) for c in cases]
    tlo = thi = None
    for k, (a, b) in enumerate(ts):
        ik = inc[k][..., None]
        if tlo is None:
            tlo, thi = jnp.where(ik, a, jnp.inf), jnp.where(ik, b, -jnp.inf)
        else:
            tlo = jnp.where(ik, jnp.minimum(tlo, a), tlo)
            thi = jnp.where(ik, jnp.maximum(thi, b), thi)
    if pred.dep and not ctx.assume_continuous:
        decided = (plo == phi)[..., None]
        ulo, uhi = ctx.unbounded_tangent(shape, tlo.dtype)
        tlo, thi = jnp.where(decided, tlo, ulo), jnp.where(decided, thi, uhi)
    return _Jet(lo, hi, tlo, thi, dep=True)


def _big(x, sign):
    if jnp.issubdtype(x.dtype, jnp.floating):
        return jnp.full_like(x, sign * jnp.inf)
    info = jnp.iinfo(x.dtype) if x.dtype != bool else None
    if info is None:
        return jnp.full_like(x, sign > 0)
    return jnp.full_like(x, info.max if sign > 0 else info.min)


def _dot_general(a, b, params):
    dn = params["dimension_numbers"]
    pet = params.get("preferred_element_type")

    def dg(x, y):
        return lax.dot_general(x, y, dn, preferred_element_type=pet)

    k = math.prod(a.lo.shape[d] for d in dn[0][0])

    def mm(alo, ahi, apt, blo, bhi, bpt):
        def mid_rad(lo, hi, pt):
            if pt:
                return lo, None
            c = 0.5 * (lo + hi)
            r = jnp.maximum(hi - c, c - lo) * (1.0 + 2.0 * _eps(lo))
            return c, r

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
        gamma = (k + 2) * _eps(c)
        rad = (r + gamma * (dg(jnp.abs(ac), jnp.abs(bc)) + r)) * (1.0 + 2.0 * _eps(c))
        rad = rad + (k + 1) * _tiny(c)
        return _widen(c - rad, c + rad)

    lo, hi = mm(a.lo, a.hi, a.pt, b.lo, b.hi, b.pt)
    parts = []
    if a.tlo is not None:
        f = jax.vmap(lambda tl, th: mm(tl, th, False, b.lo, b.hi, b.pt), in_axes=-1, out_axes=-1)
        parts.append(_Jet(None, None, *f(a.tlo, a.thi), dep=True))
    if b.tlo is not None:
        f = jax.vmap(lambda tl, th: mm(a.lo, a.hi, a.pt, tl, th, False), in_axes=-1, out_axes=-1)
        parts.append(_Jet(None, None, *f(b.tlo, b.thi), dep=True))
    if not parts:
        return _Jet(lo, hi, dep=a.dep or b.dep)
    if len(parts) == 1:
        return _Jet(lo, hi, parts[0].tlo, parts[0].thi, dep=True)
    return _Jet(lo, hi, *_tadd(parts[0], parts[1]), dep=True)


def _sum_like(ctx, prim, params, a, k):
    """Linear reductions (reduce_sum, cumsum): endpoints separately plus gamma_k rounding slack."""

    def f(x):
        return prim.bind(x, **params)

    def slack(lo, hi):
        s = f(jnp.maximum(jnp.abs(lo), jnp.abs(hi)))
        return (k + 2) * _eps(s) * s + (k + 1) * _tiny(s)

    e = slack(a.lo, a.hi)
    lo, hi = _widen(f(a.lo) - e, f(a.hi) + e)
    if a.tlo is None:
        return _Jet(lo, hi, dep=a.dep)
    fv = jax.vmap(f, in_axes=-1, out_axes=-1)
    et = jax.vmap(slack, in_axes=-1, out_axes=-1)(a.tlo, a.thi)
    tlo, thi = _widen(fv(a.tlo) - et, fv(a.thi) + et)
    return _Jet(lo, hi, tlo, thi, dep=True)


def _reduce_extreme(ctx, a, axes, is_max):
    red = jnp.max if is_max else jnp.min
    lo, hi = red(a.lo, axis=axes), red(a.hi, axis=axes)
    if a.tlo is None:
        return _Jet(lo, hi, dep=a.dep)
    # Elements that can attain the extreme; Clarke hull of their tangents.
    if is_max:
        cand = a.hi >= jnp.expand_dims(lo, axes)
    else:
        cand = a.lo <= jnp.expand_dims(hi, axes)
    c = cand[..., None]
    tlo = jnp.min(jnp.where(c, a.tlo, jnp.inf), axis=axes)
    thi = jnp.max(jnp.where(c, a.thi, -jnp.inf), axis=axes)
    return _Jet(lo, hi, tlo, thi, dep=True)


def _structural(ctx, prim, params, ins):
    is_index = _INDEX_OPERANDS.get(prim.name, lambda k: False)
    for k, a in enumerate(ins):
        if is_index(k) and not a.pt:
            _unsupported(prim.name, " with box-dependent indices")
    if prim.name == "scatter" and not params.get("unique_indices", False):
        _unsupported(prim.name, " with possibly repeated indices")

    def bind(*xs):
        return prim.bind(*xs, **params)

    def as_list(x):
        return list(x) if prim.multiple_results else [x]

    los = as_list(bind(*[a.lo for a in ins]))
    if all(a.pt for a in ins):
        return [_point(x) for x in los]
    his = as_list(bind(*[a.hi for a in ins]))
    data = [a for k, a in enumerate(ins) if not is_index(k)]
    dep = any(a.dep for a in data)
    if not dep or not any(a.tlo is not None for a in data) or not _is_float(los[0]):
        return [_Jet(lo, hi, dep=dep) for lo, hi in zip(los, his, strict=True)]
    args_lo, args_hi, axes = [], [], []
    for k, a in enumerate(ins):
        if is_index(k):
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
    return [_Jet(lo, hi, tl, th, dep=True) for lo, hi, tl, th in zip(los, his, tlos, this, strict=True)]


def _convert(ctx, a, new_dtype):
    src_float = _is_float(a.lo)
    dst_float = jnp.issubdtype(new_dtype, jnp.floating)
    narrowing = src_float and dst_float and jnp.finfo(new_dtype).bits < jnp.finfo(a.lo.dtype).bits
    if a.pt and not narrowing:
        return _point(a.lo.astype(new_dtype))
    if src_float and dst_float:
        lo, hi = a.lo.astype(new_dtype), a.hi.astype(new_dtype)
        tl = th = None
        if a.tlo is not None:
            tl, th = a.tlo.astype(new_dtype), a.thi.astype(new_dtype)
        if narrowing:
            lo, hi = _widen(lo, hi)
            if tl is not None:
                tl, th = _widen(tl, th)
        return _Jet(lo, hi, tl, th, dep=a.dep)
    if src_float and new_dtype == jnp.bool_:  # x != 0
        return _compare("ne", a, _point(jnp.zeros((), a.lo.dtype)))
    lo, hi = a.lo.astype(new_dtype), a.hi.astype(new_dtype)  # monotone
    if dst_float:
        lo, hi = _widen(lo, hi)
        return _step_jet(ctx, lo, hi, a.dep, new_dtype)
    return _Jet(lo, hi, dep=a.dep)


def _logical(name, ins):
    if name == "not":
        (a,) = ins
        if a.lo.dtype != bool:
            _unsupported("not", " on box-dependent integers")
        return _Jet(~a.hi, ~a.lo, dep=a.dep)
    a, b = ins
    if a.lo.dtype != bool or b.lo.dtype != bool:
        _unsupported(name, " on box-dependent integers")
    if name == "and":
        return _Jet(a.lo & b.lo, a.hi & b.hi, dep=True)
    if name == "or":
        return _Jet(a.lo | b.lo, a.hi | b.hi, dep=True)
    decided = (a.lo == a.hi) & (b.lo == b.hi)
    x = a.lo ^ b.lo
    return _Jet(decided & x, ~decided | x, dep=True)


# --------------------------------------------------------------------------------------------
# Interpreter.
# --------------------------------------------------------------------------------------------


def _closed(jaxpr_like):
    if hasattr(jaxpr_like, "jaxpr") and hasattr(jaxpr_like, "consts"):
        return jaxpr_like.jaxpr, list(jaxpr_like.consts)
    return jaxpr_like, []


def _const_jet(c):
    try:
        return _point(jnp.asarray(c))
    except TypeError:  # pragma: no cover - exotic constants
        return _point(c)


def _eval(ctx, jaxpr, consts, args):
    env = {}

    def read(v):
        if isinstance(v, jcore.Literal):
            return _point(jnp.asarray(v.val, dtype=v.aval.dtype))
        return env[v]

    for v, c in zip(jaxpr.constvars, consts, strict=True):
        env[v] = c if isinstance(c, _Jet) else _const_jet(c)
    for v, a in zip(jaxpr.invars, args, strict=True):
        env[v] = a
    for eqn in jaxpr.eqns:
        outs = _eval_eqn(ctx, eqn, [read(v) for v in eqn.invars])
        for v, o in zip(eqn.outvars, outs, strict=True):
            env[v] = o
    return [read(v) for v in jaxpr.outvars]


def _eval_eqn(ctx, eqn, ins):
    p = eqn.primitive
    name = p.name
    params = dict(eqn.params)
    out_avals = [v.aval for v in eqn.outvars]

    if name in _CALLS:
        key = next(k for k in ("jaxpr", "call_jaxpr", "fun_jaxpr") if k in params)
        jx, consts = _closed(params[key])
        return _eval(ctx, jx, consts, ins)
    if name == "cond":
        branches = params["branches"]
        outs = [_eval(ctx, *_closed(br), ins[1:]) for br in branches]
        index = ins[0]
        res = []
        for k in range(len(outs[0])):
            cases = [o[k] for o in outs]
            shape = out_avals[k].shape
            cases = [_bcast(c, shape) for c in cases]
            pred = _bcast(index, shape)
            res.append(_select(ctx, pred, cases, out_avals[k].dtype))
        return res
    if name in _IDENTITY:
        return list(ins)

    if (
        all(a.pt for a in ins)
        and name != "convert_element_type"
        and (name in _EXACT_ON_POINTS or all(not jnp.issubdtype(av.dtype, jnp.floating) for av in out_avals))
    ):
        out = p.bind(*[a.lo for a in ins], **params)
        return [_point(o) for o in out] if p.multiple_results else [_point(out)]

    if name in _STRUCTURAL:
        return _structural(ctx, p, params, ins)

    shape = out_avals[0].shape
    dtype = out_avals[0].dtype
    same = len(eqn.invars) == 2 and eqn.invars[0] is eqn.invars[1]
    same = same and not isinstance(eqn.invars[0], jcore.Literal)

    if name in _UNARY:
        return [_unary(_UNARY[name], ins[0])]
    if name in ("add", "add_any", "sub", "mul", "div", "max", "min", "pow", "atan2", "rem",
                "nextafter", "eq", "ne", "lt", "le", "gt", "ge", "and", "or", "xor"):  # fmt: skip
        ins = [_bcast(a, shape) for a in ins]
    if name in ("add", "add_any"):
        a, b = ins
        if not _is_float(a.lo):
            _unsupported(name, " on box-dependent integers")
        if same:
            return [_mul(a, _point(jnp.asarray(2.0, a.lo.dtype)))]
        lo, hi = _iadd(a.lo, a.hi, b.lo, b.hi)
        return [_Jet(lo, hi, *_tadd(a, b), dep=a.dep or b.dep)]
    if name == "sub":
        a, b = ins
        if not _is_float(a.lo):
            _unsupported(name, " on box-dependent integers")
        if same:
            z = jnp.zeros(shape, dtype)
            return [_Jet(z, z, dep=False, pt=True)]
        lo, hi = _isub(a.lo, a.hi, b.lo, b.hi)
        return [_Jet(lo, hi, *_tadd(a, b, sub=True), dep=a.dep or b.dep)]
    if name == "neg":
        a = ins[0]
        tl, th = (None, None) if a.tlo is None else (-a.thi, -a.tlo)
        return [_Jet(-a.hi, -a.lo, tl, th, dep=a.dep)]
    if name == "mul":
        if not _is_float(ins[0].lo):
            _unsupported(name, " on box-dependent integers")
        return [_square(ins[0]) if same else _mul(*ins)]
    if name == "div":
        if not _is_float(ins[0].lo):
            _unsupported(name, " on box-dependent integers")
        if same:
            o = jnp.ones(shape, dtype)
            return [_Jet(o, o, dep=False, pt=True)]
        return [_div(*ins)]
    if name == "square":
        return [_square(ins[0])]
    if name == "integer_pow":
        return [_integer_pow(ins[0], int(params["y"]))]
    if name == "pow":
        a, b = ins
        known = eqn.invars[1].val if isinstance(eqn.invars[1], jcore.Literal) else b.lo
        if b.pt and not b.dep:
            vals = np.unique(np.asarray(known)) if _concrete(known) else None
            if vals is not None and vals.size == 1:
                return [_pow_const(a, float(vals[0]))]
        # x ** y = exp(y log x) for x > 0.
        lg = _unary(_rule_log, a)
        return [_unary(_UNARY["exp"], _mul(b, lg))]
    if name in ("max", "min"):
        return [_minmax(ctx, *ins, is_max=name == "max")]
    if name == "clamp":
        lo_b, x, hi_b = (_bcast(a, shape) for a in ins)
        return [_minmax(ctx, _minmax(ctx, x, lo_b, True), hi_b, False)]
    if name == "abs":
        return [_abs(ctx, ins[0])]
    if name in _PIECEWISE_CONSTANT:
        return [_piecewise_constant(ctx, p, params, ins[0], dtype)]
    if name in ("eq", "ne", "lt", "le", "gt", "ge"):
        a, b = ins
        if same:
            v = jnp.full(shape, name in ("eq", "le", "ge"))
            return [_Jet(v, v, dep=False, pt=True)]
        return [_compare(name, a, b)]
    if name in ("and", "or", "not", "xor"):
        return [_logical(name, ins)]
    if name == "is_finite":
        a = ins[0]
        sure = jnp.isfinite(a.lo) & jnp.isfinite(a.hi)
        poss = ~((a.lo == a.hi) & jnp.isinf(a.lo))
        return [_Jet(sure, poss, dep=a.dep)]
    if name == "select_n":
        cases = [_bcast(c, shape) for c in ins[1:]]
        return [_select(ctx, _bcast(ins[0], shape), cases, dtype)]
    if name == "convert_element_type":
        return [_convert(ctx, ins[0], params["new_dtype"])]
    if name == "dot_general":
        a, b = ins
        if not _is_float(a.lo) or not _is_float(b.lo):
            _unsupported(name, " on box-dependent integers")
        return [_dot_general(a, b, params)]
    if name == "reduce_sum":
        a = ins[0]
        k = math.prod(a.shape[d] for d in params["axes"])
        return [_sum_like(ctx, p, params, a, k)]
    if name == "cumsum":
        a = ins[0]
        return [_sum_like(ctx, p, params, a, a.shape[params["axis"]])]
    if name in ("reduce_max", "reduce_min"):
        a = ins[0]
        if not _is_float(a.lo):
            red = jnp.max if name == "reduce_max" else jnp.min
            return [_Jet(red(a.lo, axis=params["axes"]), red(a.hi, axis=params["axes"]), dep=a.dep)]
        return [_reduce_extreme(ctx, a, tuple(params["axes"]), name == "reduce_max")]
    if name in ("reduce_and", "reduce_or"):
        a = ins[0]
        red = jnp.all if name == "reduce_and" else jnp.any
        return [_Jet(red(a.lo, axis=params["axes"]), red(a.hi, axis=params["axes"]), dep=a.dep)]
    if name == "reduce_precision":
        a = ins[0]
        e = 2.0 ** (-int(params["mantissa_bits"]))
        lo, hi = _widen(a.lo, a.hi, e / _eps(a.lo))
        tl = th = None
        if a.tlo is not None:
            tl, th = _widen(a.tlo, a.thi, e / _eps(a.lo))
        return [_Jet(lo, hi, tl, th, dep=a.dep)]
    if name == "scatter_add":
        return [_scatter_add(ctx, p, params, ins)]
    if name in ("scan", "while"):
        _unsupported(name, " (loops); unroll the loop in F or use a closed form")
    _unsupported(name)


def _scatter_add(ctx, p, params, ins):
    op, idx, upd = ins
    if not idx.pt:
        _unsupported("scatter_add", " with box-dependent indices")
    m = upd.lo.size + 1

    def bind(o, u):
        return p.bind(o, idx.lo, u, **params)

    def slack(olo, ohi, ulo, uhi):
        s = bind(jnp.maximum(jnp.abs(olo), jnp.abs(ohi)), jnp.maximum(jnp.abs(ulo), jnp.abs(uhi)))
        return (m + 2) * _eps(s) * s + m * _tiny(s)

    e = slack(op.lo, op.hi, upd.lo, upd.hi)
    lo, hi = _widen(bind(op.lo, upd.lo) - e, bind(op.hi, upd.hi) + e)
    if not (op.dep or upd.dep):
        return _Jet(lo, hi, dep=False)
    (otl, oth), (utl, uth) = ctx.tangent(op), ctx.tangent(upd)
    fv = jax.vmap(bind, in_axes=-1, out_axes=-1)
    et = jax.vmap(slack, in_axes=-1, out_axes=-1)(otl, oth, utl, uth)
    tlo, thi = _widen(fv(otl, utl) - et, fv(oth, uth) + et)
    return _Jet(lo, hi, tlo, thi, dep=True)


def _concrete(x):
    return not isinstance(x, jax.core.Tracer)


# --------------------------------------------------------------------------------------------
# Public API.
# --------------------------------------------------------------------------------------------


def _check_box(lo, hi):
    lo, hi = jnp.asarray(lo), jnp.asarray(hi)
    if lo.ndim != 1 or hi.shape != lo.shape:
        raise ValueError(f"expected lo and hi of the same shape (n,), got {lo.shape} and {hi.shape}")
    if not (jnp.issubdtype(lo.dtype, jnp.floating) and lo.dtype == hi.dtype):
        raise TypeError(f"expected lo and hi of one floating dtype, got {lo.dtype} and {hi.dtype}")
    return lo, hi


def interval_value_and_jacobian(F, lo, hi, *, assume_continuous=False):
    """Encloses :math:`F(x)` and :math:`DF(x)` for every :math:`x` in the box ``[lo, hi]``.

    .. math::

       F(x)\\in[F_{lo}, F_{hi}],\\qquad DF(x)\\in[J_{lo}, J_{hi}]\\quad\\forall x\\in[lo, hi].

    Args:
      F: function of one array of shape ``(n,)``, returning one float array of shape ``out``,
        written with the primitives listed in this module's docstring.
      lo: ``(n,)`` lower corner of the box (float64 for sound certificates).
      hi: ``(n,)`` upper corner, ``hi >= lo`` (not checked inside ``jit``).
      assume_continuous: if True, an undecided box-dependent branch (``jnp.where``) gets the hull
        of its branches' tangents (sound when ``F`` is continuous across the switch); if False
        (default) it gets an unbounded tangent.

    Returns:
      ``(Flo, Fhi, Jlo, Jhi)`` with shapes ``out`` and ``out + (n,)``.

    Raises:
      NotImplementedError: for a primitive without a sound rule.
      ValueError, TypeError: for a malformed box.

    Examples:
      >>> import jax.numpy as jnp
      >>> flo, fhi, jlo, jhi = interval_value_and_jacobian(
      ...     jnp.sin, jnp.array([0.0]), jnp.array([1.0]))
      >>> bool(jlo[0, 0] <= jnp.cos(1.0) and jhi[0, 0] >= 1.0)
      True
    """
    lo, hi = _check_box(lo, hi)
    n = lo.shape[0]
    closed = jax.make_jaxpr(F)(jax.ShapeDtypeStruct(lo.shape, lo.dtype))
    if len(closed.out_avals) != 1:
        raise ValueError(f"expected F to return one array, got {len(closed.out_avals)} outputs")
    eye = jnp.eye(n, dtype=lo.dtype)
    x = _Jet(lo, hi, eye, eye, dep=True)
    ctx = _Ctx(n, assume_continuous)
    (out,) = _eval(ctx, closed.jaxpr, list(closed.consts), [x])
    if not _is_float(out.lo):
        raise ValueError(f"expected F to return a float array, got {out.lo.dtype}")
    flo, fhi = out.lo, out.hi
    jlo, jhi = ctx.tangent(out)
    flo, fhi = _sanitize(flo, fhi)
    jlo, jhi = _sanitize(jlo, jhi)
    return flo, fhi, jlo, jhi


def interval_jacobian(F, lo, hi, *, assume_continuous=False):
    """Encloses the Jacobian :math:`DF(x)` for every :math:`x` in the box ``[lo, hi]``.

    Jit- and vmap-compatible over boxes (``F`` is traced once per shape). See
    :func:`interval_value_and_jacobian` for the arguments.

    Returns:
      ``(Jlo, Jhi)`` of shape ``out + (n,)`` with ``Jlo <= DF(x) <= Jhi`` entry-wise.

    Examples:
      >>> import jax.numpy as jnp
      >>> F = lambda z: jnp.stack([z[0] + 0.5 * jnp.tanh(z[1]), z[1] - 0.8 * jnp.sin(z[0])])
      >>> jlo, jhi = interval_jacobian(F, -jnp.ones(2), jnp.ones(2))
      >>> round(float(jlo[0, 1]), 4), round(float(jhi[0, 1]), 4)
      (0.21, 0.5)
    """
    _, _, jlo, jhi = interval_value_and_jacobian(F, lo, hi, assume_continuous=assume_continuous)
    return jlo, jhi
