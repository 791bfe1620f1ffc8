"""Mirror/Fisher SGN certificate: coordination threshold, exact couplings, Markov quantities by two routes."""

import dataclasses
import itertools
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import certify
from certify.bounds import fisher_normalised_jacobians, matrix_coupling, sample_points, tangent_coupling
from games import Region, get_game, matrix_game
from games.tabular import logit_pseudo_gradient, reduced_basis, split_logits
from policy.tabular import npg, solve_qre


def _cube_vertices(center, radius):
    return sample_points(Region.around(center, radius), points_per_dim=2, center=False)


@pytest.mark.parametrize("tau", [0.5, 0.99, 1.01, 1.5, 3.0])
@pytest.mark.slow
def test_coordination_threshold_is_qre_bifurcation(tau):
    cert = certify.certify(get_game("coordination", tau=tau))
    # mu = (tau, tau), L12 = L21 = 1/4 (1 + 1 + 1 + 1) = 1: alpha_max = tau - 1 (Perron value of K)
    assert cert.settings.geometry == "mirror"
    assert cert.bounds.coupling == [[0.0, 1.0], [1.0, 0.0]]
    assert cert.margin == pytest.approx(tau - 1.0, abs=1e-12)
    assert cert.status == ("certified" if tau > 1 else "not_certified")
    tg = get_game("coordination", tau=tau).data["tabular"]
    ends = []
    for start in ([1.0, 0.0], [0.0, 1.0]):
        res = solve_qre(tg, [jnp.array([start])] * 2)
        assert bool(res.converged)
        ends.append(float(jax.nn.softmax(res.logits[0][0])[0]))
    # above tau = 1 every start reaches the unique (uniform) QRE; below, two more QREs exist
    if tau > 1:
        np.testing.assert_allclose(ends, 0.5, atol=1e-9)
    else:
        assert ends[0] > 0.5 + 1e-3
        assert ends[1] < 0.5 - 1e-3


def test_tangent_coupling_is_sup_over_l1_tangent_ball():
    rng = np.random.default_rng(0)
    b = rng.normal(size=(3, 4))
    # independent: enumerate the extreme points (e_k - e_k')/2 of both tangent l1-balls
    best = 0.0
    for k, kk in itertools.permutations(range(3), 2):
        for a, bb in itertools.permutations(range(4), 2):
            di = (np.eye(3)[k] - np.eye(3)[kk]) / 2
            dj = (np.eye(4)[a] - np.eye(4)[bb]) / 2
            best = max(best, di @ b @ dj)
    assert tangent_coupling(b) == pytest.approx(best, abs=1e-14)
    for _ in range(200):
        di, dj = rng.normal(size=3), rng.normal(size=4)
        di, dj = di - di.mean(), dj - dj.mean()
        di, dj = di / np.abs(di).sum(), dj / np.abs(dj).sum()
        assert abs(di @ b @ dj) <= best + 1e-12


def test_three_player_coupling_dominates_mixed_profiles():
    rng = np.random.default_rng(1)
    t = rng.normal(size=(3, 2, 2, 2))
    lmat = matrix_coupling(t)
    for _ in range(50):
        z = rng.dirichlet(np.ones(2))
        block = np.einsum("abc,c->ab", t[0], z)  # d^2 u_1 / dx_1 dx_2 at x_3 = z
        assert tangent_coupling(block) <= lmat[0, 1] + 1e-12


def test_mirror_certificate_json_and_steps():
    cert = certify.certify(get_game("rps-qre", tau=1.5))
    assert certify.Certificate.from_json(cert.to_json()).to_dict() == cert.to_dict()
    assert cert.status == "certified"
    assert cert.bounds.kind == "exact"
    # RPS: L = 3/4 (e.g. k=rock, k'=paper, a=scissors, b=rock: (1 - 0 + 1 + 1)/4); rho(L) = 0.75
    assert cert.bounds.coupling[0][1] == pytest.approx(0.75)
    assert cert.steps.euler_step == pytest.approx(2 / (1.5 + 0.75))
    assert cert.steps.euler_factor == pytest.approx(0.5)
    assert cert.bounds.gain == pytest.approx(0.75 / 1.5)  # rho(D_mu^-1 L) with mu = tau
    assert cert.extra["loop_gain"] == pytest.approx(0.75)
    # beta is the log-ratio field's Lipschitz constant tau + rho(L) = 1.5 + 0.75, and the step is 2/beta;
    # F itself has no finite l1 -> l_inf constant: the unweighted 'lipschitz' stays NaN with its reason
    assert cert.bounds.weighted_lipschitz == pytest.approx(2.25, rel=1e-12)
    assert cert.steps.euler_step == pytest.approx(2 / cert.bounds.weighted_lipschitz, rel=1e-12)
    assert "tau + rho(L)" in cert.extra["weighted_lipschitz"]
    assert "weighted_lipschitz" not in cert.extra["not_applicable"]
    assert np.isnan(cert.bounds.lipschitz)
    assert "no finite value" in cert.extra["not_applicable"]["lipschitz"]
    assert json.loads(cert.to_json())["bounds"]["weighted_lipschitz"] == pytest.approx(2.25, rel=1e-12)
    # files written before mirror certificates had a beta (NaN there) still verify; a wrong beta does not
    def with_beta(beta):
        return dataclasses.replace(cert, bounds=dataclasses.replace(cert.bounds, weighted_lipschitz=beta))

    assert certify.check_certificate(with_beta(float("nan"))).consistent
    wrong = certify.check_certificate(with_beta(2.0))
    assert not wrong.consistent
    assert "weighted_lipschitz" in wrong.message


def test_mirror_weighted_lipschitz_bounds_the_log_ratio_field():
    a = np.array([[3.0, -1.0, 0.0], [-1.0, 1.0, 1.0]])
    b = np.array([[0.0, 1.0, 0.5], [1.0, 0.0, 0.0]])
    tau = 2.0
    # L_ij = 1/4 max over row pairs of the oscillation of their difference (the same over columns):
    # a's rows differ by [4, -2, -1] (osc 6), b's by [-1, 1, 0.5] (osc 2)
    l12, l21 = 6 / 4, 2 / 4
    rho = np.sqrt(l12 * l21)  # Perron root of [[0, l12], [l21, 0]]
    game = matrix_game(a, b, tau=tau)
    cert = certify.certify(game)
    assert game.geometry == "mirror"
    assert cert.status == "certified"
    assert cert.bounds.coupling == [[0.0, pytest.approx(l12)], [pytest.approx(l21), 0.0]]
    assert cert.bounds.weighted_lipschitz == pytest.approx(tau + rho, rel=1e-12)
    assert cert.steps.euler_step == pytest.approx(2 / (tau + rho), rel=1e-12)
    v = np.array([np.sqrt(l12), np.sqrt(l21)])  # right Perron vector: L v = rho v

    def field(z1, z2):  # G_i(z) = -tau z_i + grad_{x_i} u_i(x_{-i}), x = softmax(z)
        x1, x2 = np.exp(z1 - z1.max()), np.exp(z2 - z2.max())
        x1, x2 = x1 / x1.sum(), x2 / x2.sum()
        return -tau * z1 + a @ x2, -tau * z2 + b.T @ x1

    def norm(d1, d2):
        return max(np.ptp(d1) / v[0], np.ptp(d2) / v[1])

    rng = np.random.default_rng(0)
    worst = 0.0
    for scale in (1e-3, 0.3, 3.0, 30.0):
        for _ in range(400):
            z, zz = [[rng.normal(size=n) * scale for n in (2, 3)] for _ in range(2)]
            g, gg = field(*z), field(*zz)
            worst = max(worst, norm(g[0] - gg[0], g[1] - gg[1]) / norm(z[0] - zz[0], z[1] - zz[1]))
    assert worst <= cert.bounds.weighted_lipschitz * (1 + 1e-12)
    assert worst >= tau  # the -tau z part alone already has Lipschitz constant tau: the bound is not vacuous


def test_bad_region_and_inapplicable_bounds():
    with pytest.raises(ValueError, match="expected a region of dimension 8"):
        certify.certify(get_game("markov-coop"), region=Region.around(np.zeros(2), 0.1))
    with pytest.raises(ValueError, match="expected at most"):
        _cube_vertices(np.zeros(20), 0.1)
    with pytest.raises(ValueError, match="expected bounds 'auto' or 'sampled'"):
        certify.certify(get_game("markov-coop"), bounds="interval")
    with pytest.raises(ValueError, match="expected bounds 'auto' or 'exact'"):
        certify.certify(get_game("coordination"), bounds="sampled")
    with pytest.raises(ValueError, match="expected no region"):
        certify.certify(get_game("coordination"), region=Region.around(np.zeros(4), 0.1))


@pytest.fixture(scope="module")
def coop_certificate():
    return certify.certify(get_game("markov-coop"))


def test_markov_coop_certificate_matches_paper(coop_certificate):
    c = coop_certificate
    json.loads(c.to_json())
    assert c.status == "certified"
    assert c.settings.geometry == "fisher"
    assert c.bounds.n_points == 256
    assert c.weights.values == pytest.approx([1.0, 1.0])  # symmetric players: Perron ratio 1
    assert c.sgn_margin == pytest.approx(0.33, abs=0.01)  # the authors' figure: alpha ~ 0.33 at r ~ 1
    # the strongest claim: the direct test at the same weights (min over the same points of
    # lambda_min(sym(W^1/2 J W^-1/2)), never below the small-gain margin) proves more
    assert c.proved_by == "direct (SGN weights)"
    assert c.margin == c.extra["direct_margin"] > c.sgn_margin
    assert c.steps.euler_step == pytest.approx(2 * c.margin / c.bounds.weighted_lipschitz ** 2)
    # band endpoints: alpha_*(r) = 0 there (closed form of spec §5 evaluated independently)
    mu, l12 = c.bounds.mu[0], c.bounds.coupling[0][1]
    for r in c.weights.band:
        assert mu - 0.5 * (l12 / np.sqrt(r) + l12 * np.sqrt(r)) == pytest.approx(0.0, abs=1e-9)


def _paper_route(game, points, weights):
    """Second route: finite-difference Jacobians and pseudo-inverse Fisher roots, in numpy."""
    tg = game.data["tabular"]
    shapes = game.data["logit_shapes"]
    field = jax.jit(game.pseudo_gradient)
    h = 1e-5
    dim = game.dim
    mus, ls, betas = [], [], []
    for th in points:
        cols = [(np.asarray(field(jnp.asarray(th + h * e))) - np.asarray(field(jnp.asarray(th - h * e))))
                / (2 * h) for e in np.eye(dim)]
        hess = np.stack(cols, axis=1)
        roots, invs = [], []
        for z in split_logits(jnp.asarray(th), shapes):
            p = np.asarray(jax.nn.softmax(z, axis=-1))
            fish = np.zeros((p.size, p.size))
            for s in range(p.shape[0]):
                sl = slice(s * p.shape[1], (s + 1) * p.shape[1])
                fish[sl, sl] = np.diag(p[s]) - np.outer(p[s], p[s])
            lam, v = np.linalg.eigh(fish)
            keep = lam > 1e-9
            roots.append((v[:, keep] * np.sqrt(lam[keep])) @ v[:, keep].T)
            invs.append((v[:, keep] / np.sqrt(lam[keep])) @ v[:, keep].T)
        b = game.blocks
        n_s = shapes[0][0]
        mu = []
        for i in range(2):
            e = np.sort(np.linalg.eigvalsh(invs[i] @ hess[b[i], b[i]] @ invs[i]))
            e = e[np.argsort(np.abs(e))][n_s:]  # drop the n_states gauge zeros: "min nonzero"
            mu.append(e.min())
        mus.append(mu)
        ls.append([np.linalg.norm(invs[0] @ hess[b[0], b[1]] @ invs[1], 2),
                   np.linalg.norm(invs[1] @ hess[b[1], b[0]] @ invs[0], 2)])
        big_root = np.zeros((dim, dim))
        big_inv = np.zeros((dim, dim))
        for i in range(2):
            big_root[b[i], b[i]] = np.sqrt(weights[i]) * roots[i]
            big_inv[b[i], b[i]] = invs[i] / np.sqrt(weights[i])
        fisher_pinv = np.zeros((dim, dim))
        for i in range(2):
            fisher_pinv[b[i], b[i]] = invs[i] @ invs[i]
        betas.append(np.linalg.norm(big_root @ fisher_pinv @ hess @ big_inv, 2))
    assert tg is not None
    return np.min(mus, axis=0), np.max(ls, axis=0), np.max(betas)


@pytest.mark.slow
def test_markov_quantities_two_routes(coop_certificate):
    c = coop_certificate
    game = get_game("markov-coop")
    pts = _cube_vertices(np.zeros(8), 0.1)
    mu, l, beta = _paper_route(game, pts, c.weights.values)
    np.testing.assert_allclose(c.bounds.mu, mu, atol=1e-6)
    np.testing.assert_allclose([c.bounds.coupling[0][1], c.bounds.coupling[1][0]], l, atol=1e-6)
    assert c.bounds.weighted_lipschitz == pytest.approx(beta, abs=1e-6)


@pytest.mark.slow
def test_riemannian_terms_match_full_autodiff():
    game = get_game("markov-coop")
    tg = game.data["tabular"]
    shapes = game.data["logit_shapes"]
    theta = jnp.asarray(np.random.default_rng(2).uniform(-0.1, 0.1, size=8))
    basis = reduced_basis(tg)

    def field(th):
        return jnp.concatenate([jnp.ravel(v) for v in logit_pseudo_gradient(tg, split_logits(th, shapes))])

    def gram(phi):
        probs = [jax.nn.softmax(z, axis=-1) for z in split_logits(theta + basis @ phi, shapes)]
        blocks = []
        for p in probs:
            f = jax.scipy.linalg.block_diag(*[jnp.diag(q) - jnp.outer(q, q) for q in p])
            blocks.append(f)
        return basis.T @ jax.scipy.linalg.block_diag(*blocks) @ basis

    def nat(phi):
        return jnp.linalg.solve(gram(phi), basis.T @ field(theta + basis @ phi))

    zero = jnp.zeros(4)
    g0 = np.asarray(jax.jit(gram)(zero))
    lam, v = np.linalg.eigh(g0)
    half, inv_half = (v * np.sqrt(lam)) @ v.T, (v / np.sqrt(lam)) @ v.T
    # one compiled program each (op-by-op differentiation would compile every primitive on its own)
    j_nat = np.asarray(jax.jit(jax.jacfwd(nat))(zero))
    g_dot = np.asarray(jax.jit(lambda p, t: jax.jvp(gram, (p,), (t,))[1])(zero, -jax.jit(nat)(zero)))
    expected = half @ j_nat @ inv_half - 0.5 * inv_half @ g_dot @ inv_half
    n_paper, n_riem = fisher_normalised_jacobians(tg, theta)
    np.testing.assert_allclose(n_riem, expected, atol=1e-10)
    # at the equilibrium the dropped terms vanish: both matrices coincide
    n0, r0 = fisher_normalised_jacobians(tg, jnp.zeros(8))
    np.testing.assert_allclose(n0, r0, atol=1e-12)
    assert np.linalg.norm(np.asarray(n_riem - n_paper)) > 1e-6


@pytest.mark.slow
def test_coop_equilibrium_quantities_and_npg_stability_limit(coop_certificate):
    # spec §8.3 (independent numpy port): at theta* = 0, mu = (tau, tau) = (1, 1) and L12 = L21 = 0.55.
    game = get_game("markov-coop")
    tg = game.data["tabular"]
    n0, _ = fisher_normalised_jacobians(tg, jnp.zeros(8))
    n0 = np.asarray(n0)
    np.testing.assert_allclose(np.linalg.eigvalsh(n0[:2, :2]).min(), 1.0, atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(n0[:2, 2:], 2), 0.55, atol=1e-12)
    # NPG's linearisation at theta* is I - eta G^{-1} H, similar to I - eta N: it is stable iff
    # eta < 2 / lambda_max(N) = 2 / 1.55, i.e. 4.78 x the certified eta_max (where the sweep fails).
    lam_max = np.linalg.eigvals(n0).real.max()
    assert lam_max == pytest.approx(1.55, abs=1e-12)
    basis = reduced_basis(tg)
    shapes = game.data["logit_shapes"]

    def npg_map(phi, eta):
        th = split_logits(basis @ phi, shapes)
        lrn = npg(step=eta)
        out = lrn.update(lrn.init(th, tg), tg).logits
        return basis.T @ jnp.concatenate([jnp.ravel(z) for z in out])

    eta_lin = 2.0 / lam_max
    for factor, stable in ((0.99, True), (1.01, False)):
        jac = np.asarray(jax.jacfwd(npg_map)(jnp.zeros(4), factor * eta_lin))
        assert (np.max(np.abs(np.linalg.eigvals(jac))) < 1) == stable
    c = coop_certificate
    sgn_step = 2 * c.sgn_margin / c.bounds.weighted_lipschitz**2  # the paper's step, from the small-gain margin
    assert eta_lin / sgn_step == pytest.approx(4.78, abs=0.01)
    # the strongest claim (the direct test at the same weights, same beta) certifies a larger step, still
    # below the linear stability limit
    assert 1 < eta_lin / c.steps.euler_step < eta_lin / sgn_step
