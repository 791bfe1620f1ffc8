"""Certified basins: solution vs closed form, radius by hand, the Nash check's three verdicts."""

import dataclasses
import json
import math

import numpy as np
import pytest

import certify
import games
from certify import basin_radius, certified_basin


def affine_box_game():
    # F(x) = J x + b with J = [[2, 1], [0.5, 1]], b = (-2, -0.5), region [-1, 2] x [-1, 1].
    # Closed form: J x* = (2, 0.5) -> x* = (1, 0) (det 1.5; Cramer: (2 - 0.5)/1.5, (1 - 1)/1.5).
    jac = np.array([[2.0, 1.0], [0.5, 1.0]])
    b = np.array([-2.0, -0.5])
    g = games.quadratic(jac, b=b, region=games.Region([-1.0, -1.0], [2.0, 1.0]))
    return g, jac, b


def test_solution_residual_matches_closed_form():
    g, jac, b = affine_box_game()
    x_star = np.array([1.0, 0.0])
    np.testing.assert_allclose(jac @ x_star + b, 0.0)
    c = certify.certify(g, bounds=certify.bounds.Sampled(n_samples=16))  # region-based certificate
    assert c.certified
    basin = certified_basin(c, g, tol=1e-14)
    np.testing.assert_allclose(basin.solution, x_star, atol=1e-12)
    assert basin.residual <= 1e-12
    assert basin.in_region
    # A-posteriori bound holds: ||x - x*||_M <= error_bound.
    w = np.asarray(c.weights.values)
    dist = math.sqrt(float(np.sum(w * (np.asarray(basin.solution) - x_star) ** 2)))
    assert dist <= basin.error_bound + 1e-15
    # Radius by hand: rho = min_k sqrt(w_k) * min(x_k - lo_k, hi_k - x_k).
    lo, hi = np.array([-1.0, -1.0]), np.array([2.0, 1.0])
    hand = min(math.sqrt(w[k]) * min(x_star[k] - lo[k], hi[k] - x_star[k]) for k in range(2))
    np.testing.assert_allclose(basin.radius, hand, rtol=1e-10)
    assert basin.nash_check == "passed"
    assert basin.nash_sound is False
    assert json.loads(json.dumps(basin.to_dict()))["nash_check"] == "passed"


def test_basin_radius_by_hand():
    # x = (0.5, 0.2, 0.0) in [0,1] x [0,1] x [-1, 3], players (2, 1), w = (4, 9):
    # player 1: sqrt(4) * min(0.5, 0.5, 0.2, 0.8) = 0.4; player 2: sqrt(9) * min(1, 3) = 3.
    r = basin_radius([0.5, 0.2, 0.0], [0.0, 0.0, -1.0], [1.0, 1.0, 3.0], [4.0, 9.0], (2, 1))
    assert r == pytest.approx(0.4, rel=1e-15)
    assert math.isnan(basin_radius([2.0], [0.0], [1.0], [1.0], (1,)))
    with pytest.raises(ValueError, match="expected solution, lo, hi of one shape"):
        basin_radius([0.0, 0.0], [0.0], [1.0], [1.0], (1,))


def test_forward_invariance_of_the_ball():
    # Start on the ball's boundary: every Euler iterate stays within the ball (M-distance nonincreasing).
    g, jac, b = affine_box_game()
    c = certify.certify(g, bounds=certify.bounds.Sampled(n_samples=16))
    basin = certified_basin(c, g)
    w = np.asarray(c.weights.values)
    x_star = np.asarray(basin.solution)
    x = x_star + np.array([basin.radius / math.sqrt(w[0]), 0.0])  # on the sphere, along coordinate 1
    prev = basin.radius
    for _ in range(50):
        x = x - c.steps.euler_best_step * (jac @ x + b)
        d = math.sqrt(float(np.sum(w * (x - x_star) ** 2)))
        assert d <= prev * (1 + 1e-12)
        prev = d


def test_global_certificate_has_infinite_radius():
    g = games.get_game("sgn-toy")
    c = certify.certify(g)
    basin = certified_basin(c, g, x0=np.array([0.1, -0.2]), tol=1e-13)
    assert basin.radius == math.inf
    assert basin.nash_check == "passed"
    assert basin.nash_sound
    # x* = 0 (J invertible, b = 0); the M-distance obeys the Banach a-posteriori bound.
    dist = math.sqrt(float(np.sum(np.asarray(c.weights.values) * np.asarray(basin.solution) ** 2)))
    assert dist <= basin.error_bound
    assert basin.error_bound < 1e-10


def test_solution_on_region_boundary_is_reported():
    # x* = (3, 0) lies outside the region [-1, 1]^2: the dynamics leave it, no basin is claimed.
    g = games.quadratic(np.eye(2), b=[-3.0, 0.0], region=games.Region([-1.0, -1.0], [1.0, 1.0]))
    c = certify.certify(g, bounds=certify.bounds.Sampled(n_samples=4))
    basin = certified_basin(c, g)
    assert not basin.in_region
    assert math.isnan(basin.radius)
    assert any("left the region" in n for n in basin.notes)


def test_nash_check_verdicts():
    g = games.get_game("sgn-toy")
    cert = dataclasses.replace(certify.certify(g), status=certify.Status.NOT_CERTIFIED)  # no basin search
    cases = [
        ("exact", [1.0, 2.0], ("passed", True)),
        ("exact", [1.0, -0.5], ("failed", True)),
        ("sound", [1.0, 0.5], ("passed", True)),
        ("sound", [1.0, -0.1], ("unknown", False)),
        ("sampled", [1.0, 0.5], ("passed", False)),
        ("sampled", [-1.0, 0.5], ("failed", True)),
        ("sampled", [float("nan"), 1.0], ("unknown", False)),
    ]
    for kind, mu, expected in cases:
        got = certified_basin(dataclasses.replace(cert, bounds=dataclasses.replace(cert.bounds, kind=kind, mu=mu)), g)
        assert (got.nash_check, got.nash_sound) == expected, (kind, mu)


def test_errors():
    g = games.get_game("sgn-toy")
    c = certify.certify(g)
    with pytest.raises(TypeError, match="expected a certify.Certificate"):
        certified_basin({}, g)
    with pytest.raises(TypeError, match="expected a games.Game"):
        certified_basin(c, "sgn-toy")
    with pytest.raises(ValueError, match="expected the game the certificate was issued for"):
        certified_basin(c, games.get_game("cyclic3"))
    with pytest.raises(ValueError, match="expected a positive int n_steps"):
        certified_basin(c, g, n_steps=0)
    with pytest.raises(ValueError, match="expected a finite tol"):
        certified_basin(c, g, tol=-1.0)
    with pytest.raises(ValueError, match=r"expected x0 of shape \(2,\)"):
        certified_basin(c, g, x0=np.zeros(3))
    with pytest.raises(TypeError, match="expected a certify.Certificate"):
        certified_basin(None, g)


def test_no_nash_check_or_basin_outside_the_region():
    # tanh-sin's equilibrium (0, 0) lies outside [2, 3]^2, where the game is certified: the dynamics leave the
    # region, so no radius is claimed and the Nash check, which reads bounds valid only on the region, is unknown.
    game = games.get_game("tanh-sin")
    cert = certify.certify(game, region=games.Region([2.0, 2.0], [3.0, 3.0]))
    assert cert.certified
    basin = certify.certified_basin(cert, game)
    assert basin.in_region is False
    assert math.isnan(basin.radius)
    assert (basin.nash_check, basin.nash_sound) == ("unknown", False)
