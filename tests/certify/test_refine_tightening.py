"""Refine goes on after the first decided round while the margin it proves still grows (issue 21)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import certify
import games
from certify import bounds as bounds_lib
from certify.bounds._methods import proved_margin
from certify.bounds._sound import refine_block_bounds

jax.config.update("jax_enable_x64", True)


def shear(z):
    # DF = [[1 + 0.3 z1^2, 0.6 z0 z1], [-0.6 z0 z1, 1 - 0.3 z0^2]]: the off-diagonal entries cancel in sym DF,
    # so lambda_min(sym DF) = min(1 + 0.3 z1^2, 1 - 0.3 z0^2) = 0.7 on [-1, 1]^2 (at z0 = +-1). One interval
    # box loses that cancellation (the entries are enclosed independently); smaller boxes lose less.
    return jnp.stack([z[0] + 0.3 * z[0] * z[1] ** 2, z[1] - 0.3 * z[0] ** 2 * z[1]])


LO, HI = -np.ones(2), np.ones(2)
TRUE_MARGIN = 0.7


def test_true_margin_of_the_shear_by_sampling():
    # the hand value above against JAX's Jacobian on a grid (the corners are grid points)
    g = np.linspace(-1.0, 1.0, 41)
    pts = np.stack(np.meshgrid(g, g), -1).reshape(-1, 2)
    jac = np.asarray(jax.vmap(jax.jacfwd(shear))(jnp.asarray(pts)))
    lam = np.linalg.eigvalsh(0.5 * (jac + np.swapaxes(jac, 1, 2)))[:, 0]
    np.testing.assert_allclose(lam.min(), TRUE_MARGIN, rtol=1e-12)


def test_a_decided_search_tightens_while_the_margin_grows_and_stays_sound():
    first, rec0 = refine_block_bounds(shear, LO, HI, (1, 1), decide=lambda b: True)
    assert rec0.rounds == 0  # decided on the whole box: the old stop
    assert rec0.decided_round == 0
    tight, rec = refine_block_bounds(shear, LO, HI, (1, 1), decide=lambda b: True, score=proved_margin,
                                     tighten_rounds=6, max_boxes=4096)  # fmt: skip
    assert rec.decided
    assert rec.decided_round == 0
    assert 1 <= rec.rounds <= 6
    assert proved_margin(tight) > proved_margin(first) + 0.1  # halving boxes pays here (measured 0.10 -> 0.52)
    assert tight.euclidean_margin <= TRUE_MARGIN + 1e-12  # a lower bound, still
    assert first.euclidean_margin <= tight.euclidean_margin


def test_tightening_stops_after_two_rounds_that_gain_too_little_and_within_the_budget():
    # min_gain 10: no round adds ten times the margin, so the two stale rounds after the decided one end it
    _, rec = refine_block_bounds(shear, LO, HI, (1, 1), decide=lambda b: True, score=proved_margin,
                                 tighten_rounds=6, min_gain=10.0)  # fmt: skip
    assert rec.rounds == 2
    _, rec = refine_block_bounds(shear, LO, HI, (1, 1), decide=lambda b: True, score=proved_margin,
                                 tighten_rounds=6, max_rounds=3)  # fmt: skip
    assert rec.rounds == 3  # the round budget still caps it


def test_bad_tightening_settings_are_refused():
    with pytest.raises(ValueError, match="tighten_rounds"):
        refine_block_bounds(shear, LO, HI, (1, 1), decide=lambda b: True, score=proved_margin, tighten_rounds=-1)
    with pytest.raises(TypeError, match="callable score"):
        refine_block_bounds(shear, LO, HI, (1, 1), decide=lambda b: True, tighten_rounds=2)
    for bad in (float("nan"), -0.1, float("inf"), True):
        with pytest.raises(ValueError, match="min_gain"):
            bounds_lib.Refine(min_gain=bad)
    with pytest.raises(ValueError, match="tighten_rounds"):
        bounds_lib.Refine(tighten_rounds=-1)


def test_certify_with_refine_reports_the_tightened_margin():
    game = games.from_pseudo_gradient(shear, (1, 1), region=games.Region(LO, HI))
    old = certify.certify(game, bounds=bounds_lib.Refine(tighten_rounds=0))
    new = certify.certify(game, bounds=bounds_lib.Refine())
    assert old.status == new.status == "certified"
    assert new.margin >= old.margin + 0.02
    assert new.margin <= TRUE_MARGIN + 1e-9  # no test can prove more than lambda_min(sym DF) at w = 1 ...
    refine = new.extra["refine"]
    assert refine["tightened_rounds"] >= 1
    assert refine["stopped"] == "decided"
    assert old.extra["refine"]["tightened_rounds"] == 0
    assert new.extra["tighten_rounds"] == 4  # the settings are recorded, to recompute the file


def test_files_recompute_with_their_own_tightening_and_older_files_without_it():
    # tanh-sin (coupling 1) is decided on one box; tightening then splits it twice (4 boxes): n_points,
    # which must recompute exactly, tells the two runs apart
    game = games.get_game("tanh-sin", coupling=1.0)
    old = certify.certify(game, bounds=bounds_lib.Refine(tighten_rounds=0))
    new = certify.certify(game, bounds=bounds_lib.Refine())
    assert (old.bounds.n_points, new.bounds.n_points) == (1, 4)
    assert certify.check_certificate(new).consistent
    legacy = certify.Certificate.from_json(old.to_json())  # as written before the setting existed
    del legacy.extra["tighten_rounds"]
    del legacy.extra["min_gain"]
    assert certify.check_certificate(legacy).consistent


def test_tightening_returns_the_decided_partition_that_scored_best():
    # a score that falls with every split (minus the number of boxes): the rounds after the decided one
    # are both stale, and the partition returned is the decided one (one box), not the last one
    def fewer_boxes(b):
        return -float(b.n_points)

    bounds, rec = refine_block_bounds(shear, LO, HI, (1, 1), decide=lambda b: True, score=fewer_boxes,
                                      tighten_rounds=6)  # fmt: skip
    assert rec.rounds == 2
    assert rec.boxes == 1
    assert bounds.n_points == 1
