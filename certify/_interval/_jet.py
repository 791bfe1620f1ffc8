r"""Interval jets: a value enclosure, a tangent enclosure, a NaN flag and a cause, per program value.

For a function :math:`F` of :math:`x\in X=[\underline x,\overline x]\subset\mathbb{R}^n`, every
value :math:`v` of its program carries

* ``[lo, hi]``: the values :math:`v(x)` for all :math:`x\in X` at which :math:`v` is not NaN
  (endpoints in the extended reals; an infinite endpoint means :math:`v` may be infinite, i.e.
  overflow in IEEE arithmetic);
* ``[tlo, thi]`` (shape ``v.shape + (n,)``, or ``None`` for zero): the derivative
  :math:`\partial v/\partial x` (Clarke's generalised Jacobian at kinks) on :math:`X`; an
  infinite endpoint means "unbounded";
* ``nan``: ``None`` (never NaN) or an int8 array, 0 = not NaN, 1 = possibly NaN somewhere in
  :math:`X`, 2 = NaN everywhere in :math:`X`;
* ``vc`` / ``tc``: traced int32 *cause* ids of the operation that made the value / tangent
  possibly NaN or infinite (0 = none), so that a refusal can name the construct;
* static flags ``dep`` (depends on :math:`x`), ``pt`` (box-independent and ``lo`` is the exact
  value), ``fin`` (values surely finite and not NaN, e.g. checked constants, the box itself,
  ``tanh`` of such; only used to skip checks) and ``face`` (for booleans from a comparison
  ``u ⋈ c`` with a known constant ``c``: what is needed to evaluate branches where the
  comparison switches).

Booleans are intervals with ``False < True``: ``lo`` = surely true, ``hi`` = possibly true.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from certify._interval import _arith, _causes
from certify._interval._errors import NotEnclosable
from certify._interval._ir import Op, Program, program_of, source_of

__all__ = ["Context", "Face", "Jet", "Site"]


@dataclasses.dataclass(frozen=True)
class Face:
    """A boolean that compares value ``u_id`` with the concrete constant ``c`` (``c.shape == u.shape``).

    A face is a fact about one *interpretation* of one program: ``scope`` is the environment of
    that interpretation (:attr:`Context.env`), whose value ids ``u_id`` names. A loop body run
    twice, a cond branch or the program around them are other scopes: provers refuse a face
    whose scope is not the current one (:func:`in_scope`), so a face carried into or out of a
    sub-program proves nothing there.
    """

    u_id: int
    c: Any
    text: str
    scope: Any = dataclasses.field(default=None, compare=False, repr=False)


def in_scope(face: Face | None, ctx: Context) -> bool:
    """Whether ``face`` is a fact about the values of the interpretation now running."""
    return face is not None and ctx.stack and face.scope is ctx.env


class Jet:
    """Value interval, tangent interval, NaN flag and causes of one program value."""

    __slots__ = ("lo", "hi", "tlo", "thi", "nan", "dep", "pt", "face", "vc", "tc", "fin")

    def __init__(self, lo, hi, tlo=None, thi=None, *, dep, pt=False, nan=None, face=None, vc=None, tc=None,
                 fin=False):  # fmt: skip
        self.lo, self.hi, self.tlo, self.thi = lo, hi, tlo, thi
        self.nan, self.dep, self.pt, self.face, self.vc, self.tc = nan, dep, pt, face, vc, tc
        self.fin = fin and nan is None

    @property
    def shape(self):
        """Shape of the value."""
        return self.lo.shape

    @property
    def dtype(self):
        """Dtype of the value."""
        return self.lo.dtype

    @property
    def is_float(self) -> bool:
        """Whether the value is floating point."""
        return jnp.issubdtype(self.lo.dtype, jnp.floating)

    @property
    def concrete(self) -> bool:
        """Box-independent with a value known at trace time."""
        return self.pt and not isinstance(self.lo, jax.core.Tracer)


def point(x, *, nan=None, fin=None) -> Jet:
    """A box-independent exact value (``fin``: finite; checked when concrete and not given)."""
    x = jnp.asarray(x) if not isinstance(x, jax.Array) else x
    if fin is None:
        fin = nan is None and not isinstance(x, jax.core.Tracer) and bool(np.all(np.isfinite(np.asarray(x))))
    return Jet(x, x, dep=False, pt=True, nan=nan, fin=fin)


def const_jet(x, *, assume_finite=False) -> Jet:
    """A constant of the program (NaN entries flagged unless ``assume_finite``)."""
    if isinstance(x, jax.core.Tracer):
        if assume_finite or not jnp.issubdtype(x.dtype, jnp.floating):
            return point(x, fin=assume_finite or not jnp.issubdtype(x.dtype, jnp.floating))
        return point(x, nan=jnp.where(jnp.isnan(x), 2, 0).astype(jnp.int8), fin=False)
    a_np = np.asarray(x)
    nan = None
    if np.issubdtype(a_np.dtype, np.floating) and np.any(np.isnan(a_np)):
        nan = np.where(np.isnan(a_np), 2, 0).astype(np.int8)
    with jax.ensure_compile_time_eval():
        return point(jnp.asarray(a_np), nan=None if nan is None else jnp.asarray(nan))


def combine_nan(*flags):
    """Elementwise maximum of NaN flags (``None`` = never NaN); also used for cause ids."""
    fs = [f for f in flags if f is not None]
    if not fs:
        return None
    out = fs[0]
    for f in fs[1:]:
        out = jnp.maximum(out, f)
    return out


def bcast_nan(nan, shape):
    """A NaN flag broadcast to ``shape``."""
    return None if nan is None else jnp.broadcast_to(nan, shape)


@dataclasses.dataclass(frozen=True)
class Site:
    """An operation that may have made a value NaN/infinite or a tangent unbounded.

    ``kind``: ``"value"`` (NaN, domain or overflow), ``"tangent"`` (unbounded derivative),
    ``"jump"`` (a branch switch whose branches differ there), ``"continuity"`` (a branch switch
    whose continuity could not be proven), ``"step"`` (a piecewise-constant operation),
    ``"pattern"`` (a recognised composite whose sharp enclosure does not meet the generic one:
    an engine inconsistency, reported instead of raised).
    """

    op: Op | None
    kind: str
    detail: str = ""

    def message(self) -> str:
        """One line naming the construct and its source."""
        name = self.op.name if self.op is not None else "an operation"
        where = source_of(self.op) if self.op is not None else ""
        at = f" (at {where})" if where else ""
        if self.kind == "jump":
            return f"{self.detail or name} may jump: its branches differ where the predicate switches{at}"
        if self.kind == "continuity":
            return (f"{self.detail or name}: continuity across the switch of a box-dependent predicate could "
                    f"not be proven{at}")  # fmt: skip
        if self.kind == "step":
            return f"{name} of a box-dependent value is piecewise constant and may jump{at}"
        if self.kind == "tangent":
            return f"the derivative of {name} may be unbounded{at}"
        if self.kind == "pattern":
            return (f"engine inconsistency: the {self.detail} pattern's enclosure does not meet the generic "
                    f"enclosure of {name}{at}")
        return f"{self.detail}{at}" if self.detail else f"{name} may overflow or be NaN{at}"

    @property
    def discontinuous(self) -> bool:
        """Whether this site stands for a possible jump (as opposed to NaN or blow-up)."""
        return self.kind in ("jump", "continuity", "step")


class Context:
    """State of one interpretation: tangent size, options, cause sites, program stack."""

    def __init__(self, n: int, *, assume_continuous: bool, consts_finite: bool = False, interpret=None,
                 rounding: bool = False):
        self.n = n
        # The rounding pass (:mod:`certify._interval._rounding`): one tangent column that bounds
        # the evaluation error, values that hold the computed values too, no patterns.
        self.rounding = rounding
        self.interpret = interpret  # ``(ctx, program, jets) -> jets``, for control flow with sub-programs
        self.assume_continuous = assume_continuous
        self.consts_finite = consts_finite
        self.sites: list[Site] = []
        self.stack: list[tuple[Program, dict[int, Jet]]] = []
        self.subprograms: dict[int, Program] = {}
        self.input_id: int | None = None
        self.causes = _causes.Flags()  # cause expressions of the pass (evaluated at its end)

    # -- causes ------------------------------------------------------------------------------

    def site(self, op: Op | None, kind: str, detail: str = "") -> int:
        """Registers a cause site; returns its id (>= 1)."""
        self.sites.append(Site(op, kind, detail))
        return len(self.sites)

    # -- program access ------------------------------------------------------------------------

    @property
    def program(self) -> Program:
        """The program being interpreted."""
        return self.stack[-1][0]

    @property
    def env(self) -> dict[int, Jet]:
        """Jets of the values computed so far in the current program."""
        return self.stack[-1][1]

    def producer(self, i: int) -> Op | None:
        """The operation of the current program that computes value ``i``."""
        return self.program.producer.get(i)

    def sub(self, closed) -> Program:
        """The (cached) program of a sub-jaxpr of a control-flow operation."""
        key = id(closed)
        if key not in self.subprograms:
            self.subprograms[key] = program_of(closed)
        return self.subprograms[key]

    # -- tangents ------------------------------------------------------------------------------

    def tangent(self, a: Jet):
        """Tangent arrays of ``a`` (zeros when it has none)."""
        if a.tlo is not None:
            return a.tlo, a.thi
        dt = a.lo.dtype if a.is_float else jnp.float64
        z = jnp.zeros(a.shape + (self.n,), dt)
        return z, z

    def unbounded_tangent(self, shape, dtype):
        """The tangent ``[-inf, inf]``."""
        return jnp.full(shape + (self.n,), -jnp.inf, dtype), jnp.full(shape + (self.n,), jnp.inf, dtype)


def unsupported(name: str, why: str = "") -> None:
    """Refuses a primitive or construct without a sound rule."""
    raise NotEnclosable(
        f"primitive {name!r} has no sound interval rule{why}; rewrite F with supported operations "
        "(README: 'What a certificate guarantees') or use sampled bounds (an estimate)",
        kind="unsupported",
    )


def bcast(a: Jet, shape) -> Jet:
    """Broadcast a jet to ``shape`` (values, tangents and flags)."""
    shape = tuple(shape)
    if a.shape == shape:
        return a
    if a.concrete and a.tlo is None:
        with jax.ensure_compile_time_eval():  # stays concrete (known at trace time)
            lo = jnp.broadcast_to(a.lo, shape)
            nan = bcast_nan(a.nan, shape)
        return Jet(lo, lo, dep=False, pt=True, nan=nan, vc=a.vc, tc=a.tc, fin=a.fin)
    lo = jnp.broadcast_to(a.lo, shape)
    hi = lo if a.pt else jnp.broadcast_to(a.hi, shape)
    tl = th = None
    if a.tlo is not None:
        tshape = shape + (a.tlo.shape[-1],)
        tl, th = jnp.broadcast_to(a.tlo, tshape), jnp.broadcast_to(a.thi, tshape)
    return Jet(lo, hi, tl, th, dep=a.dep, pt=a.pt, nan=bcast_nan(a.nan, shape), face=None, vc=a.vc, tc=a.tc,
               fin=a.fin)  # fmt: skip


def tscale(dlo, dhi, a: Jet):
    """Tangent of ``g(a)`` given the range ``[dlo, dhi]`` of ``g'`` over ``a``'s values."""
    if a.tlo is None:
        return None, None
    return _arith.tmul(dlo[..., None], dhi[..., None], a.tlo, a.thi)


def tadd(ta, tb, *, sub=False):
    """Sum (or difference) of two tangent pairs (``(None, None)`` = zero)."""
    if ta[0] is None and tb[0] is None:
        return None, None
    if tb[0] is None:
        return ta
    blo, bhi = (-tb[1], -tb[0]) if sub else tb
    if ta[0] is None:
        return blo, bhi
    return _arith.iadd(ta[0], ta[1], blo, bhi)
