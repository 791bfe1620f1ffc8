"""Batched certification maps: the LQ sweep thresholds, no re-tracing, tilings, the CLI."""

import json

import chex
import numpy as np
import pytest

import certify
import certify.sweep
import games
from certify import cli
from certify.sweep import (
    certify_region_grid,
    make_mesh,
    sweep_games,
    sweep_parameter,
)

LAMS = np.linspace(0.0, 2.5, 61)  # the paper's grid (spec-sgn-math §8.2)


@pytest.fixture(scope="module")
def lq_map():
    return sweep_parameter("lq64", "lam", LAMS)


def test_lq64_thresholds(lq_map):
    # R orthogonal: alpha_* = 1 - lam/sqrt(2) (zero at sqrt 2), gamma_Euc = 1 - 5.025 lam (zero at 0.199005),
    # beta = 1 + lam/sqrt(2) (spec §8.2, derived from the scalar 2x2 game [[1, 10 lam], [0.05 lam, 1]]).
    np.testing.assert_allclose(lq_map.margin, 1 - LAMS / np.sqrt(2), atol=1e-12)
    np.testing.assert_allclose(lq_map.euclidean_margin, 1 - 5.025 * LAMS, atol=1e-12)
    np.testing.assert_allclose(lq_map.beta, 1 + LAMS / np.sqrt(2), atol=1e-12)
    np.testing.assert_array_equal(lq_map.certified, LAMS < np.sqrt(2))
    np.testing.assert_array_equal(lq_map.euclidean_certified, LAMS < 1 / 5.025)
    assert lq_map.last_certified() == 1.375
    assert lq_map.last_certified(euclidean=True) == pytest.approx(1 / 6, abs=1e-15)
    # balanced weights w2/w1 = a/b = 200 wherever there is coupling
    np.testing.assert_allclose(lq_map.weights[1:, 1] / lq_map.weights[1:, 0], 200.0, rtol=1e-9)
    assert lq_map.batched
    assert lq_map.bounds_kind == "exact"


def test_lq64_sweep_matches_pipeline(lq_map):
    for k in (5, 33, 60):
        c = certify.certify(games.get_game("lq64", lam=float(LAMS[k])))
        assert c.margin == pytest.approx(lq_map.margin[k], abs=1e-10)
        assert c.certified == bool(lq_map.certified[k])


@pytest.mark.slow
def test_no_retracing_across_sweeps(monkeypatch):
    # Every sweep kernel is built by `_sharded`: wrap each per-item function so that a second trace raises.
    sharded, wrapped = certify.sweep._sharded, []

    def checked(fn, mesh, n_in):
        wrapped.append(fn.__name__)
        return sharded(chex.assert_max_traces(fn, n=1), mesh, n_in)

    monkeypatch.setattr(certify.sweep, "_sharded", checked)
    chex.clear_trace_counter()
    certify.sweep._kernel.cache_clear()
    try:
        for start in (0.1, 0.2, 0.3):  # the first sweep traces each kernel once, the others reuse them
            sweep_parameter("lq64", "lam", np.linspace(start, 1.0, 7), params={"half": 3})
    finally:
        certify.sweep._kernel.cache_clear()  # the wrapped kernels stay out of the other tests
    assert {"diag_min", "block_norms", "weights"} <= set(wrapped)


@pytest.mark.slow
def test_sampled_bounds_sharded_equal_pipeline():
    g = games.get_game("tanh-sin")
    ours = certify.bounds.Sampled(n_samples=300, seed=4, mesh=make_mesh())(g)
    ref = certify.bounds.Sampled(n_samples=300, seed=4)(g)
    np.testing.assert_allclose(ours.mu, ref.mu, rtol=1e-13)
    np.testing.assert_allclose(ours.coupling, ref.coupling, rtol=1e-13)
    assert ours.lipschitz == pytest.approx(ref.lipschitz, rel=1e-13)
    assert ours.euclidean_margin == pytest.approx(ref.euclidean_margin, rel=1e-13)
    assert ours.n_points == ref.n_points
    # the stored evidence answers the weighted questions alike on both placements
    w = np.array([1.0, 3.0])
    np.testing.assert_allclose(ours.at_weights(w), ref.at_weights(w), rtol=1e-13)


@pytest.mark.slow
def test_region_grid_tiles_match_per_tile_bounds():
    g = games.get_game("tanh-sin", radius=2.0)
    m = certify_region_grid(g, divisions=(3, 2), n_samples=16, seed=1)
    assert m.lo.shape == (6, 2)
    assert m.divisions == (3, 2)
    # tiles cover the box
    assert np.isclose(np.prod(m.hi - m.lo, axis=1).sum(), 16.0)
    # tanh-sin: J = [[1 + 0.3 x^2, 0.5 sech^2 y], [-0.8 cos x, 1]] -> mu_1 = 1 + 0.3 min x^2 over samples >= 1
    assert np.all(m.mu[:, 0] >= 1.0)
    assert np.all(m.mu[:, 1] == 1.0)
    assert np.all(m.coupling[:, 1, 0] <= 0.8 + 1e-12)
    assert np.all(m.coupling[:, 0, 1] <= 0.5 + 1e-12)
    # each tile's small-gain margin equals the 2x2 Perron value of its own bounds
    lam = [np.min(np.linalg.eigvals(np.array([[a[0], -c[0, 1]], [-c[1, 0], a[1]]])).real)
           for a, c in zip(m.mu, m.coupling, strict=True)]
    np.testing.assert_allclose(m.sgn_margin, lam, atol=1e-10)
    # and its certified margin is the strongest test's, as certify decides on the same tile and points
    assert np.all(m.margin >= m.sgn_margin)
    assert m.certified.all()
    assert np.all(m.margin >= m.euclidean_margin)


def test_sweep_errors():
    with pytest.raises(ValueError, match="expected a parameter"):
        sweep_parameter("lq64", "nope", [0.0, 1.0])
    with pytest.raises(ValueError, match="non-empty"):
        sweep_parameter("lq64", "lam", [])
    with pytest.raises(ValueError, match="finite"):
        sweep_parameter("lq64", "lam", [0.0, np.nan])
    with pytest.raises(ValueError, match="at least one game"):
        sweep_games([])
    with pytest.raises(ValueError, match="affine"):
        sweep_games([games.get_game("tanh-sin")])
    with pytest.raises(ValueError, match="equal block sizes"):
        sweep_games([games.get_game("sgn-toy"), games.get_game("cyclic3")])
    with pytest.raises(ValueError, match="divisions"):
        certify_region_grid(games.get_game("tanh-sin"), divisions=0)
    with pytest.raises(ValueError, match="at least one device"):
        make_mesh([])


@pytest.mark.slow
def test_nonlinear_sweep_falls_back_to_pipeline():
    r = sweep_parameter("tanh-sin", "coupling", [0.5, 3.0], n_samples=64)
    assert not r.batched
    assert r.bounds_kind == "sampled"
    # same numbers as one certify() per value (tanh-sin's couplings have opposite signs, so the
    # direct weighted test certifies coupling 3 where the comparison matrix alone refuses)
    for k, v in enumerate([0.5, 3.0]):
        c = certify.certify(games.get_game("tanh-sin", coupling=v), bounds=certify.bounds.Sampled(n_samples=64))
        assert r.certified[k] == c.certified
        assert r.margin[k] == c.margin
        assert r.proved_by[k] == c.proved_by
    # a coercive game whose only critical point is a strict maximum: refused at every radius
    refused = sweep_parameter("impossibility", "radius", [0.5, 1.0], n_samples=64)
    assert refused.certified.tolist() == [False, False]


@pytest.mark.parametrize("bad", ["lam=0:2", "lam=a:b:c", "lam=0:2:1", "lam=0:inf:3", "=0:1:3", "lam=0:1:2.5"])
def test_cli_malformed_params(bad, capsys):
    assert cli.main(["sweep", "lq64", "--param", bad]) == 2
    err = capsys.readouterr().err
    assert err.startswith("sgn: error: expected")
    assert err.count("\n") == 1


def test_cli_needs_one_range(capsys):
    assert cli.main(["sweep", "lq64", "--param", "lam=1"]) == 2
    assert cli.main(["sweep", "lq64", "--param", "lam=0:1:3", "--param", "a=0:1:3"]) == 2
    assert cli.main(["sweep", "lq64", "--param", "lam=0:1:3", "--param", "lam=1"]) == 2
    assert cli.main(["sweep", "lq64", "--param", "lam=0:1:3", "--samples", "0"]) == 2


@pytest.mark.slow
def test_cli_table_json_plot(tmp_path, capsys):
    out, png = tmp_path / "m.json", tmp_path / "m.png"
    code = cli.main(["sweep", "lq64", "--param", "lam=0:2.5:61", "--param", "half=4", "--out", str(out),
                     "--plot", str(png)])
    assert code == 0
    text = capsys.readouterr().out
    assert "certified lam: 0 .. 1.375\n" in text
    assert "Euclidean test passes lam: 0 .. 0.166667" in text
    data = json.loads(out.read_text())
    assert len(data["values"]) == 61
    assert sum(data["certified"]) == 34
    assert png.stat().st_size > 1000
    assert cli.main(["sweep", "saddle", "--param", "c=2:3:2", "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["certified"] == [False, False]


@pytest.mark.slow
def test_sweep_agrees_with_certify_where_the_direct_test_proves():
    # rotation: J = [[mu, c], [-c, mu]], sym J = mu I, so the Euclidean margin is mu = 1 for every c, while
    # the comparison matrix [[1, -c], [-c, 1]] refuses for c >= 1; beta = ||J|| = sqrt(1 + c^2) and the
    # certified Euler bound is 2 alpha / beta^2 = 2 / (1 + c^2).
    vals = [0.0, 1.0, 2.0, 3.0]
    r = sweep_parameter("rotation", "c", vals)
    assert r.batched
    assert r.certified.tolist() == [True] * 4
    assert r.proved_by.tolist() == ["small-gain", "direct (w = 1)", "direct (w = 1)", "direct (w = 1)"]
    np.testing.assert_allclose(r.margin, 1.0, rtol=1e-12)
    np.testing.assert_allclose(r.euler_step, [2.0 / (1.0 + c * c) for c in vals], rtol=1e-12)
    for k, c in enumerate(vals):  # the same decision and numbers as a single certification
        cert = certify.certify(games.get_game("rotation", c=c))
        assert cert.proved_by == r.proved_by[k]
        assert cert.steps.euler_step == pytest.approx(r.euler_step[k], rel=1e-12)
    assert "by a direct monotonicity test, the strongest that passes there: 1, 2, 3" in r.table()


def test_sweep_over_the_number_of_players_is_refused_up_front():
    with pytest.raises(ValueError, match="keeps the number of players, got 'n' giving 10 to 20 players"):
        sweep_parameter("ring", "n", [10.0, 15.0, 20.0])
    # a whole number given for an int parameter is an int (same game, same fingerprint)
    assert games.get_game("ring", n=10.0).fingerprint() == games.get_game("ring", n=10).fingerprint()
