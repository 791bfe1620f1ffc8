"""A flat, as-written program of a JAX function: the representation the interval engine reads.

A :class:`Program` is a jaxpr flattened into one list of primitive applications on integer
value ids:

* calls (``jit``, ``closed_call``, ``remat``) are inlined;
* ``custom_jvp`` / ``custom_vjp`` functions are replaced by their *primal* computation, and
  ``stop_gradient`` (and other value-preserving markers) by the identity: the program computes
  the function *as written*, whose derivative is the mathematical one (``d/dx stop_gradient(x)
  = 1`` as a function of ``x``), not whatever derivative rule JAX would use;
* identical operations on identical operands are merged (common subexpressions), so that
  ``z[0]`` written twice is one value and ``x - x`` is recognised as such;
* operations whose results are unused are dropped.

Control flow (``cond``, ``scan``, ``while``) stays as operations holding sub-programs, built on
demand with :func:`program_of`. :func:`run_program` evaluates a program with ordinary JAX
operations, which gives the as-written function for JAX's own differentiation (used by the
padded bounds for second derivatives). :func:`structure_key` fingerprints a jaxpr's structure
(everything but the values of its array constants) so that drivers can reuse compilations.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence
from typing import Any

import jax
import numpy as np
from jax import lax
from jax.extend import core as jcore

__all__ = ["Op", "Program", "program_of", "run_program", "source_of", "structure_key"]

_INLINE_KEYS = ("jaxpr", "call_jaxpr", "fun_jaxpr")
INLINE = frozenset({
    "pjit", "jit", "closed_call", "core_call", "remat2", "checkpoint", "remat", "custom_jvp_call",
    "custom_vjp_call", "custom_vjp_call_jaxpr",
})  # fmt: skip
IDENTITY = frozenset({"stop_gradient", "optimization_barrier", "sharding_constraint", "copy", "copy_p", "pvary"})
_NO_CSE = frozenset({"cond", "while", "scan", "iota"})


@dataclasses.dataclass(eq=False)
class Op:
    """One primitive application: ``outs = prim.bind(*ins, **params)`` on value ids."""

    prim: Any
    params: dict
    ins: tuple[int, ...]
    outs: tuple[int, ...]
    source: Any = None

    @property
    def name(self) -> str:
        """The primitive's name."""
        return self.prim.name


@dataclasses.dataclass(eq=False)
class Program:
    """A flat program: inputs, constants, operations in order, outputs (all value ids).

    Attributes:
      invars: ids of the inputs.
      outvars: ids of the outputs (an input or constant id may also be an output).
      ops: operations in evaluation order.
      consts: ``id -> value`` for literals and closed-over constants.
      avals: ``id -> abstract value`` (shape and dtype) of every id.
      producer: ``id -> Op`` that computes it.
    """

    invars: tuple[int, ...]
    outvars: tuple[int, ...]
    ops: list[Op]
    consts: dict[int, Any]
    avals: dict[int, Any]
    producer: dict[int, Op]


class _NoKey(Exception):
    """Parameters that cannot be frozen into a hashable key."""


def _freeze(v):
    if isinstance(v, dict):
        return tuple(sorted((k, _freeze(x)) for k, x in v.items()))
    if isinstance(v, list | tuple):
        return (type(v).__name__,) + tuple(_freeze(x) for x in v)
    if isinstance(v, np.ndarray | np.generic):
        a = np.asarray(v)
        return ("nd", str(a.dtype), a.shape, a.tobytes())
    if isinstance(v, jcore.ClosedJaxpr | jcore.Jaxpr):
        return ("jaxpr", id(v))
    try:
        hash(v)
    except TypeError as err:
        raise _NoKey from err
    return v


def _closed(jaxpr_like):
    if hasattr(jaxpr_like, "jaxpr") and hasattr(jaxpr_like, "consts"):
        return jaxpr_like.jaxpr, list(jaxpr_like.consts)
    return jaxpr_like, []


def _inlined(params: dict):
    """The (closed) jaxpr parameter that an inlined call primitive applies."""
    return params[next(k for k in _INLINE_KEYS if k in params)]


def inline_jaxpr_of(params: dict):
    """The ``(jaxpr, consts)`` that an inlined call primitive applies."""
    return _closed(_inlined(params))


class _Builder:
    def __init__(self):
        self.counter = itertools.count()
        self.ops: list[Op] = []
        self.consts: dict[int, Any] = {}
        self.avals: dict[int, Any] = {}
        self.cse: dict[Any, tuple[int, ...]] = {}
        self.literals: dict[Any, int] = {}

    def new(self, aval) -> int:
        i = next(self.counter)
        self.avals[i] = aval
        return i

    def literal(self, val, aval) -> int:
        a = np.asarray(val)
        key = (str(aval.dtype), tuple(aval.shape), a.tobytes())
        if key not in self.literals:
            i = self.new(aval)
            self.consts[i] = np.asarray(a, dtype=aval.dtype).reshape(aval.shape)
            self.literals[key] = i
        return self.literals[key]

    def const(self, val, aval) -> int:
        i = self.new(aval)
        self.consts[i] = val
        return i

    def inline(self, jaxpr, consts, in_ids: Sequence[int]) -> list[int]:
        env: dict[Any, int] = {}
        for v, c in zip(jaxpr.constvars, consts, strict=True):
            env[v] = self.const(c, v.aval)
        for v, i in zip(jaxpr.invars, in_ids, strict=True):
            env[v] = i

        def read(v):
            if isinstance(v, jcore.Literal):
                return self.literal(v.val, v.aval)
            return env[v]

        for eqn in jaxpr.eqns:
            ins = [read(v) for v in eqn.invars]
            name = eqn.primitive.name
            if name in INLINE:
                sub, sub_consts = inline_jaxpr_of(eqn.params)
                outs = self.inline(sub, sub_consts, ins)
            elif name in IDENTITY:
                outs = ins[: len(eqn.outvars)]
            else:
                outs = self.emit(eqn, ins)
            for v, o in zip(eqn.outvars, outs, strict=True):
                if not isinstance(v, jcore.DropVar):
                    env[v] = o
        return [read(v) for v in jaxpr.outvars]

    def emit(self, eqn, ins) -> list[int]:
        key = None
        if eqn.primitive.name not in _NO_CSE and not eqn.effects:
            try:
                key = (eqn.primitive, tuple(ins), _freeze(dict(eqn.params)))
            except _NoKey:
                key = None
        if key is not None and key in self.cse:
            return list(self.cse[key])
        outs = tuple(self.new(v.aval) for v in eqn.outvars)
        self.ops.append(Op(eqn.primitive, dict(eqn.params), tuple(ins), outs, eqn.source_info))
        if key is not None:
            self.cse[key] = outs
        return list(outs)


def _dead_code_elimination(ops: list[Op], outvars) -> list[Op]:
    live = set(outvars)
    kept = []
    for op in reversed(ops):
        if any(o in live for o in op.outs):
            kept.append(op)
            live.update(op.ins)
    kept.reverse()
    return kept


def program_of(closed_jaxpr, consts=None) -> Program:
    """The flat :class:`Program` of a (closed) jaxpr; ``consts`` overrides its constants."""
    jaxpr, own = _closed(closed_jaxpr)
    b = _Builder()
    invars = [b.new(v.aval) for v in jaxpr.invars]
    outvars = b.inline(jaxpr, own if consts is None else list(consts), invars)
    ops = _dead_code_elimination(b.ops, outvars)
    producer = {o: op for op in ops for o in op.outs}
    return Program(tuple(invars), tuple(outvars), ops, b.consts, b.avals, producer)


def source_of(op: Op) -> str:
    """``file:line (function)`` of the user code behind an operation, or ``""``."""
    try:  # private JAX helper; a message detail only
        from jax._src import source_info_util

        return str(source_info_util.summarize(op.source))
    except Exception:
        return ""


# --------------------------------------------------------------------------------------------
# Concrete evaluation (the as-written function).
# --------------------------------------------------------------------------------------------


def run_program(prog: Program, *args, frozen=frozenset()):
    """Evaluates ``prog`` with JAX operations (traceable and differentiable by JAX).

    ``custom_jvp``/``custom_vjp`` are already replaced by their primal computations and
    ``stop_gradient`` by the identity, so ``jax.jacfwd`` of this function is the derivative of
    the function as written. Values in ``frozen`` get ``lax.stop_gradient``: only for values the
    function provably does not depend on (the shift of a recognised logsumexp).
    """
    env = dict(prog.consts)
    env.update(zip(prog.invars, args, strict=True))
    for op in prog.ops:
        outs = _run_op(op, [env[i] for i in op.ins])
        outs = [lax.stop_gradient(o) if i in frozen else o for i, o in zip(op.outs, outs, strict=True)]
        env.update(zip(op.outs, outs, strict=True))
    return [env[i] for i in prog.outvars]


def _sub(closed):
    return program_of(closed)


def _run_op(op: Op, ins):
    p = op.params
    if op.name == "cond":
        branches = [_sub(br) for br in p["branches"]]
        fns = [lambda *xs, b=b: tuple(run_program(b, *xs)) for b in branches]
        return list(lax.switch(ins[0], fns, *ins[1:]))
    if op.name == "scan":
        body = _sub(p["jaxpr"])
        nc, ncar = p["num_consts"], p["num_carry"]
        consts, init, xs = ins[:nc], ins[nc:nc + ncar], ins[nc + ncar:]

        def step(carry, x):
            out = run_program(body, *consts, *carry, *x)
            return tuple(out[:ncar]), tuple(out[ncar:])

        carry, ys = lax.scan(step, tuple(init), tuple(xs), length=p["length"], reverse=p["reverse"])
        return list(carry) + list(ys)
    if op.name == "while":
        cond, body = _sub(p["cond_jaxpr"]), _sub(p["body_jaxpr"])
        cn, bn = p["cond_nconsts"], p["body_nconsts"]
        cconsts, bconsts, init = ins[:cn], ins[cn:cn + bn], ins[cn + bn:]
        out = lax.while_loop(lambda c: run_program(cond, *cconsts, *c)[0],
                             lambda c: tuple(run_program(body, *bconsts, *c)), tuple(init))  # fmt: skip
        return list(out)
    out = op.prim.bind(*ins, **p)
    return list(out) if op.prim.multiple_results else [out]


# --------------------------------------------------------------------------------------------
# Structure keys.
# --------------------------------------------------------------------------------------------


def _param_key(v):
    if isinstance(v, jcore.ClosedJaxpr | jcore.Jaxpr):
        jx, consts = _closed(v)
        return ("jaxpr", _jaxpr_key(jx), tuple(_const_key(c) for c in consts))
    if isinstance(v, dict):
        return tuple(sorted((k, _param_key(x)) for k, x in v.items()))
    if isinstance(v, list | tuple):
        return (type(v).__name__,) + tuple(_param_key(x) for x in v)
    if isinstance(v, np.ndarray | np.generic):
        a = np.asarray(v)
        return ("nd", str(a.dtype), a.shape, a.tobytes())
    if callable(v) or not isinstance(v, int | float | str | bool | type(None) | np.dtype):
        r = repr(v)
        return ("obj", r if ("0x" not in r and "..." not in r) else id(v))
    return v


def _const_key(c):
    if isinstance(c, jax.core.Tracer):
        return ("tracer", id(c))
    a = np.asarray(c)
    return ("nd", str(a.dtype), a.shape, a.tobytes())


def _var_key(v, names):
    if isinstance(v, jcore.Literal):
        a = np.asarray(v.val)
        return ("lit", str(v.aval.dtype), a.tobytes())
    return names.setdefault(v, len(names))


def _jaxpr_key(jaxpr):
    names: dict[Any, int] = {}
    for v in itertools.chain(jaxpr.constvars, jaxpr.invars):
        names.setdefault(v, len(names))
    parts = [tuple(v.aval for v in jaxpr.constvars), tuple(v.aval for v in jaxpr.invars)]  # avals hash by value
    for eqn in jaxpr.eqns:
        ins = tuple(_var_key(v, names) for v in eqn.invars)
        outs = tuple(_var_key(v, names) for v in eqn.outvars)
        if eqn.primitive.name in INLINE:  # the engine reads only the inlined jaxpr (custom rules: the primal)
            params = ("inline", _param_key(_inlined(eqn.params)))
        else:
            params = tuple(sorted((k, _param_key(x)) for k, x in eqn.params.items()))
        parts.append((eqn.primitive.name, ins, outs, params, tuple(v.aval for v in eqn.outvars)))
    parts.append(tuple(_var_key(v, names) for v in jaxpr.outvars))
    return tuple(parts)


def structure_key(closed_jaxpr, static_consts: Sequence[int]) -> Any:
    """A hashable key of a closed jaxpr: its structure, literals and the listed constants' values.

    Two closed jaxprs with equal keys compute the same function of their inputs and of the
    constants *not* listed in ``static_consts`` (whose shapes and dtypes are part of the key), as
    the engine reads them: an inlined call (``jit``, ``custom_jvp``/``custom_vjp``, ...) is keyed by
    the jaxpr it inlines alone, so custom differentiation rules (objects made afresh at every
    trace) do not make two traces of one function differ.
    """
    jaxpr, consts = _closed(closed_jaxpr)
    static = tuple((k, _const_key(consts[k])) for k in static_consts)
    return (_jaxpr_key(jaxpr), static)
