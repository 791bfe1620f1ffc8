"""The shared core (re-exported by policy.tokens): entropy, log-probs, KL estimators, ratios, masked means."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

from policy.tokens import (
    entropy_from_logits,
    importance_ratio,
    kl_estimate,
    log_probs_from_logits,
    masked_mean,
    masked_var,
)


def np_entropy(z, temp=1.0):
    u = np.asarray(z, float) / temp
    p = np.exp(u - u.max())
    p /= p.sum()
    nz = p > 0
    return float(-(p[nz] * np.log(p[nz])).sum())


@pytest.mark.parametrize(
    ("logits", "temp", "expected"),
    [
        ([0.0, 0.0, 0.0, 0.0], 1.0, 1.38629),  # log 4
        ([1.0, 2.0, 3.0], 1.0, 0.832396),  # spec T5
        ([1.0, 2.0, 3.0], 0.5, 0.441057),
        ([1.0, 2.0, 3.0], 2.0, 1.02019),
    ],
)
def test_entropy_t5(logits, temp, expected):
    h = float(entropy_from_logits(jnp.array(logits), temperature=temp))
    assert h == pytest.approx(expected, abs=1e-5)
    assert h == pytest.approx(np_entropy(logits, temp), rel=1e-12)


@pytest.mark.slow
def test_entropy_peaked_and_vocab_one():
    h = entropy_from_logits(jnp.array([100.0, 0.0, 0.0, 0.0]))
    assert 0.0 <= float(h) < 1e-30
    # the naive -sum p log p form is NaN here; ours is finite
    p = jax.nn.softmax(jnp.array([1000.0, 0.0, 0.0, 0.0]))
    assert np.isnan(float(-jnp.sum(p * jnp.log(p))))
    assert float(entropy_from_logits(jnp.array([1000.0, 0.0, 0.0, 0.0]))) == 0.0
    z1 = jnp.array([[3.7], [-2.0]])
    assert entropy_from_logits(z1).tolist() == [0.0, 0.0]
    assert log_probs_from_logits(z1, jnp.array([0, 0])).tolist() == [0.0, 0.0]
    # gradient of the entropy at peaked logits is finite
    g = jax.grad(lambda z: entropy_from_logits(z))(jnp.array([1000.0, 0.0, 0.0]))
    assert np.all(np.isfinite(np.asarray(g)))


def test_log_probs_temperature_numpy():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(3, 5)) * 2
    tok = np.array([0, 4, 2])
    for temp in (0.3, 1.0, 1.7):
        u = z / temp
        ref = u[np.arange(3), tok] - np.log(np.exp(u).sum(-1))
        got = log_probs_from_logits(jnp.array(z), jnp.array(tok), temperature=temp)
        np.testing.assert_allclose(got, ref, rtol=1e-12)


@pytest.mark.slow
def test_entropy_gradient_check_and_closed_form():
    z = jnp.array([[0.3, -1.2, 2.0, 0.1], [1.0, 1.0, -3.0, 0.5]])
    check_grads(lambda x: entropy_from_logits(x, temperature=0.7), (z,), order=1, modes=["rev"])
    # closed form dH/dz = -p (log p + H) / T
    t = 0.7
    p = jax.nn.softmax(z / t)
    h = entropy_from_logits(z, temperature=t)
    g = jax.grad(lambda x: entropy_from_logits(x, temperature=t).sum())(z)
    np.testing.assert_allclose(g, -p * (jnp.log(p) + h[:, None]) / t, rtol=1e-10)


@pytest.mark.slow
def test_kl_estimators_numpy():
    lp = np.array([-0.5, -2.0, -1.0])
    ref = np.array([-1.0, -1.5, -1.0])
    x = lp - ref
    np.testing.assert_allclose(kl_estimate(lp, ref, kind="k1"), x)
    np.testing.assert_allclose(kl_estimate(lp, ref, kind="abs"), np.abs(x))
    np.testing.assert_allclose(kl_estimate(lp, ref, kind="k2"), 0.5 * x**2)
    np.testing.assert_allclose(kl_estimate(lp, ref, kind="k3"), np.exp(-x) + x - 1)
    np.testing.assert_allclose(kl_estimate(lp, ref, kind="k3+"), np.exp(-x) + x - 1)
    # k3+: gradient of k2 (= x), value of k3
    g = jax.grad(lambda a: kl_estimate(a, jnp.array(ref), kind="k3+").sum())(jnp.array(lp))
    np.testing.assert_allclose(g, x)
    # k3 clamps: argument to [-20, 20], value to [-10, 10]
    assert float(kl_estimate(jnp.array(-50.0), jnp.array(0.0), kind="k3")) == 10.0


def test_importance_ratio_clamp():
    r, lr = importance_ratio(logp=jnp.array([0.5, -30.0]), old_logp=jnp.array([0.0, 0.0]))
    np.testing.assert_allclose(lr, [0.5, -20.0])
    np.testing.assert_allclose(r, np.exp([0.5, -20.0]))
    g = jax.grad(lambda a: importance_ratio(logp=a, old_logp=jnp.zeros(2))[0].sum())(jnp.array([0.5, 0.1]))
    np.testing.assert_allclose(g, np.exp([0.5, 0.1]))


def test_masked_mean_and_var():
    x = jnp.array([[1.0, 2.0, jnp.nan], [4.0, 5.0, 6.0]])
    m = jnp.array([[1.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    assert float(masked_mean(x, m)) == 1.5
    np.testing.assert_allclose(masked_mean(x, m, axis=1), [1.5, 0.0])
    assert float(masked_var(x, m)) == 0.25
    assert float(masked_var(x, m, unbiased=True)) == 0.5


def test_errors():
    with pytest.raises(ValueError, match="expected temperature > 0, got -1"):
        entropy_from_logits(jnp.zeros(3), temperature=-1.0)
    with pytest.raises(ValueError, match=r"expected tokens of shape logits.shape\[:-1\]"):
        log_probs_from_logits(jnp.zeros((2, 3)), jnp.zeros(3, int))
    with pytest.raises(ValueError, match=r"expected tokens in \[0, 3\), got"):
        log_probs_from_logits(jnp.zeros((2, 3)), jnp.array([0, 3]))
    with pytest.raises(ValueError, match="expected integer tokens"):
        log_probs_from_logits(jnp.zeros((2, 3)), jnp.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="expected kind in"):
        kl_estimate(jnp.zeros(2), jnp.zeros(2), kind="k4")
    with pytest.raises(ValueError, match="expected ref_logp to have the shape"):
        kl_estimate(jnp.zeros(2), jnp.zeros(3))
    with pytest.raises(ValueError, match="expected mask to have the shape"):
        masked_mean(jnp.zeros(2), jnp.zeros(3))


def test_jit_skips_data_checks():
    # under jit the temperature/token checks on values are skipped (documented), shapes still checked
    f = jax.jit(lambda z, t: log_probs_from_logits(z, t, temperature=0.5))
    assert f(jnp.zeros((2, 4)), jnp.array([0, 1])).shape == (2,)


def test_k3_keeps_relative_accuracy_near_zero_in_float32():
    # k3 = exp(y) - y - 1 ~ y^2/2 for small y. expm1(y) - y has absolute error ~eps |y|, so a
    # relative error ~2 eps/|y|; the naive exp(y) - y - 1 has absolute error ~eps, relative
    # ~2 eps/y^2. Reference: float64 evaluation at the float32-rounded inputs.
    lp32 = jnp.asarray(np.geomspace(1e-3, 1.0, 13), jnp.float32)
    x = np.asarray(lp32, np.float64)
    ref = np.expm1(-x) + x
    out = kl_estimate(lp32, jnp.zeros_like(lp32), kind="k3")
    assert out.dtype == jnp.float32
    eps = float(np.finfo(np.float32).eps)
    rel = np.abs(np.asarray(out, np.float64) - ref) / ref
    assert np.all(rel <= 4 * eps / x + 4 * eps)
    naive = np.asarray(jnp.exp(-lp32) + lp32 - 1.0, np.float64)
    assert np.abs(naive[0] - ref[0]) / ref[0] > 4 * eps / x[0] * 10  # the former formula, at x = 1e-3
