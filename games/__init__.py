"""games: game definitions (the Game type, strategy sets, constructors, a registry of examples).

The first use of a name of ``games`` (other than ``tabular``) imports every module and so registers
every example: the quadratic and nonlinear games of the paper and the differentiable-games
literature, entropy-regularised matrix and Markov games (:mod:`games.tabular`), network games with
many players, and neural-network players. ``import games`` itself loads only :mod:`games.tabular`,
without JAX (imported at the first use of JAX data), so that a fresh process solving a small game on
NumPy data stays light. :func:`load_game` builds a game from a reference: a registered name, a ``.py`` file or
``module:factory``, or a declarative ``.toml`` / ``.json`` file (schema in ``games._files``).
"""

from games import tabular as tabular
from sgn._lazy import lazy_exports as _lazy_exports

_EXPORTS = {
    "bilinear": "games._constructors",
    "bimatrix": "games._constructors",
    "from_losses": "games._constructors",
    "from_pseudo_gradient": "games._constructors",
    "polymatrix": "games._constructors",
    "quadratic": "games._constructors",
    "load_game": "games._files",
    "rebuild_game": "games._files",
    "Game": "games._game",
    "TabularGame": "games._markov",
    "markov_game": "games._markov",
    "matrix_game": "games._matrix",
    "erdos_renyi_game": "games._networks",
    "grid_game": "games._networks",
    "network_bounds": "games._networks",
    "network_game": "games._networks",
    "ring_game": "games._networks",
    "from_pytree_losses": "games._neural",
    "neural_duel": "games._neural",
    "non_nash": "games._neural",
    "from_openspiel": "games._openspiel",
    "Region": "games._region",
    "game_description": "games._registry",
    "game_names": "games._registry",
    "game_parameters": "games._registry",
    "get_game": "games._registry",
    "lq_coupling_matrix": "games._registry",
    "register": "games._registry",
    "Ball": "games._sets",
    "Box": "games._sets",
    "Simplex": "games._sets",
    "StrategySet": "games._sets",
    "Unconstrained": "games._sets",
}
"""Public name -> the module that defines it."""
__getattr__, __dir__ = _lazy_exports(__name__, _EXPORTS, together=True)

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
