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

import numpy as np

from games._markov_solve import _qre_branch_jit, check_logits0, host_game, qre_branch
from games.tabular import QREResult, TabularGame, residual_tolerance, stationary_point
from sgn import _backend
from sgn._backend import jax, jnp

__all__ = ["QREResult", "qre_path", "residual_tolerance", "solve_qre"]


def solve_qre(tg: TabularGame, logits0: Sequence[jax.Array] | None = None, *, tol: float | None = None,
              damping: float = 1.0, fixed_point_iters: int = 300, newton_iters: int = 30) -> QREResult:
    r"""Solves for a logit QRE: :func:`games.tabular.stationary_point` (host NumPy or JAX by the data).

    Extragradient and Newton steps, then where they fail the globally convergent homotopy from
    ``logits0``; ``jit``/``vmap``-able with JAX data, compiled-nothing on the host with NumPy data.
    A two-player normal-form game with NumPy data and the default start gets the point of the
    principal logit-QRE branch at :math:`\lambda = 1/\tau` (the branch through the centroid at
    :math:`\lambda = 0`, first crossing, as gambit's ``logit_solve_lambda``), traced on the host by
    :mod:`games._logit_nf`; where that trace misses the tolerance, the route above.

    Args:
      tg: game data with :math:`\tau > 0`.
      logits0: starting logits (uniform policy if ``None``); selects the branch when several exist.
      tol: residual tolerance for ``converged``; ``None`` scales it with the dtype
        (:func:`residual_tolerance`).
      damping: extragradient step multiplier in ``(0, 1]``.
      fixed_point_iters: most extragradient iterations (static; fewer once the residual is small).
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
    return stationary_point(tg, logits0, tol=tol, damping=damping, fixed_point_iters=fixed_point_iters,
                            newton_iters=newton_iters)


def qre_path(tg: TabularGame, taus, logits0: Sequence[jax.Array] | None = None, *,
             newton_iters: int = 20, fixed_point_iters: int = 300, tol: float | None = None) -> QREResult:
    r"""Follows the logit QRE branch through the temperatures ``taus`` by arclength continuation.

    The solution at ``taus[0]`` (from ``logits0``) is continued in :math:`\log(1/\tau)` by
    pseudo-arclength steps (:func:`games._markov_solve.qre_branch`), which follow a branch that turns
    back in :math:`\tau` (as gambit's path-following does) instead of jumping off it; each requested
    temperature is then polished by Newton steps. NumPy game data run on the host (nothing
    compiled); JAX data run one compiled program, compiled once per shape (not per call). A
    two-player normal-form game with NumPy data, the default start and decreasing ``taus`` is traced
    from the centroid in payoff coordinates by :mod:`games._logit_nf` (its logits keep full precision
    down to :math:`\tau = 10^{-8}` and below), falling back to the route above if a point misses its
    tolerance.

    Args:
      tg: game data (its ``tau`` is replaced by each entry of ``taus``).
      taus: ``(n_taus,)`` positive temperatures, monotone (typically decreasing toward 0).
      logits0: starting logits for the first temperature (uniform if ``None``).
      newton_iters: largest number of Newton steps per temperature.
      fixed_point_iters: extragradient iterations of the first solve.
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
    check_logits0(tg, logits0)
    if _backend.tree_namespace((tg, taus, logits0)) is np:
        tg = host_game(tg)  # the path's temperatures are checked here
        taus = np.asarray(taus, np.float64)
        if taus.ndim != 1 or taus.size == 0 or not np.all((taus > 0) & np.isfinite(taus)):
            raise ValueError(f"expected a non-empty vector of finite positive temperatures, got {taus!r}")
        return qre_branch(np, tg, taus, logits0, newton_iters, fixed_point_iters, tol)
    tg = jax.tree_util.tree_map(jnp.asarray, tg)
    dtype = tg.rewards.dtype
    z0 = None if logits0 is None else [jnp.asarray(z, dtype) for z in logits0]
    return _qre_branch_jit(tg, jnp.asarray(taus, dtype), z0, None if tol is None else jnp.asarray(tol, dtype),
                           newton_iters, fixed_point_iters)
