r"""Sampled bounds: exact block quantities at sample points, extremes over the points (an estimate).

At every point :math:`x \in P` (:func:`certify.bounds.sample_points`) one
``jit(vmap(jacfwd(F)))`` call per chunk gives :math:`DF(x)`; small batched reductions then give

.. math::

   \hat\mu_i = \min_P \lambda_{\min}(\operatorname{sym}J_{ii}), \quad
   \hat L_{ij} = \max_P \lVert J_{ij}\rVert_2, \quad
   \hat\beta(w) = \max_P \lVert M^{1/2} DF M^{-1/2}\rVert_2 .

A sampled minimum can miss the true infimum: this is an *estimate*, never a guarantee
(``kind="sampled"``). Reductions run as separate small jitted kernels rather than one large jit:
on CPU, jax 0.10.2 can deadlock when one jit holds many batched ``eigvalsh``/SVD calls vmapped
over thousands of items (spec-sound-bounds §7). Float64 when x64 is enabled (the pipeline does).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from certify._bound_types import BlockBounds
from certify._progress import progress_bar
from certify.bounds._sampling import MAX_VERTEX_DIM, sample_points

CHUNK = 2048
"""Points per jitted Jacobian call."""
SAMPLED_MAX_BYTES = 2 * 1024**3
"""Largest stack of dense sampled Jacobians (points x dim x dim float64) built for sampled bounds."""


def gram_spectral_norm(a):
    r"""Batched :math:`\lVert A\rVert_2 = \sqrt{\lambda_{\max}(A^\top A)}` on the smaller Gram side.

    A symmetric eigensolve is several times cheaper than an SVD on CPU and far cheaper for small
    batched matrices on GPU; the relative error of the largest singular value stays ~eps.

    Examples:
      >>> import jax.numpy as jnp
      >>> round(float(gram_spectral_norm(jnp.array([[3.0, 0.0], [0.0, -4.0]]))), 6)
      4.0
    """
    at = jnp.swapaxes(a, -1, -2)
    gram = at @ a if a.shape[-1] <= a.shape[-2] else a @ at
    return jnp.sqrt(jnp.maximum(jnp.linalg.eigvalsh(gram)[..., -1], 0.0))


_batched_norm2 = jax.jit(gram_spectral_norm)


@jax.jit
def _batched_lambda_min_sym(a):
    return jnp.linalg.eigvalsh(0.5 * (a + jnp.swapaxes(a, -1, -2)))[..., 0]


@functools.lru_cache(maxsize=64)
def _jacobian_kernel(pseudo_gradient):
    def one(x):
        return pseudo_gradient(x), jax.jacfwd(pseudo_gradient)(x)

    return jax.jit(jax.vmap(one))


@functools.lru_cache(maxsize=16)
def _weighted_norm_kernel(dims):
    total = int(sum(dims))

    def one(jac, weights):
        s = jnp.repeat(jnp.sqrt(weights), np.asarray(dims), total_repeat_length=total)
        return jnp.linalg.svd(s[:, None] * jac / s[None, :], compute_uv=False)[0]

    return jax.jit(jax.vmap(one, in_axes=(0, None)))


def check_memory(dim: int, n_points: int) -> None:
    """Raises ``ValueError`` when ``n_points`` dense Jacobians would exceed ``SAMPLED_MAX_BYTES``.

    Examples:
      >>> check_memory(10_000, 1025)  # doctest: +ELLIPSIS
      Traceback (most recent call last):
      ...
      ValueError: expected sampled bounds to fit in 2 GiB of dense Jacobians, got 1025 points ... = 764 GiB ...
    """
    need = int(n_points) * dim * dim * 8
    if need > SAMPLED_MAX_BYTES:
        raise ValueError(f"expected sampled bounds to fit in {SAMPLED_MAX_BYTES / 2**30:.0f} GiB of dense Jacobians, "
                         f"got {n_points} points x {dim}^2 floats = {need / 2**30:.3g} GiB (use fewer samples or "
                         "matrix-free bounds)")


def sampled_jacobians(game, points: np.ndarray, *, progress: bool = False):
    """``(F(points), DF(points))`` in chunks of ``CHUNK`` points, each one jitted vmapped call.

    Examples:
      >>> import games, numpy as np
      >>> f, j = sampled_jacobians(games.get_game("sgn-toy"), np.zeros((3, 2)))
      >>> f.shape, j.shape
      ((3, 2), (3, 2, 2))
    """
    kernel = _jacobian_kernel(game.pseudo_gradient)
    fs, js = [], []
    starts = range(0, points.shape[0], CHUNK)
    with progress_bar(progress and len(starts) > 1, len(starts), "sampled Jacobians", unit="chunk") as advance:
        for start in starts:
            f, j = kernel(jnp.asarray(points[start:start + CHUNK]))
            fs.append(np.asarray(f))
            js.append(np.asarray(j))
            advance(1)
    return np.concatenate(fs), np.concatenate(js)


def _reduce(jacs: np.ndarray, dims):
    offsets = np.cumsum((0,) + tuple(dims))
    n = len(dims)
    mu, block, coupling = np.zeros(n), np.zeros(n), np.zeros((n, n))
    for i in range(n):
        bi = slice(offsets[i], offsets[i + 1])
        jii = jnp.asarray(jacs[:, bi, bi])
        mu[i] = float(jnp.min(_batched_lambda_min_sym(jii)))
        block[i] = float(jnp.max(_batched_norm2(jii)))
        for j in range(n):
            if i != j:
                bj = slice(offsets[j], offsets[j + 1])
                coupling[i, j] = float(jnp.max(_batched_norm2(jnp.asarray(jacs[:, bi, bj]))))
    full = jnp.asarray(jacs)
    lip = float(jnp.max(_batched_norm2(full)))
    euc = float(jnp.min(_batched_lambda_min_sym(full)))
    return mu, coupling, block, lip, euc


def _nan_bounds(n: int, n_points: int) -> BlockBounds:
    nan = np.full(n, np.nan)
    return BlockBounds(nan, np.full((n, n), np.nan), nan, np.nan, np.nan, kind="sampled", n_points=n_points)


def sampled_block_bounds(game, region, *, n_samples: int = 1024, seed: int = 0, vertices: bool = True,
                         progress: bool = False) -> BlockBounds:
    r"""Sampled extremes of the block quantities over the region (an estimate, not a guarantee).

    Points that the strategy set excludes are projected onto it first. Non-finite values of
    ``F`` or ``DF`` anywhere give NaN bounds (the pipeline then reports status ``invalid``).

    Args:
      game: a :class:`games.Game`.
      region: the box :class:`games.Region`.
      n_samples: seeded uniform points (plus the vertices when ``dim <= 10``, and the centre).
      seed: sampling seed.
      vertices: include the box's vertices when few.
      progress: a progress bar on stderr for many chunks.

    Returns:
      :class:`BlockBounds` with ``kind="sampled"``; its ``weighted_lipschitz(w)`` is the maximum
      of :math:`\lVert M^{1/2}DF M^{-1/2}\rVert_2` over the same points.

    Raises:
      ValueError: when the dense Jacobians would exceed ``SAMPLED_MAX_BYTES``.

    Examples:
      >>> import games
      >>> g = games.get_game("tanh-sin")
      >>> b = sampled_block_bounds(g, g.region, n_samples=64)
      >>> b.kind, b.n_points  # 4 vertices + 64 points + the centre
      ('sampled', 69)
    """
    vertex_count = 2**game.dim if vertices and game.dim <= MAX_VERTEX_DIM else 0
    check_memory(game.dim, int(n_samples) + 1 + vertex_count)
    points = sample_points(region, n_samples=n_samples, seed=seed, vertices=vertices)
    if not game.is_unconstrained:
        points = np.asarray(jax.vmap(game.project)(jnp.asarray(points)))
    fs, jacs = sampled_jacobians(game, points, progress=progress)
    if not (np.all(np.isfinite(fs)) and np.all(np.isfinite(jacs))):
        return _nan_bounds(game.n_players, points.shape[0])
    mu, coupling, block, lip, euc = _reduce(jacs, game.dims)
    kernel = _weighted_norm_kernel(tuple(game.dims))

    def weighted(weights):
        return float(jnp.max(kernel(jnp.asarray(jacs), jnp.asarray(weights, dtype=jacs.dtype))))

    return BlockBounds(mu, coupling, block, lip, euc, kind="sampled", n_points=points.shape[0], weighted=weighted)
