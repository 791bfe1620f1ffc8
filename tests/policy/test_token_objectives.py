"""Composed losses and presets: values vs numpy, all-equal rewards, fully masked rows, gradients."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

from policy import tokens
from policy.tokens import (
    adaptive_entropy_init,
    adaptive_entropy_update,
    clip_cov_mask,
    epo_phase_weight,
    epo_smoothing_penalty,
    grpo_advantages,
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
    a = np.broadcast_to(np.asarray(a)[:, None], r.shape) if np.ndim(a) == 1 else np.asarray(a)
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


@pytest.mark.slow
def test_grpo_value_numpy_and_metric_names():
    loss, met = tokens.grpo(kl_coef=0.04)(logp=LP, old_logp=OLP, advantages=A, mask=M, ref_logp=REF, entropy=H)
    pg = np_seqmean(np_ppo(LP, OLP, A, 0.2, 0.2), M)
    kl = np_seqmean(k3(np.asarray(LP), np.asarray(REF)), M)
    assert float(loss) == pytest.approx(pg + 0.04 * kl, rel=1e-6)
    # pg_loss is the surrogate only; kl_loss the aggregated estimate without the coefficient (verl)
    assert float(met["pg_loss"]) == pytest.approx(pg, rel=1e-6)
    assert float(met["kl_loss"]) == pytest.approx(kl, rel=1e-6)
    assert float(met["kl_coef"]) == 0.04
    assert float(met["loss"]) == pytest.approx(float(loss))
    # entropy follows the loss aggregation (verl's actor/entropy); the token mean has its own name
    assert float(met["entropy"]) == pytest.approx(np_seqmean(H, M), rel=1e-12)
    assert float(met["entropy/token_mean"]) == pytest.approx(np_tokmean(H, M))
    assert float(met["adv/frac_zero_seq"]) == 0.0
    assert float(met["ppo_kl"]) == pytest.approx(np_tokmean(np.asarray(OLP - LP), M))
    r = np.exp(np.asarray(LP - OLP))
    assert float(met["ratio/mean"]) == pytest.approx(np_tokmean(r, M))
    assert float(met["ratio/max"]) == pytest.approx(r[np.asarray(M) > 0].max())
    for key in ("pg_clipfrac", "pg_clipfrac_lower", "clip_ratio/low_mean", "clip_ratio/high_mean",
                "cov_logp_adv", "adv/mean", "adv/std", "adv/frac_zero_seq", "token_weight/mean",
                "response_length/mean", "response_length/clip_ratio", "entropy/seq_mean"):
        assert key in met
    assert float(met["response_length/mean"]) == 3.0
    assert float(met["response_length/clip_ratio"]) == 0.25
    # without an entropy input the entropy metrics are NaN, never a silent 0
    _, met2 = tokens.grpo(kl_coef=0.0)(logp=LP, old_logp=OLP, advantages=A, mask=M)
    assert np.isnan(float(met2["entropy"]))


@pytest.mark.slow
def test_dapo_and_dr_grpo_numpy():
    loss, _ = tokens.dapo()(logp=LP, old_logp=OLP, advantages=A, mask=M)
    assert float(loss) == pytest.approx(np_tokmean(np_ppo(LP, OLP, A, 0.2, 0.28), M), rel=1e-6)
    loss, _ = tokens.dr_grpo(constant=10.0)(logp=LP, old_logp=OLP, advantages=A, mask=M)
    exp = (np_ppo(LP, OLP, A, 0.2, 0.2) * M).sum() / 10.0
    assert float(loss) == pytest.approx(float(exp), rel=1e-6)


@pytest.mark.slow
def test_entropy_bonus_aggregates_like_the_surrogate_and_adaptive():
    loss, met = tokens.ppo_entropy_bonus(coef=0.1)(logp=LP, old_logp=OLP, advantages=A, mask=M, entropy=H)
    pg = np_tokmean(np_ppo(LP, OLP, A, 0.2, 0.2), M)
    assert float(loss) == pytest.approx(pg - 0.1 * np_tokmean(H, M), rel=1e-6)
    assert float(met["pg_loss"]) == pytest.approx(pg, rel=1e-6)  # not including the bonus
    assert float(met["entropy_agg"]) == pytest.approx(np_tokmean(H, M), rel=1e-6)
    g = jax.grad(lambda h: tokens.ppo_entropy_bonus(coef=0.1)(logp=LP, old_logp=OLP, advantages=A, mask=M,
                                                              entropy=h)[0])(H)
    np.testing.assert_allclose(g, -0.1 * M / M.sum())
    # with an 80/20 token mask the bonus covers the same tokens and the same denominator
    loss2, met2 = tokens.chain(tokens.TopEntropy(keep_fraction=0.2), tokens.PPOClip(),
                               tokens.EntropyBonus(coef=0.1))(logp=LP, old_logp=OLP, advantages=A, mask=M, entropy=H)
    h, m = np.asarray(H), np.asarray(M)
    thr = np.quantile(h[m > 0], 0.8)
    sel = (m > 0) & (h >= thr)
    exp2 = (np_ppo(LP, OLP, A, 0.2, 0.2) * sel).sum() / m.sum() - 0.1 * (h * sel).sum() / m.sum()
    assert float(loss2) == pytest.approx(float(exp2), rel=1e-6)
    assert float(met2["top_entropy/n_selected"]) == sel.sum()
    # a traced coefficient (Skywork-OR1's adaptive one) through the input entropy_coef
    f = jax.jit(lambda c: tokens.ppo_entropy_bonus(coef=None)(logp=LP, old_logp=OLP, advantages=A, mask=M, entropy=H,
                                                              entropy_coef=c)[0])
    assert float(f(0.1)) == pytest.approx(float(loss), rel=1e-12)
    s = adaptive_entropy_init(0.0)
    s, c = adaptive_entropy_update(s, 0.1, target=0.2, delta=0.005)
    assert float(c) == pytest.approx(0.005)
    s, c = adaptive_entropy_update(s, 0.3, target=0.2, delta=0.005)
    assert float(s.coef) == 0.0
    assert float(c) == 0.0
    s, _ = adaptive_entropy_update(adaptive_entropy_init(0.999), 0.0, delta=0.005)
    assert float(s.coef) == 1.0  # clipped to coef_max


@pytest.mark.slow
def test_micro_batches_with_global_denominator_sum_to_the_batch_loss():
    # Every term (surrogate, reference KL, entropy bonus) aggregates with the same global
    # denominator, so the two micro-batch losses add up to the batch loss. Counting the bonus with
    # a per-call denominator (the former bug) would add -c * (mean H of each half) instead.
    loss_fn = tokens.chain(tokens.PPOClip(), tokens.ReferenceKL(coef=0.1), tokens.EntropyBonus(coef=0.5))
    full, _ = loss_fn(logp=LP, old_logp=OLP, advantages=A, mask=M, entropy=H, ref_logp=REF)
    n = jnp.sum(M)
    halves = [loss_fn(logp=LP[i:i + 2], old_logp=OLP[i:i + 2], advantages=A[i:i + 2], mask=M[i:i + 2],
                      entropy=H[i:i + 2],
                      ref_logp=REF[i:i + 2], denominator=n)[0] for i in (0, 2)]
    assert float(sum(halves)) == pytest.approx(float(full), rel=1e-12)
    h, m = np.asarray(H), np.asarray(M)
    wrong = sum(-0.5 * (h[i:i + 2] * m[i:i + 2]).sum() / m[i:i + 2].sum() for i in (0, 2))
    right = -0.5 * (h * m).sum() / m.sum()
    assert abs(wrong - right) > 0.1  # the check distinguishes the two
    # the same with the seq-mean mode (global sequence count)
    loss_fn = tokens.chain(tokens.PPOClip(), tokens.EntropyBonus(coef=0.5), aggregation="seq-mean-token-mean")
    full, _ = loss_fn(logp=LP, old_logp=OLP, advantages=A, mask=M, entropy=H)
    halves = [loss_fn(logp=LP[i:i + 2], old_logp=OLP[i:i + 2], advantages=A[i:i + 2], mask=M[i:i + 2],
                      entropy=H[i:i + 2],
                      denominator=4.0)[0] for i in (0, 2)]
    assert float(sum(halves)) == pytest.approx(float(full), rel=1e-12)


@pytest.mark.slow
def test_clip_cov_zeroes_selected():
    key = jax.random.key(1)
    loss_fn = tokens.clip_cov(fraction=0.2, cov_low=-10.0, cov_high=10.0)
    loss, met = loss_fn(logp=LP, old_logp=OLP, advantages=A, mask=M, key=key)
    keep, _ = clip_cov_mask(logp=LP, old_logp=OLP, advantages=A[:, None] * M, mask=M, key=key, fraction=0.2,
                            cov_low=-10.0, cov_high=10.0)
    exp = np_tokmean(np_ppo(LP, OLP, A, 0.2, 0.2) * np.asarray(keep), M)
    assert float(loss) == pytest.approx(float(exp), rel=1e-6)
    assert float(met["clip_cov/n_selected"]) == np.floor(0.2 * 12)  # 12 valid tokens
    assert float(met["clip_cov/frac_selected"]) == pytest.approx(2 / 12)
    # pg_clipfrac stays PPO's clip fraction
    r = np.exp(np.asarray(LP - OLP))
    a = np.broadcast_to(np.asarray(A)[:, None], (B, T))
    assert float(met["pg_clipfrac"]) == pytest.approx(np_tokmean(-a * np.clip(r, 0.8, 1.2) > -a * r, M))
    # detach_value keeps the value of PPO but the same gradient as zeroing
    detach = tokens.clip_cov(fraction=0.2, cov_low=-10.0, cov_high=10.0, detach_value=True)
    loss_d, _ = detach(logp=LP, old_logp=OLP, advantages=A, mask=M, key=key)
    assert float(loss_d) == pytest.approx(np_tokmean(np_ppo(LP, OLP, A, 0.2, 0.2), M), rel=1e-6)
    g1 = jax.grad(lambda x: loss_fn(logp=x, old_logp=OLP, advantages=A, mask=M, key=key)[0])(LP)
    g2 = jax.grad(lambda x: detach(logp=x, old_logp=OLP, advantages=A, mask=M, key=key)[0])(LP)
    np.testing.assert_allclose(g1, g2)


@pytest.mark.slow
def test_kl_cov_numpy_and_on_policy_noop():
    loss, met = tokens.kl_cov(fraction=0.2, coef=1.0)(logp=LP, old_logp=OLP, advantages=A, mask=M)
    lp, olp, a = np.asarray(LP), np.asarray(OLP), np.broadcast_to(np.asarray(A)[:, None], (B, T))
    v = np.asarray(M) > 0
    cov = np.where(v, (a - a[v].mean()) * (lp - lp[v].mean()), -np.inf)
    k = int(np.floor(0.2 * v.sum()))
    sel = np.zeros((B, T), bool)
    sel.ravel()[np.argsort(-cov.ravel(), kind="stable")[:k]] = True
    per = -a * np.exp(lp - olp) + sel * np.abs(lp - olp)
    assert float(loss) == pytest.approx(np_tokmean(per, M), rel=1e-6)
    assert float(met["kl_cov/penalty"]) == pytest.approx(np_tokmean(sel * np.abs(lp - olp), M), rel=1e-6)
    assert float(met["kl_cov/n_selected"]) == k
    assert float(met["ppo_kl"]) == pytest.approx(np_tokmean(olp - lp, M), rel=1e-6)
    # on-policy: penalty value and gradient vanish -> same as the unclipped PG
    g_kl = jax.grad(lambda x: tokens.kl_cov(fraction=0.5)(logp=x, old_logp=LP, advantages=A, mask=M)[0])(LP)
    g_pg = jax.grad(lambda x: tokens.chain(tokens.NoClip())(logp=x, old_logp=LP, advantages=A, mask=M)[0])(LP)
    np.testing.assert_allclose(g_kl, g_pg)


@pytest.mark.slow
def test_lp_reg_numpy():
    px = LP + 0.3
    a = -jnp.ones(B)
    loss, met = tokens.lp_reg(neg_fraction=0.25)(logp=LP, old_logp=OLP, advantages=a, mask=M, proxy_logp=px)
    lp, olp = np.asarray(LP), np.asarray(OLP)
    v = np.asarray(M) > 0
    k = int(np.floor(0.25 * v.sum()))
    order = np.argsort(np.where(v, lp, np.inf).ravel(), kind="stable")[:k]
    sel = np.zeros((B, T), bool)
    sel.ravel()[order] = True
    base = np_ppo(lp, olp, a, 0.2, 0.28)
    reg = np.exp(lp - olp) + k3(lp, lp + 0.3)
    assert float(met["lp_reg/n_selected"]) == k
    assert float(loss) == pytest.approx(np_tokmean(np.where(sel, reg, base), M), rel=1e-6)
    assert float(met["pg_loss"]) == pytest.approx(np_tokmean(np.where(sel, 0.0, base), M), rel=1e-6)
    grad = jax.grad(lambda x: tokens.lp_reg()(logp=x, old_logp=OLP, advantages=a, mask=M,
                                              proxy_logp=jnp.full((B, T), -jnp.inf))[0])(LP)
    assert np.all(np.isfinite(np.asarray(grad)))


def test_siren_metrics_and_regularizers():
    loss, met = tokens.siren(coef=0.1, constant=5.0)(logp=LP, old_logp=OLP, advantages=A, mask=M, topp_entropy=H,
                                                     entropy_anchor=0.5,
                                                     entropy=H + 1.0)
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
    assert float(met["siren/topp_entropy_agg"]) == pytest.approx(hag, rel=1e-6)
    assert float(loss) == pytest.approx(float(pg + 0.1 * (hag - 0.5) ** 2), rel=1e-6)
    # the entropy metric is the full-vocabulary entropy, not the top-p one
    # (aggregated like the loss: sum over valid tokens / C = 5, and its token mean)
    assert float(met["entropy"]) == pytest.approx(((h + 1.0) * m).sum() / 5.0, rel=1e-12)
    assert float(met["entropy/token_mean"]) == pytest.approx(np_tokmean(h + 1.0, m))
    assert float(siren_anchor_penalty(1.0, 0.5, coef=2.0)) == 0.5
    assert float(epo_smoothing_penalty(2.0, 1.0, kappa_low=0.5, kappa_high=1.5)) == 0.5
    assert float(epo_smoothing_penalty(0.2, 1.0, kappa_low=0.5, kappa_high=1.5)) == pytest.approx(0.3)
    assert float(epo_phase_weight(5, total_steps=10, start=0.0, end=1.0)) == 0.5


def test_epo_copo_numpy():
    loss, _ = tokens.epo(entropy_coef=0.1, smooth_coef=2.0)(logp=LP, old_logp=OLP, advantages=A, mask=M, entropy=H,
                                                            entropy_hist=10.0)
    hb = np_tokmean(H, M)
    exp = np_tokmean(np_ppo(LP, OLP, A, 0.2, 0.2), M) - 0.1 * hb + 2.0 * max(0, 9.0 - hb)
    assert float(loss) == pytest.approx(float(exp), rel=1e-6)
    ag = jnp.array([0.5, 0.5, -0.5, -0.5])
    he = jnp.array([1.0, 1.0, 0.0, 0.0])
    loss, met = tokens.copo(k=5.0, b=1.0)(logp=LP, old_logp=OLP, advantages=A, mask=M, adv_global=ag, answer_entropy=he)
    w = 1 / (1 + np.exp(-5.0 * (np.asarray(he) - 1.0)))
    per = (1 - w[:, None]) * np_ppo(LP, OLP, ag, 0.2, 0.2) + w[:, None] * np_ppo(LP, OLP, A, .2, .2)
    assert float(loss) == pytest.approx(np_seqmean(per, M), rel=1e-6)


def test_copo_soft_forced_gates_every_token():
    # Per-token local advantages with a zero on some tokens: "soft_forced" gates each token by its
    # own advantage (the former code read only the first token of each row).
    a_loc = jnp.array(RNG.normal(size=(B, T))).at[0, 0].set(0.0).at[2, 3].set(0.0)
    ag = jnp.array([0.5, 0.5, -0.5, -0.5])
    he = jnp.array([2.0, 2.0, 2.0, 2.0])
    loss, met = tokens.copo(k=5.0, b=1.0, weight_mode="soft_forced")(logp=LP, old_logp=OLP, advantages=a_loc, mask=M,
                                                                     adv_global=ag,
                                                                     answer_entropy=he)
    w = 1 / (1 + np.exp(-5.0)) * (np.asarray(a_loc) != 0)
    per = (1 - w) * np_ppo(LP, OLP, ag, 0.2, 0.2) + w * np_ppo(LP, OLP, a_loc, .2, .2)
    assert float(loss) == pytest.approx(np_seqmean(per, M), rel=1e-6)
    assert float(met["copo/w_min"]) == 0.0  # token (0, 0) is gated off although row 0 is not


def test_pairs_rpo_cpg_aepo_numpy():
    c, r = jnp.array([[-1.0, -2.0]]), jnp.array([[-3.0, -1.0]])
    cr, rr = jnp.array([[-1.5, -2.0]]), jnp.array([[-2.0, -1.0]])
    mm = jnp.ones((1, 2))
    loss, _ = tokens.rpo_loss(c, r, cr, rr, mm, mm, beta=0.5, eta=0.2)
    margin = 0.5 * ((-3.0 + 3.5) - (-4.0 + 3.0))
    assert float(loss) == pytest.approx(np.log1p(np.exp(-margin)) + 0.2 * 3.0)
    loss_n, _ = tokens.rpo_loss(c, r, cr, rr, mm, mm, beta=0.5, eta=0.2, length_normalize=True)
    assert float(loss_n) == pytest.approx(np.log1p(np.exp(-margin)) + 0.2 * 1.5)
    # CPG gradient = -(R_beta(y) - R_beta(y')) (grad lp(y) - grad lp(y'))
    lp1, lp2 = jnp.array([[-1.0, -0.5]]), jnp.array([[-2.0, -0.1]])
    rf1, rf2 = jnp.array([[-1.2, -0.4]]), jnp.array([[-1.0, -0.3]])
    g1 = jax.grad(lambda x: tokens.contrastive_pg_loss(x, rf1, mm, jnp.ones(1), lp2, rf2, mm, jnp.zeros(1),
                                                       beta=0.3)[0])(lp1)
    rb1 = 1.0 - 0.3 * (-1.5 + 1.6)
    rb2 = 0.0 - 0.3 * (-2.1 + 1.3)
    np.testing.assert_allclose(g1, -(rb1 - rb2) * np.ones((1, 2)), rtol=1e-10)
    loss, met = tokens.aepo_loss(loss_fn=tokens.grpo(kl_coef=0.0, aggregation="token-mean"), logp=LP, old_logp=OLP,
                                 advantages=A, mask=M, reg_logp=LP, reg_old_logp=OLP,
                                 reg_advantages=jnp.array([1.0, 0.01, 0.5, -1.0]), reg_mask=M, alpha=0.5)
    keep = np.array([1, 0, 1, 0], float)[:, None] * np.asarray(M)
    r = np.exp(np.asarray(LP - OLP))
    reg = np_tokmean(-np.minimum(r, np.clip(r, 0.8, 1.2)), keep)
    assert float(loss) == pytest.approx(np_tokmean(np_ppo(LP, OLP, A, .2, .2), M) + 0.5 * reg, rel=1e-6)
    assert float(met["aepo/n_reg_seqs"]) == 2.0


def np_hpt(lp, olp, a, h, m, sft, t_max, ent_coef, sft_coef=1.0):
    """HPT's actor as its code normalises it (TsinghuaC3I Unify-Post-Training, mix_src): RL rows
    -A r summed and divided by the padded length (loss_remove_token_mean, no clip), the SFT term
    a token mean of -log pi over the SFT tokens times sft_loss_coef, the entropy bonus a token
    mean over all tokens times entropy_coeff. Returns the loss and its gradients w.r.t. lp and h."""
    lp, olp, h, m = (np.asarray(x, np.float64) for x in (lp, olp, h, m))
    a = np.broadcast_to(np.asarray(a, np.float64)[:, None], lp.shape)
    s = (np.asarray(sft) > 0)[:, None]
    rl_m, sft_m = m * ~s, m * s
    r = np.exp(lp - olp)
    loss = (-a * r * rl_m).sum() / t_max + sft_coef * (-lp * sft_m).sum() / sft_m.sum() \
        - ent_coef * (h * m).sum() / m.sum()
    g_lp = -a * r * rl_m / t_max - sft_coef * sft_m / sft_m.sum()
    g_h = -ent_coef * m / m.sum()
    return loss, g_lp, g_h


@pytest.mark.slow
def test_hpt_normalises_each_term_as_hpt_code():
    sft = jnp.array([0.0, 1.0, 0.0, 1.0])
    fn = tokens.hpt(entropy_coef=1e-3, constant=5.0)
    want, g_lp, g_h = np_hpt(LP, OLP, A, H, M, sft, 5.0, 1e-3)
    loss, met = fn(logp=LP, old_logp=OLP, advantages=A, mask=M, sft_mask=sft, entropy=H)
    assert float(loss) == pytest.approx(want, rel=1e-12)
    assert float(met["unified_pg/sft_frac"]) == 0.5
    g = jax.grad(lambda x, e: fn(logp=x, old_logp=OLP, advantages=A, mask=M, sft_mask=sft, entropy=e)[0],
                 argnums=(0, 1))(LP, H)
    np.testing.assert_allclose(g[0], g_lp, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(g[1], g_h, rtol=1e-12, atol=1e-15)
    gate = tokens.hpt_gate(jnp.array([0.0, 0.0, 1.0, 0.0, 1.0, 1.0]), jnp.array([0, 0, 1, 1, 2, 2]), num_groups=3,
                           gate=1)
    assert gate.tolist() == [True, True, False]  # 0, 1 and 2 correct rollouts against gate 1


@pytest.mark.slow
def test_unified_pg_references_and_stabilisation():
    m = jnp.ones((1, 3))
    lp, olp = jnp.log(jnp.array([[0.5, 0.2, 0.9]])), jnp.log(jnp.array([[0.25, 0.2, 0.3]]))
    a = jnp.array([[1.0, -1.0, 1.0]])
    r = np.exp(np.asarray(lp - olp))
    p = np.exp(np.asarray(lp))
    for ref, grad in (("old", -np.asarray(a) * r), ("current", -np.asarray(a)), ("one", -np.asarray(a) * p)):
        g = jax.grad(lambda x, ref=ref: tokens.chain(tokens.UnifiedPG(reference=ref))(logp=x, old_logp=olp,
                                                                                      advantages=a, mask=m)[0])(lp)
        np.testing.assert_allclose(g, grad / 3, rtol=1e-12)  # d(-A w)/d log pi = -A w
    # PPO's stabilisation mask: token 0 (A > 0, r = 2) and token 2 (r = 3) are cut at eps = 0.2
    g = jax.grad(lambda x: tokens.chain(tokens.UnifiedPG(eps=0.2))(logp=x, old_logp=olp, advantages=a, mask=m)[0])(lp)
    np.testing.assert_allclose(g, [[0.0, 1.0 / 3, 0.0]], atol=1e-15)


@pytest.mark.slow
def test_empo_gspo_and_confidence_filter():
    # EMPO's code (verl's gspo loss) averages the sequence objective over sequences:
    # mean_i max(-A_i s_i, -A_i clip(s_i, 1 - 3e-4, 1 + 4e-4)), s_i = exp(mean_t (lp - olp)),
    # gradient w.r.t. lp_{i,t}: -A_i s_i / n_i / B where the clip is inactive, 0 where active.
    loss, met = tokens.empo()(logp=LP, old_logp=OLP, advantages=A, mask=M)
    lp, olp, m = np.asarray(LP), np.asarray(OLP), np.asarray(M)
    s = np.exp(((lp - olp) * m).sum(1) / m.sum(1))
    a = np.asarray(A)
    per_seq = np.maximum(-a * s, -a * np.clip(s, 1 - 3e-4, 1 + 4e-4))
    assert float(loss) == pytest.approx(float(per_seq.mean()), rel=1e-7)
    active = (-a * np.clip(s, 1 - 3e-4, 1 + 4e-4)) > (-a * s)
    g = jax.grad(lambda x: tokens.empo()(logp=x, old_logp=OLP, advantages=A, mask=M)[0])(LP)
    exp_g = (np.where(active, 0.0, -a * s) / m.sum(1))[:, None] * m / B
    np.testing.assert_allclose(g, exp_g, rtol=2e-8, atol=1e-15)  # n_i + 1e-8 in the denominator
    # the configured reading (token-mean) stays available
    tm, _ = tokens.empo(aggregation="token-mean")(logp=LP, old_logp=OLP, advantages=A, mask=M)
    assert float(tm) == pytest.approx(float((per_seq * m.sum(1)).sum() / m.sum()), rel=1e-10)
    keep = tokens.empo_confidence_mask(jnp.array([0, 0, 0, 1, 1, 1]), jnp.array([0, 1, 2, 0, 0, 1]), num_groups=2,
                                       num_answers=3, lower=0.5)
    assert keep.tolist() == [False] * 3 + [True] * 3  # confidences 1/3 and 2/3


@pytest.mark.slow
def test_all_parts_run_with_finite_values_and_gradients():
    rewards = jnp.array([1.0, 0.0, 1.0, 0.0])
    cases = [
        (tokens.hapo(), {"entropy": H}),
        (tokens.steer(), {"entropy": H}),
        (tokens.d3s(), {"entropy": H}),
        (tokens.agentic_ebpo(), {"entropy": H}),
        (tokens.empg(num_steps=1), {"entropy": H, "step_ids": jnp.zeros((B, T), int)}),
        (tokens.dsdr(num_groups=2), {"entropy": H, "rewards": rewards, "tokens": jnp.zeros((B, T), int),
                                     "group_ids": jnp.array([0, 0, 1, 1])}),
        (tokens.entropy_discriminator_clip(), {"discriminator": H}),
        (tokens.dcpo(), {"rewards": rewards, "old_logp_temp": OLP, "entropy_prev": 0.45}),
        (tokens.chain(tokens.CISPO(), tokens.TopEntropy()), {"entropy": H}),
        (tokens.chain(tokens.SAPO()), {}),
    ]
    for loss_fn, inputs in cases:
        val, met = loss_fn(logp=LP, old_logp=OLP, advantages=A, mask=M, **inputs)
        g = jax.grad(lambda x, f=loss_fn, kw=inputs: f(logp=x, old_logp=OLP, advantages=A, mask=M, **kw)[0])(LP)
        assert np.isfinite(float(val))
        assert np.all(np.isfinite(np.asarray(g)))
        assert "pg_clipfrac" in met
    _, met = tokens.dcpo()(logp=LP, old_logp=OLP, advantages=A, mask=M, rewards=rewards, old_logp_temp=OLP,
                           entropy_prev=0.45)
    assert float(met["dcpo/alpha"]) == pytest.approx(0.1 / 1.1)  # a = 0.05 / 0.5


ALL = {
    "grpo": (tokens.grpo(kl_coef=0.0), lambda lp: {}),
    "dapo": (tokens.dapo(), lambda lp: {}),
    "dr_grpo": (tokens.dr_grpo(), lambda lp: {}),
    "clip_cov": (tokens.clip_cov(), lambda lp: {"key": jax.random.key(0)}),
    # KL-Cov still selects top-K tokens when all covariances are 0, so its penalty is only zero
    # on-policy (old = current): that is the case tested here.
    "kl_cov": (tokens.kl_cov(), None),
    "steer": (tokens.steer(), lambda lp: {"entropy": H}),
    "hapo": (tokens.hapo(), lambda lp: {"entropy": H}),
    "d3s": (tokens.d3s(), lambda lp: {"entropy": H}),
    "ebpo": (tokens.agentic_ebpo(), lambda lp: {"entropy": H}),
    "lp_reg": (tokens.lp_reg(), lambda lp: {"proxy_logp": lp + 0.1}),
    "disc": (tokens.entropy_discriminator_clip(), lambda lp: {"discriminator": H}),
    "empo": (tokens.empo(), lambda lp: {}),
    "hpt": (tokens.hpt(entropy_coef=0.0), lambda lp: {"sft_mask": jnp.zeros(B)}),
}


def _call(name, lp, a, m):
    loss_fn, extra = ALL[name]
    olp = jax.lax.stop_gradient(lp) if extra is None else OLP
    return loss_fn(logp=lp, old_logp=olp, advantages=a, mask=m,
                   **({} if extra is None else extra(jax.lax.stop_gradient(lp))))


@pytest.mark.parametrize("name", sorted(ALL))
def test_all_equal_rewards_give_zero_loss_and_grad(name):
    a = grpo_advantages(jnp.ones(B), jnp.zeros(B, int), num_groups=1)  # spec T2
    loss, met = _call(name, LP, a, M)
    g = jax.grad(lambda x: _call(name, x, a, M)[0])(LP)
    assert float(loss) == 0.0
    assert np.all(np.asarray(g) == 0.0)
    assert float(met["adv/frac_zero_seq"]) == 1.0


@pytest.mark.parametrize("name", sorted(ALL))
def test_fully_masked_rows_no_nan(name):
    m = M.at[1].set(0.0)
    loss, _ = _call(name, LP, A, m)
    g = jax.grad(lambda x: _call(name, x, A, m)[0])(LP)
    assert np.isfinite(float(loss))
    assert np.all(np.isfinite(np.asarray(g)))
    assert np.all(np.asarray(g)[1] == 0.0)
    loss0, _ = _call(name, LP, A, jnp.zeros((B, T)))
    assert float(loss0) == 0.0


@pytest.mark.slow
def test_check_grads_composed_loss():
    lp = LP + 0.05  # stay away from the clip kinks
    loss_fn = tokens.chain(tokens.PPOClip(), tokens.ReferenceKL(coef=0.1), tokens.EntropyBonus(coef=0.01),
                           aggregation="seq-mean-token-mean")
    check_grads(lambda x: loss_fn(logp=x, old_logp=OLP, advantages=A, mask=M, ref_logp=REF, entropy=H)[0], (lp,),
                order=1, modes=["rev"])
    check_grads(lambda x: tokens.rpo_loss(x, LP, REF, REF, M, M)[0], (LP,), order=2)


@pytest.mark.slow
def test_jit_matches_eager_and_loss_is_static():
    loss_fn = tokens.clip_cov(fraction=0.3, cov_low=-9.0)
    f = jax.jit(lambda lp: loss_fn(logp=lp, old_logp=OLP, advantages=A, mask=M, key=jax.random.key(3))[0])
    eager = loss_fn(logp=LP, old_logp=OLP, advantages=A, mask=M, key=jax.random.key(3))[0]
    assert float(f(LP)) == pytest.approx(float(eager), rel=1e-12)
    g = jax.jit(lambda fn, lp: fn(logp=lp, old_logp=OLP, advantages=A, mask=M, key=jax.random.key(3))[0],
                static_argnums=0)
    assert float(g(loss_fn, LP)) == pytest.approx(float(eager), rel=1e-12)
    assert hash(loss_fn) == hash(tokens.clip_cov(fraction=0.3, cov_low=-9.0))


def test_errors():
    with pytest.raises(ValueError, match="expected old_logp to have the shape"):
        tokens.grpo()(logp=LP, old_logp=OLP[:, :2], advantages=A, mask=M, ref_logp=REF)
    with pytest.raises(ValueError, match=r"expected mask with entries in \{0, 1\}, got value 2"):
        tokens.dapo()(logp=LP, old_logp=OLP, advantages=A, mask=M * 2)
    with pytest.raises(ValueError, match=r"expected advantages of shape \(4,\)"):
        tokens.dapo()(logp=LP, old_logp=OLP, advantages=jnp.zeros(3), mask=M)
    with pytest.raises(ValueError, match=r"expected input\(s\) \['ref_logp'\] for ReferenceKL"):
        tokens.grpo()(logp=LP, old_logp=OLP, advantages=A, mask=M)
    with pytest.raises(ValueError, match=r"expected inputs among .* got \['entropy_coeff'\]"):
        tokens.dapo()(logp=LP, old_logp=OLP, advantages=A, mask=M, entropy_coeff=0.1)
    with pytest.raises(ValueError, match="expected exactly one surrogate"):
        tokens.chain(tokens.PPOClip(), tokens.NoClip())
    with pytest.raises(ValueError, match="expected exactly one surrogate"):
        tokens.chain(tokens.EntropyBonus())
    with pytest.raises(TypeError, match="expected loss parts"):
        tokens.chain(tokens.PPOClip(), "kl")
    with pytest.raises(ValueError, match="expected aggregation in"):
        tokens.chain(tokens.PPOClip(), aggregation="sum")
    with pytest.raises(ValueError, match="expected distinct metric names"):
        tokens.chain(tokens.PPOClip(), tokens.ReferenceKL(), tokens.ReferenceKL())(logp=LP, old_logp=OLP,
                                                                                   advantages=A, mask=M, ref_logp=REF)
    with pytest.raises(ValueError, match="expected input rewards for weight_mode='soft_zero'"):
        tokens.copo(weight_mode="soft_zero")(logp=LP, old_logp=OLP, advantages=A, mask=M, adv_global=A,
                                             answer_entropy=A)
    with pytest.raises(ValueError, match="expected input entropy_coef for EntropyBonus"):
        tokens.ppo_entropy_bonus(coef=None)(logp=LP, old_logp=OLP, advantages=A, mask=M, entropy=H)
    with pytest.raises(ValueError, match="expected 0 <= kappa_low <= 1 <= kappa_high"):
        epo_smoothing_penalty(1.0, 1.0, kappa_low=1.2)
    with pytest.raises(ValueError, match="expected 0 <= kappa_low <= 1 <= kappa_high"):
        tokens.EPOSmoothing(kappa_high=0.5)
    with pytest.raises(ValueError, match="expected logp of rank 2"):
        tokens.grpo(kl_coef=0.0)(logp=LP[0], old_logp=OLP[0], advantages=A, mask=M[0])
    with pytest.raises(ValueError, match="expected fraction in"):
        tokens.ClipCov(fraction=2.0)
    with pytest.raises(ValueError, match="expected reference in"):
        tokens.UnifiedPG(reference="ref")
    with pytest.raises(ValueError, match="expected estimator in"):
        tokens.ReferenceKL(estimator="k4")
    with pytest.raises(ValueError, match="expected 0 <= lower <= upper <= 1"):
        tokens.empo_confidence_mask(jnp.zeros(2, int), jnp.zeros(2, int), num_groups=1, num_answers=1, lower=0.9,
                                    upper=0.5)


@pytest.mark.parametrize("method", ["clip_cov", "kl_cov"])
@pytest.mark.slow
def test_micro_batches_with_batch_selection_sum_to_batch_gradient(method):
    # batch of 6 rows split 3 + 3; global token denominator; the selection made once on the batch
    rng = np.random.default_rng(3)
    b, t = 6, 5
    lp = jnp.array(-rng.exponential(1.0, (b, t)))
    olp = lp + jnp.array(rng.normal(0, 0.2, (b, t)))
    m = jnp.array((rng.random((b, t)) < 0.8).astype(float)).at[:, 0].set(1.0)
    adv = jnp.array(rng.normal(0, 1, b))[:, None] * m
    key = jax.random.key(5)
    if method == "clip_cov":
        fn = tokens.clip_cov(fraction=0.2, cov_low=-1e9, cov_high=1e9, eps_low=1.0, eps_high=1.0)
        sel, _ = clip_cov_mask(logp=lp, old_logp=olp, advantages=adv, mask=m, key=key, fraction=0.2,
                               cov_low=-1e9, cov_high=1e9, eps_low=1.0, eps_high=1.0)
        name, full_in = "clip_cov_keep", {"key": key}
    else:
        fn = tokens.kl_cov(fraction=0.15, coef=1.0)
        sel, _ = tokens.kl_cov_mask(lp, adv, m, fraction=0.15)
        name, full_in = "kl_cov_selected", {}
    den = jnp.sum(m)

    def batch(x):
        return fn(logp=x, old_logp=olp, advantages=adv, mask=m, **full_in)[0]

    def micro(x):
        return sum(fn(logp=x[r], old_logp=olp[r], advantages=adv[r], mask=m[r], denominator=den,
                      **{name: sel[r]})[0] for r in (slice(0, 3), slice(3, 6)))

    g_batch, g_micro = jax.grad(batch)(lp), jax.grad(micro)(lp)
    assert float(micro(lp)) == pytest.approx(float(batch(lp)), rel=1e-12)
    np.testing.assert_allclose(g_micro, g_batch, rtol=1e-12, atol=1e-15)
    # without the batch selection the micro-batch calls select on their own: a different gradient
    def micro_own(x):
        return sum(fn(logp=x[r], old_logp=olp[r], advantages=adv[r], mask=m[r], denominator=den, **full_in)[0]
                   for r in (slice(0, 3), slice(3, 6)))

    assert np.max(np.abs(jax.grad(micro_own)(lp) - g_batch)) > 1e-3
