r"""Polymatrix-style network games: N scalar players coupled along the edges of a sparse graph.

Player :math:`i` controls :math:`x_i \in \mathbb R` and minimises

.. math::

   f_i(x) = \tfrac12 \mu_i x_i^2 + x_i \sum_{j \in \mathcal N(i)} c_{ij} x_j ,
   \qquad F(x) = (\operatorname{diag}(\mu) + C)\,x ,

so the game Jacobian is constant with :math:`J_{ii} = \mu_i` and :math:`J_{ij} = c_{ij}`; the SGN
bounds are exact, :math:`\mu_i` and :math:`L_{ij} = |c_{ij}|`, and the comparison matrix has one
nonzero per directed edge. The Jacobian is stored sparse (SciPy CSR, :math:`O(\text{edges})`), so
20,000 players need megabytes, not the gigabytes of a dense :math:`N\times N` array. The graphs
are a ring (each player coupled to both neighbours), a 2-D grid (row-major, 4-neighbourhood, last
row possibly partial) and an Erdős–Rényi graph :math:`G(n, p)` with :math:`p = \text{degree}/(n-1)`. Curvatures are
:math:`\mu_i \sim U[1, 1.5]` and couplings :math:`c_{ij} = \pm\,\text{coupling}\cdot m_{ij}`,
:math:`m_{ij} \sim U[0.5, 1.5]` independently per direction (so :math:`L` is not symmetric and the
Perron weights are not trivial), all drawn from ``numpy.random.default_rng(seed)``. These are
our own test families for scaling, not taken from a paper.

References:
  Janovskaja, Equilibrium situations in multi-matrix games, 1968 (polymatrix games).
  Erdős & Rényi, On random graphs I, Publ. Math. Debrecen 6, 1959.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from games._constructors import quadratic
from games._game import Game
from games._registry import check_memory, register
from sgn import _checks

MAX_PLAYERS = 250_000
"""Largest network game (a ring of 100,000 players certifies in about 30 s and 0.3 GB on 2 cores)."""


def _check_n(n, least=2):
    return _checks.check_int(n, "n", least=least, most=MAX_PLAYERS)


def _check_coupling(coupling):
    c = float(coupling)
    if not (np.isfinite(c) and c >= 0):
        raise ValueError(f"expected a finite coupling >= 0, got {coupling!r}")
    return c


def network_game(n: int, src, dst, *, coupling: float = 0.2, seed: int = 0, name: str = "network",
                 params=None, description: str = "") -> Game:
    r"""A scalar-player network game on the undirected edge list ``(src, dst)``.

    Each undirected edge :math:`\{i, j\}` creates the two couplings :math:`c_{ij}, c_{ji}` with
    independent signs and magnitudes ``coupling * U[0.5, 1.5]``.

    Args:
      n: number of players ``n_players``.
      src: ``(n_edges,)`` edge endpoints.
      dst: ``(n_edges,)`` edge endpoints (no self-loops).
      coupling: coupling scale.
      seed: seed of curvatures, signs and magnitudes.
      name: game name.
      params: recorded parameters.
      description: one line.

    Returns:
      An affine :class:`games.Game` with ``dims = (1,) * n`` and a sparse (CSR) constant
      Jacobian; ``data`` holds ``mu`` and the directed edges ``row``, ``col``, ``value`` (use
      :func:`network_bounds`).

    Raises:
      ValueError: for bad sizes, self-loops or out-of-range endpoints.

    Examples:
      >>> g = network_game(3, [0, 1], [1, 2], coupling=0.0)
      >>> g.n_players, float(g.constant_jacobian[0, 1])
      (3, 0.0)
    """
    n = _check_n(n, 1)
    c = _check_coupling(coupling)
    src, dst = np.asarray(src, dtype=np.int64).ravel(), np.asarray(dst, dtype=np.int64).ravel()
    if src.shape != dst.shape:
        raise ValueError(f"expected src and dst of equal length, got {src.size} and {dst.size}")
    if src.size and (src.min() < 0 or dst.min() < 0 or src.max() >= n or dst.max() >= n):
        raise ValueError(f"expected edge endpoints in [0, {n}), got out-of-range indices")
    if np.any(src == dst):
        raise ValueError("expected no self-loops in the edge list, got src == dst")
    rng = np.random.default_rng(seed)
    mu = 1.0 + 0.5 * rng.random(n)
    row = np.concatenate([src, dst])
    col = np.concatenate([dst, src])
    value = c * rng.choice([-1.0, 1.0], size=row.size) * rng.uniform(0.5, 1.5, size=row.size)
    import scipy.sparse as sp  # on first use: keeps SciPy out of `import games`

    jac = (sp.csr_matrix((value, (row, col)), shape=(n, n)) + sp.diags(mu)).tocsr()
    game = quadratic(jac, dims=(1,) * n, name=name, params=dict(params or {"n": n, "coupling": c, "seed": seed}),
                     description=description)
    return dataclasses.replace(game, data={"mu": mu, "row": row, "col": col, "value": value})


def network_bounds(game: Game):
    r"""Exact SGN bounds of a network game in :math:`O(\text{edges})`: ``(mu, L)`` with sparse ``L``.

    Args:
      game: a game built by :func:`network_game` (or the registered ``ring``, ``grid``,
        ``erdos-renyi``).

    Returns:
      ``(mu, L)``: ``(n_players,)`` NumPy curvatures and a ``scipy.sparse.csr_matrix`` of
      :math:`L_{ij} = |c_{ij}|` (float64).

    Raises:
      ValueError: if ``game`` carries no network data.

    Examples:
      >>> mu, L = network_bounds(ring_game(4, coupling=0.1))
      >>> L.nnz, bool(L.max() <= 0.15 + 1e-12)
      (8, True)
    """
    data = getattr(game, "data", None) or {}
    if not all(k in data for k in ("mu", "row", "col", "value")):
        raise ValueError(f"expected a network game (ring, grid, erdos-renyi), got {game.name!r}")
    import scipy.sparse as sp  # on first use: keeps SciPy out of `import games`

    n = game.n_players
    coupling = sp.csr_matrix((np.abs(data["value"]), (data["row"], data["col"])), shape=(n, n))
    return np.asarray(data["mu"], dtype=np.float64), coupling


def ring_game(n: int = 64, coupling: float = 0.2, seed: int = 0) -> Game:
    """A ring of ``n`` players, each coupled to its two neighbours (``n >= 3``; a pair for ``n = 2``).

    Examples:
      >>> ring_game(5).constant_jacobian.shape
      (5, 5)
    """
    n = _check_n(n)
    i = np.arange(n)
    src, dst = (i[:1], i[1:2]) if n == 2 else (i, (i + 1) % n)
    return network_game(n, src, dst, coupling=coupling, seed=seed, name="ring",
                        params={"n": n, "coupling": float(coupling), "seed": seed})


def grid_game(n: int = 64, coupling: float = 0.2, seed: int = 0) -> Game:
    """``n`` players on a 2-D grid with ``isqrt(n)`` columns, row-major, 4-neighbourhood.

    Examples:
      >>> int(network_bounds(grid_game(9))[1].nnz)  # 3x3 grid: 12 edges, 24 couplings
      24
    """
    n = _check_n(n)
    cols = max(1, int(np.sqrt(n)))
    i = np.arange(n)
    right = i[((i % cols) < cols - 1) & (i + 1 < n)]
    down = i[i + cols < n]
    src = np.concatenate([right, down])
    dst = np.concatenate([right + 1, down + cols])
    return network_game(n, src, dst, coupling=coupling, seed=seed, name="grid",
                        params={"n": n, "coupling": float(coupling), "seed": seed})


def erdos_renyi_game(n: int = 64, coupling: float = 0.2, seed: int = 0, degree: float = 4.0) -> Game:
    r"""An Erdős–Rényi :math:`G(n, p)` network, :math:`p = \min(1, \text{degree}/(n-1))`.

    The graph is drawn from ``default_rng(seed)``: one Bernoulli trial per pair :math:`i < j` in
    row-major order (:math:`O(n^2)` time), drawn in blocks of rows so that memory stays
    :math:`O(\text{edges} + \text{ER_BLOCK})` (the same graph as one draw of all pairs).

    Examples:
      >>> g = erdos_renyi_game(50, seed=1)
      >>> g.n_players
      50
    """
    n = _check_n(n)
    deg = float(degree)
    if not (np.isfinite(deg) and deg >= 0):
        raise ValueError(f"expected a finite degree >= 0, got {degree!r}")
    p = min(1.0, deg / (n - 1))
    edges = p * n * (n - 1) / 2
    check_memory(BYTES_PER_EDGE * edges, f"erdos-renyi with n={n} and degree={deg:g} (about {edges:.3g} edges)")
    src, dst = _bernoulli_pairs(n, p, np.random.default_rng([int(seed), 7919]))
    return network_game(n, src, dst, coupling=coupling, seed=seed, name="erdos-renyi",
                        params={"n": n, "coupling": float(coupling), "seed": seed, "degree": deg})


BYTES_PER_EDGE = 128
"""Estimated bytes per edge of a network game: its pair, two stored couplings and their sorting copies."""
ER_BLOCK = 1 << 22
"""Pairs drawn per block by :func:`erdos_renyi_game` (32 MiB of uniforms)."""


def _bernoulli_pairs(n: int, p: float, rng):
    """Pairs ``i < j`` (row-major, as ``numpy.triu_indices``) kept by one ``rng.random() < p`` each."""
    starts = np.concatenate([[0], np.cumsum(np.arange(n - 1, 0, -1, dtype=np.int64))])  # first pair of row i
    src, dst = [], []
    row = 0
    while row < n - 1:
        stop = int(np.searchsorted(starts, starts[row] + ER_BLOCK, side="right")) - 1
        stop = min(max(stop, row + 1), n - 1)
        pos = np.flatnonzero(rng.random(int(starts[stop] - starts[row])) < p) + starts[row]
        i = np.searchsorted(starts, pos, side="right") - 1
        src.append(i)
        dst.append(i + 1 + (pos - starts[i]))
        row = stop
    if not src:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(src), np.concatenate(dst)


register("ring", "Ring network of n scalar players with random ±coupling links (sparse, many players).")(
    ring_game)
register("grid", "2-D grid network of n scalar players, 4-neighbour ±coupling links.")(grid_game)
register("erdos-renyi", "Erdős–Rényi network G(n, degree/(n-1)) of scalar players with ±coupling links.")(
    erdos_renyi_game)
