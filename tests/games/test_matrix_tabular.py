"""Entropy-regularised matrix games: pseudo-gradient, QRE against closed forms, input errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.optimize import brentq

import games  # noqa: F401  (registers the tabular games)
from games import game_names, get_game, tabular
from games.tabular import matrix_game, nash_conv
from policy.tabular import solve_qre


def _autodiff_field(game, x):
    return jnp.concatenate([jax.grad(f)(x)[b] for f, b in zip(game.losses, game.blocks, strict=True)])


@pytest.mark.slow
def test_pseudo_gradient_is_gradient_of_losses_three_players():
    rng = np.random.default_rng(0)
    tensors = [rng.normal(size=(2, 3, 2)) for _ in range(3)]
    g = matrix_game(tensors, tau=0.7)
    x = jnp.concatenate([jnp.array([0.3, 0.7]), jnp.array([0.2, 0.5, 0.3]), jnp.array([0.6, 0.4])])
    np.testing.assert_allclose(g.pseudo_gradient(x), _autodiff_field(g, x), atol=1e-12)
    # independent: player 2's payoff gradient by explicit sums over pure profiles
    x1, x2, x3 = np.array([0.3, 0.7]), np.array([0.2, 0.5, 0.3]), np.array([0.6, 0.4])
    grad2 = np.array([sum(tensors[1][a, b, c] * x1[a] * x3[c] for a in range(2) for c in range(2))
                      for b in range(3)])
    expected = -grad2 + 0.7 * (np.log(x2) + 1.0)
    np.testing.assert_allclose(g.pseudo_gradient(x)[2:5], expected, atol=1e-12)


def _bos_qres(tau):
    # Battle of the sexes A=[[3,0],[0,2]], B=[[2,0],[0,3]]: with x=(p,1-p), y=(q,1-q),
    # p = sigmoid((5q - 2)/tau) and q = sigmoid((5p - 3)/tau); all roots of a scalar equation in p.
    def sig(z):
        return 1.0 / (1.0 + np.exp(-z))

    def h(p):
        return p - sig((5 * sig((5 * p - 3) / tau) - 2) / tau)

    grid = np.linspace(1e-9, 1 - 1e-9, 20001)
    vals = h(grid)
    roots = [brentq(h, grid[k], grid[k + 1], xtol=1e-15)
             for k in range(len(grid) - 1) if vals[k] * vals[k + 1] < 0]
    return [(p, sig((5 * p - 3) / tau)) for p in roots]


@pytest.mark.parametrize(("tau", "n_qre"), [(2.0, 1), (1.0, 3)])
@pytest.mark.slow
def test_battle_of_sexes_qre_matches_scalar_closed_form(tau, n_qre):
    qres = _bos_qres(tau)
    assert len(qres) == n_qre
    tg = get_game("battle-of-sexes", tau=tau).data["tabular"]
    for p, q in qres:
        start = [jnp.array([[np.log(p), np.log(1 - p)]]), jnp.array([[np.log(q), np.log(1 - q)]])]
        res = solve_qre(tg, start, fixed_point_iters=0)
        assert bool(res.converged)
        assert abs(float(jax.nn.softmax(res.logits[0][0])[0]) - p) < 1e-8
        assert abs(float(jax.nn.softmax(res.logits[1][0])[0]) - q) < 1e-8
    res = solve_qre(tg)  # from the centroid
    x0 = float(jax.nn.softmax(res.logits[0][0])[0])
    assert min(abs(x0 - p) for p, _ in qres) < 1e-8


@pytest.mark.slow
def test_coordination_below_bifurcation_has_nonuniform_qre():
    tau = 0.5
    m = brentq(lambda m: m - np.tanh(m / tau), 0.1, 1.0, xtol=1e-15)  # 2p - 1 on the upper branch
    tg = get_game("coordination", tau=tau).data["tabular"]
    res = solve_qre(tg, [jnp.array([[1.0, 0.0]])] * 2)
    p = float(jax.nn.softmax(res.logits[0][0])[0])
    assert abs((2 * p - 1) - m) < 1e-8
    low = solve_qre(tg, [jnp.array([[0.0, 1.0]])] * 2)
    assert abs(float(jax.nn.softmax(low.logits[0][0])[0]) - (1 - p)) < 1e-8


def test_registry_entries_exist_and_are_mirror_games():
    for name in ["matching-pennies-qre", "rps-qre", "biased-rps", "shapley", "battle-of-sexes",
                 "coordination"]:
        assert name in game_names()
        g = get_game(name)
        assert g.geometry == "mirror"
        assert g.params["tau"] > 0


@pytest.mark.slow
def test_nash_conv_matches_hand_computation_rps():
    # RPS, x = (1, 0, 0) vs y uniform: player 1 gets 0, best response 0; player 2's best response
    # to rock is paper (+1) while it gets 0 on average -> NashConv = 1.
    rps = np.asarray(get_game("rps-qre").data["payoffs"])
    tg = get_game("rps-qre").data["tabular"]
    nc = nash_conv(tg, [jnp.array([[1.0, 0.0, 0.0]]), jnp.full((1, 3), 1 / 3)])
    assert float(nc) == pytest.approx(1.0, abs=1e-12)
    assert rps.shape == (2, 3, 3)


@pytest.mark.parametrize(("args", "kwargs", "match"), [
    (([[1.0, 0.0], [0.0, 1.0]], [[1.0, 0.0, 0.0]]), {"tau": 1.0}, "expected B of shape"),
    (([[1.0, np.nan], [0.0, 1.0]],), {"tau": 1.0}, "expected finite payoffs"),
    (([[1.0, 0.0], [0.0, 1.0]],), {"tau": -0.1}, "expected tau >= 0"),
    ((np.zeros((2, 2, 2)),), {"tau": 1.0}, "expected A to be a matrix"),
    (([np.zeros((2, 2)), np.zeros((2, 3))],), {"tau": 1.0}, r"expected payoffs\[1\] of shape"),
])
def test_matrix_game_errors(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        matrix_game(*args, **kwargs)


def test_matrix_game_type_error():
    with pytest.raises(TypeError, match="expected A to be an array of numbers"):
        matrix_game([["a", "b"]], tau=1.0)


nashpy = pytest.importorskip("nashpy")


def _same_equilibria(ours, theirs):
    key = lambda eq: tuple(np.round(np.concatenate(eq), 8))  # noqa: E731
    return sorted(map(key, ours)) == sorted(map(key, theirs))


@pytest.mark.parametrize("name", ["matching-pennies-qre", "rps-qre", "biased-rps"])
def test_zero_sum_nash_matches_nashpy(name):
    a = np.asarray(get_game(name).data["payoffs"][0])
    value, x, y = tabular.zero_sum_nash(a)
    ((xe, ye),) = list(nashpy.Game(a).support_enumeration())  # unique equilibrium: second implementation
    np.testing.assert_allclose(x, xe, atol=1e-9)
    np.testing.assert_allclose(y, ye, atol=1e-9)
    assert value == pytest.approx(float(xe @ a @ ye), abs=1e-9)


def test_zero_sum_nash_random_game_value_is_minimax():
    a = np.random.default_rng(3).normal(size=(3, 5))
    value, x, y = tabular.zero_sum_nash(a)
    # x guarantees at least the value against every column, y at most the value against every row
    assert np.min(x @ a) == pytest.approx(value, abs=1e-9)
    assert np.max(a @ y) == pytest.approx(value, abs=1e-9)
    (xe, ye), = list(nashpy.Game(a).support_enumeration())
    assert float(xe @ a @ ye) == pytest.approx(value, abs=1e-9)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bimatrix_nash_matches_nashpy_support_enumeration(seed):
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=(3, 3)), rng.normal(size=(3, 3))
    assert _same_equilibria(tabular.bimatrix_nash(a, b), nashpy.Game(a, b).support_enumeration())


def test_bimatrix_nash_named_games():
    for name in ("battle-of-sexes", "shapley", "coordination"):
        p = get_game(name).data["payoffs"]
        ours = tabular.bimatrix_nash(p[0], p[1])
        assert _same_equilibria(ours, nashpy.Game(p[0], p[1]).support_enumeration()), name
    # battle of the sexes by hand: (T, L), (B, R) and mixing x = (3/5, 2/5), y = (2/5, 3/5)
    eqs = tabular.bimatrix_nash([[3.0, 0.0], [0.0, 2.0]], [[2.0, 0.0], [0.0, 3.0]])
    np.testing.assert_allclose(eqs[-1][0], [0.6, 0.4])
    np.testing.assert_allclose(eqs[-1][1], [0.4, 0.6])


def _regrets(a, b, x, y):
    return max(np.max(a @ y) - x @ a @ y, np.max(b.T @ x) - x @ b @ y)


def test_bimatrix_nash_degenerate_ones_identity_has_four_extreme_equilibria():
    # A = ones: the row player is indifferent; B = I: the column player plays the larger x_j. The
    # equilibria are {x1 >= x2, y = e1} u {x1 <= x2, y = e2} u {x = (1/2, 1/2), any y}, whose extreme
    # points are (e1, e1), (e2, e2), (u, e1), (u, e2) with u = (1/2, 1/2) (support enumeration: 2).
    eqs = tabular.bimatrix_nash(np.ones((2, 2)), np.eye(2))
    expected = [([1, 0], [1, 0]), ([0, 1], [0, 1]), ([0.5, 0.5], [1, 0]), ([0.5, 0.5], [0, 1])]
    assert _same_equilibria(eqs, [(np.array(x, float), np.array(y, float)) for x, y in expected])


@pytest.mark.parametrize("seed", [3, 4])
def test_bimatrix_nash_matches_nashpy_vertex_enumeration(seed):
    # generic 6x6 and 7x7 games: nashpy's vertex enumeration (scipy halfspace intersection) agrees
    rng = np.random.default_rng(seed)
    n = 3 + seed
    a, b = rng.normal(size=(n, n)), rng.normal(size=(n, n))
    ours = tabular.bimatrix_nash(a, b)
    assert _same_equilibria(ours, nashpy.Game(a, b).vertex_enumeration())
    assert max(_regrets(a, b, x, y) for x, y in ours) < 1e-12


@pytest.mark.parametrize("seed", range(6))
def test_bimatrix_nash_degenerate_integer_games_are_complete_on_pure_equilibria(seed):
    # small-integer payoffs make ties (degenerate games). Independent checks: every returned pair is
    # an equilibrium, and every pure equilibrium (brute force over pure profiles; pure equilibria are
    # always extreme) is returned.
    rng = np.random.default_rng(100 + seed)
    a, b = rng.integers(0, 3, (3, 4)).astype(float), rng.integers(0, 3, (3, 4)).astype(float)
    ours = tabular.bimatrix_nash(a, b)
    assert max(_regrets(a, b, x, y) for x, y in ours) < 1e-12
    pure = [(i, j) for i in range(3) for j in range(4) if a[i, j] == a[:, j].max() and b[i, j] == b[i].max()]
    keys = {tuple(np.round(np.concatenate(eq), 9)) for eq in ours}
    for i, j in pure:
        assert tuple(np.concatenate([np.eye(3)[i], np.eye(4)[j]])) in keys


def _gambit_equilibria(gbt, a, b):
    """gambit's exact ``enummixed`` equilibria as float pairs (pygambit 16.x or 17.x API)."""
    maker = getattr(gbt, "StrategicGame", None) or gbt.Game
    game = maker.from_arrays(a, b)
    theirs = gbt.nash.enummixed_solve(game, rational=True).equilibria
    return [tuple(np.array([float(p) for _, p in eq[label]]) for label in game.players) for eq in theirs]


def test_bimatrix_nash_degenerate_against_gambit():
    gbt = pytest.importorskip("pygambit")
    for seed in range(6):
        rng = np.random.default_rng(100 + seed)
        a, b = rng.integers(0, 3, (3, 4)), rng.integers(0, 3, (3, 4))
        ref = _gambit_equilibria(gbt, a.astype(int), b.astype(int))
        assert _same_equilibria(tabular.bimatrix_nash(a.astype(float), b.astype(float)), ref), seed


def _vertex_set(z):
    return {tuple(np.round(v, 9) + 0.0) for v in z}


@pytest.mark.parametrize("case", ["normal 5x6", "normal 9x7", "integers 4x4", "integers 3x5", "ones-identity"])
def test_basis_search_finds_the_vertices_of_every_square_system(case):
    # The pivoting search (BFS over feasible bases) against the second method, the brute-force solve
    # of every square system m[S, J]^T z_S = 1 with the feasible solutions kept: the same vertex sets,
    # on generic and on degenerate (tied integer, ones/identity) polytopes.
    from games._nash import _basis_search, _square_systems

    rng = np.random.default_rng(len(case))
    if case.startswith("normal"):
        p, q = map(int, case.split()[1].split("x"))
        m = rng.normal(size=(p, q))
    elif case.startswith("integers"):
        p, q = map(int, case.split()[1].split("x"))
        m = rng.integers(0, 3, (p, q)).astype(float)
    else:
        m = np.eye(2)
    m = m - m.min() + 1.0
    fast, brute = _vertex_set(_basis_search(m, 1e-9)), _vertex_set(_square_systems(m, 1e-9))
    assert fast == brute
    assert len(brute) > m.shape[0]  # not vacuous: the origin, the unit-vector vertices and more


def test_bimatrix_nash_eight_by_eight_matches_nashpy_vertex_enumeration():
    rng = np.random.default_rng(8)
    a, b = rng.normal(size=(8, 8)), rng.normal(size=(8, 8))
    ours = tabular.bimatrix_nash(a, b)
    assert len(ours) > 1
    assert _same_equilibria(ours, nashpy.Game(a, b).vertex_enumeration())


def _small_cases():
    """Tiny polytope matrices: standard normal and small-integer (tied, degenerate) ones up to 5x5."""
    rng = np.random.default_rng(22)
    cases = [np.ones((2, 2)), np.eye(2), np.eye(3), np.ones((3, 4))]
    for p in range(1, 6):
        for q in range(1, 6):
            cases.append(rng.normal(size=(p, q)))
            cases.append(rng.integers(0, 3, (p, q)).astype(float))
    return [m - m.min() + 1.0 for m in cases]


def test_small_vertices_match_every_square_system():
    # The plain-Python pivoting search against the second method, the solve of every square system
    # m[S, J]^T z_S = 1 (feasible solutions kept), on generic and degenerate polytopes; its label masks
    # against the labels recomputed from the coordinates (z_i = 0: bit i, (m^T z)_j = 1: bit p + j).
    from games._nash import _small_vertices, _square_systems

    tol = 1e-9
    for m in _small_cases():
        out = _small_vertices(m.tolist(), tol)
        z = np.array([v for v, _ in out])
        assert _vertex_set(z) == _vertex_set(_square_systems(m, tol)), m
        assert len(_vertex_set(z)) == len(z)  # every vertex once
        assert not z[0].any()  # the origin first
        bits = np.concatenate([z <= tol, z @ m >= 1.0 - tol], axis=1)
        assert [mask for _, mask in out] == [sum(1 << int(t) for t in np.flatnonzero(b)) for b in bits]


def _small_games():
    rng = np.random.default_rng(2222)
    games_ = [(np.ones((2, 2)), np.eye(2)), (np.zeros((3, 3)), np.zeros((3, 3))), (np.eye(3), np.eye(3)),
              (np.array([[1.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 1.0, 1.0]]),
               np.array([[1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 1.0]]))]
    for n1, n2 in [(1, 3), (2, 2), (2, 3), (3, 3), (3, 2), (4, 4), (4, 5), (2, 9)]:
        games_.append((rng.normal(size=(n1, n2)), rng.normal(size=(n1, n2))))
        games_.append((rng.integers(0, 3, (n1, n2)).astype(float), rng.integers(0, 3, (n1, n2)).astype(float)))
    return games_


def test_small_games_equal_the_numpy_route(monkeypatch):
    # Tiny games (n_1 n_2 <= _SMALL_CELLS) take the plain-Python route; with it switched off they take the
    # batched-LAPACK basis search. Both return the same equilibria in the same order (to rounding), and
    # every returned pair is an equilibrium (regrets by hand).
    from games import _nash

    assert max(a.size for a, _ in _small_games()) <= _nash._SMALL_CELLS
    small = [tabular.bimatrix_nash(a, b) for a, b in _small_games()]
    monkeypatch.setattr(_nash, "_SMALL_CELLS", 0)
    for (a, b), fast in zip(_small_games(), small, strict=True):
        ref = tabular.bimatrix_nash(a, b)
        assert len(fast) == len(ref) > 0
        for (x, y), (xr, yr) in zip(fast, ref, strict=True):
            np.testing.assert_allclose(x, xr, rtol=0.0, atol=1e-12)
            np.testing.assert_allclose(y, yr, rtol=0.0, atol=1e-12)
            assert np.array_equal(x == 0, xr == 0)
            assert np.array_equal(y == 0, yr == 0)
        assert max(_regrets(a, b, x, y) for x, y in fast) < 1e-12


@pytest.mark.parametrize("n", [2, 3, 4])
def test_small_games_match_nashpy_vertex_enumeration(n):
    # generic tiny games on the plain-Python route: nashpy's vertex enumeration (scipy halfspace
    # intersection) finds the same equilibria
    rng = np.random.default_rng(40 + n)
    for _ in range(3):
        a, b = rng.normal(size=(n, n + 1)), rng.normal(size=(n, n + 1))
        assert _same_equilibria(tabular.bimatrix_nash(a, b), nashpy.Game(a, b).vertex_enumeration())


def test_normal_form_payoffs_on_the_host_equal_explicit_sums():
    # gamma = 0 (every stage a normal-form game): the host evaluation skips the linear solves. Against
    # explicit sums over pure profiles: u_i(s, a_i) = mu0(s) sum_{a_-i} R_i(s, a) prod_j p_j(s, a_j)
    # (state-summed entropy: d = mu0) and the same without the factor mu0 (discounted entropy).
    from games._markov import payoffs_and_weights

    rng = np.random.default_rng(5)
    n_states, acts = 2, (2, 3)
    rewards = rng.normal(size=(2, n_states, *acts))
    trans = rng.dirichlet(np.ones(n_states), size=(n_states, *acts))
    mu0 = np.array([0.3, 0.7])
    probs = [rng.dirichlet(np.ones(n), size=n_states) for n in acts]
    for entropy, weight in (("states", mu0), ("discounted", np.ones(n_states))):
        tg = tabular.markov_game(trans, rewards, gamma=0.0, tau=0.4, initial=mu0, entropy=entropy).data["tabular"]
        u, v = payoffs_and_weights(np, tg, probs)
        for i in range(2):
            expected = np.zeros((n_states, acts[i]))
            for s in range(n_states):
                for a in np.ndindex(*acts):
                    others = probs[1 - i][s, a[1 - i]]
                    expected[s, a[i]] += weight[s] * rewards[i, s][a] * others
            np.testing.assert_allclose(u[i], expected, atol=1e-13)
        np.testing.assert_allclose(v, mu0 if entropy == "discounted" else np.ones(n_states), atol=1e-15)


@pytest.mark.parametrize("name", ["battle-of-sexes", "shapley"])
@pytest.mark.slow
def test_qre_path_ends_near_a_nash_equilibrium(name):
    # The logit QRE path from large tau converges to a Nash equilibrium as tau -> 0.
    from policy.tabular import qre_path

    g = get_game(name)
    p = g.data["payoffs"]
    path = qre_path(g.data["tabular"], np.geomspace(3.0, 2e-3, 60))
    assert bool(path.converged[-1])
    x = np.concatenate([np.asarray(jax.nn.softmax(z[-1, 0])) for z in path.logits])
    eqs = [np.concatenate(eq) for eq in tabular.bimatrix_nash(p[0], p[1])]
    assert min(np.abs(x - e).max() for e in eqs) < 0.02
    probs = [jnp.asarray(jax.nn.softmax(z[-1], axis=-1)) for z in path.logits]
    assert float(nash_conv(g.data["tabular"], probs)) < 0.02


def test_nash_solver_errors():
    with pytest.raises(ValueError, match="expected A to be a non-empty matrix"):
        tabular.zero_sum_nash([1.0, 2.0])
    with pytest.raises(ValueError, match=r"expected B of shape \(2, 2\) like A"):
        tabular.bimatrix_nash(np.eye(2), np.eye(3))
    with pytest.raises(ValueError, match="expected finite A"):
        tabular.zero_sum_nash([[np.nan, 0.0], [0.0, 1.0]])
