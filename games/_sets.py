r"""Per-player strategy sets and their Euclidean projections.

The joint strategy set is a product :math:`X = X_1\times\dots\times X_N`; projecting onto it is
blockwise, and (because the SGN metric is block-scalar) equals the projection in the SGN metric.
Sets: unconstrained :math:`\mathbb R^d`, boxes, probability simplices (sort-based projection of
Duchi et al. 2008) and Euclidean balls.

References:
  Duchi et al., Efficient projections onto the l1-ball for learning in high dimensions, ICML 2008.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from sgn import _checks
from sgn._backend import jax, jnp


@dataclasses.dataclass(frozen=True)
class Unconstrained:
    r"""The whole space :math:`\mathbb R^d` (projection is the identity).

    Examples:
      >>> import jax.numpy as jnp
      >>> Unconstrained().project(jnp.array([2.0, -3.0])).tolist()
      [2.0, -3.0]
    """

    kind = "unconstrained"

    def project(self, x):
        """Identity."""
        return x

    def bounding_box(self, dim):
        """Unbounded: ``(-inf, inf)`` per coordinate."""
        return np.full(dim, -np.inf), np.full(dim, np.inf)

    def to_dict(self):
        """JSON description."""
        return {"kind": self.kind}


@dataclasses.dataclass(frozen=True)
class Box:
    """Axis-aligned box :math:`[lo, hi]` (scalars broadcast to every coordinate).

    Examples:
      >>> import jax.numpy as jnp
      >>> Box(-1.0, 1.0).project(jnp.array([2.0, -0.5])).tolist()
      [1.0, -0.5]
    """

    lo: float | tuple = -1.0
    hi: float | tuple = 1.0
    kind = "box"

    def __post_init__(self):
        try:
            lo, hi = np.asarray(self.lo, dtype=float), np.asarray(self.hi, dtype=float)
        except (TypeError, ValueError) as err:
            raise TypeError(f"expected numeric box bounds, got lo={self.lo!r}, hi={self.hi!r}") from err
        if lo.ndim > 1 or hi.ndim > 1 or (lo.ndim == hi.ndim == 1 and lo.shape != hi.shape):
            raise ValueError(f"expected scalar or equal-length 1-D box bounds, got shapes {lo.shape} and {hi.shape}")
        _checks.check_box(*np.broadcast_arrays(lo, hi), "box")

    def project(self, x):
        """Clips to the box."""
        return jnp.clip(x, jnp.asarray(self.lo, x.dtype), jnp.asarray(self.hi, x.dtype))

    def bounding_box(self, dim):
        """The box itself, broadcast to ``dim`` coordinates."""
        return (np.broadcast_to(np.asarray(self.lo, float), (dim,)).copy(),
                np.broadcast_to(np.asarray(self.hi, float), (dim,)).copy())

    def to_dict(self):
        """JSON description."""
        return {"kind": self.kind, "lo": np.asarray(self.lo).tolist(), "hi": np.asarray(self.hi).tolist()}


@dataclasses.dataclass(frozen=True)
class Simplex:
    r"""Probability simplex :math:`\{x \ge 0, \sum x = 1\}`.

    Examples:
      >>> import jax.numpy as jnp
      >>> [round(v, 6) for v in Simplex().project(jnp.array([0.5, 0.9, -0.2], jnp.float64)).tolist()]
      [0.3, 0.7, 0.0]
    """

    kind = "simplex"

    def project(self, x):
        """Euclidean projection onto the simplex (sort-based, ``jit``-able)."""
        n = x.shape[-1]
        u = jnp.sort(x)[::-1]
        css = jnp.cumsum(u) - 1.0
        idx = jnp.arange(1, n + 1, dtype=x.dtype)
        cond = u - css / idx > 0
        rho = jnp.max(jnp.where(cond, jnp.arange(n), -1))
        theta = css[rho] / (rho + 1).astype(x.dtype)
        return jnp.maximum(x - theta, 0.0)

    def bounding_box(self, dim):
        """``[0, 1]`` per coordinate."""
        return np.zeros(dim), np.ones(dim)

    def to_dict(self):
        """JSON description."""
        return {"kind": self.kind}


@dataclasses.dataclass(frozen=True)
class Ball:
    """Euclidean ball of radius ``radius`` around ``center`` (scalar broadcasts).

    Examples:
      >>> import jax.numpy as jnp
      >>> [round(v, 6) for v in Ball(1.0).project(jnp.array([3.0, 4.0])).tolist()]  # (3, 4) / 5
      [0.6, 0.8]
    """

    radius: float = 1.0
    center: float | tuple = 0.0
    kind = "ball"

    def __post_init__(self):
        if isinstance(self.radius, bool) or not isinstance(self.radius, int | float | np.integer | np.floating):
            raise TypeError(f"expected a number as ball radius, got {type(self.radius).__name__}")
        if not (np.isfinite(self.radius) and self.radius > 0):
            raise ValueError(f"expected a positive finite ball radius, got {self.radius!r}")
        try:
            center = np.asarray(self.center, dtype=float)
        except (TypeError, ValueError) as err:
            raise TypeError(f"expected a numeric ball center, got {self.center!r}") from err
        if center.ndim > 1 or not np.all(np.isfinite(center)):
            raise ValueError(f"expected a finite scalar or 1-D ball center, got {self.center!r}")

    def project(self, x):
        """Radial projection onto the ball."""
        c = jnp.broadcast_to(jnp.asarray(self.center, x.dtype), x.shape)
        d = x - c
        norm = jnp.linalg.norm(d)
        scale = jnp.minimum(1.0, self.radius / jnp.maximum(norm, jnp.finfo(x.dtype).tiny))
        return c + d * scale

    def bounding_box(self, dim):
        """The circumscribed box."""
        c = np.broadcast_to(np.asarray(self.center, float), (dim,))
        return c - self.radius, c + self.radius

    def to_dict(self):
        """JSON description."""
        return {"kind": self.kind, "radius": float(self.radius),
                "center": np.asarray(self.center).tolist()}


StrategySet = Unconstrained | Box | Simplex | Ball


def product_projection(sets, dims):
    r"""Blockwise projection onto :math:`X_1\times\dots\times X_N` for a flat joint vector."""
    offsets = np.cumsum((0,) + tuple(dims))
    if all(isinstance(s, Unconstrained) for s in sets):
        return lambda x: x

    def project(x):
        parts = [s.project(x[offsets[i]:offsets[i + 1]]) for i, s in enumerate(sets)]
        return jnp.concatenate(parts)

    return jax.jit(project)
