r"""Tabular (matrix and Markov) games with entropy regularisation: data, values, equilibria.

The public face of the tabular games. A :class:`TabularGame` holds transitions :math:`P(s'|s,a)`,
rewards :math:`R_i(s,a)`, the initial distribution, the discount :math:`\gamma`, the entropy
temperature :math:`\tau` and the regularisation mode (the SGN paper's state-summed entropy or Cen
et al.'s discounted entropy); values come from exact linear solves

.. math::

   V_i = (I - \gamma P_\pi)^{-1} r_{\pi,i}, \qquad
   g_i(s, a) = d^\pi(s)\,\bar Q_i(s, a),

and the stationary points of the logit pseudo-gradient are the entropy-regularised equilibria
(quantal response equilibria for normal-form games). :func:`matrix_game` and :func:`markov_game`
wrap the data in a :class:`games.Game` whose ``data["tabular"]`` is the :class:`TabularGame`, stored
in float64 whatever JAX's default dtype. The unregularised (:math:`\tau = 0`) solutions to compare
the QRE path against: :func:`zero_sum_nash` (linear programme), :func:`bimatrix_nash` (support
enumeration), :func:`shapley_value` (Shapley's value iteration for zero-sum Markov games).

Examples:
  >>> import numpy as np
  >>> from games import tabular
  >>> g = tabular.matrix_game(np.array([[1.0, -1.0], [-1.0, 1.0]]), tau=1.5)
  >>> qre = tabular.stationary_point(g.data["tabular"])
  >>> bool(qre.converged), float(qre.residual) < 1e-12
  (True, True)
"""

from games._markov import ENTROPY_MODES as ENTROPY_MODES
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
from games._markov import policy_payoffs as policy_payoffs
from games._markov import reduced_basis as reduced_basis
from games._markov import split_logits as split_logits
from games._markov import tabular_from_matrix as tabular_from_matrix
from games._markov_solve import QREResult as QREResult
from games._markov_solve import residual_tolerance as residual_tolerance
from games._markov_solve import stationary_point as stationary_point
from games._matrix import matrix_game as matrix_game
from games._nash import ShapleySolution as ShapleySolution
from games._nash import bimatrix_nash as bimatrix_nash
from games._nash import shapley_value as shapley_value
from games._nash import zero_sum_nash as zero_sum_nash
from games._openspiel import from_openspiel as from_openspiel

__all__ = [
    "ENTROPY_MODES",
    "QREResult",
    "ShapleySolution",
    "TabularGame",
    "best_response_values",
    "bimatrix_nash",
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
    "policy_payoffs",
    "reduced_basis",
    "residual_tolerance",
    "shapley_value",
    "split_logits",
    "stationary_point",
    "tabular_from_matrix",
    "zero_sum_nash",
]
