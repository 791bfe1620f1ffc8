"""Chunked log-probs/entropy: values and gradients vs the plain jnp version, edge cases, memory."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

from policy import entropy_from_logits, log_probs_from_logits
from policy.tokens import token_logp_entropy_chunked

RNG = np.random.default_rng(11)


def plain(z, t, temp):
    return log_probs_from_logits(z, t, temperature=temp), entropy_from_logits(z, temperature=temp)


_SHAPES = [((3, 37, 11), 16), ((2, 8, 5), 4), ((5, 3), 2)]
_TEMPS = [1.0, 0.5, 2.0]


# Each combination compiles its own kernels: three run by default (every shape, every temperature), all nine in slow.
@pytest.mark.parametrize(("temp", "shape", "chunk"), [
    pytest.param(t, s, c, marks=() if k == j else pytest.mark.slow)
    for j, t in enumerate(_TEMPS) for k, (s, c) in enumerate(_SHAPES)
])
@pytest.mark.slow
def test_values_and_grads_match_plain(shape, chunk, temp):
    z = jnp.array(RNG.normal(size=shape) * 3)
    t = jnp.array(RNG.integers(0, shape[-1], shape[:-1]))
    w1 = jnp.array(RNG.normal(size=shape[:-1]))
    w2 = jnp.array(RNG.normal(size=shape[:-1]))
    lp, h = token_logp_entropy_chunked(z, t, temperature=temp, chunk_size=chunk)
    lp0, h0 = plain(z, t, temp)
    np.testing.assert_allclose(lp, lp0, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(h, h0, rtol=1e-12, atol=1e-12)

    def f(fn):
        return lambda x: jnp.sum(fn(x)[0] * w1) + jnp.sum(fn(x)[1] * w2)

    g = jax.grad(f(lambda x: token_logp_entropy_chunked(x, t, temperature=temp,
                                                        chunk_size=chunk)))(z)
    g0 = jax.grad(f(lambda x: plain(x, t, temp)))(z)
    np.testing.assert_allclose(g, g0, rtol=1e-10, atol=1e-12)


@pytest.mark.slow
def test_check_grads():
    z = jnp.array(RNG.normal(size=(6, 5)))
    t = jnp.array(RNG.integers(0, 5, 6))
    check_grads(lambda x: token_logp_entropy_chunked(x, t, temperature=0.7, chunk_size=4), (z,),
                order=1, modes=["rev"])


@pytest.mark.slow
def test_peaked_vocab_one_and_bf16():
    z = jnp.array([[1000.0, 0.0, 0.0], [0.0, -1000.0, 0.0]])
    lp, h = token_logp_entropy_chunked(z, jnp.array([0, 1]), chunk_size=1)
    assert float(lp[0]) == 0.0
    assert float(h[0]) == 0.0
    assert float(lp[1]) == pytest.approx(-1000.0 - np.log(2))
    assert float(h[1]) == pytest.approx(np.log(2))
    g = jax.grad(lambda x: token_logp_entropy_chunked(x, jnp.array([0, 1]))[1].sum())(z)
    assert np.all(np.isfinite(np.asarray(g)))
    lp1, h1 = token_logp_entropy_chunked(jnp.array([[2.0], [-3.0]]), jnp.array([0, 0]))
    assert lp1.tolist() == [0.0, 0.0]
    assert h1.tolist() == [0.0, 0.0]
    zb = jnp.array(RNG.normal(size=(4, 9)), jnp.bfloat16)
    tb = jnp.array(RNG.integers(0, 9, 4))
    lpb, hb = token_logp_entropy_chunked(zb, tb, chunk_size=3)
    lpf, hf = plain(zb.astype(jnp.float32), tb, 1.0)
    np.testing.assert_allclose(lpb, lpf, rtol=1e-5)
    np.testing.assert_allclose(hb, hf, rtol=1e-5)
    gb = jax.grad(lambda x: token_logp_entropy_chunked(x, tb, chunk_size=3)[0].sum())(zb)
    assert gb.dtype == jnp.bfloat16


def _memory(shape, chunk, dtype):
    zs = jax.ShapeDtypeStruct(shape, dtype)
    ts = jax.ShapeDtypeStruct(shape[:-1], jnp.int32)

    def loss(z, t):
        lp, h = token_logp_entropy_chunked(z, t, chunk_size=chunk)
        return -jnp.mean(lp) - 0.01 * jnp.mean(h)

    ma = jax.jit(jax.value_and_grad(loss), donate_argnums=0).lower(zs, ts).compile().memory_analysis()
    peak = ma.argument_size_in_bytes + ma.output_size_in_bytes + ma.temp_size_in_bytes - ma.alias_size_in_bytes
    return ma, peak


def test_memory_is_one_chunk_beyond_donated_logits():
    shape, chunk = (4, 64, 2048), 32
    logits_b = np.prod(shape) * 4
    chunk_b = chunk * shape[-1] * 4
    ma, peak = _memory(shape, chunk, jnp.float32)
    assert ma.alias_size_in_bytes >= logits_b  # the gradient reuses the logits buffer
    assert ma.temp_size_in_bytes <= 2 * chunk_b + 2**16
    assert peak <= 1.5 * logits_b

    def loss_plain(z, t):
        lp, h = plain(z, t, 1.0)
        return -jnp.mean(lp) - 0.01 * jnp.mean(h)

    zs, ts = jax.ShapeDtypeStruct(shape, jnp.float32), jax.ShapeDtypeStruct(shape[:-1], jnp.int32)
    mp = jax.jit(jax.value_and_grad(loss_plain), donate_argnums=0).lower(zs, ts).compile()
    assert mp.memory_analysis().temp_size_in_bytes >= logits_b


def test_bf16_memory_is_one_panel_and_one_chunk_beyond_donated_logits():
    # 256 rows in chunks of 32: 8 chunks, so 4 panels of 64 rows (two chunks each). Live beyond the
    # donated logits: one panel's bit patterns (a quarter of the logits) and one float32 chunk.
    shape, chunk = (4, 64, 2048), 32
    logits_b = np.prod(shape) * 2
    chunk_b = chunk * shape[-1] * 4
    ma, peak = _memory(shape, chunk, jnp.bfloat16)
    assert ma.alias_size_in_bytes >= logits_b
    assert peak <= 1.25 * logits_b + chunk_b + 2**16


@pytest.mark.slow
def test_bf16_peak_within_one_and_a_half_logits_with_the_default_chunk():
    # Default chunk: 256 rows / 16 = 16 rows (16 chunks), 8 panels of 32 rows: one eighth of the
    # logits in bit patterns plus a float32 chunk of 16 x 2048 x 4 bytes, also an eighth: 1.25x.
    shape = (4, 64, 2048)
    _, peak = _memory(shape, None, jnp.bfloat16)
    assert peak <= 1.5 * np.prod(shape) * 2


@pytest.mark.parametrize(("shape", "chunk"), [
    pytest.param((3, 5, 7, 6), 2, marks=pytest.mark.slow),  # 105 rows in 9 panels, boxes of the second axis
    ((2, 58, 5), 16),  # 2 panels of 58 rows: 3 chunks of 16 and a remainder of 10
    pytest.param((1, 40, 5), 3, marks=pytest.mark.slow),  # a leading axis of size 1
    ((9, 4), 2),
])
@pytest.mark.slow
def test_bf16_panels_give_the_float32_numbers(shape, chunk):
    # bfloat16 logits are computed in float32: the same numbers as float32 logits holding the same
    # values, gradients rounded once to bfloat16 (at most one bfloat16 ulp apart, 2^-8 relative).
    zb = jnp.array(RNG.normal(size=shape) * 3, jnp.bfloat16)
    t = jnp.array(RNG.integers(0, shape[-1], shape[:-1]))
    w = jnp.array(RNG.normal(size=shape[:-1]), jnp.float32)

    def loss(fn, z):
        lp, h = fn(z)
        return jnp.sum(lp * w) + 0.3 * jnp.sum(h * w)

    def chunked(z):
        return token_logp_entropy_chunked(z, t, temperature=0.7, chunk_size=chunk)

    lp, h = chunked(zb)
    lp0, h0 = plain(zb.astype(jnp.float32), t, 0.7)
    # float32 rounding of two formulas: H = l - sum p u here, with |u| up to ~15, so a few ulps of 15
    np.testing.assert_allclose(lp, lp0, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(h, h0, rtol=1e-5, atol=1e-4)
    g = jax.grad(lambda z: loss(chunked, z))(zb)
    g0 = jax.grad(lambda z: loss(lambda x: plain(x, t, 0.7), z))(zb.astype(jnp.float32))
    assert g.dtype == jnp.bfloat16
    np.testing.assert_allclose(np.asarray(g, np.float32), g0, rtol=2**-8, atol=1e-6)


@pytest.mark.gpu
def test_bf16_peak_within_one_and_a_half_logits_on_an_accelerator():
    shape, chunk = (8, 512, 4096), 64
    _, peak = _memory(shape, chunk, jnp.bfloat16)
    assert peak <= 1.5 * np.prod(shape) * 2


def test_errors():
    with pytest.raises(ValueError, match=r"expected tokens of shape logits.shape\[:-1\]"):
        token_logp_entropy_chunked(jnp.zeros((2, 3)), jnp.zeros(3, int))
    with pytest.raises(ValueError, match="expected temperature > 0, got -0.5"):
        token_logp_entropy_chunked(jnp.zeros((2, 3)), jnp.zeros(2, int), temperature=-0.5)
    with pytest.raises(ValueError, match="expected chunk_size >= 1, got 0"):
        token_logp_entropy_chunked(jnp.zeros((2, 3)), jnp.zeros(2, int), chunk_size=0)
    with pytest.raises(ValueError, match=r"expected tokens in \[0, 3\)"):
        token_logp_entropy_chunked(jnp.zeros((2, 3)), jnp.array([0, 5]))
