r"""Advantage transforms, token weights and penalties: the non-surrogate parts of a token loss.

Each part is a frozen, hashable configuration; the arrays it needs arrive as keyword inputs of the
loss call (``requires`` names them). Per-token penalties are aggregated by the loss's own
aggregation (:class:`policy.tokens.Context` ``.aggregate``), so they share its mode, mask and
global denominator with the surrogate term.

* advantage transforms: :class:`EntropyAware`, :class:`EMPG`, :class:`DCPOMix`,
  :class:`HAPOAdvantages`;
* token weights: :class:`ClipCov`, :class:`TopEntropy`, :class:`Steer`, :class:`D3STokens`,
  :class:`EntropyDiscriminatorClip`;
* penalties: :class:`ReferenceKL`, :class:`EntropyBonus`, :class:`KLCov`, :class:`LpReg` (which also
  removes the surrogate on its tokens), :class:`SirenAnchor`, :class:`EPOSmoothing`,
  :class:`DSDRLocalEntropy`.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import jax
import jax.numpy as jnp

from policy._core import KL_KINDS, _check_choice, _check_fraction, importance_ratio, kl_estimate, masked_mean
from policy.tokens import _advantages as adv_lib
from policy.tokens import _selection as sel_lib
from policy.tokens._aggregation import AGG_MODES, aggregate_loss
from policy.tokens._loss import Context, Part
from policy.tokens._regularizers import epo_smoothing_penalty, siren_anchor_penalty

sg = jax.lax.stop_gradient


def _entropy(ctx: Context) -> jax.Array:
    return jnp.asarray(ctx.inputs["entropy"], ctx.logp.dtype)


def _n_selected(sel, ctx):
    return jnp.sum(sel * ctx.mask)


# ----------------------------------------------------------------------------------------------
# Advantage transforms
# ----------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class EntropyAware(Part):
    r"""Agentic entropy-balanced advantages :math:`A(1 + \alpha\,\widehat{\Delta H})`.

    See :func:`entropy_aware_advantages` (input ``entropy``).

    Attributes:
      alpha: :math:`\alpha`.

    Examples:
      >>> import jax.numpy as jnp
      >>> from policy.tokens import NoClip, chain
      >>> loss, met = chain(EntropyAware(alpha=0.5), NoClip())(logp=jnp.zeros((1, 3)), old_logp=jnp.zeros((1, 3)),
      ...     advantages=jnp.ones(1), mask=jnp.ones((1, 3)), entropy=jnp.array([[1.0, 2.0, 0.0]]))
      >>> float(loss), float(met["adv/mean"])  # advantages (1, 1.5, 0.5)
      (-1.0, 1.0)
    """

    requires: ClassVar[tuple[str, ...]] = ("entropy",)
    alpha: float = 0.5

    def advantages(self, ctx):
        """Scaled advantages."""
        return adv_lib.entropy_aware_advantages(ctx.advantages, _entropy(ctx), ctx.mask,
                                                alpha=self.alpha), {}


@dataclasses.dataclass(frozen=True)
class EMPG(Part):
    r"""EMPG entropy-modulated step advantages (:func:`empg_modulate_advantages`).

    Inputs: ``entropy`` (old policy) and ``step_ids`` (``[batch, seq]`` ints in ``[0, num_steps)``).

    Attributes:
      num_steps: static maximum number of agent steps.
      k: :math:`k`.
      k_future: :math:`k_f`.
      zeta: :math:`\zeta`.

    Examples:
      >>> import jax.numpy as jnp
      >>> from policy.tokens import NoClip, chain
      >>> loss, _ = chain(EMPG(num_steps=2, zeta=0.0), NoClip())(logp=jnp.zeros((1, 2)), old_logp=jnp.zeros((1, 2)),
      ...     advantages=jnp.ones(1), mask=jnp.ones((1, 2)), entropy=jnp.array([[0.0, 1.0]]), step_ids=jnp.array([[0,
      ...                                                                                                          1]]))
      >>> round(float(loss), 4)  # -(1.4621 + 0.5379) / 2
      -1.0
    """

    requires: ClassVar[tuple[str, ...]] = ("entropy", "step_ids")
    num_steps: int = 1
    k: float = 1.0
    k_future: float = 1.0
    zeta: float = 0.1

    def advantages(self, ctx):
        """Modulated advantages."""
        return adv_lib.empg_modulate_advantages(
            ctx.advantages, _entropy(ctx), ctx.inputs["step_ids"], ctx.mask, num_steps=self.num_steps,
            k=self.k, k_future=self.k_future, zeta=self.zeta), {}


@dataclasses.dataclass(frozen=True)
class DCPOMix(Part):
    r"""DCPO's double importance-sampling advantage mix (:func:`dcpo_mix_advantages`).

    Inputs: ``rewards`` (``[batch]``), ``old_logp_temp`` (old log-probs at the temperature of
    :func:`dcpo_temperature`) and ``entropy_prev`` (the previous step's entropy). Metric
    ``dcpo/alpha``.

    Attributes:
      target: entropy target :math:`H_0`.
      correct_threshold: reward above which a response counts as correct.
      max_gap: cap on :math:`|H_0 - H_{\rm prev}|`.

    Examples:
      >>> import jax.numpy as jnp
      >>> from policy.tokens import NoClip, chain
      >>> z = jnp.zeros((2, 1))
      >>> _, met = chain(DCPOMix(), NoClip())(logp=z, old_logp=z, advantages=jnp.array([1.0, -1.0]), mask=jnp.ones((2,
      ...                                                                                                           1)),
      ...     rewards=jnp.array([1.0, 0.0]), old_logp_temp=z, entropy_prev=0.4)
      >>> round(float(met["dcpo/alpha"]), 4)  # a = 0.1 / 0.5, alpha = a / (1 + a)
      0.1667
    """

    requires: ClassVar[tuple[str, ...]] = ("rewards", "old_logp_temp", "entropy_prev")
    target: float = 0.5
    correct_threshold: float = 0.05
    max_gap: float = 0.1

    def advantages(self, ctx):
        """Mixed advantages."""
        a, alpha = adv_lib.dcpo_mix_advantages(
            ctx.advantages, ctx.inputs["rewards"], ctx.inputs["old_logp_temp"], ctx.old_logp, ctx.mask,
            entropy_prev=ctx.inputs["entropy_prev"], target=self.target,
            correct_threshold=self.correct_threshold, max_gap=self.max_gap)
        return a, {"dcpo/alpha": sg(alpha)}


@dataclasses.dataclass(frozen=True)
class HAPOAdvantages(Part):
    r"""HAPO's differential advantage redistribution (:func:`hapo_redistribute_advantages`).

    Uses :math:`\hat h` of :func:`hapo_normalized_entropy` (input ``entropy``) and the importance ratio.

    Attributes:
      pivot: entropy quantile of the normalisation.
      beta: :math:`\beta`.
      eps_low: :math:`\epsilon_l` of the band.
      eps_high: :math:`\epsilon_h` of the band.
      faithful_sign: reproduce the reference code's sign flip.

    Examples:
      >>> import jax.numpy as jnp
      >>> from policy.tokens import NoClip, chain
      >>> loss, _ = chain(HAPOAdvantages(pivot=0.5), NoClip())(logp=jnp.zeros((1, 3)), old_logp=jnp.zeros((1, 3)),
      ...     advantages=jnp.ones(1), mask=jnp.ones((1, 3)), entropy=jnp.array([[0.1, 1.0, 10.0]]))
      >>> round(float(loss), 4)  # r = 1 inside the band: A(1 + h) for h <= 0 -> (0, 1, 1)
      -0.6667
    """

    requires: ClassVar[tuple[str, ...]] = ("entropy",)
    pivot: float = 0.8
    beta: float = 1.0
    eps_low: float = 0.2
    eps_high: float = 0.2
    faithful_sign: bool = False

    def advantages(self, ctx):
        """Redistributed advantages."""
        h = adv_lib.hapo_normalized_entropy(_entropy(ctx), ctx.mask, pivot=self.pivot,
                                            faithful_sign=self.faithful_sign)
        r = jnp.exp(sg(ctx.logp - ctx.old_logp))
        return adv_lib.hapo_redistribute_advantages(ctx.advantages, r, h, eps_low=self.eps_low,
                                                    eps_high=self.eps_high, beta=self.beta), {}


# ----------------------------------------------------------------------------------------------
# Token weights
# ----------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ClipCov(Part):
    r"""Clip-Cov: cut the gradient of a random subset of moderate-covariance tokens (input ``key``).

    The subset is :func:`clip_cov_mask` (global over the batch): :math:`\max(\lfloor\rho N\rfloor, 1)`
    valid tokens with covariance in ``(cov_low, cov_high)`` that PPO at ``eps_low``/``eps_high`` did
    not clip. verl multiplies their loss by 0 (value and gradient); ``detach_value=True`` keeps the
    value and stops only the gradient (the paper's pseudo-code). Metrics ``clip_cov/n_selected`` and
    ``clip_cov/frac_selected`` (what verl's ``clip_cov`` reports as ``pg_clipfrac``).

    Micro-batches: the covariance, the count :math:`\lfloor\rho N\rfloor` and the random subset
    are properties of the whole batch, so a per-call selection differs from the batch's. Compute
    ``keep, _ = clip_cov_mask(...)`` once on the whole batch and pass each micro-batch its rows as
    the input ``clip_cov_keep`` (then ``key`` is not needed); with a global ``denominator`` the
    micro-batch losses and gradients then sum to the batch's.

    Attributes:
      fraction: :math:`\rho` (verl's ``clip_cov_ratio``; paper 2e-4).
      cov_low: lower bound of the covariance window (paper 1).
      cov_high: upper bound (paper 5).
      eps_low: PPO :math:`\epsilon_l` of the surrogate (tokens it clips are not candidates).
      eps_high: PPO :math:`\epsilon_h` of the surrogate.
      detach_value: keep the selected tokens' loss value.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> from policy.tokens import PPOClip, chain
      >>> lp = jnp.array([[0.0, -4.0, -4.0, 0.0]])
      >>> loss, met = chain(ClipCov(fraction=0.25), PPOClip())(logp=lp, old_logp=lp,
      ...                                                      advantages=jnp.array([[1.0, -1.0, 1.0, -1.0]]),
      ...                                                      mask=jnp.ones((1, 4)), key=jax.random.key(0))
      >>> float(met["clip_cov/n_selected"]), float(met["clip_cov/frac_selected"])
      (1.0, 0.25)

    References:
      Cui et al., `The Entropy Mechanism of Reinforcement Learning for Reasoning Language Models
      <https://arxiv.org/abs/2505.22617>`_, 2025.
    """

    optional: ClassVar[tuple[str, ...]] = ("key", "clip_cov_keep")
    fraction: float = 2e-4
    cov_low: float = 1.0
    cov_high: float = 5.0
    eps_low: float = 0.2
    eps_high: float = 0.2
    detach_value: bool = False

    def __post_init__(self):
        _check_fraction("fraction", self.fraction)

    def weights(self, ctx):
        """0 on the cut tokens, 1 elsewhere (input ``clip_cov_keep``, or selected here with ``key``)."""
        keep = ctx.inputs.get("clip_cov_keep")
        if keep is not None:
            keep = sg(jnp.asarray(keep, ctx.logp.dtype))
            sel = (1.0 - keep) * ctx.mask
            return keep, {"clip_cov/n_selected": jnp.sum(sel), "clip_cov/frac_selected": masked_mean(sel, ctx.mask)}
        if ctx.inputs.get("key") is None:
            raise ValueError("expected input key (or a batch-level clip_cov_keep) for ClipCov, got neither")
        keep, _ = sel_lib.clip_cov_mask(logp=ctx.logp, old_logp=ctx.old_logp, advantages=ctx.advantages, mask=ctx.mask,
                                        key=ctx.inputs["key"], fraction=self.fraction,
                                        cov_low=self.cov_low, cov_high=self.cov_high,
                                        eps_low=self.eps_low, eps_high=self.eps_high)
        sel = (1.0 - keep) * ctx.mask
        return keep, {"clip_cov/n_selected": jnp.sum(sel), "clip_cov/frac_selected": masked_mean(sel, ctx.mask)}

    def apply_weights(self, pg, w):
        """Zero (verl) or detach (``detach_value``) the cut tokens."""
        return jnp.where(w > 0, pg, sg(pg)) if self.detach_value else w * pg


@dataclasses.dataclass(frozen=True)
class TopEntropy(Part):
    r"""80/20 rule: train only on the valid tokens with :math:`H \ge q_{1-\rho}(H)` (:func:`top_entropy_mask`).

    The quantile is global over the batch's valid tokens (input ``entropy``). The surrogate term
    keeps the loss's denominator (all valid tokens), as TRL does.

    Attributes:
      keep_fraction: :math:`\rho` in ``(0, 1]``.

    Examples:
      >>> import jax.numpy as jnp
      >>> from policy.tokens import PPOClip, chain
      >>> loss, met = chain(TopEntropy(keep_fraction=0.5), PPOClip())(logp=jnp.zeros((1, 4)), old_logp=jnp.zeros((1,
      ...                                                                                                         4)),
      ...     advantages=jnp.ones(1), mask=jnp.ones((1, 4)), entropy=jnp.array([[0.1, 0.9, 0.5, 2.0]]))
      >>> float(loss), float(met["top_entropy/n_selected"])
      (-0.5, 2.0)

    References:
      Wang et al., `Beyond the 80/20 Rule: High-Entropy Minority Tokens Drive Effective RL for LLM
      Reasoning <https://arxiv.org/abs/2506.01939>`_, 2025.
    """

    requires: ClassVar[tuple[str, ...]] = ("entropy",)
    keep_fraction: float = 0.2

    def __post_init__(self):
        _check_fraction("keep_fraction", self.keep_fraction, closed_low=False)

    def weights(self, ctx):
        """The 0/1 top-entropy mask."""
        sel = sel_lib.top_entropy_mask(_entropy(ctx), ctx.mask, keep_fraction=self.keep_fraction)
        return sel, {"top_entropy/n_selected": _n_selected(sel, ctx)}


@dataclasses.dataclass(frozen=True)
class Steer(Part):
    r"""STEER token weights from the first-order entropy change of each token (:func:`steer_weights`).

    Attributes:
      mode: ``"linear"`` or ``"exp"``.
      lam_min: :math:`\lambda_{\min}`.
      lam_max: :math:`\lambda_{\max}`.

    Examples:
      >>> import jax.numpy as jnp
      >>> from policy.tokens import PPOClip, chain
      >>> lp = jnp.log(jnp.array([[0.5, 0.5]]))
      >>> loss, met = chain(Steer(), PPOClip())(logp=lp, old_logp=lp, advantages=jnp.array([[1.0, 0.0]]),
      ...                                       mask=jnp.ones((1, 2)),
      ...                                     entropy=jnp.ones((1, 2)))
      >>> round(float(loss), 4), round(float(met["token_weight/min"]), 4)
      (-0.4, 0.8)

    References:
      `Rethinking Entropy Interventions in RLVR: An Entropy Change Perspective
      <https://arxiv.org/abs/2510.10150>`_, 2025.
    """

    requires: ClassVar[tuple[str, ...]] = ("entropy",)
    mode: str = "linear"
    lam_min: float = 0.8
    lam_max: float = 1.2

    def __post_init__(self):
        _check_choice("mode", self.mode, ("linear", "exp"))

    def weights(self, ctx):
        """STEER weights."""
        return sel_lib.steer_weights(logp=ctx.logp, old_logp=ctx.old_logp, advantages=ctx.advantages,
                                     entropy=_entropy(ctx), mask=ctx.mask,
                                     mode=self.mode, lam_min=self.lam_min, lam_max=self.lam_max), {}


@dataclasses.dataclass(frozen=True)
class D3STokens(Part):
    r"""D³S token down-sampling: train on the top fraction of valid tokens by :math:`|A|H` (:func:`d3s_token_mask`).

    D³S's sample down-sampling (:func:`d3s_select_samples`) is a data step: multiply the loss's
    ``mask`` by the kept samples.

    Attributes:
      keep_fraction: fraction of valid tokens kept.

    Examples:
      >>> import jax.numpy as jnp
      >>> from policy.tokens import PPOClip, chain
      >>> loss, met = chain(D3STokens(keep_fraction=0.5), PPOClip())(logp=jnp.zeros((1, 2)), old_logp=jnp.zeros((1, 2)),
      ...     advantages=jnp.ones(1), mask=jnp.ones((1, 2)), entropy=jnp.array([[1.0, 0.5]]))
      >>> float(loss), float(met["d3s/n_selected"])
      (-0.5, 1.0)

    References:
      `Learning More with Less: A Dynamic Dual-Level Down-Sampling Framework for Efficient Policy
      Optimization <https://arxiv.org/abs/2509.22115>`_, 2025.
    """

    requires: ClassVar[tuple[str, ...]] = ("entropy",)
    keep_fraction: float = 0.2

    def __post_init__(self):
        _check_fraction("keep_fraction", self.keep_fraction, closed_low=False)

    def weights(self, ctx):
        """The 0/1 token selection."""
        sel = sel_lib.d3s_token_mask(ctx.advantages, _entropy(ctx), ctx.mask, keep_fraction=self.keep_fraction)
        return sel, {"d3s/n_selected": _n_selected(sel, ctx)}


@dataclasses.dataclass(frozen=True)
class EntropyDiscriminatorClip(Part):
    r"""Exclude the tokens predicted to collapse entropy (:func:`entropy_discriminator_mask`; our reading).

    Input ``discriminator``: the centred discriminator of :func:`entropy_discriminator`.

    Attributes:
      threshold: standardised score above which a token is dropped.

    Examples:
      >>> import jax.numpy as jnp
      >>> from policy.tokens import PPOClip, chain
      >>> loss, met = chain(EntropyDiscriminatorClip(threshold=1.5), PPOClip())(logp=jnp.zeros((1, 4)),
      ...     old_logp=jnp.zeros((1, 4)), advantages=jnp.ones(1), mask=jnp.ones((1, 4)),
      ...     discriminator=jnp.array([[0.0, 0.0, 0.0, 1.0]]))
      >>> float(loss), float(met["entropy_discriminator/n_dropped"])
      (-0.75, 1.0)

    References:
      `On the Entropy Dynamics in Reinforcement Fine-Tuning of Large Language Models
      <https://arxiv.org/abs/2602.03392>`_, 2026.
    """

    requires: ClassVar[tuple[str, ...]] = ("discriminator",)
    threshold: float = 2.0

    def weights(self, ctx):
        """The keep-mask."""
        keep = sel_lib.entropy_discriminator_mask(ctx.inputs["discriminator"], ctx.advantages, ctx.mask,
                                                  threshold=self.threshold)
        return keep, {"entropy_discriminator/n_dropped": _n_selected(1.0 - keep, ctx)}


# ----------------------------------------------------------------------------------------------
# Penalties
# ----------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ReferenceKL(Part):
    r"""KL penalty to a reference policy, :math:`+\beta\,\operatorname{Agg}(k(\log\pi, \log\pi_{\rm ref}))`.

    Input ``ref_logp``; estimator of :func:`kl_estimate` (``"k3"``: GRPO's). Metrics ``kl_loss``
    (the aggregated estimate, without :math:`\beta`) and ``kl_coef``, as verl.

    Attributes:
      coef: :math:`\beta` (GRPO paper 0.04; verl examples 0.001).
      estimator: ``"k1"``, ``"abs"``, ``"k2"``, ``"k3"`` or ``"k3+"``.

    Examples:
      >>> import jax.numpy as jnp
      >>> from policy.tokens import PPOClip, chain
      >>> loss, met = chain(PPOClip(), ReferenceKL(coef=0.5))(logp=jnp.zeros((1, 1)), old_logp=jnp.zeros((1, 1)),
      ...     advantages=jnp.zeros(1), mask=jnp.ones((1, 1)), ref_logp=jnp.log(jnp.array([[0.5]])))
      >>> round(float(met["kl_loss"]), 5), round(float(loss), 5)  # k3 = 1/2 - 1 + log 2
      (0.19315, 0.09657)
    """

    requires: ClassVar[tuple[str, ...]] = ("ref_logp",)
    coef: float = 0.04
    estimator: str = "k3"

    def __post_init__(self):
        _check_choice("estimator", self.estimator, KL_KINDS)

    def penalty(self, ctx):
        r""":math:`\beta` times the aggregated estimate."""
        ref = sg(jnp.asarray(ctx.inputs["ref_logp"], ctx.logp.dtype))
        kl = ctx.aggregate(kl_estimate(ctx.logp, ref, kind=self.estimator))
        return self.coef * kl, {"kl_loss": sg(kl), "kl_coef": jnp.asarray(self.coef, kl.dtype)}


@dataclasses.dataclass(frozen=True)
class EntropyBonus(Part):
    r"""Entropy bonus :math:`-c\,\operatorname{Agg}(H\,\mathbb 1[w > 0])`, aggregated like the surrogate.

    Input ``entropy`` (differentiable, computed from the logits at the sampling temperature). The
    bonus covers the surrogate's token set (tokens with a positive weight, e.g. the 80/20 mask) and
    is aggregated by the loss's aggregation with its denominator, so a global ``denominator``
    counts it once over all micro-batches. ``coef=None`` reads the coefficient from the input
    ``entropy_coef`` (e.g. the adaptive coefficient of :func:`adaptive_entropy_update`, a traced
    scalar). Metrics ``entropy_agg`` (the aggregated entropy) and ``entropy_coef``.

    ``aggregation`` set (e.g. ``"token-mean"``, HPT's code) aggregates the bonus in that mode over
    the call's own tokens, whatever the loss's aggregation (no global denominator).

    Attributes:
      coef: :math:`c`, or ``None`` for the input ``entropy_coef``.
      aggregation: ``None`` (the loss's aggregation) or a mode of :func:`aggregate_loss`.

    Examples:
      >>> import jax.numpy as jnp
      >>> from policy.tokens import PPOClip, chain
      >>> loss, met = chain(PPOClip(), EntropyBonus(coef=0.1))(logp=jnp.zeros((1, 2)), old_logp=jnp.zeros((1, 2)),
      ...     advantages=jnp.zeros(1), mask=jnp.ones((1, 2)), entropy=jnp.array([[1.0, 3.0]]))
      >>> round(float(loss), 6), float(met["entropy_agg"])
      (-0.2, 2.0)

    References:
      Williams & Peng, `Function optimization using connectionist reinforcement learning algorithms
      <https://doi.org/10.1080/09540099108946587>`_, 1991. He et al., `Skywork Open Reasoner 1
      <https://arxiv.org/abs/2505.22312>`_, 2025 (adaptive coefficient).
    """

    requires: ClassVar[tuple[str, ...]] = ("entropy",)
    optional: ClassVar[tuple[str, ...]] = ("entropy_coef",)
    coef: float | None = 1e-3
    aggregation: str | None = None

    def __post_init__(self):
        if self.aggregation is not None:
            _check_choice("aggregation", self.aggregation, AGG_MODES)

    def penalty(self, ctx):
        """:math:`-c` times the aggregated entropy."""
        coef = self.coef
        if coef is None:
            coef = ctx.inputs.get("entropy_coef")
            if coef is None:
                raise ValueError("expected input entropy_coef for EntropyBonus(coef=None), got none")
        h = _entropy(ctx) * (ctx.weights > 0)
        if self.aggregation is None:
            h = ctx.aggregate(h)
        else:
            h = aggregate_loss(h, ctx.mask, mode=self.aggregation)
        coef = jnp.asarray(coef, h.dtype)
        return -coef * h, {"entropy_agg": sg(h), "entropy_coef": sg(coef)}


@dataclasses.dataclass(frozen=True)
class KLCov(Part):
    r"""KL-Cov: :math:`+\beta\,\operatorname{Agg}(s\,|\log\pi - \log\pi_{\rm old}|)` on the top-covariance tokens.

    :math:`s` is :func:`kl_cov_mask`, the global top :math:`\max(\lfloor kN\rfloor, 1)` valid tokens by
    covariance. The penalty and its gradient vanish on-policy (:math:`\pi = \pi_{\rm old}`); it acts
    from the second minibatch update of a rollout on. Metrics ``kl_cov/penalty`` (the aggregated
    :math:`s|\Delta|`), ``kl_cov/coef``, ``kl_cov/n_selected``.

    Micro-batches: the top-:math:`K` set is a property of the whole batch. Compute
    ``sel, _ = kl_cov_mask(...)`` once on the whole batch and pass each micro-batch its rows as the
    input ``kl_cov_selected``; with a global ``denominator`` the micro-batch losses and gradients
    then sum to the batch's.

    Attributes:
      fraction: :math:`k` (verl's ``kl_cov_ratio``, a fraction; the paper's ``k_percent`` 0.2 is 2e-3).
      coef: :math:`\beta` (paper 1, verl default 0.1).

    Examples:
      >>> import jax.numpy as jnp
      >>> from policy.tokens import NoClip, chain
      >>> lp = jnp.array([[0.0, -2.0]])
      >>> loss, met = chain(NoClip(), KLCov(fraction=0.5, coef=1.0))(logp=lp, old_logp=lp - 0.5,
      ...     advantages=jnp.array([[1.0, -1.0]]), mask=jnp.ones((1, 2)))
      >>> round(float(loss), 4)  # (-e^0.5 + e^0.5 + 0.5) / 2
      0.25

    References:
      Cui et al., `The Entropy Mechanism of Reinforcement Learning for Reasoning Language Models
      <https://arxiv.org/abs/2505.22617>`_, 2025.
    """

    optional: ClassVar[tuple[str, ...]] = ("kl_cov_selected",)
    fraction: float = 2e-4
    coef: float = 1.0

    def __post_init__(self):
        _check_fraction("fraction", self.fraction)

    def penalty(self, ctx):
        """The aggregated penalty (selection: input ``kl_cov_selected``, or made here)."""
        sel = ctx.inputs.get("kl_cov_selected")
        if sel is None:
            sel, _ = sel_lib.kl_cov_mask(ctx.logp, ctx.advantages, ctx.mask, fraction=self.fraction)
        sel = sg(jnp.asarray(sel, ctx.logp.dtype))
        d = ctx.logp - ctx.old_logp
        pen = ctx.aggregate(sel * d * jnp.sign(d))  # |d| with derivative sign(0) = 0 (torch's)
        return self.coef * pen, {"kl_cov/penalty": sg(pen), "kl_cov/coef": jnp.asarray(self.coef, pen.dtype),
                                 "kl_cov/n_selected": _n_selected(sel, ctx)}


@dataclasses.dataclass(frozen=True)
class LpReg(Part):
    r"""Lp-Reg: on its selected tokens, an unclipped PG term plus a :math:`k_3` pull toward a min-p proxy.

    On the tokens of :func:`lp_reg_mask` (input ``proxy_logp`` from :func:`lp_reg_proxy_logp`) the
    surrogate is removed (weight 0) and replaced by
    :math:`-A r + \beta\,k_3(\log\pi, \log\pi_{\rm proxy})`, :math:`k_3 = e^x - x - 1`,
    :math:`x = \log\pi_{\rm proxy} - \log\pi`, aggregated like the surrogate. Metrics
    ``lp_reg/loss`` (that aggregated term) and ``lp_reg/n_selected``.

    Attributes:
      neg_fraction: fraction of the negative-advantage tokens considered (lowest probability first).
      pos_fraction: the same for positive advantages.
      coef: :math:`\beta`.

    Examples:
      >>> import jax.numpy as jnp
      >>> from policy.tokens import PPOClip, chain
      >>> lp = jnp.log(jnp.array([[0.1, 0.2, 0.5, 0.9]]))
      >>> px = jnp.log(jnp.array([[0.2, 0.3, 0.6, 0.95]]))
      >>> loss, met = chain(LpReg(neg_fraction=0.5), PPOClip())(logp=lp, old_logp=lp, advantages=-jnp.ones(1),
      ...                                                       mask=jnp.ones((1, 4)),
      ...                                                       proxy_logp=px)
      >>> float(met["lp_reg/n_selected"])
      2.0

    References:
      `Low-probability Tokens Sustain Exploration in Reinforcement Learning with Verifiable Reward
      <https://arxiv.org/abs/2510.03222>`_, 2025.
    """

    requires: ClassVar[tuple[str, ...]] = ("proxy_logp",)
    neg_fraction: float = 0.01
    pos_fraction: float = 0.0
    coef: float = 1.0

    def _selection(self, ctx):
        return sel_lib.lp_reg_mask(ctx.logp, ctx.inputs["proxy_logp"], ctx.advantages, ctx.mask,
                                   neg_fraction=self.neg_fraction, pos_fraction=self.pos_fraction)

    def weights(self, ctx):
        """0 on the selected tokens (their surrogate is replaced)."""
        sel = self._selection(ctx)
        return 1.0 - sel, {"lp_reg/n_selected": _n_selected(sel, ctx)}

    def penalty(self, ctx):
        """The aggregated replacement term."""
        sel = self._selection(ctx)
        r, _ = importance_ratio(logp=ctx.logp, old_logp=ctx.old_logp, clamp=20.0)
        px = jnp.where(sel > 0, sg(jnp.asarray(ctx.inputs["proxy_logp"], ctx.logp.dtype)), ctx.logp)
        term = ctx.aggregate(sel * (-ctx.advantages * r + self.coef * kl_estimate(ctx.logp, sg(px), kind="k3")))
        return term, {"lp_reg/loss": sg(term)}


@dataclasses.dataclass(frozen=True)
class SirenAnchor(Part):
    r"""SIREN's self-anchored regulariser :math:`c\,(\bar H^{\rm top\text{-}p}_{\rm peak} - H_{\rm anchor})^2`.

    :math:`\bar H_{\rm peak}` is the seq-mean-token-mean of the top-p entropy (input
    ``topp_entropy`` from :func:`siren_top_p_entropy`, differentiable) over each sequence's peak tokens
    (:func:`siren_peak_mask`); input ``entropy_anchor`` is the same statistic measured on the first
    batch and then held fixed. Metrics ``siren/topp_entropy_agg``, ``siren/anchor``,
    ``siren/n_selected``; the loss's ``entropy`` metric stays the full-vocabulary entropy (input
    ``entropy``, optional).

    Attributes:
      coef: :math:`c`.
      quantile: per-sequence entropy quantile above which a token is a peak (0.8: top 20%).

    Examples:
      >>> import jax.numpy as jnp
      >>> from policy.tokens import PPOClip, chain
      >>> h = jnp.array([[0.1, 0.2, 0.3, 0.4, 2.0]])
      >>> loss, met = chain(PPOClip(), SirenAnchor(coef=1.0))(logp=jnp.zeros((1, 5)), old_logp=jnp.zeros((1, 5)),
      ...     advantages=jnp.zeros(1), mask=jnp.ones((1, 5)), topp_entropy=h, entropy_anchor=1.0)
      >>> round(float(met["siren/topp_entropy_agg"]), 6), round(float(loss), 6)
      (2.0, 1.0)

    References:
      `Rethinking Entropy Regularization in Large Reasoning Models
      <https://arxiv.org/abs/2509.25133>`_, 2025.
    """

    requires: ClassVar[tuple[str, ...]] = ("topp_entropy", "entropy_anchor")
    coef: float = 0.005
    quantile: float = 0.8

    def penalty(self, ctx):
        """The anchor penalty."""
        h = jnp.asarray(ctx.inputs["topp_entropy"], ctx.logp.dtype)
        peak = sel_lib.siren_peak_mask(h, ctx.mask, quantile=self.quantile)
        agg = aggregate_loss(h, peak, mode="seq-mean-token-mean")
        anchor = jnp.asarray(ctx.inputs["entropy_anchor"], agg.dtype)
        return siren_anchor_penalty(agg, anchor, coef=self.coef), {
            "siren/topp_entropy_agg": sg(agg), "siren/anchor": sg(anchor), "siren/n_selected": jnp.sum(peak)}


@dataclasses.dataclass(frozen=True)
class EPOSmoothing(Part):
    r"""EPO's entropy-smoothing penalty :math:`\lambda\,L_{\rm smooth}(\bar H, \bar H_{\rm hist})`.

    The penalty is :func:`epo_smoothing_penalty`.
    :math:`\bar H` is the token-mean entropy of the batch (input ``entropy``), input ``entropy_hist``
    the running historical mean. Applying it to the batch mean (not per trajectory) is our reading.
    Metric ``epo/smooth_penalty``.

    Attributes:
      coef: :math:`\lambda`.
      kappa_low: :math:`\kappa_l \le 1`.
      kappa_high: :math:`\kappa_h \ge 1`.

    Examples:
      >>> import jax.numpy as jnp
      >>> from policy.tokens import PPOClip, chain
      >>> loss, met = chain(PPOClip(), EPOSmoothing())(logp=jnp.zeros((1, 2)), old_logp=jnp.zeros((1, 2)),
      ...                                              advantages=jnp.zeros(1),
      ...     mask=jnp.ones((1, 2)), entropy=jnp.full((1, 2), 2.0), entropy_hist=1.0)
      >>> round(float(loss), 4)  # 2 - 1.1
      0.9
    """

    requires: ClassVar[tuple[str, ...]] = ("entropy", "entropy_hist")
    coef: float = 1.0
    kappa_low: float = 0.9
    kappa_high: float = 1.1

    def __post_init__(self):
        if not 0.0 <= self.kappa_low <= 1.0 <= self.kappa_high:
            raise ValueError(f"expected 0 <= kappa_low <= 1 <= kappa_high, got {self.kappa_low}, {self.kappa_high}")

    def penalty(self, ctx):
        """The smoothing penalty on the batch-mean entropy."""
        h_bar = masked_mean(_entropy(ctx), ctx.mask)
        pen = epo_smoothing_penalty(h_bar, ctx.inputs["entropy_hist"], kappa_low=self.kappa_low,
                                    kappa_high=self.kappa_high)
        return self.coef * pen, {"epo/smooth_penalty": sg(pen)}


@dataclasses.dataclass(frozen=True)
class DSDRLocalEntropy(Part):
    r"""DSDR's local regulariser: a length-invariant entropy bonus on correct responses (our reading).

    :math:`-\lambda_\ell \frac1B\sum_{i\ \rm correct} u_i \frac{1}{n_i}\sum_t H_{i,t}` with allocation
    :math:`u_i = n_c\,\mathrm{softmax}_{\rm correct\ in\ group}(d_i/\tau)` (mean 1 over a group's correct
    responses), :math:`d_i` from :func:`dsdr_diversity`. Inputs ``entropy``, ``rewards``, ``tokens``,
    ``group_ids``. A per-sequence statistic with its own normalisation, so it does not use the
    loss's aggregation. Metrics ``dsdr/local_entropy``, ``dsdr/diversity_mean``.

    Attributes:
      coef: :math:`\lambda_\ell`.
      num_groups: static number of groups.
      tau: allocation temperature :math:`\tau`.
      threshold: reward above which a response is correct.

    Examples:
      >>> import jax.numpy as jnp
      >>> from policy.tokens import PPOClip, chain
      >>> loss, _ = chain(PPOClip(), DSDRLocalEntropy(coef=0.5, num_groups=1))(logp=jnp.zeros((2, 2)),
      ...     old_logp=jnp.zeros((2, 2)), advantages=jnp.zeros(2), mask=jnp.ones((2, 2)), entropy=jnp.ones((2, 2)),
      ...     rewards=jnp.array([1.0, 1.0]), tokens=jnp.array([[1, 2], [1, 3]]), group_ids=jnp.zeros(2, int))
      >>> float(loss)  # -0.5 * (1 + 1) / 2
      -0.5

    References:
      `Dual-Scale Diversity Regularization for RLVR <https://arxiv.org/abs/2602.19895>`_, 2026.
    """

    requires: ClassVar[tuple[str, ...]] = ("entropy", "rewards", "tokens", "group_ids")
    coef: float = 0.01
    num_groups: int = 1
    tau: float = 1.0
    threshold: float = 0.5

    def penalty(self, ctx):
        """The allocated entropy bonus."""
        rewards, g = jnp.asarray(ctx.inputs["rewards"]), jnp.asarray(ctx.inputs["group_ids"])
        d = adv_lib.dsdr_diversity(ctx.inputs["tokens"], ctx.mask, rewards, g, num_groups=self.num_groups,
                                   threshold=self.threshold)
        correct = (rewards > self.threshold).astype(ctx.logp.dtype)
        logit = jnp.where(correct > 0, d / self.tau, -jnp.inf)
        mx = jax.ops.segment_max(logit, g, num_segments=self.num_groups)
        e = jnp.where(correct > 0, jnp.exp(logit - jnp.where(jnp.isfinite(mx), mx, 0.0)[g]), 0.0)
        z = jax.ops.segment_sum(e, g, num_segments=self.num_groups)
        nc = jax.ops.segment_sum(correct, g, num_segments=self.num_groups)
        u = jnp.where(correct > 0, nc[g] * e / jnp.where(z > 0, z, 1.0)[g], 0.0)
        n_i = jnp.sum(ctx.mask, axis=1)
        h_seq = jnp.sum(_entropy(ctx) * ctx.mask, axis=1) / jnp.where(n_i > 0, n_i, 1.0)
        local = jnp.sum(sg(u) * h_seq) / h_seq.shape[0]
        return -self.coef * local, {"dsdr/local_entropy": sg(local), "dsdr/diversity_mean": jnp.mean(d)}
