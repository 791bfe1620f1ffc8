"""The two-player normal-form QRE branch on the host (games/_logit_nf.py) against second methods."""

import numpy as np
import pytest
from scipy.optimize import fsolve

from games import _logit_nf
from games._markov_solve import stationary_point
from games.tabular import bimatrix_nash, tabular_from_matrix
from policy.tabular import qre_path, solve_qre


def _probs(z):
    e = np.exp(z - z.max())
    return e / e.sum()


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("lam", [0.5, 3.0, 30.0])
def test_zero_sum_qre_equals_the_generic_solver(seed, lam):
    # A zero-sum game has exactly one QRE at every precision (the regularised game is strongly
    # monotone), so the principal branch and the generic solver (extragradient + Newton, started
    # from explicit uniform logits, which bypasses the fast path) must agree.
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(int(rng.integers(2, 7)), int(rng.integers(2, 7))))
    tg = tabular_from_matrix([a, -a], tau=1.0 / lam)
    fast = solve_qre(tg)
    generic = stationary_point(tg, [np.zeros((1, a.shape[0])), np.zeros((1, a.shape[1]))])
    assert bool(fast.converged)
    assert bool(generic.converged)
    for zf, zg in zip(fast.logits, generic.logits, strict=True):
        np.testing.assert_allclose(_probs(zf[0]), _probs(zg[0]), atol=1e-11)


def test_general_sum_qre_solves_the_logit_equations():
    # Second method: scipy's fsolve on the logit equations in probability coordinates, started at
    # our answer's neighbourhood (x0 perturbed by 1e-3); both must describe the same point.
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(5, 4)), rng.normal(size=(5, 4))
    lam = 4.0
    res = solve_qre(tabular_from_matrix([a, b], tau=1.0 / lam))
    x, y = _probs(res.logits[0][0]), _probs(res.logits[1][0])

    def eq(v):
        p, q = v[:5], v[5:]
        return np.concatenate([p - _probs(lam * a @ q), q - _probs(lam * b.T @ p)])

    ref = fsolve(eq, np.concatenate([x, y]) + 1e-3, xtol=1e-14)
    assert np.max(np.abs(eq(ref))) < 1e-12
    np.testing.assert_allclose(np.concatenate([x, y]), ref, atol=1e-10)


def test_the_path_end_is_converged_at_a_completely_mixed_nash_equilibrium():
    # The 3x3 game below has the unique Nash equilibrium p* = q* = (1/3, 1/3, 1/3): a rock-paper-
    # scissors with asymmetric stakes; by hand, the rows of A and the columns of B sum to 0, so
    # A q* = 0 and B^T p* = 0 (both players indifferent); bimatrix_nash confirms it is the only one.
    # At tau = 1e-8 the QRE lies within O(tau) of it, and its residual is at the rounding floor.
    a = np.array([[0.0, -1.0, 1.0], [1.0, 0.0, -1.0], [-1.0, 1.0, 0.0]])
    b = np.array([[0.0, 2.0, -2.0], [-2.0, 0.0, 2.0], [2.0, -2.0, 0.0]])
    eqs = bimatrix_nash(a, b)
    assert len(eqs) == 1
    np.testing.assert_allclose(eqs[0][0], np.full(3, 1 / 3), atol=1e-12)
    path = qre_path(tabular_from_matrix([a, b], tau=1.0), np.geomspace(10.0, 1e-8, 10))
    assert path.converged.all(), path.residual
    np.testing.assert_allclose(_probs(path.logits[0][-1, 0]), np.full(3, 1 / 3), atol=1e-7)
    np.testing.assert_allclose(_probs(path.logits[1][-1, 0]), np.full(3, 1 / 3), atol=1e-7)


def test_the_path_to_a_pure_equilibrium_keeps_full_precision():
    # Prisoner's dilemma (defect dominant for both): the QRE at tau = 1e-8 puts exp(-1/tau) ~ 0 on
    # cooperation. Logits centred by their mean would be of size 1e8 and carry ~8 digits; the
    # residual must reach the rounding floor anyway.
    a = np.array([[3.0, 0.0], [5.0, 1.0]])
    path = qre_path(tabular_from_matrix([a, a.T], tau=1.0), np.geomspace(10.0, 1e-8, 5))
    assert path.converged.all(), path.residual
    assert float(path.residual[-1]) < 1e-14
    assert _probs(path.logits[0][-1, 0])[1] == 1.0


def test_principal_branch_first_and_last_crossings_are_qres():
    # Both crossing rules return points that satisfy the logit equations (checked directly).
    rng = np.random.default_rng(18)
    a, b = rng.normal(size=(6, 8)), rng.normal(size=(6, 8))
    lams = np.array([0.5, 1.8, 2.0, 50.0])
    for first in (True, False):
        br = _logit_nf.principal_branch(a, b, lams, first=first)
        for k, lam in enumerate(lams):
            p, q = _probs(br.logits[0][k]), _probs(br.logits[1][k])
            assert np.max(np.abs(p - _probs(lam * a @ q))) < 1e-12
            assert np.max(np.abs(q - _probs(lam * b.T @ p))) < 1e-12
            assert br.residual[k] < 1e-13


def test_a_game_that_is_not_two_player_normal_form_takes_the_generic_route():
    three = [np.zeros((2, 2, 2))] * 3
    assert not _logit_nf.is_bimatrix(tabular_from_matrix(three, tau=1.0))
    assert _logit_nf.is_bimatrix(tabular_from_matrix([np.eye(2), np.eye(2)], tau=1.0))


def test_the_path_of_a_random_game_is_converged_down_to_tau_1e_8():
    # Found with the generic route: on this 6x6 game its residual stalled at 4e-9 for tau <= 1e-4
    # (mean-centred logits of size 1/tau keep ~8 digits) and every point was reported not converged.
    # The branch's end must also be a Nash equilibrium: within O(tau) of one that vertex
    # enumeration (bimatrix_nash, a second method) finds.
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(2, 6, 6))
    path = qre_path(tabular_from_matrix([a, b], tau=1.0), np.geomspace(10.0, 1e-8, 10))
    assert path.converged.all(), path.residual
    p, q = _probs(path.logits[0][-1, 0]), _probs(path.logits[1][-1, 0])
    gaps = [max(np.max(np.abs(p - x)), np.max(np.abs(q - y))) for x, y in bimatrix_nash(a, b)]
    assert min(gaps) < 1e-6, gaps


@pytest.mark.parametrize("discounted", [0.0, 1.0])
def test_the_bimatrix_residual_is_the_tabular_residual(discounted):
    # The fast path judges its points by Bimatrix.residual; it must be the residual of
    # games._markov.residual_in (the generic payoffs, either entropy mode) on normal-form games.
    from games._markov import residual_in

    rng = np.random.default_rng(4)
    a, b = rng.normal(size=(2, 3, 5))
    tg = tabular_from_matrix([a, b], tau=0.3)._replace(discounted_entropy=np.asarray(discounted))
    game = _logit_nf.Bimatrix(a, b)
    for _ in range(5):
        za, zb = rng.normal(size=3) * 4, rng.normal(size=5) * 4
        assert game.residual(0.3, za, zb) == pytest.approx(float(residual_in(np, tg, [za[None], zb[None]])), rel=1e-13)


# Two degenerate integer games (random entries in -3..3) on which the branch nears an equilibrium
# whose strategies tie: past lambda = 1e6 the trace's payoffs are too coarse for Newton to land at
# lambda = 1e8 (on the first the trace stalls at 4.7e7, on the second it crosses 1e8), and the
# path's last point was reported not converged (residual 3.2 and 4e-6). Newton from the logits
# landed on at lambda = 1e7 converges.
DEGENERATE = {
    "6x9": (np.array([[0, -2, -3, 3, 3, 0, 1, -2, -1], [-1, 3, 3, -3, 1, 1, -1, 1, -1],
                      [3, 1, 2, 3, 1, 2, 0, -1, 1], [0, 2, -3, -3, 3, 0, 1, 1, -2],
                      [3, -1, -1, 3, 1, 1, 3, -1, -2], [2, -3, 1, -3, -1, -1, -1, 3, -1]]),
            np.array([[0, -3, -2, 3, 2, 1, -3, 1, 0], [3, -2, 3, 1, 2, 1, -3, 2, -1],
                      [-3, 3, 2, 0, 0, 0, -1, 0, 1], [-3, 0, 2, -2, -2, 1, -3, 0, 2],
                      [0, -3, 3, -2, -1, 3, 0, 2, 2], [1, 2, 3, -1, 2, 3, -1, -3, -3]])),
    "6x8": (np.array([[-1, 0, 0, -3, -3, -2, 1, -3], [3, 3, -3, 0, 2, -1, -2, -3],
                      [-1, 3, 2, -3, 0, 3, -3, 1], [3, 0, -2, 3, 3, 3, -3, -2],
                      [1, -1, 1, 1, -1, 1, 0, -3], [-3, 2, 0, 1, 2, 3, -1, 1]]),
            np.array([[-2, 0, 2, 2, 2, 2, 1, -1], [0, -3, -2, 2, 3, 2, 3, 0],
                      [2, 0, -3, -2, -2, -2, -1, 1], [-2, 2, -2, -3, -3, 0, 0, 0],
                      [1, 0, 3, -2, 0, 0, -3, 1], [3, -3, -1, 0, 0, 1, -3, 0]])),
}


@pytest.mark.parametrize("name", sorted(DEGENERATE))
def test_the_path_of_a_degenerate_game_lands_at_tau_1e_8(name):
    a, b = (x.astype(float) for x in DEGENERATE[name])
    taus = np.geomspace(10.0, 1e-8, 10)
    path = qre_path(tabular_from_matrix([a, b], tau=1.0), taus)
    assert path.converged.all(), path.residual
    for k, tau in enumerate(taus):  # the residual recomputed from the logits: tau log p - u, per player
        za, zb = path.logits[0][k, 0], path.logits[1][k, 0]
        p, q = _probs(za), _probs(zb)
        log_p, log_q = (z - z.max() - np.log(np.sum(np.exp(z - z.max()))) for z in (za, zb))
        osc = [np.ptp(tau * log_p - a @ q), np.ptp(tau * log_q - b.T @ p)]
        assert max(osc) < 1e-12, (k, osc)
    # The end is a Nash equilibrium to O(tau): a logit response p maximises p.u + tau H(p), so
    # max_a u_a <= p.u + tau H(p): each player's regret is at most tau log(n), n <= 9 strategies.
    regret = max(np.max(a @ q) - p @ a @ q, np.max(b.T @ p) - p @ b @ q)
    assert regret <= 1e-8 * np.log(9), regret


def test_a_point_the_branch_misses_is_taken_from_the_generic_route(monkeypatch):
    # The fast path's answer spoiled at one temperature (logits zero: the centroid, not a QRE there):
    # that point comes from the generic route, the others from the branch, and all converge.
    rng = np.random.default_rng(7)
    a, b = rng.normal(size=(2, 3, 4))
    taus = np.array([2.0, 1.0, 0.5])
    tg = tabular_from_matrix([a, b], tau=1.0)
    clean = qre_path(tg, taus)
    real = _logit_nf.principal_branch

    def spoiled(a, b, lams, **kw):
        br = real(a, b, lams, **kw)
        at = np.asarray(lams) == 1.0  # tau = 1
        br.logits[0][at], br.logits[1][at] = 0.0, 0.0
        return br

    monkeypatch.setattr(_logit_nf, "principal_branch", spoiled)
    merged = qre_path(tg, taus)
    generic = qre_path(tg, taus, logits0=[np.zeros((1, 3)), np.zeros((1, 4))])  # explicit start: generic route
    assert merged.converged.all()
    assert clean.converged.all()
    assert generic.converged.all()
    for zm, zc, zg in zip(merged.logits, clean.logits, generic.logits, strict=True):
        np.testing.assert_array_equal(zm[[0, 2]], zc[[0, 2]])
        np.testing.assert_array_equal(zm[1], zg[1])


@pytest.mark.parametrize("tau", [1e-12, 1e-14])
def test_one_tiny_temperature_is_landed_on_by_decades(tau):
    # Found by a new-user trial: solve_qre at tau = 1e-12 missed (residual 0.035, regret 1.2e-3) where
    # qre_path through the same temperature converged; a single precision past 1e7 was one Newton jump
    # from the trace's coarse point. The regret bound is tau log(n) as above.
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(4, 5)), rng.normal(size=(4, 5))
    res = solve_qre(tabular_from_matrix([a, b], tau=tau))
    assert bool(res.converged), res.residual
    p, q = _probs(res.logits[0][0]), _probs(res.logits[1][0])
    assert max(np.max(a @ q) - p @ a @ q, np.max(b.T @ p) - p @ b @ q) <= tau * np.log(5)
