"""Property test of every rule of the interval engine: sampled values and derivatives lie inside.

For each primitive of the rule table (``certify._interval._rules.RULES``) a few functions that
use it are enclosed over boxes with the public ``interval_enclosure(lambda x: op(x), lo, hi)``,
in float64 and float32. At random points of each box (plus its corners) the float64 value and
Jacobian of the function (``jax.jacfwd``, a second implementation: JAX's own derivative rules)
must lie inside the enclosure, and where the float64 value is NaN the enclosure must say
"possibly NaN". The float32 enclosure is checked against the float64 values at the
float32-rounded points (the enclosure holds for the real-arithmetic function; float64 is a
far more accurate oracle than any float32 evaluation). Constants in the functions are exact in
float32, so both dtypes describe the same real function.

A coverage test asserts that every rule has a case, and that each case's program really holds
its primitive.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

from certify._interval import interval_enclosure
from certify._interval._interpreter import RULES
from certify._interval._ir import program_of

GEN = [(-1.0, 1.0), (0.25, 2.5), (-4.0, -0.5)]
POS = [(0.0, 2.0), (0.125, 0.5), (1.0, 30.0)]
CROSS = [(-1.0, 2.0), (-0.5, 0.25), (0.5, 3.0)]  # some boxes leave a domain
UNIT = [(-1.0, 1.0), (-0.25, 0.875), (0.5, 1.5)]
BIG = [(-40.0, 40.0), (700.0, 720.0), (-2.0, 2.0)]
ORACLE_TOL = 1e-12  # relative slack for the float64 oracle's own rounding (see the test)
A3 = np.array([[0.5, -1.25, 0.75], [1.5, 0.25, -0.5], [-0.75, 1.0, 2.0]])


def boxes_1(intervals, n=1):
    """Boxes of dimension ``n`` with every coordinate in the given interval."""
    return [(np.full(n, a), np.full(n, b)) for a, b in intervals]


def boxes_3(intervals):
    out = []
    for k, (a, b) in enumerate(intervals):
        shift = np.array([0.0, 0.25, -0.5]) * (k + 1) * 0.5
        out.append((a + shift, b + shift))
    return out


def u(f):
    """A unary case on 1-d boxes."""
    return lambda z: f(z)


# name -> list of (label, function, boxes)
CASES = {
    "sin": [("sin", u(jnp.sin), boxes_1(GEN + BIG))],
    "cos": [("cos", u(jnp.cos), boxes_1(GEN + BIG))],
    "tan": [("tan", u(jnp.tan), boxes_1([(-1.25, 1.25), (0.125, 1.5), (1.0, 2.5)]))],
    "tanh": [("tanh", u(jnp.tanh), boxes_1(GEN + BIG))],
    "logistic": [("sigmoid", u(jax.nn.sigmoid), boxes_1(GEN + BIG))],
    "exp": [("exp", u(jnp.exp), boxes_1(GEN + BIG))],
    "exp2": [("exp2", u(jnp.exp2), boxes_1(GEN))],
    "expm1": [("expm1", u(jnp.expm1), boxes_1(GEN))],
    "log": [("log", u(jnp.log), boxes_1(POS + CROSS))],
    "log1p": [("log1p", u(jnp.log1p), boxes_1([(-0.875, 1.0), (-2.0, 0.5), (0.0, 5.0)]))],
    "sqrt": [("sqrt", u(jnp.sqrt), boxes_1(POS + CROSS))],
    "rsqrt": [("rsqrt", u(lax.rsqrt), boxes_1(POS + CROSS))],
    "cbrt": [("cbrt", u(jnp.cbrt), boxes_1(GEN))],
    "sinh": [("sinh", u(jnp.sinh), boxes_1(GEN))],
    "cosh": [("cosh", u(jnp.cosh), boxes_1(GEN))],
    "atan": [("atan", u(jnp.arctan), boxes_1(GEN))],
    "asinh": [("asinh", u(jnp.arcsinh), boxes_1(GEN))],
    "asin": [("asin", u(jnp.arcsin), boxes_1(UNIT))],
    "acos": [("acos", u(jnp.arccos), boxes_1(UNIT))],
    "atanh": [("atanh", u(jnp.arctanh), boxes_1(UNIT))],
    "acosh": [("acosh", u(jnp.arccosh), boxes_1([(1.0, 3.0), (0.5, 2.0), (1.5, 10.0)]))],
    "erf": [("erf", u(jax.scipy.special.erf), boxes_1(GEN))],
    "erfc": [("erfc", u(jax.scipy.special.erfc), boxes_1(GEN))],
    "erf_inv": [("erf_inv", u(jax.scipy.special.erfinv), boxes_1(UNIT))],
    "add": [("add", lambda z: z[0] + z[1] * z[2], boxes_3(GEN))],
    "add_any": [("grad", jax.grad(lambda x: jnp.sin(x[0]) * x[0] + jnp.sum(x * x)), boxes_3(GEN))],
    "sub": [("sub", lambda z: jnp.stack([z[0] - z[1], z[2] - z[2]]), boxes_3(GEN))],
    "neg": [("neg", lambda z: -z * z[0], boxes_3(GEN))],
    "mul": [("mul", lambda z: z * z[::-1], boxes_3(GEN)), ("zero_log", lambda z: 0.0 * jnp.log(z), boxes_1(POS))],
    "div": [("div", lambda z: z[0] / z[1], boxes_3([(0.5, 2.0), (-1.0, 1.0), (-3.0, -0.25)])),
            ("same", lambda z: z / z, boxes_1(CROSS))],
    "square": [("square", u(jnp.square), boxes_1(GEN))],
    "integer_pow": [("cube", lambda z: z**3, boxes_1(GEN)), ("inv2", lambda z: z**-2, boxes_1(CROSS))],
    "pow": [("pow_const", lambda z: jnp.power(z, 1.5), boxes_1(POS + CROSS)),
            ("pow_dep", lambda z: jnp.power(z[0], z[1]), boxes_3(POS))],
    "max": [("max", lambda z: jnp.maximum(z, 2.0 * z[::-1]), boxes_3(GEN))],
    "min": [("min", lambda z: jnp.minimum(z, 0.5 - z[::-1]), boxes_3(GEN))],
    "clamp": [("clamp", lambda z: lax.clamp(jnp.asarray(-0.5, z.dtype), z, jnp.asarray(0.75, z.dtype)),
               boxes_1(GEN))],
    "abs": [("abs", u(jnp.abs), boxes_1(GEN))],
    "rem": [("fmod", lambda z: jnp.fmod(z, 0.75), boxes_1([(0.125, 0.5), (-1.0, 1.0), (1.0, 1.25)]))],
    "atan2": [("atan2", lambda z: jnp.arctan2(z[0], z[1]), boxes_3([(0.5, 1.0), (-1.0, 1.0), (-3.0, -1.0)]))],
    "floor": [("floor", lambda z: jnp.floor(z) * z, boxes_1([(0.125, 0.75), (-1.5, 1.5)]))],
    "ceil": [("ceil", lambda z: jnp.ceil(z) + z, boxes_1([(0.125, 0.75), (-1.5, 1.5)]))],
    "round": [("round", lambda z: jnp.round(z) + z, boxes_1([(0.625, 1.25), (-1.5, 1.5)]))],
    "sign": [("sign", lambda z: jnp.sign(z) * z, boxes_1([(0.125, 0.75), (-1.5, 1.5)]))],
    "eq": [("eq", lambda z: jnp.where(z == 0.5, 1.0, z), boxes_1(GEN))],
    "ne": [("isnan", lambda z: jnp.where(jnp.isnan(jnp.sqrt(z)), -z, z), boxes_1(CROSS))],
    "lt": [("lt", lambda z: jnp.where(z < 0.5, z, 0.5), boxes_1(GEN))],
    "le": [("le", lambda z: jnp.where(z <= 0.5, z * z, 0.25), boxes_1(GEN))],
    "gt": [("gt", lambda z: jnp.where(z > 0.0, z, 0.5 * z), boxes_1(GEN))],
    "ge": [("ge", lambda z: jnp.where(z >= 1.0, z, 1.0 + jnp.expm1(z - 1.0)), boxes_1(GEN))],
    "and": [("and", lambda z: jnp.where((z[0] > 0.0) & (z[1] < 0.5), z, -z), boxes_3(GEN))],
    "or": [("or", lambda z: jnp.where((z[0] > 0.0) | (z[1] < 0.5), z, -z), boxes_3(GEN))],
    "xor": [("xor", lambda z: jnp.where((z[0] > 0.0) ^ (z[1] < 0.5), z, -z), boxes_3(GEN))],
    "not": [("not", lambda z: jnp.where(~(z > 0.5), z, 0.5), boxes_1(GEN))],
    "is_finite": [("isfinite", lambda z: jnp.where(jnp.isfinite(jnp.log(z)), z, 0.0), boxes_1(POS + CROSS))],
    "select_n": [("where", lambda z: jnp.where(z > 0.0, jnp.sin(z), z), boxes_1(GEN))],
    "cond": [("cond", lambda z: lax.cond(z[0] > 0.0, lambda v: v * v, lambda v: -v, z), boxes_3(GEN))],
    "convert_element_type": [("narrow", lambda z: z.astype(jnp.float32).astype(z.dtype) * z, boxes_1(GEN)),
                             ("bool", lambda z: (z > 0.5).astype(z.dtype) + z, boxes_1(GEN))],
    "reduce_precision": [("bf16", lambda z: lax.reduce_precision(z, exponent_bits=8, mantissa_bits=7), boxes_1(GEN))],
    "dot_general": [("matvec", lambda z: jnp.asarray(A3, z.dtype) @ jnp.tanh(z), boxes_3(GEN)),
                    ("outer", lambda z: (z[:, None] * z[None, :]) @ z, boxes_3(GEN))],
    "reduce_sum": [("sum", lambda z: jnp.sum(z * z) + z, boxes_3(GEN))],
    "reduce_max": [("max", lambda z: jnp.max(z) + z, boxes_3(GEN))],
    "reduce_min": [("min", lambda z: jnp.min(jnp.sin(z)) * z, boxes_3(GEN))],
    "reduce_prod": [("prod", lambda z: jnp.prod(z) + z, boxes_3(GEN))],
    "reduce_and": [("all", lambda z: jnp.where(jnp.all(z > 0.0), z, -z), boxes_3(GEN))],
    "reduce_or": [("any", lambda z: jnp.where(jnp.any(z > 0.0), z, -z), boxes_3(GEN))],
    "cumsum": [("cumsum", lambda z: jnp.cumsum(jnp.exp(z)), boxes_3(GEN))],
    "sort": [("sort", lambda z: jnp.sort(z * z[::-1]), boxes_3(GEN))],
    "broadcast_in_dim": [("bcast", lambda z: jnp.broadcast_to(z[0], (3,)) * z, boxes_3(GEN))],
    "concatenate": [("concat", lambda z: jnp.concatenate([z, jnp.sin(z[:1])]), boxes_3(GEN))],
    "dynamic_slice": [("dslice", lambda z: lax.dynamic_slice(z, (1,), (2,)) * z[0], boxes_3(GEN))],
    "dynamic_update_slice": [("dus", lambda z: lax.dynamic_update_slice(z, z[:1] * 2.0, (1,)), boxes_3(GEN))],
    "gather": [("gather", lambda z: z[jnp.array([2, 0, 1])] * z, boxes_3(GEN))],
    "pad": [("pad", lambda z: jnp.pad(z, (1, 1), constant_values=0.5) * 2.0, boxes_3(GEN))],
    "reshape": [("reshape", lambda z: jnp.outer(z, z).reshape(-1), boxes_3(GEN))],
    "rev": [("rev", lambda z: z[::-1] * z, boxes_3(GEN))],
    "scatter": [("scatter", lambda z: z.at[jnp.array([0, 2])].set(z[:2] * 2.0), boxes_3(GEN))],
    "scatter-add": [("scatter_add", lambda z: z.at[jnp.array([0, 2])].add(z[:2]), boxes_3(GEN))],
    "slice": [("slice", lambda z: z[1:] * z[:2], boxes_3(GEN))],
    "split": [("split", lambda z: jnp.concatenate(jnp.split(z, [1])[::-1]) * z, boxes_3(GEN))],
    "squeeze": [("squeeze", lambda z: z[0] * z, boxes_3(GEN))],
    "stack": [("stack", lambda z: jnp.stack([z[0] * z[1], jnp.cos(z[2])]), boxes_3(GEN))],
    "tile": [("tile", lambda z: jnp.tile(z, 2), boxes_3(GEN))],
    "transpose": [("transpose", lambda z: jnp.outer(z, z).T.reshape(-1), boxes_3(GEN))],
    "scan": [("fori", lambda z: lax.fori_loop(0, 3, lambda i, v: 0.5 * v + jnp.sin(v), z), boxes_3(GEN))],
    "while": [("while", lambda z: lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1, jnp.tanh(c[1]) + c[1]),
                                                  (0, z))[1], boxes_3(GEN))],
}
REFUSED = {"argmax", "argmin"}  # index-valued: refused when box-dependent (see test_interval.py)
FLAT = [(name, label, f, boxes) for name, cases in CASES.items() for label, f, boxes in cases]


def _names(prog, acc):
    from certify._interval._ir import program_of as sub_program

    for op in prog.ops:
        acc.add(op.name)
        for key in ("branches", "jaxpr", "cond_jaxpr", "body_jaxpr"):
            val = op.params.get(key)
            subs = val if isinstance(val, tuple | list) else [val] if val is not None else []
            for s in subs:
                _names(sub_program(s), acc)
    return acc


def test_every_rule_has_a_case_that_uses_it():
    missing = set(RULES) - set(CASES) - REFUSED
    assert not missing, f"rules without a property case: {sorted(missing)}"
    for name, label, f, boxes in FLAT:
        lo = jnp.asarray(boxes[0][0])
        prog = program_of(jax.make_jaxpr(f)(lo))
        assert name in _names(prog, set()), (name, label)


def inside(lo, v, hi):
    """``lo <= v <= hi`` up to the oracle's rounding (exactly for infinite ``v``)."""
    with np.errstate(invalid="ignore"):
        t = ORACLE_TOL * (1.0 + np.abs(v))
        fin = (lo <= v + t) & (v - t <= hi)
    return np.where(np.isfinite(v), fin, (lo <= v) & (v <= hi))


def _points(lo, hi, rng, dtype):
    n = lo.shape[0]
    corners = np.where(rng.uniform(size=(4, n)) < 0.5, lo, hi)
    pts = np.concatenate([lo + (hi - lo) * rng.uniform(size=(160, n)), corners, [lo, hi]])
    return np.clip(pts.astype(dtype), lo.astype(dtype), hi.astype(dtype))


# float32 boxes (the same enclosures over rounded corners) for every rule in the slow suite; float64 by default.
@pytest.mark.parametrize("dtype", [np.float64, pytest.param(np.float32, marks=pytest.mark.slow)])
@pytest.mark.parametrize(("name", "label", "f", "boxes"), FLAT, ids=[f"{c[0]}-{c[1]}" for c in FLAT])
def test_rule_enclosures_contain_sampled_values_and_derivatives(name, label, f, boxes, dtype):
    rng = np.random.default_rng(abs(hash((name, label))) % 2**32)
    val64 = jax.jit(jax.vmap(f))
    jac64 = jax.jit(jax.vmap(jax.jacfwd(f)))
    for lo, hi in boxes:
        lo_t, hi_t = lo.astype(dtype), hi.astype(dtype)
        e = interval_enclosure(f, jnp.asarray(lo_t), jnp.asarray(hi_t))
        flo, fhi, jlo, jhi = (np.asarray(x, np.float64) for x in (e.flo, e.fhi, e.jlo, e.jhi))
        flagged = np.asarray(e.nan) >= 1
        pts = jnp.asarray(_points(lo, hi, rng, dtype).astype(np.float64))
        with np.errstate(invalid="ignore"):
            v = np.asarray(val64(pts))
            j = np.asarray(jac64(pts))
        # A NaN value anywhere must be flagged; unflagged entries must be non-NaN and inside.
        nan_seen = np.any(np.isnan(v), axis=0)
        assert np.all(flagged[nan_seen]), (name, label, lo, hi)
        assert np.all(np.isnan(flo[flagged]))
        assert np.all(np.isnan(jlo[flagged]))
        ok = ~flagged
        # The oracle itself rounds: JAX's float64 formulas (1 - tanh^2 at x = 40 gives 0 where
        # the true sech^2 is 7e-35) err by a few eps of the terms' size, hence ORACLE_TOL.
        assert np.all(inside(flo[ok], v[:, ok], fhi[ok])), (name, label, lo, hi)
        # Derivatives where JAX's value is finite (its rule may give NaN, e.g. 0 * inf in where).
        jok = ok[..., None] & np.isfinite(j) & np.isfinite(v)[..., None]
        assert not np.any(~inside(jlo[None], j, jhi[None]) & jok), (name, label, lo, hi)
