"""Interval-jet engine: sharp, sound enclosures of values and Jacobians over boxes."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

from certify._interval._matrix import interval_block_bounds
from certify.bounds import NotEnclosable, interval_jacobian, interval_value_and_jacobian


def spec_game(z):
    x, y = z[0], z[1]
    return jnp.stack([x + 0.5 * jnp.tanh(y) + 0.1 * x**3, y - 0.8 * jnp.sin(x)])


def test_analytic_2d_entries_are_exact():
    # J = [[1 + 0.3 x^2, 0.5 sech^2 y], [-0.8 cos x, 1]] on [-1, 1]^2 (spec section 2).
    jlo, jhi = jax.jit(lambda a, b: interval_jacobian(spec_game, a, b))(-jnp.ones(2), jnp.ones(2))
    exact_lo = np.array([[1.0, 0.5 / math.cosh(1.0) ** 2], [-0.8, 1.0]])
    exact_hi = np.array([[1.3, 0.5], [-0.8 * math.cos(1.0), 1.0]])
    jlo, jhi = np.asarray(jlo), np.asarray(jhi)
    assert np.all(jlo <= exact_lo)
    assert np.all(jhi >= exact_hi)
    np.testing.assert_allclose(jlo, exact_lo, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(jhi, exact_hi, rtol=1e-12, atol=1e-12)


@pytest.mark.slow
def test_analytic_2d_euclidean_margin():
    jlo, jhi = interval_jacobian(spec_game, -jnp.ones(2), jnp.ones(2))
    b = interval_block_bounds(np.asarray(jlo), np.asarray(jhi), (1, 1))
    # Dense 401^2 grid of lambda_min(sym J) from the analytic Jacobian.
    t = np.linspace(-1, 1, 401)
    x, y = np.meshgrid(t, t, indexing="ij")
    a, d = 1 + 0.3 * x**2, np.ones_like(x)
    off = 0.5 * (0.5 / np.cosh(y) ** 2 - 0.8 * np.cos(x))
    lam = 0.5 * (a + d) - np.sqrt((0.5 * (a - d)) ** 2 + off**2)
    assert b.euclidean_margin <= lam.min()
    assert lam.min() - b.euclidean_margin < 1e-3
    assert abs(lam.min() - 0.7050) < 5e-4  # the spec's reference value


# (function, boxes) for elementary primitives; boxes cross kinks, peaks and domain edges.
GENERIC = [(-1.0, 1.0), (0.3, 2.5), (-4.0, -0.5), (2.0, 9.0), (-0.2, 0.1)]
POSITIVE = [(0.0, 2.0), (0.1, 0.5), (1.0, 30.0), (1e-3, 1e-2)]
UNIT = [(-1.0, 1.0), (-0.3, 0.9), (0.2, 0.99), (-0.999, -0.5)]
UNARY = [
    ("sin", jnp.sin, GENERIC),
    ("cos", jnp.cos, GENERIC),
    ("tan", jnp.tan, [(-1.2, 1.2), (0.1, 1.5), (2.0, 4.5)]),
    ("tanh", jnp.tanh, GENERIC),
    ("sigmoid", jax.nn.sigmoid, GENERIC),
    ("exp", jnp.exp, GENERIC),
    ("expm1", jnp.expm1, GENERIC),
    ("exp2", jnp.exp2, GENERIC),
    ("log", jnp.log, POSITIVE),
    ("log1p", jnp.log1p, [(-0.9, 1.0), (0.0, 5.0), (-0.5, -0.1)]),
    ("sqrt", jnp.sqrt, POSITIVE),
    ("rsqrt", lax.rsqrt, [(0.1, 0.5), (1.0, 30.0)]),
    ("cbrt", jnp.cbrt, GENERIC),
    ("sinh", jnp.sinh, GENERIC),
    ("cosh", jnp.cosh, GENERIC),
    ("atan", jnp.arctan, GENERIC),
    ("asinh", jnp.arcsinh, GENERIC),
    ("asin", jnp.arcsin, UNIT),
    ("acos", jnp.arccos, UNIT),
    ("atanh", jnp.arctanh, UNIT),
    ("acosh", jnp.arccosh, [(1.0, 3.0), (1.5, 10.0)]),
    ("erf", jax.scipy.special.erf, GENERIC),
    ("erfc", jax.scipy.special.erfc, GENERIC),
    ("square", jnp.square, GENERIC),
    ("cube", lambda x: x**3, GENERIC),
    ("inverse_square", lambda x: x**-2, [(0.5, 2.0), (-3.0, -0.2)]),
    ("pow_half", lambda x: x**0.5, POSITIVE),
    ("pow_2.5", lambda x: jnp.power(x, 2.5), POSITIVE),
    ("pow_-1.5", lambda x: jnp.power(x, -1.5), [(0.5, 2.0), (1.0, 30.0)]),
    ("reciprocal", lambda x: 1.0 / x, [(0.5, 2.0), (-3.0, -0.2)]),
    ("abs", jnp.abs, GENERIC),
    ("relu", jax.nn.relu, GENERIC),
    ("softplus", jax.nn.softplus, GENERIC),
    ("clip", lambda x: jnp.clip(x, -0.5, 0.7), GENERIC),
    ("silu", jax.nn.silu, GENERIC),
    ("x_sin_x", lambda x: x * jnp.sin(x), GENERIC),
]


def _dense(f, lo, hi, n=4001, *, interior=False):
    xs = np.linspace(lo, hi, n)
    if interior:  # JAX's derivative at a kink on the box edge is a convention (e.g. 0.5)
        xs = xs[1:-1]
    g = jax.vmap(jax.grad(f))(jnp.asarray(xs))
    return np.asarray(jax.vmap(f)(jnp.asarray(xs))), np.asarray(g)


@pytest.mark.parametrize(("name", "f", "boxes"), UNARY, ids=[u[0] for u in UNARY])
def test_unary_enclosures_contain_dense_samples_and_are_sharp(name, f, boxes):
    lo = jnp.array([b[0] for b in boxes])
    hi = jnp.array([b[1] for b in boxes])
    flo, fhi, jlo, jhi = jax.jit(jax.vmap(lambda a, b: interval_value_and_jacobian(
        lambda z: f(z), a[None], b[None])))(lo, hi)  # fmt: skip
    single_use = name not in ("x_sin_x", "silu", "softplus")
    for k, (a, b) in enumerate(boxes):
        vals, ders = _dense(f, a, b, interior=name in ("abs", "relu", "clip"))
        ok = np.isfinite(vals) & np.isfinite(ders)
        vals, ders = vals[ok], ders[ok]
        v_lo, v_hi = float(flo[k, 0]), float(fhi[k, 0])
        d_lo, d_hi = float(jlo[k, 0, 0]), float(jhi[k, 0, 0])
        assert v_lo <= vals.min(), (name, a, b)
        assert v_hi >= vals.max(), (name, a, b)
        assert d_lo <= ders.min(), (name, a, b)
        assert d_hi >= ders.max(), (name, a, b)
        if single_use and name not in ("abs", "relu", "clip"):
            # Sharp ranges: no more than the sampling gap (derivatives may be unbounded at
            # domain edges, where the dense grid cannot follow).
            tol_v = 1e-5 * (1 + np.abs(vals).max())
            if not ok.all():
                continue  # an endpoint is on the domain edge (log 0 = -inf): nothing to compare
            assert v_lo >= vals.min() - tol_v, (name, a, b)
            assert v_hi <= vals.max() + tol_v, (name, a, b)
            if np.isfinite(d_lo) and np.isfinite(d_hi):
                tol_d = 1e-4 * (1 + np.abs(ders).max())
                assert d_lo >= ders.min() - tol_d, (name, a, b)
                assert d_hi <= ders.max() + tol_d, (name, a, b)


@pytest.mark.slow
def test_sigmoid_derivative_far_in_the_tail():
    # s'(x) = e^-x / (1 + e^-x)^2; the naive s (1 - s) cancels to 0 for x > 37, JAX's grad too.
    jlo, jhi = interval_jacobian(jax.nn.sigmoid, jnp.array([20.0]), jnp.array([40.0]))
    exact = [math.exp(-x) / (1 + math.exp(-x)) ** 2 for x in (40.0, 20.0)]
    assert 0 < float(jlo[0, 0]) <= exact[0]
    assert float(jhi[0, 0]) >= exact[1]
    np.testing.assert_allclose([jlo[0, 0], jhi[0, 0]], exact, rtol=1e-9)


def test_kinks_use_the_clarke_hull():
    # |x|, relu and clip on boxes that straddle a kink: derivative range = hull of the sides.
    for f, box, expect in (
        (jnp.abs, (-1.0, 2.0), (-1.0, 1.0)),
        (jnp.abs, (0.0, 2.0), (1.0, 1.0)),  # |x| = x on the whole box
        (jax.nn.relu, (-1.0, 2.0), (0.0, 1.0)),
        (lambda x: jnp.clip(x, -0.5, 0.7), (0.0, 2.0), (0.0, 1.0)),
        (lambda x: jnp.maximum(x, 2 * x), (-1.0, 1.0), (1.0, 2.0)),
        (lambda x: jnp.minimum(x, 2 * x), (0.6, 1.0), (1.0, 1.0)),
    ):
        jlo, jhi = interval_jacobian(lambda z, f=f: f(z), jnp.array([box[0]]), jnp.array([box[1]]))
        np.testing.assert_allclose([jlo[0, 0], jhi[0, 0]], expect, rtol=1e-14, atol=1e-300)


TRANSCENDENTAL = [
    (jnp.sin, math.sin, math.cos),
    (jnp.cos, math.cos, lambda x: -math.sin(x)),
    (jnp.tanh, math.tanh, lambda x: 1 / math.cosh(x) ** 2 if abs(x) < 300 else 0.0),
    (jnp.exp, math.exp, math.exp),
    (jnp.expm1, math.expm1, math.exp),
    (jnp.sinh, math.sinh, math.cosh),
    (jnp.cosh, math.cosh, math.sinh),
    (jnp.arctan, math.atan, lambda x: 1 / (1 + x * x)),
    (jnp.log1p, lambda x: math.log1p(abs(x)), lambda x: 1 / (1 + abs(x))),
    (jnp.log, lambda x: math.log(abs(x)), lambda x: 1 / abs(x)),
]


@pytest.mark.parametrize(("jf", "mf", "mdf"), TRANSCENDENTAL)
def test_point_boxes_contain_libm_values(jf, mf, mdf):
    # XLA's float64 functions differ from libm by up to ~500 ulps (sinh/cosh at |x| > 600,
    # log1p ~126 ulps); the engine's outward rounding must cover that.
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(-20, 20, 300), rng.normal(size=300), [-650.0, 620.0, 1e-9]])
    if mf in (TRANSCENDENTAL[8][1], TRANSCENDENTAL[9][1]):
        x = np.abs(x) + 1e-3
    if jf in (jnp.exp, jnp.expm1):
        x = x[np.abs(x) < 700]
    xs = jnp.asarray(x)
    flo, fhi, jlo, jhi = jax.jit(jax.vmap(lambda a: interval_value_and_jacobian(
        lambda z: jf(z), a[None], a[None])))(xs)  # fmt: skip
    for k, v in enumerate(x):
        assert float(flo[k, 0]) <= mf(v) <= float(fhi[k, 0]), v
        assert float(jlo[k, 0, 0]) <= mdf(v) <= float(jhi[k, 0, 0]), v


@pytest.mark.slow
def test_repeated_variables_avoid_dependency_where_the_jaxpr_shows_it():
    def f(z):
        x = z[0]  # one variable used twice: the jaxpr shows `mul x x`, not two slices
        return jnp.stack([x * x, x - x, x / x])

    flo, fhi, jlo, jhi = interval_value_and_jacobian(f, jnp.array([0.5]), jnp.array([2.0]))
    np.testing.assert_allclose(flo, [0.25, 0.0, 1.0], rtol=1e-14)
    np.testing.assert_allclose(fhi, [4.0, 0.0, 1.0], rtol=1e-14)
    np.testing.assert_allclose(jlo[:, 0], [1.0, 0.0, 0.0], rtol=1e-14)
    np.testing.assert_allclose(jhi[:, 0], [4.0, 0.0, 0.0], rtol=1e-14)
    # On [-1, 2], x / x is 0 / 0 = NaN at x = 0: that entry must come out NaN, not 1.
    flo, fhi, jlo, jhi = interval_value_and_jacobian(f, jnp.array([-1.0]), jnp.array([2.0]))
    np.testing.assert_allclose(flo[:2], [0.0, 0.0], atol=1e-300)
    np.testing.assert_allclose(fhi[:2], [4.0, 0.0], rtol=1e-14)
    assert np.isnan(flo[2])
    assert np.isnan(fhi[2])
    assert np.isnan(jlo[2, 0])


def _mixed(z):
    a = jnp.arange(12.0).reshape(3, 4) / 10.0 - 0.5
    h = jnp.tanh(a @ jnp.concatenate([z, z[:1] ** 2]))
    m = jnp.reshape(jnp.outer(h, z[:2]), (-1,))
    s = jnp.cumsum(m)[::2] + jnp.sum(m * m) + jax.nn.logsumexp(z)
    g = z[jnp.array([2, 0, 1])]
    p = jnp.pad(z, (1, 0), constant_values=0.5)[:3]
    u = z.at[1].set(jnp.sin(z[0]) * z[2]) + lax.dynamic_slice(jnp.concatenate([z, z]), (2,), (3,))
    w = jnp.where(jnp.arange(3) > 0, z**2, jnp.cos(z))
    c = lax.cond(True, lambda v: v / (2.0 + v**2), lambda v: v, z)
    mx = jnp.max(jnp.stack([z, 0.5 * z + 0.3]), axis=0) + jnp.min(z)
    return s + g * p + u + w + c + mx + jnp.exp(z[1]) ** z[0]


@pytest.mark.slow
def test_mixed_program_enclosure_contains_sampled_jacobians():
    rng = np.random.default_rng(1)
    centres = rng.uniform(-1, 1, (40, 3))
    halves = rng.uniform(0.01, 0.6, (40, 3))
    lo, hi = jnp.asarray(centres - halves), jnp.asarray(centres + halves)
    flo, fhi, jlo, jhi = jax.jit(jax.vmap(lambda a, b: interval_value_and_jacobian(_mixed, a, b)))(lo, hi)
    jac = jax.jit(jax.vmap(jax.jacfwd(_mixed)))
    val = jax.jit(jax.vmap(_mixed))
    for k in range(40):
        pts = centres[k] + halves[k] * rng.uniform(-1, 1, (300, 3))
        pts = np.concatenate([pts, centres[k] + halves[k] * np.array([[-1, -1, -1], [1, 1, 1]])])
        j, v = np.asarray(jac(jnp.asarray(pts))), np.asarray(val(jnp.asarray(pts)))
        assert np.all(np.asarray(jlo[k]) <= j)
        assert np.all(j <= np.asarray(jhi[k]))
        assert np.all(np.asarray(flo[k]) <= v)
        assert np.all(v <= np.asarray(fhi[k]))
        assert np.all(np.isfinite(np.asarray(jlo[k])))  # every branch above is decided


def _mlp(z):
    w1 = jnp.array([[0.7, -1.2, 0.4], [0.3, 0.8, -0.9], [-1.1, 0.2, 0.5], [0.6, 0.6, 0.6]])
    w2 = jnp.array([[0.5, -0.4, 0.9, 0.1], [-0.3, 0.7, 0.2, -0.8], [0.4, 0.4, -0.6, 0.3]])
    h = jax.nn.sigmoid(w1 @ z + jnp.array([0.1, -0.2, 0.3, 0.0]))
    return w2 @ jnp.tanh(h * jnp.sin(z.sum()) + jnp.log1p(z**2).sum()) + z / (1.5 + jnp.cos(z))


@pytest.mark.slow
def test_fuzz_enclosures_contain_sampled_values():
    rng = np.random.default_rng(2)
    n_boxes, n_pts = 100, 200
    centres = rng.uniform(-2, 2, (n_boxes, 3))
    halves = rng.uniform(0.001, 1.0, (n_boxes, 3)) * rng.uniform(0, 1, (n_boxes, 1))
    jlo, jhi = jax.jit(jax.vmap(lambda a, b: interval_jacobian(_mlp, a, b)))(
        jnp.asarray(centres - halves), jnp.asarray(centres + halves)
    )
    pts = centres[:, None] + halves[:, None] * rng.uniform(-1, 1, (n_boxes, n_pts, 3))
    j = np.asarray(jax.jit(jax.vmap(jax.vmap(jax.jacfwd(_mlp))))(jnp.asarray(pts)))
    assert np.all(np.asarray(jlo)[:, None] <= j)
    assert np.all(j <= np.asarray(jhi)[:, None])


@pytest.mark.slow
def test_constant_jacobian_is_enclosed_to_rounding():
    a = np.array([[2.0, -0.3, 0.1], [0.7, 1.5, -1.0 / 3.0], [0.0, 0.25, 3.0]])
    jlo, jhi = interval_jacobian(lambda z: jnp.asarray(a) @ z + 1.0, -jnp.ones(3), 5 * jnp.ones(3))
    jlo, jhi = np.asarray(jlo), np.asarray(jhi)
    assert np.all(jlo <= a)
    assert np.all(a <= jhi)
    assert np.all(jhi - jlo <= 32 * np.finfo(float).eps * np.abs(a) + 1e-300)


def test_box_dependent_branch_policies():
    f = lambda z: jnp.where(z[0] > 0, z[0] ** 2, 0.0)[None]  # noqa: E731
    one = jnp.array([1.0])
    # Decided on [0.5, 1]: the x^2 branch, derivative [1, 2].
    jlo, jhi = interval_jacobian(f, 0.5 * one, one)
    np.testing.assert_allclose([jlo[0, 0], jhi[0, 0]], [1.0, 2.0], rtol=1e-14)
    # Undecided on [-1, 1], but both branches are 0 where the predicate switches (0^2 = 0):
    # continuous, so the hull of both branches' derivatives [-2, 2] U {0}.
    jlo, jhi = interval_jacobian(f, -one, one)
    np.testing.assert_allclose([jlo[0, 0], jhi[0, 0]], [-2.0, 2.0], rtol=1e-14)
    # With a jump (x^2 vs 1 at x = 0) no derivative bound exists ...
    g = lambda z: jnp.where(z[0] > 0, z[0] ** 2, 1.0)[None]  # noqa: E731
    jlo, jhi = interval_jacobian(g, -one, one)
    assert jlo[0, 0] == -np.inf
    assert jhi[0, 0] == np.inf
    # ... unless the caller asserts continuity (unsound here: the hull of the branches).
    jlo, jhi = interval_jacobian(g, -one, one, assume_continuous=True)
    np.testing.assert_allclose([jlo[0, 0], jhi[0, 0]], [-2.0, 2.0], rtol=1e-14)
    # A jump (discontinuous where) is never given a finite derivative by default.
    step = lambda z: jnp.where(z[0] > 0, 1.0, 0.0)[None] + (z[0] > 0.5).astype(float)  # noqa: E731
    jlo, jhi = interval_jacobian(step, -one, one)
    assert jlo[0, 0] == -np.inf
    assert jhi[0, 0] == np.inf
    jlo, jhi = interval_jacobian(lambda z: jnp.floor(z), 0.1 * one, 0.9 * one)
    assert jlo[0, 0] == 0.0
    assert jhi[0, 0] == 0.0
    jlo, jhi = interval_jacobian(lambda z: jnp.floor(z), 0.1 * one, 1.9 * one)
    assert jhi[0, 0] == np.inf


def test_cond_with_box_dependent_predicate():
    def f(z):
        return lax.cond(z[0] > 0, lambda v: 3.0 * v, lambda v: -v, z)

    jlo, jhi = interval_jacobian(f, jnp.array([0.5]), jnp.array([1.0]))
    np.testing.assert_allclose([jlo[0, 0], jhi[0, 0]], [3.0, 3.0], rtol=1e-14)
    jlo, jhi = interval_jacobian(f, jnp.array([-0.5]), jnp.array([1.0]), assume_continuous=True)
    np.testing.assert_allclose([jlo[0, 0], jhi[0, 0]], [-1.0, 3.0], rtol=1e-14)


@pytest.mark.slow
def test_vmap_matches_single_boxes():
    rng = np.random.default_rng(3)
    lo = rng.uniform(-1, 0, (5, 2))
    hi = lo + rng.uniform(0, 1, (5, 2))
    vlo, vhi = jax.vmap(lambda a, b: interval_jacobian(spec_game, a, b))(lo, hi)
    for k in range(5):
        slo, shi = interval_jacobian(spec_game, jnp.asarray(lo[k]), jnp.asarray(hi[k]))
        np.testing.assert_array_equal(vlo[k], slo)
        np.testing.assert_array_equal(vhi[k], shi)


@pytest.mark.parametrize(
    ("f", "name"),
    [
        (lambda z: jnp.argsort(z).astype(z.dtype) * z, "sort"),
        (lambda z: lax.while_loop(lambda v: v[0] < 1.0, lambda v: v * 2.0, z), "while"),
        (lambda z: z[jnp.argmax(z)] * z, "argmax"),
        (lambda z: lax.dynamic_slice(z, (jnp.argmin(z),), (1,)), "argmin"),
        (lambda z: jnp.linalg.solve(jnp.eye(2) + jnp.outer(z, z), z), "lu"),
        (lambda z: jnp.cumprod(z), "cumprod"),
        (lambda z: jax.scipy.special.gammaln(z + 3.0), "lgamma"),
    ],
)
def test_unsupported_primitives_are_refused(f, name):
    with pytest.raises(NotEnclosable, match=f"primitive '({name})'") as err:
        interval_jacobian(f, jnp.array([0.1, 0.2]), jnp.array([0.3, 0.4]))
    assert isinstance(err.value, NotImplementedError)  # callers that caught NotImplementedError still do
    assert err.value.kind == "unsupported"


def test_input_errors():
    with pytest.raises(ValueError, match="expected lo and hi of the same shape"):
        interval_jacobian(jnp.sin, jnp.zeros((2, 2)), jnp.ones((2, 2)))
    with pytest.raises(ValueError, match="expected lo and hi of the same shape"):
        interval_jacobian(jnp.sin, jnp.zeros(2), jnp.ones(3))
    with pytest.raises(TypeError, match="expected lo and hi of one floating dtype"):
        interval_jacobian(jnp.sin, jnp.zeros(2, int), jnp.ones(2, int))
    with pytest.raises(ValueError, match="expected F to return one array"):
        interval_jacobian(lambda z: (z, z), jnp.zeros(2), jnp.ones(2))
    with pytest.raises(ValueError, match="expected F to return a float array"):
        interval_jacobian(lambda z: z > 0, jnp.zeros(2), jnp.ones(2))
