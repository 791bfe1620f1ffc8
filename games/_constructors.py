r"""Ways to build a :class:`games.Game`: from losses, from a pseudo-gradient, or from a matrix.

* :func:`from_losses`: :math:`F_i = \nabla_{x_i} f_i` by autodiff;
* :func:`from_pseudo_gradient`: ``F`` given directly;
* :func:`quadratic`: :math:`F(x) = Jx + b` (constant Jacobian: bounds are exact);
* :func:`bilinear`: :math:`\min_x \max_y x^\top A y + \tfrac{\mu}{2}(\lVert x\rVert^2 - \lVert y\rVert^2)`;
* :func:`bimatrix`, :func:`polymatrix`: players on simplices maximising bilinear payoffs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from games._game import Game
from games._region import Region
from games._sets import Simplex, StrategySet, Unconstrained
from sgn import _checks
from sgn._backend import is_sparse, jax, jnp


def _sets_for(sets, n_players) -> tuple:
    if sets is None:
        return (Unconstrained(),) * n_players
    if not isinstance(sets, list | tuple):
        return (sets,) * n_players
    if len(sets) != n_players:
        raise ValueError(f"expected {n_players} strategy sets, got {len(sets)}")
    return tuple(sets)


def _matrix(a, name, *, square=False):
    try:
        m = np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(f"expected {name} to be a numeric matrix, got {type(a).__name__}") from err
    if m.ndim != 2:
        raise ValueError(f"expected {name} to be a matrix (rank 2), got shape {m.shape}")
    if square and m.shape[0] != m.shape[1]:
        raise ValueError(f"expected a square {name}, got shape {m.shape}")
    if m.size == 0:
        raise ValueError(f"expected a non-empty {name}, got shape {m.shape}")
    _checks.check_finite(m, name)
    return m


def _sparse_matrix(a, name):
    """A square, non-empty, finite ``scipy.sparse`` matrix as canonical float64 CSR."""
    import scipy.sparse as sp  # the input is sparse: SciPy is already imported

    m = sp.csr_matrix(a, dtype=np.float64, copy=True)
    if m.shape[0] != m.shape[1] or m.shape[0] == 0:
        raise ValueError(f"expected a non-empty square {name}, got shape {m.shape}")
    _checks.check_finite(m, name)
    m.sum_duplicates()
    m.eliminate_zeros()
    m.sort_indices()
    return m


def _sparse_product(jac):
    """``x -> J x`` for a sparse ``J``: one gather and one segment sum over the stored entries."""
    coo = jac.tocoo()
    rows, cols, values, d = coo.row, coo.col, coo.data, jac.shape[0]

    def apply(x):  # host constants: nothing is placed on a device until F is traced
        return jax.ops.segment_sum(jnp.asarray(values, x.dtype) * x[cols], rows, num_segments=d)

    return apply


def from_pseudo_gradient(
    pseudo_gradient: Callable,
    dims: Sequence[int],
    *,
    sets: StrategySet | Sequence[StrategySet] | None = None,
    name: str = "custom",
    region: Region | None = None,
    params: Mapping | None = None,
    description: str = "",
) -> Game:
    """A game from its pseudo-gradient ``F: (dim,) -> (dim,)``.

    Examples:
      >>> import jax.numpy as jnp
      >>> g = from_pseudo_gradient(lambda x: x + jnp.tanh(x[::-1]), (1, 1))
      >>> g.n_players, g.dim
      (2, 2)
    """
    dims = _checks.check_dims(dims)
    return Game(name=name, dims=dims, pseudo_gradient=pseudo_gradient,
                strategy_sets=_sets_for(sets, len(dims)), params=dict(params or {}),
                description=description, region=region)


def from_losses(
    losses: Sequence[Callable],
    dims: Sequence[int],
    *,
    sets: StrategySet | Sequence[StrategySet] | None = None,
    name: str = "custom",
    region: Region | None = None,
    params: Mapping | None = None,
    description: str = "",
) -> Game:
    r"""A game from per-player losses ``f_i(x)`` of the joint vector (each player minimises).

    :math:`F_i(x) = \nabla_{x_i} f_i(x)`, computed by reverse-mode autodiff.

    Examples:
      >>> g = from_losses([lambda x: 0.5 * x[0] ** 2 + x[0] * x[1],
      ...                  lambda x: 0.5 * x[1] ** 2 - x[0] * x[1]], (1, 1))
      >>> import jax.numpy as jnp
      >>> g.jacobian(jnp.zeros(2)).tolist()
      [[1.0, 1.0], [-1.0, 1.0]]
    """
    dims = _checks.check_dims(dims)
    losses = tuple(losses)
    if len(losses) != len(dims):
        raise ValueError(f"expected one loss per player ({len(dims)}), got {len(losses)}")
    if not all(callable(f) for f in losses):
        raise TypeError("expected callables f_i(x) as losses")
    offsets = np.cumsum((0,) + dims)

    def pseudo_gradient(x):
        parts = [jax.grad(f)(x)[offsets[i]:offsets[i + 1]] for i, f in enumerate(losses)]
        return jnp.concatenate(parts)

    return Game(name=name, dims=dims, pseudo_gradient=pseudo_gradient,
                strategy_sets=_sets_for(sets, len(dims)), params=dict(params or {}),
                description=description, region=region, losses=losses)


def quadratic(
    jacobian,
    *,
    b=None,
    dims: Sequence[int] | None = None,
    sets: StrategySet | Sequence[StrategySet] | None = None,
    name: str = "quadratic",
    region: Region | None = None,
    params: Mapping | None = None,
    description: str = "",
) -> Game:
    """Affine pseudo-gradient :math:`F(x) = Jx + b` (quadratic losses); bounds are exact.

    Args:
      jacobian: ``(dim, dim)`` constant Jacobian ``J``: an array, or a ``scipy.sparse`` matrix
        for many players (kept sparse: ``F`` is a gather and a segment sum over its entries).
      b: ``(dim,)`` offset (zero if ``None``).
      dims: block sizes; one coordinate per player if ``None``.
      sets: strategy set(s); unconstrained if ``None``.
      name: game name.
      region: optional region (irrelevant for bounds, which are global).
      params: recorded parameters.
      description: one line.

    Examples:
      >>> g = quadratic([[1.0, 10.0], [0.05, 1.0]])
      >>> g.dims, g.is_affine
      ((1, 1), True)
    """
    sparse = is_sparse(jacobian)
    jac = _sparse_matrix(jacobian, "J") if sparse else _matrix(jacobian, "J", square=True)
    d = jac.shape[0]
    dims = (1,) * d if dims is None else _checks.check_dims(dims, d)
    offset = np.zeros(d) if b is None else np.asarray(b, dtype=np.float64)
    if offset.shape != (d,):
        raise ValueError(f"expected b of shape ({d},), got {offset.shape}")
    _checks.check_finite(offset, "b")
    product = _sparse_product(jac) if sparse else (lambda x: jnp.asarray(jac, dtype=x.dtype) @ x)

    def pseudo_gradient(x):  # host constants: nothing is placed on a device until F is traced
        return product(x) + jnp.asarray(offset, dtype=x.dtype)

    if params is not None:
        recorded = dict(params)
    else:
        coo = jac.tocoo() if sparse else None
        recorded = {"J": {"shape": list(jac.shape), "rows": coo.row.tolist(), "cols": coo.col.tolist(),
                          "values": coo.data.tolist()} if sparse else jac.tolist(), "b": offset.tolist()}
    return Game(name=name, dims=dims, pseudo_gradient=pseudo_gradient,
                strategy_sets=_sets_for(sets, len(dims)), constant_jacobian=jac,
                params=recorded, description=description, region=region)


def bilinear(a, *, mu: float = 0.0, name: str = "bilinear", sets=None, description: str = "") -> Game:
    r"""Zero-sum bilinear game with optional curvature ``mu``.

    :math:`\min_x\max_y x^\top A y + \tfrac{\mu}{2}(\lVert x\rVert^2-\lVert y\rVert^2)`.

    :math:`F = (Ay + \mu x, -A^\top x + \mu y)`; without curvature (``mu = 0``) no metric
    certifies it, and plain gradient play spirals outward.

    Examples:
      >>> bilinear([[1.0]]).constant_jacobian.tolist()
      [[0.0, 1.0], [-1.0, 0.0]]
    """
    a = _matrix(a, "A")
    m, n = a.shape
    jac = np.block([[mu * np.eye(m), a], [-a.T, mu * np.eye(n)]])
    return quadratic(jac, dims=(m, n), sets=sets, name=name,
                     params={"A": a.tolist(), "mu": float(mu)}, description=description)


def polymatrix(payoffs: Mapping, dims: Sequence[int], *, name: str = "polymatrix",
               description: str = "") -> Game:
    r"""Polymatrix game on simplices: player ``i`` maximises :math:`\sum_j x_i^\top A_{ij} x_j`.

    Args:
      payoffs: mapping ``(i, j) -> A_ij`` of shape ``(d_i, d_j)``, ``i != j``.
      dims: numbers of actions per player.
      name: game name.
      description: one line saying what the game demonstrates.

    Returns:
      An affine game with :math:`J_{ij} = -A_{ij}` on the product of simplices.

    Examples:
      >>> a = [[1.0, -1.0], [-1.0, 1.0]]
      >>> g = polymatrix({(0, 1): a, (1, 0): [[-1.0, 1.0], [1.0, -1.0]]}, (2, 2))
      >>> g.constant_jacobian[0].tolist()
      [0.0, 0.0, -1.0, 1.0]
    """
    dims = _checks.check_dims(dims)
    offsets = np.cumsum((0,) + dims)
    jac = np.zeros((offsets[-1], offsets[-1]))
    for key, a in payoffs.items():
        i, j = key
        if i == j or not (0 <= i < len(dims) and 0 <= j < len(dims)):
            raise ValueError(f"expected a pair of distinct player indices, got {key!r}")
        a = _matrix(a, f"A[{i},{j}]")
        if a.shape != (dims[i], dims[j]):
            raise ValueError(f"expected A[{i},{j}] of shape {(dims[i], dims[j])}, got {a.shape}")
        jac[offsets[i]:offsets[i + 1], offsets[j]:offsets[j + 1]] = -a
    params = {f"A{i}{j}": np.asarray(a).tolist() for (i, j), a in payoffs.items()}
    return quadratic(jac, dims=dims, sets=Simplex(), name=name, params=params,
                     description=description)


def bimatrix(a, b=None, *, name: str = "bimatrix", description: str = "") -> Game:
    r"""Two-player normal-form game on simplices: payoffs :math:`x^\top A y` and :math:`x^\top B y`.

    ``b = -a`` (zero-sum) when omitted. Both players maximise their payoff; the pseudo-gradient
    of the losses is :math:`F = (-Ay, -B^\top x)`.

    Examples:
      >>> g = bimatrix([[1.0, -1.0], [-1.0, 1.0]])  # matching pennies
      >>> g.constant_jacobian.tolist()[0]
      [0.0, 0.0, -1.0, 1.0]
    """
    a = _matrix(a, "A")
    b = -a if b is None else _matrix(b, "B")
    if b.shape != a.shape:
        raise ValueError(f"expected B of shape {a.shape} like A, got {b.shape}")
    return polymatrix({(0, 1): a, (1, 0): b.T}, a.shape, name=name, description=description)
