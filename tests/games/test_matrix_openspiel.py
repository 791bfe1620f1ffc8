"""OpenSpiel import and NashConv / exploitability against open_spiel (skipped without pyspiel)."""

import jax.numpy as jnp
import numpy as np
import pytest

pyspiel = pytest.importorskip("pyspiel")
exploitability_mod = pytest.importorskip("open_spiel.python.algorithms.exploitability")
policy_mod = pytest.importorskip("open_spiel.python.policy")

import games  # noqa: E402,F401
from games import get_game  # noqa: E402
from games.tabular import from_openspiel  # noqa: E402
from policy.tabular import exploitability, game_nash_conv  # noqa: E402


@pytest.mark.parametrize(("spiel_name", "ours", "scale"), [
    ("matrix_rps", "rps-qre", 1.0),
    ("matrix_brps", "biased-rps", 50.0),
    ("matrix_shapleys_game", "shapley", 1.0),
    ("matrix_bos", "battle-of-sexes", 1.0),
    ("matrix_mp", "matching-pennies-qre", 1.0),
])
def test_from_openspiel_matches_registry(spiel_name, ours, scale):
    g = from_openspiel(pyspiel.load_game(spiel_name), tau=0.3)
    np.testing.assert_allclose(g.data["payoffs"], scale * np.asarray(get_game(ours).data["payoffs"]))
    assert g.geometry == "mirror"
    assert g.params["tau"] == 0.3


@pytest.mark.parametrize("spiel_name", ["matrix_rps", "matrix_brps", "matrix_shapleys_game", "matrix_bos"])
@pytest.mark.slow
def test_nash_conv_matches_open_spiel(spiel_name):
    game = pyspiel.load_game(spiel_name)
    ours = from_openspiel(game, tau=0.0).data["tabular"]
    rng = np.random.default_rng(0)
    for _ in range(3):
        pol = policy_mod.TabularPolicy(game)
        probs = [rng.dirichlet(np.ones(pol.action_probability_array.shape[1])) for _ in range(2)]
        pol.action_probability_array[0] = probs[0]
        pol.action_probability_array[1] = probs[1]
        expected = exploitability_mod.nash_conv(game, pol)
        logits = [jnp.log(jnp.asarray(p))[None, :] for p in probs]
        assert float(game_nash_conv(ours, logits)) == pytest.approx(expected, abs=1e-10)
        if spiel_name in ("matrix_rps", "matrix_brps"):  # zero-sum: exploitability = NashConv / 2
            turn = pyspiel.convert_to_turn_based(game)
            tpol = policy_mod.TabularPolicy(turn)
            assert tpol.action_probability_array.shape[0] == 2  # one information state per player
            tpol.action_probability_array[0] = probs[0]
            tpol.action_probability_array[1] = probs[1]
            assert float(exploitability(ours, logits)) == pytest.approx(
                exploitability_mod.exploitability(turn, tpol), abs=1e-10)


def test_from_openspiel_rejects_sequential_games():
    with pytest.raises(ValueError, match="expected a normal-form game"):
        from_openspiel(pyspiel.load_game("kuhn_poker"))
