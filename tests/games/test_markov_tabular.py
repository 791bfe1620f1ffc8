"""Tabular Markov games: exact evaluation against an independent numpy port, gradients, errors."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import games  # noqa: F401  (registers the tabular games)
from games._markov import (
    evaluate,
    flatten_logits,
    markov_game,
    nash_conv,
    objectives,
    payoff_gradients,
    split_logits,
    stationary_point,
)
from games._registry import get_game


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


def test_evaluate_matches_value_iteration():
    g = _random_game(0)
    tg = g.data["tabular"]
    rng = np.random.default_rng(1)
    probs = [rng.dirichlet(np.ones(n), size=3) for n in (2, 3)]
    _, v, _ = evaluate(tg, [jnp.asarray(q) for q in probs])
    np.testing.assert_allclose(v, _numpy_values(g.data["transitions"], g.data["rewards"], 0.8, probs),
                               atol=1e-10)


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


def test_logit_pseudo_gradient_matches_autodiff_of_losses():
    g = _random_game(4)
    theta = jnp.asarray(np.random.default_rng(5).normal(size=g.dim))
    auto = jnp.concatenate([jax.grad(f)(theta)[b] for f, b in zip(g.losses, g.blocks, strict=True)])
    np.testing.assert_allclose(g.pseudo_gradient(theta), auto, atol=1e-10)


def test_coop_uniform_policy_is_stationary():
    g = get_game("markov-coop")
    np.testing.assert_allclose(g.pseudo_gradient(jnp.zeros(8)), 0.0, atol=1e-15)
    z, res = stationary_point(g.data["tabular"])
    assert float(res) < 1e-12
    np.testing.assert_allclose(flatten_logits(z), 0.0, atol=1e-12)


def test_zero_sum_objectives_sum_to_entropy_terms():
    g = get_game("markov-zerosum", tau=0.0)
    tg = g.data["tabular"]
    theta = jnp.asarray(np.random.default_rng(6).normal(size=g.dim))
    u = objectives(tg, split_logits(theta, g.data["logit_shapes"]))
    assert float(u[0] + u[1]) == pytest.approx(0.0, abs=1e-12)


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
])
def test_markov_game_errors(transitions, rewards, kwargs, match):
    kw = {"gamma": 0.9, "tau": 1.0, **kwargs}
    with pytest.raises(ValueError, match=match):
        markov_game(transitions, rewards, **kw)


def test_zero_sum_shorthand_negates_player_two():
    g = markov_game(_P, np.ones((2, 2, 2)), gamma=0.5, tau=0.1)
    np.testing.assert_allclose(g.data["rewards"][1], -1.0)
