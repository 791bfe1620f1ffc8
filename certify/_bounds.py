"""Region bounds on a game's Jacobian blocks: exact, sound or sampled.

For a region :math:`K` the certificate needs :math:`\\mu_i \\le \\inf_K \\lambda_{\\min}(\\operatorname{sym}J_{ii})`,
:math:`L_{ij} \\ge \\sup_K \\lVert J_{ij}\\rVert_2`, and for step sizes the weighted Lipschitz
constant :math:`\\beta(w) = \\sup_K \\lVert M^{1/2} DF M^{-1/2}\\rVert_2`.

* ``exact``: constant Jacobian (affine games); the bounds are the values themselves.
* ``sampled``: extremes over the region's vertices plus seeded uniform points, from one
  ``jit(vmap(jacfwd(F)))`` call per chunk of points and small batched reductions. A sampled
  minimum can miss the true infimum: this is an *estimate*, never a guarantee.
* ``interval`` / ``padded``: sound enclosures (interval Jacobians, or a grid padded by the
  Jacobian's own Lipschitz constant), delegated to :mod:`certify.bounds._sound`.

Reductions run as separate small jitted kernels rather than one large jit: on CPU, jax 0.10.2
can deadlock when one jit holds many batched ``eigvalsh``/SVD calls vmapped over thousands of
items (spec-sound-bounds §7).
"""

from __future__ import annotations

import functools
import sys

import jax
import jax.numpy as jnp
import numpy as np

from certify import _exact_large
from certify._bound_types import BlockBounds
from games import Game, Region
from sgn import _checks

BOUND_METHODS = ("auto", "exact", "sampled", "interval", "padded", "matrix_free")
MAX_VERTICES = 1024
CHUNK = 2048


def _check_game(game):
    if not isinstance(game, Game):
        raise TypeError(f"expected a games.Game, got {type(game).__name__}")


def _resolve_region(game: Game, region) -> Region | None:
    if region is None:
        return game.default_region()
    if isinstance(region, Region):
        reg = region
    elif isinstance(region, dict):
        reg = Region.from_dict(region)
    elif isinstance(region, tuple | list) and len(region) == 2:
        reg = Region(*region)
    else:
        raise TypeError(f"expected a games.Region or (lo, hi), got {type(region).__name__}")
    if reg.dim != game.dim:
        raise ValueError(f"expected a region of dimension {game.dim}, got {reg.dim}")
    return reg


# --- exact -----------------------------------------------------------------------------------


def _host_quantities(jac: np.ndarray, dims):
    """mu, L, block norms, ||J||, lambda_min(sym J) of one Jacobian (NumPy, float64)."""
    if _exact_large.is_large(jac.shape[0]):  # full-matrix SVD/eig take minutes: sound block relaxations
        return _exact_large.block_quantities(jac, dims)
    if all(d == 1 for d in dims):  # scalar players: the blocks are the entries themselves
        diag = np.diag(jac).copy()
        coupling = np.abs(jac - np.diag(diag))
        lip = float(np.linalg.norm(jac, 2))
        euc = float(np.linalg.eigvalsh(0.5 * (jac + jac.T))[0])
        return diag, coupling, np.abs(diag), lip, euc
    offsets = np.cumsum((0,) + tuple(dims))
    n = len(dims)
    mu, block, coupling = np.zeros(n), np.zeros(n), np.zeros((n, n))
    for i in range(n):
        bi = slice(offsets[i], offsets[i + 1])
        jii = jac[bi, bi]
        mu[i] = np.linalg.eigvalsh(0.5 * (jii + jii.T))[0]
        block[i] = np.linalg.norm(jii, 2)
        for j in range(n):
            if i != j:
                coupling[i, j] = np.linalg.norm(jac[bi, offsets[j]:offsets[j + 1]], 2)
    lip = float(np.linalg.norm(jac, 2))
    euc = float(np.linalg.eigvalsh(0.5 * (jac + jac.T))[0])
    return mu, coupling, block, lip, euc


def exact_block_bounds(game: Game) -> BlockBounds:
    """Exact bounds of an affine game (constant Jacobian), in float64."""
    if game.constant_jacobian is None:
        raise ValueError(f"expected an affine game for exact bounds, got {game.name!r} (nonlinear)")
    mu, coupling, block, lip, euc = _host_quantities(game.constant_jacobian, game.dims)
    return BlockBounds(mu, coupling, block, lip, euc, kind="exact", n_points=1)


# --- sampled ---------------------------------------------------------------------------------


def sample_points(region: Region, *, n_samples: int, seed: int = 0, include_vertices: bool = True):
    """Vertices of the box (when at most ``MAX_VERTICES``) plus ``n_samples`` seeded uniform points."""
    if not isinstance(n_samples, int | np.integer) or n_samples < 0:
        raise ValueError(f"expected a nonnegative int n_samples, got {n_samples!r}")
    d = region.dim
    parts = []
    if include_vertices and d <= int(np.log2(MAX_VERTICES)):
        corners = np.array(np.meshgrid(*[[0.0, 1.0]] * d, indexing="ij")).reshape(d, -1).T
        parts.append(region.lo + corners * (region.hi - region.lo))
    rng = np.random.default_rng(seed)
    parts.append(region.lo + rng.random((int(n_samples), d)) * (region.hi - region.lo))
    parts.append(region.center[None])
    return np.concatenate(parts, axis=0)


@functools.lru_cache(maxsize=64)
def _jacobian_kernel(pseudo_gradient):
    def one(x):
        return pseudo_gradient(x), jax.jacfwd(pseudo_gradient)(x)

    return jax.jit(jax.vmap(one))


@jax.jit
def _batched_lambda_min_sym(a):
    return jnp.linalg.eigvalsh(0.5 * (a + jnp.swapaxes(a, -1, -2)))[..., 0]


def gram_spectral_norm(a):
    """Batched :math:`\\lVert A\\rVert_2 = \\sqrt{\\lambda_{\\max}(A^\\top A)}` on the smaller Gram side.

    A symmetric eigensolve is several times cheaper than an SVD on CPU and far cheaper for small
    batched matrices on GPU; the relative error of the largest singular value stays ~eps.
    """
    at = jnp.swapaxes(a, -1, -2)
    gram = at @ a if a.shape[-1] <= a.shape[-2] else a @ at
    return jnp.sqrt(jnp.maximum(jnp.linalg.eigvalsh(gram)[..., -1], 0.0))


_batched_norm2 = jax.jit(gram_spectral_norm)


def sampled_jacobians(game: Game, points: np.ndarray, *, progress: bool = False):
    """``(F(points), DF(points))`` in chunks of ``CHUNK`` points, each one jitted vmapped call."""
    kernel = _jacobian_kernel(game.pseudo_gradient)
    fs, js = [], []
    starts = range(0, points.shape[0], CHUNK)
    if progress and len(starts) > 1:
        from tqdm import tqdm  # noqa: PLC0415

        starts = tqdm(starts, desc="sampled Jacobians", unit="chunk", file=sys.stderr)
    for start in starts:
        f, j = kernel(jnp.asarray(points[start:start + CHUNK]))
        fs.append(np.asarray(f))
        js.append(np.asarray(j))
    return np.concatenate(fs), np.concatenate(js)


def _reduce_sampled(jacs: np.ndarray, dims):
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


def sampled_block_bounds(game: Game, region: Region, *, n_samples: int = 1024, seed: int = 0,
                         include_vertices: bool = True, progress: bool = False) -> BlockBounds:
    """Sampled extremes of the block quantities over the region (an estimate, not a guarantee).

    Points that the strategy set excludes are projected onto it first. Non-finite values of
    ``F`` or ``DF`` anywhere give NaN bounds (the pipeline then reports status ``invalid``).
    """
    points = sample_points(region, n_samples=n_samples, seed=seed, include_vertices=include_vertices)
    if not game.is_unconstrained:
        points = np.asarray(jax.vmap(game.project)(jnp.asarray(points)))
    fs, jacs = sampled_jacobians(game, points, progress=progress)
    if not (np.all(np.isfinite(fs)) and np.all(np.isfinite(jacs))):
        n = game.n_players
        nan = np.full(n, np.nan)
        return BlockBounds(nan, np.full((n, n), np.nan), nan, np.nan, np.nan, kind="sampled",
                           n_points=points.shape[0])
    mu, coupling, block, lip, euc = _reduce_sampled(jacs, game.dims)
    return BlockBounds(mu, coupling, block, lip, euc, kind="sampled", n_points=points.shape[0])


@functools.lru_cache(maxsize=16)
def _weighted_norm_kernel(dims):
    total = int(sum(dims))

    def one(jac, weights):
        s = jnp.repeat(jnp.sqrt(weights), np.asarray(dims), total_repeat_length=total)
        return jnp.linalg.svd(s[:, None] * jac / s[None, :], compute_uv=False)[0]

    return jax.jit(jax.vmap(one, in_axes=(0, None)))


def sampled_weighted_lipschitz(game: Game, region: Region, weights, *, n_samples: int = 1024,
                               seed: int = 0) -> float:
    """Sampled estimate of :math:`\\beta(w) = \\sup_K \\lVert M^{1/2}DF M^{-1/2}\\rVert_2`."""
    _checks.check_weights(weights, game.n_players)
    points = sample_points(region, n_samples=n_samples, seed=seed)
    if not game.is_unconstrained:
        points = np.asarray(jax.vmap(game.project)(jnp.asarray(points)))
    _, jacs = sampled_jacobians(game, points)
    kernel = _weighted_norm_kernel(tuple(game.dims))
    return float(jnp.max(kernel(jnp.asarray(jacs), jnp.asarray(weights, dtype=jacs.dtype))))


SAMPLED_MAX_BYTES = 2 * 1024**3
"""Largest stack of dense sampled Jacobians (points x dim x dim float64) built for sampled bounds."""


def _check_sampled_memory(dim: int, n_samples: int) -> None:
    n_points = int(n_samples) + 1 + (2**dim if dim <= int(np.log2(MAX_VERTICES)) else 0)
    need = n_points * dim * dim * 8
    if need > SAMPLED_MAX_BYTES:
        raise ValueError(f"expected sampled bounds to fit in {SAMPLED_MAX_BYTES / 2**30:.0f} GiB of dense Jacobians, "
                         f"got {n_points} points x {dim}^2 floats = {need / 2**30:.3g} GiB (use fewer samples or "
                         "matrix-free bounds)")


# --- dispatch --------------------------------------------------------------------------------


def estimate_block_bounds(game: Game, region=None, *, method: str = "auto", n_samples: int = 1024,
                          seed: int = 0, subdivisions: int = 1, progress: bool = False) -> BlockBounds:
    """Bounds :math:`\\mu_i`, :math:`L_{ij}`, block norms, Lipschitz constant and Euclidean margin.

    Args:
      game: the game.
      region: a :class:`games.Region` (or ``(lo, hi)``); defaults to the game's region.
      method: ``"auto"`` (exact for affine games, else sampled), ``"exact"``, ``"sampled"``,
        ``"interval"`` (sound interval enclosure), ``"padded"`` (sound padded grid) or
        ``"matrix_free"`` (Lanczos/power estimates at a few points, never forming a Jacobian).
      n_samples: random points for ``"sampled"`` (vertices are added when few).
      seed: sampling seed.
      subdivisions: sub-boxes per coordinate for ``"interval"``.
      progress: show a progress bar on stderr for long sampling runs.

    Returns:
      :class:`BlockBounds` whose ``kind`` says what the numbers mean.

    Raises:
      ValueError: unknown method, region of the wrong dimension, exact bounds asked for a
        nonlinear game, or a nonlinear game without any region.
      TypeError: if ``game`` is not a :class:`games.Game`.
    """
    _check_game(game)
    if method not in BOUND_METHODS:
        raise ValueError(f"expected a bounds method in {BOUND_METHODS}, got {method!r}")
    reg = _resolve_region(game, region)
    if method == "auto":
        method = "exact" if game.is_affine else "sampled"
    if method == "exact":
        return exact_block_bounds(game)
    if reg is None:
        raise ValueError(
            f"expected a compact region for {method} bounds on {game.name!r}, got none "
            "(pass region=games.Region(lo, hi))"
        )
    reg.check_full_dimensional(f"{method} bounds")
    if method == "matrix_free":
        from certify._matrix_free import matrix_free_region_bounds  # noqa: PLC0415

        return matrix_free_region_bounds(game, reg, n_samples=n_samples, seed=seed)
    if method == "sampled":
        _check_sampled_memory(game.dim, n_samples)
        return sampled_block_bounds(game, reg, n_samples=n_samples, seed=seed, progress=progress)
    from certify.bounds import _sound  # noqa: PLC0415  (sound engine is heavier; import on demand)

    if method == "interval":
        return _sound.sound_block_bounds(game.pseudo_gradient, reg.lo, reg.hi, game.dims,
                                         subdivisions=subdivisions)
    return _sound.lipschitz_padded_bounds(game.pseudo_gradient, reg.lo, reg.hi, game.dims)
