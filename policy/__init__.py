"""policy: shared policy-gradient pieces with two front ends.

* tabular games: softmax PG, NPG / multiplicative weights, policy extragradient and optimistic
  MWU for entropy-regularised matrix and Markov games, QRE solvers, NashConv, a temperature
  curriculum;
* LLM tokens: the GRPO family and the entropy-control objectives (Clip-Cov, KL-Cov, ...), with
  large-vocabulary log-prob/entropy kernels.

Both use the same core (log-softmax with temperature, entropy, KL estimators, importance ratios).
"""

from policy._game_api import *  # noqa: F403
from policy._game_api import GAME_API
from policy._token_api import *  # noqa: F403
from policy._token_api import TOKEN_API

__all__ = sorted(set(GAME_API) | set(TOKEN_API))
