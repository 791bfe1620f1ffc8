r"""Convergence measures for tabular games: NashConv, exploitability, KL to the QRE, regularised gap.

* NashConv :math:`= \sum_i \big(\max_{\pi_i'} J_i(\pi_i', \pi_{-i}) - J_i(\pi)\big)` (unregularised,
  exact best responses by policy iteration); exploitability :math:`=` NashConv :math:`/N`, which for
  two-player zero-sum games is OpenSpiel's ``exploitability`` (NashConv/2).
* Regularised gap of a normal-form game: :math:`\sum_i \big(\max_{x_i'} U_i^\tau(x_i', x_{-i}) -
  U_i^\tau(x)\big) = \sum_i \tau\,\mathrm{KL}(x_i \| \operatorname{softmax}(g_i/\tau))` with
  :math:`g_i = \nabla_{x_i}u_i` (the Gibbs variational principle); for two-player zero-sum games
  this is the regularised duality gap of Cen, Wei & Chi (2021).
* Distance to a QRE: :math:`\sum_i w_i \sum_s \mathrm{KL}(\pi_i^*(\cdot|s)\|\pi_i(\cdot|s))`, the
  SGN Lyapunov function of the mirror/Fisher certificate.

The exact categorical KL from logits is written here (``policy.kl_estimate`` has the sampled estimators).
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp

from games.tabular import TabularGame, nash_conv, payoff_gradients
from policy._core import log_softmax_temperature


def categorical_kl(logits_p, logits_q, *, axis: int = -1):
    r"""Exact :math:`\mathrm{KL}(\operatorname{softmax}(z_p)\,\|\,\operatorname{softmax}(z_q))` from logits.

    Examples:
      >>> import jax.numpy as jnp
      >>> round(float(categorical_kl(jnp.array([0.0, 0.0]), jnp.log(jnp.array([0.25, 0.75])))), 6)
      0.143841
    """
    lp = log_softmax_temperature(logits_p, axis=axis)
    lq = log_softmax_temperature(logits_q, axis=axis)
    return jnp.sum(jnp.exp(lp) * (lp - lq), axis=axis)


def _probs(logits):
    return [jax.nn.softmax(z, axis=-1) for z in logits]


def game_nash_conv(tg: TabularGame, logits: Sequence[jax.Array]):
    """Unregularised NashConv of the policy with the given logits (see module docstring).

    Examples:
      >>> import jax.numpy as jnp
      >>> from games.tabular import tabular_from_matrix
      >>> a = jnp.array([[1.0, -1.0], [-1.0, 1.0]])
      >>> float(game_nash_conv(tabular_from_matrix([a, -a], tau=0.0), [jnp.zeros((1, 2))] * 2))
      0.0
    """
    return nash_conv(tg, _probs(logits))


def exploitability(tg: TabularGame, logits: Sequence[jax.Array]):
    """NashConv / N (OpenSpiel's exploitability for two-player zero-sum games).

    Examples:
      >>> import jax.numpy as jnp
      >>> from games.tabular import tabular_from_matrix
      >>> a = jnp.array([[1.0, -1.0], [-1.0, 1.0]])
      >>> tg = tabular_from_matrix([a, -a], tau=0.0)
      >>> float(exploitability(tg, [jnp.array([[0.0, -jnp.inf]]), jnp.zeros((1, 2))]))
      0.5
    """
    return game_nash_conv(tg, logits) / len(logits)


def regularised_gap(tg: TabularGame, logits: Sequence[jax.Array]):
    """Regularised NashConv / duality gap of a normal-form game (one state).

    Raises:
      ValueError: for a Markov game (more than one state): the paper's state-summed entropy has no
        closed-form regularised best response.

    Examples:
      >>> import jax.numpy as jnp
      >>> from games.tabular import tabular_from_matrix
      >>> a = jnp.array([[1.0, -1.0], [-1.0, 1.0]])
      >>> tg = tabular_from_matrix([a, -a], tau=0.5)
      >>> float(regularised_gap(tg, [jnp.zeros((1, 2)), jnp.zeros((1, 2))]))
      0.0
    """
    if tg.initial.shape[0] != 1:
        raise ValueError(f"expected a normal-form game (1 state), got {tg.initial.shape[0]} states")
    g = payoff_gradients(tg, _probs(logits))
    gaps = []
    for z, gi in zip(logits, g, strict=True):
        gaps.append(tg.tau * jnp.sum(categorical_kl(z, gi / tg.tau)))
    return jnp.sum(jnp.stack(gaps))


def kl_to_qre(logits: Sequence[jax.Array], qre_logits: Sequence[jax.Array], weights=None):
    r"""SGN Lyapunov function :math:`\sum_i w_i\sum_s \mathrm{KL}(\pi_i^*(\cdot|s)\|\pi_i(\cdot|s))`.

    Args:
      logits: current per-player logits.
      qre_logits: equilibrium per-player logits (same shapes).
      weights: optional ``(N,)`` block weights (ones if ``None``).

    Returns:
      Scalar.

    Examples:
      >>> import jax.numpy as jnp
      >>> z = [jnp.zeros((1, 2))]
      >>> round(float(kl_to_qre([jnp.log(jnp.array([[0.25, 0.75]]))], z, weights=[2.0])), 6)
      0.287682
    """
    terms = jnp.stack([jnp.sum(categorical_kl(q, z)) for z, q in zip(logits, qre_logits, strict=True)])
    w = jnp.ones_like(terms) if weights is None else jnp.asarray(weights, terms.dtype)
    return jnp.sum(w * terms)


def l1_to_qre(logits: Sequence[jax.Array], qre_logits: Sequence[jax.Array]):
    r""":math:`\max_{i,s}\lVert\pi_i(\cdot|s) - \pi_i^*(\cdot|s)\rVert_1`.

    Examples:
      >>> import jax.numpy as jnp
      >>> round(float(l1_to_qre([jnp.log(jnp.array([[0.25, 0.75]]))], [jnp.zeros((1, 2))])), 12)
      0.5
    """
    return jnp.max(jnp.stack([jnp.max(jnp.sum(jnp.abs(p - q), axis=-1))
                              for p, q in zip(_probs(logits), _probs(qre_logits), strict=True)]))


def log_ratio_error(logits: Sequence[jax.Array], qre_logits: Sequence[jax.Array]):
    r"""Per-player :math:`\max_s\operatorname{osc}(\theta_i(s) - \theta_i^*(s))`, shape ``(N,)``.

    The quantity whose Perron-weighted maximum the mirror certificate proves contracts.

    Examples:
      >>> import jax.numpy as jnp
      >>> log_ratio_error([jnp.array([[1.0, 0.0, 0.5]])], [jnp.zeros((1, 3))]).tolist()
      [1.0]
    """
    return jnp.stack([jnp.max(jnp.ptp(z - q, axis=-1)) for z, q in zip(logits, qre_logits, strict=True)])
