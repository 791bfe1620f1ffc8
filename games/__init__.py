"""games: game definitions (the Game type, strategy sets, constructors, a registry of examples).

Importing ``games`` registers every example: the quadratic and nonlinear games of the paper and
the differentiable-games literature, entropy-regularised matrix and Markov games
(:mod:`games.tabular`), network games with many players, and neural-network players.
:func:`load_game` builds a game from a reference: a registered name, a ``.py`` file or
``module:factory``, or a declarative ``.toml`` / ``.json`` file (schema in ``games._files``).
"""

from games import tabular as tabular
from games._constructors import bilinear as bilinear
from games._constructors import bimatrix as bimatrix
from games._constructors import from_losses as from_losses
from games._constructors import from_pseudo_gradient as from_pseudo_gradient
from games._constructors import polymatrix as polymatrix
from games._constructors import quadratic as quadratic
from games._files import load_game as load_game
from games._files import rebuild_game as rebuild_game
from games._game import Game as Game
from games._markov import TabularGame as TabularGame
from games._markov import markov_game as markov_game
from games._matrix import matrix_game as matrix_game
from games._networks import erdos_renyi_game as erdos_renyi_game
from games._networks import grid_game as grid_game
from games._networks import network_bounds as network_bounds
from games._networks import network_game as network_game
from games._networks import ring_game as ring_game
from games._neural import from_pytree_losses as from_pytree_losses
from games._neural import neural_duel as neural_duel
from games._neural import non_nash as non_nash
from games._openspiel import from_openspiel as from_openspiel
from games._region import Region as Region
from games._registry import game_description as game_description
from games._registry import game_names as game_names
from games._registry import game_parameters as game_parameters
from games._registry import get_game as get_game
from games._registry import lq_coupling_matrix as lq_coupling_matrix
from games._registry import register as register
from games._sets import Ball as Ball
from games._sets import Box as Box
from games._sets import Simplex as Simplex
from games._sets import StrategySet as StrategySet
from games._sets import Unconstrained as Unconstrained

__all__ = [
    "Ball",
    "Box",
    "Game",
    "Region",
    "Simplex",
    "StrategySet",
    "TabularGame",
    "Unconstrained",
    "bilinear",
    "bimatrix",
    "erdos_renyi_game",
    "from_losses",
    "from_openspiel",
    "from_pseudo_gradient",
    "from_pytree_losses",
    "game_description",
    "game_names",
    "game_parameters",
    "get_game",
    "grid_game",
    "load_game",
    "lq_coupling_matrix",
    "markov_game",
    "matrix_game",
    "network_bounds",
    "network_game",
    "neural_duel",
    "non_nash",
    "polymatrix",
    "quadratic",
    "rebuild_game",
    "register",
    "ring_game",
    "tabular",
]
