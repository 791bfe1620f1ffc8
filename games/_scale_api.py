"""Scale-related game families (network games with many players); importing registers them.

The network games are polymatrix-style: scalar players coupled along ring, grid or
Erdős–Rényi edges, :math:`F(x) = (\\operatorname{diag}(\\mu) + C)x` (see :mod:`games._networks`).
"""

from games._networks import erdos_renyi_game, grid_game, network_bounds, network_game, ring_game

SCALE_API = ["erdos_renyi_game", "grid_game", "network_bounds", "network_game", "ring_game"]

__all__ = ["SCALE_API", "erdos_renyi_game", "grid_game", "network_bounds", "network_game", "ring_game"]
