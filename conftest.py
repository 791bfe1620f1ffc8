"""Settings of the whole test run (tests and doctests); pytest loads this file before collecting.

The run gets a JAX compilation cache of its own, in a fresh temporary folder shared by the xdist
workers and every ``sgn`` subprocess they start (they inherit ``SGN_COMPILATION_CACHE``), and
removed at the end. So no test reads compiled programs or stored kernels that another checkout or
an earlier run wrote into the per-user cache, and no test writes there.
"""

import os
import shutil
import tempfile

import pytest

_FOLDER = pytest.StashKey[str]()


def pytest_configure(config):
    """Points ``SGN_COMPILATION_CACHE`` at a new temporary folder (in the controller, before workers start)."""
    if os.environ.get("PYTEST_XDIST_WORKER"):  # a worker: its controller has set the folder already
        return
    folder = tempfile.mkdtemp(prefix="sgn-test-jax-cache-")
    os.environ["SGN_COMPILATION_CACHE"] = folder
    config.stash[_FOLDER] = folder


def pytest_unconfigure(config):
    """Removes the run's cache folder."""
    folder = config.stash.get(_FOLDER, None)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)
