r"""Token weights and token/sample selections (all stop-gradient, all global over the batch).

Selections rank a per-token score over *every* valid token of the ``[batch, seq]`` grid: the
threshold or the top-:math:`K` set is computed from the whole batch (a global sort / quantile), so the
result does not depend on how the batch is split into micro-batches or sharded across devices (under
``jit`` with a sharded batch XLA partitions the global sort; random subsets use a partitionable PRNG
so the draws do not depend on the sharding either). The scores are

* token covariance :math:`c_{i,t} = (A_{i,t} - \bar A)(\log\pi_{i,t} - \overline{\log\pi})`
  (Clip-Cov / KL-Cov),
* token entropy :math:`H_{i,t}` (80/20 top-entropy), :math:`|A_{i,t}| H_{i,t}` (D³S),
* STEER's first-order entropy change :math:`\Omega = (A/p_{\rm old})\, p(1-p)(\log p + H)`,
* Lp-Reg's low-probability negative tokens, SIREN's top-p entropy and per-sequence peak mask,
* the entropy discriminator :math:`S_a = p_a (H + \log p_a)` of a sampled token.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from policy._core import (
    _check_choice,
    _check_fraction,
    _check_ids,
    _check_mask,
    _check_positive,
    _check_rank,
    _check_same_shape,
    entropy_from_logits,
    log_softmax_temperature,
    masked_mean,
)

sg = jax.lax.stop_gradient


def _check_grid(mask, **arrays):
    _check_rank("mask", mask, 2)
    for name, a in arrays.items():
        _check_same_shape("mask", mask, name, a)
    _check_mask("mask", mask)


def _top_k_mask(score, valid, k):
    """Bool mask of the ``k`` (dynamic) highest scores among ``valid`` entries; ties by position."""
    s = jnp.where(valid, score, -jnp.inf).ravel()
    order = jnp.argsort(-s, stable=True)
    rank = jnp.zeros(s.shape, jnp.int32).at[order].set(jnp.arange(s.size, dtype=jnp.int32))
    return (rank.reshape(score.shape) < k) & valid


def _quantile_mask(score, valid, q, *, method="linear"):
    """Entries of ``valid`` with score >= the ``q``-quantile of the valid scores (global)."""
    thr = jnp.nanquantile(jnp.where(valid, score, jnp.nan), q, method=method)
    return valid & (score >= thr)


def token_covariance(logp, advantages, mask):
    r"""Per-token covariance term :math:`(A - \bar A)(\log\pi - \overline{\log\pi})`, means over valid.

    Examples:
      >>> import jax.numpy as jnp
      >>> c = token_covariance(jnp.array([[0.0, -2.0]]), jnp.array([[1.0, -1.0]]), jnp.ones((1, 2)))
      >>> [float(v) for v in c[0]]
      [1.0, 1.0]
    """
    _check_grid(mask, logp=logp, advantages=advantages)
    lp = sg(jnp.asarray(logp))
    a = sg(jnp.asarray(advantages))
    m = jnp.asarray(mask, lp.dtype)
    return jnp.where(m > 0, (a - masked_mean(a, m)) * (lp - masked_mean(lp, m)), 0.0)


def top_entropy_mask(entropy, mask, *, keep_fraction=0.2):
    r"""80/20 rule: keep valid tokens with :math:`H \ge q_{1-\rho}(H)` over the whole batch.

    The quantile (linear interpolation, as ``torch.quantile``) is taken over the valid tokens only,
    so padding never shifts the threshold.

    Args:
      entropy: ``[batch, seq]`` token entropies.
      mask: ``[batch, seq]`` 0/1.
      keep_fraction: :math:`\rho` in ``(0, 1]``.

    Returns:
      ``[batch, seq]`` float 0/1 mask.

    Examples:
      >>> import jax.numpy as jnp
      >>> top_entropy_mask(jnp.array([[0.1, 0.9, 0.5, 9.0]]), jnp.array([[1.0, 1.0, 1.0, 0.0]]),
      ...                  keep_fraction=0.4).tolist()
      [[0.0, 1.0, 0.0, 0.0]]

    References:
      Wang et al., `Beyond the 80/20 Rule: High-Entropy Minority Tokens Drive Effective RL for LLM
      Reasoning <https://arxiv.org/abs/2506.01939>`_, 2025.
    """
    _check_grid(mask, entropy=entropy)
    _check_fraction("keep_fraction", keep_fraction, closed_low=False)
    h = sg(jnp.asarray(entropy))
    return _quantile_mask(h, jnp.asarray(mask) > 0, 1.0 - keep_fraction).astype(h.dtype)


def d3s_token_mask(advantages, entropy, mask, *, keep_fraction=0.2):
    r"""D³S token down-sampling: keep the top fraction of valid tokens by :math:`|A|\cdot H`.

    Our reading of the abstract: the same global quantile rule as :func:`top_entropy_mask` applied
    to the score :math:`|A_{i,t}| H_{i,t}`.

    Examples:
      >>> import jax.numpy as jnp
      >>> d3s_token_mask(jnp.array([[1.0, -2.0, 0.0]]), jnp.array([[1.0, 1.0, 5.0]]),
      ...                jnp.ones((1, 3)), keep_fraction=0.5).tolist()
      [[1.0, 1.0, 0.0]]

    References:
      `Learning More with Less: A Dynamic Dual-Level Down-Sampling Framework for Efficient Policy
      Optimization <https://arxiv.org/abs/2509.22115>`_, 2025.
    """
    _check_grid(mask, entropy=entropy, advantages=advantages)
    _check_fraction("keep_fraction", keep_fraction, closed_low=False)
    s = jnp.abs(sg(jnp.asarray(advantages))) * sg(jnp.asarray(entropy))
    return _quantile_mask(s, jnp.asarray(mask) > 0, 1.0 - keep_fraction).astype(s.dtype)


def d3s_select_samples(rewards, *, k: int):
    """D³S sample down-sampling: per group keep ``k`` responses maximising the reward variance.

    For a fixed size the variance-maximising subset of reals is always "some of the smallest plus
    the rest of the largest"; we try every split :math:`j` smallest + :math:`k-j` largest and keep the
    best (ties: smallest :math:`j`). For 0/1 rewards this is the most balanced correct/incorrect set.

    Args:
      rewards: ``[num_groups, group_size]`` rewards laid out by group.
      k: static number of responses to keep per group, ``1 <= k <= group_size``.

    Returns:
      ``[num_groups, group_size]`` bool keep-mask with ``k`` entries per row.

    Examples:
      >>> import jax.numpy as jnp
      >>> d3s_select_samples(jnp.array([[1.0, 1.0, 1.0, 0.0]]), k=2).tolist()
      [[False, False, True, True]]
    """
    _check_rank("rewards", rewards, 2)
    n = np.shape(rewards)[1]
    if not 1 <= k <= n:
        raise ValueError(f"expected 1 <= k <= group_size = {n}, got {k}")
    r = sg(jnp.asarray(rewards))

    def one(row):
        order = jnp.argsort(row, stable=True)
        srt = row[order]
        pos = jnp.arange(n)
        best_v, best_j = -jnp.inf, 0
        for j in range(k + 1):
            sel = (pos < j) | (pos >= n - (k - j))
            v = jnp.var(srt, where=sel)
            better = v > best_v + 1e-12
            best_v = jnp.where(better, v, best_v)
            best_j = jnp.where(better, j, best_j)
        sel = (pos < best_j) | (pos >= n - (k - best_j))
        return jnp.zeros(n, bool).at[order].set(sel)

    return jax.vmap(one)(r)


def steer_weights(
    *, logp, old_logp, advantages, entropy, mask, mode="linear", lam_min=0.8, lam_max=1.2
):
    r"""STEER token weights from the first-order entropy change of each token's update.

    .. math::

        \Omega = \frac{A}{p_{\rm old}}\, p(1-p)(\log p + H), \quad
        w_{\rm lin} = \mathrm{clip}\Big(\lambda_{\max} - \frac{|\Omega| - \min|\Omega|}
            {\max|\Omega| - \min|\Omega|}(\lambda_{\max}-\lambda_{\min}),
            \lambda_{\min}, \lambda_{\max}\Big),

    or ``mode="exp"``: :math:`k = -\log\lambda_{\min}/\max(\max|\Omega|, 0.02)`,
    :math:`w = \mathrm{clip}(e^{-k|\Omega|}, \lambda_{\min}, 1)`. :math:`p` is clipped to
    :math:`[10^{-8}, 1-10^{-8}]`, non-finite :math:`\Omega` set to 0, min/max over the batch's valid
    tokens; if all :math:`|\Omega|` are equal the linear weight is
    :math:`(\lambda_{\min}+\lambda_{\max})/2`.

    Returns:
      ``[batch, seq]`` weights (stop-gradient), 0 at masked positions.

    Examples:
      >>> import jax.numpy as jnp
      >>> lp = jnp.log(jnp.array([[0.5, 0.5]]))
      >>> w = steer_weights(logp=lp, old_logp=lp, advantages=jnp.array([[1.0, 0.0]]), entropy=jnp.ones((1, 2)),
      ...                   mask=jnp.ones((1, 2)))
      >>> [round(float(v), 3) for v in w[0]]  # largest |Omega| -> lam_min
      [0.8, 1.2]

    References:
      `Rethinking Entropy Interventions in RLVR: An Entropy Change Perspective
      <https://arxiv.org/abs/2510.10150>`_, 2025.
    """
    _check_grid(mask, logp=logp, old_logp=old_logp, advantages=advantages, entropy=entropy)
    _check_choice("mode", mode, ("linear", "exp"))
    p = jnp.clip(jnp.exp(sg(jnp.asarray(logp))), 1e-8, 1 - 1e-8)
    p_old = jnp.exp(sg(jnp.asarray(old_logp)))
    a = sg(jnp.asarray(advantages))
    h = sg(jnp.asarray(entropy))
    om = a / p_old * p * (1.0 - p) * (jnp.log(p) + h)
    om = jnp.abs(jnp.where(jnp.isfinite(om), om, 0.0))
    m = jnp.asarray(mask) > 0
    lo = jnp.min(jnp.where(m, om, jnp.inf))
    hi = jnp.max(jnp.where(m, om, -jnp.inf))
    if mode == "linear":
        span = hi - lo
        w = lam_max - (om - lo) * (lam_max - lam_min) / jnp.where(span > 0, span, 1.0)
        w = jnp.where(span > 0, jnp.clip(w, lam_min, lam_max), 0.5 * (lam_min + lam_max))
    else:
        kk = -jnp.log(lam_min) / jnp.maximum(hi, 0.02)
        w = jnp.clip(jnp.exp(-kk * om), lam_min, 1.0)
    return jnp.where(m, w, 0.0)


def clip_cov_mask(
    *, logp, old_logp, advantages, mask, key, fraction=2e-4, cov_low=1.0, cov_high=5.0,
    eps_low=0.2, eps_high=0.2,
):
    r"""Clip-Cov selection: a random subset of moderate-covariance tokens whose gradient is cut.

    Candidates are valid tokens with :math:`\mathrm{lb} < c_{i,t} < \mathrm{ub}` that PPO did not
    already clip (:math:`-A\,\mathrm{clip}(r) > -A r`); :math:`n = \max(\lfloor\rho N\rfloor, 1)`
    of them (all, if fewer) are drawn uniformly without replacement with ``key``. ``N`` is the
    number of valid tokens in the *whole* batch.

    Args:
      logp: ``[batch, seq]`` current log-probs.
      old_logp: ``[batch, seq]``.
      advantages: ``[batch, seq]``.
      mask: ``[batch, seq]``.
      key: PRNG key for the random subset.
      fraction: :math:`\rho`, the fraction of valid tokens to cut (verl's ``clip_cov_ratio``).
      cov_low: lb.
      cov_high: ub.
      eps_low: PPO :math:`\epsilon_l` used to exclude already-clipped tokens.
      eps_high: PPO :math:`\epsilon_h`.

    Returns:
      ``(keep, cov)``: float ``[batch, seq]`` with 0 on the selected tokens and 1 elsewhere; the
      covariance scores.

    Examples:
      >>> import jax, jax.numpy as jnp
      >>> lp = jnp.array([[0.0, -4.0, -4.0, 0.0]])
      >>> keep, cov = clip_cov_mask(logp=lp, old_logp=lp, advantages=jnp.array([[1.0, -1.0, 1.0, -1.0]]),
      ...                           mask=jnp.ones((1, 4)),
      ...                           key=jax.random.key(0), fraction=0.25)
      >>> [float(v) for v in cov[0]], float(keep.sum())
      ([2.0, 2.0, -2.0, -2.0], 3.0)

    References:
      Cui et al., `The Entropy Mechanism of Reinforcement Learning for Reasoning Language Models
      <https://arxiv.org/abs/2505.22617>`_, 2025.
    """
    _check_grid(mask, logp=logp, old_logp=old_logp, advantages=advantages)
    cov = token_covariance(logp, advantages, mask)
    m = jnp.asarray(mask) > 0
    lp, olp = sg(jnp.asarray(logp)), sg(jnp.asarray(old_logp))
    a = sg(jnp.asarray(advantages))
    r = jnp.exp(lp - olp)
    clipped = (-a * jnp.clip(r, 1 - eps_low, 1 + eps_high)) > (-a * r)
    cand = m & (cov > cov_low) & (cov < cov_high) & ~clipped
    n_clip = jnp.maximum(jnp.floor(fraction * jnp.sum(m)), 1).astype(jnp.int32)
    u = jax.random.uniform(key, cov.shape)
    sel = _top_k_mask(-u, cand, n_clip)
    return jnp.where(sel, 0.0, 1.0).astype(cov.dtype), cov


def kl_cov_mask(logp, advantages, mask, *, fraction=2e-4):
    r"""KL-Cov selection: the top :math:`K = \max(\lfloor kN \rfloor, 1)` valid tokens by covariance.

    ``fraction`` is a fraction (verl's ``kl_cov_ratio``); the original repo's ``k_percent`` is a
    percentage (0.2 -> 2e-3). ``N`` counts the valid tokens of the whole batch.

    Returns:
      ``(selected, cov)``: float 0/1 ``[batch, seq]`` and the covariance scores.

    Examples:
      >>> import jax.numpy as jnp
      >>> sel, _ = kl_cov_mask(jnp.array([[0.0, -2.0, -1.0]]), jnp.array([[1.0, -1.0, 0.0]]),
      ...                      jnp.ones((1, 3)), fraction=0.5)
      >>> sel.tolist()
      [[1.0, 0.0, 0.0]]

    References:
      Cui et al., `The Entropy Mechanism of Reinforcement Learning for Reasoning Language Models
      <https://arxiv.org/abs/2505.22617>`_, 2025.
    """
    cov = token_covariance(logp, advantages, mask)
    m = jnp.asarray(mask) > 0
    k = jnp.maximum(jnp.floor(fraction * jnp.sum(m)), 1).astype(jnp.int32)
    return _top_k_mask(cov, m, k).astype(cov.dtype), cov


def lp_reg_proxy_logp(logits, tokens, *, kappa=0.02, temperature=1.0, mode="minp"):
    r"""Lp-Reg proxy log-probs of the sampled tokens (stop-gradient).

    ``mode="minp"`` keeps vocabulary entries with :math:`p_v \ge \kappa \max_u p_u`, ``"fixed"``
    those with :math:`p_v \ge \kappa`; the proxy renormalises over the kept set,
    :math:`\log\pi_{\rm proxy}(a) = \log p_a - \log\sum_{\rm kept} p` for a kept token and
    :math:`-\infty` otherwise.

    Examples:
      >>> import jax.numpy as jnp
      >>> z = jnp.log(jnp.array([[0.6, 0.39, 0.01], [0.6, 0.39, 0.01]]))
      >>> lp = lp_reg_proxy_logp(z, jnp.array([1, 2]), kappa=0.1)
      >>> round(float(jnp.exp(lp[0])), 4), float(lp[1])
      (0.3939, -inf)

    References:
      `Low-probability Tokens Sustain Exploration in Reinforcement Learning with Verifiable Reward
      <https://arxiv.org/abs/2510.03222>`_, 2025.
    """
    _check_choice("mode", mode, ("minp", "fixed"))
    z = sg(jnp.asarray(logits))
    if np.shape(tokens) != z.shape[:-1]:
        raise ValueError(f"expected tokens of shape {z.shape[:-1]}, got {np.shape(tokens)}")
    _check_ids("tokens", tokens, z.shape[-1])
    lp = log_softmax_temperature(z, temperature=temperature)
    thr = jnp.log(kappa) + (jnp.max(lp, axis=-1, keepdims=True) if mode == "minp" else 0.0)
    keep = lp >= thr
    log_z = jax.nn.logsumexp(jnp.where(keep, lp, -jnp.inf), axis=-1, keepdims=True)
    proxy = jnp.where(keep, lp - log_z, -jnp.inf)
    return jnp.take_along_axis(proxy, jnp.asarray(tokens)[..., None], axis=-1)[..., 0]


def lp_reg_mask(logp, proxy_logp, advantages, mask, *, neg_fraction=0.01, pos_fraction=0.0):
    r"""Lp-Reg regularised-token selection.

    Among valid tokens with :math:`A < 0`: :math:`K = \max(1, \lfloor\rho_-|\mathrm{NEG}|\rfloor)`;
    only if :math:`K > 1` (reference behaviour) take the :math:`K` lowest-:math:`\log\pi` tokens and
    keep those with :math:`\log\pi < \log\pi_{\rm proxy}`. Same for :math:`A > 0` with
    :math:`\rho_+`. Global over the batch.

    Returns:
      ``[batch, seq]`` float 0/1 selection.

    Examples:
      >>> import jax.numpy as jnp
      >>> lp = jnp.array([[-5.0, -4.0, -0.1, -3.0]])
      >>> s = lp_reg_mask(lp, lp + 0.5, -jnp.ones((1, 4)), jnp.ones((1, 4)), neg_fraction=0.5)
      >>> s.tolist()
      [[1.0, 1.0, 0.0, 0.0]]
    """
    _check_grid(mask, logp=logp, proxy_logp=proxy_logp, advantages=advantages)
    lp = sg(jnp.asarray(logp))
    px = sg(jnp.asarray(proxy_logp))
    a = sg(jnp.asarray(advantages))
    m = jnp.asarray(mask) > 0
    out = jnp.zeros(lp.shape, bool)
    for frac, side in ((neg_fraction, m & (a < 0)), (pos_fraction, m & (a > 0))):
        k = jnp.maximum(jnp.floor(frac * jnp.sum(side)), 1).astype(jnp.int32)
        sel = _top_k_mask(-lp, side, k) & (k > 1) & (lp < px)
        out = out | sel
    return out.astype(lp.dtype)


def siren_top_p_entropy(logits, *, top_p=0.95, top_k: int | None = None, temperature=1.0):
    r"""SIREN top-p entropy (differentiable) of :math:`\operatorname{softmax}(z/\tau)`.

    Sort probabilities (within the top-``top_k``), keep the ranks whose *inclusive* cumulative mass
    is :math:`< p` (the token that crosses :math:`p` is excluded, as in the reference code),
    renormalise to :math:`q` and return :math:`-\sum q\log(q + 10^{-12})`; 0 if nothing is kept.

    Args:
      logits: ``[..., vocab]``.
      top_p: nucleus mass :math:`p`.
      top_k: optional static cap on the candidate set (reference: 10000).
      temperature: :math:`\tau`.

    Returns:
      ``[...]`` entropies.

    Examples:
      >>> import jax.numpy as jnp
      >>> z = jnp.log(jnp.array([0.4, 0.4, 0.15, 0.05]))
      >>> round(float(siren_top_p_entropy(z, top_p=0.9)), 4)  # keeps the two 0.4's -> log 2
      0.6931

    References:
      `Rethinking Entropy Regularization in Large Reasoning Models
      <https://arxiv.org/abs/2509.25133>`_, 2025.
    """
    _check_positive("temperature", temperature)
    z = jnp.asarray(logits)
    v = z.shape[-1]
    k = v if top_k is None else min(int(top_k), v)
    p = jax.nn.softmax(z / temperature, axis=-1)
    ps, _ = jax.lax.top_k(p, k)
    keep = jnp.cumsum(ps, axis=-1) < top_p
    mass = jnp.sum(jnp.where(keep, ps, 0.0), axis=-1, keepdims=True)
    q = jnp.where(keep, ps / jnp.where(mass > 0, mass, 1.0), 0.0)
    return -jnp.sum(jnp.where(keep, q * jnp.log(q + 1e-12), 0.0), axis=-1)


def siren_peak_mask(entropy, mask, *, quantile=0.8):
    r"""SIREN peak-entropy mask: per *sequence*, keep valid tokens with :math:`H > q_{\rm quantile}(H)`.

    The quantile (default 0.8: the top 20% of each sequence) is linear over each row's valid
    tokens; a row with no valid token keeps nothing.

    Examples:
      >>> import jax.numpy as jnp
      >>> siren_peak_mask(jnp.array([[1.0, 2.0, 3.0, 4.0, 5.0]]), jnp.ones((1, 5))).tolist()
      [[0.0, 0.0, 0.0, 0.0, 1.0]]
    """
    _check_grid(mask, entropy=entropy)
    h = sg(jnp.asarray(entropy))
    m = jnp.asarray(mask) > 0
    q = jnp.nanquantile(jnp.where(m, h, jnp.nan), quantile, axis=1, keepdims=True)
    return (m & (h > q)).astype(h.dtype)


def entropy_discriminator(logits, tokens, *, temperature=1.0):
    r"""Entropy discriminator of the sampled token and its policy-centred version.

    .. math::

        S_a = p_a\,(H + \log p_a), \qquad
        \mathbb{E}_{\pi}[S] = \sum_v p_v^2 (H + \log p_v), \qquad
        \tilde S_a = S_a - \mathbb{E}_\pi[S].

    Increasing the logit :math:`z_a` by :math:`\epsilon` changes the entropy by
    :math:`-\epsilon S_a/\tau + O(\epsilon^2)`.

    Returns:
      ``(S, S_centred)`` of shape ``logits.shape[:-1]`` (stop-gradient).

    Examples:
      >>> import jax.numpy as jnp
      >>> s, sc = entropy_discriminator(jnp.zeros((1, 4)), jnp.array([0]))
      >>> round(float(s[0]), 6), round(float(sc[0]), 6)  # uniform: H + log p = 0
      (0.0, 0.0)

    References:
      `On the Entropy Dynamics in Reinforcement Fine-Tuning of Large Language Models
      <https://arxiv.org/abs/2602.03392>`_, 2026.
    """
    z = sg(jnp.asarray(logits))
    if np.shape(tokens) != z.shape[:-1]:
        raise ValueError(f"expected tokens of shape {z.shape[:-1]}, got {np.shape(tokens)}")
    _check_ids("tokens", tokens, z.shape[-1])
    lp = log_softmax_temperature(z, temperature=temperature)
    p = jnp.exp(lp)
    h = entropy_from_logits(z, temperature=temperature)
    s_all = p * (h[..., None] + lp)
    es = jnp.sum(p * s_all, axis=-1)
    s = jnp.take_along_axis(s_all, jnp.asarray(tokens)[..., None], axis=-1)[..., 0]
    return s, s - es


def entropy_discriminator_mask(discriminator, advantages, mask, *, threshold=2.0):
    r"""Clip_B / Clip_V-style exclusion of tokens predicted to collapse entropy (our reading).

    The first-order entropy change of a token's update is proportional to
    :math:`-A\,\tilde S`; we score :math:`d = A\,\tilde S` (positive = entropy decrease), normalise by
    the standard deviation of :math:`d` over the batch's valid tokens and drop the tokens with
    :math:`d/\mathrm{sd} >` ``threshold``. Pass the policy-centred :math:`\tilde S` for Clip_V, or
    :math:`S - \bar S_{\rm batch}` for Clip_B. The paper's thresholds were not checked.

    Returns:
      ``[batch, seq]`` float keep-mask (1 keep, 0 dropped).

    Examples:
      >>> import jax.numpy as jnp
      >>> d = jnp.array([[0.0, 0.0, 0.0, 1.0]])
      >>> entropy_discriminator_mask(d, jnp.ones((1, 4)), jnp.ones((1, 4)), threshold=1.5).tolist()
      [[1.0, 1.0, 1.0, 0.0]]
    """
    _check_grid(mask, discriminator=discriminator, advantages=advantages)
    d = sg(jnp.asarray(advantages) * jnp.asarray(discriminator))
    m = jnp.asarray(mask, d.dtype)
    sd = jnp.sqrt(masked_mean((d - masked_mean(d, m)) ** 2, m))
    drop = (m > 0) & (d / jnp.where(sd > 0, sd, 1.0) > threshold) & (sd > 0)
    return jnp.where(drop, 0.0, 1.0).astype(d.dtype)
