"""The second half of the slow program-families run (see ``test_sound_fuzz_programs.py``), in its own
file so that ``pytest -n 2 --dist loadfile`` runs the two halves on two workers."""

from __future__ import annotations

import importlib.util
import pathlib
import sys

import pytest


def _families_module():
    path = pathlib.Path(__file__).with_name("test_sound_fuzz_programs.py")
    spec = importlib.util.spec_from_file_location("_sound_families_second_half", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:invalid value encountered in cast:RuntimeWarning")
def test_program_families_10000_second_half():
    assert _families_module().run_families_shard(1)["violations"] == []  # no false certificate
