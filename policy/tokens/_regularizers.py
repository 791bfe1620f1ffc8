r"""Scalar regularisers on aggregated entropy statistics and the adaptive entropy controller.

* SIREN self-anchored penalty :math:`c\,(\bar H - H_{\rm anchor})^2`;
* EPO entropy smoothing :math:`\max(0, H - \kappa_h \bar H_{\rm hist}) + \max(0, \kappa_l \bar
  H_{\rm hist} - H)` and a phase weight :math:`\beta_k` interpolated over training;
* the Skywork-OR1 / TRL adaptive entropy coefficient: :math:`c_{k+1} = \mathrm{clip}(c_k \pm \delta,
  c_{\min}, c_{\max})` (+ when the entropy is below target), applied only while
  :math:`H_{\rm prev} \le H_{\rm target}`.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp


class AdaptiveEntropyState(NamedTuple):
    r"""State of the adaptive entropy coefficient: the current coefficient :math:`c_k`.

    Examples:
      >>> float(AdaptiveEntropyState(coef=0.5).coef)
      0.5
    """

    coef: jax.Array


def adaptive_entropy_init(coef=0.0):
    """Initial :class:`AdaptiveEntropyState`.

    Examples:
      >>> float(adaptive_entropy_init(0.01).coef)
      0.01
    """
    return AdaptiveEntropyState(coef=jnp.asarray(coef, dtype=float))


def adaptive_entropy_update(
    state, entropy, *, target=0.2, delta=0.005, coef_min=0.0, coef_max=1.0
):
    r"""Update the adaptive entropy coefficient from the batch entropy of this step.

    .. math::

        c_{k+1} = \mathrm{clip}(c_k + \delta\,\mathrm{sign}(H_{\rm target} - H_k),\,
                  c_{\min}, c_{\max}), \qquad
        c^{\rm eff}_{k+1} = c_{k+1}\,\mathbb{1}[H_k \le H_{\rm target}].

    (:math:`H_k = H_{\rm target}` counts as "below", i.e. :math:`+\delta`.)

    Args:
      state: :class:`AdaptiveEntropyState`.
      entropy: scalar mean token entropy of the current step.
      target: :math:`H_{\rm target}` (nats; Skywork-OR1 / TRL default 0.2).
      delta: step :math:`\delta`.
      coef_min: lower bound.
      coef_max: upper bound.

    Returns:
      ``(new_state, effective_coef)``: the coefficient to use at the next step.

    Examples:
      >>> s = adaptive_entropy_init(0.01)
      >>> s, c = adaptive_entropy_update(s, 0.1)
      >>> round(float(s.coef), 3), round(float(c), 3)
      (0.015, 0.015)
      >>> s, c = adaptive_entropy_update(s, 0.5)
      >>> round(float(s.coef), 3), float(c)
      (0.01, 0.0)

    References:
      He et al., `Skywork Open Reasoner 1 Technical Report <https://arxiv.org/abs/2505.22312>`_,
      2025.
    """
    h = jnp.asarray(entropy)
    c = jnp.clip(state.coef + jnp.where(h <= target, delta, -delta), coef_min, coef_max)
    return AdaptiveEntropyState(coef=c), jnp.where(h <= target, c, 0.0)


def siren_anchor_penalty(entropy_agg, anchor, *, coef=0.005):
    r"""SIREN self-anchored regulariser :math:`c\,(\bar H - H_{\rm anchor})^2`.

    :math:`H_{\rm anchor}` is the same statistic measured once on the first batch and held fixed;
    pass it explicitly (a silent fallback to 0 turns this into entropy minimisation).

    Examples:
      >>> round(float(siren_anchor_penalty(0.6, 0.5, coef=1.0)), 6)
      0.01

    References:
      `Rethinking Entropy Regularization in Large Reasoning Models
      <https://arxiv.org/abs/2509.25133>`_, 2025.
    """
    return coef * (jnp.asarray(entropy_agg) - jax.lax.stop_gradient(jnp.asarray(anchor))) ** 2


def epo_smoothing_penalty(entropy, entropy_hist, *, kappa_low=0.9, kappa_high=1.1):
    r"""EPO entropy-smoothing penalty keeping the entropy in a band around its history.

    .. math::

        L_{\rm smooth} = \max(0, H - \kappa_h \bar H_{\rm hist}) +
                          \max(0, \kappa_l \bar H_{\rm hist} - H).

    The hinge shape and the default :math:`\kappa` are our reading of the paper (no code seen).

    Args:
      entropy: current (differentiable) aggregated entropy, scalar or ``[batch]``.
      entropy_hist: running historical mean :math:`\bar H_{\rm hist}` (treated as a constant).
      kappa_low: :math:`\kappa_l < 1`.
      kappa_high: :math:`\kappa_h > 1`.

    Returns:
      The penalty (shape of ``entropy``).

    Raises:
      ValueError: unless ``0 <= kappa_low <= 1 <= kappa_high``.

    Examples:
      >>> [round(float(epo_smoothing_penalty(h, 1.0)), 3) for h in (0.5, 1.0, 1.5)]
      [0.4, 0.0, 0.4]

    References:
      Xu et al., `EPO: Entropy-regularized Policy Optimization for LLM Agents Reinforcement
      Learning <https://arxiv.org/abs/2509.22576>`_, 2025.
    """
    if not 0.0 <= kappa_low <= 1.0 <= kappa_high:
        raise ValueError(
            f"expected 0 <= kappa_low <= 1 <= kappa_high, got {kappa_low}, {kappa_high}"
        )
    h = jnp.asarray(entropy)
    hb = jax.lax.stop_gradient(jnp.asarray(entropy_hist))
    return jnp.maximum(0.0, h - kappa_high * hb) + jnp.maximum(0.0, kappa_low * hb - h)


def epo_phase_weight(step, *, total_steps: int, start=1.0, end=0.1):
    r"""EPO phase-based weight :math:`\beta_k`: linear from ``start`` to ``end`` over training.

    Our reading: the paper describes a weight that changes with the training phase; we use a
    linear schedule clipped at both ends.

    Examples:
      >>> [round(float(epo_phase_weight(s, total_steps=10)), 3) for s in (0, 5, 20)]
      [1.0, 0.55, 0.1]
    """
    if total_steps < 1:
        raise ValueError(f"expected total_steps >= 1, got {total_steps}")
    frac = jnp.clip(jnp.asarray(step, dtype=float) / total_steps, 0.0, 1.0)
    return start + (end - start) * frac
