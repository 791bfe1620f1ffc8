r"""The one point sampler behind every sampled estimate: box vertices, a grid, seeded uniform points.

Sampled bounds take extremes of the block quantities over a finite set :math:`P \subset K`,

.. math::

   \hat\mu_i = \min_{x\in P}\lambda_{\min}(\operatorname{sym}J_{ii}(x)), \qquad
   \hat L_{ij} = \max_{x\in P}\lVert J_{ij}(x)\rVert_2 ,

an *estimate* (a sampled minimum can miss the infimum). :func:`sample_points` builds :math:`P`:
the :math:`2^d` vertices of the box (when few) or a full grid, seeded uniform points, and the
centre. Host NumPy, float64; the same seed gives the same points on every machine.
"""

from __future__ import annotations

import numpy as np

from games import Region
from sgn import _checks

MAX_VERTEX_DIM = 10
"""Vertices are included only up to this dimension (at most 1024 of them)."""
MAX_GRID_POINTS = 1 << 16
"""Largest full grid :func:`sample_points` builds."""


def _grid(region: Region, points_per_dim: int) -> np.ndarray:
    _checks.check_int(points_per_dim, "points_per_dim", least=2)
    count = float(points_per_dim) ** region.dim
    if count > MAX_GRID_POINTS:
        raise ValueError(f"expected at most {MAX_GRID_POINTS} grid points, got {points_per_dim}^{region.dim} "
                         f"= {count:.6g}")
    ticks = np.linspace(0.0, 1.0, int(points_per_dim))
    unit = np.stack(np.meshgrid(*[ticks] * region.dim, indexing="ij"), -1).reshape(-1, region.dim)
    return region.lo + unit * (region.hi - region.lo)


def sample_points(region: Region, *, n_samples: int = 0, seed: int = 0, vertices: bool = True,
                  center: bool = True, points_per_dim: int | None = None) -> np.ndarray:
    r"""Sample points of a box: vertices (or a grid), seeded uniform points, the centre.

    Args:
      region: the box :class:`games.Region`.
      n_samples: seeded uniform points (``numpy.random.default_rng(seed)``).
      seed: the sampling seed.
      vertices: include the :math:`2^d` vertices when :math:`d \le` ``MAX_VERTEX_DIM``.
      center: include the centre (last).
      points_per_dim: if given, a full grid with this many points per coordinate (corners
        included) replaces the vertices; ``2`` is exactly the vertices, for any ``dim`` up to
        ``log2(MAX_GRID_POINTS)``.

    Returns:
      ``(n_points, dim)`` float64 array: grid or vertices first (last coordinate fastest), then
      the uniform points, then the centre.

    Raises:
      TypeError: if ``region`` is not a :class:`games.Region`.
      ValueError: for a negative or non-integer ``n_samples`` or too large a grid.

    Examples:
      >>> import games
      >>> sample_points(games.Region([0.0, 0.0], [1.0, 2.0]), n_samples=0).tolist()
      [[0.0, 0.0], [0.0, 2.0], [1.0, 0.0], [1.0, 2.0], [0.5, 1.0]]
      >>> sample_points(games.Region([0.0], [1.0]), n_samples=3, seed=1, vertices=False).shape
      (4, 1)
    """
    if not isinstance(region, Region):
        raise TypeError(f"expected a games.Region, got {type(region).__name__}")
    n_samples = _checks.check_int(n_samples, "n_samples", least=0)
    d = region.dim
    parts = []
    if points_per_dim is not None:
        parts.append(_grid(region, points_per_dim))
    elif vertices and d <= MAX_VERTEX_DIM:
        parts.append(_grid(region, 2))
    if n_samples:
        rng = np.random.default_rng(seed)
        parts.append(region.lo + rng.random((n_samples, d)) * (region.hi - region.lo))
    if center:
        parts.append(region.center[None])
    if not parts:
        return np.zeros((0, d))
    return np.concatenate(parts, axis=0)
