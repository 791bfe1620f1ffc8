"""certify: region bounds, the block-weight optimiser, the certification pipeline, CLI and plots.

* bounds: exact (affine games), sampled (estimates), sound (interval Jacobians, subdivision,
  padded grids) and matrix-free (Lanczos/power iteration for networks as players);
* weights: the Perron closed form beside cvxpy SDP / LP formulations, and an automatic choice
  for many players;
* the pipeline :func:`certify`, certificates with a JSON round trip and an integrity check,
  empirical verification, certified basins, batched/sharded sweeps, plots and the CLI.

cvxpy is imported here (weight optimiser); matplotlib only inside the plotting functions.
"""

from certify._basin import Basin, basin_radius, certified_basin, nash_check
from certify._bound_types import BOUND_KINDS, BlockBounds
from certify._bounds import (
    BOUND_METHODS,
    estimate_block_bounds,
    exact_block_bounds,
    sample_points,
    sampled_block_bounds,
    sampled_weighted_lipschitz,
)
from certify._certificate import (
    CERTIFIED,
    INVALID,
    NOT_CERTIFIED,
    SCHEMA_VERSION,
    Certificate,
)
from certify._integrity import IntegrityResult, check_certificate
from certify._interval import interval_jacobian, interval_value_and_jacobian
from certify._interval._matrix import (
    interval_block_bounds,
    interval_lambda_min,
    interval_spectral_norm,
    interval_weighted_lipschitz,
)
from certify._matrix_free import (
    certify_matrix_free,
    matrix_free_block_bounds,
    matrix_free_region_bounds,
    matrix_free_weighted_lipschitz,
)
from certify._mirror import certify_mirror
from certify._optimize import WEIGHT_METHODS, WeightResult, classify_status, optimize_block_weights
from certify._pipeline import MARGIN_TOL, certify
from certify._plots import plot_band, plot_decay, plot_phase
from certify._sweep import (
    RegionMap,
    SweepResult,
    certify_region_grid,
    make_mesh,
    sampled_block_bounds_sharded,
    sweep_games,
    sweep_parameter,
)
from certify._verify import VerifyReport, verify
from certify._weights_large import AutoWeightResult, optimize_block_weights_auto
from certify.bounds._sound import (
    RefineRecord,
    interval_jacobian_grid,
    lipschitz_padded_bounds,
    refine_block_bounds,
    sound_block_bounds,
)

__all__ = [
    "BOUND_KINDS",
    "BOUND_METHODS",
    "CERTIFIED",
    "INVALID",
    "MARGIN_TOL",
    "NOT_CERTIFIED",
    "SCHEMA_VERSION",
    "WEIGHT_METHODS",
    "AutoWeightResult",
    "Basin",
    "BlockBounds",
    "Certificate",
    "IntegrityResult",
    "RefineRecord",
    "RegionMap",
    "SweepResult",
    "VerifyReport",
    "WeightResult",
    "basin_radius",
    "certified_basin",
    "certify",
    "certify_matrix_free",
    "certify_mirror",
    "certify_region_grid",
    "check_certificate",
    "classify_status",
    "estimate_block_bounds",
    "exact_block_bounds",
    "interval_block_bounds",
    "interval_jacobian",
    "interval_jacobian_grid",
    "interval_lambda_min",
    "interval_spectral_norm",
    "interval_value_and_jacobian",
    "interval_weighted_lipschitz",
    "lipschitz_padded_bounds",
    "make_mesh",
    "matrix_free_block_bounds",
    "matrix_free_region_bounds",
    "matrix_free_weighted_lipschitz",
    "nash_check",
    "optimize_block_weights",
    "optimize_block_weights_auto",
    "plot_band",
    "plot_decay",
    "plot_phase",
    "refine_block_bounds",
    "sample_points",
    "sampled_block_bounds",
    "sampled_block_bounds_sharded",
    "sampled_weighted_lipschitz",
    "sound_block_bounds",
    "sweep_games",
    "sweep_parameter",
    "verify",
]
