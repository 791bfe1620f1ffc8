r"""Loss aggregation over a ``[batch, seq]`` token grid with explicit denominators.

With per-token losses :math:`\ell_{i,t}`, a 0/1 mask :math:`m_{i,t}` and response lengths
:math:`n_i = \sum_t m_{i,t}` the four modes are

.. math::

    \text{token-mean} &= \frac{\sum_{i,t} \ell_{i,t} m_{i,t}}{D_{\rm tok}},
    \qquad D_{\rm tok} = \textstyle\sum_{i,t} m_{i,t} \text{ (default)}\\
    \text{seq-mean-token-mean} &= \frac{1}{D_{\rm seq}} \sum_{i:\,n_i>0}
        \frac{\sum_t \ell_{i,t} m_{i,t}}{n_i + 10^{-8}}\\
    \text{seq-mean-token-sum} &= \frac{1}{D_{\rm seq}} \sum_{i:\,n_i>0} \sum_t \ell_{i,t} m_{i,t}\\
    \text{seq-mean-token-sum-norm} &= \frac{\sum_{i,t} \ell_{i,t} m_{i,t}}{C},
    \qquad C = T \text{ (padded length, default)}

with :math:`D_{\rm seq} = \#\{i : n_i > 0\}` by default: fully masked rows are excluded, never
divided by zero. Passing ``denominator`` (a global token or sequence count across micro-batches or
devices) makes gradient accumulation exact: the sum of the micro-batch losses equals the full-batch
loss.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from policy._core import _check_choice, _check_mask, _check_rank, _check_same_shape, masked_sum

AGG_MODES = ("token-mean", "seq-mean-token-mean", "seq-mean-token-sum", "seq-mean-token-sum-norm")


def aggregate_loss(
    loss,
    mask,
    *,
    mode: str = "token-mean",
    denominator=None,
    constant: float | None = None,
    eps: float = 1e-8,
):
    """Aggregate per-token losses into a scalar (see the module docstring for the formulas).

    Args:
      loss: per-token losses ``[batch, seq]``.
      mask: 0/1 response mask ``[batch, seq]``.
      mode: one of ``"token-mean"``, ``"seq-mean-token-mean"``, ``"seq-mean-token-sum"``,
        ``"seq-mean-token-sum-norm"``.
      denominator: optional explicit denominator: the (global) number of valid tokens for
        ``token-mean``, the (global) number of non-empty sequences for the ``seq-mean-*`` modes.
        Ignored by ``seq-mean-token-sum-norm`` (use ``constant``).
      constant: :math:`C` of ``seq-mean-token-sum-norm``; defaults to the padded length ``seq``.
        TRL's ``dr_grpo`` is ``constant = batch * max_completion_length``.
      eps: the :math:`10^{-8}` added to :math:`n_i` in ``seq-mean-token-mean`` (verl).

    Returns:
      Scalar loss; 0 when the mask is empty.

    Raises:
      ValueError: on unknown mode, shape mismatch, non-2D input or a non-0/1 concrete mask.

    Examples:
      >>> import jax.numpy as jnp
      >>> l = jnp.array([[-1.0, -1.0, 0.0], [1.0, 0.0, 0.0]])
      >>> m = jnp.array([[1.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
      >>> float(aggregate_loss(l, m, mode="token-mean"))
      -1.0
      >>> float(aggregate_loss(l, m, mode="seq-mean-token-sum"))
      -2.0
    """
    _check_choice("mode", mode, AGG_MODES)
    _check_rank("loss", loss, 2)
    _check_same_shape("loss", loss, "mask", mask)
    _check_mask("mask", mask)
    loss = jnp.asarray(loss)
    mask = jnp.asarray(mask, dtype=loss.dtype)
    if mode == "token-mean":
        total = masked_sum(loss, mask)
        den = jnp.sum(mask) if denominator is None else jnp.asarray(denominator, loss.dtype)
        return jnp.where(den > 0, total / jnp.where(den > 0, den, 1.0), 0.0)
    if mode == "seq-mean-token-sum-norm":
        c = float(np.shape(loss)[1]) if constant is None else constant
        return masked_sum(loss, mask) / c
    n_i = jnp.sum(mask, axis=1)
    row = masked_sum(loss, mask, axis=1)
    if mode == "seq-mean-token-mean":
        row = row / (n_i + eps)
    valid = n_i > 0
    den = jnp.sum(valid) if denominator is None else jnp.asarray(denominator, loss.dtype)
    total = jnp.sum(jnp.where(valid, row, 0.0))
    return jnp.where(den > 0, total / jnp.where(den > 0, den, 1.0), 0.0)
