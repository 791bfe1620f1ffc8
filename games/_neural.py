r"""Games whose players are neural networks, and a stable point that is not a Nash equilibrium.

* :func:`from_pytree_losses`: a :class:`games.Game` from losses over per-player parameter
  *pytrees* (flax ``params``), flattened per player with ``jax.flatten_util.ravel_pytree`` so that
  ``dims`` are the players' parameter counts and :math:`F_i = \nabla_{\theta_i} f_i`.
* ``neural-duel``: two MLPs :math:`g_\theta, h_\phi` on a fixed batch :math:`z_1..z_n` with
  ridge-regularised regression losses and a zero-sum bilinear interaction of their outputs,

  .. math::

     f_1 = \tfrac1{2n}\sum_s (g_\theta(z_s) - t_s)^2 + \tfrac\lambda2\lVert\theta\rVert^2
           + \tfrac cn\sum_s g_\theta(z_s) h_\phi(z_s), \qquad
     f_2 = \tfrac1{2n}\sum_s (h_\phi(z_s) - u_s)^2 + \tfrac\lambda2\lVert\phi\rVert^2
           - \tfrac cn\sum_s g_\theta(z_s) h_\phi(z_s).

  Outputs are scaled by :math:`1/\sqrt{\text{width}}` (NTK-style), so the output gradients and
  hence the coupling :math:`J_{12} = \tfrac cn \sum_s \nabla_\theta g_s \nabla_\phi h_s^\top`
  stay :math:`O(c)` at every width, while weight decay :math:`\lambda` supplies curvature
  (:math:`J_{ii} = \lambda I +` Gauss–Newton :math:`+` residual terms). Our own construction:
  a "regularised bilinear interaction of two networks", chosen so that SGN certifies a region
  around the initialisation at any size.
* ``non-nash``: :math:`f = \tfrac12x^2 + xy + \tfrac14y^2`, :math:`x` minimises :math:`f`,
  :math:`y` maximises it (loss :math:`-f`). :math:`F = (x + y, -x - \tfrac12y)`,
  :math:`J = \begin{pmatrix}1 & 1\\ -1 & -\tfrac12\end{pmatrix}`: eigenvalues
  :math:`\tfrac14 \pm \tfrac{\sqrt7}4 i` have positive real part, so gradient play converges
  to the origin, yet :math:`J_{22} = -\tfrac12 < 0`: the maximiser sits at a *minimum* of
  :math:`f(0,\cdot)`, so the origin is not a Nash equilibrium (Mazumdar et al. 2020's non-Nash
  stable point). SGN refuses it (:math:`\mu_2 = -\tfrac12 \le 0`).

References:
  Mazumdar, Ratliff & Sastry, `On gradient-based learning in continuous games
  <https://arxiv.org/abs/1804.05464>`_, 2020.
  Jacot, Gabriel & Hongler, `Neural Tangent Kernel <https://arxiv.org/abs/1806.07572>`_, 2018.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable, Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from games._constructors import from_losses, quadratic
from games._game import Game
from games._region import Region
from games._registry import register
from sgn import _checks


def from_pytree_losses(
    losses: Sequence[Callable],
    params: Sequence,
    *,
    name: str = "custom",
    radius: float | None = None,
    sets=None,
    description: str = "",
    game_params: Mapping | None = None,
) -> Game:
    """A game from per-player losses over parameter pytrees, flattened per player.

    Player :math:`i` minimises ``losses[i](params_1, ..., params_N)``; the returned game acts on
    the flat joint vector ``concat(ravel(params_1), ..., ravel(params_N))`` (dtype of the leaves).

    Args:
      losses: one callable per player taking all players' pytrees (positionally).
      params: one pytree per player (e.g. flax ``variables``); their values are the centre of
        the default region.
      name: game name.
      radius: if given, the default region is the box ``centre ± radius``.
      sets: strategy set(s) for the flat blocks (unconstrained if ``None``).
      description: one line.
      game_params: parameters recorded in the game.

    Returns:
      A :class:`games.Game` with ``dims`` the per-player parameter counts and ``data["center"]``
      the flat initial parameters; ``data["unravel"]`` holds the per-player unravel functions.

    Raises:
      ValueError: for mismatched numbers of losses and players, or empty players.
      TypeError: for non-callable losses.

    Examples:
      >>> import jax.numpy as jnp
      >>> p = ({"w": jnp.ones(2)}, {"v": jnp.zeros(3)})
      >>> g = from_pytree_losses([lambda a, b: jnp.sum(a["w"] ** 2) + a["w"][0] * jnp.sum(b["v"]),
      ...                         lambda a, b: jnp.sum(b["v"] ** 2)], p)
      >>> g.dims, g.jacobian(g.data["center"])[0].tolist()
      ((2, 3), [2.0, 0.0, 1.0, 1.0, 1.0])
    """
    params = tuple(params)
    losses = tuple(losses)
    if len(losses) != len(params):
        raise ValueError(f"expected one loss per player ({len(params)}), got {len(losses)}")
    if not all(callable(f) for f in losses):
        raise TypeError("expected callables losses[i](params_1, ..., params_N)")
    flats, unravels = zip(*(ravel_pytree(p) for p in params), strict=True)
    dims = tuple(int(f.shape[0]) for f in flats)
    if any(d == 0 for d in dims):
        raise ValueError(f"expected every player to have parameters, got dims={dims}")
    offsets = np.cumsum((0,) + dims)

    def unflatten(x):
        return [unravels[i](x[offsets[i]:offsets[i + 1]]) for i in range(len(dims))]

    flat_losses = [functools.partial(_on_flat, f, unflatten) for f in losses]
    center = np.concatenate([np.asarray(f, dtype=np.float64) for f in flats])
    region = None if radius is None else Region.around(center, radius)
    game = from_losses(flat_losses, dims, sets=sets, name=name, region=region,
                       params=dict(game_params or {}), description=description)
    return dataclasses.replace(game, data={"center": center, "unravel": unravels})


def _on_flat(loss, unflatten, x):
    return loss(*unflatten(x))


@functools.cache
def _mlp_class():
    """The flax tanh MLP (flax is imported on first use: ``import games`` stays light)."""
    import flax.linen as nn  # heavy optional dependency, only for network players

    class MLP(nn.Module):
        """tanh MLP with a scalar output scaled by ``1/sqrt(width)``."""

        width: int
        depth: int

        @nn.compact
        def __call__(self, z):
            for _ in range(self.depth):
                z = jnp.tanh(nn.Dense(self.width)(z))
            return nn.Dense(1)(z)[..., 0] / math.sqrt(self.width)

    return MLP


def _check_positive_int(value, name):
    _checks.check_int(value, name, least=1)


MAX_WIDTH = 4096
"""Largest hidden width (and number of inputs) of :func:`neural_duel`'s networks."""
MAX_DEPTH = 32
"""Largest number of hidden layers of :func:`neural_duel`'s networks."""


def neural_duel(width: int = 8, depth: int = 1, seed: int = 0, weight_decay: float = 1.0,
                coupling: float = 0.5, n_inputs: int = 16, in_dim: int = 2, radius: float = 0.05,
                dtype=jnp.float64) -> Game:
    r"""Two MLPs in a ridge-regularised, zero-sum bilinear interaction (see the module notes).

    Args:
      width: hidden width of both networks.
      depth: number of hidden layers.
      seed: seed of the initialisation, the inputs and the targets.
      weight_decay: :math:`\lambda`, the ridge curvature of each player.
      coupling: :math:`c`, strength of the bilinear interaction of the outputs.
      n_inputs: batch size :math:`n` of the fixed inputs.
      in_dim: input dimension.
      radius: half-width of the default region (a box around the initialisation).
      dtype: parameter dtype (float32 for networks with millions of parameters).

    Returns:
      A :class:`games.Game` with ``dims`` = the two parameter counts.

    Raises:
      ValueError: for non-positive sizes or a negative weight decay, coupling or radius.

    Examples:
      >>> g = neural_duel(width=4, depth=1)
      >>> g.dims  # (2*4 + 4) + (4 + 1) parameters each
      (17, 17)
    """
    for value, name in ((width, "width"), (depth, "depth"), (n_inputs, "n_inputs"), (in_dim, "in_dim")):
        _check_positive_int(value, name)
    for value, name, most in ((width, "width", MAX_WIDTH), (depth, "depth", MAX_DEPTH),
                              (n_inputs, "n_inputs", MAX_WIDTH), (in_dim, "in_dim", MAX_WIDTH)):
        if value > most:
            raise ValueError(f"expected {name} <= {most}, got {value}")
    for value, name in ((weight_decay, "weight_decay"), (coupling, "coupling"), (radius, "radius")):
        if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
            raise ValueError(f"expected a finite nonnegative {name}, got {value!r}")
    model = _mlp_class()(int(width), int(depth))
    k1, k2, k3, k4, k5 = jax.random.split(jax.random.PRNGKey(int(seed)), 5)
    z = jax.random.normal(k3, (int(n_inputs), int(in_dim)), jnp.float32)
    # NumPy casts: no float64 JAX array (and no warning) outside x64 mode; JAX converts on use
    p1 = jax.tree_util.tree_map(lambda a: np.asarray(a, dtype=np.dtype(dtype)), model.init(k1, z))
    p2 = jax.tree_util.tree_map(lambda a: np.asarray(a, dtype=np.dtype(dtype)), model.init(k2, z))
    t = jnp.sin(z @ jax.random.normal(k4, (int(in_dim),)))
    u = jnp.cos(z @ jax.random.normal(k5, (int(in_dim),)))
    lam, c = float(weight_decay), float(coupling)

    def outputs(a, b):
        zz = z.astype(jax.tree_util.tree_leaves(a)[0].dtype)
        return model.apply(a, zz), model.apply(b, zz)

    def sq(p):
        return sum(jnp.sum(leaf**2) for leaf in jax.tree_util.tree_leaves(p))

    def f1(a, b):
        g, h = outputs(a, b)
        return 0.5 * jnp.mean((g - t.astype(g.dtype)) ** 2) + 0.5 * lam * sq(a) + c * jnp.mean(g * h)

    def f2(a, b):
        g, h = outputs(a, b)
        return 0.5 * jnp.mean((h - u.astype(h.dtype)) ** 2) + 0.5 * lam * sq(b) - c * jnp.mean(g * h)

    return from_pytree_losses([f1, f2], [p1, p2], name="neural-duel", radius=float(radius))


@register("neural-duel", "Two tanh MLPs, ridge-regularised, in a zero-sum bilinear interaction of outputs.")
def _neural_duel(width: int = 8, depth: int = 1, seed: int = 0, weight_decay: float = 1.0,
                 coupling: float = 0.5, radius: float = 0.05) -> Game:
    return neural_duel(width=width, depth=depth, seed=seed, weight_decay=weight_decay, coupling=coupling,
                       radius=radius)


def non_nash(*, a: float = 1.0, b: float = 1.0, c: float = 0.5) -> Game:
    r""":math:`f = \tfrac a2 x^2 + bxy + \tfrac c2 y^2`; :math:`x` minimises, :math:`y` maximises.

    :math:`F = (ax + by, -bx - cy)`, :math:`J = [[a, b], [-b, -c]]`. For ``c > 0`` the maximiser
    has :math:`J_{22} = -c < 0` (not a Nash equilibrium), while for :math:`a > c` and
    :math:`b^2 > ac` gradient play still converges (trace :math:`a - c > 0`,
    determinant :math:`b^2 - ac > 0`). Defaults: :math:`f = \tfrac12x^2 + xy + \tfrac14y^2`.

    Examples:
      >>> non_nash().constant_jacobian.tolist()
      [[1.0, 1.0], [-1.0, -0.5]]
    """
    return quadratic([[a, b], [-b, -c]], name="non-nash", params={"a": a, "b": b, "c": c})


@register("non-nash", "f = x^2/2 + xy + y^2/4, x min, y max: gradient play converges to a non-Nash point.")
def _non_nash(a: float = 1.0, b: float = 1.0, c: float = 0.5) -> Game:
    return non_nash(a=a, b=b, c=c)
