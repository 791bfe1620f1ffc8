r"""Cause ids built during a pass and evaluated once at its end (a smaller compiled program).

Every value of the interpreter carries *cause* ids (:mod:`certify._interval._jet`): the operation
that made it possibly NaN/infinite (``vc``) or its derivative unbounded (``tc``), 0 for none. An
operation passes on the largest cause of its inputs, and an operation that may create a NaN, an
overflow or an unbounded derivative names itself when its inputs carry none:

.. math::

   c_{out} = \begin{cases} \max_i c_i & \text{if } \max_i c_i > 0,\\
   s\,[\exists k: \mathrm{bad}_k] & \text{otherwise,}\end{cases}

with :math:`s` the operation's site id and :math:`\mathrm{bad}` an elementwise flag of its result
(e.g. an infinite endpoint). Computing :math:`\exists k:\mathrm{bad}_k` right after each
operation puts one reduction per operation into the program, and XLA copies the elementwise
computation in front of each reduction into its own kernel: most of the compile time of the
engine went there. Here a cause is a small expression (:class:`Cause`) over the flags; the flags
are reduced together at the end of the pass (:func:`evaluate`, one reduction per flag size), and
the expression is then evaluated with the same integer operations. The ids are the same.
"""

from __future__ import annotations

import jax.numpy as jnp

__all__ = ["Cause", "Flags", "cause_max", "evaluate", "first_of"]


class Cause:
    """A cause id expression: ``leaf`` (a traced int32), ``max`` of causes, or ``first`` (see module).

    ``first``: ``args = (prev, flag_ids, site)``: ``prev`` where ``prev > 0``, else ``site`` where
    one of the flags ``flag_ids`` holds somewhere, else 0 (``prev`` may be ``None``: no input cause).
    """

    __slots__ = ("kind", "args", "index")

    def __init__(self, kind: str, args: tuple, index: int):
        self.kind, self.args, self.index = kind, args, index


class Flags:
    """The flags and cause expressions of one pass, in the order they were made."""

    def __init__(self):
        self.arrays: list = []
        self.nodes: list[Cause] = []

    def flag(self, bad) -> int:
        """Registers an elementwise bool array; returns its id."""
        self.arrays.append(bad)
        return len(self.arrays) - 1

    def node(self, kind: str, args: tuple) -> Cause:
        c = Cause(kind, args, len(self.nodes))
        self.nodes.append(c)
        return c

    def leaf(self, x) -> Cause | None:
        """``x`` (``None``, a :class:`Cause` or a traced int32) as a cause expression."""
        if x is None or isinstance(x, Cause):
            return x
        return self.node("leaf", (x,))


def cause_max(flags: Flags, causes) -> Cause | None:
    """The largest of the present causes (``None`` if none)."""
    present = [flags.leaf(c) for c in causes if c is not None]
    if not present:
        return None
    if len(present) == 1:
        return present[0]
    return flags.node("max", tuple(present))


def first_of(flags: Flags, prev, bad: list, site: int) -> Cause:
    """``prev`` where it is positive, else ``site`` where one of the bool arrays ``bad`` holds somewhere."""
    ids = tuple(flags.flag(b) for b in bad)
    return flags.node("first", (flags.leaf(prev), ids, site))


def _reduce_flags(arrays, wanted):
    """``any`` of each wanted flag: flags of one size are stacked and reduced by one reduction."""
    by_size: dict[int, list[int]] = {}
    for i in sorted(wanted):
        by_size.setdefault(int(arrays[i].size), []).append(i)
    out = {}
    for size, ids in by_size.items():
        if size == 1:
            for i in ids:
                out[i] = arrays[i].reshape(())
            continue
        red = jnp.any(jnp.stack([arrays[i].reshape(-1) for i in ids]), axis=1)
        for j, i in enumerate(ids):
            out[i] = red[j]
    return out


def evaluate(flags: Flags, roots) -> list:
    """Traced int32 ids of the cause expressions ``roots`` (``None`` stays ``None``)."""
    need = set()
    todo = [r for r in roots if isinstance(r, Cause)]
    while todo:
        c = todo.pop()
        if c.index in need:
            continue
        need.add(c.index)
        if c.kind == "max":
            todo.extend(c.args)
        elif c.kind == "first" and c.args[0] is not None:
            todo.append(c.args[0])
    wanted = {i for k in need for i in (flags.nodes[k].args[1] if flags.nodes[k].kind == "first" else ())}
    anys = _reduce_flags(flags.arrays, wanted)
    vals: dict[int, object] = {}
    for k in sorted(need):
        c = flags.nodes[k]
        if c.kind == "leaf":
            vals[k] = c.args[0]
        elif c.kind == "max":
            out = vals[c.args[0].index]
            for a in c.args[1:]:
                out = jnp.maximum(out, vals[a.index])
            vals[k] = out
        else:
            prev, ids, site = c.args
            bad = anys[ids[0]]
            for i in ids[1:]:
                bad = bad | anys[i]
            local = jnp.where(bad, site, 0).astype(jnp.int32)
            vals[k] = local if prev is None else jnp.where(vals[prev.index] > 0, vals[prev.index], local)
    return [vals[r.index] if isinstance(r, Cause) else r for r in roots]
