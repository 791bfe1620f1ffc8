"""The neural-duel and non-nash games: construction, registry, hand-derived Jacobians."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

import certify
import games
from certify import certified_basin
from games import from_pytree_losses, neural_duel, non_nash


@pytest.mark.slow
def test_registered_with_parameters():
    assert {"neural-duel", "non-nash"} <= set(games.game_names())
    assert games.game_parameters("neural-duel")["width"] == 8
    g = games.get_game("neural-duel", width=3, depth=2, seed=1)
    # 2 -> 3 -> 3 -> 1: (2*3 + 3) + (3*3 + 3) + (3 + 1) = 25 parameters per player.
    assert g.dims == (25, 25)
    assert g.name == "neural-duel"
    assert g.region is not None
    assert g.region.contains(g.data["center"])
    assert {"from_pytree_losses", "neural_duel", "non_nash"} <= set(games.__all__)


@pytest.mark.slow
def test_pytree_losses_hand_jacobian():
    # f1 = |a|^2 + a0 * sum(b), f2 = sum(b^2) - a1 * b0:
    # F = (2a + (sum b, 0), 2b - (a1, 0, 0)) so J is constant, derived by hand below.
    p = ({"w": jnp.array([1.0, 2.0])}, {"v": jnp.zeros(3)})
    g = from_pytree_losses([lambda a, b: jnp.sum(a["w"] ** 2) + a["w"][0] * jnp.sum(b["v"]),
                            lambda a, b: jnp.sum(b["v"] ** 2) - a["w"][1] * b["v"][0]], p)
    expected = np.array([[2, 0, 1, 1, 1], [0, 2, 0, 0, 0], [0, -1, 2, 0, 0], [0, 0, 0, 2, 0],
                         [0, 0, 0, 0, 2]], float)
    np.testing.assert_array_equal(np.asarray(g.jacobian(jnp.asarray(g.data["center"]))), expected)
    np.testing.assert_array_equal(g.data["center"], [1.0, 2.0, 0.0, 0.0, 0.0])


@pytest.mark.slow
def test_neural_duel_gradient_is_weight_decay_plus_network_terms():
    # With coupling 0 and an enormous weight decay, F_i = lam * theta_i + O(1) and J_ii -> lam I.
    lam = 1e6
    g = neural_duel(width=3, weight_decay=lam, coupling=0.0, n_inputs=4)
    x = jnp.asarray(g.data["center"])
    jac = np.asarray(jax.jit(jax.jacfwd(g.pseudo_gradient))(x))
    d = g.dims[0]
    np.testing.assert_allclose(np.diag(jac) / lam, 1.0, atol=1e-5)
    np.testing.assert_array_equal(jac[:d, d:], 0.0)  # no interaction: J_12 = 0 exactly
    check_grads(g.losses[0], (x,), order=1, modes=["rev"])


def test_non_nash_pipeline_refuses_and_nash_check_fails():
    # f = x^2/2 + xy + y^2/4, losses (f, -f): F = (x + y, -x - y/2), J = [[1, 1], [-1, -1/2]].
    g = games.get_game("non-nash")
    np.testing.assert_array_equal(g.constant_jacobian, [[1.0, 1.0], [-1.0, -0.5]])
    # Gradient play converges: trace 1/2 > 0 and det 1/2 > 0, eigenvalues 1/4 +- i sqrt(7)/4.
    ev = np.linalg.eigvals(g.constant_jacobian)
    np.testing.assert_allclose(np.sort_complex(ev), [0.25 - 1j * np.sqrt(7) / 4, 0.25 + 1j * np.sqrt(7) / 4])
    c = certify.certify(g)
    assert c.status == "not_certified"
    assert c.bounds.mu == [1.0, -0.5]  # mu_2 = J_22 = -1/2: the maximiser's loss -f is concave in y
    assert "mu_2 = -0.5 <= 0" in c.reason
    b = certified_basin(c, g)
    assert (b.nash_check, b.nash_sound, b.certified, b.solution) == ("failed", True, False, None)
    # The origin is nonetheless where projected Euler goes (the stable, non-Nash point).
    x = np.array([1.0, -1.0])
    for _ in range(1000):  # |1 - 0.2 lambda| = sqrt(0.95^2 + 0.0109) ~ 0.956: ~1e-20 after 1000 steps
        x = x - 0.2 * (g.constant_jacobian @ x)
    assert np.linalg.norm(x) < 1e-12


def test_non_nash_parameters():
    np.testing.assert_array_equal(non_nash(a=2.0, b=3.0, c=1.0).constant_jacobian, [[2, 3], [-3, -1]])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"width": 0}, "expected a positive int width"), ({"depth": 1.5}, "expected a positive int depth"),
     ({"weight_decay": -1.0}, "expected a finite nonnegative weight_decay"),
     ({"radius": float("nan")}, "expected a finite nonnegative radius")],
)
def test_neural_duel_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        neural_duel(**kwargs)


def test_pytree_losses_errors():
    with pytest.raises(ValueError, match="expected one loss per player"):
        from_pytree_losses([lambda a: 0.0], [jnp.ones(1), jnp.ones(1)])
    with pytest.raises(TypeError, match="expected callables"):
        from_pytree_losses([1, 2], [jnp.ones(1), jnp.ones(1)])
    with pytest.raises(ValueError, match="expected every player to have parameters"):
        from_pytree_losses([lambda a, b: 0.0] * 2, [jnp.ones(1), {}])


def test_network_sizes_are_capped_and_construction_is_quiet(recwarn):
    with pytest.raises(ValueError, match="expected depth <= 32, got 1000"):
        neural_duel(depth=1000)
    with pytest.raises(ValueError, match="expected width <= 4096, got 100000"):
        neural_duel(width=100000)
    g = neural_duel(width=2)  # float64 parameters outside x64 mode: no truncation warning
    assert g.dims == (2 * 2 + 2 + 2 + 1,) * 2  # hidden W, b (2 inputs -> 2 units), output W, b
    assert [str(w.message) for w in recwarn] == []
