"""One decision (issue 20 step 1, issue 19 "the strongest claim the run proves") and one rule for
options that do not apply (issue 24), in the library and on the command line."""

import dataclasses
import json
import re
from pathlib import Path

import jax.numpy as jnp
import numpy as np
import pytest

import certify
import games
from certify import cli
from certify._certificate import V2_LAYOUT
from certify._decision import TESTS, decide, tolerance_scale
from certify.bounds import Exact, Interval, NotApplicable, Sampled

V1 = Path(__file__).parent.parent / "data" / "certificates_v1"
V2 = Path(__file__).parent.parent / "data" / "certificates_v2"


def _tanh_sin_jacobian(x, y, c):
    # F = (x + c/2 tanh y + x^3/10, y - 0.8 c sin x): derived by hand.
    return np.array([[1 + 0.3 * x**2, 0.5 * c / np.cosh(y) ** 2], [-0.8 * c * np.cos(x), 1.0]])


def _worst_direct(c, weights):
    """min over a fine grid of lambda_min(sym(W^1/2 J W^-1/2)) on [-1, 1]^2 (an upper bound on the infimum)."""
    s = np.sqrt(np.asarray(weights, float))
    grid = np.linspace(-1.0, 1.0, 201)
    return min(np.linalg.eigvalsh(0.5 * (a + a.T))[0] for x in grid for y in grid
               for a in [s[:, None] * _tanh_sin_jacobian(x, y, c) / s[None, :]])


# --- the decision itself -------------------------------------------------------------------------------


def test_decide_picks_the_largest_passing_margin_and_breaks_ties_in_test_order():
    nan = float("nan")
    margins = [[0.3, 0.3, 0.3],     # a tie: the small-gain test (first) wins
               [0.1, 0.5, 0.4],     # w = 1 strongest
               [-1.0, nan, 0.2],    # NaN never passes
               [0.2, -1.0, 0.2],    # tie between small-gain and SGN weights
               [5e-10, 1e-10, nan]]  # within the tolerance 1e-9 * max(1, |mu|, L) = 1e-9: refused
    d = decide(margins, np.ones((5, 2)), np.zeros((5, 2, 2)), margin_tol=1e-9)
    assert d.proved_by.tolist() == ["small-gain", "direct (w = 1)", "direct (SGN weights)", "small-gain", ""]
    assert d.certified.tolist() == [True, True, True, True, False]
    np.testing.assert_array_equal(d.margin, [0.3, 0.5, 0.2, 0.2, 5e-10])  # the SGN margin where refused
    np.testing.assert_array_equal(d.choose([1.0] * 5, [2.0] * 5, [3.0] * 5), [1.0, 2.0, 3.0, 1.0, 1.0])


def test_decide_tolerance_scales_with_the_bounds_and_needs_clean_weights():
    # scale max(1, |mu|, L) = 1000: tol = 1e-6, so 5e-7 is refused and 2e-6 passes
    d = decide([[5e-7, nan_, nan_], [2e-6, nan_, nan_]], np.array([[1000.0, 1.0]] * 2), np.zeros((2, 2, 2)))
    assert d.certified.tolist() == [False, True]
    assert tolerance_scale(np.array([1.0, -3.0]), np.array([[0.0, 2.0], [0.5, 0.0]])) == 3.0
    # weights obtained uncleanly: the small-gain test cannot pass, a direct test still can
    d = decide([[0.5, nan_, 0.4], [0.5, nan_, nan_]], np.ones(2), np.zeros((2, 2)), weights_ok=False)
    assert d.proved_by.tolist() == ["direct (SGN weights)", ""]
    # the version-1 rule: the small-gain test first, even when a direct test proves more
    d = decide([[0.1, 0.5, 0.4], [-0.1, 0.5, 0.4]], np.ones(2), np.zeros((2, 2)), strongest=False)
    assert d.proved_by.tolist() == ["small-gain", "direct (w = 1)"]
    assert TESTS == ("small-gain", "direct (w = 1)", "direct (SGN weights)")


nan_ = float("nan")


def test_tanh_sin_reports_the_strongest_claim_the_sound_bounds_prove():
    # issue 19: with interval bounds at coupling 1.5 the small-gain margin is 0.0513 while the direct test
    # at w = 1 proves 0.557; the direct test at the SGN weights proves more still, and that is reported.
    c = certify.certify(games.get_game("tanh-sin", coupling=1.5), bounds="interval")
    assert c.certified
    assert c.bounds.kind == "sound"
    assert c.sgn_margin == pytest.approx(0.0513, abs=1e-4)
    assert c.bounds.euclidean_margin == pytest.approx(0.557, abs=1e-3)
    assert c.proved_by == "direct (SGN weights)"
    assert c.margin == c.extra["direct_margin"] == max(c.sgn_margin, c.bounds.euclidean_margin,
                                                       c.extra["direct_margin"])
    assert 0.557 < c.margin <= _worst_direct(1.5, c.weights.values) + 1e-12  # sound: below the true infimum
    assert c.steps.euler_step == pytest.approx(2 * c.margin / c.bounds.weighted_lipschitz**2, rel=1e-12)
    assert c.weights.band is not None  # the small-gain test passes too: its band is kept
    # coupling 2.0 no longer gets a step ten times larger than 1.5 (1.5 was held to the weaker small-gain
    # margin): both are proved by the same test, and the step shrinks as the coupling grows
    stronger = certify.certify(games.get_game("tanh-sin", coupling=2.0), bounds="interval")
    assert stronger.proved_by == "direct (SGN weights)"
    assert c.steps.euler_step > stronger.steps.euler_step
    report = certify.verify(c, games.get_game("tanh-sin", coupling=1.5), n_pairs=16, n_steps=40)
    assert report.ok


@pytest.mark.slow
def test_tanh_sin_steps_shrink_as_the_coupling_grows():
    # the same rule on three couplings (the default suite checks 1.5 against 2.0)
    steps = [certify.certify(games.get_game("tanh-sin", coupling=k), bounds="interval") for k in (1.0, 1.5, 2.0)]
    assert [s.proved_by for s in steps] == ["direct (SGN weights)"] * 3
    assert steps[0].steps.euler_step > steps[1].steps.euler_step > steps[2].steps.euler_step


def test_grid_tile_sweep_point_and_certify_decide_identically_where_only_the_direct_test_proves():
    # rotation J = [[1, c], [-c, 1]]: sym J = I proves margin 1 at w = 1, while the comparison matrix
    # [[1, -c], [-c, 1]] refuses for c >= 1 (alpha_* = 1 - c). At c = 2: beta = ||J|| = sqrt 5, h < 2/5.
    game = games.get_game("rotation", c=2.0)
    box = games.Region([-1.0, -1.0], [1.0, 1.0])
    one = certify.certify(game)
    tile = certify.certify_region_grid(game, box, divisions=1, n_samples=4)
    sweep = certify.sweep_parameter("rotation", "c", [2.0])
    sampled = certify.certify(game, region=box, bounds=Sampled(n_samples=4))
    for label, got in [("grid", tile), ("sweep", sweep)]:
        assert got.certified.tolist() == [True], label
        assert got.proved_by.tolist() == [one.proved_by] == ["direct (w = 1)"], label
        np.testing.assert_allclose(got.margin, [one.margin], rtol=1e-12, err_msg=label)
        np.testing.assert_allclose(got.margin, [1.0], rtol=1e-12, err_msg=label)
        np.testing.assert_allclose(got.sgn_margin, [one.sgn_margin], rtol=1e-12, atol=1e-12, err_msg=label)
        np.testing.assert_allclose(got.weights, [one.weights.values], rtol=1e-12, err_msg=label)
        np.testing.assert_allclose(got.euler_step, [one.steps.euler_step], rtol=1e-12, err_msg=label)
    assert one.sgn_margin == pytest.approx(-1.0, abs=1e-12)
    assert one.steps.euler_step == pytest.approx(0.4, rel=1e-12)
    assert (sampled.proved_by, sampled.margin, sampled.steps.euler_step) == (one.proved_by, pytest.approx(1.0),
                                                                       pytest.approx(0.4))


def _count_engine(monkeypatch, programs=1):
    """Counts traces of the engine's enclosure and rounding programs (at most ``programs`` each, asserted by
    chex) and their runs: ``enclosures`` and ``roundings`` list the batch size of each run."""
    import chex

    from certify._interval import _interpreter

    chex.clear_trace_counter()
    enclosure = chex.assert_max_traces(_interpreter._engine_program, n=programs)  # raises on one more trace
    rounding = chex.assert_max_traces(_interpreter._rounding_program, n=programs)
    counts = {"traces": 0, "rounding_traces": 0, "enclosures": [], "roundings": []}
    run, run_rounding = _interpreter.CompiledEnclosure.__call__, _interpreter.CompiledEnclosure.rounding_bounds

    def traced(*args, **kwargs):  # called once per trace of a jitted engine program
        counts["traces"] += 1
        return enclosure(*args, **kwargs)

    def traced_rounding(*args, **kwargs):
        counts["rounding_traces"] += 1
        return rounding(*args, **kwargs)

    def ran(self, dyn, blo, bhi, **kwargs):
        counts["enclosures"].append(len(blo))
        return run(self, dyn, blo, bhi, **kwargs)

    def ran_rounding(self, dyn, blo, bhi):
        counts["roundings"].append(len(blo))
        return run_rounding(self, dyn, blo, bhi)

    monkeypatch.setattr(_interpreter, "_engine_program", traced)
    monkeypatch.setattr(_interpreter, "_rounding_program", traced_rounding)
    monkeypatch.setattr(_interpreter.CompiledEnclosure, "__call__", ran)
    monkeypatch.setattr(_interpreter.CompiledEnclosure, "rounding_bounds", ran_rounding)
    return counts


def test_interval_certificate_compiles_each_engine_program_once_and_encloses_each_box_once(monkeypatch):
    counts = _count_engine(monkeypatch)
    # a coupling no other test uses: its literal makes a program structure of its own (nothing cached)
    c = certify.certify(games.get_game("tanh-sin", coupling=1.2345), bounds="interval")
    assert c.certified
    assert c.steps.rk4_step > 0  # the RK4 region used F at the centre, enclosed by the same compiled engine
    assert 0 < c.extra["rounding_error"] < 1e-12  # the rounding pass ran (issue 19)
    # Two engine programs, each traced once: the enclosure, run on the region's box (beta(w) at any w
    # reuses it) and on the centre (same batch shape of 32: no new trace); the rounding pass of issue
    # 19, run once on the region's box because the bounds certify.
    assert counts == {"traces": 1, "rounding_traces": 1, "enclosures": [32, 32], "roundings": [32]}
    again = certify.certify(games.get_game("tanh-sin", coupling=1.2345), bounds="interval")
    assert again == c
    # cached by program structure: no new trace
    assert counts == {"traces": 1, "rounding_traces": 1, "enclosures": [32] * 4, "roundings": [32] * 2}


def test_compiled_engine_programs_outlive_jax_caches_and_a_refusal_is_not_traced_again(monkeypatch):
    # A long process (a fuzzer, a sweep) jits many other functions, and JAX's shared trace caches then
    # evict the engine's program: it was traced and compiled again (16 times in 80 fuzzed games). The
    # compiled program is the engine's own; jax.clear_caches() stands in for the eviction here.
    import jax

    counts = _count_engine(monkeypatch, programs=2)  # tanh-sin's and the refused one's
    game = games.get_game("tanh-sin", coupling=1.2349)  # a structure of its own
    first = certify.certify(game, bounds="interval")
    jax.clear_caches()
    assert certify.certify(game, bounds="interval") == first
    assert (counts["traces"], counts["rounding_traces"]) == (1, 1)
    # a construct the engine refuses while tracing (two-operand sort) is refused again without a trace
    F = lambda x: x + 0.1 * jax.lax.sort((x, x[::-1]), num_keys=1)[1]  # noqa: E731
    sorter = games.from_pseudo_gradient(F, (1, 1), region=games.Region(-np.ones(2), np.ones(2)))
    refused = [certify.certify(sorter, bounds="interval") for _ in range(2)]
    assert refused[0] == refused[1]
    assert refused[0].status == "not_certified"
    assert "'sort' has no sound interval rule with several operands" in refused[0].reason
    assert counts["traces"] == 2  # the refused program was traced once


def test_interval_bound_that_certifies_nothing_never_compiles_the_rounding_pass(monkeypatch):
    counts = _count_engine(monkeypatch)
    # F(x) = -x + 0.1 sin(x): DF = diag(-1 + 0.1 cos x) has eigenvalues <= -0.9 everywhere, so every
    # player's curvature and every direct test are negative: no certificate, no rounding error needed.
    game = games.from_pseudo_gradient(lambda x: -x + 0.1 * jnp.sin(x), (1, 1),
                                      region=games.Region(-np.ones(2), np.ones(2)))
    c = certify.certify(game, bounds="interval")
    assert c.status == "not_certified", c.reason
    assert "rounding_error" not in c.extra
    assert (counts["traces"], counts["rounding_traces"], counts["roundings"]) == (1, 0, [])


def test_a_rounding_pass_without_a_rule_refuses_the_certificate_for_rounding(monkeypatch):
    # The rounding pass is traced only when a certificate needs it; a construct it cannot bound there
    # must refuse the certificate with the engine's reason (a status, never an exception).
    from certify._interval import _interpreter
    from certify._interval._errors import NotEnclosable

    def refuse(*args, **kwargs):
        raise NotEnclosable("primitive 'planted' has no sound rounding rule")

    monkeypatch.setattr(_interpreter, "_rounding_program", refuse)
    c = certify.certify(games.get_game("tanh-sin", coupling=1.2348), bounds="interval")  # a structure of its own
    assert c.status == "not_certified"
    assert c.reason == ("rounding: the evaluation error of F as JAX computes it cannot be bounded on the region: "
                        "primitive 'planted' has no sound rounding rule")  # fmt: skip
    assert c.extra["rounding_error"] == float("inf")


@pytest.mark.slow  # the interval count above is the acceptance test; refine and padded in the slow suite
def test_refine_certificate_compiles_each_engine_program_once(monkeypatch):
    counts = _count_engine(monkeypatch)
    c = certify.certify(games.get_game("tanh-sin", coupling=1.2346), bounds="refine")
    assert c.certified
    assert 0 < c.extra["rounding_error"] < 1e-12
    # every round's enclosures without the rounding pass; it runs once, on the final partition, for the
    # certificate; all in batches of one shape
    assert (counts["traces"], counts["rounding_traces"]) == (1, 1)
    assert len(counts["roundings"]) == 1  # the final partition (up to 32 boxes: one batch)
    assert set(counts["enclosures"]) == {32}


@pytest.mark.slow  # the interval count above is the acceptance test; refine and padded in the slow suite
def test_padded_certificate_compiles_each_engine_program_once(monkeypatch):
    counts = _count_engine(monkeypatch, programs=2)
    c = certify.certify(games.get_game("tanh-sin", coupling=1.2347), bounds="padded")
    assert c.certified
    assert 0 < c.extra["rounding_error"] < 1e-12
    # two enclosure programs: F's (the box, the grid points and the centre) and DF's (the second-order
    # bound), each traced once; one rounding program, F's, run once on the whole box
    assert (counts["traces"], counts["rounding_traces"]) == (2, 1)
    assert counts["roundings"] == [32]


# --- version-1 certificates ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(p.stem for p in V1.glob("*.json")))
def test_version_1_certificate_files_still_verify(name):
    data = json.loads((V1 / f"{name}.json").read_text())
    assert data["schema_version"] == 1
    assert "proved_by" not in data
    cert = certify.Certificate.from_dict(data)
    assert cert.schema_version == 1
    assert cert.proved_by == data["extra"].get("proved_by", "")
    result = certify.check_certificate(cert)
    assert result.consistent, result.message
    assert certify.check_certificate(dataclasses.replace(cert, margin=cert.margin * 1.5)).consistent is False
    # a JSON round trip keeps it a version-1 certificate that verifies
    again = certify.Certificate.from_json(cert.to_json())
    assert again == cert
    assert certify.check_certificate(again).consistent


@pytest.mark.parametrize("name", sorted(p.stem for p in V2.glob("*.json")))
def test_version_2_certificate_files_read_back_bit_for_bit_and_verify(name):
    # written by `sgn certify` before the nested layout (schema 3): sgn-toy (exact), tanh-sin with
    # --bounds sampled, tanh-sin --param coupling=1.5 --bounds interval
    data = json.loads((V2 / f"{name}.json").read_text())
    assert data["schema_version"] == 2
    cert = certify.Certificate.from_dict(data)
    assert cert.schema_version == 2
    nested = cert.to_dict()  # NaN written as "nan" in both layouts
    for flat, (group, field) in V2_LAYOUT.items():  # every number, bit for bit (== on floats)
        assert nested[group][field] == data[flat], flat
    assert (cert.status, cert.margin, cert.proved_by, cert.sgn_margin) == (data["status"], data["margin"],
                                                                          data["proved_by"], data["sgn_margin"])
    result = certify.check_certificate(cert)
    assert result.consistent, result.message
    tampered = dataclasses.replace(cert, steps=dataclasses.replace(cert.steps, euler_step=cert.steps.euler_step * 2))
    assert "'steps.euler_step'" in certify.check_certificate(tampered).message
    again = certify.Certificate.from_json(cert.to_json())  # written back in the nested layout, still version 2
    assert again == cert
    assert again.schema_version == 2
    assert "bounds" in json.loads(cert.to_json())
    # the same numbers as a fresh version-3 certificate of the same game and settings
    assert result.recomputed.to_dict() == {**cert.to_dict(), "schema_version": 3}


def test_version_3_is_written_nested_with_proved_by_as_a_field():
    c = certify.certify(games.get_game("rotation"))
    data = c.to_dict()
    assert data["schema_version"] == 3
    assert data["proved_by"] == "direct (w = 1)"
    assert "proved_by" not in data["extra"]
    assert data["sgn_margin"] == pytest.approx(-1.0)
    assert set(data) == {"status", "reason", "proved_by", "margin", "sgn_margin", "game", "region", "bounds",
                         "weights", "steps", "settings", "extra", "schema_version"}
    assert data["weights"]["method"] == "perron"
    assert data["settings"]["geometry"] == "euclidean"
    assert certify.check_certificate(certify.Certificate.from_dict(data)).consistent
    with pytest.raises(ValueError, match="expected schema_version 1, 2 or 3, got 4"):
        certify.Certificate.from_dict({**data, "schema_version": 4})
    flat = {"schema_version": 2, **{k: data[g][f] for k, (g, f) in V2_LAYOUT.items()},
            **{k: data[k] for k in ("status", "reason", "proved_by", "margin", "sgn_margin", "game", "region",
                                    "extra")}}
    assert certify.Certificate.from_dict(flat).to_dict() == {**data, "schema_version": 2}
    with pytest.raises(ValueError, match="unknown \\['surprise'\\]"):
        certify.Certificate.from_dict({**flat, "surprise": 1})
    with pytest.raises(ValueError, match="unknown \\['bounds.surprise'\\]"):
        certify.Certificate.from_dict({**data, "bounds": {**data["bounds"], "surprise": 1}})


def test_flat_names_of_version_2_still_read_with_a_deprecation_warning():
    c = certify.certify(games.get_game("sgn-toy"))
    with pytest.warns(DeprecationWarning, match="use Certificate.steps.euler_step"):
        assert c.euler_step == c.steps.euler_step
    with pytest.warns(DeprecationWarning, match="use Certificate.weights.method"):
        assert c.weight_method == "perron"
    with pytest.raises(AttributeError):
        c.no_such_field  # noqa: B018


def test_certify_has_at_most_six_parameters():
    import inspect

    assert len(inspect.signature(certify.certify).parameters) <= 6


# --- options that do not apply: one rule for the library and the command line -------------------------

NOT_APPLICABLE = [
    # (game, library call kwargs for resolve, CLI argv tail, library fragment, CLI fragment)
    ("sgn-toy", {"spec": "exact", "seed": 3}, ["--bounds", "exact", "--seed", "3"],
     "seed does not apply to bounds exact", "--seed does not apply to --bounds exact"),
    ("tanh-sin", {"spec": "interval", "seed": 3}, ["--bounds", "interval", "--seed", "3"],
     "seed does not apply to bounds interval", "--seed does not apply to --bounds interval"),
    ("coordination", {"spec": "auto", "seed": 3}, ["--seed", "3"],
     "seed does not apply: coordination is certified in the mirror (KL) geometry",
     "--seed does not apply: coordination is certified in the mirror (KL) geometry"),
    ("sgn-toy", {"spec": "exact", "n_samples": 8}, ["--bounds", "exact", "--samples", "8"],
     "n_samples does not apply to bounds exact", "--samples does not apply to --bounds exact"),
    ("sgn-toy", {"spec": "auto", "region": games.Region([-1.0, -1.0], [1.0, 1.0])}, ["--region", "-1:1"],
     "region does not apply to the exact bounds of the affine game sgn-toy",
     "--region does not apply to the exact bounds of the affine game sgn-toy"),
    ("tanh-sin", {"spec": "sampled", "subdivisions": 2}, None,
     "subdivisions does not apply to bounds sampled", None),
]


@pytest.mark.parametrize(("name", "kwargs", "argv", "lib", "flag"), NOT_APPLICABLE,
                         ids=[f"{r[0]}-{sorted(r[1])}" for r in NOT_APPLICABLE])
def test_options_that_do_not_apply_are_refused_by_library_and_cli(name, kwargs, argv, lib, flag, capsys):
    game = games.get_game(name)
    with pytest.raises(NotApplicable, match=re.escape(lib)):
        certify.bounds.resolve(game=game, **kwargs)
    if "region" in kwargs:  # through certify itself
        with pytest.raises(ValueError, match=re.escape(lib)):
            certify.certify(game, region=kwargs["region"])
    if argv is not None:
        assert cli.main(["certify", name, *argv]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1, err
        assert err[0].startswith("sgn: error: ")
        assert flag in err[0]


def test_method_objects_carry_their_settings_and_zero_samples_is_refused_in_both(capsys):
    game = games.get_game("tanh-sin")
    with pytest.raises(ValueError, match="expected a positive int n_samples, got 0"):
        Sampled(n_samples=0)
    with pytest.raises(ValueError, match="positive int n_samples"):
        certify.bounds.resolve("sampled", game, n_samples=0)
    assert cli.main(["certify", "tanh-sin", "--samples", "0"]) == 2
    assert "positive int n_samples, got 0" in capsys.readouterr().err
    with pytest.raises(ValueError, match="as settings of the method object"):
        certify.bounds.resolve(Sampled(), game, n_samples=8)
    with pytest.raises(NotApplicable, match="bounds exact needs an affine game"):
        certify.certify(game, bounds=Exact())
    assert certify.certify(game, bounds=Sampled(n_samples=8, seed=5)).settings.seed == 5
    assert certify.certify(game, bounds=Interval(subdivisions=2)).bounds.n_points == 4
    # the sweep applies the same rule before any work
    with pytest.raises(NotApplicable, match="seed does not apply to bounds exact"):
        certify.sweep_parameter("lq64", "lam", [0.0, 1.0], seed=1)
