"""The second half of the slow soundness fuzzer (see ``test_sound_fuzz.py``), in its own file so
that ``pytest -n 2 --dist loadfile`` runs the two halves on two workers."""

from __future__ import annotations

import importlib.util
import pathlib
import sys

import pytest


def _fuzz_module():
    path = pathlib.Path(__file__).with_name("test_sound_fuzz.py")
    spec = importlib.util.spec_from_file_location("_sound_fuzz_second_half", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_sound_fuzz_many_second_half():
    stats = _fuzz_module().run_slow_shard(1)  # asserts the counts of every mode itself
    assert stats["violations"] == []  # no false certificate

