"""Advantage estimators and transforms vs numpy re-implementations / hand calculations."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from policy.tokens import (
    copo_answer_entropy,
    copo_global_advantages,
    dapo_dynamic_sampling_mask,
    dapo_overlong_penalty,
    dcpo_mix_advantages,
    dcpo_temperature,
    empg_modulate_advantages,
    empo_cluster_rewards,
    entropy_aware_advantages,
    grpo_advantages,
    hapo_adaptive_eps,
    hapo_normalized_entropy,
    hapo_redistribute_advantages,
    hapo_token_advantages,
    oblr_baseline_advantages,
    oblr_gradient_proxy,
    rloo_advantages,
)

RNG = np.random.default_rng(0)
R = RNG.integers(0, 2, 12).astype(float)
G = np.repeat(np.arange(3), 4)


def np_grpo(r, g, eps=1e-6, std=True):
    out = np.zeros_like(r)
    for k in np.unique(g):
        s = g == k
        mu = r[s].mean()
        sd = r[s].std(ddof=1) if s.sum() > 1 else 1.0
        out[s] = (r[s] - mu) / (sd + eps) if std else r[s] - mu
    return out


@pytest.mark.slow
def test_grpo_matches_numpy_and_all_equal_is_zero():
    np.testing.assert_allclose(grpo_advantages(R, G, num_groups=3), np_grpo(R, G), rtol=1e-12)
    for val in (0.0, 1.0):  # spec T2
        a = grpo_advantages(jnp.full(4, val), jnp.zeros(4, int), num_groups=1)
        assert np.all(np.asarray(a) == 0.0)
    # singleton groups: verl -> A = R, TRL -> 0
    a = grpo_advantages(jnp.array([0.7, 1.0, 0.0]), jnp.array([0, 1, 1]), num_groups=2)
    np.testing.assert_allclose(a[0], 0.7)
    a = grpo_advantages(jnp.array([0.7, 1.0, 0.0]), jnp.array([0, 1, 1]), num_groups=2,
                        singleton="zero")
    assert float(a[0]) == 0.0
    # batch scaling
    ab = grpo_advantages(R, G, num_groups=3, scale="batch")
    np.testing.assert_allclose(ab, np_grpo(R, G, std=False) / (R.std(ddof=1) + 1e-6))


def test_rloo_numpy():
    exp = np.array([R[i] - np.mean(np.delete(R[G == G[i]], i % 4)) for i in range(12)])
    np.testing.assert_allclose(rloo_advantages(R, G, num_groups=3), exp, rtol=1e-12)


@pytest.mark.slow
def test_hapo_token_level_numpy():
    r = np.array([1.0, 0.0, 0.0, 1.0])
    m = np.array([[1, 1, 1, 1], [1, 0, 0, 0], [1, 1, 0, 0], [1, 1, 1, 0]], float)
    n = m.sum(1)
    tok = np.repeat(r, n.astype(int))
    exp = (r - tok.mean()) / (tok.std() + 1e-6)
    got = hapo_token_advantages(r, m, jnp.zeros(4, int), num_groups=1)
    np.testing.assert_allclose(got, exp, rtol=1e-12)
    # one correct long answer among many wrong short ones -> |A| >= 5 -> GRPO fallback
    r2 = np.array([1.0] + [0.0] * 7)
    m2 = np.zeros((8, 40))
    m2[0, :1] = 1
    m2[1:, :40] = 1
    got2 = hapo_token_advantages(r2, m2, jnp.zeros(8, int), num_groups=1)
    np.testing.assert_allclose(got2, np_grpo(r2, np.zeros(8, int)), rtol=1e-12)


def test_copo_and_empo_numpy():
    g = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    ans = np.array([0, 0, 1, 2, 3, 3, 3, 3])
    r = np.array([1, 1, 0, 0, 1, 1, 1, 1], float)
    h = copo_answer_entropy(g, ans, num_groups=2, num_answers=4)
    # group 0: p = (1/2, 1/4, 1/4) -> 1.5 bits; group 1: one cluster -> 0
    np.testing.assert_allclose(h, [1.5, 0.0])
    a, _ = copo_global_advantages(r, g, ans, num_groups=2, num_answers=4)
    rg = np.array([0.5, 1.0])
    ga = (rg - rg.mean()) / (rg.std(ddof=1) + 1e-6)
    np.testing.assert_allclose(a, np.repeat(ga, 4), rtol=1e-12)
    a2, _ = copo_global_advantages(r, g, ans, num_groups=2, num_answers=4, entropy_penalty=True)
    lam = (1 - 1 / 4) / np.log2(4)
    rg2 = np.array([0.5 * (1 - lam * 1.5), 1.0])
    np.testing.assert_allclose(a2, np.repeat((rg2 - rg2.mean()) / (rg2.std(ddof=1) + 1e-6), 4))
    e = empo_cluster_rewards(g, ans, num_groups=2, num_answers=4)
    np.testing.assert_allclose(e, [0.5, 0.5, 0.25, 0.25, 1, 1, 1, 1])


def test_oblr():
    lp = np.log(np.array([[0.5, 0.9, 1.0], [0.2, 0.2, 0.3]]))
    m = np.array([[1, 1, 0], [1, 1, 1]], float)
    w = oblr_gradient_proxy(lp, m)
    np.testing.assert_allclose(w, [0.25 + 0.01, 0.64 + 0.64 + 0.49])
    r = np.array([1.0, 0.0])
    a = oblr_baseline_advantages(r, w, jnp.zeros(2, int), num_groups=1)
    b = (w * r).sum() / w.sum()
    np.testing.assert_allclose(a, r - b)
    # zero weights -> plain mean baseline
    a0 = oblr_baseline_advantages(r, np.zeros(2), jnp.zeros(2, int), num_groups=1)
    np.testing.assert_allclose(a0, [0.5, -0.5])


def test_dapo_filter_and_overlong():
    keep = dapo_dynamic_sampling_mask(jnp.array([1.0, 1.0, 1.0, 1.0, 0.0, 1.0]),
                                      jnp.array([0, 0, 0, 0, 1, 1]), num_groups=2)
    assert keep.tolist() == [False] * 4 + [True] * 2  # spec T2: all-equal group dropped
    pen = dapo_overlong_penalty(jnp.array([16, 17, 20, 21]), max_length=20, buffer_length=4,
                                penalty=2.0)
    # start = 16: 0; (16-17)/4*2 = -0.5; (16-20)/4*2 = -2; beyond -> -2
    np.testing.assert_allclose(pen, [0.0, -0.5, -2.0, -2.0])


def test_dcpo_mix():
    a = np.array([1.0, -1.0, 0.5])
    r = np.array([1.0, 0.0, 1.0])
    lpt = np.log(np.array([[0.3, 0.5], [0.2, 0.2], [0.9, 0.1]]))
    lp1 = np.log(np.array([[0.4, 0.5], [0.1, 0.2], [0.8, 0.2]]))
    m = np.ones((3, 2))
    got, alpha = dcpo_mix_advantages(a, r, lpt, lp1, m, entropy_prev=0.35, target=0.5)
    aa = min(0.15, 0.1) / (2 / 3)
    al = aa / (1 + aa)
    exp = (1 - al) * a[:, None] + al * (r > 0.05)[:, None] * np.exp(lpt - lp1)
    np.testing.assert_allclose(alpha, al)
    np.testing.assert_allclose(got, exp, rtol=1e-12)
    _, alpha0 = dcpo_mix_advantages(a, np.zeros(3), lpt, lp1, m, entropy_prev=0.3)
    assert float(alpha0) == 0.0  # no correct response: guarded, no NaN
    assert float(dcpo_temperature(0.5)) == 1.2
    assert float(dcpo_temperature(0.51)) == 0.8


def test_empg_numpy():
    h = np.array([[0.2, 0.4, 1.0, 1.0], [0.0, 0.0, 2.0, 9.0]])
    s = np.array([[0, 0, 1, 1], [0, 1, 1, 0]])
    m = np.array([[1, 1, 1, 1], [1, 1, 1, 0]], float)
    a = np.array([1.0, -1.0])
    # step entropies: traj0: s0 = 0.3, s1 = 1.0; traj1: s0 = 0.0, s1 = 1.0
    hs = np.array([[0.3, 1.0], [0.0, 1.0]])
    hn = (hs - 0.0) / (1.0 + 1e-8)
    e = np.exp(-hn)
    gg = e / (e.mean() + 1e-8)
    f = np.exp(-hn)
    amod = a[:, None] * gg + 0.1 * np.concatenate([f[:, 1:], np.zeros((2, 1))], 1)
    exp = np.take_along_axis(amod, s, 1) * m
    got = empg_modulate_advantages(a, h, s, m, num_steps=2)
    np.testing.assert_allclose(got, exp, rtol=1e-10)


def test_hapo_entropy_transforms():
    h = np.array([[0.1, 0.5, 1.0, 2.0, 4.0]])
    m = np.ones((1, 5))
    lh = np.log(h[0])
    q = np.sort(lh)[round(0.8 * 4)]  # 'nearest' quantile at 0.8 over 5 points -> index 3
    c = lh - q
    z = c / np.sqrt(np.mean(c**2))
    exp = np.where(z > 0, z / z.max(), z / -z.min())
    got = hapo_normalized_entropy(h, m, pivot=0.8)
    np.testing.assert_allclose(got[0], exp, rtol=1e-10)
    assert float(got.min()) == pytest.approx(-1.0)
    assert float(got.max()) == pytest.approx(1.0)
    faithful = hapo_normalized_entropy(h, m, pivot=0.8, faithful_sign=True)
    np.testing.assert_allclose(faithful[0], np.where(z > 0, z / z.max(), z / z.min()))
    lo, hi = hapo_adaptive_eps(jnp.array([-1.0, 0.5]), eps_low=0.2, eps_high=0.3, alpha=1.0)
    np.testing.assert_allclose(lo, [0.4, 0.2])
    np.testing.assert_allclose(hi, [0.3, 0.45])
    a = hapo_redistribute_advantages(jnp.full(4, 2.0), jnp.array([1.0, 1.5, 1.0, 1.5]),
                                     jnp.array([0.5, 0.5, -0.5, -0.5]))
    # band (0.9, 1.1): in-band high-entropy -> A; out-of-band high -> A(1.5); low-entropy reversed
    np.testing.assert_allclose(a, [2.0, 3.0, 1.0, 2.0])


def test_entropy_aware():
    h = np.array([[0.0, 1.0, 2.0, 1.0], [3.0, 1.0, 0.0, 0.0]])
    m = np.array([[0, 1, 1, 1], [1, 1, 0, 0]], float)
    # roots: row0 first valid t=1 (H=1), row1 t=0 (H=3). dH: row0 [0, 0, 1, 0], row1 [0, -2]
    dn = np.array([[0, 0, 0.5, 0], [0, -1, 0, 0]])
    got = entropy_aware_advantages(np.array([1.0, 2.0]), h, m, alpha=0.4)
    np.testing.assert_allclose(got, np.array([[1.0], [2.0]]) * (1 + 0.4 * dn))


def test_errors():
    with pytest.raises(ValueError, match=r"expected group_ids in \[0, 2\), got values in \[0, 2\]"):
        grpo_advantages(jnp.zeros(3), jnp.array([0, 1, 2]), num_groups=2)
    with pytest.raises(ValueError, match="expected group_ids to have the shape"):
        grpo_advantages(jnp.zeros(3), jnp.zeros(2, int), num_groups=1)
    with pytest.raises(ValueError, match="expected a positive int num_groups"):
        grpo_advantages(jnp.zeros(3), jnp.zeros(3, int), num_groups=0)
    with pytest.raises(ValueError, match="expected integer group_ids"):
        grpo_advantages(jnp.zeros(3), jnp.zeros(3), num_groups=1)
    with pytest.raises(ValueError, match="expected scale in"):
        grpo_advantages(jnp.zeros(3), jnp.zeros(3, int), num_groups=1, scale="x")
    with pytest.raises(ValueError, match=r"expected mask with entries in \{0, 1\}"):
        hapo_token_advantages(jnp.zeros(2), jnp.full((2, 2), 2.0), jnp.zeros(2, int),
                              num_groups=1)
    with pytest.raises(ValueError, match="expected 0 < buffer_length <= max_length"):
        dapo_overlong_penalty(jnp.zeros(2), max_length=4, buffer_length=5)
    with pytest.raises(ValueError, match=r"expected step_ids in \[0, 2\)"):
        empg_modulate_advantages(jnp.zeros(1), jnp.zeros((1, 2)), jnp.array([[0, 2]]),
                                 jnp.ones((1, 2)), num_steps=2)


@pytest.mark.slow
def test_jit_traced_group_ids():
    # inside jit the range check is skipped (documented); shapes still validated
    f = jax.jit(lambda r, g: grpo_advantages(r, g, num_groups=3))
    np.testing.assert_allclose(f(R, G), np_grpo(R, G), rtol=1e-12)
