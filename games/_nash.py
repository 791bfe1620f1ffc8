r"""Unregularised (:math:`\tau = 0`) equilibria of tabular games, to compare the QRE path against.

* Two-player zero-sum matrix game :math:`A` (row player maximises :math:`x^\top A y`): the value and
  maximin / minimax strategies from the two linear programmes

  .. math::

     \max_{x \in \Delta, v} v \ \text{s.t.}\ A^\top x \ge v\mathbf 1, \qquad
     \min_{y \in \Delta, w} w \ \text{s.t.}\ A y \le w\mathbf 1.

* Bimatrix game :math:`(A, B)`: all extreme Nash equilibria by vertex enumeration of the two
  best-response polytopes (complete for degenerate games too).
* Two-player zero-sum Markov game: Shapley's value iteration
  :math:`V(s) \leftarrow \operatorname{val}\big(R(s) + \gamma \sum_{s'} P(s'|s, \cdot, \cdot) V(s')\big)`,
  a :math:`\gamma`-contraction in the sup norm whose fixed point is the game's value; the stationary
  equilibrium policies solve the per-state matrix games at the fixed point.

All host-side NumPy/SciPy (HiGHS linear programmes), float64; not ``jit``-able.

References:
  von Neumann, Zur Theorie der Gesellschaftsspiele, Math. Ann. 100, 1928 (minimax).
  Shapley, Stochastic games, PNAS 39, 1953.
  von Stengel, Equilibrium computation for two-player games in strategic and extensive form, in
  Nisan et al., Algorithmic Game Theory, CUP 2007, ch. 3 (best-response polytopes, vertex enumeration).
  Avis & Fukuda, A pivoting algorithm for convex hulls and vertex enumeration of arrangements and
  polyhedra, Discrete Comput. Geom. 8, 1992 (enumerating vertices through their feasible bases).
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
    r"""All extreme Nash equilibria of a bimatrix game by vertex enumeration (degenerate games included).

    With payoffs shifted to be positive (:math:`A' = A - \min A + 1`, likewise :math:`B'`), the
    best-response polytopes are :math:`P = \{x \ge 0 : B'^\top x \le 1\}` and
    :math:`Q = \{y \ge 0 : A'y \le 1\}`; label :math:`i` marks :math:`x_i = 0` or a tight row
    :math:`(A'y)_i = 1`, label :math:`m + j` a tight column :math:`(B'^\top x)_j = 1` or :math:`y_j = 0`.
    The extreme equilibria are the completely labelled vertex pairs :math:`(x, y) \ne (0, 0)`,
    normalised (von Stengel 2007, Theorem 3.7). The vertices are found by a breadth-first search
    over the polytope's feasible bases (simplex pivots, every tie of the ratio test followed;
    :func:`_basis_search`; for games of at most 20 cells the same search in plain Python floats, one
    simplex pivot per basis, :func:`_small_vertices`), so the work grows with the number of
    vertices; a vertex's labels are read off all its tight constraints, which is what makes
    degenerate games complete: ``A = ones((2, 2))``, ``B = eye(2)`` has the four extreme equilibria
    nashpy's and lrs's vertex enumeration list (support enumeration finds two). In a degenerate game
    the equilibria form convex sets (components); their extreme points are returned.

    Args:
      a: ``(n_1, n_2)`` payoffs of the row player.
      b: ``(n_1, n_2)`` payoffs of the column player (``-a`` when omitted).
      tol: tolerance of feasibility and of a constraint being tight (relative to the shifted payoffs).

    Returns:
      List of ``(x, y)`` strategy pairs, ordered by support size, then by supports.

    Raises:
      ValueError: for mismatched shapes or non-finite payoffs.

    Examples:
      >>> eqs = bimatrix_nash([[3.0, 0.0], [0.0, 2.0]], [[2.0, 0.0], [0.0, 3.0]])
      >>> [([round(float(p), 6) for p in x], [round(float(q), 6) for q in y]) for x, y in eqs]
      [([1.0, 0.0], [1.0, 0.0]), ([0.0, 1.0], [0.0, 1.0]), ([0.6, 0.4], [0.4, 0.6])]
      >>> len(bimatrix_nash(np.ones((2, 2)), np.eye(2)))  # degenerate: four extreme equilibria
      4
    """
    a = _check_matrix(a, "A")
    b = -a if b is None else _check_matrix(b, "B")
    if b.shape != a.shape:
        raise ValueError(f"expected B of shape {a.shape} like A, got {b.shape}")
    n1, n2 = a.shape
    a_pos = a - a.min() + 1.0
    b_pos = b - b.min() + 1.0
    if n1 * n2 <= _SMALL_CELLS:
        return _small_bimatrix_nash(a_pos.tolist(), b_pos.tolist(), tol)
    xs, x_labels = _polytope_vertices(b_pos, tol)  # x-coordinate zero: label i; tight column j: n1 + j
    ys, y_tight = _polytope_vertices(a_pos.T, tol)  # y-coordinate zero: n1 + j; tight row i: label i
    if n1 + n2 <= 63:
        low, n1_, n2_ = np.uint64((1 << n2) - 1), np.uint64(n1), np.uint64(n2)
        y_labels = ((y_tight & low) << n1_) | (y_tight >> n2_)
        full = np.uint64((1 << (n1 + n2)) - 1)
    else:
        y_labels = np.array([((t & ((1 << n2) - 1)) << n1) | (t >> n2) for t in y_tight], dtype=object)
        full = (1 << (n1 + n2)) - 1
    xs, ys = xs[1:], ys[1:]  # vertex 0 is the origin, never part of an equilibrium
    x_labels, y_labels = x_labels[1:], y_labels[1:]
    pairs = np.argwhere((x_labels[:, None] | y_labels[None, :]) == full)
    found = []
    for i, j in pairs:
        x, y = xs[i] / xs[i].sum(), ys[j] / ys[j].sum()
        found.append((np.where(x > tol, x, 0.0), np.where(y > tol, y, 0.0)))

    def key(eq):
        sx, sy = tuple(np.flatnonzero(eq[0])), tuple(np.flatnonzero(eq[1]))
        return (max(len(sx), len(sy)), len(sx), sx, sy)

    return sorted(found, key=key)


# largest n_1 n_2 solved in plain Python floats: per-call NumPy overhead dominates below it (measured
# break-even near 5x5 and 4x6; 2x2-4x4 are 2-7x faster than the batched-LAPACK search)
_SMALL_CELLS = 20


def _small_bimatrix_nash(a_pos, b_pos, tol):
    """:func:`bimatrix_nash` on positive payoffs given as nested lists, in plain Python floats.

    The same search, labels, pairing and order as the NumPy route (so the same equilibria in the same
    order, to rounding), without its per-layer array overhead; used for ``n_1 n_2 <= _SMALL_CELLS``.
    """
    n1, n2 = len(a_pos), len(a_pos[0])
    xs = _small_vertices(b_pos, tol)  # x_i = 0: label i; tight column j: label n1 + j
    ys = _small_vertices([list(col) for col in zip(*a_pos, strict=True)], tol)  # y_j = 0: bit j, tight row i: n2 + i
    low = (1 << n2) - 1
    ys = [(y, ((mask & low) << n1) | (mask >> n2)) for y, mask in ys]  # as labels: n1 + j and i
    full = (1 << (n1 + n2)) - 1
    found, y_eqs = [], {}
    for x, x_mask in xs[1:]:  # vertex 0 is the origin, never part of an equilibrium
        x_eq = None
        for j, (y, y_mask) in enumerate(ys[1:]):
            if x_mask | y_mask == full:
                x_eq = x_eq or _normalised(x, tol)
                if j not in y_eqs:
                    y_eqs[j] = _normalised(y, tol)
                (x_n, sx), (y_n, sy) = x_eq, y_eqs[j]
                found.append((x_n, y_n, (max(len(sx), len(sy)), len(sx), sx, sy)))
    found.sort(key=lambda eq: eq[2])
    return [(np.array(x), np.array(y)) for x, y, _ in found]


def _normalised(z, tol):
    """``z / sum(z)`` with entries at most ``tol`` set to zero, and its support."""
    s = sum(z)
    z = [v / s for v in z]
    support = tuple([i for i, v in enumerate(z) if v > tol])
    if len(support) < len(z):
        z = [v if v > tol else 0.0 for v in z]
    return z, support


def _small_vertices(m, tol):
    r""":func:`_polytope_vertices` of a small ``m`` (nested lists ``(p, q)``) in plain Python floats.

    The layers of :func:`_basis_search` in the same order, each basis reached by one pivot of its
    parent's simplex dictionary (the basic values and :math:`B^{-1}N`, one column per variable outside
    the basis) instead of a linear solve, then the same rounding and de-duplication of the points,
    origin first. Returns ``[(z, mask)]``, mask bit ``i`` for :math:`z_i = 0` and ``p + j`` for a tight
    :math:`(m^\top z)_j = 1` (variable ``p + j`` is the slack of column ``j``): the variables outside the
    basis and the basic ones at most ``tol``.
    """
    p, q = len(m), len(m[0])
    nv = p + q
    inf = float("inf")
    full = (1 << nv) - 1
    start = full ^ ((1 << p) - 1)  # the slack basis: the origin
    rows = [[1.0, *[m[i][j] for i in range(p)]] for j in range(q)]  # row j: [value, B^{-1}N row j]
    layer = {start: (rows, tuple(range(p, nv)), tuple(range(p)), -1, -1)}
    seen = {start}
    scale, kept, out = tol * 1e2, set(), []
    while layer:
        following = {}
        for mask in sorted(layer):
            rows, basic, outside, leave, col = layer[mask]
            if col > 0:  # pivot: the variable of column col replaces the basic variable of row leave
                top = rows[leave]
                piv = top[col]
                top = [v / piv for v in top]
                top[col] = 1.0 / piv
                pivoted = []
                for k, r in enumerate(rows):
                    f = r[col]
                    if k == leave:
                        r = top
                    elif f != 0.0:
                        r = [u - f * w for u, w in zip(r, top, strict=True)]
                        r[col] = -f / piv
                    pivoted.append(r)
                rows = pivoted
                entering = outside[col - 1]
                outside = outside[:col - 1] + (basic[leave],) + outside[col:]
                basic = basic[:leave] + (entering,) + basic[leave + 1:]
            values = [r[0] for r in rows]
            z, zero = [0.0] * p, full ^ mask
            for v, x in zip(basic, values, strict=True):
                if x <= tol:
                    zero |= 1 << v
                if v < p and abs(x) > tol:
                    z[v] = x
            key = tuple([round(v / scale) for v in z])
            if key not in kept:
                kept.add(key)
                out.append((z, zero))
            for col in range(1, p + 1):  # minimum-ratio test of each entering variable
                ratios = [(x if x > 0.0 else 0.0) / r[col] if r[col] > tol else inf
                          for x, r in zip(values, rows, strict=True)]
                best = min(ratios)
                if best == inf:
                    continue
                cut = best + tol * (1.0 + best)
                enter = 1 << outside[col - 1]
                for k, ratio in enumerate(ratios):
                    if ratio <= cut:  # every row of the minimum ratio, ties included
                        new = (mask ^ (1 << basic[k])) | enter
                        if new not in seen:
                            seen.add(new)
                            following[new] = (rows, basic, outside, k, col)
        layer = following
    return out


def _polytope_vertices(m, tol):
    r"""Vertices of :math:`\{z \ge 0 : m^\top z \le 1\}` (``m`` positive, ``(p, q)``) and their label masks.

    Bit ``i < p`` of a mask: :math:`z_i = 0`; bit ``p + j``: :math:`(m^\top z)_j = 1`. The origin is first.
    Labels are Python integers (any number of strategies).
    """
    p, q = m.shape
    z = _basis_search(m, tol) if p + q <= 63 else _square_systems(m, tol)
    z = np.where(np.abs(z) <= tol, 0.0, z)
    _, first = np.unique(np.round(z / (tol * 1e2), 0), axis=0, return_index=True)
    z = z[np.sort(first)]
    zero = z <= tol
    tight = z @ m >= 1.0 - tol
    bits = np.concatenate([zero, tight], axis=1)
    if bits.shape[1] <= 63:
        return z, bits.astype(np.uint64) @ (np.uint64(1) << np.arange(bits.shape[1], dtype=np.uint64))
    return z, np.array([sum(1 << int(t) for t in np.flatnonzero(row)) for row in bits], dtype=object)


def _basis_search(m, tol):
    r"""Vertex points (with repeats) of :math:`\{z \ge 0 : m^\top z \le 1\}`: breadth-first search over bases.

    With slacks :math:`s = 1 - m^\top z`, a basis is ``q`` of the ``p + q`` variables (a bit mask)
    whose square system has a non-negative solution. From each basis every entering variable and
    *every* leaving variable of the minimum-ratio test (ties included) gives a neighbour, so
    degenerate vertices, which have several bases, are left through all of them; the graph of
    feasible bases of a polytope is connected (the simplex method with Bland's rule reaches the
    origin's single basis from any of them), so the search from the origin visits every vertex
    (Avis & Fukuda, Discrete Comput. Geom. 8, 1992). One layer of the search is one batched
    LAPACK solve; the work grows with the number of vertices, not with :math:`\binom{p+q}{q}`.
    """
    p, q = m.shape
    nv = p + q
    g = np.hstack([m.T, np.eye(q)])  # m^T z + s = 1 over the variables (z, s)
    rhs = np.column_stack([np.ones(q), g])
    bit = np.uint64(1) << np.arange(nv, dtype=np.uint64)
    layer = np.array([np.sum(bit[p:])], dtype=np.uint64)  # the slack basis: the origin
    seen = set(layer.tolist())
    points = []
    while layer.size:
        member = (layer[:, None] & bit[None, :]) != 0
        basis = np.nonzero(member)[1].reshape(layer.size, q)
        t = np.linalg.solve(np.swapaxes(g[:, basis], 0, 1), rhs)
        x, d = np.clip(t[:, :, 0], 0.0, None), t[:, :, 1:]  # basic values; their fall per unit entering
        z = np.zeros((layer.size, nv))
        z[np.arange(layer.size)[:, None], basis] = t[:, :, 0]
        points.append(z[:, :p])
        pos = (d > tol) & ~member[:, None, :]
        ratio = np.where(pos, x[:, :, None] / np.where(pos, d, 1.0), np.inf)
        best = ratio.min(axis=1, keepdims=True)
        lay, row, col = np.nonzero(pos & (ratio <= best + tol * (1.0 + best)))
        new = set(((layer[lay] ^ bit[basis[lay, row]]) | bit[col]).tolist()) - seen
        seen |= new
        layer = np.array(sorted(new), dtype=np.uint64)
    return np.concatenate(points)


def _square_systems(m, tol):
    """Vertex points (with repeats) from every square system ``m[S, J]^T z_S = 1``, the origin first."""
    p, q = m.shape
    verts = [np.zeros((1, p))]
    for k in range(1, min(p, q) + 1):
        rows = np.array(list(itertools.combinations(range(p), k)))
        cols = np.array(list(itertools.combinations(range(q), k)))
        sub = m[rows[:, None, :, None], cols[None, :, None, :]].reshape(-1, k, k)  # m[S, J]
        lhs = np.swapaxes(sub, -1, -2)  # m[S, J]^T z_S = 1
        try:  # a generic game has no singular square block: one batched LAPACK call
            ok = np.ones(lhs.shape[0], bool)
            sol = np.linalg.solve(lhs, np.ones((lhs.shape[0], k, 1)))[..., 0]
        except np.linalg.LinAlgError:  # degenerate: singular blocks define no vertex, leave them out
            ok = np.abs(np.linalg.det(lhs)) > 1e-12 * np.max(np.abs(lhs), axis=(-1, -2)) ** k
            if not np.any(ok):
                continue
            sol = np.linalg.solve(lhs[ok], np.ones((int(ok.sum()), k, 1)))[..., 0]
        ok_fin = np.all(np.isfinite(sol), axis=1)
        sol, ok = sol[ok_fin], np.flatnonzero(ok)[ok_fin]
        z = np.zeros((sol.shape[0], p))
        idx = np.repeat(rows, len(cols), axis=0)[ok]
        np.put_along_axis(z, idx, sol, axis=1)
        feasible = np.all(z >= -tol, axis=1) & np.all(z @ m <= 1.0 + tol, axis=1)
        verts.append(z[feasible])
    return np.concatenate(verts)


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
