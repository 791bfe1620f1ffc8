"""policy: shared policy-gradient pieces with two front ends.

* :mod:`policy.tabular`: softmax PG, NPG / multiplicative weights, policy extragradient and
  optimistic MWU for entropy-regularised matrix and Markov games, QRE solvers, NashConv, a
  temperature curriculum;
* :mod:`policy.tokens`: LLM-token objectives (the GRPO family and the entropy-control methods
  Clip-Cov, KL-Cov, ...) as composable losses with named presets, advantage estimators, token
  selections, large-vocabulary log-prob/entropy kernels and optax learning-rate schedules.

Both use the same core (log-softmax with temperature, entropy, KL estimators, importance ratios),
re-exported here. ``policy`` imports neither flax/optax nor ``certify`` (the RL example in
``examples/rlvr`` uses flax; ``games`` itself loads flax for its neural-network games). Its names
are imported on first use (:func:`sgn._lazy.lazy_exports`): ``import policy`` loads no JAX.

Examples:
  >>> import jax.numpy as jnp
  >>> import policy
  >>> round(float(policy.entropy_from_logits(jnp.zeros(4))), 5)  # log 4
  1.38629
  >>> sorted(m.__name__ for m in (policy.tabular, policy.tokens))
  ['policy.tabular', 'policy.tokens']
"""

from sgn._lazy import lazy_exports as _lazy_exports

_EXPORTS = {
    "tabular": "policy.tabular",
    "tokens": "policy.tokens",
    "entropy_from_logits": "policy._core",
    "importance_ratio": "policy._core",
    "kl_estimate": "policy._core",
    "log_probs_from_logits": "policy._core",
    "log_softmax_temperature": "policy._core",
}
"""Public name -> the module that defines it (a submodule's name -> the submodule)."""
__getattr__, __dir__ = _lazy_exports(__name__, _EXPORTS)

__all__ = [
    "entropy_from_logits",
    "importance_ratio",
    "kl_estimate",
    "log_probs_from_logits",
    "log_softmax_temperature",
    "tabular",
    "tokens",
]
