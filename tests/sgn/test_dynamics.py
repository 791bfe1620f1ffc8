"""Dynamics: scan trajectories against explicit matrix recursions; projections; optax adapter."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import games
import sgn

J = np.array([[1.0, 10.0], [0.05, 1.0]])
F = lambda x: jnp.asarray(J) @ x  # noqa: E731


def test_euler_and_rk4_match_matrix_powers():
    x0 = np.array([0.15, -0.15])
    h = 0.1
    xs = np.asarray(sgn.projected_euler(F, jnp.asarray(x0), step=h, n_steps=5))
    T = np.eye(2) - h * J
    np.testing.assert_allclose(xs[5], np.linalg.matrix_power(T, 5) @ x0, atol=1e-13)
    Z = -h * J
    P = np.eye(2) + Z + Z @ Z / 2 + Z @ Z @ Z / 6 + Z @ Z @ Z @ Z / 24
    ys = np.asarray(sgn.projected_rk4(F, jnp.asarray(x0), step=h, n_steps=5))
    np.testing.assert_allclose(ys[5], np.linalg.matrix_power(P, 5) @ x0, atol=1e-13)
    assert xs.shape == (6, 2)


def test_extragradient_and_optimistic_linear_recursions():
    x0 = np.array([1.0, -0.5])
    h = 0.05
    T_eg = np.eye(2) - h * J @ (np.eye(2) - h * J)  # x - hJ(x - hJx)
    xs = np.asarray(sgn.extragradient(F, jnp.asarray(x0), step=h, n_steps=3))
    np.testing.assert_allclose(xs[3], np.linalg.matrix_power(T_eg, 3) @ x0, atol=1e-13)
    # optimistic: x1 = x0 - h J x0; x_{k+1} = x_k - h(2 J x_k - J x_{k-1})
    ref = [x0, x0 - h * J @ x0]
    for _ in range(3):
        ref.append(ref[-1] - h * (2 * J @ ref[-1] - J @ ref[-2]))
    og = np.asarray(sgn.optimistic_gradient(F, jnp.asarray(x0), step=h, n_steps=4))
    np.testing.assert_allclose(og, np.stack(ref), atol=1e-13)


def test_per_player_steps_ttur():
    x0 = jnp.array([1.0, 1.0])
    steps = jnp.array([0.1, 0.02])
    xs = np.asarray(sgn.projected_euler(F, x0, step=steps, n_steps=1))
    np.testing.assert_allclose(xs[1], np.asarray(x0) - np.asarray(steps) * (J @ np.asarray(x0)))


def test_projected_euler_contracts_by_at_most_the_certified_factor():
    alpha, beta = 1 - 2**-0.5, 1 + 2**-0.5
    h = float(sgn.euler_best_step(alpha, beta))
    q = float(sgn.euler_contraction_factor(h, alpha, beta))
    box = games.Box(-0.2, 0.3)
    project = lambda x: box.project(x)  # noqa: E731
    rng = np.random.default_rng(1)
    s = np.sqrt(np.array([1.0, 200.0]))
    run = jax.vmap(lambda z: sgn.projected_euler(F, z, step=h, n_steps=50, project=project))
    xs = np.asarray(run(jnp.asarray(rng.uniform(-1, 1, (64, 2)))))
    ys = np.asarray(run(jnp.asarray(rng.uniform(-1, 1, (64, 2)))))
    d = np.linalg.norm((xs - ys) * s, axis=-1)
    ok = d[:, :-1] > 1e-12
    ratios = d[:, 1:][ok] / d[:, :-1][ok]
    assert ratios.size > 1000
    assert ratios.max() <= q * (1 + 1e-12)


def simplex_projection_bisection(v):
    """Independent route: find theta with sum(max(v - theta, 0)) = 1 by bisection."""
    lo, hi = v.min() - 1.0, v.max()
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if np.maximum(v - mid, 0).sum() > 1 else (lo, mid)
    return np.maximum(v - 0.5 * (lo + hi), 0)


def test_strategy_set_projections():
    rng = np.random.default_rng(2)
    for _ in range(20):
        v = rng.normal(size=5) * 2
        got = np.asarray(games.Simplex().project(jnp.asarray(v)))
        np.testing.assert_allclose(got, simplex_projection_bisection(v), atol=1e-10)
    ball = games.Ball(radius=2.0, center=1.0)
    p = np.asarray(ball.project(jnp.array([4.0, 5.0])))
    np.testing.assert_allclose(p, 1 + 2 * np.array([3.0, 4.0]) / 5)  # radial onto the sphere
    np.testing.assert_allclose(np.asarray(ball.project(jnp.array([1.5, 1.0]))), [1.5, 1.0])
    np.testing.assert_allclose(np.asarray(games.Box(-1, 1).project(jnp.array([-3.0, 0.5]))), [-1.0, 0.5])


def test_certified_sgd_matches_manual_updates():
    opt = sgn.certified_sgd(0.1)
    params = {"a": jnp.array([1.0, 2.0])}
    updates, _ = opt.update(params, opt.init(params))
    np.testing.assert_allclose(updates["a"], [-0.1, -0.2])
    new = optax.apply_updates(params, updates)
    np.testing.assert_allclose(new["a"], [0.9, 1.8])
    ttur = sgn.certified_sgd(0.5, player_rates=[1.0, 0.25])
    ups, _ = ttur.update([jnp.ones(2), jnp.ones(3)], ttur.init(None))
    np.testing.assert_allclose(ups[1], -0.125 * np.ones(3))
    with pytest.raises(ValueError, match="expected a positive finite step_size"):
        sgn.certified_sgd(0.0)
    with pytest.raises(ValueError, match="per-player pytrees"):
        ttur.update(jnp.ones(2), ttur.init(None))


def test_n_steps_validation():
    with pytest.raises(ValueError, match="nonnegative int n_steps"):
        sgn.projected_euler(F, jnp.zeros(2), step=0.1, n_steps=-1)


@pytest.mark.parametrize("step", [np.inf, np.nan, -0.1])
def test_certified_sgd_refuses_non_finite_or_negative_steps(step):
    with pytest.raises(ValueError, match="positive finite step_size"):
        sgn.certified_sgd(step)


@pytest.mark.parametrize("step", ["0.1", None, True, [0.1]])
def test_certified_sgd_refuses_non_numbers(step):
    with pytest.raises(TypeError, match="step_size to be a real number"):
        sgn.certified_sgd(step)
    with pytest.raises((TypeError, ValueError), match="player_rates"):
        sgn.certified_sgd(0.1, player_rates=[1.0, float("inf") if step is None else step])


@pytest.mark.parametrize("scheme", [sgn.projected_euler, sgn.projected_rk4, sgn.extragradient,
                                    sgn.optimistic_gradient])
def test_dynamics_check_their_inputs_up_front(scheme):
    with pytest.raises(ValueError, match="positive finite step sizes"):
        scheme(F, jnp.zeros(2), step=float("nan"), n_steps=3)
    with pytest.raises(ValueError, match="positive finite step sizes"):
        scheme(F, jnp.zeros(2), step=jnp.array([0.1, -0.1]), n_steps=3)
    with pytest.raises(ValueError, match="scalar or of shape \\(2,\\)"):
        scheme(F, jnp.zeros(2), step=jnp.ones(3), n_steps=3)
    with pytest.raises(ValueError, match="evaluates on x0 of shape \\(3,\\)"):
        scheme(F, jnp.zeros(3), step=0.1, n_steps=3)  # F is a 2 x 2 linear map
    with pytest.raises(ValueError, match="x0 of shape \\(dim,\\)"):
        scheme(F, jnp.zeros((2, 1)), step=0.1, n_steps=3)
    # an integer x0 is promoted to floats: one Euler-type step from (1, 0) moves it
    xs = scheme(F, jnp.array([1, 0]), step=0.1, n_steps=1)
    assert jnp.issubdtype(xs.dtype, jnp.floating)
    assert not np.allclose(np.asarray(xs[1]), [1.0, 0.0])


def test_dynamics_under_jit_take_traced_steps():
    # under jit the step is traced: its value cannot be checked, and the run is the plain recursion
    run = jax.jit(lambda h: sgn.projected_euler(lambda x: x, jnp.ones(1), step=h, n_steps=2))
    assert np.allclose(np.asarray(run(0.5))[:, 0], [1.0, 0.5, 0.25])  # (1 - h)^k
