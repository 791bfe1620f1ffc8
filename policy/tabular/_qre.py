r"""Reference solvers for logit quantal response equilibria (entropy-regularised equilibria).

A QRE of a tabular game with temperature :math:`\tau > 0` is a zero of the logit residual
:math:`\tau\theta_i(s,\cdot) - u_i(s,\cdot)` modulo a constant per state, with the learner payoff
:math:`u_i` of :func:`games.tabular.policy_payoffs` (:math:`d^\pi(s)\bar Q_i(s,\cdot)` for the
state-summed entropy, :math:`\bar Q^\tau_i(s,\cdot)` for the discounted one). :func:`solve_qre` runs
policy extragradient iterations followed by safeguarded Newton steps in gauge-free coordinates
and reports the residual; :func:`qre_path` follows the branch as :math:`\tau` decreases
(homotopy / numerical continuation with warm starts), the standard way to trace the logit QRE
correspondence from the centroid at large :math:`\tau` toward a Nash equilibrium.

References:
  McKelvey & Palfrey, Quantal response equilibria for normal form games, GEB 10, 1995.
  Turocy, A dynamic homotopy interpretation of the logistic quantal response equilibrium
  correspondence, GEB 51, 2005.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp

from games.tabular import TabularGame, stationary_point


class QREResult(NamedTuple):
    r"""A computed QRE.

    Attributes:
      logits: per-player logits ``(n_states, n_i)`` (centred per state).
      residual: largest per-state oscillation of :math:`\tau\theta_i - g_i` (0 at a QRE).
      converged: ``residual <= tol``.

    Examples:
      >>> import jax.numpy as jnp
      >>> r = QREResult((jnp.zeros((1, 2)),), jnp.asarray(0.0), jnp.asarray(True))
      >>> bool(r.converged)
      True
    """

    logits: tuple
    residual: jax.Array
    converged: jax.Array


_TOL_ULPS = 256.0


def residual_tolerance(tg: TabularGame, dtype) -> jax.Array:
    r"""Default QRE residual tolerance: :math:`256\,\epsilon_{\rm dtype}(1 + \max|R|/(1-\gamma) + \tau\log n)`.

    The residual of :func:`games.tabular.equilibrium_residual` compares numbers of size about the
    payoff scale :math:`\max|R|/(1-\gamma)` and :math:`\tau|\log\pi|`, so a Newton solution is accurate
    to a few hundred ulps of that scale: about :math:`10^{-13}` in float64, :math:`10^{-4}` in float32.

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
    eps = jnp.finfo(dtype).eps
    rewards = jnp.asarray(tg.rewards, dtype)
    n = max(int(k) for k in rewards.shape[2:])
    scale = 1.0 + jnp.max(jnp.abs(rewards)) / (1.0 - jnp.asarray(tg.gamma, dtype))
    return _TOL_ULPS * eps * (scale + jnp.asarray(tg.tau, dtype) * jnp.log(float(max(n, 1))))


def solve_qre(tg: TabularGame, logits0: Sequence[jax.Array] | None = None, *, tol: float | None = None,
              damping: float = 1.0, fixed_point_iters: int = 300, newton_iters: int = 30) -> QREResult:
    r"""Solves for a logit QRE by a damped fixed point and Newton polishing (``jit``/``vmap``-able).

    Args:
      tg: game data with :math:`\tau > 0`.
      logits0: starting logits (uniform policy if ``None``); selects the branch when several exist.
      tol: residual tolerance for ``converged``; ``None`` scales it with the dtype
        (:func:`residual_tolerance`).
      damping: extragradient step multiplier in ``(0, 1]``.
      fixed_point_iters: extragradient iterations (static).
      newton_iters: Newton iterations (static).

    Returns:
      :class:`QREResult`.

    Examples:
      The 2x2 coordination game at :math:`\tau = 0.5` has a non-uniform QRE with
      :math:`m = \tanh(m/\tau)` for the magnetisation :math:`m = 2p - 1`:

      >>> import jax.numpy as jnp
      >>> from games.tabular import tabular_from_matrix
      >>> a = jnp.array([[1.0, -1.0], [-1.0, 1.0]])
      >>> r = solve_qre(tabular_from_matrix([a, a], tau=0.5), [jnp.array([[1.0, 0.0]])] * 2)
      >>> m = float(jnp.tanh(r.logits[0][0, 0]))  # centred logits (c, -c): 2p - 1 = tanh(c)
      >>> bool(r.converged), round(m, 6) == round(float(jnp.tanh(m / 0.5)), 6)
      (True, True)
    """
    z, res = stationary_point(tg, logits0, damping=damping, fixed_point_iters=fixed_point_iters,
                              newton_iters=newton_iters)
    tol = residual_tolerance(tg, res.dtype) if tol is None else tol
    return QREResult(tuple(z), res, res <= tol)


def qre_path(tg: TabularGame, taus, logits0: Sequence[jax.Array] | None = None, *,
             newton_iters: int = 20, fixed_point_iters: int = 50, tol: float | None = None) -> QREResult:
    r"""Follows a QRE branch along the temperatures ``taus`` (warm-started continuation).

    Args:
      tg: game data (its ``tau`` is replaced by each entry of ``taus``).
      taus: ``(n_taus,)`` positive temperatures, typically decreasing.
      logits0: starting logits for the first temperature (uniform if ``None``).
      newton_iters: Newton iterations per temperature.
      fixed_point_iters: damped fixed-point iterations per temperature.
      tol: residual tolerance; ``None`` scales it with the dtype (:func:`residual_tolerance`, at each
        temperature).

    Returns:
      :class:`QREResult` with a leading ``n_taus`` axis on every field.

    Examples:
      The coordination game's centroid branch stays uniform (and is a QRE) at every temperature:

      >>> from games.tabular import tabular_from_matrix
      >>> tg = tabular_from_matrix([[[1.0, -1.0], [-1.0, 1.0]]] * 2, tau=1.0)
      >>> path = qre_path(tg, [2.0, 1.0, 0.5])
      >>> path.converged.tolist(), [float(z[0, 0]) for z in path.logits[0]]
      ([True, True, True], [0.0, 0.0, 0.0])
    """
    tg = jax.tree_util.tree_map(jnp.asarray, tg)
    taus = jnp.asarray(taus, tg.rewards.dtype)
    if logits0 is None:
        logits0 = [jnp.zeros((tg.initial.shape[0], n), tg.rewards.dtype) for n in tg.rewards.shape[2:]]

    def body(z, tau):
        out, res = stationary_point(tg._replace(tau=tau), z, damping=1.0,
                                    fixed_point_iters=fixed_point_iters, newton_iters=newton_iters)
        return out, (tuple(out), res)

    _, (zs, res) = jax.lax.scan(body, list(logits0), taus)
    if tol is None:
        tol = jax.vmap(lambda t: residual_tolerance(tg._replace(tau=t), res.dtype))(taus)
    return QREResult(zs, res, res <= tol)
