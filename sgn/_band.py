r"""The two-player timescale band of weight ratios.

For two players and a target margin :math:`\alpha \ge 0`, with :math:`r = w_2/w_1` and
:math:`p = (\mu_1-\alpha)(\mu_2-\alpha)`,

.. math::

   \alpha_*(r) \ge \alpha \iff r \in [r_-, r_+],\qquad
   r_\pm = \frac{2p - L_{12}L_{21} \pm 2\sqrt{p(p - L_{12}L_{21})}}{L_{21}^2},

non-empty iff :math:`\mu_i > \alpha` and :math:`p \ge L_{12}L_{21}`. The optimum
:math:`r^* = L_{12}/L_{21}` is the band's geometric centre. Cascades: :math:`L_{21} = 0` gives
:math:`[L_{12}^2/(4p), \infty)`, and :math:`L_{12} = 0` gives :math:`(0, 4p/L_{21}^2]`
(spec-sgn-math §5). Read as per-player learning rates, a ratio in the band makes two-timescale
gradient play contractive (TTUR).

References:
  Heusel et al., `GANs Trained by a Two Time-Scale Update Rule
  <https://arxiv.org/abs/1706.08500>`_, 2017.
"""

from __future__ import annotations

import numpy as np

from sgn import _checks
from sgn._backend import as_arrays


def timescale_band(mu, coupling, *, margin=0.0):
    r"""Interval of weight ratios ``r = w2/w1`` with SGN margin at least ``margin`` (two players).

    Host inputs are computed in float64 NumPy (no compilation); JAX inputs in ``jax.numpy``
    (``jit``/``vmap``-able over bounds and margins).

    Args:
      mu: ``(2,)`` curvature lower bounds.
      coupling: ``(2, 2)`` coupling bounds; ``coupling[0, 1] = L12`` bounds the effect of player
        2 on player 1's gradient.
      margin: target margin :math:`\alpha`.

    Returns:
      ``(lo, hi)``: ``(nan, nan)`` when empty; ``hi = inf`` for a cascade (``L21 = 0``);
      ``lo = 0`` when ``L12 = 0``.

    Raises:
      ValueError: unless there are exactly two players, or on malformed bounds.

    Examples:
      >>> import numpy as np
      >>> lo, hi = timescale_band(np.ones(2), np.array([[0, 10.0], [0.05, 0]]))
      >>> round(float(lo), 4), round(float(hi), 2)
      (34.3146, 1165.69)
    """
    _checks.check_bounds_pair(mu, coupling)
    if np.shape(mu)[0] != 2:
        raise ValueError(f"expected two players for the timescale band, got {np.shape(mu)[0]}")
    xp, mu, coupling, margin = as_arrays(mu, coupling, margin)
    l12, l21 = coupling[0, 1], coupling[1, 0]
    p = (mu[0] - margin) * (mu[1] - margin)
    prod = l12 * l21
    ok = (mu[0] > margin) & (mu[1] > margin) & (p >= prod)
    # r_+- = (sqrt p +- sqrt(p - L12 L21))^2 / L21^2, and r_- = (L12 / (sqrt p + sqrt(p - L12 L21)))^2
    # (r_- r_+ = (L12/L21)^2): no cancellation, and L21 cancels from r_- (finite for a cascade).
    s = xp.sqrt(xp.maximum(p, 0.0)) + xp.sqrt(xp.maximum(p - prod, 0.0))
    safe_s = xp.where(s > 0, s, 1.0)
    lo = (l12 / safe_s) ** 2
    with np.errstate(over="ignore"):  # a tiny L21 > 0: the band is unbounded in float64
        hi = xp.where(l21 > 0, (s / xp.where(l21 > 0, l21, 1.0)) ** 2, xp.inf)
    nan = xp.asarray(xp.nan, dtype=lo.dtype)
    return xp.where(ok, lo, nan), xp.where(ok, hi, nan)


def margin_at_ratio(mu, coupling, ratio):
    r"""Two-player SGN margin as a function of ``r = w2/w1`` (closed form).

    .. math::

       \alpha_*(r) = \tfrac{\mu_1+\mu_2}{2}
       - \sqrt{\big(\tfrac{\mu_1-\mu_2}{2}\big)^2 + c(r)^2},\quad
       c(r) = \tfrac12\big(L_{12}/\sqrt r + L_{21}\sqrt r\big).

    Args:
      mu: ``(2,)`` curvature bounds.
      coupling: ``(2, 2)`` coupling bounds.
      ratio: positive ratio (any shape; broadcasts).

    Returns:
      Margin with the shape of ``ratio``.

    Examples:
      >>> import numpy as np
      >>> round(float(margin_at_ratio(np.ones(2), np.array([[0, 10.0], [0.05, 0]]), 1000.0)), 7)
      0.0513167
    """
    _checks.check_bounds_pair(mu, coupling)
    if np.shape(mu)[0] != 2:
        raise ValueError(f"expected two players, got {np.shape(mu)[0]}")
    xp, mu, coupling, r = as_arrays(mu, coupling, ratio)
    c = 0.5 * (coupling[0, 1] / xp.sqrt(r) + coupling[1, 0] * xp.sqrt(r))
    return 0.5 * (mu[0] + mu[1]) - xp.sqrt(0.25 * (mu[0] - mu[1]) ** 2 + c**2)
