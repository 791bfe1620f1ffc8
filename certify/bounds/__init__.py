r"""Region bounds of a game's Jacobian blocks: the family of bound methods and their engines.

A certificate on a region :math:`K` rests on

.. math::

   \mu_i \le \inf_K \lambda_{\min}(\operatorname{sym}J_{ii}), \qquad
   L_{ij} \ge \sup_K \lVert J_{ij}\rVert_2, \qquad
   \beta(w) \ge \sup_K \lVert M^{1/2} DF M^{-1/2}\rVert_2 .

Methods (strategy objects; pass one to :func:`certify.certify` as ``bounds=``):

* :class:`Exact` — affine games: the constant Jacobian's own numbers (global);
* :class:`Sampled` — extremes over vertices and seeded points (an estimate);
* :class:`Interval`, :class:`Padded`, :class:`Refine` — sound enclosures over the box (interval
  Jacobians on sub-boxes, a grid padded by a Jacobian Lipschitz constant, branch and bound);
* :class:`MatrixFree` — Lanczos/power estimates for networks as players (an estimate).

Each returns one :class:`BlockBounds` whose ``kind`` is ``exact``, ``sound`` or ``sampled``.
The engines are public too: :func:`interval_jacobian` (interval-jet enclosures of a JAX
function's Jacobian), the drivers over boxes, the matrix-free point estimates, the Fisher and
mirror geometries of tabular games, and the one point sampler :func:`sample_points`. A sound
method that cannot enclose ``F`` as written raises :class:`NotEnclosable` naming the construct
(:func:`certify.certify` turns it into a refusal with that reason).

Examples:
  >>> import games
  >>> from certify import bounds
  >>> b = bounds.Interval(subdivisions=4)(games.get_game("tanh-sin"))
  >>> b.kind, b.n_points
  ('sound', 16)
"""

from certify._bound_types import BOUND_KINDS as BOUND_KINDS
from certify._bound_types import BlockBounds as BlockBounds
from certify._interval import NotEnclosable as NotEnclosable
from certify._interval import interval_jacobian as interval_jacobian
from certify._interval import interval_value_and_jacobian as interval_value_and_jacobian
from certify.bounds._exact import exact_block_bounds as exact_block_bounds
from certify.bounds._matrix_free import PointEstimate as PointEstimate
from certify.bounds._matrix_free import RitzEstimate as RitzEstimate
from certify.bounds._matrix_free import lanczos_extremes as lanczos_extremes
from certify.bounds._matrix_free import matrix_free_block_bounds as matrix_free_block_bounds
from certify.bounds._matrix_free import matrix_free_point_estimate as matrix_free_point_estimate
from certify.bounds._matrix_free import matrix_free_weighted_lipschitz as matrix_free_weighted_lipschitz
from certify.bounds._methods import NAMES as NAMES
from certify.bounds._methods import BoundsMethod as BoundsMethod
from certify.bounds._methods import Exact as Exact
from certify.bounds._methods import Fisher as Fisher
from certify.bounds._methods import Interval as Interval
from certify.bounds._methods import MatrixFree as MatrixFree
from certify.bounds._methods import Mirror as Mirror
from certify.bounds._methods import NotApplicable as NotApplicable
from certify.bounds._methods import Padded as Padded
from certify.bounds._methods import Refine as Refine
from certify.bounds._methods import Sampled as Sampled
from certify.bounds._methods import resolve as resolve
from certify.bounds._sampled import sampled_block_bounds as sampled_block_bounds
from certify.bounds._sampling import sample_points as sample_points
from certify.bounds._sound import RefineRecord as RefineRecord
from certify.bounds._sound import interval_jacobian_grid as interval_jacobian_grid
from certify.bounds._sound import lipschitz_padded_bounds as lipschitz_padded_bounds
from certify.bounds._sound import refine_block_bounds as refine_block_bounds
from certify.bounds._sound import sound_block_bounds as sound_block_bounds
from certify.bounds._tabular import fisher_bounds as fisher_bounds
from certify.bounds._tabular import fisher_normalised_jacobians as fisher_normalised_jacobians
from certify.bounds._tabular import fisher_point_quantities as fisher_point_quantities
from certify.bounds._tabular import matrix_coupling as matrix_coupling
from certify.bounds._tabular import mirror_bounds as mirror_bounds
from certify.bounds._tabular import mirror_step_bounds as mirror_step_bounds
from certify.bounds._tabular import tangent_coupling as tangent_coupling

__all__ = [
    "BOUND_KINDS",
    "NAMES",
    "NotEnclosable",
    "BlockBounds",
    "BoundsMethod",
    "Exact",
    "Interval",
    "MatrixFree",
    "Padded",
    "PointEstimate",
    "Refine",
    "RefineRecord",
    "RitzEstimate",
    "Sampled",
    "exact_block_bounds",
    "fisher_bounds",
    "fisher_normalised_jacobians",
    "fisher_point_quantities",
    "interval_jacobian",
    "interval_jacobian_grid",
    "interval_value_and_jacobian",
    "lanczos_extremes",
    "lipschitz_padded_bounds",
    "matrix_coupling",
    "matrix_free_block_bounds",
    "matrix_free_point_estimate",
    "matrix_free_weighted_lipschitz",
    "mirror_bounds",
    "mirror_step_bounds",
    "refine_block_bounds",
    "resolve",
    "sample_points",
    "sampled_block_bounds",
    "sound_block_bounds",
    "tangent_coupling",
]
