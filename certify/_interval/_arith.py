r"""Interval arithmetic on endpoint arrays, and sharp ranges of elementary functions.

An interval is a pair of arrays ``(lo, hi)`` of one float dtype, ``lo <= hi`` entry-wise, with
endpoints in the extended reals. Every operation that may round is rounded *outward*: a result
:math:`[\underline r,\overline r]` is enlarged by ``ulps`` relative units plus the smallest
normal number, so it contains the exact real result of the operation applied to any reals of
the operand intervals (Moore, Kearfott & Cloud 2009). Products use the endpoint convention
:math:`0\cdot\infty=0` (an infinite endpoint means "unbounded"); whether an actual IEEE
``0 * inf`` may occur is the caller's business (the NaN flags of
:mod:`certify._interval._jet`).

For each elementary function :math:`g` the table :data:`ELEMENTARY` gives the *sharp* range of
:math:`g` and of :math:`g'` over an interval inside its domain (from monotonicity, evenness or
periodicity, so no dependency problem arises from re-evaluating a derivative formula), and the
domain outside which :math:`g` is NaN. Outward rounding uses 4 ulps for IEEE-exact arithmetic
and 2048 ulps for transcendental functions: XLA's CPU float64 ``sinh``/``cosh`` were measured up
to 496 ulps from libm, ``atanh``/``log1p`` 129, the rest at most 16, except ``erf_inv``, off by up
to 4.99e5 ulps (1.1e-10 relative) where :math:`1-|x|` lies in :math:`[10^{-11}, 10^{-7}]`, which gets
its own margin (:data:`ACCURACY_ULPS`). Soundness therefore rests on that measured accuracy of
XLA's transcendental functions (float64, CPU, under JAX's default compile options and the
engine's own), which ``tests/certify/test_transcendental_accuracy.py`` checks at half the margin;
GPU float32 fast-math is not covered.

References:
  Moore, Kearfott & Cloud, *Introduction to Interval Analysis*, SIAM, 2009.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import jax
import jax.numpy as jnp
from jax import lax

ARITH_ULPS = 4.0
TRANS_ULPS = 2048.0
ERF_INV_ULPS = 2.0**21
"""``erf_inv``'s margin: 4.2x its measured worst error (4.99e5 ulps, see the module docstring)."""
ERF_INV_DERIV_ULPS = 2.0**28
r"""Margin of ``erf_inv``'s derivative :math:`\tfrac{\sqrt\pi}{2}e^{y^2}`, :math:`y=\operatorname{erf}^{-1}(x)`:
a relative error :math:`\delta` of :math:`y` gives about :math:`2y^2\delta` in :math:`e^{y^2}`, and
:math:`|y|\le 6` for float64 :math:`|x|<1`, so :math:`72\cdot 2^{21}<2^{28}` ulps."""
ACCURACY_ULPS = {"erf_inv": ERF_INV_ULPS}
"""Functions whose measured error exceeds what :data:`TRANS_ULPS` covers, with their own margin."""


def ulps_of(name: str) -> float:
    """The outward-rounding margin, in ulps, of the transcendental primitive ``name``."""
    return ACCURACY_ULPS.get(name, TRANS_ULPS)


PEAK_PAD = 1e-12  # relative enlargement of an interval when testing whether it holds a peak


def eps(x) -> float:
    """Machine epsilon of ``x``'s dtype."""
    return float(jnp.finfo(x.dtype).eps)


def tiny(x) -> float:
    """Smallest positive normal number of ``x``'s dtype."""
    return float(jnp.finfo(x.dtype).tiny)


def reduced_format(params, dtype) -> tuple[float, float, float]:
    """``(unit, smallest normal, largest finite)`` of ``reduce_precision``'s format inside ``dtype``.

    With ``m`` mantissa and ``k`` exponent bits, ``e_max = 2^(k-1) - 1``: rounding is within
    ``2^-m`` relative above the smallest normal ``2^(1 - e_max)``, within that normal below it
    (flushed or rounded to the format's subnormals), and values beyond the largest finite
    ``(2 - 2^-m) 2^e_max`` may round to +-inf (``8`` exponent bits: ``3.4e38``, as bfloat16).
    """
    m, k = int(params["mantissa_bits"]), int(params["exponent_bits"])
    e_max = 2 ** (k - 1) - 1
    fi = jnp.finfo(dtype)
    small = max(math.ldexp(1.0, 1 - e_max), float(fi.tiny)) if e_max < 4096 else float(fi.tiny)
    big = math.inf if e_max >= int(fi.maxexp) else min(math.ldexp(2.0 - 2.0**-m, e_max), float(fi.max))
    return 2.0**-m, small, big


def sanitize(lo, hi):
    """NaN endpoints mean "no information": the whole real line."""
    return jnp.where(jnp.isnan(lo), -jnp.inf, lo), jnp.where(jnp.isnan(hi), jnp.inf, hi)


def widen(lo, hi, ulps=ARITH_ULPS, absolute=0.0):
    """Outward rounding: ``ulps`` relative units, an absolute term and the smallest normal.

    NaN endpoints stay NaN (the caller flags them as "possibly NaN").
    """
    e = ulps * eps(lo)
    a = absolute + tiny(lo)
    return lo - (jnp.abs(lo) * e + a), hi + (jnp.abs(hi) * e + a)


def pmul(a, b):
    """Endpoint product with the convention ``0 * inf = 0``."""
    p = a * b
    return jnp.where((a == 0) | (b == 0), jnp.zeros_like(p), p)


def imul(alo, ahi, blo, bhi):
    """Product of two intervals (all four endpoint products), rounded outward."""
    p1, p2, p3, p4 = pmul(alo, blo), pmul(alo, bhi), pmul(ahi, blo), pmul(ahi, bhi)
    lo = jnp.minimum(jnp.minimum(p1, p2), jnp.minimum(p3, p4))
    hi = jnp.maximum(jnp.maximum(p1, p2), jnp.maximum(p3, p4))
    return widen(lo, hi)


def tmul(dlo, dhi, tlo, thi):
    """Product for tangents, with ``0 * unbounded = 0`` (a derivative times an exact zero).

    Tangent endpoints may be NaN inside the interpreter, meaning "unbounded"; every rule
    propagates NaN and the final enclosure maps it to ``[-inf, inf]``. A factor that is exactly
    zero (the whole interval) gives an exact zero product whatever the other factor.
    """
    zero = ((dlo == 0) & (dhi == 0)) | ((tlo == 0) & (thi == 0))
    p1, p2, p3, p4 = dlo * tlo, dlo * thi, dhi * tlo, dhi * thi
    lo = jnp.minimum(jnp.minimum(p1, p2), jnp.minimum(p3, p4))
    hi = jnp.maximum(jnp.maximum(p1, p2), jnp.maximum(p3, p4))
    lo, hi = widen(lo, hi)
    z = jnp.zeros_like(lo)
    return jnp.where(zero, z, lo), jnp.where(zero, z, hi)


def iadd(alo, ahi, blo, bhi):
    """Sum of two intervals, rounded outward."""
    return widen(alo + blo, ahi + bhi)


def isub(alo, ahi, blo, bhi):
    """Difference of two intervals, rounded outward."""
    return widen(alo - bhi, ahi - blo)


def irecip(lo, hi):
    """Range of ``1/x``; the whole line when the interval holds 0."""
    ok = (lo > 0) | (hi < 0)
    return widen(jnp.where(ok, 1.0 / hi, -jnp.inf), jnp.where(ok, 1.0 / lo, jnp.inf))


def ipow_int(lo, hi, k: int):
    """Sharp range of ``x**k`` for an integer ``k`` (``k < 0`` through the reciprocal)."""
    if k == 0:
        return jnp.ones_like(lo), jnp.ones_like(hi)
    if k < 0:
        return irecip(*ipow_int(lo, hi, -k))
    if k == 1:
        return lo, hi
    pl, ph = lax.integer_pow(lo, k), lax.integer_pow(hi, k)
    if k % 2 == 1:
        return widen(pl, ph, ARITH_ULPS * k)
    has0 = (lo <= 0) & (hi >= 0)
    return widen(jnp.where(has0, jnp.zeros_like(pl), jnp.minimum(pl, ph)), jnp.maximum(pl, ph), ARITH_ULPS * k)


def has_point(lo, hi, x0, period):
    """Whether ``[lo, hi]`` (slightly enlarged) holds ``x0 + k * period`` for an integer ``k``."""
    pad = PEAK_PAD * (1.0 + jnp.abs(lo) + jnp.abs(hi))
    k = jnp.ceil((lo - pad - x0) / period)
    return x0 + k * period <= hi + pad


def periodic(f, lo, hi, argmax, argmin, period):
    """Range of a ``period``-periodic function with one max (1) / min (-1) per period."""
    fl, fh = f(lo), f(hi)
    rlo = jnp.where(has_point(lo, hi, argmin, period), -1.0, jnp.minimum(fl, fh))
    rhi = jnp.where(has_point(lo, hi, argmax, period), 1.0, jnp.maximum(fl, fh))
    rlo, rhi = widen(rlo, rhi, TRANS_ULPS, 4 * eps(lo))
    return jnp.maximum(rlo, -1.0), jnp.minimum(rhi, 1.0)


def inc(f, lo, hi, ulps=TRANS_ULPS):
    """Range of a nondecreasing transcendental ``f`` (accurate to ``ulps``)."""
    return widen(f(lo), f(hi), ulps)


def dec(f, lo, hi):
    """Range of a nonincreasing transcendental ``f``."""
    return widen(f(hi), f(lo), TRANS_ULPS)


def even_peak(f, lo, hi, peak):
    """Range of an even ``f`` nonincreasing in ``|x|`` (maximum ``peak`` at 0)."""
    fl, fh = f(lo), f(hi)
    has0 = (lo <= 0) & (hi >= 0)
    return widen(jnp.minimum(fl, fh), jnp.where(has0, peak, jnp.maximum(fl, fh)), TRANS_ULPS)


def even_valley(f, lo, hi, valley):
    """Range of an even ``f`` nondecreasing in ``|x|`` (minimum ``valley`` at 0)."""
    fl, fh = f(lo), f(hi)
    has0 = (lo <= 0) & (hi >= 0)
    return widen(jnp.where(has0, valley, jnp.minimum(fl, fh)), jnp.maximum(fl, fh), TRANS_ULPS)


# --------------------------------------------------------------------------------------------
# Elementary functions.
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Elementary:
    """Sharp ranges of ``g`` and ``g'`` on an interval inside the closed domain ``[dlo, dhi]``.

    ``g`` is NaN outside the domain, and at ``±inf`` when ``nan_at_inf`` (sin, cos, tan);
    ``bounded``: ``g`` maps finite arguments to a bounded range.
    """

    value: Callable
    deriv: Callable
    dlo: float | None = None
    dhi: float | None = None
    nan_at_inf: bool = False
    bounded: bool = False


def _sech2(x):
    c = jnp.cosh(x)
    return 1.0 / (c * c)


def _dlogistic(x):
    e = jnp.exp(-jnp.abs(x))  # stable form of s (1 - s)
    return e / ((1.0 + e) * (1.0 + e))


_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_HALF_SQRT_PI = 0.5 * math.sqrt(math.pi)


def _sin(lo, hi):
    return periodic(jnp.sin, lo, hi, jnp.pi / 2, -jnp.pi / 2, 2 * jnp.pi)


def _cos(lo, hi):
    return periodic(jnp.cos, lo, hi, 0.0, jnp.pi, 2 * jnp.pi)


def _neg(pair):
    return -pair[1], -pair[0]


def _tan_value(lo, hi):
    pole = has_point(lo, hi, jnp.pi / 2, jnp.pi) | (hi - lo >= jnp.pi)
    tlo, thi = inc(jnp.tan, lo, hi)
    return jnp.where(pole, -jnp.inf, tlo), jnp.where(pole, jnp.inf, thi)


def _tan_deriv(lo, hi):
    pole = has_point(lo, hi, jnp.pi / 2, jnp.pi) | (hi - lo >= jnp.pi)
    slo, shi = ipow_int(*inc(jnp.tan, lo, hi), 2)
    dlo, dhi = widen(1.0 + slo, 1.0 + shi)
    return jnp.where(pole, jnp.ones_like(dlo), dlo), jnp.where(pole, jnp.inf, dhi)


def _cbrt_deriv(x):
    c = jnp.cbrt(x)
    return 1.0 / (3.0 * c * c)


def _erfinv_deriv(x):
    y = lax.erf_inv(x)
    return _HALF_SQRT_PI * jnp.exp(y * y)


ELEMENTARY: dict[str, Elementary] = {
    "sin": Elementary(_sin, _cos, nan_at_inf=True, bounded=True),
    "cos": Elementary(_cos, lambda lo, hi: _neg(_sin(lo, hi)), nan_at_inf=True, bounded=True),
    "tan": Elementary(_tan_value, _tan_deriv, nan_at_inf=True),
    "tanh": Elementary(
        lambda lo, hi: inc(jnp.tanh, lo, hi), lambda lo, hi: even_peak(_sech2, lo, hi, 1.0), bounded=True
    ),
    "logistic": Elementary(
        lambda lo, hi: inc(jax.nn.sigmoid, lo, hi), lambda lo, hi: even_peak(_dlogistic, lo, hi, 0.25), bounded=True
    ),
    "exp": Elementary(lambda lo, hi: inc(jnp.exp, lo, hi), lambda lo, hi: inc(jnp.exp, lo, hi)),
    "exp2": Elementary(
        lambda lo, hi: inc(jnp.exp2, lo, hi), lambda lo, hi: inc(lambda x: math.log(2.0) * jnp.exp2(x), lo, hi)
    ),
    "expm1": Elementary(lambda lo, hi: inc(jnp.expm1, lo, hi), lambda lo, hi: inc(jnp.exp, lo, hi)),
    "log": Elementary(lambda lo, hi: inc(jnp.log, lo, hi), lambda lo, hi: dec(lambda x: 1.0 / x, lo, hi), 0.0),
    "log1p": Elementary(
        lambda lo, hi: inc(jnp.log1p, lo, hi), lambda lo, hi: dec(lambda x: 1.0 / (1.0 + x), lo, hi), -1.0
    ),
    "sqrt": Elementary(
        lambda lo, hi: inc(jnp.sqrt, lo, hi), lambda lo, hi: dec(lambda x: 0.5 / jnp.sqrt(x), lo, hi), 0.0
    ),
    "rsqrt": Elementary(
        lambda lo, hi: dec(lax.rsqrt, lo, hi), lambda lo, hi: inc(lambda x: -0.5 / (x * jnp.sqrt(x)), lo, hi), 0.0
    ),
    "cbrt": Elementary(lambda lo, hi: inc(jnp.cbrt, lo, hi), lambda lo, hi: even_peak(_cbrt_deriv, lo, hi, jnp.inf)),
    "sinh": Elementary(lambda lo, hi: inc(jnp.sinh, lo, hi), lambda lo, hi: even_valley(jnp.cosh, lo, hi, 1.0)),
    "cosh": Elementary(lambda lo, hi: even_valley(jnp.cosh, lo, hi, 1.0), lambda lo, hi: inc(jnp.sinh, lo, hi)),
    "atan": Elementary(
        lambda lo, hi: inc(jnp.arctan, lo, hi),
        lambda lo, hi: even_peak(lambda x: 1.0 / (1.0 + x * x), lo, hi, 1.0),
        bounded=True,
    ),
    "asinh": Elementary(
        lambda lo, hi: inc(jnp.arcsinh, lo, hi),
        lambda lo, hi: even_peak(lambda x: 1.0 / jnp.sqrt(1.0 + x * x), lo, hi, 1.0),
    ),
    "asin": Elementary(
        lambda lo, hi: inc(jnp.arcsin, lo, hi),
        lambda lo, hi: even_valley(lambda x: 1.0 / jnp.sqrt((1.0 - x) * (1.0 + x)), lo, hi, 1.0),
        -1.0,
        1.0,
    ),
    "acos": Elementary(
        lambda lo, hi: dec(jnp.arccos, lo, hi),
        lambda lo, hi: even_peak(lambda x: -1.0 / jnp.sqrt((1.0 - x) * (1.0 + x)), lo, hi, -1.0),
        -1.0,
        1.0,
    ),
    "atanh": Elementary(
        lambda lo, hi: inc(jnp.arctanh, lo, hi),
        lambda lo, hi: even_valley(lambda x: 1.0 / ((1.0 - x) * (1.0 + x)), lo, hi, 1.0),
        -1.0,
        1.0,
    ),
    "acosh": Elementary(
        lambda lo, hi: inc(jnp.arccosh, lo, hi),
        lambda lo, hi: dec(lambda x: 1.0 / jnp.sqrt((x - 1.0) * (x + 1.0)), lo, hi),
        1.0,
    ),
    "erf": Elementary(
        lambda lo, hi: inc(lax.erf, lo, hi),
        lambda lo, hi: even_peak(lambda x: _TWO_OVER_SQRT_PI * jnp.exp(-x * x), lo, hi, _TWO_OVER_SQRT_PI),
        bounded=True,
    ),
    "erfc": Elementary(
        lambda lo, hi: dec(lax.erfc, lo, hi),
        lambda lo, hi: even_valley(lambda x: -_TWO_OVER_SQRT_PI * jnp.exp(-x * x), lo, hi, -_TWO_OVER_SQRT_PI),
        bounded=True,
    ),
    "erf_inv": Elementary(
        lambda lo, hi: inc(lax.erf_inv, lo, hi, ERF_INV_ULPS),
        lambda lo, hi: widen(*even_valley(_erfinv_deriv, lo, hi, _HALF_SQRT_PI), ERF_INV_DERIV_ULPS),
        -1.0,
        1.0,
    ),
}


def power_elementary(p: float) -> Elementary:
    """``x ** p`` for a real, non-integer exponent ``p``: domain ``x >= 0``, monotone on it."""

    def f(q):
        def g(x):
            return jnp.power(x, q)

        return g

    def value(lo, hi):
        return inc(f(p), lo, hi) if p > 0 else dec(f(p), lo, hi)

    def deriv(lo, hi):
        q = p - 1.0
        dlo, dhi = inc(f(q), lo, hi) if q > 0 else dec(f(q), lo, hi)
        k = jnp.asarray(p, lo.dtype)
        return imul(dlo, dhi, k, k)

    return Elementary(value, deriv, 0.0)
