r"""Sampled-token log-probs and full-vocabulary entropy for large vocabularies, chunked.

For logits :math:`z \in \mathbb{R}^{N\times V}` at temperature :math:`\tau`, with
:math:`u = z/\tau`, :math:`\ell = \operatorname{logsumexp}(u)` and :math:`p = e^{u - \ell}`:

.. math::

    \log p_a = u_a - \ell,\qquad H = \ell - \textstyle\sum_v p_v u_v, \\
    \frac{\partial \log p_a}{\partial z_v} = \frac{\mathbb{1}[v=a] - p_v}{\tau},\qquad
    \frac{\partial H}{\partial z_v} = -\frac{p_v\,(u_v - \ell + H)}{\tau}
    = -\frac{p_v (\log p_v + H)}{\tau}.

Every quantity is formed from the shifted logits :math:`s = (z - \max_v z_v)/\tau` (the maximum is saved
for the backward pass): :math:`\ell_s = \log\sum e^{s} \in [0, \log V]`,
:math:`\log p = s - \ell_s` and :math:`H = \ell_s + \sum_v p_v(-s_v)`, a sum of non-negative terms.
So the values and gradients are those of the given (rounded) logits to float32 rounding at any
offset: measured within 1e-5 nats (entropy), 2e-6 (log-probs) and 2e-6 per gradient entry for
:math:`z \sim N(0, 3)` plus offsets up to :math:`3\times10^4`, :math:`V = 1000`, in float32 and
bfloat16 (whose gradients are then rounded to bfloat16). :math:`-\infty` logits (masked or
restricted vocabularies) have :math:`p_v = 0` and contribute exactly 0 to the entropy and to both
gradients; a sampled token with a :math:`-\infty` logit has :math:`\log p_a = -\infty`. A row with no
finite logit has no distribution (NaN).

The forward pass walks over position chunks keeping only :math:`(\ell, H)` per position; the custom
VJP recomputes each chunk's softmax from the saved :math:`\ell` and writes the logits gradient chunk
by chunk *into the buffer of the logits themselves* (read chunk, overwrite chunk), so when the caller
donates the logits the working memory beyond them is one ``[chunk, vocab]`` float32 block. All
arithmetic is float32 whatever the logits dtype; gradients come back in the logits dtype.

16-bit (bfloat16/float16) logits go through the loops as their uint16 bit patterns: XLA's CPU
backend widens a bfloat16 buffer that a loop reads and rewrites to float32, and materialises the
bit-pattern view as a copy. So the rows are split into about ``MAX_PANELS`` = 8 *panels*, boxes of
the logits with consecutive rows and at least two chunks each; one panel at a time is copied to bit
patterns, worked on in place and written back with one ``dynamic_update_slice`` in the logits'
own shape (so the chain of updates stays in the donated buffer). The forward pass hands its last
panel to the backward pass, which starts there. Peak memory: the logits, one panel and one float32
chunk, e.g. 1.25x / 1.19x the bfloat16 logits for ``[4, 512, 32768]`` / ``[2, 256, 151936]`` on CPU
(``benchmarks/token_loss.py``), against 2.0x with one bit-pattern copy of all the logits.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

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
MAX_PANELS = 8
"""Panels 16-bit logits are split into, when there are enough chunks (module docstring); the boxes
that follow the array's axes make it up to twice as many, never fewer."""


def _as_bits(z):
    # 16-bit logits travel through the loops as uint16 bit patterns: XLA's CPU backend otherwise
    # widens a bfloat16 buffer that a loop reads and rewrites to float32 (a float32 copy, 3x memory).
    return jax.lax.bitcast_convert_type(z, jnp.uint16) if z.dtype in _NARROW else z


def _from_bits(zc, dtype):
    return jax.lax.bitcast_convert_type(zc, dtype) if jnp.dtype(dtype) in _NARROW else zc


class _Panel(NamedTuple):
    start: tuple[int, ...]  # index of the panel's first element (a box of the logits)
    shape: tuple[int, ...]  # the box's shape, vocabulary axis last
    row0: int  # its first row in the flattened ``(n, vocab)`` logits
    rows: int


def _split(lead, n_panels):
    """Boxes of the leading axes whose rows are consecutive, about ``n_panels`` of them, in order."""
    a = next(i for i in range(len(lead)) if int(np.prod(lead[:i + 1])) >= n_panels)
    outer, inner = int(np.prod(lead[:a])), int(np.prod(lead[a + 1:]))
    q = -(-n_panels // outer)  # ranges of axis a per index of the axes before it
    cuts = [lead[a] * j // q for j in range(q + 1)]
    out, row0 = [], 0
    for idx in np.ndindex(*lead[:a]):
        for lo, hi in zip(cuts[:-1], cuts[1:], strict=True):
            out.append((tuple(int(i) for i in idx) + (lo,) + (0,) * (len(lead) - a - 1),
                        (1,) * a + (hi - lo,) + tuple(lead[a + 1:]), row0, (hi - lo) * inner))
            row0 += (hi - lo) * inner
    return out


def _panels(shape, dtype, chunk):
    """The panels the logits are processed in, each of at least two chunks.

    Float32 logits are one panel, worked on in place. 16-bit logits travel as bit patterns, which
    XLA's CPU backend materialises: split into boxes of consecutive rows (:data:`MAX_PANELS` or a few
    more; fewer when there are fewer than 16 chunks), so that one box is copied at a time and goes
    back with one ``dynamic_update_slice``.
    """
    lead, v = tuple(shape[:-1]), shape[-1]
    n = int(np.prod(lead))
    whole = [_Panel((0,) * len(shape), tuple(shape), 0, n)]
    if jnp.dtype(dtype) not in _NARROW:
        return whole
    for n_panels in range(min(MAX_PANELS, n // max(1, 2 * min(chunk, n))), 1, -1):
        boxes = _split(lead, n_panels)
        if all(_plan(rows, chunk)[1] >= 2 for *_, rows in boxes):
            return [_Panel(st + (0,), sh + (v,), r0, rows) for st, sh, r0, rows in boxes]
    return whole


def _panel_rows(z, panel, guard=None):
    """The panel's ``(rows, vocab)`` logits: bit patterns (a copy) for 16-bit logits, else a view.

    ``guard``: a value the copy must wait for (it ORs the bits with ``guard > inf``, which is 0).
    """
    limit = tuple(a + b for a, b in zip(panel.start, panel.shape, strict=True))
    box = jax.lax.slice(z, panel.start, limit) if panel.shape != z.shape else z
    rows = _as_bits(box.reshape(panel.rows, z.shape[-1]))
    if guard is not None and z.dtype in _NARROW:
        rows = rows | (guard > jnp.inf).astype(rows.dtype)
    return rows


def _chunks(rows, chunk, step, carry):
    """Applies ``step(carry, first row, size)`` to the chunks of ``rows`` rows: a loop, then the rest."""
    c, k, r = _plan(rows, chunk)
    carry = jax.lax.fori_loop(0, k, lambda i, cr: step(cr, i * c, c), carry)
    return step(carry, k * c, r) if r else carry


def _shifted(zc, temperature, top=None):
    r"""``(s, top)``: :math:`s = (z - \max z)/\tau` per row, the maximum ``top`` given or found.

    ``top`` is 0 when a row has no finite maximum. Shifting before the division keeps every later quantity
    accurate at any offset of the logits (:math:`z/\tau` itself would be rounded at the offset).
    """
    u = zc.astype(_cdt(zc.dtype))
    if top is None:
        top = jnp.max(u, axis=-1)
        top = jnp.where(jnp.isfinite(top), top, 0.0)
    return (u - top[:, None]) / temperature, top


def _chunk_stats(zc, tc, temperature):
    s, top = _shifted(zc, temperature)
    lse = jnp.log(jnp.sum(jnp.exp(s), axis=-1))  # in [0, log V]: the maximum entry is exp(0) = 1
    p = jnp.exp(s - lse[:, None])
    h = lse + jnp.sum(jnp.where(p > 0, -p * s, 0.0), axis=-1)  # two non-negative terms; 0 * -inf -> 0
    lp = jnp.take_along_axis(s, tc[:, None], axis=-1)[:, 0] - lse
    return lp, h, lse, top


def _forward(z, t, temperature, chunk):
    """Per-row ``(logp, entropy, shifted logsumexp, row maximum)`` of ``z`` and the last panel.

    ``z`` is ``[..., vocab]``; the four are ``(n,)`` arrays. The backward pass starts in the last panel's rows,
    so that panel is not copied twice.
    """
    tf = t.reshape(-1)
    outs, guard = [], None
    for panel in _panels(z.shape, z.dtype, chunk):
        buf = _panel_rows(z, panel, guard)
        tp = jax.lax.dynamic_slice_in_dim(tf, panel.row0, panel.rows)

        def block(carry, s, size, buf=buf, tp=tp):
            zc = _from_bits(jax.lax.dynamic_slice_in_dim(buf, s, size, axis=0), z.dtype)
            out = _chunk_stats(zc, jax.lax.dynamic_slice_in_dim(tp, s, size), temperature)
            return tuple(jax.lax.dynamic_update_slice_in_dim(a, b, s, 0) for a, b in zip(carry, out, strict=True))

        zero = jnp.zeros((panel.rows,), _cdt(z.dtype))
        outs.append(_chunks(panel.rows, chunk, block, (zero,) * 4))
        guard = outs[-1][2][-1]
    lp, h, lse, top = (jnp.concatenate(parts) if len(parts) > 1 else parts[0]
                       for parts in zip(*outs, strict=True))
    return lp, h, lse, top, buf


@functools.partial(jax.custom_vjp, nondiff_argnums=(2, 3))
def _logp_entropy(z, t, temperature, chunk):
    lp, h, *_ = _forward(z, t, temperature, chunk)
    return lp.reshape(t.shape), h.reshape(t.shape)


def _fwd(z, t, temperature, chunk):
    lp, h, lse, top, last = _forward(z, t, temperature, chunk)
    return (lp.reshape(t.shape), h.reshape(t.shape)), (z, t, lse, top, h, last)


def _bwd(temperature, chunk, res, cot):
    z, t, lse, top, h, last = res
    tf, g_lp, g_h = t.reshape(-1), cot[0].reshape(-1), cot[1].reshape(-1)
    v = z.shape[-1]
    cdt = _cdt(z.dtype)

    def chunk_grad(zc, row, size):
        def sl(a):
            return jax.lax.dynamic_slice_in_dim(a, row, size, axis=0)

        tc, lc, hc = sl(tf), sl(lse), sl(h)
        gl, gh = sl(g_lp).astype(cdt), sl(g_h).astype(cdt)
        s, _ = _shifted(zc, temperature, sl(top))
        logp = s - lc[:, None]
        p = jnp.exp(logp)
        onehot = jnp.arange(v, dtype=tc.dtype)[None, :] == tc[:, None]
        # p (log p + H), with 0 where p = 0 (a -inf logit would give 0 * -inf)
        g = gl[:, None] * (onehot - p) - gh[:, None] * jnp.where(p > 0, p * (logp + hc[:, None]), 0.0)
        return (g / temperature).astype(z.dtype)

    # Each chunk is read, then overwritten with its gradient, in the panel's buffer (the donated
    # logits themselves for float32), which then goes back into the logits. Last panel first, in
    # the rows the forward pass left; the others are copied from the logits as they are reached.
    gz = z
    for panel in reversed(_panels(z.shape, z.dtype, chunk)):

        def block(b, s, size, row0=panel.row0):
            zc = _from_bits(jax.lax.dynamic_slice_in_dim(b, s, size, axis=0), z.dtype)
            return jax.lax.dynamic_update_slice_in_dim(b, _as_bits(chunk_grad(zc, row0 + s, size)), s, 0)

        rows = last if panel.row0 + panel.rows == lse.shape[0] else _panel_rows(gz, panel)
        buf = _chunks(panel.rows, chunk, block, rows)
        gz = jax.lax.dynamic_update_slice(gz, _from_bits(buf, z.dtype).reshape(panel.shape), panel.start)
    return gz, None


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
      chunk_size: static number of positions per chunk; ``None`` picks about 16 MiB of float32
        softmax per chunk (:math:`\lfloor 2^{22}/V \rfloor` rows), and at most a sixteenth of the
        positions (at least 1 row).

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
    if chunk_size is None:  # 16 MiB of float32 softmax, and at least 16 chunks (so up to 8 panels)
        rows = int(np.prod(z.shape[:-1]))
        chunk_size = max(1, min((1 << 22) // max(1, z.shape[-1]), -(-rows // 16)))
    if int(chunk_size) < 1:
        raise ValueError(f"expected chunk_size >= 1, got {chunk_size}")
    _check_ids("tokens", tokens, z.shape[-1])
    lead = z.shape[:-1]
    n = int(np.prod(lead)) if lead else 1
    if n == 0:
        e = jnp.zeros(lead, jnp.float32)
        return e, e
    zf = z if z.ndim > 1 else z.reshape(1, z.shape[-1])
    tf = jnp.asarray(tokens).reshape(zf.shape[:-1]).astype(jnp.int32)
    lp, h = _logp_entropy(zf, tf, float(temperature), int(chunk_size))
    return lp.reshape(lead), h.reshape(lead)
