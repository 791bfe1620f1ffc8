r"""The rounding pass: a bound on the evaluation error of ``F`` as JAX computes it, over a box.

A certificate is a claim about :math:`F` in exact arithmetic (every operation on box-dependent
values exact; operations on constants alone as JAX folds them). JAX computes
:math:`\tilde F(x)` instead, rounding every operation in its own dtype (casts to ``bfloat16``
or ``float32`` included). This pass bounds

.. math::

   \varepsilon_k \ge \sup_{x\in X} |\tilde F_k(x) - F_k(x)|

by forward error analysis run *through the interval engine itself*: the program is interpreted
a second time with one tangent column, and every value :math:`v` carries an interval that holds
both :math:`v(x)` and :math:`\tilde v(x)`, and a "tangent" :math:`[-e_v, e_v]` with
:math:`e_v\ge|\tilde v(x)-v(x)|`. For an operation :math:`z=g(a,b)`,

.. math::

   |\tilde z - z| \le |g(\tilde a,\tilde b)-g(a,b)| + |\operatorname{fl}(g(\tilde a,\tilde b))-g(\tilde a,\tilde b)|
   \le \sup|\partial_a g|\,e_a+\sup|\partial_b g|\,e_b + \rho_g\,|z|,

the mean-value theorem over the (convex) widened intervals: the engine's own tangent rule
applied to the tangents :math:`[-e_a,e_a]`, :math:`[-e_b,e_b]` gives the first two terms, and
:func:`inject` adds the rounding :math:`\rho_g` of the operation (:func:`rounding_term`) and
widens the value. A branch whose predicate may differ between :math:`u` and :math:`\tilde u`
(``where`` at a threshold) may pick the other branch: where the switch is proven continuous
(:mod:`certify._interval._exact`), the branches agree at the threshold and each moves by at most
its own :math:`e` between :math:`u` and the threshold, so the error is at most
:math:`\max_k e_{B_k}+\sum_k e_{B_k}` (added by the ``select`` rule); elsewhere it is unbounded.
Patterns (:mod:`certify._interval._patterns`) are off: they bound the exact composite, not the
rounded operations.

Rounding terms (``eps`` = machine epsilon of the operation's dtype, twice the unit roundoff;
``tiny`` for subnormal and flushed results): exact operations (moves, ``max``, ``abs``, ``neg``,
selections, comparisons, ``fmod``, widening casts) 0; IEEE operations (``+``, ``-``, ``*``,
``/``, ``sqrt``) ``eps |z| + tiny``; sums and products of :math:`k` terms
:math:`(k+1)\,\mathrm{eps}\sum|a_i||b_i|`; narrowing casts the target's ``eps |z| + tiny``;
``reduce_precision`` :math:`2^{-m}|z|`; everything else (transcendental functions) the engine's
calibrated ``TRANS_ULPS`` ulps, or the function's own margin (``erf_inv``:
:func:`certify._interval._arith.ulps_of`).

References:
  Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd ed., SIAM, 2002, ch. 2-3.
"""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np
from jax import lax

from certify._interval._arith import reduced_format, ulps_of
from certify._interval._jet import Jet

__all__ = ["EXACT", "IEEE", "inject", "rounding_term"]

# Operations whose computed result is the exact result of their computed inputs.
EXACT = frozenset({
    "neg", "abs", "max", "min", "clamp", "select_n", "sign", "floor", "ceil", "round", "reduce_max",
    "reduce_min", "sort", "rem", "is_finite", "slice", "squeeze", "reshape", "broadcast_in_dim", "concatenate",
    "transpose", "rev", "pad", "stack", "split", "dynamic_slice", "dynamic_update_slice", "gather", "scatter",
    "tile", "copy", "copy_p", "iota", "argmax", "argmin",
})  # fmt: skip
# Correctly rounded IEEE operations.
IEEE = frozenset({"add", "add_any", "sub", "mul", "div", "sqrt", "square"})
# Operations holding sub-programs: their inner operations are rounded one by one.
CONTROL = frozenset({"cond", "scan", "while"})


def _mag(lo, hi):
    return jnp.maximum(jnp.abs(lo), jnp.abs(hi))


def _eps(dtype) -> float:
    return float(jnp.finfo(dtype).eps)


def _tiny(dtype) -> float:
    return float(jnp.finfo(dtype).tiny)


def rounding_term(op, ins: list[Jet], out: Jet):
    """A bound on ``|fl(g(a, b)) - g(a, b)|`` for operation ``op`` on the (computed) inputs ``ins``."""
    name, p = op.name, op.params
    dt = out.dtype
    e, t = _eps(dt), _tiny(dt)
    mag = _mag(out.lo, out.hi)
    if name in EXACT:
        return None
    if name in IEEE:
        return e * mag + t
    if name == "convert_element_type":
        src = ins[0]
        if src.is_float and jnp.finfo(src.dtype).bits <= jnp.finfo(dt).bits:
            return None  # a widening cast is exact
        return e * mag + t
    if name == "reduce_precision":  # the format's unit and smallest normal; unbounded where it may overflow
        unit, small, big = reduced_format(p, dt)
        return jnp.where(mag > big, jnp.inf, unit * mag + small + t)
    if name == "integer_pow":
        k = abs(int(p["y"]))
        return (2 * k + 1) * e * mag + t
    if name in ("reduce_sum", "cumsum"):
        a = ins[0]
        k = math.prod(a.shape[d] for d in p["axes"]) if name == "reduce_sum" else a.shape[p["axis"]]
        s = op.prim.bind(_mag(a.lo, a.hi).astype(dt), **p)
        return (k + 1) * e * s + (k + 1) * t
    if name == "dot_general":
        a, b = ins
        dn = p["dimension_numbers"]
        k = math.prod(a.shape[d] for d in dn[0][0])
        s = lax.dot_general(_mag(a.lo, a.hi), _mag(b.lo, b.hi), dn, preferred_element_type=p.get(
            "preferred_element_type"))  # fmt: skip
        return ((k + 1) * e * s + (k + 1) * t).astype(dt)
    if name == "reduce_prod":
        k = math.prod(ins[0].shape[d] for d in p["axes"])
        return (2 * k + 1) * e * mag + t
    if name == "scatter-add":
        o, idx, u = ins
        m = int(np.prod(u.shape)) + 1
        s = op.prim.bind(_mag(o.lo, o.hi), idx.lo, _mag(u.lo, u.hi), **p)
        return (m + 1) * e * s + m * t
    return ulps_of(name) * e * mag + t


def inject(ctx, op, ins: list[Jet], outs: list[Jet]) -> list[Jet]:
    """Adds the rounding of ``op`` to its outputs: values widened, tangents ``[-e, e]``."""
    if op.name in CONTROL:
        return outs
    res = []
    for o in outs:
        if not o.is_float or (o.pt and o.tlo is None):
            res.append(o)  # integers, booleans and exact constants carry no error
            continue
        r = rounding_term(op, ins, o) if not o.pt else None
        if o.tlo is None:
            e = jnp.zeros(o.shape, o.dtype)
        else:
            e = jnp.maximum(jnp.abs(o.tlo), jnp.abs(o.thi))[..., 0]
            e = jnp.where(jnp.isnan(e), jnp.inf, e)
        lo, hi = o.lo, o.hi
        if r is not None:
            r = jnp.broadcast_to(r, o.shape).astype(o.dtype)
            e = e + r
            lo, hi = lo - r, hi + r
        e = e * (1.0 + 4.0 * _eps(o.dtype)) + _tiny(o.dtype)  # the bound's own rounding, upward
        j = Jet(lo, hi, -e[..., None], e[..., None], dep=True, nan=o.nan, face=o.face, vc=o.vc, tc=o.tc)
        res.append(j)
    return res
