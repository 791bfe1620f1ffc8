"""Automatic choice of the block-weight method for 2 … thousands of players.

All methods maximise the SGN margin :math:`\\alpha_*(w)` whose supremum is the Perron value
:math:`\\lambda_P(K)` of the comparison matrix :math:`K = \\operatorname{diag}(\\mu) - L`
(spec-sgn-math §4):

* ``perron`` — dense closed form :math:`w = v/u` (``numpy.linalg.eig``, :math:`O(N^3)`), for few
  players;
* ``perron-sparse`` — Noda's inverse iteration on sparse :math:`K` with a Collatz–Wielandt
  bracket :math:`t \\le \\lambda_P \\le \\bar t` and :math:`\\alpha_*(w) \\ge t`
  (:func:`sgn._large.optimal_weights_sparse`), for many players, and whenever the dense
  eigenvectors are inaccurate (exponentially small Perron-vector entries);
* ``lp`` — bisection on :math:`\\alpha` of the two Collatz–Wielandt LPs with a sparse :math:`K`
  (HiGHS), the fallback when the iteration does not converge (e.g. a cascade);
* ``sdp`` — bisection on the LMI :math:`\\bar W(K-\\alpha I)+(K-\\alpha I)^\\top\\bar W\\succeq 0`,
  only where an :math:`N\\times N` LMI still fits (``N <= sdp_max``).

Whatever produced the weights, the returned margin is recomputed exactly from them
(float64), so the certificate never rests on a solver's claim. Host-side: NumPy/SciPy in, NumPy
out.

References:
  Noda, Numer. Math. 17, 1971 (inverse iteration for the Perron root).
  Boyd et al., Linear Matrix Inequalities in System and Control Theory, SIAM 1994.
"""

from __future__ import annotations

import dataclasses

import cvxpy as cp
import numpy as np
import scipy.sparse as sp

from certify._optimize import (
    WeightResult,
    _quiet_solver,
    bisect_margin,
    classify_status,
    optimize_block_weights,
)
from sgn import _large

AUTO_METHODS = ("auto", "perron", "perron-sparse", "lp", "sdp")
DENSE_MAX = 64
"""Dense closed form up to this many players (beyond, the sparse iteration)."""
SDP_MAX = 40
"""Largest ``n_players`` for which the SDP is attempted."""
LP_MAX = 5000
"""Largest ``n_players`` for which the sparse LP fallback is attempted."""


@dataclasses.dataclass(frozen=True)
class AutoWeightResult(WeightResult):
    """A :class:`certify.WeightResult` that also says why its method was chosen.

    Attributes:
      reason: one line explaining the choice (size, sparsity, fallback).
      lower: a lower bound on the margin of ``weights`` from the method itself (the
        Collatz–Wielandt ``t`` for Perron methods, the last feasible bisection point for
        cvxpy methods); ``margin`` is the exact recomputed value.
      upper: an upper bound on :math:`\\sup_w\\alpha_*(w)` when the method provides one
        (``nan`` otherwise).
    """

    reason: str = ""
    lower: float = float("nan")
    upper: float = float("nan")


LP_SOLVERS = ("HIGHS", "CLARABEL")
SDP_SOLVERS = ("CLARABEL", "SCS")


class _Oracle:
    """Feasibility of ``alpha`` for a parametrised cvxpy problem; ``None`` unless cleanly feasible."""

    def __init__(self, problems, solvers, extract):
        self.problems, self.extract = problems, extract
        have = set(cp.installed_solvers())
        self.solvers = [s for s in solvers if s in have]
        self.used, self.solves = None, 0

    def _solve(self, problem, alpha, value):
        alpha.value = float(value)
        for solver in self.solvers:
            self.solves += 1
            try:
                with _quiet_solver():
                    problem.solve(solver=solver)
            except (cp.error.SolverError, ValueError, ArithmeticError, RuntimeError):
                continue
            kind = classify_status(problem.status)
            if kind in ("feasible", "infeasible"):
                self.used = solver
                return kind == "feasible"
        return False  # inaccurate or failed everywhere: conservatively infeasible

    def __call__(self, value):
        for problem, alpha in self.problems:
            if not self._solve(problem, alpha, value):
                return None
        return self.extract()


def _lp_oracle(k):
    """Two Collatz–Wielandt LPs (K and K^T); feasible with t > 0 gives ``w = v/u``."""
    sides = []
    for mat in (k, k.T.tocsc()):
        n = mat.shape[0]
        u, t, alpha = cp.Variable(n), cp.Variable(), cp.Parameter()
        prob = cp.Problem(cp.Maximize(t), [mat @ u - alpha * u >= t, u >= 0, cp.sum(u) == 1, t <= 1])
        sides.append((prob, alpha, u, t))

    def extract():
        (_, _, u, tu), (_, _, v, tv) = sides
        if u.value is None or v.value is None or not (tu.value > 0 and tv.value > 0):
            return None
        uu, vv = np.asarray(u.value, float), np.asarray(v.value, float)
        if np.any(uu <= 0) or np.any(vv <= 0):
            return None
        return vv / uu

    return _Oracle([(p, a) for p, a, _, _ in sides], LP_SOLVERS, extract)


def _sdp_oracle(k):
    n = k.shape[0]
    w, alpha = cp.Variable(n), cp.Parameter()
    wk = cp.diag(w) @ k
    lmi = wk + wk.T - 2 * alpha * cp.diag(w)
    prob = cp.Problem(cp.Minimize(cp.sum(w)), [w >= 1, 0.5 * (lmi + lmi.T) >> 0])
    return _Oracle([(prob, alpha)], SDP_SOLVERS,
                   lambda: None if w.value is None else np.asarray(w.value, float))


def _host_pair(mu, coupling):
    mu = np.asarray(mu, dtype=np.float64)
    k = _large.sparse_comparison_matrix(mu, coupling)  # validates
    off = (sp.diags(mu) - k).tocsr()
    return mu, off, k


def _exact_margin(mu, off, w, lower_hint=None):
    return _large.sparse_small_gain_margin(mu, off, w, lower_hint=lower_hint)


def _bisect_sparse(oracle, mu, off, tol):
    rows = np.asarray(off.sum(axis=1)).ravel()
    cols = np.asarray(off.sum(axis=0)).ravel()
    lo = float(min(np.min(mu - rows), np.min(mu - cols))) - 1e-3 * max(1.0, float(np.max(np.abs(mu))))
    return bisect_margin(oracle, lo, float(np.min(mu)), tol)


def _cvxpy_weights(method, mu, off, k, tol, reason):
    n = mu.shape[0]
    if method == "sdp":
        oracle = _sdp_oracle(k.toarray())
    else:
        oracle = _lp_oracle(k.tocsc())
    best, lower = _bisect_sparse(oracle, mu, off, tol)
    if best is None or not np.all(np.isfinite(best)) or np.any(best <= 0):
        ones = np.ones(n)
        return AutoWeightResult(ones, _exact_margin(mu, off, ones), method, solver=oracle.used,
                                status="solver_failed", solves=oracle.solves, reason=reason)
    w = best / best.min()
    return AutoWeightResult(w, _exact_margin(mu, off, w), method, solver=oracle.used,
                            solves=oracle.solves, reason=reason, lower=float(lower))


def _sparse_perron(mu, off, tol, reason):
    r = _large.optimal_weights_sparse(mu, off, tol=tol)
    margin = _exact_margin(mu, off, r.weights, lower_hint=r.lower if np.isfinite(r.lower) else None)
    status = "optimal" if r.converged else "not_converged"
    return AutoWeightResult(r.weights, margin, "perron-sparse", status=status, reason=reason,
                            lower=r.lower, upper=r.upper)


def optimize_block_weights_auto(mu, coupling, *, method: str = "auto", tol: float = 1e-9,
                                dense_max: int = DENSE_MAX, sdp_max: int = SDP_MAX,
                                lp_max: int = LP_MAX) -> AutoWeightResult:
    """Block weights maximising the SGN margin, choosing the method by size and sparsity.

    With ``method="auto"``: the dense Perron closed form for ``n_players <= dense_max``, checked
    against the sparse Noda bracket (the dense eigenvectors lose accuracy when Perron-vector
    entries span many orders of magnitude, and the better of the two is kept); the sparse Noda
    iteration beyond; if the iteration does not converge (a cascade, where the supremum is
    not attained) the sparse LP (HiGHS) for ``n_players <= lp_max``, else the SDP for
    ``n_players <= sdp_max``, keeping whichever exact margin is larger.

    .. math::

       \\text{margin} = \\alpha_*(w) = \\lambda_{\\min}(S(w)) \\le \\lambda_P(K).

    Args:
      mu: ``(n_players,)`` curvature bounds.
      coupling: ``(n_players, n_players)`` coupling bounds, dense or ``scipy.sparse``.
      method: ``"auto"`` or one of ``"perron"``, ``"perron-sparse"``, ``"lp"``, ``"sdp"`` to
        force a method.
      tol: bisection tolerance (cvxpy) or relative bracket tolerance (Perron).
      dense_max: largest ``n_players`` for the dense closed form under ``auto``.
      sdp_max: largest ``n_players`` for the SDP (forced or fallback).
      lp_max: largest ``n_players`` for the LP fallback under ``auto``.

    Returns:
      :class:`AutoWeightResult`; ``method`` names what produced the weights and ``reason`` why.
      Float64, host-side (NumPy/SciPy/cvxpy: not ``jit``-able).

    Raises:
      ValueError: unknown method, malformed bounds, or ``sdp`` forced beyond ``sdp_max``.

    Examples:
      >>> import numpy as np
      >>> r = optimize_block_weights_auto(np.ones(3), np.array([[0, 2, 0], [0, 0, 2], [0.1, 0, 0.0]]))
      >>> r.method, round(r.margin, 6)
      ('perron', 0.263194)
    """
    if method not in AUTO_METHODS:
        raise ValueError(f"expected a weight method in {AUTO_METHODS}, got {method!r}")
    mu, off, k = _host_pair(mu, coupling)
    n = mu.shape[0]
    if method == "sdp" and n > sdp_max:
        raise ValueError(f"expected n_players <= sdp_max={sdp_max} for the SDP, got {n}")
    if method in ("lp", "sdp"):
        return _cvxpy_weights(method, mu, off, k, tol, f"{method} requested")
    if method == "perron-sparse":
        return _sparse_perron(mu, off, tol, "perron-sparse requested")
    if method == "perron" or n <= dense_max:
        dense = optimize_block_weights(mu, off.toarray(), method="perron", tol=tol)
        why = "perron requested" if method == "perron" else f"n_players={n} <= dense_max={dense_max}: dense closed form"
        res = AutoWeightResult(dense.weights, dense.margin, "perron", reason=why)
        if method == "perron":
            return res
        alt = _sparse_perron(mu, off, tol, "dense eigenvectors inaccurate; sparse Noda iteration kept")
        scale = max(1.0, abs(dense.margin))
        if alt.margin > dense.margin + 1e-9 * scale:
            return alt
        return dataclasses.replace(res, lower=alt.lower, upper=alt.upper)
    nnz = off.nnz
    res = _sparse_perron(mu, off, tol, f"n_players={n} > dense_max={dense_max}, {nnz} couplings: sparse Noda iteration")
    if res.status == "optimal":
        return res
    fallback = "lp" if n <= lp_max else ("sdp" if n <= sdp_max else None)
    if fallback is None:
        return res
    alt = _cvxpy_weights(fallback, mu, off, k, tol, f"sparse Noda iteration did not converge: {fallback} fallback")
    return alt if alt.status == "optimal" and alt.margin > res.margin else res
