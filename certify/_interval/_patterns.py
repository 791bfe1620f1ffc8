r"""Sharp rules for composite functions recognised in the program: logsumexp, softmax, log-softmax, logaddexp.

JAX writes these with a max-shift, :math:`\operatorname{lse}(a)=\log\sum_i e^{a_i-s}+s` with
:math:`s=\max_i a_i`, and operation-by-operation interval evaluation then suffers from the
dependency problem (:math:`a_i - s` with :math:`s` correlated to :math:`a`). The identities

.. math::

   \log\sum_i e^{a_i-s}+s=\operatorname{lse}(a),\quad
   \frac{e^{a_i-s}}{\sum_j e^{a_j-s}}=p_i(a),\quad
   (a_i-s)-\log\sum_j e^{a_j-s}=a_i-\operatorname{lse}(a)

hold for *any* finite shift :math:`s` constant along the reduced axes, so when an operation
completes one of these shapes (checked on the program's structure) its enclosure is replaced by a
sharp one computed from :math:`a` itself, intersected with the generic one (both are valid):

* :math:`\operatorname{lse}` is increasing in every :math:`a_i`: value
  :math:`[\operatorname{lse}(\underline a),\operatorname{lse}(\overline a)]`; its gradient is
  :math:`p=\operatorname{softmax}(a)`, and :math:`p_i` is increasing in :math:`a_i`, decreasing
  in :math:`a_j`, so :math:`p_i\in[p_i(\underline a_i,\overline a_{-i}),p_i(\overline
  a_i,\underline a_{-i})]`; the tangent :math:`\sum_ip_i\dot a_i` is bounded by the linear
  programme :math:`\min\{\sum_ip_iv_i: p\in P\}` over
  :math:`P=\{p:\underline p\le p\le\overline p,\ \sum p_i=1\}`, solved exactly by LP duality:
  :math:`\max_j\,[v_j+\sum_i\min(\underline p_i(v_i-v_j),\overline p_i(v_i-v_j))]` (every
  multiplier gives a valid bound; the best one is at a breakpoint :math:`v_j`);
* log-softmax: :math:`\dot a_i-\sum_jp_j\dot a_j\in[\underline{\dot a}_i-\mathrm{LP}_{\max}(\overline{\dot
  a}),\ \overline{\dot a}_i-\mathrm{LP}_{\min}(\underline{\dot a})]`;
* softmax: :math:`\dot p_i=p_i(\dot a_i-\sum_jp_j\dot a_j)`, the product of the two enclosures;
* :math:`\operatorname{logaddexp}(c,d)=\max(c,d)+\log(1+e^{-|c-d|})` (JAX's primal of
  ``jax.nn.softplus``): increasing in both, derivative :math:`\sigma(c-d)` in :math:`c`;
  and ``log1p(exp(x))`` = softplus.

For second derivatives (padded bounds), :func:`frozen_shifts` lists the shifts :math:`s` that
the composite provably does not depend on, so JAX's derivative of the as-written program treats
them as constants (as ``jax.nn.logsumexp`` itself does) instead of differentiating ``max``.

Our own construction (standard monotonicity and LP arguments).
"""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np

from certify._interval import _causes
from certify._interval._arith import TRANS_ULPS, eps, imul, pmul, tiny, widen
from certify._interval._jet import Context, Jet

__all__ = ["Match", "frozen_shifts", "match", "tight"]

_EXACT_K = 64  # largest reduced size for the k x k sharp softmax bounds


def _producer(prog, i, *names):
    op = prog.producer.get(i)
    return op if op is not None and op.name in names else None


_MOVES = frozenset({"broadcast_in_dim", "reshape", "squeeze", "transpose", "expand_dims"})
_MAX_CHAIN = 8


def _chain(prog, i, extra=frozenset()):
    """``(source id, ops in forward order)`` following data moves (and ``extra`` elementwise ops) back from ``i``."""
    ops = []
    while len(ops) < _MAX_CHAIN:
        op = prog.producer.get(i)
        if op is None or (op.name not in _MOVES and op.name not in extra) or len(op.ins) != 1:
            break
        ops.append(op)
        i = op.ins[0]
    return i, ops[::-1]


def _replay(ops, ids):
    """The data moves of ``ops`` applied to an integer array (elementwise ops are skipped)."""
    for op in ops:
        p = op.params
        if op.name == "broadcast_in_dim":
            shape, bdims = tuple(p["shape"]), tuple(p["broadcast_dimensions"])
            tmp = [1] * len(shape)
            for k, d in enumerate(bdims):
                tmp[d] = ids.shape[k]
            ids = np.broadcast_to(ids.reshape(tmp), shape)
        elif op.name == "reshape":
            if p.get("dimensions") is not None:
                return None
            ids = ids.reshape(tuple(p["new_sizes"]))
        elif op.name == "squeeze":
            ids = np.squeeze(ids, axis=tuple(p["dimensions"]))
        elif op.name == "transpose":
            ids = np.transpose(ids, tuple(p["permutation"]))
        elif op.name == "expand_dims":
            ids = np.expand_dims(ids, tuple(p["dimensions"]))
    return ids


def spreads(prog, i, src_id, out_shape, axes, extra=frozenset()) -> bool:
    """Whether value ``i``, broadcast (implicitly, by equal rank) to ``out_shape``, is ``src`` spread along ``axes``.

    ``src`` must have the shape of ``out_shape`` without ``axes``; entry ``p`` of the spread value
    must be ``src[p without axes]``. Checked by replaying the data moves from ``src`` to ``i`` on
    an array of entry numbers (so every ``broadcast_dimensions``, reshape and transpose counts).
    """
    src, ops = _chain(prog, i, extra)
    if src != src_id:
        return False
    keep = [d for d in range(len(out_shape)) if d not in axes]
    src_shape = tuple(prog.avals[src_id].shape)
    if src_shape != tuple(out_shape[d] for d in keep):
        return False
    ids = _replay(ops, np.arange(max(1, math.prod(src_shape))).reshape(src_shape))
    if ids is None or ids.ndim not in (0, len(out_shape)):  # equal ranks, or a scalar
        return False
    try:
        got = np.broadcast_to(ids, tuple(out_shape))
    except ValueError:
        return False
    grids = np.indices(tuple(out_shape))
    want = np.ravel_multi_index(tuple(grids[d] for d in keep), src_shape) if keep else np.zeros(out_shape, int)
    return bool(np.array_equal(got, want))


def _same_dtype(prog, *ids) -> bool:
    return len({str(prog.avals[i].dtype) for i in ids}) == 1


def _shift_source(prog, g_id, axes):
    """If ``g = sub(a, b)`` with ``b`` a value ``s`` spread along ``axes``: ``(a_id, s_id, b_id)``."""
    op = _producer(prog, g_id, "sub")
    if op is None:
        return None
    a_id, b_id = op.ins
    s_id, _ = _chain(prog, b_id)
    if not _same_dtype(prog, a_id, b_id, s_id, g_id):
        return None
    if not spreads(prog, b_id, s_id, tuple(prog.avals[a_id].shape), axes):
        return None
    return a_id, s_id, b_id


def _exp_reduce(prog, i):
    """If ``i = reduce_sum(exp(g), axes)`` (one dtype): ``(exp id, g id, axes)``."""
    red = _producer(prog, i, "reduce_sum")
    if red is None:
        return None
    ex = _producer(prog, red.ins[0], "exp")
    if ex is None or not _same_dtype(prog, i, red.ins[0], ex.ins[0]):
        return None
    return red.ins[0], ex.ins[0], tuple(red.params["axes"])


@dataclasses.dataclass(frozen=True)
class Match:
    """A recognised composite at one operation.

    ``kind``: ``lse`` (``log sum exp(a - s) + s``, or ``log sum exp(a)`` with ``shift`` None),
    ``softmax``, ``log_softmax``, ``logaddexp`` (of ``a`` and ``b``) or ``softplus`` (of ``a``).
    ``shift``: the shift ``s``; ``spread``: the id of ``s`` broadcast along the reduced axes
    (``s`` itself if not broadcast); ``users``: the operations of the composite that use them.
    """

    kind: str
    a: int
    axes: tuple = ()
    b: int | None = None
    shift: int | None = None
    spread: int | None = None
    users: tuple = ()


def _lse_at_add(prog, op):
    for k in (0, 1):
        l_id, s_id = op.ins[k], op.ins[1 - k]
        lg = _producer(prog, l_id, "log")
        if lg is None:
            continue
        x = lg.ins[0]
        ab = _producer(prog, x, "abs")
        if ab is not None:
            x = ab.ins[0]
        m = _exp_reduce(prog, x)
        if m is None:
            continue
        sh = _shift_source(prog, m[1], m[2])
        out_shape = tuple(prog.avals[op.outs[0]].shape)
        src_s = _chain(prog, s_id)[0]  # the added shift may be a reshaped (e.g. squeezed keepdims) shift
        if (sh is not None and src_s == sh[1] and out_shape == tuple(prog.avals[x].shape)
                and _same_dtype(prog, op.outs[0], x, s_id) and spreads(prog, s_id, src_s, out_shape, ())):
            users = (op, prog.producer[m[1]], prog.producer.get(sh[2]))
            return Match("lse", sh[0], m[2], shift=s_id, spread=sh[2], users=users)
    return None


def _logaddexp_at_add(prog, op):
    for k in (0, 1):
        mx = _producer(prog, op.ins[k], "max")
        l1 = _producer(prog, op.ins[1 - k], "log1p")
        if mx is None or l1 is None:
            continue
        ex = _producer(prog, l1.ins[0], "exp")
        ng = ex and _producer(prog, ex.ins[0], "neg")
        ab = ng and _producer(prog, ng.ins[0], "abs")
        sb = ab and _producer(prog, ab.ins[0], "sub")
        if sb and tuple(sb.ins) == tuple(mx.ins) and _same_dtype(prog, op.outs[0], *sb.ins):
            return Match("logaddexp", sb.ins[0], b=sb.ins[1])
    return None


def _softmax_at_div(prog, op):
    e_id, d_id = op.ins
    if _producer(prog, e_id, "exp") is None:
        return None
    src, _ = _chain(prog, d_id)
    m = _exp_reduce(prog, src)
    out_shape = tuple(prog.avals[op.outs[0]].shape)
    if m is None or m[0] != e_id or out_shape != tuple(prog.avals[e_id].shape):
        return None
    if not (_same_dtype(prog, op.outs[0], e_id, d_id) and spreads(prog, d_id, src, out_shape, m[2])):
        return None  # e.g. E / E.sum(axis=1) on a square E: NumPy broadcasting divides by the wrong sums
    return _shifted("softmax", prog, m[1], m[2])


def _shifted(kind, prog, g_id, axes):
    sh = _shift_source(prog, g_id, axes)
    if sh is None:
        return Match(kind, g_id, axes)
    users = (prog.producer[g_id], prog.producer.get(sh[2]))
    return Match(kind, sh[0], axes, shift=sh[1], spread=sh[2], users=users)


def _log_softmax_at_sub(prog, op):
    g_id, k_id = op.ins
    src, ops = _chain(prog, k_id, frozenset({"log"}))
    if sum(o.name == "log" for o in ops) != 1:
        return None
    m = _exp_reduce(prog, src)
    out_shape = tuple(prog.avals[op.outs[0]].shape)
    if m is None or m[1] != g_id or out_shape != tuple(prog.avals[g_id].shape):
        return None
    if not (_same_dtype(prog, op.outs[0], g_id, k_id) and spreads(prog, k_id, src, out_shape, m[2], {"log"})):
        return None  # the log-sum is not spread back along the reduced axes
    return _shifted("log_softmax", prog, g_id, m[2])


def match(prog, op) -> Match | None:
    """The composite that ``op`` completes in ``prog``, if any."""
    if op.name in ("add", "add_any"):
        return _lse_at_add(prog, op) or _logaddexp_at_add(prog, op)
    if op.name == "div":
        return _softmax_at_div(prog, op)
    if op.name == "sub":
        return _log_softmax_at_sub(prog, op)
    if op.name == "log":
        m = _exp_reduce(prog, op.ins[0])
        if m is not None and _shift_source(prog, m[1], m[2]) is None and _same_dtype(prog, op.outs[0], m[1]):
            return Match("lse", m[1], m[2])
    if op.name == "log1p":
        ex = _producer(prog, op.ins[0], "exp")
        if ex is not None and _same_dtype(prog, op.outs[0], ex.ins[0]):
            return Match("softplus", ex.ins[0])
    return None


def frozen_shifts(prog) -> frozenset:
    """Shift values ``s`` of recognised shift-invariant composites used nowhere else.

    The composite's value does not depend on ``s``, so treating ``s`` as a constant (JAX's own
    ``stop_gradient`` in ``jax.nn.logsumexp``) differentiates the function as written exactly,
    and keeps the derivative of ``max`` (discontinuous at ties) out of second derivatives.
    """
    uses: dict[int, list] = {}
    for op in prog.ops:
        for i in op.ins:
            uses.setdefault(i, []).append(op)
    outs = set(prog.outvars)
    frozen = set()
    for op in prog.ops:
        m = match(prog, op)
        if m is None or m.shift is None or m.shift in outs or m.spread in outs:
            continue
        allowed = {id(u) for u in m.users if u is not None}
        vals = {m.shift, m.spread}
        if all(id(u) in allowed for v in vals for u in uses.get(v, [])):
            frozen.add(m.shift)
    return frozenset(frozen)


def _finite(j: Jet):
    ok = jnp.all(jnp.isfinite(j.lo)) & jnp.all(jnp.isfinite(j.hi))
    if j.nan is not None:
        ok = ok & jnp.all(j.nan == 0)
    return ok


def _merge(ctx: Context, op, kind: str, tight: Jet, generic: Jet, ok) -> Jet:
    """``tight ∩ generic`` where ``ok`` (traced bool) holds, else ``generic``: a pattern only tightens.

    The generic enclosure keeps what the pattern does not know: its NaN flags, and its infinite
    endpoints (IEEE overflow of the program as written, e.g. ``exp`` in ``log1p(exp(100 x))``).
    Two valid enclosures of one quantity always meet; where they do not, the engine is
    inconsistent: the value falls back to the generic one and the tangent becomes unbounded, with
    a cause naming the pattern (the drivers then refuse, never raise).
    """
    def meet(t_lo, t_hi, g_lo, g_hi):
        lo = jnp.where(ok & ~jnp.isinf(g_lo), jnp.maximum(t_lo, g_lo), g_lo)
        hi = jnp.where(ok & ~jnp.isinf(g_hi), jnp.minimum(t_hi, g_hi), g_hi)
        empty = lo > hi
        return lo, hi, empty

    lo, hi, empty = meet(tight.lo, tight.hi, generic.lo, generic.hi)
    lo, hi = jnp.where(empty, generic.lo, lo), jnp.where(empty, generic.hi, hi)
    tlo, thi = generic.tlo, generic.thi
    if tight.tlo is not None and tlo is not None:
        tlo, thi, t_empty = meet(tight.tlo, tight.thi, tlo, thi)
        empty = empty[..., None] | t_empty
        bad = jnp.any(empty, axis=-1, keepdims=True)
        tlo, thi = jnp.where(bad, -jnp.inf, tlo), jnp.where(bad, jnp.inf, thi)
        empty = bad[..., 0]
    out = Jet(lo, hi, tlo, thi, dep=generic.dep, nan=generic.nan)
    site = ctx.site(op, "pattern", kind)
    out.tc = _causes.first_of(ctx.causes, None, [empty], site)
    return out


def _last(x, axes):
    """Moves ``axes`` to the end and merges them: ``(..., k)``."""
    keep = [d for d in range(x.ndim) if d not in axes]
    k = math.prod(x.shape[d] for d in axes)
    return jnp.transpose(x, keep + list(axes)).reshape(tuple(x.shape[d] for d in keep) + (k,))


def _last_tangent(t, axes, ndim):
    keep = [d for d in range(ndim) if d not in axes]
    k = math.prod(t.shape[d] for d in axes)
    moved = jnp.transpose(t, keep + list(axes) + [ndim])
    return moved.reshape(tuple(t.shape[d] for d in keep) + (k, t.shape[-1]))


def _lse(x):
    m = jnp.max(x, axis=-1, keepdims=True)
    m = jnp.where(jnp.isfinite(m), m, 0.0)
    return jnp.log(jnp.sum(jnp.exp(x - m), axis=-1)) + m[..., 0]


def _widen_lse(lo, hi, k):
    return widen(lo, hi, TRANS_ULPS, (TRANS_ULPS + 4.0 * k) * eps(lo) * (1.0 + math.log(k)))


def _prob_bounds(alo, ahi):
    """Sharp ``[p_lo, p_hi]`` of softmax over the last axis, and log-probability bounds."""
    k = alo.shape[-1]
    if k <= _EXACT_K:
        eye = jnp.eye(k, dtype=bool)
        vlo = jnp.where(eye, alo[..., :, None], ahi[..., None, :])  # row i: (lo_i, hi_{-i})
        vhi = jnp.where(eye, ahi[..., :, None], alo[..., None, :])
        llo = alo - _lse(vlo)
        lhi = ahi - _lse(vhi)
    else:
        llo = alo - _lse(ahi)[..., None]
        lhi = ahi - _lse(alo)[..., None]
    llo, lhi = widen(llo, lhi, TRANS_ULPS, (TRANS_ULPS + 4.0 * k) * eps(alo) * (1.0 + math.log(k)))
    lhi = jnp.minimum(lhi, 0.0)
    llo = jnp.where(jnp.isnan(llo), -jnp.inf, llo)
    lhi = jnp.where(jnp.isnan(lhi), 0.0, lhi)
    plo = jnp.clip(jnp.exp(llo) * (1.0 - TRANS_ULPS * eps(alo)) - tiny(alo), 0.0, 1.0)
    phi = jnp.clip(jnp.exp(lhi) * (1.0 + TRANS_ULPS * eps(alo)) + tiny(alo), 0.0, 1.0)
    return plo, phi, llo, lhi


def _lp_min(plo, phi, v):
    """A lower bound of ``min {sum_i p_i v_i : plo <= p <= phi, sum p = 1}`` over axis -2 of ``v``.

    By LP duality, for every ``lam``: ``sum p_i v_i = lam + sum p_i (v_i - lam) >= lam +
    sum_i min(plo_i (v_i - lam), phi_i (v_i - lam))``; the right side is concave piecewise linear
    in ``lam`` with breakpoints at the ``v_j``, where its maximum (the LP value) is attained. We
    take the best breakpoint (exact), or ``min_i v_i`` for long axes. ``v``: ``(..., k, n)``.
    """
    k = v.shape[-2]
    if k > _EXACT_K:
        return jnp.min(v, axis=-2)
    diff = v[..., :, None, :] - v[..., None, :, :]  # (..., i, j, n): v_i - lam_j
    lo_i, hi_i = plo[..., :, None, None], phi[..., :, None, None]
    terms = jnp.minimum(lo_i * diff, hi_i * diff)
    val = jnp.max(v + jnp.sum(terms, axis=-3), axis=-2)
    err = (2 * k + 4) * eps(v) * jnp.sum(phi[..., None] * jnp.abs(v), axis=-2) + (k + 4) * tiny(v)
    return val - err


def _grad_bounds(plo, phi, tlo, thi):
    """Bounds of ``t_i - sum_j p_j t_j`` per ``i``: ``(..., k, n)``.

    ``sum_j p_j t_j`` lies in ``[LPmin(tlo), -LPmin(-thi)]`` (independently of ``i``; exact for
    tangents that are exact, e.g. the identity).
    """
    lower = tlo + _lp_min(plo, phi, -thi)[..., None, :]
    upper = thi - _lp_min(plo, phi, tlo)[..., None, :]
    return widen(lower, upper)


def _lse_jet(ctx: Context, a: Jet, axes) -> Jet:
    alo, ahi = _last(a.lo, axes), _last(a.hi, axes)
    k = alo.shape[-1]
    lo, hi = _widen_lse(_lse(alo), _lse(ahi), k)
    out = Jet(lo, hi, dep=a.dep)
    if a.tlo is not None:
        plo, phi, _, _ = _prob_bounds(alo, ahi)
        tl, th = _last_tangent(a.tlo, axes, a.lo.ndim), _last_tangent(a.thi, axes, a.lo.ndim)
        out.tlo = _lp_min(plo, phi, tl)
        out.thi = -_lp_min(plo, phi, -th)
    return out


def _unlast(x, a_shape, axes, extra=()):
    """Reshapes ``(..., k)`` (+ extra) back to ``a_shape`` (+ extra) with ``axes`` in place."""
    ndim = len(a_shape)
    keep = [d for d in range(ndim) if d not in axes]
    moved_shape = tuple(a_shape[d] for d in keep) + tuple(a_shape[d] for d in axes) + tuple(extra)
    perm = keep + list(axes) + [ndim + i for i in range(len(extra))]
    inv = [perm.index(d) for d in range(ndim + len(extra))]
    return jnp.transpose(x.reshape(moved_shape), inv)


def _softmax_jets(ctx: Context, a: Jet, axes, *, log: bool) -> Jet:
    alo, ahi = _last(a.lo, axes), _last(a.hi, axes)
    plo, phi, llo, lhi = _prob_bounds(alo, ahi)
    vlo, vhi = (llo, lhi) if log else (plo, phi)
    shape = a.lo.shape
    out = Jet(_unlast(vlo, shape, axes), _unlast(vhi, shape, axes), dep=a.dep)
    if a.tlo is not None:
        ndim = a.lo.ndim
        tl, th = _last_tangent(a.tlo, axes, ndim), _last_tangent(a.thi, axes, ndim)
        glo, ghi = _grad_bounds(plo, phi, tl, th)
        if not log:
            glo, ghi = imul(plo[..., None], phi[..., None], glo, ghi)
        n = (a.tlo.shape[-1],)
        out.tlo, out.thi = _unlast(glo, shape, axes, n), _unlast(ghi, shape, axes, n)
    return out


def _usable(j: Jet) -> bool:
    return j.is_float  # NaN flags and infinite values are excluded at run time by _finite


def logaddexp(ctx: Context, c: Jet, d: Jet, shape) -> Jet:
    """Sharp ``log(e^c + e^d)``: increasing in both, derivative ``sigma(c - d)`` in ``c``."""
    c_lo, c_hi = jnp.broadcast_to(c.lo, shape), jnp.broadcast_to(c.hi, shape)
    d_lo, d_hi = jnp.broadcast_to(d.lo, shape), jnp.broadcast_to(d.hi, shape)
    lo, hi = widen(jnp.logaddexp(c_lo, d_lo), jnp.logaddexp(c_hi, d_hi), TRANS_ULPS, 4 * eps(c_lo))
    out = Jet(lo, hi, dep=c.dep or d.dep)
    if c.tlo is None and d.tlo is None:
        return out
    s_lo, s_hi = widen(jax.nn.sigmoid(c_lo - d_hi), jax.nn.sigmoid(c_hi - d_lo), TRANS_ULPS)
    s_lo, s_hi = jnp.clip(s_lo, 0.0, 1.0), jnp.clip(s_hi, 0.0, 1.0)
    (ctl, cth), (dtl, dth) = ctx.tangent(c), ctx.tangent(d)
    ctl, cth = jnp.broadcast_to(ctl, shape + (ctx.n,)), jnp.broadcast_to(cth, shape + (ctx.n,))
    dtl, dth = jnp.broadcast_to(dtl, shape + (ctx.n,)), jnp.broadcast_to(dth, shape + (ctx.n,))
    sl, sh = s_lo[..., None], s_hi[..., None]

    # s * tc + (1 - s) * td is linear in s for fixed tc, td: extremes at the s endpoints.
    def comb(s, tc, td):
        return pmul(s, tc) + pmul(1.0 - s, td)

    lo_t = jnp.minimum(comb(sl, ctl, dtl), comb(sh, ctl, dtl))
    hi_t = jnp.maximum(comb(sl, cth, dth), comb(sh, cth, dth))
    out.tlo, out.thi = widen(lo_t, hi_t, 8.0)
    return out


def tight(ctx: Context, op, generic: Jet) -> Jet:
    """``generic`` intersected with the sharp enclosure of a composite completed by ``op``."""
    if ctx.rounding:  # the rounding pass bounds the program as written, operation by operation
        return generic
    m = match(ctx.program, op)
    if m is None:
        return generic
    env = ctx.env
    a = env[m.a]
    if not _usable(a):
        return generic
    ok = _finite(a)
    if m.shift is not None:
        ok = ok & _finite(env[m.shift])
    if m.kind == "lse":
        t = _lse_jet(ctx, a, m.axes)
    elif m.kind in ("softmax", "log_softmax"):
        t = _softmax_jets(ctx, a, m.axes, log=m.kind == "log_softmax")
    elif m.kind == "logaddexp":
        b = env[m.b]
        if not _usable(b):
            return generic
        t = logaddexp(ctx, a, b, generic.shape)
        ok = ok & _finite(b)
    else:  # softplus
        zero = Jet(jnp.zeros((), a.dtype), jnp.zeros((), a.dtype), dep=False, pt=True)
        t = logaddexp(ctx, a, zero, generic.shape)
    if t.shape != generic.shape or t.dtype != generic.dtype:
        return generic
    return _merge(ctx, op, m.kind, t, generic, ok)
