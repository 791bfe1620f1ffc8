r"""Tabular (matrix and Markov) games with entropy regularisation: data, values, equilibria.

The public face of :mod:`games._markov` and :mod:`games._matrix`. A :class:`TabularGame` holds
transitions :math:`P(s'|s,a)`, rewards :math:`R_i(s,a)`, the initial distribution, the discount
:math:`\gamma` and the entropy temperature :math:`\tau`; values come from exact linear solves

.. math::

   V_i = (I - \gamma P_\pi)^{-1} r_{\pi,i}, \qquad
   g_i(s, a_i) = d^\pi(s)\,\bar Q_i(s, a_i),

and the stationary points of the logit pseudo-gradient are the entropy-regularised equilibria
(quantal response equilibria for normal-form games). :func:`matrix_game` and :func:`markov_game`
wrap the data in a :class:`games.Game` whose ``data["tabular"]`` is the :class:`TabularGame`.

Examples:
  >>> import numpy as np
  >>> from games import tabular
  >>> g = tabular.matrix_game(np.array([[1.0, -1.0], [-1.0, 1.0]]), tau=1.5)
  >>> z, res = tabular.stationary_point(g.data["tabular"])
  >>> bool(res < 1e-8)
  True
"""

from games._markov import TabularGame as TabularGame
from games._markov import best_response_values as best_response_values
from games._markov import coop_transitions as coop_transitions
from games._markov import equilibrium_residual as equilibrium_residual
from games._markov import evaluate as evaluate
from games._markov import flatten_logits as flatten_logits
from games._markov import gauge_basis as gauge_basis
from games._markov import joint_policy as joint_policy
from games._markov import logit_pseudo_gradient as logit_pseudo_gradient
from games._markov import logit_shapes as logit_shapes
from games._markov import marginal_q as marginal_q
from games._markov import markov_game as markov_game
from games._markov import n_actions as n_actions
from games._markov import nash_conv as nash_conv
from games._markov import objectives as objectives
from games._markov import payoff_gradients as payoff_gradients
from games._markov import reduced_basis as reduced_basis
from games._markov import split_logits as split_logits
from games._markov import stationary_point as stationary_point
from games._markov import tabular_from_matrix as tabular_from_matrix
from games._matrix import matrix_game as matrix_game
from games._openspiel import from_openspiel as from_openspiel

__all__ = [
    "TabularGame",
    "best_response_values",
    "coop_transitions",
    "equilibrium_residual",
    "evaluate",
    "flatten_logits",
    "from_openspiel",
    "gauge_basis",
    "joint_policy",
    "logit_pseudo_gradient",
    "logit_shapes",
    "marginal_q",
    "markov_game",
    "matrix_game",
    "n_actions",
    "nash_conv",
    "objectives",
    "payoff_gradients",
    "reduced_basis",
    "split_logits",
    "stationary_point",
    "tabular_from_matrix",
]
