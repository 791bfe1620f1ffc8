"""QRE solvers: fixed point + Newton against homotopy and an independent scipy solve."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.optimize import fsolve

import certify
import games  # noqa: F401  (registers the tabular games)
from games._registry import get_game
from policy._measures import regularised_gap
from policy._qre import qre_path, solve_qre


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


def test_temperature_curriculum_loses_certificate_at_bifurcation(tmp_path):
    from policy._curriculum import plot_curriculum, temperature_curriculum

    taus = [2.0, 1.5, 1.1, 0.9, 0.6]
    out = temperature_curriculum(get_game("coordination", tau=2.0), taus, learner_steps=100,
                                 certifier=certify.certify)
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
    from policy._curriculum import with_temperature

    with pytest.raises(ValueError, match="expected a tabular game"):
        with_temperature(get_game("sgn-toy"), 1.0)
