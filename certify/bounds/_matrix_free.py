r"""Matrix-free estimates of the SGN block bounds for games whose players have millions of parameters.

For a game with pseudo-gradient :math:`F` and Jacobian blocks :math:`J_{ij}(x)` the certificate
needs, at each point :math:`x`,

.. math::

   \mu_i(x) = \lambda_{\min}(\operatorname{sym} J_{ii}(x)), \quad
   L_{ij}(x) = \lVert J_{ij}(x)\rVert_2 = \sqrt{\lambda_{\max}(J_{ij}^\top J_{ij})}, \quad
   \beta_w(x) = \lVert M^{1/2} DF(x) M^{-1/2}\rVert_2 ,

plus :math:`\lVert J_{ii}\rVert_2`, :math:`\lVert DF\rVert_2` and
:math:`\lambda_{\min}(\operatorname{sym} DF)`. None of these needs a Jacobian: each is an extreme
eigenvalue of a symmetric operator that we can only *apply*, using one linearisation of
:math:`F_i` per player (``jax.linearize``) and its transpose (``jax.linear_transpose``):
:math:`J_{ij}v = \partial_t F_i(x + t\,E_j v)` (a Jacobian-vector product, for a game built from
losses a Hessian-vector product of :math:`f_i`) and :math:`J_{ij}^\top u` (a vector-Jacobian
product). Extreme eigenvalues come from the Lanczos method with full reorthogonalisation
(default) or from power iteration; the :math:`k\times k` tridiagonal problem is solved on the
host in float64. No :math:`d\times d` (or :math:`d_i\times d_j`) matrix is ever formed; memory is
:math:`O(k\,d_i)` for the Krylov basis plus one linearisation of the game.

**Error model (what these numbers can and cannot guarantee).** Everything here is a *point
estimate at given parameter points*; over a region it is the min/max over those points, i.e.
``kind="sampled"`` — never sound.

* *Direction.* Ritz values lie inside the spectrum (Cauchy interlacing), so after any number of
  steps the Lanczos estimate of :math:`\lambda_{\min}` is :math:`\ge` the true value and the
  estimate of :math:`\lambda_{\max}` (hence of :math:`\lVert A\rVert_2`) is :math:`\le` the true
  value. Both errors point *against* soundness: :math:`\mu` is over-, :math:`L` and :math:`\beta`
  are under-estimated. Power iteration's Rayleigh quotient has the same direction, and since the
  Krylov space contains the power iterate, Lanczos with the same start and the same number of
  products is never further off.
* *Residual.* For each Ritz pair :math:`(\theta, y)` the residual
  :math:`r = \lVert A y - \theta y\rVert = |\beta_k s_k|` is computed for free, and the interval
  :math:`[\theta - r, \theta + r]` is guaranteed to contain *an* eigenvalue of :math:`A`
  (Kahan–Parlett–Jiang, in exact arithmetic). It does **not** guarantee that this eigenvalue is
  the extreme one: a start vector (nearly) orthogonal to the extreme eigenvector, or a cluster
  of eigenvalues, can hide it for many steps. Random Gaussian starts make exact orthogonality a
  probability-zero event, and the Kaniel–Paige bound gives convergence rates in terms of the
  spectral gap, but no finite number of steps is a proof.
* *Rounding.* Products run in the dtype of ``points`` (float32 for large networks: relative
  errors of order :math:`10^{-6}\lVert A\rVert` in each Ritz value); the tridiagonal eigenproblem
  runs in float64.
* *Region.* A value at a point says nothing about the points between samples; a sampled
  "certified" is an estimate. Sound region bounds need the interval methods.

**Cost per point** with ``k = iterations`` (one product = one JVP or VJP of :math:`F_i`; for a
game built from losses a JVP of :math:`F_i` is a Hessian-vector product of :math:`f_i`, about 2–4
gradient evaluations (Pearlmutter 1994)):

* :math:`\mu_i` and :math:`\lVert J_{ii}\rVert` (both ends of one Lanczos run on
  :math:`\operatorname{sym}J_{ii}`): ``k`` JVPs when :math:`J_{ii}` is known symmetric (games from
  losses), else ``k`` JVPs + ``k`` VJPs; plus :math:`O(k^2 d_i)` flops of reorthogonalisation.
* :math:`L_{ij}`: ``k`` JVPs + ``k`` VJPs of :math:`F_i` (Lanczos or power on :math:`J_{ij}^\top J_{ij}`).
* :math:`\lVert DF\rVert_2`, :math:`\lambda_{\min}(\operatorname{sym}DF)`, :math:`\beta(w)`: ``k``
  JVPs + ``k`` VJPs of :math:`F` each (a JVP of :math:`F` costs one JVP of every :math:`F_i`).

For ``N`` players of size ``d`` and losses: about :math:`k\,(N + 2N(N-1) + 4N)` player products
per point for the full set, and one linearisation per player and one of :math:`F`.

References:
  Lanczos, An iteration method for the solution of the eigenvalue problem of linear
  differential and integral operators, J. Res. Nat. Bur. Standards 45, 1950.
  Parlett, *The Symmetric Eigenvalue Problem*, SIAM, 1998 (residual bounds, Kaniel–Paige theory).
  Pearlmutter, Fast exact multiplication by the Hessian, Neural Computation 6(1), 1994.
  Ghorbani, Krishnan & Xiao, `An Investigation into Neural Net Optimization via Hessian
  Eigenvalue Density <https://arxiv.org/abs/1901.10159>`_, 2019 (Lanczos on network Hessians).
"""

from __future__ import annotations

import dataclasses
import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from certify._bound_types import BlockBounds, WeightedBounds
from certify.bounds._sampling import sample_points
from games import Game, Region
from sgn import _checks

MATRIX_FREE_METHODS = ("lanczos", "power")
_BREAKDOWN = 1e3  # Lanczos breakdown: beta <= _BREAKDOWN * eps * (running operator scale).


# --- symmetric extreme eigenvalues of an operator -----------------------------------------------


def _lanczos_coefficients(matvec, v0, iterations: int):
    r"""Lanczos with full (twice-applied) Gram–Schmidt reorthogonalisation.

    Returns the tridiagonal coefficients ``(alpha (k,), beta (k,))`` of
    :math:`T_k = V_k^\top A V_k`; ``beta[j]`` is the norm of the residual after step ``j``.
    Traceable: ``iterations`` is static, the loop is ``lax.fori_loop``.
    """
    n = v0.shape[0]
    dtype = v0.dtype
    basis = jnp.zeros((iterations + 1, n), dtype)
    basis = basis.at[0].set(v0 / jnp.linalg.norm(v0))

    def body(j, carry):
        basis, alpha, beta = carry
        v = basis[j]
        w = matvec(v)
        a = jnp.vdot(v, w)
        w = w - basis.T @ (basis @ w)  # rows > j are zero: projects on span(v_0..v_j)
        w = w - basis.T @ (basis @ w)
        b = jnp.linalg.norm(w)
        nxt = jnp.where(b > 0, w / jnp.where(b > 0, b, 1.0), jnp.zeros_like(w))
        return basis.at[j + 1].set(nxt), alpha.at[j].set(a), beta.at[j].set(b)

    carry = (basis, jnp.zeros(iterations, dtype), jnp.zeros(iterations, dtype))
    _, alpha, beta = jax.lax.fori_loop(0, iterations, body, carry)
    return alpha, beta


def _power_coefficients(matvec, v0, iterations: int):
    """Power iteration on a positive semidefinite operator: returns ``(rayleigh, residual)``."""

    def body(_, v):
        w = matvec(v)
        return w / jnp.maximum(jnp.linalg.norm(w), jnp.finfo(v.dtype).tiny)

    v = jax.lax.fori_loop(0, iterations, body, v0 / jnp.linalg.norm(v0))
    w = matvec(v)
    rq = jnp.vdot(v, w)
    return rq, jnp.linalg.norm(w - rq * v)


@dataclasses.dataclass(frozen=True)
class RitzEstimate:
    r"""Extreme Ritz values of a symmetric operator with their residual norms (host, float64).

    Attributes:
      low: smallest Ritz value (``>=`` the operator's smallest eigenvalue).
      high: largest Ritz value (``<=`` the operator's largest eigenvalue).
      low_residual: :math:`\lVert Ay - \theta y\rVert` for ``low``: some eigenvalue lies within it.
      high_residual: the same for ``high``.
      steps: Krylov steps used before breakdown (an exact invariant subspace) or ``iterations``.

    Examples:
      >>> import jax.numpy as jnp
      >>> r = lanczos_extremes(lambda v: jnp.array([2.0, 5.0]) * v, jnp.ones(2), iterations=2)
      >>> round(r.low, 6), round(r.high, 6), r.steps
      (2.0, 5.0, 2)
    """

    low: float
    high: float
    low_residual: float
    high_residual: float
    steps: int


def _ritz_from_coefficients(alpha, beta) -> RitzEstimate:
    """Host-side float64 eigen-solve of the tridiagonal, truncated at the first breakdown."""
    single = np.asarray(alpha).dtype == np.float32
    alpha = np.asarray(alpha, np.float64)
    beta = np.asarray(beta, np.float64)
    k = alpha.shape[0]
    if not (np.all(np.isfinite(alpha)) and np.all(np.isfinite(beta))):
        nan = math.nan
        return RitzEstimate(nan, nan, nan, nan, k)
    eps = float(np.finfo(np.float32 if single else np.float64).eps)
    scale = np.maximum.accumulate(np.abs(alpha) + beta)
    broke = beta <= _BREAKDOWN * eps * np.maximum(scale, np.finfo(np.float64).tiny)
    steps = int(np.argmax(broke)) + 1 if np.any(broke) else k
    a, b = alpha[:steps], beta[:steps - 1]
    import scipy.linalg  # on first use: keeps SciPy's linear algebra out of `import certify`

    theta, s = scipy.linalg.eigh_tridiagonal(a, b)
    last = 0.0 if steps < k or broke[-1] else float(beta[-1])
    res = np.abs(last * s[-1, :])
    return RitzEstimate(float(theta[0]), float(theta[-1]), float(res[0]), float(res[-1]), steps)


def lanczos_extremes(matvec, v0, *, iterations: int) -> RitzEstimate:
    """Extreme eigenvalue estimates of a symmetric operator by Lanczos (matrix-free).

    Args:
      matvec: ``v -> A v`` for a symmetric ``A`` on ``(n,)`` vectors (JAX-traceable).
      v0: ``(n,)`` nonzero start vector (its dtype sets the working precision).
      iterations: Krylov steps ``k`` (``k`` products with ``A``); capped at ``n``.

    Returns:
      :class:`RitzEstimate` (Ritz values bracket *inside* the spectrum, see the module notes).

    Raises:
      ValueError: for ``iterations < 1`` or a start vector that is not rank 1.

    Examples:
      >>> import jax.numpy as jnp
      >>> a = jnp.diag(jnp.arange(1.0, 6.0))
      >>> r = lanczos_extremes(lambda v: a @ v, jnp.ones(5), iterations=5)
      >>> round(r.low, 6), round(r.high, 6)
      (1.0, 5.0)
    """
    _check_iterations(iterations)
    _checks.check_rank(v0, 1, "v0")
    k = min(int(iterations), int(np.shape(v0)[0]))
    alpha, beta = jax.jit(_lanczos_coefficients, static_argnums=(0, 2))(matvec, jnp.asarray(v0), k)
    return _ritz_from_coefficients(alpha, beta)


def _check_iterations(iterations):
    _checks.check_int(iterations, "iterations", least=1)


# --- block operators of a game ------------------------------------------------------------------


def _player_functions(game: Game):
    """Per-player ``F_i: (dim,) -> (d_i,)`` and whether ``J_ii`` is symmetric by construction."""
    blocks = game.blocks
    if game.losses is not None:
        fns = tuple(functools.partial(_own_gradient, f, b) for f, b in zip(game.losses, blocks, strict=True))
        return fns, True
    return tuple(functools.partial(_block_of, game.pseudo_gradient, b) for b in blocks), False


def _own_gradient(loss, block, x):
    return jax.grad(loss)(x)[block]


def _block_of(pseudo_gradient, block, x):
    return pseudo_gradient(x)[block]


def _embed(v, block: slice, dim: int):
    return jnp.zeros((dim,), v.dtype).at[block].set(v)


def _krylov(method, matvec, v0, k):
    if method == "lanczos":
        return _lanczos_coefficients(matvec, v0, k)
    rq, res = _power_coefficients(matvec, v0, k)
    return rq[None], res[None]


@functools.lru_cache(maxsize=32)
def _point_kernel(game: Game, iterations: int, method: str, full: bool):
    """One jitted kernel per (game, iterations, method): all Krylov coefficients at one point."""
    fns, symmetric = _player_functions(game)
    blocks, dims, dim, n = game.blocks, game.dims, game.dim, game.n_players

    def kernel(x, base):
        out = {}
        lins = [jax.linearize(f, x)[1] for f in fns]
        trans = [jax.linear_transpose(lin, x) for lin in lins]
        for i in range(n):
            bi = blocks[i]

            def jii(v, i=i, bi=bi):
                return lins[i](_embed(v, bi, dim))

            def sym_jii(v, i=i, bi=bi):
                return 0.5 * (jii(v) + trans[i](v)[0][bi])

            op = jii if symmetric else sym_jii
            k = min(iterations, dims[i])
            v0 = base[bi]
            out[f"sym{i}"] = _lanczos_coefficients(op, v0, k)
            if not symmetric:

                def gram_ii(v, i=i, bi=bi):
                    return trans[i](jii(v))[0][bi]

                out[f"norm{i}"] = _krylov(method, gram_ii, v0, k)
            for j in range(n):
                if j == i:
                    continue
                bj = blocks[j]

                def gram(v, i=i, bj=bj):
                    return trans[i](lins[i](_embed(v, bj, dim)))[0][bj]

                v0 = base[bj]
                out[f"gram{i}{j}"] = _krylov(method, gram, v0, min(iterations, dims[j]))
        if full:
            _, lin = jax.linearize(game.pseudo_gradient, x)
            tr = jax.linear_transpose(lin, x)
            k = min(iterations, dim)
            v0 = base
            out["full_gram"] = _krylov(method, lambda v: tr(lin(v))[0], v0, k)
            out["full_sym"] = _lanczos_coefficients(lambda v: 0.5 * (lin(v) + tr(v)[0]), v0, k)
        return out

    return jax.jit(kernel)


@functools.lru_cache(maxsize=32)
def _weighted_kernel(game: Game, iterations: int, method: str):
    dims, dim = game.dims, game.dim

    def kernel(x, weights, v0):
        root = jnp.sqrt(weights).astype(x.dtype)  # concatenate, not repeat: no (dim,) index constant to fold
        s = jnp.concatenate([jnp.full((d,), root[i], x.dtype) for i, d in enumerate(dims)])
        _, lin = jax.linearize(game.pseudo_gradient, x)
        tr = jax.linear_transpose(lin, x)

        def gram(v):  # B^T B v with B = S DF S^{-1}
            u = s * lin(v / s)
            return tr(s * u)[0] / s

        return _krylov(method, gram, v0, min(iterations, dim))

    return jax.jit(kernel)


def _largest(coeffs, method) -> tuple[float, float]:
    """``(lambda_max estimate, residual)`` of a PSD operator from Krylov coefficients."""
    a, b = coeffs
    if method == "power":
        return float(np.asarray(a)[0]), float(np.asarray(b)[0])
    r = _ritz_from_coefficients(a, b)
    return r.high, r.high_residual


@dataclasses.dataclass(frozen=True)
class PointEstimate:
    r"""Matrix-free estimates at one point, with the Lanczos/power residuals (host, float64).

    Attributes:
      mu: ``(n_players,)`` estimates of :math:`\lambda_{\min}(\operatorname{sym}J_{ii}(x))`.
      coupling: ``(n_players, n_players)`` estimates of :math:`\lVert J_{ij}(x)\rVert_2`.
      block_norm: ``(n_players,)`` estimates of :math:`\lVert J_{ii}(x)\rVert_2`.
      lipschitz: estimate of :math:`\lVert DF(x)\rVert_2` (NaN when not computed).
      euclidean_margin: estimate of :math:`\lambda_{\min}(\operatorname{sym}DF(x))` (NaN when not computed).
      mu_residual: ``(n_players,)`` Ritz residuals of ``mu`` (an eigenvalue lies within).
      coupling_residual: ``(n_players, n_players)`` residuals for :math:`\lVert J_{ij}\rVert_2^2`.

    Examples:
      >>> import games, numpy as np
      >>> e = matrix_free_point_estimate(games.get_game("sgn-toy"), np.zeros(2), iterations=2)
      >>> e.coupling.round(6).tolist(), e.mu_residual.shape
      ([[0.0, 10.0], [0.05, 0.0]], (2,))
    """

    mu: np.ndarray
    coupling: np.ndarray
    block_norm: np.ndarray
    lipschitz: float
    euclidean_margin: float
    mu_residual: np.ndarray
    coupling_residual: np.ndarray


def _check_game(game):
    if not isinstance(game, Game):
        raise TypeError(f"expected a games.Game, got {type(game).__name__}")
    if game.geometry != "euclidean":
        raise ValueError(f"expected a game in the euclidean geometry, got {game.geometry!r}")


def _check_method(method):
    if method not in MATRIX_FREE_METHODS:
        raise ValueError(f"expected a matrix-free method in {MATRIX_FREE_METHODS}, got {method!r}")


def _as_points(game: Game, points):
    if isinstance(points, jax.Array):
        pts = points
    else:
        try:
            pts = np.asarray(points)
        except (TypeError, ValueError) as err:
            raise TypeError(f"expected points as an array, got {type(points).__name__}") from err
        if not np.issubdtype(pts.dtype, np.floating):
            raise TypeError(f"expected floating-point points, got dtype {pts.dtype}")
    if pts.ndim == 1:
        pts = pts[None]
    if pts.ndim != 2 or pts.shape[1] != game.dim or pts.shape[0] == 0:
        raise ValueError(f"expected points of shape (n_points, {game.dim}) or ({game.dim},), "
                         f"got {tuple(np.shape(points))}")
    return pts


def _check_seed(seed):
    if not isinstance(seed, int | np.integer) or isinstance(seed, bool):
        raise TypeError(f"expected an int seed, got {type(seed).__name__}")


def _start_vector(seed: int, p: int, dim: int, dtype):
    """Gaussian start vector for point ``p``, drawn on the host (jax's threefry compiles slowly on CPU)."""
    rng = np.random.default_rng([int(seed), int(p)])
    return jnp.asarray(rng.standard_normal(dim, dtype=np.float32).astype(dtype))


def matrix_free_point_estimate(game: Game, x, *, iterations: int = 30, seed: int = 0, method: str = "lanczos",
                               full: bool = True) -> PointEstimate:
    r"""Matrix-free estimates of every block quantity at one point ``x`` (see the module notes).

    Args:
      game: a :class:`games.Game` (losses are used when present: ``J_ii`` is then a Hessian).
      x: ``(dim,)`` point; its dtype (float32 or float64) is the working precision.
      iterations: Krylov steps per quantity (capped at the operator's size).
      seed: seed of the Gaussian start vectors (drawn on the host).
      method: ``"lanczos"`` (default) or ``"power"`` for the norms (``mu`` always uses Lanczos).
      full: also estimate :math:`\lVert DF\rVert_2` and :math:`\lambda_{\min}(\operatorname{sym}DF)`.

    Returns:
      :class:`PointEstimate`.

    Raises:
      TypeError: for a non-game, a non-array point or a non-int seed.
      ValueError: for a point of the wrong shape, bad ``iterations`` or ``method``.

    Examples:
      >>> import games, numpy as np
      >>> g = games.quadratic([[2.0, 3.0], [0.5, 1.0]])
      >>> e = matrix_free_point_estimate(g, np.zeros(2), iterations=4)
      >>> np.round(e.mu, 6).tolist(), np.round(e.coupling, 6).tolist()
      ([2.0, 1.0], [[0.0, 3.0], [0.5, 0.0]])
    """
    _check_game(game)
    _check_iterations(iterations)
    _check_method(method)
    pts = _as_points(game, x)
    if pts.shape[0] != 1:
        raise ValueError(f"expected one point of shape ({game.dim},), got {tuple(np.shape(x))}")
    kernel = _point_kernel(game, int(iterations), method, bool(full))
    _check_seed(seed)
    out = kernel(jnp.asarray(pts[0]), _start_vector(seed, 0, game.dim, pts.dtype))
    return _reduce_point(game, out, method, full)


def _reduce_point(game, out, method, full) -> PointEstimate:
    n = game.n_players
    mu, block, mu_res = np.zeros(n), np.zeros(n), np.zeros(n)
    coupling, coupling_res = np.zeros((n, n)), np.zeros((n, n))
    for i in range(n):
        r = _ritz_from_coefficients(*out[f"sym{i}"])
        mu[i], mu_res[i] = r.low, r.low_residual
        if f"norm{i}" in out:
            block[i] = math.sqrt(max(_largest(out[f"norm{i}"], method)[0], 0.0))
        else:
            block[i] = max(abs(r.low), abs(r.high))
        for j in range(n):
            if i != j:
                lam, res = _largest(out[f"gram{i}{j}"], method)
                coupling[i, j], coupling_res[i, j] = math.sqrt(max(lam, 0.0)), res
    lip = euc = math.nan
    if full:
        lip = math.sqrt(max(_largest(out["full_gram"], method)[0], 0.0))
        euc = _ritz_from_coefficients(*out["full_sym"]).low
    return PointEstimate(mu, coupling, block, lip, euc, mu_res, coupling_res)


def matrix_free_block_bounds(game: Game, points, *, iterations: int = 30, seed: int = 0, method: str = "lanczos",
                             full: bool = True) -> BlockBounds:
    r"""Sampled block bounds from matrix-free estimates at a few points (never a Jacobian).

    .. math::

       \hat\mu_i = \min_p \hat\lambda_{\min}(\operatorname{sym}J_{ii}(x_p)), \qquad
       \hat L_{ij} = \max_p \widehat{\lVert J_{ij}(x_p)\rVert}_2 .

    These are local values at the points, or their extremes over the points: an estimate
    (``kind="sampled"``), not a bound over any region (see the module's error model).

    Args:
      game: a :class:`games.Game` (for networks: :func:`games._neural.from_pytree_losses`).
      points: ``(n_points, dim)`` or ``(dim,)`` points; their dtype is the working precision.
      iterations: Krylov steps per quantity and point.
      seed: seed of the Gaussian start vectors (point ``p`` uses the stream ``(seed, p)``).
      method: ``"lanczos"`` or ``"power"`` for the norms.
      full: also estimate :math:`\lVert DF\rVert_2` and :math:`\lambda_{\min}(\operatorname{sym} DF)`
        (NaN in the result otherwise).

    Returns:
      :class:`certify.BlockBounds` with ``kind="sampled"`` and ``n_points`` the number of points.

    Raises:
      TypeError, ValueError: as :func:`matrix_free_point_estimate`.

    Examples:
      >>> import games, numpy as np
      >>> g = games.from_losses([lambda z: z[0] ** 2 + z[0] * z[1], lambda z: z[1] ** 4 - z[0] * z[1]],
      ...                       (1, 1))
      >>> b = matrix_free_block_bounds(g, np.array([[0.0, 0.5], [0.0, 1.0]]), iterations=2)
      >>> b.kind, np.round(b.mu, 6).tolist()  # f_1'' = 2, f_2'' = 12 y^2: min over y = 0.5, 1
      ('sampled', [2.0, 3.0])
    """
    _check_game(game)
    _check_iterations(iterations)
    _check_method(method)
    pts = _as_points(game, points)
    _check_seed(seed)
    kernel = _point_kernel(game, int(iterations), method, bool(full))
    ests = []
    for p in range(pts.shape[0]):
        out = kernel(jnp.asarray(pts[p]), _start_vector(seed, p, game.dim, pts.dtype))
        ests.append(_reduce_point(game, out, method, full))
    mu = np.min([e.mu for e in ests], axis=0)
    coupling = np.max([e.coupling for e in ests], axis=0)
    block = np.max([e.block_norm for e in ests], axis=0)
    lip = float(np.max([e.lipschitz for e in ests]))
    euc = float(np.min([e.euclidean_margin for e in ests]))
    return BlockBounds(mu, coupling, block, lip, euc, kind="sampled", n_points=int(pts.shape[0]))


def matrix_free_weighted_lipschitz(game: Game, points, weights, *, iterations: int = 30, seed: int = 0,
                                   method: str = "lanczos") -> float:
    r"""Estimate of :math:`\beta(w) = \max_p \lVert M^{1/2} DF(x_p) M^{-1/2}\rVert_2`, matrix-free.

    ``k`` JVPs and ``k`` VJPs of :math:`F` per point, on :math:`B^\top B` with
    :math:`B = M^{1/2} DF M^{-1/2}`; an under-estimate at each point (see the module notes).

    Args:
      game: a :class:`games.Game`.
      points: ``(n_points, dim)`` or ``(dim,)``.
      weights: ``(n_players,)`` positive block weights.
      iterations: Krylov steps per point.
      seed: seed of the Gaussian start vectors.
      method: ``"lanczos"`` or ``"power"``.

    Returns:
      The estimate (Python float).

    Raises:
      TypeError, ValueError: for malformed arguments (as above; weights must be positive).

    Examples:
      >>> import games, numpy as np
      >>> g = games.get_game("sgn-toy")
      >>> round(matrix_free_weighted_lipschitz(g, np.zeros(2), np.array([1.0, 200.0]), iterations=2), 5)
      1.70711
    """
    _check_game(game)
    _check_iterations(iterations)
    _check_method(method)
    _checks.check_weights(weights, game.n_players)
    pts = _as_points(game, points)
    _check_seed(seed)
    kernel = _weighted_kernel(game, int(iterations), method)
    w = jnp.asarray(np.asarray(weights, np.float64)).astype(pts.dtype)
    vals = []
    for p in range(pts.shape[0]):
        lam, _ = _largest(kernel(jnp.asarray(pts[p]), w, _start_vector(seed, p, game.dim, pts.dtype)), method)
        vals.append(math.sqrt(max(lam, 0.0)))
    return float(np.max(vals))


def matrix_free_region_bounds(game: Game, region: Region, *, n_samples: int = 4, seed: int = 0,
                              iterations: int = 30, method: str = "lanczos", full: bool = True,
                              points=None) -> BlockBounds:
    """Matrix-free estimates at the region's centre and ``n_samples`` seeded uniform points.

    The points come from :func:`certify.bounds.sample_points` (no vertices: ``dim`` may be huge;
    the centre first), in float32 when ``dim > 10**5`` and float64 otherwise, unless ``points``
    are given. The result is ``kind="sampled"``: an estimate, not a bound over the region; its
    ``weighted_lipschitz(w)`` runs :func:`matrix_free_weighted_lipschitz` on the same points
    (:class:`MatrixFreePoints`).

    Examples:
      >>> import games
      >>> g = games.get_game("tanh-sin")
      >>> b = matrix_free_region_bounds(g, g.region, n_samples=8, iterations=2)
      >>> b.kind, b.n_points
      ('sampled', 9)
    """
    _check_game(game)
    if points is None:
        dtype = np.float32 if game.dim > 10**5 else np.float64
        pts = sample_points(region, n_samples=n_samples, seed=seed, vertices=False)
        points = np.roll(pts, 1, axis=0).astype(dtype)  # the centre first
    bb = matrix_free_block_bounds(game, points, iterations=iterations, seed=seed, method=method, full=full)
    evidence = MatrixFreePoints(game, points, int(iterations), int(seed), method)
    return dataclasses.replace(bb, weighted=evidence.at_weights)


@dataclasses.dataclass(frozen=True, eq=False)
class MatrixFreePoints:
    r"""The evidence of matrix-free bounds: the points and the Krylov settings (start vectors come from ``seed``).

    No Jacobian is stored, so :math:`\hat\beta(w) = \max_p\lVert M^{1/2}DF(x_p)M^{-1/2}\rVert_2` is
    a deterministic function of this evidence that runs ``iterations`` JVPs and VJPs per point
    again (the compiled kernel is cached per game and settings). Why not store more: the Krylov
    space of :math:`M^{1/2}DF\,M^{-1/2}` depends on :math:`w`; keeping enough products to rebuild
    it for every :math:`w` (:math:`DF\,E_jV` for each player :math:`j` and Krylov basis :math:`V`)
    costs ``n_players * iterations`` vectors of length ``dim`` per point (gigabytes for network
    players) and, projected on a stored basis, would give another estimate than Lanczos on the
    weighted operator. There is no matrix-free direct modulus: NaN.

    Examples:
      >>> import games, numpy as np
      >>> e = MatrixFreePoints(games.get_game("sgn-toy"), np.zeros((1, 2)), iterations=2, seed=0, method="lanczos")
      >>> round(e.at_weights(np.array([1.0, 200.0])).lipschitz, 5)  # 1 + 1/sqrt(2)
      1.70711
    """

    game: Game = dataclasses.field(repr=False)
    points: np.ndarray = dataclasses.field(repr=False)
    iterations: int
    seed: int
    method: str

    def at_weights(self, weights) -> WeightedBounds:
        r""":math:`\hat\beta(w)` over the stored points (:func:`matrix_free_weighted_lipschitz`); no direct modulus."""
        beta = matrix_free_weighted_lipschitz(self.game, self.points, weights, iterations=self.iterations,
                                              seed=self.seed, method=self.method)
        return WeightedBounds(beta)
