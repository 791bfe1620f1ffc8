r"""Port a verl actor config or a TRL ``GRPOConfig`` to a :class:`TokenLoss` in one call.

:func:`from_verl` and :func:`from_trl` read plain dicts (neither library is imported) and return a
:class:`Port`: the loss, the advantage function of the run and the mask rule, so that

.. code-block:: python

    port = tokens.from_verl({"loss_agg_mode": "token-mean", "clip_ratio_high": 0.28, ...})
    adv = port.advantages(rewards, group_ids, num_groups=G)
    loss, metrics = port.loss(logp=logp, old_logp=old_logp, advantages=adv, mask=port.mask(mask), ...)

reproduces the library's loss (values and gradients; ``tests/policy/test_token_ports.py`` checks
both against NumPy transcriptions of each library's formulas). Unknown keys are ignored (a full
actor config carries many that do not concern the loss); unsupported values of the keys read
raise ``ValueError``.

verl (``actor_rollout_ref.actor``; ``policy_loss`` may be nested or flat):

* ``policy_loss.loss_mode``: ``vanilla`` (:class:`PPOClip`, log-ratio clamped to :math:`\pm 20`,
  dual clip ``clip_ratio_c`` = 3 on :math:`A < 0`), ``clip_cov`` / ``clip-cov`` (:class:`ClipCov`:
  ``clip_cov_ratio``, ``clip_cov_lb``, ``clip_cov_ub``; no clamp, no dual clip), ``kl_cov`` /
  ``kl-cov`` (:class:`NoClip` + :class:`KLCov`: ``kl_cov_ratio``, ``ppo_kl_coef``), ``gspo``
  (:class:`GSPOClip`, always ``seq-mean-token-mean`` as verl's gspo loss does).
* ``clip_ratio`` (0.2), ``clip_ratio_low`` / ``clip_ratio_high`` (default ``clip_ratio``),
  ``clip_ratio_c`` (3.0).
* ``loss_agg_mode`` and ``loss_scale_factor`` (the :math:`C` of ``seq-mean-token-sum-norm``).
* ``entropy_coeff``: :class:`EntropyBonus` aggregated like the loss (verl: ``pg_loss -
  entropy_coeff * agg_loss(entropy)``); input ``entropy``.
* ``use_kl_loss``, ``kl_loss_coef`` (0.001), ``kl_loss_type`` (``kl``/``k1``, ``abs``, ``mse``/``k2``,
  ``low_var_kl``/``k3``, a ``+`` suffix for the straight-through form): :class:`ReferenceKL`;
  input ``ref_logp``.
* advantages: GRPO with :math:`\epsilon = 10^{-6}`, unbiased group std unless
  ``norm_adv_by_std_in_grpo`` is false (a key of verl's ``algorithm`` config, accepted here).

TRL (``GRPOConfig``): ``loss_type`` ``grpo`` (seq-mean-token-mean; TRL divides by :math:`\max(n_i, 1)`
and averages over *all* rows, so with empty rows, e.g. masked truncated completions, pass
``denominator`` = the number of rows; ours adds :math:`10^{-8}` to :math:`n_i`, a relative
:math:`10^{-8}`),
``bnpo`` (token-mean of the call), ``dapo`` (token-mean over the global ``num_items_in_batch``: pass
it as ``denominator``), ``dr_grpo`` (:math:`\sum\ell m / (B\cdot L_{\max})`, ``B`` =
``per_device_train_batch_size``, ``L_max`` = ``max_completion_length``); ``epsilon`` (0.2),
``epsilon_high`` (default ``epsilon``) with :class:`TRLClip` (no clamp, no dual clip); ``beta``
(0.0): :math:`k_3` KL to the reference (:class:`ReferenceKL`; ours clamps :math:`\log` ratios beyond
:math:`\pm 20` and values beyond 10, TRL does not); ``top_entropy_quantile``
:math:`\rho < 1`: :class:`TopEntropy` (the policy term on the tokens with entropy at or above the
:math:`(1-\rho)` quantile of the batch, normalised by *all* valid tokens as TRL's loss does, the KL
term on all tokens); ``entropy_coef`` (when set): the entropy bonus over the same token set,
aggregated by ``loss_type`` like the policy term; ``mask_truncated_completions``: :attr:`Port.mask`
zeroes truncated rows; ``scale_rewards`` (``group``/``True``, ``batch``, ``none``/``False``):
advantages with TRL's :math:`\epsilon = 10^{-4}`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import jax.numpy as jnp

from policy.tokens._advantages import grpo_advantages
from policy.tokens._loss import TokenLoss, chain
from policy.tokens._parts import ClipCov, EntropyBonus, KLCov, ReferenceKL, TopEntropy
from policy.tokens._surrogates import GSPOClip, NoClip, PPOClip, TRLClip


class Port(NamedTuple):
    """A ported configuration.

    Attributes:
      loss: the :class:`TokenLoss`.
      advantages: ``(rewards, group_ids, *, num_groups) -> [batch]`` advantages of the run.
      mask: ``(mask, truncated=None) -> mask``: the response mask the library trains on (TRL's
        ``mask_truncated_completions`` zeroes the rows flagged ``truncated``).

    Examples:
      >>> "loss" in Port._fields
      True
    """

    loss: TokenLoss
    advantages: Callable[..., Any]
    mask: Callable[..., Any]


_VERL_KL = {"kl": "k1", "k1": "k1", "abs": "abs", "mse": "k2", "k2": "k2", "low_var_kl": "k3", "k3": "k3"}
_VERL_AGG = ("token-mean", "seq-mean-token-mean", "seq-mean-token-sum", "seq-mean-token-sum-norm")


def _get(cfg: Mapping, key: str, default):
    v = cfg.get(key, default)
    return default if v is None else v


def _check_mapping(name, cfg):
    if not isinstance(cfg, Mapping):
        raise TypeError(f"expected a dict for {name}, got {type(cfg).__name__}")


def _keep_mask(mask, truncated=None):
    return mask


def from_verl(config: Mapping, *, metric_prefix: str = "actor/") -> Port:
    r"""The :class:`Port` of a verl actor config (``actor_rollout_ref.actor`` as a dict).

    See the module docstring for the keys read. The loss takes the inputs of its parts:
    ``entropy`` when ``entropy_coeff`` is non-zero, ``ref_logp`` with ``use_kl_loss``, ``key`` (or
    ``clip_cov_keep``) for ``clip_cov``. Metric names carry ``metric_prefix`` (verl's ``actor/``).

    Raises:
      TypeError: if ``config`` is not a mapping.
      ValueError: for an unsupported ``loss_mode``, ``loss_agg_mode`` or ``kl_loss_type``, or
        ``clip_ratio_c <= 1``.

    Examples:
      >>> import jax.numpy as jnp
      >>> port = from_verl({"clip_ratio_high": 0.28, "loss_agg_mode": "token-mean"})
      >>> r = jnp.log(jnp.array([[1.5, 5.0]]))  # A = -1: the dual clip caps -A r at c = 3
      >>> loss, _ = port.loss(logp=r, old_logp=jnp.zeros((1, 2)), advantages=-jnp.ones(1), mask=jnp.ones((1, 2)))
      >>> float(loss)  # (1.5 + 3) / 2
      2.25
    """
    _check_mapping("the verl actor config", config)
    pl = config.get("policy_loss") or {}
    _check_mapping("policy_loss", pl)

    def opt(key, default):
        return _get(pl, key, _get(config, key, default))

    mode = str(opt("loss_mode", "vanilla")).replace("-", "_")
    agg = _get(config, "loss_agg_mode", "token-mean")
    if agg not in _VERL_AGG:
        raise ValueError(f"expected loss_agg_mode in {_VERL_AGG}, got {agg!r}")
    constant = config.get("loss_scale_factor")
    eps = float(_get(config, "clip_ratio", 0.2))
    lo = float(_get(config, "clip_ratio_low", eps))
    hi = float(_get(config, "clip_ratio_high", eps))
    if mode == "vanilla":
        parts = [PPOClip(eps_low=lo, eps_high=hi, dual_clip=float(_get(config, "clip_ratio_c", 3.0)))]
    elif mode == "clip_cov":
        parts = [ClipCov(fraction=float(opt("clip_cov_ratio", 2e-4)), cov_low=float(opt("clip_cov_lb", 1.0)),
                         cov_high=float(opt("clip_cov_ub", 5.0)), eps_low=lo, eps_high=hi),
                 PPOClip(eps_low=lo, eps_high=hi, log_ratio_clamp=None)]
    elif mode == "kl_cov":
        parts = [NoClip(), KLCov(fraction=float(opt("kl_cov_ratio", 2e-4)), coef=float(opt("ppo_kl_coef", 0.1)))]
    elif mode == "gspo":
        parts, agg = [GSPOClip(eps_low=lo, eps_high=hi)], "seq-mean-token-mean"
    else:
        raise ValueError(f"expected loss_mode in ('vanilla', 'clip_cov', 'kl_cov', 'gspo'), got {mode!r}")
    coeff = float(_get(config, "entropy_coeff", 0.0))
    if coeff:
        parts.append(EntropyBonus(coef=coeff))
    if _get(config, "use_kl_loss", False):
        kind = str(_get(config, "kl_loss_type", "low_var_kl"))
        base, plus = (kind[:-1], "+") if kind.endswith("+") else (kind, "")
        if base not in _VERL_KL or (plus and _VERL_KL[base] != "k3"):
            raise ValueError(f"expected kl_loss_type in {sorted(_VERL_KL)} (or k3+/low_var_kl+), got {kind!r}")
        parts.append(ReferenceKL(coef=float(_get(config, "kl_loss_coef", 0.001)), estimator=_VERL_KL[base] + plus))
    loss = chain(*parts, aggregation=agg, constant=None if constant is None else float(constant),
                 metric_prefix=metric_prefix)
    scale = "group" if _get(config, "norm_adv_by_std_in_grpo", True) else "none"

    def advantages(rewards, group_ids, *, num_groups):
        return grpo_advantages(rewards, group_ids, num_groups=num_groups, eps=1e-6, scale=scale,
                               singleton="reinforce")

    return Port(loss, advantages, _keep_mask)


_TRL_AGG = {"grpo": "seq-mean-token-mean", "bnpo": "token-mean", "dapo": "token-mean",
            "dr_grpo": "seq-mean-token-sum-norm"}


def from_trl(config: Mapping) -> Port:
    r"""The :class:`Port` of a TRL ``GRPOConfig`` (as a dict).

    See the module docstring for the keys read. ``loss_type="dapo"`` needs the global token count
    (TRL's ``num_items_in_batch``) as the call's ``denominator`` when the batch is split.

    Raises:
      TypeError: if ``config`` is not a mapping.
      ValueError: for an unsupported ``loss_type`` or ``scale_rewards``, or a
        ``top_entropy_quantile`` outside ``(0, 1]``.

    Examples:
      >>> import jax.numpy as jnp
      >>> port = from_trl({"loss_type": "grpo", "epsilon": 0.2})
      >>> r = jnp.log(jnp.array([[1.5, 5.0]]))  # A = -1: TRL has no dual clip
      >>> loss, _ = port.loss(logp=r, old_logp=jnp.zeros((1, 2)), advantages=-jnp.ones(1), mask=jnp.ones((1, 2)))
      >>> round(float(loss), 6)  # (1.5 + 5) / 2
      3.25
    """
    _check_mapping("the TRL GRPOConfig", config)
    lt = _get(config, "loss_type", "dapo")
    if lt not in _TRL_AGG:
        raise ValueError(f"expected loss_type in {tuple(_TRL_AGG)}, got {lt!r}")
    eps = float(_get(config, "epsilon", 0.2))
    parts = [TRLClip(eps_low=eps, eps_high=float(_get(config, "epsilon_high", eps)))]
    rho = float(_get(config, "top_entropy_quantile", 1.0))
    if not 0.0 < rho <= 1.0:
        raise ValueError(f"expected top_entropy_quantile in (0, 1], got {rho}")
    if rho < 1.0:
        parts.append(TopEntropy(keep_fraction=rho))
    coef = float(_get(config, "entropy_coef", 0.0))
    if coef:
        parts.append(EntropyBonus(coef=coef))
    beta = float(_get(config, "beta", 0.0))
    if beta:
        parts.append(ReferenceKL(coef=beta, estimator="k3"))
    constant = None
    if lt == "dr_grpo":
        constant = float(_get(config, "per_device_train_batch_size", 8)) * float(
            _get(config, "max_completion_length", 256))
    loss = chain(*parts, aggregation=_TRL_AGG[lt], constant=constant)
    sr = _get(config, "scale_rewards", "group")
    sr = {True: "group", False: "none"}.get(sr, sr)
    if sr not in ("group", "batch", "none"):
        raise ValueError(f"expected scale_rewards in ('group', 'batch', 'none', True, False), got {sr!r}")

    def advantages(rewards, group_ids, *, num_groups):
        return grpo_advantages(rewards, group_ids, num_groups=num_groups, eps=1e-4, scale=sr, singleton="zero")

    drop = bool(_get(config, "mask_truncated_completions", False))

    def mask(m, truncated=None):
        if not drop:
            return m
        if truncated is None:
            raise ValueError("expected truncated= (a [batch] bool array) with mask_truncated_completions, got none")
        return jnp.asarray(m) * (~jnp.asarray(truncated, bool))[:, None].astype(jnp.asarray(m).dtype)

    return Port(loss, advantages, mask)
