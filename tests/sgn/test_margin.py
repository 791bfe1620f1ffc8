"""SGN margin, comparison matrix, Perron weights and band: spec cases TC1, TC2, TC4, TC5, TC7, TC8."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.optimize import brentq

import sgn

TOY_MU = np.array([1.0, 1.0])
TOY_L = np.array([[0.0, 10.0], [0.05, 0.0]])


def _weights_and_margin(mu, coupling):
    r = sgn.perron_weights(mu, coupling)
    return r.weights, r.margin


def closed_form_two_player(mu, L, r):
    """alpha_*(r) = (mu1+mu2)/2 - sqrt(((mu1-mu2)/2)^2 + c(r)^2), c = (L12/sqrt r + L21 sqrt r)/2."""
    c = 0.5 * (L[0, 1] / np.sqrt(r) + L[1, 0] * np.sqrt(r))
    return 0.5 * (mu[0] + mu[1]) - np.sqrt(0.25 * (mu[0] - mu[1]) ** 2 + c**2)


def generalized_eig_margin(mu, L, w):
    """Second route: alpha_* = 1/2 lambda_min(W^-1/2 C(w) W^-1/2), C = W K + K^T W."""
    K = np.diag(mu) - L * (1 - np.eye(len(mu)))
    C = np.diag(w) @ K + K.T @ np.diag(w)
    s = np.diag(1 / np.sqrt(w))
    return 0.5 * np.linalg.eigvalsh(s @ C @ s)[0]


@pytest.mark.parametrize(
    ("ratio", "expected"),
    # spec TC1 table, and the closed form evaluated independently below
    [(1.0, -4.025), (10.0, -0.660196), (200.0, 0.292893), (1000.0, 0.0513167), (2000.0, -0.229837)],
)
def test_tc1_margin_at_ratios(ratio, expected):
    got = float(sgn.small_gain_margin(TOY_MU, TOY_L, np.array([1.0, ratio])))
    assert got == pytest.approx(closed_form_two_player(TOY_MU, TOY_L, ratio), abs=1e-12)
    assert got == pytest.approx(expected, abs=5e-7)


def test_margin_matches_generalized_eigenvalue_form_random():
    rng = np.random.default_rng(0)
    for n in (2, 3, 5, 8):
        for _ in range(5):
            mu = rng.uniform(0.1, 3.0, n)
            L = rng.uniform(0.0, 1.0, (n, n)) * (1 - np.eye(n))
            w = rng.uniform(0.1, 10.0, n)
            got = float(sgn.small_gain_margin(mu, L, w))
            assert got == pytest.approx(generalized_eig_margin(mu, L, w), abs=1e-10)
            assert got <= mu.min() + 1e-12  # lambda_min(S) <= min diag S
            # homogeneous of degree 0 in w
            assert float(sgn.small_gain_margin(mu, L, 7.5 * w)) == pytest.approx(got, abs=1e-10)


@pytest.mark.slow
def test_margin_jit_and_vmap():
    f = jax.jit(sgn.small_gain_margin)
    assert float(f(TOY_MU, TOY_L, jnp.array([1.0, 200.0]))) == pytest.approx(1 - 2**-0.5, abs=1e-12)
    ratios = jnp.array([1.0, 10.0, 200.0, 1000.0])
    weights = jnp.stack([jnp.ones(4), ratios], axis=1)
    batch = jax.vmap(sgn.small_gain_margin, in_axes=(None, None, 0))(TOY_MU, TOY_L, weights)
    np.testing.assert_allclose(batch, closed_form_two_player(TOY_MU, TOY_L, np.asarray(ratios)), atol=1e-12)


def test_sgn_matrix_psd_iff_margin_above_alpha():
    w = np.array([1.0, 200.0])
    a = float(sgn.small_gain_margin(TOY_MU, TOY_L, w))
    below = np.linalg.eigvalsh(np.asarray(sgn.sgn_matrix(TOY_MU, TOY_L, w, margin=a - 1e-6)))[0]
    above = np.linalg.eigvalsh(np.asarray(sgn.sgn_matrix(TOY_MU, TOY_L, w, margin=a + 1e-6)))[0]
    assert below > 0 > above


def test_tc1_perron_optimum_and_gain():
    w, a = _weights_and_margin(TOY_MU, TOY_L)
    np.testing.assert_allclose(w, [1.0, 200.0], rtol=1e-10)  # r* = L12 / L21
    assert a == pytest.approx(1 - 1 / np.sqrt(2), abs=1e-12)  # (mu1+mu2)/2 - sqrt(L12 L21)
    assert sgn.perron_value(TOY_MU, TOY_L) == pytest.approx(1 - np.sqrt(0.5), abs=1e-12)
    assert sgn.small_gain_ratio(TOY_MU, TOY_L) == pytest.approx(np.sqrt(0.5), abs=1e-12)


def test_tc4_saddle_refusal_values():
    L = np.array([[0.0, 3.0], [3.0, 0.0]])
    w, a = _weights_and_margin(TOY_MU, L)
    assert a == pytest.approx(-2.0, abs=1e-12)  # 1 - sqrt(9)
    lo, hi = sgn.timescale_band(TOY_MU, L)
    assert np.isnan(lo)
    assert np.isnan(hi)
    assert sgn.small_gain_ratio(TOY_MU, L) == pytest.approx(3.0)


def test_tc5_rotation_refused_though_euclidean_monotone():
    J = np.array([[1.0, 2.0], [-2.0, 1.0]])
    assert float(sgn.euclidean_margin(J)) == pytest.approx(1.0)  # sym J = I
    L = np.abs(J) * (1 - np.eye(2))
    _, a = _weights_and_margin(np.ones(2), L)
    assert a == pytest.approx(-1.0, abs=1e-12)  # 1 - sqrt(2 * 2)


def test_tc8_three_player_cycle():
    mu = np.ones(3)
    L = np.zeros((3, 3))
    L[0, 1], L[1, 2], L[2, 0] = 2.0, 2.0, 0.1
    rho = 0.4 ** (1 / 3)  # D^-1 L is a weighted 3-cycle: rho = (2 * 2 * 0.1)^(1/3)
    assert sgn.small_gain_ratio(mu, L) == pytest.approx(rho, abs=1e-12)
    # alpha_*(1,1,1) = lambda_min of the symmetrised comparison matrix (numpy route)
    K = np.diag(mu) - L
    assert float(sgn.small_gain_margin(mu, L, np.ones(3))) == pytest.approx(
        np.linalg.eigvalsh(0.5 * (K + K.T))[0], abs=1e-12)
    assert float(sgn.small_gain_margin(mu, L, np.ones(3))) == pytest.approx(-0.439435, abs=1e-6)
    w, a = _weights_and_margin(mu, L)
    assert a == pytest.approx(1 - rho, abs=1e-12)
    ratio = (2 / rho) ** 2  # successive weight ratios (spec TC8)
    np.testing.assert_allclose(w, [1.0, ratio, ratio**2], rtol=1e-9)


def test_tc7_cascade_is_finite_and_near_supremum():
    L = np.array([[0.0, 10.0], [0.0, 0.0]])
    w, a = _weights_and_margin(TOY_MU, L)
    assert np.all(np.isfinite(w))
    assert np.isfinite(a)
    assert a >= 1.0 - 1e-9 * 1.0  # supremum min(mu) = 1 within the documented tolerance
    assert a < 1.0
    # band at alpha: [L12^2 / (4 p), inf) with p = (1 - alpha)^2
    for alpha, lo_expected in ((0.0, 25.0), (0.5, 100.0)):
        lo, hi = sgn.timescale_band(TOY_MU, L, margin=alpha)
        assert float(lo) == pytest.approx(lo_expected)
        assert np.isinf(hi)
    for r, alpha in ((25.0, 0.0), (100.0, 0.5), (1e4, 0.95)):  # alpha = 1 - 5 / sqrt(r)
        assert float(sgn.margin_at_ratio(TOY_MU, L, r)) == pytest.approx(alpha, abs=1e-12)


@pytest.mark.parametrize("alpha", [0.0, 0.1, 0.25])
def test_tc2_band_edges_solve_margin_equation(alpha):
    lo, hi = map(float, sgn.timescale_band(TOY_MU, TOY_L, margin=alpha))
    f = lambda r: closed_form_two_player(TOY_MU, TOY_L, r) - alpha  # noqa: E731
    r_star = 200.0  # maximiser, band's geometric centre
    assert lo == pytest.approx(brentq(f, 1e-3, r_star), rel=1e-10)
    assert hi == pytest.approx(brentq(f, r_star, 1e7), rel=1e-10)
    assert lo * hi == pytest.approx(r_star**2, rel=1e-10)


def test_tc2_band_values_from_spec():
    assert np.allclose(sgn.timescale_band(TOY_MU, TOY_L), (34.3146, 1165.69), rtol=1e-5)
    assert np.allclose(sgn.timescale_band(TOY_MU, TOY_L, margin=0.1), (47.1210, 848.879), rtol=1e-5)
    assert np.allclose(sgn.timescale_band(TOY_MU, TOY_L, margin=0.25), (100.0, 400.0), rtol=1e-9)
    assert np.all(np.isnan(sgn.timescale_band(TOY_MU, TOY_L, margin=0.3)))


def test_band_edge_cases():
    lo, hi = sgn.timescale_band(TOY_MU, np.array([[0.0, 0.0], [0.05, 0.0]]))
    assert float(lo) == 0.0
    assert float(hi) == pytest.approx(4 / 0.05**2)
    lo, hi = sgn.timescale_band(TOY_MU, np.zeros((2, 2)))
    assert float(lo) == 0.0
    assert np.isinf(hi)
    jitted = jax.jit(sgn.timescale_band)(TOY_MU, TOY_L)
    assert float(jitted[0]) == pytest.approx(float(sgn.timescale_band(TOY_MU, TOY_L)[0]))


def test_single_player_and_brute_force_weights():
    w, a = _weights_and_margin(np.array([0.7]), np.zeros((1, 1)))
    assert a == pytest.approx(0.7)
    assert w.tolist() == [1.0]
    # the Perron value is the max over a fine grid of weights (independent brute force)
    mu, L = np.array([1.5, 1.0, 2.0]), np.array([[0, 0.4, 0.3], [0.8, 0, 0.2], [0.1, 0.9, 0]])
    _, a = _weights_and_margin(mu, L)
    grid = np.exp(np.linspace(-3, 3, 61))
    best = max(generalized_eig_margin(mu, L, np.array([1.0, p, q])) for p in grid for q in grid)
    assert best <= a + 1e-12
    assert a - best < 5e-3


@pytest.mark.parametrize(
    ("mu", "L", "w", "match"),
    [
        (np.ones(2), np.zeros((3, 3)), np.ones(2), "expected L of shape"),
        (np.ones((2, 2)), np.zeros((2, 2)), np.ones(2), "expected mu of rank 1"),
        (np.array([1.0, np.nan]), np.zeros((2, 2)), np.ones(2), "expected finite values in mu"),
        (np.ones(2), np.array([[0.0, np.inf], [0, 0]]), np.ones(2), "expected finite values in L"),
        (np.ones(2), np.array([[0.0, -1.0], [0, 0]]), np.ones(2), "expected nonnegative L"),
        (np.ones(2), np.zeros((2, 2)), np.array([1.0, -1.0]), "expected positive weights"),
        (np.ones(2), np.zeros((2, 2)), np.array([1.0, 0.0]), "expected positive weights"),
        (np.ones(2), np.zeros((2, 2)), np.ones(3), "expected 2 weights"),
    ],
)
def test_bad_inputs(mu, L, w, match):
    with pytest.raises(ValueError, match=match):
        sgn.small_gain_margin(mu, L, w)


def test_band_needs_two_players():
    with pytest.raises(ValueError, match="expected two players"):
        sgn.timescale_band(np.ones(3), np.zeros((3, 3)))
