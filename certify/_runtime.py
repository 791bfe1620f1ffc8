r"""The ``sgn`` command's JAX runtime: the persistent compilation cache, and many processes.

**Compilation cache: compile once per machine, not per run.**

Every ``sgn`` command is a fresh process, and XLA compilation of the batched kernels (Fisher points,
interval grids, sweeps) dominates its run time. With the cache on, the second run of a command
loads the compiled executables from disk instead of compiling them again. The CLI turns it on by
default; :func:`enable_compilation_cache` decides where:

1. ``SGN_COMPILATION_CACHE=off`` (or ``0``, ``false``, ``no``, empty): no cache;
2. ``SGN_COMPILATION_CACHE=/some/folder``: that folder;
3. ``JAX_COMPILATION_CACHE_DIR`` (JAX's own setting) when set: left as the user set it;
4. otherwise the per-user cache folder ``$XDG_CACHE_HOME/sgn/jax`` (``~/.cache/sgn/jax``;
   ``~/Library/Caches/sgn/jax`` on macOS, ``%LOCALAPPDATA%\sgn\jax`` on Windows).

JAX writes an entry only when a compilation took at least one second and is large enough for the
filesystem; the kernels here compile in tens of milliseconds each, so both thresholds are lowered
(to every entry) unless set through JAX's own ``JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS`` /
``JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES``. Size limit and eviction are JAX's
(``JAX_COMPILATION_CACHE_MAX_SIZE``). The cache is trusted code: keep it in a folder only you can
write (JAX's warning, which the per-user default follows).

**Many processes** (:func:`initialize_distributed`). ``sgn sweep`` and
:func:`certify.certify_region_grid` shard their batch over a mesh of all devices of all processes
(:mod:`certify.sweep`); JAX's own runtime (:func:`jax.distributed.initialize`) joins the
processes. The command joins when ``SGN_COORDINATOR`` is set: ``host:port`` of process 0 together
with ``SGN_NUM_PROCESSES`` and ``SGN_PROCESS_ID``, or ``auto`` to let JAX read a cluster manager
(SLURM, Open MPI, ...). Every process runs the same command and gets the same result.
"""

from __future__ import annotations

import os
import pathlib
import sys

import jax

ENV_VAR = "SGN_COMPILATION_CACHE"
"""Environment variable: ``off`` to disable the cache, or a folder to use instead of the default."""
OFF = ("", "0", "off", "false", "no", "none")
"""Values of ``SGN_COMPILATION_CACHE`` that turn the cache off (case-insensitive)."""


def default_cache_dir() -> pathlib.Path:
    """The per-user folder of the compilation cache (``<user cache folder>/sgn/jax``).

    Examples:
      >>> default_cache_dir().parts[-2:]
      ('sgn', 'jax')
    """
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or pathlib.Path.home() / "AppData" / "Local"
    elif sys.platform == "darwin":
        base = pathlib.Path.home() / "Library" / "Caches"
    else:
        base = os.environ.get("XDG_CACHE_HOME") or pathlib.Path.home() / ".cache"
    return pathlib.Path(base) / "sgn" / "jax"


def cache_dir_setting(environ=None) -> str | None:
    """The folder the cache would use under ``environ`` (default ``os.environ``), or ``None`` when off.

    Examples:
      >>> cache_dir_setting({"SGN_COMPILATION_CACHE": "off"}) is None
      True
      >>> cache_dir_setting({"SGN_COMPILATION_CACHE": "/tmp/c", "JAX_COMPILATION_CACHE_DIR": "/tmp/j"})
      '/tmp/c'
      >>> cache_dir_setting({"JAX_COMPILATION_CACHE_DIR": "/tmp/j"})
      '/tmp/j'
    """
    env = os.environ if environ is None else environ
    own = env.get(ENV_VAR)
    if own is not None:
        return None if own.strip().lower() in OFF else own
    return env.get("JAX_COMPILATION_CACHE_DIR") or str(default_cache_dir())


DISTRIBUTED_VARS = ("SGN_COORDINATOR", "SGN_NUM_PROCESSES", "SGN_PROCESS_ID")
"""Environment variables of a multi-process run (module docstring)."""


def distributed_setting(environ=None) -> dict | None:
    """Arguments of :func:`jax.distributed.initialize` from the environment, or ``None`` (one process).

    Raises:
      ValueError: ``SGN_COORDINATOR=host:port`` without integer ``SGN_NUM_PROCESSES`` and
        ``SGN_PROCESS_ID`` (``0 <= id < num``).

    Examples:
      >>> distributed_setting({}) is None
      True
      >>> distributed_setting({"SGN_COORDINATOR": "auto"})
      {}
      >>> distributed_setting({"SGN_COORDINATOR": "10.0.0.1:1234", "SGN_NUM_PROCESSES": "2", "SGN_PROCESS_ID": "1"})
      {'coordinator_address': '10.0.0.1:1234', 'num_processes': 2, 'process_id': 1}
    """
    env = os.environ if environ is None else environ
    address = env.get("SGN_COORDINATOR", "").strip()
    if not address:
        return None
    if address.lower() == "auto":
        return {}
    try:
        num, pid = int(env.get("SGN_NUM_PROCESSES", "")), int(env.get("SGN_PROCESS_ID", ""))
    except ValueError:
        num, pid = 0, -1
    if not 0 <= pid < num:
        raise ValueError(f"expected SGN_NUM_PROCESSES and SGN_PROCESS_ID with 0 <= id < num beside "
                         f"SGN_COORDINATOR={address}, got {env.get('SGN_NUM_PROCESSES')!r} and "
                         f"{env.get('SGN_PROCESS_ID')!r}")
    return {"coordinator_address": address, "num_processes": num, "process_id": pid}


def initialize_distributed(environ=None) -> bool:
    """Joins a multi-process run when the environment asks for one (module docstring).

    Must run before JAX touches a device; the CLI calls it first thing.

    Returns:
      True when :func:`jax.distributed.initialize` was called.

    Examples:
      >>> initialize_distributed({})
      False
    """
    setting = distributed_setting(environ)
    if setting is None or jax.distributed.is_initialized():
        return False
    jax.distributed.initialize(**setting)
    return True


def configure_runtime(environ=None) -> str | None:
    """The CLI's runtime: joins a multi-process run if asked, turns on the compilation cache.

    Returns:
      The compilation cache folder, or ``None`` when it is off.

    Examples:
      >>> configure_runtime({"SGN_COMPILATION_CACHE": "off"}) is None
      True
    """
    initialize_distributed(environ)
    return enable_compilation_cache(environ)


def enable_compilation_cache(environ=None) -> str | None:
    """Turns on JAX's persistent compilation cache (module docstring); returns its folder, or ``None``.

    Call it before the first compilation (the CLI calls it first thing). The thresholds that keep
    small kernels out of JAX's cache are lowered unless set through JAX's own environment
    variables. Nothing is changed when the cache is off.

    Args:
      environ: the environment to read (default ``os.environ``).

    Returns:
      The cache folder in use, or ``None`` when ``SGN_COMPILATION_CACHE`` turns it off.

    Examples:
      >>> enable_compilation_cache({"SGN_COMPILATION_CACHE": "off"}) is None
      True
    """
    env = os.environ if environ is None else environ
    folder = cache_dir_setting(env)
    if folder is None:
        return None
    jax.config.update("jax_compilation_cache_dir", folder)
    if "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS" not in env:
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    if "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES" not in env:
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)
    return folder
