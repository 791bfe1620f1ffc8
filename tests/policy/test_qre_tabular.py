"""QRE solvers: fixed point + Newton against homotopy and an independent scipy solve."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.optimize import fsolve

import certify
import games  # noqa: F401  (registers the tabular games)
from games import get_game
from games.tabular import matrix_game
from policy.tabular import (
    plot_curriculum,
    qre_path,
    regularised_gap,
    residual_tolerance,
    solve_qre,
    temperature_curriculum,
    with_temperature,
)


def _scipy_qre(payoffs, tau, x0):
    # Second method: logit equations in probability coordinates, x_i = softmax(grad_i u / tau).
    a, b = payoffs
    n, m = a.shape

    def eq(v):
        x, y = v[:n], v[n:]
        gx, gy = a @ y / tau, b.T @ x / tau
        sx = np.exp(gx - gx.max())
        sy = np.exp(gy - gy.max())
        return np.concatenate([x - sx / sx.sum(), y - sy / sy.sum()])

    return fsolve(eq, x0, xtol=1e-12)


@pytest.mark.parametrize(("name", "tau"), [("biased-rps", 0.1), ("shapley", 0.4), ("biased-rps", 0.05)])
def test_qre_matches_scipy_logit_equations(name, tau):
    g = get_game(name, tau=tau)
    res = solve_qre(g.data["tabular"])
    assert bool(res.converged)
    x = np.concatenate([jax.nn.softmax(z[0]) for z in res.logits])
    ref = _scipy_qre(np.asarray(g.data["payoffs"]), tau, x + 1e-3)
    np.testing.assert_allclose(x, ref, atol=1e-8)
    assert float(regularised_gap(g.data["tabular"], res.logits)) < 1e-12


@pytest.mark.slow
def test_homotopy_path_agrees_with_direct_solves():
    tg = get_game("biased-rps").data["tabular"]
    taus = np.geomspace(2.0, 0.05, 12)
    path = qre_path(tg, taus)
    assert bool(jnp.all(path.converged))
    for k in (0, 6, 11):
        direct = solve_qre(tg._replace(tau=jnp.asarray(taus[k])))
        for zp, zd in zip(path.logits, direct.logits, strict=True):
            np.testing.assert_allclose(zp[k], zd, atol=1e-9)


def test_qre_tends_to_nash_of_biased_rps():
    # Nash equilibrium of OpenSpiel's biased RPS (payoffs/50): solve A y = 0 with sum y = 1.
    a = np.asarray(get_game("biased-rps").data["payoffs"][0])
    sys_ = np.vstack([a[:2], np.ones(3)])
    y = np.linalg.solve(sys_, np.array([0.0, 0.0, 1.0]))
    path = qre_path(get_game("biased-rps").data["tabular"], np.geomspace(1.0, 1e-3, 40))
    assert bool(path.converged[-1])
    np.testing.assert_allclose(jax.nn.softmax(path.logits[1][-1, 0]), y, atol=2e-3)


@pytest.mark.slow
def test_temperature_curriculum_loses_certificate_at_bifurcation(tmp_path):

    taus = [2.0, 1.5, 1.1, 0.9, 0.6]
    out = temperature_curriculum(get_game("coordination", tau=2.0), taus, certifier=certify.certify,
                                 learner_steps=100)
    assert out["status"] == ["certified"] * 3 + ["not_certified"] * 2
    assert out["lost_at"] == 0.9
    np.testing.assert_allclose(out["margin"], np.asarray(taus) - 1.0, atol=1e-12)
    # the continuation stays on the (now unstable) uniform branch; the learner leaves it below tau=1
    np.testing.assert_allclose([q[0][0] for q in out["qre"]], 0.5, atol=1e-9)
    assert max(out["learner_kl"][:3]) < 1e-12
    assert out["learner_kl"][-1] > 1e-3
    fig = plot_curriculum(out, path=str(tmp_path / "curriculum.png"))
    assert (tmp_path / "curriculum.png").exists()
    assert len(fig.axes) == 2


def test_with_temperature_rejects_non_tabular_games():

    with pytest.raises(ValueError, match="expected a tabular game"):
        with_temperature(get_game("sgn-toy"), 1.0)


def _random_matrix_game(tau):
    rng = np.random.default_rng(4)
    return matrix_game(rng.normal(size=(3, 4)), rng.normal(size=(3, 4)), tau=tau)


@pytest.mark.parametrize(("name", "tau"), [("biased-rps", 0.05), ("random", 0.5)])
@pytest.mark.slow
def test_solve_qre_tolerance_scales_with_dtype(name, tau):
    # A float32 solve is as accurate as float32 allows; a fixed 1e-10 would call it unconverged.
    g = _random_matrix_game(tau) if name == "random" else get_game(name, tau=tau)
    tg = g.data["tabular"]
    tg32 = jax.tree_util.tree_map(lambda a: jnp.asarray(a, jnp.float32), tg)
    r32, r64 = solve_qre(tg32), solve_qre(tg)
    assert r32.residual.dtype == jnp.float32
    assert bool(r32.converged)
    assert 1e-10 < float(r32.residual) <= float(residual_tolerance(tg32, jnp.float32))
    assert bool(r64.converged)
    assert float(r64.residual) < 1e-12
    for z32, z64 in zip(r32.logits, r64.logits, strict=True):
        np.testing.assert_allclose(jax.nn.softmax(z32[0]), jax.nn.softmax(z64[0]), atol=1e-5)


def test_qre_path_follows_the_branch_to_a_nash_equilibrium_of_a_random_game():
    # Arclength continuation in log(1/tau) follows the principal branch through its folds; the end at
    # tau = 1e-3 is within 0.02 of an equilibrium listed by vertex enumeration (an independent solver).
    from games.tabular import bimatrix_nash, tabular_from_matrix

    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(6, 6)), rng.normal(size=(6, 6))
    path = qre_path(tabular_from_matrix([a, b], tau=1.0), np.geomspace(3.0, 1e-3, 30))
    assert path.converged.tolist() == [True] * 30
    x = np.concatenate([np.asarray(jax.nn.softmax(z[-1, 0])) for z in path.logits])
    assert min(np.abs(x - np.concatenate(eq)).max() for eq in bimatrix_nash(a, b)) < 0.02


@pytest.mark.slow
def test_qre_path_jax_matches_host_and_compiles_once():
    from games._markov_solve import _qre_branch_jit
    from games.tabular import tabular_from_matrix

    rng = np.random.default_rng(1)
    tg = tabular_from_matrix([rng.normal(size=(4, 5)), rng.normal(size=(4, 5))], tau=1.0)
    taus = np.geomspace(2.0, 5e-3, 12)
    host = qre_path(tg, taus)
    with jax.enable_x64(True):
        tj = jax.tree_util.tree_map(jnp.asarray, tg)
        dev = qre_path(tj, jnp.asarray(taus))
        compiled = _qre_branch_jit._cache_size()
        again = qre_path(tj, jnp.asarray(taus))  # a second call runs the same program: no recompilation
        assert _qre_branch_jit._cache_size() == compiled
    assert dev.converged.tolist() == [True] * 12
    for zh, zd, za in zip(host.logits, dev.logits, again.logits, strict=True):
        np.testing.assert_allclose(np.asarray(zd), zh, atol=1e-8)
        np.testing.assert_allclose(np.asarray(za), np.asarray(zd), atol=0)


def _gambit_profile(game, profile):
    return np.concatenate([[float(p) for _, p in profile[label]] for label in game.players])


def test_solve_qre_and_qre_path_match_gambit():
    # Second implementation: gambit's logit QRE tracer (pygambit 17: StrategicGame; 16.x: Game). Its
    # lambda is our 1/tau; both follow the principal branch from the centroid on this game, so the
    # fixed-lambda QREs agree to gambit's accuracy (~1e-9) and both paths end at the same equilibrium.
    gbt = pytest.importorskip("pygambit")
    from games.tabular import tabular_from_matrix

    rng = np.random.default_rng(7)
    a, b = rng.normal(size=(5, 5)), rng.normal(size=(5, 5))
    game = (getattr(gbt, "StrategicGame", None) or gbt.Game).from_arrays(a, b)
    for lam in (0.5, 2.0):
        ours = solve_qre(tabular_from_matrix([a, b], tau=1.0 / lam))
        assert bool(ours.converged)
        x = np.concatenate([np.asarray(jax.nn.softmax(z[0])) for z in ours.logits])
        theirs = gbt.qre.logit_solve_lambda(game, lam)
        theirs = theirs[0] if isinstance(theirs, list) else theirs
        np.testing.assert_allclose(x, _gambit_profile(game, theirs.profile), atol=1e-8)
    path = qre_path(tabular_from_matrix([a, b], tau=1.0), np.geomspace(10.0, 1e-8, 10))
    assert bool(path.converged[-1])
    x = np.concatenate([np.asarray(jax.nn.softmax(z[-1, 0])) for z in path.logits])
    end = gbt.nash.logit_solve(game)
    end = end.equilibrium if hasattr(end, "equilibrium") else end.equilibria[0]
    np.testing.assert_allclose(x, _gambit_profile(game, end), atol=1e-6)


def test_qre_vs_gambit_benchmark_skips_without_pygambit_and_measures_by_hand(monkeypatch, capsys):
    import importlib.util
    import pathlib
    import sys

    path = pathlib.Path(__file__).resolve().parents[2] / "benchmarks" / "qre_vs_gambit.py"
    spec = importlib.util.spec_from_file_location("qre_vs_gambit", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    monkeypatch.setattr(mod, "_pygambit", lambda: None)
    monkeypatch.setattr(sys, "argv", ["qre_vs_gambit.py"])
    mod.main()
    assert capsys.readouterr().out.strip() == (
        "qre_vs_gambit: skipped (pygambit is not installed; pip install pygambit to compare)")
    # battle of the sexes A = [[3, 0], [0, 2]], B = [[2, 0], [0, 3]], payoff range 3: the mixed
    # equilibrium x = (3/5, 2/5), y = (2/5, 3/5) has regret 0; (T, R) has regrets 2 (row) and 2
    # (column), 2/3 of the range; the centroid at lambda = 1 has oscillations |u1| = |(1.5, 1)| -> 0.5
    a, b = np.array([[3.0, 0.0], [0.0, 2.0]]), np.array([[2.0, 0.0], [0.0, 3.0]])
    assert mod.regret(a, b, (np.array([0.6, 0.4]), np.array([0.4, 0.6]))) == pytest.approx(0.0, abs=1e-15)
    assert mod.regret(a, b, (np.array([1.0, 0.0]), np.array([0.0, 1.0]))) == pytest.approx(2.0 / 3.0)
    assert mod.qre_residual(a, b, 1.0, (np.full(2, 0.5), np.full(2, 0.5))) == pytest.approx(0.5)
