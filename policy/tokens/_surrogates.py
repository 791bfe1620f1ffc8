r"""Surrogates (clip rules): the parts turning log-probs and advantages into per-token losses.

With :math:`r = \pi_\theta/\pi_{\rm old}` and advantage :math:`A`:

* :class:`PPOClip` (verl's ``vanilla``): clip-higher and dual clip,
  :math:`c_1 = \max(-A r, -A\,\mathrm{clip}(r, 1-\epsilon_l, 1+\epsilon_h))`,
  :math:`\ell = \min(c_1, -A c)` where :math:`A < 0`, else :math:`c_1`;
* :class:`TRLClip`: :math:`\ell = -\min(\min(r, \delta) A, \mathrm{clip}(r) A)`;
* :class:`GradientPreservingClip`: for :math:`A > 0, r > 1+\epsilon_h`,
  :math:`\ell = -A (1+\epsilon_h)\, r/\mathrm{sg}(r)` (value clipped, gradient kept);
* :class:`NoClip`: :math:`\ell = -A r`;
* :class:`CISPO`: :math:`\ell = -\mathrm{sg}(\min(r, \epsilon_{\max}))\, A \log\pi_\theta`;
* :class:`SAPO`: :math:`\ell = -\sigma(\tau (r - 1))\, (4/\tau)\, A` with :math:`\tau` by the sign of :math:`A`;
* :class:`GSPOClip`: PPO's clip on the *sequence* ratio
  :math:`s_i = \exp(\frac{1}{n_i}\sum_t(\log\pi_\theta - \log\pi_{\rm old}))`, carried per token as
  :math:`s_{i,t} = \mathrm{sg}(s_i)\,\pi_\theta(y_t)/\mathrm{sg}(\pi_\theta(y_t))` (EMPO's loss);
* :class:`UnifiedPG`: the unified policy-gradient estimator
  :math:`\mathbb 1_{\rm stable}\,\hat A\,\nabla\pi_\theta/\pi_{\rm ref}` with
  :math:`\pi_{\rm ref} \in \{\pi_{\rm old}, \pi_\theta, 1\}`, and SFT rows (HPT);
* :class:`HAPOClip`: PPO with HAPO's entropy-adaptive per-token bounds;
* :class:`COPOBlend`: COPO's blend of the PPO losses at the global and the local advantage.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import jax
import jax.numpy as jnp

from policy._core import _check_choice, _check_rank, importance_ratio, masked_mean
from policy.tokens._advantages import (
    broadcast_advantages,
    hapo_adaptive_eps,
    hapo_normalized_entropy,
)
from policy.tokens._loss import ClipInfo, Context, Surrogate

sg = jax.lax.stop_gradient


def _check_eps(eps_low, eps_high):
    for name, e in (("eps_low", eps_low), ("eps_high", eps_high)):
        if e is not None and not e >= 0:
            raise ValueError(f"expected {name} >= 0, got {e}")


def _ppo(adv, r, log_r, eps_low, eps_high, dual_clip):
    """Per-token PPO of verl's ``vanilla`` loss; ``eps_*`` scalars or per-token arrays."""
    p1 = -adv * r
    p2 = -adv * jnp.clip(r, 1.0 - eps_low, 1.0 + eps_high)
    c1 = jnp.maximum(p1, p2)
    loss, dual = c1, jnp.zeros(jnp.shape(r), bool)
    if dual_clip is not None:
        p3 = -adv * dual_clip
        dual = (c1 > p3) & (adv < 0)
        loss = jnp.where(adv < 0, jnp.minimum(p3, c1), c1)
    low = (r < 1.0 - eps_low) & (adv < 0)
    high = (r > 1.0 + eps_high) & (adv > 0)
    return loss, ClipInfo(r, log_r, p2 > p1, dual, low, high)


@dataclasses.dataclass(frozen=True)
class PPOClip(Surrogate):
    r"""PPO clipped surrogate with clip-higher and optional dual clip (verl ``vanilla``).

    .. math::

        c_1 = \max(-A r,\; -A\,\mathrm{clip}(r, 1-\epsilon_l, 1+\epsilon_h)), \qquad
        \ell = \begin{cases} \min(c_1, -A c) & A < 0 \text{ and dual clip } c \\
        c_1 & \text{otherwise,}\end{cases}

    with the log-ratio clamped to :math:`\pm` ``log_ratio_clamp`` before exponentiation (verl: 20).

    Attributes:
      eps_low: :math:`\epsilon_l`.
      eps_high: :math:`\epsilon_h` (``None``: ``eps_low``, symmetric PPO; DAPO: 0.28).
      dual_clip: :math:`c > 1` or ``None`` (verl's ``clip_ratio_c``, default 3).
      log_ratio_clamp: bound on :math:`\log r`, or ``None``.

    Examples:
      >>> import jax.numpy as jnp
      >>> from policy.tokens import chain
      >>> loss_fn = chain(PPOClip(eps_low=0.2, eps_high=0.28))
      >>> loss, met = loss_fn(logp=jnp.log(jnp.array([[1.5]])), old_logp=jnp.zeros((1, 1)), advantages=jnp.ones(1),
      ...                     mask=jnp.ones((1, 1)))
      >>> round(float(loss), 4), float(met["pg_clipfrac"]), float(met["clip_ratio/high_mean"])
      (-1.28, 1.0, 1.0)

    References:
      Schulman et al., `Proximal Policy Optimization Algorithms
      <https://arxiv.org/abs/1707.06347>`_, 2017. Ye et al., `Mastering Complex Control in MOBA
      Games with Deep RL (dual clip) <https://arxiv.org/abs/1912.09729>`_, 2020.
    """

    eps_low: float = 0.2
    eps_high: float | None = None
    dual_clip: float | None = None
    log_ratio_clamp: float | None = 20.0

    def __post_init__(self):
        _check_eps(self.eps_low, self.eps_high)
        if self.dual_clip is not None and not self.dual_clip > 1.0:
            raise ValueError(f"expected dual_clip > 1, got {self.dual_clip}")

    def surrogate(self, ctx: Context):
        """Per-token PPO losses."""
        eh = self.eps_low if self.eps_high is None else self.eps_high
        r, log_r = importance_ratio(logp=ctx.logp, old_logp=ctx.old_logp, clamp=self.log_ratio_clamp)
        return _ppo(ctx.advantages, r, log_r, self.eps_low, eh, self.dual_clip)


@dataclasses.dataclass(frozen=True)
class TRLClip(Surrogate):
    r"""TRL's GRPO per-token loss :math:`-\min(\min(r,\delta) A, \mathrm{clip}(r, 1-\epsilon_l, 1+\epsilon_h) A)`.

    No log-ratio clamp and no dual clip; ``delta`` (INTELLECT-2) caps the unclipped ratio.

    Attributes:
      eps_low: :math:`\epsilon_l`.
      eps_high: :math:`\epsilon_h` (``None``: ``eps_low``).
      delta: optional cap :math:`\delta` on :math:`r` in the unclipped term.

    Examples:
      >>> import jax.numpy as jnp
      >>> from policy.tokens import chain
      >>> lp, z, m = jnp.log(jnp.array([[5.0]])), jnp.zeros((1, 1)), jnp.ones((1, 1))
      >>> [float(chain(TRLClip(delta=d))(logp=lp, old_logp=z, advantages=-jnp.ones(1), mask=m)[0]) for d in (None, 2.0)]
      [5.0, 2.0]

    References:
      Shao et al., `DeepSeekMath <https://arxiv.org/abs/2402.03300>`_, 2024. Prime Intellect,
      `INTELLECT-2 <https://arxiv.org/abs/2505.07291>`_, 2025 (``delta``).
    """

    eps_low: float = 0.2
    eps_high: float | None = None
    delta: float | None = None

    def __post_init__(self):
        _check_eps(self.eps_low, self.eps_high)
        if self.delta is not None and not self.delta > 1.0:
            raise ValueError(f"expected delta > 1, got {self.delta}")

    def surrogate(self, ctx: Context):
        """Per-token TRL losses."""
        eh = self.eps_low if self.eps_high is None else self.eps_high
        adv = ctx.advantages
        r, log_r = importance_ratio(logp=ctx.logp, old_logp=ctx.old_logp, clamp=None)
        r1 = r if self.delta is None else jnp.minimum(r, self.delta)
        t1 = r1 * adv
        t2 = jnp.clip(r, 1.0 - self.eps_low, 1.0 + eh) * adv
        low = (r < 1.0 - self.eps_low) & (adv < 0)
        high = (r > 1.0 + eh) & (adv > 0)
        return -jnp.minimum(t1, t2), ClipInfo(r, log_r, t2 < t1, jnp.zeros(r.shape, bool), low, high)


@dataclasses.dataclass(frozen=True)
class GradientPreservingClip(Surrogate):
    r"""PPO clip whose high-side clipped tokens keep their gradient (stop-gradient clipping).

    For :math:`A > 0` and :math:`r > 1+\epsilon_h` the loss is :math:`-A (1+\epsilon_h)\, r/\mathrm{sg}(r)`:
    the value equals PPO's clipped value, the gradient w.r.t. :math:`\log\pi` is
    :math:`-A(1+\epsilon_h)` instead of 0. With ``preserve_low`` the same is done for
    :math:`A < 0, r < 1-\epsilon_l` (our option; the papers' summaries describe the high side only).
    Elsewhere it is PPO.

    Attributes:
      eps_low: :math:`\epsilon_l`.
      eps_high: :math:`\epsilon_h`.
      preserve_low: also keep the gradients of low-side clipped tokens.
      log_ratio_clamp: bound on :math:`\log r`.

    Examples:
      >>> import jax
      >>> import jax.numpy as jnp
      >>> from policy.tokens import chain
      >>> f = lambda lp: chain(GradientPreservingClip())(logp=lp, old_logp=jnp.zeros((1, 1)), advantages=jnp.ones(1),
      ...                                                mask=jnp.ones((1, 1)))[0]
      >>> round(float(jax.grad(f)(jnp.log(jnp.array([[2.0]])))[0, 0]), 4)
      -1.28

    References:
      Dong et al., `Agentic Entropy-Balanced Policy Optimization
      <https://arxiv.org/abs/2510.14545>`_, 2025. Su et al., `Klear-Reasoner (GPPO)
      <https://arxiv.org/abs/2508.07629>`_, 2025.
    """

    eps_low: float = 0.2
    eps_high: float = 0.28
    preserve_low: bool = False
    log_ratio_clamp: float | None = 20.0

    def __post_init__(self):
        _check_eps(self.eps_low, self.eps_high)

    def surrogate(self, ctx: Context):
        """Per-token losses."""
        adv = ctx.advantages
        r, log_r = importance_ratio(logp=ctx.logp, old_logp=ctx.old_logp, clamp=self.log_ratio_clamp)
        high = (adv > 0) & (r > 1.0 + self.eps_high)
        low = (adv < 0) & (r < 1.0 - self.eps_low)
        ppo = jnp.maximum(-adv * r, -adv * jnp.clip(r, 1.0 - self.eps_low, 1.0 + self.eps_high))
        loss = jnp.where(high, -adv * (1.0 + self.eps_high) * r / sg(r), ppo)
        if self.preserve_low:
            loss = jnp.where(low, -adv * (1.0 - self.eps_low) * r / sg(r), loss)
        return loss, ClipInfo(r, log_r, high | low, jnp.zeros(r.shape, bool), low, high)


@dataclasses.dataclass(frozen=True)
class NoClip(Surrogate):
    r"""Unclipped importance-weighted surrogate :math:`\ell = -A r` (KL-Cov's base loss).

    The log-ratio is not clamped (as in verl's ``kl_cov``).

    Examples:
      >>> import jax.numpy as jnp
      >>> from policy.tokens import chain
      >>> loss, _ = chain(NoClip())(logp=jnp.log(jnp.array([[3.0]])), old_logp=jnp.zeros((1, 1)),
      ...                           advantages=jnp.ones(1), mask=jnp.ones((1, 1)))
      >>> round(float(loss), 4)
      -3.0
    """

    def surrogate(self, ctx: Context):
        """Per-token losses."""
        r, log_r = importance_ratio(logp=ctx.logp, old_logp=ctx.old_logp, clamp=None)
        return -ctx.advantages * r, ClipInfo.unclipped(r, log_r)


@dataclasses.dataclass(frozen=True)
class CISPO(Surrogate):
    r"""CISPO: :math:`\ell = -\mathrm{sg}(\min(r, \epsilon_{\max}))\, A\, \log\pi_\theta`.

    Every token keeps a REINFORCE gradient; only the importance weight is capped (``pg_clipfrac``
    counts the capped tokens with :math:`A \ne 0`).

    Attributes:
      eps_max: cap :math:`\epsilon_{\max}` on the importance weight.

    Examples:
      >>> import jax.numpy as jnp
      >>> from policy.tokens import chain
      >>> loss, _ = chain(CISPO())(logp=-jnp.ones((1, 1)), old_logp=-jnp.ones((1, 1)), advantages=jnp.ones(1),
      ...                          mask=jnp.ones((1, 1)))
      >>> float(loss)
      1.0

    References:
      MiniMax, `MiniMax-M1 <https://arxiv.org/abs/2506.13585>`_, 2025.
    """

    eps_max: float = 5.0

    def __post_init__(self):
        if not self.eps_max > 0:
            raise ValueError(f"expected eps_max > 0, got {self.eps_max}")

    def surrogate(self, ctx: Context):
        """Per-token losses."""
        adv = ctx.advantages
        r, log_r = importance_ratio(logp=ctx.logp, old_logp=ctx.old_logp, clamp=None)
        high = (r > self.eps_max) & (adv != 0)
        f = jnp.zeros(r.shape, bool)
        return -sg(jnp.minimum(r, self.eps_max)) * adv * ctx.logp, ClipInfo(r, log_r, high, f, f, high)


@dataclasses.dataclass(frozen=True)
class SAPO(Surrogate):
    r"""SAPO soft gate: :math:`\ell = -\sigma(\tau(r-1))\,(4/\tau)\,A`, :math:`\tau` by the sign of :math:`A`.

    At :math:`r = 1` the gradient w.r.t. :math:`\log\pi` is :math:`-A`, as for PPO.

    Attributes:
      tau_pos: :math:`\tau` for :math:`A > 0`.
      tau_neg: :math:`\tau` for :math:`A \le 0`.

    Examples:
      >>> import jax.numpy as jnp
      >>> from policy.tokens import chain
      >>> loss, _ = chain(SAPO())(logp=jnp.zeros((1, 1)), old_logp=jnp.zeros((1, 1)), advantages=jnp.ones(1),
      ...                         mask=jnp.ones((1, 1)))
      >>> float(loss)
      -2.0

    References:
      Gao et al., `Soft Adaptive Policy Optimization <https://arxiv.org/abs/2511.20347>`_, 2025.
    """

    tau_pos: float = 1.0
    tau_neg: float = 1.05

    def __post_init__(self):
        if not (self.tau_pos > 0 and self.tau_neg > 0):
            raise ValueError(f"expected tau_pos, tau_neg > 0, got {self.tau_pos}, {self.tau_neg}")

    def surrogate(self, ctx: Context):
        """Per-token losses."""
        adv = ctx.advantages
        r, log_r = importance_ratio(logp=ctx.logp, old_logp=ctx.old_logp, clamp=None)
        tau = jnp.where(adv > 0, self.tau_pos, self.tau_neg)
        return -jax.nn.sigmoid(tau * (r - 1.0)) * 4.0 / tau * adv, ClipInfo.unclipped(r, log_r)


@dataclasses.dataclass(frozen=True)
class GSPOClip(Surrogate):
    r"""PPO clip on the sequence-level ratio (GSPO; EMPO's loss).

    .. math::

        \log s_i = \frac{1}{n_i}\sum_t m_{i,t}(\log\pi_\theta - \log\pi_{\rm old}),\qquad
        s_{i,t} = \exp\big(\log\pi_\theta(y_t) - \mathrm{sg}(\log\pi_\theta(y_t)) + \mathrm{sg}(\log s_i)\big),

    :math:`\ell = \max(-A s_{i,t}, -A\,\mathrm{clip}(s_{i,t}, 1-\epsilon_l, 1+\epsilon_h))`. The value of
    :math:`s_{i,t}` is the sequence ratio; its gradient w.r.t. :math:`\log\pi_\theta(y_t)` is
    :math:`s_i`, so with ``seq-mean-token-mean`` aggregation this is the gradient of the sequence
    objective :math:`\max(-A s_i, -A\,\mathrm{clip}(s_i))`. The exponent is capped at
    ``log_ratio_clamp`` (verl: 10). EMPO's recipe: :math:`\epsilon_l = 3\times10^{-4}`,
    :math:`\epsilon_h = 4\times10^{-4}`, token-mean.

    Attributes:
      eps_low: :math:`\epsilon_l`.
      eps_high: :math:`\epsilon_h`.
      log_ratio_clamp: upper cap on :math:`\log s_{i,t}`.

    Examples:
      Two tokens with log-ratios 0.2 and 0: the sequence ratio is :math:`e^{0.1}`, clipped at
      :math:`1 + 0.05` for a positive advantage:

      >>> import jax.numpy as jnp
      >>> from policy.tokens import chain
      >>> loss_fn = chain(GSPOClip(eps_low=0.05, eps_high=0.05), aggregation="seq-mean-token-mean")
      >>> loss, met = loss_fn(logp=jnp.array([[0.2, 0.0]]), old_logp=jnp.zeros((1, 2)), advantages=jnp.ones(1),
      ...                     mask=jnp.ones((1, 2)))
      >>> round(float(loss), 6), round(float(met["ratio/mean"]), 6)
      (-1.05, 1.105171)

    References:
      Zheng et al., `Group Sequence Policy Optimization <https://arxiv.org/abs/2507.18071>`_, 2025.
      Zhang et al., `Right Question is Already Half the Answer (EMPO)
      <https://arxiv.org/abs/2504.05812>`_, 2025.
    """

    eps_low: float = 3e-4
    eps_high: float = 4e-4
    log_ratio_clamp: float = 10.0

    def __post_init__(self):
        _check_eps(self.eps_low, self.eps_high)

    def surrogate(self, ctx: Context):
        """Per-token losses carrying the sequence ratio."""
        m = ctx.mask
        d = jnp.where(m > 0, ctx.logp - ctx.old_logp, 0.0)
        n = jnp.sum(m, axis=1, keepdims=True)
        seq = jnp.sum(d, axis=1, keepdims=True) / jnp.where(n > 0, n, 1.0)
        log_s = jnp.minimum(ctx.logp - sg(ctx.logp) + sg(seq), self.log_ratio_clamp)
        return _ppo(ctx.advantages, jnp.exp(log_s), log_s, self.eps_low, self.eps_high, None)


@dataclasses.dataclass(frozen=True)
class UnifiedPG(Surrogate):
    r"""The unified policy-gradient estimator, with optional supervised (SFT) rows (HPT).

    .. math::

        \nabla J = \mathbb 1_{\rm stable}\,\frac{\hat A}{\pi_{\rm ref}}\,\nabla\pi_\theta,\qquad
        \ell = -\mathbb 1_{\rm stable}\,\hat A\,\frac{\pi_\theta}{\mathrm{sg}(\pi_{\rm ref})},

    with reference denominator ``reference``: ``"old"`` (:math:`\pi_{\rm old}`, the ratio policy
    gradient), ``"current"`` (:math:`\pi_\theta`: value :math:`-\hat A`, gradient
    :math:`-\hat A\nabla\log\pi`, REINFORCE) or ``"one"`` (:math:`\pi_\theta` itself, off-policy
    probability weighting). The stabilisation mask :math:`\mathbb 1_{\rm stable}` is PPO's (0 where
    the clip at ``eps`` is active, values kept) or all ones with ``eps=None``. Rows flagged by the
    optional input ``sft_mask`` (``[batch]``) are supervised instead: :math:`\ell = -\log\pi_\theta`
    (the negative log-likelihood of a demonstration, i.e. :math:`\hat A = 1` with the ``"current"``
    reference).

    With ``sft_token_mean=True`` (HPT's code) the SFT rows leave the shared aggregation: their
    surrogate entries are 0 and a separate term :math:`c_{\rm sft}\,\sum_{\rm SFT}(-\log\pi)m /
    \sum_{\rm SFT} m`, a token mean over the SFT tokens of the call, is added (metric
    ``unified_pg/sft_loss``).

    Attributes:
      reference: ``"old"``, ``"current"`` or ``"one"``.
      eps: PPO clip of the stabilisation mask, or ``None`` (HPT removes the clip).
      sft_token_mean: aggregate the SFT rows on their own, as a token mean (HPT).
      sft_coef: :math:`c_{\rm sft}` of that term (HPT's ``sft_loss_coef``, 1.0).

    Examples:
      One RL row (:math:`A = 1`, on-policy: :math:`\ell = -1`) and one SFT row (:math:`\log\pi = -2`):

      >>> import jax.numpy as jnp
      >>> from policy.tokens import chain
      >>> loss, met = chain(UnifiedPG())(logp=jnp.array([[0.0], [-2.0]]), old_logp=jnp.array([[0.0], [-2.0]]),
      ...                               advantages=jnp.array([1.0, 0.0]), mask=jnp.ones((2, 1)),
      ...                               sft_mask=jnp.array([0.0, 1.0]))
      >>> float(loss), float(met["unified_pg/sft_frac"])
      (0.5, 0.5)

    References:
      Lv et al., `Towards a Unified View of Large Language Model Post-Training
      <https://arxiv.org/abs/2509.04419>`_, 2025 (the estimator and HPT).
    """

    optional: ClassVar[tuple[str, ...]] = ("sft_mask",)

    reference: str = "old"
    eps: float | None = None
    sft_token_mean: bool = False
    sft_coef: float = 1.0

    def __post_init__(self):
        _check_choice("reference", self.reference, ("old", "current", "one"))
        _check_eps(self.eps, None)

    def surrogate(self, ctx: Context):
        """Per-token losses (SFT rows: negative log-likelihood)."""
        lp, adv = ctx.logp, ctx.advantages
        r, log_r = importance_ratio(logp=lp, old_logp=ctx.old_logp, clamp=None)
        if self.reference == "old":
            w = r
        elif self.reference == "current":
            w = jnp.exp(lp - sg(lp))
        else:
            w = jnp.exp(lp)
        stable = jnp.ones(lp.shape, bool)
        if self.eps is not None:
            stable = ~(((adv > 0) & (r > 1.0 + self.eps)) | ((adv < 0) & (r < 1.0 - self.eps)))
        rl = jnp.where(stable, -adv * w, sg(-adv * w))
        sft = ctx.inputs.get("sft_mask")
        if sft is not None:
            _check_rank("sft_mask", sft, 1)
            rl = jnp.where(jnp.asarray(sft)[:, None] > 0, 0.0 if self.sft_token_mean else -lp, rl)
        info = ClipInfo.unclipped(r, log_r)._replace(clipped=~stable)
        return rl, info

    def penalty(self, ctx: Context):
        """The separate SFT token mean (``sft_token_mean``), and the fraction of SFT rows."""
        sft = ctx.inputs.get("sft_mask")
        frac = jnp.zeros(()) if sft is None else jnp.mean((jnp.asarray(sft) > 0).astype(ctx.logp.dtype))
        if not self.sft_token_mean or sft is None:
            return jnp.zeros((), ctx.logp.dtype), {"unified_pg/sft_frac": frac}
        sm = ctx.mask * (jnp.asarray(sft, ctx.logp.dtype)[:, None] > 0)
        nll = masked_mean(-ctx.logp, sm)
        return self.sft_coef * nll, {"unified_pg/sft_frac": frac, "unified_pg/sft_loss": sg(nll)}


@dataclasses.dataclass(frozen=True)
class HAPOClip(Surrogate):
    r"""Dual-clip PPO with HAPO's entropy-adaptive, asymmetric per-token clip bounds.

    :math:`\hat h \in [-1, 1]` from :func:`hapo_normalized_entropy` (input ``entropy``);
    :math:`\hat h \le 0`: :math:`\epsilon_l' = \epsilon_l(1 - \alpha\hat h)`; :math:`\hat h > 0`:
    :math:`\epsilon_h' = \epsilon_h(1 + \alpha\hat h)` (:func:`hapo_adaptive_eps`). Pair with
    :class:`policy.tokens.HAPOAdvantages` (the :func:`hapo` preset does).

    Attributes:
      pivot: entropy quantile of the normalisation.
      alpha: :math:`\alpha` of the adaptive bounds.
      eps_low: :math:`\epsilon_l`.
      eps_high: :math:`\epsilon_h`.
      dual_clip: dual clip :math:`c` or ``None``.
      faithful_sign: reproduce the reference code's sign flip (see :func:`hapo_normalized_entropy`).

    Examples:
      The lowest-entropy token gets :math:`\epsilon_l' = 2\epsilon_l = 0.4`, so :math:`r = 0.7` is not
      clipped for it:

      >>> import jax.numpy as jnp
      >>> from policy.tokens import chain
      >>> lp = jnp.log(jnp.array([[0.7, 0.7, 0.7]]))
      >>> loss, met = chain(HAPOClip(pivot=0.5))(logp=lp, old_logp=jnp.zeros((1, 3)), advantages=-jnp.ones(1),
      ...                                        mask=jnp.ones((1, 3)),
      ...                                      entropy=jnp.array([[0.1, 1.0, 10.0]]))
      >>> round(float(met["pg_clipfrac"]), 4)
      0.6667

    References:
      Liu et al., `From Uniform to Heterogeneous: Tailoring Policy Optimization to Every Token's
      Nature <https://arxiv.org/abs/2509.16591>`_, 2025.
    """

    requires: ClassVar[tuple[str, ...]] = ("entropy",)
    pivot: float = 0.8
    alpha: float = 1.0
    eps_low: float = 0.2
    eps_high: float = 0.2
    dual_clip: float | None = 10.0
    faithful_sign: bool = False

    def __post_init__(self):
        _check_eps(self.eps_low, self.eps_high)

    def surrogate(self, ctx: Context):
        """Per-token losses with adaptive bounds."""
        h = hapo_normalized_entropy(ctx.inputs["entropy"], ctx.mask, pivot=self.pivot,
                                    faithful_sign=self.faithful_sign)
        lo, hi = hapo_adaptive_eps(h, eps_low=self.eps_low, eps_high=self.eps_high, alpha=self.alpha)
        r, log_r = importance_ratio(logp=ctx.logp, old_logp=ctx.old_logp, clamp=20.0)
        return _ppo(ctx.advantages, r, log_r, lo, hi, self.dual_clip)


@dataclasses.dataclass(frozen=True)
class COPOBlend(Surrogate):
    r"""COPO: blend of the PPO losses at the global (cross-prompt) and the local (GRPO) advantage.

    .. math::

        \ell_{i,t} = (1 - w_{i,t})\,\ell^{\rm PPO}(A^{\rm glob}) + w_{i,t}\,\ell^{\rm PPO}(A^{\rm loc}),\qquad
        w_{i,t} = \sigma(k(H^{\rm ans}_i - b))\,g_{i,t},

    with the loss's advantages as :math:`A^{\rm loc}` and the inputs ``adv_global`` (``[batch]`` or
    ``[batch, seq]``) and ``answer_entropy`` (``[batch]``, bits, e.g.
    ``copo_global_advantages(...)[1][group_ids]``). The gate :math:`g` by ``weight_mode``:
    ``"soft"`` 1; ``"soft_forced"`` :math:`1[A^{\rm loc}_{i,t} \ne 0]` (per token); ``"soft_zero"``
    :math:`1[R_i \ne 0]` (input ``rewards``); ``"global"`` :math:`w = 0`; ``"local"`` :math:`w = 1`.

    Attributes:
      k: slope :math:`k`.
      b: offset :math:`b` (bits).
      weight_mode: see above.
      eps: PPO clip :math:`\epsilon` of both terms.

    Examples:
      >>> import jax.numpy as jnp
      >>> from policy.tokens import chain
      >>> z = jnp.zeros((2, 1))
      >>> loss, met = chain(COPOBlend(), aggregation="seq-mean-token-mean")(
      ...     logp=z, old_logp=z, advantages=jnp.array([1.0, -1.0]), mask=jnp.ones((2, 1)), adv_global=jnp.zeros(2),
      ...     answer_entropy=jnp.array([1.0, 1.0]))
      >>> float(met["copo/w_mean"]), float(loss)
      (0.5, 0.0)

    References:
      Han et al., `Consistency-Aware Policy Optimization <https://arxiv.org/abs/2508.04138>`_, 2025.
    """

    requires: ClassVar[tuple[str, ...]] = ("adv_global", "answer_entropy")
    optional: ClassVar[tuple[str, ...]] = ("rewards",)
    k: float = 5.0
    b: float = 1.0
    weight_mode: str = "soft"
    eps: float = 0.2

    def __post_init__(self):
        _check_choice("weight_mode", self.weight_mode,
                      ("soft", "soft_forced", "soft_zero", "global", "local"))

    def _weight(self, ctx: Context):
        h = sg(jnp.asarray(ctx.inputs["answer_entropy"], ctx.logp.dtype))
        _check_rank("answer_entropy", h, 1)
        w = jax.nn.sigmoid(self.k * (h - self.b))[:, None] * jnp.ones_like(ctx.logp)
        if self.weight_mode == "soft_forced":
            w = w * (ctx.advantages != 0)
        elif self.weight_mode == "soft_zero":
            rewards = ctx.inputs.get("rewards")
            if rewards is None:
                raise ValueError("expected input rewards for weight_mode='soft_zero', got none")
            w = w * (jnp.asarray(rewards) != 0)[:, None]
        elif self.weight_mode == "global":
            w = jnp.zeros_like(w)
        elif self.weight_mode == "local":
            w = jnp.ones_like(w)
        return w

    def surrogate(self, ctx: Context):
        """Per-token blended losses."""
        r, log_r = importance_ratio(logp=ctx.logp, old_logp=ctx.old_logp, clamp=20.0)
        a_g = sg(broadcast_advantages(ctx.inputs["adv_global"], ctx.mask).astype(ctx.logp.dtype))
        local, info = _ppo(ctx.advantages, r, log_r, self.eps, self.eps, None)
        glob, _ = _ppo(a_g, r, log_r, self.eps, self.eps, None)
        w = self._weight(ctx)
        return (1.0 - w) * glob + w * local, info

    def penalty(self, ctx: Context):
        """No loss term; reports the blend weight over valid tokens (``copo/w_mean|min|max``)."""
        w, m = self._weight(ctx), ctx.mask > 0
        mean = jnp.sum(jnp.where(m, w, 0.0)) / jnp.maximum(jnp.sum(m), 1)
        return jnp.zeros((), ctx.logp.dtype), {
            "copo/w_mean": mean, "copo/w_min": jnp.min(jnp.where(m, w, jnp.inf)),
            "copo/w_max": jnp.max(jnp.where(m, w, -jnp.inf))}

