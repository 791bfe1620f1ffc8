"""Many players end to end: sparse Jacobian -> exact/sound sparse bounds -> sparse Perron -> COO certificate.

Every reference is dense NumPy on the same matrices (independent of the sparse code paths).
"""

import json

import numpy as np
import pytest
import scipy.sparse as sp

import certify
import games
import sgn
import sgn._large as large
from certify import cli
from certify.bounds import exact_block_bounds
from games import network_bounds

N = 300  # joint dimension above SPARSE_DIM = 256: the sparse path


def _dense_margin(mu, coupling, w):
    c = coupling.toarray()
    r = np.sqrt(w)
    half = 0.5 * c * (r[:, None] / r[None, :])
    return float(np.linalg.eigvalsh(np.diag(mu) - half - half.T)[0])


def _dense_lambda_p(mu, coupling):
    return float(np.min(np.linalg.eigvals(np.diag(mu) - coupling.toarray()).real))


@pytest.fixture(scope="module", params=["ring", "grid", "erdos-renyi"])
def network(request):
    g = games.get_game(request.param, n=N, seed=2)
    return g, certify.certify(g)


def test_sparse_certificate_numbers(network):
    g, c = network
    mu, coupling = network_bounds(g)
    jac = g.constant_jacobian.toarray()
    assert c.certified
    assert c.bounds.kind == "exact"
    assert isinstance(c.bounds.coupling, dict)
    assert c.bounds.coupling["shape"] == [N, N]
    np.testing.assert_array_equal(c.coupling_matrix().toarray(), coupling.toarray())  # exact per-block numbers
    np.testing.assert_array_equal(c.bounds.mu, mu)
    w = np.asarray(c.weights.values)
    # the margin is the exact alpha_*(w) of the recorded weights, never above it, and reaches lambda_P(K)
    exact = _dense_margin(mu, coupling, w)
    assert exact - 1e-9 <= c.margin <= exact + 1e-12
    assert c.margin == pytest.approx(_dense_lambda_p(mu, coupling), abs=1e-9)
    assert c.bounds.gain == pytest.approx(np.max(np.abs(np.linalg.eigvals(coupling.toarray() / mu[:, None]))), abs=1e-9)
    # joint quantities are relaxations on the safe side
    assert c.bounds.lipschitz >= np.linalg.norm(jac, 2) - 1e-12
    assert c.bounds.euclidean_margin <= np.linalg.eigvalsh(0.5 * (jac + jac.T))[0] + 1e-12
    s = np.sqrt(w)
    assert c.bounds.weighted_lipschitz >= np.linalg.norm(s[:, None] * jac / s[None, :], 2) - 1e-12
    assert c.steps.euler_step == pytest.approx(2 * c.margin / c.bounds.weighted_lipschitz**2, rel=1e-12)


def test_sparse_certificate_round_trip_and_integrity(network):
    g, c = network
    text = c.to_json()
    assert len(text) < 2 * N * N  # O(edges): an N x N table alone would take over 5 N^2 characters
    back = certify.Certificate.from_json(text)
    assert back == c
    assert certify.check_certificate(back).consistent
    doc = json.loads(text)
    doc["bounds"]["coupling"]["values"][0] *= 1.001
    assert "coupling" in certify.check_certificate(certify.Certificate.from_dict(doc)).message


def test_sparse_and_dense_bounds_agree_where_exact():
    g = games.get_game("ring", n=N, seed=1)
    dense = games.quadratic(g.constant_jacobian.toarray())
    a, b = exact_block_bounds(g), exact_block_bounds(dense)
    assert sp.issparse(a.coupling)
    assert not sp.issparse(b.coupling)
    np.testing.assert_array_equal(a.mu, b.mu)
    np.testing.assert_array_equal(a.block_norm, b.block_norm)
    np.testing.assert_array_equal(a.coupling.toarray(), b.coupling)
    assert a.lipschitz >= b.lipschitz - 1e-12  # block relaxation >= exact ||J||_2
    assert a.euclidean_margin <= b.euclidean_margin + 1e-12  # relaxation <= exact lambda_min(sym J)


def test_block_players_sparse_bounds():
    # two-dimensional players: one dense block per stored block pair, norms from numpy
    rng = np.random.default_rng(0)
    n, d = 140, 2
    jac = sp.lil_matrix((n * d, n * d))
    for i in range(n):
        jac[i * d:(i + 1) * d, i * d:(i + 1) * d] = np.eye(d) * 2 + 0.1 * rng.normal(size=(d, d))
        j = (i + 1) % n
        jac[i * d:(i + 1) * d, j * d:(j + 1) * d] = 0.3 * rng.normal(size=(d, d))
    g = games.quadratic(jac.tocsr(), dims=(d,) * n)
    b = exact_block_bounds(g)
    dense = jac.toarray()
    i, j = 5, 6
    blk = dense[i * d:(i + 1) * d, i * d:(i + 1) * d]
    assert b.mu[i] == pytest.approx(np.linalg.eigvalsh(0.5 * (blk + blk.T))[0], abs=1e-14)
    assert b.coupling[i, j] == pytest.approx(np.linalg.norm(dense[i * d:(i + 1) * d, j * d:(j + 1) * d], 2), abs=1e-14)
    assert b.coupling.nnz == n
    assert b.lipschitz >= np.linalg.norm(dense, 2) - 1e-12


@pytest.mark.parametrize("name", ["ring", "erdos-renyi"])
def test_krylov_perron_path(monkeypatch, name):
    # force the ARPACK path on small blocks: kept for Erdos-Renyi, refused (localised vector) and
    # replaced by Noda on the ring; either way the bracket holds and reaches lambda_P
    monkeypatch.setattr(large, "KRYLOV_MIN", 50)
    mu, coupling = network_bounds(games.get_game(name, n=N, seed=3))
    r = large.optimal_weights_sparse(mu, coupling)
    lam = _dense_lambda_p(mu, coupling)
    assert r.converged
    assert r.lower <= _dense_margin(mu, coupling, r.weights) + 1e-12
    assert r.lower == pytest.approx(lam, abs=1e-9)
    m = sgn.sparse_small_gain_margin(mu, coupling, r.weights)
    assert m <= _dense_margin(mu, coupling, r.weights) + 1e-12
    assert m == pytest.approx(lam, abs=1e-9)


def test_fingerprint_of_sparse_jacobians():
    a = sp.csr_matrix(np.array([[1.0, 0.0, 2.0], [0.0, 1.0, 0.0], [0.5, 0.0, 1.0]]))
    messy = sp.coo_matrix(([1.0, 2.0, 0.5, 1.0, 1.0, 0.0], ([0, 0, 2, 1, 2, 1], [0, 2, 0, 1, 2, 2])), shape=(3, 3))
    ga, gb = games.quadratic(a, params={"k": 1}), games.quadratic(messy, params={"k": 1})
    assert ga.fingerprint() == gb.fingerprint()  # canonical CSR: order, explicit zeros do not matter
    other = games.quadratic(a * 1.5, params={"k": 1})
    assert ga.fingerprint() != other.fingerprint()


def test_malformed_sparse_coupling_is_refused():
    c = certify.certify(games.get_game("ring", n=N))
    doc = json.loads(c.to_json())
    doc["bounds"]["coupling"]["rows"] = doc["bounds"]["coupling"]["rows"][:-1]
    with pytest.raises(ValueError, match="expected certificate field 'bounds.coupling'"):
        certify.Certificate.from_dict(doc)
    doc = json.loads(c.to_json())
    doc["bounds"]["coupling"]["cols"][0] = N
    with pytest.raises(ValueError, match="expected certificate field 'bounds.coupling'"):
        certify.Certificate.from_dict(doc)


def test_cli_report_of_many_players_summarises_the_sparse_coupling(network, capsys):
    g, _ = network
    jac = g.constant_jacobian.toarray()
    off = np.abs(jac - np.diag(np.diag(jac)))  # one coordinate per player: L_ij = |J_ij|
    assert cli.main(["certify", g.name, "--param", f"n={N}", "--param", "seed=2"]) == 0
    out = capsys.readouterr().out
    assert f"{N} x {N}, {np.count_nonzero(off)} of {N * (N - 1)} off-diagonal nonzero; strongest L_" in out
    assert cli.main(["certify", g.name, "--param", f"n={N}", "--param", "seed=2", "--full"]) == 0
    line = next(s for s in capsys.readouterr().out.splitlines() if s.startswith("L "))
    assert line.count("L_") == np.count_nonzero(off)  # every stored coupling, in coordinate form
    i, j = np.unravel_index(np.argmax(off), off.shape)
    assert f"L_{i + 1},{j + 1} = " in line


def test_network_size_is_capped_up_front():
    with pytest.raises(ValueError, match=r"expected an int n in \[2, 250000\], got 100000000"):
        games.get_game("ring", n=10**8)
