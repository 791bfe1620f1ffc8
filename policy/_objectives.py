"""Token-level policy-gradient objectives: the GRPO family and entropy-control methods.

Every objective is assembled from the same pieces,

.. math::

    L = \\operatorname{Agg}_m\\big(w_{i,t}\\,\\ell^{\\rm pg}_{i,t} + \\ell^{\\rm reg}_{i,t}\\big)
        - c_H \\operatorname{Agg}_{m'}(H) + \\textstyle\\sum \\text{scalar regularisers},

with :math:`\\ell^{\\rm pg}` a clip rule of :mod:`policy._clipping` evaluated at the (transformed)
advantages, :math:`w` a token weight or selection of :mod:`policy._selection`, :math:`\\ell^{\\rm reg}`
a per-token regulariser (KL to a reference, KL-Cov's :math:`|\\log\\pi - \\log\\pi_{\\rm old}|`,
Lp-Reg's :math:`k_3` to a proxy) and :math:`\\operatorname{Agg}` an aggregation of
:mod:`policy._aggregation` with an explicit denominator. Each returns ``(loss, metrics)``; metrics are
stop-gradient masked means over valid tokens (``nan`` when the needed input, e.g. ``entropy``, was
not given).

Inputs are per token: ``logp``/``old_logp``/``ref_logp``/``entropy``/``mask`` ``[batch, seq]``;
advantages may be ``[batch]`` (broadcast over tokens) or ``[batch, seq]``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from policy import _advantages as adv_lib
from policy import _clipping as clip_lib
from policy import _selection as sel_lib
from policy._aggregation import aggregate_loss
from policy._core import (
    _check_choice,
    _check_mask,
    _check_rank,
    _check_same_shape,
    kl_estimate,
    masked_mean,
)
from policy._regularizers import epo_smoothing_penalty, siren_anchor_penalty

sg = jax.lax.stop_gradient
NAN = float("nan")


def _setup(logp, old_logp, advantages, mask, **others):
    _check_rank("logp", logp, 2)
    _check_same_shape("logp", logp, "old_logp", old_logp)
    _check_same_shape("logp", logp, "mask", mask)
    for name, a in others.items():
        if a is not None:
            _check_same_shape("logp", logp, name, a)
    _check_mask("mask", mask)
    logp = jnp.asarray(logp)
    m = jnp.asarray(mask, logp.dtype)
    a = adv_lib.broadcast_advantages(advantages, m)
    return logp, jnp.asarray(old_logp), sg(a.astype(logp.dtype)), m


def _metrics(logp, adv, m, info, *, entropy=None, ref_logp=None, weights=None, n_selected=None):
    """Standard metric dict (stop-gradient)."""
    lp = sg(logp)
    fm = lambda b: masked_mean(b.astype(lp.dtype), m)  # noqa: E731
    n_i = jnp.sum(m, axis=1)
    seq_adv = jnp.sum(adv * m, axis=1) / jnp.where(n_i > 0, n_i, 1.0)
    out = {
        "pg_clipfrac": fm(info["clipped"]),
        "clipfrac_low": fm(info["clipped_low"]),
        "clipfrac_high": fm(info["clipped_high"]),
        "clipfrac_dual": fm(info["clipped_dual"]),
        "ppo_kl": masked_mean(-sg(info["log_ratio"]), m),
        "ratio/mean": masked_mean(sg(info["ratio"]), m),
        "ratio/max": jnp.max(jnp.where(m > 0, sg(info["ratio"]), -jnp.inf)),
        "cov_logp_adv": masked_mean(sel_lib.token_covariance(lp, adv, m), m),
        "adv/mean": masked_mean(adv, m),
        "adv/std": jnp.sqrt(masked_mean((adv - masked_mean(adv, m)) ** 2, m)),
        "adv/frac_zero": jnp.mean((seq_adv == 0).astype(lp.dtype)),
        "response_length/mean": jnp.mean(n_i),
        "response_length/clip_ratio": jnp.mean((m[:, -1] > 0).astype(lp.dtype)),
    }
    if entropy is not None:
        h = sg(jnp.asarray(entropy))
        out["entropy"] = masked_mean(h, m)
        seq_h = jnp.sum(h * m, axis=1) / jnp.where(n_i > 0, n_i, 1.0)
        out["entropy/seq_mean"] = masked_mean(seq_h, (n_i > 0).astype(lp.dtype))
    else:
        out["entropy"] = out["entropy/seq_mean"] = jnp.asarray(NAN, lp.dtype)
    if ref_logp is not None:
        out["kl_ref"] = masked_mean(sg(kl_estimate(lp, jnp.asarray(ref_logp), kind="k3")), m)
    else:
        out["kl_ref"] = jnp.asarray(NAN, lp.dtype)
    w = jnp.ones_like(lp) if weights is None else sg(jnp.asarray(weights, lp.dtype))
    out["token_weight/mean"] = masked_mean(w, m)
    out["token_weight/min"] = jnp.min(jnp.where(m > 0, w, jnp.inf))
    out["token_weight/max"] = jnp.max(jnp.where(m > 0, w, -jnp.inf))
    out["n_selected"] = jnp.asarray(0.0 if n_selected is None else n_selected, lp.dtype)
    return out


def policy_gradient_loss(
    logp, old_logp, advantages, mask, *, clip: str = "vanilla", eps_low=0.2, eps_high=None,
    dual_clip=None, weights=None, token_reg=None, entropy=None, entropy_coef=0.0,
    entropy_mask=None, ref_logp=None, kl_coef=0.0, kl_kind="k3", agg="token-mean",
    denominator=None, constant=None,
):
    """Generic clipped policy-gradient objective (the engine of every method here).

    .. math::

        L = \\operatorname{Agg}_m\\big(w\\,\\ell^{\\rm clip} + \\beta\\,k(\\log\\pi, \\log\\pi_{\\rm ref})
            + \\ell^{\\rm reg}\\big) - c_H \\operatorname{Agg}_{m\\cdot m_H}(H).

    Args:
      logp: ``[batch, seq]`` current log-probs (differentiable).
      old_logp: ``[batch, seq]`` behaviour log-probs.
      advantages: ``[batch]`` or ``[batch, seq]``.
      mask: ``[batch, seq]`` 0/1 response mask.
      clip: ``"vanilla"``, ``"trl"``, ``"gradient_preserving"``, ``"none"``, ``"cispo"``,
        ``"sapo"``.
      eps_low: :math:`\\epsilon_l` (scalar or per token).
      eps_high: :math:`\\epsilon_h` (``None``: ``eps_low``).
      dual_clip: dual-clip constant (vanilla only).
      weights: optional ``[batch, seq]`` token weights/selection (stop-gradient).
      token_reg: optional extra per-token loss ``[batch, seq]`` (not weighted).
      entropy: optional ``[batch, seq]`` token entropies (differentiable for a bonus).
      entropy_coef: :math:`c_H` of the entropy bonus.
      entropy_mask: optional ``[batch, seq]`` restricting the entropy bonus (e.g. 80/20 mask);
        by default the bonus uses the policy-loss token set (``mask`` times ``weights > 0``).
      ref_logp: optional ``[batch, seq]`` reference log-probs for the KL term.
      kl_coef: :math:`\\beta`.
      kl_kind: estimator of :func:`policy._core.kl_estimate`.
      agg: aggregation mode.
      denominator: explicit aggregation denominator (global token / sequence count).
      constant: :math:`C` for ``seq-mean-token-sum-norm``.

    Returns:
      ``(loss, metrics)``.

    Raises:
      ValueError: on bad shapes, masks or options.

    Examples:
      >>> import jax.numpy as jnp
      >>> loss, met = policy_gradient_loss(jnp.zeros((1, 2)), jnp.zeros((1, 2)), jnp.ones(1),
      ...                                  jnp.ones((1, 2)))
      >>> float(loss), float(met["pg_clipfrac"])
      (-1.0, 0.0)
    """
    _check_choice("clip", clip, ("vanilla", "trl", "gradient_preserving", "none", "cispo", "sapo"))
    logp, old_logp, a, m = _setup(
        logp, old_logp, advantages, mask, entropy=entropy, ref_logp=ref_logp, weights=weights,
        token_reg=token_reg, entropy_mask=entropy_mask,
    )
    eh = eps_low if eps_high is None else eps_high
    if clip == "vanilla":
        pg, info = clip_lib.vanilla_clip_loss(
            logp, old_logp, a, eps_low=eps_low, eps_high=eh, dual_clip=dual_clip
        )
    elif clip == "trl":
        pg, info = clip_lib.trl_clip_loss(logp, old_logp, a, eps_low=eps_low, eps_high=eh)
    elif clip == "gradient_preserving":
        pg, info = clip_lib.gradient_preserving_clip_loss(
            logp, old_logp, a, eps_low=eps_low, eps_high=eh
        )
    elif clip == "none":
        pg, info = clip_lib.no_clip_loss(logp, old_logp, a)
    elif clip == "cispo":
        pg, info = clip_lib.cispo_loss(logp, old_logp, a, eps_max=eh)
    else:
        pg, info = clip_lib.sapo_loss(logp, old_logp, a)
    w = None if weights is None else sg(jnp.asarray(weights, logp.dtype))
    per_tok = pg if w is None else w * pg
    if token_reg is not None:
        per_tok = per_tok + token_reg
    kw = {"mode": agg, "denominator": denominator, "constant": constant}
    if ref_logp is not None and kl_coef:
        per_tok = per_tok + kl_coef * kl_estimate(logp, sg(jnp.asarray(ref_logp)), kind=kl_kind)
    loss = aggregate_loss(per_tok, m, **kw)
    if entropy is not None and entropy_mask is not None:
        h_set = m * jnp.asarray(entropy_mask, logp.dtype)
    elif entropy is not None and w is not None:
        h_set = m * (w > 0)
    else:
        h_set = m
    metrics = _metrics(logp, a, m, info, entropy=entropy, ref_logp=ref_logp, weights=w)
    if entropy is not None and entropy_coef is not None:
        h_agg = aggregate_loss(jnp.asarray(entropy), h_set, mode=agg, constant=constant)
        loss = loss - entropy_coef * h_agg
        metrics["entropy_bonus"] = sg(h_agg)
    metrics["pg_loss"] = sg(loss)
    return loss, metrics


def grpo_loss(
    logp, old_logp, advantages, mask, *, ref_logp=None, entropy=None, eps=0.2, kl_coef=0.04,
    kl_kind="k3", agg="seq-mean-token-mean", denominator=None,
):
    """GRPO: symmetric PPO clip, :math:`k_3` KL to a reference, sequence-mean of token-means.

    .. math::

        L = \\frac{1}{G}\\sum_i \\frac{1}{|o_i|}\\sum_t \\Big[-\\min(r A_i,
            \\mathrm{clip}(r, 1-\\epsilon, 1+\\epsilon) A_i) + \\beta\\,k_3\\Big].

    Use :func:`policy._advantages.grpo_advantages` for :math:`A_i`.

    Examples:
      >>> import jax.numpy as jnp
      >>> loss, _ = grpo_loss(jnp.zeros((2, 1)), jnp.zeros((2, 1)), jnp.array([1.0, -1.0]),
      ...                     jnp.ones((2, 1)))
      >>> float(loss)
      0.0

    References:
      Shao et al., `DeepSeekMath: Pushing the Limits of Mathematical Reasoning in Open Language
      Models <https://arxiv.org/abs/2402.03300>`_, 2024.
    """
    return policy_gradient_loss(
        logp, old_logp, advantages, mask, eps_low=eps, ref_logp=ref_logp, kl_coef=kl_coef,
        kl_kind=kl_kind, entropy=entropy, agg=agg, denominator=denominator,
    )


def dapo_loss(
    logp, old_logp, advantages, mask, *, entropy=None, eps_low=0.2, eps_high=0.28,
    dual_clip=None, denominator=None,
):
    """DAPO: clip-higher (:math:`\\epsilon_l = 0.2, \\epsilon_h = 0.28`), token-mean, no KL.

    Pass ``denominator`` = number of valid tokens of the *whole* batch when the batch is split in
    micro-batches, so the sum of micro-batch losses equals the batch loss. Pair with
    :func:`policy._advantages.dapo_dynamic_sampling_mask` and
    :func:`policy._advantages.dapo_overlong_penalty`.

    Examples:
      >>> import jax.numpy as jnp
      >>> loss, met = dapo_loss(jnp.log(jnp.array([[1.5]])), jnp.zeros((1, 1)), jnp.ones(1),
      ...                       jnp.ones((1, 1)))
      >>> round(float(loss), 4), float(met["clipfrac_high"])
      (-1.28, 1.0)

    References:
      Yu et al., `DAPO: An Open-Source LLM Reinforcement Learning System at Scale
      <https://arxiv.org/abs/2503.14476>`_, 2025.
    """
    return policy_gradient_loss(
        logp, old_logp, advantages, mask, eps_low=eps_low, eps_high=eps_high,
        dual_clip=dual_clip, entropy=entropy, agg="token-mean", denominator=denominator,
    )


def dr_grpo_loss(logp, old_logp, advantages, mask, *, entropy=None, eps=0.2, constant=None):
    """Dr. GRPO: PPO clip with the constant-normalised token sum :math:`\\sum \\ell m / C`.

    Use :func:`policy._advantages.dr_grpo_advantages` (no std). ``constant`` defaults to the padded
    length (verl); set it to a fixed generation budget so it does not change between batches
    (TRL's ``dr_grpo`` is ``batch * max_completion_length``).

    Examples:
      >>> import jax.numpy as jnp
      >>> loss, _ = dr_grpo_loss(jnp.zeros((1, 4)), jnp.zeros((1, 4)), jnp.ones(1),
      ...                        jnp.array([[1.0, 1.0, 0.0, 0.0]]))
      >>> float(loss)  # -2 / 4
      -0.5

    References:
      Liu et al., `Understanding R1-Zero-Like Training: A Critical Perspective
      <https://arxiv.org/abs/2503.20783>`_, 2025.
    """
    return policy_gradient_loss(
        logp, old_logp, advantages, mask, eps_low=eps, entropy=entropy,
        agg="seq-mean-token-sum-norm", constant=constant,
    )


def entropy_bonus_loss(
    logp, old_logp, advantages, mask, entropy, *, coef=1e-3, token_mask=None, eps_low=0.2,
    eps_high=None, agg="token-mean", denominator=None,
):
    """PPO/GRPO loss with an entropy bonus :math:`-c\\,\\bar H` over the policy-loss token set.

    ``token_mask`` (e.g. :func:`policy._selection.top_entropy_mask`) restricts both the policy loss
    and the bonus, as TRL does for the 80/20 rule. ``coef`` may be a traced scalar, e.g. the
    effective coefficient of :func:`policy._regularizers.adaptive_entropy_update`.

    Examples:
      >>> import jax.numpy as jnp
      >>> loss, _ = entropy_bonus_loss(jnp.zeros((1, 2)), jnp.zeros((1, 2)), jnp.zeros(1),
      ...                              jnp.ones((1, 2)), jnp.array([[1.0, 3.0]]), coef=0.1)
      >>> round(float(loss), 6)
      -0.2

    References:
      Williams & Peng, `Function optimization using connectionist reinforcement learning algorithms
      <https://doi.org/10.1080/09540099108946587>`_, 1991. He et al., `Skywork Open Reasoner 1
      <https://arxiv.org/abs/2505.22312>`_, 2025 (adaptive coefficient).
    """
    return policy_gradient_loss(
        logp, old_logp, advantages, mask, eps_low=eps_low, eps_high=eps_high, weights=token_mask,
        entropy=entropy, entropy_coef=coef, agg=agg, denominator=denominator,
    )


def clip_cov_loss(
    logp, old_logp, advantages, mask, *, key, entropy=None, ratio=2e-4, cov_low=1.0,
    cov_high=5.0, eps_low=0.2, eps_high=0.2, detach_value=False, agg="token-mean",
    denominator=None,
):
    """Clip-Cov: cut the gradient of a random subset of moderate-covariance tokens.

    :math:`\\ell = \\max(-Ar, -A\\,\\mathrm{clip}(r))\\cdot \\mathrm{corr}` with
    :math:`\\mathrm{corr} = 0` on the subset of :func:`policy._selection.clip_cov_mask` (global over
    the batch, random with ``key``), no dual clip. verl zeroes the loss *value* of the selected
    tokens; ``detach_value=True`` keeps the value and stops only the gradient (paper pseudo-code).
    ``pg_clipfrac`` reports the fraction of selected tokens.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> lp = jnp.array([[0.0, -4.0, -4.0, 0.0]])
      >>> loss, met = clip_cov_loss(lp, lp, jnp.array([[1.0, -1.0, 1.0, -1.0]]),
      ...                           jnp.ones((1, 4)), key=jax.random.key(0), ratio=0.25)
      >>> float(met["n_selected"]), float(met["pg_clipfrac"])
      (1.0, 0.25)

    References:
      Cui et al., `The Entropy Mechanism of Reinforcement Learning for Reasoning Language Models
      <https://arxiv.org/abs/2505.22617>`_, 2025.
    """
    logp, old_logp, a, m = _setup(logp, old_logp, advantages, mask, entropy=entropy)
    keep, _ = sel_lib.clip_cov_mask(
        logp, old_logp, a, m, key=key, ratio=ratio, cov_low=cov_low, cov_high=cov_high,
        eps_low=eps_low, eps_high=eps_high,
    )
    pg, info = clip_lib.vanilla_clip_loss(logp, old_logp, a, eps_low=eps_low, eps_high=eps_high)
    per_tok = jnp.where(keep > 0, pg, sg(pg)) if detach_value else pg * keep
    loss = aggregate_loss(per_tok, m, mode=agg, denominator=denominator)
    sel = (1.0 - keep) * m
    met = _metrics(logp, a, m, info, entropy=entropy, n_selected=jnp.sum(sel))
    met["pg_clipfrac"] = masked_mean(sel, m)
    return loss, met


def kl_cov_loss(
    logp, old_logp, advantages, mask, *, entropy=None, ratio=2e-4, kl_coef=1.0,
    agg="token-mean", denominator=None,
):
    """KL-Cov: unclipped :math:`-Ar` plus :math:`\\beta|\\log\\pi - \\log\\pi_{\\rm old}|` on top-cov tokens.

    The selection (:func:`policy._selection.kl_cov_mask`) is the global top
    :math:`\\max(\\lfloor kN\\rfloor, 1)` tokens by covariance. On purely on-policy updates the
    penalty is 0 (its value and gradient vanish at :math:`\\pi = \\pi_{\\rm old}`); it acts from the
    second minibatch update of a rollout on. ``kl_coef``: paper 1.0, verl default 0.1.
    ``ppo_kl`` reports :math:`\\operatorname{mean}_m |\\log\\pi - \\log\\pi_{\\rm old}|`.

    Examples:
      >>> import jax.numpy as jnp
      >>> lp = jnp.array([[0.0, -2.0]])
      >>> loss, met = kl_cov_loss(lp, lp - 0.5, jnp.array([[1.0, -1.0]]), jnp.ones((1, 2)),
      ...                         ratio=0.5)
      >>> round(float(loss), 4)  # (-e^0.5 + e^0.5 + 0.5) / 2
      0.25

    References:
      Cui et al., `The Entropy Mechanism of Reinforcement Learning for Reasoning Language Models
      <https://arxiv.org/abs/2505.22617>`_, 2025.
    """
    logp, old_logp, a, m = _setup(logp, old_logp, advantages, mask, entropy=entropy)
    sel, _ = sel_lib.kl_cov_mask(logp, a, m, ratio=ratio)
    pg, info = clip_lib.no_clip_loss(logp, old_logp, a)
    d = logp - sg(old_logp)
    absdiff = d * jnp.sign(d)  # |d| with derivative sign(0) = 0 (torch's convention)
    per_tok = pg + kl_coef * sel * absdiff
    loss = aggregate_loss(per_tok, m, mode=agg, denominator=denominator)
    met = _metrics(logp, a, m, info, entropy=entropy, n_selected=jnp.sum(sel * m))
    met["ppo_kl"] = masked_mean(sg(absdiff), m)
    return loss, met


def siren_loss(
    logp, old_logp, advantages, mask, topp_entropy, *, anchor, coef=0.005, eps=0.28,
    mask_ratio=0.8, constant=None,
):
    """SIREN: PPO (Dr. GRPO aggregation) plus a self-anchored top-p peak-entropy regulariser.

    .. math::

        L = L_{\\rm PG} + c\\,(\\bar H^{\\rm top\\text{-}p}_{\\rm peak} - H_{\\rm anchor})^2,

    where :math:`\\bar H_{\\rm peak}` is the seq-mean-token-mean of the top-p entropy
    (:func:`policy._selection.siren_top_p_entropy`, differentiable) over each sequence's top-20%
    tokens (:func:`policy._selection.siren_peak_mask`). ``anchor`` is the same statistic measured on
    the first batch (metric ``entropy_agg``) and then held fixed.

    Examples:
      >>> import jax.numpy as jnp
      >>> h = jnp.array([[0.1, 0.2, 0.3, 0.4, 2.0]])
      >>> loss, met = siren_loss(jnp.zeros((1, 5)), jnp.zeros((1, 5)), jnp.zeros(1),
      ...                        jnp.ones((1, 5)), h, anchor=1.0, coef=1.0)
      >>> round(float(met["entropy_agg"]), 6), round(float(loss), 6)
      (2.0, 1.0)

    References:
      `Rethinking Entropy Regularization in Large Reasoning Models
      <https://arxiv.org/abs/2509.25133>`_, 2025.
    """
    loss, met = policy_gradient_loss(
        logp, old_logp, advantages, mask, eps_low=eps, entropy=topp_entropy,
        agg="seq-mean-token-sum-norm", constant=constant,
    )
    peak = sel_lib.siren_peak_mask(topp_entropy, mask, mask_ratio=mask_ratio)
    h_agg = aggregate_loss(jnp.asarray(topp_entropy), peak, mode="seq-mean-token-mean")
    loss = loss + siren_anchor_penalty(h_agg, anchor, coef=coef)
    met.update(entropy_agg=sg(h_agg), entropy_anchor=jnp.asarray(anchor, h_agg.dtype),
               n_selected=jnp.sum(peak))
    return loss, met


def lp_reg_loss(
    logp, old_logp, proxy_logp, advantages, mask, *, entropy=None, neg_fraction=0.01,
    pos_fraction=0.0, kl_coef=1.0, eps_low=0.2, eps_high=0.28, agg="token-mean",
    denominator=None,
):
    """Lp-Reg: PPO loss plus a :math:`k_3` pull toward a min-p proxy on low-probability tokens.

    On the tokens of :func:`policy._selection.lp_reg_mask`:
    :math:`\\ell = -Ar + \\beta\\,k_3(\\log\\pi, \\log\\pi_{\\rm proxy})`,
    :math:`k_3 = e^x - x - 1`, :math:`x = \\log\\pi_{\\rm proxy} - \\log\\pi`; elsewhere the clipped
    PPO loss. Proxy log-probs from :func:`policy._selection.lp_reg_proxy_logp`.

    Examples:
      >>> import jax.numpy as jnp
      >>> lp = jnp.log(jnp.array([[0.1, 0.2, 0.5, 0.9]]))
      >>> px = jnp.log(jnp.array([[0.2, 0.3, 0.6, 0.95]]))
      >>> loss, met = lp_reg_loss(lp, lp, px, -jnp.ones(1), jnp.ones((1, 4)), neg_fraction=0.5)
      >>> float(met["n_selected"])
      2.0

    References:
      `Low-probability Tokens Sustain Exploration in Reinforcement Learning with Verifiable Reward
      <https://arxiv.org/abs/2510.03222>`_, 2025.
    """
    logp, old_logp, a, m = _setup(logp, old_logp, advantages, mask, proxy_logp=proxy_logp,
                                  entropy=entropy)
    sel = sel_lib.lp_reg_mask(logp, proxy_logp, a, m, neg_fraction=neg_fraction,
                              pos_fraction=pos_fraction)
    pg, info = clip_lib.vanilla_clip_loss(logp, old_logp, a, eps_low=eps_low, eps_high=eps_high)
    r = info["ratio"]
    px = jnp.where(sel > 0, sg(jnp.asarray(proxy_logp)), logp)
    reg = -a * r + kl_coef * kl_estimate(logp, sg(px), kind="k3")
    per_tok = jnp.where(sel > 0, reg, pg)
    loss = aggregate_loss(per_tok, m, mode=agg, denominator=denominator)
    return loss, _metrics(logp, a, m, info, entropy=entropy, n_selected=jnp.sum(sel * m))


def steer_loss(
    logp, old_logp, advantages, mask, entropy, *, mode="linear", lam_min=0.8, lam_max=1.2,
    eps_low=0.2, eps_high=0.28, dual_clip=10.0, agg="token-mean", denominator=None,
):
    """STEER: dual-clip PPO loss reweighted by :func:`policy._selection.steer_weights`.

    Examples:
      >>> import jax.numpy as jnp
      >>> lp = jnp.log(jnp.array([[0.5, 0.5]]))
      >>> loss, met = steer_loss(lp, lp, jnp.array([[1.0, 0.0]]), jnp.ones((1, 2)),
      ...                        jnp.ones((1, 2)))
      >>> round(float(loss), 4), round(float(met["token_weight/min"]), 4)
      (-0.4, 0.8)

    References:
      `Rethinking Entropy Interventions in RLVR: An Entropy Change Perspective
      <https://arxiv.org/abs/2510.10150>`_, 2025.
    """
    logp, old_logp, a, m = _setup(logp, old_logp, advantages, mask, entropy=entropy)
    w = sel_lib.steer_weights(logp, old_logp, a, entropy, m, mode=mode, lam_min=lam_min,
                              lam_max=lam_max)
    return policy_gradient_loss(
        logp, old_logp, a, m, eps_low=eps_low, eps_high=eps_high, dual_clip=dual_clip, weights=w,
        entropy=entropy, entropy_coef=None, agg=agg, denominator=denominator,
    )


def aepo_loss(
    logp, old_logp, advantages, mask, reg_logp, reg_old_logp, reg_advantages, reg_mask, *,
    alpha=0.25, eps=0.2, threshold=0.05, entropy=None,
):
    """Arbitrary-Entropy PO: GRPO plus a REINFORCE regulariser on temperature-:math:`T` samples.

    .. math::

        L = L_{\\rm GRPO} + \\alpha\\, \\operatorname{tokmean}_{i\\in K}\\big[-\\min(r,
            \\mathrm{clip}(r, 1-\\epsilon, 1+\\epsilon))\\big],\\qquad
        K = \\{i : A^{\\rm reg}_i > 0.05\\},

    where the regulariser batch was sampled at :math:`T` (:func:`policy._advantages.dcpo_temperature`
    picks :math:`T_{\\rm high}` when the previous entropy is below target, :math:`T_{\\rm low}`
    otherwise) and its log-probs are evaluated at temperature 1; kept sequences have advantage 1.
    The reference code mixes the two batches by *replacing* sequences; an explicit ``alpha`` is
    our reading of the paper's :math:`\\alpha`.

    Examples:
      >>> import jax.numpy as jnp
      >>> z = jnp.zeros((2, 1))
      >>> loss, met = aepo_loss(z, z, jnp.zeros(2), jnp.ones((2, 1)), z, z,
      ...                       jnp.array([1.0, -1.0]), jnp.ones((2, 1)), alpha=0.5)
      >>> float(loss), float(met["aepo/n_reg_seqs"])
      (-0.5, 1.0)

    References:
      `Arbitrary Entropy Policy Optimization <https://arxiv.org/abs/2510.08141>`_, 2025.
    """
    loss, met = policy_gradient_loss(logp, old_logp, advantages, mask, eps_low=eps,
                                     entropy=entropy, agg="token-mean")
    _check_rank("reg_advantages", reg_advantages, 1)
    keep = (sg(jnp.asarray(reg_advantages)) > threshold).astype(jnp.asarray(reg_logp).dtype)
    rm = jnp.asarray(reg_mask, keep.dtype) * keep[:, None]
    ones = jnp.ones_like(keep)
    reg, _ = policy_gradient_loss(reg_logp, reg_old_logp, ones, rm, eps_low=eps,
                                  agg="token-mean")
    met.update({"aepo/reg_loss": sg(reg), "aepo/n_reg_seqs": jnp.sum(keep),
                "aepo/alpha": jnp.asarray(alpha, keep.dtype)})
    return loss + alpha * reg, met


def dcpo_loss(
    logp, old_logp, advantages, mask, rewards, old_logp_temp, *, entropy_prev, target=0.5,
    eps=0.2, dual_clip=3.0, entropy=None,
):
    """DCPO: PPO on the double-importance-sampling mixed advantage.

    Advantages are transformed by :func:`policy._advantages.dcpo_mix_advantages` (needs the old
    policy's log-probs at :math:`T` =
    :func:`policy._advantages.dcpo_temperature` ``(entropy_prev)``), then token-mean dual-clip PPO.

    Examples:
      >>> import jax.numpy as jnp
      >>> z = jnp.zeros((2, 1))
      >>> loss, met = dcpo_loss(z, z, jnp.array([1.0, -1.0]), jnp.ones((2, 1)),
      ...                       jnp.array([1.0, 0.0]), z, entropy_prev=0.4)
      >>> round(float(met["dcpo/alpha"]), 4), round(float(loss), 4)
      (0.1667, -0.0833)

    References:
      `Distribution-Centric Policy Optimization`, github.com/597358816/DCPO (our reading of the
      trainer code).
    """
    _check_rank("mask", mask, 2)
    a, alpha = adv_lib.dcpo_mix_advantages(advantages, rewards, old_logp_temp, old_logp, mask,
                                           entropy_prev=entropy_prev, target=target)
    loss, met = policy_gradient_loss(logp, old_logp, a, mask, eps_low=eps, dual_clip=dual_clip,
                                     entropy=entropy)
    met["dcpo/alpha"] = sg(alpha)
    return loss, met


def empg_loss(
    logp, old_logp, advantages, mask, entropy, step_ids, *, num_steps: int, k=1.0, k_future=1.0,
    zeta=0.1, eps=0.2, agg="token-mean",
):
    """EMPG: PPO on entropy-modulated step advantages (:func:`policy._advantages.empg_modulate_advantages`).

    ``entropy`` is the old policy's token entropy (used stop-gradient only).

    Examples:
      >>> import jax.numpy as jnp
      >>> loss, _ = empg_loss(jnp.zeros((1, 2)), jnp.zeros((1, 2)), jnp.array([1.0]),
      ...                     jnp.ones((1, 2)), jnp.array([[0.0, 1.0]]), jnp.array([[0, 1]]),
      ...                     num_steps=2, zeta=0.0)
      >>> round(float(loss), 4)  # -(1.4621 + 0.5379) / 2
      -1.0

    References:
      Wang et al., `Harnessing Uncertainty: Entropy-Modulated Policy Gradients for Long-Horizon
      LLM Agents <https://arxiv.org/abs/2509.09265>`_, 2025.
    """
    a = adv_lib.empg_modulate_advantages(advantages, entropy, step_ids, mask, num_steps=num_steps,
                                         k=k, k_future=k_future, zeta=zeta)
    return policy_gradient_loss(logp, old_logp, a, mask, eps_low=eps, entropy=entropy, agg=agg)


def hapo_loss(
    logp, old_logp, advantages, mask, entropy, *, pivot=0.8, alpha=1.0, beta=1.0, eps_low=0.2,
    eps_high=0.2, dual_clip=10.0, faithful_sign=False,
):
    """HAPO: entropy-adaptive asymmetric clipping and advantage redistribution.

    :math:`\\hat h` from :func:`policy._advantages.hapo_normalized_entropy`; per-token bounds from
    :func:`policy._advantages.hapo_adaptive_eps`; advantages from
    :func:`policy._advantages.hapo_redistribute_advantages`; dual-clip PPO, token-mean. Use
    :func:`policy._advantages.hapo_token_advantages` for the advantages and
    :func:`policy._advantages.hapo_temperature` for sampling.

    Examples:
      >>> import jax.numpy as jnp
      >>> loss, met = hapo_loss(jnp.zeros((1, 3)), jnp.zeros((1, 3)), jnp.ones(1),
      ...                       jnp.ones((1, 3)), jnp.array([[0.1, 1.0, 10.0]]), pivot=0.5)
      >>> round(float(loss), 4)  # r = 1 inside the band: A(1 + h) for h <= 0 -> [0, 1, 1]
      -0.6667

    References:
      Liu et al., `From Uniform to Heterogeneous: Tailoring Policy Optimization to Every Token's
      Nature <https://arxiv.org/abs/2509.16591>`_, 2025.
    """
    logp, old_logp, a, m = _setup(logp, old_logp, advantages, mask, entropy=entropy)
    h = adv_lib.hapo_normalized_entropy(entropy, m, pivot=pivot, faithful_sign=faithful_sign)
    lo, hi = adv_lib.hapo_adaptive_eps(h, eps_low=eps_low, eps_high=eps_high, alpha=alpha)
    r = jnp.exp(sg(logp - old_logp))
    a2 = adv_lib.hapo_redistribute_advantages(a, r, h, eps_low=eps_low, eps_high=eps_high,
                                              beta=beta)
    return policy_gradient_loss(logp, old_logp, a2, m, eps_low=lo, eps_high=hi,
                                dual_clip=dual_clip, entropy=entropy)


def copo_loss(
    logp, old_logp, adv_local, adv_global, mask, answer_entropy, *, k=5.0, b=1.0,
    weight_mode="soft", rewards=None, eps=0.2, agg="seq-mean-token-mean",
):
    """COPO: blend of the local (GRPO) and global (cross-prompt) PPO losses.

    .. math::

        \\ell = (1 - w_i)\\,\\ell^{\\rm PPO}(A^{\\rm glob}) + w_i\\,\\ell^{\\rm PPO}(A^{\\rm loc}),\\qquad
        w_i = \\sigma(k(H^{\\rm ans}_{g(i)} - b)),

    ``weight_mode``: ``"soft"``; ``"soft_forced"`` (:math:`w\\,1[A^{\\rm loc}\\ne 0]`);
    ``"soft_zero"`` (:math:`w\\,1[R_i \\ne 0]`, needs ``rewards``); ``"global"`` (:math:`w = 0`);
    ``"local"`` (:math:`w = 1`). ``answer_entropy`` is per response ``[batch]`` (bits), e.g.
    ``copo_global_advantages(...)[1][group_ids]``.

    Examples:
      >>> import jax.numpy as jnp
      >>> z = jnp.zeros((2, 1))
      >>> loss, met = copo_loss(z, z, jnp.zeros(2), jnp.array([1.0, -1.0]), jnp.ones((2, 1)),
      ...                       jnp.array([1.0, 1.0]))
      >>> float(met["copo/w_mean"]), float(loss)
      (0.5, 0.0)

    References:
      Han et al., `Consistency-Aware Policy Optimization <https://arxiv.org/abs/2508.04138>`_, 2025.
    """
    _check_choice("weight_mode", weight_mode, ("soft", "soft_forced", "soft_zero", "global", "local"))
    _check_rank("answer_entropy", answer_entropy, 1)
    h = sg(jnp.asarray(answer_entropy))
    w = jax.nn.sigmoid(k * (h - b))
    al = jnp.asarray(adv_local)
    if weight_mode == "soft_forced":
        w = w * (al.reshape(al.shape[0], -1)[:, 0] != 0)
    elif weight_mode == "soft_zero":
        if rewards is None:
            raise ValueError("expected rewards for weight_mode='soft_zero', got None")
        w = w * (jnp.asarray(rewards) != 0)
    elif weight_mode == "global":
        w = jnp.zeros_like(w)
    elif weight_mode == "local":
        w = jnp.ones_like(w)
    logp, old_logp, a_l, m = _setup(logp, old_logp, adv_local, mask)
    a_g = adv_lib.broadcast_advantages(adv_global, m)
    pl, info = clip_lib.vanilla_clip_loss(logp, old_logp, a_l, eps_low=eps)
    pgl, _ = clip_lib.vanilla_clip_loss(logp, old_logp, a_g, eps_low=eps)
    per_tok = (1.0 - w[:, None]) * pgl + w[:, None] * pl
    loss = aggregate_loss(per_tok, m, mode=agg)
    met = _metrics(logp, a_l, m, info)
    met.update({"copo/w_mean": jnp.mean(w), "copo/w_min": jnp.min(w), "copo/w_max": jnp.max(w)})
    return loss, met


def epo_loss(
    logp, old_logp, advantages, mask, entropy, *, entropy_hist, entropy_coef=0.01,
    smooth_coef=1.0, kappa_low=0.9, kappa_high=1.1, eps=0.2,
):
    """EPO: entropy bonus plus the entropy-smoothing penalty around the historical mean.

    .. math::

        L = L_{\\rm PPO} - \\beta_k\\,\\bar H + \\lambda\\, L_{\\rm smooth}(\\bar H, \\bar H_{\\rm hist}),

    with :math:`\\bar H` the token-mean entropy, :math:`\\beta_k` = ``entropy_coef`` (use
    :func:`policy._regularizers.epo_phase_weight`) and
    :func:`policy._regularizers.epo_smoothing_penalty`. Applying the penalty to the batch-mean
    entropy (not per trajectory) is our reading.

    Examples:
      >>> import jax.numpy as jnp
      >>> loss, _ = epo_loss(jnp.zeros((1, 2)), jnp.zeros((1, 2)), jnp.zeros(1), jnp.ones((1, 2)),
      ...                    jnp.ones((1, 2)) * 2.0, entropy_hist=1.0, entropy_coef=0.0)
      >>> round(float(loss), 4)  # 2 - 1.1
      0.9

    References:
      Xu et al., `EPO: Entropy-regularized Policy Optimization for LLM Agents Reinforcement
      Learning <https://arxiv.org/abs/2509.22576>`_, 2025.
    """
    loss, met = policy_gradient_loss(logp, old_logp, advantages, mask, eps_low=eps,
                                     entropy=entropy, entropy_coef=entropy_coef)
    h_bar = masked_mean(jnp.asarray(entropy), jnp.asarray(mask, jnp.asarray(logp).dtype))
    pen = epo_smoothing_penalty(h_bar, entropy_hist, kappa_low=kappa_low, kappa_high=kappa_high)
    met["epo/smooth_penalty"] = sg(pen)
    return loss + smooth_coef * pen, met


def agentic_ebpo_loss(
    logp, old_logp, advantages, mask, entropy, *, alpha=0.5, eps_low=0.2, eps_high=0.28,
):
    """Agentic entropy-balanced PO: entropy-aware advantages and gradient-preserving high clip.

    Advantages from :func:`policy._advantages.entropy_aware_advantages`, per-token loss from
    :func:`policy._clipping.gradient_preserving_clip_loss`, token-mean. Rollout-side pieces
    (entropy pre-monitoring, branch penalties) are not loss terms and are not implemented.

    Examples:
      >>> import jax.numpy as jnp
      >>> loss, _ = agentic_ebpo_loss(jnp.zeros((1, 3)), jnp.zeros((1, 3)), jnp.ones(1),
      ...                             jnp.ones((1, 3)), jnp.array([[1.0, 2.0, 0.0]]))
      >>> float(loss)  # -(1 + 1.5 + 0.5) / 3
      -1.0

    References:
      Dong et al., `Agentic Entropy-Balanced Policy Optimization
      <https://arxiv.org/abs/2510.14545>`_, 2025.
    """
    a = adv_lib.entropy_aware_advantages(advantages, entropy, mask, alpha=alpha)
    return policy_gradient_loss(logp, old_logp, a, mask, clip="gradient_preserving",
                                eps_low=eps_low, eps_high=eps_high, entropy=entropy)


def d3s_loss(
    logp, old_logp, advantages, mask, entropy, *, keep_fraction=0.2, sample_mask=None, eps=0.2,
):
    """D³S: PPO on the tokens with the largest :math:`|A|H` of the (down-sampled) responses.

    ``sample_mask`` ``[batch]`` comes from :func:`policy._selection.d3s_select_samples`; the token
    mask from :func:`policy._selection.d3s_token_mask` (global quantile over the kept responses).
    The dynamic schedule of ``keep_fraction`` is the caller's (our reading of the abstract).

    Examples:
      >>> import jax.numpy as jnp
      >>> loss, met = d3s_loss(jnp.zeros((1, 2)), jnp.zeros((1, 2)), jnp.ones(1),
      ...                      jnp.ones((1, 2)), jnp.array([[1.0, 0.5]]), keep_fraction=0.5)
      >>> float(loss), float(met["n_selected"])
      (-1.0, 1.0)

    References:
      `Learning More with Less: A Dynamic Dual-Level Down-Sampling Framework for Efficient Policy
      Optimization <https://arxiv.org/abs/2509.22115>`_, 2025.
    """
    _check_rank("mask", mask, 2)
    m = jnp.asarray(mask, jnp.asarray(logp).dtype)
    if sample_mask is not None:
        _check_rank("sample_mask", sample_mask, 1)
        m = m * jnp.asarray(sample_mask, m.dtype)[:, None]
    a = adv_lib.broadcast_advantages(advantages, m)
    tm = sel_lib.d3s_token_mask(a, entropy, m, keep_fraction=keep_fraction)
    loss, met = policy_gradient_loss(logp, old_logp, a, m * tm, eps_low=eps, entropy=entropy)
    met["n_selected"] = jnp.sum(tm)
    return loss, met


def dsdr_diversity(tokens, mask, rewards, group_ids, *, num_groups: int, threshold=0.5):
    """DSDR diversity of each correct response among the correct responses of its group.

    Our reading of the abstract: :math:`d_i = \\operatorname{mean}_{j} (1 - s_{ij})` over the other
    correct responses :math:`j` of the group, with :math:`s_{ij}` the fraction of aligned positions
    (over the longer of the two) where the tokens agree; 0 for incorrect responses or when no other
    correct response exists.

    Examples:
      >>> import jax.numpy as jnp
      >>> t = jnp.array([[1, 2], [1, 3], [4, 5]])
      >>> d = dsdr_diversity(t, jnp.ones((3, 2)), jnp.array([1.0, 1.0, 1.0]), jnp.zeros(3, int),
      ...                    num_groups=1)
      >>> [float(v) for v in d]
      [0.75, 0.75, 1.0]
    """
    _check_rank("tokens", tokens, 2)
    _check_same_shape("tokens", tokens, "mask", mask)
    adv_lib._check_groups(rewards, group_ids, num_groups)
    t = jnp.asarray(tokens)
    m = jnp.asarray(mask) > 0
    correct = jnp.asarray(rewards) > threshold
    g = jnp.asarray(group_ids)
    both = m[:, None, :] & m[None, :, :]
    agree = jnp.sum(both & (t[:, None, :] == t[None, :, :]), axis=-1)
    n = jnp.sum(m, axis=1)
    longer = jnp.maximum(n[:, None], n[None, :])
    sim = agree / jnp.where(longer > 0, longer, 1)
    pair = (g[:, None] == g[None, :]) & correct[:, None] & correct[None, :]
    pair = pair & ~jnp.eye(t.shape[0], dtype=bool)
    cnt = jnp.sum(pair, axis=1)
    d = jnp.sum(jnp.where(pair, 1.0 - sim, 0.0), axis=1) / jnp.where(cnt > 0, cnt, 1)
    return jnp.where(correct & (cnt > 0), d, 0.0)


def dsdr_loss(
    logp, old_logp, rewards, tokens, mask, entropy, group_ids, *, num_groups: int,
    div_coef=0.1, ent_coef=0.01, tau=1.0, eps=0.2,
):
    """DSDR dual-scale diversity regularisation (our reading of the abstract; code not seen).

    Global: reward bonus :math:`R'_i = R_i + \\lambda_g d_i` (:func:`dsdr_diversity`) before the GRPO
    advantage. Local: a length-invariant entropy bonus on correct responses,
    :math:`-\\lambda_\\ell \\frac{1}{B}\\sum_{i\\,\\rm correct} u_i \\frac{1}{n_i}\\sum_t H_{i,t}`, with
    allocation :math:`u_i = n_c\\,\\mathrm{softmax}_{\\rm correct\\ in\\ group}(d_i/\\tau)` (mean 1), so
    more distinctive correct responses get a larger share.

    Examples:
      >>> import jax.numpy as jnp
      >>> t = jnp.array([[1, 2], [1, 3]])
      >>> loss, met = dsdr_loss(jnp.zeros((2, 2)), jnp.zeros((2, 2)), jnp.array([1.0, 1.0]), t,
      ...     jnp.ones((2, 2)), jnp.ones((2, 2)), jnp.zeros(2, int), num_groups=1, ent_coef=0.5)
      >>> float(loss)  # equal rewards and diversity -> A = 0; bonus -0.5 * (1 + 1)/2
      -0.5

    References:
      `Dual-Scale Diversity Regularization for RLVR <https://arxiv.org/abs/2602.19895>`_, 2026.
    """
    d = dsdr_diversity(tokens, mask, rewards, group_ids, num_groups=num_groups)
    r2 = jnp.asarray(rewards) + div_coef * d
    a = adv_lib.grpo_advantages(r2, group_ids, num_groups=num_groups)
    loss, met = policy_gradient_loss(logp, old_logp, a, mask, eps_low=eps, entropy=entropy,
                                     agg="seq-mean-token-mean")
    correct = (jnp.asarray(rewards) > 0.5).astype(loss.dtype)
    g = jnp.asarray(group_ids)
    logit = jnp.where(correct > 0, d / tau, -jnp.inf)
    mx = jax.ops.segment_max(logit, g, num_segments=num_groups)
    e = jnp.where(correct > 0, jnp.exp(logit - jnp.where(jnp.isfinite(mx), mx, 0.0)[g]), 0.0)
    z = jax.ops.segment_sum(e, g, num_segments=num_groups)
    nc = jax.ops.segment_sum(correct, g, num_segments=num_groups)
    u = jnp.where(correct > 0, nc[g] * e / jnp.where(z > 0, z, 1.0)[g], 0.0)
    m = jnp.asarray(mask, loss.dtype)
    n_i = jnp.sum(m, axis=1)
    h_seq = jnp.sum(jnp.asarray(entropy) * m, axis=1) / jnp.where(n_i > 0, n_i, 1.0)
    local = jnp.sum(sg(u) * h_seq) / h_seq.shape[0]
    met.update({"dsdr/diversity_mean": jnp.mean(d), "dsdr/local_entropy": sg(local)})
    return loss - ent_coef * local, met


def entropy_discriminator_clip_loss(
    logp, old_logp, advantages, mask, discriminator, *, threshold=2.0, eps=0.2, entropy=None,
):
    """PPO with tokens predicted to collapse entropy excluded (entropy-discriminator clipping).

    Keep-mask from :func:`policy._selection.entropy_discriminator_mask` (our reading of Clip_B /
    Clip_V; pass the centred discriminator of :func:`policy._selection.entropy_discriminator`).

    Examples:
      >>> import jax.numpy as jnp
      >>> d = jnp.array([[0.0, 0.0, 0.0, 1.0]])
      >>> loss, met = entropy_discriminator_clip_loss(jnp.zeros((1, 4)), jnp.zeros((1, 4)),
      ...     jnp.ones(1), jnp.ones((1, 4)), d, threshold=1.5)
      >>> float(loss), float(met["n_selected"])
      (-0.75, 1.0)

    References:
      `On the Entropy Dynamics in Reinforcement Fine-Tuning of Large Language Models
      <https://arxiv.org/abs/2602.03392>`_, 2026.
    """
    _check_rank("mask", mask, 2)
    a = adv_lib.broadcast_advantages(advantages, mask)
    keep = sel_lib.entropy_discriminator_mask(discriminator, a, mask, threshold=threshold)
    loss, met = policy_gradient_loss(logp, old_logp, a, mask, eps_low=eps, weights=keep,
                                     entropy=entropy, entropy_coef=None)
    met["n_selected"] = jnp.sum((1.0 - keep) * jnp.asarray(mask, keep.dtype))
    return loss, met


def _seq_logp(logp, mask):
    _check_rank("logp", logp, 2)
    _check_same_shape("logp", logp, "mask", mask)
    _check_mask("mask", mask)
    return jnp.sum(jnp.where(jnp.asarray(mask) > 0, jnp.asarray(logp), 0.0), axis=1)


def contrastive_pg_loss(
    logp, ref_logp, mask, rewards, logp_alt, ref_logp_alt, mask_alt, rewards_alt, *, beta=0.1,
):
    """Contrastive Policy Gradient on pairs :math:`(y, y')` from any sampling distribution.

    .. math::

        L = -\\operatorname{mean}\\Big[(R - R')(\\log\\pi(y) - \\log\\pi(y'))
            - \\tfrac{\\beta}{2}\\big(\\log\\tfrac{\\pi(y)}{\\pi_{\\rm ref}(y)}
            - \\log\\tfrac{\\pi(y')}{\\pi_{\\rm ref}(y')}\\big)^2\\Big],

    whose gradient is :math:`-\\mathbb{E}[(R_\\beta(y) - R_\\beta(y'))(\\nabla\\log\\pi(y) -
    \\nabla\\log\\pi(y'))]` with :math:`R_\\beta = R - \\beta\\log(\\pi/\\pi_{\\rm ref})`. The overall
    constant factor relative to the paper is our choice.

    Args:
      logp, ref_logp, mask: ``[batch, seq]`` for :math:`y`.
      rewards: ``[batch]``.
      logp_alt, ref_logp_alt, mask_alt: ``[batch, seq']`` for :math:`y'`.
      rewards_alt: ``[batch]``.
      beta: KL strength :math:`\\beta`.

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
    """RPO: DPO plus an SFT (negative log-likelihood) term on the chosen responses.

    .. math::

        L = \\operatorname{mean}\\Big[-\\log\\sigma\\big(\\beta[(\\log\\pi - \\log\\pi_{\\rm ref})(y_w)
            - (\\log\\pi - \\log\\pi_{\\rm ref})(y_l)]\\big) - \\eta\\,\\log\\pi(y_w)\\Big].

    ``length_normalize`` divides :math:`\\log\\pi(y_w)` in the SFT term by :math:`|y_w|` (our
    option; the paper's SFT term is the unnormalised log-likelihood scaled by :math:`\\eta`).

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

