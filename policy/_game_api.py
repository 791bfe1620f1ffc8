"""Public names of the tabular-game learners, measures, QRE solvers and curriculum (``policy``)."""

from policy._curriculum import plot_curriculum, temperature_curriculum, with_temperature  # noqa: F401
from policy._learners import (  # noqa: F401
    LEARNERS,
    Learner,
    LearnerState,
    extragradient,
    make_learner,
    multiplicative_weights,
    npg,
    optimistic_mwu,
    run_learner,
    softmax_pg,
)
from policy._measures import (  # noqa: F401
    categorical_kl,
    exploitability,
    game_nash_conv,
    kl_to_qre,
    l1_to_qre,
    log_ratio_error,
    regularised_gap,
    regularised_values,
)
from policy._qre import QREResult, qre_path, solve_qre  # noqa: F401

GAME_API = [
    "LEARNERS",
    "Learner",
    "LearnerState",
    "QREResult",
    "categorical_kl",
    "exploitability",
    "extragradient",
    "game_nash_conv",
    "kl_to_qre",
    "l1_to_qre",
    "log_ratio_error",
    "make_learner",
    "multiplicative_weights",
    "npg",
    "optimistic_mwu",
    "plot_curriculum",
    "qre_path",
    "regularised_gap",
    "regularised_values",
    "run_learner",
    "softmax_pg",
    "solve_qre",
    "temperature_curriculum",
    "with_temperature",
]
