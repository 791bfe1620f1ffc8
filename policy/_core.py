r"""Shared policy-gradient pieces: log-probabilities, entropy, KL estimators, ratios, masked means.

For a categorical policy with logits :math:`z \in \mathbb{R}^V` sampled at temperature
:math:`\tau > 0` the sampled distribution is :math:`p = \operatorname{softmax}(z/\tau)`. This
module computes

.. math::

    \log p_a = z_a/\tau - \operatorname{logsumexp}(z/\tau), \qquad
    H(p) = \ell + \sum_v p_v\,(-s_v), \quad s = (z - \max z)/\tau,\ \ell = \log\textstyle\sum_v e^{s_v},

both in the shifted variables, so they are accurate at any offset of the logits; the entropy is a
sum of two non-negative terms, never evaluates :math:`0 \cdot \log 0` (finite for peaked logits,
exactly 0 for a vocabulary of size one) and gives :math:`-\infty` logits (masked vocabularies)
zero weight in value and gradient. 16-bit logits are computed in float32. The KL estimators are Schulman's
:math:`k_1 = x`, :math:`k_2 = x^2/2`, :math:`k_3 = e^{-x} + x - 1` for :math:`x = \log\pi - \log
\pi_{\rm ref}` (``k3+`` = value of :math:`k_3`, gradient of :math:`k_2`), the importance ratio is
:math:`r = \exp(\operatorname{clip}(\log\pi - \log\pi_{\rm old}, -c, c))`, and masked means are
:math:`\sum x m / \sum m` with an empty mask giving 0, not NaN.

The functions are shape-agnostic so that the token objectives (``[batch, seq]``) and the Markov-game
learners (``[n_states, n_actions]``) share them. Input checks run on static shapes; checks that need
data values (mask is 0/1, ids in range) run only when the input is concrete, i.e. outside ``jit``.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

Array = jax.Array
ArrayLike = Any

KL_KINDS = ("k1", "abs", "k2", "k3", "k3+")


# ----------------------------------------------------------------------------------------------
# Checks (host-side; data-dependent ones only for concrete inputs)
# ----------------------------------------------------------------------------------------------


def _is_concrete(x: ArrayLike) -> bool:
    """True when ``x`` holds values on the host side (not a tracer inside jit/vmap/grad)."""
    return not isinstance(x, jax.core.Tracer)


def _check_same_shape(name_a: str, a: ArrayLike, name_b: str, b: ArrayLike) -> None:
    sa, sb = np.shape(a), np.shape(b)
    if sa != sb:
        raise ValueError(f"expected {name_b} to have the shape of {name_a} {sa}, got {sb}")


def _check_rank(name: str, x: ArrayLike, rank: int) -> None:
    if np.ndim(x) != rank:
        raise ValueError(f"expected {name} of rank {rank}, got shape {np.shape(x)}")


def _check_mask(name: str, mask: ArrayLike) -> None:
    """Raise unless a concrete mask has only 0/1 entries (skipped under tracing)."""
    if _is_concrete(mask):
        m = np.asarray(mask)
        if m.size and not np.all((m == 0) | (m == 1)):
            bad = m[(m != 0) & (m != 1)].ravel()[0]
            raise ValueError(f"expected {name} with entries in {{0, 1}}, got value {bad}")


def _check_ids(name: str, ids: ArrayLike, n: int) -> None:
    """Raise unless concrete integer ids lie in ``[0, n)`` (range check skipped under tracing)."""
    dtype = getattr(ids, "dtype", None) or np.asarray(ids).dtype
    if not jnp.issubdtype(dtype, jnp.integer):
        raise ValueError(f"expected integer {name}, got dtype {dtype}")
    if _is_concrete(ids):
        v = np.asarray(ids)
        if v.size and (v.min() < 0 or v.max() >= n):
            raise ValueError(
                f"expected {name} in [0, {n}), got values in [{v.min()}, {v.max()}]"
            )


def _check_positive(name: str, value: ArrayLike) -> None:
    """Raise unless a concrete scalar/array is strictly positive (skipped under tracing)."""
    if _is_concrete(value):
        v = np.asarray(value)
        if v.size and not np.all(v > 0):
            raise ValueError(f"expected {name} > 0, got {v.ravel()[np.argmin(v.ravel() > 0)]}")


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"expected {name} in {choices}, got {value!r}")


def _check_fraction(name: str, value: float, *, closed_low: bool = True) -> None:
    if _is_concrete(value):
        v = float(value)
        ok = (0.0 <= v <= 1.0) if closed_low else (0.0 < v <= 1.0)
        if not ok:
            lo = "[0" if closed_low else "(0"
            raise ValueError(f"expected {name} in {lo}, 1], got {v}")


# ----------------------------------------------------------------------------------------------
# Log-probabilities and entropy
# ----------------------------------------------------------------------------------------------


def log_softmax_temperature(logits: ArrayLike, *, temperature: ArrayLike = 1.0, axis: int = -1):
    r"""Log-softmax of ``logits / temperature`` along ``axis``.

    Args:
      logits: real array ``[..., vocab]``.
      temperature: positive scalar :math:`\tau`.
      axis: vocabulary axis.

    Returns:
      Array of the shape of ``logits``: :math:`z/\tau - \operatorname{logsumexp}(z/\tau)`.

    Raises:
      ValueError: if a concrete ``temperature`` is not positive.

    Examples:
      >>> import jax.numpy as jnp
      >>> lp = log_softmax_temperature(jnp.zeros(4))
      >>> round(float(lp[0]), 5)
      -1.38629
    """
    _check_positive("temperature", temperature)
    z = _widen(logits)
    top = jax.lax.stop_gradient(jnp.max(z, axis=axis, keepdims=True))
    return jax.nn.log_softmax((z - jnp.where(jnp.isfinite(top), top, 0.0)) / temperature, axis=axis)


def _widen(logits: ArrayLike):
    """The logits as an array of at least float32 (16-bit logits are computed in float32)."""
    z = jnp.asarray(logits)
    return z.astype(jnp.promote_types(z.dtype, jnp.float32))


def entropy_from_logits(logits: ArrayLike, *, temperature: ArrayLike = 1.0, axis: int = -1):
    r"""Entropy of :math:`\operatorname{softmax}(z/\tau)`, shift-invariant and safe for :math:`-\infty` logits.

    With the shifted logits :math:`s = (z - \max_v z_v)/\tau \le 0` (shifted before the division, so
    :math:`z/\tau` is never rounded at a large offset) and
    :math:`\ell = \log\sum_v e^{s_v} \in [0, \log V]`,

    .. math::

        H = \ell + \sum_v p_v\,(-s_v), \qquad p_v = e^{s_v - \ell},

    a sum of two non-negative terms: no cancellation whatever the offset of the logits (the
    unshifted form :math:`\operatorname{logsumexp}(u) - \sum_v p_v u_v` loses 26 nats at an
    offset of :math:`3\times10^4` in float32), no :math:`0\log 0`, and entries
    :math:`z_v = -\infty` (masked vocabulary, top-k/top-p, constrained decoding) contribute
    exactly 0 to the value and the gradient :math:`\partial H/\partial z_v = -p_v(\log p_v + H)/\tau`.
    The maximum is a constant of the autodiff (the entropy does not depend on it).

    Accuracy: bfloat16/float16 logits are computed in float32 (float64 logits in float64). The
    result is the exact entropy of the given (rounded) logits to float32 rounding: measured
    within 1e-5 nats and 2e-6 per gradient entry for :math:`z \sim N(0, 3)` plus any offset up
    to :math:`3\times10^4`, :math:`V = 1000` (``tests/policy/test_token_numerics.py``); a gradient
    returned to 16-bit logits also carries the rounding to their dtype.
    A row without a finite logit (or with a :math:`+\infty` one) has no distribution: NaN.

    Args:
      logits: real array ``[..., vocab]``.
      temperature: positive scalar :math:`\tau` (the entropy is that of the sampled policy).
      axis: vocabulary axis.

    Returns:
      Array ``[...]`` of entropies in nats, float32 for 16-bit logits.

    Raises:
      ValueError: if a concrete ``temperature`` is not positive.

    Examples:
      >>> import jax.numpy as jnp
      >>> round(float(entropy_from_logits(jnp.zeros(4))), 5)  # log 4
      1.38629
      >>> float(entropy_from_logits(jnp.array([1000.0, 0.0, 0.0])))
      0.0
      >>> round(float(entropy_from_logits(jnp.array([0.0, -jnp.inf, 1.0]))), 6)
      0.582203
    """
    _check_positive("temperature", temperature)
    z = _widen(logits)
    top = jax.lax.stop_gradient(jnp.max(z, axis=axis, keepdims=True))
    s = (z - jnp.where(jnp.isfinite(top), top, 0.0)) / temperature  # shift, then scale: no rounding of z/T
    lse = jax.nn.logsumexp(s, axis=axis, keepdims=True)
    p = jnp.exp(s - lse)
    return jnp.squeeze(lse, axis) - jnp.sum(p * jnp.where(s > -jnp.inf, s, 0.0), axis=axis)


def log_probs_from_logits(logits: ArrayLike, tokens: ArrayLike, *, temperature: ArrayLike = 1.0):
    r"""Log-probability of the sampled ``tokens`` under :math:`\operatorname{softmax}(z/\tau)`.

    Args:
      logits: real array ``[..., vocab]``.
      tokens: integer array ``[...]`` of token ids in ``[0, vocab)``.
      temperature: positive scalar :math:`\tau`.

    Computed as :math:`s_a - \log\sum_v e^{s_v}` with :math:`s = (z - \max z)/\tau` (shift-invariant,
    float32 for 16-bit logits); :math:`-\infty` logits are exact: probability 0, a sampled one has
    :math:`\log p_a = -\infty`, and the gradient :math:`(\mathbb 1[v=a] - p_v)/\tau` stays finite.

    Returns:
      Array ``[...]``: :math:`\log p_{a}`.

    Raises:
      ValueError: on shape mismatch, out-of-range tokens (concrete input) or non-positive
        temperature.

    Examples:
      >>> import jax.numpy as jnp
      >>> lp = log_probs_from_logits(jnp.zeros((2, 4)), jnp.array([0, 3]))
      >>> [round(float(v), 5) for v in lp]
      [-1.38629, -1.38629]
    """
    z = jnp.asarray(logits)
    if np.shape(tokens) != z.shape[:-1]:
        raise ValueError(
            f"expected tokens of shape logits.shape[:-1] = {z.shape[:-1]}, got {np.shape(tokens)}"
        )
    _check_ids("tokens", tokens, z.shape[-1])
    lp = log_softmax_temperature(z, temperature=temperature)
    return jnp.take_along_axis(lp, jnp.asarray(tokens)[..., None], axis=-1)[..., 0]


# ----------------------------------------------------------------------------------------------
# KL estimators and importance ratios
# ----------------------------------------------------------------------------------------------


def kl_estimate(logp: ArrayLike, ref_logp: ArrayLike, *, kind: str = "k3", clamp: float = 20.0):
    r"""Per-sample estimator of :math:`\mathrm{KL}(\pi \,\|\, \pi_{\rm ref})` from log-probs.

    With :math:`x = \log\pi - \log\pi_{\rm ref}` of a sample from :math:`\pi`:

    .. math::

        k_1 = x,\quad |x|,\quad k_2 = \tfrac12 x^2,\quad
        k_3 = e^{-x} + x - 1 \ (\text{argument clipped to } [-c, c],\ \text{value to } [-10, 10]),

    with :math:`k_3` evaluated as :math:`\operatorname{expm1}(y) - y`, :math:`y = -x`, which keeps
    its relative accuracy near :math:`x = 0` (``exp(y) - y - 1`` loses it to cancellation).

    ``"k3+"`` is straight-through: the forward value of :math:`k_3` with the gradient of
    :math:`k_2`. The clamps follow verl's ``low_var_kl``.

    Args:
      logp: log-probs under the current policy, any shape.
      ref_logp: log-probs under the reference policy, same shape.
      kind: one of ``"k1"``, ``"abs"``, ``"k2"``, ``"k3"``, ``"k3+"``.
      clamp: bound :math:`c` on the log-ratio inside :math:`k_3`.

    Returns:
      Array of the shape of ``logp``.

    Raises:
      ValueError: on unknown ``kind`` or shape mismatch.

    Examples:
      >>> import jax.numpy as jnp
      >>> round(float(kl_estimate(jnp.array(0.0), jnp.log(jnp.array(0.5)), kind="k3")), 5)
      0.19315

    References:
      Schulman, `Approximating KL divergence <http://joschu.net/blog/kl-approx.html>`_, 2020.
    """
    _check_choice("kind", kind, KL_KINDS)
    _check_same_shape("logp", logp, "ref_logp", ref_logp)
    logp = jnp.asarray(logp)
    ref_logp = jnp.asarray(ref_logp)
    x = logp - ref_logp
    if kind == "k1":
        return x
    if kind == "abs":
        return x * jnp.sign(x)  # |x| with derivative 0 at x = 0 (jnp.abs has 1 there)
    k2 = 0.5 * x**2
    if kind == "k2":
        return k2
    y = jnp.clip(-x, -clamp, clamp)
    k3 = jnp.clip(jnp.expm1(y) - y, -10.0, 10.0)  # expm1: no cancellation for small |y|
    if kind == "k3":
        return k3
    return k2 + jax.lax.stop_gradient(k3 - k2)


def importance_ratio(*, logp: ArrayLike, old_logp: ArrayLike, clamp: float | None = 20.0):
    r"""Importance ratio :math:`r = \exp(\operatorname{clip}(\log\pi - \log\pi_{\rm old}, -c, c))`.

    Args:
      logp: log-probs under the current policy.
      old_logp: log-probs under the behaviour policy (same shape; treated as data).
      clamp: bound :math:`c` on the log-ratio (verl uses 20); ``None`` disables it.

    Returns:
      ``(ratio, log_ratio)`` arrays of the shape of ``logp``.

    Raises:
      ValueError: on shape mismatch.

    Examples:
      >>> import jax.numpy as jnp
      >>> r, lr = importance_ratio(logp=jnp.array([0.0, 30.0]), old_logp=jnp.zeros(2))
      >>> [round(float(v), 3) for v in lr]
      [0.0, 20.0]
    """
    _check_same_shape("logp", logp, "old_logp", old_logp)
    log_r = jnp.asarray(logp) - jax.lax.stop_gradient(jnp.asarray(old_logp))
    if clamp is not None:
        log_r = jnp.clip(log_r, -clamp, clamp)
    return jnp.exp(log_r), log_r


# ----------------------------------------------------------------------------------------------
# Masked reductions
# ----------------------------------------------------------------------------------------------


def masked_sum(x: ArrayLike, mask: ArrayLike, *, axis: int | tuple[int, ...] | None = None):
    r""":math:`\sum x\,m` along ``axis`` (positions with ``m = 0`` never contribute, even NaN).

    Examples:
      >>> import jax.numpy as jnp
      >>> float(masked_sum(jnp.array([1.0, jnp.nan]), jnp.array([1.0, 0.0])))
      1.0
    """
    _check_same_shape("x", x, "mask", mask)
    x = jnp.asarray(x)
    m = jnp.asarray(mask)
    return jnp.sum(jnp.where(m > 0, x * m, 0.0), axis=axis)


def masked_mean(x: ArrayLike, mask: ArrayLike, *, axis: int | tuple[int, ...] | None = None):
    r"""Masked mean :math:`\sum x\,m / \sum m`, equal to 0 where the mask is empty.

    Args:
      x: values, any shape.
      mask: 0/1 (or non-negative weight) array of the shape of ``x``.
      axis: reduction axis (``None``: all).

    Returns:
      The masked mean; never NaN for an empty mask.

    Raises:
      ValueError: on shape mismatch.

    Examples:
      >>> import jax.numpy as jnp
      >>> float(masked_mean(jnp.array([1.0, 3.0, 100.0]), jnp.array([1.0, 1.0, 0.0])))
      2.0
      >>> float(masked_mean(jnp.array([1.0]), jnp.array([0.0])))
      0.0
    """
    num = masked_sum(x, mask, axis=axis)
    den = jnp.sum(jnp.asarray(mask), axis=axis)
    return jnp.where(den > 0, num / jnp.where(den > 0, den, 1.0), 0.0)


def masked_var(x: ArrayLike, mask: ArrayLike, *, axis=None, unbiased: bool = False):
    """Masked variance about the masked mean (population, or Bessel-corrected if ``unbiased``).

    Examples:
      >>> import jax.numpy as jnp
      >>> float(masked_var(jnp.array([0.0, 2.0, 9.0]), jnp.array([1.0, 1.0, 0.0])))
      1.0
    """
    x = jnp.asarray(x)
    m = jnp.asarray(mask)
    mu = masked_mean(x, m, axis=axis)
    if axis is not None:
        mu = jnp.expand_dims(mu, axis)
    ss = masked_sum((x - mu) ** 2, m, axis=axis)
    n = jnp.sum(m, axis=axis)
    den = n - 1.0 if unbiased else n
    return jnp.where(den > 0, ss / jnp.where(den > 0, den, 1.0), 0.0)
