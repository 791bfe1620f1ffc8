r"""Sampled-token log-probs and full-vocabulary entropy for large vocabularies, chunked.

For logits :math:`z \in \mathbb{R}^{N\times V}` at temperature :math:`\tau`, with
:math:`u = z/\tau`, :math:`\ell = \operatorname{logsumexp}(u)` and :math:`p = e^{u - \ell}`:

.. math::

    \log p_a = u_a - \ell,\qquad H = \ell - \textstyle\sum_v p_v u_v, \\
    \frac{\partial \log p_a}{\partial z_v} = \frac{\mathbb{1}[v=a] - p_v}{\tau},\qquad
    \frac{\partial H}{\partial z_v} = -\frac{p_v\,(u_v - \ell + H)}{\tau}
    = -\frac{p_v (\log p_v + H)}{\tau}.

The forward pass walks over position chunks keeping only :math:`(\ell, H)` per position; the custom
VJP recomputes each chunk's softmax from the saved :math:`\ell` and writes the logits gradient chunk
by chunk *into the buffer of the logits themselves* (read chunk, overwrite chunk), so when the caller
donates the logits the working memory beyond them is one ``[chunk, vocab]`` float32 block. All
arithmetic is float32 whatever the logits dtype; gradients come back in the logits dtype.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from policy._core import _check_ids, _check_positive


def _plan(n, chunk):
    """Return (chunk rows c, number of full chunks k, remainder rows r) with n = k c + r.

    Prefers the largest divisor of ``n`` not above ``chunk`` (no remainder block, which keeps the
    in-place update a single loop) unless it is less than a quarter of ``chunk``.
    """
    c = max(1, min(int(chunk), n))
    d = next(x for x in range(c, 0, -1) if n % x == 0)
    if 4 * d >= c:
        c = d
    return c, n // c, n % c


def _cdt(dtype):
    return jnp.promote_types(dtype, jnp.float32)


_NARROW = (jnp.dtype(jnp.bfloat16), jnp.dtype(jnp.float16))


def _as_bits(z):
    # 16-bit logits travel through the loops as uint16 bit patterns: XLA's CPU backend otherwise
    # widens bfloat16 loop buffers to float32 (a float32 copy of all logits, 3x their memory).
    return jax.lax.bitcast_convert_type(z, jnp.uint16) if z.dtype in _NARROW else z


def _from_bits(zc, dtype):
    return jax.lax.bitcast_convert_type(zc, dtype) if jnp.dtype(dtype) in _NARROW else zc


def _chunk_stats(zc, tc, temperature):
    u = zc.astype(_cdt(zc.dtype)) / temperature
    lse = jax.nn.logsumexp(u, axis=-1)
    p = jnp.exp(u - lse[:, None])
    h = lse - jnp.sum(p * u, axis=-1)
    lp = jnp.take_along_axis(u, tc[:, None], axis=-1)[:, 0] - lse
    return lp, h, lse


def _forward(z, t, temperature, chunk):
    n, _ = z.shape
    c, k, r = _plan(n, chunk)

    def upd(a, b, s):
        return jax.lax.dynamic_update_slice_in_dim(a, b, s, axis=0)

    bits = _as_bits(z)

    def block(carry, s, size):
        zc = _from_bits(jax.lax.dynamic_slice_in_dim(bits, s, size, axis=0), z.dtype)
        tc = jax.lax.dynamic_slice_in_dim(t, s, size, axis=0)
        out = _chunk_stats(zc, tc, temperature)
        return tuple(upd(a, b, s) for a, b in zip(carry, out, strict=True))

    carry = tuple(jnp.zeros((n,), _cdt(z.dtype)) for _ in range(3))
    carry = jax.lax.fori_loop(0, k, lambda i, cr: block(cr, i * c, c), carry)
    if r:
        carry = block(carry, k * c, r)
    return carry


@functools.partial(jax.custom_vjp, nondiff_argnums=(2, 3))
def _logp_entropy(z, t, temperature, chunk):
    lp, h, _ = _forward(z, t, temperature, chunk)
    return lp, h


def _fwd(z, t, temperature, chunk):
    lp, h, lse = _forward(z, t, temperature, chunk)
    return (lp, h), (z, t, lse, h)


def _bwd(temperature, chunk, res, cot):
    z, t, lse, h = res
    g_lp, g_h = cot
    n, v = z.shape
    c, k, r = _plan(n, chunk)
    cdt = _cdt(z.dtype)

    def block(i, buf):
        # Rows [s, s+c) of ``buf`` are read, then overwritten with their gradient (in place when the
        # logits buffer is donated). The last chunk may start before k*c to stay in bounds; its
        # rows below k*c already hold gradients and are kept as they are.
        s = jnp.minimum(i * c, n - c)

        def sl(a):
            return jax.lax.dynamic_slice_in_dim(a, s, c, axis=0)

        zc, tc, lc, hc = _from_bits(sl(buf), z.dtype), sl(t), sl(lse), sl(h)
        gl, gh = sl(g_lp).astype(cdt), sl(g_h).astype(cdt)
        u = zc.astype(cdt) / temperature
        p = jnp.exp(u - lc[:, None])
        onehot = jnp.arange(v, dtype=tc.dtype)[None, :] == tc[:, None]
        g = gl[:, None] * (onehot - p) - gh[:, None] * p * (u - lc[:, None] + hc[:, None])
        done = (s + jnp.arange(c)) < i * c
        g = jnp.where(done[:, None], zc, (g / temperature).astype(z.dtype))
        return jax.lax.dynamic_update_slice_in_dim(buf, _as_bits(g), s, 0)

    gz = jax.lax.fori_loop(0, k + (1 if r else 0), block, _as_bits(z))
    return _from_bits(gz, z.dtype), None


_logp_entropy.defvjp(_fwd, _bwd)


def token_logp_entropy_chunked(
    logits, tokens, *, temperature: float = 1.0, chunk_size: int | None = None
):
    r"""Log-probs of ``tokens`` and full-vocabulary entropies, chunked over positions.

    Equivalent to ``(log_probs_from_logits(...), entropy_from_logits(...))`` of
    :mod:`policy` at temperature :math:`\tau` (both of the sampled distribution
    :math:`\operatorname{softmax}(z/\tau)`), but no more than ``chunk_size`` rows of the softmax exist
    at once, in the forward and in the backward pass (custom VJP). Differentiable w.r.t. ``logits``
    (both outputs). Donate the logits buffer to ``jit`` to let the gradient overwrite it in place.

    Args:
      logits: ``[..., vocab]`` float32 or bfloat16.
      tokens: ``[...]`` ints in ``[0, vocab)``.
      temperature: static positive Python float :math:`\tau`.
      chunk_size: static number of positions per chunk; ``None`` picks about 32 MiB of float32
        softmax per chunk (:math:`\lfloor 2^{23}/V \rfloor` rows, at least 1).

    Returns:
      ``(logp, entropy)``, float32 (float64 for float64 logits) arrays of shape ``logits.shape[:-1]``.

    Raises:
      ValueError: on shape mismatch, non-positive temperature or chunk size, or (concrete)
        out-of-range tokens.

    Examples:
      >>> import jax.numpy as jnp
      >>> lp, h = token_logp_entropy_chunked(jnp.zeros((2, 3, 4)), jnp.zeros((2, 3), int),
      ...                                    chunk_size=4)
      >>> round(float(lp[0, 0]), 5), round(float(h[1, 2]), 5)
      (-1.38629, 1.38629)
    """
    z = jnp.asarray(logits)
    if z.ndim < 1:
        raise ValueError(f"expected logits of rank >= 1, got shape {z.shape}")
    if np.shape(tokens) != z.shape[:-1]:
        raise ValueError(
            f"expected tokens of shape logits.shape[:-1] = {z.shape[:-1]}, got {np.shape(tokens)}"
        )
    _check_positive("temperature", temperature)
    if isinstance(temperature, jax.core.Tracer):
        raise TypeError("expected a static Python float temperature, got a traced value")
    if chunk_size is None:
        chunk_size = max(1, (1 << 23) // max(1, z.shape[-1]))
    if int(chunk_size) < 1:
        raise ValueError(f"expected chunk_size >= 1, got {chunk_size}")
    _check_ids("tokens", tokens, z.shape[-1])
    lead = z.shape[:-1]
    n = int(np.prod(lead)) if lead else 1
    if n == 0:
        e = jnp.zeros(lead, jnp.float32)
        return e, e
    zf = z.reshape(n, z.shape[-1])
    tf = jnp.asarray(tokens).reshape(n).astype(jnp.int32)
    lp, h = _logp_entropy(zf, tf, float(temperature), int(chunk_size))
    return lp.reshape(lead), h.reshape(lead)
