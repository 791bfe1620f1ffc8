"""Tabular learners: rates against the certificate / Cen et al.'s bound, vmap, errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import games  # noqa: F401  (registers the tabular games)
from games import get_game
from games.tabular import reduced_basis, split_logits
from policy.tabular import LEARNERS, kl_to_qre, log_ratio_error, make_learner, npg, run_learner, softmax_pg, solve_qre


def _mirror_steps(tau, rho):
    # The mirror certificate of an entropy-regularised matrix game with coupling spectral radius rho
    # (spec-sgn-math 7.2): log-ratio factor q(h) = |1 - h tau| + h rho, minimised at h = 1/tau and
    # below 1 for 0 < h < 2/(tau + rho).
    return {"step": 1.0 / tau, "step_bound": 2.0 / (tau + rho), "loop_gain": rho}


def _slope(trace, lo=1e-12, hi=1e-3):
    tr = np.asarray(trace)
    t = np.arange(len(tr))
    m = (tr > lo) & (tr < hi)
    assert m.sum() > 5
    return np.polyfit(t[m], np.log(tr[m]), 1)[0]


@pytest.fixture(scope="module")
def coordination():
    tg = get_game("coordination", tau=1.5).data["tabular"]
    return tg, solve_qre(tg)


@pytest.mark.parametrize("fraction", [1.0, 0.5])
def test_npg_rate_matches_mirror_step_bound_on_coordination(coordination, fraction):
    # Coordination: L = [[0, 1], [1, 0]], tau = 1.5. Our derived factor q(h) = |1 - h tau| + h rho(L)
    # is tight here (the linearised update is exactly (1 - h tau) I + h L on the log-ratio oscillations).
    tg, qre = coordination
    tau = 1.5
    bounds = _mirror_steps(tau, 1.0)  # rho([[0, 1], [1, 0]]) = 1
    h = fraction * bounds["step"]
    q = abs(1 - h * tau) + h * bounds["loop_gain"]
    z0 = [jnp.array([[2.0, -1.0]]), jnp.array([[-0.5, 1.0]])]
    _, trace = jax.jit(lambda z: run_learner(npg(step=h), tg, z, n_steps=120,
                                             measure=lambda x: jnp.max(log_ratio_error(x, qre.logits))))(z0)
    trace = np.asarray(trace)
    # the certified bound holds at every step (global, not only asymptotically)
    assert np.all(trace[1:] <= q * trace[:-1] + 1e-13)
    assert abs(_slope(trace) - np.log(q)) < 1e-3


def test_npg_near_step_bound_still_contracts(coordination):
    tg, qre = coordination
    bounds = _mirror_steps(1.5, 1.0)
    h = 0.98 * bounds["step_bound"]
    q = abs(1 - h * 1.5) + h
    assert q < 1
    z0 = [jnp.array([[3.0, -3.0]]), jnp.array([[-2.0, 0.0]])]
    _, trace = run_learner(npg(step=h), tg, z0, n_steps=60,
                           measure=lambda x: jnp.max(log_ratio_error(x, qre.logits)))
    trace = np.asarray(trace)
    assert np.all(trace[1:] <= q * trace[:-1] + 1e-13)


@pytest.mark.parametrize("name", ["extragradient", "optimistic_mwu"])
@pytest.mark.parametrize(("game", "tau"), [("biased-rps", 0.2), ("rps-qre", 0.3)])
def test_cen_wei_chi_linear_rate(name, game, tau):
    # Cen, Wei & Chi (2021, Thm 1): PU with eta <= 1/(tau + 2||A||_inf) and OMWU with
    # eta <= min(1/(2||A||_inf + 2 tau), 1/(4||A||_inf)) contract the KL to the QRE at least like
    # (1 - eta tau)^t; the fitted slope of log KL must be at or below log(1 - eta tau).
    g = get_game(game, tau=tau)
    tg = g.data["tabular"]
    qre = solve_qre(tg)
    a_max = np.abs(g.data["payoffs"][0]).max()
    eta = 1.0 / (tau + 2 * a_max)
    if name == "optimistic_mwu":
        eta = min(1.0 / (2 * a_max + 2 * tau), 1.0 / (4 * a_max))
    z0 = [jnp.array([[1.0, -0.5, 0.3]]), jnp.array([[-1.0, 0.2, 0.0]])]
    _, trace = jax.jit(lambda z: run_learner(make_learner(name, step=eta), tg, z, n_steps=250,
                                             measure=lambda x: kl_to_qre(x, qre.logits)))(z0)
    assert _slope(trace) <= np.log(1 - eta * tau) + 1e-3


@pytest.mark.slow
def test_softmax_pg_local_rate_is_linearised_spectral_radius(coordination):
    tg, qre = coordination
    h = 1.0
    basis = reduced_basis(tg)
    shapes = [(1, 2), (1, 2)]
    lrn = softmax_pg(step=h)

    def step(phi):
        z = split_logits(basis @ phi, shapes)
        s = lrn.update(lrn.init(z, tg), tg)
        return basis.T @ jnp.concatenate([jnp.ravel(v) for v in s.logits])

    phi_star = basis.T @ jnp.concatenate([jnp.ravel(v) for v in qre.logits])
    moduli = np.abs(np.linalg.eigvals(np.asarray(jax.jacfwd(step)(phi_star))))
    rho = moduli.max()
    z0 = [jnp.array([[0.4, -0.1]]), jnp.array([[-0.3, 0.2]])]
    _, trace = run_learner(lrn, tg, z0, n_steps=300,
                           measure=lambda x: jnp.max(log_ratio_error(x, qre.logits)))
    assert rho < 1
    # asymptotic rate: never slower than the spectral radius, and equal to one eigenvalue's modulus
    slope = _slope(trace)
    assert slope <= np.log(rho) + 2e-3
    assert np.min(np.abs(np.log(moduli) - slope)) < 2e-3


@pytest.mark.slow
def test_vmap_over_seeds_and_games_matches_loop():
    base = get_game("markov-coop").data["tabular"]
    games_ = jax.tree_util.tree_map(lambda a: jnp.stack([a, a]), base)
    games_ = games_._replace(tau=jnp.array([1.0, 0.7]))
    rng = np.random.default_rng(0)
    z0 = [jnp.asarray(rng.normal(size=(2, 2, 2))) for _ in range(2)]
    lrn = npg(step=0.2)

    def run(tg, z):
        return run_learner(lrn, tg, list(z), n_steps=5)[0].logits

    batched = jax.vmap(run)(games_, z0)
    for k in range(2):
        one = run(jax.tree_util.tree_map(lambda a, k=k: a[k], games_), [z[k] for z in z0])
        for a, b in zip(batched, one, strict=True):
            np.testing.assert_allclose(a[k], b, atol=1e-12)


@pytest.mark.slow
def test_every_learner_converges_on_markov_coop():
    tg = get_game("markov-coop").data["tabular"]
    z0 = [jnp.full((2, 2), 0.0).at[:, 0].set(0.5), jnp.zeros((2, 2)).at[1, 1].set(0.4)]
    zero = [jnp.zeros((2, 2))] * 2
    for name in LEARNERS:
        s, _ = run_learner(make_learner(name, step=0.2), tg, z0, n_steps=300)
        assert float(kl_to_qre(s.logits, zero)) < 1e-10, name


def test_make_learner_rejects_unknown_name():
    with pytest.raises(ValueError, match="expected a learner in"):
        make_learner("adam", step=0.1)


@pytest.mark.slow
def test_markov_experiment_reproduces_sweep_transition():
    import importlib.util
    import pathlib

    path = pathlib.Path(__file__).resolve().parents[2] / "benchmarks" / "markov_experiment.py"
    spec = importlib.util.spec_from_file_location("markov_experiment", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    res = mod.run(seeds=6, steps=1500, protocol="ours", plots=False)
    ratios = np.asarray(res["sweep_ratios"])
    npg_ok = np.asarray(res["sweep_convergence"]["npg"])
    # every certified step converges; NPG stops converging at its linear limit (4.78 x eta_max)
    assert np.all(npg_ok[ratios <= 1.0] == 1.0)
    assert np.all(npg_ok[ratios < res["eta_linear_over_eta_max"]] == 1.0)
    assert np.all(npg_ok[ratios > res["eta_linear_over_eta_max"]] == 0.0)
    # the authors' protocol counts the bounded period-2 orbit just past the linear limit as converged
    auth = mod.run(seeds=6, protocol="authors", plots=False)
    ok = np.asarray(auth["sweep_convergence"]["npg"])
    assert np.all(ok[ratios < 5.0] == 1.0)
    i = int(np.argmin(np.abs(ratios - 4.83)))  # just past the linear limit
    assert ok[i] == 1.0
    assert npg_ok[i] == 0.0


def test_markov_vs_authors_skips_without_the_authors_code(monkeypatch, capsys, tmp_path):
    import argparse
    import importlib.util
    import pathlib

    path = pathlib.Path(__file__).resolve().parents[2] / "benchmarks" / "markov_vs_authors.py"
    spec = importlib.util.spec_from_file_location("markov_vs_authors", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    monkeypatch.delenv("SGN_AUTHORS_CODE", raising=False)
    monkeypatch.delenv("SGN_AUTHORS_PYTHON", raising=False)
    assert mod._authors(argparse.Namespace(authors=None, authors_python=None)) is None
    assert "authors' code: skipped" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="expected a SmallGainNash checkout"):
        mod._authors(argparse.Namespace(authors=str(tmp_path), authors_python=None))
    (tmp_path / "markov").mkdir()
    (tmp_path / "markov" / "experiment.py").write_text("")
    with pytest.raises(SystemExit, match="expected a Python with torch"):
        mod._authors(argparse.Namespace(authors=str(tmp_path), authors_python=str(tmp_path / "none")))
    # the sweep grid is the paper's logspace(-1, 1, 20) plus NPG's linear limit 4.78
    assert len(mod.MULTIPLIERS) == 21
    assert 4.78 in mod.MULTIPLIERS
