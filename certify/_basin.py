r"""Certified basins: locate the unique solution, the forward-invariant ball, the Nash check.

Given a certificate with margin :math:`\alpha = \alpha_*(w) > 0` and weighted Lipschitz
constant :math:`\beta = \beta(w)` on a box region :math:`K` (spec-sgn-math §3.3, §6.1):

* **Solution.** :math:`F` is :math:`\alpha`-strongly monotone on :math:`K` in
  :math:`\lVert\cdot\rVert_{M(w)}`, so VI(:math:`K\cap X`, :math:`F`) has exactly one solution.
  We locate it with the certified dynamics themselves, projected Euler
  :math:`T(x) = \Pi_X(x - hF(x))` at the certified best step :math:`h = \alpha/\beta^2`, which
  contracts by :math:`q = \sqrt{1 - 2h\alpha + h^2\beta^2} < 1` per step on :math:`K`. We report the
  natural residual :math:`\lVert x - \Pi_X(x - F(x))\rVert_2` (zero exactly at solutions of
  VI(:math:`X`, :math:`F`)) and the a-posteriori error bound
  :math:`\lVert x - x^*\rVert_M \le \lVert x - T(x)\rVert_M / (1 - q)` (Banach), valid when the
  iterate and :math:`x^*` lie in :math:`K`.
* **Basin.** If :math:`x^* \in K` and the ball :math:`B_M(x^*, \rho) \subseteq K`, the ball is
  forward-invariant for the flow and for projected Euler with :math:`0 < h < 2\alpha/\beta^2`
  (:math:`\lVert x(t) - x^*\rVert_M` is nonincreasing). For a box :math:`[lo, hi]` and the
  block-scalar metric :math:`M(w)` the largest such radius is

  .. math::

     \rho = \min_k \sqrt{w_{p(k)}}\, \min(x^*_k - lo_k,\; hi_k - x^*_k),

  where :math:`p(k)` is the player owning coordinate :math:`k` (the ball reaches
  :math:`\rho/\sqrt{w_{p(k)}}` along coordinate :math:`k`). Global (affine) certificates have
  :math:`\rho = \infty`.
* **Second-order Nash check.** Contraction certifies convergence to a *stable point*, which is a
  Nash equilibrium of the game restricted to :math:`K` when each player's loss is convex in its own
  variables there, i.e. :math:`J_{ii}(x) \succeq 0` — strictly, :math:`\mu_i > 0` — on :math:`K`
  (Mazumdar et al. 2020; Ratliff et al. 2016, "differential Nash"). We read it off the
  certificate's :math:`\mu_i`: with exact or sound bounds, :math:`\mu_i > 0` for all :math:`i`
  *proves* it (``passed``, sound); with sampled bounds it is an estimate (``passed``, not sound).
  Conversely a sampled or exact :math:`\mu_i \le 0` is a witness (a point where :math:`J_{ii}` is
  not positive definite: ``failed``), while a sound lower bound :math:`\mu_i \le 0` proves
  nothing (``unknown``). Because SGN needs every :math:`\mu_i > 0`, a certified status always comes
  with a passed check; the check matters for refused games such as ``non-nash``, whose stable point
  is not a Nash equilibrium. This reading of the spec is ours.

References:
  Mazumdar, Ratliff & Sastry, `On gradient-based learning in continuous games
  <https://arxiv.org/abs/1804.05464>`_, 2020.
  Ratliff, Burden & Sastry, On the characterization of local Nash equilibria in continuous
  games, IEEE TAC 61(8), 2016.
  Facchinei & Pang, *Finite-Dimensional Variational Inequalities and Complementarity
  Problems*, Springer, 2003 (uniqueness under strong monotonicity; natural residual).
"""

from __future__ import annotations

import dataclasses
import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from certify import _json
from certify._certificate import Certificate
from games import Game
from sgn import _checks

NASH_CHECKS = ("passed", "failed", "unknown")


@dataclasses.dataclass(frozen=True)
class Basin:
    r"""The located solution, its certified basin and the second-order Nash check (host, float64).

    Attributes:
      certified: the certificate's status was ``certified`` (otherwise only ``nash_check`` is set).
      solution: the located point as a list, or ``None`` when not certified.
      residual: natural residual :math:`\lVert x - \Pi_X(x - F(x))\rVert_2` at ``solution``.
      error_bound: :math:`\lVert x - T(x)\rVert_M/(1-q)`, a bound on :math:`\lVert x - x^*\rVert_M`.
      radius: largest :math:`\rho` with :math:`B_M(x, \rho) \subseteq K` (``inf`` for global
        certificates, ``nan`` when not certified or the solution left :math:`K`).
      steps: Euler steps taken.
      in_region: the located point lies in the region.
      nash_check: ``"passed"``, ``"failed"`` or ``"unknown"`` (always ``"unknown"`` when the
        located point lies outside the region: the bounds say nothing there).
      nash_sound: the check's verdict is guaranteed (exact/sound bounds, or a sampled witness).
      bounds_kind: kind of the bounds the check rests on.
      notes: sentences explaining the outcome.

    Examples:
      >>> import certify, games
      >>> g = games.get_game("sgn-toy")
      >>> b = certified_basin(certify.certify(g), g)
      >>> b.certified, b.solution, b.radius
      (True, [0.0, 0.0], inf)
    """

    certified: bool
    solution: list | None
    residual: float
    error_bound: float
    radius: float
    steps: int
    in_region: bool
    nash_check: str
    nash_sound: bool
    bounds_kind: str
    notes: tuple = ()

    def to_dict(self) -> dict:
        """JSON-ready dictionary (non-finite floats as ``"nan"``/``"inf"`` strings, as certificates)."""
        d = dataclasses.asdict(self)
        d["notes"] = list(self.notes)
        return _json.encode(d)


@dataclasses.dataclass(frozen=True)
class NashCheck:
    """The second-order Nash check read off a certificate's curvature bounds.

    Attributes:
      verdict: ``"passed"``, ``"failed"`` or ``"unknown"`` (``NASH_CHECKS``).
      sound: the verdict is guaranteed (exact/sound bounds, or a sampled witness).
      note: one sentence explaining it.
    """

    verdict: str
    sound: bool
    note: str


def nash_check(certificate: Certificate) -> NashCheck:
    r"""Second-order Nash check from the certificate's curvature bounds :math:`\mu_i`.

    Returns:
      :class:`NashCheck` (see the module notes for the reading).

    Examples:
      >>> import certify, games
      >>> c = nash_check(certify.certify(games.get_game("sgn-toy")))
      >>> c.verdict, c.sound
      ('passed', True)
    """
    if not isinstance(certificate, Certificate):
        raise TypeError(f"expected a certify.Certificate, got {type(certificate).__name__}")
    mu = np.asarray(certificate.bounds.mu, dtype=np.float64)
    kind = certificate.bounds.kind
    geometry = certificate.settings.geometry
    if geometry != "euclidean":
        return NashCheck("unknown", False, f"the certificate is in the {geometry} geometry; the check "
                         "reads Euclidean Hessian blocks and is not applied")
    if not np.all(np.isfinite(mu)):
        return NashCheck("unknown", False, "curvature bounds are NaN: no check possible")
    if np.all(mu > 0):
        if kind in ("exact", "sound"):
            return NashCheck("passed", True, f"every own-Hessian block J_ii is positive definite on the region "
                             f"(min mu_i = {mu.min():.6g}, {kind} bounds): the stable point is a "
                             "Nash equilibrium of the game restricted to the region")
        return NashCheck("passed", False, f"J_ii looked positive definite at every sample (min mu_i = {mu.min():.6g}); "
                         "sampled bounds: an estimate, not a proof")
    bad = int(np.argmin(mu))
    if kind in ("exact", "sampled"):
        where = "everywhere" if kind == "exact" else "at a sample point of the region"
        return NashCheck("failed", True, f"player {bad + 1}'s own Hessian J_{bad + 1}{bad + 1} has eigenvalue "
                         f"{mu[bad]:.6g} <= 0 {where}: not a strict local minimum of its loss, "
                         "so a stable point there need not be (and for a constant J is not) a Nash "
                         "equilibrium")
    return NashCheck("unknown", False, f"the sound lower bound mu_{bad + 1} = {mu[bad]:.6g} <= 0 may be loose: "
                     "the check is inconclusive")


@functools.lru_cache(maxsize=32)
def _euler_solver(game: Game, n_steps: int):
    project = game.project

    def solve(x0, h, weights_vec, tol):
        def step(x):
            return project(x - h * game.pseudo_gradient(x))

        def cond(c):
            _, k, move = c
            return (k < n_steps) & (move > tol)

        def body(c):
            x, k, _ = c
            nxt = step(x)
            return nxt, k + 1, jnp.linalg.norm(nxt - x)

        x, k, _ = jax.lax.while_loop(cond, body, (x0, jnp.asarray(0), jnp.asarray(jnp.inf, x0.dtype)))
        tx = step(x)
        move_m = jnp.sqrt(jnp.sum(weights_vec * (tx - x) ** 2))
        natural = jnp.linalg.norm(x - project(x - game.pseudo_gradient(x)))
        return x, k, move_m, natural

    return jax.jit(solve)


def basin_radius(solution, lo, hi, weights, dims) -> float:
    r"""Largest :math:`\rho` with :math:`B_{M(w)}(x, \rho) \subseteq [lo, hi]` (``-inf``-free; 0 on the boundary).

    .. math:: \rho = \min_k \sqrt{w_{p(k)}}\,\min(x_k - lo_k, hi_k - x_k)

    Returns ``nan`` when ``x`` lies outside the box.

    Examples:
      >>> basin_radius([0.5, 0.0], [0.0, -1.0], [1.0, 1.0], [1.0, 4.0], (1, 1))  # min(0.5, 2*1)
      0.5
    """
    x = np.asarray(solution, np.float64)
    lo, hi = np.asarray(lo, np.float64), np.asarray(hi, np.float64)
    if x.shape != lo.shape or lo.shape != hi.shape:
        raise ValueError(f"expected solution, lo, hi of one shape, got {x.shape}, {lo.shape}, {hi.shape}")
    if not (np.all(x >= lo) and np.all(x <= hi)):
        return math.nan
    scale = np.repeat(np.sqrt(np.asarray(weights, np.float64)), np.asarray(dims))
    return float(np.min(scale * np.minimum(x - lo, hi - x)))


def certified_basin(certificate: Certificate, game: Game, *, n_steps: int = 100_000, tol: float = 1e-12,
                    x0=None) -> Basin:
    r"""Locates the certified solution, its forward-invariant ball, and reports the Nash check.

    Runs projected Euler at the certified best step from ``x0`` (default: the region's centre,
    projected onto :math:`X`) until a step moves less than ``tol`` (Euclidean) or ``n_steps``
    steps, in float64.

    Args:
      certificate: a :class:`certify.Certificate` issued for ``game``.
      game: the :class:`games.Game` (its fingerprint must match the certificate's).
      n_steps: maximum number of Euler steps.
      tol: stop when :math:`\lVert x_{k+1} - x_k\rVert_2 \le` ``tol``.
      x0: optional ``(dim,)`` start.

    Returns:
      :class:`Basin` (``to_dict()`` is JSON-able).

    Raises:
      TypeError: for a non-certificate or non-game.
      ValueError: for a game that does not match the certificate, bad ``n_steps``/``tol``/``x0``.

    Examples:
      >>> import certify, games
      >>> g = games.get_game("sgn-toy")
      >>> b = certified_basin(certify.certify(g), g)
      >>> b.solution, b.radius, b.nash_check
      ([0.0, 0.0], inf, 'passed')
    """
    if not isinstance(certificate, Certificate):
        raise TypeError(f"expected a certify.Certificate, got {type(certificate).__name__}")
    if not isinstance(game, Game):
        raise TypeError(f"expected a games.Game, got {type(game).__name__}")
    expected = certificate.game.get("fingerprint")
    if expected != game.fingerprint():
        raise ValueError(f"expected the game the certificate was issued for (fingerprint {expected}), "
                         f"got {game.name!r} with fingerprint {game.fingerprint()}")
    _checks.check_int(n_steps, "n_steps", least=1)
    if not (isinstance(tol, int | float) and math.isfinite(tol) and tol >= 0):
        raise ValueError(f"expected a finite tol >= 0, got {tol!r}")
    check = nash_check(certificate)
    verdict, sound, notes = check.verdict, check.sound, [check.note]
    nan = math.nan
    if not certificate.certified or certificate.settings.geometry != "euclidean":
        notes.insert(0, f"not certified ({certificate.status}): no unique solution or basin is claimed"
                     if not certificate.certified else "basins are computed for euclidean certificates only")
        return Basin(False, None, nan, nan, nan, 0, False, verdict, sound, certificate.bounds.kind, tuple(notes))
    region = certificate.region
    lo = hi = None
    if region is not None:
        lo, hi = np.asarray(region["lo"], np.float64), np.asarray(region["hi"], np.float64)
    with jax.enable_x64(True):
        if x0 is None:
            start = np.zeros(game.dim) if region is None else 0.5 * (lo + hi)
        else:
            start = np.asarray(x0, np.float64)
            if start.shape != (game.dim,):
                raise ValueError(f"expected x0 of shape ({game.dim},), got {start.shape}")
        start = game.project(jnp.asarray(start, jnp.float64))
        w = np.asarray(certificate.weights.values, np.float64)
        wvec = jnp.asarray(np.repeat(w, np.asarray(game.dims)))
        solve = _euler_solver(game, int(n_steps))
        h = float(certificate.steps.euler_best_step)
        x, k, move_m, natural = solve(start, jnp.asarray(h, jnp.float64), wvec,
                                      jnp.asarray(float(tol), jnp.float64))
        x = np.asarray(x, np.float64)
    q = float(certificate.steps.euler_factor)
    err = float(move_m) / (1.0 - q) if q < 1 else math.inf
    if region is None:
        radius, inside = math.inf, True
        notes.append("global certificate (affine game): every M-ball around the solution is invariant")
    else:
        radius = basin_radius(x, lo, hi, w, game.dims)
        inside = not math.isnan(radius)
        if inside:
            notes.append(f"the M(w)-ball of radius {radius:.6g} around the solution lies in the region and is "
                         "forward-invariant" + (" (sampled bounds: an estimate)" if certificate.is_estimate
                                                 else ""))
        else:
            verdict, sound = "unknown", False
            notes.append("the dynamics left the region: the located point lies outside it, where the bounds "
                         "do not hold; no basin is claimed and the Nash check does not apply there")
    if int(k) >= n_steps:
        notes.append(f"stopped after n_steps = {n_steps} steps before the step length fell below tol")
    return Basin(True, x.tolist(), float(natural), err, radius, int(k), inside, verdict, sound,
                 certificate.bounds.kind, tuple(notes))
