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
(``JAX_COMPILATION_CACHE_MAX_SIZE``).

The cache holds programs that run: it is used only in a *private* folder (:func:`private_folder`):
created owner-only (mode 0700), refused (with a one-line note, and the command runs without it)
when it or a folder above it is owned by another user or writable by others (unless sticky, as
``/tmp``). ``sgn verify`` uses no cache at all.

**Many processes** (:func:`initialize_distributed`). ``sgn sweep`` and
:func:`certify.certify_region_grid` shard their batch over a mesh of all devices of all processes
(:mod:`certify.sweep`); JAX's own runtime (:func:`jax.distributed.initialize`) joins the
processes. The command joins when ``SGN_COORDINATOR`` is set: ``host:port`` of process 0 together
with ``SGN_NUM_PROCESSES`` and ``SGN_PROCESS_ID``, or ``auto`` to let JAX read a cluster manager
(SLURM, Open MPI, ...). Every process runs the same command and gets the same result.

The coordinator of process 0 listens, unauthenticated, on the address given in ``SGN_COORDINATOR``
only (``127.0.0.1:PORT`` is reachable from this machine alone; a host's own address from its
network); ``SGN_COORDINATOR_BIND=ADDRESS:PORT`` binds elsewhere, e.g. ``0.0.0.0:PORT`` for every
interface. With ``SGN_COORDINATOR=auto`` JAX binds every interface unless ``SGN_COORDINATOR_BIND``
is set. Anyone who reaches that port can join the run: use it on trusted networks only.
"""

from __future__ import annotations

import os
import pathlib
import stat
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


def _loose(st: os.stat_result) -> str:
    """Why a folder with this status is not private to the current user (empty when it is)."""
    uid = os.getuid() if hasattr(os, "getuid") else None
    if uid is not None and st.st_uid != uid:
        return f"it is owned by another user (uid {st.st_uid})"
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        who = "others" if st.st_mode & stat.S_IWOTH else "its group"
        return f"it is writable by {who} (mode {st.st_mode & 0o777:o})"
    return ""


def private_folder(folder) -> str:
    """Makes ``folder`` (mode 0700) or checks that it is private; returns why it is not (empty when it is).

    Private: a directory owned by the current user and writable by no one else, under folders
    that only the current user or root can change (a world-writable folder above counts only
    with the sticky bit, as ``/tmp``). Programs read from a folder that is not private could
    have been planted by someone else, so callers refuse it.

    Examples:
      >>> import tempfile, os
      >>> folder = os.path.join(tempfile.mkdtemp(), "cache")
      >>> private_folder(folder), oct(os.stat(folder).st_mode & 0o777)
      ('', '0o700')
      >>> os.chmod(folder, 0o777); private_folder(folder)
      'it is writable by others (mode 777)'
    """
    if not hasattr(os, "getuid"):  # Windows: per-user folders are private by their ACLs
        os.makedirs(folder, exist_ok=True)
        return ""
    path = pathlib.Path(os.path.abspath(os.fspath(folder)))
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
        st = os.stat(path)
    except OSError as err:
        return f"it cannot be created ({err.strerror})"
    if not stat.S_ISDIR(st.st_mode):
        return "it is not a folder"
    why = _loose(st)
    if why:
        return why
    if st.st_mode & 0o077:
        try:
            os.chmod(path, 0o700)  # ours: keep others from reading it too
        except OSError:
            pass
    uid = os.getuid()
    for above in pathlib.Path(os.path.realpath(path)).parents:
        try:
            st = os.stat(above)
        except OSError as err:
            return f"the folder {above} above it cannot be read ({err.strerror})"
        if st.st_uid not in (uid, 0):
            return f"the folder {above} above it is owned by another user (uid {st.st_uid})"
        if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH) and not st.st_mode & stat.S_ISVTX:
            return f"the folder {above} above it is writable by others (mode {st.st_mode & 0o777:o})"
    return ""


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
      >>> s = distributed_setting({"SGN_COORDINATOR": "10.0.0.1:1234", "SGN_NUM_PROCESSES": "2", "SGN_PROCESS_ID": "1"})
      >>> s["coordinator_address"], s["num_processes"], s["process_id"], s["coordinator_bind_address"]
      ('10.0.0.1:1234', 2, 1, '10.0.0.1:1234')
    """
    env = os.environ if environ is None else environ
    address = env.get("SGN_COORDINATOR", "").strip()
    if not address:
        return None
    if address.lower() == "auto":  # the cluster manager names the coordinator; JAX binds every interface unless told
        bind = env.get("SGN_COORDINATOR_BIND", "").strip()
        return {"coordinator_bind_address": bind} if bind else {}
    try:
        num, pid = int(env.get("SGN_NUM_PROCESSES", "")), int(env.get("SGN_PROCESS_ID", ""))
    except ValueError:
        num, pid = 0, -1
    if not 0 <= pid < num:
        raise ValueError(f"expected SGN_NUM_PROCESSES and SGN_PROCESS_ID with 0 <= id < num beside "
                         f"SGN_COORDINATOR={address}, got {env.get('SGN_NUM_PROCESSES')!r} and "
                         f"{env.get('SGN_PROCESS_ID')!r}")
    bind = env.get("SGN_COORDINATOR_BIND", "").strip() or address
    return {"coordinator_address": address, "num_processes": num, "process_id": pid, "coordinator_bind_address": bind}


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


def configure_runtime(environ=None, *, caches: bool = True) -> str | None:
    """The CLI's runtime: joins a multi-process run if asked, turns on the compilation cache.

    Args:
      environ: the environment to read (default ``os.environ``).
      caches: ``False`` turns every cache off (JAX's, even when set through its own environment
        variables, and the stored programs): ``sgn verify`` recomputes from nothing it did not make.

    Returns:
      The compilation cache folder, or ``None`` when it is off.

    Examples:
      >>> configure_runtime({"SGN_COMPILATION_CACHE": "off"}) is None
      True
    """
    initialize_distributed(environ)
    if not caches:
        jax.config.update("jax_enable_compilation_cache", False)
        return None
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
    why = private_folder(folder)
    if why:
        jax.config.update("jax_enable_compilation_cache", False)
        print(f"sgn: note: not using the compilation cache {folder}: {why} (set {ENV_VAR} to a folder only you can "
              "write, or to off)", file=sys.stderr)
        return None
    jax.config.update("jax_compilation_cache_dir", folder)
    if "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS" not in env:
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    if "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES" not in env:
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)
    return folder
