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

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh

from certify._bound_types import BlockBounds, WeightedBounds
from certify._progress import track
from certify._sharding import fetch, put, sharded
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


def _lambda_min_sym(a):
    r""":math:`\lambda_{\min}(\operatorname{sym}A)` (batched over leading axes)."""
    return jnp.linalg.eigvalsh(0.5 * (a + jnp.swapaxes(a, -1, -2)))[..., 0]


_batched_lambda_min_sym = jax.jit(_lambda_min_sym)


@functools.lru_cache(maxsize=64)
def _jacobian_kernel(pseudo_gradient):
    def one(x):
        return pseudo_gradient(x), jax.jacfwd(pseudo_gradient)(x)

    return jax.jit(jax.vmap(one))


@functools.lru_cache(maxsize=16)
def _weighted_norm_kernel(dims):
    def one(jac, weights):
        return jnp.linalg.svd(jac * _metric_ratio(weights, dims), compute_uv=False)[0]

    return jax.jit(jax.vmap(one, in_axes=(0, None)))


def _metric_ratio(weights, dims):
    r"""``(d, d)`` factors :math:`\sqrt{w_{p(k)}/w_{p(l)}}` of :math:`M^{1/2} J M^{-1/2}`."""
    s = jnp.repeat(jnp.sqrt(weights), np.asarray(dims), total_repeat_length=int(sum(dims)))
    return s[:, None] / s[None, :]


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
    for start in track(starts, desc="sampled Jacobians", enabled=progress and len(starts) > 1):
        f, j = kernel(jnp.asarray(points[start:start + CHUNK]))
        fs.append(np.asarray(f))
        js.append(np.asarray(j))
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


# --- sharded placement: the same per-matrix reductions, the points spread over a device mesh -------


@functools.lru_cache(maxsize=64)
def sharded_jacobian_kernel(pseudo_gradient, mesh: Mesh):
    """``points -> (finite, J)`` with the points and Jacobians sharded over ``mesh`` (compiled once per F and mesh)."""

    def one(x):
        f, j = pseudo_gradient(x), jax.jacfwd(pseudo_gradient)(x)
        return jnp.all(jnp.isfinite(f)) & jnp.all(jnp.isfinite(j)), j

    return sharded(one, mesh, 1)


@functools.lru_cache(maxsize=256)
def _sharded_block_kernel(reduction: str, rows: tuple, cols: tuple, mesh: Mesh):
    """Per point, ``lambda_min(sym J[rows, cols])`` (``"min"``) or ``||J[rows, cols]||_2`` (``"norm"``)."""
    fn = _lambda_min_sym if reduction == "min" else gram_spectral_norm

    def one(jac):
        return fn(jac[rows[0]:rows[1], cols[0]:cols[1]])

    return sharded(one, mesh, 1)


@functools.lru_cache(maxsize=16)
def _sharded_weighted_kernel(dims: tuple, mesh: Mesh):
    def one(jac, weights):
        scaled = jac * _metric_ratio(weights, dims)
        return jnp.linalg.svd(scaled, compute_uv=False)[0], _lambda_min_sym(scaled)

    return sharded(one, mesh, 1, n_shared=1)


def _sharded_reduce(jacs, n_points: int, dims, mesh: Mesh):
    """:func:`_reduce` of device-sharded Jacobians: per-point values on the devices, extremes on the host."""
    offsets = np.cumsum((0,) + tuple(dims))
    n, d = len(dims), int(offsets[-1])

    def per_point(reduction, i, j):
        rows = (0, d) if i is None else (int(offsets[i]), int(offsets[i + 1]))
        cols = (0, d) if j is None else (int(offsets[j]), int(offsets[j + 1]))
        return fetch(_sharded_block_kernel(reduction, rows, cols, mesh)(jacs), n_points)

    mu, block, coupling = np.zeros(n), np.zeros(n), np.zeros((n, n))
    for i in range(n):
        mu[i] = float(np.min(per_point("min", i, i)))
        block[i] = float(np.max(per_point("norm", i, i)))
        for j in range(n):
            if i != j:
                coupling[i, j] = float(np.max(per_point("norm", i, j)))
    lip, euc = float(np.max(per_point("norm", None, None))), float(np.min(per_point("min", None, None)))
    return mu, coupling, block, lip, euc


# --- the stored evidence and the one entry point ----------------------------------------------------


@dataclasses.dataclass(frozen=True, eq=False)
class PointJacobians:
    r"""The evidence of sampled bounds: the Jacobians :math:`DF(x_p)` at the sample points.

    Every weighted question is a pure function of them (nothing is sampled or differentiated
    again): :math:`\hat\beta(w) = \max_p \lVert M^{1/2}DF(x_p)M^{-1/2}\rVert_2` and the direct
    modulus :math:`\min_p \lambda_{\min}(\operatorname{sym}(M^{1/2}DF(x_p)M^{-1/2}))`.

    Attributes:
      jacobians: ``(n_points, d, d)`` host array, or (with ``mesh``) a device array sharded over the
        mesh's ``"batch"`` axis and padded by repeating the last point.
      dims: the players' block sizes.
      n_points: the number of sample points (without the padding).
      mesh: the device mesh the Jacobians are sharded over, or ``None`` (host array).

    Examples:
      >>> import numpy as np
      >>> e = PointJacobians(np.array([[[1.0, 10.0], [0.05, 1.0]]]), (1, 1), 1)
      >>> [round(v, 6) for v in e.at_weights(np.array([1.0, 200.0]))]  # 1 +- 1/sqrt(2)
      [1.707107, 0.292893]
    """

    jacobians: object = dataclasses.field(repr=False)
    dims: tuple
    n_points: int
    mesh: Mesh | None = dataclasses.field(default=None, repr=False)

    def at_weights(self, weights) -> WeightedBounds:
        r""":math:`\hat\beta(w)` and the direct modulus, extremes over the stored points."""
        if self.mesh is not None:
            norms, mins = _sharded_weighted_kernel(tuple(self.dims), self.mesh)(
                self.jacobians, jnp.asarray(weights, dtype=self.jacobians.dtype))
            return WeightedBounds(float(np.max(fetch(norms, self.n_points))), float(np.min(fetch(mins, self.n_points))))
        jacs = jnp.asarray(self.jacobians)
        w = jnp.asarray(weights, dtype=jacs.dtype)
        scaled = jacs * _metric_ratio(w, self.dims)[None]
        return WeightedBounds(float(jnp.max(_weighted_norm_kernel(tuple(self.dims))(jacs, w))),
                              float(jnp.min(_batched_lambda_min_sym(scaled))))


def sampled_block_bounds(game, region, *, n_samples: int = 1024, seed: int = 0, vertices: bool = True,
                         mesh: Mesh | None = None, progress: bool = False) -> BlockBounds:
    r"""Sampled extremes of the block quantities over the region (an estimate, not a guarantee).

    Points that the strategy set excludes are projected onto it first. Non-finite values of
    ``F`` or ``DF`` anywhere give NaN bounds (the pipeline then reports status ``invalid``).
    With a ``mesh`` the points are sharded over its devices (and over the processes of a
    :func:`jax.distributed` run): each device differentiates and reduces its share with the same
    per-matrix code, and the extremes are taken over all points, so the bounds equal the
    one-device ones (to rounding).

    Args:
      game: a :class:`games.Game`.
      region: the box :class:`games.Region`.
      n_samples: seeded uniform points (plus the vertices when ``dim <= 10``, and the centre).
      seed: sampling seed.
      vertices: include the box's vertices when few.
      mesh: a 1-D device mesh (:func:`certify.sweep.make_mesh`) to shard the points over;
        ``None`` keeps them on the default device, in chunks of ``CHUNK``.
      progress: a progress bar on stderr for many chunks (one device).

    Returns:
      :class:`BlockBounds` with ``kind="sampled"``; its ``weighted_lipschitz(w)`` is the maximum
      of :math:`\lVert M^{1/2}DF M^{-1/2}\rVert_2` over the same points (:class:`PointJacobians`).

    Raises:
      ValueError: when the dense Jacobians (per device) would exceed ``SAMPLED_MAX_BYTES``.

    Examples:
      >>> import games
      >>> g = games.get_game("tanh-sin")
      >>> b = sampled_block_bounds(g, g.region, n_samples=64)
      >>> b.kind, b.n_points  # 4 vertices + 64 points + the centre
      ('sampled', 69)
    """
    vertex_count = 2**game.dim if vertices and game.dim <= MAX_VERTEX_DIM else 0
    n_points = int(n_samples) + 1 + vertex_count
    check_memory(game.dim, n_points if mesh is None else -(-n_points // mesh.devices.size))
    points = sample_points(region, n_samples=n_samples, seed=seed, vertices=vertices)
    if not game.is_unconstrained:
        points = np.asarray(jax.vmap(game.project)(jnp.asarray(points)))
    dims = tuple(game.dims)
    if mesh is None:
        fs, jacs = sampled_jacobians(game, points, progress=progress)
        finite = np.all(np.isfinite(fs)) and np.all(np.isfinite(jacs))
    else:
        ok, jacs = sharded_jacobian_kernel(game.pseudo_gradient, mesh)(put(points, mesh))
        finite = bool(np.all(fetch(ok, points.shape[0])))
    if not finite:
        return _nan_bounds(game.n_players, points.shape[0])
    if mesh is None:
        mu, coupling, block, lip, euc = _reduce(jacs, dims)
    else:
        mu, coupling, block, lip, euc = _sharded_reduce(jacs, points.shape[0], dims, mesh)
    evidence = PointJacobians(jacs, dims, int(points.shape[0]), mesh)
    return BlockBounds(mu, coupling, block, lip, euc, kind="sampled", n_points=points.shape[0],
                       weighted=evidence.at_weights)
