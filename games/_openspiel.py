r"""Import normal-form games from OpenSpiel (``pyspiel``) as entropy-regularised matrix games.

A normal-form (or matrix) game loaded with ``pyspiel.load_game`` exposes one payoff per player for
every pure profile; :func:`from_openspiel` reads them into ``N`` payoff tensors of shape
``(n_1, ..., n_N)`` and builds :func:`games.matrix_game` with temperature :math:`\tau`. ``pyspiel``
is an optional dependency (``pip install sgn[openspiel]``) imported only when called.

References:
  Lanctot et al., `OpenSpiel: A Framework for Reinforcement Learning in Games
  <https://arxiv.org/abs/1908.09453>`_, 2019.
"""

from __future__ import annotations

import itertools

import numpy as np

from games._game import Game
from games._matrix import matrix_game


def from_openspiel(game, *, tau: float = 0.0) -> Game:
    r"""A :class:`games.Game` from an OpenSpiel normal-form game.

    Args:
      game: a ``pyspiel.Game`` of type normal-form / matrix (or its short name, e.g.
        ``"matrix_rps"``, loaded with ``pyspiel.load_game``).
      tau: entropy temperature :math:`\tau \ge 0`.

    Returns:
      The :func:`games.matrix_game` with the game's payoffs (``data["payoffs"]``).

    Raises:
      ImportError: when ``pyspiel`` is not installed.
      ValueError: when the game is not a one-shot simultaneous-move game.

    Examples:
      >>> g = from_openspiel("matrix_rps", tau=0.5)  # needs the ``openspiel`` extra
      >>> g.name, g.dims, g.data["payoffs"][0].tolist()
      ('matrix_rps', (3, 3), [[0.0, -1.0, 1.0], [1.0, 0.0, -1.0], [-1.0, 1.0, 0.0]])
    """
    try:
        import pyspiel
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError("from_openspiel needs OpenSpiel: pip install 'sgn[openspiel]'") from err
    if isinstance(game, str):
        game = pyspiel.load_game(game)
    state = game.new_initial_state()
    if not state.is_simultaneous_node():
        raise ValueError(f"expected a normal-form game (one simultaneous move), got "
                         f"{game.get_type().short_name!r}")
    n_players = game.num_players()
    actions = [state.legal_actions(p) for p in range(n_players)]
    payoffs = np.zeros((n_players, *[len(a) for a in actions]))
    for idx in itertools.product(*[range(len(a)) for a in actions]):
        s = game.new_initial_state()
        s.apply_actions([actions[p][k] for p, k in enumerate(idx)])
        if not s.is_terminal():
            raise ValueError(f"expected a normal-form game (terminal after one move), got "
                             f"{game.get_type().short_name!r}")
        payoffs[(slice(None), *idx)] = s.returns()
    name = game.get_type().short_name
    if n_players == 2:
        return matrix_game(payoffs[0], payoffs[1], tau=tau, name=name)
    return matrix_game(list(payoffs), tau=tau, name=name)
