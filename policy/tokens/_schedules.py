r"""OBLR-PO's signal-to-noise learning-rate rule as an optax-compatible gradient transformation.

For stochastic gradients :math:`g_k` with mean :math:`\mu = \mathbb E g` and noise
:math:`\sigma^2 = \mathbb E\lVert g - \mu\rVert^2`, the step along :math:`g` that most decreases a
quadratic model in expectation scales like :math:`\lVert\mu\rVert^2 / \mathbb E\lVert g\rVert^2
= \mathrm{SNR}/(1 + \mathrm{SNR})` with :math:`\mathrm{SNR} = \lVert\mu\rVert^2/\sigma^2`. The
transformation keeps exponential moving averages of :math:`g` and :math:`g^2` (elementwise,
bias-corrected as Adam's), estimates

.. math::

    \widehat{\mathrm{SNR}}_k = \frac{\sum \hat m_k^2}{\sum \max(\hat v_k - \hat m_k^2, 0) + \epsilon},

and multiplies the updates by :math:`\widehat{\mathrm{SNR}}_k / (1 + \widehat{\mathrm{SNR}}_k) \in [0, 1)`;
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
      Gradients that flip sign every step are noise around a zero mean: the moving mean settles
      at :math:`\pm(1-\beta)/(1+\beta) = \pm 1/19`, so :math:`\widehat{\mathrm{SNR}} = (1/19)^2/(1 - 1/19^2) = 1/360`;
      a constant gradient is noise-free (scale 1):

      >>> import jax.numpy as jnp
      >>> t = scale_by_snr(decay=0.9)
      >>> s = t.init(jnp.zeros(1))
      >>> for k in range(100):
      ...     u, s = t.update(jnp.array([(-1.0) ** k]), s)
      >>> round(float(s.snr), 6), round(float(u[0]), 4)
      (0.002778, -0.0028)
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
        signal = sum(jnp.sum(m * m) for m in leaves_m)
        noise = sum(jnp.sum(jnp.maximum(v - m * m, 0.0)) for m, v in zip(leaves_m, leaves_v, strict=True))
        snr = signal / (noise + eps)
        scale = jnp.where(jnp.isfinite(snr), snr / (1.0 + snr), 1.0)
        return tm(lambda g: (scale * g).astype(g.dtype), updates), ScaleBySNRState(count, mean, sq, snr)

    return SNRTransformation(init, update)
