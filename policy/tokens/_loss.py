r"""Composable token-level policy-gradient losses: parts chained into one objective.

A loss is built, like an optax ``chain``, from parts of four kinds, applied in this order:

1. advantage transforms (:math:`A \to A'`, stop-gradient; EMPG, DCPO, entropy-aware scaling);
2. token weights :math:`w_{i,t}` that multiply the surrogate (selections such as Clip-Cov's cut,
   the 80/20 top-entropy mask, STEER's weights);
3. exactly one surrogate: the clip rule turning log-probs and advantages into per-token losses
   :math:`\ell^{\rm pg}` (PPO with clip-higher and dual clip, TRL's, CISPO, GSPO, ...);
4. penalties: per-token terms (reference KL, entropy bonus, KL-Cov, Lp-Reg) aggregated *exactly like
   the surrogate*, and scalar regularisers on aggregated statistics (SIREN's anchor, EPO's smoothing).

.. math::

    L = \operatorname{Agg}_m(w\,\ell^{\rm pg}) + \sum_k \operatorname{Agg}_m(c_k\,\ell^{(k)})
        + \sum_j \Omega_j,

with one aggregation :math:`\operatorname{Agg}_m` (mode, mask and denominator) for every per-token
term: with micro-batches and a global ``denominator`` the sum of the micro-batch losses is the
batch loss, penalties included, provided every batch-level quantity is computed once on the whole
batch and passed in: the advantages, and the selections of Clip-Cov and KL-Cov (inputs
``clip_cov_keep`` / ``kl_cov_selected``), which a per-call selection would otherwise recompute on
each micro-batch. Parts that aggregate on their own (HPT's SFT and entropy token means, SIREN's
anchor, EPO's smoothing, DSDR) are normalised over the tokens of the call. Every term is linear
in :math:`\ell`, so the returned metrics add
up: ``loss = pg_loss + sum of the penalties' contributions``.

Metrics (stop-gradient, means over valid tokens unless stated; names follow verl, TRL's names where
only TRL has the quantity):

* ``loss``: the total objective.
* ``pg_loss``: :math:`\operatorname{Agg}_m(w\,\ell^{\rm pg})`, the surrogate term only.
* ``pg_clipfrac``: tokens where the surrogate's clip is active (TRL: ``clip_ratio/region_mean``).
* ``pg_clipfrac_lower``: :math:`A < 0` tokens capped by the dual clip.
* ``clip_ratio/low_mean``, ``clip_ratio/high_mean`` (TRL's names): :math:`r < 1-\epsilon_l` with
  :math:`A < 0`, and :math:`r > 1+\epsilon_h` with :math:`A > 0`.
* ``ppo_kl``: :math:`\operatorname{mean}(\log\pi_{\rm old} - \log\pi)`.
* ``ratio/mean``, ``ratio/max``: the importance ratio :math:`r` (the sequence ratio for GSPO).
* ``entropy``: the full-vocabulary entropy (input ``entropy``; ``nan`` without it) aggregated
  like the loss, as verl's ``actor/entropy`` (``agg_loss(entropy, mask, loss_agg_mode)``);
  ``entropy/token_mean``: its mean over valid tokens; ``entropy/seq_mean``: mean over non-empty
  sequences of their token-mean entropy.
* ``cov_logp_adv``: :math:`\operatorname{mean}\,(A-\bar A)(\log\pi - \overline{\log\pi})`.
* ``adv/mean``, ``adv/std``: advantages after the transforms over valid tokens;
  ``adv/frac_zero_seq``: fraction of the non-empty sequences whose mean advantage is exactly 0.
  (TRL's ``frac_reward_zero_std`` is a property of the rewards, the fraction of *groups* whose
  rewards have zero std; compute it from the rewards, it is not a loss metric.)
* ``token_weight/mean|min|max``: the product of the weight parts.
* ``response_length/mean`` (TRL: ``completions/mean_length``); ``response_length/clip_ratio``:
  sequences whose last position is valid, i.e. truncated (TRL: ``completions/clipped_ratio``).

``chain(..., metric_prefix="actor/")`` prefixes every name (verl's dashboards: ``actor/pg_loss``,
``actor/entropy``, ...; :func:`from_verl` does so by default).

Parts add their own metrics under their own names (``kl_loss`` and ``kl_coef`` for the reference
KL as in verl; ``entropy_agg``, ``entropy_coef`` for the bonus; ``clip_cov/n_selected``, ...).
verl's ``clip_cov`` and ``kl_cov`` losses report their selection under ``pg_clipfrac`` and
``ppo_kl``; here those two names keep their meaning and the selections have their own metrics.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, NamedTuple

import jax
import jax.numpy as jnp

from policy._core import (
    _check_choice,
    _check_mask,
    _check_rank,
    _check_same_shape,
    masked_mean,
)
from policy.tokens._advantages import broadcast_advantages
from policy.tokens._aggregation import AGG_MODES, aggregate_loss
from policy.tokens._selection import token_covariance

sg = jax.lax.stop_gradient


class ClipInfo(NamedTuple):
    r"""Per-token diagnostics of a surrogate (all ``[batch, seq]``).

    Attributes:
      ratio: importance ratio :math:`r` (value).
      log_ratio: :math:`\log r`.
      clipped: bool, the surrogate's clip is active.
      clipped_dual: bool, the dual clip caps the token.
      low: bool, :math:`r < 1-\epsilon_l` and :math:`A < 0`.
      high: bool, :math:`r > 1+\epsilon_h` and :math:`A > 0`.

    Examples:
      >>> import jax.numpy as jnp
      >>> info = ClipInfo.unclipped(jnp.ones((1, 2)), jnp.zeros((1, 2)))
      >>> info.clipped.tolist()
      [[False, False]]
    """

    ratio: jax.Array
    log_ratio: jax.Array
    clipped: jax.Array
    clipped_dual: jax.Array
    low: jax.Array
    high: jax.Array

    @classmethod
    def unclipped(cls, ratio, log_ratio) -> ClipInfo:
        """Diagnostics of a surrogate that never clips (every flag ``False``)."""
        f = jnp.zeros(jnp.shape(ratio), bool)
        return cls(ratio, log_ratio, f, f, f, f)


class Context(NamedTuple):
    """What the parts of a :class:`TokenLoss` see.

    Attributes:
      logp: ``[batch, seq]`` current log-probs (differentiable).
      old_logp: ``[batch, seq]`` behaviour log-probs.
      advantages: ``[batch, seq]`` advantages (stop-gradient; after the transforms so far).
      mask: ``[batch, seq]`` float 0/1 response mask.
      weights: ``[batch, seq]`` product of the weight parts (ones before that stage).
      inputs: the extra keyword inputs of the call (``entropy``, ``ref_logp``, ``key``, ...).
      aggregate: ``x [batch, seq] -> scalar``, the loss's aggregation (mode, mask, denominator).

    Examples:
      >>> "aggregate" in Context._fields
      True
    """

    logp: jax.Array
    old_logp: jax.Array
    advantages: jax.Array
    mask: jax.Array
    weights: jax.Array
    inputs: Mapping[str, Any]
    aggregate: Callable[[jax.Array], jax.Array]


@dataclasses.dataclass(frozen=True)
class Part:
    """Base class of the parts of a :class:`TokenLoss` (frozen, hashable configuration).

    A part overrides one or more of the stage methods; the default of each returns ``None`` (the
    part does not act at that stage). ``requires`` names the keyword inputs the part reads,
    ``optional`` those it reads when given.

    Examples:
      >>> Part().advantages(None) is None, Part.requires
      (True, ())
    """

    requires: ClassVar[tuple[str, ...]] = ()
    optional: ClassVar[tuple[str, ...]] = ()
    is_surrogate: ClassVar[bool] = False

    def advantages(self, ctx: Context) -> tuple[jax.Array, dict] | None:
        """Transformed ``[batch, seq]`` advantages and metrics, or ``None``."""
        return None

    def weights(self, ctx: Context) -> tuple[jax.Array, dict] | None:
        """``[batch, seq]`` token weights multiplying the surrogate and metrics, or ``None``."""
        return None

    def apply_weights(self, pg: jax.Array, w: jax.Array) -> jax.Array:
        """How this part's weights act on the surrogate (default: multiply)."""
        return w * pg

    def penalty(self, ctx: Context) -> tuple[jax.Array, dict] | None:
        """Scalar contribution to the loss (use ``ctx.aggregate`` for per-token terms) and metrics."""
        return None


@dataclasses.dataclass(frozen=True)
class Surrogate(Part):
    """Base class of the surrogate (clip rule) part: exactly one per :class:`TokenLoss`.

    Examples:
      >>> Surrogate.is_surrogate
      True
    """

    is_surrogate: ClassVar[bool] = True

    def surrogate(self, ctx: Context) -> tuple[jax.Array, ClipInfo]:
        """Per-token ``[batch, seq]`` losses and their :class:`ClipInfo`."""
        raise NotImplementedError


def _add_metrics(out: dict, new: Mapping, owner: str) -> None:
    clash = sorted(set(out) & set(new))
    if clash:
        raise ValueError(f"expected distinct metric names, got {clash} again from {owner}")
    out.update(new)


def standard_metrics(ctx: Context, info: ClipInfo) -> dict:
    """The metrics every :class:`TokenLoss` reports (module docstring), stop-gradient.

    Examples:
      >>> import jax.numpy as jnp
      >>> m = jnp.ones((1, 2))
      >>> ctx = Context(jnp.zeros((1, 2)), jnp.zeros((1, 2)), jnp.ones((1, 2)), m, m, {}, None)
      >>> met = standard_metrics(ctx, ClipInfo.unclipped(m, 0 * m))
      >>> float(met["pg_clipfrac"]), float(met["response_length/mean"])
      (0.0, 2.0)
    """
    lp, m, adv, w = sg(ctx.logp), ctx.mask, ctx.advantages, sg(ctx.weights)

    def frac(b):
        return masked_mean(b.astype(lp.dtype), m)

    n_i = jnp.sum(m, axis=1)
    seq_adv = jnp.sum(adv * m, axis=1) / jnp.where(n_i > 0, n_i, 1.0)
    out = {
        "pg_clipfrac": frac(info.clipped),
        "pg_clipfrac_lower": frac(info.clipped_dual),
        "clip_ratio/low_mean": frac(info.low),
        "clip_ratio/high_mean": frac(info.high),
        "ppo_kl": masked_mean(sg(ctx.old_logp) - lp, m),
        "ratio/mean": masked_mean(sg(info.ratio), m),
        "ratio/max": jnp.max(jnp.where(m > 0, sg(info.ratio), -jnp.inf)),
        "cov_logp_adv": masked_mean(token_covariance(lp, adv, m), m),
        "adv/mean": masked_mean(adv, m),
        "adv/std": jnp.sqrt(masked_mean((adv - masked_mean(adv, m)) ** 2, m)),
        "adv/frac_zero_seq": masked_mean((seq_adv == 0).astype(lp.dtype), (n_i > 0).astype(lp.dtype)),
        "token_weight/mean": masked_mean(w, m),
        "token_weight/min": jnp.min(jnp.where(m > 0, w, jnp.inf)),
        "token_weight/max": jnp.max(jnp.where(m > 0, w, -jnp.inf)),
        "response_length/mean": jnp.mean(n_i),
        "response_length/clip_ratio": jnp.mean((m[:, -1] > 0).astype(lp.dtype)),
    }
    h = ctx.inputs.get("entropy")
    if h is None:
        out["entropy"] = out["entropy/token_mean"] = out["entropy/seq_mean"] = jnp.asarray(jnp.nan, lp.dtype)
    else:
        h = sg(jnp.asarray(h, lp.dtype))
        out["entropy"] = ctx.aggregate(h)
        out["entropy/token_mean"] = masked_mean(h, m)
        seq_h = jnp.sum(h * m, axis=1) / jnp.where(n_i > 0, n_i, 1.0)
        out["entropy/seq_mean"] = masked_mean(seq_h, (n_i > 0).astype(lp.dtype))
    return out


_TOKEN_INPUTS = ("entropy", "ref_logp", "proxy_logp", "topp_entropy", "discriminator",
                 "old_logp_temp", "step_ids", "clip_cov_keep", "kl_cov_selected")


@dataclasses.dataclass(frozen=True)
class TokenLoss:
    """A token-level objective: parts and one aggregation (build it with :func:`chain`).

    Calling it computes ``(loss, metrics)``; it is a pure function of its arguments, so it can be
    ``jit``-ed, differentiated and (being a frozen dataclass of frozen parts) passed as a static
    argument.

    Attributes:
      parts: the parts, in the order given to :func:`chain`.
      aggregation: one of ``"token-mean"``, ``"seq-mean-token-mean"``, ``"seq-mean-token-sum"``,
        ``"seq-mean-token-sum-norm"`` (:func:`aggregate_loss`).
      constant: :math:`C` of ``"seq-mean-token-sum-norm"`` (``None``: the padded length).
      metric_prefix: prefixed to every metric name (``"actor/"`` for verl dashboards).

    Examples:
      >>> import jax.numpy as jnp
      >>> from policy.tokens import PPOClip
      >>> loss_fn = chain(PPOClip(eps_low=0.2))
      >>> loss, met = loss_fn(logp=jnp.zeros((1, 2)), old_logp=jnp.zeros((1, 2)), advantages=jnp.ones(1),
      ...                     mask=jnp.ones((1, 2)))
      >>> float(loss), float(met["pg_clipfrac"])
      (-1.0, 0.0)
    """

    parts: tuple[Part, ...]
    aggregation: str = "token-mean"
    constant: float | None = None
    metric_prefix: str = ""

    def __post_init__(self):
        _check_choice("aggregation", self.aggregation, AGG_MODES)
        for p in self.parts:
            if not isinstance(p, Part):
                raise TypeError(f"expected loss parts (policy.tokens parts), got {type(p).__name__}")
        n = sum(p.is_surrogate for p in self.parts)
        if n != 1:
            raise ValueError(f"expected exactly one surrogate (clip rule) among the parts, got {n}")

    @property
    def surrogate(self) -> Surrogate:
        """The loss's surrogate part."""
        return next(p for p in self.parts if p.is_surrogate)

    def __call__(self, *args, logp=None, old_logp=None, advantages=None, mask=None, denominator=None, **inputs):
        """Evaluates the loss; every argument is a keyword.

        ``logp`` and ``old_logp`` are keyword-only so that they cannot be swapped silently: verl's
        functions take ``(old_log_prob, log_prob, ...)``, and the swapped call of an on-policy batch
        gives a loss of the right value with a zero gradient.

        Args:
          *args: refused (every argument is a keyword).
          logp: ``[batch, seq]`` current log-probs (differentiable).
          old_logp: ``[batch, seq]`` behaviour log-probs.
          advantages: ``[batch]`` (broadcast over tokens) or ``[batch, seq]``.
          mask: ``[batch, seq]`` 0/1 response mask.
          denominator: optional global denominator of the aggregation (token count for
            ``token-mean``, non-empty sequence count for the ``seq-mean-*`` modes), shared by every
            term.
          **inputs: the extra inputs the parts require (``entropy``, ``ref_logp``, ``key``, ...);
            ``entropy`` (``[batch, seq]``) is always accepted, for the ``entropy`` metrics.

        Returns:
          ``(loss, metrics)``.

        Raises:
          TypeError: for positional arguments.
          ValueError: on bad shapes or masks, a missing or unexpected input, or two parts emitting
            one metric.
        """
        if args:
            raise TypeError(f"expected keyword arguments logp=, old_logp=, advantages=, mask= (verl's order is "
                            f"old_log_prob, log_prob), got {len(args)} positional argument(s)")
        missing = [k for k, v in (("logp", logp), ("old_logp", old_logp), ("advantages", advantages),
                                  ("mask", mask)) if v is None]
        if missing:
            raise TypeError(f"expected keyword arguments {missing}, got none")
        _check_rank("logp", logp, 2)
        _check_same_shape("logp", logp, "old_logp", old_logp)
        _check_same_shape("logp", logp, "mask", mask)
        for name in _TOKEN_INPUTS:
            if inputs.get(name) is not None:
                _check_same_shape("logp", logp, name, inputs[name])
        _check_mask("mask", mask)
        known = {"entropy"}
        for p in self.parts:
            known.update(p.requires, p.optional)
            missing = [r for r in p.requires if inputs.get(r) is None]
            if missing:
                raise ValueError(f"expected input(s) {missing} for {type(p).__name__}, got none")
        unknown = sorted(set(inputs) - known)
        if unknown:
            raise ValueError(f"expected inputs among {sorted(known)} for these parts, got {unknown}")
        logp = jnp.asarray(logp)
        m = jnp.asarray(mask, logp.dtype)
        adv = sg(broadcast_advantages(advantages, m).astype(logp.dtype))

        def aggregate(x):
            return aggregate_loss(x, m, mode=self.aggregation, denominator=denominator,
                                  constant=self.constant)

        ctx = Context(logp, sg(jnp.asarray(old_logp, logp.dtype)), adv, m, jnp.ones_like(logp),
                      inputs, aggregate)
        part_metrics: dict = {}
        for p in self.parts:
            out = p.advantages(ctx)
            if out is not None:
                ctx = ctx._replace(advantages=sg(out[0]))
                _add_metrics(part_metrics, out[1], type(p).__name__)
        weighted = []
        for p in self.parts:
            out = p.weights(ctx)
            if out is not None:
                w = sg(jnp.asarray(out[0], logp.dtype))
                weighted.append((p, w))
                ctx = ctx._replace(weights=ctx.weights * w)
                _add_metrics(part_metrics, out[1], type(p).__name__)
        pg, info = self.surrogate.surrogate(ctx)
        for p, w in weighted:
            pg = p.apply_weights(pg, w)
        pg_loss = aggregate(pg)
        loss = pg_loss
        for p in self.parts:
            out = p.penalty(ctx)
            if out is not None:
                loss = loss + out[0]
                _add_metrics(part_metrics, out[1], type(p).__name__)
        metrics = standard_metrics(ctx, info)
        metrics.update(loss=sg(loss), pg_loss=sg(pg_loss))
        _add_metrics(metrics, part_metrics, "the parts")
        if self.metric_prefix:
            metrics = {self.metric_prefix + k: v for k, v in metrics.items()}
        return loss, metrics


def chain(*parts: Part, aggregation: str = "token-mean", constant: float | None = None,
          metric_prefix: str = "") -> TokenLoss:
    r"""Chains parts into a :class:`TokenLoss` (like ``optax.chain`` for updates).

    Args:
      *parts: exactly one surrogate (:class:`PPOClip`, :class:`TRLClip`, ...) and any number of
        advantage, weight and penalty parts, in the order they should act within each stage.
      aggregation: ``"token-mean"``, ``"seq-mean-token-mean"``, ``"seq-mean-token-sum"`` or
        ``"seq-mean-token-sum-norm"``.
      constant: :math:`C` of ``"seq-mean-token-sum-norm"`` (default: padded length).
      metric_prefix: prefixed to every metric name, e.g. ``"actor/"`` (verl).

    Returns:
      The :class:`TokenLoss`.

    Raises:
      ValueError: for an unknown aggregation or not exactly one surrogate.
      TypeError: for something that is not a part.

    Examples:
      PPO with clip-higher plus an entropy bonus, token-mean (the bonus is aggregated like the
      surrogate):

      >>> import jax.numpy as jnp
      >>> from policy.tokens import EntropyBonus, PPOClip
      >>> loss_fn = chain(PPOClip(eps_low=0.2, eps_high=0.28), EntropyBonus(coef=0.1))
      >>> loss, met = loss_fn(logp=jnp.zeros((1, 2)), old_logp=jnp.zeros((1, 2)), advantages=jnp.zeros(1),
      ...                     mask=jnp.ones((1, 2)),
      ...                     entropy=jnp.array([[1.0, 3.0]]))
      >>> round(float(loss), 6), float(met["entropy_agg"])
      (-0.2, 2.0)
    """
    return TokenLoss(tuple(parts), aggregation, constant, metric_prefix)
