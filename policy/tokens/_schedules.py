r"""OBLR-PO's signal-to-noise learning-rate rule as an optax-compatible gradient transformation.

For stochastic gradients :math:`g_k` with mean :math:`\mu = \mathbb E g` and noise
:math:`\sigma^2 = \mathbb E\lVert g - \mu\rVert^2`, the step along :math:`g` that most decreases a
quadratic model in expectation scales like :math:`\lVert\mu\rVert^2 / \mathbb E\lVert g\rVert^2
= \mathrm{SNR}/(1 + \mathrm{SNR})` with :math:`\mathrm{SNR} = \lVert\mu\rVert^2/\sigma^2`. The
transformation keeps exponential moving averages of :math:`g` and :math:`g^2` (elementwise,
bias-corrected as Adam's: :math:`\hat m_k = \sum_j w_j g_j` with weights
:math:`w_j = (1-\beta)\beta^{k-j}/(1-\beta^k)` summing to 1) and estimates

.. math::

    \hat\sigma^2_k = \frac{\sum (\hat v_k - \hat m_k^2)}{1 - S_k},\qquad
    \widehat{\lVert\mu\rVert^2_k} = \sum \hat m_k^2 - S_k\,\hat\sigma^2_k,\qquad
    \widehat{\mathrm{SNR}}_k = \frac{\max(\widehat{\lVert\mu\rVert^2_k}, 0)}{\hat\sigma^2_k + \epsilon},

with :math:`S_k = \sum_j w_j^2 = \frac{(1-\beta)(1+\beta^k)}{(1+\beta)(1-\beta^k)}`. For gradients
with independent noise both corrected sums are unbiased: :math:`\mathbb E\sum \hat m^2 =
\lVert\mu\rVert^2 + S_k\sigma^2` and :math:`\mathbb E\sum(\hat v - \hat m^2) = (1 - S_k)\sigma^2`.
The uncorrected ratio :math:`\sum\hat m^2/\sum(\hat v - \hat m^2)` has a floor of
:math:`S/(1-S) = (1-\beta)/(2\beta) \approx 1/18` on pure noise (:math:`\beta = 0.9`) and read a true
SNR of 0.083 as 0.146; the corrected estimate is within a few percent of the truth on such
synthetic gradients (``tests/policy/test_token_schedules.py``), and is 0 on pure noise up to its
sampling error (it is a ratio of unbiased estimates, not itself unbiased). The first step
(:math:`S_1 = 1`) has no noise estimate: scale 1. The transformation multiplies the updates by
:math:`\widehat{\mathrm{SNR}}_k / (1 + \widehat{\mathrm{SNR}}_k) \in [0, 1)`;
chained before ``optax.sgd(lr)`` / ``optax.adam(lr)`` the learning rate becomes
:math:`\eta_k = \eta\,\widehat{\mathrm{SNR}}_k/(1+\widehat{\mathrm{SNR}}_k)`, proportional to the SNR
when it is small. The paper's exact estimator was not available (code not public); this
saturating form and the moving-average estimate are our reading of "learning rate governed by
the gradient SNR".

The transformation is a ``(init, update)`` pair with optax's signatures, usable in ``optax.chain``,
without importing optax here (``import policy`` stays free of it).

References:
  `OBLR-PO: optimal baseline and learning rate for policy optimization
  <https://arxiv.org/abs/2511.23310>`_, 2025 (our reading from the abstract).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp


class ScaleBySNRState(NamedTuple):
    """State of :func:`scale_by_snr`.

    Attributes:
      count: number of updates seen.
      mean: moving average of the gradients (a pytree like the parameters).
      sq_mean: moving average of the squared gradients.
      snr: the last SNR estimate (``inf`` before the noise is measurable).

    Examples:
      >>> import jax.numpy as jnp
      >>> scale_by_snr().init({"w": jnp.zeros(2)}).count.tolist()
      0
    """

    count: jax.Array
    mean: Any
    sq_mean: Any
    snr: jax.Array


class SNRTransformation(NamedTuple):
    """An optax-style gradient transformation: ``init(params)`` and ``update(updates, state, params)``.

    Examples:
      >>> t = scale_by_snr()
      >>> callable(t.init), callable(t.update)
      (True, True)
    """

    init: Callable
    update: Callable


def scale_by_snr(*, decay: float = 0.9, eps: float = 1e-12) -> SNRTransformation:
    r"""Scales updates by :math:`\widehat{\mathrm{SNR}}/(1+\widehat{\mathrm{SNR}})` (OBLR-PO's learning-rate rule).

    Args:
      decay: moving-average factor :math:`\beta \in [0, 1)` of the gradient statistics.
      eps: added to the noise estimate.

    Returns:
      An optax-compatible ``(init, update)`` pair; the state's ``snr`` is the last estimate.

    Raises:
      ValueError: for ``decay`` outside ``[0, 1)`` or ``eps <= 0``.

    Examples:
      Gradients that flip sign every step have zero mean: the moving mean settles at
      :math:`\pm(1-\beta)/(1+\beta) = \pm 1/19`, whose square :math:`1/361` is below the noise share
      :math:`S\hat\sigma^2 = 20/361`, so the estimate is 0 (the uncorrected ratio gave 1/360); a
      constant gradient is noise-free (scale 1):

      >>> import jax.numpy as jnp
      >>> t = scale_by_snr(decay=0.9)
      >>> s = t.init(jnp.zeros(1))
      >>> for k in range(100):
      ...     u, s = t.update(jnp.array([(-1.0) ** k]), s)
      >>> float(s.snr), abs(float(u[0]))
      (0.0, 0.0)
      >>> s = t.init(jnp.zeros(1))
      >>> for k in range(3):
      ...     u, s = t.update(jnp.array([2.0]), s)
      >>> round(float(u[0]), 4)
      2.0

    References:
      `OBLR-PO <https://arxiv.org/abs/2511.23310>`_, 2025 (our reading from the abstract).
    """
    if not 0.0 <= decay < 1.0:
        raise ValueError(f"expected decay in [0, 1), got {decay}")
    if not eps > 0:
        raise ValueError(f"expected eps > 0, got {eps}")

    def init(params):
        zeros = jax.tree_util.tree_map(jnp.zeros_like, params)
        return ScaleBySNRState(jnp.zeros((), jnp.int32), zeros, zeros, jnp.asarray(jnp.inf))

    def update(updates, state, params=None):
        del params
        tm = jax.tree_util.tree_map
        count = state.count + 1
        mean = tm(lambda m, g: decay * m + (1.0 - decay) * g, state.mean, updates)
        sq = tm(lambda v, g: decay * v + (1.0 - decay) * g * g, state.sq_mean, updates)
        bc = 1.0 - decay ** count.astype(jnp.result_type(float))
        leaves_m = jax.tree_util.tree_leaves(tm(lambda m: m / bc, mean))
        leaves_v = jax.tree_util.tree_leaves(tm(lambda v: v / bc, sq))
        beta_k = decay ** count.astype(jnp.result_type(float))
        s_k = (1.0 - decay) * (1.0 + beta_k) / ((1.0 + decay) * bc)  # sum of the squared weights
        spread = sum(jnp.sum(jnp.maximum(v - m * m, 0.0)) for m, v in zip(leaves_m, leaves_v, strict=True))
        first = s_k >= 1.0 - 1e-12  # one sample (or decay 0): no noise estimate
        noise = spread / jnp.where(first, 1.0, 1.0 - s_k)
        signal = jnp.maximum(sum(jnp.sum(m * m) for m in leaves_m) - s_k * noise, 0.0)
        snr = jnp.where(first, jnp.inf, signal / (noise + eps))
        scale = jnp.where(jnp.isfinite(snr), snr / (1.0 + snr), 1.0)
        return tm(lambda g: (scale * g).astype(g.dtype), updates), ScaleBySNRState(count, mean, sq, snr)

    return SNRTransformation(init, update)
