r"""The game type: players, block sizes, pseudo-gradient, strategy sets, and a default region.

Player :math:`i` controls :math:`x_i \in X_i \subseteq \mathbb R^{d_i}` and minimises
:math:`f_i(x)`. The pseudo-gradient stacks the players' own gradients,
:math:`F(x) = (\nabla_{x_1} f_1(x), \dots, \nabla_{x_N} f_N(x))`, acting on the flat joint vector
:math:`x \in \mathbb R^d`, :math:`d = \sum_i d_i`. Its Jacobian has blocks
:math:`J_{ij} = \nabla_{x_j}\nabla_{x_i} f_i`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Mapping

import numpy as np

from games._region import Region
from games._sets import StrategySet, Unconstrained, product_projection
from sgn import _checks
from sgn._backend import is_sparse, jax, jnp


@dataclasses.dataclass(frozen=True, eq=False)
class Game:
    """An N-player differentiable game on a product of strategy sets.

    Attributes:
      name: short identifier (registry name for registered games).
      dims: block sizes ``(d_1, ..., d_N)``.
      pseudo_gradient: ``F: (dim,) -> (dim,)``, pure JAX.
      strategy_sets: one :mod:`games` strategy set per player.
      constant_jacobian: ``(dim, dim)`` Jacobian if ``F`` is affine (bounds are then exact): a
        NumPy array, or a ``scipy.sparse`` matrix (kept as canonical float64 CSR) for many players.
      params: the parameters the game was built from (recorded in certificates).
      description: one line saying what the game demonstrates.
      region: default compact region for bounds, or ``None`` (global, for affine games).
      losses: optional per-player losses ``f_i(x)`` when the game was built from them.
      geometry: ``"euclidean"`` (SGN in block-scalar metrics) or ``"mirror"`` / ``"fisher"``
        (entropy-regularised games certified in the KL/Fisher geometry by ``certify``).
      data: extra arrays the game was built from (payoff tensors, transitions, ...).
      source: how to rebuild a game defined outside the registry (set by :func:`games.load_game`):
        ``{"kind": "file" | "module", "path", "module", "factory", "params", "sha256"}``; recorded
        in certificates so that ``sgn verify`` can rebuild the game and refuse an edited file.

    Examples:
      >>> import jax.numpy as jnp
      >>> g = Game(name="pair", dims=(1, 1), pseudo_gradient=lambda x: jnp.array([x[0] + x[1], x[1] - x[0]]),
      ...          strategy_sets=(Unconstrained(), Unconstrained()))
      >>> g.n_players, g.dim, g.jacobian(jnp.zeros(2)).tolist()
      (2, 2, [[1.0, 1.0], [-1.0, 1.0]])
    """

    name: str
    dims: tuple[int, ...]
    pseudo_gradient: Callable
    strategy_sets: tuple[StrategySet, ...]
    constant_jacobian: np.ndarray | object | None = None
    params: Mapping = dataclasses.field(default_factory=dict)
    description: str = ""
    region: Region | None = None
    losses: tuple[Callable, ...] | None = None
    geometry: str = "euclidean"
    data: Mapping = dataclasses.field(default_factory=dict)
    source: Mapping | None = None

    def __post_init__(self):
        dims = _checks.check_dims(self.dims)
        object.__setattr__(self, "dims", dims)
        if not callable(self.pseudo_gradient):
            raise TypeError(f"expected a callable pseudo_gradient, got {type(self.pseudo_gradient).__name__}")
        if len(self.strategy_sets) != len(dims):
            raise ValueError(
                f"expected one strategy set per player ({len(dims)}), got {len(self.strategy_sets)}"
            )
        if self.constant_jacobian is not None:
            jac = _canonical_jacobian(self.constant_jacobian)
            if jac.shape != (self.dim, self.dim):
                raise ValueError(f"expected a ({self.dim}, {self.dim}) Jacobian, got {jac.shape}")
            _checks.check_finite(jac, "constant_jacobian")
            object.__setattr__(self, "constant_jacobian", jac)
        if isinstance(self.region, tuple | list) and len(self.region) == 2:  # (lo, hi), as certify takes it
            object.__setattr__(self, "region", Region(*self.region))
        elif self.region is not None and not isinstance(self.region, Region):
            raise TypeError(f"expected region as a games.Region or (lo, hi), got {type(self.region).__name__}")
        if self.region is not None and self.region.dim != self.dim:
            raise ValueError(f"expected a region of dimension {self.dim}, got {self.region.dim}")

    def __repr__(self) -> str:
        """A one-line summary (the arrays and callables stay out of it; ``describe()`` has the details)."""
        kind = "affine" if self.constant_jacobian is not None else "nonlinear"
        params = ", ".join(f"{k}={v!r}" for k, v in self.params.items() if isinstance(v, int | float | str | bool))
        dims = self.dims if len(self.dims) <= 8 else f"{len(self.dims)} blocks, joint dimension {self.dim}"
        return (f"Game({self.name!r}, {self.n_players} players, dims={dims}, {self.geometry}, {kind}"
                + (f", {params}" if params and len(params) <= 200 else "") + ")")

    @property
    def n_players(self) -> int:
        """Number of players N."""
        return len(self.dims)

    @property
    def dim(self) -> int:
        """Joint dimension d."""
        return int(sum(self.dims))

    @property
    def offsets(self) -> tuple[int, ...]:
        """Block start offsets, with the total appended."""
        return tuple(int(o) for o in np.cumsum((0,) + self.dims))

    @property
    def blocks(self) -> tuple[slice, ...]:
        """Per-player slices of the joint vector."""
        o = self.offsets
        return tuple(slice(o[i], o[i + 1]) for i in range(self.n_players))

    @property
    def is_affine(self) -> bool:
        """True when the Jacobian is constant."""
        return self.constant_jacobian is not None

    @property
    def is_unconstrained(self) -> bool:
        """True when every player's set is the whole space."""
        return all(isinstance(s, Unconstrained) for s in self.strategy_sets)

    def project(self, x):
        """Blockwise projection onto the joint strategy set."""
        return product_projection(self.strategy_sets, self.dims)(x)

    def jacobian(self, x):
        """Game Jacobian ``DF(x)`` (forward-mode autodiff), or the constant one."""
        if self.constant_jacobian is not None:
            jac = self.constant_jacobian
            return jnp.asarray(jac.toarray() if is_sparse(jac) else jac, dtype=jnp.asarray(x).dtype)
        return jax.jacfwd(self.pseudo_gradient)(x)

    def split(self, x):
        """Splits a joint vector into per-player blocks."""
        return [x[b] for b in self.blocks]

    def default_region(self) -> Region | None:
        """The region used when none is given: the game's own, or the bounded strategy set."""
        if self.region is not None:
            return self.region
        lo, hi = [], []
        for s, d in zip(self.strategy_sets, self.dims, strict=True):
            a, b = s.bounding_box(d)
            lo.append(a)
            hi.append(b)
        lo, hi = np.concatenate(lo), np.concatenate(hi)
        if np.all(np.isfinite(lo)) and np.all(np.isfinite(hi)):
            return Region(lo, hi)
        return None

    def describe(self) -> dict:
        """JSON-ready description: name, parameters, dims, sets, a fingerprint and, for file games, the source.

        Examples:
          >>> from games import quadratic
          >>> sorted(quadratic([[2.0]], name="one").describe())
          ['dims', 'fingerprint', 'name', 'params', 'strategy_sets']
        """
        out = {
            "name": self.name,
            "params": _jsonable(dict(self.params)),
            "dims": list(self.dims),
            "strategy_sets": [s.to_dict() for s in self.strategy_sets],
            "fingerprint": self.fingerprint(),
        }
        if self.source is not None:
            out["source"] = _jsonable(dict(self.source))
        return out

    def fingerprint(self) -> str:
        """SHA-256 of the name, parameters, dims, sets, (if affine) the Jacobian and a file game's source.

        A dense Jacobian contributes its row-major float64 bytes; a sparse one a tag and its
        canonical CSR arrays (sorted indices, no duplicates or stored zeros: one matrix, one hash).
        The source enters without its ``path``: a definition file identifies a game by its content.

        Examples:
          >>> from games import quadratic
          >>> quadratic([[2.0]]).fingerprint() == quadratic([[2.0]]).fingerprint() != quadratic([[3.0]]).fingerprint()
          True
        """
        h = hashlib.sha256()
        meta = {
            "name": self.name,
            "params": _jsonable(dict(self.params)),
            "dims": list(self.dims),
            "sets": [s.to_dict() for s in self.strategy_sets],
        }
        if self.source is not None:
            meta["source"] = _jsonable({k: v for k, v in self.source.items() if k != "path"})
        h.update(json.dumps(meta, sort_keys=True).encode())
        jac = self.constant_jacobian
        if is_sparse(jac):
            h.update(b"csr")
            for part, dtype in ((jac.indptr, "<i8"), (jac.indices, "<i8"), (jac.data, "<f8")):
                h.update(np.ascontiguousarray(part, dtype=dtype).tobytes())
        elif jac is not None:
            h.update(np.ascontiguousarray(jac, dtype="<f8").tobytes())
        return h.hexdigest()[:16]


def _canonical_jacobian(jac):
    """A dense float64 array, or a ``scipy.sparse`` matrix as canonical float64 CSR."""
    if not is_sparse(jac):
        return np.asarray(jac, dtype=np.float64)
    import scipy.sparse as sp  # the input is sparse: SciPy is already imported

    out = sp.csr_matrix(jac, dtype=np.float64, copy=True)
    out.sum_duplicates()
    out.eliminate_zeros()
    out.sort_indices()
    return out


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray | jax.Array):
        return np.asarray(obj).tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    return obj
