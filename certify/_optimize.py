"""Block-weight optimisation: the Perron closed form and cvxpy formulations (SDP, two-sided LP).

All three maximise the SGN margin :math:`\\alpha_*(w)` (spec-sgn-math §4):

* ``perron``: :math:`w_i = v_i/u_i` from the Perron vectors of the comparison matrix :math:`K`;
* ``sdp``: bisection on :math:`\\alpha` of the LMI :math:`\\bar W(K-\\alpha I) + (K-\\alpha I)^\\top
  \\bar W \\succeq 0`, :math:`w \\ge 1` (Clarabel, then SCS);
* ``lp``: bisection on :math:`\\alpha` of the two Collatz–Wielandt LPs
  :math:`\\max t: (K-\\alpha I)u \\ge t, u \\ge 0, \\mathbf 1^\\top u = 1` for :math:`K` and
  :math:`K^\\top`; :math:`w = v/u` then satisfies :math:`\\alpha_*(w) \\ge \\alpha` (HiGHS, then
  Clarabel). (Not the Gershgorin LP, which cannot certify the paper's own toy game.)

Each problem is built once with a ``cp.Parameter`` for :math:`\\alpha`, on :math:`K` divided by
its largest entry (the margin is homogeneous of degree one in :math:`K`, so couplings of 1e-12 or
1e12 reach the solver as numbers of order one). Solver statuses are classified; an inaccurate or
failed solve (including a solver that raises) moves on to the next installed solver, and if none
answers cleanly it counts as infeasible, so it can only make the result more conservative. The
weights record the solver that produced them. The returned margin is always recomputed exactly
from the weights, so the certificate never rests on a solver's claim, and it is cross-checked
against the closed form :math:`\\lambda_P(K)`: a disagreement beyond ``XCHECK_RTOL`` gives status
``"margin_mismatch"``, which the pipeline never certifies. Host-side: NumPy in, NumPy out.

References:
  Boyd et al., Linear Matrix Inequalities in System and Control Theory, SIAM 1994.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import sys
import warnings

import cvxpy as cp
import numpy as np

import sgn
from sgn import _checks
from sgn._weights import _host_margin

WEIGHT_METHODS = ("perron", "sdp", "lp")
SDP_SOLVERS = ("CLARABEL", "SCS")
LP_SOLVERS = ("HIGHS", "CLARABEL")
XCHECK_RTOL = 1e-6
"""Largest allowed gap, relative to ``max(1, |mu|, L)``, between a cvxpy margin and ``lambda_P(K)``."""
_SOLVE_ERRORS = (cp.error.SolverError, ValueError, ArithmeticError, RuntimeError)
"""What a cvxpy solve may raise when a solver breaks down (e.g. 'Cannot unpack invalid solution')."""


@dataclasses.dataclass(frozen=True)
class WeightResult:
    """Optimised block weights.

    Attributes:
      weights: ``(n_players,)`` weights normalised to ``min(w) = 1``.
      margin: exact :math:`\\alpha_*(w)` of those weights (float64).
      method: ``"perron"``, ``"sdp"`` or ``"lp"``.
      solver: the cvxpy solver that produced the weights (``None`` for perron).
      status: ``"optimal"``; ``"solver_failed"`` when no solve succeeded (weights are then all
        ones); ``"margin_mismatch"`` when the margin of the solver's weights disagrees with the
        closed form by more than ``XCHECK_RTOL`` (never certified); ``"invalid_weights"`` when the
        closed form returned non-finite or non-positive weights.
      solves: number of cvxpy solves.
      failures: ``(solver, status)`` for each solve that failed or was inaccurate (the fallback
        solver was then tried).
      perron_margin: the closed-form supremum :math:`\\lambda_P(K)` used for the cross-check.
    """

    weights: np.ndarray
    margin: float
    method: str
    solver: str | None = None
    status: str = "optimal"
    solves: int = 0
    failures: tuple = ()
    perron_margin: float = float("nan")


def classify_status(status: str) -> str:
    """Maps a cvxpy status to ``feasible`` / ``infeasible`` / ``inaccurate`` / ``failed``."""
    if status == cp.OPTIMAL:
        return "feasible"
    if status in (cp.INFEASIBLE, cp.UNBOUNDED):
        return "infeasible"
    if status in (cp.OPTIMAL_INACCURATE, cp.INFEASIBLE_INACCURATE, cp.UNBOUNDED_INACCURATE):
        return "inaccurate"
    return "failed"


@contextlib.contextmanager
def _quiet_solver():
    """Silences solver banners (HiGHS prints one to fd 1) and cvxpy accuracy warnings."""
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


def _solve(problem, solver):
    with _quiet_solver():
        problem.solve(solver=solver)


def _try_solvers(problem, solvers, failures):
    """Solves with each solver in turn; returns ``(kind, solver)`` of the first clean answer.

    ``kind`` is ``"feasible"`` or ``"infeasible"``; ``(None, None)`` when every solver failed,
    raised or was inaccurate (each such attempt is appended to ``failures``).
    """
    for solver in solvers:
        try:
            _solve(problem, solver)
        except _SOLVE_ERRORS as err:
            failures.append((solver, f"error: {type(err).__name__}"))
            continue
        kind = classify_status(problem.status)
        if kind in ("feasible", "infeasible"):
            return kind, solver
        failures.append((solver, str(problem.status)))
    return None, None


def _installed(solvers):
    have = set(cp.installed_solvers())
    return [s for s in solvers if s in have]


class _Feasibility:
    """A parametrised cvxpy feasibility oracle in alpha, with solver fallback.

    Calling it returns ``(weights, solver)`` when feasible, else ``None``.
    """

    def __init__(self, problem, alpha, solvers, extract):
        self.problem, self.alpha, self.extract = problem, alpha, extract
        self.solvers = _installed(solvers)
        self.failures = []
        self.solves = 0

    def __call__(self, value):
        self.alpha.value = float(value)
        kind, solver = _try_solvers(self.problem, self.solvers, self.failures)
        self.solves += len(self.solvers) if kind is None else self.solvers.index(solver) + 1
        if kind != "feasible":
            return None  # infeasible, or inaccurate/failed everywhere: conservatively infeasible
        w = self.extract()
        return None if w is None else (w, solver)


def _finite_vector(value):
    if value is None:
        return None
    v = np.asarray(value, dtype=float)
    return v if np.all(np.isfinite(v)) else None


def _sdp_oracle(k):
    n = k.shape[0]
    w = cp.Variable(n)
    alpha = cp.Parameter()
    wk = cp.diag(w) @ k
    lmi = wk + wk.T - 2 * alpha * cp.diag(w)
    problem = cp.Problem(cp.Minimize(cp.sum(w)), [w >= 1, 0.5 * (lmi + lmi.T) >> 0])
    return _Feasibility(problem, alpha, SDP_SOLVERS, lambda: _finite_vector(w.value))


def _lp_side(k):
    n = k.shape[0]
    u, t = cp.Variable(n), cp.Variable()
    alpha = cp.Parameter()
    problem = cp.Problem(cp.Maximize(t), [k @ u - alpha * u >= t, u >= 0, cp.sum(u) == 1, t <= 1])
    return problem, alpha, u, t


class _LPOracle:
    def __init__(self, k):
        self.right = _lp_side(k)
        self.left = _lp_side(k.T)
        self.solvers = _installed(LP_SOLVERS)
        self.failures = []
        self.solves = 0

    def _side(self, side, value):
        problem, alpha, u, t = side
        alpha.value = float(value)
        kind, solver = _try_solvers(problem, self.solvers, self.failures)
        self.solves += len(self.solvers) if kind is None else self.solvers.index(solver) + 1
        if kind != "feasible" or t.value is None:
            return None
        vec = _finite_vector(u.value)
        return None if vec is None else (float(t.value), vec, solver)

    def __call__(self, value):
        r = self._side(self.right, value)
        if r is None or not r[0] > 0:
            return None
        l = self._side(self.left, value)
        if l is None or not l[0] > 0:
            return None
        u, v = r[1], l[1]
        if np.any(u <= 0) or np.any(v <= 0):
            return None
        solver = r[2] if r[2] == l[2] else f"{r[2]}+{l[2]}"
        return v / u, solver


def bisect_margin(oracle, lo: float, hi: float, tol: float):
    """Largest ``alpha`` in ``[lo, hi]`` (to ``tol``) at which ``oracle(alpha)`` returns weights.

    Returns ``(weights, alpha)``, or ``(None, lo)`` when even ``lo`` is infeasible. Feasibility is
    monotone in ``alpha`` (a weight vector certifying ``alpha`` certifies every smaller one).
    """
    best = oracle(lo)
    if best is None:
        return None, lo
    while hi - lo > tol:
        mid = 0.5 * (lo + hi)
        w = oracle(mid)
        if w is not None:
            lo, best = mid, w
        else:
            hi = mid
    return best, lo


def _bisect(oracle, mu, coupling, tol):
    n = mu.shape[0]
    lo = _host_margin(mu, coupling, np.ones(n))
    lo = float(min(lo, np.min(mu - coupling.sum(1)), np.min(mu - coupling.sum(0)))) - 1.0
    return bisect_margin(oracle, lo, float(np.min(mu)), tol)[0]


def optimize_block_weights(mu, coupling, *, method: str = "perron", tol: float = 1e-9) -> WeightResult:
    """Block weights maximising the SGN margin.

    Args:
      mu: ``(n_players,)`` curvature bounds.
      coupling: ``(n_players, n_players)`` coupling bounds.
      method: ``"perron"`` (closed form), ``"sdp"`` or ``"lp"`` (cvxpy, bisection on alpha).
      tol: bisection tolerance on alpha (cvxpy methods) or the reducible-K tolerance (perron).

    Returns:
      :class:`WeightResult` with exact margin of the returned weights.

    Raises:
      ValueError: unknown method or malformed bounds.

    Examples:
      >>> import numpy as np
      >>> r = optimize_block_weights(np.ones(2), np.array([[0, 10.0], [0.05, 0]]), method="lp")
      >>> round(r.margin, 6), r.solver
      (0.292893, 'HIGHS')
    """
    if method not in WEIGHT_METHODS:
        raise ValueError(f"expected a weight method in {WEIGHT_METHODS}, got {method!r}")
    if not (isinstance(tol, int | float) and math.isfinite(tol) and tol > 0):
        raise ValueError(f"expected a finite tol > 0, got {tol!r}")
    _checks.check_bounds_pair(mu, coupling)
    mu = np.asarray(mu, dtype=np.float64)
    n = mu.shape[0]
    coupling = np.asarray(coupling, dtype=np.float64) * (1.0 - np.eye(n))
    perron = sgn.perron_value(mu, coupling)
    if method == "perron":
        w, margin = sgn.optimal_weights(mu, coupling, tol=tol)
        w = np.asarray(w, dtype=np.float64)
        if not (np.all(np.isfinite(w)) and np.all(w > 0) and math.isfinite(margin)):
            ones = np.ones(n)
            return WeightResult(ones, _host_margin(mu, coupling, ones), "perron", status="invalid_weights",
                                perron_margin=perron)
        return WeightResult(w, float(margin), "perron", perron_margin=perron)
    # The margin is homogeneous of degree one in K: solve on K / scale, rescale nothing but alpha.
    scale = float(max(np.max(np.abs(mu)), np.max(coupling), np.finfo(np.float64).tiny))
    k = (np.diag(mu) - coupling) / scale
    oracle = _sdp_oracle(k) if method == "sdp" else _LPOracle(k)
    best = _bisect(oracle, mu / scale, coupling / scale, tol)
    failures = tuple(oracle.failures)
    if best is None or not np.all(np.isfinite(best[0])) or np.any(best[0] <= 0):
        ones = np.ones(n)
        return WeightResult(ones, _host_margin(mu, coupling, ones), method, solver=None,
                            status="solver_failed", solves=oracle.solves, failures=failures,
                            perron_margin=perron)
    w = best[0] / best[0].min()
    margin = _host_margin(mu, coupling, w)
    gap = abs(margin - perron)
    status = "optimal" if gap <= XCHECK_RTOL * max(1.0, scale) else "margin_mismatch"
    return WeightResult(w, margin, method, solver=best[1], status=status, solves=oracle.solves,
                        failures=failures, perron_margin=perron)
