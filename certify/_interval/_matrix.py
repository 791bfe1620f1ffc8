r"""Sound scalar bounds from interval matrices: eigenvalue and spectral-norm extremes, batched.

For an interval matrix :math:`[A]=[\underline A,\overline A]` with centre :math:`C` and radius
:math:`R\ge0`, and symmetric parts :math:`S_c=\operatorname{sym}C`,
:math:`S_r=\operatorname{sym}R`:

* Hertz (1992): :math:`\min_{A\in[A]}\lambda_{\min}(\operatorname{sym}A)
  =\min_{z\in\{\pm1\}^n,\,z_1=1}\lambda_{\min}(S_c-D_zS_rD_z)` (exact, :math:`2^{n-1}`
  eigenproblems); Weyl/Rohn: :math:`\ge\lambda_{\min}(S_c)-\lambda_{\max}(S_r)`.
* :math:`\max_{A\in[A]}\lVert A\rVert_2=\max_{y,x\in\{\pm1\}}\lVert C+D_yRD_x\rVert_2`
  (exact, :math:`2^{m+n-1}` SVDs); cheaply :math:`\le\min(\lVert|C|+R\rVert_2,
  \lVert C\rVert_2+\lVert R\rVert_2)` (Perron-Frobenius monotonicity of the spectral norm).
* Weighted Lipschitz :math:`\beta(w)=\sup\lVert M^{1/2}AM^{-1/2}\rVert_2`, with
  :math:`M=\operatorname{blockdiag}(w_iI_{d_i})`: the scaled matrix has entries
  :math:`\sqrt{w_i/w_j}A_{kl}`, again an interval matrix, bounded as above and by the block bound
  :math:`\lVert[\ell_{ij}\sqrt{w_i/w_j}]\rVert_2`.

Every LAPACK eigen/singular value is widened by a backward-error slack
:math:`8\,n\,\varepsilon\lVert M\rVert_F`, and centre/radius are formed so that the computed
interval contains the input one. Reductions over several boxes take the worst case of the per-box
bounds, never the bound of the hull. Everything runs in NumPy on the host: batched
``eigvalsh``/SVD inside one big XLA CPU computation was seen to deadlock (jax 0.10.2).

References:
  Hertz, `The extreme eigenvalues and stability of real symmetric interval matrices
  <https://doi.org/10.1109/9.126593>`_, 1992.
  Rohn, `A handbook of results on interval linear problems
  <https://uivtx.cs.cas.cz/~rohn/publist/!aahandbook.pdf>`_, 2012.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from certify._bound_types import BlockBounds

__all__ = [
    "interval_block_bounds",
    "interval_lambda_min",
    "interval_spectral_norm",
    "interval_weighted_lipschitz",
]

_EPS = float(np.finfo(np.float64).eps)
_TINY = float(np.finfo(np.float64).tiny)
_DENORM_MIN = float(np.finfo(np.float64).smallest_subnormal)
_CHUNK_ELEMENTS = 4_000_000  # memory cap per batched LAPACK call (float64 entries)
_GAIN = 1e-12
"""The exact vertex formulas run only on boxes where they can tighten the cheap bound by more than
this, relative: not on point matrices and boxes of rounding width (the padded bounds' grid points),
whose cheap bound is already within a few ulps of the exact one."""


def norm2_upper(x, axis=None, up=None):
    r"""An upper bound on the Euclidean (Frobenius) norm of ``x`` over ``axis``, free of over- and underflow.

    Where the largest entry :math:`s=\max_k|x_k|` lies in :math:`[10^{-145}, 10^{145}]`, the plain
    :math:`\sqrt{\sum_k x_k^2}` times ``up`` (default :math:`1+\max(4, m)\,\epsilon` for an
    :math:`m`-term sum, which covers its :math:`(m+3)/4` ulps); squares that underflow there lose
    less than a subnormal unit each, far below that. Outside that range the plain sum of squares
    overflows to ``inf`` or underflows to ``0`` (a zero upper bound on a nonzero norm is a false
    claim), so the norm is scaled: :math:`s\sqrt{\sum_k (x_k/s)^2}`, with two more ulps and two
    subnormal units. ``inf`` or ``nan`` entries give ``inf`` or ``nan``.

    Examples:
      >>> float(norm2_upper(np.array([3e200, 4e200]))) / 5e200 - 1 < 1e-14
      True
      >>> float(norm2_upper(np.array([3e-200, 4e-200]))) >= 5e-200
      True
    """
    a = np.abs(np.asarray(x, dtype=np.float64))
    m = a.size if axis is None else int(np.prod([a.shape[k] for k in np.atleast_1d(axis)]))
    up = 1.0 + max(4, m) * _EPS if up is None else up
    s = np.max(a, axis=axis) if a.size else np.zeros(())
    with np.errstate(invalid="ignore", divide="ignore", over="ignore", under="ignore"):
        plain = np.sqrt(np.sum(a * a, axis=axis)) * up
    if np.all(((s >= 1e-145) & (s <= 1e145)) | (s == 0)):  # the common case: the plain sum (as below, fewer passes)
        return np.where(s > 0, plain, 0.0)
    sk = np.expand_dims(s, axis) if axis is not None else s
    with np.errstate(invalid="ignore", divide="ignore", over="ignore", under="ignore"):
        r = np.where(sk > 0, a / np.where(sk > 0, sk, 1.0), 0.0)
        scaled = s * np.sqrt(np.sum(r * r, axis=axis)) * (up * (1.0 + 2.0 * _EPS)) + 2.0 * _DENORM_MIN
        out = np.where((s >= 1e-145) & (s <= 1e145), plain, scaled)
        out = np.where(np.isinf(s), np.inf, out)
    return np.where(s > 0, out, 0.0) + np.where(np.isnan(s), np.nan, 0.0)


def _slack(m):
    """Backward-error slack for LAPACK eigen/singular values of ``m`` (generous constant)."""
    k = max(m.shape[-2:])
    return 8.0 * k * _EPS * norm2_upper(m, axis=(-2, -1), up=1.0) + 1e-300


def _spectral(m):
    """Largest singular value over the last two axes (NumPy's ``norm(m, 2)``, one batched SVD)."""
    return np.linalg.svd(m, compute_uv=False).max(axis=-1) if m.size else np.zeros(m.shape[:-2])


def _as_batch(lo, hi, name="interval matrix"):
    lo = np.asarray(lo, dtype=np.float64)
    hi = np.asarray(hi, dtype=np.float64)
    if lo.shape != hi.shape or lo.ndim < 2:
        raise ValueError(f"expected {name} bounds of one shape (..., m, n), got {lo.shape} and {hi.shape}")
    if np.any(lo > hi):
        raise ValueError(f"expected lo <= hi in the {name}, got lo > hi somewhere")
    shape = lo.shape[-2:]
    return lo.reshape((-1,) + shape), hi.reshape((-1,) + shape), lo.shape[:-2]


def _finite_boxes(lo, hi):
    ok = np.all(np.isfinite(lo) & np.isfinite(hi), axis=(-2, -1))
    lo = np.where(ok[:, None, None], lo, 0.0)
    hi = np.where(ok[:, None, None], hi, 0.0)
    return lo, hi, ok


def _mid_rad(lo, hi):
    """Centre and radius with ``[c - r, c + r]`` containing ``[lo, hi]`` despite rounding."""
    c = 0.5 * lo + 0.5 * hi
    r = np.maximum(hi - c, c - lo)
    return c, r * (1.0 + 4.0 * _EPS) + _TINY


def _sym_mid_rad(lo, hi):
    c, r = _mid_rad(lo, hi)
    sc = 0.5 * (c + np.swapaxes(c, -1, -2))
    sr = 0.5 * (r + np.swapaxes(r, -1, -2))
    return sc, sr * (1.0 + 4.0 * _EPS) + _EPS * np.abs(sc) + _TINY


def _signs(k, fix_first):
    if k == 0:
        return np.ones((1, 0))
    rows = itertools.product((1.0, -1.0), repeat=k - 1 if fix_first else k)
    if fix_first:
        return np.array([(1.0,) + r for r in rows])
    return np.array(list(rows))


def _chunks(n_boxes, per_box):
    step = max(1, _CHUNK_ELEMENTS // max(per_box, 1))
    return [slice(i, min(i + step, n_boxes)) for i in range(0, n_boxes, step)]


def interval_lambda_min(lo, hi, *, exact_max_dim=10):
    r"""Lower bound on :math:`\min_{A\in[lo,hi]}\lambda_{\min}(\operatorname{sym}A)` per box.

    Hertz's vertex formula (exact for the interval matrix) when ``n <= exact_max_dim`` (on boxes where
    it can gain more than :data:`_GAIN` over the rest), combined (max) with the Weyl bound
    :math:`\lambda_{\min}(S_c)-\lambda_{\max}(S_r)`; both widened by the LAPACK slack (``1 x 1``
    matrices: the same formulas, elementwise).

    Args:
      lo: ``(..., n, n)`` lower entry bounds.
      hi: ``(..., n, n)`` upper entry bounds.
      exact_max_dim: largest ``n`` for the exact :math:`2^{n-1}`-vertex formula.

    Returns:
      ``(...)`` float64 lower bounds (``-inf`` for boxes with non-finite entries).

    Raises:
      ValueError: if shapes differ, the matrix is not square, or ``lo > hi`` somewhere.

    Examples:
      >>> import numpy as np
      >>> float(interval_lambda_min(np.eye(2), np.eye(2))) <= 1.0
      True
    """
    lo, hi, lead = _as_batch(lo, hi)
    n = lo.shape[-1]
    if lo.shape[-2] != n:
        raise ValueError(f"expected square matrices, got shape {lo.shape[-2:]}")
    lo, hi, ok = _finite_boxes(lo, hi)
    sc, sr = _sym_mid_rad(lo, hi)
    if n == 1:  # the formulas below without LAPACK (whose 1 x 1 eigenvalue is the entry itself)
        weyl = sc[:, 0, 0] - _slack(sc) - sr[:, 0, 0] - _slack(sr)
        vertex = sc - sr
        out = np.maximum(weyl, vertex[:, 0, 0] - _slack(vertex)) if exact_max_dim >= 1 else weyl
        return np.where(ok, out, -np.inf).reshape(lead)
    centre = np.linalg.eigvalsh(sc)[..., 0]
    weyl = centre - _slack(sc) - np.linalg.eigvalsh(sr)[..., -1] - _slack(sr)
    out = weyl
    if n <= exact_max_dim:  # the exact minimum lies in [weyl, centre] (sym C is a member): Hertz where it can gain
        idx = np.nonzero(centre - weyl > _GAIN * np.abs(centre))[0]
        z = _signs(n, fix_first=True)
        zz = z[:, :, None] * z[:, None, :]
        for s in _chunks(idx.shape[0], len(z) * n * n):
            m = sc[idx[s], None] - zz[None] * sr[idx[s], None]
            out[idx[s]] = np.maximum(weyl[idx[s]], (np.linalg.eigvalsh(m)[..., 0] - _slack(m)).min(axis=1))
    out = np.where(ok, out, -np.inf)
    return out.reshape(lead)


def interval_spectral_norm(lo, hi, *, exact_max_dim=10):
    r"""Upper bound on :math:`\max_{A\in[lo,hi]}\lVert A\rVert_2` per box.

    A row or column: the norm of its largest magnitudes (exact, rounded up). Otherwise
    :math:`\min(\lVert|C|+R\rVert_2,\ \lVert C\rVert_2+\lVert R\rVert_2)`, and the vertex formula
    (exact for the interval matrix) when ``m + n <= exact_max_dim`` (on boxes where it can gain more
    than :data:`_GAIN`); widened by the LAPACK slack (``1 x 1`` matrices: the same formulas, elementwise).

    Args:
      lo: ``(..., m, n)`` lower entry bounds.
      hi: ``(..., m, n)`` upper entry bounds.
      exact_max_dim: largest ``m + n`` for the :math:`2^{m+n-1}`-vertex formula.

    Returns:
      ``(...)`` float64 upper bounds (``inf`` for boxes with non-finite entries).

    Raises:
      ValueError: if shapes differ or ``lo > hi`` somewhere.

    Examples:
      >>> import numpy as np
      >>> round(float(interval_spectral_norm(-np.ones((1, 1)), 2 * np.ones((1, 1)))), 12)
      2.0
    """
    lo, hi, lead = _as_batch(lo, hi)
    m, n = lo.shape[-2:]
    lo, hi, ok = _finite_boxes(lo, hi)
    if m == 0 or n == 0:
        return np.zeros(lead)
    c, r = _mid_rad(lo, hi)
    if m == 1 and n == 1:  # the formulas below without LAPACK (whose 1 x 1 singular value is |entry|)
        mag = np.abs(c) + r
        out = np.minimum(mag[:, 0, 0] + _slack(mag), np.abs(c[:, 0, 0]) + _slack(c) + r[:, 0, 0] + _slack(r))
        if exact_max_dim >= 2:
            up, down = c + r, c - r
            vertex = np.maximum(np.abs(up[:, 0, 0]) + _slack(up), np.abs(down[:, 0, 0]) + _slack(down))
            out = np.minimum(out, vertex)
        return np.where(ok, out, np.inf).reshape(lead)
    if m == 1 or n == 1:  # a vector: its norm grows with every |entry|, so the largest |entries| give the max
        big = np.maximum(np.abs(lo), np.abs(hi))
        return np.where(ok, norm2_upper(big, axis=(-2, -1)), np.inf).reshape(lead)
    mag = np.abs(c) + r
    both = np.stack([mag, c, r])  # one LAPACK call and one slack for the three norms
    norm, slack = _spectral(both), _slack(both)
    b_mag = norm[0] + slack[0]
    centre = norm[1]
    b_tri = centre + slack[1] + norm[2] + slack[2]
    out = np.minimum(b_mag, b_tri)
    if m + n <= exact_max_dim:  # the exact maximum lies in [centre, out] (C is a member): vertices where it can gain
        idx = np.nonzero(out - centre > _GAIN * centre)[0]
        zy = _signs(m, fix_first=True)
        zx = _signs(n, fix_first=False)
        for s in _chunks(idx.shape[0], len(zy) * len(zx) * m * n):  # every vertex of a box in one LAPACK call
            cs, rs = c[idx[s], None, None], r[idx[s], None, None]
            v = cs + zy[None, :, None, :, None] * rs * zx[None, None, :, None, :]
            val = _spectral(v) + _slack(v)
            out[idx[s]] = np.minimum(out[idx[s]], val.max(axis=(1, 2)))
    out = np.where(ok, out, np.inf)
    return out.reshape(lead)


def _check_dims(dims: Sequence[int], d: int):
    dims = tuple(int(k) for k in dims)
    if not dims or any(k <= 0 for k in dims) or sum(dims) != d:
        raise ValueError(f"expected positive dims summing to {d}, got {dims}")
    offs = np.concatenate([[0], np.cumsum(dims)])
    return dims, [slice(int(offs[i]), int(offs[i + 1])) for i in range(len(dims))]


def _square_batch(jlo, jhi):
    jlo, jhi, _ = _as_batch(jlo, jhi, "interval Jacobian")
    if jlo.shape[-1] != jlo.shape[-2]:
        raise ValueError(f"expected square Jacobians (d, d), got {jlo.shape[-2:]}")
    return jlo, jhi


def _nonneg_norm(b):
    return _spectral(b) + _slack(b)


def _per_box_bounds(jlo, jhi, dims, *, exact_max_dim=10):
    """Per-box sound bounds: dict of arrays with a leading ``n_boxes`` axis."""
    jlo, jhi = _square_batch(jlo, jhi)
    dims, sl = _check_dims(dims, jlo.shape[-1])
    nb, n_players = jlo.shape[0], len(dims)
    mu = np.empty((nb, n_players))
    block_norm = np.empty((nb, n_players))
    coupling = np.zeros((nb, n_players, n_players))
    for i, si in enumerate(sl):
        a, b = jlo[:, si, si], jhi[:, si, si]
        mu[:, i] = interval_lambda_min(a, b, exact_max_dim=exact_max_dim)
        block_norm[:, i] = interval_spectral_norm(a, b, exact_max_dim=exact_max_dim)
        for j, sj in enumerate(sl):
            if i != j:
                coupling[:, i, j] = interval_spectral_norm(jlo[:, si, sj], jhi[:, si, sj], exact_max_dim=exact_max_dim)
    eye = np.eye(n_players, dtype=bool)
    gains = np.where(eye, block_norm[:, :, None], coupling)
    finite = np.all(np.isfinite(gains), axis=(-2, -1))
    block_lip = np.where(finite, _nonneg_norm(np.where(finite[:, None, None], gains, 0.0)), np.inf)
    lip = np.minimum(interval_spectral_norm(jlo, jhi, exact_max_dim=exact_max_dim), block_lip)
    # Comparison matrix bound on lambda_min(sym J) (spec section 5(d)).
    gam = np.where(eye, mu[:, :, None], -coupling)
    gam_ok = np.all(np.isfinite(gam), axis=(-2, -1))
    gam = np.where(gam_ok[:, None, None], gam, 0.0)
    gs = 0.5 * (gam + np.swapaxes(gam, -1, -2))
    comp = np.where(gam_ok, np.linalg.eigvalsh(gs)[:, 0] - _slack(gs), -np.inf)
    margin = np.maximum(interval_lambda_min(jlo, jhi, exact_max_dim=exact_max_dim), comp)
    return {
        "mu": mu,
        "coupling": coupling,
        "block_norm": block_norm,
        "lipschitz": lip,
        "euclidean_margin": margin,
    }


def _worst_case(per_box, kind="sound"):
    """Worst case over boxes of per-box bounds, as a :class:`BlockBounds`."""
    return BlockBounds(
        mu=per_box["mu"].min(axis=0),
        coupling=per_box["coupling"].max(axis=0),
        block_norm=per_box["block_norm"].max(axis=0),
        lipschitz=float(per_box["lipschitz"].max()),
        euclidean_margin=float(per_box["euclidean_margin"].min()),
        kind=kind,
        n_points=int(per_box["mu"].shape[0]),
    )


def interval_block_bounds(jlo, jhi, dims, *, exact_max_dim=10):
    r"""Sound :class:`BlockBounds` from interval Jacobians of one or several boxes.

    Per box: :math:`\mu_i` (Hertz/Weyl on :math:`[J_{ii}]`), :math:`L_{ij}` and
    :math:`\lVert J_{ii}\rVert_2` (vertex or magnitude norms), the Lipschitz bound
    :math:`\min(\sup_{[J]}\lVert A\rVert_2,\lVert[\ell_{ij}]\rVert_2)` and the Euclidean
    margin :math:`\max(\text{Hertz/Weyl on }[J],\lambda_{\min}(\operatorname{sym}\Gamma))`
    with :math:`\Gamma_{ii}=\mu_i,\Gamma_{ij}=-L_{ij}`. Then the worst case over boxes.

    Args:
      jlo: ``(d, d)`` or ``(n_boxes, d, d)`` lower Jacobian bounds (from
        :func:`certify._interval.interval_jacobian`).
      jhi: same shape, upper bounds.
      dims: player block sizes, summing to ``d``.
      exact_max_dim: size limit of the exact vertex formulas (see :func:`interval_lambda_min`).

    Returns:
      :class:`BlockBounds` with ``kind="sound"`` and ``n_points`` = number of boxes.

    Raises:
      ValueError: for mismatched shapes, ``dims`` not summing to ``d`` or ``lo > hi``.

    Examples:
      >>> import numpy as np
      >>> J = np.array([[1.0, 0.5], [-0.8, 1.0]])
      >>> b = interval_block_bounds(J, J, (1, 1))
      >>> [round(float(x), 12) for x in (b.mu[0], b.coupling[0, 1], b.coupling[1, 0])]
      [1.0, 0.5, 0.8]
    """
    return _worst_case(_per_box_bounds(jlo, jhi, dims, exact_max_dim=exact_max_dim))


def _scaled(jlo, jhi, dims, weights):
    dims, sl = _check_dims(dims, jlo.shape[-1])
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (len(dims),) or not np.all(np.isfinite(w)) or np.any(w <= 0):
        raise ValueError(f"expected {len(dims)} positive finite weights, got {weights!r}")
    sw = np.sqrt(np.repeat(w, dims))
    s = sw[:, None] / sw[None, :]
    lo, hi = jlo * s, jhi * s
    e = 8.0 * _EPS
    return lo - (np.abs(lo) * e + _TINY), hi + (np.abs(hi) * e + _TINY), w, sl


def interval_weighted_lipschitz(jlo, jhi, dims, weights, *, exact_max_dim=10):
    r"""Sound :math:`\beta(w)\ge\sup\lVert M^{1/2}DF\,M^{-1/2}\rVert_2` from [J].

    :math:`M^{1/2}[J]M^{-1/2}` scales block :math:`(i,j)` by :math:`\sqrt{w_i/w_j}>0`, so it is
    again an interval matrix; per box we take the smaller of its interval spectral norm and the
    block bound :math:`\lVert[\sqrt{w_i/w_j}\,\ell_{ij}]\rVert_2` (:math:`\ell_{ii}` the
    block norms), then the worst case over boxes. :math:`\beta(w)` is the Lipschitz constant of
    :math:`F` in :math:`\lVert v\rVert_M^2=\sum_i w_i\lVert v_i\rVert^2` on a convex region
    (mean-value argument).

    Args:
      jlo: ``(d, d)`` or ``(n_boxes, d, d)`` lower Jacobian bounds.
      jhi: same shape, upper bounds.
      dims: player block sizes, summing to ``d``.
      weights: ``(n_players,)`` positive metric weights :math:`w_i`.
      exact_max_dim: size limit of the exact vertex formulas.

    Returns:
      A float upper bound on :math:`\beta(w)`.

    Raises:
      ValueError: for bad shapes, dims or weights.

    Examples:
      >>> import numpy as np
      >>> J = np.array([[1.0, 10.0], [0.05, 1.0]])
      >>> round(interval_weighted_lipschitz(J, J, (1, 1), (1.0, 200.0)), 5)
      1.70711
    """
    jlo, jhi = _square_batch(jlo, jhi)
    lo, hi, w, sl = _scaled(jlo, jhi, dims, weights)
    direct = interval_spectral_norm(lo, hi, exact_max_dim=exact_max_dim)
    n_players = len(sl)
    g = np.zeros((lo.shape[0], n_players, n_players))
    for i, si in enumerate(sl):
        for j, sj in enumerate(sl):
            g[:, i, j] = interval_spectral_norm(lo[:, si, sj], hi[:, si, sj],
                                                exact_max_dim=exact_max_dim)  # fmt: skip
    finite = np.all(np.isfinite(g), axis=(-2, -1))
    block = np.where(finite, _nonneg_norm(np.where(finite[:, None, None], g, 0.0)), np.inf)
    return float(np.minimum(direct, block).max())
