"""The second half of the slow soundness fuzzer (see ``test_sound_fuzz.py``), in its own file so
that ``pytest -n 2 --dist loadfile`` runs the two halves on two workers."""

import pytest


@pytest.mark.slow
def test_sound_fuzz_many_second_half(sibling):
    stats = sibling("test_sound_fuzz.py").run_slow_shard(1)  # asserts the counts of every mode itself
    assert stats["violations"] == []  # no false certificate
