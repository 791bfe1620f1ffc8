"""Issue 19 ("sound by construction"): the six kinds of game that fooled the sound bound modes.

Each game is written as a researcher would, in a Python file with one factory per case, and run
through the library (``certify.certify`` on ``games.load_game``) with ``interval``, ``refine`` and
``padded`` bounds, and through the CLI (``sgn certify file.py:factory --bounds interval``). None may
raise; each answer is ``invalid`` or ``not_certified`` with a reason naming the construct, or a
certificate that is true of ``F`` as JAX evaluates it.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import certify
import games
from certify.cli import main as cli_main

SGN = Path(sys.executable).parent / "sgn"
MODES = ("interval", "refine", "padded")

CASES_PY = '''\
"""The six reproduced cases of issue 19 (each F jumps, hides overflow, is NaN, or rounds)."""
import jax.numpy as jnp
from jax import lax

import games

SQUARE = games.Region([-1.0, -1.0], [1.0, 1.0])


def _game(F, lo=(-1.0, -1.0), hi=(1.0, 1.0), dims=(1, 1)):
    return games.from_pseudo_gradient(F, dims, region=games.Region(list(lo), list(hi)))


def fori_outer_mask():
    # 1. The predicate is computed outside the loop and used inside: F jumps by 0.6 y across x = 0.
    def F(z):
        x, y = z[0], z[1]
        mask = x > 0
        s = lax.fori_loop(0, 1, lambda i, v: jnp.where(mask, v, -v), 0.3 * y)
        return jnp.stack([2 * x + s, 2 * y])
    return _game(F)


def scan_returned_mask():
    # 1'. The predicate is computed inside a scan body, returned, and used outside.
    def F(z):
        x, y = z[0], z[1]
        _, m = lax.scan(lambda c, _: (c, c > 0), x, None, length=1)
        return jnp.stack([2 * x + jnp.where(m[0], 0.3 * y, -0.3 * y), 2 * y])
    return _game(F)


def softmax_wrong_axis():
    # 2. NumPy broadcasting divides row i by the sum of column i: not a softmax.
    def F(z):
        E = jnp.exp(z.reshape(2, 2))
        return 3 * z + (E / E.sum(axis=1)[None, :]).reshape(4)  # NumPy's broadcasting, spelled out
    return _game(F, (-1.0,) * 4, (1.0,) * 4, (2, 2))


def log_softmax_wrong_axis():
    # 2'. A - log(sum_j exp(A_ij)) broadcast along the wrong axis.
    def F(z):
        A = z.reshape(2, 2)
        return 3 * z + (A - jnp.log(jnp.exp(A).sum(1))[None, :]).reshape(4)
    return _game(F, (-1.0,) * 4, (1.0,) * 4, (2, 2))


def softplus_overflow():
    # 3. log1p(exp(100 x)) / 100 is +inf for x > 7.1 (exp overflows).
    def F(z):
        return z + 0.1 * jnp.log1p(jnp.exp(100 * z)) / 100
    return _game(F, (-10.0, -10.0), (10.0, 10.0))


def atan2_signed_zero():
    # 4. -y is -0.0 at the region's edge y = 0, where atan2(-0.0, x < 0) = -pi: a jump of 1.88.
    def F(z):
        x, y = z[0], z[1]
        return jnp.stack([2 * x + 0.3 * jnp.arctan2(-y, x), 2 * y])
    return _game(F, (-1.0, -1.0), (-0.5, 0.0))


def cancellation():
    # 5. (z + 1e20) - 1e20 is 0 in float64 for |z| < 8192: F as JAX computes it is 0.1 z[::-1].
    def F(z):
        return (z + 1e20) - 1e20 + 0.1 * z[::-1]
    return _game(F)


def bfloat16_round_trip():
    # 5'. A round trip through bfloat16: a staircase with steps of 2^-8 relative.
    def F(z):
        return z.astype(jnp.bfloat16).astype(z.dtype) + 0.1 * z[::-1]
    return _game(F)


def oob_take():
    # 6. An out-of-bounds take fills NaN; clip of NaN is NaN: F is NaN on the whole region.
    def F(z):
        v = jnp.take(jnp.arange(3.0), 5, mode="fill")
        return z + 0.1 * jnp.clip(z[::-1] + v, -1.0, 1.0)
    return _game(F)


def oob_take_of_x():
    # 6'. The same with the box-dependent operand itself.
    def F(z):
        return z + 0.1 * jnp.clip(jnp.take(z, 5, mode="fill"), -1.0, 1.0)
    return _game(F)
'''

# status -> the words the reason must contain (any of them), per case.
EXPECTED = {
    "fori_outer_mask": ({"not_certified"}, ("x_1 > 0", "jnp.where")),
    "scan_returned_mask": ({"not_certified"}, ("jnp.where",)),
    "softmax_wrong_axis": ({"certified", "not_certified"}, ()),
    "log_softmax_wrong_axis": ({"certified", "not_certified"}, ()),
    "softplus_overflow": ({"invalid"}, ("exp",)),
    "atan2_signed_zero": ({"not_certified"}, ("atan2",)),
    "cancellation": ({"not_certified"}, ("rounding",)),
    "bfloat16_round_trip": ({"certified"}, ()),
    "oob_take": ({"invalid"}, ("NaN",)),
    "oob_take_of_x": ({"invalid"}, ("NaN",)),
}


@pytest.fixture(scope="module")
def cases_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("issue19") / "cases.py"
    path.write_text(CASES_PY)
    return path


def _jacobian_claims_hold(game, cert, n_points=400, seed=0):
    """``mu_i <= lambda_min(sym J_ii)`` and ``||J_ij|| <= L_ij`` at random points of the region (JAX's J)."""
    lo, hi = np.asarray(cert.region["lo"]), np.asarray(cert.region["hi"])
    x = lo + (hi - lo) * np.random.default_rng(seed).uniform(size=(n_points, lo.size))
    J = np.asarray(jax.vmap(jax.jacfwd(game.pseudo_gradient))(jnp.asarray(x)))
    cuts = np.cumsum([0, *game.dims])
    blocks = [slice(a, b) for a, b in zip(cuts[:-1], cuts[1:], strict=True)]
    for i, bi in enumerate(blocks):
        sym = 0.5 * (J[:, bi, bi] + np.swapaxes(J[:, bi, bi], 1, 2))
        assert np.linalg.eigvalsh(sym)[:, 0].min() >= cert.bounds.mu[i] - 1e-9
        for j, bj in enumerate(blocks):
            if i != j:
                assert np.linalg.norm(J[:, bi, bj], 2, axis=(1, 2)).max() <= cert.bounds.coupling[i][j] + 1e-9


# padded (a second-order enclosure per case: the costliest) runs in the slow suite
@pytest.mark.parametrize("mode", [m if m != "padded" else pytest.param(m, marks=pytest.mark.slow) for m in MODES])
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_library_answers(cases_file, name, mode):
    game = games.load_game(f"{cases_file}:{name}")
    cert = certify.certify(game, bounds=mode)
    statuses, words = EXPECTED[name]
    if mode == "padded" and cert.status == "not_certified" and "certified" in statuses:
        statuses = statuses | {"not_certified"}  # padded is the weakest method: a refusal is fine
    assert cert.status in statuses, (name, mode, cert.status, cert.reason)
    if cert.status != "certified":
        assert cert.reason
        if words and not (mode == "padded" and cert.extra.get("not_enclosable") == "cost"):
            assert any(w in cert.reason for w in words), (name, mode, cert.reason)
    else:
        _jacobian_claims_hold(game, cert)


def test_bfloat16_round_trip_reports_its_radius(cases_file):
    cert = certify.certify(games.load_game(f"{cases_file}:bfloat16_round_trip"), bounds="interval")
    assert cert.status == "certified", cert.reason
    eps = cert.extra["rounding_error"]
    radius = cert.extra["rounding_radius"]
    # |bf16(z) - z| <= 2^-9 |z| <= 2^-9 on [-1, 1] per entry (round to nearest, 8 mantissa bits):
    # the bound must cover sqrt(2) 2^-9 (both entries) and stays within a small factor of it.
    assert math_sqrt2() * 2.0**-9 <= eps <= 64 * 2.0**-9
    h, q = cert.steps.euler_best_step, cert.steps.euler_factor
    assert radius >= h * eps / (1 - q)


def math_sqrt2():
    return float(np.sqrt(2.0))


def test_cancellation_reason_names_the_radius(cases_file):
    cert = certify.certify(games.load_game(f"{cases_file}:cancellation"), bounds="interval")
    assert cert.status == "not_certified"
    assert "rounding" in cert.reason
    assert "1e+20" not in cert.reason
    assert cert.extra["rounding_error"] >= 8192.0  # half an ulp of 1e20 (16384) per entry


def _check_cli_answer(name, code, cert, stdout):
    statuses, words = EXPECTED[name]
    assert cert["status"] in statuses, (name, cert["status"], cert["reason"])
    assert code == (0 if cert["status"] == "certified" else 1), name
    if cert["status"] != "certified" and words:
        assert any(w in cert["reason"] for w in words), (name, cert["reason"])
    if name == "bfloat16_round_trip":
        assert "rounding" in stdout, stdout


def test_cli_answers(cases_file, tmp_path, capsys):
    # The command line's own code path for every case, in this process (no interpreter start per case).
    for name in sorted(EXPECTED):
        out = tmp_path / f"{name}.json"
        code = cli_main(["certify", f"{cases_file}:{name}", "--bounds", "interval", "--out", str(out)])
        captured = capsys.readouterr()
        assert "Traceback" not in captured.err, (name, captured.err)
        _check_cli_answer(name, code, json.loads(out.read_text()), captured.out)


@pytest.mark.skipif(not SGN.exists(), reason="the sgn console script is not installed next to this Python")
@pytest.mark.parametrize("name", [
    "fori_outer_mask",
    *[pytest.param(n, marks=pytest.mark.slow) for n in sorted(EXPECTED) if n != "fori_outer_mask"],
])
def test_console_script_answers(cases_file, tmp_path, name):
    # The console script itself (one case by default, every case in the slow suite).
    out = tmp_path / f"{name}.json"
    proc = subprocess.run([str(SGN), "certify", f"{cases_file}:{name}", "--bounds", "interval", "--out", str(out)],
                          capture_output=True, text=True, timeout=600, check=False)
    assert "Traceback" not in proc.stderr, (name, proc.stderr)
    _check_cli_answer(name, proc.returncode, json.loads(out.read_text()), proc.stdout)


# --------------------------------------------------------------------------------------------
# Patterns only tighten: near misses, an overflowing range, an inconsistent pattern.
# --------------------------------------------------------------------------------------------

NEAR_MISSES = {
    # name: (function of a (2, 3) array, whether a pattern may match)
    "softmax_rows": (lambda A: jnp.exp(A) / jnp.exp(A).sum(1, keepdims=True), True),
    "softmax_other_axis": (lambda A: jnp.exp(A[:, :2]) / jnp.exp(A[:, :2]).sum(1)[None, :], False),
    "softmax_transposed_sum": (lambda A: jnp.exp(A[:, :2]) / jnp.exp(A[:, :2]).T.sum(0, keepdims=True), False),
    "softmax_extra_shift": (lambda A: jnp.exp(A - 1.0) / jnp.exp(A).sum(1, keepdims=True), False),
    "softmax_temperature": (lambda A: jnp.exp(A / 0.5) / jnp.exp(A).sum(1, keepdims=True), False),
    "log_softmax_other_axis": (lambda A: A[:, :2] - jnp.log(jnp.exp(A[:, :2]).sum(1))[None, :], False),
    "logsumexp_other_shift": (lambda A: jnp.log(jnp.exp(A - A.max(1, keepdims=True)).sum(1)) + 0.5 * A.max(1), False),
    "softplus_overflow": (lambda A: jnp.log1p(jnp.exp(100.0 * A)) / 100.0, True),
    "logsumexp_keepdims_shift": (lambda A: jnp.log(jnp.exp(A - A.max(1, keepdims=True)).sum(1))
                                 + A.max(1, keepdims=True).squeeze(1), True),
}


@pytest.mark.parametrize("name", sorted(NEAR_MISSES))
@pytest.mark.slow
def test_near_misses_are_enclosed_soundly(name):
    from certify._interval import _ir, _patterns, interval_enclosure

    f, may_match = NEAR_MISSES[name]

    def F(z):
        return f(z.reshape(2, 3)).reshape(-1)

    prog = _ir.program_of(jax.make_jaxpr(F)(jnp.zeros(6)))
    kinds = [m.kind for m in (_patterns.match(prog, op) for op in prog.ops) if m is not None]
    if not may_match:
        assert "softmax" not in kinds, kinds
        assert "log_softmax" not in kinds, kinds
    wide = name == "softplus_overflow"
    lo, hi = (-10.0 if wide else -1.0) * np.ones(6), (10.0 if wide else 1.0) * np.ones(6)
    e = interval_enclosure(F, jnp.asarray(lo), jnp.asarray(hi))
    if wide:  # exp(100 a) overflows for a > 7.1: F is +inf there, and the enclosure says so
        assert np.any(~np.isfinite(np.asarray(e.fhi)))
        return
    x = lo + (hi - lo) * np.random.default_rng(1).uniform(size=(300, 6))
    fx = np.asarray(jax.vmap(F)(jnp.asarray(x)))
    jx = np.asarray(jax.vmap(jax.jacfwd(F))(jnp.asarray(x)))
    assert np.all(fx >= np.asarray(e.flo) - 1e-12)
    assert np.all(fx <= np.asarray(e.fhi) + 1e-12)
    assert np.all(jx >= np.asarray(e.jlo) - 1e-12)
    assert np.all(jx <= np.asarray(e.jhi) + 1e-12)


def test_an_inconsistent_pattern_is_a_refusal_not_an_exception(monkeypatch):
    from certify._interval import _patterns

    real = _patterns._softmax_jets

    def shifted(ctx, a, axes, *, log):  # a planted engine bug: the sharp enclosure moved away by 10
        out = real(ctx, a, axes, log=log)
        out.lo, out.hi = out.lo + 10.0, out.hi + 10.0
        return out

    monkeypatch.setattr(_patterns, "_softmax_jets", shifted)

    def F(z):
        return 3.0137 * z + jax.nn.softmax(z)  # a structure no other test compiles (the cache is by structure)

    g = games.from_pseudo_gradient(F, (1, 1), region=games.Region(-np.ones(2), np.ones(2)))
    cert = certify.certify(g, bounds=certify.bounds.Interval(subdivisions=3))  # fresh structure: not cached
    assert cert.status == "not_certified"
    assert "softmax pattern" in cert.reason, cert.reason
    assert "inconsistency" in cert.reason, cert.reason


def test_huge_finite_rounding_errors_are_a_status_not_an_exception():
    # Found by the program fuzzer (tests/certify/test_sound_fuzz_programs.py, seed 19): on
    # [-1e100, 1e100]^3 the products x_i x_j round with errors near 1e200 * 2^-53 ~ 1e184; the squares
    # of the per-entry bounds overflowed, and the cause lookup (``~isfinite(per).any()`` read as
    # ``~(isfinite(per).any())``) found no box: certify raised IndexError.
    a = -0.41351752333439107

    def F(x):
        return 2.0 * x + 0.2 * (x + a * (x * x[::-1] + 0.5))

    g = games.from_pseudo_gradient(F, (1, 1, 1))
    cert = certify.certify(g, region=games.Region(-1e100 * np.ones(3), 1e100 * np.ones(3)), bounds="interval")
    # d/dx_0 of a x_0 x_2 is a x_2, as low as -0.41 * 1e100 on the region: no strong monotonicity.
    assert cert.status == "not_certified"
    assert "mu_1" in cert.reason, cert.reason


def test_reduce_precision_overflow_is_invalid_not_certified():
    # Found by the program fuzzer (seed 19, program 142): reduce_precision with 8 exponent bits (the
    # bfloat16 range) rounds |v| > (2 - 2^-7) 2^127 = 3.39e38 to inf; the rule widened by 2^-7 relative only,
    # and F = 2x + reduce_precision(-x) on [-1e100, 1e100]^2 (F = -inf at x = 1e39 as JAX evaluates it) was certified.
    from jax import lax

    def F(x):
        return 2.0 * x + lax.reduce_precision(-x, exponent_bits=8, mantissa_bits=7)

    assert bool(jnp.isinf(jax.jit(F)(jnp.array([1e39, 0.0]))[0]))
    g = games.from_pseudo_gradient(F, (1, 1))
    cert = certify.certify(g, region=games.Region(-1e100 * np.ones(2), 1e100 * np.ones(2)), bounds="interval")
    assert cert.status == "invalid"
    assert "reduce_precision" in cert.reason, cert.reason
    # Near miss inside the range: [-1e38, 1e38] stays below 3.39e38 and is certified.
    cert = certify.certify(g, region=games.Region(-1e38 * np.ones(2), 1e38 * np.ones(2)), bounds="interval")
    assert cert.status == "certified", cert.reason
    # Below the format's smallest normal 2^-126 = 1.18e-38 the value is flushed: F_jax(1e-39) = 2e-39 while
    # F(1e-39) = 1e-39 in exact arithmetic; the rounding bound covers the gap.
    cert = certify.certify(g, region=games.Region(-1e-39 * np.ones(2), 1e-39 * np.ones(2)), bounds="interval")
    gap = abs(float(jax.jit(F)(jnp.array([1e-39, 0.0]))[0]) - 1e-39)
    assert gap >= 0.9e-39
    assert cert.extra["rounding_error"] >= gap


def test_rounding_bound_norm_does_not_overflow_and_names_an_unbounded_entry():
    from types import SimpleNamespace

    from certify.bounds._sound import rounding_bound

    nowhere = SimpleNamespace(rounding_site=lambda cause: None)
    # || (1e200, 1e200) ||_2 = sqrt(2) 1e200 (math.hypot, a second implementation), rounded up by a few ulps.
    boxes = SimpleNamespace(rerr=np.array([[1e200, 1e200]]), rcause=np.zeros(1, np.int32), comp=nowhere)
    eps, cause = rounding_bound(boxes)
    assert math.hypot(1e200, 1e200) <= eps <= math.hypot(1e200, 1e200) * (1 + 1e-14)
    assert cause == ""
    # One unbounded entry in the second of two boxes: an infinite bound with a cause, no exception.
    boxes = SimpleNamespace(rerr=np.array([[1.0, 2.0], [1.0, np.inf]]), rcause=np.zeros(2, np.int32), comp=nowhere)
    eps, cause = rounding_bound(boxes)
    assert eps == math.inf
    assert "could not be bounded" in cause


def test_rounding_bound_norm_does_not_underflow_on_subnormal_scales():
    from types import SimpleNamespace

    from certify.bounds._sound import rounding_bound

    # (1e-306)^2 underflows to 0: the plain sum of squares gave a zero bound on a nonzero error.
    # ||(1e-306, 1e-306)||_2 = sqrt(2) 1e-306 (math.hypot, a second implementation).
    boxes = SimpleNamespace(rerr=np.array([[1e-306, 1e-306]]), rcause=np.zeros(1, np.int32), comp=None)
    eps, _ = rounding_bound(boxes)
    assert math.hypot(1e-306, 1e-306) <= eps <= math.hypot(1e-306, 1e-306) * (1 + 1e-14)


def test_a_subnormal_region_is_refused_for_rounding():
    # Found by the program fuzzer (seed 19, family 133): on [0, 2.2e-308] x [0, 1e-310] the rounding
    # bound was 0 (its squares underflowed) and a certificate stood, although XLA flushes the
    # subnormal inputs: JAX's F = 2x is 0 at x = (1e-310, 1e-310), where F = 2x = (2e-310, 2e-310).
    def F(x):
        return 2.0 * x

    hi = np.array([2.2250738585072014e-308, 1e-310])
    assert float(jax.jit(F)(jnp.array([1e-310, 1e-310]))[0]) == 0.0
    g = games.from_pseudo_gradient(F, (1, 1))
    cert = certify.certify(g, region=games.Region(np.zeros(2), hi), bounds="interval")
    assert cert.extra["rounding_error"] >= math.hypot(2e-310, 2e-310)
    assert cert.status == "not_certified"
    assert cert.reason.startswith("rounding:"), cert.reason


def test_a_subnormal_constant_is_both_what_folding_keeps_and_what_the_run_time_flushes():
    # F(x) = 2x + (c * 1e300) x with c = 1e-310 (subnormal): in exact arithmetic c * 1e300 = 1e-10.
    # Jitted, XLA folds the constant product and keeps it (F = 2.0000000001 x); run op by op, XLA's
    # CPU code flushes the subnormal operand (F = 2x). Every entry point's enclosure holds both, and
    # the rounding bound covers the 1e-10 x between them (it was 9e-16: the constant counted exact).
    c = np.array([1e-310, 1e-310])

    def F(x):
        return 2.0 * x + (jnp.asarray(c) * 1e300) * x

    from certify._interval._interpreter import compile_enclosure, interval_enclosure, interval_rounding_error

    x = np.array([1.0, 0.5])
    folded, flushed = np.asarray(jax.jit(F)(jnp.asarray(x))), np.asarray(F(jnp.asarray(x)))
    exact = 2 * x + 1e-10 * x  # the product 1e-310 * 1e300 by hand
    np.testing.assert_allclose(folded, exact, rtol=1e-15)  # the two evaluations this test is about
    np.testing.assert_array_equal(flushed, 2 * x)
    comp, dyn = compile_enclosure(F, 2, jnp.float64, rounding=True)
    enc, rnd = comp(dyn, x[None], x[None], rounding=True)
    direct = interval_enclosure(F, jnp.asarray(x), jnp.asarray(x))
    for flo, fhi, jlo, jhi in ((enc.flo[0], enc.fhi[0], enc.jlo[0], enc.jhi[0]), direct[:4]):
        for value in (folded, flushed, exact):
            assert np.all(np.asarray(flo) <= value)
            assert np.all(value <= np.asarray(fhi))
        for slope in (2.0, 2.0 + 1e-10):  # dF_k/dx_k either way
            assert np.all(np.diag(np.asarray(jlo)) <= slope)
            assert np.all(slope <= np.diag(np.asarray(jhi)))
    for eps in (rnd.err[0], np.asarray(interval_rounding_error(F, jnp.asarray(x), jnp.asarray(x)))):
        assert np.all(eps >= np.abs(folded - flushed))
    # the affine-form tightening computes with the constants in XLA, which would flush them: not used
    from certify.bounds._sound import _AffineJacobian

    assert _AffineJacobian.of(F, 2, np.float64) is None
    assert _AffineJacobian.of(lambda z: 2.0 * z + (jnp.asarray([1e-300, 1e-300]) * 1e300) * z, 2, np.float64)


_WEIGHTS = np.full(20, 1e-300)  # over 16 entries: passed to the compiled programs as an argument (traced)


@pytest.mark.parametrize(("name", "coefficient"), [
    ("product", lambda: (jnp.asarray(_WEIGHTS) * 1e-10) * 1e300),  # 1e-310 * 1e300 = 1e-10
    ("sum", lambda: (jnp.asarray(np.full(20, 3e-308)) + jnp.asarray(np.full(20, -2.99e-308))) * 1e300),  # 1e-10
    ("quotient", lambda: (jnp.asarray(_WEIGHTS) / 1e10) * 1e300),  # 1e-10
    ("reduction", lambda: jnp.sum(jnp.asarray(_WEIGHTS) * 1e-10) * 1e300 * jnp.ones(2)),  # 20 * 1e-10
])
def test_arithmetic_on_traced_constants_that_underflows_is_enclosed(name, coefficient):
    # The same folding/flushing split for a subnormal made at run time from normal constants that the
    # engine receives as traced arguments: its own arithmetic flushes it as well, and each operation's
    # result is widened by the smallest normal number, so the enclosures hold the exact value and both
    # evaluations, and the rounding bound covers their gap.
    def F(x):
        return 2.0 * x + coefficient()[:2] * x

    from certify._interval._interpreter import compile_enclosure
    from certify.bounds._sound import _AffineJacobian

    x = np.array([1.0, 0.5])
    jitted, stepwise = np.asarray(jax.jit(F)(jnp.asarray(x))), np.asarray(F(jnp.asarray(x)))
    exact = 2 * x + (2e-9 if name == "reduction" else 1e-10) * x
    np.testing.assert_array_equal(stepwise, 2 * x)  # op by op the subnormal intermediate is flushed
    comp, dyn = compile_enclosure(F, 2, jnp.float64, rounding=True)
    assert dyn  # the constants are traced, as this test intends
    assert all(d.shape == (20,) for d in dyn)
    enc, rnd = comp(dyn, x[None], x[None], rounding=True)
    for value in (jitted, stepwise, exact):
        assert np.all(np.asarray(enc.flo[0]) <= value)
        assert np.all(value <= np.asarray(enc.fhi[0]))
    assert np.all(np.asarray(rnd.err[0]) >= np.abs(exact - stepwise))
    affine = _AffineJacobian.of(F, 2, np.float64)  # computes with the traced constants in XLA too
    jlo, jhi = affine(x[None], x[None])
    for jac in (jax.jit(jax.jacfwd(F))(jnp.asarray(x)), jax.jacfwd(F)(jnp.asarray(x)), np.diag(exact / x)):
        jac = np.asarray(jac).reshape(-1)
        assert np.all(jlo[0] <= jac)
        assert np.all(jac <= jhi[0])


# --------------------------------------------------------------------------------------------
# Cost before work.
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_a_two_million_dimensional_game_is_refused_for_cost(mode):
    n = 2_000_000
    g = games.from_pseudo_gradient(lambda z: z + 0.1 * jnp.tanh(z[::-1]), (n // 2, n // 2),
                                   region=games.Region(-np.ones(n), np.ones(n)))  # fmt: skip
    cert = certify.certify(g, bounds=mode)
    assert cert.status == "not_certified"
    assert cert.extra["not_enclosable"] == "cost", cert.reason
    assert "GiB" in cert.reason
