"""Public names of :mod:`games._neural` (networks as players, the non-Nash example).

Importing this module registers the ``neural-duel`` and ``non-nash`` games.
"""

from games._neural import from_pytree_losses, neural_duel, non_nash

__all__ = ["from_pytree_losses", "neural_duel", "non_nash"]
NEURAL_API = list(__all__)
