"""OBLR-PO's SNR learning-rate rule: against a numpy recurrence, inside optax.chain, errors."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from policy.tokens import scale_by_snr


def _numpy_snr_scales(grads, decay, eps):
    # Second implementation: Adam-style bias-corrected moving averages, pooled over all entries.
    m = np.zeros_like(grads[0])
    v = np.zeros_like(grads[0])
    out = []
    for k, g in enumerate(grads, start=1):
        m = decay * m + (1 - decay) * g
        v = decay * v + (1 - decay) * g * g
        mh, vh = m / (1 - decay**k), v / (1 - decay**k)
        snr = (mh**2).sum() / (np.maximum(vh - mh**2, 0).sum() + eps)
        out.append(snr / (1 + snr))
    return np.array(out)


def test_scale_matches_numpy_recurrence_on_a_pytree():
    rng = np.random.default_rng(0)
    grads = [rng.normal(loc=0.3, size=5) for _ in range(30)]
    t = scale_by_snr(decay=0.8, eps=1e-12)
    state = t.init({"a": jnp.zeros(2), "b": jnp.zeros(3)})
    scales = []
    for g in grads:
        upd, state = t.update({"a": jnp.asarray(g[:2]), "b": jnp.asarray(g[2:])}, state)
        scales.append(float(upd["a"][0] / g[0]))
    np.testing.assert_allclose(scales[1:], _numpy_snr_scales(grads, 0.8, 1e-12)[1:], rtol=1e-9)
    assert scales[0] == pytest.approx(1.0)  # one sample: no measurable noise yet


def test_chain_with_optax_sgd_scales_the_learning_rate():
    # With noisy gradients the effective step is lr * SNR / (1 + SNR) < lr.
    rng = np.random.default_rng(1)
    opt = optax.chain(scale_by_snr(decay=0.9), optax.sgd(0.1))
    params = jnp.zeros(4)
    state = opt.init(params)
    steps = []
    for _ in range(50):
        g = jnp.asarray(rng.normal(loc=0.1, size=4))
        upd, state = opt.update(g, state, params)
        steps.append(float(jnp.linalg.norm(upd) / jnp.linalg.norm(g)))
        params = optax.apply_updates(params, upd)
    snr = float(state[0].snr)
    assert steps[-1] == pytest.approx(0.1 * snr / (1 + snr), rel=1e-9)
    assert steps[-1] < 0.05
    jax.jit(opt.update)(g, state, params)  # jit-compatible


def test_errors():
    with pytest.raises(ValueError, match=r"expected decay in \[0, 1\), got 1.0"):
        scale_by_snr(decay=1.0)
    with pytest.raises(ValueError, match="expected eps > 0, got 0"):
        scale_by_snr(eps=0)
