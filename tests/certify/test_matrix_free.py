"""Matrix-free block estimates against dense numpy eigvalsh/svd of the explicit Jacobian."""

import jax
import numpy as np
import pytest

import certify
import games
from certify import bounds as mf
from certify.bounds import MatrixFree, sample_points

ITER = 40  # >= every block size below, so Lanczos spans the whole space: agreement to rounding.


def dense_quantities(jac, dims, weights=None):
    """Independent numpy reference: eigvalsh / 2-norms of the explicit Jacobian blocks."""
    off = np.cumsum((0,) + tuple(dims))
    n = len(dims)
    mu, block, coupling = np.zeros(n), np.zeros(n), np.zeros((n, n))
    for i in range(n):
        bi = slice(off[i], off[i + 1])
        mu[i] = np.linalg.eigvalsh(0.5 * (jac[bi, bi] + jac[bi, bi].T))[0]
        block[i] = np.linalg.svd(jac[bi, bi], compute_uv=False)[0]
        for j in range(n):
            if i != j:
                coupling[i, j] = np.linalg.svd(jac[bi, off[j] : off[j + 1]], compute_uv=False)[0]
    lip = np.linalg.svd(jac, compute_uv=False)[0]
    euc = np.linalg.eigvalsh(0.5 * (jac + jac.T))[0]
    beta = None
    if weights is not None:
        s = np.repeat(np.sqrt(weights), dims)
        beta = np.linalg.svd(s[:, None] * jac / s[None, :], compute_uv=False)[0]
    return mu, coupling, block, lip, euc, beta


@pytest.fixture(scope="module")
def duel():
    return games.neural_duel(width=4, depth=1, n_inputs=8, seed=3)


@pytest.mark.slow
def test_neural_duel_matches_dense(duel):
    pts = np.stack([duel.data["center"], duel.data["center"] + 0.03])
    got = mf.matrix_free_block_bounds(duel, pts, iterations=ITER, seed=1, full=False)
    dense_jac = jax.jit(jax.jacfwd(duel.pseudo_gradient))
    refs = [dense_quantities(np.asarray(dense_jac(p)), duel.dims) for p in pts]
    mu = np.min([r[0] for r in refs], axis=0)
    coupling = np.max([r[1] for r in refs], axis=0)
    block = np.max([r[2] for r in refs], axis=0)
    assert got.kind == "sampled"
    assert got.n_points == 2
    # Full Krylov space in float64: Ritz values equal eigenvalues up to ~1e-12 relative.
    np.testing.assert_allclose(got.mu, mu, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(got.coupling, coupling, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(got.block_norm, block, rtol=1e-9)
    assert np.isnan(got.lipschitz)
    assert np.isnan(got.euclidean_margin)


def test_weighted_lipschitz_matches_dense():
    rng = np.random.default_rng(4)
    a = rng.standard_normal((7, 7))
    g = games.from_pseudo_gradient(lambda x: jax.numpy.asarray(a) @ x + jax.numpy.sin(x), (3, 4))
    x = rng.standard_normal(7)
    w = np.array([1.0, 3.5])
    ref = dense_quantities(a + np.diag(np.cos(x)), (3, 4), w)[5]
    got = mf.matrix_free_weighted_lipschitz(g, x, w, iterations=7)
    np.testing.assert_allclose(got, ref, rtol=1e-10)


@pytest.mark.slow
def test_nonsymmetric_blocks_from_pseudo_gradient():
    # F given directly (no losses): J_ii is not symmetric, so sym(J_ii) needs JVP + VJP.
    rng = np.random.default_rng(0)
    a = rng.standard_normal((5, 5))
    g = games.from_pseudo_gradient(lambda x: jax.numpy.asarray(a) @ x + 0.1 * x**3, (2, 3))
    x = rng.standard_normal(5)
    jac = a + np.diag(0.3 * x**2)
    mu, coupling, block, lip, euc, _ = dense_quantities(jac, (2, 3))
    got = mf.matrix_free_point_estimate(g, x, iterations=5)
    np.testing.assert_allclose(got.mu, mu, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got.coupling, coupling, rtol=1e-10)
    np.testing.assert_allclose(got.block_norm, block, rtol=1e-10)
    np.testing.assert_allclose([got.lipschitz, got.euclidean_margin], [lip, euc], rtol=1e-10)


def test_lanczos_truncated_brackets_spectrum_and_residual_holds():
    # Diagonal spectrum 1..200 with k = 10 < n: Ritz values lie inside [1, 200] (interlacing)
    # and an eigenvalue lies within the reported residual of each extreme Ritz value.
    lam = np.arange(1.0, 201.0)
    a = jax.numpy.asarray(lam)
    v0 = np.random.default_rng(1).standard_normal(200)
    r = mf.lanczos_extremes(lambda v: a * v, v0, iterations=10)
    assert 1.0 <= r.low
    assert r.high <= 200.0
    assert np.min(np.abs(lam - r.low)) <= r.low_residual * (1 + 1e-9)
    assert np.min(np.abs(lam - r.high)) <= r.high_residual * (1 + 1e-9)
    assert r.steps == 10


def test_lanczos_breakdown_on_scaled_identity():
    # A = 3 I: the Krylov space is 1-D; breakdown after one step, exact value, zero residual.
    r = mf.lanczos_extremes(lambda v: 3.0 * v, np.ones(50), iterations=8)
    assert (r.steps, r.low_residual) == (1, 0.0)
    np.testing.assert_allclose([r.low, r.high], [3.0, 3.0], rtol=1e-14)


@pytest.mark.slow
def test_power_is_never_above_lanczos_and_both_below_true_norm():
    # Same start, same products: the Krylov space contains the power iterate.
    rng = np.random.default_rng(2)
    a = rng.standard_normal((30, 30))
    g = games.from_pseudo_gradient(lambda x: jax.numpy.asarray(a) @ x, (15, 15))
    x = np.zeros(30)
    true = dense_quantities(a, (15, 15))[1]
    lz = mf.matrix_free_point_estimate(g, x, iterations=4, method="lanczos", full=False)
    pw = mf.matrix_free_point_estimate(g, x, iterations=4, method="power", full=False)
    off = ~np.eye(2, dtype=bool)
    assert np.all(pw.coupling[off] <= lz.coupling[off] * (1 + 1e-12))
    assert np.all(lz.coupling[off] <= true[off] * (1 + 1e-12))
    assert np.isnan(lz.lipschitz)


@pytest.mark.slow  # ~12 s: a second network game and kernel compile
def test_float32_points_agree_to_single_precision(duel):
    x = duel.data["center"]
    ref = mf.matrix_free_block_bounds(duel, x, iterations=ITER, full=False)
    g32 = games.neural_duel(width=4, depth=1, n_inputs=8, seed=3, dtype=jax.numpy.float32)
    got = mf.matrix_free_block_bounds(g32, x.astype(np.float32), iterations=ITER, full=False)
    np.testing.assert_allclose(got.mu, ref.mu, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(got.coupling, ref.coupling, rtol=1e-4, atol=1e-5)


@pytest.mark.slow
def test_certify_matrix_free_matches_exact_toy():
    # TC1: alpha = 1 - 1/sqrt(2), w = (1, 200), beta = 1.70711 (spec §9).
    # MatrixFree with no random points: the region's centre, the origin.
    c = certify.certify(games.get_game("sgn-toy"), region=games.Region([-1.0, -1.0], [1.0, 1.0]),
                        bounds=MatrixFree(n_samples=0, iterations=2))
    assert c.status == "certified"
    assert c.is_estimate
    np.testing.assert_allclose(c.margin, 1 - 1 / np.sqrt(2), rtol=1e-9)
    np.testing.assert_allclose(c.weights.values, [1.0, 200.0], rtol=1e-9)
    np.testing.assert_allclose(c.bounds.weighted_lipschitz, 1 + 1 / np.sqrt(2), rtol=1e-9)
    assert c.extra["bounds_method"] == "matrix_free"


@pytest.mark.slow
def test_region_points_and_region_bounds():
    g = games.get_game("tanh-sin")
    pts = sample_points(g.region, n_samples=3, seed=0, vertices=False)
    assert pts.shape == (4, 2)
    np.testing.assert_array_equal(pts[-1], g.region.center)
    assert g.region.contains(pts)
    b = MatrixFree(n_samples=3, iterations=2)(g)
    # Independent: F = (x + tanh(y)/2 + x^3/10, y - 0.8 sin x): J11 = 1 + 0.3 x^2, J22 = 1.
    np.testing.assert_allclose(b.mu, [1 + 0.3 * np.min(pts[:, 0] ** 2), 1.0], rtol=1e-12)
    np.testing.assert_allclose(b.coupling[1, 0], np.max(0.8 * np.abs(np.cos(pts[:, 0]))), rtol=1e-12)


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"iterations": 0}, ValueError, "expected a positive int iterations"),
        ({"method": "arnoldi"}, ValueError, "expected a matrix-free method"),
        ({"seed": 1.5}, TypeError, "expected an int seed"),
    ],
)
def test_argument_errors(kwargs, exc, match):
    g = games.get_game("sgn-toy")
    with pytest.raises(exc, match=match):
        mf.matrix_free_block_bounds(g, np.zeros(2), **{"iterations": 2, **kwargs})


def test_shape_and_type_errors():
    g = games.get_game("sgn-toy")
    with pytest.raises(ValueError, match=r"expected points of shape \(n_points, 2\)"):
        mf.matrix_free_block_bounds(g, np.zeros(3))
    with pytest.raises(TypeError, match="expected floating-point points"):
        mf.matrix_free_block_bounds(g, np.zeros(2, dtype=int))
    with pytest.raises(TypeError, match="expected a games.Game"):
        mf.matrix_free_block_bounds("sgn-toy", np.zeros(2))
    with pytest.raises(ValueError, match="expected one point"):
        mf.matrix_free_point_estimate(g, np.zeros((2, 2)))
    with pytest.raises(ValueError, match="expected 2 weights"):
        mf.matrix_free_weighted_lipschitz(g, np.zeros(2), np.ones(3))
    with pytest.raises(ValueError, match="expected a nonnegative int n_samples"):
        sample_points(games.Region([0.0], [1.0]), n_samples=-1)
    with pytest.raises(TypeError, match="expected a games.Region"):
        sample_points((0, 1), n_samples=1)
    with pytest.raises(ValueError, match="expected a positive int iterations"):
        mf.lanczos_extremes(lambda v: v, np.ones(2), iterations=0)
    with pytest.raises(ValueError, match="expected a finite margin_tol"):
        certify.certify(g, bounds=MatrixFree(), margin_tol=-1.0)
    with pytest.raises(ValueError, match="expected a nonnegative int n_samples"):
        MatrixFree(n_samples=-1)
