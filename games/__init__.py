"""games: game definitions (the Game type, strategy sets, constructors, a registry of examples)."""

from games._constructors import (
    bilinear,
    bimatrix,
    from_losses,
    from_pseudo_gradient,
    polymatrix,
    quadratic,
)
from games._game import Game
from games._region import Region
from games._registry import (
    game_description,
    game_names,
    game_parameters,
    get_game,
    lq_coupling_matrix,
    register,
)
from games._sets import Ball, Box, Simplex, StrategySet, Unconstrained

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
]
