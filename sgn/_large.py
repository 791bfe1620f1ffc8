r"""Perron weights for many players: sparse Noda iteration on the host, dense Noda iteration in JAX.

The best SGN margin over all block weights is the Perron value of the comparison Z-matrix
:math:`K = \operatorname{diag}(\mu) - L` (spec-sgn-math §4A),

.. math::

   \sup_{w>0}\alpha_*(w) = \lambda_P(K) = s - \rho(sI - K), \qquad
   w_i^* = v_i / u_i,\quad K u = \lambda_P u,\ v^\top K = \lambda_P v^\top .

For ``n_players`` in the thousands with sparse couplings (ring, grid, Erdős–Rényi networks) a
dense nonsymmetric eigensolver costs :math:`O(N^3)`. We instead run **Noda's inverse iteration**
on the M-matrix :math:`K`: with :math:`x_0 > 0` and the Collatz–Wielandt bracket

.. math::

   t_k = \min_i \frac{(K x_k)_i}{x_{k,i}} \;\le\; \lambda_P(K) \;\le\;
   \max_i \frac{(K x_k)_i}{x_{k,i}},\qquad
   x_{k+1} = (K - t_k I)^{-1} x_k / \lVert\cdot\rVert_\infty ,

the iterates stay positive (the inverse of a nonsingular M-matrix is nonnegative) and the bracket
closes quadratically (Noda 1971; Elsner 1976). Each step is one sparse LU of
:math:`K - t_k I` (SuperLU), :math:`O(\mathrm{nnz})` for the 1-D/2-D networks here.

The bracket also gives a **certificate without any eigensolve**: if :math:`(K-tI)u \ge 0` and
:math:`(K-tI)^\top v \ge 0` with :math:`u, v > 0`, then
:math:`\operatorname{diag}(u)\,C(v/u, t)\,\operatorname{diag}(u) = G + G^\top` with
:math:`G = \operatorname{diag}(v)(K-tI)\operatorname{diag}(u)` a Z-matrix with nonnegative row and
column sums, hence :math:`C(v/u, t) \succeq 0` and :math:`\alpha_*(v/u) \ge t`
(spec-sgn-math §4C). Reducible :math:`K` is handled per connected component when the strong
components are not linked to each other, and otherwise (a cascade: the supremum is not attained)
by adding the missing reverse links with a vanishing weight :math:`\varepsilon`; since
:math:`K \ge K_\varepsilon` entrywise, the bracket computed for :math:`K_\varepsilon` is still a
valid lower bound for :math:`K`.

**No factorisation where it would fill in.** SuperLU is cheap on rings and grids (banded and
planar graphs) but fills in on expander-like graphs (Erdős–Rényi): a connected block with more
than ``KRYLOV_MIN`` players is first tried with ARPACK (implicitly restarted Arnoldi on the
nonnegative :math:`sI - K`, matrix-vector products only), and its vector is kept only when no
entry is below ``LOCALISED`` of the largest and its Collatz–Wielandt lower bound agrees with
ARPACK's eigenvalue to the tolerance (on rings and grids the Perron vector has entries far below
:math:`10^{-16}` of its largest, which a Krylov basis cannot resolve; there Noda's iteration runs
as before). Either way the bracket is computed from the vector itself, so it holds whatever
produced the vector.

The host functions are float64 (certificates); SciPy is imported when they run, not with
:mod:`sgn`. :func:`perron_weights_jax` is the dense, ``jit``/``vmap``-able variant for sweeps over
many small comparison matrices (fixed number of Noda steps with a ``jnp.linalg.solve`` each; it
runs on accelerators, where ``eig`` does not). The Collatz–Wielandt bounds are computed in
floating point without directed rounding; they are reported as estimates of the bracket, and
callers recompute :math:`\alpha_*(w)` exactly (for many players, as such a bound on
:math:`S(w)`: :func:`sparse_small_gain_margin`).

References:
  Noda, `Note on the computation of the maximal eigenvalue of a non-negative irreducible matrix
  <https://doi.org/10.1007/BF01395725>`_, Numer. Math. 17, 1971.
  Elsner, Inverse iteration for calculating the spectral radius of a non-negative irreducible
  matrix, Linear Algebra Appl. 15, 1976.
  Kaszkurewicz & Bhaya, Matrix Diagonal Stability in Systems and Computation, 2000.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from sgn import _checks
from sgn._backend import is_sparse
from sgn._margin import gain_matrix

DENSE_MARGIN_MAX = 200
"""Up to this many players :func:`sparse_small_gain_margin` uses a dense ``eigvalsh``."""
KRYLOV_MIN = 2048
"""Connected blocks larger than this try ARPACK before Noda's factorisations."""


def _scipy():
    """``(scipy.sparse, scipy.sparse.linalg, scipy.sparse.csgraph)``, imported on first use."""
    import scipy.sparse as sp
    from scipy.sparse import csgraph
    from scipy.sparse import linalg as spla

    return sp, spla, csgraph


def _as_sparse_pair(mu, coupling):
    mu = np.asarray(mu, dtype=np.float64)
    _checks.check_rank(mu, 1, "mu")
    n = mu.shape[0]
    if n == 0:
        raise ValueError("expected at least one player, got mu of length 0")
    _checks.check_finite(mu, "mu")
    sp, _, _ = _scipy()
    if sp.issparse(coupling):
        if coupling.shape != (n, n):
            raise ValueError(f"expected L of shape ({n}, {n}) to match mu, got {coupling.shape}")
        off = sp.csr_matrix(coupling, dtype=np.float64, copy=True)
    else:
        _checks.check_bounds_pair(mu, coupling)
        off = sp.csr_matrix(np.asarray(coupling, dtype=np.float64))
    off.setdiag(0.0)
    off.eliminate_zeros()
    if not np.all(np.isfinite(off.data)):
        raise ValueError("expected finite values in L, got NaN or Inf")
    if off.nnz and off.data.min() < 0:
        raise ValueError(f"expected nonnegative L, got min {float(off.data.min())!r}")
    return mu, off


def sparse_comparison_matrix(mu, coupling):
    r"""The comparison Z-matrix :math:`K = \operatorname{diag}(\mu) - L` as a SciPy CSR matrix.

    Args:
      mu: ``(n_players,)`` curvature lower bounds.
      coupling: ``(n_players, n_players)`` coupling upper bounds, dense or ``scipy.sparse``;
        the diagonal is ignored.

    Returns:
      ``scipy.sparse.csr_matrix`` of shape ``(n_players, n_players)`` (float64).

    Raises:
      ValueError: on shape mismatch, NaN/Inf or negative couplings.

    Examples:
      >>> import numpy as np
      >>> sparse_comparison_matrix(np.ones(2), np.array([[0, 10.0], [0.05, 0]])).toarray().tolist()
      [[1.0, -10.0], [-0.05, 1.0]]
    """
    mu, off = _as_sparse_pair(mu, coupling)
    return (_scipy()[0].diags(mu) - off).tocsr()


def collatz_wielandt_bounds(k, x):
    r"""Collatz–Wielandt bracket of the Perron value of a Z-matrix from a positive vector.

    .. math::

       \min_i \frac{(Kx)_i}{x_i} \le \lambda_P(K) \le \max_i \frac{(Kx)_i}{x_i}
       \quad (x > 0,\ K \text{ irreducible for the upper bound}).

    Args:
      k: ``(n, n)`` Z-matrix (dense or ``scipy.sparse``).
      x: ``(n,)`` positive vector.

    Returns:
      ``(lower, upper)`` Python floats (float64, no directed rounding).

    Examples:
      >>> import numpy as np
      >>> k = np.array([[1.0, -10.0], [-0.05, 1.0]])
      >>> lo, hi = collatz_wielandt_bounds(k, np.array([1.0, np.sqrt(0.005)]))
      >>> round(lo, 6), round(hi, 6)
      (0.292893, 0.292893)
    """
    x = np.asarray(x, dtype=np.float64)
    r = (k @ x) / x
    return float(np.min(r)), float(np.max(r))


class PerronBracket(NamedTuple):
    r"""Result of :func:`noda_perron` on one irreducible block.

    Attributes:
      vector: ``(n,)`` positive Perron vector, normalised to ``max = 1``.
      lower: Collatz–Wielandt lower bound on :math:`\lambda_P`.
      upper: Collatz–Wielandt upper bound on :math:`\lambda_P`.
      iterations: Noda steps taken.
      converged: ``upper - lower <= tol * scale`` was reached.

    Examples:
      >>> import numpy as np
      >>> r = noda_perron(np.array([[1.0, -0.5], [-0.5, 1.0]]))  # lambda_P = 1 - 0.5, vector (1, 1)
      >>> round(r.lower, 9), round(r.upper, 9), r.vector.tolist()
      (0.5, 0.5, [1.0, 1.0])
    """

    vector: np.ndarray
    lower: float
    upper: float
    iterations: int
    converged: bool


def _scale_of(k) -> float:
    a = abs(k) if is_sparse(k) else np.abs(k)
    return float(max(1.0, a.max()))


def noda_perron(k, *, tol: float = 1e-12, maxiter: int = 60) -> PerronBracket:
    r"""Perron value and vector of an irreducible Z-matrix by Noda's inverse iteration.

    .. math::

       x_{k+1} = (K - t_k I)^{-1} x_k,\qquad t_k = \min_i (K x_k)_i / x_{k,i}.

    Dense input uses ``numpy.linalg.solve``; sparse input a SuperLU factorisation per step.

    Args:
      k: ``(n, n)`` Z-matrix (dense ``ndarray`` or ``scipy.sparse``), irreducible.
      tol: stop when the bracket width is ``<= tol * max(1, max|K|)``.
      maxiter: maximum number of Noda steps.

    Returns:
      :class:`PerronBracket` (host NumPy, float64). Not ``jit``-able: it factorises sparse
      matrices on the host; see :func:`perron_weights_jax` for the traced variant.

    Examples:
      >>> import numpy as np
      >>> k = np.array([[1.0, -2, 0], [0, 1, -2], [-0.1, 0, 1]])  # TC8: 1 - 0.4**(1/3)
      >>> r = noda_perron(k)
      >>> round(r.lower, 6), round(r.upper, 6), r.converged
      (0.263194, 0.263194, True)
    """
    sparse = is_sparse(k)
    sp, spla, _ = _scipy() if sparse else (None, None, None)
    k = sp.csc_matrix(k, dtype=np.float64) if sparse else np.asarray(k, dtype=np.float64)
    n = k.shape[0]
    scale = _scale_of(k)
    eye = sp.identity(n, format="csc") if sparse else np.eye(n)
    x = np.ones(n)
    lo, hi = collatz_wielandt_bounds(k, x)
    it, stalled = 0, False
    while hi - lo > tol * scale and it < maxiter and not stalled:
        it += 1
        shift = lo - 1e-14 * scale
        try:
            if sparse:  # minimum degree on A^T + A: far less fill than COLAMD on expander graphs
                y = spla.splu(k - shift * eye, permc_spec="MMD_AT_PLUS_A").solve(x)
            else:
                y = np.linalg.solve(k - shift * eye, x)
        except (RuntimeError, np.linalg.LinAlgError):
            stalled = True  # exactly singular: the shift hit lambda_P
            break
        if not (np.all(np.isfinite(y)) and np.all(y > 0)):
            break
        y = y / y.max()
        nlo, nhi = collatz_wielandt_bounds(k, y)
        if not nlo >= lo - tol * scale:
            break
        stalled = it >= 2 and abs(nlo - lo) <= tol * scale
        if nlo >= lo:
            x, lo, hi = y, nlo, min(hi, nhi)
    # Tiny Perron-vector entries (exponentially localised vectors) spoil the upper CW bound in
    # floating point, so a stalled lower bound (quadratic convergence) also counts as converged.
    return PerronBracket(x, lo, hi, it, bool(hi - lo <= tol * scale or stalled))


@dataclasses.dataclass(frozen=True)
class LargePerronResult:
    r"""Perron weights for many players with the bracket that certifies them.

    Attributes:
      weights: ``(n_players,)`` weights ``v/u`` normalised to ``min(w) = 1``.
      lower: :math:`t` with :math:`\alpha_*(w) \ge t` by the Collatz–Wielandt argument.
      upper: an upper bound on :math:`\sup_w \alpha_*(w) = \lambda_P(K)`.
      n_components: connected components of the coupling graph solved separately.
      epsilon: relative weight of the added reverse links (``0`` unless ``K`` is a cascade).
      iterations: total Noda steps.
      converged: every block's bracket closed to ``tol``.

    Examples:
      >>> import numpy as np
      >>> ring = np.array([[0, 0.5, 0], [0, 0, 0.5], [0.5, 0, 0]])  # K = I - P/2: lambda_P = 1/2
      >>> r = optimal_weights_sparse(np.ones(3), ring)
      >>> r.n_components, round(r.lower, 9), r.weights.tolist(), r.converged
      (1, 0.5, [1.0, 1.0, 1.0], True)
    """

    weights: np.ndarray
    lower: float
    upper: float
    n_components: int
    epsilon: float
    iterations: int
    converged: bool


LOCALISED = 1e-6
"""A Krylov Perron vector with an entry below this fraction of its largest is not used."""


def _krylov_perron(k, tol: float, symmetric: bool) -> PerronBracket | None:
    """Perron pair of an irreducible sparse Z-matrix by ARPACK, or ``None`` when it cannot be trusted.

    ARPACK finds the eigenvalue of largest real part of the nonnegative :math:`sI - K` from
    matrix-vector products (Lanczos when ``symmetric``), first to a loose tolerance, which is
    enough to reject a localised vector (an entry below ``LOCALISED`` of the largest), then to
    full accuracy. The vector (absolute values) is kept when the Collatz–Wielandt lower bound
    from it is within ``tol * scale`` of ARPACK's eigenvalue.
    """
    sp, spla, _ = _scipy()
    n = k.shape[0]
    shift = float(k.diagonal().max())
    p = (shift * sp.identity(n, format="csr") - k).tocsr()
    x = np.ones(n)
    for accuracy in (1e-4, 1e-13):
        try:
            if symmetric:
                vals, vecs = spla.eigsh(p, k=1, which="LA", tol=accuracy, v0=x, maxiter=50 * n)
            else:
                vals, vecs = spla.eigs(p, k=1, which="LR", tol=accuracy, v0=x, maxiter=50 * n)
        except (spla.ArpackNoConvergence, spla.ArpackError):
            return None
        x = np.abs(vecs[:, 0].real)
        if not (np.all(np.isfinite(x)) and x.max() > 0):
            return None
        x = x / x.max()
        if not np.all(x >= LOCALISED):
            return None
    lam = shift - float(vals[0].real)
    lo, hi = collatz_wielandt_bounds(k, x)
    if not lo >= lam - tol * _scale_of(k):
        return None
    return PerronBracket(x, lo, hi, 0, True)


def _perron_block(sub, tol, maxiter, symmetric=False) -> PerronBracket:
    """One connected block: dense Noda when small, ARPACK when large and trustworthy, else sparse Noda."""
    if sub.shape[0] <= 64:
        return noda_perron(sub.toarray(), tol=tol, maxiter=maxiter)
    if sub.shape[0] > KRYLOV_MIN:
        found = _krylov_perron(sub, tol, symmetric)
        if found is not None:
            return found
    return noda_perron(sub, tol=tol, maxiter=maxiter)


def _solve_components(k, labels, n_labels, tol, maxiter, *, symmetric=False, progress=None):
    """Perron vectors of each diagonal block of ``k`` given by ``labels``: right/left vectors, brackets.

    ``symmetric``: ``k`` is symmetric, so the left vectors are the right ones (solved once).
    ``progress``: a callable advanced by the number of players of each solved block.
    """
    n = k.shape[0]
    u, v = np.ones(n), np.ones(n)
    upper, iters, conv = np.inf, 0, True
    order = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[order], np.arange(n_labels + 1))
    kt = k if symmetric else k.T.tocsr()
    for c in range(n_labels):
        idx = order[bounds[c]:bounds[c + 1]]
        if progress is not None:
            progress(idx.size)
        if idx.size == 1:
            upper = min(upper, float(k[idx[0], idx[0]]))
            continue
        right = _perron_block(k[idx][:, idx], tol, maxiter, symmetric)
        left = right if symmetric else _perron_block(kt[idx][:, idx], tol, maxiter)
        u[idx], v[idx] = right.vector, left.vector
        upper = min(upper, right.upper, left.upper)
        iters += right.iterations + (0 if symmetric else left.iterations)
        conv = conv and right.converged and left.converged
    return u, v, upper, iters, conv


def optimal_weights_sparse(mu, coupling, *, tol: float = 1e-10, maxiter: int = 60,
                           progress=None) -> LargePerronResult:
    r"""Perron-optimal block weights for many players with sparse couplings.

    .. math::

       w = v / u,\qquad \alpha_*(w) \ge t = \min\Big(\min_i \tfrac{(Ku)_i}{u_i},\
       \min_i \tfrac{(K^\top v)_i}{v_i}\Big),\qquad t \to \lambda_P(K).

    Components of the coupling graph are solved independently (a block-diagonal :math:`K`
    has :math:`\lambda_P = \min_c \lambda_P(K_c)` and any relative scaling of the blocks). A
    cascade (strong components linked one way) is regularised by reverse links of relative
    weight :math:`\varepsilon = 10^{-2}, 10^{-3}, \dots` until the bracket closes to ``tol``.

    Host-side NumPy/SciPy (float64): sparse factorisations and graph components are not
    traceable.

    Args:
      mu: ``(n_players,)`` curvature lower bounds.
      coupling: ``(n_players, n_players)`` coupling upper bounds, dense or ``scipy.sparse``.
      tol: relative bracket tolerance.
      maxiter: Noda steps per block.
      progress: optional callable, advanced by the number of players of each solved block
        (e.g. a progress bar's ``update``).

    Returns:
      :class:`LargePerronResult`.

    Raises:
      ValueError: on malformed bounds.

    Examples:
      >>> import numpy as np
      >>> r = optimal_weights_sparse(np.ones(2), np.array([[0, 10.0], [0.05, 0]]))
      >>> np.round(r.weights, 6).tolist(), round(r.lower, 6)
      ([1.0, 200.0], 0.292893)
    """
    mu, off = _as_sparse_pair(mu, coupling)
    sp, _, csgraph = _scipy()
    n = mu.shape[0]
    k = (sp.diags(mu) - off).tocsr()
    n_weak, weak = csgraph.connected_components(off, directed=True, connection="weak")
    n_strong, strong = csgraph.connected_components(off, directed=True, connection="strong")
    scale = _scale_of(k)
    if n_strong == n_weak:
        u, v, upper, iters, conv = _solve_components(k, weak, n_weak, tol, maxiter, progress=progress)
        lower = _certified_lower(k, u, v)
        return LargePerronResult(_normalise(v / u), lower, min(upper, _cw_upper(k, u, v)), n_weak, 0.0,
                                 iters, conv)
    # Cascade: lambda_P(K) is the least Perron value of the strong components (upper bound from
    # their own brackets); regularise with reverse links so every weak component is irreducible.
    coo = off.tocoo()
    same = strong[coo.row] == strong[coo.col]
    inner = sp.csr_matrix((coo.data[same], (coo.row[same], coo.col[same])), shape=(n, n))
    k_inner = (sp.diags(mu) - inner).tocsr()
    u0, v0, upper, iters, conv = _solve_components(k_inner, strong, n_strong, tol, maxiter)
    target = _certified_lower(k_inner, u0, v0)  # ~ lambda_P(K) = min over strong components
    pattern = (off > 0).astype(np.float64)
    missing = ((pattern.T - pattern) > 0).astype(np.float64)
    best = None
    eps = 1e-2
    for _ in range(24):
        k_eps = (k - eps * scale * missing).tocsr()
        u, v, _, it, _ = _solve_components(k_eps, weak, n_weak, tol, maxiter)
        iters += it
        lower = _certified_lower(k, u, v)
        if best is None or lower > best[2]:
            best = (u, v, lower, eps)
        if lower >= target - tol * max(1.0, abs(target)):
            break
        eps *= 0.1
    u, v, lower, eps = best
    return LargePerronResult(_normalise(v / u), lower, upper, n_weak, eps, iters,
                             conv and lower >= target - tol * max(1.0, abs(target)))


def _certified_lower(k, u, v) -> float:
    return min(collatz_wielandt_bounds(k, u)[0], collatz_wielandt_bounds(k.T, v)[0])


def _cw_upper(k, u, v) -> float:
    return min(collatz_wielandt_bounds(k, u)[1], collatz_wielandt_bounds(k.T, v)[1])


def _normalise(w):
    w = np.where(np.isfinite(w) & (w > 0), w, 1.0)
    return w / w.min()


def sparse_small_gain_margin(mu, coupling, weights, *, lower_hint: float | None = None,
                             tol: float = 1e-10, progress=None) -> float:
    r"""SGN margin :math:`\alpha_*(w) = \lambda_{\min}(S(w))` for sparse couplings, never above it.

    :math:`S(w)` is :func:`sgn.gain_matrix` (built sparse). Dense ``eigvalsh`` up to
    ``DENSE_MARGIN_MAX`` players. Beyond, no eigensolver's Ritz value (which lies *above*
    :math:`\lambda_{\min}`) is used: :math:`S(w)` is a symmetric Z-matrix, so
    :math:`\lambda_{\min}(S) = \lambda_P(S) \ge \min_i (Sx)_i / x_i` for every :math:`x > 0`
    (Collatz–Wielandt), and at the Perron vector of each connected block (Noda's iteration, or
    ARPACK where a factorisation would fill in) the bound is within ``tol`` (relative) of the
    margin. The larger of that bound and ``lower_hint`` is returned. Host-side float64.

    Args:
      mu: ``(n_players,)`` curvature lower bounds.
      coupling: ``(n_players, n_players)`` coupling bounds, dense or ``scipy.sparse``.
      weights: ``(n_players,)`` positive weights.
      lower_hint: a proven lower bound on :math:`\alpha_*(w)` (e.g. the Collatz–Wielandt
        ``t`` of :func:`optimal_weights_sparse` for its own weights).
      tol: relative bracket tolerance of the Perron vectors (many players).
      progress: optional callable, advanced by the number of players of each solved block.

    Returns:
      Python float.

    Examples:
      >>> import numpy as np
      >>> round(sparse_small_gain_margin(np.ones(2), np.array([[0, 10.0], [0.05, 0]]), np.array([1.0, 200])), 6)
      0.292893
    """
    mu, off = _as_sparse_pair(mu, coupling)
    w = np.asarray(weights, dtype=np.float64)
    _checks.check_weights(w, mu.shape[0])
    s = gain_matrix(mu, off, w).tocsr()
    n = mu.shape[0]
    if n <= DENSE_MARGIN_MAX:
        return float(np.linalg.eigvalsh(s.toarray())[0])
    n_comp, labels = _scipy()[2].connected_components(s, directed=False)
    u, _, _, _, _ = _solve_components(s, labels, n_comp, tol, 60, symmetric=True, progress=progress)
    lower = collatz_wielandt_bounds(s, u)[0]
    return lower if lower_hint is None else max(lower, float(lower_hint))


def perron_weights_jax(mu, coupling, *, iterations: int = 32):
    r"""Dense Noda iteration in JAX: Perron weights and bracket, ``jit``/``vmap``-able.

    Runs a fixed number of steps :math:`x \leftarrow (K - t I)^{-1}x` (one ``jnp.linalg.solve``
    each) on both :math:`K` and :math:`K^\top`, accepting a step only while it keeps the iterate
    positive and does not lower the Collatz–Wielandt bound (``jnp.where``, no Python branching
    on traced values). For irreducible :math:`K` the bracket closes quadratically; for reducible
    :math:`K` the weights are finite but may fall short of the (unattained) supremum, which the
    bracket shows. Works in the dtype of the inputs (use float64 for certificates).

    Args:
      mu: ``(n_players,)`` curvature lower bounds.
      coupling: ``(n_players, n_players)`` coupling upper bounds (dense).
      iterations: Noda steps per side (static).

    Returns:
      ``(weights, lower, upper)``: ``(n_players,)`` weights with ``min = 1`` and the bracket
      :math:`t \le \lambda_P(K) \le \bar t` with :math:`\alpha_*(w) \ge t`.

    Examples:
      >>> import jax, numpy as np
      >>> w, lo, hi = jax.jit(perron_weights_jax)(np.ones(2), np.array([[0, 10.0], [0.05, 0]]))
      >>> np.round(np.asarray(w), 4).tolist(), round(float(lo), 6), round(float(hi), 6)
      ([1.0, 200.0], 0.292893, 0.292893)
    """
    mu = jnp.asarray(mu)
    coupling = jnp.asarray(coupling, dtype=mu.dtype)
    n = mu.shape[0]
    eye = jnp.eye(n, dtype=mu.dtype)
    k = jnp.diag(mu) - coupling * (1.0 - eye)
    scale = jnp.maximum(1.0, jnp.max(jnp.abs(k)))
    tiny = 16 * jnp.finfo(mu.dtype).eps * scale

    def cw(m, x):
        r = (m @ x) / x
        return jnp.min(r), jnp.max(r)

    def side(m):
        def body(_, carry):
            x, lo, hi = carry
            y = jnp.linalg.solve(m - (lo - tiny) * eye, x)
            ok = jnp.all(jnp.isfinite(y)) & jnp.all(y > 0)
            y = jnp.where(ok, y, x)
            y = y / jnp.max(y)
            nlo, nhi = cw(m, y)
            take = ok & (nlo >= lo)
            return (jnp.where(take, y, x), jnp.where(take, nlo, lo), jnp.where(take, jnp.minimum(hi, nhi), hi))

        x0 = jnp.ones(n, dtype=mu.dtype)
        lo0, hi0 = cw(m, x0)
        return jax.lax.fori_loop(0, iterations, body, (x0, lo0, hi0))

    u, lo_r, hi_r = side(k)
    v, lo_l, hi_l = side(k.T)
    w = v / u
    w = w / jnp.min(w)
    return w, jnp.minimum(lo_r, lo_l), jnp.minimum(hi_r, hi_l)
