r"""Objectives beyond one batch of per-token policy-gradient terms: AEPO's two batches, pairwise losses.

* AEPO: the loss of the on-policy batch plus :math:`\alpha` times a REINFORCE-style regulariser on a
  second batch sampled at another temperature;
* Contrastive Policy Gradient and RPO (DPO + SFT) on pairs of responses, with sequence log-probs
  :math:`\log\pi(y) = \sum_t m_t \log\pi(y_t)`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from policy._core import _check_mask, _check_rank, _check_same_shape
from policy.tokens._loss import TokenLoss, chain
from policy.tokens._surrogates import PPOClip

sg = jax.lax.stop_gradient


def aepo_loss(
    loss_fn: TokenLoss, *, logp, old_logp, advantages, mask, reg_logp, reg_old_logp, reg_advantages,
    reg_mask, alpha=0.25, eps_low=0.2, eps_high=None, threshold=0.05, **inputs,
):
    r"""Arbitrary-Entropy PO: a loss on the batch plus a REINFORCE regulariser on temperature-:math:`T` samples.

    .. math::

        L = L(\text{batch}) + \alpha\, \operatorname{tokmean}_{i\in K}\big[-\min(r,
            \mathrm{clip}(r, 1-\epsilon_l, 1+\epsilon_h))\big],\qquad
        K = \{i : A^{\rm reg}_i > 0.05\},

    where the regulariser batch was sampled at :math:`T` (:func:`dcpo_temperature` picks
    :math:`T_{\rm high}` when the previous entropy is below target, :math:`T_{\rm low}` otherwise) and
    its log-probs are evaluated at temperature 1; kept sequences get advantage 1. The reference code
    mixes the two batches by *replacing* sequences; an explicit ``alpha`` is our reading of the
    paper's :math:`\alpha`.

    Args:
      loss_fn: the loss of the on-policy batch (AEPO: :func:`grpo` with token-mean).
      logp: ``[batch, seq]`` current log-probs of the batch.
      old_logp: ``[batch, seq]`` behaviour log-probs of the batch.
      advantages: ``[batch]`` or ``[batch, seq]``.
      mask: ``[batch, seq]``.
      reg_logp: ``[batch_reg, seq_reg]`` current log-probs (temperature 1) of the regulariser batch.
      reg_old_logp: ``[batch_reg, seq_reg]`` their behaviour log-probs (temperature 1).
      reg_advantages: ``[batch_reg]`` group-normalised advantages of the regulariser batch.
      reg_mask: ``[batch_reg, seq_reg]``.
      alpha: :math:`\alpha`.
      eps_low: :math:`\epsilon_l` of the regulariser.
      eps_high: :math:`\epsilon_h` (``None``: ``eps_low``).
      threshold: advantage above which a regulariser sequence is kept.
      **inputs: extra inputs of ``loss_fn``.

    Returns:
      ``(loss, metrics)``: ``loss_fn``'s metrics plus ``aepo/reg_loss``, ``aepo/n_reg_seqs``,
      ``aepo/alpha``.

    Examples:
      >>> import jax.numpy as jnp
      >>> from policy.tokens import grpo
      >>> z = jnp.zeros((2, 1))
      >>> loss, met = aepo_loss(grpo(kl_coef=0.0), logp=z, old_logp=z, advantages=jnp.zeros(2), mask=jnp.ones((2, 1)),
      ...                       reg_logp=z, reg_old_logp=z,
      ...                       reg_advantages=jnp.array([1.0, -1.0]), reg_mask=jnp.ones((2, 1)), alpha=0.5)
      >>> float(loss), float(met["aepo/n_reg_seqs"])
      (-0.5, 1.0)

    References:
      `Arbitrary Entropy Policy Optimization <https://arxiv.org/abs/2510.08141>`_, 2025.
    """
    loss, met = loss_fn(logp=logp, old_logp=old_logp, advantages=advantages, mask=mask, **inputs)
    _check_rank("reg_advantages", reg_advantages, 1)
    keep = (sg(jnp.asarray(reg_advantages)) > threshold).astype(jnp.asarray(reg_logp).dtype)
    rm = jnp.asarray(reg_mask, keep.dtype) * keep[:, None]
    reg, _ = chain(PPOClip(eps_low=eps_low, eps_high=eps_high))(logp=reg_logp, old_logp=reg_old_logp,
                                                                advantages=jnp.ones_like(keep), mask=rm)
    met.update({"aepo/reg_loss": sg(reg), "aepo/n_reg_seqs": jnp.sum(keep),
                "aepo/alpha": jnp.asarray(alpha, keep.dtype)})
    return loss + alpha * reg, met


def _seq_logp(logp, mask):
    _check_rank("logp", logp, 2)
    _check_same_shape("logp", logp, "mask", mask)
    _check_mask("mask", mask)
    return jnp.sum(jnp.where(jnp.asarray(mask) > 0, jnp.asarray(logp), 0.0), axis=1)


def contrastive_pg_loss(
    logp, ref_logp, mask, rewards, logp_alt, ref_logp_alt, mask_alt, rewards_alt, *, beta=0.1,
):
    r"""Contrastive Policy Gradient on pairs :math:`(y, y')` from any sampling distribution.

    .. math::

        L = -\operatorname{mean}\Big[(R - R')(\log\pi(y) - \log\pi(y'))
            - \tfrac{\beta}{2}\big(\log\tfrac{\pi(y)}{\pi_{\rm ref}(y)}
            - \log\tfrac{\pi(y')}{\pi_{\rm ref}(y')}\big)^2\Big],

    whose gradient is :math:`-\mathbb{E}[(R_\beta(y) - R_\beta(y'))(\nabla\log\pi(y) -
    \nabla\log\pi(y'))]` with :math:`R_\beta = R - \beta\log(\pi/\pi_{\rm ref})`. The overall
    constant factor relative to the paper is our choice.

    Args:
      logp: ``[batch, seq]`` log-probs of :math:`y`.
      ref_logp: ``[batch, seq]`` reference log-probs of :math:`y`.
      mask: ``[batch, seq]`` mask of :math:`y`.
      rewards: ``[batch]``.
      logp_alt: ``[batch, seq']`` log-probs of :math:`y'`.
      ref_logp_alt: ``[batch, seq']`` reference log-probs of :math:`y'`.
      mask_alt: ``[batch, seq']`` mask of :math:`y'`.
      rewards_alt: ``[batch]``.
      beta: KL strength :math:`\beta`.

    Returns:
      ``(loss, metrics)``.

    Examples:
      >>> import jax.numpy as jnp
      >>> o = jnp.ones((1, 1))
      >>> loss, _ = contrastive_pg_loss(-o, -o, o, jnp.ones(1), -2 * o, -2 * o, o, jnp.zeros(1))
      >>> float(loss)
      -1.0

    References:
      Flet-Berliac et al., `Contrastive Policy Gradient: Aligning LLMs on sequence-level scores in
      a supervised-friendly fashion <https://arxiv.org/abs/2406.19185>`_, 2024.
    """
    lp, lpa = _seq_logp(logp, mask), _seq_logp(logp_alt, mask_alt)
    rf, rfa = _seq_logp(ref_logp, mask), _seq_logp(ref_logp_alt, mask_alt)
    dr = sg(jnp.asarray(rewards) - jnp.asarray(rewards_alt))
    delta = (lp - sg(rf)) - (lpa - sg(rfa))
    obj = dr * (lp - lpa) - 0.5 * beta * delta**2
    met = {"cpg/reward_gap": jnp.mean(dr), "cpg/log_ratio_gap": sg(jnp.mean(delta))}
    return -jnp.mean(obj), met


def rpo_loss(
    chosen_logp, rejected_logp, ref_chosen_logp, ref_rejected_logp, chosen_mask, rejected_mask,
    *, beta=0.1, eta=1.0, length_normalize=False,
):
    r"""RPO: DPO plus an SFT (negative log-likelihood) term on the chosen responses.

    .. math::

        L = \operatorname{mean}\Big[-\log\sigma\big(\beta[(\log\pi - \log\pi_{\rm ref})(y_w)
            - (\log\pi - \log\pi_{\rm ref})(y_l)]\big) - \eta\,\log\pi(y_w)\Big].

    ``length_normalize`` divides :math:`\log\pi(y_w)` in the SFT term by :math:`|y_w|` (our
    option; the paper's SFT term is the unnormalised log-likelihood scaled by :math:`\eta`).

    Examples:
      >>> import jax.numpy as jnp
      >>> o = jnp.ones((1, 1))
      >>> loss, met = rpo_loss(-o, -o, -o, -o, o, o, eta=0.0)
      >>> round(float(loss), 6)  # log 2
      0.693147

    References:
      Liu et al., `Provably Mitigating Overoptimization in RLHF: Your SFT Loss is Implicitly an
      Adversarial Regularizer <https://arxiv.org/abs/2405.16436>`_, 2024.
    """
    lw, ll = _seq_logp(chosen_logp, chosen_mask), _seq_logp(rejected_logp, rejected_mask)
    rw, rl = _seq_logp(ref_chosen_logp, chosen_mask), _seq_logp(ref_rejected_logp, rejected_mask)
    margin = beta * ((lw - sg(rw)) - (ll - sg(rl)))
    dpo = -jax.nn.log_sigmoid(margin)
    nw = jnp.sum(jnp.asarray(chosen_mask), axis=1)
    sft = -lw / jnp.where(nw > 0, nw, 1.0) if length_normalize else -lw
    loss = jnp.mean(dpo + eta * sft)
    met = {"rpo/dpo": sg(jnp.mean(dpo)), "rpo/sft": sg(jnp.mean(sft)),
           "rpo/reward_acc": jnp.mean((margin > 0).astype(loss.dtype))}
    return loss, met
