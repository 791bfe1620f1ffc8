"""Entropy and log-probs at -inf logits and large offsets, float32 and bfloat16, values and gradients.

The reference is float64 NumPy on the logits as the function receives them (already rounded to
float32 / bfloat16), written from the definitions: p = softmax(u), H = -sum p log p,
dH/du = -p (log p + H), d log p_a / du = onehot(a) - p.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from policy import entropy_from_logits, log_probs_from_logits
from policy.tokens import token_logp_entropy_chunked

TEMP = 0.7


def _reference(u, a):
    u = np.asarray(u, np.float64)
    top = np.max(u, axis=-1, keepdims=True)
    e = np.exp(u - top)  # exp(-inf) = 0
    p = e / e.sum(-1, keepdims=True)
    with np.errstate(divide="ignore"):
        logp = np.log(p)
    plogp = np.where(p > 0, p * np.where(p > 0, logp, 0.0), 0.0)
    h = -plogp.sum(-1)
    dh = -np.where(p > 0, p * (np.where(p > 0, logp, 0.0) + h[..., None]), 0.0)
    rows = np.arange(u.shape[0])
    dlp = -p
    dlp[rows, a] += 1.0
    return h, dh, logp[rows, a], dlp


def _ours(z, a, kernel):
    if kernel:
        def f(x):
            return token_logp_entropy_chunked(x, a, temperature=TEMP, chunk_size=3)
    else:
        def f(x):
            return (log_probs_from_logits(x, a, temperature=TEMP), entropy_from_logits(x, temperature=TEMP))
    lp, h = f(z)
    dh = jax.grad(lambda x: f(x)[1].astype(jnp.float32).sum())(z)
    dlp = jax.grad(lambda x: f(x)[0].astype(jnp.float32).sum())(z)
    return [np.asarray(jnp.asarray(x, jnp.float32), np.float64) for x in (h, dh, lp, dlp)]


def _grad_tol(g_ref, dtype):
    # the gradient comes back in the logits' dtype: allow its rounding (half an ulp) plus 2e-6
    ulp = 2.0 ** -8 if dtype == jnp.bfloat16 else 2.0 ** -23
    return 2e-6 + ulp * np.abs(g_ref)


@pytest.mark.parametrize("kernel", [False, True])
@pytest.mark.parametrize("dtype", [jnp.float32, jnp.bfloat16])
@pytest.mark.parametrize("offset", [0.0, pytest.param(1e3, marks=pytest.mark.slow), 3e4])
def test_shift_invariance_value_and_gradient(kernel, dtype, offset):
    # issue 23: float32 entropy error was 8e-5 / 0.03 / 4.9 / 29 nats at offsets 30 / 1e3 / 1e4 / 3e4
    rng = np.random.default_rng(1)
    z = jnp.asarray(rng.normal(0.0, 3.0, (4, 1000)) + offset, dtype)
    a = jnp.asarray(rng.integers(0, 1000, 4))
    h, dh, lp, dlp = _ours(z, a, kernel)
    rh, rdh, rlp, rdlp = _reference(np.asarray(z.astype(jnp.float32), np.float64) / TEMP, np.asarray(a))
    assert np.max(np.abs(h - rh)) < 1e-5
    assert np.max(np.abs(lp - rlp)) < 2e-6 * (1.0 + np.abs(rlp)).max()
    assert np.all(np.abs(dh - rdh / TEMP) <= _grad_tol(rdh / TEMP, dtype))
    assert np.all(np.abs(dlp - rdlp / TEMP) <= _grad_tol(rdlp / TEMP, dtype))


@pytest.mark.parametrize("kernel", [False, True])
@pytest.mark.parametrize("dtype", [jnp.float32, jnp.bfloat16])
def test_minus_inf_logits_are_exact(kernel, dtype):
    # issue 23's case: H([0, -inf, 1]) = 0.582203 (two-point softmax of 0, 1), NaN before
    z = np.array([[0.0, -np.inf, 1.0], [2.0, -np.inf, -np.inf], [-np.inf, 0.5, -1.0],
                  [1.0, 1.0, 1.0]])
    a = np.array([0, 0, 0, 2])  # row 3 samples a -inf token: log p = -inf, finite gradient
    h, dh, lp, dlp = _ours(jnp.asarray(z, dtype), jnp.asarray(a), kernel)
    rh, rdh, rlp, rdlp = _reference(np.asarray(jnp.asarray(z, dtype).astype(jnp.float32), np.float64) / TEMP, a)
    assert abs(_reference(np.array([[0.0, -np.inf, 1.0]]), np.array([0]))[0][0] - 0.582203) < 1e-6
    assert np.all(np.isfinite(h))
    assert np.all(np.isfinite(dh))
    assert np.all(np.isfinite(dlp))
    assert np.max(np.abs(h - rh)) < 1e-6
    assert h[1] == 0.0  # one finite logit: a point mass
    assert lp[2] == -np.inf
    assert np.all(np.isfinite(lp[[0, 1, 3]]))
    assert np.max(np.abs(lp[[0, 1, 3]] - rlp[[0, 1, 3]])) < 1e-6
    assert np.all(dh[z == -np.inf] == 0.0)
    assert np.all(np.abs(dh - rdh / TEMP) <= _grad_tol(rdh / TEMP, dtype))
    assert np.all(np.abs(dlp - rdlp / TEMP) <= _grad_tol(rdlp / TEMP, dtype))


def test_kernel_logp_only_loss_has_finite_gradient_with_masked_vocab():
    # issue 23: a loss that uses only the log-probs got NaN gradients everywhere (0 * NaN)
    z = jnp.array([[0.0, -jnp.inf, 1.0, 2.0]] * 4)
    a = jnp.array([0, 2, 3, 0])
    g = jax.grad(lambda x: token_logp_entropy_chunked(x, a, chunk_size=2)[0].sum())(z)
    p = np.exp([0.0, 1.0, 2.0]) / np.exp([0.0, 1.0, 2.0]).sum()
    want = -np.insert(p, 1, 0.0)[None].repeat(4, 0)
    want[np.arange(4), np.asarray(a)] += 1.0
    np.testing.assert_allclose(np.asarray(g), want, atol=2e-7)
