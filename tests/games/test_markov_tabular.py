"""Tabular Markov games: exact evaluation against an independent numpy port, gradients, errors."""

import itertools
import os
import pathlib
import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import games  # noqa: F401  (registers the tabular games)
from games import get_game
from games.tabular import (
    equilibrium_residual,
    evaluate,
    flatten_logits,
    markov_game,
    nash_conv,
    objectives,
    payoff_gradients,
    residual_tolerance,
    shapley_value,
    split_logits,
    stationary_point,
    tabular_from_matrix,
)
from policy.tabular import qre_path, solve_qre


def _random_game(seed, n_states=3, actions=(2, 3)):
    rng = np.random.default_rng(seed)
    p = rng.random((n_states, *actions, n_states))
    p /= p.sum(-1, keepdims=True)
    r = rng.normal(size=(len(actions), n_states, *actions))
    return markov_game(p, r, gamma=0.8, tau=0.3, initial=np.full(n_states, 1 / n_states))


def _numpy_values(p, r, gamma, probs):
    # Independent route: value iteration on the joint policy to machine precision.
    n_states = p.shape[0]
    v = np.zeros((r.shape[0], n_states))
    for _ in range(2000):
        new = np.zeros_like(v)
        for s in range(n_states):
            for a in itertools.product(*[range(n) for n in p.shape[1:-1]]):
                w = np.prod([probs[i][s, a[i]] for i in range(len(a))])
                new[:, s] += w * (r[(slice(None), s, *a)] + gamma * v @ p[(s, *a)])
        v = new
    return v


@pytest.mark.slow
def test_evaluate_matches_value_iteration():
    g = _random_game(0)
    tg = g.data["tabular"]
    rng = np.random.default_rng(1)
    probs = [rng.dirichlet(np.ones(n), size=3) for n in (2, 3)]
    _, v, _ = evaluate(tg, [jnp.asarray(q) for q in probs])
    np.testing.assert_allclose(v, _numpy_values(g.data["transitions"], g.data["rewards"], 0.8, probs),
                               atol=1e-10)


@pytest.mark.slow
def test_payoff_gradient_is_policy_gradient_theorem():
    g = _random_game(2)
    tg = g.data["tabular"]
    rng = np.random.default_rng(3)
    probs = [jnp.asarray(rng.dirichlet(np.ones(n), size=3)) for n in (2, 3)]

    def j(i, q):
        ps = list(probs)
        ps[i] = q
        _, v, _ = evaluate(tg, ps)
        return (1 - tg.gamma) * v[i] @ tg.initial

    grads = payoff_gradients(tg, probs)
    for i in range(2):
        np.testing.assert_allclose(grads[i], jax.grad(lambda q, i=i: j(i, q))(probs[i]), atol=1e-10)


@pytest.mark.slow
def test_logit_pseudo_gradient_matches_autodiff_of_losses():
    g = _random_game(4)
    theta = jnp.asarray(np.random.default_rng(5).normal(size=g.dim))
    auto = jnp.concatenate([jax.grad(f)(theta)[b] for f, b in zip(g.losses, g.blocks, strict=True)])
    np.testing.assert_allclose(g.pseudo_gradient(theta), auto, atol=1e-10)


@pytest.mark.slow
def test_coop_uniform_policy_is_stationary():
    g = get_game("markov-coop")
    np.testing.assert_allclose(g.pseudo_gradient(jnp.zeros(8)), 0.0, atol=1e-15)
    z, res, _ = stationary_point(g.data["tabular"])
    assert float(res) < 1e-12
    np.testing.assert_allclose(flatten_logits(z), 0.0, atol=1e-12)


@pytest.mark.slow
def test_zero_sum_objectives_sum_to_entropy_terms():
    g = get_game("markov-zerosum", tau=0.0)
    tg = g.data["tabular"]
    theta = jnp.asarray(np.random.default_rng(6).normal(size=g.dim))
    u = objectives(tg, split_logits(theta, g.data["logit_shapes"]))
    assert float(u[0] + u[1]) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.slow
def test_nash_conv_best_response_against_numpy():
    g = _random_game(7, n_states=2, actions=(2, 2))
    tg = g.data["tabular"]
    rng = np.random.default_rng(8)
    probs = [rng.dirichlet(np.ones(2), size=2) for _ in range(2)]
    p, r = g.data["transitions"], g.data["rewards"]
    total = 0.0
    for i in range(2):
        # brute force over the 4 deterministic policies of player i (exact optimum of an MDP)
        best = -np.inf
        for acts in itertools.product(range(2), repeat=2):
            det = np.zeros((2, 2))
            det[[0, 1], list(acts)] = 1.0
            ps = list(probs)
            ps[i] = det
            best = max(best, 0.2 * _numpy_values(p, r, 0.8, ps)[i] @ g.data["initial"])
        total += best - 0.2 * _numpy_values(p, r, 0.8, probs)[i] @ g.data["initial"]
    assert float(nash_conv(tg, [jnp.asarray(q) for q in probs])) == pytest.approx(total, abs=1e-9)


_P = np.full((2, 2, 2, 2), 0.5)
_R = np.zeros((2, 2, 2, 2))


@pytest.mark.parametrize(("transitions", "rewards", "kwargs", "match"), [
    (np.concatenate([_P[..., :1], _P[..., :1] * 0.9], -1), _R, {}, "expected transition rows summing to 1"),
    (np.stack([_P[..., 0] + 1.0, _P[..., 1] - 1.0], -1), _R, {}, "expected nonnegative transition"),
    (_P, _R, {"gamma": 1.0}, r"expected gamma in \[0, 1\)"),
    (_P, _R, {"gamma": -0.1}, r"expected gamma in \[0, 1\)"),
    (_P, _R, {"tau": -1.0}, "expected tau >= 0"),
    (_P, np.zeros((2, 2, 3, 2)), {}, "expected rewards of shape"),
    (_P[..., :1], _R, {}, "expected the last axis of transitions"),
    (_P, np.where(np.eye(2)[None, None] > 0, np.nan, _R), {}, "expected finite values in rewards"),
    (np.where(np.isclose(_P, 0.5), np.nan, _P), _R, {}, "expected finite values in transitions"),
    (_P, _R, {"initial": [0.5, 0.6]}, "expected initial to be a probability vector"),
    (_P, _R, {"initial": [1.0]}, r"expected initial of shape \(2,\)"),
    (np.full((2, 2, 2), 0.5), _R, {}, "expected transitions of shape"),
    (_P, _R, {"entropy": "summed"}, "expected entropy in"),
    (np.full((1, 2, 2, 2, 1), 1.0), np.zeros((3, 1, 2, 2, 2)), {"entropy": "discounted"},
     "expected a two-player game for entropy='discounted'"),
])
def test_markov_game_errors(transitions, rewards, kwargs, match):
    kw = {"gamma": 0.9, "tau": 1.0, **kwargs}
    with pytest.raises(ValueError, match=match):
        markov_game(transitions, rewards, **kw)


def test_zero_sum_shorthand_negates_player_two():
    g = markov_game(_P, np.ones((2, 2, 2)), gamma=0.5, tau=0.1)
    np.testing.assert_allclose(g.data["rewards"][1], -1.0)


@pytest.mark.slow
def test_game_data_are_float64_from_the_users_numbers_whatever_the_jax_default():
    # In a fresh interpreter without x64 (the test process has it on): the game is built first,
    # x64 is switched on afterwards (as `sgn certify` does), and 0.9 must still be 0.9.
    script = textwrap.dedent("""
        import jax, numpy as np
        import games
        g = games.get_game("markov-coop")
        m = games.tabular.matrix_game([[0.9, 0.1], [0.3, 0.7]], tau=0.9)
        assert not jax.config.jax_enable_x64
        for tg in (g.data["tabular"], m.data["tabular"]):
            for leaf in tg:
                assert np.asarray(leaf).dtype == np.float64, np.asarray(leaf).dtype
        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp
        tg = g.data["tabular"]
        assert jnp.asarray(tg.gamma).dtype == jnp.float64 and float(jnp.asarray(tg.gamma)) == 0.9
        assert float(jnp.asarray(tg.transitions)[0, 0, 0, 0]) == 0.9
        assert float(jnp.asarray(m.data["tabular"].tau)) == 0.9
        assert float(jnp.asarray(m.data["tabular"].rewards)[0, 0, 0, 0]) == 0.9
        print("OK")
    """)
    env = {k: v for k, v in os.environ.items() if k != "JAX_ENABLE_X64"}
    root = pathlib.Path(__file__).resolve().parents[2]
    env["PYTHONPATH"] = str(root) + os.pathsep + env.get("PYTHONPATH", "")
    res = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True,
                         timeout=120, cwd=root)
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.strip() == "OK"


def _discounted_game(seed, n_states=3, actions=(2, 3), zero_sum=False):
    rng = np.random.default_rng(seed)
    p = rng.random((n_states, *actions, n_states))
    p /= p.sum(-1, keepdims=True)
    r = rng.normal(size=(n_states, *actions)) if zero_sum else rng.normal(size=(2, n_states, *actions))
    return markov_game(p, r, gamma=0.8, tau=0.4, initial=np.full(n_states, 1 / n_states),
                       entropy="discounted")


def _entropy_shaped_rewards(r, probs, tau):
    # Cen et al.'s per-step regularised reward R_i(s, a) + tau (H_i(s) - H_j(s)), as joint rewards
    h = [-(q * np.log(q)).sum(-1) for q in probs]
    out = np.array(r, float)
    out[0] += tau * (h[0] - h[1])[:, None, None]
    out[1] += tau * (h[1] - h[0])[:, None, None]
    return out


@pytest.mark.slow
def test_discounted_entropy_values_match_value_iteration():
    g = _discounted_game(10)
    tg = g.data["tabular"]
    rng = np.random.default_rng(11)
    probs = [rng.dirichlet(np.ones(n), size=3) for n in (2, 3)]
    _, v, _ = evaluate(tg, [jnp.asarray(q) for q in probs], regularised=True)
    ref = _numpy_values(g.data["transitions"], _entropy_shaped_rewards(g.data["rewards"], probs, 0.4), 0.8, probs)
    np.testing.assert_allclose(v, ref, atol=1e-10)
    _, v0, _ = evaluate(tg, [jnp.asarray(q) for q in probs])  # unregularised by default
    np.testing.assert_allclose(v0, _numpy_values(g.data["transitions"], g.data["rewards"], 0.8, probs), atol=1e-10)
    u = objectives(tg, [jnp.log(jnp.asarray(q)) for q in probs])
    np.testing.assert_allclose(u, 0.2 * ref @ g.data["initial"], atol=1e-10)


@pytest.mark.slow
def test_discounted_entropy_pseudo_gradient_is_autodiff_and_zero_sum_stays_zero_sum():
    g = _discounted_game(12)
    theta = jnp.asarray(np.random.default_rng(13).normal(size=g.dim))
    auto = jnp.concatenate([jax.grad(f)(theta)[b] for f, b in zip(g.losses, g.blocks, strict=True)])
    np.testing.assert_allclose(g.pseudo_gradient(theta), auto, atol=1e-10)
    zs = _discounted_game(14, zero_sum=True)
    u = objectives(zs.data["tabular"], split_logits(theta, zs.data["logit_shapes"]))
    assert float(u[0] + u[1]) == pytest.approx(0.0, abs=1e-12)  # Cen et al.'s V_tau = V_1 = -V_2


def test_discounted_qre_satisfies_cens_softmax_condition():
    # Independent check in numpy: at the stationary point, pi_i(.|s) = softmax(Qbar_tau_i(s, .) / tau)
    # with Q_tau from value iteration on the entropy-shaped rewards.
    g = _discounted_game(15, n_states=2, actions=(2, 2), zero_sum=True)
    tg = g.data["tabular"]
    z, res, _ = stationary_point(tg)
    assert float(res) < 1e-10
    probs = [np.asarray(jax.nn.softmax(zi, axis=-1)) for zi in z]
    p = g.data["transitions"]
    r = _entropy_shaped_rewards(g.data["rewards"], probs, 0.4)
    v = _numpy_values(p, r, 0.8, probs)
    q = np.asarray(g.data["rewards"]) + 0.8 * np.einsum("sabt,it->isab", p, v)
    q1 = np.einsum("sab,sb->sa", q[0], probs[1])
    q2 = np.einsum("sab,sa->sb", q[1], probs[0])
    for qi, pi in ((q1, probs[0]), (q2, probs[1])):
        soft = np.exp(qi / 0.4 - (qi / 0.4).max(-1, keepdims=True))
        np.testing.assert_allclose(pi, soft / soft.sum(-1, keepdims=True), atol=1e-9)


@pytest.mark.slow
def test_shapley_value_is_an_equilibrium_and_the_discounted_qre_tends_to_it():
    g = get_game("markov-zerosum", entropy="discounted")
    tg = g.data["tabular"]
    sol = shapley_value(tg)
    # both policies are exact best responses (policy iteration, a different algorithm)
    assert float(nash_conv(tg, [jnp.asarray(q) for q in sol.policies])) == pytest.approx(0.0, abs=1e-9)
    _, v, _ = evaluate(tg, [jnp.asarray(q) for q in sol.policies])
    np.testing.assert_allclose(v[0], sol.values, atol=1e-9)
    # Cen et al.'s regularised value is within tau * log 2 (normalised) of the game's value
    errs = []
    for tau in (0.3, 0.1, 0.03):
        tgt = tg._replace(tau=np.float64(tau))
        z, res, _ = stationary_point(tgt)
        assert float(res) < 1e-9
        err = abs(float(objectives(tgt, z)[0]) - sol.value)
        assert err <= tau * np.log(2.0) + 1e-12
        errs.append(err)
    assert errs[0] > errs[1] > errs[2]


def test_shapley_value_errors():
    with pytest.raises(ValueError, match="expected a zero-sum game"):
        shapley_value(_random_game(16, n_states=2, actions=(2, 2)).data["tabular"])


@pytest.mark.parametrize("make", [  # each game compiles the JAX solver anew (seconds each): all six in the slow suite
    pytest.param(lambda: get_game("markov-coop").data["tabular"], marks=pytest.mark.slow),
    pytest.param(lambda: get_game("markov-zerosum", entropy="discounted", tau=0.1).data["tabular"],
                 marks=pytest.mark.slow),
    pytest.param(lambda: _random_game(21).data["tabular"], marks=pytest.mark.slow),
    pytest.param(lambda: _discounted_game(22, zero_sum=True).data["tabular"], marks=pytest.mark.slow),
    pytest.param(lambda: tabular_from_matrix(np.random.default_rng(23).normal(size=(3, 3, 2, 4)), tau=0.7),
                 marks=pytest.mark.slow),  # 3 players
    pytest.param(lambda: tabular_from_matrix([[[1.0, 0.0, 0.0]], [[0.0, 0.0, 1.0]]], tau=1.0),
                 marks=pytest.mark.slow),  # one action: no Newton
])
def test_host_stationary_point_matches_the_jax_solver(make):
    # one algorithm, two drivers: NumPy data on the host (complex-step Newton), JAX data (jacfwd)
    tg = make()
    z_host, res_host, _ = stationary_point(tg)
    with jax.enable_x64(True):
        z_jax, res_jax, _ = stationary_point(jax.tree_util.tree_map(jnp.asarray, tg))
        res_of_host = float(equilibrium_residual(tg, [jnp.asarray(z) for z in z_host]))
    assert float(res_jax) < 1e-12
    assert res_host < 1e-12
    assert res_of_host < 1e-12
    assert res_host == pytest.approx(res_of_host, abs=1e-14)
    for a, b in zip(z_host, z_jax, strict=True):
        assert a.dtype == np.float64
        np.testing.assert_allclose(a, np.asarray(b), atol=1e-12)


def test_host_stationary_point_errors():
    a = [[1.0, 0.0], [0.0, 1.0]]
    with pytest.raises(ValueError, match="expected a finite temperature tau > 0, got 0.0"):
        stationary_point(tabular_from_matrix([a, a], tau=0.0))
    with pytest.raises(ValueError, match="expected a finite temperature tau > 0, got inf"):
        stationary_point(tabular_from_matrix([a, a], tau=np.inf))


@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
def test_non_finite_payoffs_are_refused_on_the_host_and_never_converge_under_jit(bad):
    # Found by a new-user trial: an infinite payoff gave residual inf and converged=True, because the
    # default tolerance scales with max|R| and became inf too.
    a = np.array([[bad, 0.0], [0.0, 2.0]])
    tg = tabular_from_matrix([a, np.eye(2)], tau=0.5)
    with pytest.raises(ValueError, match="expected finite values in rewards, got NaN or Inf"):
        solve_qre(tg)
    with pytest.raises(ValueError, match="expected finite values in rewards, got NaN or Inf"):
        qre_path(tg, [1.0, 0.5])
    with pytest.raises(ValueError, match="expected a non-empty vector of finite positive temperatures"):
        qre_path(tabular_from_matrix([np.eye(2), np.eye(2)], tau=0.5), [np.inf, 0.5])
    # JAX data run compiled, where values cannot raise: the tolerance is 0 and nothing converges.
    tg_jax = jax.tree_util.tree_map(jnp.asarray, tg)
    assert float(residual_tolerance(tg_jax, jnp.float64)) == 0.0
    assert not bool(solve_qre(tg_jax).converged)


def test_starting_logits_of_the_wrong_shape_are_refused():
    # Found by a new-user trial: 1-D logits0 failed inside with a broadcast error.
    tg = tabular_from_matrix([np.eye(2), np.ones((2, 2))], tau=0.5)
    with pytest.raises(ValueError, match=r"expected logits0 of shapes \[\(1, 2\), \(1, 2\)\]"):
        solve_qre(tg, [np.zeros(2), np.zeros(2)])
    with pytest.raises(ValueError, match=r"expected logits0 of shapes"):
        qre_path(tg, [1.0, 0.5], [np.zeros((1, 2))])
    assert bool(solve_qre(tg, [np.zeros((1, 2)), np.zeros((1, 2))]).converged)


@pytest.mark.parametrize("payoffs", [np.array([[1.0, -1.0], [-1.0, 1.0]]),  # one matrix: read as 2 players
                                     [np.array([1.0, 2.0]), np.array([2.0, 1.0])],  # 1-D payoffs, 2 players
                                     [np.ones((2, 2)), np.ones((2, 3))],  # shapes differ
                                     [np.ones((0, 2)), np.ones((0, 2))]])  # no strategies
def test_tabular_from_matrix_checks_the_payoff_shapes(payoffs):
    with pytest.raises(ValueError, match=r"expected N payoff tensors of one shape \(n_1, ..., n_N\)"):
        tabular_from_matrix(payoffs, tau=0.5)
