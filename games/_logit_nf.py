r"""The logit QRE branch of a two-player normal-form game on the host, traced from the centroid.

A logit QRE of the bimatrix game :math:`(A, B)` at precision :math:`\lambda = 1/\tau` is a pair of
mixed strategies :math:`p = \sigma(\lambda a)`, :math:`q = \sigma(\lambda b)` (:math:`\sigma` the
softmax) whose expected payoffs :math:`a = Aq`, :math:`b = B^\top p` are consistent. In the payoff
coordinates :math:`y = (a, b, s)` with :math:`\lambda = e^s - 1`, the QREs are the zeros of

.. math::

   H(a, b, s) = \begin{pmatrix} a - A\,\sigma(\lambda b) \\ b - B^\top\sigma(\lambda a) \end{pmatrix},
   \qquad
   \partial H = \begin{pmatrix} I & -\lambda M_1 & -e^s M_1 b \\ -\lambda M_2 & I & -e^s M_2 a \end{pmatrix},

with :math:`M_1 = A(\operatorname{diag}q - qq^\top)` and :math:`M_2 = B^\top(\operatorname{diag}p - pp^\top)`.
At :math:`s = 0` the only zero is the centroid; the *principal branch* through it reaches a Nash
equilibrium as :math:`\lambda\to\infty` for generic games (McKelvey & Palfrey 1995; Turocy 2005), and
is what gambit's ``logit`` tools trace. The coordinates stay bounded (payoffs), and
:math:`s = \log(1+\lambda)` spreads :math:`\lambda\in[0, 10^8]` over :math:`[0, 18.5]`.

The trace is pseudo-arclength continuation (Allgower & Georg 1990): an Euler predictor along the unit
tangent, Newton correctors on :math:`[H; v^\top(y - y_{\rm pred})] = 0` with the Jacobian at every
iterate (cheap here: :math:`O(nm)` entries and one small solve), and their steplength adaptation
(sec. 6.1): the first correction's distance, the corrector's contraction and the tangent's turn are
compared with nominal values, and the step shrinks before a strongly curved stretch (where a long
step could land on another sheet of the curve) and grows, at most doubling, where the branch is
straight; a step whose deviation exceeds twice the nominal one is repeated at half the length.
The new tangent solves the last corrector's system with a second right-hand side (one solve fewer
per step) when that correction was shorter than :math:`10^{-3}` of the step.
Past :math:`s = 2` the predictor (and the interpolation of a crossing) assume what holds near a
regular Nash equilibrium, payoffs that approach their limit like :math:`1/\lambda\approx e^{-s}`:
the payoff part of the Euler step is scaled by :math:`(1-e^{-\Delta s})/\Delta s`, which keeps the
logit error :math:`\lambda\,\delta b` of long steps small, and steps may grow to 4. A requested
:math:`\lambda` is landed on by damped Newton at that :math:`\lambda` in the logits, from the
interpolated crossing; beyond :math:`\lambda = 10^6`, where rounding steers the tangent, a trace
that stalls hands the precisions it did not reach to that Newton from its last point, and Newton
that misses there starts again from the logits of the last precision landed on. The caller judges
every point by its residual. Everything is float64 NumPy, about twenty calls per corrector
iteration: no compilation.

The logits returned are :math:`\theta = \lambda a`, :math:`\lambda b`, shifted so that each player's
largest logit is 0: then the logits of the strategies in use stay of order one however small
:math:`\tau` is, and the probabilities, the payoffs and the equilibrium residual keep full precision
(centred by their mean, logits of size :math:`10^8` would carry only about 8 correct digits).

References:
  McKelvey & Palfrey, Quantal response equilibria for normal form games, GEB 10, 1995.
  Turocy, A dynamic homotopy interpretation of the logistic quantal response equilibrium
  correspondence, GEB 51, 2005.
  Allgower & Georg, Numerical Continuation Methods, Springer 1990 (pseudo-arclength, ch. 2-6).
"""

from __future__ import annotations

import bisect
import math
from typing import NamedTuple

import numpy as np

_NEWTON_TOL = 1e-7
"""Corrector tolerance on ``|H|_inf`` relative to the payoff scale during the trace."""
_FLOOR = 1e-6
"""Beyond ``lambda = 1 / _FLOOR`` the tolerance grows like ``lambda`` (the rounding of ``lambda b``)."""
_CORRECTOR_ITERS = 6
_NOMINAL_DIST = 0.1
"""Nominal first-corrector distance, relative to the step length."""
_NOMINAL_CONTRACTION = 0.3
"""Nominal ratio of the second corrector step to the first."""
_NOMINAL_TURN = math.radians(10.0)
"""Nominal angle between the tangents at the ends of a step."""
_DIST_FLOOR = 0.01
"""Steps below this length are judged by distance as if of this length (the points' own error)."""
_STEP_INIT, _STEP_MAX, _STEP_MIN = 0.1, 1.0, 1e-10
_TANGENT_REUSE = 1e-3
"""A step's tangent comes from its last corrector solve (a second right side) when that correction
moved the point by at most this fraction of the step; otherwise from one more solve at the point."""
_STEP_MAX_LATE = 4.0
"""Longest step past ``s = _LATE``, where the predictor follows the payoffs' exp(-s) approach."""
_MAX_STEPS = 5000
_LATE = 2.0
_EPS = float(np.finfo(np.float64).eps)
_POLISH_ITERS = 30
_LANDED = 1e-12
"""A precision is landed on to full accuracy when its residual is at most this, relative to the payoff scale."""
_BACKTRACKS = 8


class Branch(NamedTuple):
    """The principal branch at the requested precisions ``lams``.

    Attributes:
      logits: ``(p_logits, q_logits)``, each ``(K, n_i)``, largest entry 0 per row.
      residual: ``(K,)`` equilibrium residual at each precision (``inf`` where the trace did not get there).
      game: the :class:`Bimatrix` it was traced on (its :meth:`Bimatrix.residual` judges other gauges).
    """

    logits: tuple
    residual: np.ndarray
    game: Bimatrix


def is_bimatrix(tg) -> bool:
    """Whether ``tg`` (host data) is a two-player normal-form game: one state, ``gamma = 0``."""
    r = np.asarray(tg.rewards)
    return r.ndim == 4 and r.shape[0] == 2 and r.shape[1] == 1 and float(tg.gamma) == 0.0


class Bimatrix:
    r"""``H``, its Jacobian and the Newton polish in the logits, for payoffs ``A`` (n x m), ``B`` (n x m).

    Both players' vectors are stacked, the row player's first (length :math:`N = n + m`), and their
    payoffs are one product with :math:`C = \begin{pmatrix} 0 & A \\ B^\top & 0\end{pmatrix}`:
    :math:`u = Cw` at the stacked probabilities :math:`w = (p, q)`. The derivative of the payoffs
    in the stacked logits is :math:`J = (C - u1^\top)\operatorname{diag}w` off the diagonal blocks
    and 0 on them (its blocks are :math:`M_1` and :math:`M_2`). A trace makes about a hundred
    evaluations on a small game, where the cost is NumPy's per-call overhead: each evaluation is
    about twenty calls, written into matrices the instance keeps (one trace or polish at a time).
    """

    def __init__(self, a, b):
        self.A, self.Bt = np.ascontiguousarray(a), np.ascontiguousarray(np.asarray(b).T)
        self.n, self.m = n, m = self.A.shape
        big = n + m
        self.C = np.zeros((big, big))
        self.C[:n, n:], self.C[n:, :n] = self.A, self.Bt
        row = np.arange(big) < n
        self.off = (row[:, None] != row[None, :]).astype(np.float64)  # 1 off the diagonal blocks
        self.starts, self.sizes, self.owner = np.array([0, n]), np.array([n, m]), np.repeat([0, 1], [n, m])
        self.scale = 1.0 + max(float(np.max(np.abs(a))), float(np.max(np.abs(b))))
        # The trace's augmented Jacobian [dH/dy; row] ((N + 1)-square; the caller sets the row), written
        # in place through views, and the polish's Newton matrix ((N + 2)-square, its constant columns set).
        self.aug = np.zeros((big + 1, big + 1))
        self._top, self._ds = self.aug[:-1, :-1], self.aug[:-1, -1]
        self._newton = np.zeros((big + 2, big + 2))
        self._newton[np.arange(big), big + self.owner] = 1.0
        self._jac, self._gauge = self._newton[:big, :big], self._newton[big:, :big]

    def probs(self, z):
        """Both players' softmax of the stacked logits ``z`` (along the last axis)."""
        e = np.exp(z - np.maximum.reduceat(z, self.starts, axis=-1).take(self.owner, axis=-1))
        return e / np.add.reduceat(e, self.starts, axis=-1).take(self.owner, axis=-1)

    def jacobian(self, w, u):
        """``J``, the payoffs' derivative in the logits, at the stacked probabilities ``w`` and payoffs ``u``."""
        return (self.C - u[:, None] * self.off) * w

    def evaluate(self, y):
        r"""``(H(y), lam)`` at ``y = (a, b, s)``, with :math:`\partial H/\partial y` written into ``self.aug[:-1]``.

        ``H`` is ``None`` (and ``lam`` infinite) where :math:`\lambda` would overflow.
        """
        s = y[-1]
        if not s <= 700.0:
            return None, math.inf
        lam = math.expm1(s)
        x = y[:-1]
        w = self.probs(lam * x)
        u = self.C @ w
        jac = self.jacobian(w, u)
        np.multiply(jac, -lam, out=self._top)
        big = self.n + self.m
        self.aug.flat[0 : big * (big + 2) : big + 2] = 1.0  # the identity of dH/d(a, b) (J is 0 there)
        np.multiply(jac @ x, -(lam + 1.0), out=self._ds)
        return x - u, lam

    def residual(self, tau, za, zb):
        r"""The equilibrium residual :math:`\max_i\operatorname{osc}(\tau\theta_i - u_i)` at logits ``za``, ``zb``.

        With a leading axis of ``K`` points (``tau`` of shape ``(K,)``), their ``K`` residuals.
        """
        z = np.concatenate([za, zb], axis=-1)
        r = np.asarray(tau)[..., None] * z - self.probs(z) @ self.C.T
        spread = np.maximum.reduceat(r, self.starts, axis=-1) - np.minimum.reduceat(r, self.starts, axis=-1)
        osc = np.max(spread, axis=-1)
        return float(osc) if osc.ndim == 0 else osc

    def _residual(self, tau, z, u):
        """:meth:`residual` at one point, from its stacked logits ``z`` and payoffs ``u``."""
        r = tau * z - u
        return float(np.max(np.maximum.reduceat(r, self.starts) - np.minimum.reduceat(r, self.starts)))

    def _gauged(self, z):
        """``z`` shifted so that each player's largest logit is 0."""
        return z - np.maximum.reduceat(z, self.starts)[self.owner]

    def polish(self, tau, za, zb, iters=_POLISH_ITERS):
        r"""Newton at temperature ``tau`` in the logits, from ``(za, zb)``; the best ``(za, zb, residual)``.

        Unknowns :math:`(\theta, c)`, equations :math:`\tau\theta_i - u_i + c_i 1 = 0` per player and
        the gauge :math:`\theta_i = 0` at each player's largest logit. In the logits the residual
        keeps full precision however small ``tau`` (the payoff coordinates of the trace lose
        :math:`\lambda\epsilon`).
        """
        n, big = self.n, self.n + self.m
        z = self._gauged(np.concatenate([za, zb]))
        w = self.probs(z)
        u = self.C @ w
        best_r = self._residual(tau, z, u)
        rhs = np.zeros(big + 2)
        for _ in range(iters):
            if best_r == 0.0:
                break
            r = tau * z - u
            np.negative(self.jacobian(w, u), out=self._jac)
            self._newton.flat[0 : big * (big + 3) : big + 3] = tau
            self._gauge[...] = 0.0
            self._gauge[0, int(z[:n].argmax())] = 1.0
            self._gauge[1, n + int(z[n:].argmax())] = 1.0
            np.subtract((np.add.reduceat(r, self.starts) / self.sizes)[self.owner], r, out=rhs[:big])
            with np.errstate(invalid="ignore"):
                d = _solve(self._newton, rhs)[:big]
            if not np.all(np.isfinite(d)):  # singular
                break
            for _half in range(_BACKTRACKS):  # damped: halve the step until the residual drops
                t = self._gauged(z + d)
                wt = self.probs(t)
                ut = self.C @ wt
                rt = self._residual(tau, t, ut)
                if rt < best_r:
                    break
                d = 0.5 * d
            if not rt < best_r:  # at the rounding floor (or no descent): keep the best iterate
                break
            z, w, u, best_r = t, wt, ut, rt
            if rt <= 4.0 * _EPS * self.scale:
                break
        return z[:n], z[n:], best_r


try:  # the LAPACK gesv gufuncs behind np.linalg.solve, without the wrapper's checks (half a small solve's time)
    from numpy.linalg._umath_linalg import solve as _gesv
    from numpy.linalg._umath_linalg import solve1 as _gesv1
except ImportError:  # pragma: no cover - a NumPy that moved them
    _gesv = _gesv1 = None


def _solve(a, b):
    """``a x = b`` for a small square ``a``; NaN where ``a`` is singular (where np.linalg.solve raises).

    Call under ``np.errstate(invalid="ignore")``: a singular ``a`` sets the invalid flag.
    """
    if _gesv is not None:
        return _gesv1(a, b) if b.ndim == 1 else _gesv(a, b)
    try:  # pragma: no cover
        return np.linalg.solve(a, b)
    except np.linalg.LinAlgError:  # pragma: no cover
        return np.full(b.shape, np.nan)


def _tangent(aug, v_prev):
    """Unit tangent of the curve whose Jacobian fills ``aug`` above its last row ``v_prev``, oriented along it."""
    aug[-1] = v_prev
    e = np.zeros(aug.shape[1])
    e[-1] = 1.0
    return _oriented(_solve(aug, e), v_prev)


def _oriented(t, v_prev):
    """``t`` (a solution of ``[dH; v_prev^T] t = e_s``) scaled to unit length, pointing along ``v_prev``."""
    t = t / math.sqrt(t @ t)
    return t if float(t @ v_prev) >= 0 else -t


def _trace(g: Bimatrix, targets, first):
    """Pseudo-arclength continuation from the centroid until ``s`` passes ``targets[-1]``.

    Returns ``(y, lo, hi, crossed)``: the last point, and per target the ends of the step that
    crossed it (the first or the last such step, see :func:`principal_branch`) and whether one did.
    """
    k, n, m = targets.size, g.n, g.m
    ordered = targets.tolist()
    y = np.concatenate([g.A.mean(axis=1), g.Bt.mean(axis=1), [0.0]])  # the centroid's payoffs at s = 0
    aug = g.aug
    g.evaluate(y)
    e_s = np.eye(n + m + 1)[-1]
    v = _tangent(aug, e_s)
    rhs = np.zeros((n + m + 1, 2))  # the corrector's right side, and e_s: the tangent at the same Jacobian
    rhs[-1, 1] = 1.0
    minus_h = rhs[:-1, 0]
    lo, hi = np.zeros((k, n + m + 1)), np.zeros((k, n + m + 1))
    crossed = np.zeros(k, bool)
    tol = _NEWTON_TOL * g.scale
    step = _STEP_INIT
    for _ in range(_MAX_STEPS):
        delta = step * v
        if y[-1] > _LATE:  # payoffs approach their limit like exp(-s) (module docstring)
            delta[:-1] *= -math.expm1(-delta[-1]) / delta[-1] if delta[-1] > 0 else 1.0
        z, ok, sizes, t = y + delta, False, [], None
        pred = z
        aug[-1] = v
        for _it in range(_CORRECTOR_ITERS):
            h, lam = g.evaluate(z)
            size = float(np.maximum.reduce(np.abs(h))) if h is not None else math.nan
            if not math.isfinite(size):
                break
            if size <= tol * max(1.0, _FLOOR * lam):
                ok = True
                break
            np.negative(h, out=minus_h)
            rhs[-1, 0] = -(v @ (z - pred))
            dt = _solve(aug, rhs)  # NaN where singular: the next H is NaN and rejects the step
            d, t = dt[:, 0], dt[:, 1]
            sizes.append(math.sqrt(d @ d))
            z = z + d
        vz = v
        if ok:
            if sizes and sizes[-1] <= _TANGENT_REUSE * step:  # the last correction's Jacobian is z's to O(|d|)
                vz = _oriented(t, v)
            else:
                vz = _tangent(aug, v)  # NaN where singular: an infinite turn rejects the step
        # Steplength adaptation (Allgower & Georg 1990, sec. 6.1): the first corrector's distance
        # relative to the step, its contraction and the tangent's turn against nominal values.
        dist = sizes[0] / max(step, _DIST_FLOOR) if sizes else 0.0
        kappa = sizes[1] / sizes[0] if len(sizes) > 1 and sizes[0] > 0 else 0.0
        cos = float(vz @ v)
        turn = math.acos(min(1.0, max(-1.0, cos))) if ok and math.isfinite(cos) else math.inf
        f = max(math.sqrt(dist / _NOMINAL_DIST), math.sqrt(kappa / _NOMINAL_CONTRACTION), turn / _NOMINAL_TURN, 0.5)
        if not ok or f > 2.0:
            step *= 0.5
            if step < _STEP_MIN:
                break
            continue
        s0, s1 = float(y[-1]), float(z[-1])
        if s1 != s0:  # the targets this step crosses (ends included; targets increase)
            for i in range(bisect.bisect_left(ordered, min(s0, s1)), bisect.bisect_right(ordered, max(s0, s1))):
                if not (first and crossed[i]):
                    lo[i], hi[i], crossed[i] = y, z, True
        y, v = z, vz
        step = min(step / f, _STEP_MAX if y[-1] <= _LATE else _STEP_MAX_LATE)
        if y[-1] >= targets[-1] and (not first or crossed.all()):
            break
    return y, lo, hi, crossed


def principal_branch(a, b, lams, *, first=False) -> Branch:
    r"""The principal logit-QRE branch of the bimatrix game ``(a, b)`` at the precisions ``lams``.

    Args:
      a: ``(n, m)`` payoffs of the row player.
      b: ``(n, m)`` payoffs of the column player.
      lams: ``(K,)`` positive precisions :math:`\lambda = 1/\tau`, increasing.
      first: take the first crossing of each precision (gambit's ``logit_solve_lambda``); the
        default takes the last one before the trace passes ``lams[-1]``, on the part of the branch
        that leads on to the Nash equilibrium (where the branch folds back, a precision is crossed
        several times).

    Returns:
      :class:`Branch`; ``residual[k]`` is ``inf`` where the trace failed before ``lams[k]`` (the
      caller judges the residual and falls back to another solver where it is too large).

    Examples:
      Matching pennies: the centroid is the QRE at every precision.

      >>> br = principal_branch(np.array([[1.0, -1.0], [-1.0, 1.0]]), np.array([[-1.0, 1.0], [1.0, -1.0]]), [1.0, 10.0])
      >>> br.residual.tolist(), [z.tolist() for z in br.logits[0]]
      ([0.0, 0.0], [[0.0, 0.0], [0.0, 0.0]])
    """
    g = Bimatrix(np.asarray(a, np.float64), np.asarray(b, np.float64))
    asked = np.asarray(lams, np.float64)
    # Past lambda = 1e6 every decade up to the largest precision is landed on too, so that Newton for
    # each starts from the logits of the one before (below): a single precision of 1e12 is otherwise
    # one jump from the trace's coarse point.
    decades = 10.0 ** np.arange(7, math.ceil(math.log10(asked[-1]))) if asked[-1] > 1e7 else np.zeros(0)
    lams = np.union1d(asked, decades)
    targets = np.log1p(lams)
    k = targets.size
    n, m = g.n, g.m
    with np.errstate(over="ignore", invalid="ignore"):  # a diverging corrector overflows; its H rejects the step
        y, lo, hi, crossed = _trace(g, targets, first)
    out_a, out_b = np.zeros((k, n)), np.zeros((k, m))
    res = np.full(k, np.inf)
    late = math.log1p(1.0 / _FLOOR)
    if y[-1] >= late:
        # Past lambda = 1e6 the tangent is at the mercy of rounding; a trace that stalls there hands
        # the precisions it did not reach to Newton in the logits from its last point.
        rest = ~crossed & (targets > y[-1])
        lo[rest], hi[rest] = y, y
        crossed |= rest
    # Past lambda = 1e6 the trace's payoffs carry an error of lambda times its tolerance; where Newton
    # from there misses full accuracy (near degenerate equilibria), it starts again from the logits
    # of the last precision landed on, and the better answer is kept.
    landed = None  # the logits of the last precision landed on to full accuracy
    for i in np.flatnonzero(crossed):
        s0, s1 = lo[i, -1], hi[i, -1]
        t = (targets[i] - s0) / (s1 - s0) if s1 != s0 else 0.0
        if min(s0, s1) > _LATE and s1 != s0:  # the payoffs' exp(-s) approach, as the predictor assumes
            t = math.expm1(-(targets[i] - s0)) / math.expm1(-(s1 - s0))
        y0 = lo[i] + t * (hi[i] - lo[i])
        lam0 = lams[i] if s1 != s0 else math.expm1(s0)  # beyond the trace: its last point's logits
        out_a[i], out_b[i], res[i] = g.polish(1.0 / lams[i], lam0 * y0[:n], lam0 * y0[n:-1])
        if targets[i] >= late and not res[i] <= _LANDED * g.scale and landed is not None:
            za, zb, r = g.polish(1.0 / lams[i], *landed)
            if r < res[i]:
                out_a[i], out_b[i], res[i] = za, zb, r
        if res[i] <= _LANDED * g.scale:
            landed = (out_a[i], out_b[i])
    keep = np.searchsorted(lams, asked)
    return Branch((out_a[keep], out_b[keep]), res[keep], g)
