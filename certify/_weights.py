r"""Block weights that maximise the SGN margin: the Perron closed form and the cvxpy SDP / LP.

Every method maximises :math:`\alpha_*(w) = \lambda_{\min}(S(w))` (:func:`sgn.gain_matrix`),
whose supremum over :math:`w > 0` is the Perron value :math:`\lambda_P(K)` of the comparison
matrix :math:`K = \operatorname{diag}(\mu) - L` (spec-sgn-math §4):

* ``perron``: :math:`w_i = v_i/u_i` from the right and left Perron vectors of :math:`K`
  (:func:`sgn.perron_weights`: dense for few players, Noda's sparse inverse iteration for many);
* ``sdp``: bisection on :math:`\alpha` of the LMI :math:`\bar W(K-\alpha I) + (K-\alpha I)^\top
  \bar W \succeq 0`, :math:`w \ge 1` (Clarabel, then SCS);
* ``lp``: bisection on :math:`\alpha` of the two Collatz–Wielandt LPs
  :math:`\max t: (K-\alpha I)u \ge t, u \ge 0, \mathbf 1^\top u = 1` for :math:`K` and
  :math:`K^\top`; :math:`w = v/u` then satisfies :math:`\alpha_*(w) \ge \alpha` (HiGHS, then
  Clarabel). (Not the Gershgorin LP, which cannot certify the paper's own toy game.)
* ``auto``: the closed form, and where it falls short of its own upper bound (a cascade, whose
  supremum is not attained, or a Noda iteration that did not converge) the LP (or, for few
  players, the SDP); the better exact margin is kept.

The cvxpy problems are built once per call with a ``cp.Parameter`` for :math:`\alpha`, on
:math:`K` divided by its largest entry (the margin is homogeneous of degree one in :math:`K`, so
couplings of 1e-12 or 1e12 reach the solver as numbers of order one), dense or SciPy-sparse.
Solver statuses are classified; an inaccurate or failed solve (including a solver that raises)
moves on to the next installed solver, and if none answers cleanly it counts as infeasible, so
it can only make the result more conservative. The returned margin is always recomputed exactly
from the weights (float64), so a certificate never rests on a solver's claim, and cvxpy weights
are cross-checked against the closed form: a gap beyond ``XCHECK_RTOL`` gives status
``"margin_mismatch"``, never certified. cvxpy is imported only when an SDP or LP is solved.
Host-side: NumPy/SciPy in, NumPy out; SciPy's sparse module is imported only for many players.

References:
  Boyd et al., Linear Matrix Inequalities in System and Control Theory, SIAM 1994.
  Noda, Numer. Math. 17, 1971 (inverse iteration for the Perron root).
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import sys
import warnings

import numpy as np

import sgn
from certify import _status
from certify._progress import ticks
from certify._status import Status
from sgn import _checks
from sgn._backend import is_sparse

WEIGHT_METHODS = ("auto", "perron", "sdp", "lp")
SDP_SOLVERS = ("CLARABEL", "SCS")
LP_SOLVERS = ("HIGHS", "CLARABEL")
LP_SLACK = 1e-9
"""Smallest LP slack ``t`` (on the scaled problem) taken as feasible: below it, solver noise decides."""
XCHECK_RTOL = 1e-6
"""Largest allowed gap, relative to ``max(1, |mu|, L)``, between a cvxpy margin and ``lambda_P(K)``."""
DENSE_MAX = 64
"""Largest number of players kept dense (beyond, couplings are handled as sparse matrices)."""
SDP_MAX = 40
"""Largest ``n_players`` for which an SDP is attempted (an ``N x N`` LMI)."""
LP_MAX = 5000
"""Largest ``n_players`` for which ``auto`` falls back to the sparse LP."""


@dataclasses.dataclass(frozen=True)
class WeightResult:
    r"""Optimised block weights and how they were obtained (host NumPy, float64).

    Attributes:
      weights: ``(n_players,)`` weights normalised to ``min(w) = 1``.
      margin: :math:`\alpha_*(w)` of those weights: exact (dense ``eigvalsh``) for few players;
        for many, a Collatz–Wielandt lower bound within ``1e-10`` (relative) of it, never above
        (:func:`sgn.sparse_small_gain_margin`).
      method: the method that produced the weights: ``"perron"``, ``"sdp"`` or ``"lp"``.
      solver: the cvxpy solver that produced them (``None`` for the closed form).
      status: :class:`certify.Status` ``optimal``; ``solver_failed`` (no solve succeeded: weights are all ones);
        ``"margin_mismatch"`` (the cvxpy weights' margin disagrees with the closed form by more
        than ``XCHECK_RTOL``: never certified); ``"invalid_weights"`` (the closed form returned
        non-finite or non-positive weights); ``"not_converged"`` (Noda's iteration did not
        close its bracket).
      reason: one line on why this method (size, sparsity, fallback).
      solves: number of cvxpy solves.
      failures: ``(solver, status)`` of each solve that failed or was inaccurate.
      perron_margin: an upper bound on :math:`\sup_w \alpha_*(w)` (the closed-form
        :math:`\lambda_P(K)`, or the Collatz–Wielandt upper bound for many players).
      lower: a lower bound on ``margin`` from the method itself (Collatz–Wielandt ``t`` or the
        last feasible bisection point; ``nan`` when none).

    Examples:
      >>> import numpy as np
      >>> r = optimize_block_weights(np.ones(2), np.array([[0, 10.0], [0.05, 0]]))
      >>> r.method, r.status, r.ok, r.weights.round(6).tolist()
      ('perron', <Status.OPTIMAL: 'optimal'>, True, [1.0, 200.0])
    """

    weights: np.ndarray
    margin: float
    method: str
    solver: str | None = None
    status: Status = Status.OPTIMAL
    reason: str = ""
    solves: int = 0
    failures: tuple = ()
    perron_margin: float = math.nan
    lower: float = math.nan

    def __post_init__(self):
        object.__setattr__(self, "status", _status.coerce(self.status, _status.WEIGHTS, "weight"))

    @property
    def ok(self) -> bool:
        """True when the weights and their margin were obtained (status ``optimal``)."""
        return self.status == Status.OPTIMAL


# --- cvxpy: one feasibility oracle, two problem families -------------------------------------


@contextlib.contextmanager
def quiet_solver():
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


def _classify(status: str) -> str:
    """Maps a cvxpy status to ``feasible`` / ``infeasible`` / ``inaccurate`` / ``failed``."""
    import cvxpy as cp  # heavy: imported only when a cvxpy method is used

    if status == cp.OPTIMAL:
        return "feasible"
    if status in (cp.INFEASIBLE, cp.UNBOUNDED):
        return "infeasible"
    if status in (cp.OPTIMAL_INACCURATE, cp.INFEASIBLE_INACCURATE, cp.UNBOUNDED_INACCURATE):
        return "inaccurate"
    return "failed"


def _solve(problem, solver):
    with quiet_solver():
        problem.solve(solver=solver)


class _Oracle:
    """Is a margin ``alpha`` feasible? One or more parametrised cvxpy problems, solver fallback.

    ``oracle(alpha)`` returns ``(weights, solver)`` when every problem is cleanly feasible and
    ``extract()`` yields positive finite weights, else ``None`` (infeasible, or inaccurate/failed
    with every installed solver: conservatively infeasible).
    """

    def __init__(self, problems, solvers, extract):
        import cvxpy as cp

        self.problems, self.extract = problems, extract
        have = set(cp.installed_solvers())
        self.solvers = [s for s in solvers if s in have]
        self.errors = (cp.error.SolverError, ValueError, ArithmeticError, RuntimeError)
        self.failures: list = []
        self.solves = 0

    def _feasible(self, problem, alpha, value):
        alpha.value = float(value)
        for solver in self.solvers:
            self.solves += 1
            try:
                _solve(problem, solver)
            except self.errors as err:
                self.failures.append((solver, f"error: {type(err).__name__}"))
                continue
            kind = _classify(problem.status)
            if kind in ("feasible", "infeasible"):
                return solver if kind == "feasible" else None
            self.failures.append((solver, str(problem.status)))
        return None

    def __call__(self, value):
        used = []
        for problem, alpha in self.problems:
            solver = self._feasible(problem, alpha, value)
            if solver is None:
                return None
            used.append(solver)
        w = self.extract()
        if w is None or not (np.all(np.isfinite(w)) and np.all(w > 0)):
            return None
        return w, "+".join(dict.fromkeys(used))


def _vector(var):
    return None if var.value is None else np.asarray(var.value, dtype=np.float64)


def _sdp_oracle(k):
    r"""The LMI :math:`\bar W(K - \alpha I) + (K - \alpha I)^\top\bar W \succeq 0`, :math:`w \ge 1`."""
    import cvxpy as cp

    k = k.toarray() if is_sparse(k) else k
    n = k.shape[0]
    w, alpha = cp.Variable(n), cp.Parameter()
    wk = cp.diag(w) @ k
    lmi = wk + wk.T - 2 * alpha * cp.diag(w)
    problem = cp.Problem(cp.Minimize(cp.sum(w)), [w >= 1, 0.5 * (lmi + lmi.T) >> 0])
    return _Oracle([(problem, alpha)], SDP_SOLVERS, lambda: _vector(w))


def _lp_oracle(k):
    r"""Two Collatz–Wielandt LPs (:math:`K` and :math:`K^\top`); ``t > 0`` on both gives ``w = v/u``."""
    import cvxpy as cp

    sides = []
    for mat in (k, k.T):
        n = mat.shape[0]
        u, t, alpha = cp.Variable(n), cp.Variable(), cp.Parameter()
        problem = cp.Problem(cp.Maximize(t), [mat @ u - alpha * u >= t, u >= 0, cp.sum(u) == 1, t <= 1])
        sides.append((problem, alpha, u, t))

    def extract():
        (_, _, u, tu), (_, _, v, tv) = sides
        uu, vv = _vector(u), _vector(v)
        if uu is None or vv is None or not (tu.value > LP_SLACK and tv.value > LP_SLACK) or np.any(uu <= 0):
            return None
        return vv / uu

    return _Oracle([(p, a) for p, a, _, _ in sides], LP_SOLVERS, extract)


def bisect_margin(oracle, lo: float, hi: float, tol: float):
    """Largest ``alpha`` in ``[lo, hi]`` (to ``tol``) at which ``oracle(alpha)`` returns weights.

    Feasibility is monotone in ``alpha`` (weights certifying ``alpha`` certify every smaller one).

    Returns:
      ``(found, alpha)``: the oracle's answer at the last feasible point (``None`` when even
      ``lo`` is infeasible) and that point.

    Examples:
      >>> bisect_margin(lambda a: "ok" if a <= 0.3 else None, 0.0, 1.0, 1e-3)[1] <= 0.3
      True
    """
    best = oracle(lo)
    if best is None:
        return None, lo
    while hi - lo > tol:
        mid = 0.5 * (lo + hi)
        found = oracle(mid)
        if found is not None:
            lo, best = mid, found
        else:
            hi = mid
    return best, lo


def _bisect(oracle, mu, off, tol):
    """Bisection from a surely feasible margin (Gershgorin on rows and columns) up to ``min(mu)``."""
    rows = np.asarray(off.sum(axis=1)).ravel()
    cols = np.asarray(off.sum(axis=0)).ravel()
    lo = float(min(np.min(mu - rows), np.min(mu - cols))) - 1e-3 * max(1.0, float(np.max(np.abs(mu))))
    return bisect_margin(oracle, lo, float(np.min(mu)), tol)


# --- the closed form and the dispatcher -------------------------------------------------------


def _host_bounds(mu, coupling):
    """Checked float64 ``mu`` and the off-diagonal couplings (dense, or CSR for many/sparse players)."""
    if is_sparse(coupling) or np.shape(mu)[0] > DENSE_MAX:
        import scipy.sparse as sp  # many players

        k = sgn.sparse_comparison_matrix(mu, coupling)  # validates
        mu = np.asarray(mu, dtype=np.float64)
        return mu, (sp.diags(mu) - k).tocsr()
    _checks.check_bounds_pair(mu, coupling)
    mu = np.asarray(mu, dtype=np.float64)
    return mu, np.asarray(coupling, dtype=np.float64) * (1.0 - np.eye(mu.shape[0]))


def _margin(mu, off, w, lower_hint=None, progress=None) -> float:
    if is_sparse(off):
        return sgn.sparse_small_gain_margin(mu, off, w, lower_hint=lower_hint, progress=progress)
    return float(sgn.small_gain_margin(mu, off, w))


def _closed_form(mu, off, tol, progress=False) -> WeightResult:
    n = mu.shape[0]
    if is_sparse(off):  # many players: the sparse route of sgn.perron_weights
        with ticks(total=2 * n, desc="Perron weights and margin", enabled=progress) as advance:
            r = sgn.perron_weights(mu, off, tol=tol, progress=advance)
        status = Status.OPTIMAL if r.converged else Status.NOT_CONVERGED
        return WeightResult(r.weights, r.margin, "perron", status=status, reason=r.reason, perron_margin=r.upper,
                            lower=r.lower)
    r = sgn.perron_weights(mu, off, tol=tol)
    w, margin = r.weights, r.margin
    if not (np.all(np.isfinite(w)) and np.all(w > 0) and math.isfinite(margin)):
        ones = np.ones(n)
        return WeightResult(ones, _margin(mu, off, ones), "perron", status=Status.INVALID_WEIGHTS,
                            reason="the closed form returned non-finite weights", perron_margin=r.upper)
    return WeightResult(w, float(margin), "perron", reason=r.reason, perron_margin=r.upper)


def _cvxpy(method, mu, off, tol, perron, reason) -> WeightResult:
    n = mu.shape[0]
    # The margin is homogeneous of degree one in K: solve on K / scale, rescale alpha only.
    big = float(off.max()) if off.size else 0.0
    scale = float(max(np.max(np.abs(mu)), big, np.finfo(np.float64).tiny))
    if is_sparse(off):
        import scipy.sparse as sp  # many players

        k = (sp.diags(mu) - off).tocsc() / scale
    else:
        k = (np.diag(mu) - off) / scale
    oracle = _sdp_oracle(k) if method == "sdp" else _lp_oracle(k)
    found, lower = _bisect(oracle, mu / scale, off / scale, tol)
    failures = tuple(oracle.failures)
    if found is None:
        ones = np.ones(n)
        return WeightResult(ones, _margin(mu, off, ones), method, status=Status.SOLVER_FAILED, reason=reason,
                            solves=oracle.solves, failures=failures, perron_margin=perron)
    w, solver = found
    w = w / w.min()
    margin = _margin(mu, off, w, lower * scale)
    ok = abs(margin - perron) <= XCHECK_RTOL * max(1.0, scale)
    status = Status.OPTIMAL if ok else Status.MARGIN_MISMATCH
    return WeightResult(w, margin, method, solver=solver, status=status, reason=reason, solves=oracle.solves,
                        failures=failures, perron_margin=perron, lower=lower * scale)


def optimize_block_weights(mu, coupling, *, weight_method: str = "auto", tol: float = 1e-9,
                           progress: bool = False) -> WeightResult:
    r"""Block weights maximising the SGN margin :math:`\alpha_*(w)`.

    .. math::

       \alpha_*(w) = \lambda_{\min}(S(w)) \le \sup_{w>0}\alpha_*(w) = \lambda_P(K),
       \qquad K = \operatorname{diag}(\mu) - L .

    Args:
      mu: ``(n_players,)`` curvature bounds.
      coupling: ``(n_players, n_players)`` coupling bounds, dense or ``scipy.sparse``.
      weight_method: ``"auto"`` (closed form, cvxpy fallback where it falls short), ``"perron"``
        (closed form), ``"sdp"`` or ``"lp"`` (cvxpy bisection on :math:`\alpha`).
      tol: bisection tolerance on :math:`\alpha` (cvxpy) or the tolerance of the closed form
        (relative gap to the supremum for reducible :math:`K`; Noda's bracket).
      progress: a progress bar on stderr for the sparse closed form (many players).

    Returns:
      :class:`WeightResult` with the exact margin of the returned weights. Host-side float64
      (NumPy/SciPy/cvxpy: not ``jit``-able).

    Raises:
      ValueError: unknown method, malformed bounds, ``tol <= 0``, or ``sdp`` beyond ``SDP_MAX``
        players.

    Examples:
      >>> import numpy as np
      >>> r = optimize_block_weights(np.ones(2), np.array([[0, 10.0], [0.05, 0]]), weight_method="lp")
      >>> round(r.margin, 6), r.solver
      (0.292893, 'HIGHS')
    """
    if weight_method not in WEIGHT_METHODS:
        raise ValueError(f"expected a weight method in {WEIGHT_METHODS}, got {weight_method!r}")
    method = weight_method
    if isinstance(tol, bool) or not (isinstance(tol, int | float) and math.isfinite(tol) and tol > 0):
        raise ValueError(f"expected a finite tol > 0, got {tol!r}")
    mu, off = _host_bounds(mu, coupling)
    n = mu.shape[0]
    if method == "sdp" and n > SDP_MAX:
        raise ValueError(f"expected n_players <= SDP_MAX={SDP_MAX} for the SDP, got {n}")
    if method in ("sdp", "lp"):
        perron = _closed_form(mu, off, tol).perron_margin
        return _cvxpy(method, mu, off, tol, perron, f"{method} requested")
    res = _closed_form(mu, off, tol, progress)
    if method == "perron":
        return res
    short = not res.ok or res.margin < res.perron_margin - tol * max(1.0, abs(res.perron_margin))
    fallback = "lp" if n <= LP_MAX else None
    if not short or fallback is None:
        return res
    alt = _cvxpy(fallback, mu, off, tol, res.perron_margin,
                 f"closed form fell short of its bound ({res.status}): {fallback} fallback")
    return alt if alt.ok and alt.margin > res.margin else res
