"""Aggregation modes (spec T1, T3) and clip rules (spec T4)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from policy import tokens
from policy.tokens import aggregate_loss, broadcast_advantages, dr_grpo_advantages, grpo_advantages


def per_token(surrogate, lp, olp, a):
    """Per-token losses and ClipInfo of a surrogate on a [1, n] grid (all tokens valid)."""
    lp, olp, a = (jnp.atleast_2d(jnp.asarray(x, float)) for x in (lp, olp, a))
    m = jnp.ones_like(lp)
    return surrogate.surrogate(tokens.Context(lp, olp, a, m, m, {}, None))

T1_MASK = jnp.array([[1.0, 1.0, 1.0], [1.0, 0.0, 0.0], [1.0, 1.0, 0.0], [1.0, 1.0, 0.0]])
T1_R = jnp.array([1.0, 0.0, 0.0, 1.0])


def test_t1_grpo_advantages_and_aggregations():
    g = jnp.zeros(4, int)
    a = grpo_advantages(T1_R, g, num_groups=1)
    # mean 1/2, unbiased std sqrt(1/3): a = 0.5 / (0.57735 + 1e-6)
    aa = 0.5 / (np.sqrt(1 / 3) + 1e-6)
    np.testing.assert_allclose(a, [aa, -aa, -aa, aa], rtol=1e-12)
    assert aa == pytest.approx(0.866024, abs=1e-6)
    a_trl = grpo_advantages(T1_R, g, num_groups=1, eps=1e-4)
    assert float(a_trl[0]) == pytest.approx(0.865875, abs=1e-6)
    loss = -broadcast_advantages(a, T1_MASK)
    # 8 valid tokens: rows sum -3a, +a, +2a, -2a -> total -2a; token-mean -a/4
    assert float(aggregate_loss(loss, T1_MASK, mode="token-mean")) == pytest.approx(-aa / 4)
    assert float(aggregate_loss(loss, T1_MASK, mode="token-mean")) == pytest.approx(-0.216506, 1e-5)
    assert float(aggregate_loss(loss, T1_MASK, mode="seq-mean-token-sum")) == pytest.approx(
        -2 * aa / 4
    )
    smm = float(aggregate_loss(loss, T1_MASK, mode="seq-mean-token-mean"))
    # 1/4 [-3a/(3+e) + a/(1+e) + 2a/(2+e) - 2a/(2+e)],  e = 1e-8
    e = 1e-8
    assert smm == pytest.approx(0.25 * (-3 * aa / (3 + e) + aa / (1 + e)), abs=1e-15)
    assert smm == pytest.approx(-1.44337e-09, rel=1e-4)
    norm = float(aggregate_loss(loss, T1_MASK, mode="seq-mean-token-sum-norm"))
    assert norm == pytest.approx(-2 * aa / 3)
    trl = float(aggregate_loss(loss, T1_MASK, mode="seq-mean-token-sum-norm", constant=12.0))
    assert trl == pytest.approx(-2 * aa / 12)
    d = dr_grpo_advantages(T1_R, g, num_groups=1)
    np.testing.assert_allclose(d, [0.5, -0.5, -0.5, 0.5])


@pytest.mark.slow
def test_t3_fully_masked_row():
    a = jnp.array([1.0, -1.0])
    m = jnp.array([[1.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    loss = -broadcast_advantages(a, m)
    assert float(aggregate_loss(loss, m, mode="token-mean")) == -1.0
    assert float(aggregate_loss(loss, m, mode="seq-mean-token-sum")) == -2.0
    assert float(aggregate_loss(loss, m, mode="seq-mean-token-mean")) == pytest.approx(-1.0)
    assert float(aggregate_loss(loss, m, mode="seq-mean-token-sum-norm")) == pytest.approx(-2 / 3)
    zero = jnp.zeros((2, 3))
    for mode in ("token-mean", "seq-mean-token-mean", "seq-mean-token-sum",
                 "seq-mean-token-sum-norm"):
        assert float(aggregate_loss(loss, zero, mode=mode)) == 0.0
        g = jax.grad(lambda x, mode=mode: aggregate_loss(x, zero, mode=mode))(loss)
        assert np.all(np.asarray(g) == 0.0)


def test_token_mean_gradient_accumulation_with_global_denominator():
    rng = np.random.default_rng(1)
    loss = jnp.array(rng.normal(size=(4, 5)))
    m = jnp.array((rng.random((4, 5)) > 0.3).astype(float))
    full = aggregate_loss(loss, m, mode="token-mean")
    n = jnp.sum(m)
    parts = [aggregate_loss(loss[i:i + 2], m[i:i + 2], mode="token-mean", denominator=n)
             for i in (0, 2)]
    assert float(sum(parts)) == pytest.approx(float(full), rel=1e-12)


T4 = [(1.0, 1.5), (1.0, 0.5), (-1.0, 0.5), (-1.0, 5.0), (-1.0, 1.1), (1.0, 1.0)]


@pytest.mark.slow
def test_t4_vanilla_dual_clip():
    a = jnp.array([[x[0] for x in T4]])
    lp = jnp.log(jnp.array([[x[1] for x in T4]]))
    loss, info = per_token(tokens.PPOClip(eps_low=0.2, eps_high=0.28, dual_clip=3.0), lp,
                           jnp.zeros_like(lp), a)
    # hand: (+1,1.5) -> -1.28; (+1,0.5) -> -0.5; (-1,0.5) -> 0.8; (-1,5) -> min(3, 5) = 3;
    # (-1,1.1) -> 1.1; (+1,1) -> -1
    np.testing.assert_allclose(loss[0], [-1.28, -0.5, 0.8, 3.0, 1.1, -1.0], rtol=1e-12)
    m = jnp.ones_like(lp)
    assert float(aggregate_loss(loss, m)) == pytest.approx(0.353333, abs=1e-6)
    assert float(jnp.mean(info.clipped)) == pytest.approx(2 / 6)  # tokens 1 and 3
    assert float(jnp.mean(info.clipped_dual)) == pytest.approx(1 / 6)
    assert float(jnp.mean(-info.log_ratio)) == pytest.approx(-0.120653, abs=1e-6)
    # the same through the loss: verl's metric names mean the same quantities
    total, met = tokens.chain(tokens.PPOClip(eps_low=0.2, eps_high=0.28, dual_clip=3.0))(
        logp=lp, old_logp=jnp.zeros_like(lp), advantages=a, mask=m)
    assert float(total) == pytest.approx(0.353333, abs=1e-6)
    assert float(met["pg_clipfrac"]) == pytest.approx(2 / 6)
    assert float(met["pg_clipfrac_lower"]) == pytest.approx(1 / 6)
    assert float(met["ppo_kl"]) == pytest.approx(-0.120653, abs=1e-6)
    # TRL's names: r > 1.28 with A > 0 (token 0); r < 0.8 with A < 0 (token 2)
    assert float(met["clip_ratio/high_mean"]) == pytest.approx(1 / 6)
    assert float(met["clip_ratio/low_mean"]) == pytest.approx(1 / 6)


@pytest.mark.slow
def test_t4_trl():
    a = jnp.array([[x[0] for x in T4]])
    lp = jnp.log(jnp.array([[x[1] for x in T4]]))
    loss, info = per_token(tokens.TRLClip(eps_low=0.2, eps_high=0.28), lp, jnp.zeros_like(lp), a)
    np.testing.assert_allclose(loss[0], [-1.28, -0.5, 0.8, 5.0, 1.1, -1.0], rtol=1e-12)
    assert float(jnp.mean(loss)) == pytest.approx(0.686667, abs=1e-6)
    assert float(jnp.mean(info.high)) == pytest.approx(1 / 6)
    assert float(jnp.mean(info.low)) == pytest.approx(1 / 6)
    # delta caps the unclipped ratio, and is reachable from a composed loss
    loss_d, _ = per_token(tokens.TRLClip(eps_low=0.2, eps_high=0.28, delta=4.0), lp, jnp.zeros_like(lp), a)
    assert float(loss_d[0, 3]) == 4.0
    total, _ = tokens.chain(tokens.TRLClip(eps_low=0.2, eps_high=0.28, delta=4.0))(
        logp=lp, old_logp=jnp.zeros_like(lp), advantages=a, mask=jnp.ones_like(lp))
    assert float(total) == pytest.approx((-1.28 - 0.5 + 0.8 + 4.0 + 1.1 - 1.0) / 6)


@pytest.mark.slow
def test_gradient_preserving_clip():
    lp0 = jnp.log(jnp.array([2.0, 0.5, 1.0]))
    a = jnp.array([1.0, -1.0, 1.0])
    def f(x, preserve_low=False):
        return per_token(tokens.GradientPreservingClip(preserve_low=preserve_low), x, jnp.zeros(3), a)[0][0]

    np.testing.assert_allclose(f(lp0), [-1.28, 0.8, -1.0])  # values = PPO's
    g = jax.grad(lambda x: f(x).sum())(lp0)
    # high-clipped token keeps gradient -A(1+eps_h); low-clipped (A<0) stays 0; unclipped -A r
    np.testing.assert_allclose(g, [-1.28, 0.0, -1.0])
    g2 = jax.grad(lambda x: f(x, True).sum())(lp0)
    np.testing.assert_allclose(g2, [-1.28, 0.8, -1.0])


@pytest.mark.slow
def test_no_clip_cispo_sapo():
    lp = jnp.log(jnp.array([3.0, 0.5]))
    a = jnp.array([1.0, -2.0])
    np.testing.assert_allclose(per_token(tokens.NoClip(), lp, jnp.zeros(2), a)[0][0], [-3.0, 1.0])
    c, _ = per_token(tokens.CISPO(eps_max=2.0), lp, jnp.zeros(2), a)
    np.testing.assert_allclose(c[0], [-2.0 * np.log(3.0), -0.5 * -2.0 * np.log(0.5)])
    gc = jax.grad(lambda x: per_token(tokens.CISPO(eps_max=2.0), x, jnp.zeros(2), a)[0].sum())(lp)
    np.testing.assert_allclose(gc, [-2.0, 1.0])  # -sg(min(r, 2)) A
    s, _ = per_token(tokens.SAPO(tau_pos=1.0, tau_neg=1.05), lp, jnp.zeros(2), a)
    sig = lambda x: 1 / (1 + np.exp(-x))  # noqa: E731
    np.testing.assert_allclose(s[0], [-sig(2.0) * 4.0, -sig(1.05 * -0.5) * 4 / 1.05 * -2.0])
    # at r = 1 the SAPO gradient equals the PPO one (-A)
    g = jax.grad(lambda x: per_token(tokens.SAPO(), x, jnp.zeros(2), a)[0].sum())(jnp.zeros(2))
    np.testing.assert_allclose(g, -a)


def test_errors():
    with pytest.raises(ValueError, match="expected mode in"):
        aggregate_loss(jnp.zeros((2, 2)), jnp.ones((2, 2)), mode="sum")
    with pytest.raises(ValueError, match="expected mask to have the shape"):
        aggregate_loss(jnp.zeros((2, 2)), jnp.ones((2, 3)))
    with pytest.raises(ValueError, match=r"expected mask with entries in \{0, 1\}, got value 0.5"):
        aggregate_loss(jnp.zeros((2, 2)), jnp.full((2, 2), 0.5))
    with pytest.raises(ValueError, match="expected loss of rank 2"):
        aggregate_loss(jnp.zeros(2), jnp.ones(2))
    with pytest.raises(ValueError, match="expected dual_clip > 1, got 0.5"):
        tokens.PPOClip(dual_clip=0.5)
    with pytest.raises(ValueError, match="expected eps_low >= 0, got -0.1"):
        tokens.PPOClip(eps_low=-0.1)
    with pytest.raises(ValueError, match="expected delta > 1, got 0.5"):
        tokens.TRLClip(delta=0.5)
    with pytest.raises(ValueError, match="expected eps_max > 0, got 0"):
        tokens.CISPO(eps_max=0)
    with pytest.raises(ValueError, match="expected tau_pos, tau_neg > 0"):
        tokens.SAPO(tau_neg=0.0)
    with pytest.raises(ValueError, match="expected advantages of shape"):
        tokens.dapo()(logp=jnp.zeros((1, 2)), old_logp=jnp.zeros((1, 2)), advantages=jnp.zeros(3), mask=jnp.ones((1,
                                                                                                                  2)))
