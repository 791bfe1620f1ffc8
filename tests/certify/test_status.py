"""One outcome vocabulary (issue 20 step 4): certificates, checks and weight solves report a
``certify.Status``; their boolean properties are derived from it."""

import dataclasses

import numpy as np
import pytest

import certify
import games
from certify import Status


def test_every_result_reports_a_status_of_the_one_vocabulary():
    game = games.get_game("sgn-toy")
    cert = certify.certify(game)
    report = certify.verify(cert, game, n_pairs=2, n_steps=5)
    check = certify.check_certificate(cert)
    # sgn-toy: K = [[1, -10], [-0.05, 1]], lambda_P(K) = 1 - sqrt(10 * 0.05) = 1 - 1/sqrt(2) (closed form)
    weights = certify.optimize_block_weights([1.0, 1.0], np.array([[0.0, 10.0], [0.05, 0.0]]))
    assert (cert.status, report.status, check.status, weights.status) == (
        Status.CERTIFIED, Status.CONSISTENT, Status.CONSISTENT, Status.OPTIMAL)
    assert all(isinstance(s, Status) for s in (cert.status, report.status, check.status, weights.status))
    assert (cert.certified, report.ok, check.consistent, weights.ok) == (True, True, True, True)
    assert weights.margin == pytest.approx(1 - 2**-0.5, abs=1e-12)
    tampered = certify.check_certificate(dataclasses.replace(cert, margin=0.5))
    assert (tampered.status, tampered.consistent) == (Status.INCONSISTENT, False)


def test_a_status_outside_a_result_types_subset_is_refused():
    cert = certify.certify(games.get_game("sgn-toy"))
    with pytest.raises(ValueError, match="expected certificate status in .*got 'optimal'"):
        dataclasses.replace(cert, status="optimal")
    weights = certify.optimize_block_weights([1.0, 1.0], np.zeros((2, 2)))
    with pytest.raises(ValueError, match="expected weight status in .*got 'certified'"):
        dataclasses.replace(weights, status="certified")
    assert dataclasses.replace(weights, status="solver_failed").ok is False
    assert Status.NOT_CERTIFIED == "not_certified"  # a StrEnum: equal to its JSON string
