"""The second half of the slow program-families run (see ``test_sound_fuzz_programs.py``), in its own
file so that ``pytest -n 2 --dist loadfile`` runs the two halves on two workers."""

import pytest


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:invalid value encountered in cast:RuntimeWarning")
def test_program_families_10000_second_half(sibling):
    assert sibling("test_sound_fuzz_programs.py").run_families_shard(1)["violations"] == []  # no false certificate
