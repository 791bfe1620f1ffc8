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
Past :math:`s = 2` the predictor (and the interpolation of a crossing) assume what holds near a
regular Nash equilibrium, payoffs that approach their limit like :math:`1/\lambda\approx e^{-s}`:
the payoff part of the Euler step is scaled by :math:`(1-e^{-\Delta s})/\Delta s`, which keeps the
logit error :math:`\lambda\,\delta b` of long steps small. A requested :math:`\lambda` is landed on
by damped Newton at that :math:`\lambda` in the logits, from the interpolated crossing; beyond
:math:`\lambda = 10^6`, where rounding steers the tangent, a trace that stalls hands the precisions
it did not reach to that Newton from its last point. The caller judges every point by its
residual. Everything is float64 NumPy with a few calls per step: no compilation.

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
    """

    logits: tuple
    residual: np.ndarray


def is_bimatrix(tg) -> bool:
    """Whether ``tg`` (host data) is a two-player normal-form game: one state, ``gamma = 0``."""
    r = np.asarray(tg.rewards)
    return r.ndim == 4 and r.shape[0] == 2 and r.shape[1] == 1 and float(tg.gamma) == 0.0


def _softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


class Bimatrix:
    """``H``, its Jacobian and the Newton polish in the logits, for payoffs ``A`` (n x m), ``B`` (n x m)."""

    def __init__(self, a, b):
        self.A, self.Bt = np.ascontiguousarray(a), np.ascontiguousarray(np.asarray(b).T)
        self.n, self.m = self.A.shape
        self.scale = 1.0 + max(float(np.max(np.abs(a))), float(np.max(np.abs(b))))

    def responses(self, za, zb):
        r"""``(Aq, B^T p, M1, M2)`` at logits ``za``, ``zb``: the payoffs and their derivatives in the logits.

        :math:`p = \sigma(z_a)`, :math:`q = \sigma(z_b)`, :math:`M_1 = A(\operatorname{diag}q - qq^\top)`,
        :math:`M_2 = B^\top(\operatorname{diag}p - pp^\top)`.
        """
        p, q = _softmax(za), _softmax(zb)
        aq, bp = self.A @ q, self.Bt @ p
        return aq, bp, (self.A - aq[:, None]) * q[None, :], (self.Bt - bp[:, None]) * p[None, :]

    def parts(self, y):
        """``(H(y), M1, M2, lam)`` at ``y = (a, b, s)``."""
        n = self.n
        a, b, s = y[:n], y[n:-1], y[-1]
        if not s <= 700.0:  # lambda would overflow: not finite, the caller rejects the step
            return np.full(n + self.m, np.nan), None, None, math.inf
        lam = math.expm1(s)
        aq, bp, m1, m2 = self.responses(lam * a, lam * b)
        return np.concatenate([a - aq, b - bp]), m1, m2, lam

    def augmented(self, y, m1, m2, lam, row, out):
        """``[dH/d(a, b, s); row]`` written into ``out`` (``(n + m + 1)``-square; its identity block kept)."""
        n, m = self.n, self.m
        np.multiply(m1, -lam, out=out[:n, n:n + m])
        np.multiply(m2, -lam, out=out[n:n + m, :n])
        ds = -(lam + 1.0)
        out[:n, -1] = m1 @ y[n:-1]
        out[n:n + m, -1] = m2 @ y[:n]
        out[:n + m, -1] *= ds
        out[-1] = row
        return out

    def residual(self, tau, za, zb):
        r"""The equilibrium residual :math:`\max_i\operatorname{osc}(\tau\theta_i - u_i)` at logits ``za``, ``zb``."""
        p, q = _softmax(za), _softmax(zb)
        return max(float(np.ptp(tau * za - self.A @ q)), float(np.ptp(tau * zb - self.Bt @ p)))

    def polish(self, tau, za, zb, iters=_POLISH_ITERS):
        r"""Newton at temperature ``tau`` in the logits, from ``(za, zb)``; the best ``(za, zb, residual)``.

        Unknowns :math:`(\theta_1, \theta_2, c_1, c_2)`, equations
        :math:`\tau\theta_1 - Aq + c_1 1 = 0`, :math:`\tau\theta_2 - B^\top p + c_2 1 = 0` and the gauge
        :math:`\theta_i = 0` at the largest logit. In the logits the residual keeps full precision
        however small ``tau`` (the payoff coordinates of the trace lose :math:`\lambda\epsilon`).
        """
        n, m = self.n, self.m
        za, zb = za - za.max(), zb - zb.max()
        best_r = self.residual(tau, za, zb)
        for _ in range(iters):
            if best_r == 0.0:
                break
            aq, bp, m1, m2 = self.responses(za, zb)
            r1, r2 = tau * za - aq, tau * zb - bp
            c1, c2 = -float(np.mean(r1)), -float(np.mean(r2))
            j = np.zeros((n + m + 2, n + m + 2))
            j[np.arange(n), np.arange(n)] = tau
            j[n + np.arange(m), n + np.arange(m)] = tau
            j[:n, n:n + m] = -m1
            j[n:n + m, :n] = -m2
            j[:n, -2] = 1.0
            j[n:n + m, -1] = 1.0
            j[-2, int(np.argmax(za))] = 1.0
            j[-1, n + int(np.argmax(zb))] = 1.0
            rhs = -np.concatenate([r1 + c1, r2 + c2, [0.0, 0.0]])
            try:
                d = np.linalg.solve(j, rhs)
            except np.linalg.LinAlgError:
                break
            if not np.all(np.isfinite(d)):
                break
            for _half in range(_BACKTRACKS):  # damped: halve the step until the residual drops
                ta, tb = za + d[:n], zb + d[n:n + m]
                ta, tb = ta - ta.max(), tb - tb.max()
                r = self.residual(tau, ta, tb)
                if r < best_r:
                    break
                d = 0.5 * d
            if not r < best_r:  # at the rounding floor (or no descent): keep the best iterate
                break
            za, zb, best_r = ta, tb, r
            if r <= 4.0 * _EPS * self.scale:
                break
        return za, zb, best_r


def _tangent(aug, v_prev):
    """Unit tangent of the curve whose Jacobian fills ``aug`` above its last row ``v_prev``, oriented along it."""
    e = np.zeros(aug.shape[1])
    e[-1] = 1.0
    t = np.linalg.solve(aug, e)
    t /= np.linalg.norm(t)
    return t if float(t @ v_prev) >= 0 else -t


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
    lams = np.asarray(lams, np.float64)
    targets = np.log1p(lams)
    k = targets.size
    n, m = g.n, g.m
    y = np.concatenate([g.A.mean(axis=1), g.Bt.mean(axis=1), [0.0]])  # the centroid's payoffs at s = 0
    aug = np.eye(n + m + 1)
    _, m1, m2, lam = g.parts(y)
    e_s = np.eye(n + m + 1)[-1]
    v = _tangent(g.augmented(y, m1, m2, lam, e_s, aug), e_s)
    rhs = np.zeros(n + m + 1)
    lo, hi = np.zeros((k, n + m + 1)), np.zeros((k, n + m + 1))
    crossed = np.zeros(k, bool)
    tol = _NEWTON_TOL * g.scale
    step = _STEP_INIT
    for _ in range(_MAX_STEPS):
        delta = step * v
        if y[-1] > _LATE:  # payoffs approach their limit like exp(-s) (module docstring)
            delta[:-1] *= -math.expm1(-delta[-1]) / delta[-1] if delta[-1] > 0 else 1.0
        z, ok, sizes = y + delta, False, []
        pred = z
        for _it in range(_CORRECTOR_ITERS):
            h, m1, m2, lam = g.parts(z)
            if not np.all(np.isfinite(h)):
                break
            if float(np.max(np.abs(h))) <= tol * max(1.0, _FLOOR * lam):
                ok = True
                break
            np.negative(h, out=rhs[:-1])
            rhs[-1] = -(v @ (z - pred))
            try:
                d = np.linalg.solve(g.augmented(z, m1, m2, lam, v, aug), rhs)
            except np.linalg.LinAlgError:
                break
            sizes.append(float(np.linalg.norm(d)))
            z = z + d
        vz = v
        if ok:
            try:
                vz = _tangent(g.augmented(z, m1, m2, lam, v, aug), v)
            except np.linalg.LinAlgError:
                ok = False
        # Steplength adaptation (Allgower & Georg 1990, sec. 6.1): the first corrector's distance
        # relative to the step, its contraction and the tangent's turn against nominal values.
        dist = sizes[0] / max(step, _DIST_FLOOR) if sizes else 0.0
        kappa = sizes[1] / sizes[0] if len(sizes) > 1 and sizes[0] > 0 else 0.0
        turn = math.acos(min(1.0, max(-1.0, float(vz @ v)))) if ok and np.all(np.isfinite(vz)) else math.inf
        f = max(math.sqrt(dist / _NOMINAL_DIST), math.sqrt(kappa / _NOMINAL_CONTRACTION), turn / _NOMINAL_TURN, 0.5)
        if not ok or f > 2.0:
            step *= 0.5
            if step < _STEP_MIN:
                break
            continue
        s0, s1 = y[-1], z[-1]
        cross = ((s0 - targets) * (s1 - targets) <= 0) & (s1 != s0)
        if first:
            cross &= ~crossed
        lo[cross], hi[cross] = y, z
        crossed |= cross
        y, v = z, vz
        step = min(step / f, _STEP_MAX)
        if y[-1] >= targets[-1] and (not first or crossed.all()):
            break
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
    return Branch((out_a, out_b), res)
