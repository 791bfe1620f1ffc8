"""Issue 14 ("sound means sound"): the adversarial games that fooled the sound bound modes.

Each game is built with ``games.from_pseudo_gradient`` on the region [-1, 1]^2 and run through
``certify.certify`` with ``bounds="interval"``, ``"refine"`` and ``"padded"``; none may come out
certified, and none may raise: the pipeline answers ``invalid`` (F may be NaN on the box) or
``not_certified`` with the reason. The drivers' own verdicts (NaN bounds with a reason, or
``NotEnclosable`` of the right kind) are checked directly as well.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import certify
import games
from certify._interval import interval_enclosure
from certify.bounds import NotEnclosable, lipschitz_padded_bounds, refine_block_bounds, sound_block_bounds

MODES = ("interval", "refine", "padded")
LO, HI = -np.ones(2), np.ones(2)
A = 8 * np.pi


@jax.custom_jvp
def straight_through(t):
    """``t + (4.5 / a) sin(a t)``; its custom derivative claims a constant 5.5."""
    return t + (4.5 / A) * jnp.sin(A * t)


@straight_through.defjvp
def _straight_through_jvp(primals, tangents):
    return straight_through(primals[0]), 5.5 * tangents[0]


def _game(first):
    def F(x):
        return jnp.stack([first(x), x[1] + 0.1 * x[0]])

    return F


CASES = {
    # 1. NaN for x_1 < 0 (fractional power of a negative number).
    "domain": _game(lambda x: x[0] + 0.1 * x[0] ** 1.5 + 0.1 * x[1]),
    # 2. A NaN guard: finite and continuous, but decreasing (slope -2) for x_1 < 0.
    "nan_guard": _game(lambda x: x[0] + jnp.where(jnp.isnan(jnp.sqrt(x[0])), -3 * x[0], 0.0) + 0.1 * x[1]),
    # 3. A custom_jvp whose rule (5.5) is not the derivative 1 + 4.5 cos(a t) in [-3.5, 5.5].
    "custom_jvp": _game(lambda x: straight_through(x[0]) + 0.1 * x[1]),
    # 4. A jump at x_1 = 0.1; JAX's derivative of the step is 0.
    "jump": _game(lambda x: x[0] + 0.5 * jnp.where(x[0] > 0.1, -1.0, 1.0) + 0.1 * x[1]),
    # 6. Zero times infinity: log 0 = -inf and exp(800 x) overflows (x > 0.887): 0 * inf = NaN.
    "zero_log": _game(lambda x: x[0] + 0.0 * jnp.log(x[0]) + 0.1 * x[1]),
    "zero_exp": _game(lambda x: x[0] + 0.0 * jnp.exp(800.0 * x[0]) + 0.1 * x[1]),
}


def outcome(F, mode):
    g = games.from_pseudo_gradient(F, (1, 1), region=games.Region(LO, HI))
    return certify.certify(g, bounds=mode)


# Where F is NaN on part of the box the answer is "invalid"; elsewhere "not_certified".
EXPECTED = {"domain": "invalid", "zero_log": "invalid", "zero_exp": "invalid", "custom_jvp": "not_certified",
            "jump": "not_certified", "nan_guard": ("invalid", "not_certified")}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", sorted(CASES))
def test_issue_games_are_not_certified(name, mode):
    c = outcome(CASES[name], mode)
    assert c.status != "certified", (name, mode)
    assert c.status in EXPECTED[name], (name, mode, c.status, c.reason)
    assert c.reason, (name, mode)
    if name == "jump":  # the reason names the predicate that may switch
        assert "x_1 > 0.1" in c.reason, c.reason
        assert c.extra["not_enclosable"] == "discontinuous"


@pytest.mark.parametrize("mode", MODES)
def test_unsupported_primitive_is_a_refusal_naming_it(mode):
    # A linear solve (LU factorisation) has no sound interval rule: the pipeline refuses, names it.
    c = outcome(_game(lambda x: x[0] + 0.1 * jnp.linalg.solve(jnp.array([[2.0, x[1]], [0.0, 1.0]]), x)[0]), mode)
    assert c.status == "not_certified"
    assert "primitive 'lu'" in c.reason
    assert c.extra["not_enclosable"] == "unsupported"
    assert c.bounds.kind == "sound"


def test_domain_edge_gives_nan_bounds_that_name_the_power():
    b = sound_block_bounds(CASES["domain"], LO, HI, (1, 1))
    assert np.all(np.isnan(b.mu))
    assert "power" in b.reason
    # refine stops as soon as a sub-box lies where x_1 ** 1.5 is NaN throughout.
    r, rec = refine_block_bounds(CASES["domain"], LO, HI, (1, 1), decide=lambda b: False)
    assert np.all(np.isnan(r.mu))
    assert r.reason.startswith("F is NaN on part of the region")
    assert rec.rounds < 16
    p = lipschitz_padded_bounds(CASES["domain"], LO, HI, (1, 1))
    assert np.all(np.isnan(p.mu))


def test_the_clipped_domain_is_not_dropped():
    # x ** 1.5 on [-1, 1]: NaN for x < 0, so the enclosure must be NaN, not [0, 1].
    e = interval_enclosure(lambda x: x**1.5, jnp.array([-1.0]), jnp.array([1.0]))
    assert int(e.nan[0]) == 1
    assert np.isnan(e.flo[0])
    # On [-1, -0.5] it is NaN everywhere (flag 2); on [0.25, 1] a plain enclosure.
    assert int(interval_enclosure(lambda x: x**1.5, jnp.array([-1.0]), jnp.array([-0.5])).nan[0]) == 2
    e = interval_enclosure(lambda x: x**1.5, jnp.array([0.25]), jnp.array([1.0]))
    assert float(e.flo[0]) <= 0.125 <= float(e.flo[0]) + 1e-12  # 0.25 ** 1.5 = 1/8
    assert float(e.jlo[0, 0]) <= 0.75 <= float(e.jlo[0, 0]) + 1e-12  # 1.5 * 0.25 ** 0.5 = 3/4


def test_nan_guard_is_undecided_where_the_guard_may_switch():
    # isnan(s) = (s != s): decided only for a value surely (not) NaN.
    f = lambda x: jnp.where(jnp.isnan(jnp.sqrt(x)), -3.0 * x, 0.0)  # noqa: E731
    e = interval_enclosure(f, jnp.array([-1.0]), jnp.array([1.0]))
    assert np.isinf(e.jlo[0, 0])  # the guard may switch: no derivative bound
    e = interval_enclosure(f, jnp.array([-1.0]), jnp.array([-0.5]))
    np.testing.assert_allclose([e.jlo[0, 0], e.jhi[0, 0]], [-3.0, -3.0], rtol=1e-14)  # surely NaN: -3x
    e = interval_enclosure(f, jnp.array([0.25]), jnp.array([1.0]))
    np.testing.assert_allclose([e.jlo[0, 0], e.jhi[0, 0]], [0.0, 0.0], atol=0)  # surely not NaN: 0
    with pytest.raises(NotEnclosable, match="continuity") as err:
        sound_block_bounds(CASES["nan_guard"], LO, HI, (1, 1))
    assert err.value.kind == "discontinuous"


def test_custom_jvp_is_differentiated_as_written():
    F = CASES["custom_jvp"]
    # JAX's own Jacobian follows the custom rule: a constant 5.5 ...
    assert float(jax.jacfwd(F)(jnp.array([0.3, 0.0]))[0, 0]) == 5.5
    # ... while dF_1/dx_1 = 1 + 4.5 cos(8 pi x_1) takes every value in [-3.5, 5.5] on [-1, 1].
    for mode_bounds in (sound_block_bounds(F, LO, HI, (1, 1)),
                        lipschitz_padded_bounds(F, LO, HI, (1, 1))):  # fmt: skip
        assert mode_bounds.mu[0] <= -3.5
    b, _ = refine_block_bounds(F, LO, HI, (1, 1), decide=lambda b: False, max_rounds=4)
    assert b.mu[0] <= -3.5


def test_stop_gradient_is_the_identity_for_the_function_as_written():
    # F(x) = x + stop_gradient(x) = 2x as a function: its derivative is 2, not JAX's 1.
    e = interval_enclosure(lambda x: x + jax.lax.stop_gradient(x), jnp.array([-1.0]), jnp.array([1.0]))
    np.testing.assert_allclose([e.jlo[0, 0], e.jhi[0, 0]], [2.0, 2.0], rtol=1e-14)

    @jax.custom_vjp
    def f(x):
        return jnp.sin(x)

    f.defvjp(lambda x: (jnp.sin(x), x), lambda r, g: (0.0 * g,))  # a wrong backward rule
    e = interval_enclosure(f, jnp.array([0.0]), jnp.array([1.0]))
    np.testing.assert_allclose([e.jlo[0, 0], e.jhi[0, 0]], [np.cos(1.0), 1.0], rtol=1e-9)


def _custom_vjp_game(primal):
    """``x -> 2 x + primal(x)`` with ``primal`` under a ``custom_vjp`` made afresh (as a rebuilt program is)."""
    f = jax.custom_vjp(primal)
    f.defvjp(lambda x: (primal(x), x), lambda r, g: (0.0 * g,))
    return lambda x: 2.0 * x + f(x)


def test_custom_rules_do_not_split_one_structure_into_many_compilations():
    from certify._interval._interpreter import compile_enclosure

    # Every trace of a custom_vjp makes new rule objects (an output-tree thunk keyed by identity); the
    # engine reads only the primal, so two traces, or two builds of one program, share one compilation.
    sin_a, sin_b, cos_ = _custom_vjp_game(jnp.sin), _custom_vjp_game(jnp.sin), _custom_vjp_game(jnp.cos)
    comp, _ = compile_enclosure(sin_a, 2, jnp.float64)
    assert compile_enclosure(sin_a, 2, jnp.float64)[0] is comp
    assert compile_enclosure(sin_b, 2, jnp.float64)[0] is comp
    # Another primal is another program: d/dx (2x + cos x) = 2 - sin x on [0, 1] is [2 - sin 1, 2].
    other, dyn = compile_enclosure(cos_, 2, jnp.float64)
    assert other is not comp
    enc, _ = other(dyn, np.zeros((1, 2)), np.ones((1, 2)))
    np.testing.assert_allclose([enc.jlo[0, 0, 0], enc.jhi[0, 0, 0]], [2.0 - np.sin(1.0), 2.0], rtol=1e-9)


def test_jump_is_refused_by_every_mode_naming_the_predicate():
    F = CASES["jump"]
    with pytest.raises(NotEnclosable, match=r"x_1 > 0\.1") as err:
        sound_block_bounds(F, LO, HI, (1, 1))
    assert err.value.kind == "discontinuous"
    assert "branches differ" in err.value.reason
    with pytest.raises(NotEnclosable, match=r"x_1 > 0\.1"):
        refine_block_bounds(F, LO, HI, (1, 1), decide=lambda b: False, max_rounds=3)
    with pytest.raises(NotEnclosable, match="padded bounds need F Lipschitz") as err:
        lipschitz_padded_bounds(F, LO, HI, (1, 1))
    assert err.value.kind == "discontinuous"


@pytest.mark.parametrize("f", [jnp.floor, jnp.sign, jnp.round, lambda t: (t > 0.2).astype(t.dtype)])
@pytest.mark.slow
def test_steps_make_padded_bounds_refuse(f):
    F = _game(lambda x: x[0] + 0.5 * f(x[0] - 0.3) + 0.1 * x[1])
    with pytest.raises(NotEnclosable) as err:
        lipschitz_padded_bounds(F, LO, HI, (1, 1))
    assert err.value.kind == "discontinuous"


def test_zero_times_infinity_is_nan():
    for name in ("zero_log", "zero_exp"):
        b = sound_block_bounds(CASES[name], LO, HI, (1, 1))
        assert np.all(np.isnan(b.mu)), name
        assert "NaN" in b.reason
    # Away from the overflow the same product is an ordinary enclosure.
    ok = sound_block_bounds(CASES["zero_exp"], LO, np.array([0.5, 1.0]), (1, 1))
    np.testing.assert_allclose(ok.mu, [1.0, 1.0], rtol=1e-12)


# --------------------------------------------------------------------------------------------
# Branches that are continuous: certified where the switch is proven continuous.
# --------------------------------------------------------------------------------------------


def leaky(x):
    # dF_1/dx_1 = 1 + (1 or 0.5): mu_1 = 1.5 exactly; L_12 = 0.1, L_21 = 0.1.
    return jnp.stack([x[0] + jnp.where(x[0] > 0, x[0], 0.5 * x[0]) + 0.1 * x[1], x[1] + 0.1 * x[0]])


@pytest.mark.parametrize("mode", ["interval", "refine"])
def test_continuous_piecewise_function_is_certified(mode):
    g = games.from_pseudo_gradient(leaky, (1, 1), region=games.Region(LO, HI))
    c = certify.certify(g, bounds=mode)
    assert c.status == "certified"
    np.testing.assert_allclose(c.bounds.mu, [1.5, 1.0], rtol=1e-12)
    np.testing.assert_allclose(np.asarray(c.bounds.coupling)[[0, 1], [1, 0]], [0.1, 0.1], rtol=1e-12)


@pytest.mark.parametrize(
    ("f", "slope"),
    [
        # A shifted relu written with where: 0 at x = 0.25 on both sides; slope [0, 1].
        (lambda x: jnp.where(x > 0.25, x - 0.25, 0.0), (0.0, 1.0)),
        # A cond on a scalar: 3x and x are both 0 at the switch x = 0; slope [1, 3].
        (lambda x: jax.lax.cond(x[0] > 0, lambda v: 3.0 * v, lambda v: v, x[0])[None], (1.0, 3.0)),
    ],
)
def test_continuity_is_proven_at_the_switch(f, slope):
    e = interval_enclosure(f, jnp.array([-1.0]), jnp.array([1.0]))
    np.testing.assert_allclose([e.jlo[0, 0], e.jhi[0, 0]], slope, rtol=1e-12)


def test_elu_switch_is_continuous():
    # ELU = x for x > 0, expm1(x) below (JAX writes it with two wheres); equal (0) at x = 0.
    # Its slope on [-1, 1] lies in [e^-1, 1]; the enclosure is finite and contains it (each
    # branch is enclosed over the whole box, so it is not sharp: expm1' over [-1, 1] <= e).
    e = interval_enclosure(jax.nn.elu, jnp.array([-1.0]), jnp.array([1.0]))
    assert np.isfinite(e.jlo[0, 0])
    assert np.isfinite(e.jhi[0, 0])
    assert e.jlo[0, 0] <= np.exp(-1.0)
    assert e.jhi[0, 0] >= 1.0
    assert e.jhi[0, 0] <= np.e * (1 + 1e-9)


@pytest.mark.slow
def test_continuity_with_coefficients_known_only_at_run_time():
    # A coefficient array with more than 16 entries is an argument of the compiled enclosure
    # (not known at trace time): k * (x - 0.25) is still exactly 0 at the switch for any k.
    k = jnp.asarray(np.linspace(0.25, 0.75, 20))

    def kink(x):
        return jnp.stack([x[0] + jnp.where(x[0] > 0.25, k[0] * (x[0] - 0.25), k[1] * (x[0] - 0.25))
                          + 0.1 * x[1], x[1] + 0.1 * x[0]])  # fmt: skip

    b = sound_block_bounds(kink, LO, HI, (1, 1))
    np.testing.assert_allclose(b.mu, [1.0 + min(float(k[0]), float(k[1])), 1.0], rtol=1e-12)

    def offset(x):  # an unknown offset in one branch: a jump of k[2] at the switch
        return jnp.stack([x[0] + jnp.where(x[0] > 0.25, k[0] * (x[0] - 0.25) + k[2], k[1] * (x[0] - 0.25))
                          + 0.1 * x[1], x[1] + 0.1 * x[0]])  # fmt: skip

    with pytest.raises(NotEnclosable, match="x_1 > 0.25"):
        sound_block_bounds(offset, LO, HI, (1, 1))


@pytest.mark.slow
def test_refine_bisects_only_the_coordinates_the_jacobian_depends_on():
    # J depends on x_1 only (x_2, x_3 enter linearly): every final box spans x_2 and x_3 fully.
    def F(x):
        return jnp.stack([x[0] + 0.5 * jnp.sin(3.0 * x[0]) + 0.2 * x[1], x[1] + 0.2 * x[2], x[2] - 0.3 * x[0]])

    lo, hi = -np.ones(3), np.ones(3)
    _, rec = refine_block_bounds(F, lo, hi, (1, 1, 1), decide=lambda b: False, max_rounds=5)
    assert rec.rounds == 5
    assert rec.boxes > 1
    np.testing.assert_array_equal(rec.box_lo[:, 1:], -1.0)
    np.testing.assert_array_equal(rec.box_hi[:, 1:], 1.0)


@pytest.mark.slow
def test_unprovable_continuity_is_refused_with_the_reason():
    # Huber: continuous, but the predicate |x| < 1 switches on |x|, not on a branch variable.
    def huber(x):
        a = jnp.abs(x)
        return jnp.where(a < 1.0, 0.5 * x * x, a - 0.5)

    e = interval_enclosure(huber, jnp.array([-2.0]), jnp.array([2.0]))
    assert np.isinf(e.jhi[0, 0])
    F = _game(lambda x: 2.0 * x[0] + huber(x[0]) + 0.1 * x[1])
    with pytest.raises(NotEnclosable, match="could not be proven"):
        sound_block_bounds(F, 2 * LO, 2 * HI, (1, 1))
    # Sub-boxes on which the predicate is decided are enclosed exactly (refine can use them).
    b = sound_block_bounds(F, np.array([1.25, -1.0]), np.array([2.0, 1.0]), (1, 1))
    np.testing.assert_allclose(b.mu, [3.0, 1.0], rtol=1e-12)


# --------------------------------------------------------------------------------------------
# Size and cost.
# --------------------------------------------------------------------------------------------


def test_huge_subdivisions_are_a_value_error_up_front():
    with pytest.raises(ValueError, match="expected at most 65536 sub-boxes, got 1000000\\^2"):
        sound_block_bounds(leaky, LO, HI, (1, 1), subdivisions=10**6)
    g = games.from_pseudo_gradient(leaky, (1, 1), region=games.Region(LO, HI))
    with pytest.raises(ValueError, match="sub-boxes"):
        certify.certify(g, bounds=certify.bounds.Interval(subdivisions=10**6))


def test_affine_game_above_32_dimensions():
    g = games.get_game("lq64", half=20)
    lo, hi = -np.ones(g.dim), np.ones(g.dim)
    exact = certify.bounds.exact_block_bounds(g)
    b = sound_block_bounds(g.pseudo_gradient, lo, hi, g.dims)
    np.testing.assert_allclose(b.mu, exact.mu, rtol=1e-9)
    np.testing.assert_allclose(b.coupling, exact.coupling, rtol=1e-9, atol=1e-12)
    r, rec = refine_block_bounds(g.pseudo_gradient, lo, hi, g.dims, decide=lambda b: True)
    assert rec.boxes == 1
    np.testing.assert_allclose(r.mu, exact.mu, rtol=1e-9)
    with pytest.raises(NotEnclosable, match="2\\^40") as err:
        lipschitz_padded_bounds(g.pseudo_gradient, lo, hi, g.dims)
    assert err.value.kind == "cost"
    for mode in ("interval", "refine"):
        c = certify.certify(g, region=games.Region(lo, hi), bounds=mode)
        assert c.status == "certified"
        assert c.bounds.kind == "sound"


@pytest.mark.slow
@pytest.mark.parametrize("width", [4, 8])
def test_mlp_games_above_32_dimensions_answer(width):
    # width 4: two tanh MLPs with 2 x 17 = 34 parameters; width 8: the registered neural-duel (66).
    g = games.get_game("neural-duel", width=width)
    assert g.dim == 8 * width + 2
    reg = g.default_region()
    b = sound_block_bounds(g.pseudo_gradient, reg.lo, reg.hi, g.dims)
    assert np.all(np.isfinite(b.mu))
    assert np.all(np.isfinite(b.coupling))
    # The sound bounds contain sampled values (inner estimates).
    s = certify.bounds.Sampled(n_samples=64)(g)
    assert np.all(b.mu <= s.mu)
    assert np.all(b.coupling >= s.coupling)
    for mode in ("interval", "refine"):
        assert certify.certify(g, bounds=mode).status in ("certified", "not_certified")
    with pytest.raises(NotEnclosable) as err:
        lipschitz_padded_bounds(g.pseudo_gradient, reg.lo, reg.hi, g.dims)
    assert err.value.kind == "cost"


@pytest.mark.slow
def test_padded_grid_is_capped_by_its_budget():
    F = lambda z: z + 0.1 * jnp.tanh(z[::-1])  # noqa: E731
    lo, hi = -np.ones(4), np.ones(4)
    b = lipschitz_padded_bounds(F, lo, hi, (2, 2), max_points=1000)
    assert b.n_points == 5**4  # 6^4 = 1296 > 1000: 5 points per axis
    assert np.all(b.mu <= 1.0)
    with pytest.raises(ValueError, match="expected at most 1000 grid points, got 9\\^4"):
        lipschitz_padded_bounds(F, lo, hi, (2, 2), grid=9, max_points=1000)


@pytest.mark.slow
def test_padded_default_budget_at_eight_dimensions():
    # Formerly 9^8 points (an estimated 22 GB); now 3 points per axis within 32768.
    F = lambda z: z + 0.1 * jnp.tanh(z[::-1])  # noqa: E731
    b = lipschitz_padded_bounds(F, -np.ones(8), np.ones(8), (4, 4))
    assert b.n_points == 3**8
    assert np.all(b.mu <= 1.0)
