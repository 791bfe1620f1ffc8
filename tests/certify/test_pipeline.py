"""The certification pipeline end to end on the reference cases."""

import cvxpy as cp
import jax.numpy as jnp
import numpy as np
import pytest

import certify
import games
import sgn


def test_tc1_certificate_fields():
    c = certify.certify(games.get_game("sgn-toy"))
    assert c.status == "certified"
    assert c.bounds.kind == "exact"
    assert not c.is_estimate
    s = 2**-0.5
    assert c.margin == pytest.approx(1 - s, abs=1e-12)
    np.testing.assert_allclose(c.weights.values, [1.0, 200.0], rtol=1e-10)
    assert c.bounds.euclidean_margin == pytest.approx(-4.025, abs=1e-12)  # 1 - (10 + 0.05)/2
    assert c.bounds.weighted_lipschitz == pytest.approx(1 + s, abs=1e-12)
    assert c.steps.euler_step == pytest.approx(2 * (1 - s) / (1 + s) ** 2, abs=1e-12)
    assert c.steps.rk4_step_guideline == pytest.approx(2.5 / (1 + s), abs=1e-12)
    lo, hi = c.weights.band
    # r± = (2p - L12 L21 ± 2 sqrt(p (p - L12 L21))) / L21^2 with p = 1, L12 L21 = 0.5
    assert lo == pytest.approx(1.5 / 0.0025 - 2 * np.sqrt(0.5) / 0.0025, rel=1e-10)
    assert hi == pytest.approx(1.5 / 0.0025 + 2 * np.sqrt(0.5) / 0.0025, rel=1e-10)
    assert c.steps.rk4_guideline_factor == pytest.approx(0.651317, abs=1e-6)


def test_tc4_saddle_refused_and_says_why():
    # J = [[1, 3], [3, 1]]: rho(D^-1 L) = 3; sym J = J has eigenvalue -2, so the direct tests fail too.
    c = certify.certify(games.get_game("saddle"))
    assert c.status == "not_certified"
    assert "rho(D^-1 L) = 3 >= 1" in c.reason
    assert "direct tests: lambda_min(sym DF) >= -2" in c.reason
    assert "diverg" not in c.reason
    assert c.weights.band is None
    assert c.steps.euler_step == 0.0


def test_tc5_rotation_certified_by_the_direct_test_not_by_sgn():
    # J = [[1, 2], [-2, 1]] (spec TC5): the comparison matrix refuses (alpha_max = 1 - 2 = -1,
    # rho(D^-1 L) = 2) but sym J = I, so F is 1-strongly monotone in the Euclidean metric.
    c = certify.certify(games.get_game("rotation"))
    assert c.status == "certified"
    assert c.proved_by == "direct (w = 1)"
    assert c.sgn_margin == pytest.approx(-1.0, abs=1e-12)
    assert "rho(D^-1 L) = 2 >= 1" in c.extra["sgn_refusal"]
    assert c.margin == pytest.approx(1.0, abs=1e-12)
    assert c.weights.values == [1.0, 1.0]
    assert c.weights.band is None  # the timescale band belongs to the small-gain test
    # beta = ||J||_2 = sqrt(5); Euler steps h < 2 alpha / beta^2 = 2/5
    assert c.bounds.weighted_lipschitz == pytest.approx(np.sqrt(5.0), rel=1e-12)
    assert c.steps.euler_step == pytest.approx(0.4, rel=1e-12)
    report = certify.verify(c, games.get_game("rotation"), n_pairs=16, n_steps=60)
    assert report.ok


@pytest.mark.slow
def test_tc8_and_own_three_player_case_all_methods_agree():
    cyc = games.get_game("cyclic3")
    results = {m: certify.certify(cyc, weight_method=m) for m in ("perron", "sdp", "lp")}
    for c in results.values():
        assert c.status == "certified"
        assert c.sgn_margin == pytest.approx(1 - 0.4 ** (1 / 3), abs=1e-6)
        _assert_strongest(c, cyc.constant_jacobian)
    # own case: mu = (2, 1, 3), asymmetric couplings; the Perron value lambda_P(K) by numpy eigvals
    J = np.array([[2.0, 0.9, -0.4], [1.2, 1.0, 0.3], [0.2, -1.5, 3.0]])
    K = np.diag(np.diag(J)) - np.abs(J - np.diag(np.diag(J)))
    lam_p = np.min(np.linalg.eigvals(K).real)
    for m in ("perron", "sdp", "lp"):
        c = certify.certify(games.quadratic(J), weight_method=m)
        assert c.sgn_margin == pytest.approx(lam_p, abs=1e-6)
        assert c.status == ("certified" if lam_p > 0 else "not_certified")
        _assert_strongest(c, J)


def _assert_strongest(c, jac):
    """The reported margin is the largest of the three tests, each recomputed here in numpy (scalar blocks)."""
    jac = np.asarray(jac, dtype=float)
    tests = {"small-gain": c.sgn_margin, "direct (w = 1)": np.linalg.eigvalsh(0.5 * (jac + jac.T))[0]}
    if c.proved_by != "direct (w = 1)":  # then the certificate's weights are the SGN weights
        s = np.sqrt(np.asarray(c.weights.values, dtype=float))
        scaled = s[:, None] * jac / s[None, :]
        tests["direct (SGN weights)"] = np.linalg.eigvalsh(0.5 * (scaled + scaled.T))[0]
    best = max(tests, key=tests.get)
    assert c.proved_by == best
    assert c.margin == pytest.approx(tests[best], abs=1e-6)
    assert c.margin >= c.sgn_margin - 1e-12


def test_lq64_sweep_thresholds():
    lams = np.linspace(0, 2.5, 61)
    certified, euclid = [], []
    for lam in lams:
        c = certify.certify(games.get_game("lq64", lam=float(lam)))
        assert c.margin == pytest.approx(1 - lam / np.sqrt(2), abs=1e-9)  # alpha_* = 1 - lam/sqrt2
        assert c.bounds.euclidean_margin == pytest.approx(1 - 5.025 * lam, abs=1e-9)
        certified.append(c.certified)
        euclid.append(c.bounds.euclidean_margin > 0)
    assert lams[np.flatnonzero(certified).max()] == pytest.approx(1.375)  # last grid point below sqrt2
    assert lams[np.flatnonzero(euclid).max()] == pytest.approx(1 / 6)  # last below 0.199005


def test_sampled_nonlinear_game_is_marked_estimate():
    c = certify.certify(games.get_game("tanh-sin"), bounds=certify.bounds.Sampled(n_samples=256))
    assert c.bounds.kind == "sampled"
    assert c.certified
    assert c.is_estimate
    # 1-D blocks: mu_i = inf J_ii = 1 (J11 = 1 + 0.3 x^2 >= 1 attained at x = 0), L12 = 0.5, L21 = 0.8
    np.testing.assert_allclose(c.bounds.mu, [1.0, 1.0], atol=1e-12)
    assert c.bounds.coupling[0][1] == pytest.approx(0.5, abs=1e-12)  # sech^2 max at y = 0 (a sample point)
    assert c.bounds.coupling[1][0] == pytest.approx(0.8, abs=1e-12)  # |cos x| max at x = 0


def test_nan_inside_region_is_invalid_not_certified():
    g = games.from_pseudo_gradient(lambda z: z + jnp.sqrt(z[::-1]), (1, 1),
                                   region=games.Region([-1.0, -1.0], [1.0, 1.0]))
    c = certify.certify(g)
    assert c.status == "invalid"
    assert "NaN" in c.reason


def test_nonlinear_game_without_region_is_an_error():
    g = games.from_pseudo_gradient(lambda z: z + jnp.tanh(z[::-1]), (1, 1))
    with pytest.raises(ValueError, match="expected a compact region"):
        certify.certify(g)
    with pytest.raises(ValueError, match="expected a region of dimension 2"):
        certify.certify(g, region=games.Region([0.0], [1.0]))
    with pytest.raises(TypeError, match="expected a games.Game"):
        certify.certify("sgn-toy")


def test_cvxpy_failure_never_certifies(monkeypatch):
    def broken(self, *args, **kwargs):
        raise cp.error.SolverError("boom")

    monkeypatch.setattr(cp.Problem, "solve", broken)
    c = certify.certify(games.get_game("sgn-toy"), weight_method="sdp")
    assert c.status == "not_certified"
    assert "weight optimisation failed" in c.reason


def test_json_round_trip_and_verify():
    c = certify.certify(games.get_game("cyclic3"))
    back = certify.Certificate.from_json(c.to_json())
    assert back == c
    assert back.to_json() == c.to_json()
    report = certify.verify(c, games.get_game("cyclic3"), n_pairs=16, n_steps=60)
    assert report.ok
    assert report.n_ratios > 100
    assert report.worst_ratio <= report.certified_factor
    assert report.certified_factor == pytest.approx(
        float(sgn.euler_contraction_factor(c.steps.euler_best_step, c.margin, c.bounds.weighted_lipschitz)))


def test_integrity_check_detects_tampering():
    c = certify.certify(games.get_game("sgn-toy"))
    assert certify.check_certificate(c).consistent
    d = c.to_dict()
    d["margin"] = 0.3
    bad = certify.check_certificate(certify.Certificate.from_dict(d))
    assert not bad.consistent
    assert "'margin'" in bad.message


def test_optax_adapter_from_certificate_converges():
    c = certify.certify(games.get_game("sgn-toy"))
    opt = c.optimizer()
    g = games.get_game("sgn-toy")
    x = jnp.array([0.15, -0.15])
    state = opt.init(x)
    for _ in range(200):
        upd, state = opt.update(g.pseudo_gradient(x), state)
        x = x + upd
    assert float(jnp.linalg.norm(x)) < 0.15 * 0.2


@pytest.mark.slow
def test_refine_certifies_what_one_interval_box_refuses():
    # J12 = 0.9 (cos y - y sin y) uses y twice, so one interval box overestimates |J12| (L12 L21
    # about 1.49 > 1 = mu1 mu2); on the true ranges |J12| <= 0.9, |J21| <= 0.9, so 0.81 < 1.
    def coupled(z):
        x, y = z[0], z[1]
        return jnp.stack([x + 0.9 * y * jnp.cos(y), y - 0.9 * jnp.sin(x)])

    g = games.from_pseudo_gradient(coupled, (1, 1), region=games.Region([-1.0, -1.0], [1.0, 1.0]))
    one = certify.certify(g, bounds="interval")
    assert one.bounds.kind == "sound"
    assert one.sgn_margin < 0  # the comparison matrix refuses on one box
    assert one.proved_by.startswith("direct")  # (the direct monotonicity test still certifies)
    refined = certify.certify(g, bounds="refine")
    assert refined.status == "certified"
    # on the refined boxes the small-gain test passes with the true ranges: alpha_* = 1 - sqrt(0.9 * 0.9) = 0.1
    assert refined.sgn_margin == pytest.approx(0.1, abs=1e-9)
    assert refined.weights.band is not None  # (the timescale band belongs to the small-gain test, which passes)
    # ... and the strongest claim is the Euclidean direct test's, whose margin is the bounds' own
    assert refined.proved_by == "direct (w = 1)"
    assert refined.margin == refined.bounds.euclidean_margin > refined.sgn_margin
    assert refined.bounds.kind == "sound"
    assert not refined.is_estimate
    assert refined.bounds.coupling[0][1] >= 0.9 - 1e-12
    assert refined.bounds.coupling[1][0] >= 0.9 - 1e-12
    report = certify.verify(refined, g, n_pairs=16, n_steps=40)
    assert report.ok
    assert report.n_ratios > 50
