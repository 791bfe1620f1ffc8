"""Issue 14: the direct monotonicity test beside SGN, and the RK4 step's region hypothesis."""

import jax.numpy as jnp
import numpy as np
import pytest

import certify
import games
import sgn


def _tanh_sin_jacobian(x, y, c):
    # F = (x + c/2 tanh y + x^3/10, y - 0.8 c sin x): derived by hand.
    return np.array([[1 + 0.3 * x**2, 0.5 * c / np.cosh(y) ** 2], [-0.8 * c * np.cos(x), 1.0]])


@pytest.mark.slow  # 3-4 s (an interval compile and a 201 x 201 eigenvalue grid); test_decision covers the rule
def test_tanh_sin_strongly_monotone_game_refused_by_sgn_is_certified_by_the_direct_test():
    c = certify.certify(games.get_game("tanh-sin", coupling=1.6), bounds="interval")
    assert c.status == "certified"
    assert c.bounds.kind == "sound"
    assert c.proved_by.startswith("direct")
    assert c.sgn_margin <= 0  # L12 L21 = 0.8 * 1.28 > mu1 mu2 = 1: the comparison matrix refuses
    # The certified margin is a sound lower bound on min_K lambda_min(sym(W^1/2 J W^-1/2)), W the
    # certificate's weights: check it against the analytic Jacobian on a fine grid.
    s = np.sqrt(np.asarray(c.weights.values))
    grid = np.linspace(-1.0, 1.0, 201)
    worst = min(np.linalg.eigvalsh(0.5 * (a + a.T))[0]
                for x in grid for y in grid
                for a in [s[:, None] * _tanh_sin_jacobian(x, y, 1.6) / s[None, :]])
    assert 0 < c.margin <= worst + 1e-12
    report = certify.verify(c, games.get_game("tanh-sin", coupling=1.6), n_pairs=16, n_steps=40)
    assert report.ok


def _expanding_game():
    # F = (-x + y/2 + x^3/10, -y - x/2) on [-1, 1]^2: DF = [[-1 + 0.3 x^2, 0.5], [-0.5, -1]], so
    # sym DF = diag(-1 + 0.3 x^2, -1) and lambda_min(sym DF) = -1 everywhere: no test can prove anything.
    return games.from_pseudo_gradient(lambda z: jnp.stack([-z[0] + 0.5 * z[1] + 0.1 * z[0] ** 3, -z[1] - 0.5 * z[0]]),
                                      (1, 1), region=games.Region([-1.0, -1.0], [1.0, 1.0]))


@pytest.mark.parametrize("make", [
    _expanding_game,
    # Letcher's game compiles a large enclosure (about 30 s): slow suite.
    pytest.param(lambda: games.get_game("impossibility"), marks=pytest.mark.slow, id="impossibility"),
])
def test_sound_euclidean_margin_reported_when_nothing_certifies(make):
    c = certify.certify(make(), bounds="interval")
    assert c.status == "not_certified"
    assert "direct tests" in c.reason
    assert c.proved_by == ""
    assert "proved_by" not in c.extra


def _offset_game(sign):
    # F_i = x_i + 30 + 0.05 x_i^3 +- 0.01 x_j on [-1, 1]^2 (issue 14, item 5): |F| ~ 30 on the box.
    def pseudo_gradient(z):
        x, y = z[0], z[1]
        return jnp.stack([x + 30.0 + 0.05 * x**3 + 0.01 * y, y + 30.0 + 0.05 * y**3 + sign * 0.01 * x])

    return games.from_pseudo_gradient(pseudo_gradient, (1, 1), region=games.Region([-1.0, -1.0], [1.0, 1.0]))


def _rk4_stages(f, x, h):
    k1 = f(x)
    k2 = f(x - 0.5 * h * k1)
    k3 = f(x - 0.5 * h * k2)
    k4 = f(x - h * k3)
    return [x, x - 0.5 * h * k1, x - 0.5 * h * k2, x - h * k3], x - h * (k1 + 2 * k2 + 2 * k3 + k4) / 6


@pytest.mark.parametrize("sign", [1.0, -1.0])
@pytest.mark.slow
def test_rk4_step_holds_on_its_inner_region_where_every_stage_stays_in_the_box(sign):
    g = _offset_game(sign)
    c = certify.certify(g, bounds="interval")
    assert c.status == "certified"
    box = c.extra["rk4_region"]
    lo, hi = np.asarray(box["lo"]), np.asarray(box["hi"])
    assert np.all(lo < hi)
    assert np.all(lo >= -1.0)
    assert np.all(hi <= 1.0)
    h = c.steps.rk4_step
    # Without the hypothesis the unrestricted bound would take stages ~30 h outside the box.
    assert h <= float(sgn.rk4_step_bound(c.margin, c.bounds.weighted_lipschitz)) + 1e-15
    q = float(sgn.rk4_contraction_factor(h, c.margin, c.bounds.weighted_lipschitz))
    assert q < 1
    f = lambda x: np.asarray(g.pseudo_gradient(jnp.asarray(x)))  # noqa: E731
    rng = np.random.default_rng(0)
    scale = np.sqrt(np.asarray(c.weights.values))
    for _ in range(50):
        x, y = lo + rng.random((2, 2)) * (hi - lo)
        sx, x1 = _rk4_stages(f, x, h)
        sy, y1 = _rk4_stages(f, y, h)
        for p in sx + sy:  # the hypothesis the step rests on
            assert np.all(p >= -1.0 - 1e-12)
            assert np.all(p <= 1.0 + 1e-12)
        ratio = np.linalg.norm(scale * (x1 - y1)) / np.linalg.norm(scale * (x - y))
        assert ratio <= q * (1 + 1e-9)
