"""Objectives: values vs numpy, all-equal rewards, fully masked rows, gradients."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

from policy import _objectives as obj
from policy._advantages import grpo_advantages
from policy._regularizers import (
    adaptive_entropy_init,
    adaptive_entropy_update,
    epo_phase_weight,
    epo_smoothing_penalty,
    siren_anchor_penalty,
)

RNG = np.random.default_rng(7)
B, T = 4, 5
LP = jnp.array(-RNG.exponential(1.0, (B, T)))
OLP = LP + jnp.array(RNG.normal(0, 0.3, (B, T)))
REF = LP + jnp.array(RNG.normal(0, 0.3, (B, T)))
M = jnp.array([[1, 1, 1, 1, 0], [1, 1, 0, 0, 0], [1, 1, 1, 1, 1], [1, 0, 0, 0, 0]], float)
H = jnp.array(RNG.exponential(1.0, (B, T)))
A = jnp.array([1.0, -0.5, 0.3, -1.2])


def np_ppo(lp, olp, a, el, eh):
    r = np.exp(np.asarray(lp) - np.asarray(olp))
    a = np.broadcast_to(np.asarray(a)[:, None], r.shape)
    return np.maximum(-a * r, -a * np.clip(r, 1 - el, 1 + eh))


def np_tokmean(x, m):
    return float((np.asarray(x) * np.asarray(m)).sum() / np.asarray(m).sum())


def np_seqmean(x, m):
    m = np.asarray(m)
    n = m.sum(1)
    return float(np.mean(((np.asarray(x) * m).sum(1) / (n + 1e-8))[n > 0]))


def k3(lp, ref):
    x = np.asarray(ref) - np.asarray(lp)
    return np.exp(x) - x - 1


def test_grpo_value_numpy():
    loss, met = obj.grpo_loss(LP, OLP, A, M, ref_logp=REF, entropy=H, kl_coef=0.04)
    exp = np_seqmean(np_ppo(LP, OLP, A, 0.2, 0.2) + 0.04 * k3(np.asarray(LP), np.asarray(REF)), M)
    assert float(loss) == pytest.approx(float(exp), rel=1e-6)
    assert float(met["kl_ref"]) == pytest.approx(np_tokmean(k3(np.asarray(LP), REF), M), rel=1e-6)
    assert float(met["entropy"]) == pytest.approx(np_tokmean(H, M))
    assert float(met["ppo_kl"]) == pytest.approx(np_tokmean(np.asarray(OLP - LP), M))
    for key in ("pg_clipfrac", "clipfrac_low", "clipfrac_high", "clipfrac_dual", "ratio/mean",
                "ratio/max", "cov_logp_adv", "adv/mean", "adv/std", "adv/frac_zero",
                "token_weight/mean", "n_selected", "response_length/mean",
                "response_length/clip_ratio", "entropy/seq_mean"):
        assert key in met
    assert float(met["response_length/mean"]) == 3.0
    assert float(met["response_length/clip_ratio"]) == 0.25


def test_dapo_and_dr_grpo_numpy():
    loss, _ = obj.dapo_loss(LP, OLP, A, M)
    assert float(loss) == pytest.approx(np_tokmean(np_ppo(LP, OLP, A, 0.2, 0.28), M), rel=1e-6)
    loss, _ = obj.dr_grpo_loss(LP, OLP, A, M, constant=10.0)
    exp = (np_ppo(LP, OLP, A, 0.2, 0.2) * M).sum() / 10.0
    assert float(loss) == pytest.approx(float(exp), rel=1e-6)


def test_entropy_bonus_and_adaptive():
    loss, met = obj.entropy_bonus_loss(LP, OLP, A, M, H, coef=0.1)
    exp = np_tokmean(np_ppo(LP, OLP, A, 0.2, 0.2), M) - 0.1 * np_tokmean(H, M)
    assert float(loss) == pytest.approx(float(exp), rel=1e-6)
    g = jax.grad(lambda h: obj.entropy_bonus_loss(LP, OLP, A, M, h, coef=0.1)[0])(H)
    np.testing.assert_allclose(g, -0.1 * M / M.sum())
    # with an 80/20-style token mask, the bonus uses the same token set
    tm = jnp.zeros((B, T)).at[0, 0].set(1.0).at[2, 3].set(1.0)
    loss2, _ = obj.entropy_bonus_loss(LP, OLP, A, M, H, coef=0.1, token_mask=tm)
    sel = np.asarray(M * tm)
    exp2 = (np_ppo(LP, OLP, A, 0.2, 0.2) * sel).sum() / M.sum() - 0.1 * (H * sel).sum() / 2
    assert float(loss2) == pytest.approx(float(exp2), rel=1e-6)
    s = adaptive_entropy_init(0.0)
    s, c = adaptive_entropy_update(s, 0.1, target=0.2, delta=0.005)
    assert float(c) == pytest.approx(0.005)
    s, c = adaptive_entropy_update(s, 0.3, target=0.2, delta=0.005)
    assert float(s.coef) == 0.0
    assert float(c) == 0.0
    s, _ = adaptive_entropy_update(adaptive_entropy_init(0.999), 0.0, delta=0.005)
    assert float(s.coef) == 1.0  # clipped to coef_max


def test_clip_cov_loss_zeroes_selected():
    key = jax.random.key(1)
    loss, met = obj.clip_cov_loss(LP, OLP, A, M, key=key, ratio=0.2, cov_low=-10.0,
                                  cov_high=10.0)
    from policy._selection import clip_cov_mask

    keep, _ = clip_cov_mask(LP, OLP, A[:, None] * M, M, key=key, ratio=0.2, cov_low=-10.0,
                            cov_high=10.0)
    exp = np_tokmean(np_ppo(LP, OLP, A, 0.2, 0.2) * np.asarray(keep), M)
    assert float(loss) == pytest.approx(float(exp), rel=1e-6)
    assert float(met["n_selected"]) == np.floor(0.2 * 13)
    # detach_value keeps the value of PPO but the same gradient as zeroing
    loss_d, _ = obj.clip_cov_loss(LP, OLP, A, M, key=key, ratio=0.2, cov_low=-10.0,
                                  cov_high=10.0, detach_value=True)
    assert float(loss_d) == pytest.approx(np_tokmean(np_ppo(LP, OLP, A, 0.2, 0.2), M), rel=1e-6)
    g1 = jax.grad(lambda x: obj.clip_cov_loss(x, OLP, A, M, key=key, ratio=0.2, cov_low=-10.0,
                                              cov_high=10.0)[0])(LP)
    g2 = jax.grad(lambda x: obj.clip_cov_loss(x, OLP, A, M, key=key, ratio=0.2, cov_low=-10.0,
                                              cov_high=10.0, detach_value=True)[0])(LP)
    np.testing.assert_allclose(g1, g2)


def test_kl_cov_loss_numpy_and_on_policy_noop():
    loss, met = obj.kl_cov_loss(LP, OLP, A, M, ratio=0.2, kl_coef=1.0)
    lp, olp, a = np.asarray(LP), np.asarray(OLP), np.broadcast_to(np.asarray(A)[:, None], (B, T))
    v = np.asarray(M) > 0
    cov = np.where(v, (a - a[v].mean()) * (lp - lp[v].mean()), -np.inf)
    k = int(np.floor(0.2 * v.sum()))
    sel = np.zeros((B, T), bool)
    sel.ravel()[np.argsort(-cov.ravel(), kind="stable")[:k]] = True
    per = -a * np.exp(lp - olp) + sel * np.abs(lp - olp)
    assert float(loss) == pytest.approx(np_tokmean(per, M), rel=1e-6)
    assert float(met["ppo_kl"]) == pytest.approx(np_tokmean(np.abs(lp - olp), M), rel=1e-6)
    # on-policy: penalty value and gradient vanish -> same as the unclipped PG
    g_kl = jax.grad(lambda x: obj.kl_cov_loss(x, LP, A, M, ratio=0.5)[0])(LP)
    g_pg = jax.grad(lambda x: obj.kl_cov_loss(x, LP, A, M, ratio=0.5, kl_coef=0.0)[0])(LP)
    np.testing.assert_allclose(g_kl, g_pg)


def test_lp_reg_loss_numpy():
    px = LP + 0.3
    a = -jnp.ones(B)
    loss, met = obj.lp_reg_loss(LP, OLP, px, a, M, neg_fraction=0.25)
    lp, olp = np.asarray(LP), np.asarray(OLP)
    v = np.asarray(M) > 0
    k = int(np.floor(0.25 * v.sum()))
    order = np.argsort(np.where(v, lp, np.inf).ravel(), kind="stable")[:k]
    sel = np.zeros((B, T), bool)
    sel.ravel()[order] = True
    base = np_ppo(lp, olp, a, 0.2, 0.28)
    reg = np.exp(lp - olp) + k3(lp, lp + 0.3)
    assert float(met["n_selected"]) == k
    assert float(loss) == pytest.approx(np_tokmean(np.where(sel, reg, base), M), rel=1e-6)
    assert np.all(np.isfinite(np.asarray(jax.grad(
        lambda x: obj.lp_reg_loss(x, OLP, jnp.full((B, T), -jnp.inf), a, M)[0])(LP))))


def test_siren_and_regularizers():
    loss, met = obj.siren_loss(LP, OLP, A, M, H, anchor=0.5, coef=0.1, constant=5.0)
    pg = (np_ppo(LP, OLP, A, 0.28, 0.28) * M).sum() / 5.0
    h, m = np.asarray(H), np.asarray(M)
    rows = []
    for i in range(B):
        vals = h[i][m[i] > 0]
        q = np.quantile(vals, 0.8)
        keep = vals[vals > q]
        if keep.size:
            rows.append(keep.mean())
    hag = np.mean(rows)
    assert float(met["entropy_agg"]) == pytest.approx(hag, rel=1e-6)
    assert float(loss) == pytest.approx(float(pg + 0.1 * (hag - 0.5) ** 2), rel=1e-6)
    assert float(siren_anchor_penalty(1.0, 0.5, coef=2.0)) == 0.5
    assert float(epo_smoothing_penalty(2.0, 1.0, kappa_low=0.5, kappa_high=1.5)) == 0.5
    assert float(epo_smoothing_penalty(0.2, 1.0, kappa_low=0.5, kappa_high=1.5)) == (
        pytest.approx(0.3))
    assert float(epo_phase_weight(5, total_steps=10, start=0.0, end=1.0)) == 0.5


def test_epo_and_copo_and_rpo_cpg_numpy():
    loss, _ = obj.epo_loss(LP, OLP, A, M, H, entropy_hist=10.0, entropy_coef=0.1,
                           smooth_coef=2.0)
    hb = np_tokmean(H, M)
    exp = np_tokmean(np_ppo(LP, OLP, A, 0.2, 0.2), M) - 0.1 * hb + 2.0 * max(0, 9.0 - hb)
    assert float(loss) == pytest.approx(float(exp), rel=1e-6)
    ag = jnp.array([0.5, 0.5, -0.5, -0.5])
    he = jnp.array([1.0, 1.0, 0.0, 0.0])
    loss, met = obj.copo_loss(LP, OLP, A, ag, M, he, k=5.0, b=1.0)
    w = 1 / (1 + np.exp(-5.0 * (np.asarray(he) - 1.0)))
    per = (1 - w[:, None]) * np_ppo(LP, OLP, ag, 0.2, 0.2) + w[:, None] * np_ppo(LP, OLP, A, .2, .2)
    assert float(loss) == pytest.approx(np_seqmean(per, M), rel=1e-6)
    # RPO: DPO + eta * NLL, by hand
    c, r = jnp.array([[-1.0, -2.0]]), jnp.array([[-3.0, -1.0]])
    cr, rr = jnp.array([[-1.5, -2.0]]), jnp.array([[-2.0, -1.0]])
    mm = jnp.ones((1, 2))
    loss, _ = obj.rpo_loss(c, r, cr, rr, mm, mm, beta=0.5, eta=0.2)
    margin = 0.5 * ((-3.0 + 3.5) - (-4.0 + 3.0))
    assert float(loss) == pytest.approx(np.log1p(np.exp(-margin)) + 0.2 * 3.0)
    loss_n, _ = obj.rpo_loss(c, r, cr, rr, mm, mm, beta=0.5, eta=0.2, length_normalize=True)
    assert float(loss_n) == pytest.approx(np.log1p(np.exp(-margin)) + 0.2 * 1.5)
    # CPG gradient = -(R_beta(y) - R_beta(y')) (grad lp(y) - grad lp(y'))
    lp1, lp2 = jnp.array([[-1.0, -0.5]]), jnp.array([[-2.0, -0.1]])
    rf1, rf2 = jnp.array([[-1.2, -0.4]]), jnp.array([[-1.0, -0.3]])
    g1 = jax.grad(lambda x: obj.contrastive_pg_loss(x, rf1, mm, jnp.ones(1), lp2, rf2, mm,
                                                    jnp.zeros(1), beta=0.3)[0])(lp1)
    rb1 = 1.0 - 0.3 * (-1.5 + 1.6)
    rb2 = 0.0 - 0.3 * (-2.1 + 1.3)
    np.testing.assert_allclose(g1, -(rb1 - rb2) * np.ones((1, 2)), rtol=1e-10)


def test_aepo_dcpo_hapo_steer_d3s_ebpo_empg_dsdr_disc_run_and_values():
    loss, met = obj.aepo_loss(LP, OLP, A, M, LP, OLP, jnp.array([1.0, 0.01, 0.5, -1.0]), M,
                              alpha=0.5)
    keep = np.array([1, 0, 1, 0], float)[:, None] * np.asarray(M)
    r = np.exp(np.asarray(LP - OLP))
    reg = np_tokmean(-np.minimum(r, np.clip(r, 0.8, 1.2)), keep)
    assert float(loss) == pytest.approx(np_tokmean(np_ppo(LP, OLP, A, .2, .2), M) + 0.5 * reg,
                                        rel=1e-6)
    assert float(met["aepo/n_reg_seqs"]) == 2.0
    rewards = jnp.array([1.0, 0.0, 1.0, 0.0])
    loss, met = obj.dcpo_loss(LP, OLP, A, M, rewards, OLP, entropy_prev=0.45)
    assert np.isfinite(float(loss))
    assert float(met["dcpo/alpha"]) == pytest.approx(0.1 / 1.1)
    for fn in (
        lambda lp: obj.hapo_loss(lp, OLP, A, M, H),
        lambda lp: obj.steer_loss(lp, OLP, A, M, H),
        lambda lp: obj.d3s_loss(lp, OLP, A, M, H, sample_mask=jnp.array([1, 1, 0, 1])),
        lambda lp: obj.agentic_ebpo_loss(lp, OLP, A, M, H),
        lambda lp: obj.empg_loss(lp, OLP, A, M, H, jnp.zeros((B, T), int), num_steps=1),
        lambda lp: obj.dsdr_loss(lp, OLP, rewards, jnp.zeros((B, T), int), M, H,
                                 jnp.array([0, 0, 1, 1]), num_groups=2),
        lambda lp: obj.entropy_discriminator_clip_loss(lp, OLP, A, M, H),
    ):
        val, met = fn(LP)
        g = jax.grad(lambda x, fn=fn: fn(x)[0])(LP)
        assert np.isfinite(float(val))
        assert np.all(np.isfinite(np.asarray(g)))
        assert "entropy" in met
        assert "pg_clipfrac" in met


ALL = {
    "grpo": lambda lp, a, m: obj.grpo_loss(lp, OLP, a, m, ref_logp=REF, kl_coef=0.0),
    "dapo": lambda lp, a, m: obj.dapo_loss(lp, OLP, a, m),
    "dr_grpo": lambda lp, a, m: obj.dr_grpo_loss(lp, OLP, a, m),
    "clip_cov": lambda lp, a, m: obj.clip_cov_loss(lp, OLP, a, m, key=jax.random.key(0)),
    # KL-Cov still selects top-K tokens when all covariances are 0, so its penalty is only zero
    # on-policy (old = current): that is the case tested here.
    "kl_cov": lambda lp, a, m: obj.kl_cov_loss(lp, jax.lax.stop_gradient(lp), a, m),
    "steer": lambda lp, a, m: obj.steer_loss(lp, OLP, a, m, H),
    "hapo": lambda lp, a, m: obj.hapo_loss(lp, OLP, a, m, H),
    "d3s": lambda lp, a, m: obj.d3s_loss(lp, OLP, a, m, H),
    "ebpo": lambda lp, a, m: obj.agentic_ebpo_loss(lp, OLP, a, m, H),
    "lp_reg": lambda lp, a, m: obj.lp_reg_loss(lp, OLP, lp + 0.1, a, m),
    "disc": lambda lp, a, m: obj.entropy_discriminator_clip_loss(lp, OLP, a, m, H),
}


@pytest.mark.parametrize("name", sorted(ALL))
def test_all_equal_rewards_give_zero_loss_and_grad(name):
    a = grpo_advantages(jnp.ones(B), jnp.zeros(B, int), num_groups=1)  # spec T2
    loss, met = ALL[name](LP, a, M)
    g = jax.grad(lambda x: ALL[name](x, a, M)[0])(LP)
    assert float(loss) == 0.0
    assert np.all(np.asarray(g) == 0.0)
    assert float(met["adv/frac_zero"]) == 1.0


@pytest.mark.parametrize("name", sorted(ALL))
def test_fully_masked_rows_no_nan(name):
    m = M.at[1].set(0.0)
    loss, met = ALL[name](LP, A, m)
    g = jax.grad(lambda x: ALL[name](x, A, m)[0])(LP)
    assert np.isfinite(float(loss))
    assert np.all(np.isfinite(np.asarray(g)))
    assert np.all(np.asarray(g)[1] == 0.0)
    loss0, _ = ALL[name](LP, A, jnp.zeros((B, T)))
    assert float(loss0) == 0.0


def test_check_grads_policy_gradient_loss():
    lp = LP + 0.05  # stay away from the clip kinks
    f = lambda x: obj.policy_gradient_loss(x, OLP, A, M, ref_logp=REF, kl_coef=0.1,  # noqa: E731
                                           entropy=H, entropy_coef=0.01,
                                           agg="seq-mean-token-mean")[0]
    check_grads(f, (lp,), order=1, modes=["rev"])
    check_grads(lambda x: obj.rpo_loss(x, LP, REF, REF, M, M)[0], (LP,), order=2)


def test_jit_matches_eager():
    f = jax.jit(lambda lp: obj.clip_cov_loss(lp, OLP, A, M, key=jax.random.key(3), ratio=0.3,
                                             cov_low=-9.0)[0])
    eager = obj.clip_cov_loss(LP, OLP, A, M, key=jax.random.key(3), ratio=0.3, cov_low=-9.0)[0]
    assert float(f(LP)) == pytest.approx(float(eager), rel=1e-12)


def test_errors():
    with pytest.raises(ValueError, match="expected old_logp to have the shape"):
        obj.grpo_loss(LP, OLP[:, :2], A, M)
    with pytest.raises(ValueError, match=r"expected mask with entries in \{0, 1\}, got value 2"):
        obj.dapo_loss(LP, OLP, A, M * 2)
    with pytest.raises(ValueError, match=r"expected advantages of shape \(4,\)"):
        obj.dapo_loss(LP, OLP, jnp.zeros(3), M)
    with pytest.raises(ValueError, match="expected clip in"):
        obj.policy_gradient_loss(LP, OLP, A, M, clip="ppo2")
    with pytest.raises(ValueError, match="expected rewards for weight_mode='soft_zero'"):
        obj.copo_loss(LP, OLP, A, A, M, A, weight_mode="soft_zero")
    with pytest.raises(ValueError, match="expected 0 <= kappa_low <= 1 <= kappa_high"):
        epo_smoothing_penalty(1.0, 1.0, kappa_low=1.2)
    with pytest.raises(ValueError, match="expected logp of rank 2"):
        obj.grpo_loss(LP[0], OLP[0], A, M[0])
