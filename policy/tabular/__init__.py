r"""Learners, measures, QRE solvers and a temperature curriculum for entropy-regularised tabular games.

The games themselves (data, exact values, stationary points, :math:`\tau = 0` equilibria) live in
:mod:`games.tabular`; this subpackage holds what *learns* or *measures* on them:

* learners (``init``/``update`` pairs, ``jit``/``vmap``-able): softmax policy gradient, natural
  policy gradient / multiplicative weights, policy extragradient and optimistic MWU (Cen et al.);
* convergence measures: NashConv, exploitability, the regularised gap, KL / ℓ1 / log-ratio distance
  to a QRE;
* QRE solvers: a Newton-polished solve and the homotopy path over decreasing temperatures;
* a temperature curriculum that follows the QRE path and a certificate given by the caller.

Each name is imported from its module on first use (:func:`sgn._lazy.lazy_exports`): the QRE solvers
on NumPy game data load neither JAX nor the learners.

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

from sgn._lazy import lazy_exports as _lazy_exports

_EXPORTS = {
    "plot_curriculum": "policy.tabular._curriculum",
    "temperature_curriculum": "policy.tabular._curriculum",
    "with_temperature": "policy.tabular._curriculum",
    "LEARNERS": "policy.tabular._learners",
    "Learner": "policy.tabular._learners",
    "LearnerState": "policy.tabular._learners",
    "extragradient": "policy.tabular._learners",
    "make_learner": "policy.tabular._learners",
    "multiplicative_weights": "policy.tabular._learners",
    "npg": "policy.tabular._learners",
    "optimistic_mwu": "policy.tabular._learners",
    "run_learner": "policy.tabular._learners",
    "softmax_pg": "policy.tabular._learners",
    "categorical_kl": "policy.tabular._measures",
    "exploitability": "policy.tabular._measures",
    "game_nash_conv": "policy.tabular._measures",
    "kl_to_qre": "policy.tabular._measures",
    "l1_to_qre": "policy.tabular._measures",
    "log_ratio_error": "policy.tabular._measures",
    "regularised_gap": "policy.tabular._measures",
    "QREResult": "policy.tabular._qre",
    "qre_path": "policy.tabular._qre",
    "residual_tolerance": "policy.tabular._qre",
    "solve_qre": "policy.tabular._qre",
}
"""Public name -> the module that defines it."""
__getattr__, __dir__ = _lazy_exports(__name__, _EXPORTS)

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
