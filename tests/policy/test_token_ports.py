"""from_verl / from_trl against NumPy transcriptions of each library's loss (values and gradients).

The references below are written from the libraries' formulas (verl ``core_algos``:
compute_policy_loss_vanilla / clip_cov / kl_cov / gspo, agg_loss, kl_penalty, entropy bonus;
TRL ``GRPOTrainer._compute_loss``: per-token loss, 80/20 entropy mask, KL, loss_type
normalisations; the GRPO advantages of both), not from policy.tokens. Gradients of the references
are central finite differences of the NumPy value in float64.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from policy import tokens

RNG = np.random.default_rng(11)
B, T = 5, 6
LP = -RNG.exponential(1.0, (B, T))
OLP = LP + RNG.normal(0, 0.4, (B, T))
OLP[0, 0] = LP[0, 0] - np.log(5.0)  # r = 5 on a negative-advantage row: verl's dual clip acts
REF = LP + RNG.normal(0, 0.3, (B, T))
H = RNG.exponential(1.0, (B, T))
M = np.ones((B, T))
M[1, 3:] = 0
M[3, 1:] = 0
A = np.array([-1.0, 0.7, 1.3, -0.4, 0.2])


def fd_grad(f, x, h=1e-6):
    g = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[idx] += h
        xm[idx] -= h
        g[idx] = (f(xp) - f(xm)) / (2 * h)
    return g


# ------------------------------------------------------------------------------------- verl ---


def verl_agg(loss, m, mode, c=None):
    n = m.sum(1)
    if mode == "token-mean":
        return (loss * m).sum() / m.sum()
    if mode == "seq-mean-token-sum-norm":
        return (loss * m).sum() / (m.shape[1] if c is None else c)
    rows = (loss * m).sum(1)
    if mode == "seq-mean-token-mean":
        rows = rows / (n + 1e-8)
    return rows[n > 0].mean()


def verl_vanilla(lp, olp, a, lo, hi, c):
    log_r = np.clip(lp - olp, -20, 20)
    r = np.exp(log_r)
    a = a[:, None]
    p1, p2 = -a * r, -a * np.clip(r, 1 - lo, 1 + hi)
    c1 = np.maximum(p1, p2)
    return np.where(a < 0, np.minimum(-a * c, c1), c1)


def verl_kl(lp, ref, kind):
    if kind == "kl":
        return lp - ref
    if kind == "mse":
        return 0.5 * (lp - ref) ** 2
    x = np.clip(ref - lp, -20, 20)
    return np.clip(np.exp(x) - x - 1, -10, 10)


def verl_total(lp, h, cfg):
    pg = verl_vanilla(lp, OLP, A, cfg["clip_ratio_low"], cfg["clip_ratio_high"], cfg.get("clip_ratio_c", 3.0))
    mode = cfg["loss_agg_mode"]
    out = verl_agg(pg, M, mode) - cfg.get("entropy_coeff", 0.0) * verl_agg(h, M, mode)
    if cfg.get("use_kl_loss"):
        out += cfg["kl_loss_coef"] * verl_agg(verl_kl(lp, REF, cfg["kl_loss_type"]), M, mode)
    return out


def ours(port, lp, h=H, **inputs):
    def f(x, e):
        return port.loss(logp=x, old_logp=jnp.asarray(OLP), advantages=jnp.asarray(A), mask=jnp.asarray(M),
                         entropy=e, **inputs)[0]

    val = float(f(jnp.asarray(lp), jnp.asarray(h)))
    g_lp, g_h = jax.grad(f, argnums=(0, 1))(jnp.asarray(lp), jnp.asarray(h))
    return val, np.asarray(g_lp), np.asarray(g_h)


@pytest.mark.parametrize("mode", ["token-mean", "seq-mean-token-mean", "seq-mean-token-sum",
                                  "seq-mean-token-sum-norm"])
@pytest.mark.parametrize("kl", ["low_var_kl", "kl", "mse"])
def test_from_verl_vanilla_matches_verl(mode, kl):
    cfg = {"clip_ratio_low": 0.2, "clip_ratio_high": 0.28, "loss_agg_mode": mode, "entropy_coeff": 0.01,
           "use_kl_loss": True, "kl_loss_coef": 0.05, "kl_loss_type": kl}  # clip_ratio_c: default 3
    val, g_lp, g_h = ours(tokens.from_verl(cfg), LP, ref_logp=jnp.asarray(REF))
    assert val == pytest.approx(verl_total(LP, H, cfg), rel=1e-12)
    np.testing.assert_allclose(g_lp, fd_grad(lambda x: verl_total(x, H, cfg), LP), atol=1e-8)
    np.testing.assert_allclose(g_h, fd_grad(lambda e: verl_total(LP, e, cfg), H), atol=1e-8)
    # the dual clip is active on token (0, 0): -A c = 3 instead of -A r = 5
    assert verl_vanilla(LP, OLP, A, 0.2, 0.28, 3.0)[0, 0] == pytest.approx(3.0)


def verl_cov(lp, a, m):
    a = np.broadcast_to(a[:, None], lp.shape)
    v = m > 0
    return np.where(v, (a - a[v].mean()) * (lp - lp[v].mean()), 0.0)


@pytest.mark.slow
def test_from_verl_clip_cov_matches_verl():
    # ratio 1 selects every candidate, so the random subset is the whole candidate set
    cfg = {"clip_ratio": 0.2, "policy_loss": {"loss_mode": "clip_cov", "clip_cov_ratio": 1.0,
                                              "clip_cov_lb": -0.05, "clip_cov_ub": 0.3}}

    def ref(lp):
        r = np.exp(lp - OLP)  # clip_cov: no clamp of the log-ratio, no dual clip
        a = A[:, None]
        p1, p2 = -a * r, -a * np.clip(r, 0.8, 1.2)
        cov = verl_cov(lp, A, M)
        cand = (M > 0) & (cov > -0.05) & (cov < 0.3) & ~(p2 > p1)
        return verl_agg(np.maximum(p1, p2) * ~cand, M, "token-mean"), cand

    want, cand = ref(LP)
    assert 0 < cand.sum() < M.sum()
    port = tokens.from_verl(cfg)
    val, g_lp, _ = ours(port, LP, key=jax.random.key(0))
    assert val == pytest.approx(want, rel=1e-12)
    np.testing.assert_allclose(g_lp, fd_grad(lambda x: verl_agg(
        np.maximum(-A[:, None] * np.exp(x - OLP), -A[:, None] * np.clip(np.exp(x - OLP), 0.8, 1.2)) * ~cand,
        M, "token-mean"), LP), atol=1e-8)
    # the same loss with the selection passed in (micro-batch form)
    val2, _, _ = ours(port, LP, clip_cov_keep=jnp.asarray((~cand).astype(float)))
    assert val2 == pytest.approx(want, rel=1e-12)


def test_from_verl_kl_cov_matches_verl():
    cfg = {"policy_loss": {"loss_mode": "kl-cov", "kl_cov_ratio": 0.2, "ppo_kl_coef": 0.5}}
    cov = verl_cov(LP, A, M)
    k = max(int(np.floor(0.2 * M.sum())), 1)
    order = np.argsort(-np.where(M > 0, cov, -np.inf).ravel(), kind="stable")[:k]
    sel = np.zeros(B * T, bool)
    sel[order] = True
    sel = sel.reshape(B, T)

    def ref(lp):
        d = lp - OLP
        return verl_agg(-A[:, None] * np.exp(d) + sel * 0.5 * np.abs(d), M, "token-mean")

    val, g_lp, _ = ours(tokens.from_verl(cfg), LP)
    assert val == pytest.approx(ref(LP), rel=1e-12)
    np.testing.assert_allclose(g_lp, fd_grad(ref, LP), atol=1e-8)


def test_from_verl_gspo_is_sequence_mean_whatever_the_mode():
    cfg = {"clip_ratio_low": 3e-4, "clip_ratio_high": 4e-4, "loss_agg_mode": "token-mean",
           "policy_loss": {"loss_mode": "gspo"}}

    def ref(lp):
        n = M.sum(1)
        s = np.exp(((lp - OLP) * M).sum(1) / n)
        return np.mean(np.maximum(-A * s, -A * np.clip(s, 1 - 3e-4, 1 + 4e-4)))

    val, g_lp, _ = ours(tokens.from_verl(cfg), LP)
    assert val == pytest.approx(ref(LP), rel=1e-7)  # n_i + 1e-8
    np.testing.assert_allclose(g_lp, fd_grad(ref, LP), atol=1e-7)


def test_from_verl_advantages_and_errors():
    r = jnp.array([1.0, 0.0, 0.0, 1.0, 0.5])
    g = jnp.array([0, 0, 0, 0, 1])
    adv = tokens.from_verl({}).advantages(r, g, num_groups=2)
    x = np.array([1.0, 0.0, 0.0, 1.0])
    np.testing.assert_allclose(adv[:4], (x - x.mean()) / (x.std(ddof=1) + 1e-6), rtol=1e-12)
    assert float(adv[4]) == 0.5  # a group of one: verl's mean 0, std 1
    adv0 = tokens.from_verl({"norm_adv_by_std_in_grpo": False}).advantages(r, g, num_groups=2)
    np.testing.assert_allclose(adv0[:4], x - x.mean(), rtol=1e-12)
    with pytest.raises(ValueError, match="expected loss_mode"):
        tokens.from_verl({"policy_loss": {"loss_mode": "gpg"}})
    with pytest.raises(ValueError, match="expected loss_agg_mode"):
        tokens.from_verl({"loss_agg_mode": "mean"})
    with pytest.raises(ValueError, match="expected kl_loss_type"):
        tokens.from_verl({"use_kl_loss": True, "kl_loss_type": "full"})
    with pytest.raises(TypeError, match="expected a dict"):
        tokens.from_verl([("loss_agg_mode", "token-mean")])


def test_swapped_verl_order_is_refused():
    port = tokens.from_verl({})
    with pytest.raises(TypeError, match="old_log_prob, log_prob"):
        port.loss(jnp.asarray(OLP), jnp.asarray(LP), jnp.asarray(A), jnp.asarray(M))


# -------------------------------------------------------------------------------------- TRL ---


def trl_total(lp, h, cfg, mask=M):
    e = cfg.get("epsilon", 0.2)
    eh = cfg.get("epsilon_high", e)
    r = np.exp(lp - OLP)
    a = A[:, None]
    per = -np.minimum(r * a, np.clip(r, 1 - e, 1 + eh) * a)
    rho = cfg.get("top_entropy_quantile", 1.0)
    em = np.ones_like(per)
    if rho < 1.0:
        thr = np.quantile(h[mask > 0], 1 - rho)  # linear, as torch.quantile
        em = (h >= thr).astype(float)
    per = per * em
    per = per - cfg.get("entropy_coef", 0.0) * h * em
    if cfg.get("beta", 0.0):
        x = REF - lp
        per = per + cfg["beta"] * (np.exp(x) - x - 1)
    lt = cfg["loss_type"]
    if lt == "grpo":
        return ((per * mask).sum(1) / np.maximum(mask.sum(1), 1.0)).mean()
    if lt == "bnpo":
        return (per * mask).sum() / max(mask.sum(), 1.0)
    if lt == "dapo":
        return (per * mask).sum() / cfg["num_items_in_batch"]
    return (per * mask).sum() / (B * cfg["max_completion_length"])


@pytest.mark.parametrize("loss_type", ["grpo", "bnpo", "dapo", "dr_grpo"])
@pytest.mark.parametrize("rho", [1.0, 0.2])
def test_from_trl_matches_trl(loss_type, rho):
    cfg = {"loss_type": loss_type, "epsilon": 0.2, "epsilon_high": 0.28, "beta": 0.04,
           "top_entropy_quantile": rho, "entropy_coef": 0.01, "per_device_train_batch_size": B,
           "max_completion_length": T}
    kw = {"ref_logp": jnp.asarray(REF)}
    if loss_type == "dapo":
        cfg["num_items_in_batch"] = 40.0  # the global token count of the accumulated batch
        kw["denominator"] = 40.0
    val, g_lp, g_h = ours(tokens.from_trl(cfg), LP, **kw)
    want = trl_total(LP, H, cfg)
    tol = 1e-7 if loss_type == "grpo" else 1e-12  # ours adds 1e-8 to n_i, TRL clamps at 1
    assert val == pytest.approx(want, rel=tol)
    np.testing.assert_allclose(g_lp, fd_grad(lambda x: trl_total(x, H, cfg), LP), atol=1e-7)
    np.testing.assert_allclose(g_h, fd_grad(lambda e: trl_total(LP, e, cfg), H), atol=1e-7)


def test_trl_entropy_bonus_normalisation_follows_loss_type():
    # issue 23: a token-mean bonus equals TRL's dapo normalisation but not TRL's grpo one
    cfg = {"loss_type": "grpo", "top_entropy_quantile": 0.2, "entropy_coef": 1.0}
    bonus_grpo = trl_total(OLP, H, cfg) - trl_total(OLP, H, {**cfg, "entropy_coef": 0.0})
    _, g_lp, g_h = ours(tokens.from_trl(cfg), LP)
    np.testing.assert_allclose(g_h, fd_grad(lambda e: trl_total(LP, e, cfg) - trl_total(LP, e, {
        **cfg, "entropy_coef": 0.0}), H), atol=1e-7)
    tm = tokens.chain(tokens.TRLClip(), tokens.TopEntropy(keep_fraction=0.2), tokens.EntropyBonus(coef=1.0))
    got_tm = float(tm(logp=jnp.asarray(OLP), old_logp=jnp.asarray(OLP), advantages=jnp.zeros(B),
                      mask=jnp.asarray(M), entropy=jnp.asarray(H))[0])
    assert abs(got_tm - bonus_grpo) > 0.05 * abs(bonus_grpo)


def test_from_trl_advantages_mask_and_errors():
    r = jnp.array([1.0, 0.0, 0.0, 1.0, 2.0, 0.0])
    g = jnp.array([0, 0, 0, 1, 1, 1])
    x = np.asarray(r)
    grp = [x[:3], x[3:]]
    want = np.concatenate([(v - v.mean()) / (v.std(ddof=1) + 1e-4) for v in grp])
    np.testing.assert_allclose(tokens.from_trl({}).advantages(r, g, num_groups=2), want, rtol=1e-12)
    want_b = np.concatenate([v - v.mean() for v in grp]) / (x.std(ddof=1) + 1e-4)
    np.testing.assert_allclose(tokens.from_trl({"scale_rewards": "batch"}).advantages(r, g, num_groups=2), want_b,
                               rtol=1e-12)
    np.testing.assert_allclose(tokens.from_trl({"scale_rewards": False}).advantages(r, g, num_groups=2),
                               np.concatenate([v - v.mean() for v in grp]), rtol=1e-12)
    port = tokens.from_trl({"loss_type": "grpo", "mask_truncated_completions": True})
    trunc = np.array([False, False, True, False, False])
    m = np.asarray(port.mask(jnp.asarray(M), jnp.asarray(trunc)))
    assert m[2].sum() == 0
    assert np.all(m[~trunc] == M[~trunc])
    # TRL's grpo averages over all rows, the emptied one included: denominator = B
    val = float(port.loss(logp=jnp.asarray(LP), old_logp=jnp.asarray(OLP), advantages=jnp.asarray(A),
                          mask=jnp.asarray(m), denominator=B)[0])
    assert val == pytest.approx(trl_total(LP, H, {"loss_type": "grpo"}, mask=m), rel=1e-7)
    with pytest.raises(ValueError, match="expected truncated"):
        port.mask(jnp.asarray(M))
    with pytest.raises(ValueError, match="expected loss_type"):
        tokens.from_trl({"loss_type": "sapo"})
    with pytest.raises(ValueError, match="expected scale_rewards"):
        tokens.from_trl({"scale_rewards": "prompt"})


def test_metric_names_and_prefix():
    port = tokens.from_verl({"loss_agg_mode": "seq-mean-token-mean"})
    _, met = port.loss(logp=jnp.asarray(LP), old_logp=jnp.asarray(OLP), advantages=jnp.asarray(A),
                       mask=jnp.asarray(M), entropy=jnp.asarray(H))
    assert all(k.startswith("actor/") for k in met)
    # verl's actor/entropy: agg_loss(entropy, mask, loss_agg_mode)
    assert float(met["actor/entropy"]) == pytest.approx(verl_agg(H, M, "seq-mean-token-mean"), rel=1e-12)
    # a fully masked row is not a zero-advantage sequence; an all-zero-advantage row is
    m = M.copy()
    m[4] = 0
    a = A.copy()
    a[1] = 0.0
    _, met = tokens.from_trl({}).loss(logp=jnp.asarray(LP), old_logp=jnp.asarray(OLP), advantages=jnp.asarray(a),
                                      mask=jnp.asarray(m))
    assert float(met["adv/frac_zero_seq"]) == 0.25
