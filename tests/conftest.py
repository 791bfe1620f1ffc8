"""Helpers shared by the test folders: two local processes joined by ``jax.distributed``, a loader of
sibling test files, and the slow suite's file order."""

import importlib.util
import os
import socket
import subprocess
import sys

import pytest


def free_port() -> int:
    """A TCP port on 127.0.0.1 that no process listens on now (for a coordinator)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_two_processes(argv) -> list[subprocess.Popen]:
    """Starts ``argv(pid)`` for ``pid`` 0 and 1, joined through ``SGN_COORDINATOR`` on a free local port.

    Each process runs on the CPU (``XLA_FLAGS`` dropped: one device each) with the compilation
    cache off, and pipes its stdout and stderr as text; the caller waits on them.
    """
    port = free_port()
    procs = []
    for pid in range(2):
        env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
        env.update(JAX_PLATFORMS="cpu", SGN_COORDINATOR=f"127.0.0.1:{port}", SGN_NUM_PROCESSES="2",
                   SGN_PROCESS_ID=str(pid), SGN_COMPILATION_CACHE="off")
        procs.append(subprocess.Popen(argv(pid), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      text=True))
    return procs


# The slow suite's longest files, longest first (seconds of one worker, measured in a two-worker run:
# 1080, 1000, 760, 570, 400, 230, 140). `make test-slow` runs `--dist loadfile --no-loadscope-reorder`,
# which hands files to workers in collection order, two ahead; so these start first and the two
# workers end together (longest processing time first). Without the option xdist orders files by
# their number of tests, and these single-test files came last: one worker ran alone for 35 minutes.
LONGEST_FIRST = (
    "tests/certify/test_sound_fuzz.py",
    "tests/certify/test_sound_fuzz_second_half.py",
    "tests/certify/test_sound_fuzz_programs.py",
    "tests/certify/test_sound_fuzz_families_second_half.py",
    "tests/certify/test_sound_adversarial.py",
    "tests/test_notebooks_stored.py",
    "tests/reliability/test_bad_inputs.py",
)


def pytest_collection_modifyitems(config, items):
    """Moves the files of :data:`LONGEST_FIRST` to the front, in its order (a stable sort)."""
    rank = {path: i for i, path in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))


@pytest.fixture
def sibling(request):
    """``sibling(file)``: the test file ``file`` beside the requesting test, loaded as a module of its own
    (test files are not an importable package under ``--import-mode=importlib``)."""

    def load(file):
        path = request.path.with_name(file)
        spec = importlib.util.spec_from_file_location(f"_sibling_{path.stem}_of_{request.path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
        spec.loader.exec_module(module)
        return module

    return load


@pytest.fixture
def two_processes():
    """:func:`start_two_processes`, for tests of multi-process runs."""
    return start_two_processes
