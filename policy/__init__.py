"""policy: shared policy-gradient pieces with two front ends.

* :mod:`policy.tabular`: softmax PG, NPG / multiplicative weights, policy extragradient and
  optimistic MWU for entropy-regularised matrix and Markov games, QRE solvers, NashConv, a
  temperature curriculum;
* :mod:`policy.tokens`: LLM-token objectives (the GRPO family and the entropy-control methods
  Clip-Cov, KL-Cov, ...) as composable losses with named presets, advantage estimators, token
  selections, large-vocabulary log-prob/entropy kernels and optax learning-rate schedules.

Both use the same core (log-softmax with temperature, entropy, KL estimators, importance ratios),
re-exported here. ``policy`` imports neither flax/optax nor ``certify`` (the RL example in
``examples/rlvr`` uses flax; ``games`` itself loads flax for its neural-network games).

Examples:
  >>> import jax.numpy as jnp
  >>> import policy
  >>> round(float(policy.entropy_from_logits(jnp.zeros(4))), 5)  # log 4
  1.38629
  >>> sorted(m.__name__ for m in (policy.tabular, policy.tokens))
  ['policy.tabular', 'policy.tokens']
"""

from policy import tabular as tabular
from policy import tokens as tokens
from policy._core import entropy_from_logits as entropy_from_logits
from policy._core import importance_ratio as importance_ratio
from policy._core import kl_estimate as kl_estimate
from policy._core import log_probs_from_logits as log_probs_from_logits
from policy._core import log_softmax_temperature as log_softmax_temperature

__all__ = [
    "entropy_from_logits",
    "importance_ratio",
    "kl_estimate",
    "log_probs_from_logits",
    "log_softmax_temperature",
    "tabular",
    "tokens",
]
