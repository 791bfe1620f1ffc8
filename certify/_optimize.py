"""Block-weight optimisation: the Perron closed form and cvxpy formulations (SDP, two-sided LP).

All three maximise the SGN margin :math:`\\alpha_*(w)` (spec-sgn-math §4):

* ``perron``: :math:`w_i = v_i/u_i` from the Perron vectors of the comparison matrix :math:`K`;
* ``sdp``: bisection on :math:`\\alpha` of the LMI :math:`\\bar W(K-\\alpha I) + (K-\\alpha I)^\\top
  \\bar W \\succeq 0`, :math:`w \\ge 1` (Clarabel, then SCS);
* ``lp``: bisection on :math:`\\alpha` of the two Collatz–Wielandt LPs
  :math:`\\max t: (K-\\alpha I)u \\ge t, u \\ge 0, \\mathbf 1^\\top u = 1` for :math:`K` and
  :math:`K^\\top`; :math:`w = v/u` then satisfies :math:`\\alpha_*(w) \\ge \\alpha` (HiGHS, then
  Clarabel). (Not the Gershgorin LP, which cannot certify the paper's own toy game.)

Each problem is built once with a ``cp.Parameter`` for :math:`\\alpha`. Solver statuses are
classified; an inaccurate or failed solve counts as infeasible, so it can only make the result
more conservative. The returned margin is always recomputed exactly from the weights, so the
certificate never rests on a solver's claim. Host-side: NumPy in, NumPy out.

References:
  Boyd et al., Linear Matrix Inequalities in System and Control Theory, SIAM 1994.
"""

from __future__ import annotations

import contextlib
import dataclasses
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


@dataclasses.dataclass(frozen=True)
class WeightResult:
    """Optimised block weights.

    Attributes:
      weights: ``(n_players,)`` weights normalised to ``min(w) = 1``.
      margin: exact :math:`\\alpha_*(w)` of those weights (float64).
      method: ``"perron"``, ``"sdp"`` or ``"lp"``.
      solver: the cvxpy solver that produced the weights (``None`` for perron).
      status: ``"optimal"``, or ``"solver_failed"`` when no solve succeeded (weights are then
        all ones).
      solves: number of cvxpy solves.
    """

    weights: np.ndarray
    margin: float
    method: str
    solver: str | None = None
    status: str = "optimal"
    solves: int = 0


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


def _installed(solvers):
    have = set(cp.installed_solvers())
    return [s for s in solvers if s in have]


class _Feasibility:
    """A parametrised cvxpy feasibility oracle in alpha, with solver fallback."""

    def __init__(self, problem, alpha, solvers, extract):
        self.problem, self.alpha, self.extract = problem, alpha, extract
        self.solvers = _installed(solvers)
        self.used = None
        self.solves = 0

    def __call__(self, value):
        self.alpha.value = float(value)
        for solver in self.solvers:
            self.solves += 1
            try:
                _solve(self.problem, solver)
            except cp.error.SolverError:
                continue
            kind = classify_status(self.problem.status)
            if kind in ("feasible", "infeasible"):
                self.used = solver
                if kind == "feasible":
                    return self.extract()
                return None
        return None  # inaccurate or failed everywhere: conservatively infeasible


def _sdp_oracle(k):
    n = k.shape[0]
    w = cp.Variable(n)
    alpha = cp.Parameter()
    wk = cp.diag(w) @ k
    lmi = wk + wk.T - 2 * alpha * cp.diag(w)
    problem = cp.Problem(cp.Minimize(cp.sum(w)), [w >= 1, 0.5 * (lmi + lmi.T) >> 0])
    return _Feasibility(problem, alpha, SDP_SOLVERS, lambda: np.asarray(w.value, dtype=float))


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
        self.used = None
        self.solves = 0

    def _side(self, side, value):
        problem, alpha, u, t = side
        alpha.value = float(value)
        for solver in self.solvers:
            self.solves += 1
            try:
                _solve(problem, solver)
            except cp.error.SolverError:
                continue
            kind = classify_status(problem.status)
            if kind == "feasible":
                self.used = solver
                return (float(t.value), np.asarray(u.value, dtype=float))
            if kind == "infeasible":
                self.used = solver
                return None
        return None

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
        return v / u


def _bisect(oracle, mu, coupling, tol):
    n = mu.shape[0]
    lo = _host_margin(mu, coupling, np.ones(n))
    lo = float(min(lo, np.min(mu - coupling.sum(1)), np.min(mu - coupling.sum(0)))) - 1.0
    hi = float(np.min(mu))
    best = oracle(lo)
    if best is None:
        return None
    while hi - lo > tol:
        mid = 0.5 * (lo + hi)
        w = oracle(mid)
        if w is not None:
            lo, best = mid, w
        else:
            hi = mid
    return best


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
    _checks.check_bounds_pair(mu, coupling)
    mu = np.asarray(mu, dtype=np.float64)
    n = mu.shape[0]
    coupling = np.asarray(coupling, dtype=np.float64) * (1.0 - np.eye(n))
    if method == "perron":
        w, margin = sgn.optimal_weights(mu, coupling, tol=tol)
        return WeightResult(np.asarray(w), float(margin), "perron")
    k = np.diag(mu) - coupling
    oracle = _sdp_oracle(k) if method == "sdp" else _LPOracle(k)
    best = _bisect(oracle, mu, coupling, tol)
    if best is None or not np.all(np.isfinite(best)) or np.any(best <= 0):
        ones = np.ones(n)
        return WeightResult(ones, _host_margin(mu, coupling, ones), method,
                            solver=oracle.used, status="solver_failed", solves=oracle.solves)
    w = best / best.min()
    margin = _host_margin(mu, coupling, w)
    return WeightResult(w, margin, method, solver=oracle.used, solves=oracle.solves)
