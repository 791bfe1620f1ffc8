"""Helpers of the RLVR demo (the full run is exercised by the notebook test)."""

import numpy as np
import pytest

from policy.rlvr import Config, fit_entropy_law, main, pass_at_k, run


def test_pass_at_k_hand_values():
    assert pass_at_k(4, 1, 2) == pytest.approx(0.5)  # 1 - C(3,2)/C(4,2) = 1 - 3/6
    assert pass_at_k(4, 0, 2) == 0.0
    assert pass_at_k(4, 3, 2) == 1.0
    assert pass_at_k(8, 2, 1) == pytest.approx(0.25)


def test_fit_entropy_law_recovers_parameters():
    h = np.linspace(0.05, 1.0, 20)
    r = -0.3 * np.exp(h) + 1.1
    a, b = fit_entropy_law(h, r)
    assert a == pytest.approx(0.3)
    assert b == pytest.approx(1.1)


def test_bad_inputs():
    with pytest.raises(ValueError, match="expected method in"):
        run(Config(method="ppo"), progress=False)
    with pytest.raises(ValueError, match="expected temperature > 0, got -1.0"):
        run(Config(temperature=-1.0), progress=False)
    assert main(["--method", "grpo", "--temperature", "-1"]) == 2
