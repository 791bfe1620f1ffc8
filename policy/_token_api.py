"""Public names of the LLM-token objectives (re-exported by ``policy/__init__.py``)."""

from policy._advantages import (
    answer_cluster_counts,
    broadcast_advantages,
    copo_answer_entropy,
    copo_global_advantages,
    dapo_dynamic_sampling_mask,
    dapo_overlong_penalty,
    dcpo_mix_advantages,
    dcpo_temperature,
    dr_grpo_advantages,
    empg_modulate_advantages,
    empo_cluster_rewards,
    entropy_aware_advantages,
    grpo_advantages,
    hapo_adaptive_eps,
    hapo_normalized_entropy,
    hapo_redistribute_advantages,
    hapo_temperature,
    hapo_token_advantages,
    oblr_baseline_advantages,
    oblr_gradient_proxy,
    rloo_advantages,
)
from policy._aggregation import AGG_MODES, aggregate_loss
from policy._clipping import (
    cispo_loss,
    gradient_preserving_clip_loss,
    no_clip_loss,
    sapo_loss,
    trl_clip_loss,
    vanilla_clip_loss,
)
from policy._core import (
    entropy_from_logits,
    importance_ratio,
    kl_estimate,
    log_probs_from_logits,
    log_softmax_temperature,
    masked_mean,
    masked_sum,
    masked_var,
)
from policy._large_vocab import token_logp_entropy_chunked
from policy._objectives import (
    aepo_loss,
    agentic_ebpo_loss,
    clip_cov_loss,
    contrastive_pg_loss,
    copo_loss,
    d3s_loss,
    dapo_loss,
    dcpo_loss,
    dr_grpo_loss,
    dsdr_diversity,
    dsdr_loss,
    empg_loss,
    entropy_bonus_loss,
    entropy_discriminator_clip_loss,
    epo_loss,
    grpo_loss,
    hapo_loss,
    kl_cov_loss,
    lp_reg_loss,
    policy_gradient_loss,
    rpo_loss,
    siren_loss,
    steer_loss,
)
from policy._regularizers import (
    AdaptiveEntropyState,
    adaptive_entropy_init,
    adaptive_entropy_update,
    epo_phase_weight,
    epo_smoothing_penalty,
    siren_anchor_penalty,
)
from policy._selection import (
    clip_cov_mask,
    d3s_select_samples,
    d3s_token_mask,
    entropy_discriminator,
    entropy_discriminator_mask,
    kl_cov_mask,
    lp_reg_mask,
    lp_reg_proxy_logp,
    siren_peak_mask,
    siren_top_p_entropy,
    steer_weights,
    token_covariance,
    top_entropy_mask,
)

TOKEN_API = [
    name
    for name in dir()
    if not name.startswith("_") and name not in ("annotations", "TOKEN_API")
]
