"""Network games (ring, grid, Erdős–Rényi): registration, pseudo-gradient, exact sparse bounds."""

import jax.numpy as jnp
import numpy as np
import pytest
import scipy.sparse as sp

import games
from games import network_bounds, network_game


@pytest.mark.parametrize("name", ["ring", "grid", "erdos-renyi"])
def test_registered_and_consistent(name):
    g = games.get_game(name, n=37, coupling=0.3, seed=5)
    assert name in games.game_names()
    assert g.n_players == 37
    assert g.is_affine
    assert sp.issparse(g.constant_jacobian)  # O(edges) memory, never a dense N x N array
    x = np.random.default_rng(1).normal(size=37)
    np.testing.assert_allclose(np.asarray(g.pseudo_gradient(jnp.asarray(x))), g.constant_jacobian @ x,
                               rtol=1e-12, atol=1e-12)
    mu, coupling = network_bounds(g)
    jac = g.constant_jacobian.toarray()
    np.testing.assert_array_equal(mu, np.diag(jac))
    np.testing.assert_array_equal(coupling.toarray(), np.abs(jac - np.diag(np.diag(jac))))
    assert 0.15 - 1e-12 <= coupling.data.min()
    assert coupling.data.max() <= 0.45 + 1e-12


def test_ring_and_grid_edge_counts():
    assert network_bounds(games.get_game("ring", n=10))[1].nnz == 20  # 10 edges, both directions
    # 4x4 grid: 2 * 4 * 3 = 24 edges
    assert network_bounds(games.get_game("grid", n=16))[1].nnz == 48
    assert network_bounds(games.get_game("ring", n=2))[1].nnz == 2


def test_seeded():
    a, b = games.get_game("erdos-renyi", n=40, seed=4), games.get_game("erdos-renyi", n=40, seed=4)
    np.testing.assert_array_equal(a.constant_jacobian.toarray(), b.constant_jacobian.toarray())
    assert a.fingerprint() == b.fingerprint()
    other = games.get_game("erdos-renyi", n=40, seed=5)
    assert not np.array_equal(a.constant_jacobian.toarray(), other.constant_jacobian.toarray())
    assert a.fingerprint() != other.fingerprint()


def test_errors():
    with pytest.raises(ValueError, match=r"expected an int n in \[2, "):
        games.get_game("ring", n=1)
    with pytest.raises(ValueError, match="coupling >= 0"):
        games.get_game("grid", n=4, coupling=-1.0)
    with pytest.raises(ValueError, match="self-loops"):
        network_game(3, [0], [0])
    with pytest.raises(ValueError, match="out-of-range"):
        network_game(3, [0], [5])
    with pytest.raises(ValueError, match="equal length"):
        network_game(3, [0, 1], [2])
    with pytest.raises(ValueError, match="degree"):
        games.get_game("erdos-renyi", n=5, degree=-1.0)
    with pytest.raises(ValueError, match="expected a network game"):
        network_bounds(games.get_game("sgn-toy"))
