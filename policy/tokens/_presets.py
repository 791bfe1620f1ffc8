r"""Named presets: each method of the literature as a :class:`TokenLoss` built from parts.

Every preset returns ``chain(...)`` of the parts listed in its docstring with the method's
defaults; call the result as ``loss_fn(logp=logp, old_logp=old_logp, advantages=advantages, mask=mask, **inputs)``. The
advantages (GRPO, Dr. GRPO, RLOO, ... of :mod:`policy.tokens`) are the caller's, computed once per
rollout. One name per meaning across presets: ``eps_low``/``eps_high`` are PPO's clip bounds,
``kl_coef`` the reference-KL weight (and only that), ``fraction`` a fraction of tokens selected,
``coef`` the weight of the preset's own regulariser.
"""

from __future__ import annotations

from policy.tokens._loss import TokenLoss, chain
from policy.tokens._parts import (
    EMPG,
    ClipCov,
    D3STokens,
    DCPOMix,
    DSDRLocalEntropy,
    EntropyAware,
    EntropyBonus,
    EntropyDiscriminatorClip,
    EPOSmoothing,
    HAPOAdvantages,
    KLCov,
    LpReg,
    ReferenceKL,
    SirenAnchor,
    Steer,
)
from policy.tokens._surrogates import (
    COPOBlend,
    GradientPreservingClip,
    GSPOClip,
    HAPOClip,
    NoClip,
    PPOClip,
    UnifiedPG,
)


def grpo(*, eps_low=0.2, eps_high=None, kl_coef=0.04, kl_estimator="k3",
         aggregation="seq-mean-token-mean") -> TokenLoss:
    r"""GRPO: PPO clip, :math:`k_3` KL to a reference, sequence-mean of token-means.

    .. math::

        L = \frac{1}{G}\sum_i \frac{1}{|o_i|}\sum_t \Big[-\min(r A_i,
            \mathrm{clip}(r, 1-\epsilon, 1+\epsilon) A_i) + \beta\,k_3\Big].

    Parts: :class:`PPOClip`, :class:`ReferenceKL` (input ``ref_logp``; omitted when ``kl_coef=0``).
    Advantages: :func:`grpo_advantages`.

    Examples:
      >>> import jax.numpy as jnp
      >>> loss, _ = grpo(kl_coef=0.0)(logp=jnp.zeros((2, 1)), old_logp=jnp.zeros((2, 1)), advantages=jnp.array([1.0,
      ...                                                                                                       -1.0]),
      ...                             mask=jnp.ones((2, 1)))
      >>> float(loss)
      0.0

    References:
      Shao et al., `DeepSeekMath: Pushing the Limits of Mathematical Reasoning in Open Language
      Models <https://arxiv.org/abs/2402.03300>`_, 2024.
    """
    parts = [PPOClip(eps_low=eps_low, eps_high=eps_high)]
    if kl_coef:
        parts.append(ReferenceKL(coef=kl_coef, estimator=kl_estimator))
    return chain(*parts, aggregation=aggregation)


def dapo(*, eps_low=0.2, eps_high=0.28, dual_clip=None) -> TokenLoss:
    r"""DAPO: clip-higher (:math:`\epsilon_l = 0.2, \epsilon_h = 0.28`), token-mean, no KL.

    Pass ``denominator`` = the number of valid tokens of the *whole* batch when it is split in
    micro-batches, so the micro-batch losses sum to the batch loss. Pair with
    :func:`dapo_dynamic_sampling_mask` and :func:`dapo_overlong_penalty`.

    Examples:
      >>> import jax.numpy as jnp
      >>> loss, met = dapo()(logp=jnp.log(jnp.array([[1.5]])), old_logp=jnp.zeros((1, 1)), advantages=jnp.ones(1),
      ...                    mask=jnp.ones((1, 1)))
      >>> round(float(loss), 4), float(met["clip_ratio/high_mean"])
      (-1.28, 1.0)

    References:
      Yu et al., `DAPO: An Open-Source LLM Reinforcement Learning System at Scale
      <https://arxiv.org/abs/2503.14476>`_, 2025.
    """
    return chain(PPOClip(eps_low=eps_low, eps_high=eps_high, dual_clip=dual_clip))


def dr_grpo(*, eps_low=0.2, eps_high=None, constant=None) -> TokenLoss:
    r"""Dr. GRPO: PPO clip with the constant-normalised token sum :math:`\sum \ell m / C`.

    Use :func:`dr_grpo_advantages` (no std). ``constant`` defaults to the padded length (verl); set
    it to a fixed generation budget so it does not change between batches (TRL's ``dr_grpo`` is
    ``batch * max_completion_length``).

    Examples:
      >>> import jax.numpy as jnp
      >>> loss, _ = dr_grpo()(logp=jnp.zeros((1, 4)), old_logp=jnp.zeros((1, 4)), advantages=jnp.ones(1),
      ...                     mask=jnp.array([[1.0, 1.0, 0.0, 0.0]]))
      >>> float(loss)  # -2 / 4
      -0.5

    References:
      Liu et al., `Understanding R1-Zero-Like Training: A Critical Perspective
      <https://arxiv.org/abs/2503.20783>`_, 2025.
    """
    return chain(PPOClip(eps_low=eps_low, eps_high=eps_high), aggregation="seq-mean-token-sum-norm",
                 constant=constant)


def ppo_entropy_bonus(*, coef=1e-3, eps_low=0.2, eps_high=None, aggregation="token-mean") -> TokenLoss:
    r"""PPO with an entropy bonus :math:`-c\,\operatorname{Agg}(H)` (input ``entropy``).

    ``coef=None`` reads the coefficient from the input ``entropy_coef`` (e.g. Skywork-OR1's adaptive
    coefficient of :func:`adaptive_entropy_update`). Add :class:`TopEntropy` with :func:`chain` for
    TRL's 80/20 variant (the bonus then covers the same tokens).

    Examples:
      >>> import jax.numpy as jnp
      >>> loss, _ = ppo_entropy_bonus(coef=0.1)(logp=jnp.zeros((1, 2)), old_logp=jnp.zeros((1, 2)),
      ...                                       advantages=jnp.zeros(1),
      ...                                       mask=jnp.ones((1, 2)), entropy=jnp.array([[1.0, 3.0]]))
      >>> round(float(loss), 6)
      -0.2

    References:
      He et al., `Skywork Open Reasoner 1 <https://arxiv.org/abs/2505.22312>`_, 2025.
    """
    return chain(PPOClip(eps_low=eps_low, eps_high=eps_high), EntropyBonus(coef=coef),
                 aggregation=aggregation)


def clip_cov(*, fraction=2e-4, cov_low=1.0, cov_high=5.0, eps_low=0.2, eps_high=0.2,
             detach_value=False) -> TokenLoss:
    r"""Clip-Cov: PPO with the gradient of a random subset of moderate-covariance tokens cut (input ``key``).

    Parts: :class:`ClipCov`, :class:`PPOClip` (no dual clip), token-mean. Defaults are the paper's
    and verl's (:math:`\rho = 2\times10^{-4}`, window (1, 5)); the paper's 7B recipe also sets
    ``eps_low = eps_high = 1``.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> lp = jnp.array([[0.0, -4.0, -4.0, 0.0]])
      >>> loss, met = clip_cov(fraction=0.25)(logp=lp, old_logp=lp, advantages=jnp.array([[1.0, -1.0, 1.0, -1.0]]),
      ...                                     mask=jnp.ones((1, 4)),
      ...                                     key=jax.random.key(0))
      >>> float(met["clip_cov/n_selected"]), float(met["pg_clipfrac"])
      (1.0, 0.0)

    References:
      Cui et al., `The Entropy Mechanism of Reinforcement Learning for Reasoning Language Models
      <https://arxiv.org/abs/2505.22617>`_, 2025.
    """
    return chain(ClipCov(fraction=fraction, cov_low=cov_low, cov_high=cov_high, eps_low=eps_low,
                         eps_high=eps_high, detach_value=detach_value),
                 PPOClip(eps_low=eps_low, eps_high=eps_high))


def kl_cov(*, fraction=2e-4, coef=1.0) -> TokenLoss:
    r"""KL-Cov: unclipped :math:`-Ar` plus :math:`\beta|\log\pi - \log\pi_{\rm old}|` on the top-covariance tokens.

    Parts: :class:`NoClip`, :class:`KLCov`, token-mean. ``coef``: paper 1, verl default 0.1;
    ``fraction``: verl 2e-4, the paper's 7B recipe 2e-3.

    Examples:
      >>> import jax.numpy as jnp
      >>> lp = jnp.array([[0.0, -2.0]])
      >>> loss, met = kl_cov(fraction=0.5)(logp=lp, old_logp=lp - 0.5, advantages=jnp.array([[1.0, -1.0]]),
      ...                                  mask=jnp.ones((1, 2)))
      >>> round(float(loss), 4), float(met["kl_cov/n_selected"])
      (0.25, 1.0)

    References:
      Cui et al., `The Entropy Mechanism of Reinforcement Learning for Reasoning Language Models
      <https://arxiv.org/abs/2505.22617>`_, 2025.
    """
    return chain(NoClip(), KLCov(fraction=fraction, coef=coef))


def siren(*, coef=0.005, eps_low=0.28, eps_high=None, quantile=0.8, constant=None) -> TokenLoss:
    r"""SIREN: PPO with Dr. GRPO aggregation plus the self-anchored top-p peak-entropy regulariser.

    Parts: :class:`PPOClip`, :class:`SirenAnchor` (inputs ``topp_entropy``, ``entropy_anchor``);
    aggregation ``seq-mean-token-sum-norm``.

    Examples:
      >>> import jax.numpy as jnp
      >>> h = jnp.array([[0.1, 0.2, 0.3, 0.4, 2.0]])
      >>> loss, met = siren(coef=1.0)(logp=jnp.zeros((1, 5)), old_logp=jnp.zeros((1, 5)), advantages=jnp.zeros(1),
      ...                             mask=jnp.ones((1, 5)),
      ...                             topp_entropy=h, entropy_anchor=1.0)
      >>> round(float(loss), 6)
      1.0

    References:
      `Rethinking Entropy Regularization in Large Reasoning Models
      <https://arxiv.org/abs/2509.25133>`_, 2025.
    """
    return chain(PPOClip(eps_low=eps_low, eps_high=eps_high), SirenAnchor(coef=coef, quantile=quantile),
                 aggregation="seq-mean-token-sum-norm", constant=constant)


def lp_reg(*, neg_fraction=0.01, pos_fraction=0.0, coef=1.0, eps_low=0.2, eps_high=0.28) -> TokenLoss:
    r"""Lp-Reg: PPO plus a :math:`k_3` pull toward a min-p proxy on low-probability tokens (input ``proxy_logp``).

    Parts: :class:`LpReg`, :class:`PPOClip`, token-mean.

    Examples:
      >>> import jax.numpy as jnp
      >>> lp = jnp.log(jnp.array([[0.1, 0.2, 0.5, 0.9]]))
      >>> px = jnp.log(jnp.array([[0.2, 0.3, 0.6, 0.95]]))
      >>> _, met = lp_reg(neg_fraction=0.5)(logp=lp, old_logp=lp, advantages=-jnp.ones(1), mask=jnp.ones((1, 4)),
      ...                                   proxy_logp=px)
      >>> float(met["lp_reg/n_selected"])
      2.0

    References:
      `Low-probability Tokens Sustain Exploration in Reinforcement Learning with Verifiable Reward
      <https://arxiv.org/abs/2510.03222>`_, 2025.
    """
    return chain(LpReg(neg_fraction=neg_fraction, pos_fraction=pos_fraction, coef=coef),
                 PPOClip(eps_low=eps_low, eps_high=eps_high))


def steer(*, mode="linear", lam_min=0.8, lam_max=1.2, eps_low=0.2, eps_high=0.28, dual_clip=10.0,
          aggregation="token-mean") -> TokenLoss:
    r"""STEER: dual-clip PPO reweighted by the first-order entropy change (input ``entropy``).

    Parts: :class:`Steer`, :class:`PPOClip`.

    Examples:
      >>> import jax.numpy as jnp
      >>> lp = jnp.log(jnp.array([[0.5, 0.5]]))
      >>> loss, _ = steer()(logp=lp, old_logp=lp, advantages=jnp.array([[1.0, 0.0]]), mask=jnp.ones((1, 2)),
      ...                   entropy=jnp.ones((1, 2)))
      >>> round(float(loss), 4)
      -0.4

    References:
      `Rethinking Entropy Interventions in RLVR: An Entropy Change Perspective
      <https://arxiv.org/abs/2510.10150>`_, 2025.
    """
    return chain(Steer(mode=mode, lam_min=lam_min, lam_max=lam_max),
                 PPOClip(eps_low=eps_low, eps_high=eps_high, dual_clip=dual_clip), aggregation=aggregation)


def hapo(*, pivot=0.8, alpha=1.0, beta=1.0, eps_low=0.2, eps_high=0.2, dual_clip=10.0,
         faithful_sign=False) -> TokenLoss:
    r"""HAPO: entropy-adaptive asymmetric clipping and advantage redistribution (input ``entropy``).

    Parts: :class:`HAPOAdvantages`, :class:`HAPOClip`, token-mean. Advantages:
    :func:`hapo_token_advantages`; sampling temperature: :func:`hapo_temperature`.

    Examples:
      >>> import jax.numpy as jnp
      >>> loss, _ = hapo(pivot=0.5)(logp=jnp.zeros((1, 3)), old_logp=jnp.zeros((1, 3)), advantages=jnp.ones(1),
      ...                           mask=jnp.ones((1, 3)),
      ...                           entropy=jnp.array([[0.1, 1.0, 10.0]]))
      >>> round(float(loss), 4)  # r = 1 inside the band: A(1 + h) for h <= 0 -> (0, 1, 1)
      -0.6667

    References:
      Liu et al., `From Uniform to Heterogeneous: Tailoring Policy Optimization to Every Token's
      Nature <https://arxiv.org/abs/2509.16591>`_, 2025.
    """
    return chain(HAPOAdvantages(pivot=pivot, beta=beta, eps_low=eps_low, eps_high=eps_high,
                                faithful_sign=faithful_sign),
                 HAPOClip(pivot=pivot, alpha=alpha, eps_low=eps_low, eps_high=eps_high, dual_clip=dual_clip,
                          faithful_sign=faithful_sign))


def dcpo(*, target=0.5, eps_low=0.2, eps_high=None, dual_clip=3.0) -> TokenLoss:
    r"""DCPO: dual-clip PPO on the double-importance-sampling mixed advantage.

    Parts: :class:`DCPOMix` (inputs ``rewards``, ``old_logp_temp``, ``entropy_prev``), :class:`PPOClip`,
    token-mean.

    Examples:
      >>> import jax.numpy as jnp
      >>> z = jnp.zeros((2, 1))
      >>> loss, met = dcpo()(logp=z, old_logp=z, advantages=jnp.array([1.0, -1.0]), mask=jnp.ones((2, 1)),
      ...                    rewards=jnp.array([1.0, 0.0]),
      ...                    old_logp_temp=z, entropy_prev=0.4)
      >>> round(float(met["dcpo/alpha"]), 4), round(float(loss), 4)
      (0.1667, -0.0833)

    References:
      `Distribution-Centric Policy Optimization`, github.com/597358816/DCPO (our reading of the
      trainer code).
    """
    return chain(DCPOMix(target=target), PPOClip(eps_low=eps_low, eps_high=eps_high, dual_clip=dual_clip))


def empg(*, num_steps: int, k=1.0, k_future=1.0, zeta=0.1, eps_low=0.2, eps_high=None) -> TokenLoss:
    r"""EMPG: PPO on entropy-modulated step advantages (inputs ``entropy``, ``step_ids``).

    Parts: :class:`EMPG`, :class:`PPOClip`, token-mean.

    Examples:
      >>> import jax.numpy as jnp
      >>> loss, _ = empg(num_steps=2, zeta=0.0)(logp=jnp.zeros((1, 2)), old_logp=jnp.zeros((1, 2)),
      ...                                       advantages=jnp.array([1.0]),
      ...     mask=jnp.ones((1, 2)), entropy=jnp.array([[0.0, 1.0]]), step_ids=jnp.array([[0, 1]]))
      >>> round(float(loss), 4)
      -1.0

    References:
      Wang et al., `Harnessing Uncertainty: Entropy-Modulated Policy Gradients for Long-Horizon
      LLM Agents <https://arxiv.org/abs/2509.09265>`_, 2025.
    """
    return chain(EMPG(num_steps=num_steps, k=k, k_future=k_future, zeta=zeta),
                 PPOClip(eps_low=eps_low, eps_high=eps_high))


def agentic_ebpo(*, alpha=0.5, eps_low=0.2, eps_high=0.28) -> TokenLoss:
    r"""Agentic entropy-balanced PO: entropy-aware advantages and gradient-preserving high clip.

    Parts: :class:`EntropyAware` (input ``entropy``), :class:`GradientPreservingClip`, token-mean.
    Rollout-side pieces (entropy pre-monitoring, branch penalties) are not loss terms.

    Examples:
      >>> import jax.numpy as jnp
      >>> loss, _ = agentic_ebpo()(logp=jnp.zeros((1, 3)), old_logp=jnp.zeros((1, 3)), advantages=jnp.ones(1),
      ...                          mask=jnp.ones((1, 3)),
      ...                          entropy=jnp.array([[1.0, 2.0, 0.0]]))
      >>> float(loss)  # -(1 + 1.5 + 0.5) / 3
      -1.0

    References:
      Dong et al., `Agentic Entropy-Balanced Policy Optimization
      <https://arxiv.org/abs/2510.14545>`_, 2025.
    """
    return chain(EntropyAware(alpha=alpha), GradientPreservingClip(eps_low=eps_low, eps_high=eps_high))


def d3s(*, keep_fraction=0.2, eps_low=0.2, eps_high=None) -> TokenLoss:
    r"""D³S: PPO on the tokens with the largest :math:`|A|H` (input ``entropy``).

    Parts: :class:`D3STokens`, :class:`PPOClip`, token-mean. The sample level
    (:func:`d3s_select_samples`) multiplies ``mask``; the schedule of ``keep_fraction`` is the
    caller's (our reading of the abstract).

    Examples:
      >>> import jax.numpy as jnp
      >>> loss, _ = d3s(keep_fraction=0.5)(logp=jnp.zeros((1, 2)), old_logp=jnp.zeros((1, 2)), advantages=jnp.ones(1),
      ...                                  mask=jnp.ones((1, 2)),
      ...                                  entropy=jnp.array([[1.0, 0.5]]))
      >>> float(loss)
      -0.5

    References:
      `Learning More with Less: A Dynamic Dual-Level Down-Sampling Framework for Efficient Policy
      Optimization <https://arxiv.org/abs/2509.22115>`_, 2025.
    """
    return chain(D3STokens(keep_fraction=keep_fraction), PPOClip(eps_low=eps_low, eps_high=eps_high))


def entropy_discriminator_clip(*, threshold=2.0, eps_low=0.2, eps_high=None) -> TokenLoss:
    r"""PPO with the tokens predicted to collapse entropy excluded (input ``discriminator``).

    Parts: :class:`EntropyDiscriminatorClip`, :class:`PPOClip`, token-mean.

    Examples:
      >>> import jax.numpy as jnp
      >>> loss, _ = entropy_discriminator_clip(threshold=1.5)(logp=jnp.zeros((1, 4)), old_logp=jnp.zeros((1, 4)),
      ...                                                     advantages=jnp.ones(1),
      ...     mask=jnp.ones((1, 4)), discriminator=jnp.array([[0.0, 0.0, 0.0, 1.0]]))
      >>> float(loss)
      -0.75

    References:
      `On the Entropy Dynamics in Reinforcement Fine-Tuning of Large Language Models
      <https://arxiv.org/abs/2602.03392>`_, 2026.
    """
    return chain(EntropyDiscriminatorClip(threshold=threshold), PPOClip(eps_low=eps_low, eps_high=eps_high))


def copo(*, k=5.0, b=1.0, weight_mode="soft", eps=0.2, aggregation="seq-mean-token-mean") -> TokenLoss:
    r"""COPO: blend of the global (cross-prompt) and local (GRPO) PPO losses.

    Parts: :class:`COPOBlend` (inputs ``adv_global``, ``answer_entropy``; ``rewards`` for
    ``"soft_zero"``). Advantages: :func:`grpo_advantages` (local), :func:`copo_global_advantages`.

    Examples:
      >>> import jax.numpy as jnp
      >>> z = jnp.zeros((2, 1))
      >>> loss, _ = copo()(logp=z, old_logp=z, advantages=jnp.array([1.0, -1.0]), mask=jnp.ones((2, 1)),
      ...                  adv_global=jnp.zeros(2),
      ...                  answer_entropy=jnp.array([1.0, 1.0]))
      >>> float(loss)
      0.0

    References:
      Han et al., `Consistency-Aware Policy Optimization <https://arxiv.org/abs/2508.04138>`_, 2025.
    """
    return chain(COPOBlend(k=k, b=b, weight_mode=weight_mode, eps=eps), aggregation=aggregation)


def epo(*, entropy_coef=0.01, smooth_coef=1.0, kappa_low=0.9, kappa_high=1.1, eps_low=0.2,
        eps_high=None) -> TokenLoss:
    r"""EPO: PPO, an entropy bonus and the entropy-smoothing penalty (inputs ``entropy``, ``entropy_hist``).

    .. math:: L = L_{\rm PPO} - \beta_k\,\bar H + \lambda\, L_{\rm smooth}(\bar H, \bar H_{\rm hist}).

    Parts: :class:`PPOClip`, :class:`EntropyBonus` (``entropy_coef``; ``None`` reads the input
    ``entropy_coef``, e.g. :func:`epo_phase_weight`), :class:`EPOSmoothing`, token-mean.

    Examples:
      >>> import jax.numpy as jnp
      >>> loss, _ = epo(entropy_coef=0.0)(logp=jnp.zeros((1, 2)), old_logp=jnp.zeros((1, 2)), advantages=jnp.zeros(1),
      ...                                 mask=jnp.ones((1, 2)),
      ...                                 entropy=jnp.full((1, 2), 2.0), entropy_hist=1.0)
      >>> round(float(loss), 4)  # 2 - 1.1
      0.9

    References:
      Xu et al., `EPO: Entropy-regularized Policy Optimization for LLM Agents Reinforcement
      Learning <https://arxiv.org/abs/2509.22576>`_, 2025.
    """
    return chain(PPOClip(eps_low=eps_low, eps_high=eps_high), EntropyBonus(coef=entropy_coef),
                 EPOSmoothing(coef=smooth_coef, kappa_low=kappa_low, kappa_high=kappa_high))


def dsdr(*, num_groups: int, ent_coef=0.01, tau=1.0, eps_low=0.2, eps_high=None) -> TokenLoss:
    r"""DSDR: PPO (seq-mean-token-mean) with the local diversity-allocated entropy bonus (our reading).

    Parts: :class:`PPOClip`, :class:`DSDRLocalEntropy` (inputs ``entropy``, ``rewards``, ``tokens``,
    ``group_ids``). Advantages: :func:`dsdr_advantages` (the global scale).

    Examples:
      >>> import jax.numpy as jnp
      >>> loss, _ = dsdr(num_groups=1, ent_coef=0.5)(logp=jnp.zeros((2, 2)), old_logp=jnp.zeros((2, 2)),
      ...                                            advantages=jnp.zeros(2),
      ...     mask=jnp.ones((2, 2)), entropy=jnp.ones((2, 2)), rewards=jnp.array([1.0, 1.0]),
      ...     tokens=jnp.array([[1, 2], [1, 3]]), group_ids=jnp.zeros(2, int))
      >>> float(loss)
      -0.5

    References:
      `Dual-Scale Diversity Regularization for RLVR <https://arxiv.org/abs/2602.19895>`_, 2026.
    """
    return chain(PPOClip(eps_low=eps_low, eps_high=eps_high),
                 DSDRLocalEntropy(coef=ent_coef, num_groups=num_groups, tau=tau),
                 aggregation="seq-mean-token-mean")


def empo(*, eps_low=3e-4, eps_high=4e-4, aggregation="seq-mean-token-mean") -> TokenLoss:
    r"""EMPO: the sequence-level (GSPO) clipped loss on label-free semantic-cluster rewards.

    Parts: :class:`GSPOClip`. Rewards: :func:`empo_cluster_rewards`, then :func:`grpo_advantages`;
    the prompt filter: :func:`empo_confidence_mask` (multiply ``mask``). Defaults from EMPO's recipe
    (clip 3e-4 / 4e-4). The aggregation is ``seq-mean-token-mean`` as EMPO's code runs it: its
    recipe says ``loss_agg_mode=token-mean``, but verl's ``gspo`` policy loss (which EMPO uses)
    averages over sequences whatever ``loss_agg_mode`` says; pass ``aggregation="token-mean"`` for
    the configured reading.

    Examples:
      >>> import jax.numpy as jnp
      >>> loss, met = empo()(logp=jnp.zeros((2, 2)), old_logp=jnp.zeros((2, 2)), advantages=jnp.array([1.0, -1.0]),
      ...                    mask=jnp.ones((2, 2)))
      >>> float(loss), float(met["ratio/mean"])
      (0.0, 1.0)

    References:
      Zhang et al., `Right Question is Already Half the Answer: Fully Unsupervised LLM Reasoning
      Incentivization <https://arxiv.org/abs/2504.05812>`_, 2025.
    """
    return chain(GSPOClip(eps_low=eps_low, eps_high=eps_high), aggregation=aggregation)


def hpt(*, entropy_coef=1e-3, sft_coef=1.0, constant=None) -> TokenLoss:
    r"""HPT: per prompt SFT on a demonstration or unclipped RL, normalised as HPT's code does (input ``sft_mask``).

    .. math::

        L = \frac{1}{T_{\max}}\sum_{i \in {\rm RL}}\sum_t -A_i r_{i,t} m_{i,t}
            + c_{\rm sft}\,\frac{\sum_{i \in {\rm SFT}}\sum_t -\log\pi_{i,t}\,
                                 m_{i,t}}{\sum_{i\in{\rm SFT}}\sum_t m_{i,t}}
            - c_H\,\frac{\sum_{i,t} H_{i,t} m_{i,t}}{\sum_{i,t} m_{i,t}}:

    the RL rows with HPT's ``loss_remove_token_mean`` (:math:`\sum \ell m / T_{\max}`, ``constant`` =
    :math:`T_{\max}`, default the padded length), the SFT term a token mean over the SFT tokens
    (``sft_loss_coef`` = 1), the entropy bonus a token mean over all tokens (``entropy_coeff`` =
    1e-3; ``0`` drops it). Each term is normalised over the tokens of the call, as in HPT's actor.
    Parts: :class:`UnifiedPG` (reference :math:`\pi_{\rm old}`, no clip, ``sft_token_mean``),
    :class:`EntropyBonus` (``aggregation="token-mean"``). Gate: :func:`hpt_gate`; advantages:
    :func:`dr_grpo_advantages` (HPT's ``grpo_use_std=False``).

    Examples:
      One RL row (:math:`A = 1`, on-policy) and one SFT row (:math:`\log\pi = -2` per token):

      >>> import jax.numpy as jnp
      >>> lp = jnp.array([[0.0, 0.0], [-2.0, -2.0]])
      >>> loss, _ = hpt(entropy_coef=0.0)(logp=lp, old_logp=lp, advantages=jnp.array([1.0, 0.0]),
      ...                                 mask=jnp.ones((2, 2)), sft_mask=jnp.array([0.0, 1.0]))
      >>> float(loss)  # (-1 - 1) / 2 + (2 + 2) / 2
      1.0

    References:
      Lv et al., `Towards a Unified View of Large Language Model Post-Training
      <https://arxiv.org/abs/2509.04419>`_, 2025; code: TsinghuaC3I/Unify-Post-Training
      (``hpt/verl/verl/mix_src``).
    """
    parts = [UnifiedPG(reference="old", eps=None, sft_token_mean=True, sft_coef=sft_coef)]
    if entropy_coef:
        parts.append(EntropyBonus(coef=entropy_coef, aggregation="token-mean"))
    return chain(*parts, aggregation="seq-mean-token-sum-norm", constant=constant)
