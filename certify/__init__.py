"""certify: region bounds, block weights and the certificate of a game; sweeps, plots and the CLI.

* :func:`certify` — bounds on a region -> weights -> margin -> step sizes -> :class:`Certificate`
  (status :class:`Status`), in the game's geometry (Euclidean, mirror/KL or Fisher);
* :mod:`certify.bounds` — the bound methods (exact, sampled, interval, padded, refine,
  matrix-free) and their engines;
* :func:`optimize_block_weights` — the Perron closed form beside cvxpy SDP / LP;
* :func:`check_certificate`, :func:`verify`, :func:`certified_basin` — integrity, simulation and
  the certified basin of a certificate;
* :func:`sweep_parameter`, :func:`sweep_games`, :func:`certify_region_grid` — batched,
  sharded certification maps; :mod:`certify.plots`; the ``sgn`` command line (:mod:`certify.cli`).

cvxpy is imported only when an SDP or LP is solved; matplotlib only when a plot is drawn.

Examples:
  >>> import games
  >>> c = certify(games.get_game("sgn-toy"))
  >>> c.status, round(c.margin, 6), c.band is not None
  (<Status.CERTIFIED: 'certified'>, 0.292893, True)
"""

from certify import _shadowing as _shadowing  # first: checks that a user's games.py does not replace ours
from certify import bounds as bounds
from certify import plots as plots
from certify._assemble import MARGIN_TOL as MARGIN_TOL
from certify._basin import Basin as Basin
from certify._basin import basin_radius as basin_radius
from certify._basin import certified_basin as certified_basin
from certify._certificate import Certificate as Certificate
from certify._certificate import Status as Status
from certify._integrity import IntegrityResult as IntegrityResult
from certify._integrity import check_certificate as check_certificate
from certify._pipeline import certify as certify
from certify._verify import VerifyReport as VerifyReport
from certify._verify import verify as verify
from certify._weights import WeightResult as WeightResult
from certify._weights import optimize_block_weights as optimize_block_weights
from certify.sweep import RegionMap as RegionMap
from certify.sweep import SweepResult as SweepResult
from certify.sweep import certify_region_grid as certify_region_grid
from certify.sweep import sweep_games as sweep_games
from certify.sweep import sweep_parameter as sweep_parameter

__all__ = [
    "MARGIN_TOL",
    "Basin",
    "Certificate",
    "IntegrityResult",
    "RegionMap",
    "Status",
    "SweepResult",
    "VerifyReport",
    "WeightResult",
    "basin_radius",
    "bounds",
    "certified_basin",
    "certify",
    "certify_region_grid",
    "check_certificate",
    "optimize_block_weights",
    "plots",
    "sweep_games",
    "sweep_parameter",
    "verify",
]
