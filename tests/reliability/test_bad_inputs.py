"""The table of bad inputs: every class gets a clear error or an honest status, never a certificate.

Each row of ``API_ERRORS`` is ``(class id, call, exception type, message pattern)``; the same
table (by class id) is in the README section "What a certificate guarantees". Rows whose answer
is a *status* (the game's output is bad, not the call) are separate tests below.
"""


import jax.numpy as jnp
import numpy as np
import pytest

import certify
import games
import sgn
from games import Region

TOY = [[1.0, 10.0], [0.05, 1.0]]
BOX2 = Region([-1.0, -1.0], [1.0, 1.0])


def _raise_in_f(x):
    raise RuntimeError("boom")


def _nonlinear(region=BOX2):
    return games.from_pseudo_gradient(lambda x: x + 0.1 * jnp.tanh(x[::-1]), (1, 1), region=region)


API_ERRORS = [
    # --- shapes and block partitions
    ("J of rank 3", lambda: games.quadratic(np.ones((2, 2, 2))), ValueError, "matrix \\(rank 2\\)"),
    ("J not square", lambda: games.quadratic(np.ones((2, 3))), ValueError, "square J"),
    ("J empty", lambda: games.quadratic(np.ones((0, 0))), ValueError, "non-empty J"),
    ("dims do not sum to dim", lambda: games.quadratic(np.eye(3), dims=(1, 1)), ValueError, "summing to 3"),
    ("zero block size", lambda: games.quadratic(np.eye(2), dims=(0, 2)), ValueError, "positive block sizes"),
    ("fractional block size", lambda: games.quadratic(np.eye(2), dims=(1.5, 0.5)), ValueError,
     "block size in dims to be an integer"),
    ("dims given as a string", lambda: games.from_pseudo_gradient(lambda x: x, "ab"), TypeError,
     "sequence of ints"),
    ("b of the wrong shape", lambda: games.quadratic(np.eye(2), b=np.ones(3)), ValueError, "b of shape"),
    ("one strategy set too few", lambda: games.quadratic(np.eye(2), sets=[games.Box()]), ValueError,
     "2 strategy sets"),
    ("non-numeric matrix", lambda: games.quadratic([["a", "b"], ["c", "d"]]), TypeError, "numeric matrix"),
    # --- NaN / Inf in matrices
    ("NaN in J", lambda: games.quadratic([[1.0, np.nan], [0.0, 1.0]]), ValueError, "finite values in J"),
    ("Inf in b", lambda: games.quadratic(np.eye(2), b=[np.inf, 0.0]), ValueError, "finite values in b"),
    ("NaN in bounds mu", lambda: certify.optimize_block_weights(np.array([1.0, np.nan]), np.zeros((2, 2))),
     ValueError, "finite values in mu"),
    ("negative coupling bound", lambda: certify.optimize_block_weights(np.ones(2), -np.ones((2, 2))),
     ValueError, "nonnegative L"),
    ("mu and L of different sizes", lambda: certify.optimize_block_weights(np.ones(2), np.zeros((3, 3))),
     ValueError, "to match mu"),
    # --- a game whose F is broken
    ("F raises", lambda: certify.certify(games.from_pseudo_gradient(_raise_in_f, (1, 1), region=BOX2)),
     ValueError, "evaluates on a \\(2,\\) vector, got RuntimeError: boom"),
    ("F of the wrong output shape",
     lambda: certify.certify(games.from_pseudo_gradient(lambda x: x[:1], (1, 1), region=BOX2)),
     ValueError, "output shape \\(1,\\)"),
    ("F returns a list", lambda: certify.certify(games.from_pseudo_gradient(lambda x: [x], (1, 1), region=BOX2)),
     ValueError, "return one \\(2,\\) array"),
    ("F returns integers",
     lambda: certify.certify(games.from_pseudo_gradient(lambda x: jnp.round(x).astype(int), (1, 1), region=BOX2)),
     ValueError, "return floats"),
    ("not a game", lambda: certify.certify("sgn-toy"), TypeError, "games.Game"),
    # --- regions: non-convex, unbounded, inverted, zero-volume, wrong dimension
    ("inverted box", lambda: Region([1.0, 1.0], [0.0, 0.0]), ValueError, "lo <= hi"),
    ("NaN region bound", lambda: Region([np.nan, 0.0], [1.0, 1.0]), ValueError, "finite region bounds"),
    ("unbounded region (Inf)", lambda: Region([-np.inf, 0.0], [1.0, 1.0]), ValueError, "finite region bounds"),
    ("unbounded: nonlinear game without a region",
     lambda: certify.certify(games.from_pseudo_gradient(lambda x: x, (1, 1))), ValueError, "compact region"),
    ("non-convex region (not a box)",
     lambda: Region.from_dict({"lo": [0, 0], "hi": [1, 1], "kind": "annulus"}), ValueError, "only 'lo' and 'hi'"),
    ("region with non-numeric bounds", lambda: Region.from_dict({"lo": ["a", 0], "hi": [1, 1]}), TypeError,
     "numbers in region 'lo'"),
    ("region of the wrong dimension", lambda: certify.certify(_nonlinear(), region=Region([0.0], [1.0])),
     ValueError, "region of dimension 2"),
    ("region of rank 2", lambda: Region(np.zeros((2, 2)), np.ones((2, 2))), ValueError, "1-D shape"),
    ("zero-volume region, sampled bounds", lambda: certify.certify(_nonlinear(), region=Region([0.0, 0.0], [0.0, 1.0])),
     ValueError, "positive width in every coordinate for sampled bounds"),
    ("zero-volume region, interval bounds",
     lambda: certify.certify(_nonlinear(), region=Region([0.0, 0.0], [0.0, 0.0]), bounds="interval"),
     ValueError, "positive width in every coordinate for interval bounds"),
    ("negative radius", lambda: Region.around([0.0, 0.0], -1.0), ValueError, "nonnegative radius"),
    ("infinite radius", lambda: Region.around([0.0, 0.0], np.inf), ValueError, "finite radius"),
    ("inverted box strategy set", lambda: games.Box(1.0, 0.0), ValueError, "lo <= hi for a box"),
    ("zero ball radius", lambda: games.Ball(0.0), ValueError, "positive finite ball radius"),
    ("NaN ball center", lambda: games.Ball(1.0, center=np.nan), ValueError, "finite scalar or 1-D ball center"),
    # --- weights
    ("zero weight", lambda: sgn.small_gain_margin(np.ones(2), np.zeros((2, 2)), np.array([0.0, 1.0])),
     ValueError, "positive weights"),
    ("negative weight", lambda: certify.bounds.Sampled(n_samples=4)(_nonlinear(), BOX2).weighted_lipschitz(
        np.array([-1.0, 1.0])), ValueError, "positive weights"),
    ("wrong number of weights", lambda: sgn.small_gain_margin(np.ones(2), np.zeros((2, 2)), np.ones(3)),
     ValueError, "2 weights"),
    # --- registry and parameters
    ("unknown game name", lambda: games.get_game("no-such-game"), ValueError, "registered game"),
    ("unknown parameter", lambda: games.get_game("sgn-toy", zz=1.0), ValueError, "parameters of 'sgn-toy'"),
    ("non-finite parameter", lambda: games.get_game("sgn-toy", a=float("inf")), ValueError, "finite parameter 'a'"),
    ("fractional integer parameter", lambda: games.get_game("lq64", half=1.5), ValueError,
     "integer for parameter 'half'"),
    ("string parameter", lambda: games.get_game("sgn-toy", a="x"), TypeError, "number for parameter 'a'"),
    ("oversized game (dim > 1e4)", lambda: games.get_game("lq64", half=5001), ValueError, "half <= 5000"),
    # --- options
    ("unknown bounds method", lambda: certify.certify(games.get_game("sgn-toy"), bounds="magic"), ValueError,
     "bounds method"),
    ("unknown weight method", lambda: certify.certify(games.get_game("sgn-toy"), weight_method="magic"), ValueError,
     "weight method"),
    ("negative seed", lambda: certify.bounds.Sampled(seed=-1), ValueError, "expected a nonnegative int seed, got -1"),
    ("boolean n_samples", lambda: certify.bounds.Sampled(n_samples=True), ValueError,
     "expected a positive int n_samples, got True"),
    ("a seed where nothing is random", lambda: certify.bounds.resolve("auto", games.get_game("sgn-toy"), seed=1),
     ValueError, "seed does not apply to bounds exact"),
    ("negative margin_tol", lambda: certify.certify(games.get_game("sgn-toy"), margin_tol=-1.0), ValueError,
     "margin_tol >= 0"),
    ("zero bisection tol",
     lambda: certify.optimize_block_weights(np.ones(2), np.zeros((2, 2)), weight_method="lp", tol=0.0),
     ValueError, "finite tol > 0"),
    ("sampled bounds with no sample point in dim 12 (no vertices there)",
     lambda: certify.certify(games.from_pseudo_gradient(jnp.tanh, (6, 6), region=Region.around(np.zeros(12), 1.0)),
                             bounds=certify.bounds.resolve("sampled", games.get_game("sgn-toy"), n_samples=0)),
     ValueError, "positive int n_samples"),
    ("exact bounds of a nonlinear game", lambda: certify.certify(_nonlinear(), bounds="exact"), ValueError,
     "affine game"),
    ("sampled bounds too large for memory (dim 1e4)",
     lambda: certify.bounds.Sampled()(
         games.from_pseudo_gradient(jnp.tanh, (5000, 5000), region=Region.around(np.zeros(10_000), 1.0))),
     ValueError, "fit in 2 GiB"),
]


@pytest.mark.parametrize(("case", "call", "exc", "match"), API_ERRORS, ids=[r[0] for r in API_ERRORS])
def test_api_bad_input_raises_clear_error(case, call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_table_has_at_least_30_classes():
    assert len({row[0] for row in API_ERRORS}) >= 30


# --- tabular games ------------------------------------------------------------------------------


@pytest.mark.parametrize(("case", "kwargs", "match"), [
    ("tau < 0", {"tau": -1.0}, "tau >= 0"),
    ("tau NaN", {"tau": float("nan")}, "tau >= 0"),
])
def test_matrix_game_bad_tau(case, kwargs, match):
    with pytest.raises(ValueError, match=match):
        games.matrix_game([[1.0, -1.0], [-1.0, 1.0]], **kwargs)


@pytest.mark.parametrize(("case", "transitions", "kwargs", "match"), [
    ("gamma = 1", np.full((2, 2, 2, 2), 0.5), {"gamma": 1.0, "tau": 1.0}, "gamma in \\[0, 1\\)"),
    ("gamma > 1", np.full((2, 2, 2, 2), 0.5), {"gamma": 1.5, "tau": 1.0}, "gamma in \\[0, 1\\)"),
    ("tau < 0", np.full((2, 2, 2, 2), 0.5), {"gamma": 0.9, "tau": -0.1}, "tau >= 0"),
    ("rows sum to 0.8", np.full((2, 2, 2, 2), 0.4), {"gamma": 0.9, "tau": 1.0}, "rows summing to 1"),
    ("negative probability", np.stack([np.full((2, 2, 2), 1.5), np.full((2, 2, 2), -0.5)], -1),
     {"gamma": 0.9, "tau": 1.0}, "nonnegative transition"),
])
def test_markov_game_bad_inputs(case, transitions, kwargs, match):
    with pytest.raises(ValueError, match=match):
        games.markov_game(transitions, np.zeros((2, 2, 2, 2)), **kwargs)


# --- answers given as a status: the game's numbers are bad, never certified -------------------


@pytest.mark.parametrize(("case", "f"), [
    ("NaN everywhere", lambda x: x * jnp.nan),
    ("Inf at one point of the region (1/x at 0)", lambda x: x / x[0]),
    ("NaN only in the Jacobian (sqrt at 0)", lambda x: jnp.sqrt(jnp.abs(x)) + x),
])
def test_nonfinite_game_output_is_invalid_never_certified(case, f):
    cert = certify.certify(games.from_pseudo_gradient(f, (1, 1), region=BOX2))
    assert cert.status == certify.Status.INVALID
    assert not cert.certified
    assert "NaN/Inf" in cert.reason
    assert np.isnan(cert.margin)  # no silent number: the margin says "no value"
    assert cert.steps.euler_step == 0.0


def test_a_region_does_not_apply_to_exact_bounds():
    # Affine game: exact bounds are global, so a region (even a zero-volume one) is refused as not applying
    # (issue 24: one rule with the CLI's --region); without one the certificate is TC1's.
    with pytest.raises(ValueError, match="region does not apply to the exact bounds of the affine game"):
        certify.certify(games.quadratic(TOY), region=Region([0.0, 0.0], [0.0, 0.0]))
    cert = certify.certify(games.quadratic(TOY))
    assert cert.status == certify.Status.CERTIFIED
    assert cert.region is None
    assert cert.margin == pytest.approx(1 - 1 / np.sqrt(2), rel=1e-12)  # spec TC1: 1 - 1/sqrt(2)


# --- extreme scales: honest answers, no NaN, no hang ----------------------------------------


@pytest.mark.parametrize("scale", [1e-12, 1e12])
@pytest.mark.parametrize("method", ["perron", "lp"])
def test_extreme_coupling_scale_is_decided_not_nan(scale, method):
    # mu = (1, 1), L12 = L21 = s: alpha_max = 1 - s (closed form of the 2x2 Perron value).
    cert = certify.certify(games.quadratic([[1.0, scale], [scale, 1.0]]), weight_method=method)
    assert np.isfinite(cert.margin)
    if scale < 1:
        assert cert.status == certify.Status.CERTIFIED
        assert cert.margin == pytest.approx(1 - scale, rel=1e-6)
    else:
        assert cert.status == certify.Status.NOT_CERTIFIED
        assert "small-gain" in cert.reason


@pytest.mark.parametrize("s", [1e-12, 1e12])
def test_whole_game_rescaled_keeps_the_weights(s):
    # alpha_* is homogeneous of degree one in K: J -> sJ scales the margin by s, weights unchanged.
    cert = certify.certify(games.quadratic(s * np.asarray(TOY)), weight_method="lp")
    assert cert.margin / s == pytest.approx(1 - 1 / np.sqrt(2), rel=1e-6)
    assert cert.weights.values[1] / cert.weights.values[0] == pytest.approx(200.0, rel=1e-6)  # r* = L12 / L21
    # 1e-12-scale margins fall under the absolute floor of the tolerance: refused, never certified.
    assert cert.certified == (s > 1)


def test_dim_one_game():
    cert = certify.certify(games.quadratic([[2.0]]))
    assert cert.status == certify.Status.CERTIFIED
    assert cert.margin == 2.0
    assert certify.certify(games.quadratic([[-2.0]])).status == certify.Status.NOT_CERTIFIED


def test_large_affine_game_takes_the_block_path(monkeypatch):
    # The block path normally starts above LARGE_DIM = 2048; lowered here so that it runs in
    # milliseconds. Two 3-d players, J = [[2I, c R], [c R^T, 2I]] with R orthogonal: mu = (2, 2),
    # L12 = L21 = c, alpha_max = 2 - c (2x2 Perron value); beta by the block bound
    # ||[[2, c], [c, 2]]|| = 2 + c; lambda_min(sym J) >= 2 - c (block lower bound, exact here).
    from certify.bounds import _exact  # the size threshold is private: patched for speed only

    monkeypatch.setattr(_exact, "LARGE_DIM", 4)
    half, c = 3, 0.5
    r = games.lq_coupling_matrix(half, 0)
    eye = np.eye(half)
    g = games.quadratic(np.block([[2 * eye, c * r], [c * r.T, 2 * eye]]), dims=(half, half), params={})
    cert = certify.certify(g)
    assert cert.status == certify.Status.CERTIFIED
    assert cert.margin == pytest.approx(2 - c, rel=1e-9)
    assert cert.bounds.weighted_lipschitz == pytest.approx(2 + c, rel=1e-9)
    assert cert.bounds.euclidean_margin == pytest.approx(2 - c, rel=1e-9)
    assert np.isnan(cert.steps.rk4_guideline_factor)  # the exact d x d RK4 factor is skipped


@pytest.mark.parametrize("shape", [(7, 5), (5, 7), (6, 6)])
def test_block_norms_from_the_gram_matrix_match_the_svd(monkeypatch, shape):
    # Above GRAM_FROM (512) a block's spectral norm is sqrt(lambda_max) of its smaller Gram matrix;
    # lowered here to run small. The second implementation is NumPy's SVD: largest singular value.
    from certify.bounds import _exact  # private threshold, patched for speed only

    monkeypatch.setattr(_exact, "GRAM_FROM", 2)
    a = np.random.default_rng(sum(shape)).normal(size=shape)
    assert _exact._norm2(a) == pytest.approx(np.linalg.svd(a, compute_uv=False)[0], rel=1e-13)
    assert _exact._norm2(np.zeros(shape)) == 0.0


def test_exact_quantities_take_their_norms_from_the_gram_matrix(monkeypatch):
    from certify.bounds import _exact  # private threshold, patched for speed only

    monkeypatch.setattr(_exact, "GRAM_FROM", 2)
    # The block relaxation: mu = (2, 2), L12 = L21 = ||ones(3, 3)||_2 = 3 (rank one), block norms 2.
    jac = np.block([[2 * np.eye(3), np.ones((3, 3))], [np.ones((3, 3)), 2 * np.eye(3)]])
    mu, coupling, block, _, _ = _exact._block_relaxation(jac, (3, 3))
    np.testing.assert_allclose(coupling, [[0.0, 3.0], [3.0, 0.0]], rtol=1e-13)
    np.testing.assert_allclose(mu, [2.0, 2.0], rtol=1e-13)
    np.testing.assert_allclose(block, [2.0, 2.0], rtol=1e-13)
    # The exact path below LARGE_DIM, against NumPy's SVD of every block and of the whole matrix.
    jac = np.random.default_rng(3).normal(size=(6, 6))
    _, coupling, block, lip, _ = _exact.jacobian_quantities(jac, (3, 3))
    top = lambda m: np.linalg.svd(m, compute_uv=False)[0]  # noqa: E731
    np.testing.assert_allclose(block, [top(jac[:3, :3]), top(jac[3:, 3:])], rtol=1e-13)
    np.testing.assert_allclose([coupling[0, 1], coupling[1, 0]], [top(jac[:3, 3:]), top(jac[3:, :3])], rtol=1e-13)
    assert lip == pytest.approx(top(jac), rel=1e-13)


@pytest.mark.slow
def test_dim_1e4_affine_game_finishes():
    # Completion is the point (no hang, no memory blow-up); its time is a benchmark matter.
    cert = certify.certify(games.get_game("lq64", half=5000, lam=1.0))
    assert cert.status == certify.Status.CERTIFIED
    # lq64: mu = 1, L12 = lam a, L21 = lam b (R orthogonal): alpha = 1 - lam sqrt(ab) = 1 - 1/sqrt(2).
    assert cert.margin == pytest.approx(1 - np.sqrt(0.5), rel=1e-9)
