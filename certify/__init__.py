"""certify: region bounds, block weights and the certificate of a game; sweeps, plots and the CLI.

* :func:`certify` — bounds on a region -> weights -> margin -> step sizes -> :class:`Certificate`
  (status :class:`Status`, the one outcome vocabulary of every result), in the game's geometry
  (Euclidean, mirror/KL or Fisher);
* :mod:`certify.bounds` — the bound methods (exact, sampled, interval, padded, refine,
  matrix-free) and their engines;
* :func:`optimize_block_weights` — the Perron closed form beside cvxpy SDP / LP;
* :func:`check_certificate`, :func:`verify`, :func:`certified_basin` — integrity, simulation and
  the certified basin of a certificate;
* :func:`sweep_parameter`, :func:`sweep_games`, :func:`certify_region_grid` — batched,
  sharded certification maps; :mod:`certify.plots`; the ``sgn`` command line (:mod:`certify.cli`).

Each public name is loaded on first use (PEP 562 module ``__getattr__``), so ``import certify``
is cheap and a command pays only for what it runs: the pipeline does not load the sweeps, plots
or integrity checks, cvxpy is imported only when an SDP or LP is solved, matplotlib only when a
plot is drawn.

Examples:
  >>> import certify, games
  >>> c = certify.certify(games.get_game("sgn-toy"))
  >>> c.status, round(c.margin, 6), c.weights.band is not None
  (<Status.CERTIFIED: 'certified'>, 0.292893, True)
"""

from certify import _shadowing as _shadowing  # first: checks that a user's games.py does not replace ours
from sgn._lazy import lazy_exports as _lazy_exports

_EXPORTS = {
    "MARGIN_TOL": "certify._decision",
    "Basin": "certify._basin",
    "basin_radius": "certify._basin",
    "certified_basin": "certify._basin",
    "Certificate": "certify._certificate",
    "Status": "certify._status",
    "IntegrityResult": "certify._integrity",
    "check_certificate": "certify._integrity",
    "certify": "certify._pipeline",
    "VerifyReport": "certify._verify",
    "verify": "certify._verify",
    "WeightResult": "certify._weights",
    "optimize_block_weights": "certify._weights",
    "RegionMap": "certify.sweep",
    "SweepResult": "certify.sweep",
    "certify_region_grid": "certify.sweep",
    "sweep_games": "certify.sweep",
    "sweep_parameter": "certify.sweep",
}
"""Public name -> the module that defines it."""
_SUBMODULES = ("bounds", "plots")

__all__ = sorted([*_EXPORTS, *_SUBMODULES])


__getattr__, __dir__ = _lazy_exports(__name__, {**_EXPORTS, **{m: f"certify.{m}" for m in _SUBMODULES}})
