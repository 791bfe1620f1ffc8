"""Public names of the tabular games (matrix, Markov, OpenSpiel import), re-exported by ``games``.

Importing this module registers the tabular registry entries (``matching-pennies-qre``, ``rps-qre``,
``biased-rps``, ``shapley``, ``battle-of-sexes``, ``coordination``, ``markov-coop``,
``markov-zerosum``).
"""

from games._markov import TabularGame, markov_game  # noqa: F401 (re-exported)
from games._matrix import matrix_game  # noqa: F401 (re-exported)
from games._openspiel import from_openspiel  # noqa: F401 (re-exported)

TABULAR_API = ["TabularGame", "from_openspiel", "markov_game", "matrix_game"]

__all__ = TABULAR_API
