"""The interval engine (private): interval-jet Jacobian enclosures and interval-matrix reductions.

* :mod:`certify._interval._engine`: an interpreter of a function's jaxpr in which every value
  carries a value interval and a tangent interval (Jacobian enclosures over a box);
* :mod:`certify._interval._matrix`: sound scalar bounds of interval matrices (Hertz / Weyl for
  :math:`\\lambda_{\\min}`, vertex or magnitude spectral norms), per box and worst case over boxes.

The public entry points are re-exported by :mod:`certify.bounds`.
"""

from certify._interval._engine import interval_jacobian as interval_jacobian
from certify._interval._engine import interval_value_and_jacobian as interval_value_and_jacobian
from certify._interval._matrix import interval_block_bounds as interval_block_bounds
from certify._interval._matrix import interval_lambda_min as interval_lambda_min
from certify._interval._matrix import interval_spectral_norm as interval_spectral_norm
from certify._interval._matrix import interval_weighted_lipschitz as interval_weighted_lipschitz

__all__ = [
    "interval_block_bounds",
    "interval_jacobian",
    "interval_lambda_min",
    "interval_spectral_norm",
    "interval_value_and_jacobian",
    "interval_weighted_lipschitz",
]
