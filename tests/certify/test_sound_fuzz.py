"""Property test: certificates built on sound bounds hold for projected Euler, pair by pair.

For random smooth nonlinear 2-player games on random boxes (linear part, tanh / sin couplings,
cubic and quadratic polynomial terms, random strengths, player dims 1-3), we compute sound bounds
with the interval engine on 2^d sub-boxes, and when the N = 2 small-gain test certifies,

* weights r* = L12 / L21 (spec-sgn-math section 4A), w = (1, r*),
* margin alpha_*(r*) (section 3.1), beta(w) from interval_weighted_lipschitz,
* step h = alpha / beta^2 (half the maximal 2 alpha / beta^2) and factor
  q = sqrt(1 - 2 h alpha + h^2 beta^2) = sqrt(1 - alpha^2 / beta^2),

we check ||Pi(x - hF(x)) - Pi(y - hF(y))||_W <= q ||x - y||_W for random, near and vertex pairs in
the box, Pi = clip to the box (the W-projection onto a box, W diagonal). Float tolerance: the
ratio may exceed q by at most 1e-9, with ||x - y|| >= 1e-4 * box width (the float error of one
Euler step is ~1e-15 * |x|, so this is ~1e5 times the worst rounding effect).

We also count how often *sampled* bounds (256 random points) would certify a game that the sound
check refuses: sampled extremes are inner estimates and miss the true inf/sup.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from certify._interval import interval_jacobian
from certify._interval._matrix import interval_block_bounds, interval_weighted_lipschitz

RATIO_TOL = 1e-9
N_SAMPLED = 256
EXACT_MAX_DIM = 8  # vertex formulas for blocks; cheap bounds for the 5x5, 6x6 matrices


def _game(z, th):
    return (
        th["A"] @ z
        + th["u"] * jnp.tanh(th["B"] @ z + th["b"])
        + th["v"] * jnp.sin(th["P"] @ z + th["p"])
        + th["c"] * z**3
        + th["e"] * (th["R"] @ z) ** 2
    )


@functools.cache
def _fns(d):
    def boxes(th, blo, bhi):
        return jax.vmap(lambda a, b: interval_jacobian(lambda z: _game(z, th), a, b))(blo, bhi)

    def euler(th, x, h, lo, hi):
        fx = jax.vmap(lambda z: _game(z, th))(x)
        return jnp.clip(x - h * fx, lo[None], hi[None])

    def jac(th, x):
        return jax.vmap(jax.jacfwd(lambda z: _game(z, th)))(x)

    return jax.jit(boxes), jax.jit(euler), jax.jit(jac)


def make_game(d1, d2, seed, coupling, nonlinearity, half_width):
    """Random parameters and box of one game; strengths set the certification odds."""
    rng = np.random.default_rng(seed)
    d = d1 + d2
    a = np.zeros((d, d))
    for s, m in ((slice(0, d1), d1), (slice(d1, d), d2)):
        g = rng.normal(size=(m, m))
        a[s, s] = rng.uniform(0.4, 2.0) * np.eye(m) + 0.15 * (g + g.T)
    a[:d1, d1:] = coupling * rng.normal(size=(d1, d2)) / np.sqrt(d)
    a[d1:, :d1] = coupling * rng.normal(size=(d2, d1)) / np.sqrt(d)
    th = {
        "A": a,
        "u": nonlinearity * rng.uniform(-1, 1, d),
        "B": rng.normal(size=(d, d)) / np.sqrt(d),
        "b": rng.uniform(-1, 1, d),
        "v": 0.5 * nonlinearity * rng.uniform(-1, 1, d),
        "P": rng.normal(size=(d, d)) / np.sqrt(d),
        "p": rng.uniform(-np.pi, np.pi, d),
        "c": nonlinearity * rng.uniform(0.0, 0.3, d),
        "e": nonlinearity * rng.uniform(-0.2, 0.2, d),
        "R": rng.normal(size=(d, d)) / np.sqrt(d),
    }
    centre = rng.uniform(-0.5, 0.5, d)
    half = half_width * rng.uniform(0.5, 1.0, d)
    return {k: jnp.asarray(v) for k, v in th.items()}, centre - half, centre + half


def small_gain_2(mu, coupling):
    """N = 2 SGN certificate: (alpha_*(r*), weights (1, r*)) or None if not certified.

    alpha_*(r) = (mu1 + mu2)/2 - sqrt(((mu1 - mu2)/2)^2 + c(r)^2), c(r) = (L12/sqrt r + L21 sqrt r)/2
    (spec-sgn-math section 3.1) at r* = L12 / L21 (section 4A); r = 1 if a coupling vanishes.
    """
    m1, m2 = float(mu[0]), float(mu[1])
    l12, l21 = float(coupling[0, 1]), float(coupling[1, 0])
    if not (m1 > 0 and m2 > 0 and l12 * l21 < m1 * m2):
        return None
    r = l12 / l21 if l12 > 0 and l21 > 0 else 1.0
    c = 0.5 * (l12 / np.sqrt(r) + l21 * np.sqrt(r))
    alpha = 0.5 * (m1 + m2) - np.sqrt((0.5 * (m1 - m2)) ** 2 + c**2)
    if not alpha > 0:
        return None
    return alpha, np.array([1.0, r])


def _pairs(lo, hi, rng):
    d = lo.shape[0]
    width = hi - lo
    x = lo + width * rng.uniform(size=(128, d))
    y = lo + width * rng.uniform(size=(128, d))
    xn = lo + width * rng.uniform(size=(64, d))
    u = rng.normal(size=(64, d))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    yn = np.clip(xn + 1e-3 * width * u, lo, hi)
    xv = np.where(rng.uniform(size=(32, d)) < 0.5, lo, hi)
    yv = lo + width * rng.uniform(size=(32, d))
    xs, ys = np.concatenate([x, xn, xv]), np.concatenate([y, yn, yv])
    keep = np.linalg.norm(xs - ys, axis=1) >= 1e-4 * np.linalg.norm(width)
    return xs[keep], ys[keep]


def contraction_excess(euler, th, lo, hi, h, q, w_coord, x, y):
    """max over pairs of ||x+ - y+||_W / ||x - y||_W - q."""
    xp = np.asarray(euler(th, jnp.asarray(x), h, jnp.asarray(lo), jnp.asarray(hi)))
    yp = np.asarray(euler(th, jnp.asarray(y), h, jnp.asarray(lo), jnp.asarray(hi)))
    num = np.sqrt(np.sum(w_coord * (xp - yp) ** 2, axis=1))
    den = np.sqrt(np.sum(w_coord * (x - y) ** 2, axis=1))
    return float(np.max(num / den - q))


def _sampled_bounds(jac, th, lo, hi, dims, rng):
    d1 = dims[0]
    x = lo + (hi - lo) * rng.uniform(size=(N_SAMPLED, lo.shape[0]))
    j = np.asarray(jac(th, jnp.asarray(x)))
    sym = lambda m: 0.5 * (m + np.swapaxes(m, -1, -2))  # noqa: E731
    mu = np.array(
        [
            np.linalg.eigvalsh(sym(j[:, :d1, :d1]))[:, 0].min(),
            np.linalg.eigvalsh(sym(j[:, d1:, d1:]))[:, 0].min(),
        ]
    )
    cpl = np.zeros((2, 2))
    cpl[0, 1] = np.linalg.norm(j[:, :d1, d1:], 2, axis=(-2, -1)).max()
    cpl[1, 0] = np.linalg.norm(j[:, d1:, :d1], 2, axis=(-2, -1)).max()
    return mu, cpl


def run_game(stats, d1, d2, seed, coupling, nonlinearity, half_width):
    d = d1 + d2
    dims = (d1, d2)
    boxes, euler, jac = _fns(d)
    th, lo, hi = make_game(d1, d2, seed, coupling, nonlinearity, half_width)
    edges = np.stack([lo, 0.5 * (lo + hi), hi])
    idx = np.stack(np.meshgrid(*[np.arange(2)] * d, indexing="ij"), -1).reshape(-1, d)
    blo = edges[idx, np.arange(d)]
    bhi = edges[idx + 1, np.arange(d)]
    jlo, jhi = boxes(th, jnp.asarray(blo), jnp.asarray(bhi))
    jlo, jhi = np.asarray(jlo), np.asarray(jhi)
    sound = interval_block_bounds(jlo, jhi, dims, exact_max_dim=EXACT_MAX_DIM)
    rng = np.random.default_rng(seed + 1)
    cert = small_gain_2(sound.mu, sound.coupling)
    mu_s, cpl_s = _sampled_bounds(jac, th, lo, hi, dims, rng)
    stats["games"] += 1
    sampled_cert = small_gain_2(mu_s, cpl_s) is not None
    stats["sampled_certified"] += sampled_cert
    if cert is None:
        stats["sampled_only"] += sampled_cert
        return
    stats["certified"] += 1
    # The sampled oracle must lie inside the sound bounds.
    assert np.all(sound.mu <= mu_s + 1e-12)
    assert np.all(sound.coupling >= cpl_s - 1e-12)
    alpha, w = cert
    beta = interval_weighted_lipschitz(jlo, jhi, dims, w, exact_max_dim=EXACT_MAX_DIM)
    h = alpha / beta**2
    q = np.sqrt(max(0.0, 1.0 - 2 * h * alpha + h**2 * beta**2))
    w_coord = np.repeat(w, dims)
    x, y = _pairs(lo, hi, rng)
    excess = contraction_excess(euler, th, lo, hi, h, q, w_coord, x, y)
    stats["max_excess"] = max(stats["max_excess"], excess)
    stats["violations"] += excess > RATIO_TOL


def _new_stats():
    return {
        "games": 0,
        "certified": 0,
        "sampled_certified": 0,
        "sampled_only": 0,
        "violations": 0,
        "max_excess": -np.inf,
    }


def _fuzz(n_examples):
    stats = _new_stats()

    @settings(
        max_examples=n_examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(
        d1=st.integers(1, 3),
        d2=st.integers(1, 3),
        seed=st.integers(0, 2**31 - 1),
        coupling=st.floats(0.0, 2.0),
        nonlinearity=st.floats(0.0, 1.2),
        half_width=st.floats(0.05, 1.5),
    )
    def prop(d1, d2, seed, coupling, nonlinearity, half_width):
        run_game(stats, d1, d2, seed, coupling, nonlinearity, half_width)

    prop()
    rate = stats["sampled_only"] / max(stats["games"], 1)
    print(
        f"\nfuzz: games={stats['games']} certified(sound)={stats['certified']} "
        f"certified(sampled)={stats['sampled_certified']} violations={stats['violations']} "
        f"max(ratio - q)={stats['max_excess']:.3e} "
        f"sampled-certifies-sound-refuses={stats['sampled_only']} ({rate:.1%})"
    )
    return stats


def test_sound_certificates_contract_pairwise():
    stats = _fuzz(300)
    assert stats["games"] >= 250
    assert stats["certified"] >= 50  # the property is exercised on many certified games
    assert stats["violations"] == 0


@pytest.mark.slow
def test_sound_certificates_contract_pairwise_many():
    stats = _fuzz(5000)
    assert stats["games"] >= 4500
    assert stats["violations"] == 0


def test_contraction_check_detects_an_overstated_certificate():
    # J = [[1, 2], [-2, 1]]: alpha_true = 1, beta = sqrt 5, and every pair contracts by exactly
    # sqrt(1 - 2h + 5h^2) (J = I + 2 * rotation). Claiming alpha = 1.1 gives h = 0.22 and
    # q = sqrt(1 - 1.21/5) = 0.8706 while the true factor is sqrt(1 - 0.44 + 0.242) = 0.8955.
    d = 2
    _, euler, _ = _fns(d)
    th = {
        "A": jnp.array([[1.0, 2.0], [-2.0, 1.0]]),
        "u": jnp.zeros(d),
        "B": jnp.zeros((d, d)),
        "b": jnp.zeros(d),
        "v": jnp.zeros(d),
        "P": jnp.zeros((d, d)),
        "p": jnp.zeros(d),
        "c": jnp.zeros(d),
        "e": jnp.zeros(d),
        "R": jnp.zeros((d, d)),
    }
    lo, hi = -10.0 * np.ones(d), 10.0 * np.ones(d)
    x, y = np.array([[0.3, -0.2]]), np.array([[0.1, 0.4]])
    beta = np.sqrt(5.0)
    for alpha, violated in ((1.0, False), (1.1, True)):
        h = alpha / beta**2
        q = np.sqrt(1 - 2 * h * alpha + h**2 * beta**2)
        excess = contraction_excess(euler, th, lo, hi, h, q, np.ones(d), x, y)
        assert (excess > RATIO_TOL) == violated
        if not violated:
            assert abs(excess) < 1e-12  # tight: the check can see a 1e-9 overstatement
