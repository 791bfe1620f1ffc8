r"""Entropy-regularised normal-form games on simplices and their logit quantal response equilibria.

Player :math:`i` of an :math:`N`-player normal-form game picks a mixed strategy
:math:`x_i \in \Delta_{n_i}` and receives :math:`u_i(x) = T_i[x_1, \dots, x_N]` (the multilinear
extension of its payoff tensor :math:`T_i`). With temperature :math:`\tau \ge 0` it minimises

.. math::

   f_i(x) = -u_i(x) - \tau H(x_i), \qquad H(x_i) = -\sum_a x_{ia}\log x_{ia},

so the pseudo-gradient on simplex coordinates is
:math:`F_i(x) = -\nabla_{x_i} u_i(x) + \tau(\log x_i + 1)`. For :math:`\tau > 0` the regularised
Nash equilibria are the logit quantal response equilibria (QRE),
:math:`x_i = \operatorname{softmax}(\nabla_{x_i} u_i(x)/\tau)` (McKelvey & Palfrey 1995). The entropy
makes each :math:`F_i` :math:`\tau`-strongly monotone in :math:`\lVert\cdot\rVert_1` (Pinsker), so
these games are certified in the mirror (KL) geometry (``geometry="mirror"``).

References:
  McKelvey & Palfrey, Quantal response equilibria for normal form games, GEB 10, 1995.
  Cen, Wei & Chi, `Fast Policy Extragradient Methods for Competitive Games with Entropy
  Regularization <https://arxiv.org/abs/2105.15186>`_, 2021.
"""

from __future__ import annotations

import numpy as np

from games._game import Game
from games._markov import _array, payoff_gradients, tabular_from_matrix
from games._registry import register
from games._sets import Simplex
from sgn._backend import jax, jnp


def _payoff_tensors(a, b):
    """Normalises the ``(A, B)`` / list-of-tensors input to an ``(N, n_1, ..., n_N)`` float64 array."""
    if isinstance(a, list | tuple) and b is None and len(a) >= 2 and np.ndim(a[0]) == len(a):
        tensors = [_array(t, f"payoffs[{k}]") for k, t in enumerate(a)]
        shape = tensors[0].shape
        for k, t in enumerate(tensors):
            if t.shape != shape:
                raise ValueError(f"expected payoffs[{k}] of shape {shape}, got {t.shape}")
        out = np.stack(tensors)
    else:
        a = _array(a, "A")
        if a.ndim != 2:
            raise ValueError(f"expected A to be a matrix (rank 2) or a list of N rank-N payoff "
                             f"tensors, got shape {a.shape}")
        b = -a if b is None else _array(b, "B")
        if b.shape != a.shape:
            raise ValueError(f"expected B of shape {a.shape} like A, got {b.shape}")
        out = np.stack([a, b])
    if out.size == 0 or any(n < 1 for n in out.shape):
        raise ValueError(f"expected non-empty payoffs, got shape {out.shape}")
    if not np.all(np.isfinite(out)):
        raise ValueError("expected finite payoffs, got NaN or Inf")
    return out


def matrix_game(a, b=None, *, tau, name: str = "matrix", description: str = "") -> Game:
    r"""An entropy-regularised normal-form game on simplices (``geometry="mirror"``).

    Args:
      a: row player's payoff matrix ``(n_1, n_2)``; or a list of ``N`` payoff tensors of shape
        ``(n_1, ..., n_N)`` (player ``i`` receives ``a[i]``), in which case ``b`` must be ``None``.
      b: column player's payoff matrix (``-a``, zero-sum, when omitted).
      tau: entropy temperature :math:`\tau \ge 0`.
      name: game name.
      description: one line.

    Returns:
      A :class:`games.Game` on the product of simplices with pseudo-gradient
      :math:`F_i(x) = -\nabla_{x_i}u_i(x) + \tau(\log x_i + 1)` and losses
      :math:`f_i = -u_i - \tau H(x_i)`. ``data`` holds ``payoffs`` (``(N, n_1, ..., n_N)``),
      ``tau`` and the one-state :class:`games.tabular.TabularGame` (``data["tabular"]``).

    Raises:
      ValueError: for shape mismatches, non-finite payoffs or ``tau < 0``.

    Examples:
      >>> import jax.numpy as jnp
      >>> g = matrix_game([[1.0, -1.0], [-1.0, 1.0]], tau=0.5)   # matching pennies
      >>> g.dims, g.geometry
      ((2, 2), 'mirror')
      >>> [round(float(v), 6) for v in g.pseudo_gradient(jnp.full(4, 0.5))]
      [0.153426, 0.153426, 0.153426, 0.153426]
    """
    payoffs = _payoff_tensors(a, b)
    tau = float(tau)
    if not (np.isfinite(tau) and tau >= 0):
        raise ValueError(f"expected tau >= 0 (finite), got {tau!r}")
    dims = tuple(int(n) for n in payoffs.shape[1:])
    offsets = np.cumsum((0,) + dims)
    tg = tabular_from_matrix(list(payoffs), tau=tau)

    def split(x):
        return [x[offsets[i]:offsets[i + 1]][None, :] for i in range(len(dims))]

    def grads(x):
        t = jax.tree_util.tree_map(lambda v: jnp.asarray(v, x.dtype), tg)
        return [gi[0] for gi in payoff_gradients(t, split(x))]

    def pseudo_gradient(x):
        g = grads(x)
        parts = [-gi + tau * (jnp.log(xi[0]) + 1.0) for gi, xi in zip(g, split(x), strict=True)]
        return jnp.concatenate(parts)

    def make_loss(i):
        def loss(x):
            parts = split(x)
            xi = parts[i][0]
            u = jnp.dot(grads(x)[i], xi)
            return -u + tau * jnp.sum(xi * jnp.log(xi))
        return loss

    return Game(name=name, dims=dims, pseudo_gradient=pseudo_gradient,
                strategy_sets=(Simplex(),) * len(dims), params={"tau": tau},
                description=description, losses=tuple(make_loss(i) for i in range(len(dims))),
                geometry="mirror", data={"payoffs": payoffs, "tau": tau, "tabular": tg})


_PENNIES = [[1.0, -1.0], [-1.0, 1.0]]
_RPS = [[0.0, -1.0, 1.0], [1.0, 0.0, -1.0], [-1.0, 1.0, 0.0]]
# OpenSpiel's matrix_brps ("biased rock-paper-scissors"), payoffs divided by 50.
_BRPS = [[0.0, -0.5, 1.0], [0.5, 0.0, -0.1], [-1.0, 0.1, 0.0]]
# Shapley (1964): a 3x3 general-sum game on which fictitious play cycles.
_SHAPLEY_A = [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
_SHAPLEY_B = [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]


@register("matching-pennies-qre",
          "Matching pennies with entropy tau: unique uniform QRE; SGN (KL) certifies only tau > 1.")
def _matching_pennies_qre(tau: float = 0.5) -> Game:
    return matrix_game(_PENNIES, tau=tau)


@register("rps-qre", "Rock-paper-scissors with entropy tau: unique uniform QRE; SGN (KL) certifies tau > 0.75.")
def _rps_qre(tau: float = 1.5) -> Game:
    return matrix_game(_RPS, tau=tau)


@register("biased-rps", "Biased rock-paper-scissors (OpenSpiel's matrix_brps / 50) with entropy tau.")
def _biased_rps(tau: float = 0.5) -> Game:
    return matrix_game(_BRPS, tau=tau)


@register("shapley", "Shapley's 3x3 general-sum game (fictitious play cycles) with entropy tau.")
def _shapley(tau: float = 0.5) -> Game:
    return matrix_game(_SHAPLEY_A, _SHAPLEY_B, tau=tau)


@register("battle-of-sexes", "Battle of the sexes (3,2 / 2,3) with entropy tau: three NE, one QRE for large tau.")
def _battle_of_sexes(tau: float = 1.0) -> Game:
    return matrix_game([[3.0, 0.0], [0.0, 2.0]], [[2.0, 0.0], [0.0, 3.0]], tau=tau)


@register("coordination", "Both maximise x'Ay, A=[[1,-1],[-1,1]]: certified iff tau > 1, the QRE bifurcation.")
def _coordination(tau: float = 1.5) -> Game:
    return matrix_game(_PENNIES, _PENNIES, tau=tau)
