r"""The interval engine (private): interval-jet enclosures over boxes and interval-matrix reductions.

* :mod:`certify._interval._ir`: the flat, as-written program of a JAX function (calls inlined,
  ``custom_jvp``/``custom_vjp`` replaced by their primal, ``stop_gradient`` by the identity);
* :mod:`certify._interval._arith`: outward-rounded interval arithmetic and sharp ranges of
  elementary functions and their derivatives;
* :mod:`certify._interval._jet`, :mod:`certify._interval._rules`,
  :mod:`certify._interval._patterns`, :mod:`certify._interval._exact`: interval jets, the
  primitive rule table, sharp rules for logsumexp/softmax/logaddexp, continuity proofs at branch
  switches;
* :mod:`certify._interval._interpreter`: the interpreter and its entry points;
* :mod:`certify._interval._affine`: affine-form (first-order Taylor-model) enclosures of smooth
  programs, which the sound drivers intersect with the interval Jacobian (tighter on boxes where
  interval propagation loses correlations);
* :mod:`certify._interval._matrix`: sound scalar bounds of interval matrices (Hertz / Weyl for
  :math:`\lambda_{\min}`, vertex or magnitude spectral norms), per box and worst case over boxes.

Contract: enclosures hold for the function as written (domain edges, NaN guards, custom
derivative rules, ``stop_gradient``, steps and branches). A value that may be NaN comes out NaN,
one that may overflow or a derivative that may be unbounded comes out infinite, and a construct
that cannot be enclosed raises :class:`NotEnclosable` (a ``NotImplementedError``) naming it.
"""

from certify._interval._errors import NotEnclosable as NotEnclosable
from certify._interval._interpreter import Enclosure as Enclosure
from certify._interval._interpreter import interval_enclosure as interval_enclosure
from certify._interval._interpreter import interval_jacobian as interval_jacobian
from certify._interval._interpreter import interval_value_and_jacobian as interval_value_and_jacobian
from certify._interval._matrix import interval_block_bounds as interval_block_bounds
from certify._interval._matrix import interval_lambda_min as interval_lambda_min
from certify._interval._matrix import interval_spectral_norm as interval_spectral_norm
from certify._interval._matrix import interval_weighted_lipschitz as interval_weighted_lipschitz

__all__ = [
    "Enclosure",
    "NotEnclosable",
    "interval_block_bounds",
    "interval_enclosure",
    "interval_jacobian",
    "interval_lambda_min",
    "interval_spectral_norm",
    "interval_value_and_jacobian",
    "interval_weighted_lipschitz",
]
