"""Random JAX programs for the soundness fuzzer over programs (issue 19), and their checks.

A program is a *plan*: a list of steps drawn from a grammar of constructs (every rule of the
interval engine's table, every pattern and its near misses, casts, NaN/inf constants,
out-of-bounds indexing, cancellation), each applied to the current value, optionally inside a
sub-program (``fori_loop``, ``scan``, ``while_loop``, ``cond``/``switch``, ``custom_jvp``,
``custom_vjp``, nested ``jit``, ``checkpoint``). :func:`build` turns a plan into ``F: R^d -> R^d``,
``F(x) = 2 x + c * out(x)``, in three modes:

* ``"jax"``: as a user writes it (wrong ``custom_jvp`` rules, ``stop_gradient``, deliberate rounding);
* ``"true"``: the same values with the true derivative (no custom rules, no ``stop_gradient``),
  the oracle of the Jacobian claims;
* ``"exact"``: ``"true"`` without deliberate rounding (casts to ``bfloat16``/``float32``,
  ``(v + 1e20) - 1e20``), the float64 stand-in for ``F`` in exact arithmetic against which the
  floating-point claim ``|F_jax - F| <= eps`` is checked.

:func:`check_enclosure` checks an interval enclosure and a rounding bound against dense samples:
values, NaN/inf flags, the Jacobian (where finite) and Lipschitz continuity along close pairs (a
missed jump fails it), and ``|F_jax - F_exact| <= eps``, with ``F_jax`` both jitted (constants folded)
and op by op (no jit: XLA's CPU code flushes subnormal constants). Used by ``test_sound_fuzz_programs.py``
(default and slow suites).

*Families* (:func:`check_family`): one plan checked over many region boxes
(:data:`REGION_KINDS`: unit, edges at +0.0/-0.0, wide ranges that overflow, huge, tiny, subnormal
edges and boxes, edges at the grammar's thresholds) with one compilation of the interval engine,
the cost that dominates (about a second per structure of F); :func:`judge_box` is the per-box check.
"""

from __future__ import annotations

import dataclasses
import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from certify._interval import NotEnclosable, _ir, _patterns
from certify._interval._interpreter import interval_enclosure, interval_rounding_error
from certify.bounds._sound import tighten

# --------------------------------------------------------------------------------------------
# The grammar: constructs applied to the current value ``v`` (float64, any shape) given ``x``.
# --------------------------------------------------------------------------------------------

ELEMENTARY = {
    "sin": (jnp.sin, None), "cos": (jnp.cos, None), "tan": (jnp.tan, (-1.2, 1.2)), "tanh": (jnp.tanh, None),
    "logistic": (jax.nn.sigmoid, None), "exp": (jnp.exp, None), "exp2": (jnp.exp2, None),
    "expm1": (jnp.expm1, None), "log": (jnp.log, (0.1, 3.0)), "log1p": (jnp.log1p, (-0.9, 3.0)),
    "sqrt": (jnp.sqrt, (0.05, 3.0)), "rsqrt": (lax.rsqrt, (0.1, 3.0)), "cbrt": (jnp.cbrt, (0.1, 3.0)),
    "sinh": (jnp.sinh, None), "cosh": (jnp.cosh, None), "atan": (jnp.arctan, None), "asinh": (jnp.arcsinh, None),
    "asin": (jnp.arcsin, (-0.9, 0.9)), "acos": (jnp.arccos, (-0.9, 0.9)), "atanh": (jnp.arctanh, (-0.9, 0.9)),
    "acosh": (jnp.arccosh, (1.1, 3.0)), "erf": (lax.erf, None), "erfc": (lax.erfc, None),
    "erf_inv": (lax.erf_inv, (-0.9, 0.9)),
}  # fmt: skip


def _squash(v, dom, rng_state):
    """Maps ``v`` into ``dom`` (inside), or deliberately across its edge (``cross``)."""
    lo, hi = dom
    cross, = rng_state
    mid, half = 0.5 * (lo + hi), 0.5 * (hi - lo)
    t = mid + half * jnp.tanh(v)
    return t - (1.5 * half if cross else 0.0)


def _fit(u, shape):
    """``u`` flattened and resized (cycled) to ``shape``."""
    flat = u.reshape(-1)
    n = math.prod(shape)
    reps = -(-n // flat.shape[0])
    return jnp.tile(flat, reps)[:n].reshape(shape)


def _c(p, k, default=0.5):
    return p.get(k, default)


@dataclasses.dataclass(frozen=True)
class Step:
    """One construct with its drawn parameters and an optional sub-program wrapper."""

    name: str
    params: dict
    wrapper: str | None = None


def _elementary(name):
    f, dom = ELEMENTARY[name]

    def draw(rng):
        scale = float(rng.choice([0.5, 1.0, 3.0, 100.0], p=[0.4, 0.3, 0.2, 0.1]))
        return {"cross": bool(rng.random() < 0.15), "scale": scale}

    def apply(v, x, p, mode):
        if dom is None:
            return f(p["scale"] * v)
        return f(_squash(v, dom, (p["cross"],)))

    return draw, apply


def _no_params(rng):
    return {}


def _coef(rng):
    return {"a": float(rng.uniform(-1, 1)), "b": float(rng.uniform(-1, 1)), "t": float(rng.choice([0.0, 0.3, -0.5]))}


def _other(v, x):
    return _fit(x * x[::-1] + 0.5, v.shape)


CONSTRUCTS: dict[str, tuple] = {}


def construct(name, draw=_no_params):
    def deco(apply):
        CONSTRUCTS[name] = (draw, apply)
        return apply

    return deco


for _name in ELEMENTARY:
    CONSTRUCTS[_name] = _elementary(_name)


@construct("add", _coef)
def _add(v, x, p, mode):
    return v + p["a"] * _other(v, x)


@construct("sub", _coef)
def _subc(v, x, p, mode):
    return v - p["a"] * _other(v, x)


@construct("mul", _coef)
def _mul(v, x, p, mode):
    return v * (p["b"] + _other(v, x))


@construct("div", lambda rng: {"cross": bool(rng.random() < 0.2)})
def _div(v, x, p, mode):
    den = _other(v, x) + (0.0 if p["cross"] else 1.0)
    return v / den


@construct("pow", lambda rng: {"p": float(rng.choice([0.5, 1.5, 2.0, -1.0, 3.0])), "cross": bool(rng.random() < .2)})
def _pow(v, x, p, mode):
    base = jnp.tanh(v) + (0.0 if p["cross"] else 1.5)
    return base ** p["p"]


@construct("pow_xy")
def _pow_xy(v, x, p, mode):
    return (jnp.tanh(v) + 1.5) ** (0.5 + 0.25 * jnp.tanh(_other(v, x)))


@construct("integer_pow", lambda rng: {"k": int(rng.choice([2, 3, -2, 4]))})
def _ipow(v, x, p, mode):
    base = v if p["k"] > 0 else jnp.tanh(v) + 2.0
    return lax.integer_pow(base, p["k"])


@construct("square")
def _square(v, x, p, mode):
    return jnp.square(v)


@construct("neg")
def _neg(v, x, p, mode):
    return -v


@construct("abs", _coef)
def _abs(v, x, p, mode):
    return jnp.abs(v - p["t"])


@construct("max", _coef)
def _max(v, x, p, mode):
    return jnp.maximum(v, p["t"] + 0.0 * v)


@construct("min", _coef)
def _min(v, x, p, mode):
    return jnp.minimum(v, _other(v, x) - 1.0)


@construct("clamp", _coef)
def _clamp(v, x, p, mode):
    return jnp.clip(v, -0.5, 0.5 + abs(p["a"]))


@construct("atan2", lambda rng: {"neg": bool(rng.random() < 0.5), "shift": float(rng.choice([0.0, 2.0]))})
def _atan2(v, x, p, mode):
    y = -v if p["neg"] else v
    return jnp.arctan2(y, _other(v, x) + p["shift"])


@construct("rem")
def _rem(v, x, p, mode):
    return jnp.fmod(v, 3.0)


@construct("step", lambda rng: {"op": str(rng.choice(["sign", "floor", "ceil", "round"]))})
def _step(v, x, p, mode):
    return {"sign": jnp.sign, "floor": jnp.floor, "ceil": jnp.ceil, "round": jnp.round}[p["op"]](v)


@construct("reduce_precision", lambda rng: {"m": int(rng.choice([7, 10, 23]))})
def _reduce_precision(v, x, p, mode):
    return v if mode == "exact" else lax.reduce_precision(v, exponent_bits=8, mantissa_bits=p["m"])


@construct("where_kink", _coef)
def _where_kink(v, x, p, mode):  # continuous: both branches agree at v = t
    return jnp.where(v > p["t"], v - p["t"], p["a"] * (v - p["t"]))


@construct("where_jump", _coef)
def _where_jump(v, x, p, mode):
    return jnp.where(v >= p["t"], v + 1.0, v)


@construct("where_logic", _coef)
def _where_logic(v, x, p, mode):
    m = (v > p["t"]) & (x[0] < 0.5) | ~(v <= -1.0) ^ (x[-1] >= 2.0) | (v == 0.125)
    return jnp.where(m, 0.0 * v + 1.0, 1.0 + 0.0 * v) * v


@construct("nan_guard")
def _nan_guard(v, x, p, mode):
    s = jnp.sqrt(v)
    return jnp.where(jnp.isnan(s), 0.0, s) + jnp.where(jnp.isfinite(v), v, 0.0)


@construct("is_finite_all")
def _is_finite_all(v, x, p, mode):
    return jnp.where(jnp.all(jnp.isfinite(v)) | jnp.any(v > 100.0), v, 0.0)


@construct("outer_mask_loop")
def _outer_mask_loop(v, x, p, mode):  # the predicate of the outer program used in a loop body
    mask = x[0] > 0.0
    return lax.fori_loop(0, 2, lambda i, u: jnp.where(mask, u, -u), v)


@construct("inner_mask_out")
def _inner_mask_out(v, x, p, mode):  # a predicate returned from a scan body used outside
    _, m = lax.scan(lambda c, _: (c, c > 0.0), x[0], None, length=1)
    return jnp.where(m[0], v, -v)


# ---- structural -------------------------------------------------------------------------------


def _as2d(v):
    n = v.size
    r = 2 if n % 2 == 0 and n > 1 else 1
    return v.reshape(r, n // r)


@construct("reshape_transpose")
def _reshape_transpose(v, x, p, mode):
    return _as2d(v).T.reshape(-1) * 1.0


@construct("broadcast", lambda rng: {"axis": int(rng.integers(0, 2))})
def _broadcast(v, x, p, mode):
    u = v.reshape(-1)
    b = jnp.broadcast_to(u[:, None], (u.shape[0], 2)) if p["axis"] else jnp.broadcast_to(u[None, :], (2, u.shape[0]))
    return b * jnp.array([[1.0], [0.5]])[: b.shape[0], :] if p["axis"] == 0 else b * jnp.array([[1.0, 0.5]])


@construct("concat_slice_rev")
def _concat(v, x, p, mode):
    u = v.reshape(-1)
    w = jnp.concatenate([u[::-1], u[1:], x])
    return w[: u.shape[0] + 1]


@construct("pad")
def _pad(v, x, p, mode):
    return jnp.pad(v.reshape(-1), (1, 2), constant_values=0.25)


@construct("gather", lambda rng: {"oob": bool(rng.random() < 0.2)})
def _gather(v, x, p, mode):
    u = v.reshape(-1)
    idx = jnp.array([0, u.shape[0] - 1, (u.shape[0] + 3) if p["oob"] else 0])
    return jnp.take(u, idx, mode="fill")


@construct("dynamic")
def _dynamic(v, x, p, mode):
    u = v.reshape(-1)
    s = lax.dynamic_slice(u, (1,), (max(1, u.shape[0] - 1),)) if u.shape[0] > 1 else u
    return lax.dynamic_update_slice(u, 2.0 * s[:1], (0,))


@construct("scatter")
def _scatter(v, x, p, mode):
    u = v.reshape(-1)
    return u.at[0].set(x[0]).at[jnp.array([0, 0])].add(u[-1])


@construct("split_stack")
def _split_stack(v, x, p, mode):
    u = jnp.concatenate([v.reshape(-1), v.reshape(-1)])
    a, b = jnp.split(u, 2)
    return jnp.stack([a, b * 0.5]).squeeze() if a.shape[0] > 1 else jnp.stack([a, b])[:, 0]


@construct("tile_squeeze")
def _tile(v, x, p, mode):
    return jnp.squeeze(jnp.tile(v.reshape(1, -1), (1, 2)), 0)


@construct("reduce", lambda rng: {"op": str(rng.choice(["sum", "max", "min", "prod", "cumsum"])),
                                  "axis": int(rng.integers(0, 2))})
def _reduce(v, x, p, mode):
    a = _as2d(v)
    ax = p["axis"] if a.ndim > 1 else 0
    if p["op"] == "cumsum":
        return jnp.cumsum(a, axis=ax)
    f = {"sum": jnp.sum, "max": jnp.max, "min": jnp.min, "prod": jnp.prod}[p["op"]]
    return f(jnp.tanh(a), axis=ax)


@construct("sort")
def _sort(v, x, p, mode):
    return jnp.sort(v.reshape(-1))


@construct("argmax", lambda rng: {"min": bool(rng.random() < 0.5)})
def _argmax(v, x, p, mode):
    f = jnp.argmin if p["min"] else jnp.argmax
    return v * 0.0 + f(v.reshape(-1)).astype(v.dtype)


@construct("dot", lambda rng: {"seed": int(rng.integers(0, 1 << 30))})
def _dot(v, x, p, mode):
    u = v.reshape(-1)
    A = np.random.default_rng(p["seed"]).normal(size=(3, u.shape[0]))
    return jnp.asarray(A) @ u + jnp.einsum("i,i->", u, u)


# ---- patterns and their near misses --------------------------------------------------------

_PATTERNS = ("softmax_jax", "softmax_manual", "softmax_wrong_axis", "softmax_temperature", "softmax_extra_shift",
             "log_softmax_jax", "log_softmax_manual", "log_softmax_wrong_axis", "logsumexp_jax", "logsumexp_manual",
             "logsumexp_other_shift", "logaddexp", "softplus_jax", "softplus_manual", "softplus_overflow")


@construct("pattern", lambda rng: {"kind": str(rng.choice(_PATTERNS)), "axis": int(rng.integers(0, 2))})
def _pattern(v, x, p, mode):
    A = _fit(v, (2, 3))
    ax, k = p["axis"], p["kind"]
    if k == "softmax_jax":
        return jax.nn.softmax(A, axis=ax)
    if k == "softmax_manual":
        E = jnp.exp(A)
        return E / E.sum(axis=ax, keepdims=True)
    if k == "softmax_wrong_axis":
        E = jnp.exp(A[:, :2])
        return E / E.sum(axis=1)[None, :]
    if k == "softmax_temperature":
        return jnp.exp(A / 0.5) / jnp.exp(A).sum(axis=ax, keepdims=True)
    if k == "softmax_extra_shift":
        return jnp.exp(A - 1.0) / jnp.exp(A).sum(axis=ax, keepdims=True)
    if k == "log_softmax_jax":
        return jax.nn.log_softmax(A, axis=ax)
    if k == "log_softmax_manual":
        return A - jnp.log(jnp.exp(A).sum(axis=ax, keepdims=True))
    if k == "log_softmax_wrong_axis":
        B = A[:, :2]
        return B - jnp.log(jnp.exp(B).sum(1))[None, :]
    if k == "logsumexp_jax":
        return jax.nn.logsumexp(A, axis=ax)
    if k == "logsumexp_manual":
        s = lax.stop_gradient(A.max(axis=ax, keepdims=True)) if mode == "jax" else A.max(axis=ax, keepdims=True)
        return jnp.log(jnp.exp(A - s).sum(axis=ax)) + s.squeeze(ax)
    if k == "logsumexp_other_shift":
        s = A.max(axis=ax, keepdims=True)
        return jnp.log(jnp.exp(A - s).sum(axis=ax)) + 0.5 * s.squeeze(ax)
    if k == "logaddexp":
        return jnp.logaddexp(A, 0.3 * A[::-1])
    if k == "softplus_jax":
        return jax.nn.softplus(A)
    if k == "softplus_manual":
        return jnp.log1p(jnp.exp(A))
    return jnp.log1p(jnp.exp(100.0 * A)) / 100.0  # overflows on wide regions


# ---- precision, constants, cancellation -----------------------------------------------------


@construct("cast", lambda rng: {"to": str(rng.choice(["bfloat16", "float32", "float16", "int32", "bool"]))})
def _cast(v, x, p, mode):
    if p["to"] == "int32":
        return v.astype(jnp.int32).astype(v.dtype)
    if p["to"] == "bool":
        return v.astype(bool).astype(v.dtype) * v
    if mode == "exact":
        return v
    return v.astype(p["to"]).astype(v.dtype)


@construct("mixed_precision")
def _mixed(v, x, p, mode):
    u = v.astype(jnp.float32) if mode != "exact" else v
    return (jnp.tanh(u) * 2.0 + u).astype(v.dtype)


@construct("cancellation", lambda rng: {"big": float(rng.choice([1e20, 1e8, 1e3]))})
def _cancellation(v, x, p, mode):
    return v if mode == "exact" else (v + p["big"]) - p["big"]


@construct("const_nan_inf", lambda rng: {"kind": str(rng.choice(["nan", "inf", "guarded"]))})
def _const(v, x, p, mode):
    c = jnp.array([1.0, jnp.nan, jnp.inf])
    if p["kind"] == "nan":
        return v + c[1] * 0.0
    if p["kind"] == "inf":
        return v * jnp.minimum(c[2], 2.0)
    return v + jnp.where(jnp.isnan(c[1]), 0.0, 1.0)


@construct("inner_grad")
def _inner_grad(v, x, p, mode):  # a gradient inside F: transposed programs (add_any, ...)
    return jax.grad(lambda u: jnp.sum(jnp.sin(u) * u + u * u[::-1]))(v)


@construct("subnormal_const", lambda rng: {"s": float(rng.choice(SUBNORMALS))})
def _subnormal_const(v, x, p, mode):  # subnormal constants, products and quotients (XLA may flush them)
    s = p["s"]
    if mode == "exact":  # in exact arithmetic v s > 0 iff v > 0, and (v s) / s - v = 0
        return v + jnp.where(v > 0.0, 1.0, 0.0)
    return v + jnp.where(v * s > 0.0, 1.0, 0.0) + (v * s) / s - v


def _underflow_params(rng):
    return {"s": float(rng.choice(SUBNORMALS[:3])), "big": float(rng.choice([1e300, 1e308]))}


@construct("const_underflow", _underflow_params)
def _const_underflow(v, x, p, mode):
    """``v + (c * big) v``, ``c`` a subnormal constant array: jitted, XLA folds ``c * big`` and keeps it.

    Op by op, XLA's CPU code flushes ``c`` to zero. The exact value of ``c * big`` is NumPy's (no flush).
    """
    c = np.full(v.shape, p["s"])
    if mode == "exact":
        return v + jnp.asarray(c * p["big"]) * v
    return v + (jnp.asarray(c) * p["big"]) * v


# ---- wrappers (sub-programs) ---------------------------------------------------------------


@jax.custom_jvp
def _wiggle(t):
    return t + 0.2 * jnp.sin(5.0 * t)


@_wiggle.defjvp
def _wiggle_jvp(primals, tangents):
    return _wiggle(primals[0]), tangents[0]  # wrong: the derivative is 1 + cos(5t)


@jax.custom_vjp
def _cv(t):
    return jnp.tanh(t)


_cv.defvjp(lambda t: (jnp.tanh(t), t), lambda t, g: (g,))  # wrong: the derivative is sech^2


def _wiggle_true(t):
    return t + 0.2 * jnp.sin(5.0 * t)


WRAPPERS = ("fori", "scan", "while", "cond_const", "cond_x", "switch", "custom_jvp", "custom_vjp", "jit", "checkpoint",
            "stop_gradient")


def _wrap(wrapper, f0, v, x, mode):
    if wrapper is None:
        return f0(v)

    def f(u):  # shape- and dtype-preserving, as loop bodies and branches need
        return _fit(f0(u).astype(u.dtype), u.shape)

    if wrapper == "fori":
        return lax.fori_loop(0, 2, lambda i, u: 0.5 * f(u) + 0.5 * u, v)
    if wrapper == "scan":
        out, ys = lax.scan(lambda c, xi: (f(c) * 0.5 + 0.1 * xi, c), v, jnp.arange(2.0))
        return out + 0.1 * ys.sum(0)
    if wrapper == "while":
        return lax.while_loop(lambda c: c[0] < 2, lambda c: (c[0] + 1, 0.5 * f(c[1]) + 0.5 * c[1]), (0, v))[1]
    if wrapper == "cond_const":
        return lax.cond(True, f, lambda u: -u, v)
    if wrapper == "cond_x":
        return lax.cond(x[0] > 0.25, f, lambda u: f(u) + 0.0, v)
    if wrapper == "switch":
        i = jnp.clip(jnp.floor(x[-1]).astype(jnp.int32) + 1, 0, 2)
        return lax.switch(i, [f, f, lambda u: f(u) * 1.0], v)
    if wrapper == "custom_jvp":
        return f(_wiggle(v) if mode == "jax" else _wiggle_true(v))
    if wrapper == "custom_vjp":
        return f(_cv(v) if mode == "jax" else jnp.tanh(v))
    if wrapper == "jit":
        return jax.jit(f)(v)
    if wrapper == "checkpoint":
        return jax.checkpoint(f)(v)
    return f(lax.stop_gradient(v) if mode == "jax" else v)


# --------------------------------------------------------------------------------------------
# Plans and programs.
# --------------------------------------------------------------------------------------------


# Categorical parameters: each value is a focus of its own (coverage of the rules behind it).
CHOICES = {
    "pattern": ("kind", _PATTERNS),
    "reduce": ("op", ("sum", "max", "min", "prod", "cumsum")),
    "step": ("op", ("sign", "floor", "ceil", "round")),
    "cast": ("to", ("bfloat16", "float32", "float16", "int32", "bool")),
    "const_nan_inf": ("kind", ("nan", "inf", "guarded")),
    "argmax": ("min", (False, True)),  # argmax and argmin: each its own rule
}


def foci() -> list:
    """``(construct, forced parameters)`` for every construct and every value of its categorical parameter."""
    out = []
    for name in sorted(CONSTRUCTS):
        key, values = CHOICES.get(name, (None, (None,)))
        out.extend((name, {} if v is None else {key: v}) for v in values)
    return out


@dataclasses.dataclass(frozen=True)
class Plan:
    """A drawn program: dimension, region, steps and the output coefficient."""

    d: int
    lo: np.ndarray
    hi: np.ndarray
    steps: tuple
    coef: float


def draw_plan(rng, *, focus=None, max_steps=3) -> Plan:
    """A random plan; ``focus`` (a construct name, or ``(name, parameters)`` from :func:`foci`) forces one
    construct among the steps (coverage)."""
    if isinstance(focus, str):
        focus = (focus, {})
    d = int(rng.choice([2, 3, 4]))
    kind = rng.random()
    if kind < 0.5:
        lo, hi = -np.ones(d), np.ones(d)
    elif kind < 0.7:  # edges at 0
        lo, hi = np.where(rng.random(d) < 0.5, 0.0, -1.0), np.where(rng.random(d) < 0.5, 0.0, 1.0) + 0.5
        lo = np.minimum(lo, hi - 0.5)
    elif kind < 0.85:  # wide: overflow ranges
        lo, hi = -10.0 * np.ones(d), 10.0 * np.ones(d)
    else:  # tiny
        c = rng.uniform(-1, 1, d)
        lo, hi = c - 1e-3, c + 1e-3
    names = sorted(CONSTRUCTS)
    n_steps = int(rng.integers(1, max_steps + 1))
    steps = []
    for k in range(n_steps):
        name = focus[0] if (focus is not None and k == 0) else str(rng.choice(names))
        draw, _ = CONSTRUCTS[name]
        wrapper = str(rng.choice(WRAPPERS)) if rng.random() < 0.35 else None
        params = draw(rng)
        if focus is not None and k == 0:
            params.update(focus[1])
        steps.append(Step(name, params, wrapper))
    if focus is not None:
        rng.shuffle(steps)
    return Plan(d, lo, hi, tuple(steps), float(rng.choice([0.05, 0.2, 1.0])))


def build(plan: Plan, mode: str = "jax"):
    """``F: R^d -> R^d`` of ``plan`` in ``mode`` (``"jax"``, ``"true"`` or ``"exact"``)."""

    def F(x):
        v = x
        for st in plan.steps:
            _, apply = CONSTRUCTS[st.name]
            f = functools.partial(lambda u, st=st, apply=apply: apply(u, x, st.params, mode))
            v = _wrap(st.wrapper, f, v, x, "jax" if mode == "jax" else "true")
            v = v.astype(x.dtype)
        out = _fit(v, (plan.d,))
        return 2.0 * x + plan.coef * out

    return F


# --------------------------------------------------------------------------------------------
# Coverage: the rules and patterns a program uses.
# --------------------------------------------------------------------------------------------


def _walk(jaxpr, prims):
    for eqn in jaxpr.eqns:
        prims.add(eqn.primitive.name)
        for val in eqn.params.values():
            for sub in val if isinstance(val, list | tuple) else (val,):
                inner = getattr(sub, "jaxpr", sub)
                if hasattr(inner, "eqns"):
                    _walk(inner, prims)


def _patterns_of(closed):
    found = set()
    progs = [_ir.program_of(closed)]
    while progs:
        prog = progs.pop()
        for op in prog.ops:
            m = _patterns.match(prog, op)
            if m is not None:
                found.add(f"pattern:{m.kind}")
            for val in op.params.values():
                for sub in val if isinstance(val, list | tuple) else (val,):
                    if hasattr(sub, "jaxpr") and hasattr(sub, "consts"):
                        progs.append(_ir.program_of(sub))
    return found


def coverage(plan: Plan) -> set:
    """Primitive names (rule table keys) and matched patterns of the program, plus its constructs."""
    closed = jax.make_jaxpr(build(plan))(jnp.zeros(plan.d))
    prims: set = set()
    _walk(closed.jaxpr, prims)
    used = {f"rule:{p}" for p in prims} | _patterns_of(closed)
    used |= {f"construct:{st.name}" for st in plan.steps}
    used |= {f"pattern-case:{st.params['kind']}" for st in plan.steps if st.name == "pattern"}
    used |= {f"wrapper:{st.wrapper}" for st in plan.steps if st.wrapper}
    return used


# --------------------------------------------------------------------------------------------
# Checking an enclosure and a rounding bound against samples.
# --------------------------------------------------------------------------------------------


def sample_points(plan: Plan, rng, n=48):
    """Uniform points, corners, and points on the coordinate planes through 0 and the thresholds."""
    lo, hi = plan.lo, plan.hi
    d = plan.d
    x = lo + (hi - lo) * rng.uniform(size=(n, d))
    corners = np.where(rng.random((8, d)) < 0.5, lo, hi)
    special = lo + (hi - lo) * rng.uniform(size=(16, d))
    for k in range(16):
        j = k % d
        special[k, j] = np.clip(rng.choice([0.0, -0.0, 0.25, -0.5, 0.3]), lo[j], hi[j])
    return np.concatenate([x, corners, special])


@dataclasses.dataclass
class Verdict:
    """What the engine said about one program and whether the samples contradict it."""

    status: str  # "enclosed", "nan" (possibly NaN/inf), "refused", "unbounded"
    violations: list
    rounding: float = float("nan")


def _eval(F, x):
    return np.asarray(jax.jit(jax.vmap(F))(jnp.asarray(x)))


def check_enclosure(plan: Plan, rng) -> Verdict:
    """Encloses ``F`` over the plan's region and checks every claim against samples of plain JAX.

    ``F`` jitted, and op by op (no jit) for the values and the rounding bound.
    """
    F, Ft, Fe = build(plan, "jax"), build(plan, "true"), build(plan, "exact")
    lo, hi = jnp.asarray(plan.lo), jnp.asarray(plan.hi)
    try:
        e = interval_enclosure(F, lo, hi)
    except NotEnclosable:
        return Verdict("refused", [])
    flo, fhi, jlo, jhi, nan = (np.asarray(a) for a in (e.flo, e.fhi, e.jlo, e.jhi, e.nan))
    x = sample_points(plan, rng)
    fx = _eval(F, x)
    evaluations = (("", fx), ("op by op: ", np.asarray(jax.vmap(F)(jnp.asarray(x)))))  # jitted, and without jit
    eps = np.asarray(interval_rounding_error(F, lo, hi))
    viol = []
    maybe_bad = (nan >= 1) | ~np.isfinite(flo) | ~np.isfinite(fhi)
    # Values: a NaN or infinite F must be flagged; finite values must lie in [flo, fhi].
    for how, f in evaluations:
        if np.any(~np.isfinite(f) & ~maybe_bad[None, :]):
            viol.append(how + "F is NaN/inf at a sample where the enclosure says finite")
        tol = 1e-9 * (1.0 + np.abs(f)) + np.where(np.isfinite(eps), eps, 0.0)[None, :]
        ok_v = np.isfinite(f) & ~maybe_bad[None, :]
        if np.any(ok_v & ((f < flo - tol) | (f > fhi + tol))):
            viol.append(how + "a value lies outside [flo, fhi]")
    if np.any(maybe_bad):
        return Verdict("nan", viol)
    # Jacobian (true derivative), where the enclosure is finite.
    J = np.asarray(jax.jit(jax.vmap(jax.jacfwd(Ft)))(jnp.asarray(x)))
    fin_j = np.isfinite(jlo) & np.isfinite(jhi)
    tj = 1e-9 * (1.0 + np.abs(J))
    ok_j = np.isfinite(J) & fin_j[None]
    if np.any(ok_j & ((J < jlo - tj) | (J > jhi + tj))):
        viol.append("a Jacobian entry lies outside [jlo, jhi]")
    # The floating-point claim: |F_jax - F_exact| <= eps (F_exact: float64 without deliberate rounding).
    fe = _eval(Fe, x)
    for how, f in evaluations:
        if np.any(np.isfinite(f) & np.isfinite(fe) & (np.abs(f - fe) > eps[None, :] + 1e-12 * (1.0 + np.abs(fe)))):
            viol.append(how + "|F_jax - F_exact| exceeds the rounding bound")
    both = np.isfinite(fx) & np.isfinite(fe)
    if not np.all(fin_j):
        return Verdict("unbounded", viol, float(np.max(eps)))
    # Lipschitz along close pairs (a jump the enclosure missed breaks it), for F_exact.
    mag = np.maximum(np.abs(jlo), np.abs(jhi))
    for delta in (1e-3, 1e-6):
        step = rng.normal(size=x.shape)
        y = np.clip(x + delta * step / np.linalg.norm(step, axis=1, keepdims=True), plan.lo, plan.hi)
        fy = _eval(Fe, y)
        bound = np.abs(x - y) @ mag.T
        slack = bound + 1e-9 * (1.0 + np.abs(fe)) - np.abs(fe - fy)
        if np.any(np.isfinite(fy) & both & (slack < 0)):
            viol.append(f"|F(x) - F(y)| exceeds the enclosure's Lipschitz bound at distance {delta}")
    return Verdict("enclosed", viol, float(np.max(eps)))


# --------------------------------------------------------------------------------------------
# Families: one program structure, many region boxes (one compilation of the engine).
# --------------------------------------------------------------------------------------------
#
# Compiling the interval engine's program costs about a second per structure of F, and evaluating
# it costs milliseconds per box; the engine is vmapped over boxes. A *family* is one drawn plan
# with ``FAMILY_BOXES`` region boxes of every kind below: one compilation (of the enclosure and
# rounding programs) serves the checks of all its boxes and the certificates of all of them (the
# sound bounds pad their boxes to the same batch, ``certify/bounds/_sound.py`` ``_MIN_BATCH``, so
# ``certify.certify`` finds the compiled programs in ``compile_enclosure``'s cache). Each (plan, box)
# pair is one *case*.

FAMILY_BOXES = 32

# Subnormal float64 values (the smallest, one in the middle of the range, just below the
# smallest normal 2.2250738585072014e-308) and a float32 subnormal (below 1.1754944e-38).
SUBNORMALS = (5e-324, 1e-310, 2.2250738585072e-308, 1e-40)

# Where the grammar's functions switch, jump or have branch cuts: 0 (sign, abs, atan2, sqrt,
# where_*), 0.25 (``cond_x``), -1, 1 and 0 (``switch`` floors), 0.5 and 2 (``where_logic``),
# 0.3 and -0.5 (drawn ``t``).
THRESHOLDS = (0.0, -0.0, 0.25, -1.0, 1.0, 0.5, 2.0, 0.3, -0.5)

REGION_KINDS = ("unit", "zero_edge", "wide", "huge", "tiny", "subnormal", "threshold")


def draw_box(rng, d: int, kind: str):
    """One region box ``(lo, hi)`` of ``kind`` (see :data:`REGION_KINDS`)."""
    ones = np.ones(d)
    if kind == "unit":
        return -ones, ones.copy()
    if kind == "zero_edge":  # an edge at +0.0 or -0.0 (signed zero on a branch cut)
        z = float(rng.choice([0.0, -0.0]))
        lo = np.where(rng.random(d) < 0.5, z, -1.0)
        hi = np.where(rng.random(d) < 0.5, z, 1.0) + 0.0 * lo
        hi = np.where(hi <= lo, lo + 0.5, hi)
        return lo, hi
    if kind == "wide":  # exp(100 x), sinh, cosh overflow
        w = float(rng.choice([10.0, 100.0, 800.0]))
        return -w * ones, w * ones
    if kind == "huge":
        w = float(rng.choice([1e10, 1e100]))  # wider: the checker's squares overflow
        return -w * ones, np.where(rng.random(d) < 0.5, 1.0, w)
    if kind == "tiny":
        c = np.where(rng.random(d) < 0.3, 0.0, rng.uniform(-1, 1, d))
        r = float(rng.choice([1e-3, 1e-8]))
        return c - r, c + r
    if kind == "subnormal":  # edges and whole boxes among the subnormals
        lo, hi = -ones, ones.copy()
        for j in range(d):
            s = float(rng.choice(SUBNORMALS))
            lo[j], hi[j] = [(0.0, s), (-s, s), (s, 2.0 * s if s < 1e-308 else 1.0), (-1.0, -s), (s, 1.0),
                            (-s, 0.0)][int(rng.integers(0, 6))]  # fmt: skip
        return lo, hi
    # threshold: each coordinate's box has an edge at a switching point (or is one ulp wide there)
    lo, hi = -ones, ones.copy()
    for j in range(d):
        t = float(rng.choice(THRESHOLDS))
        edges = [(t, t + 1.0), (t - 1.0, t), (t - 1e-9, t + 1e-9), (t, np.nextafter(t, np.inf))]
        lo[j], hi[j] = edges[int(rng.integers(0, 4))]
    return lo, hi


def family_boxes(rng, d: int, n: int = FAMILY_BOXES):
    """``(blo, bhi, kinds)``: ``n`` boxes, the kinds cycled from a random start."""
    start = int(rng.integers(0, len(REGION_KINDS)))
    kinds = [REGION_KINDS[(start + k) % len(REGION_KINDS)] for k in range(n)]
    boxes = [draw_box(rng, d, k) for k in kinds]
    return np.stack([b[0] for b in boxes]), np.stack([b[1] for b in boxes]), kinds


def box_points(lo, hi, rng, n=40):
    """Points of one box: uniform, corners, and coordinates at 0, -0.0, subnormals and thresholds."""
    d = lo.shape[0]
    width = hi - lo
    x = lo + width * rng.uniform(size=(n, d))
    corners = np.where(rng.random((8, d)) < 0.5, lo, hi)
    special = lo + width * rng.uniform(size=(16, d))
    values = np.array([*THRESHOLDS, *SUBNORMALS, *(-s for s in SUBNORMALS)])
    for k in range(16):
        j = k % d
        v = float(rng.choice(values))
        special[k, j] = v if lo[j] <= v <= hi[j] else (lo[j] if k % 2 else hi[j])
    return np.concatenate([x, corners, special])


class Batched:
    """``jit(vmap(fn))`` on rows, always called on chunks of ``chunk`` rows (one compilation)."""

    def __init__(self, fn, chunk=512):
        self.fn = jax.jit(jax.vmap(fn))
        self.chunk = chunk

    def __call__(self, x, theta=None):
        x = np.asarray(x, np.float64)
        n = x.shape[0]
        size = max(1, -(-n // self.chunk)) * self.chunk
        xp = np.concatenate([x, np.repeat(x[:1], size - n, axis=0)]) if size > n else x
        out = [np.asarray(self.fn(jnp.asarray(xp[k:k + self.chunk]))) for k in range(0, size, self.chunk)]
        return np.concatenate(out)[:n]


@dataclasses.dataclass
class Family:
    """A plan, its boxes, its three functions (batched) and the engine's results per box."""

    plan: Plan
    blo: np.ndarray
    bhi: np.ndarray
    kinds: list
    F: Batched  # F as JAX computes it
    Fe: Batched  # F in exact arithmetic (float64 stand-in), true derivative
    J: Batched  # true Jacobian (of the "true" mode)
    verdicts: list
    affine: bool = False  # whether the affine-form enclosure applied (and was intersected in)
    eager: object = None  # F as JAX computes it op by op (no jit: constants not folded, subnormals flushed)

    def values(self, x):
        """``(F jitted, F op by op)`` at the rows of ``x``: the two ways JAX computes ``F``."""
        with np.errstate(invalid="ignore"):
            return self.F(x), np.asarray(self.eager(jnp.asarray(np.asarray(x, np.float64))))


def _enclose_family(plan, blo, bhi):
    """``(Enclosure, Rounding)`` of every box from the compiled engine programs, or None if refused."""
    from certify._interval._interpreter import compile_enclosure

    try:
        comp, dyn = compile_enclosure(build(plan), plan.d, jnp.float64, rounding=True)
        return comp(dyn, blo, bhi, rounding=True)
    except NotEnclosable:
        return None


def _affine_family(plan, blo, bhi):
    """``(alo, ahi)``: the affine-form Jacobian enclosures of every box (as the sound bounds intersect
    them in, :class:`certify.bounds._sound._AffineJacobian`), or None where that form does not apply."""
    from certify.bounds._sound import _AffineJacobian

    aff = _AffineJacobian.of(build(plan), plan.d, jnp.float64)
    return None if aff is None else aff(blo, bhi)  # None also over the memory budget


def judge_box(enc, eps, x, f, g, J, pairs, J_inward=None) -> Verdict:
    """The verdict on one box's enclosure ``enc = (flo, fhi, jlo, jhi, nan)`` and rounding bound ``eps``.

    ``x``: the box's points; ``f``, ``g``, ``J``: F as JAX computes it, F exact, the true Jacobian
    there; ``pairs``: ``[(y, F_exact(y))]`` with ``y`` close to ``x`` inside the box; ``J_inward``: the
    true Jacobian at ``x`` moved a step into the box off its faces (``None``: not judged).
    """
    flo, fhi, jlo, jhi, nan = enc
    viol = []
    maybe_bad = (nan >= 1) | ~np.isfinite(flo) | ~np.isfinite(fhi)
    if np.any(~np.isfinite(f) & ~maybe_bad[None, :]):
        viol.append("F is NaN/inf at a sample where the enclosure says finite")
    tol = 1e-9 * (1.0 + np.abs(f)) + np.where(np.isfinite(eps), eps, 0.0)[None, :]
    ok_v = np.isfinite(f) & ~maybe_bad[None, :]
    if np.any(ok_v & ((f < flo - tol) | (f > fhi + tol))):
        viol.append("a value lies outside [flo, fhi]")
    if np.any(maybe_bad):
        return Verdict("nan", viol)
    fin_j = np.isfinite(jlo) & np.isfinite(jhi)

    def outside(J):
        tj = 1e-9 * (1.0 + np.abs(J))
        return np.isfinite(J) & fin_j[None] & ((J < jlo - tj) | (J > jhi + tj))

    # On a face of the box the derivative is F's within the box (a kink of max(x, -0.5) on the face
    # x = -0.5 has slope 1 there, JAX's tie rule says 0.5): the entry may hold one step inside instead.
    if np.any(outside(J) & (True if J_inward is None else outside(J_inward))):
        viol.append("a Jacobian entry lies outside [jlo, jhi]")
    both = np.isfinite(f) & np.isfinite(g)
    if np.any(both & (np.abs(f - g) > eps[None, :] + 1e-12 * (1.0 + np.abs(g)))):
        viol.append("|F_jax - F_exact| exceeds the rounding bound")
    if not np.all(fin_j):
        return Verdict("unbounded", viol, float(np.max(eps)))
    mag = np.maximum(np.abs(jlo), np.abs(jhi))
    # The pair is judged on the float64 stand-in of exact F, which is off by up to the rounding bound at
    # each point: |F(x) - F(y)| <= L |x - y| holds for exact F, so the stand-in's gap may exceed it by two
    # of those. (Seen: F_0 = 2 x_0 + sin(expm1(100 x_2)), slope 7.2e12 across 28 ulps of x_2 = 0.25, where
    # 100 x_2 rounds to 3.6e-15: the stand-in's difference is 1% off, 1e-4 of 1.1e-2; rounding bound 3.3e-2.)
    noise = 2.0 * np.where(np.isfinite(eps), eps, 0.0)[None, :]
    for y, fy in pairs:
        with np.errstate(over="ignore"):  # a bound that overflows is +inf: true, and no violation
            slack = np.abs(x - y) @ mag.T + 1e-9 * (1.0 + np.abs(g)) + noise - np.abs(g - fy)
        if np.any(np.isfinite(fy) & both & (slack < 0)):
            viol.append("|F(x) - F(y)| exceeds the enclosure's Lipschitz bound at a close pair")
    return Verdict("enclosed", viol, float(np.max(eps)))


def check_family(plan: Plan, blo, bhi, kinds, rng) -> Family:
    """Encloses ``plan``'s program over every box (one compilation) and checks every box's claims.

    Where the affine-form enclosure applies, the Jacobian enclosure judged is its intersection with the
    engine's (as in the sound bounds). Per box, against its :func:`box_points` evaluated by plain JAX
    (jitted, and op by op without jit: constants unfolded, subnormal ones flushed),
    :func:`judge_box`: NaN/inf flags, values in ``[flo - eps, fhi + eps]``, the true Jacobian in
    ``[jlo, jhi]``, ``|F_jax - F_exact| <= eps`` (the rounding pass) and Lipschitz continuity of
    ``F_exact`` along close pairs (distances 1e-3 and 1e-6 of the box's width) with the enclosure's
    Jacobian bound (a jump the enclosure missed breaks it).
    """
    fam = Family(plan, blo, bhi, kinds, Batched(build(plan, "jax")), Batched(build(plan, "exact")),
                 Batched(jax.jacfwd(build(plan, "true"))), [], eager=jax.vmap(build(plan, "jax")))  # fmt: skip
    nb = blo.shape[0]
    chunks = range(0, nb, FAMILY_BOXES)  # the compiled batch: the same shape as the sound bounds' calls
    parts = [_enclose_family(plan, blo[k:k + FAMILY_BOXES], bhi[k:k + FAMILY_BOXES]) for k in chunks]
    if any(r is None for r in parts):
        fam.verdicts = [Verdict("refused", []) for _ in range(nb)]
        return fam
    enc = [np.concatenate([getattr(r[0], f) for r in parts]) for f in ("flo", "fhi", "jlo", "jhi", "nan")]
    aff = _affine_family(plan, blo, bhi)
    if aff is not None:  # every check below then judges the intersection the certificates rest on
        fam.affine = True
        enc[2], enc[3] = tighten(enc[2], enc[3], aff[0].reshape(enc[2].shape), aff[1].reshape(enc[3].shape))
    err = np.concatenate([r[1].err for r in parts])
    pts = [box_points(blo[b], bhi[b], rng) for b in range(nb)]
    m = pts[0].shape[0]
    x = np.concatenate(pts)
    fj, fo = fam.values(x)
    fx, fo, fe = fj.reshape(nb, m, -1), fo.reshape(nb, m, -1), fam.Fe(x).reshape(nb, m, -1)
    J = fam.J(x).reshape(nb, m, fx.shape[-1], plan.d)
    lo_rows, hi_rows, width = np.repeat(blo, m, axis=0), np.repeat(bhi, m, axis=0), np.repeat(bhi - blo, m, axis=0)
    with np.errstate(over="ignore", invalid="ignore"):  # a step of 1e-9 of the width into the box, off its faces
        inward = np.where(x == lo_rows, 1.0, np.where(x == hi_rows, -1.0, 0.0)) * 1e-9 * width
        x_in = np.where(np.isfinite(inward), np.clip(x + inward, lo_rows, hi_rows), x)
    J_in = fam.J(x_in).reshape(J.shape)
    ys = []
    for delta in (1e-3, 1e-6):
        step = rng.normal(size=x.shape)
        ys.append(np.clip(x + delta * width * step / np.linalg.norm(step, axis=1, keepdims=True), lo_rows, hi_rows))
    fys = fam.Fe(np.concatenate(ys)).reshape(len(ys), nb, m, -1)
    ys = np.stack(ys).reshape(len(ys), nb, m, plan.d)
    xs = x.reshape(nb, m, plan.d)
    for b in range(nb):
        pairs = [(ys[k, b], fys[k, b]) for k in range(len(ys))]
        v = judge_box([e[b] for e in enc], err[b], xs[b], fx[b], fe[b], J[b], pairs, J_inward=J_in[b])
        op_by_op = judge_box([e[b] for e in enc], err[b], xs[b], fo[b], fe[b], J[b], [], J_inward=J_in[b])
        v.violations += [f"op by op: {w}" for w in op_by_op.violations if w not in v.violations]
        fam.verdicts.append(v)
    return fam
