r"""Affine (first-order Taylor-model) enclosures of a smooth program over a box.

For a box :math:`X=\{c+r\circ\delta:\ \delta\in[-1,1]^n\}` every value :math:`v` of a program is
carried as an *affine form*

.. math::

   v(x)\in v_0+\sum_k g_k\,\delta_k+[-e,e]\qquad\text{for all }x\in X,

a centre :math:`v_0`, one coefficient per input direction and a nonnegative remainder :math:`e`
(all entry-wise). Linear operations act exactly on the forms; a product keeps its bilinear
part in the remainder, :math:`|ab-(a_0b_0+a_0\,g^b\delta+b_0\,g^a\delta)|\le|a_0|e_b+|b_0|e_a
+\rho_a\rho_b` with :math:`\rho=\sum_k|g_k|+e`; a smooth :math:`f` is linearised at the centre,
:math:`f(u)=f(u_0)+s\,(u-u_0)+\varphi(u)` with :math:`s=f'(u_0)` and
:math:`|\varphi(u)|=|\int_{u_0}^u(f'(t)-s)\,dt|` bounded piece-wise with the sharp derivative
ranges of :mod:`certify._interval._arith` over the form's range. Unlike interval propagation,
values that depend on the same inputs stay correlated, so the overestimation is second order
in the box radius (Comba & Stolfi 1993; de Figueiredo & Stolfi 2004; the first-order Taylor
models of Makino & Berz 2003).

Every floating-point operation is accounted for: the rounding of centres and coefficients goes
into the remainder (a few units of :math:`2^{-53}` times the magnitudes of the terms, more for
sums and dot products of length :math:`m`, and the measured accuracy of the transcendental
functions), and remainders are rounded up. Float64 only.

Only smooth programs are taken: the primitives of :data:`LINEAR`, :data:`STRUCTURAL`,
products, quotients, integer powers, dot products, sums and the elementary functions of
:data:`certify._interval._arith.ELEMENTARY`. Branches on box-dependent values, loops, casts to
other float types and anything else raise :class:`NotAffine` when traced; a form whose remainder
is not finite (a domain edge, overflow) is unbounded. Constants may be traced (arguments of the
compiled program): they are exact, and only their use as predicates, indices or pad values is
refused. The drivers use the result only to
*tighten* the interval engine's enclosure (:mod:`certify.bounds._sound`), by intersection.

References:
  Comba & Stolfi, *Affine arithmetic and its applications to computer graphics*, SIBGRAPI 1993.
  de Figueiredo & Stolfi, *Affine arithmetic: concepts and applications*, Numer. Algorithms 37, 2004.
  Makino & Berz, *Taylor models and other validated functional inclusion methods*, IJPAM 4, 2003.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from certify._interval import _arith, _ir
from certify._interval._rules import EXACT_ON_POINTS

__all__ = ["NotAffine", "affine_range"]

_U = 2.0**-53  # unit roundoff of float64
_TINY = float(np.finfo(np.float64).tiny)
_TRANS = _arith.TRANS_ULPS * 2.0**-52  # relative accuracy of XLA's float64 transcendental functions
_PIECES = 4  # pieces per side of the centre in the remainder of a smooth function

STRUCTURAL = frozenset({"broadcast_in_dim", "reshape", "transpose", "squeeze", "slice", "concatenate",
                        "rev", "select_n", "convert_element_type", "split", "tile"})  # fmt: skip
LINEAR = frozenset({"neg", "add", "add_any", "sub", "reduce_sum"})


class NotAffine(NotImplementedError):
    """The program has a construct without an affine rule (a branch on the box, a loop, ...)."""


@dataclasses.dataclass
class Aff:
    """``c + g @ delta + [-e, e]``: ``g`` has a trailing axis of length ``n`` (``None``: zero); ``e`` ``None``: 0."""

    c: Any
    g: Any = None
    e: Any = None

    @property
    def exact(self) -> bool:
        return self.g is None and self.e is None


def _is_tracer(x) -> bool:
    return isinstance(x, jax.core.Tracer)


def _up(x, k):
    """``x`` (a nonnegative float64 sum of ``k`` rounded terms) rounded up: ``(1 + 2(k + 2) u) x + tiny``."""
    return x * (1.0 + 2.0 * (k + 2) * _U) + _TINY


def _abs_sum(g, n):
    """``sum_k |g_k|`` rounded up (``0`` for ``None``)."""
    return 0.0 if g is None else _up(jnp.sum(jnp.abs(g), axis=-1), n)


def _plus(*xs):
    xs = [x for x in xs if x is not None]
    if not xs:
        return None
    out = xs[0]
    for x in xs[1:]:
        out = out + x
    return out


class _Interp:
    def __init__(self, n: int):
        self.n = n

    # -- helpers ------------------------------------------------------------------------------

    def rad(self, a: Aff):
        """``sum |g| + e``: the form's radius about its centre (rounded up)."""
        return _up(_abs_sum(a.g, self.n) + (0.0 if a.e is None else a.e), 2)

    def bcast_g(self, a: Aff, shape):
        if a.g is None:
            return None
        g = a.g.reshape((1,) * (len(shape) - (a.g.ndim - 1)) + a.g.shape)
        return jnp.broadcast_to(g, tuple(shape) + (self.n,))

    # -- rules --------------------------------------------------------------------------------

    def linear(self, name, params, ins: list[Aff]) -> Aff:
        if name == "neg":
            (a,) = ins
            return Aff(-a.c, None if a.g is None else -a.g, a.e)
        if name == "reduce_sum":
            (a,) = ins
            axes = tuple(params["axes"])
            m = math.prod(a.c.shape[i] for i in axes) if axes else 1
            c = jnp.sum(a.c, axis=axes)
            g = None if a.g is None else jnp.sum(a.g, axis=axes)
            e_in = None if a.e is None else jnp.sum(a.e, axis=axes)
            terms = jnp.sum(jnp.abs(a.c), axis=axes)
            if a.g is not None:
                terms = terms + jnp.sum(_abs_sum(a.g, self.n), axis=axes)
            e = _up(_plus(e_in, 2.0 * (m + 1) * _U * terms), m + 1)
            return Aff(c, g, e)
        a, b = ins
        shape = jnp.broadcast_shapes(jnp.shape(a.c), jnp.shape(b.c))
        sign = -1.0 if name == "sub" else 1.0
        c = a.c + sign * b.c
        ga, gb = self.bcast_g(a, shape), self.bcast_g(b, shape)
        g = ga if gb is None else (sign * gb if ga is None else ga + sign * gb)
        terms = jnp.abs(a.c) + jnp.abs(b.c) + _abs_sum(ga, self.n) + _abs_sum(gb, self.n)
        return Aff(c, g, _up(_plus(a.e, b.e, 2.0 * _U * terms), 3))

    def mul(self, a: Aff, b: Aff) -> Aff:
        shape = jnp.broadcast_shapes(jnp.shape(a.c), jnp.shape(b.c))
        ga, gb = self.bcast_g(a, shape), self.bcast_g(b, shape)
        c = a.c * b.c
        bca, bcb = jnp.broadcast_to(a.c, shape)[..., None], jnp.broadcast_to(b.c, shape)[..., None]
        g = _plus(None if gb is None else bca * gb, None if ga is None else bcb * ga)
        ac, bc = jnp.abs(a.c), jnp.abs(b.c)
        sa, sb = _abs_sum(ga, self.n), _abs_sum(gb, self.n)
        ra, rb = self.rad(a), self.rad(b)
        second = None if (a.exact or b.exact) else ra * rb
        e = _plus(None if b.e is None else ac * b.e, None if a.e is None else bc * a.e, second,
                  3.0 * _U * (ac * bc + ac * sb + bc * sa))  # fmt: skip
        return Aff(c, g, _up(e, 8))

    def dot_general(self, params, a: Aff, b: Aff) -> Aff:
        dn = params["dimension_numbers"]
        (ca, cb), _ = dn
        m = math.prod(a.c.shape[i] for i in ca) if ca else 1

        def dot(x, y):
            return lax.dot_general(x, y, dn, precision=lax.Precision.HIGHEST)

        c = dot(a.c, b.c)
        parts = []
        if b.g is not None:
            parts.append(jax.vmap(lambda gb: dot(a.c, gb), in_axes=-1, out_axes=-1)(b.g))
        if a.g is not None:
            parts.append(jax.vmap(lambda ga: dot(ga, b.c), in_axes=-1, out_axes=-1)(a.g))
        g = _plus(*parts)
        ac, bc = jnp.abs(a.c), jnp.abs(b.c)
        sa, sb = _abs_sum(a.g, self.n), _abs_sum(b.g, self.n)
        second = None if (a.exact or b.exact) else dot(self.rad(a), self.rad(b))
        rounding = dot(ac, bc)
        if b.g is not None:
            rounding = rounding + dot(ac, sb)
        if a.g is not None:
            rounding = rounding + dot(sa, bc)
        e = _plus(None if b.e is None else dot(ac, b.e), None if a.e is None else dot(a.e, bc), second,
                  2.0 * (m + 2) * _U * rounding)  # fmt: skip
        return Aff(c, g, _up(e, 2 * m + 8))

    def recip(self, a: Aff) -> Aff:
        def deriv(lo, hi):  # -1/x^2 on an interval not holding 0
            qlo, qhi = _arith.ipow_int(lo, hi, -2)
            return -qhi, -qlo

        return self.smooth(a, lambda x: 1.0 / x, deriv, nonzero=True, rel=2.0 * _U)

    def smooth(self, a: Aff, f, deriv, *, dlo=None, dhi=None, nonzero=False, rel=_TRANS) -> Aff:
        r"""``f(u) = f(u0) + s (u - u0) + phi(u)``: slope ``s`` = ``f'(u0)``, ``phi`` bounded piecewise.

        ``phi(u) = int_{u0}^u (f'(t) - s) dt``, so ``|phi(u)| <= sum_j w_j sup_{t in P_j} |f'(t) - s|``
        over :data:`_PIECES` pieces ``P_j`` of width ``w_j`` on each side of ``u0`` (sharp derivative
        ranges of :mod:`certify._interval._arith` on each piece): about ``f'' r^2 (K + 1) / (2 K)``
        instead of the ``f'' r^2`` of one derivative range over the whole form.
        """
        fc = f(a.c)
        err_c = rel * jnp.abs(fc) + 8.0 * 2.0**-52 * (rel > 2.0 * _U) + _TINY
        if a.exact:
            return Aff(fc, None, _up(err_c, 2))
        r = self.rad(a)
        lo = a.c - r
        hi = a.c + r
        lo, hi = lo - (jnp.abs(lo) * 4 * _U + _TINY), hi + (jnp.abs(hi) * 4 * _U + _TINY)
        slo, shi = deriv(a.c, a.c)
        s = 0.5 * (slo + shi)  # any slope is sound; the derivative at the centre is the best one
        step = r / _PIECES
        right = [a.c] + [jnp.minimum(a.c + j * step, hi) for j in range(1, _PIECES)] + [hi]
        left = [a.c] + [jnp.maximum(a.c - j * step, lo) for j in range(1, _PIECES)] + [lo]
        # all pieces in one call (one derivative range program on a stacked axis): right, then left
        p0 = jnp.stack(right[:-1] + left[1:])
        p1 = jnp.stack(right[1:] + left[:-1])
        plo, phi = deriv(p0, p1)
        bad = jnp.any(jnp.isnan(plo) | jnp.isnan(phi), axis=0)
        sp = jnp.expand_dims(s, 0)
        term = (p1 - p0) * jnp.maximum(jnp.abs(phi - sp), jnp.abs(plo - sp))
        phi_r, phi_l = jnp.sum(term[:_PIECES], axis=0), jnp.sum(term[_PIECES:], axis=0)
        if dlo is not None:
            bad = bad | (lo <= dlo)
        if dhi is not None:
            bad = bad | (hi >= dhi)
        if nonzero:
            bad = bad | ((lo <= 0) & (hi >= 0))
        g = None if a.g is None else a.g * jnp.broadcast_to(s, jnp.shape(a.c))[..., None]
        e = _plus(None if a.e is None else jnp.abs(s) * a.e, jnp.maximum(phi_r, phi_l), err_c,
                  2.0 * _U * jnp.abs(s) * _abs_sum(a.g, self.n))  # fmt: skip
        e = jnp.where(bad, jnp.inf, _up(e, 4 * _PIECES + 6))
        return Aff(fc, g, e)

    def ipow(self, a: Aff, k: int) -> Aff:
        if k < 0:
            return self.recip(self.ipow(a, -k))
        if k == 0:
            return Aff(jnp.ones_like(a.c))
        out, base = None, a
        while k:
            if k & 1:
                out = base if out is None else self.mul(out, base)
            k >>= 1
            if k:
                base = self.mul(base, base)
        return out

    def structural(self, op, ins: list[Aff]) -> Aff:
        name, p = op.name, op.params
        if name == "convert_element_type":
            (a,) = ins
            if jnp.dtype(p["new_dtype"]) != jnp.float64:
                raise NotAffine(f"a cast to {p['new_dtype']}")
            if jnp.issubdtype(jnp.result_type(a.c), jnp.floating) or not a.exact:
                return a
            return Aff(np.asarray(a.c).astype(np.float64))  # integers and booleans: exact below 2^53
        if name == "select_n":
            pred, *cases = ins
            if not pred.exact or _is_tracer(pred.c):
                raise NotAffine("a branch on a box-dependent value")
            pc = np.asarray(pred.c)
            shape = jnp.broadcast_shapes(*(jnp.shape(x.c) for x in cases))
            c = lax.select_n(jnp.broadcast_to(pc, shape), *(jnp.broadcast_to(x.c, shape) for x in cases))
            g = None
            if any(x.g is not None for x in cases):
                gs = [self.bcast_g(x, shape) if x.g is not None else jnp.zeros(shape + (self.n,)) for x in cases]
                g = lax.select_n(jnp.broadcast_to(pc[..., None] if pc.ndim else pc, shape + (self.n,)), *gs)
            e = None
            if any(x.e is not None for x in cases):
                e = lax.select_n(jnp.broadcast_to(pc, shape),
                                 *(jnp.zeros(shape) if x.e is None else jnp.broadcast_to(x.e, shape) for x in cases))
            return Aff(c, g, e)

        def apply(x, extra=0):
            params = dict(p)
            if name == "broadcast_in_dim":
                params["shape"] = tuple(p["shape"]) + (self.n,) * extra
                dims = tuple(p["broadcast_dimensions"]) + ((len(p["shape"]),) if extra else ())
                return lax.broadcast_in_dim(x, params["shape"], dims)
            if name == "reshape":
                if p.get("dimensions") is not None:
                    raise NotAffine("a reshape with a dimension order")
                return jnp.reshape(x, tuple(p["new_sizes"]) + (self.n,) * extra)
            if name == "transpose":
                perm = tuple(p["permutation"])
                return jnp.transpose(x, perm + ((len(perm),) if extra else ()))
            if name == "squeeze":
                return lax.squeeze(x, tuple(p["dimensions"]))
            if name == "rev":
                return lax.rev(x, tuple(p["dimensions"]))
            if name == "tile":
                return jnp.tile(x, tuple(p["reps"]) + (1,) * extra)
            if name == "slice":
                strides = p["strides"]
                return lax.slice(x, tuple(p["start_indices"]) + (0,) * extra,
                                 tuple(p["limit_indices"]) + tuple(x.shape[-1:]) * extra,
                                 None if strides is None else tuple(strides) + (1,) * extra)  # fmt: skip
            raise NotAffine(name)

        if name == "concatenate":
            dim = p["dimension"]
            c = lax.concatenate([x.c for x in ins], dim)
            g = None
            if any(x.g is not None for x in ins):
                zeros = [jnp.zeros(jnp.shape(x.c) + (self.n,)) for x in ins]
                g = lax.concatenate([x.g if x.g is not None else z for x, z in zip(ins, zeros, strict=True)], dim)
            e = None
            if any(x.e is not None for x in ins):
                e = lax.concatenate([x.e if x.e is not None else jnp.zeros(jnp.shape(x.c)) for x in ins], dim)
            return Aff(c, g, e)
        (a,) = ins
        return Aff(apply(a.c), None if a.g is None else apply(a.g, 1), None if a.e is None else apply(a.e))

    def split(self, params, a: Aff) -> list[Aff]:
        sizes, axis = tuple(params["sizes"]), int(params["axis"])

        def parts(x):
            return [None] * len(sizes) if x is None else lax.split(x, sizes, axis)

        return [Aff(c, g, e) for c, g, e in zip(parts(a.c), parts(a.g), parts(a.e), strict=True)]

    def stack(self, axis, ins: list[Aff]) -> Aff:
        shape = jnp.broadcast_shapes(*(jnp.shape(x.c) for x in ins))
        axis = axis % (len(shape) + 1)

        def parts(field, extra):
            xs = [getattr(x, field) for x in ins]
            if all(v is None for v in xs):
                return None
            return jnp.stack([jnp.zeros(shape + (self.n,) * extra) if v is None else v for v in xs], axis)

        return Aff(jnp.stack([x.c for x in ins], axis), parts("g", 1), parts("e", 0))

    def pad(self, params, a: Aff, value: Aff) -> Aff:
        if not value.exact or _is_tracer(value.c):
            raise NotAffine("a pad with a box-dependent value")
        cfg = tuple(tuple(x) for x in params["padding_config"])

        def zero_pad(x, extra):
            return None if x is None else lax.pad(x, jnp.zeros((), x.dtype), cfg + ((0, 0, 0),) * extra)

        return Aff(lax.pad(a.c, jnp.asarray(value.c, jnp.result_type(a.c)), cfg), zero_pad(a.g, 1), zero_pad(a.e, 0))

    # -- the interpreter ----------------------------------------------------------------------

    def op(self, op: _ir.Op, ins: list[Aff]) -> list[Aff]:
        name = op.name
        if all(a.exact and not _is_tracer(a.c) for a in ins):
            floats = [jnp.issubdtype(self.avals[o].dtype, jnp.floating) for o in op.outs]
            f64 = all(self.avals[o].dtype == jnp.float64 for o in op.outs)
            if not any(floats) or (f64 and name in EXACT_ON_POINTS - {"convert_element_type"}):
                with jax.ensure_compile_time_eval():
                    vals = op.prim.bind(*(a.c for a in ins), **op.params)
                vals = list(vals) if op.prim.multiple_results else [vals]
                return [Aff(np.asarray(v)) for v in vals]
        for o in op.outs:
            dt = self.avals[o].dtype
            if jnp.issubdtype(dt, jnp.floating) and dt != jnp.float64:
                raise NotAffine(f"a {dt} value")
            if not jnp.issubdtype(dt, jnp.floating) and name not in STRUCTURAL:
                raise NotAffine(f"{name} of a box-dependent value")
        if name == "split":
            return self.split(op.params, ins[0])
        if name == "pad":
            return [self.pad(op.params, *ins)]
        if name == "stack":
            return [self.stack(int(op.params["axis"]), ins)]
        if name in STRUCTURAL:
            return [self.structural(op, ins)]
        # arithmetic on constants runs as JAX operations (staged, no NumPy warnings on inf or 0 / 0)
        ins = [a if _is_tracer(a.c) else Aff(jnp.asarray(a.c), a.g, a.e) for a in ins]
        if name in LINEAR:
            return [self.linear(name, op.params, ins)]
        if name == "mul":
            return [self.mul(*ins)]
        if name == "square":
            return [self.mul(ins[0], ins[0])]
        if name == "integer_pow":
            return [self.ipow(ins[0], int(op.params["y"]))]
        if name == "div":
            return [self.mul(ins[0], self.recip(ins[1]))]
        if name == "dot_general":
            return [self.dot_general(op.params, *ins)]
        if name in _arith.ELEMENTARY:
            el = _arith.ELEMENTARY[name]

            def f(x):
                return op.prim.bind(x, **op.params)

            rel = _arith.ulps_of(name) * 2.0**-52  # the function's measured accuracy, with its margin
            return [self.smooth(ins[0], f, el.deriv, dlo=el.dlo, dhi=el.dhi, rel=rel)]
        raise NotAffine(f"primitive {name!r}")

    def run(self, prog: _ir.Program, x: Aff) -> list[Aff]:
        self.avals = prog.avals
        env: dict[int, Aff] = {i: Aff(v) for i, v in prog.consts.items()}
        for v in env.values():
            if _is_tracer(v.c):  # a constant passed as an argument: checked finite by the caller
                continue
            dt = getattr(v.c, "dtype", None)
            if dt is None or not isinstance(dt, np.dtype):
                dt = np.asarray(v.c).dtype if isinstance(v.c, int | float | bool | np.generic) else None
            if dt is None or dt.kind == "O":
                raise NotAffine("a constant that is not a number array")
            if np.issubdtype(dt, np.floating) and not np.all(np.isfinite(np.asarray(v.c))):
                raise NotAffine("a non-finite constant")
        (iv,) = prog.invars
        env[iv] = x
        for op in prog.ops:
            if op.name in ("cond", "while", "scan"):
                raise NotAffine(f"a {op.name} loop or branch")
            outs = self.op(op, [env[i] for i in op.ins])
            env.update(zip(op.outs, outs, strict=True))
        return [env[i] for i in prog.outvars]


def affine_range(prog: _ir.Program, lo, hi):
    """Enclosure ``(vlo, vhi)`` of the program's one output over the box ``[lo, hi]`` (float64, traceable).

    The box is written ``c + r * delta`` with ``c`` the computed midpoint and ``r`` rounded up so
    that the box is covered. Entries whose enclosure is not finite come out ``[-inf, inf]``.

    Raises:
      NotAffine: at trace time, for a construct without an affine rule.
    """
    n = lo.shape[-1]
    c = 0.5 * (lo + hi)
    r = jnp.maximum(hi - c, c - lo)
    r = r * (1.0 + 4 * _U) + _TINY
    x = Aff(c, jnp.diag(r), None)
    (out,) = _Interp(n).run(prog, x)
    if jnp.ndim(out.c) == 0:
        raise NotAffine("a scalar output")
    rad = _Interp(n).rad(out) if not out.exact else jnp.zeros(jnp.shape(out.c))
    vlo, vhi = out.c - rad, out.c + rad
    vlo = vlo - (jnp.abs(vlo) * 4 * _U + _TINY)
    vhi = vhi + (jnp.abs(vhi) * 4 * _U + _TINY)
    ok = jnp.isfinite(vlo) & jnp.isfinite(vhi)
    return jnp.where(ok, vlo, -jnp.inf), jnp.where(ok, vhi, jnp.inf)
