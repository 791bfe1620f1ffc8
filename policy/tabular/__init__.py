r"""Learners, measures, QRE solvers and a temperature curriculum for entropy-regularised tabular games.

The games themselves (data, exact values, stationary points, :math:`\tau = 0` equilibria) live in
:mod:`games.tabular`; this subpackage holds what *learns* or *measures* on them:

* learners (``init``/``update`` pairs, ``jit``/``vmap``-able): softmax policy gradient, natural
  policy gradient / multiplicative weights, policy extragradient and optimistic MWU (Cen et al.);
* convergence measures: NashConv, exploitability, the regularised gap, KL / ℓ1 / log-ratio distance
  to a QRE;
* QRE solvers: a Newton-polished solve and the homotopy path over decreasing temperatures;
* a temperature curriculum that follows the QRE path and a certificate given by the caller.

Examples:
  >>> import jax.numpy as jnp
  >>> from games.tabular import tabular_from_matrix
  >>> from policy import tabular
  >>> tg = tabular_from_matrix([[[1.0, -1.0], [-1.0, 1.0]]] * 2, tau=1.5)
  >>> qre = tabular.solve_qre(tg)
  >>> state, trace = tabular.run_learner(tabular.npg(step=0.5), tg, [jnp.array([[1.0, 0.0]])] * 2,
  ...                                    n_steps=100, measure=lambda z: tabular.kl_to_qre(z, qre.logits))
  >>> bool(qre.converged), bool(trace[-1] < 1e-12)
  (True, True)
"""

from policy.tabular._curriculum import plot_curriculum as plot_curriculum
from policy.tabular._curriculum import temperature_curriculum as temperature_curriculum
from policy.tabular._curriculum import with_temperature as with_temperature
from policy.tabular._learners import LEARNERS as LEARNERS
from policy.tabular._learners import Learner as Learner
from policy.tabular._learners import LearnerState as LearnerState
from policy.tabular._learners import extragradient as extragradient
from policy.tabular._learners import make_learner as make_learner
from policy.tabular._learners import multiplicative_weights as multiplicative_weights
from policy.tabular._learners import npg as npg
from policy.tabular._learners import optimistic_mwu as optimistic_mwu
from policy.tabular._learners import run_learner as run_learner
from policy.tabular._learners import softmax_pg as softmax_pg
from policy.tabular._measures import categorical_kl as categorical_kl
from policy.tabular._measures import exploitability as exploitability
from policy.tabular._measures import game_nash_conv as game_nash_conv
from policy.tabular._measures import kl_to_qre as kl_to_qre
from policy.tabular._measures import l1_to_qre as l1_to_qre
from policy.tabular._measures import log_ratio_error as log_ratio_error
from policy.tabular._measures import regularised_gap as regularised_gap
from policy.tabular._qre import QREResult as QREResult
from policy.tabular._qre import qre_path as qre_path
from policy.tabular._qre import residual_tolerance as residual_tolerance
from policy.tabular._qre import solve_qre as solve_qre

__all__ = [
    "LEARNERS",
    "Learner",
    "LearnerState",
    "QREResult",
    "categorical_kl",
    "exploitability",
    "extragradient",
    "game_nash_conv",
    "kl_to_qre",
    "l1_to_qre",
    "log_ratio_error",
    "make_learner",
    "multiplicative_weights",
    "npg",
    "optimistic_mwu",
    "plot_curriculum",
    "qre_path",
    "regularised_gap",
    "residual_tolerance",
    "run_learner",
    "softmax_pg",
    "solve_qre",
    "temperature_curriculum",
    "with_temperature",
]
