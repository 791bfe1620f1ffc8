"""Token selections and weights vs numpy references; entropy discriminator by finite differences."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from policy.tokens import (
    clip_cov_mask,
    d3s_select_samples,
    d3s_token_mask,
    entropy_discriminator,
    entropy_discriminator_mask,
    entropy_from_logits,
    kl_cov_mask,
    lp_reg_mask,
    lp_reg_proxy_logp,
    siren_peak_mask,
    siren_top_p_entropy,
    steer_weights,
    token_covariance,
    top_entropy_mask,
)

RNG = np.random.default_rng(3)
LP = -RNG.exponential(1.0, (4, 6))
OLP = LP + RNG.normal(0, 0.1, (4, 6))
ADV = np.repeat(RNG.normal(size=(4, 1)), 6, 1)
M = (RNG.random((4, 6)) > 0.25).astype(float)
H = RNG.exponential(1.0, (4, 6))


def np_cov(lp, a, m):
    v = m > 0
    return np.where(v, (a - a[v].mean()) * (lp - lp[v].mean()), 0.0)


def test_covariance_and_kl_cov_topk():
    cov = np_cov(LP, ADV, M)
    np.testing.assert_allclose(token_covariance(LP, ADV, M), cov, rtol=1e-12)
    sel, _ = kl_cov_mask(LP, ADV, M, fraction=0.2)
    k = max(int(np.floor(0.2 * M.sum())), 1)
    thr = np.sort(cov[M > 0])[::-1][k - 1]
    exp = (M > 0) & (cov >= thr)
    assert sel.sum() == k
    np.testing.assert_array_equal(np.asarray(sel) > 0, exp)
    # tiny ratio: at least one token
    sel1, _ = kl_cov_mask(LP, ADV, M, fraction=1e-9)
    assert float(sel1.sum()) == 1.0


@pytest.mark.slow
def test_clip_cov_subset_properties():
    cov = np_cov(LP, ADV, M)
    lo, hi = -1.0, 1.0
    r = np.exp(LP - OLP)
    clipped = -ADV * np.clip(r, 0.8, 1.2) > -ADV * r
    cand = (M > 0) & (cov > lo) & (cov < hi) & ~clipped
    n_clip = max(int(np.floor(0.25 * M.sum())), 1)
    keeps = []
    for s in range(20):
        keep, _ = clip_cov_mask(logp=LP, old_logp=OLP, advantages=ADV, mask=M, key=jax.random.key(s), fraction=0.25,
                                cov_low=lo,
                                cov_high=hi)
        sel = np.asarray(keep) == 0
        assert sel.sum() == min(n_clip, cand.sum())
        assert np.all(cand[sel])
        keeps.append(sel)
    # random: different keys pick different subsets (candidates outnumber n_clip here)
    assert cand.sum() > n_clip
    assert len({k.tobytes() for k in keeps}) > 1
    # all candidates taken when they are fewer than n_clip: deterministic
    keep, _ = clip_cov_mask(logp=LP, old_logp=OLP, advantages=ADV, mask=M, key=jax.random.key(0), fraction=1.0,
                            cov_low=lo,
                            cov_high=hi)
    np.testing.assert_array_equal(np.asarray(keep) == 0, cand)


def test_top_entropy_and_d3s_numpy():
    v = M > 0
    thr = np.quantile(H[v], 0.8)  # numpy 'linear' = torch default
    np.testing.assert_array_equal(np.asarray(top_entropy_mask(H, M)) > 0, v & (H >= thr))
    s = np.abs(ADV) * H
    thr2 = np.quantile(s[v], 0.5)
    np.testing.assert_array_equal(np.asarray(d3s_token_mask(ADV, H, M, keep_fraction=0.5)) > 0,
                                  v & (s >= thr2))
    # padding never enters the quantile: huge entropies at masked positions change nothing
    h2 = np.where(v, H, 1e6)
    np.testing.assert_array_equal(top_entropy_mask(h2, M), top_entropy_mask(H, M))
    # fully masked -> nothing kept, no NaN
    assert float(top_entropy_mask(H, np.zeros_like(M)).sum()) == 0.0


@pytest.mark.slow
def test_d3s_select_samples_bruteforce():
    import itertools

    r = np.array([[1.0, 1.0, 1.0, 0.0, 1.0, 0.0], [0.3, 0.9, 0.1, 0.5, 0.5, 0.0]])
    got = np.asarray(d3s_select_samples(r, k=3))
    for row, sel in zip(r, got, strict=True):
        best = max(np.var(row[list(c)]) for c in itertools.combinations(range(6), 3))
        assert sel.sum() == 3
        assert np.var(row[sel]) == pytest.approx(best)


def np_steer(lp, olp, a, h, m, mode, lmin, lmax):
    p = np.clip(np.exp(lp), 1e-8, 1 - 1e-8)
    om = np.abs(a / np.exp(olp) * p * (1 - p) * (np.log(p) + h))
    v = m > 0
    lo, hi = om[v].min(), om[v].max()
    if mode == "linear":
        w = np.clip(lmax - (om - lo) * (lmax - lmin) / (hi - lo), lmin, lmax)
    else:
        w = np.clip(np.exp(np.log(lmin) / max(hi, 0.02) * om), lmin, 1.0)
    return np.where(v, w, 0.0)


@pytest.mark.parametrize(("mode", "lmin", "lmax"), [("linear", 0.8, 1.2), ("exp", 0.8, 1.0)])
def test_steer_numpy(mode, lmin, lmax):
    got = steer_weights(logp=LP, old_logp=OLP, advantages=ADV, entropy=H, mask=M, mode=mode, lam_min=lmin, lam_max=lmax)
    np.testing.assert_allclose(got, np_steer(LP, OLP, ADV, H, M, mode, lmin, lmax), rtol=1e-10)
    # all-equal |Omega| (A = 0) -> midpoint
    w0 = steer_weights(logp=LP, old_logp=OLP, advantages=np.zeros_like(ADV), entropy=H, mask=M)
    np.testing.assert_allclose(np.asarray(w0)[M > 0], 1.0)


@pytest.mark.slow
def test_lp_reg_proxy_and_mask():
    z = np.log(np.array([[0.5, 0.3, 0.15, 0.05], [0.97, 0.01, 0.01, 0.01]]))
    px = lp_reg_proxy_logp(z, np.array([2, 1]), kappa=0.2)
    # row0 keeps p >= 0.1: {0.5, 0.3, 0.15} -> 0.15/0.95; row1 keeps only 0.97 -> token 1 dropped
    np.testing.assert_allclose(px[0], np.log(0.15 / 0.95))
    assert float(px[1]) == -np.inf
    pf = lp_reg_proxy_logp(z, np.array([0, 0]), kappa=0.2, mode="fixed")
    np.testing.assert_allclose(pf, np.log([0.5 / 0.8, 1.0]))  # fixed: keeps p >= 0.2
    # selection: negative tokens sorted by lp, K = floor(0.5 * 6) = 3 lowest, and lp < proxy
    lp = np.log(np.array([[0.1, 0.2, 0.3, 0.4, 0.5, 0.6]]))
    pxl = lp + np.array([[0.1, -0.1, 0.1, 0.1, 0.1, 0.1]])
    sel = lp_reg_mask(lp, pxl, -np.ones((1, 6)), np.ones((1, 6)), neg_fraction=0.5)
    assert sel.tolist() == [[1.0, 0.0, 1.0, 0.0, 0.0, 0.0]]
    # K = 1 is skipped (reference behaviour)
    sel1 = lp_reg_mask(lp, pxl, -np.ones((1, 6)), np.ones((1, 6)), neg_fraction=0.2)
    assert float(sel1.sum()) == 0.0


@pytest.mark.slow
def test_siren_top_p_and_peak():
    p = np.array([0.5, 0.3, 0.15, 0.05])
    # cumsum 0.5, 0.8, 0.95, 1.0 < 0.9 -> keep {0.5, 0.3}; q = (5/8, 3/8)
    q = np.array([5 / 8, 3 / 8])
    exp = -(q * np.log(q + 1e-12)).sum()
    assert float(siren_top_p_entropy(jnp.log(p), top_p=0.9)) == pytest.approx(exp)
    assert float(siren_top_p_entropy(jnp.log(jnp.array([0.95, 0.05])), top_p=0.9)) == 0.0
    assert float(siren_top_p_entropy(jnp.log(p), top_p=0.9, top_k=2)) == pytest.approx(exp)
    # differentiable and finite
    g = jax.grad(lambda z: siren_top_p_entropy(z, top_p=0.9))(jnp.log(jnp.array(p)))
    assert np.all(np.isfinite(np.asarray(g)))
    h = np.array([[1.0, 2.0, 3.0, 4.0, 5.0, 9.0], [5.0, 1.0, 0.0, 0.0, 0.0, 0.0]])
    m = np.array([[1, 1, 1, 1, 1, 0], [1, 1, 0, 0, 0, 0]], float)
    pm = siren_peak_mask(h, m)
    # row0 q80 of [1..5] = 4.2 -> keep 5; row1 q80 of [5, 1] = 4.2 -> keep 5
    assert pm.tolist() == [[0, 0, 0, 0, 1, 0], [1, 0, 0, 0, 0, 0]]
    assert float(siren_peak_mask(h, np.zeros_like(m)).sum()) == 0.0


@pytest.mark.slow
def test_entropy_discriminator_finite_difference():
    z = jnp.array([[1.0, -0.5, 2.0, 0.3], [0.0, 0.1, -1.0, 3.0]])
    tok = jnp.array([2, 1])
    for temp in (1.0, 0.6):
        s, sc = entropy_discriminator(z, tok, temperature=temp)
        eps = 1e-6
        zp = z.at[jnp.arange(2), tok].add(eps)
        zm = z.at[jnp.arange(2), tok].add(-eps)
        dh = (entropy_from_logits(zp, temperature=temp)
              - entropy_from_logits(zm, temperature=temp)) / (2 * eps)
        np.testing.assert_allclose(dh, -np.asarray(s) / temp, rtol=1e-6)
        p = np.asarray(jax.nn.softmax(z / temp))
        hh = np.asarray(entropy_from_logits(z, temperature=temp))
        es = (p * p * (hh[:, None] + np.log(p))).sum(1)
        np.testing.assert_allclose(sc, np.asarray(s) - es, rtol=1e-10)


def test_entropy_discriminator_mask():
    d = np.array([[0.0, 0.0, 0.0, 1.0], [0.0, 0.0, 0.0, 0.0]])
    m = np.array([[1, 1, 1, 1], [1, 1, 1, 1]], float)
    x = d.ravel()
    z = (x - x.mean()) / x.std()  # 1 at z = sqrt(7) ~ 2.65
    keep = entropy_discriminator_mask(d, np.ones_like(d), m, threshold=2.0)
    np.testing.assert_array_equal(np.asarray(keep).ravel() == 0, z > 2.0)
    # all-equal scores: nothing dropped
    assert float(entropy_discriminator_mask(np.zeros_like(d), d, m).sum()) == 8.0


def test_errors():
    with pytest.raises(ValueError, match=r"expected keep_fraction in \(0, 1\], got 0.0"):
        top_entropy_mask(H, M, keep_fraction=0.0)
    with pytest.raises(ValueError, match="expected entropy to have the shape"):
        top_entropy_mask(H[:, :3], M)
    with pytest.raises(ValueError, match=r"expected mask with entries in \{0, 1\}"):
        kl_cov_mask(LP, ADV, M * 3)
    with pytest.raises(ValueError, match="expected 1 <= k <= group_size = 6"):
        d3s_select_samples(np.zeros((2, 6)), k=7)
    with pytest.raises(ValueError, match="expected mode in"):
        steer_weights(logp=LP, old_logp=OLP, advantages=ADV, entropy=H, mask=M, mode="cubic")
    with pytest.raises(ValueError, match="expected temperature > 0"):
        siren_top_p_entropy(jnp.zeros(3), temperature=0.0)
