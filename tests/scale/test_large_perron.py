"""Perron weights for many players: sparse Noda iteration, the JAX variant, automatic method choice."""

import chex
import jax
import numpy as np
import pytest
import scipy.sparse as sp

import games
from certify import optimize_block_weights
from games import network_bounds
from sgn import (
    collatz_wielandt_bounds,
    noda_perron,
    perron_weights_jax,
    sparse_comparison_matrix,
    sparse_small_gain_margin,
)
from sgn._large import optimal_weights_sparse


def _dense_lambda_p(mu, coupling):
    # Independent reference: least real eigenvalue of K = diag(mu) - L (numpy's eigvals).
    k = np.diag(mu) - np.asarray(sp.csr_matrix(coupling).toarray())
    return float(np.min(np.linalg.eigvals(k).real))


def _dense_margin(mu, coupling, w):
    # Independent reference: alpha_*(w) = lambda_min(S(w)) with dense numpy.
    c = np.asarray(sp.csr_matrix(coupling).toarray())
    r = np.sqrt(w)
    s = np.diag(mu) - 0.5 * (c * (r[:, None] / r[None, :]) + (c * (r[:, None] / r[None, :])).T)
    return float(np.linalg.eigvalsh(s)[0])


@pytest.mark.parametrize("name", ["ring", "grid", "erdos-renyi"])
@pytest.mark.parametrize("n", [2, 7, 60, 200])
def test_sparse_perron_matches_dense_eigenvalue(name, n):
    mu, coupling = network_bounds(games.get_game(name, n=n, seed=3))
    r = optimal_weights_sparse(mu, coupling)
    lam = _dense_lambda_p(mu, coupling)
    assert r.converged
    assert r.lower == pytest.approx(lam, abs=1e-9)
    # the returned weights attain the supremum: exact margin (dense, independent) equals lambda_P
    assert _dense_margin(mu, coupling, r.weights) == pytest.approx(lam, abs=1e-9)
    assert _dense_margin(mu, coupling, r.weights) >= r.lower - 1e-12
    assert sparse_small_gain_margin(mu, coupling, r.weights) == pytest.approx(lam, abs=1e-9)


def test_cyclic_three_players_tc8():
    # TC8: lambda_P = 1 - 0.4**(1/3), weights ratios (2/0.736806)^2 each step.
    coupling = np.array([[0, 2, 0], [0, 0, 2], [0.1, 0, 0.0]])
    r = optimal_weights_sparse(np.ones(3), coupling)
    rho = 0.4 ** (1 / 3)
    assert r.lower == pytest.approx(1 - rho, abs=1e-10)
    np.testing.assert_allclose(r.weights, [1.0, (2 / rho) ** 2, (2 / rho) ** 4], rtol=1e-8)


def test_cascade_lower_bound_is_valid_and_close():
    # TC7: mu = (1, 1), L12 = 10, L21 = 0: sup alpha_* = 1, not attained.
    r = optimal_weights_sparse(np.ones(2), np.array([[0, 10.0], [0, 0]]))
    exact = _dense_margin(np.ones(2), np.array([[0, 10.0], [0, 0]]), r.weights)
    assert r.epsilon > 0
    assert r.lower <= exact + 1e-12
    assert 1.0 - 1e-5 < exact <= 1.0


def test_disconnected_components_solved_separately():
    # two independent pairs: lambda_P = min of the two 2x2 Perron values
    c = np.zeros((4, 4))
    c[0, 1], c[1, 0], c[2, 3], c[3, 2] = 0.5, 0.5, 0.1, 0.9
    r = optimal_weights_sparse(np.ones(4), c)
    expected = min(1 - 0.5, 1 - np.sqrt(0.09))  # 1 - sqrt(L12 L21) per pair
    assert r.n_components == 2
    assert r.lower == pytest.approx(expected, abs=1e-12)


def test_collatz_wielandt_brackets_the_perron_value():
    k = sparse_comparison_matrix(np.ones(3), np.array([[0, 2, 0], [0, 0, 2], [0.1, 0, 0.0]]))
    lo, hi = collatz_wielandt_bounds(k, np.array([1.0, 0.5, 0.2]))
    assert lo <= 1 - 0.4 ** (1 / 3) <= hi


def test_noda_dense_and_sparse_agree():
    mu, coupling = network_bounds(games.get_game("grid", n=30, seed=1))
    k = sparse_comparison_matrix(mu, coupling)
    a, b = noda_perron(k), noda_perron(k.toarray())
    assert a.lower == pytest.approx(b.lower, abs=1e-12)
    np.testing.assert_allclose(a.vector, b.vector, rtol=1e-8)


@pytest.mark.slow
def test_sparse_perron_vs_lp_n500():
    mu, coupling = network_bounds(games.get_game("ring", n=500, seed=2))
    auto = optimize_block_weights(mu, coupling)
    lp = optimize_block_weights(mu, coupling, weight_method="lp", tol=1e-7)
    assert auto.method == "perron"
    assert "sparse Noda" in auto.reason
    assert lp.method == "lp"
    assert lp.solver == "HIGHS"
    # the LP reaches the supremum to its bisection tolerance, never above it
    assert lp.margin == pytest.approx(auto.margin, abs=1e-5)
    assert lp.margin <= auto.margin + 1e-9


def test_auto_choice_small_dense_and_reason():
    r = optimize_block_weights(np.ones(2), np.array([[0, 10.0], [0.05, 0]]))
    assert r.method == "perron"
    assert "dense" in r.reason
    assert r.margin == pytest.approx(1 - 1 / np.sqrt(2), abs=1e-12)


def test_auto_sdp_agrees_small():
    coupling = np.array([[0, 2, 0], [0, 0, 2], [0.1, 0, 0.0]])
    r = optimize_block_weights(np.ones(3), coupling, weight_method="sdp", tol=1e-6)
    assert r.method == "sdp"
    assert r.margin == pytest.approx(1 - 0.4 ** (1 / 3), abs=1e-5)


def test_auto_errors():
    with pytest.raises(ValueError, match="expected a weight method"):
        optimize_block_weights(np.ones(2), np.zeros((2, 2)), weight_method="newton")
    with pytest.raises(ValueError, match="SDP_MAX"):
        optimize_block_weights(np.ones(50), np.zeros((50, 50)), weight_method="sdp")
    with pytest.raises(ValueError, match="nonnegative"):
        optimize_block_weights(np.ones(2), np.array([[0, -1.0], [0, 0]]))
    with pytest.raises(ValueError, match="to match mu"):
        optimal_weights_sparse(np.ones(3), sp.csr_matrix((2, 2)))
    with pytest.raises(ValueError, match="at least one player"):
        sparse_comparison_matrix(np.ones(0), np.zeros((0, 0)))


def test_perron_jax_matches_host_vmapped_without_retracing():
    rng = np.random.default_rng(0)
    mus = 1 + rng.random((8, 5))
    cs = 0.3 * rng.random((8, 5, 5)) * (1 - np.eye(5))

    @jax.jit
    @chex.assert_max_traces(n=1)
    def batched(m, c):
        return jax.vmap(perron_weights_jax)(m, c)

    for _ in range(3):  # repeated calls with new values: one trace
        w, lo, hi = batched(mus, cs)
        mus = mus + 0.01
    mus = mus - 0.03
    w, lo, hi = batched(mus, cs)
    for k in range(8):
        lam = _dense_lambda_p(mus[k], cs[k])
        assert float(lo[k]) == pytest.approx(lam, abs=1e-10)
        assert _dense_margin(mus[k], cs[k], np.asarray(w[k])) == pytest.approx(lam, abs=1e-9)
