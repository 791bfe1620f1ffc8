"""Sound drivers: subdivision, branch and bound, Lipschitz-padded grids."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from certify.bounds import (
    interval_jacobian_grid,
    lipschitz_padded_bounds,
    refine_block_bounds,
    sound_block_bounds,
)


def spec_game(z):
    x, y = z[0], z[1]
    return jnp.stack([x + 0.5 * jnp.tanh(y) + 0.1 * x**3, y - 0.8 * jnp.sin(x)])


_A4 = jnp.array([[2.0, 0.3, 0.4, -0.2], [-0.1, 1.8, 0.1, 0.5], [0.3, -0.6, 2.2, 0.2], [0.2, 0.4, -0.3, 2.0]])
_B4 = 0.7 * jax.random.normal(jax.random.PRNGKey(3), (4, 4), dtype=jnp.float64)


def block_game(z):
    return _A4 @ z + 0.3 * jnp.tanh(_B4 @ z) + 0.1 * z**3 + 0.2 * jnp.sin(z[::-1])


def sampled_oracle(F, lo, hi, dims, n_points, seed=0):
    """Extremes over random points plus corners (inner estimates of the true inf / sup)."""
    rng = np.random.default_rng(seed)
    d = lo.shape[0]
    corners = np.array(np.meshgrid(*[[0.0, 1.0]] * d, indexing="ij")).reshape(d, -1).T
    t = np.concatenate([rng.uniform(size=(n_points, d)), corners])
    j = np.asarray(jax.jit(jax.vmap(jax.jacfwd(F)))(jnp.asarray(lo + (hi - lo) * t)))
    off = np.concatenate([[0], np.cumsum(dims)])
    sl = [slice(off[i], off[i + 1]) for i in range(len(dims))]
    sym = lambda m: 0.5 * (m + np.swapaxes(m, -1, -2))  # noqa: E731
    mu = np.array([np.linalg.eigvalsh(sym(j[:, s, s]))[:, 0].min() for s in sl])
    cpl = np.zeros((len(dims), len(dims)))
    for i, si in enumerate(sl):
        for k, sk in enumerate(sl):
            if i != k:
                cpl[i, k] = np.linalg.norm(j[:, si, sk], 2, axis=(-2, -1)).max()
    bn = np.array([np.linalg.norm(j[:, s, s], 2, axis=(-2, -1)).max() for s in sl])
    lip = np.linalg.norm(j, 2, axis=(-2, -1)).max()
    marg = np.linalg.eigvalsh(sym(j))[:, 0].min()
    return mu, cpl, bn, lip, marg


def assert_contains(b, oracle):
    mu, cpl, bn, lip, marg = oracle
    assert np.all(b.mu <= mu)
    assert np.all(b.coupling >= cpl)
    assert np.all(b.block_norm >= bn)
    assert b.lipschitz >= lip
    assert b.euclidean_margin <= marg


@pytest.mark.slow
def test_constant_jacobian_game_gives_exact_bounds():
    a = np.array([[3.0, 0.5, -1.0, 0.2], [0.1, 2.0, 0.3, 0.0], [0.4, -0.2, 1.0, 0.6],
                  [1.0, 0.0, -0.5, 2.5]])  # fmt: skip
    dims = (2, 2)
    b = sound_block_bounds(lambda z: jnp.asarray(a) @ z - 1.0, -np.ones(4), np.ones(4), dims)
    sym = lambda m: 0.5 * (m + m.T)  # noqa: E731
    mu = [np.linalg.eigvalsh(sym(a[:2, :2]))[0], np.linalg.eigvalsh(sym(a[2:, 2:]))[0]]
    l12, l21 = np.linalg.norm(a[:2, 2:], 2), np.linalg.norm(a[2:, :2], 2)
    np.testing.assert_allclose(b.mu, mu, rtol=1e-13)
    np.testing.assert_allclose(b.coupling, [[0, l12], [l21, 0]], rtol=1e-13)
    np.testing.assert_allclose(b.lipschitz, np.linalg.norm(a, 2), rtol=1e-13)
    np.testing.assert_allclose(b.euclidean_margin, np.linalg.eigvalsh(sym(a))[0], rtol=1e-13)
    assert np.all(b.mu <= mu)
    assert b.coupling[0, 1] >= l12
    assert b.coupling[1, 0] >= l21


@pytest.mark.slow
def test_spec_game_subdivision_tightens_monotonically():
    lo, hi = -np.ones(2), np.ones(2)
    oracle = sampled_oracle(spec_game, lo, hi, (1, 1), 20000)
    prev = None
    for k in (1, 2, 4, 8, 32):  # nested grids: each refines the previous one
        b = sound_block_bounds(spec_game, lo, hi, (1, 1), subdivisions=k)
        assert b.n_points == k * k
        assert_contains(b, oracle)
        if prev is not None:
            assert b.lipschitz <= prev.lipschitz + 1e-15
            assert b.euclidean_margin >= prev.euclidean_margin - 1e-15
            assert np.all(b.mu >= prev.mu - 1e-15)
            assert np.all(b.coupling <= prev.coupling + 1e-15)
        prev = b
    # Spec reference values: L = (0.5, 0.8) exactly, Lip -> 1.4153, m_full = 0.7050.
    np.testing.assert_allclose(prev.coupling, [[0, 0.5], [0.8, 0]], rtol=1e-12)
    assert prev.lipschitz - oracle[3] < 2e-3
    assert oracle[4] - prev.euclidean_margin < 1e-3


@pytest.mark.slow
def test_block_game_contains_sampled_values():
    lo, hi = -np.ones(4), np.ones(4)
    oracle = sampled_oracle(block_game, lo, hi, (2, 2), 20000)
    one = sound_block_bounds(block_game, lo, hi, (2, 2))
    two = sound_block_bounds(block_game, lo, hi, (2, 2), subdivisions=(2, 2, 1, 1))
    for b in (one, two):
        assert_contains(b, oracle)
    assert two.lipschitz <= one.lipschitz + 1e-12
    assert np.all(two.mu >= one.mu - 1e-12)


def test_interval_jacobian_grid_shapes():
    blo, bhi, jlo, jhi = interval_jacobian_grid(spec_game, -np.ones(2), np.ones(2), subdivisions=3)
    assert blo.shape == (9, 2)
    assert jlo.shape == (9, 2, 2)
    assert np.all(blo < bhi)
    assert np.all(jlo <= jhi)
    np.testing.assert_allclose(bhi.max(axis=0), [1.0, 1.0])


# J12 = 0.9 (cos y - y sin y) uses y twice: one box encloses it in [-0.30, 1.84] * 0.9 although
# |J12| <= 0.9; with mu = (1, 1) and L21 = 0.9, one box gives L12 L21 = 1.49 > 1 (refused) while
# the truth is 0.81 < 1 (certified).
def coupled(z):
    x, y = z[0], z[1]
    return jnp.stack([x + 0.9 * y * jnp.cos(y), y - 0.9 * jnp.sin(x)])


def small_gain_certified(b):
    """N = 2: the comparison matrix [[mu1, -L12], [-L21, mu2]] is a nonsingular M-matrix."""
    return bool(b.mu[0] > 0 and b.mu[1] > 0 and b.coupling[0, 1] * b.coupling[1, 0] < b.mu.prod())


@pytest.mark.slow
def test_branch_and_bound_decides_what_one_box_refuses():
    lo, hi = -np.ones(2), np.ones(2)
    one = sound_block_bounds(coupled, lo, hi, (1, 1))
    assert not small_gain_certified(one)
    b, rec = refine_block_bounds(coupled, lo, hi, (1, 1), decide=small_gain_certified)
    assert rec.decided
    assert small_gain_certified(b)
    assert rec.rounds >= 1
    assert rec.boxes == rec.box_lo.shape[0] == b.n_points
    assert_contains(b, sampled_oracle(coupled, lo, hi, (1, 1), 5000))
    # The partition covers the box exactly (volumes add up, all inside).
    assert np.all(rec.box_lo >= lo)
    assert np.all(rec.box_hi <= hi)
    np.testing.assert_allclose(np.prod(rec.box_hi - rec.box_lo, axis=1).sum(), 4.0, rtol=1e-12)


@pytest.mark.slow
def test_branch_and_bound_respects_budget():
    lo, hi = -np.ones(2), np.ones(2)
    b, rec = refine_block_bounds(coupled, lo, hi, (1, 1), decide=lambda b: False, max_rounds=50, max_boxes=20)
    assert not rec.decided
    assert rec.boxes <= 20
    assert_contains(b, sampled_oracle(coupled, lo, hi, (1, 1), 2000))
    b0, rec0 = refine_block_bounds(coupled, lo, hi, (1, 1), decide=lambda b: False, max_rounds=0)
    assert rec0.rounds == 0
    assert rec0.boxes == 1
    assert rec0.evaluations == 1


@pytest.mark.slow
def test_lipschitz_padded_bounds_are_sound_and_converge():
    lo, hi = -np.ones(2), np.ones(2)
    oracle = sampled_oracle(spec_game, lo, hi, (1, 1), 20000)
    gaps = []
    for g in (5, 17, 65):
        b = lipschitz_padded_bounds(spec_game, lo, hi, (1, 1), grid=g)
        assert b.kind == "sound"
        assert b.n_points == g * g
        assert_contains(b, oracle)
        gaps.append(b.lipschitz - oracle[3])
    assert gaps[0] > gaps[1] > gaps[2]
    assert gaps[2] < 0.05


@pytest.mark.slow
def test_lipschitz_padded_bounds_with_user_hessian_bound():
    a = np.array([[2.0, 0.5], [-0.3, 1.0]])
    lin = lambda z: jnp.asarray(a) @ z  # noqa: E731
    b = lipschitz_padded_bounds(lin, -np.ones(2), np.ones(2), (1, 1), grid=2, hessian_bound=0.0)
    np.testing.assert_allclose(b.coupling, [[0, 0.5], [0.3, 0]], rtol=1e-13)
    np.testing.assert_allclose(b.lipschitz, np.linalg.norm(a, 2), rtol=1e-13)
    # Spec game: ||DF(x) - DF(y)|| <= H ||x - y|| with H = sqrt(0.6^2 + 0.8^2 + ...) <= 2.
    b2 = lipschitz_padded_bounds(spec_game, -np.ones(2), np.ones(2), (1, 1), hessian_bound=2.0)
    assert_contains(b2, sampled_oracle(spec_game, -np.ones(2), np.ones(2), (1, 1), 5000))


def test_driver_input_errors():
    lo, hi = -np.ones(2), np.ones(2)
    with pytest.raises(ValueError, match="expected lo <= hi"):
        sound_block_bounds(spec_game, hi, lo, (1, 1))
    with pytest.raises(ValueError, match="expected lo and hi of one shape"):
        sound_block_bounds(spec_game, lo, np.ones(3), (1, 1))
    with pytest.raises(TypeError, match="expected floating lo and hi"):
        sound_block_bounds(spec_game, np.zeros(2, int), np.ones(2, int), (1, 1))
    with pytest.raises(ValueError, match="expected finite box bounds"):
        sound_block_bounds(spec_game, lo, np.array([1.0, np.inf]), (1, 1))
    with pytest.raises(ValueError, match="expected positive dims summing to 2"):
        sound_block_bounds(spec_game, lo, hi, (2, 1))
    with pytest.raises(ValueError, match="expected subdivisions >= 1"):
        sound_block_bounds(spec_game, lo, hi, (1, 1), subdivisions=0)
    with pytest.raises(ValueError, match="expected F: R\\^n -> R\\^n"):
        sound_block_bounds(lambda z: jnp.concatenate([z, z]), lo, hi, (1, 1))
    with pytest.raises(TypeError, match="expected a callable decide"):
        refine_block_bounds(spec_game, lo, hi, (1, 1), decide=True)
    with pytest.raises(ValueError, match="expected max_rounds >= 0"):
        refine_block_bounds(spec_game, lo, hi, (1, 1), decide=bool, max_boxes=0)
    with pytest.raises(ValueError, match="expected 0 < split_fraction <= 1"):
        refine_block_bounds(spec_game, lo, hi, (1, 1), decide=bool, split_fraction=0.0)
    with pytest.raises(ValueError, match="expected quantities among"):
        refine_block_bounds(spec_game, lo, hi, (1, 1), decide=bool, quantities=("beta",))
    with pytest.raises(ValueError, match="expected grid >= 2"):
        lipschitz_padded_bounds(spec_game, lo, hi, (1, 1), grid=1)
    with pytest.raises(ValueError, match="expected a nonnegative hessian_bound"):
        lipschitz_padded_bounds(spec_game, lo, hi, (1, 1), hessian_bound=-1.0)


@pytest.mark.slow
def test_padded_default_grid_fits_the_budget_above_four_dimensions():
    # The default grid was 9 points per axis: 9^6 points refused every game of 5 or more dimensions with a
    # ValueError. The default is now the finest grid within MAX_POINTS = 2^15: in 6 dimensions 5^6 = 15,625
    # fits and 6^6 = 46,656 does not, so 5 points per axis.
    import certify
    import games

    game = games.from_pseudo_gradient(lambda z: z + 0.1 * jnp.tanh(z[::-1]), (3, 3),
                                      region=games.Region(-np.ones(6), np.ones(6)))
    c = certify.certify(game, bounds="padded")
    assert c.bounds.n_points == 5**6
    # F_k depends on z_{5-k}: J_11 = J_22 = I (mu = 1 exactly) and J_12 = 0.1 diag(sech^2 z_{5-k}) reversed, whose
    # norm reaches 0.1 at z = 0. Sound bounds lie outside the true values, and the game is certified.
    assert c.bounds.kind == "sound"
    assert c.certified
    assert all(0.5 < m <= 1.0 + 1e-12 for m in c.bounds.mu)
    assert 0.1 - 1e-12 <= c.bounds.coupling[0][1] < 0.5
