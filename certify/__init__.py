"""certify: region bounds, the block-weight optimiser, the certification pipeline, CLI and plots.

cvxpy is imported here (weight optimiser); matplotlib only inside the plotting functions.
"""

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
from certify._optimize import WEIGHT_METHODS, WeightResult, classify_status, optimize_block_weights
from certify._pipeline import MARGIN_TOL, certify
from certify._plots import plot_band, plot_decay, plot_phase
from certify._verify import VerifyReport, verify

__all__ = [
    "BOUND_KINDS",
    "BOUND_METHODS",
    "CERTIFIED",
    "INVALID",
    "MARGIN_TOL",
    "NOT_CERTIFIED",
    "SCHEMA_VERSION",
    "WEIGHT_METHODS",
    "BlockBounds",
    "Certificate",
    "IntegrityResult",
    "VerifyReport",
    "WeightResult",
    "certify",
    "check_certificate",
    "classify_status",
    "estimate_block_bounds",
    "exact_block_bounds",
    "optimize_block_weights",
    "plot_band",
    "plot_decay",
    "plot_phase",
    "sample_points",
    "sampled_block_bounds",
    "sampled_weighted_lipschitz",
    "verify",
]
