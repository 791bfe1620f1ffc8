r"""Token-level policy-gradient objectives for LLM reinforcement learning, composable like optax.

A loss is a :func:`chain` of parts (:class:`TokenLoss`): one surrogate (clip rule), optional
advantage transforms, token weights and penalties, and one aggregation shared by every per-token
term. Each method of the GRPO / entropy-control literature is a named preset returning such a
chain (:func:`grpo`, :func:`dapo`, :func:`clip_cov`, :func:`kl_cov`, :func:`hpt`, :func:`empo`, ...).
Around the losses: advantage estimators and reward utilities, token selections, scalar
regularisers and the adaptive entropy coefficient, a chunked large-vocabulary log-prob / entropy
kernel, and OBLR-PO's SNR learning-rate rule (:func:`scale_by_snr`).

Vocabulary (one name per meaning): ``eps_low``/``eps_high`` are PPO's clip bounds, ``ratio`` only
ever the importance ratio :math:`\pi_\theta/\pi_{\rm old}`, ``fraction`` a fraction of tokens
selected, ``kl_coef`` the reference-KL weight, ``coef`` a part's own weight; metric names follow
verl (table in :mod:`policy.tokens._loss`, with TRL's aliases). Losses take every argument by
keyword (``logp=``, ``old_logp=``, ...): verl's own functions take ``(old_log_prob, log_prob)``.
:func:`from_verl` and :func:`from_trl` port a verl actor config or a TRL ``GRPOConfig`` in one call.

Examples:
  >>> import jax
  >>> import jax.numpy as jnp
  >>> from policy import tokens
  >>> rewards = jnp.array([1.0, 0.0, 0.0, 1.0])
  >>> adv = tokens.grpo_advantages(rewards, jnp.zeros(4, int), num_groups=1)
  >>> lp = jnp.log(jnp.full((4, 3), 0.5))
  >>> loss_fn = tokens.chain(tokens.PPOClip(eps_low=0.2, eps_high=0.28),
  ...                        tokens.EntropyBonus(coef=0.01))
  >>> loss, metrics = jax.jit(loss_fn)(logp=lp, old_logp=lp, advantages=adv, mask=jnp.ones((4, 3)),
  ...                                   entropy=jnp.ones((4, 3)))
  >>> round(float(loss), 6), round(float(metrics["pg_loss"]), 6)
  (-0.01, 0.0)
"""

from policy._core import entropy_from_logits as entropy_from_logits
from policy._core import importance_ratio as importance_ratio
from policy._core import kl_estimate as kl_estimate
from policy._core import log_probs_from_logits as log_probs_from_logits
from policy._core import log_softmax_temperature as log_softmax_temperature
from policy._core import masked_mean as masked_mean
from policy._core import masked_sum as masked_sum
from policy._core import masked_var as masked_var
from policy.tokens._advantages import answer_cluster_counts as answer_cluster_counts
from policy.tokens._advantages import broadcast_advantages as broadcast_advantages
from policy.tokens._advantages import copo_answer_entropy as copo_answer_entropy
from policy.tokens._advantages import copo_global_advantages as copo_global_advantages
from policy.tokens._advantages import dapo_dynamic_sampling_mask as dapo_dynamic_sampling_mask
from policy.tokens._advantages import dapo_overlong_penalty as dapo_overlong_penalty
from policy.tokens._advantages import dcpo_mix_advantages as dcpo_mix_advantages
from policy.tokens._advantages import dcpo_temperature as dcpo_temperature
from policy.tokens._advantages import dr_grpo_advantages as dr_grpo_advantages
from policy.tokens._advantages import dsdr_advantages as dsdr_advantages
from policy.tokens._advantages import dsdr_diversity as dsdr_diversity
from policy.tokens._advantages import empg_modulate_advantages as empg_modulate_advantages
from policy.tokens._advantages import empo_cluster_rewards as empo_cluster_rewards
from policy.tokens._advantages import empo_confidence_mask as empo_confidence_mask
from policy.tokens._advantages import entropy_aware_advantages as entropy_aware_advantages
from policy.tokens._advantages import grpo_advantages as grpo_advantages
from policy.tokens._advantages import hapo_adaptive_eps as hapo_adaptive_eps
from policy.tokens._advantages import hapo_normalized_entropy as hapo_normalized_entropy
from policy.tokens._advantages import hapo_redistribute_advantages as hapo_redistribute_advantages
from policy.tokens._advantages import hapo_temperature as hapo_temperature
from policy.tokens._advantages import hapo_token_advantages as hapo_token_advantages
from policy.tokens._advantages import hpt_gate as hpt_gate
from policy.tokens._advantages import oblr_baseline_advantages as oblr_baseline_advantages
from policy.tokens._advantages import oblr_gradient_proxy as oblr_gradient_proxy
from policy.tokens._advantages import rloo_advantages as rloo_advantages
from policy.tokens._aggregation import AGG_MODES as AGG_MODES
from policy.tokens._aggregation import aggregate_loss as aggregate_loss
from policy.tokens._large_vocab import token_logp_entropy_chunked as token_logp_entropy_chunked
from policy.tokens._loss import ClipInfo as ClipInfo
from policy.tokens._loss import Context as Context
from policy.tokens._loss import Part as Part
from policy.tokens._loss import Surrogate as Surrogate
from policy.tokens._loss import TokenLoss as TokenLoss
from policy.tokens._loss import chain as chain
from policy.tokens._loss import standard_metrics as standard_metrics
from policy.tokens._pairs import aepo_loss as aepo_loss
from policy.tokens._pairs import contrastive_pg_loss as contrastive_pg_loss
from policy.tokens._pairs import rpo_loss as rpo_loss
from policy.tokens._parts import EMPG as EMPG
from policy.tokens._parts import ClipCov as ClipCov
from policy.tokens._parts import D3STokens as D3STokens
from policy.tokens._parts import DCPOMix as DCPOMix
from policy.tokens._parts import DSDRLocalEntropy as DSDRLocalEntropy
from policy.tokens._parts import EntropyAware as EntropyAware
from policy.tokens._parts import EntropyBonus as EntropyBonus
from policy.tokens._parts import EntropyDiscriminatorClip as EntropyDiscriminatorClip
from policy.tokens._parts import EPOSmoothing as EPOSmoothing
from policy.tokens._parts import HAPOAdvantages as HAPOAdvantages
from policy.tokens._parts import KLCov as KLCov
from policy.tokens._parts import LpReg as LpReg
from policy.tokens._parts import ReferenceKL as ReferenceKL
from policy.tokens._parts import SirenAnchor as SirenAnchor
from policy.tokens._parts import Steer as Steer
from policy.tokens._parts import TopEntropy as TopEntropy
from policy.tokens._ports import Port as Port
from policy.tokens._ports import from_trl as from_trl
from policy.tokens._ports import from_verl as from_verl
from policy.tokens._presets import agentic_ebpo as agentic_ebpo
from policy.tokens._presets import clip_cov as clip_cov
from policy.tokens._presets import copo as copo
from policy.tokens._presets import d3s as d3s
from policy.tokens._presets import dapo as dapo
from policy.tokens._presets import dcpo as dcpo
from policy.tokens._presets import dr_grpo as dr_grpo
from policy.tokens._presets import dsdr as dsdr
from policy.tokens._presets import empg as empg
from policy.tokens._presets import empo as empo
from policy.tokens._presets import entropy_discriminator_clip as entropy_discriminator_clip
from policy.tokens._presets import epo as epo
from policy.tokens._presets import grpo as grpo
from policy.tokens._presets import hapo as hapo
from policy.tokens._presets import hpt as hpt
from policy.tokens._presets import kl_cov as kl_cov
from policy.tokens._presets import lp_reg as lp_reg
from policy.tokens._presets import ppo_entropy_bonus as ppo_entropy_bonus
from policy.tokens._presets import siren as siren
from policy.tokens._presets import steer as steer
from policy.tokens._regularizers import AdaptiveEntropyState as AdaptiveEntropyState
from policy.tokens._regularizers import adaptive_entropy_init as adaptive_entropy_init
from policy.tokens._regularizers import adaptive_entropy_update as adaptive_entropy_update
from policy.tokens._regularizers import epo_phase_weight as epo_phase_weight
from policy.tokens._regularizers import epo_smoothing_penalty as epo_smoothing_penalty
from policy.tokens._regularizers import siren_anchor_penalty as siren_anchor_penalty
from policy.tokens._schedules import ScaleBySNRState as ScaleBySNRState
from policy.tokens._schedules import SNRTransformation as SNRTransformation
from policy.tokens._schedules import scale_by_snr as scale_by_snr
from policy.tokens._selection import clip_cov_mask as clip_cov_mask
from policy.tokens._selection import d3s_select_samples as d3s_select_samples
from policy.tokens._selection import d3s_token_mask as d3s_token_mask
from policy.tokens._selection import entropy_discriminator as entropy_discriminator
from policy.tokens._selection import entropy_discriminator_mask as entropy_discriminator_mask
from policy.tokens._selection import kl_cov_mask as kl_cov_mask
from policy.tokens._selection import lp_reg_mask as lp_reg_mask
from policy.tokens._selection import lp_reg_proxy_logp as lp_reg_proxy_logp
from policy.tokens._selection import siren_peak_mask as siren_peak_mask
from policy.tokens._selection import siren_top_p_entropy as siren_top_p_entropy
from policy.tokens._selection import steer_weights as steer_weights
from policy.tokens._selection import token_covariance as token_covariance
from policy.tokens._selection import top_entropy_mask as top_entropy_mask
from policy.tokens._surrogates import CISPO as CISPO
from policy.tokens._surrogates import SAPO as SAPO
from policy.tokens._surrogates import COPOBlend as COPOBlend
from policy.tokens._surrogates import GradientPreservingClip as GradientPreservingClip
from policy.tokens._surrogates import GSPOClip as GSPOClip
from policy.tokens._surrogates import HAPOClip as HAPOClip
from policy.tokens._surrogates import NoClip as NoClip
from policy.tokens._surrogates import PPOClip as PPOClip
from policy.tokens._surrogates import TRLClip as TRLClip
from policy.tokens._surrogates import UnifiedPG as UnifiedPG

__all__ = [
    "AGG_MODES",
    "AdaptiveEntropyState",
    "CISPO",
    "COPOBlend",
    "ClipCov",
    "ClipInfo",
    "Context",
    "D3STokens",
    "DCPOMix",
    "DSDRLocalEntropy",
    "EMPG",
    "EPOSmoothing",
    "EntropyAware",
    "EntropyBonus",
    "EntropyDiscriminatorClip",
    "GSPOClip",
    "GradientPreservingClip",
    "HAPOAdvantages",
    "HAPOClip",
    "KLCov",
    "LpReg",
    "NoClip",
    "PPOClip",
    "Part",
    "Port",
    "ReferenceKL",
    "SAPO",
    "SNRTransformation",
    "ScaleBySNRState",
    "SirenAnchor",
    "Steer",
    "Surrogate",
    "TRLClip",
    "TokenLoss",
    "TopEntropy",
    "UnifiedPG",
    "adaptive_entropy_init",
    "adaptive_entropy_update",
    "aepo_loss",
    "agentic_ebpo",
    "aggregate_loss",
    "answer_cluster_counts",
    "broadcast_advantages",
    "chain",
    "clip_cov",
    "clip_cov_mask",
    "contrastive_pg_loss",
    "copo",
    "copo_answer_entropy",
    "copo_global_advantages",
    "d3s",
    "d3s_select_samples",
    "d3s_token_mask",
    "dapo",
    "dapo_dynamic_sampling_mask",
    "dapo_overlong_penalty",
    "dcpo",
    "dcpo_mix_advantages",
    "dcpo_temperature",
    "dr_grpo",
    "dr_grpo_advantages",
    "dsdr",
    "dsdr_advantages",
    "dsdr_diversity",
    "empg",
    "empg_modulate_advantages",
    "empo",
    "empo_cluster_rewards",
    "empo_confidence_mask",
    "entropy_aware_advantages",
    "entropy_discriminator",
    "entropy_discriminator_clip",
    "entropy_discriminator_mask",
    "entropy_from_logits",
    "epo",
    "epo_phase_weight",
    "epo_smoothing_penalty",
    "from_trl",
    "from_verl",
    "grpo",
    "grpo_advantages",
    "hapo",
    "hapo_adaptive_eps",
    "hapo_normalized_entropy",
    "hapo_redistribute_advantages",
    "hapo_temperature",
    "hapo_token_advantages",
    "hpt",
    "hpt_gate",
    "importance_ratio",
    "kl_cov",
    "kl_cov_mask",
    "kl_estimate",
    "log_probs_from_logits",
    "log_softmax_temperature",
    "lp_reg",
    "lp_reg_mask",
    "lp_reg_proxy_logp",
    "masked_mean",
    "masked_sum",
    "masked_var",
    "oblr_baseline_advantages",
    "oblr_gradient_proxy",
    "ppo_entropy_bonus",
    "rloo_advantages",
    "rpo_loss",
    "scale_by_snr",
    "siren",
    "siren_anchor_penalty",
    "siren_peak_mask",
    "siren_top_p_entropy",
    "standard_metrics",
    "steer",
    "steer_weights",
    "token_covariance",
    "token_logp_entropy_chunked",
    "top_entropy_mask",
]
