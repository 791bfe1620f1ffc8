r"""Stationary points (regularised equilibria, logit QREs) of tabular games: one algorithm, two drivers.

A stationary point solves :math:`\tau\theta_i(s,\cdot) = u_i(s,\cdot)` up to a constant per state, with
the learner payoffs :math:`u_i` of :func:`games._markov.payoffs_and_weights`. Everything here is
written once against the array namespace ``xp`` (:mod:`sgn._backend`):

* with NumPy game data it runs on the host in float64 (the Newton Jacobian from the complex step
  :math:`Je_k = \operatorname{Im} r(\phi + \mathrm{i}he_k)/h`, exact to rounding because every
  operation of the payoffs is analytic): no tracing or compiling, the fast route for one small game
  in a fresh process;
* with JAX arrays (or inside ``jit``/``vmap``) the loops become ``lax`` loops, the Jacobian comes from
  ``jacfwd``, and the solver batches over games or temperatures.

**Algorithm.** (1) Policy extragradient (Cen et al. 2021) from ``logits0``, handing over once its
residual is below :math:`10^{-8}S` (or after ``fixed_point_iters`` steps), and safeguarded Newton
steps on :math:`\tau\phi - B^\top u(B\phi)` in gauge-free coordinates :math:`\phi` (:math:`B` the block
Helmert basis): fast where it converges. (2) If the residual is above tolerance, a globally
convergent homotopy (probability-one homotopy, Chow, Mallet-Paret & Yorke 1978; Herings & Peeters
2010 for stationary equilibria):

.. math::

   H(\psi, t) = \psi - (1 - t)\psi_0 - t\,B^\top u(B\psi S/\tau)/S = 0, \qquad t: 0 \to 1,

in the scaled coordinates :math:`\psi = \tau\phi/S`, :math:`S = 1 + \max|R|/(1-\gamma)`. At
:math:`t = 0` the only solution is the start :math:`\psi_0`; at :math:`t = 1` the zeros are the
stationary points; the payoffs are bounded, so the solution curve through :math:`(\psi_0, 0)` stays
bounded and (for almost every game) reaches :math:`t = 1`, also where it turns back in :math:`t`.
It is followed by pseudo-arclength continuation (Keller; Allgower & Georg 1990): Euler predictor
along the unit tangent, chord-Newton corrector on :math:`[J; v^\top]`, step halving on failure or a
tangent turning by more than ~25 degrees, doubling after fast corrections. The crossing of
:math:`t = 1` is interpolated and polished by the Newton steps of (1). ``converged`` is the
residual test, so a failure is reported, never hidden.

**Two-player normal-form games** on the host, from the default (uniform) start, take a faster
route first: the principal logit-QRE branch traced from the centroid in payoff coordinates
(:mod:`games._logit_nf`, gambit's selection), judged by the same residual test; the route above
runs only where a point misses the tolerance, and the points the branch landed on are kept.

References:
  Cen, Wei & Chi, `Fast Policy Extragradient Methods for Competitive Games with Entropy
  Regularization <https://arxiv.org/abs/2105.15186>`_, 2021.
  Allgower & Georg, Numerical Continuation Methods, Springer 1990 (pseudo-arclength, ch. 2-6).
  Turocy, A dynamic homotopy interpretation of the logistic quantal response equilibrium
  correspondence, GEB 51, 2005.
  Squire & Trapp, Using complex variables to estimate derivatives of real functions, SIAM Review
  40(1), 1998 (complex-step differentiation).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from games import _logit_nf
from games._markov import (
    TabularGame,
    block_basis,
    log_softmax,
    logit_shapes,
    payoffs_and_weights,
    residual_in,
    split_logits,
)
from sgn import _backend, _checks
from sgn._backend import jax, jnp
from sgn._lazy import LazyJit

_COMPLEX_STEP = 1e-30
_SWITCH = 1e-8
"""Extragradient hands over to Newton below this residual (relative to the payoff scale ``S``)."""
_TOL_ULPS = 256.0
_TRACE_TOL = 1e-9
"""Largest scaled homotopy residual a corrector must reach for a continuation step to be accepted."""
_CORRECTOR_ITERS = 6
_COS_TURN = 0.9
_STEP_INIT, _STEP_MAX, _STEP_MIN = 0.05, 0.5, 1e-9


class QREResult(NamedTuple):
    r"""A computed stationary point (regularised equilibrium, logit QRE), from either driver.

    Attributes:
      logits: per-player logits ``(n_states, n_i)``, centred per state (mean zero; the normal-form
        fast path shifts them to a largest logit of 0 instead where mean zero would cost digits,
        near :math:`\tau = 0`); NumPy float64 from the host driver, JAX arrays from the JAX one.
      residual: largest per-state oscillation of :math:`\tau\theta_i - u_i` (0 at a stationary point).
      converged: ``residual <= tol`` (:func:`residual_tolerance` unless a ``tol`` was given).

    Examples:
      >>> import jax.numpy as jnp
      >>> r = QREResult((jnp.zeros((1, 2)),), jnp.asarray(0.0), jnp.asarray(True))
      >>> bool(r.converged)
      True
    """

    logits: tuple
    residual: jax.Array
    converged: jax.Array


def residual_tolerance(tg: TabularGame, dtype) -> jax.Array:
    r"""Default residual tolerance: :math:`256\,\epsilon_{\rm dtype}(1 + \max|R|/(1-\gamma) + \tau\log n)`.

    The residual of :func:`games.tabular.equilibrium_residual` compares numbers of size about the
    payoff scale :math:`\max|R|/(1-\gamma)` and :math:`\tau|\log\pi|`, so a Newton solution is accurate
    to a few hundred ulps of that scale: about :math:`10^{-13}` in float64, :math:`10^{-4}` in float32.
    NumPy game data give a NumPy scalar, JAX data a JAX one.

    Args:
      tg: game data.
      dtype: the dtype the residual was computed in.

    Returns:
      Scalar tolerance.

    Examples:
      >>> import jax.numpy as jnp
      >>> from games.tabular import tabular_from_matrix
      >>> tg = tabular_from_matrix([[[1.0, -1.0], [-1.0, 1.0]]] * 2, tau=1.0)
      >>> f"{float(residual_tolerance(tg, jnp.float32)):.4e}"  # 256 * 2**-23 * (1 + 1 + log 2)
      '8.2188e-05'
    """
    xp = _backend.namespace(*tg)
    eps = _backend.finfo(dtype).eps
    rewards = xp.asarray(tg.rewards, dtype)
    n = max(int(k) for k in rewards.shape[2:])
    scale = 1.0 + xp.max(xp.abs(rewards)) / (1.0 - xp.asarray(tg.gamma, dtype))
    tol = _TOL_ULPS * eps * (scale + xp.asarray(tg.tau, dtype) * np.log(float(max(n, 1))))
    return xp.asarray(xp.where(xp.isfinite(tol), tol, 0.0), dtype)  # non-finite data: nothing converges


def check_logits0(tg: TabularGame, logits0) -> None:
    """Raises ``ValueError`` unless ``logits0`` is ``None`` or one ``(n_states, n_i)`` array per player."""
    if logits0 is None:
        return
    want = logit_shapes(tg)
    got = [tuple(np.shape(z)) for z in logits0]
    if got != want:
        raise ValueError(f"expected logits0 of shapes {want} (one (n_states, n_actions) array per player), got {got}")


def host_game(tg: TabularGame) -> TabularGame:
    """``tg`` as float64 NumPy arrays, its data checked finite (the temperature is the caller's: one, or a path).

    Raises:
      ValueError: naming the field that is not finite.
    """
    tg = TabularGame(*(np.asarray(a, dtype=np.float64) for a in tg))
    for name in ("rewards", "transitions", "initial", "gamma"):
        _checks.check_finite(getattr(tg, name), name)
    return tg


# ----------------------------------------------------------------------------------------------
# Loops, branches and Jacobians: the only places where the two drivers differ
# ----------------------------------------------------------------------------------------------


def _fori(xp, n, body, init):
    if xp is not np:
        return jax.lax.fori_loop(0, n, body, init)
    for k in range(n):
        init = body(k, init)
    return init


def _while(xp, cond, body, init):
    if xp is not np:
        return jax.lax.while_loop(cond, body, init)
    while cond(init):
        init = body(init)
    return init


def _cond(xp, pred, if_true, if_false, operand):
    if xp is not np:
        return jax.lax.cond(pred, if_true, if_false, operand)
    return if_true(operand) if pred else if_false(operand)


def _jacobian(xp, f, x):
    """``Df(x)``: ``jacfwd`` in JAX, the complex step on the host (``f`` analytic)."""
    if xp is not np:
        return jax.jacfwd(f)(x)
    return (f(x + 1j * _COMPLEX_STEP * np.eye(x.size)).imag / _COMPLEX_STEP).T  # all directions in one batch


def _solve(xp, a, b):
    x = xp.linalg.solve(a, b)
    return xp.where(xp.all(xp.isfinite(x)), x, xp.zeros_like(x))


# ----------------------------------------------------------------------------------------------
# The algorithm, written once
# ----------------------------------------------------------------------------------------------


class _Problem(NamedTuple):
    xp: object
    tg: TabularGame
    shapes: list
    basis: object
    scale: object


def _problem(xp, tg) -> _Problem:
    shapes = logit_shapes(tg)
    dtype = tg.rewards.dtype
    basis = xp.asarray(block_basis(shapes), dtype)
    scale = 1.0 + xp.max(xp.abs(tg.rewards)) / (1.0 - tg.gamma)
    return _Problem(xp, tg, shapes, basis, scale)


def _flat(xp, logits):
    return xp.concatenate([z.reshape(*z.shape[:-2], -1) for z in logits], axis=-1)


def _payoffs_at(pb: _Problem, theta_flat, tg=None):
    """Flat learner payoffs at flat logits ``(..., dim)`` (leading batch axes: complex-step directions)."""
    xp = pb.xp
    tg = pb.tg if tg is None else tg
    u, _ = payoffs_and_weights(xp, tg, [xp.exp(log_softmax(xp, z)) for z in split_logits(theta_flat, pb.shapes)])
    return _flat(xp, u)


def _newton(pb: _Problem, phi, iters):
    r"""Safeguarded Newton on :math:`\tau\phi - B^\top u(B\phi)`, stopping once a step changes nothing."""
    xp, tau = pb.xp, pb.tg.tau

    def residual(p):
        return tau * p - _payoffs_at(pb, p @ pb.basis.T) @ pb.basis

    def body(state):
        k, p, _ = state
        r0 = residual(p)
        step = _solve(xp, _jacobian(xp, residual, p), r0)
        cand = p - step
        better = xp.linalg.norm(residual(cand)) <= xp.linalg.norm(r0)
        new = xp.where(better, cand, p - 0.25 * step)
        return k + 1, new, xp.any(new != p)

    if phi.size == 0:
        return phi
    return _while(xp, lambda s: (s[0] < iters) & s[2], body, (0, phi, True))[1]


def _extragradient(pb: _Problem, z, damping, iters):
    r"""At most ``iters`` extragradient steps; stops early once the residual is below ``_SWITCH * scale``.

    The iterates are the fixed-count loop's; from a residual of :math:`10^{-8}S` the Newton finish
    (:func:`_newton`) reaches the same zero to rounding, so stopping there changes no result, only
    the time (the equilibrium of ``markov-coop`` is the uniform start: no step at all).
    """
    xp, tg = pb.xp, pb.tg
    eta = damping / (tg.tau + 2.0 * pb.scale)

    def centre(zs):
        return [zi - xp.mean(zi, axis=-1, keepdims=True) for zi in zs]

    def payoffs(zs):
        return payoffs_and_weights(xp, tg, [xp.exp(log_softmax(xp, zi)) for zi in zs])[0]

    def running(state):  # the residual of the centred iterate zs from its carried payoffs us
        k, zs, us = state
        res = xp.max(xp.stack([xp.max(xp.ptp(ui - tg.tau * zi, axis=-1)) for zi, ui in zip(zs, us, strict=True)]))
        return (k < iters) & ~(res <= _SWITCH * pb.scale)

    def body(state):
        k, zs, us = state
        mid = centre([(1 - eta * tg.tau) * zi + eta * ui for zi, ui in zip(zs, us, strict=True)])
        new = centre([(1 - eta * tg.tau) * zi + eta * ui for zi, ui in zip(zs, payoffs(mid), strict=True)])
        return k + 1, new, payoffs(new)

    z = centre(list(z))
    if not z[0].size:
        return z
    return _while(xp, running, body, (0, z, payoffs(z)))[1]


class _Trace(NamedTuple):
    y: object  # (m + 1,) point (psi, parameter)
    v: object  # (m + 1,) unit tangent
    h: object  # step length
    jac: object  # (m, m + 1) Jacobian at y
    steps: object
    status: object  # 0 running, 1 reached the end, 2 failed
    lo: object  # (K, m + 1) latest points bracketing each target parameter
    hi: object
    found: object  # (K,) bool


def trace(xp, homotopy, y0, targets, *, direction=1.0, max_steps=4000) -> _Trace:
    r"""Pseudo-arclength continuation of ``homotopy(y) = 0`` from ``y0`` until the parameter passes ``targets[-1]``.

    ``y = (x, p)`` with the parameter ``p`` last. Records, for every target parameter, the latest
    accepted step that crosses it (``lo``, ``hi``): a branch that turns back and crosses a target
    several times reports the crossing nearest the end. Written once for both namespaces.

    Args:
      xp: ``numpy`` or ``jax.numpy``.
      homotopy: ``(m + 1,) -> (m,)``, analytic on the host (complex step).
      y0: a zero of ``homotopy`` where its Jacobian has full rank.
      targets: ``(K,)`` parameters to bracket; the trace ends after crossing ``targets[-1]``.
      direction: ``+1`` or ``-1``: the sign of the parameter's first move.
      max_steps: most accepted or rejected steps.

    Returns:
      The final state (``status`` 1 when the last target was reached).
    """
    m1 = y0.shape[0]
    e_last = xp.zeros(m1, y0.dtype).at[-1].set(1.0) if xp is not np else np.eye(m1)[-1]
    jac0 = _jacobian(xp, homotopy, y0)
    v0 = _solve(xp, xp.concatenate([jac0, e_last[None]]), e_last)
    v0 = direction * v0 / xp.linalg.norm(v0)
    k = targets.shape[0]
    state = _Trace(y0, v0, xp.asarray(_STEP_INIT, y0.dtype), jac0, 0, 0,
                   xp.zeros((k, m1), y0.dtype), xp.zeros((k, m1), y0.dtype), xp.zeros(k, bool))
    end = targets[-1]

    def body(st: _Trace) -> _Trace:
        aug = xp.concatenate([st.jac, st.v[None]])
        zero = xp.zeros(1, st.y.dtype)

        def correct(k, c):  # chord Newton on [H; v.(z - z_pred)] = 0; norms of the first two corrections
            z, n0, n1 = c
            d = _solve(xp, aug, xp.concatenate([-homotopy(z), zero]))
            nd = xp.linalg.norm(d)
            return z + d, xp.where(k == 0, nd, n0), xp.where(k == 1, nd, n1)

        z, n0, n1 = _fori(xp, _CORRECTOR_ITERS, correct, (st.y + st.h * st.v, st.h, st.h))
        norms = (n0, n1)
        res = xp.max(xp.abs(homotopy(z)))
        jz = _jacobian(xp, homotopy, z)
        v = _solve(xp, xp.concatenate([jz, st.v[None]]), e_last)
        v = v / xp.linalg.norm(v)
        ok = (xp.all(xp.isfinite(z)) & xp.all(xp.isfinite(v)) & (res <= _TRACE_TOL)
              & (xp.dot(v, st.v) >= _COS_TURN) & (norms[0] > 0))
        fast = norms[1] <= 0.05 * norms[0]
        h = xp.where(ok, xp.where(fast, xp.minimum(2.0 * st.h, _STEP_MAX), st.h), 0.5 * st.h)
        p0, p1 = st.y[-1], z[-1]
        crossed = ok & ((p0 - targets) * (p1 - targets) <= 0) & (p1 != p0)
        done = ok & (direction * (p1 - end) >= 0)
        failed = (h < _STEP_MIN) | (st.steps + 1 >= max_steps)
        return _Trace(xp.where(ok, z, st.y), xp.where(ok, v, st.v), h, xp.where(ok, jz, st.jac),
                      st.steps + 1, xp.where(done, 1, xp.where(failed, 2, 0)),
                      xp.where(crossed[:, None], st.y[None], st.lo), xp.where(crossed[:, None], z[None], st.hi),
                      st.found | crossed)

    return _while(xp, lambda st: st.status == 0, body, state)


def _at_parameter(xp, lo, hi, p):
    """Linear interpolation of the bracket ``(lo, hi)`` at parameter ``p``."""
    s = xp.where(hi[-1] != lo[-1], (p - lo[-1]) / (hi[-1] - lo[-1] + (hi[-1] == lo[-1])), 0.0)
    return lo + s * (hi - lo)


def _homotopy_solve(pb: _Problem, theta0, newton_iters):
    r"""Stage (2) of the module docstring: trace :math:`t: 0 \to 1` from ``theta0``, then polish."""
    xp, tau = pb.xp, pb.tg.tau
    psi0 = tau * (pb.basis.T @ theta0) / pb.scale

    def homotopy(y):
        psi, t = y[..., :-1], y[..., -1:]
        u = _payoffs_at(pb, (psi * pb.scale / tau) @ pb.basis.T) @ pb.basis
        return psi - (1.0 - t) * psi0 - t * u / pb.scale

    y0 = xp.concatenate([psi0, xp.zeros(1, psi0.dtype)])
    st = trace(xp, homotopy, y0, xp.ones(1, psi0.dtype))
    y1 = _at_parameter(xp, st.lo[0], st.hi[0], 1.0)
    phi = xp.where(st.found[0], y1[:-1] * pb.scale / tau, pb.basis.T @ theta0)
    return _newton(pb, phi, newton_iters)


def _bimatrix_branch(tg, taus, first, tol):
    r"""Host fast path for two-player normal-form games from the centroid: the principal logit-QRE branch.

    :func:`games._logit_nf.principal_branch` at :math:`\lambda = 1/\tau` for every ``taus`` (decreasing),
    judged by the equilibrium residual (:meth:`games._logit_nf.Bimatrix.residual`, on these games the
    residual of :func:`games._markov.residual_in` without its Markov machinery): ``converged`` says
    which points meet their tolerance (the caller runs the generic solver for the others). Logits
    are centred per state (mean zero) where that keeps the residual within tolerance, otherwise
    shifted to a largest logit of 0 (near :math:`\tau = 0`, logits of size :math:`1/\tau` centred
    by their mean lose the digits that the probabilities of the strategies in use depend on).
    """
    a, b = tg.rewards[0, 0], tg.rewards[1, 0]
    br = _logit_nf.principal_branch(a, b, 1.0 / taus, first=first)
    game = br.game
    tols = residual_tolerance(tg._replace(tau=taus), np.float64) if tol is None else np.broadcast_to(tol, taus.shape)
    shifted = br.logits
    centred = [z - z.mean(axis=-1, keepdims=True) for z in shifted]
    use = game.residual(taus, *centred) <= tols
    logits = tuple(np.where(use[:, None], c, s)[:, None] for c, s in zip(centred, shifted, strict=True))
    res = game.residual(taus, *(z[:, 0] for z in logits))
    return QREResult(logits, res, res <= tols)


def _better(a: QREResult, b: QREResult) -> QREResult:
    """Per point, ``a`` where it converged, otherwise the one of ``a``, ``b`` with the smaller residual."""
    take_b = ~np.asarray(a.converged) & (np.asarray(b.residual) < np.asarray(a.residual))
    pick = [take_b.reshape((-1,) + (1,) * (np.ndim(z) - 1)) for z in a.logits]
    return QREResult(tuple(np.where(t, zb, za) for t, za, zb in zip(pick, a.logits, b.logits, strict=True)),
                     np.where(take_b, b.residual, a.residual), np.where(take_b, b.converged, a.converged))


def _stationary(xp, tg, logits0, damping, fixed_point_iters, newton_iters, tol, homotopy):
    fast = None
    if xp is np and logits0 is None and _logit_nf.is_bimatrix(tg):
        branch = _bimatrix_branch(tg, np.asarray([tg.tau], np.float64), True, tol)
        fast = QREResult(tuple(z[0] for z in branch.logits), branch.residual[0], branch.converged[0])
        if fast.converged:
            return fast
    pb = _problem(xp, tg)
    dtype = tg.rewards.dtype
    if logits0 is None:
        logits0 = [xp.zeros(sh, dtype) for sh in pb.shapes]
    logits0 = [xp.asarray(z, dtype) for z in logits0]
    z = _extragradient(pb, logits0, damping, fixed_point_iters)
    phi = _newton(pb, pb.basis.T @ _flat(xp, z), newton_iters)

    def residual(p):
        return residual_in(xp, tg, split_logits(pb.basis @ p, pb.shapes))

    res = residual(phi)
    tol = residual_tolerance(tg, dtype) if tol is None else xp.asarray(tol, dtype)
    if homotopy and phi.size:
        theta0 = pb.basis @ (pb.basis.T @ _flat(xp, logits0))

        def second(p):
            p2 = _homotopy_solve(pb, theta0, newton_iters)
            r2 = residual(p2)
            return xp.where(r2 < res, p2, p)

        phi = _cond(xp, ~(res <= tol), second, lambda p: p, phi)
        res = residual(phi)
    logits = tuple(split_logits(pb.basis @ phi, pb.shapes))
    if fast is not None and fast.residual < res:  # neither converged: the better of the two
        return fast
    return QREResult(logits, res, res <= tol)


_stationary_jit = LazyJit(lambda tg, z0, damping, tol, fp, nt, hom: _stationary(jnp, tg, z0, damping, fp, nt, tol, hom),
                          static_argnums=(4, 5, 6))


def stationary_point(tg: TabularGame, logits0: Sequence | None = None, *, tol: float | None = None,
                     damping: float = 1.0, fixed_point_iters: int = 300, newton_iters: int = 30,
                     homotopy: bool = True) -> QREResult:
    r"""A stationary point (regularised equilibrium / logit QRE) of a tabular game with :math:`\tau > 0`.

    Policy extragradient and Newton steps, then, where those leave a residual above ``tol``, the
    globally convergent homotopy from ``logits0`` (module docstring). The driver follows the data:
    NumPy arrays (as :func:`games.tabular.markov_game` and :func:`games.tabular.matrix_game` store
    them) run on the host in float64 NumPy with nothing compiled; JAX arrays, or a call inside
    ``jit``/``vmap``, run the same algorithm as one compiled JAX program in their dtype.

    Args:
      tg: game data, ``tau > 0``.
      logits0: starting logits per player ``(n_states, n_i)`` (uniform if ``None``); selects the
        branch when several stationary points exist (the homotopy starts there too).
      tol: residual tolerance for ``converged``; ``None`` scales it with the dtype
        (:func:`residual_tolerance`).
      damping: extragradient step multiplier :math:`\lambda \in (0, 1]`, step
        :math:`\lambda/(\tau + 2\max|R|/(1-\gamma))`.
      fixed_point_iters: most extragradient iterations (fewer once the residual is below 1e-8 S).
      newton_iters: largest number of Newton steps (each stage).
      homotopy: follow the homotopy when the first stage fails (``False``: the first stage only).

    Returns:
      :class:`QREResult` (NumPy float64 fields on the host, JAX arrays otherwise).

    Raises:
      ValueError: for NumPy data with ``tau <= 0`` (JAX data cannot be checked under ``jit``: the
        result then reports ``converged=False`` or NaN).

    Examples:
      >>> from games.tabular import tabular_from_matrix
      >>> a = [[2.0, 0.0], [0.0, 1.0]]
      >>> r = stationary_point(tabular_from_matrix([a, a], tau=1.0))  # NumPy data: host driver
      >>> p = float(1.0 / (1.0 + np.exp(r.logits[0][0, 1] - r.logits[0][0, 0])))
      >>> bool(r.converged), round(p, 12) == round(float(1.0 / (1.0 + np.exp(1.0 - 3.0 * p))), 12)
      (True, True)
    """
    check_logits0(tg, logits0)
    if _backend.tree_namespace((tg, logits0)) is np:
        tg = host_game(tg)
        if not (math.isfinite(float(tg.tau)) and float(tg.tau) > 0):
            raise ValueError(f"expected a finite temperature tau > 0, got {float(tg.tau)}")
        return _stationary(np, tg, logits0, float(damping), fixed_point_iters, newton_iters, tol, homotopy)
    tg = jax.tree_util.tree_map(jnp.asarray, tg)
    z0 = None if logits0 is None else [jnp.asarray(z, tg.rewards.dtype) for z in logits0]
    return _stationary_jit(tg, z0, jnp.asarray(damping, tg.rewards.dtype),
                           None if tol is None else jnp.asarray(tol, tg.rewards.dtype),
                           fixed_point_iters, newton_iters, homotopy)


def qre_branch(xp, tg: TabularGame, taus, logits0, newton_iters: int, fixed_point_iters: int, tol) -> QREResult:
    r"""The QRE branch through the solution at ``taus[0]``, at every temperature of ``taus`` (one namespace).

    The stationary point at ``taus[0]`` (:func:`stationary_point` from ``logits0``) starts a
    pseudo-arclength continuation (:func:`trace`) of

    .. math:: H(\psi, \mu) = \psi - B^\top u(B\psi S e^{\mu};\ \tau = e^{-\mu})/S, \qquad \mu = \log(1/\tau),

    in the scaled logits :math:`\psi = \tau\phi/S`, until :math:`\mu` passes :math:`\log(1/\tau_{\rm last})`.
    A branch that turns back in :math:`\mu` (a fold of the QRE correspondence) is followed through the
    fold, as homotopy path-following does (Turocy 2005), where warm-started solves at decreasing
    :math:`\tau` jump off it. At each temperature the crossing nearest the end of the trace is
    interpolated and polished by Newton steps at that temperature, in logits, so probabilities that
    underflow do not limit the accuracy; ``converged`` is each point's residual test.
    """
    dtype = tg.rewards.dtype
    taus = xp.asarray(taus, dtype)
    fast = None
    if xp is np and logits0 is None and _logit_nf.is_bimatrix(tg) and bool(np.all(np.diff(taus) < 0)):
        fast = _bimatrix_branch(tg, taus, False, tol)
        if fast.converged.all():
            return fast
    generic = _generic_branch(xp, tg, taus, logits0, newton_iters, fixed_point_iters, tol)
    return generic if fast is None else _better(fast, generic)  # the principal branch where it converged


def _generic_branch(xp, tg, taus, logits0, newton_iters, fixed_point_iters, tol) -> QREResult:
    """:func:`qre_branch` by the generic route (any tabular game): stationary point, then the trace."""
    dtype = tg.rewards.dtype
    first = _stationary(xp, tg._replace(tau=taus[0]), logits0, 1.0, fixed_point_iters, newton_iters, None, True)
    pb = _problem(xp, tg)
    mus = -xp.log(taus)
    phi0 = pb.basis.T @ _flat(xp, first.logits)

    def homotopy(y):
        psi, mu = y[..., :-1], y[..., -1:]
        tau = xp.exp(-mu)  # (..., 1); (..., 1, 1) where the payoffs broadcast it against (..., N, S)
        u = _payoffs_at(pb, (psi * pb.scale / tau) @ pb.basis.T, tg._replace(tau=tau[..., None])) @ pb.basis
        return psi - u / pb.scale

    y0 = xp.concatenate([taus[0] * phi0 / pb.scale, mus[:1]])
    direction = xp.where(mus[-1] >= mus[0], 1.0, -1.0)
    st = trace(xp, homotopy, y0, mus, direction=direction)

    def at(k_lo_hi_tau):
        found, lo, hi, tau = k_lo_hi_tau
        y = xp.where(found, _at_parameter(xp, lo, hi, -xp.log(tau)), st.y)
        pbk = pb._replace(tg=tg._replace(tau=tau))
        phi = _newton(pbk, y[:-1] * pb.scale / tau, newton_iters)
        logits = split_logits(pb.basis @ phi, pb.shapes)
        res = residual_in(xp, pbk.tg, logits)
        tol_k = residual_tolerance(pbk.tg, dtype) if tol is None else xp.asarray(tol, dtype)
        return tuple(logits), res, res <= tol_k

    if xp is np:
        outs = [at((st.found[k], st.lo[k], st.hi[k], taus[k])) for k in range(taus.shape[0])]
        logits = tuple(np.stack([o[0][i] for o in outs]) for i in range(len(pb.shapes)))
        return QREResult(logits, np.array([o[1] for o in outs]), np.array([o[2] for o in outs]))
    logits, res, conv = jax.vmap(at)((st.found, st.lo, st.hi, taus))
    return QREResult(logits, res, conv)


_qre_branch_jit = LazyJit(lambda tg, taus, z0, tol, nt, fp: qre_branch(jnp, tg, taus, z0, nt, fp, tol),
                          static_argnums=(4, 5))
