r"""Empirical check of a certificate: pairs of projected-Euler trajectories at the certified step.

For pairs :math:`(x_0, y_0)` drawn from the region, run :math:`x_{k+1} = \Pi_X(x_k - hF(x_k))`
at :math:`h = h^* = \alpha/\beta^2` and record the per-step ratios
:math:`\lVert x_{k+1} - y_{k+1}\rVert_M / \lVert x_k - y_k\rVert_M`. A valid certificate makes
every ratio at most :math:`q_E(h^*)` while both iterates stay in the region (spec §6.1).
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

import sgn
from certify import _status
from certify._certificate import Certificate
from certify._status import Status
from games import Game, Region
from games._registry import check_memory
from sgn import _checks

RATIO_TOL = 1e-9
"""Float slack on the observed per-step ratio (relative)."""


@dataclasses.dataclass(frozen=True)
class VerifyReport:
    """Outcome of :func:`verify`.

    Attributes:
      status: :class:`certify.Status` ``consistent`` when every observed ratio is at most
        ``certified_factor * (1 + RATIO_TOL)``, else ``inconsistent`` (``ok`` says the same as a bool).
      worst_ratio: largest observed per-step contraction ratio in the W-norm.
      certified_factor: the certificate's Euler factor at the step used.
      step: the step size simulated.
      n_pairs: number of trajectory pairs.
      n_steps: steps per trajectory.
      n_ratios: number of per-step ratios that entered the check.

    Examples:
      >>> import certify, games
      >>> g = games.get_game("sgn-toy")
      >>> r = verify(certify.certify(g), g, n_pairs=4, n_steps=20)
      >>> r.ok, r.n_pairs, r.worst_ratio <= r.certified_factor
      (True, 4, True)
    """

    status: Status
    worst_ratio: float
    certified_factor: float
    step: float
    n_pairs: int
    n_steps: int
    n_ratios: int

    def __post_init__(self):
        object.__setattr__(self, "status", _status.coerce(self.status, _status.CHECK, "verify"))

    @property
    def ok(self) -> bool:
        """True when the simulation is consistent with the certificate."""
        return self.status == Status.CONSISTENT


def verify(certificate: Certificate, game: Game, *, n_pairs: int = 32, n_steps: int = 100,
           seed: int = 0) -> VerifyReport:
    """Simulates pairs of trajectories at the certified step and checks the contraction factor.

    Args:
      certificate: a certified :class:`Certificate` for ``game``.
      game: the game.
      n_pairs: trajectory pairs.
      n_steps: projected-Euler steps per trajectory.
      seed: seed for the starting points.

    Returns:
      :class:`VerifyReport`.

    Raises:
      ValueError: if the certificate is not certified or is for another game.

    Examples:
      >>> import certify, games
      >>> g = games.get_game("cyclic3")
      >>> verify(certify.certify(g), g, n_pairs=4, n_steps=20).ok
      True
    """
    if not certificate.certified:
        raise ValueError(f"expected a certified certificate, got status {certificate.status!r}")
    if certificate.game.get("fingerprint") != game.fingerprint():
        raise ValueError(
            f"expected the certificate's game (fingerprint {certificate.game.get('fingerprint')}),"
            f" got {game.name!r} with fingerprint {game.fingerprint()}"
        )
    if certificate.settings.geometry != "euclidean":
        raise ValueError(f"expected a Euclidean-geometry certificate, got {certificate.settings.geometry!r}")
    for value, name in ((n_pairs, "n_pairs"), (n_steps, "n_steps")):
        _checks.check_int(value, name, least=1)
    # Two trajectories per pair, each (n_steps + 1) x dim float64, with a few copies.
    check_memory(48.0 * n_pairs * (n_steps + 1) * game.dim,
                 f"{n_pairs} trajectory pairs x {n_steps} steps in dimension {game.dim}")
    with jax.enable_x64(True):
        return _verify(certificate, game, n_pairs, n_steps, seed)


def _verify(cert, game, n_pairs, n_steps, seed):
    region = Region.from_dict(cert.region) if cert.region else Region.around(np.zeros(game.dim), 1.0)
    h = float(cert.steps.euler_best_step)
    q = float(sgn.euler_contraction_factor(h, cert.margin, cert.bounds.weighted_lipschitz))
    rng = np.random.default_rng(seed)
    starts = region.lo + rng.random((2 * n_pairs, game.dim)) * (region.hi - region.lo)
    starts = np.asarray(jax.vmap(game.project)(jnp.asarray(starts)))
    traj = jax.vmap(lambda x0: sgn.projected_euler(game.pseudo_gradient, x0, step=h,
                                                   n_steps=n_steps, project=game.project))
    paths = np.asarray(traj(jnp.asarray(starts)))  # (2P, n_steps + 1, dim)
    x, y = paths[:n_pairs], paths[n_pairs:]
    scale = np.repeat(np.sqrt(np.asarray(cert.weights.values)), game.dims)
    dist = np.linalg.norm((x - y) * scale, axis=-1)  # (P, n_steps + 1)
    inside = np.all((paths >= region.lo - 1e-12) & (paths <= region.hi + 1e-12), axis=-1)
    inside = inside[:n_pairs] & inside[n_pairs:]
    valid = inside[:, :-1] & inside[:, 1:] & (dist[:, :-1] > 1e-9 * dist[:, :1])
    if cert.region is None:
        valid = dist[:, :-1] > 1e-9 * dist[:, :1]
    ratios = np.where(valid, dist[:, 1:] / np.where(valid, dist[:, :-1], 1.0), 0.0)
    worst = float(ratios.max()) if valid.any() else 0.0
    ok = bool(worst <= q * (1 + RATIO_TOL))
    return VerifyReport(status=Status.CONSISTENT if ok else Status.INCONSISTENT, worst_ratio=worst,
                        certified_factor=q, step=h, n_pairs=n_pairs, n_steps=n_steps,
                        n_ratios=int(valid.sum()))
