"""The one exception of the interval engine: a sound enclosure cannot be given, and why.

Refusals are of a few kinds, recorded in :attr:`NotEnclosable.kind`:

* ``"unsupported"``: a primitive or construct without a sound rule (``sort`` with several
  operands, a linear solve, a loop whose trip count depends on the box, a box-dependent index);
* ``"discontinuous"``: ``F`` may jump on the region (``jnp.where`` / ``lax.cond`` /
  ``floor`` / ``sign`` whose switch lies in a box and whose continuity could not be proven);
* ``"unbounded"``: the enclosure a bound mode needs is unbounded (e.g. the second-derivative
  enclosure behind padded bounds);
* ``"cost"``: the bound mode would exceed its budget (boxes, grid points, memory).

A function that may be NaN or undefined on the region is *not* an exception: the enclosures
come out NaN (see :mod:`certify._interval._interpreter`) and the drivers return NaN bounds with
a reason, so that the pipeline reports the input as invalid.
"""

from __future__ import annotations

__all__ = ["KINDS", "NotEnclosable"]

KINDS = ("unsupported", "discontinuous", "unbounded", "cost")


class NotEnclosable(NotImplementedError):
    """No sound enclosure can be given; ``reason`` names the construct, ``kind`` classifies it.

    A subclass of :class:`NotImplementedError`, so code that caught the engine's earlier
    ``NotImplementedError`` keeps working.

    Attributes:
      reason: one line naming the primitive or construct (and its source line when known).
      kind: one of ``"unsupported"``, ``"discontinuous"``, ``"unbounded"``, ``"cost"``.

    Examples:
      >>> err = NotEnclosable("primitive 'sort' has no sound rule", kind="unsupported")
      >>> err.kind, str(err)
      ('unsupported', "primitive 'sort' has no sound rule")
    """

    def __init__(self, reason: str, *, kind: str = "unsupported"):
        if kind not in KINDS:
            raise ValueError(f"expected kind in {KINDS}, got {kind!r}")
        super().__init__(reason)
        self.reason = reason
        self.kind = kind
