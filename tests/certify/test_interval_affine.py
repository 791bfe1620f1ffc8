"""Affine-form enclosures (certify/_interval/_affine.py): hand-computed forms, every rule against samples.

An affine form over the box ``c + r * delta`` is ``v0 + sum_k g_k delta_k + [-e, e]``; its range is
``v0 -+ (sum_k |g_k| + e)``. For a linear map the form is exact (``e`` is rounding only); for a
product of two inputs the bilinear part goes into ``e``; for a smooth ``f`` the remainder is the
slope error over the range times the radius. These are checked against hand calculations, and every
rule against dense samples of the plain JAX function (it must lie inside the enclosure).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

from certify._interval import _affine, _ir
from certify._interval._affine import NotAffine, affine_range


def enclose(f, lo, hi):
    lo, hi = np.asarray(lo, np.float64), np.asarray(hi, np.float64)
    prog = _ir.program_of(jax.make_jaxpr(f)(jax.ShapeDtypeStruct(lo.shape, np.float64)))
    vlo, vhi = jax.jit(lambda a, b: affine_range(prog, a, b))(lo, hi)
    return np.asarray(vlo), np.asarray(vhi)


def samples(lo, hi, n=1500, seed=0):
    rng = np.random.default_rng(seed)
    lo, hi = np.asarray(lo, np.float64), np.asarray(hi, np.float64)
    inner = lo + (hi - lo) * rng.random((n, lo.size))
    corners = np.where(rng.random((64, lo.size)) < 0.5, lo, hi)
    return np.concatenate([inner, corners, [lo, hi]])


def assert_contains(f, lo, hi, vlo, vhi):
    vals = np.asarray(jax.vmap(f)(jnp.asarray(samples(lo, hi))))
    vals = vals.reshape(vals.shape[0], -1)
    tol = 1e-12 * (1.0 + np.abs(vals))  # F as JAX computes it vs the exact-real F the form encloses
    assert np.all(np.isfinite(vlo)), "expected a finite enclosure"
    assert np.all(np.isfinite(vhi)), "expected a finite enclosure"
    assert np.all(vals >= vlo - tol), "a sampled value lies outside the enclosure"
    assert np.all(vals <= vhi + tol), "a sampled value lies outside the enclosure"


def test_a_linear_map_is_enclosed_to_rounding():
    A = np.array([[1.0, -2.0, 0.5], [0.25, 3.0, -1.0]])
    b = np.array([0.1, -0.2])
    lo, hi = np.array([-1.0, 0.0, 2.0]), np.array([1.0, 0.5, 3.0])
    vlo, vhi = enclose(lambda x: A @ x + b, lo, hi)
    c, r = (lo + hi) / 2, (hi - lo) / 2
    # range of A x + b over the box: A c + b -+ |A| r (attained at corners)
    np.testing.assert_allclose(vlo, A @ c + b - np.abs(A) @ r, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(vhi, A @ c + b + np.abs(A) @ r, rtol=1e-12, atol=1e-12)


def test_a_product_keeps_its_bilinear_part_in_the_remainder():
    # x0 x1 on [1, 2] x [3, 4]: c = (1.5, 3.5), r = (0.5, 0.5); form 5.25 + 1.75 d0 + 0.75 d1 + [-0.25, 0.25]
    # (centre 1.5 * 3.5; coefficients 3.5 * 0.5 and 1.5 * 0.5; remainder 0.5 * 0.5): range [2.5, 8.0]
    vlo, vhi = enclose(lambda x: x[:1] * x[1:], [1.0, 3.0], [2.0, 4.0])
    np.testing.assert_allclose([vlo[0], vhi[0]], [2.5, 8.0], rtol=1e-12)


def test_a_smooth_function_is_linearised_at_the_centre_with_a_piecewise_slope_error_as_remainder():
    # tanh on [0, 0.2]: centre 0.1, radius 0.1, slope s = sech^2(0.1). The remainder bounds
    # |int_0.1^u (sech^2 t - s) dt| with four pieces of width 0.025 per side: sech^2 decreases for t > 0,
    # so on [0.1 + 0.025 (j - 1), 0.1 + 0.025 j] the worst |sech^2 t - s| is s - sech^2(0.1 + 0.025 j),
    # and on the left piece ending at 0.1 - 0.025 j it is sech^2(0.1 - 0.025 j) - s.
    vlo, vhi = enclose(jnp.tanh, [0.0], [0.2])
    sech2 = lambda t: 1.0 / np.cosh(t) ** 2  # noqa: E731
    s = sech2(0.1)
    right = sum(0.025 * (s - sech2(0.1 + 0.025 * j)) for j in range(1, 5))
    left = sum(0.025 * (sech2(0.1 - 0.025 * j) - s) for j in range(1, 5))
    rad = s * 0.1 + max(right, left)
    np.testing.assert_allclose([vlo[0], vhi[0]], [np.tanh(0.1) - rad, np.tanh(0.1) + rad], rtol=1e-9)
    assert vlo[0] <= 0.0
    assert vhi[0] >= np.tanh(0.2)


def _mix(x):
    return 0.7 * x[0] - 0.3 * x[1] + 0.2 * x[0] * x[1]


ELEMENTARY = {
    "tanh": (jnp.tanh, -1.0, 1.0), "logistic": (jax.nn.sigmoid, -1.0, 1.0), "exp": (jnp.exp, -1.0, 1.0),
    "log": (jnp.log, 1.0, 2.0), "log1p": (jnp.log1p, 0.0, 1.0), "sin": (jnp.sin, -1.0, 1.0),
    "cos": (jnp.cos, -1.0, 1.0), "sqrt": (jnp.sqrt, 1.0, 2.0), "rsqrt": (lax.rsqrt, 1.0, 2.0),
    "atan": (jnp.arctan, -1.0, 1.0), "sinh": (jnp.sinh, -1.0, 1.0), "cosh": (jnp.cosh, -1.0, 1.0),
    "erf": (lax.erf, -1.0, 1.0), "expm1": (jnp.expm1, -1.0, 1.0), "asinh": (jnp.arcsinh, -1.0, 1.0),
    "tan": (jnp.tan, -0.5, 0.5), "atanh": (jnp.arctanh, -0.4, 0.4), "asin": (jnp.arcsin, -0.4, 0.4),
}  # fmt: skip

OTHERS = {
    "mul": (lambda x: jnp.stack([x[0] * x[1], x[1] * x[2] * x[0]]), -1.0, 1.0),
    "div": (lambda x: x[:2] / (x[1:] + 3.0), -1.0, 1.0),
    "integer_pow": (lambda x: jnp.stack([x[0] ** 3, x[1] ** -2, x[2] ** 4]), 0.8, 1.2),
    "square": (lambda x: jnp.square(x - 0.2), -1.0, 1.0),
    "dot_general": (lambda x: (x.reshape(3, 1) * x.reshape(1, 3) @ x.reshape(3, 1)).ravel(), -1.0, 1.0),
    "batched_dot": (lambda x: jnp.einsum("bij,bjk->bik", jnp.stack([jnp.outer(x, x), jnp.diag(x)]),
                                      jnp.stack([jnp.diag(x), jnp.outer(x, x) - 1.0])).ravel(),
                    -1.0, 1.0),
    "reduce_sum": (lambda x: jnp.sum(jnp.outer(x, x) * 0.5, axis=0), -1.0, 1.0),
    "broadcast_transpose": (lambda x: (x[:, None] * x[None, :] + 1.0).T.ravel(), -1.0, 1.0),
    "slice_concat_pad": (lambda x: jnp.pad(jnp.concatenate([x[1:], x[:1] * x[2:]]), (1, 2)), -1.0, 1.0),
    "split_rev": (lambda x: jnp.concatenate(jnp.split(jnp.flip(x * x[0]), [1])), -1.0, 1.0),
    "constant_select_and_cast": (lambda x: jnp.where(jnp.arange(3) > 0, x, x * x) + jnp.arange(3).astype(x.dtype),
                                 -1.0, 1.0),
    "sub_neg": (lambda x: -(x - x[::-1] * x[0]), -1.0, 1.0),
}  # fmt: skip


def _check_each(table, d):
    """Encloses every function of ``table`` (name -> (fn, a, b)) in one program over ``[0, 1]^d``
    (each on its own box ``a + (b - a) u``) and checks every output against dense samples; the
    failure names the rules whose outputs left their enclosure."""
    names = sorted(table)

    def one(name, u):
        fn, a, b = table[name]
        return jnp.ravel(fn(a + (b - a) * u))

    def F(u):
        return jnp.concatenate([one(name, u) for name in names])

    sizes = [one(name, jnp.zeros(d)).size for name in names]
    lo, hi = np.zeros(d), np.ones(d)
    vlo, vhi = enclose(F, lo, hi)
    vals = np.asarray(jax.vmap(F)(jnp.asarray(samples(lo, hi))))
    tol = 1e-12 * (1.0 + np.abs(vals))  # F as JAX computes it vs the exact-real F the form encloses
    ok = np.isfinite(vlo) & np.isfinite(vhi) & np.all((vals >= vlo - tol) & (vals <= vhi + tol), axis=0)
    bad = [name for name, part in zip(names, np.split(ok, np.cumsum(sizes)[:-1]), strict=True) if not part.all()]
    assert bad == []


def test_each_elementary_rule_contains_the_sampled_values():
    # each fn on an argument that mixes both inputs (a product included), kept inside [a, b]
    def on_mix(fn, a, b):
        mid, half = (a + b) / 2, (b - a) / 2
        return lambda x: jnp.atleast_1d(fn(mid + half * _mix((x - mid) / half) / 1.2)), a, b

    _check_each({name: on_mix(*spec) for name, spec in ELEMENTARY.items()}, 2)


def test_each_arithmetic_and_structural_rule_contains_the_sampled_values():
    _check_each(OTHERS, 3)


@pytest.mark.parametrize(
    ("f", "lo", "hi"),
    [
        (jnp.log, [-0.5], [1.0]),  # log of an argument that may be <= 0
        (lambda x: 1.0 / x, [-0.5], [1.0]),  # a quotient by an interval holding 0
        (jnp.sqrt, [0.0], [1.0]),  # sqrt at its domain edge: derivative unbounded
        (jnp.exp, [700.0], [800.0]),  # exp overflows
    ],
    ids=["log", "recip", "sqrt", "overflow"],
)
def test_domain_edges_and_overflow_give_an_unbounded_enclosure(f, lo, hi):
    vlo, vhi = enclose(f, lo, hi)
    assert vlo[0] == -np.inf
    assert vhi[0] == np.inf


@pytest.mark.parametrize(
    "f",
    [
        lambda x: jnp.where(x > 0, x, 2 * x),  # a branch on the box
        lambda x: lax.cond(x[0] > 0, lambda y: y, lambda y: -y, x),
        lambda x: lax.fori_loop(0, 3, lambda i, y: y * 0.5, x),
        lambda x: x.astype(jnp.float32).astype(jnp.float64),  # another float type
        jnp.abs,
        lambda x: jnp.maximum(x, 0.0),
    ],
    ids=["where", "cond", "loop", "cast", "abs", "max"],
)
def test_constructs_without_an_affine_rule_are_refused_when_traced(f):
    with pytest.raises(NotAffine):
        enclose(f, [-1.0, -1.0], [1.0, 1.0])


def test_the_sample_check_catches_a_planted_overstatement(monkeypatch):
    # Dropping the bilinear remainder of a product understates x0 x1 on [1, 2] x [3, 4] ([2.75, 7.75]
    # instead of [2.5, 8.0]): the corner values 3 and 8 fall outside and the check must say so.
    mul = _affine._Interp.mul

    def planted(self, a, b):
        out = mul(self, a, b)
        return _affine.Aff(out.c, out.g, None)

    monkeypatch.setattr(_affine._Interp, "mul", planted)
    f = lambda x: x[:1] * x[1:]  # noqa: E731
    vlo, vhi = enclose(f, [1.0, 3.0], [2.0, 4.0])
    np.testing.assert_allclose([vlo[0], vhi[0]], [2.75, 7.75], rtol=1e-12)
    with pytest.raises(AssertionError, match="outside the enclosure"):
        assert_contains(f, [1.0, 3.0], [2.0, 4.0], vlo, vhi)


D = np.array([[1.0, -0.5], [0.3, 0.8], [-0.7, 0.4], [0.6, 0.9]])


def _duel(z):
    """A two-layer zero-sum duel: L(x, y) = sum_j tanh(D x)_j tanh(D y)_j, F = (x + grad_x L / 2, y - grad_y L / 2).

    Its Jacobian multiplies box-dependent factors (sech^2(D x) times tanh(D y), ...): interval
    propagation loses their correlation, the affine form keeps it to first order.
    """
    x, y = z[:2], z[2:]

    def L(x, y):
        return jnp.sum(jnp.tanh(D @ x) * jnp.tanh(D @ y))

    return jnp.concatenate([x + 0.5 * jax.grad(L, 0)(x, y), y - 0.5 * jax.grad(L, 1)(x, y)])


def test_sound_bounds_take_the_tighter_affine_enclosure_and_stay_sound(monkeypatch):
    from certify.bounds import _sound

    c = np.array([0.3, -0.2, 0.1, 0.4])
    lo, hi = c - 0.1, c + 0.1
    tight = _sound.sound_block_bounds(_duel, lo, hi, (2, 2))
    monkeypatch.setattr(_sound._AffineJacobian, "of", classmethod(lambda cls, *a: None))
    plain = _sound.sound_block_bounds(_duel, lo, hi, (2, 2))
    # the intersection is never looser than the engine's enclosure, and here much tighter
    assert np.all(tight.mu >= plain.mu)
    assert np.all(tight.coupling <= plain.coupling)
    assert np.all(tight.mu >= plain.mu + 0.1)
    # soundness: the bounds hold at dense samples of the box (exact Jacobians by jax.jacfwd)
    J = np.asarray(jax.vmap(jax.jacfwd(_duel))(jnp.asarray(samples(lo, hi, n=3000))))
    sym = (J + np.swapaxes(J, 1, 2)) / 2
    for i, s in enumerate((slice(0, 2), slice(2, 4))):
        assert tight.mu[i] <= np.linalg.eigvalsh(sym[:, s, s])[:, 0].min()
    assert tight.coupling[0, 1] >= np.linalg.norm(J[:, :2, 2:], ord=2, axis=(1, 2)).max()
    assert tight.coupling[1, 0] >= np.linalg.norm(J[:, 2:, :2], ord=2, axis=(1, 2)).max()


def test_the_jacobian_is_derived_once_per_structure_and_takes_each_functions_own_weights():
    # Two tanh layers that differ only in their 20 weights (above the 16-entry size of baked-in
    # constants): one derivation of DF and one affine program serve both, each with its own weights,
    # and each enclosure contains that function's own Jacobians (dense samples, jax.jacfwd).
    from certify.bounds import _sound

    rng = np.random.default_rng(5)
    weights = [0.5 * rng.normal(size=(5, 4)) for _ in range(2)]
    fs = [lambda z, w=w: z + 0.5 * jnp.tanh(jnp.asarray(w).T @ jnp.tanh(jnp.asarray(w) @ z)) for w in weights]
    jacs = [_sound._as_written_jacobian(f, 4, np.float64) for f in fs]
    assert jacs[0].key == jacs[1].key
    assert jacs[0].closed.jaxpr is jacs[1].closed.jaxpr
    affs = [_sound._AffineJacobian.of(f, 4, np.float64) for f in fs]
    assert affs[0].fn is affs[1].fn
    lo, hi = np.full(4, 0.1), np.full(4, 0.14)
    x = jnp.asarray(samples(lo, hi, n=2000))
    for f, aff in zip(fs, affs, strict=True):
        alo, ahi = (a.reshape(4, 4) for a in aff(lo[None], hi[None]))
        J = np.asarray(jax.vmap(jax.jacfwd(f))(x))
        assert np.all(alo <= J.min(axis=0))
        assert np.all(ahi >= J.max(axis=0))
    # the other function's enclosure misses some of this one's Jacobians (the weights matter)
    alo, ahi = (a.reshape(4, 4) for a in affs[1](lo[None], hi[None]))
    J0 = np.asarray(jax.vmap(jax.jacfwd(fs[0]))(x))
    assert np.any((J0 < alo) | (J0 > ahi))


@pytest.mark.slow  # 4 s: a compilation per batch size tried
def test_affine_batches_shrink_to_the_memory_budget_and_a_box_over_it_is_left_out(monkeypatch):
    from certify.bounds import _sound

    rng = np.random.default_rng(1)
    blo = np.array([0.2, -0.3, 0.0, 0.3]) + 0.05 * rng.random((40, 4))
    bhi = blo + 0.1
    aff = _sound._AffineJacobian.of(_duel, 4, np.float64)
    single = [aff(blo[k:k + 1], bhi[k:k + 1]) for k in range(40)]
    one_box = aff._program(1, 4)[1]
    monkeypatch.setattr(_sound, "_BATCH_BYTES", 3 * one_box)  # a batch of 32 is over: halved until it fits
    small = _sound._AffineJacobian(aff.fn, aff.dyn, {})
    lo_, hi_ = small(blo, bhi)
    assert small.cap < 32
    np.testing.assert_allclose(lo_, np.concatenate([s[0] for s in single]), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(hi_, np.concatenate([s[1] for s in single]), rtol=1e-12, atol=1e-15)
    # With the one-box program compiled (its memory known), a batch is sized to twice that memory per
    # box: a budget of 8 one-box memories gives batches of 4 (2 * 4 = 8), and no batch of 32 is compiled
    # first to be found over the budget.
    monkeypatch.setattr(_sound, "_BATCH_BYTES", 8 * one_box)
    sized = _sound._AffineJacobian(aff.fn, aff.dyn, {1: aff._program(1, 4)})
    lo_, hi_ = sized(blo, bhi)
    assert sorted(sized.compiled) == [1, 4]
    assert sized.cap == 4
    np.testing.assert_allclose(lo_, np.concatenate([s[0] for s in single]), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(hi_, np.concatenate([s[1] for s in single]), rtol=1e-12, atol=1e-15)
    monkeypatch.setattr(_sound, "_BATCH_BYTES", one_box // 2)  # not even one box fits
    assert _sound._AffineJacobian(aff.fn, aff.dyn, {})(blo, bhi) is None


@pytest.mark.slow
def test_neural_duel_is_certified_by_interval_bounds_and_its_sound_bounds_hold_at_samples():
    # Issue 21: the registered neural-duel (two 33-parameter tanh MLPs, box of radius 0.05) was
    # refused by every sound method before the affine forms; interval bounds now certify it.
    import certify
    import games

    game = games.get_game("neural-duel")
    cert = certify.certify(game, bounds="interval")
    assert cert.status == "certified", cert.reason
    assert cert.margin > 0
    region = game.default_region() if callable(game.default_region) else game.default_region
    lo, hi = np.asarray(region.lo, np.float64), np.asarray(region.hi, np.float64)
    J = np.asarray(jax.vmap(jax.jacfwd(game.pseudo_gradient))(jnp.asarray(samples(lo, hi, n=400))))
    sym = (J + np.swapaxes(J, 1, 2)) / 2
    d1 = game.dims[0]
    for i, s in enumerate((slice(0, d1), slice(d1, None))):
        assert cert.bounds.mu[i] <= np.linalg.eigvalsh(sym[:, s, s])[:, 0].min()
    assert cert.bounds.coupling[0][1] >= np.linalg.norm(J[:, :d1, d1:], ord=2, axis=(1, 2)).max()
