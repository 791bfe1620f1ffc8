"""sgn: Small-Gain Nash certificate math (margins, weights, timescale band, steps, dynamics).

Pure JAX/NumPy; no solver or plotting dependencies. See ``certify`` for the pipeline.
"""

from sgn._band import margin_at_ratio, timescale_band
from sgn._dynamics import extragradient, optimistic_gradient, projected_euler, projected_rk4
from sgn._large import (
    PerronBracket,
    collatz_wielandt_bounds,
    noda_perron,
    perron_weights_jax,
    sparse_comparison_matrix,
    sparse_small_gain_margin,
)
from sgn._margin import (
    comparison_matrix,
    euclidean_margin,
    gain_matrix,
    sgn_matrix,
    small_gain_margin,
    small_gain_ratio,
    weighted_margin,
)
from sgn._optax import certified_sgd
from sgn._steps import (
    RK4_GUIDELINE_CONSTANT,
    block_lipschitz_bound,
    euler_best_step,
    euler_contraction_factor,
    euler_step_bound,
    linear_stability_limit,
    linear_step_norm,
    rk4_contraction_factor,
    rk4_step_bound,
    rk4_step_guideline,
    ttur_step_bound,
    weighted_lipschitz,
)
from sgn._weights import PERRON_TOL, PerronWeights, perron_value, perron_weights

__all__ = [
    "PERRON_TOL",
    "PerronBracket",
    "collatz_wielandt_bounds",
    "noda_perron",
    "perron_weights_jax",
    "sparse_comparison_matrix",
    "sparse_small_gain_margin",
    "RK4_GUIDELINE_CONSTANT",
    "block_lipschitz_bound",
    "certified_sgd",
    "comparison_matrix",
    "euclidean_margin",
    "euler_best_step",
    "euler_contraction_factor",
    "euler_step_bound",
    "extragradient",
    "gain_matrix",
    "linear_stability_limit",
    "linear_step_norm",
    "margin_at_ratio",
    "PerronWeights",
    "perron_weights",
    "optimistic_gradient",
    "perron_value",
    "projected_euler",
    "projected_rk4",
    "rk4_contraction_factor",
    "rk4_step_bound",
    "rk4_step_guideline",
    "sgn_matrix",
    "small_gain_margin",
    "small_gain_ratio",
    "timescale_band",
    "ttur_step_bound",
    "weighted_lipschitz",
    "weighted_margin",
]
