"""Near-threshold decisions, solver fallbacks and the closed-form cross-check of solver margins."""

import cvxpy as cp
import numpy as np
import pytest

import certify
import games
from certify import _weights  # fault injection into the private solver call

TOY_MU, TOY_L = np.ones(2), np.array([[0.0, 10.0], [0.05, 0.0]])


def test_tandem_is_on_the_boundary_and_refused():
    # Tandem: J = [[2, 2], [2, 2]] everywhere, so mu = (2, 2), L12 = L21 = 2 and L12 L21 = mu1 mu2:
    # alpha_max = 2 - 2 = 0 exactly (small-gain boundary). Must be refused.
    cert = certify.certify(games.get_game("tandem"), bounds=certify.bounds.Sampled(n_samples=16))
    assert cert.status == certify.Status.NOT_CERTIFIED
    assert abs(cert.margin) <= certify.MARGIN_TOL * 2


@pytest.mark.parametrize("sign", [+1, -1])
def test_2x2_within_1e_12_of_the_threshold_is_refused(sign):
    # L12 L21 = mu1 mu2 (1 + sign 1e-12): alpha_max = 1 - sqrt(1 + sign 1e-12) ~ -sign 5e-13.
    c = np.sqrt(1.0 + sign * 1e-12)
    cert = certify.certify(games.quadratic([[1.0, c], [c, 1.0]]))
    assert cert.status == certify.Status.NOT_CERTIFIED
    assert abs(cert.margin) < 1e-11


def test_margin_just_above_the_tolerance_certifies():
    # alpha = 1 - c = 1e-6 >> MARGIN_TOL * scale = 1e-9: certified.
    cert = certify.certify(games.quadratic([[1.0, 1.0 - 1e-6], [1.0 - 1e-6, 1.0]]))
    assert cert.status == certify.Status.CERTIFIED
    assert cert.margin == pytest.approx(1e-6, rel=1e-6)


def test_margin_tol_is_applied_against_certifying():
    # alpha = 1e-6 but the caller demands margin > 1e-3 * scale (scale = 1): refused with the reason.
    cert = certify.certify(games.quadratic([[1.0, 1.0 - 1e-6], [1.0 - 1e-6, 1.0]]), margin_tol=1e-3)
    assert cert.status == certify.Status.NOT_CERTIFIED
    assert "tolerance" in cert.reason


# --- solver fallback -----------------------------------------------------------------------------


def _fake_solve(status_by_solver, calls):
    """A stand-in for ``_solve`` that forces a status for some solvers and runs the others."""
    real = _weights._solve

    def solve(problem, solver):
        calls.append(solver)
        forced = status_by_solver.get(solver)
        if forced == "raise":
            raise cp.error.SolverError("forced failure")
        if forced is None:
            return real(problem, solver)
        real(problem, solver)
        problem._status = forced  # cvxpy keeps the status here

    return solve


@pytest.mark.parametrize(("method", "first", "second"), [("sdp", "CLARABEL", "SCS"), ("lp", "HIGHS", "CLARABEL")])
@pytest.mark.parametrize("failure", ["raise", cp.OPTIMAL_INACCURATE, cp.SOLVER_ERROR])
def test_preferred_solver_fails_fallback_produces_weights(monkeypatch, method, first, second, failure):
    calls = []
    monkeypatch.setattr(_weights, "_solve", _fake_solve({first: failure}, calls))
    r = certify.optimize_block_weights(TOY_MU, TOY_L, weight_method=method)
    assert second in calls
    assert r.solver == second  # the fallback produced the weights, and it is recorded
    assert any(s == first for s, _ in r.failures)
    assert r.status == "optimal"
    assert r.margin == pytest.approx(1 - 1 / np.sqrt(2), abs=1e-6)  # spec TC1


@pytest.mark.parametrize("method", ["sdp", "lp"])
@pytest.mark.parametrize("failure", ["raise", cp.OPTIMAL_INACCURATE, cp.INFEASIBLE_INACCURATE, cp.SOLVER_ERROR])
def test_all_solvers_fail_never_certifies(monkeypatch, method, failure):
    solvers = _weights.SDP_SOLVERS if method == "sdp" else _weights.LP_SOLVERS
    monkeypatch.setattr(_weights, "_solve", _fake_solve(dict.fromkeys(solvers, failure), []))
    r = certify.optimize_block_weights(TOY_MU, TOY_L, weight_method=method)
    assert r.status == "solver_failed"
    assert r.solver is None
    cert = certify.certify(games.get_game("sgn-toy"), weight_method=method)
    assert cert.status == certify.Status.NOT_CERTIFIED
    assert "solver_failed" in cert.reason


def test_solver_margin_disagreeing_with_closed_form_is_never_certified(monkeypatch):
    # Force the SDP oracle to return the (valid but poor) weights w = (1, 10): alpha_*(1, 10) =
    # -0.660196 (spec TC1) versus lambda_P = 0.292893: a gap far above XCHECK_RTOL.
    def fake_bisect(oracle, mu, coupling, tol):
        return (np.array([1.0, 10.0]), "CLARABEL"), 0.0

    monkeypatch.setattr(_weights, "_bisect", fake_bisect)
    r = certify.optimize_block_weights(TOY_MU, TOY_L, weight_method="sdp")
    assert r.status == "margin_mismatch"
    assert r.margin == pytest.approx(-0.660196, abs=1e-6)
    assert r.perron_margin == pytest.approx(1 - 1 / np.sqrt(2), rel=1e-12)
    cert = certify.certify(games.get_game("sgn-toy"), weight_method="sdp")
    assert cert.status == certify.Status.NOT_CERTIFIED
    assert "margin_mismatch" in cert.reason


def test_solver_weights_above_the_supremum_are_never_certified(monkeypatch):
    # A margin above lambda_P is impossible; if the exact recomputation ever said so (a bug),
    # the cross-check must refuse. Simulate it by shifting the closed form down.
    import dataclasses

    import sgn

    closed_form = sgn.perron_weights
    monkeypatch.setattr(sgn, "perron_weights", lambda *a, **k: dataclasses.replace(closed_form(*a, **k), upper=0.1))
    r = certify.optimize_block_weights(TOY_MU, TOY_L, weight_method="lp")
    assert r.status == "margin_mismatch"


@pytest.mark.parametrize("method", ["sdp", "lp"])
def test_cvxpy_methods_agree_with_closed_form_on_tc8(method):
    # Spec TC8: alpha_max = 1 - 0.4^(1/3) for mu = 1, L12 = L23 = 2, L31 = 0.1.
    coupling = np.array([[0.0, 2.0, 0.0], [0.0, 0.0, 2.0], [0.1, 0.0, 0.0]])
    r = certify.optimize_block_weights(np.ones(3), coupling, weight_method=method)
    assert r.status == "optimal"
    assert r.margin == pytest.approx(1 - 0.4 ** (1 / 3), abs=1e-6)
