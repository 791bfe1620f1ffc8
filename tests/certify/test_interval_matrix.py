"""Interval-matrix reductions: Hertz / vertex formulas vs brute force, exactness on points."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from certify._interval._matrix import (
    interval_block_bounds,
    interval_lambda_min,
    interval_spectral_norm,
    interval_weighted_lipschitz,
    norm2_upper,
)


def _random_interval(rng, m, n, scale=0.3):
    c = rng.normal(size=(m, n))
    r = scale * np.abs(rng.normal(size=(m, n)))
    return c - r, c + r


def _brute_lambda_min(lo, hi):
    # lambda_min(sym A) is concave in the independent entries of sym A, which range over a box
    # |S - S_c| <= S_r: its minimum is at a vertex of that box (all 2^(n(n+1)/2) of them).
    n = lo.shape[0]
    c, r = (lo + hi) / 2, (hi - lo) / 2
    sc, sr = (c + c.T) / 2, (r + r.T) / 2
    idx = [(i, j) for i in range(n) for j in range(i, n)]
    best = np.inf
    for signs in itertools.product((-1.0, 1.0), repeat=len(idx)):
        s = sc.copy()
        for (i, j), z in zip(idx, signs, strict=True):  # a diagonal vertex is lo or hi itself (no rounding)
            s[i, j] = s[j, i] = (lo[i, i] if z < 0 else hi[i, i]) if i == j else sc[i, j] + z * sr[i, j]
        best = min(best, np.linalg.eigvalsh(s)[0])
    return best


def _brute_norm(lo, hi):
    # ||A||_2 is convex in A: its maximum over the box [lo, hi] is at one of its 2^(mn) vertices.
    m, n = lo.shape
    best = 0.0
    for pick in itertools.product((0, 1), repeat=m * n):
        a = np.where(np.array(pick).reshape(m, n) == 1, hi, lo)
        best = max(best, np.linalg.norm(a, 2))
    return best


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_hertz_matches_brute_force(n):
    rng = np.random.default_rng(n)
    for _ in range(15):
        lo, hi = _random_interval(rng, n, n)
        bound = float(interval_lambda_min(lo, hi))
        exact = _brute_lambda_min(lo, hi)
        assert bound <= exact
        assert exact - bound < 1e-12 * (1 + abs(exact)) + 1e-13
        weyl = float(interval_lambda_min(lo, hi, exact_max_dim=0))
        assert weyl <= bound + 1e-15


def test_boxes_of_rounding_width_skip_the_vertex_formulas_within_their_tolerance():
    # Radii of 1e-14 relative (a padded bound's grid point): the exact formulas could gain at most
    # about that, so they are skipped; the cheap bounds stay on the right side of brute force, and
    # within 1e-12 relative of it (certify._interval._matrix._GAIN).
    rng = np.random.default_rng(3)
    for n in (2, 3, 4):
        lo, hi = _random_interval(rng, n, n, scale=1e-14)
        lam, exact = float(interval_lambda_min(lo, hi)), _brute_lambda_min(lo, hi)
        assert lam <= exact
        assert exact - lam < 1e-12 * (1 + abs(exact))
        norm, exact = float(interval_spectral_norm(lo, hi)), _brute_norm(lo, hi)
        assert norm >= exact
        assert norm - exact < 1e-12 * (1 + exact)


@pytest.mark.parametrize(("m", "n"), [(1, 1), (1, 3), (4, 1), (2, 2), (3, 2), (3, 3)])
def test_vertex_norm_matches_brute_force(m, n):
    # (1, 3) and (4, 1): a vector's bound is the norm of its largest magnitudes (no vertices)
    rng = np.random.default_rng(10 * m + n)
    for _ in range(10):
        lo, hi = _random_interval(rng, m, n)
        bound = float(interval_spectral_norm(lo, hi))
        exact = _brute_norm(lo, hi)
        assert bound >= exact
        assert bound - exact < 1e-12 * (1 + exact)
        cheap = float(interval_spectral_norm(lo, hi, exact_max_dim=0))
        assert cheap >= bound - 1e-15


def test_bounds_hold_for_random_members_of_large_intervals():
    rng = np.random.default_rng(7)
    lo, hi = _random_interval(rng, 12, 12, scale=0.5)  # beyond the exact formulas
    lm = float(interval_lambda_min(lo, hi))
    nm = float(interval_spectral_norm(lo, hi))
    for _ in range(300):
        a = lo + (hi - lo) * rng.uniform(size=lo.shape)
        assert lm <= np.linalg.eigvalsh((a + a.T) / 2)[0]
        assert nm >= np.linalg.norm(a, 2)


def test_point_matrices_give_exact_values_to_rounding():
    rng = np.random.default_rng(8)
    a = rng.normal(size=(6, 5, 5))
    lam = np.linalg.eigvalsh((a + np.swapaxes(a, -1, -2)) / 2)[:, 0]
    nrm = np.linalg.norm(a, 2, axis=(-2, -1))
    for exact_max_dim in (0, 10):
        b_lam = interval_lambda_min(a, a, exact_max_dim=exact_max_dim)
        b_nrm = interval_spectral_norm(a, a, exact_max_dim=exact_max_dim)
        assert b_lam.shape == (6,)
        assert np.all(b_lam <= lam)
        assert np.all(b_nrm >= nrm)
        np.testing.assert_allclose(b_lam, lam, rtol=1e-13, atol=1e-13)
        np.testing.assert_allclose(b_nrm, nrm, rtol=1e-13)


def _exact_block_bounds(j, dims):
    off = np.concatenate([[0], np.cumsum(dims)])
    sl = [slice(off[i], off[i + 1]) for i in range(len(dims))]
    sym = lambda m: (m + m.T) / 2  # noqa: E731
    mu = np.array([np.linalg.eigvalsh(sym(j[s, s]))[0] for s in sl])
    cpl = np.array([[0.0 if i == k else np.linalg.norm(j[si, sk], 2) for k, sk in enumerate(sl)]
                    for i, si in enumerate(sl)])  # fmt: skip
    bn = np.array([np.linalg.norm(j[s, s], 2) for s in sl])
    return mu, cpl, bn, np.linalg.norm(j, 2), np.linalg.eigvalsh(sym(j))[0]


def test_constant_jacobian_block_bounds_equal_exact_ones():
    rng = np.random.default_rng(9)
    j = rng.normal(size=(6, 6)) + 3 * np.eye(6)
    dims = (1, 2, 3)
    b = interval_block_bounds(j, j, dims)
    mu, cpl, bn, lip, marg = _exact_block_bounds(j, dims)
    assert b.kind == "sound"
    assert b.n_points == 1
    assert np.all(b.mu <= mu)
    assert np.all(b.coupling >= cpl)
    assert np.all(b.block_norm >= bn)
    assert b.lipschitz >= lip
    assert b.euclidean_margin <= marg
    np.testing.assert_allclose(b.mu, mu, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(b.coupling, cpl, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(b.block_norm, bn, rtol=1e-13)
    np.testing.assert_allclose([b.lipschitz, b.euclidean_margin], [lip, marg], rtol=1e-13)


def test_worst_case_over_boxes_not_the_hull():
    # Two point boxes: J1 = [[1, 1], [0, 1]], J2 = [[1, 0], [1, 1]]. The worst case over boxes is
    # max(||J1||, ||J2||) = golden ratio; the hull [[1, [0,1]], [[0,1], 1]] has norm 2.
    j = np.array([[[1.0, 1.0], [0.0, 1.0]], [[1.0, 0.0], [1.0, 1.0]]])
    b = interval_block_bounds(j, j, (1, 1))
    golden = (1 + np.sqrt(5)) / 2
    np.testing.assert_allclose(b.lipschitz, golden, rtol=1e-13)
    assert b.n_points == 2
    np.testing.assert_allclose(b.coupling, [[0.0, 1.0], [1.0, 0.0]], rtol=1e-13)


def test_weighted_lipschitz():
    # Paper toy J = [[1, 10], [0.05, 1]] with w = (1, 200): M^1/2 J M^-1/2 = [[1, a], [a, 1]],
    # a = 10 / sqrt(200) = 0.05 sqrt(200) = 1/sqrt 2, so beta = 1 + 1/sqrt 2 (spec TC1).
    j = np.array([[1.0, 10.0], [0.05, 1.0]])
    beta = interval_weighted_lipschitz(j, j, (1, 1), (1.0, 200.0))
    assert beta >= 1 + 2**-0.5
    np.testing.assert_allclose(beta, 1 + 2**-0.5, rtol=1e-13)
    rng = np.random.default_rng(11)
    lo, hi = _random_interval(rng, 5, 5)
    w = np.array([0.3, 4.0])
    beta = interval_weighted_lipschitz(lo, hi, (2, 3), w)
    s = np.sqrt(np.repeat(w, (2, 3)))
    for _ in range(300):
        a = lo + (hi - lo) * rng.uniform(size=lo.shape)
        assert beta >= np.linalg.norm(s[:, None] * a / s[None, :], 2)


def test_nonfinite_entries_give_vacuous_bounds():
    lo = np.array([[[1.0, -np.inf], [0.0, 1.0]], [[1.0, 0.0], [0.0, 1.0]]])
    hi = np.array([[[1.0, np.inf], [0.0, 1.0]], [[1.0, 0.0], [0.0, 1.0]]])
    b = interval_block_bounds(lo, hi, (1, 1))
    assert b.coupling[0, 1] == np.inf
    assert b.lipschitz == np.inf
    assert b.euclidean_margin == -np.inf
    assert b.mu[0] <= 1.0
    assert b.mu[0] > 1 - 1e-12
    assert interval_weighted_lipschitz(lo, hi, (1, 1), (1.0, 1.0)) == np.inf


def test_input_errors():
    a = np.eye(2)
    with pytest.raises(ValueError, match="expected interval matrix bounds of one shape"):
        interval_lambda_min(a, np.eye(3))
    with pytest.raises(ValueError, match="expected lo <= hi"):
        interval_spectral_norm(a, a - 1)
    with pytest.raises(ValueError, match="expected square matrices"):
        interval_lambda_min(np.zeros((2, 3)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="expected positive dims summing to 2"):
        interval_block_bounds(a, a, (1, 2))
    with pytest.raises(ValueError, match="expected square Jacobians"):
        interval_block_bounds(np.zeros((2, 3)), np.zeros((2, 3)), (1, 1))
    with pytest.raises(ValueError, match="expected 2 positive finite weights"):
        interval_weighted_lipschitz(a, a, (1, 1), (1.0, -1.0))


@pytest.mark.parametrize("scale", [1e-320, 1e-300, 1e-170, 1.0, 1e170, 1e300])
def test_norm2_upper_is_an_upper_bound_at_every_scale(scale):
    # math.hypot (a second implementation, correctly scaled) against the plain sum of squares, which
    # underflows to 0 below 1e-154 and overflows above 1e154.
    v = scale * np.array([3.0, 4.0, 1.0, 0.5])
    ref = math.hypot(*v)
    with np.errstate(all="raise"):
        got = float(norm2_upper(v))
    assert ref <= got <= ref * (1 + 1e-14) + 1e-322
    assert float(norm2_upper(np.zeros(3))) == 0.0
    assert float(norm2_upper(np.array([1.0, np.inf]))) == np.inf


def test_lambda_min_of_huge_entries_is_finite_and_below_the_true_value():
    # Found by the program fuzzer (seed 19, family 95): expm1 on [-800, 800]^2 gives Jacobian bounds
    # near 1e174; the Frobenius norm in the LAPACK slack squared them to inf (a NumPy overflow
    # warning out of certify). A point matrix diag(1e174, 2e174): lambda_min = 1e174 exactly.
    a = np.diag([1e174, 2e174])[None]
    with np.errstate(all="raise"):
        lam = float(interval_lambda_min(a, a)[0])
    assert 1e174 * (1 - 1e-13) <= lam <= 1e174
