r"""Step sizes and contraction factors for discretised gradient play in the SGN metric.

With margin :math:`\alpha = \alpha_*(w)` and weighted Lipschitz constant
:math:`\beta = \sup_K \lVert M^{1/2} DF M^{-1/2} \rVert_2` (spec-sgn-math §6):

* projected Euler contracts in :math:`\lVert\cdot\rVert_M` with factor
  :math:`q_E(h) = \sqrt{1 - 2h\alpha + h^2\beta^2} < 1` iff :math:`0 < h < 2\alpha/\beta^2`;
  the best step is :math:`h^* = \alpha/\beta^2`;
* RK4: the guideline :math:`h \le 2.5/\beta` is exact only for linear games whose scaled
  Jacobian :math:`M^{1/2} J M^{-1/2}` is normal; the rigorous (conservative) factor is
  :math:`q_{RK4}(h) = q_E(h) + (h\beta)^2/2 + (h\beta)^3/6 + (h\beta)^4/24`;
* for constant Jacobians the exact factor :math:`\lVert M^{1/2} P(-hJ) M^{-1/2} \rVert_2` is
  available, with :math:`P` the scheme's stability polynomial.

Host inputs (NumPy arrays, Python floats) are computed in float64 NumPy with no XLA compilation;
JAX arrays and tracers in ``jax.numpy``, so every function here is ``jit``/``vmap``-compatible.
"""

from __future__ import annotations

import jax
import numpy as np

from sgn import _checks
from sgn._backend import as_arrays, is_sparse, namespace
from sgn._margin import scaled_jacobian

RK4_GUIDELINE_CONSTANT = 2.5
"""RK4 guideline constant: |P(z)| <= 1 on the left half-disk of radius 2.61559 (spec §6.2)."""


def weighted_lipschitz(jacobian, weights, dims):
    r"""Lipschitz constant of a linear map in the metric :math:`M(w)`: :math:`\lVert M^{1/2} J M^{-1/2}\rVert_2`.

    Args:
      jacobian: ``(dim, dim)`` Jacobian (one point).
      weights: ``(n_players,)`` positive block weights.
      dims: block sizes (static).

    Returns:
      Scalar :math:`\beta`.

    Examples:
      >>> import numpy as np
      >>> J = np.array([[1.0, 10.0], [0.05, 1.0]])
      >>> round(float(weighted_lipschitz(J, np.array([1.0, 200.0]), (1, 1))), 5)
      1.70711
    """
    a = scaled_jacobian(jacobian, weights, dims)
    return namespace(a).linalg.svd(a, compute_uv=False)[0]


def block_lipschitz_bound(block_norm, coupling, weights):
    r"""Block bound on the weighted Lipschitz constant, :math:`\beta(w) \le \lVert B(w) \rVert_2`.

    :math:`B_{ii} = \sup\lVert J_{ii}\rVert` and :math:`B_{ij} = \sqrt{w_i/w_j}\,L_{ij}`.

    Valid whenever the block bounds are (spec-sgn-math §6.3); tight on the paper's toy game.
    A ``scipy.sparse`` coupling (many players) is never made dense: :math:`B(w) \ge 0`, so
    :math:`\lVert B\rVert_2^2 = \rho(B^\top B) \le \max_i (B^\top B x)_i / x_i` for any
    :math:`x > 0` (Collatz–Wielandt), evaluated after ``SPARSE_POWER_STEPS`` power steps and
    padded by ``1e-12`` relative for rounding: an upper bound, never an estimate from below.

    Args:
      block_norm: ``(n_players,)`` bounds on ``||J_ii||_2``.
      coupling: ``(n_players, n_players)`` coupling bounds, dense or ``scipy.sparse``.
      weights: ``(n_players,)`` positive weights.

    Returns:
      Scalar upper bound on :math:`\beta(w)`.

    Examples:
      >>> import numpy as np
      >>> L = np.array([[0, 10.0], [0.05, 0]])
      >>> round(float(block_lipschitz_bound(np.ones(2), L, np.array([1.0, 200.0]))), 5)
      1.70711
    """
    _checks.check_bounds_pair(block_norm, coupling)
    _checks.check_weights(weights, np.shape(block_norm)[0])
    if is_sparse(coupling):
        return _sparse_block_bound(block_norm, coupling, weights)
    xp, block_norm, coupling, weights = as_arrays(block_norm, coupling, weights)
    n = block_norm.shape[0]
    root = xp.sqrt(weights)
    b = coupling * (1.0 - xp.eye(n, dtype=coupling.dtype)) * (root[:, None] / root[None, :])
    b = b + xp.diag(block_norm)
    return xp.linalg.svd(b, compute_uv=False)[0]


SPARSE_POWER_STEPS = 200
"""Power steps on :math:`B^\top B` before its Collatz–Wielandt bound (sparse block bound)."""


def _sparse_block_bound(block_norm, coupling, weights) -> float:
    import scipy.sparse as sp  # the input is sparse: SciPy is already imported

    root = np.sqrt(np.asarray(weights, dtype=np.float64))
    off = sp.csr_matrix(coupling, dtype=np.float64, copy=True)
    off.setdiag(0.0)
    b = (sp.diags(root) @ off @ sp.diags(1.0 / root) + sp.diags(np.asarray(block_norm, np.float64))).tocsr()
    bt = b.T.tocsr()
    x = np.ones(b.shape[0])
    for _ in range(SPARSE_POWER_STEPS):  # x stays positive: (I + B^T B) has a positive diagonal
        y = x + bt @ (b @ x)
        x = y / y.max()
    ratio = float(np.max((bt @ (b @ x)) / x))
    return float(np.sqrt(max(ratio, 0.0)) * (1.0 + 1e-12))


def euler_step_bound(margin, lipschitz):
    r"""Largest certified projected-Euler step :math:`h_E = 2\alpha/\beta^2` (0 when ``margin <= 0``).

    Args:
      margin: SGN margin :math:`\alpha`.
      lipschitz: weighted Lipschitz constant :math:`\beta`.

    Returns:
      Step bound; any ``0 < h < h_E`` contracts.

    Examples:
      >>> round(float(euler_step_bound(1 - 2**-0.5, 1 + 2**-0.5)), 6)
      0.20101
    """
    xp, margin, lipschitz = as_arrays(margin, lipschitz)
    return xp.where(margin > 0, 2.0 * margin / lipschitz**2, 0.0)


def euler_best_step(margin, lipschitz):
    r"""Step minimising the Euler factor bound, :math:`h^* = \alpha/\beta^2` (0 if ``margin <= 0``).

    Examples:
      >>> round(float(euler_best_step(1 - 2**-0.5, 1 + 2**-0.5)), 6)
      0.100505
    """
    xp, margin, lipschitz = as_arrays(margin, lipschitz)
    return xp.where(margin > 0, margin / lipschitz**2, 0.0)


def euler_contraction_factor(step, margin, lipschitz):
    r"""Certified Euler factor :math:`q_E(h) = \sqrt{1 - 2h\alpha + h^2\beta^2}`.

    Examples:
      >>> a, b = 1 - 2**-0.5, 1 + 2**-0.5
      >>> round(float(euler_contraction_factor(a / b**2, a, b)), 6)
      0.985171
    """
    xp, step, margin, lipschitz = as_arrays(step, margin, lipschitz)
    return xp.sqrt(xp.maximum(1.0 - 2.0 * step * margin + (step * lipschitz) ** 2, 0.0))


def rk4_step_guideline(lipschitz):
    r"""RK4 guideline :math:`2.5/\beta`: exact only for metric-normal linear games (spec §6.2).

    For non-normal or nonlinear games it is a heuristic; use :func:`rk4_step_bound` for a
    rigorous step or :func:`linear_step_norm` to check a constant-Jacobian game exactly.

    Examples:
      >>> round(float(rk4_step_guideline(1 + 2**-0.5)), 5)
      1.46447
    """
    _, lipschitz = as_arrays(lipschitz)
    return RK4_GUIDELINE_CONSTANT / lipschitz


def rk4_contraction_factor(step, margin, lipschitz):
    r"""Rigorous RK4 factor :math:`q_E(h) + (h\beta)^2/2 + (h\beta)^3/6 + (h\beta)^4/24`.

    Our reading (spec §6.2): expand the stage differences with mean-value Jacobians, each
    obeying the SGN bounds. Conservative (of order :math:`\alpha/\beta^2`).

    Examples:
      >>> round(float(rk4_contraction_factor(0.0, 0.3, 1.7)), 6)
      1.0
    """
    _, step, lipschitz = as_arrays(step, lipschitz)
    z = step * lipschitz
    return euler_contraction_factor(step, margin, lipschitz) + z**2 / 2 + z**3 / 6 + z**4 / 24


def rk4_step_bound(margin, lipschitz, *, iterations=80):
    r"""Largest step with :math:`q_{RK4}(h) < 1` (0 when ``margin <= 0``), by bisection.

    :math:`q_{RK4}` is convex in :math:`h` with :math:`q_{RK4}(0) = 1` and
    :math:`q_{RK4}(2\alpha/\beta^2) > 1`, so the set where it is below one is an interval.
    ``jit``-compatible (fixed number of bisection steps: ``lax.fori_loop`` for JAX inputs, a
    Python loop on the host).

    Examples:
      >>> round(float(rk4_step_bound(1 - 2**-0.5, 1 + 2**-0.5)), 7)
      0.0980402
    """
    xp, margin, lipschitz = as_arrays(margin, lipschitz)
    hi0 = euler_step_bound(margin, lipschitz)

    def body(_, lohi):
        lo, hi = lohi
        mid = 0.5 * (lo + hi)
        below = rk4_contraction_factor(mid, margin, lipschitz) < 1.0
        return xp.where(below, mid, lo), xp.where(below, hi, mid)

    lohi = (xp.zeros_like(hi0), hi0)
    if xp is np:
        for k in range(iterations):
            lohi = body(k, lohi)
    else:
        lohi = jax.lax.fori_loop(0, iterations, body, lohi)
    return xp.where(margin > 0, lohi[0], 0.0)


def _stability_polynomial(xp, a, step, scheme):
    eye = xp.eye(a.shape[0], dtype=a.dtype)
    z = -step * a
    if scheme == "euler":
        return eye + z
    if scheme == "rk4":
        z2 = z @ z
        z3 = z2 @ z
        return eye + z + z2 / 2 + z3 / 6 + z3 @ z / 24
    raise ValueError(f"expected scheme 'euler' or 'rk4', got {scheme!r}")


def linear_step_norm(jacobian, weights, dims, step, *, scheme="euler"):
    r"""Exact one-step factor of a linear game, :math:`\lVert M^{1/2} P(-hJ) M^{-1/2}\rVert_2`.

    The step contracts in :math:`\lVert\cdot\rVert_{M(w)}` iff the result is below one.

    Args:
      jacobian: ``(dim, dim)`` constant Jacobian.
      weights: ``(n_players,)`` positive weights.
      dims: block sizes (static).
      step: step size ``h``.
      scheme: ``"euler"`` (``P(z) = 1 + z``) or ``"rk4"`` (degree-4 Taylor polynomial).

    Returns:
      Scalar operator norm.

    Examples:
      >>> import numpy as np
      >>> J, w = np.array([[1.0, 10.0], [0.05, 1.0]]), np.array([1.0, 200.0])
      >>> round(float(linear_step_norm(J, w, (1, 1), 1.4644661, scheme="rk4")), 6)
      0.651317
    """
    xp, a, step = as_arrays(scaled_jacobian(jacobian, weights, dims), step)
    return xp.linalg.svd(_stability_polynomial(xp, a, step, scheme), compute_uv=False)[0]


def linear_stability_limit(jacobian, *, scheme="euler"):
    r"""Largest step for which a linear game's iteration is asymptotically stable.

    :math:`\sup\{h: \rho(P(-hJ)) < 1\}`, per eigenvalue of ``J`` (host-side NumPy). For Euler
    this is :math:`\min_\lambda 2\operatorname{Re}\lambda/|\lambda|^2`; for RK4 it is found by
    bisection on each eigenvalue. Returns 0 if some eigenvalue has non-positive real part.

    Examples:
      >>> import numpy as np
      >>> round(linear_stability_limit(np.diag([1.0, 2.0])), 6)
      1.0
      >>> round(linear_stability_limit(np.array([[1.0]]), scheme="rk4"), 5)
      2.78529
    """
    _checks.check_rank(jacobian, 2, "jacobian")
    _checks.check_finite(jacobian, "jacobian")
    eig = np.linalg.eigvals(np.asarray(jacobian, dtype=np.float64))
    if np.any(eig.real <= 0):
        return 0.0
    if scheme == "euler":
        return float(np.min(2 * eig.real / np.abs(eig) ** 2))
    if scheme != "rk4":
        raise ValueError(f"expected scheme 'euler' or 'rk4', got {scheme!r}")

    def amp(z):
        return abs(1 + z + z**2 / 2 + z**3 / 6 + z**4 / 24)

    limits = []
    for lam in eig:
        lo, hi = 0.0, 4.0 / abs(lam)
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if amp(-mid * lam) < 1 else (lo, mid)
        limits.append(lo)
    return float(min(limits))


def ttur_step_bound(margin, lipschitz, rates):
    r"""Certified step for per-player rates ``x_i <- x_i - h r_i F_i`` with weights ``w = r``.

    In the Euclidean norm, :math:`\lVert\delta^+\rVert^2 \le (1 - 2h\alpha r_{\min} +
    h^2\beta^2 r_{\max}^2)\lVert\delta\rVert^2` when :math:`\alpha = \alpha_*(r)` and
    :math:`\beta = \beta(r)`, so any :math:`h < 2\alpha r_{\min}/(\beta r_{\max})^2`
    contracts (our derivation from spec-sgn-math §5, TTUR interpretation).

    Examples:
      >>> import numpy as np
      >>> round(float(ttur_step_bound(0.5, 1.0, np.array([1.0, 2.0]))), 6)
      0.25
    """
    xp, rates, margin, lipschitz = as_arrays(rates, margin, lipschitz)
    bound = 2.0 * margin * xp.min(rates) / (lipschitz * xp.max(rates)) ** 2
    return xp.where(margin > 0, bound, 0.0)
