"""Sharp enclosures of logsumexp, softmax, log-softmax, softplus: closed forms on boxes.

For two entries every quantity has a closed form: with ``s = sigma`` the logistic function,
``softmax(x)_0 = s(x_0 - x_1)``, ``log_softmax(x)_0 = x_0 - lse(x)``, ``d lse / d x_0 = s(x_0 - x_1)``
and ``softplus' = s``; each is monotone in each argument, so its range over a box is attained at
corners. The engine must contain these ranges and (where it is sharp) match them to rounding.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from certify._interval import interval_enclosure
from certify.bounds._sound import sound_block_bounds

LO, HI = np.array([-1.0, 0.5]), np.array([0.5, 2.0])
RTOL = 1e-9  # outward rounding of transcendental results: 2048 ulps (~5e-13) plus sums


def sig(t):
    return 1.0 / (1.0 + np.exp(-t))


def lse(a, b):
    return np.logaddexp(a, b)


def enc(f):
    return interval_enclosure(f, jnp.asarray(LO), jnp.asarray(HI))


@pytest.mark.slow
def test_logsumexp_value_and_gradient_are_sharp():
    e = enc(jax.nn.logsumexp)
    np.testing.assert_allclose([e.flo, e.fhi], [lse(LO[0], LO[1]), lse(HI[0], HI[1])], rtol=RTOL)
    # d/dx_0 = s(x_0 - x_1) in [s(lo_0 - hi_1), s(hi_0 - lo_1)]; d/dx_1 = 1 - that.
    d0 = [sig(LO[0] - HI[1]), sig(HI[0] - LO[1])]
    np.testing.assert_allclose([e.jlo[0], e.jhi[0]], d0, rtol=RTOL)
    np.testing.assert_allclose([e.jlo[1], e.jhi[1]], [1 - d0[1], 1 - d0[0]], rtol=RTOL)
    assert e.jlo[0] <= d0[0]
    assert e.jhi[0] >= d0[1]


@pytest.mark.parametrize("form", ["jax", "manual"])
@pytest.mark.slow
def test_softmax_and_log_softmax_values_are_sharp(form):
    if form == "jax":
        sm, lsm = jax.nn.softmax, jax.nn.log_softmax
    else:  # the same shapes written by hand, without a max shift
        sm = lambda x: jnp.exp(x) / jnp.sum(jnp.exp(x))  # noqa: E731
        lsm = lambda x: x - jnp.log(jnp.sum(jnp.exp(x)))  # noqa: E731
    e = enc(sm)
    p0 = [sig(LO[0] - HI[1]), sig(HI[0] - LO[1])]
    np.testing.assert_allclose([e.flo[0], e.fhi[0]], p0, rtol=RTOL)
    np.testing.assert_allclose([e.flo[1], e.fhi[1]], [1 - p0[1], 1 - p0[0]], rtol=RTOL)
    # d p_0 / d x_0 = p_0 (1 - p_0): contained (the enclosure multiplies two ranges).
    t = np.linspace(0, 1, 101)
    x = np.stack(np.meshgrid(LO[0] + (HI[0] - LO[0]) * t, LO[1] + (HI[1] - LO[1]) * t), -1).reshape(-1, 2)
    pp = sig(x[:, 0] - x[:, 1])
    assert e.jlo[0, 0] <= (pp * (1 - pp)).min()
    assert e.jhi[0, 0] >= (pp * (1 - pp)).max()
    assert e.jlo[0, 1] <= (-pp * (1 - pp)).min()
    e = enc(lsm)
    v0 = [LO[0] - lse(LO[0], HI[1]), HI[0] - lse(HI[0], LO[1])]
    np.testing.assert_allclose([e.flo[0], e.fhi[0]], v0, rtol=RTOL)
    # d/dx_0 (x_0 - lse) = 1 - p_0 in [1 - p0_hi, 1 - p0_lo]: sharp for an exact tangent.
    np.testing.assert_allclose([e.jlo[0, 0], e.jhi[0, 0]], [1 - p0[1], 1 - p0[0]], rtol=RTOL)


@pytest.mark.parametrize("form", ["jax", "log1p_exp"])
def test_softplus_derivative_is_the_logistic_range(form):
    f = jax.nn.softplus if form == "jax" else (lambda x: jnp.log1p(jnp.exp(x)))
    e = interval_enclosure(f, jnp.array([-3.0]), jnp.array([2.0]))
    np.testing.assert_allclose([e.flo[0], e.fhi[0]], [np.logaddexp(0, -3.0), np.logaddexp(0, 2.0)], rtol=RTOL)
    np.testing.assert_allclose([e.jlo[0, 0], e.jhi[0, 0]], [sig(-3.0), sig(2.0)], rtol=RTOL)


@pytest.mark.slow
def test_softmax_game_keeps_its_curvature():
    # F = x + 0.5 softmax(x) is the gradient of |x|^2 / 2 + 0.5 lse(x): J = I + 0.5 (diag p - p p^T),
    # so J_ii = 1 + 0.5 p_i (1 - p_i) >= 1 and |J_ij| = 0.5 p_i p_j <= 0.5 p_i_max p_j_max.
    F = lambda x: x + 0.5 * jax.nn.softmax(x)  # noqa: E731
    lo, hi = -2 * np.ones(2), 2 * np.ones(2)
    b = sound_block_bounds(F, lo, hi, (1, 1))
    assert np.all(b.mu >= 1.0 - 1e-12)
    pmax = sig(4.0)  # p_i <= s(hi_i - lo_j)
    assert b.coupling[0, 1] <= 0.5 * pmax * pmax * (1 + 1e-9)
    assert b.coupling[0, 1] >= 0.5 * sig(0.0) ** 2  # at x = 0: |J_01| = 0.5 / 4
