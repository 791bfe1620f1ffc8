"""Game type, constructors and the registry."""

import jax.numpy as jnp
import numpy as np
import pytest

import games


def test_from_losses_jacobian_matches_hand_derivatives():
    # f1 = x^2/2 + a x y, f2 = y^2/2 + b x y  ->  J = [[1, a], [b, 1]]
    g = games.from_losses([lambda z: 0.5 * z[0] ** 2 + 10 * z[0] * z[1],
                           lambda z: 0.5 * z[1] ** 2 + 0.05 * z[0] * z[1]], (1, 1))
    np.testing.assert_allclose(g.jacobian(jnp.array([0.3, -0.2])), [[1, 10], [0.05, 1]])
    np.testing.assert_allclose(g.pseudo_gradient(jnp.array([1.0, 2.0])), [1 + 20, 2 + 0.05])


def test_quadratic_blocks_and_offsets():
    J = np.arange(16.0).reshape(4, 4)
    g = games.quadratic(J, b=np.ones(4), dims=(1, 3))
    assert g.n_players == 2
    assert g.dim == 4
    assert g.offsets == (0, 1, 4)
    np.testing.assert_allclose(g.pseudo_gradient(jnp.ones(4)), J @ np.ones(4) + 1)
    assert [len(p) for p in g.split(jnp.arange(4.0))] == [1, 3]


def test_bimatrix_and_bilinear_jacobians():
    A = np.array([[1.0, 2.0], [3.0, 4.0]])
    B = np.array([[0.5, 0.0], [1.0, -1.0]])
    g = games.bimatrix(A, B)
    # losses -x^T A y and -x^T B y: J_12 = -A, J_21 = -B^T
    np.testing.assert_allclose(g.constant_jacobian[:2, 2:], -A)
    np.testing.assert_allclose(g.constant_jacobian[2:, :2], -B.T)
    assert all(isinstance(s, games.Simplex) for s in g.strategy_sets)
    np.testing.assert_allclose(games.bilinear([[2.0]], mu=0.5).constant_jacobian, [[0.5, 2.0], [-2.0, 0.5]])


@pytest.mark.slow
def test_registry_lists_and_builds_every_game():
    names = games.game_names()
    for required in ("sgn-toy", "lq64", "cyclic3", "rotation", "saddle", "bilinear",
                     "matching-pennies", "rps", "tandem", "impossibility"):
        assert required in names
    for name in names:
        g = games.get_game(name)
        assert g.name == name
        assert games.game_description(name)
        x = jnp.asarray(g.default_region().center if g.default_region() else np.zeros(g.dim))
        assert np.all(np.isfinite(np.asarray(g.pseudo_gradient(x))))


def test_lq64_structure():
    g = games.get_game("lq64", lam=0.5)
    R = games.lq_coupling_matrix(32, 12345)
    np.testing.assert_allclose(R @ R.T, np.eye(32), atol=1e-12)  # orthogonal
    np.testing.assert_allclose(g.constant_jacobian[:32, 32:], 0.5 * 10 * R)
    np.testing.assert_allclose(g.constant_jacobian[32:, :32], 0.5 * 0.05 * R.T)


def test_impossibility_critical_point_is_a_strict_maximum():
    g = games.get_game("impossibility")
    J = np.asarray(g.jacobian(jnp.zeros(2)))
    # at 0: d2f1/dx2 = -1, d2f1/dxdy = 1, d2f2/dy2 = -1, d2f2/dydx = -1
    np.testing.assert_allclose(J, [[-1.0, 1.0], [-1.0, -1.0]], atol=1e-12)
    np.testing.assert_allclose(g.pseudo_gradient(jnp.zeros(2)), [0.0, 0.0], atol=1e-12)


def test_fingerprint_tracks_parameters():
    a = games.get_game("lq64", lam=0.5).fingerprint()
    assert a == games.get_game("lq64", lam=0.5).fingerprint()
    assert a != games.get_game("lq64", lam=0.6).fingerprint()
    assert games.get_game("sgn-toy").describe()["params"] == {"a": 10.0, "b": 0.05, "mu1": 1.0, "mu2": 1.0}


@pytest.mark.parametrize(
    ("build", "exc", "match"),
    [
        (lambda: games.get_game("nope"), ValueError, "expected a registered game"),
        (lambda: games.get_game("sgn-toy", lam=1.0), ValueError, "expected parameters of 'sgn-toy'"),
        (lambda: games.quadratic(np.ones((2, 3))), ValueError, "expected a square J"),
        (lambda: games.quadratic(np.ones(3)), ValueError, "rank 2"),
        (lambda: games.quadratic([[1.0, np.nan], [0.0, 1.0]]), ValueError, "expected finite values in J"),
        (lambda: games.quadratic(np.eye(3), dims=(1, 1)), ValueError, "summing to 3"),
        (lambda: games.quadratic(np.eye(2), dims=(0, 2)), ValueError, "expected positive block sizes"),
        (lambda: games.quadratic(np.eye(2), b=np.ones(3)), ValueError, "expected b of shape"),
        (lambda: games.quadratic("abc"), TypeError, "numeric matrix"),
        (lambda: games.from_losses([lambda z: z[0]], (1, 1)), ValueError, "one loss per player"),
        (lambda: games.bimatrix(np.ones((2, 2)), np.ones((3, 2))), ValueError, "expected B of shape"),
        (lambda: games.Region([1.0, 0.0], [0.0, 1.0]), ValueError, "expected lo <= hi"),
        (lambda: games.Region([np.nan], [1.0]), ValueError, "expected finite region bounds"),
        (lambda: games.Region([0.0, 0.0], [1.0]), ValueError, "equal 1-D shape"),
        (lambda: games.Region([], []), ValueError, "positive dimension"),
        (lambda: games.Box(1.0, 0.0), ValueError, "expected lo <= hi"),
        (lambda: games.Ball(radius=-1.0), ValueError, "positive finite ball radius"),
        (lambda: games.get_game("lq64", half=0), ValueError, "expected half >= 1"),
    ],
)
def test_bad_game_inputs(build, exc, match):
    with pytest.raises(exc, match=match):
        build()


def test_registry_accepts_the_same_definition_twice_but_not_a_clash():
    from games import _registry

    entry = _registry._REGISTRY["sgn-toy"]
    assert games.register("sgn-toy", "again")(entry.factory) is entry.factory  # module re-executed
    assert games.game_description("sgn-toy") == entry.description
    with pytest.raises(ValueError, match="duplicate 'sgn-toy'"):
        games.register("sgn-toy", "clash")(lambda: None)
