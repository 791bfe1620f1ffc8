r"""The floating-point claim of a certificate: the ball that rounding leaves around the solution.

A certificate proves contraction for :math:`F` in exact arithmetic; JAX computes
:math:`\tilde F` with :math:`\lVert\tilde F(x)-F(x)\rVert_2\le\varepsilon` on the region (bounded
by the sound methods, :func:`certify.bounds._sound.rounding_bound`). An Euler step of gradient
play at the certified step :math:`h` with factor :math:`q` in the metric :math:`M(w)`
satisfies :math:`\lVert\tilde E(x)-x^*\rVert_M\le q\lVert x-x^*\rVert_M+h\lVert
\tilde F(x)-F(x)\rVert_M`, so the iterates reach the ball

.. math::

   \lVert x_k-x^*\rVert_2\le r=\frac{h\,\varepsilon\,\sqrt{\kappa(M)}}{1-q},\qquad
   \kappa(M)=\frac{\max_i w_i}{\min_i w_i}

(and stay there; the rounding of :math:`x-hF` itself adds about one ulp of :math:`x` per
step). The rule: a certificate stands only if :math:`r\le` ``ROUNDING_FRACTION`` times the
smallest half-width of the region; otherwise the claim is not small against the region and the
certificate is refused with a ``rounding`` reason. ``extra`` records ``rounding_error``
(:math:`\varepsilon`) and ``rounding_radius`` (:math:`r`).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["ROUNDING_FRACTION", "rounding_claim"]

ROUNDING_FRACTION = 0.05
"""Largest ball radius, relative to the region's smallest half-width, that still counts as small."""


def rounding_claim(bb, *, step: float, factor: float, weights, region) -> tuple[dict, str]:
    """``(extra entries, refusal reason)`` for bounds ``bb`` and the certified Euler step (``""``: it stands).

    Examples:
      >>> import types
      >>> bb = types.SimpleNamespace(rounding_error=lambda: (1e-3, ""))  # a BlockBounds' method
      >>> extra, why = rounding_claim(bb, step=0.5, factor=0.5, weights=[1.0, 1.0],
      ...                             region={"lo": [-1.0, -1.0], "hi": [1.0, 1.0]})
      >>> extra["rounding_radius"], why
      (0.001, '')
    """
    if region is None:
        return {}, ""
    eps, cause = bb.rounding_error()  # a sound method's bound may run its deferred rounding pass here
    eps = float(eps)
    if math.isnan(eps):
        return {}, ""
    if not math.isfinite(eps):
        cause = cause or "an operation whose rounding could not be bounded"
        return (
            {"rounding_error": eps},
            f"rounding: the evaluation error of F as JAX computes it cannot be bounded on the region: {cause}",
        )
    w = np.asarray(weights, dtype=np.float64)
    kappa = float(w.max() / w.min())
    radius = float(step * eps * math.sqrt(kappa) / (1.0 - factor)) if factor < 1.0 else math.inf
    lo, hi = np.asarray(region["lo"], float), np.asarray(region["hi"], float)
    half = float(np.min(hi - lo)) / 2.0
    extra = {"rounding_error": eps, "rounding_radius": radius}
    if radius <= ROUNDING_FRACTION * half:
        return extra, ""
    return extra, (
        f"rounding: F as JAX computes it is only within {eps:.3g} of F (2-norm) on the region, so Euler "
        f"iterates at the certified step {step:.4g} (factor {factor:.4g}) are only shown to reach a ball "
        f"of radius {radius:.3g} around the solution, above {ROUNDING_FRACTION} of the region's smallest "
        f"half-width {half:.4g}"
    )
