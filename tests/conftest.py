"""Helpers shared by the test folders: two local processes joined by ``jax.distributed``."""

import os
import socket
import subprocess

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


@pytest.fixture
def two_processes():
    """:func:`start_two_processes`, for tests of multi-process runs."""
    return start_two_processes
