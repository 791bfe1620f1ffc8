"""Step sizes and contraction factors (spec TC1 and §6), checked against explicit matrices."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import sgn

J_TOY = np.array([[1.0, 10.0], [0.05, 1.0]])
W_TOY = np.array([1.0, 200.0])
ALPHA = 1 - 2**-0.5  # smaller eigenvalue of the symmetrised scaled Jacobian (TC1)
BETA = 1 + 2**-0.5  # M^1/2 J M^-1/2 = [[1, 1/sqrt2], [1/sqrt2, 1]] has norm 1 + 1/sqrt2


def scaled(J, w, dims):
    s = np.repeat(np.sqrt(w), dims)
    return s[:, None] * J / s[None, :]


def rk4_poly(Z):
    eye = np.eye(Z.shape[0])
    return eye + Z + Z @ Z / 2 + Z @ Z @ Z / 6 + Z @ Z @ Z @ Z / 24


def test_tc1_weighted_lipschitz_and_block_bound():
    assert float(sgn.weighted_lipschitz(J_TOY, W_TOY, (1, 1))) == pytest.approx(BETA, abs=1e-12)
    L = np.abs(J_TOY) * (1 - np.eye(2))
    assert float(sgn.block_lipschitz_bound(np.ones(2), L, W_TOY)) == pytest.approx(BETA, abs=1e-12)
    # Euclidean Lipschitz constant = beta(1, 1) = ||J||_2 (TC1: 10.0995)
    assert float(sgn.weighted_lipschitz(J_TOY, np.ones(2), (1, 1))) == pytest.approx(
        np.linalg.norm(J_TOY, 2), abs=1e-12)
    assert np.linalg.norm(J_TOY, 2) == pytest.approx(10.0995, abs=1e-4)


def test_tc1_euler_steps_and_factor():
    h_e = float(sgn.euler_step_bound(ALPHA, BETA))
    h_star = float(sgn.euler_best_step(ALPHA, BETA))
    assert h_e == pytest.approx(2 * ALPHA / BETA**2, abs=1e-15)
    assert h_e == pytest.approx(0.201010, abs=1e-6)
    assert h_star == pytest.approx(0.100505, abs=1e-6)
    q = float(sgn.euler_contraction_factor(h_star, ALPHA, BETA))
    assert q == pytest.approx(np.sqrt(1 - ALPHA**2 / BETA**2), abs=1e-12)
    assert q == pytest.approx(0.985171, abs=1e-6)
    # the exact factor of the linear map is smaller: 1 - h* alpha (symmetric scaled Jacobian)
    exact = float(sgn.linear_step_norm(J_TOY, W_TOY, (1, 1), h_star))
    A = scaled(J_TOY, W_TOY, (1, 1))
    assert exact == pytest.approx(np.linalg.norm(np.eye(2) - h_star * A, 2), abs=1e-12)
    assert exact == pytest.approx(1 - h_star * ALPHA, abs=1e-12)
    assert exact == pytest.approx(0.970563, abs=1e-6)
    assert exact <= q
    assert float(sgn.euler_step_bound(-0.1, BETA)) == 0.0


def test_tc1_rk4_guideline_and_rigorous_step():
    h = float(sgn.rk4_step_guideline(BETA))
    assert h == pytest.approx(2.5 / BETA)
    assert h == pytest.approx(1.46447, abs=1e-5)
    A = scaled(J_TOY, W_TOY, (1, 1))
    norm = float(sgn.linear_step_norm(J_TOY, W_TOY, (1, 1), h, scheme="rk4"))
    assert norm == pytest.approx(np.linalg.norm(rk4_poly(-h * A), 2), abs=1e-12)
    assert norm == pytest.approx(0.651317, abs=1e-6)
    h_rk4 = float(sgn.rk4_step_bound(ALPHA, BETA))
    assert h_rk4 == pytest.approx(0.0980402, abs=1e-7)

    def q(hh):  # the rigorous factor, written out
        z = hh * BETA
        return np.sqrt(1 - 2 * hh * ALPHA + z**2) + z**2 / 2 + z**3 / 6 + z**4 / 24

    assert q(h_rk4) == pytest.approx(1.0, abs=1e-9)
    assert q(0.5 * h_rk4) < 1.0 < q(1.01 * h_rk4)
    assert float(sgn.rk4_step_bound(0.0, BETA)) == 0.0


def test_linear_stability_limits_match_scalar_formulas():
    lam = 1.0
    a = 1 - lam / np.sqrt(2)
    b = 1 + lam / np.sqrt(2)
    J = np.diag([a, b])  # the LQ game's spectrum at lam (spec §8.2)
    assert sgn.linear_stability_limit(J) == pytest.approx(2 / b, rel=1e-12)
    assert sgn.linear_stability_limit(J, scheme="rk4") == pytest.approx(2.785293563 / b, rel=1e-8)
    assert sgn.linear_stability_limit(np.diag([1.0, -0.5])) == 0.0
    with pytest.raises(ValueError, match="expected scheme"):
        sgn.linear_stability_limit(J, scheme="rk2")


def test_ttur_bound_contracts_in_euclidean_norm():
    rates = W_TOY / W_TOY.max()  # w = rates, rescaled
    a = float(sgn.small_gain_margin(np.ones(2), np.abs(J_TOY) * (1 - np.eye(2)), rates))
    b = float(sgn.weighted_lipschitz(J_TOY, rates, (1, 1)))
    h = float(sgn.ttur_step_bound(a, b, rates))
    assert h == pytest.approx(2 * a * rates.min() / (b * rates.max()) ** 2)
    step = 0.9 * h * rates
    T = np.eye(2) - step[:, None] * J_TOY
    assert np.linalg.norm(T, 2) < 1.0


def test_steps_are_jittable():
    f = jax.jit(lambda a, b: (sgn.euler_step_bound(a, b), sgn.rk4_step_bound(a, b)))
    e, r = f(jnp.asarray(ALPHA), jnp.asarray(BETA))
    assert float(e) == pytest.approx(0.201010, abs=1e-6)
    assert float(r) == pytest.approx(0.0980402, abs=1e-7)
