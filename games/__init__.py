"""games: game definitions (the Game type, strategy sets, constructors, a registry of examples).

Importing ``games`` registers every example: the quadratic and nonlinear games of the paper and
the differentiable-games literature, entropy-regularised matrix and Markov games, network games
with many players, and neural-network players.
"""

from games._constructors import (
    bilinear,
    bimatrix,
    from_losses,
    from_pseudo_gradient,
    polymatrix,
    quadratic,
)
from games._game import Game
from games._neural_api import *  # noqa: F403  (registers neural-duel, non-nash)
from games._neural_api import NEURAL_API
from games._region import Region
from games._registry import (
    game_description,
    game_names,
    game_parameters,
    get_game,
    lq_coupling_matrix,
    register,
)
from games._scale_api import *  # noqa: F403  (registers ring, grid, erdos-renyi)
from games._scale_api import SCALE_API
from games._sets import Ball, Box, Simplex, StrategySet, Unconstrained
from games._tabular_api import *  # noqa: F403  (registers the tabular games)
from games._tabular_api import TABULAR_API

__all__ = [
    "Ball",
    "Box",
    "Game",
    "Region",
    "Simplex",
    "StrategySet",
    "Unconstrained",
    "bilinear",
    "bimatrix",
    "from_losses",
    "from_pseudo_gradient",
    "game_description",
    "game_names",
    "game_parameters",
    "get_game",
    "lq_coupling_matrix",
    "polymatrix",
    "quadratic",
    "register",
    *NEURAL_API,
    *SCALE_API,
    *TABULAR_API,
]
