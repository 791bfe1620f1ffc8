r"""Unregularised (:math:`\tau = 0`) equilibria of tabular games, to compare the QRE path against.

* Two-player zero-sum matrix game :math:`A` (row player maximises :math:`x^\top A y`): the value and
  maximin / minimax strategies from the two linear programmes

  .. math::

     \max_{x \in \Delta, v} v \ \text{s.t.}\ A^\top x \ge v\mathbf 1, \qquad
     \min_{y \in \Delta, w} w \ \text{s.t.}\ A y \le w\mathbf 1.

* Bimatrix game :math:`(A, B)`: all Nash equilibria of a non-degenerate game by support enumeration
  (for supports :math:`I, J` of equal size, the indifference equations
  :math:`A_{IJ} y_J = u\mathbf 1`, :math:`B_{IJ}^\top x_I = v\mathbf 1` and the best-response conditions
  :math:`A y \le u`, :math:`B^\top x \le v`).
* Two-player zero-sum Markov game: Shapley's value iteration
  :math:`V(s) \leftarrow \operatorname{val}\big(R(s) + \gamma \sum_{s'} P(s'|s, \cdot, \cdot) V(s')\big)`,
  a :math:`\gamma`-contraction in the sup norm whose fixed point is the game's value; the stationary
  equilibrium policies solve the per-state matrix games at the fixed point.

All host-side NumPy/SciPy (HiGHS linear programmes), float64; not ``jit``-able.

References:
  von Neumann, Zur Theorie der Gesellschaftsspiele, Math. Ann. 100, 1928 (minimax).
  Shapley, Stochastic games, PNAS 39, 1953.
  Nisan et al., Algorithmic Game Theory, CUP 2007, ch. 3 (support enumeration).
"""

from __future__ import annotations

import itertools
from typing import NamedTuple

import numpy as np

from games._markov import TabularGame, _array


def _check_matrix(a, name):
    a = _array(a, name)
    if a.ndim != 2 or 0 in a.shape:
        raise ValueError(f"expected {name} to be a non-empty matrix (rank 2), got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"expected finite {name}, got NaN or Inf")
    return a


def _maximin(a):
    """``(value, x)`` of the row player of the zero-sum matrix game ``a`` (HiGHS LP)."""
    from scipy.optimize import linprog  # 0.3 s to import: only when a zero-sum game is solved

    n1, n2 = a.shape
    c = np.zeros(n1 + 1)
    c[-1] = -1.0
    a_ub = np.hstack([-a.T, np.ones((n2, 1))])
    a_eq = np.hstack([np.ones((1, n1)), np.zeros((1, 1))])
    res = linprog(c, A_ub=a_ub, b_ub=np.zeros(n2), A_eq=a_eq, b_eq=np.ones(1),
                  bounds=[(0.0, None)] * n1 + [(None, None)], method="highs")
    if res.status != 0:  # pragma: no cover - a matrix game always has a finite value
        raise RuntimeError(f"expected the maximin LP to solve, got status {res.status}: {res.message}")
    x = np.clip(res.x[:n1], 0.0, None)
    return float(res.x[-1]), x / x.sum()


def zero_sum_nash(a):
    r"""Value and optimal strategies of the two-player zero-sum matrix game :math:`A`.

    The row player maximises :math:`x^\top A y`, the column player minimises it.

    Args:
      a: ``(n_1, n_2)`` payoff matrix of the row player.

    Returns:
      ``(value, x, y)``: the value :math:`\max_x\min_y x^\top A y` and a maximin ``x (n_1,)`` and
      minimax ``y (n_2,)`` strategy.

    Raises:
      ValueError: for a non-matrix or non-finite ``a``.

    Examples:
      >>> v, x, y = zero_sum_nash([[0.0, -1.0, 1.0], [1.0, 0.0, -1.0], [-1.0, 1.0, 0.0]])
      >>> round(v, 9) + 0.0, [round(float(p), 9) for p in x]
      (0.0, [0.333333333, 0.333333333, 0.333333333])
    """
    a = _check_matrix(a, "A")
    v, x = _maximin(a)
    w, y = _maximin(-a.T)
    return 0.5 * (v - w), x, y


def bimatrix_nash(a, b=None, *, tol: float = 1e-9) -> list[tuple[np.ndarray, np.ndarray]]:
    r"""All Nash equilibria of a non-degenerate bimatrix game by support enumeration.

    Exhaustive over pairs of supports of equal size (:math:`\sum_k \binom{n_1}{k}\binom{n_2}{k}`
    linear solves; meant for small games). A degenerate game can have equilibria with supports of
    different sizes, which this does not list.

    Args:
      a: ``(n_1, n_2)`` payoffs of the row player.
      b: ``(n_1, n_2)`` payoffs of the column player (``-a`` when omitted).
      tol: tolerance of the non-negativity and best-response checks.

    Returns:
      List of ``(x, y)`` strategy pairs (duplicates removed), in order of support size.

    Raises:
      ValueError: for mismatched shapes or non-finite payoffs.

    Examples:
      >>> eqs = bimatrix_nash([[3.0, 0.0], [0.0, 2.0]], [[2.0, 0.0], [0.0, 3.0]])
      >>> [([round(float(p), 6) for p in x], [round(float(q), 6) for q in y]) for x, y in eqs]
      [([1.0, 0.0], [1.0, 0.0]), ([0.0, 1.0], [0.0, 1.0]), ([0.6, 0.4], [0.4, 0.6])]
    """
    a = _check_matrix(a, "A")
    b = -a if b is None else _check_matrix(b, "B")
    if b.shape != a.shape:
        raise ValueError(f"expected B of shape {a.shape} like A, got {b.shape}")
    n1, n2 = a.shape
    found: list[tuple[np.ndarray, np.ndarray]] = []
    for k in range(1, min(n1, n2) + 1):
        for rows in itertools.combinations(range(n1), k):
            for cols in itertools.combinations(range(n2), k):
                eq = _support_equilibrium(a, b, list(rows), list(cols), tol)
                if eq is not None and not any(np.allclose(eq[0], x, atol=1e-7)
                                              and np.allclose(eq[1], y, atol=1e-7) for x, y in found):
                    found.append(eq)
    return found


def _indifferent(m, k):
    """Solves ``m z = u 1``, ``1^T z = 1`` for the ``k`` weights ``z`` (``None`` if singular)."""
    lhs = np.zeros((k + 1, k + 1))
    lhs[:k, :k] = m
    lhs[:k, k] = -1.0
    lhs[k, :k] = 1.0
    rhs = np.zeros(k + 1)
    rhs[k] = 1.0
    try:
        sol = np.linalg.solve(lhs, rhs)
    except np.linalg.LinAlgError:
        return None
    return sol[:k], sol[k]


def _support_equilibrium(a, b, rows, cols, tol):
    k = len(rows)
    col = _indifferent(a[np.ix_(rows, cols)], k)
    row = _indifferent(b[np.ix_(rows, cols)].T, k)
    if col is None or row is None:
        return None
    (yj, u), (xi, v) = col, row
    if np.any(yj < -tol) or np.any(xi < -tol):
        return None
    x = np.zeros(a.shape[0])
    y = np.zeros(a.shape[1])
    x[rows], y[cols] = np.clip(xi, 0.0, None), np.clip(yj, 0.0, None)
    if np.any(a @ y > u + tol) or np.any(b.T @ x > v + tol):
        return None
    return x, y


class ShapleySolution(NamedTuple):
    r"""Solution of a two-player zero-sum Markov game (:func:`shapley_value`).

    Attributes:
      values: ``(n_states,)`` state values :math:`V^*(s)` for player 1 (undiscounted sums).
      policies: ``(pi_1, pi_2)``, stationary equilibrium policies ``(n_states, n_i)``.
      value: :math:`(1-\gamma)\mu_0^\top V^*`, on the scale of :func:`games.tabular.objectives`.
      iterations: value-iteration sweeps used.

    Examples:
      >>> import numpy as np
      >>> s = ShapleySolution(np.zeros(2), (np.ones((2, 2)) / 2,) * 2, 0.0, 1)
      >>> s.values.shape, s.iterations
      ((2,), 1)
    """

    values: np.ndarray
    policies: tuple
    value: float
    iterations: int


def shapley_value(tg: TabularGame, *, tol: float = 1e-12, max_iter: int = 100_000) -> ShapleySolution:
    r"""Shapley value iteration for a two-player zero-sum Markov game (:math:`\tau = 0`).

    Iterates :math:`V \leftarrow \operatorname{val}(R + \gamma P V)` (one linear programme per state and
    sweep) until the sup-norm change is below ``tol (1 - gamma) / gamma``, so the returned values are
    within ``tol`` of the fixed point. The entropy temperature of ``tg`` is ignored.

    Args:
      tg: game data with two players and ``rewards[1] == -rewards[0]``.
      tol: accuracy of the values (sup norm).
      max_iter: cap on the sweeps.

    Returns:
      :class:`ShapleySolution`.

    Raises:
      ValueError: for a game that is not two-player zero-sum.

    Examples:
      A one-state game with :math:`\gamma = 0` is a matrix game (matching pennies: value 0):

      >>> from games.tabular import tabular_from_matrix
      >>> a = [[1.0, -1.0], [-1.0, 1.0]]
      >>> sol = shapley_value(tabular_from_matrix([a, [[-1.0, 1.0], [1.0, -1.0]]], tau=0.0))
      >>> round(sol.value, 9) + 0.0, [round(float(p), 6) for p in sol.policies[0][0]]
      (0.0, [0.5, 0.5])
    """
    r = np.asarray(tg.rewards, dtype=np.float64)
    p = np.asarray(tg.transitions, dtype=np.float64)
    gamma = float(tg.gamma)
    if r.shape[0] != 2 or r.ndim != 4:
        raise ValueError(f"expected a two-player game (rewards of shape (2, S, n_1, n_2)), got {r.shape}")
    if not np.allclose(r[1], -r[0], rtol=0.0, atol=1e-12):
        raise ValueError("expected a zero-sum game (rewards[1] == -rewards[0]), got a general-sum one")
    n_states = r.shape[1]
    v = np.zeros(n_states)
    stop = tol * (1.0 - gamma) / gamma if gamma > 0 else np.inf
    it, delta = 0, np.inf
    while delta > stop and it < max_iter:
        q = r[0] + gamma * p @ v
        new = np.array([_maximin(q[s])[0] for s in range(n_states)])
        delta = np.max(np.abs(new - v))
        v, it = new, it + 1
    q = r[0] + gamma * p @ v
    sols = [zero_sum_nash(q[s]) for s in range(n_states)]
    pi1 = np.stack([s[1] for s in sols])
    pi2 = np.stack([s[2] for s in sols])
    value = (1.0 - gamma) * float(np.asarray(tg.initial, dtype=np.float64) @ v)
    return ShapleySolution(values=v, policies=(pi1, pi2), value=value, iterations=it)
