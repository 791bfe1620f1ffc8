r"""Compact regions of the joint strategy space on which block bounds are computed.

A region is an axis-aligned box :math:`K = [lo, hi] \subset \mathbb R^d` (convex, so the
mean-value argument behind the SGN theorem applies, spec-sgn-math §3.2). Boxes are the only
regions: a non-convex set cannot be written down, and unbounded or non-finite bounds are refused.

A box may be degenerate (``lo[k] == hi[k]`` for some ``k``): as a set it is still convex and
compact, and an affine game's exact bounds do not depend on it. Bounds that *sample* or *enclose*
``DF`` over a region refuse it (:meth:`Region.check_full_dimensional`): no trajectory of the flow
stays on a zero-width slice, so a certificate there would certify nothing, and a sample of a
single point would pass for a region bound.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from sgn import _checks


@dataclasses.dataclass(frozen=True, eq=False)
class Region:
    """A box ``[lo, hi]`` in the joint space (float64).

    Raises:
      ValueError: for non-finite bounds, mismatched shapes or ``lo > hi``.

    Examples:
      >>> Region.around([0.0, 1.0], 0.5).to_dict()
      {'lo': [-0.5, 0.5], 'hi': [0.5, 1.5]}
      >>> Region([0.0, 0.0], [1.0, 2.0]).contains([0.5, 2.0])
      True
    """

    lo: np.ndarray
    hi: np.ndarray

    def __post_init__(self):
        lo, hi = _checks.check_box(self.lo, self.hi, "region")
        object.__setattr__(self, "lo", lo)
        object.__setattr__(self, "hi", hi)

    @classmethod
    def around(cls, center, radius):
        """The box ``center ± radius`` (radius scalar or per-coordinate)."""
        try:
            c = np.atleast_1d(np.asarray(center, dtype=np.float64))
            r = np.broadcast_to(np.asarray(radius, dtype=np.float64), c.shape)
        except (TypeError, ValueError) as err:
            raise TypeError(f"expected a numeric center and a radius broadcastable to it, got "
                            f"center={center!r}, radius={radius!r}") from err
        if not np.all(np.isfinite(r)):
            raise ValueError(f"expected a finite radius, got {radius!r}")
        if np.any(r < 0):
            raise ValueError(f"expected a nonnegative radius, got {radius!r}")
        return cls(c - r, c + r)

    @property
    def is_degenerate(self) -> bool:
        """True when some coordinate has zero width (``lo[k] == hi[k]``)."""
        return bool(np.any(self.hi <= self.lo))

    def check_full_dimensional(self, what: str) -> None:
        """Raises ``ValueError`` for a zero-width coordinate (used by sampled and sound bounds).

        Examples:
          >>> Region([0.0, 0.0], [1.0, 0.0]).check_full_dimensional("bounds")
          Traceback (most recent call last):
            ...
          ValueError: expected a region with positive width in every coordinate for bounds, got lo[1] == hi[1] == 0.0
        """
        if self.is_degenerate:
            k = int(np.argmax(self.hi <= self.lo))
            raise ValueError(f"expected a region with positive width in every coordinate for {what}, "
                             f"got lo[{k}] == hi[{k}] == {float(self.lo[k])!r}")

    @property
    def dim(self) -> int:
        """Number of coordinates."""
        return int(self.lo.shape[0])

    @property
    def center(self) -> np.ndarray:
        """Midpoint of the box."""
        return 0.5 * (self.lo + self.hi)

    @property
    def radius(self) -> np.ndarray:
        """Half-widths of the box."""
        return 0.5 * (self.hi - self.lo)

    def contains(self, x, *, tol=0.0) -> bool:
        """True when ``x`` lies in the box (up to ``tol``)."""
        x = np.asarray(x)
        return bool(np.all(x >= self.lo - tol) and np.all(x <= self.hi + tol))

    def to_dict(self) -> dict:
        """JSON description."""
        return {"lo": self.lo.tolist(), "hi": self.hi.tolist()}

    @classmethod
    def from_dict(cls, d) -> Region:
        """Inverse of :meth:`to_dict`."""
        if not isinstance(d, dict) or "lo" not in d or "hi" not in d:
            raise ValueError(f"expected a region as {{'lo': [...], 'hi': [...]}}, got {d!r}")
        extra = sorted(set(d) - {"lo", "hi"})
        if extra:
            raise ValueError(f"expected only 'lo' and 'hi' in a region (a box: regions must be convex), got {extra}")
        for key in ("lo", "hi"):
            v = d[key]
            if isinstance(v, str | bool | dict) or (isinstance(v, list) and any(
                    isinstance(x, str | bool | dict | list | type(None)) for x in v)):
                raise TypeError(f"expected numbers in region {key!r}, got {v!r}")
        return cls(d["lo"], d["hi"])
