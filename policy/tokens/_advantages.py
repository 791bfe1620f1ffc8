r"""Advantage estimators and advantage transforms for group-sampled (GRPO-style) rollouts.

Rewards :math:`R_i` of ``batch`` responses carry a group id :math:`g(i) \in [0, G)` (the prompt).
Estimators (all stop-gradient, one value per response unless stated):

* GRPO: :math:`A_i = (R_i - \bar R_g)/(s_g + \epsilon)` with the unbiased (Bessel) group std;
  Dr. GRPO drops the std; RLOO uses the leave-one-out mean :math:`A_i = \frac{n}{n-1}(R_i-\bar R_g)`;
* HAPO token-level group average: mean and population std over the group's *tokens*;
* OBLR-PO optimal baseline :math:`b_g = \sum w_i R_i / \sum w_i` with :math:`w_i` a proxy of
  :math:`\|\nabla \log\pi(o_i)\|^2`;
* COPO global advantage over prompts, EMPO cluster-frequency reward.

Transforms map per-token advantages to per-token advantages: DCPO's double importance-sampling mix,
EMPG's entropy modulation, HAPO's redistribution and the agentic entropy-aware scaling. DAPO's
dynamic-sampling filter and overlong shaping are reward-side utilities living here too.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from policy._core import (
    _check_choice,
    _check_ids,
    _check_mask,
    _check_rank,
    _check_same_shape,
    masked_mean,
)
from sgn import _checks

sg = jax.lax.stop_gradient


def _group_stats(values, group_ids, num_groups, weights=None):
    """Return (count, mean, sum of squared deviations) per group, weighted by ``weights``."""
    w = jnp.ones_like(values) if weights is None else weights
    cnt = jax.ops.segment_sum(w, group_ids, num_segments=num_groups)
    tot = jax.ops.segment_sum(w * values, group_ids, num_segments=num_groups)
    mean = tot / jnp.where(cnt > 0, cnt, 1.0)
    dev = values - mean[group_ids]
    ss = jax.ops.segment_sum(w * dev**2, group_ids, num_segments=num_groups)
    return cnt, mean, ss


def _check_groups(rewards, group_ids, num_groups):
    _check_rank("rewards", rewards, 1)
    _check_same_shape("rewards", rewards, "group_ids", group_ids)
    _checks.check_int(num_groups, "num_groups", least=1)
    _check_ids("group_ids", group_ids, int(num_groups))


def grpo_advantages(
    rewards, group_ids, *, num_groups: int, eps: float = 1e-6, scale: str = "group",
    singleton: str = "reinforce",
):
    r"""GRPO outcome advantages :math:`A_i = (R_i - \bar R_{g(i)})/(s + \epsilon)`.

    ``scale="group"`` uses the unbiased std of the response's group, ``"batch"`` the unbiased std of
    the whole batch (TRL ``scale_rewards="batch"``), ``"none"`` no division (Dr. GRPO). A group with
    one response has no baseline: ``singleton="reinforce"`` gives :math:`A = R` (verl: mean 0,
    std 1), ``"zero"`` gives 0 (TRL's NaN std zeroed).

    Args:
      rewards: ``[batch]`` scalar rewards.
      group_ids: ``[batch]`` int group (prompt) ids in ``[0, num_groups)``.
      num_groups: static number of groups :math:`G`.
      eps: :math:`\epsilon` (verl 1e-6, TRL 1e-4).
      scale: ``"group"``, ``"batch"`` or ``"none"``.
      singleton: ``"reinforce"`` or ``"zero"``.

    Returns:
      ``[batch]`` advantages (stop-gradient). All-equal rewards in a group give exactly 0.

    Raises:
      ValueError: on shape mismatch, bad options or (concrete) group ids out of range.

    Examples:
      >>> import jax.numpy as jnp
      >>> a = grpo_advantages(jnp.array([1.0, 0.0, 0.0, 1.0]), jnp.zeros(4, int), num_groups=1)
      >>> [round(float(v), 6) for v in a]
      [0.866024, -0.866024, -0.866024, 0.866024]

    References:
      Shao et al., `DeepSeekMath <https://arxiv.org/abs/2402.03300>`_, 2024.
    """
    _check_groups(rewards, group_ids, num_groups)
    _check_choice("scale", scale, ("group", "batch", "none"))
    _check_choice("singleton", singleton, ("reinforce", "zero"))
    r = sg(jnp.asarray(rewards))
    g = jnp.asarray(group_ids)
    cnt, mean, ss = _group_stats(r, g, num_groups)
    n = cnt[g]
    single = n <= 1
    centred = r - mean[g]
    if scale == "group":
        std = jnp.sqrt(ss / jnp.where(cnt > 1, cnt - 1, 1.0))[g]
        adv = centred / (std + eps)
    elif scale == "batch":
        std = jnp.std(r, ddof=1) if r.shape[0] > 1 else jnp.ones(())
        adv = centred / (std + eps)
    else:
        adv = centred
    alt = r if singleton == "reinforce" else jnp.zeros_like(r)
    return jnp.where(single, alt, adv)


def dr_grpo_advantages(rewards, group_ids, *, num_groups: int):
    r"""Dr. GRPO advantages :math:`A_i = R_i - \bar R_{g(i)}` (no std normalisation).

    Examples:
      >>> import jax.numpy as jnp
      >>> a = dr_grpo_advantages(jnp.array([1.0, 0.0]), jnp.zeros(2, int), num_groups=1)
      >>> [float(v) for v in a]
      [0.5, -0.5]

    References:
      Liu et al., `Understanding R1-Zero-Like Training: A Critical Perspective
      <https://arxiv.org/abs/2503.20783>`_, 2025.
    """
    return grpo_advantages(rewards, group_ids, num_groups=num_groups, scale="none")


def rloo_advantages(rewards, group_ids, *, num_groups: int):
    r"""REINFORCE leave-one-out: :math:`A_i = R_i - \frac{1}{n-1}\sum_{j\neq i} R_j`.

    Equal to :math:`\frac{n}{n-1}(R_i - \bar R_g)`; 0 for a singleton group.

    Examples:
      >>> import jax.numpy as jnp
      >>> a = rloo_advantages(jnp.array([1.0, 0.0, 0.0]), jnp.zeros(3, int), num_groups=1)
      >>> [float(v) for v in a]
      [1.0, -0.5, -0.5]

    References:
      Ahmadian et al., `Back to Basics: Revisiting REINFORCE Style Optimization for Learning from
      Human Feedback in LLMs <https://arxiv.org/abs/2402.14740>`_, 2024.
    """
    _check_groups(rewards, group_ids, num_groups)
    r = sg(jnp.asarray(rewards))
    g = jnp.asarray(group_ids)
    cnt, mean, _ = _group_stats(r, g, num_groups)
    n = cnt[g]
    return jnp.where(n > 1, n / jnp.where(n > 1, n - 1, 1.0) * (r - mean[g]), 0.0)


def hapo_token_advantages(
    rewards, mask, group_ids, *, num_groups: int, eps: float = 1e-6, fallback: float = 5.0
):
    r"""HAPO token-level group average: token-weighted group mean and population std.

    .. math::

        \mu_g = \frac{\sum_{i\in g} n_i R_i}{\sum_{i\in g} n_i},\quad
        \sigma_g^2 = \frac{\sum_{i\in g} n_i (R_i-\mu_g)^2}{\sum_{i \in g} n_i},\quad
        A_i = \frac{R_i - \mu_g}{\sigma_g + \epsilon},

    and a group in which some non-empty response has :math:`|A_i| \ge` ``fallback`` uses the GRPO
    advantage instead (as in the HAPO code).

    Args:
      rewards: ``[batch]``.
      mask: ``[batch, seq]`` response mask (gives :math:`n_i`).
      group_ids: ``[batch]`` ints in ``[0, num_groups)``.
      num_groups: static :math:`G`.
      eps: :math:`\epsilon`.
      fallback: threshold on :math:`|A|` for the GRPO fallback.

    Returns:
      ``[batch]`` advantages.

    Examples:
      >>> import jax.numpy as jnp
      >>> m = jnp.array([[1.0, 1.0, 1.0], [1.0, 0.0, 0.0]])
      >>> a = hapo_token_advantages(jnp.array([1.0, 0.0]), m, jnp.zeros(2, int), num_groups=1)
      >>> [round(float(v), 3) for v in a]  # mu = 3/4, sigma = sqrt(3)/4
      [0.577, -1.732]

    References:
      Liu et al., `From Uniform to Heterogeneous: Tailoring Policy Optimization to Every Token's
      Nature <https://arxiv.org/abs/2509.16591>`_, 2025.
    """
    _check_groups(rewards, group_ids, num_groups)
    _check_rank("mask", mask, 2)
    if np.shape(mask)[0] != np.shape(rewards)[0]:
        raise ValueError(f"expected mask with {np.shape(rewards)[0]} rows, got {np.shape(mask)}")
    _check_mask("mask", mask)
    r = sg(jnp.asarray(rewards))
    g = jnp.asarray(group_ids)
    n = jnp.sum(jnp.asarray(mask, r.dtype), axis=1)
    cnt, mean, ss = _group_stats(r, g, num_groups, weights=n)
    std = jnp.sqrt(ss / jnp.where(cnt > 0, cnt, 1.0))
    adv = (r - mean[g]) / (std[g] + eps)
    big = jax.ops.segment_max(
        jnp.where(n > 0, jnp.abs(adv), 0.0), g, num_segments=num_groups
    )
    grpo = grpo_advantages(r, g, num_groups=num_groups, eps=eps)
    return jnp.where(big[g] >= fallback, grpo, adv)


def answer_cluster_counts(group_ids, answer_ids, *, num_groups: int, num_answers: int):
    """Counts ``[num_groups, num_answers]`` of answer clusters per group (COPO/EMPO helper).

    Examples:
      >>> import jax.numpy as jnp
      >>> answer_cluster_counts(jnp.array([0, 0, 0]), jnp.array([1, 1, 0]), num_groups=1,
      ...                       num_answers=2).tolist()
      [[1.0, 2.0]]
    """
    _check_same_shape("group_ids", group_ids, "answer_ids", answer_ids)
    _check_ids("group_ids", group_ids, num_groups)
    _check_ids("answer_ids", answer_ids, num_answers)
    c = jnp.zeros((num_groups, num_answers))
    return c.at[jnp.asarray(group_ids), jnp.asarray(answer_ids)].add(1.0)


def empo_cluster_rewards(group_ids, answer_ids, *, num_groups: int, num_answers: int):
    """EMPO label-free reward: the frequency of the response's semantic cluster in its group.

    .. math:: R_i = |C(o_i)| / n_{g(i)}

    Maximising it with a GRPO advantage minimises the semantic entropy of the answers. Empty
    (unextractable) answers: EMPO's code puts each one in a cluster of its own (reward
    :math:`1/n`), never with another empty answer; give each a distinct ``answer_id``.

    Examples:
      >>> import jax.numpy as jnp
      >>> r = empo_cluster_rewards(jnp.zeros(4, int), jnp.array([0, 0, 0, 1]), num_groups=1,
      ...                          num_answers=2)
      >>> [float(v) for v in r]
      [0.75, 0.75, 0.75, 0.25]

    References:
      Zhang et al., `Right Question is Already Half the Answer: Fully Unsupervised LLM Reasoning
      Incentivization <https://arxiv.org/abs/2504.05812>`_, 2025.
    """
    c = answer_cluster_counts(group_ids, answer_ids, num_groups=num_groups, num_answers=num_answers)
    n = jnp.sum(c, axis=1)
    g, a = jnp.asarray(group_ids), jnp.asarray(answer_ids)
    return c[g, a] / n[g]


def copo_answer_entropy(group_ids, answer_ids, *, num_groups: int, num_answers: int):
    r"""COPO answer entropy per group in bits: :math:`H_g = -\sum_c p_c \log_2 p_c`.

    Examples:
      >>> import jax.numpy as jnp
      >>> h = copo_answer_entropy(jnp.zeros(4, int), jnp.array([0, 0, 1, 1]), num_groups=1,
      ...                         num_answers=2)
      >>> float(h[0])
      1.0
    """
    c = answer_cluster_counts(group_ids, answer_ids, num_groups=num_groups, num_answers=num_answers)
    n = jnp.sum(c, axis=1, keepdims=True)
    p = c / jnp.where(n > 0, n, 1.0)
    return -jnp.sum(jnp.where(p > 0, p * jnp.log2(jnp.where(p > 0, p, 1.0)), 0.0), axis=1)


def copo_global_advantages(
    rewards, group_ids, answer_ids, *, num_groups: int, num_answers: int, eps: float = 1e-6,
    entropy_penalty: bool = False,
):
    r"""COPO global advantage: normalise group-mean rewards across prompts.

    .. math::

        R^{\rm glob}_g = \overline{R}_g\,(1 - \lambda H_g)\ (\text{if entropy\_penalty}),\quad
        \lambda = \frac{1 - 1/n}{\log_2 n},\quad
        A^{\rm glob}_i = \frac{R^{\rm glob}_{g(i)} - \operatorname{mean}_g R^{\rm glob}}
                               {\operatorname{std}_g R^{\rm glob} + \epsilon}.

    The std across groups is unbiased (our reading of ``torch.std``); :math:`n` is the size of the
    response's group. Non-zero even when all answers of a prompt agree.

    Args:
      rewards: ``[batch]``.
      group_ids: ``[batch]`` in ``[0, num_groups)``; every group must be non-empty.
      answer_ids: ``[batch]`` answer-cluster ids in ``[0, num_answers)``.
      num_groups: static :math:`G`.
      num_answers: static number of answer clusters.
      eps: :math:`\epsilon`.
      entropy_penalty: COPO's ``reward_coef_flg``.

    Returns:
      ``(adv_global [batch], answer_entropy [num_groups])``.

    Examples:
      >>> import jax.numpy as jnp
      >>> a, h = copo_global_advantages(jnp.array([1.0, 1.0, 0.0, 0.0]),
      ...     jnp.array([0, 0, 1, 1]), jnp.zeros(4, int), num_groups=2, num_answers=1)
      >>> [round(float(v), 4) for v in a]
      [0.7071, 0.7071, -0.7071, -0.7071]

    References:
      Han et al., `Consistency-Aware Policy Optimization
      <https://arxiv.org/abs/2508.04138>`_, 2025.
    """
    _check_groups(rewards, group_ids, num_groups)
    h = copo_answer_entropy(group_ids, answer_ids, num_groups=num_groups, num_answers=num_answers)
    r = sg(jnp.asarray(rewards))
    g = jnp.asarray(group_ids)
    cnt, mean, _ = _group_stats(r, g, num_groups)
    rg = mean
    if entropy_penalty:
        n = jnp.maximum(cnt, 2.0)
        lam = (1.0 - 1.0 / n) / jnp.log2(n)
        rg = mean * (1.0 - lam * h)
    mu = jnp.mean(rg)
    sd = jnp.std(rg, ddof=1) if num_groups > 1 else jnp.ones(())
    a = (rg - mu) / (sd + eps)
    return a[g], h


def oblr_gradient_proxy(logp, mask):
    r"""Proxy :math:`w_i = \sum_t (1 - p_{i,t})^2 m_{i,t}` of :math:`\|\nabla\log\pi(o_i)\|^2`.

    For a softmax output layer the squared gradient norm of :math:`\log p_a` w.r.t. the logits is
    :math:`(1-p_a)^2 + \sum_{v\neq a} p_v^2 \ge (1-p_a)^2`; summing the sampled-token part over the
    response is *our* cheap proxy (the paper's exact norm needs per-sample parameter gradients).

    Examples:
      >>> import jax.numpy as jnp
      >>> w = oblr_gradient_proxy(jnp.log(jnp.array([[0.5, 1.0]])), jnp.ones((1, 2)))
      >>> float(w[0])
      0.25
    """
    _check_same_shape("logp", logp, "mask", mask)
    p = jnp.exp(sg(jnp.asarray(logp)))
    return jnp.sum(jnp.where(jnp.asarray(mask) > 0, (1.0 - p) ** 2, 0.0), axis=-1)


def oblr_baseline_advantages(rewards, weights, group_ids, *, num_groups: int):
    r"""Advantages with OBLR-PO's variance-optimal, gradient-weighted baseline.

    .. math:: b_g = \frac{\sum_{i\in g} w_i R_i}{\sum_{i\in g} w_i}, \qquad A_i = R_i - b_{g(i)},

    with :math:`w_i \approx \|\nabla\log\pi(o_i)\|^2` (e.g. :func:`oblr_gradient_proxy`).
    A group whose weights sum to 0 falls back to the plain mean (our choice).

    Examples:
      >>> import jax.numpy as jnp
      >>> a = oblr_baseline_advantages(jnp.array([1.0, 0.0]), jnp.array([3.0, 1.0]),
      ...                              jnp.zeros(2, int), num_groups=1)
      >>> [float(v) for v in a]
      [0.25, -0.75]

    References:
      `OBLR-PO: optimal baseline and learning rate for policy optimization
      <https://arxiv.org/abs/2511.23310>`_, 2025 (our reading from the abstract).
    """
    _check_groups(rewards, group_ids, num_groups)
    _check_same_shape("rewards", rewards, "weights", weights)
    r = sg(jnp.asarray(rewards))
    w = sg(jnp.asarray(weights, r.dtype))
    g = jnp.asarray(group_ids)
    sw = jax.ops.segment_sum(w, g, num_segments=num_groups)
    swr = jax.ops.segment_sum(w * r, g, num_segments=num_groups)
    cnt, mean, _ = _group_stats(r, g, num_groups)
    b = jnp.where(sw > 0, swr / jnp.where(sw > 0, sw, 1.0), mean)
    return r - b[g]


def dsdr_diversity(tokens, mask, rewards, group_ids, *, num_groups: int, threshold=0.5):
    r"""DSDR diversity of each correct response among the correct responses of its group.

    Our reading of the abstract: :math:`d_i = \operatorname{mean}_{j} (1 - s_{ij})` over the other
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
    _check_groups(rewards, group_ids, num_groups)
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


def dsdr_advantages(rewards, tokens, mask, group_ids, *, num_groups: int, div_coef=0.1, threshold=0.5):
    r"""DSDR's global scale: GRPO advantages of the diversity-shaped reward :math:`R_i + \lambda_g d_i`.

    :math:`d_i` from :func:`dsdr_diversity` (our reading of the abstract); pair with
    :class:`policy.tokens.DSDRLocalEntropy` (the :func:`policy.tokens.dsdr` preset).

    Examples:
      >>> import jax.numpy as jnp
      >>> a = dsdr_advantages(jnp.array([1.0, 1.0, 0.0]), jnp.array([[1, 2], [1, 3], [4, 5]]),
      ...                     jnp.ones((3, 2)), jnp.zeros(3, int), num_groups=1, div_coef=0.0)
      >>> [round(float(v), 6) for v in a]  # plain GRPO: rewards (1, 1, 0)
      [0.577349, 0.577349, -1.154699]

    References:
      `Dual-Scale Diversity Regularization for RLVR <https://arxiv.org/abs/2602.19895>`_, 2026.
    """
    d = dsdr_diversity(tokens, mask, rewards, group_ids, num_groups=num_groups, threshold=threshold)
    return grpo_advantages(jnp.asarray(rewards) + div_coef * d, group_ids, num_groups=num_groups)


def hpt_gate(rewards, group_ids, *, num_groups: int, gate: int = 0, correct_threshold: float = 0.5):
    r"""HPT's per-prompt switch: supervised fine-tuning where the rollouts are (almost) all wrong.

    A prompt whose number of correct rollouts (reward above ``correct_threshold``) is at most
    ``gate`` is trained with SFT on its demonstration, the others with RL. Returns ``[num_groups]``
    bools (``True``: SFT); building the batch (the demonstration in place of the rollouts, the rows'
    ``sft_mask`` for :class:`policy.tokens.UnifiedPG`) is the caller's data step.

    Args:
      rewards: ``[batch]`` rollout rewards.
      group_ids: ``[batch]`` prompt ids in ``[0, num_groups)``.
      num_groups: static number of prompts.
      gate: HPT's ``switch_gate`` (0: SFT only when no rollout is correct).
      correct_threshold: reward above which a rollout is correct.

    Returns:
      ``[num_groups]`` bool.

    Examples:
      >>> import jax.numpy as jnp
      >>> hpt_gate(jnp.array([0.0, 0.0, 1.0, 0.0]), jnp.array([0, 0, 1, 1]), num_groups=2).tolist()
      [True, False]

    References:
      Lv et al., `Towards a Unified View of Large Language Model Post-Training
      <https://arxiv.org/abs/2509.04419>`_, 2025.
    """
    _check_groups(rewards, group_ids, num_groups)
    correct = (jnp.asarray(rewards) > correct_threshold).astype(jnp.int32)
    n_correct = jax.ops.segment_sum(correct, jnp.asarray(group_ids), num_segments=num_groups)
    return n_correct <= gate


def empo_confidence_mask(group_ids, answer_ids, *, num_groups: int, num_answers: int, lower=0.3, upper=1.0):
    r"""EMPO's confidence filter: keep the prompts whose largest answer cluster has frequency in ``[lower, upper]``.

    The confidence of a prompt is :math:`\max_c |C_c|/n`; prompts with low confidence (the model
    has no consensus, so the label-free reward is noise) are dropped. Returns a ``[batch]`` bool
    keep-mask of the responses.

    Args:
      group_ids: ``[batch]`` prompt ids.
      answer_ids: ``[batch]`` semantic-cluster ids in ``[0, num_answers)``.
      num_groups: static number of prompts.
      num_answers: static number of clusters.
      lower: lowest kept confidence (EMPO recipe 0.3).
      upper: highest kept confidence (EMPO recipe 1.0).

    Returns:
      ``[batch]`` bool.

    Examples:
      >>> import jax.numpy as jnp
      >>> g = jnp.array([0, 0, 0, 0, 1, 1, 1, 1])
      >>> ans = jnp.array([0, 1, 2, 3, 0, 0, 0, 1])  # confidence 1/4 and 3/4
      >>> empo_confidence_mask(g, ans, num_groups=2, num_answers=4).tolist()
      [False, False, False, False, True, True, True, True]

    References:
      Zhang et al., `Right Question is Already Half the Answer: Fully Unsupervised LLM Reasoning
      Incentivization <https://arxiv.org/abs/2504.05812>`_, 2025.
    """
    if not 0.0 <= lower <= upper <= 1.0:
        raise ValueError(f"expected 0 <= lower <= upper <= 1, got {lower}, {upper}")
    c = answer_cluster_counts(group_ids, answer_ids, num_groups=num_groups, num_answers=num_answers)
    n = jnp.sum(c, axis=1)
    conf = jnp.max(c, axis=1) / jnp.where(n > 0, n, 1.0)
    keep = (conf >= lower) & (conf <= upper)
    return keep[jnp.asarray(group_ids)]


# ----------------------------------------------------------------------------------------------
# DAPO reward-side utilities
# ----------------------------------------------------------------------------------------------


def dapo_dynamic_sampling_mask(rewards, group_ids, *, num_groups: int):
    """DAPO dynamic-sampling filter: keep responses of groups whose rewards are not all equal.

    Returns a ``[batch]`` bool mask; dropping the rest (and re-sampling until the prompt batch is
    full) is the caller's host-side data step, since it changes shapes.

    Examples:
      >>> import jax.numpy as jnp
      >>> dapo_dynamic_sampling_mask(jnp.array([1.0, 1.0, 0.0, 1.0]), jnp.array([0, 0, 1, 1]),
      ...                            num_groups=2).tolist()
      [False, False, True, True]

    References:
      Yu et al., `DAPO: An Open-Source LLM Reinforcement Learning System at Scale
      <https://arxiv.org/abs/2503.14476>`_, 2025.
    """
    _check_groups(rewards, group_ids, num_groups)
    r = jnp.asarray(rewards)
    g = jnp.asarray(group_ids)
    hi = jax.ops.segment_max(r, g, num_segments=num_groups)
    lo = jax.ops.segment_min(r, g, num_segments=num_groups)
    return (hi > lo)[g]


def dapo_overlong_penalty(lengths, *, max_length: int, buffer_length: int, penalty: float = 1.0):
    r"""DAPO soft overlong punishment added to the reward.

    .. math::

        R_{\rm len}(y) = \begin{cases} 0 & |y| \le L_{\max} - L_c \\
        \frac{(L_{\max} - L_c) - |y|}{L_c}\cdot\text{penalty} & L_{\max} - L_c < |y| \le L_{\max} \\
        -\text{penalty} & |y| > L_{\max}\end{cases}

    Examples:
      >>> import jax.numpy as jnp
      >>> p = dapo_overlong_penalty(jnp.array([10, 18, 25]), max_length=20, buffer_length=4)
      >>> [float(v) for v in p]
      [0.0, -0.5, -1.0]
    """
    if not 0 < buffer_length <= max_length:
        raise ValueError(
            f"expected 0 < buffer_length <= max_length, got {buffer_length}, {max_length}"
        )
    n = jnp.asarray(lengths, dtype=float)
    start = max_length - buffer_length
    inside = (start - n) / buffer_length * penalty
    return jnp.where(n <= start, 0.0, jnp.where(n <= max_length, inside, -penalty))


# ----------------------------------------------------------------------------------------------
# Advantage transforms
# ----------------------------------------------------------------------------------------------


def _per_token(adv, mask):
    adv = jnp.asarray(adv)
    m = jnp.asarray(mask)
    if adv.ndim == 1:
        if adv.shape[0] != m.shape[0]:
            raise ValueError(f"expected advantages of shape ({m.shape[0]},), got {adv.shape}")
        return adv[:, None] * jnp.ones_like(m, dtype=adv.dtype)
    _check_same_shape("mask", mask, "advantages", adv)
    return adv


def broadcast_advantages(advantages, mask):
    """Broadcast ``[batch]`` sequence advantages to ``[batch, seq]`` (identity if already 2-D).

    Examples:
      >>> import jax.numpy as jnp
      >>> broadcast_advantages(jnp.array([1.0, -1.0]), jnp.ones((2, 2))).tolist()
      [[1.0, 1.0], [-1.0, -1.0]]
    """
    _check_rank("mask", mask, 2)
    return _per_token(advantages, mask)


def dcpo_temperature(entropy_prev, *, target=0.5, high=1.2, low=0.8):
    r"""DCPO/AEPO temperature rule: :math:`T_{\rm high}` if :math:`H_{\rm prev}\le H_0`, else :math:`T_{\rm low}`.

    Examples:
      >>> float(dcpo_temperature(0.3)), float(dcpo_temperature(0.7))
      (1.2, 0.8)
    """
    return jnp.where(jnp.asarray(entropy_prev) <= target, high, low)


def dcpo_mix_advantages(
    advantages, rewards, old_logp_temp, old_logp, mask, *, entropy_prev, target=0.5,
    correct_threshold=0.05, max_gap=0.1,
):
    r"""DCPO double importance sampling as an advantage transform.

    .. math::

        \rho_{i,t} = \exp(\log\pi^{T}_{\rm old} - \log\pi_{\rm old}),\quad
        b_i = 1[R_i > 0.05],\quad a = \frac{\min(|H_0 - H_{\rm prev}|, 0.1)}{\bar b},\quad
        \alpha = \frac{a}{1+a},\quad A' = (1-\alpha) A + \alpha\, b_i\, \rho_{i,t}.

    When no response in the batch is correct (:math:`\bar b = 0`, a division by zero in the
    reference code) we set :math:`\alpha = 0` (our guard).

    Args:
      advantages: ``[batch]`` or ``[batch, seq]``.
      rewards: ``[batch]``.
      old_logp_temp: ``[batch, seq]`` old-policy log-probs at temperature :math:`T`.
      old_logp: ``[batch, seq]`` old-policy log-probs at temperature 1.
      mask: ``[batch, seq]``.
      entropy_prev: previous-step entropy estimate :math:`H_{\rm prev}`.
      target: :math:`H_0`.
      correct_threshold: reward above which a response counts as correct.
      max_gap: cap on :math:`|H_0 - H_{\rm prev}|`.

    Returns:
      ``(adv [batch, seq], alpha)``.

    Examples:
      >>> import jax.numpy as jnp
      >>> a, al = dcpo_mix_advantages(jnp.array([1.0, -1.0]), jnp.array([1.0, 0.0]),
      ...     jnp.zeros((2, 1)), jnp.zeros((2, 1)), jnp.ones((2, 1)), entropy_prev=0.4)
      >>> round(float(al), 4)  # a = 0.1 / 0.5
      0.1667

    References:
      `Distribution-Centric Policy Optimization`, code at github.com/597358816/DCPO (our reading
      of the trainer code; no equation in a paper was checked).
    """
    _check_rank("mask", mask, 2)
    _check_same_shape("mask", mask, "old_logp", old_logp)
    _check_same_shape("old_logp", old_logp, "old_logp_temp", old_logp_temp)
    a = sg(_per_token(advantages, mask))
    b = (jnp.asarray(rewards) > correct_threshold).astype(a.dtype)
    frac = jnp.mean(b)
    gap = jnp.minimum(jnp.abs(target - jnp.asarray(entropy_prev)), max_gap)
    aa = gap / jnp.where(frac > 0, frac, 1.0)
    alpha = jnp.where(frac > 0, aa / (1.0 + aa), 0.0)
    rho = jnp.exp(sg(jnp.asarray(old_logp_temp) - jnp.asarray(old_logp)))
    return (1.0 - alpha) * a + alpha * b[:, None] * rho, alpha


def empg_modulate_advantages(
    advantages, entropy, step_ids, mask, *, num_steps: int, k=1.0, k_future=1.0, zeta=0.1
):
    r"""EMPG entropy-modulated advantages per agent step.

    Step entropy :math:`H_s` = mean token entropy of step :math:`s`; over all non-empty steps of the
    batch :math:`\hat H = (H - \min H)/(\max H - \min H + 10^{-8})`,
    :math:`g = e^{-k\hat H}/(\overline{e^{-k\hat H}} + 10^{-8})`, :math:`f = e^{-k_f \hat H}` and

    .. math:: A^{\rm mod}_{i,s} = A_i\, g_{i,s} + \zeta\, f_{i,s+1}

    (no future bonus for the last non-empty step; the :math:`s+1` indexing is our reading of the
    project-page pseudocode). The paper's final batch normalisation is left to the caller.

    Args:
      advantages: ``[batch]`` trajectory advantages (or ``[batch, seq]`` per token).
      entropy: ``[batch, seq]`` token entropies (old policy).
      step_ids: ``[batch, seq]`` ints in ``[0, num_steps)``: the step each token belongs to.
      mask: ``[batch, seq]``.
      num_steps: static maximum number of steps.
      k: :math:`k`.
      k_future: :math:`k_f`.
      zeta: :math:`\zeta`.

    Returns:
      ``[batch, seq]`` per-token advantages.

    Examples:
      >>> import jax.numpy as jnp
      >>> a = empg_modulate_advantages(jnp.array([1.0]), jnp.array([[0.0, 1.0]]),
      ...     jnp.array([[0, 1]]), jnp.ones((1, 2)), num_steps=2, zeta=0.0)
      >>> [round(float(v), 4) for v in a[0]]  # g = (1, e^-1) / mean
      [1.4621, 0.5379]

    References:
      Wang et al., `Harnessing Uncertainty: Entropy-Modulated Policy Gradients for Long-Horizon
      LLM Agents <https://arxiv.org/abs/2509.09265>`_, 2025.
    """
    _check_rank("entropy", entropy, 2)
    _check_same_shape("entropy", entropy, "mask", mask)
    _check_same_shape("entropy", entropy, "step_ids", step_ids)
    _check_ids("step_ids", step_ids, num_steps)
    _check_mask("mask", mask)
    h = sg(jnp.asarray(entropy))
    m = jnp.asarray(mask, h.dtype)
    s = jnp.asarray(step_ids)
    onehot = jax.nn.one_hot(s, num_steps, dtype=h.dtype) * m[..., None]  # [B,T,S]
    cnt = jnp.sum(onehot, axis=1)  # [B,S]
    hs = jnp.einsum("bts,bt->bs", onehot, h) / jnp.where(cnt > 0, cnt, 1.0)
    valid = cnt > 0
    hmin = jnp.min(jnp.where(valid, hs, jnp.inf))
    hmax = jnp.max(jnp.where(valid, hs, -jnp.inf))
    hn = jnp.where(valid, (hs - hmin) / (hmax - hmin + 1e-8), 0.0)
    e = jnp.exp(-k * hn)
    g = e / (masked_mean(e, valid.astype(h.dtype)) + 1e-8)
    f = jnp.where(valid, jnp.exp(-k_future * hn), 0.0)
    f_next = jnp.concatenate([f[:, 1:], jnp.zeros_like(f[:, :1])], axis=1)
    a = sg(_per_token(advantages, mask))
    g_tok = jnp.take_along_axis(g, s, axis=1)
    f_tok = jnp.take_along_axis(f_next, s, axis=1)
    return (a * g_tok + zeta * f_tok) * (m > 0)


def hapo_normalized_entropy(entropy, mask, *, pivot=0.8, faithful_sign: bool = False):
    r"""HAPO token-entropy normalisation :math:`\hat h \in [-1, 1]`.

    .. math::

        h = \frac{\log H - q_{\rm pivot}(\log H)}{\sqrt{\operatorname{mean}_m h_0^2}},\quad
        \hat h = \begin{cases} h / \max h & h > 0 \\ h/|\min h| & h \le 0 \end{cases}

    where :math:`h_0` is the numerator, the quantile is ``nearest`` over the batch's valid tokens
    and :math:`H` is floored at 1e-12 before the log (ours). The reference code multiplies by
    ``1/min h`` (negative), which flips the sign of low-entropy tokens; ``faithful_sign=True``
    reproduces that, the default gives the documented range :math:`[-1, 1]`.

    Examples:
      >>> import jax.numpy as jnp
      >>> h = hapo_normalized_entropy(jnp.array([[0.1, 1.0, 10.0]]), jnp.ones((1, 3)), pivot=0.5)
      >>> [round(float(v), 4) for v in h[0]]
      [-1.0, 0.0, 1.0]

    References:
      Liu et al., `From Uniform to Heterogeneous <https://arxiv.org/abs/2509.16591>`_, 2025.
    """
    _check_rank("entropy", entropy, 2)
    _check_same_shape("entropy", entropy, "mask", mask)
    h = sg(jnp.asarray(entropy))
    m = jnp.asarray(mask) > 0
    lh = jnp.log(jnp.maximum(h, 1e-12))
    q = jnp.nanquantile(jnp.where(m, lh, jnp.nan), pivot, method="nearest")
    c = jnp.where(m, lh - q, 0.0)
    sd = jnp.sqrt(masked_mean(c**2, m.astype(h.dtype)))
    z = c / jnp.where(sd > 0, sd, 1.0)
    pos_max = jnp.max(jnp.where(m, z, -jnp.inf))
    neg_min = jnp.min(jnp.where(m, z, jnp.inf))
    pos = z / jnp.where(pos_max > 0, pos_max, 1.0)
    neg_den = jnp.where(neg_min < 0, neg_min if faithful_sign else -neg_min, 1.0)
    neg = z / neg_den
    return jnp.where(m, jnp.where(z > 0, pos, neg), 0.0)


def hapo_redistribute_advantages(advantages, ratio, h_hat, *, eps_low=0.2, eps_high=0.2, beta=1.0):
    r"""HAPO differential advantage redistribution.

    With the band :math:`(1-\epsilon_l/2,\ 1+\epsilon_h/2)` on the (stop-gradient) ratio:
    high-entropy tokens (:math:`\hat h > 0`) get :math:`A(1+\beta\hat h)` outside the band, A inside;
    low-entropy tokens get :math:`A(1+\beta\hat h)` inside the band, A outside.

    Examples:
      >>> import jax.numpy as jnp
      >>> a = hapo_redistribute_advantages(jnp.ones(2), jnp.ones(2), jnp.array([0.5, -0.5]))
      >>> [float(v) for v in a]
      [1.0, 0.5]
    """
    _check_same_shape("advantages", advantages, "ratio", ratio)
    _check_same_shape("advantages", advantages, "h_hat", h_hat)
    a = sg(jnp.asarray(advantages))
    r = sg(jnp.asarray(ratio))
    h = sg(jnp.asarray(h_hat))
    band = (r > 1.0 - eps_low / 2) & (r < 1.0 + eps_high / 2)
    scaled = a * (1.0 + beta * h)
    return jnp.where(h > 0, jnp.where(band, a, scaled), jnp.where(band, scaled, a))


def hapo_adaptive_eps(h_hat, *, eps_low=0.2, eps_high=0.2, alpha=1.0):
    r"""HAPO asymmetric adaptive clip bounds per token.

    :math:`\hat h \le 0`: :math:`\epsilon_l' = \epsilon_l(1 - \alpha\hat h)`;
    :math:`\hat h > 0`: :math:`\epsilon_h' = \epsilon_h(1 + \alpha\hat h)`; the other bound unchanged.

    Examples:
      >>> import jax.numpy as jnp
      >>> lo, hi = hapo_adaptive_eps(jnp.array([-0.5, 0.5]))
      >>> [round(float(v), 3) for v in lo], [round(float(v), 3) for v in hi]
      ([0.3, 0.2], [0.2, 0.3])
    """
    h = sg(jnp.asarray(h_hat))
    lo = jnp.where(h <= 0, eps_low * (1.0 - alpha * h), eps_low)
    hi = jnp.where(h > 0, eps_high * (1.0 + alpha * h), eps_high)
    return lo, hi


def hapo_temperature(h_hat, *, temperature=1.0, tau=0.05):
    r"""HAPO adaptive sampling temperature :math:`T_t = T(1 + \tau\,\mathrm{clip}(\hat h_t,-1,1))`.

    Examples:
      >>> round(float(hapo_temperature(1.0)), 3)
      1.05
    """
    return temperature * (1.0 + tau * jnp.clip(jnp.asarray(h_hat), -1.0, 1.0))


def entropy_aware_advantages(advantages, entropy, mask, *, alpha=0.5):
    r"""Agentic entropy-balanced advantage :math:`\tilde A = A\,(1 + \alpha\,\widehat{\Delta H})`.

    Our reading (the paper's normalisation was not checked against code):
    :math:`\Delta H_{i,t} = H_{i,t} - H_{i,t_0}` with :math:`t_0` the first valid token of
    response :math:`i` (the reasoning start), normalised by :math:`\max |\Delta H|` over the batch's
    valid tokens, so :math:`\widehat{\Delta H}\in[-1,1]`.

    Args:
      advantages: ``[batch]`` or ``[batch, seq]``.
      entropy: ``[batch, seq]`` token entropies (stop-gradient).
      mask: ``[batch, seq]``.
      alpha: :math:`\alpha`.

    Returns:
      ``[batch, seq]`` advantages.

    Examples:
      >>> import jax.numpy as jnp
      >>> a = entropy_aware_advantages(jnp.array([1.0]), jnp.array([[1.0, 2.0, 0.0]]),
      ...                              jnp.ones((1, 3)), alpha=0.5)
      >>> [float(v) for v in a[0]]
      [1.0, 1.5, 0.5]

    References:
      Dong et al., `Agentic Entropy-Balanced Policy Optimization
      <https://arxiv.org/abs/2510.14545>`_, 2025.
    """
    _check_rank("entropy", entropy, 2)
    _check_same_shape("entropy", entropy, "mask", mask)
    a = sg(_per_token(advantages, mask))
    h = sg(jnp.asarray(entropy))
    m = jnp.asarray(mask) > 0
    first = jnp.argmax(m, axis=1)
    h0 = jnp.take_along_axis(h, first[:, None], axis=1)
    d = jnp.where(m, h - h0, 0.0)
    scale = jnp.max(jnp.abs(d))
    dn = d / jnp.where(scale > 0, scale, 1.0)
    return a * (1.0 + alpha * dn)
