"""Ratio/clip rules turning log-probs and advantages into per-token policy-gradient losses.

With :math:`r = \\pi_\\theta/\\pi_{\\rm old}` (log-ratio clipped to :math:`\\pm 20`) and advantage
:math:`A`:

* vanilla PPO with clip-higher and dual-clip (verl):
  :math:`c_1 = \\max(-A r, -A\\,\\mathrm{clip}(r, 1-\\epsilon_l, 1+\\epsilon_h))`,
  :math:`\\ell = \\min(c_1, -A c)` where :math:`A < 0`, else :math:`c_1`;
* TRL: :math:`\\ell = -\\min(\\min(r, \\delta) A, \\mathrm{clip}(r) A)`;
* gradient-preserving high clip: for :math:`A > 0, r > 1+\\epsilon_h`,
  :math:`\\ell = -A (1+\\epsilon_h)\\, r/\\mathrm{sg}(r)` (value clipped, gradient kept);
* no clip: :math:`\\ell = -A r`;
* CISPO: :math:`\\ell = -\\mathrm{sg}(\\min(r, \\epsilon_{\\max}))\\, A \\log\\pi_\\theta`;
* SAPO: :math:`\\ell = -\\sigma(\\tau (r - 1))\\, (4/\\tau)\\, A` with :math:`\\tau` chosen by the sign
  of :math:`A`.

Each rule returns ``(loss, info)`` where ``info`` holds per-token arrays (ratio, log-ratio and
boolean clip indicators) from which the objectives compute their metrics. ``epsilon`` arguments
may be scalars or per-token arrays (HAPO's adaptive bounds).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from policy._core import _check_same_shape, importance_ratio

sg = jax.lax.stop_gradient


def _prep(logp, old_logp, advantages, clamp):
    _check_same_shape("logp", logp, "old_logp", old_logp)
    adv = jnp.asarray(advantages)
    if adv.shape != jnp.shape(logp):
        raise ValueError(
            f"expected advantages of shape {jnp.shape(logp)} (per token), got {adv.shape}"
        )
    ratio, log_r = importance_ratio(logp, old_logp, clamp=clamp)
    return sg(adv), ratio, log_r


def _info(ratio, log_r, clipped, low, high, dual):
    f = jnp.zeros_like(ratio, dtype=bool)
    return {
        "ratio": ratio,
        "log_ratio": log_r,
        "clipped": clipped,
        "clipped_low": low,
        "clipped_high": high,
        "clipped_dual": f if dual is None else dual,
    }


def vanilla_clip_loss(
    logp, old_logp, advantages, *, eps_low=0.2, eps_high=None, dual_clip=None, clamp=20.0
):
    """PPO clipped surrogate with clip-higher and optional dual-clip (verl ``vanilla``).

    .. math::

        c_1 = \\max(-A r,\\; -A\\,\\mathrm{clip}(r, 1-\\epsilon_l, 1+\\epsilon_h)), \\qquad
        \\ell = \\begin{cases} \\min(c_1, -A c) & A < 0 \\text{ and dual-clip } c \\\\
        c_1 & \\text{otherwise.}\\end{cases}

    Args:
      logp: current log-probs ``[batch, seq]`` (differentiable).
      old_logp: behaviour log-probs ``[batch, seq]``.
      advantages: per-token advantages ``[batch, seq]`` (treated as constants).
      eps_low: :math:`\\epsilon_l` (scalar or ``[batch, seq]``).
      eps_high: :math:`\\epsilon_h`; ``None`` means ``eps_low`` (symmetric PPO).
      dual_clip: :math:`c > 1` or ``None`` for no dual clip.
      clamp: bound on the log-ratio before exponentiation.

    Returns:
      ``(loss, info)``: per-token loss and a dict of per-token diagnostics.

    Raises:
      ValueError: on shape mismatch or ``dual_clip <= 1``.

    Examples:
      >>> import jax.numpy as jnp
      >>> l, _ = vanilla_clip_loss(jnp.log(jnp.array([1.5])), jnp.zeros(1), jnp.ones(1),
      ...                          eps_high=0.28)
      >>> round(float(l[0]), 4)
      -1.28

    References:
      Schulman et al., `Proximal Policy Optimization Algorithms
      <https://arxiv.org/abs/1707.06347>`_, 2017. Ye et al., `Mastering Complex Control in MOBA
      Games with Deep RL (dual-clip) <https://arxiv.org/abs/1912.09729>`_, 2020.
    """
    if dual_clip is not None and not dual_clip > 1.0:
        raise ValueError(f"expected dual_clip > 1, got {dual_clip}")
    eps_high = eps_low if eps_high is None else eps_high
    adv, r, log_r = _prep(logp, old_logp, advantages, clamp)
    p1 = -adv * r
    p2 = -adv * jnp.clip(r, 1.0 - eps_low, 1.0 + eps_high)
    c1 = jnp.maximum(p1, p2)
    clipped = p2 > p1
    dual = None
    loss = c1
    if dual_clip is not None:
        p3 = -adv * dual_clip
        dual = (c1 > p3) & (adv < 0)
        loss = jnp.where(adv < 0, jnp.minimum(p3, c1), c1)
    low = (r < 1.0 - eps_low) & (adv < 0)
    high = (r > 1.0 + eps_high) & (adv > 0)
    return loss, _info(r, log_r, clipped, low, high, dual)


def trl_clip_loss(logp, old_logp, advantages, *, eps_low=0.2, eps_high=None, delta=None):
    """TRL's GRPO per-token loss :math:`-\\min(\\min(r,\\delta) A, \\mathrm{clip}(r) A)`.

    No log-ratio clamp and no dual clip; ``delta`` (INTELLECT-2) caps the unclipped ratio.

    Args:
      logp: current log-probs ``[batch, seq]``.
      old_logp: behaviour log-probs ``[batch, seq]``.
      advantages: per-token advantages ``[batch, seq]``.
      eps_low: :math:`\\epsilon_l`.
      eps_high: :math:`\\epsilon_h` (``None``: ``eps_low``).
      delta: optional upper cap on :math:`r` in the unclipped term.

    Returns:
      ``(loss, info)``.

    Examples:
      >>> import jax.numpy as jnp
      >>> l, _ = trl_clip_loss(jnp.log(jnp.array([5.0])), jnp.zeros(1), -jnp.ones(1))
      >>> round(float(l[0]), 4)
      5.0

    References:
      Shao et al., `DeepSeekMath <https://arxiv.org/abs/2402.03300>`_, 2024.
    """
    eps_high = eps_low if eps_high is None else eps_high
    adv, r, log_r = _prep(logp, old_logp, advantages, None)
    r1 = r if delta is None else jnp.minimum(r, delta)
    t1 = r1 * adv
    t2 = jnp.clip(r, 1.0 - eps_low, 1.0 + eps_high) * adv
    loss = -jnp.minimum(t1, t2)
    low = (r < 1.0 - eps_low) & (adv < 0)
    high = (r > 1.0 + eps_high) & (adv > 0)
    return loss, _info(r, log_r, t2 < t1, low, high, None)


def gradient_preserving_clip_loss(
    logp, old_logp, advantages, *, eps_low=0.2, eps_high=0.28, preserve_low=False, clamp=20.0
):
    """PPO clip whose high-side clipped tokens keep their gradient (stop-gradient clipping).

    For :math:`A > 0` and :math:`r > 1+\\epsilon_h` the loss is
    :math:`-A (1+\\epsilon_h)\\, r/\\mathrm{sg}(r)`: the value equals PPO's clipped value, the
    gradient w.r.t. :math:`\\log\\pi` is :math:`-A(1+\\epsilon_h)` instead of 0. With
    ``preserve_low`` the same is done for :math:`A < 0, r < 1-\\epsilon_l`. Elsewhere it is PPO.

    Args:
      logp: current log-probs ``[batch, seq]``.
      old_logp: behaviour log-probs ``[batch, seq]``.
      advantages: per-token advantages ``[batch, seq]``.
      eps_low: :math:`\\epsilon_l`.
      eps_high: :math:`\\epsilon_h`.
      preserve_low: also keep gradients of low-side clipped tokens (our option; the agentic
        entropy-balanced paper's summaries describe the high side only).
      clamp: bound on the log-ratio.

    Returns:
      ``(loss, info)``.

    Examples:
      >>> import jax
      >>> import jax.numpy as jnp
      >>> f = lambda lp: gradient_preserving_clip_loss(lp, jnp.zeros(1), jnp.ones(1))[0].sum()
      >>> round(float(jax.grad(f)(jnp.log(jnp.array([2.0])))[0]), 4)
      -1.28

    References:
      Dong et al., `Agentic Entropy-Balanced Policy Optimization
      <https://arxiv.org/abs/2510.14545>`_, 2025. Su et al., `Klear-Reasoner (GPPO)
      <https://arxiv.org/abs/2508.07629>`_, 2025.
    """
    adv, r, log_r = _prep(logp, old_logp, advantages, clamp)
    high = (adv > 0) & (r > 1.0 + eps_high)
    low = (adv < 0) & (r < 1.0 - eps_low)
    ppo = jnp.maximum(-adv * r, -adv * jnp.clip(r, 1.0 - eps_low, 1.0 + eps_high))
    loss = jnp.where(high, -adv * (1.0 + eps_high) * r / sg(r), ppo)
    if preserve_low:
        loss = jnp.where(low, -adv * (1.0 - eps_low) * r / sg(r), loss)
    return loss, _info(r, log_r, high | low, low, high, None)


def no_clip_loss(logp, old_logp, advantages):
    """Unclipped importance-weighted surrogate :math:`\\ell = -A r` (KL-Cov's base loss).

    The log-ratio is not clamped (as in verl's ``kl_cov``).

    Examples:
      >>> import jax.numpy as jnp
      >>> l, _ = no_clip_loss(jnp.log(jnp.array([3.0])), jnp.zeros(1), jnp.ones(1))
      >>> round(float(l[0]), 4)
      -3.0
    """
    adv, r, log_r = _prep(logp, old_logp, advantages, None)
    f = jnp.zeros_like(r, dtype=bool)
    return -adv * r, _info(r, log_r, f, f, f, None)


def cispo_loss(logp, old_logp, advantages, *, eps_max=5.0):
    """CISPO: :math:`\\ell = -\\mathrm{sg}(\\min(r, \\epsilon_{\\max}))\\, A\\, \\log\\pi_\\theta`.

    Every token keeps a REINFORCE gradient; only the importance weight is capped.

    Examples:
      >>> import jax.numpy as jnp
      >>> l, _ = cispo_loss(jnp.array([-1.0]), jnp.array([-1.0]), jnp.ones(1))
      >>> float(l[0])
      1.0

    References:
      MiniMax, `MiniMax-M1 <https://arxiv.org/abs/2506.13585>`_, 2025.
    """
    adv, r, log_r = _prep(logp, old_logp, advantages, None)
    w = sg(jnp.minimum(r, eps_max))
    high = (r > eps_max) & (adv != 0)
    f = jnp.zeros_like(r, dtype=bool)
    return -w * adv * jnp.asarray(logp), _info(r, log_r, high, f, high, None)


def sapo_loss(logp, old_logp, advantages, *, tau_pos=1.0, tau_neg=1.05):
    """SAPO soft gate: :math:`\\ell = -\\sigma(\\tau(r-1))\\,(4/\\tau)\\,A`, :math:`\\tau` by sign of A.

    At :math:`r = 1` the gradient w.r.t. :math:`\\log\\pi` is :math:`-A`, as for PPO.

    Examples:
      >>> import jax.numpy as jnp
      >>> l, _ = sapo_loss(jnp.zeros(1), jnp.zeros(1), jnp.ones(1))
      >>> float(l[0])
      -2.0

    References:
      Gao et al., `Soft Adaptive Policy Optimization <https://arxiv.org/abs/2511.20347>`_, 2025.
    """
    adv, r, log_r = _prep(logp, old_logp, advantages, None)
    tau = jnp.where(adv > 0, tau_pos, tau_neg)
    f = jnp.zeros_like(r, dtype=bool)
    return -jax.nn.sigmoid(tau * (r - 1.0)) * 4.0 / tau * adv, _info(r, log_r, f, f, f, None)
