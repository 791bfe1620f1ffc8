"""Batched kernels whose traced program is kept on disk, so a fresh process skips tracing too.

JAX's persistent compilation cache (:mod:`certify._runtime`) spares a fresh process the XLA
compilation, not the Python tracing and StableHLO lowering before it: for the Fisher kernel of a
Markov game those are about 0.4 s of a 1.3 s command. A :class:`StoredKernel` is exported once per
input signature with :func:`jax.export.export`, serialised into the ``exported`` sub-folder of the
compilation cache, and later processes deserialise and call it (the compilation then comes from the
persistent cache).

A stored program is keyed by the kernel's name, the input tree, shapes and dtypes, the platform,
the x64 flag, the JAX and jaxlib versions and a digest of the source of ``sgn``, ``games`` and
``certify``, so any change of code or environment misses; a new program removes the kernel's
programs of other source versions.

A stored program runs: the store trusts nothing it did not write itself. Its folder must be
private (:func:`certify._runtime.private_folder`: owned by the user, writable by no one else;
otherwise there is no store). Each program is accepted only with its digest, an HMAC-SHA256 under
a per-user key (file ``.key``, mode 0600) kept in a separate ``.mac`` file beside it, and only
from a regular file owned by the user (opened without following links); anything else is
rebuilt. Files are written through a fresh temporary file (``mkstemp``: exclusive creation,
unpredictable name, no link followed), then renamed into place.

Without a persistent cache (a library user who did not
set one, ``SGN_COMPILATION_CACHE=off``), in a multi-process run, under an outer transformation,
or when serialisation is unavailable, the kernel is plain :func:`jax.jit`.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import importlib.util
import os
import pathlib
import stat
import tempfile

import jax
import jax.numpy as jnp
import jaxlib

import games
import sgn
from certify._runtime import private_folder

SUBFOLDER = "exported"
"""Sub-folder of the compilation cache that holds the serialised programs."""


@functools.cache
def source_digest() -> str:
    """SHA-256 of the Python source of ``sgn``, ``games`` and ``certify`` (paths and contents).

    Examples:
      >>> len(source_digest())
      64
    """
    h = hashlib.sha256()
    for package in (sgn, games, pathlib.Path(__file__).parent):
        root = package if isinstance(package, pathlib.Path) else pathlib.Path(package.__file__).parent
        for path in sorted(root.rglob("*.py")):
            h.update(path.relative_to(root.parent).as_posix().encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def store_folder() -> pathlib.Path | None:
    """Where serialised programs go: ``<compilation cache>/exported``, or ``None`` (no store).

    There is a store only while JAX's persistent compilation cache is on and has a folder, in a
    single-process run, with ``flatbuffers`` (JAX's serialisation) installed, and only when the
    folder is private (:func:`certify._runtime.private_folder`).

    Examples:
      >>> import jax
      >>> store_folder() is None or jax.config.jax_compilation_cache_dir is not None
      True
    """
    folder = jax.config.jax_compilation_cache_dir
    if not folder or not jax.config.jax_enable_compilation_cache:
        return None
    if importlib.util.find_spec("flatbuffers") is None or jax.process_count() > 1:
        return None
    return _private_store(str(pathlib.Path(folder) / SUBFOLDER))


@functools.cache
def _private_store(folder: str) -> pathlib.Path | None:
    return None if private_folder(folder) else pathlib.Path(folder)


def _signature(name: str, treedef, leaves) -> str:
    parts = [name, str(treedef), jax.default_backend(), str(jax.config.jax_enable_x64), jax.__version__,
             jaxlib.__version__, source_digest()]
    parts += [f"{leaf.shape}:{leaf.dtype}" for leaf in leaves]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:40]


_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def _write_atomically(path: pathlib.Path, data: bytes) -> None:
    """Writes ``data`` to a fresh ``mkstemp`` file beside ``path``, then renames it (skipped if unwritable)."""
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def _read_own(path: pathlib.Path) -> bytes | None:
    """The bytes of ``path`` if it is a regular file of the current user that no one else can write, else ``None``."""
    try:
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        foreign = hasattr(os, "getuid") and st.st_uid != os.getuid()
        if not stat.S_ISREG(st.st_mode) or foreign or st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            return None
        return fh.read()


def _store_key(folder: pathlib.Path) -> bytes | None:
    """The per-user key of the store's digests (file ``.key``, mode 0600), made on first use."""
    path = folder / ".key"
    key = _read_own(path)
    if key is not None and len(key) == 32:
        return key
    if key is not None:  # ours but damaged: a new key (programs stored under the old one are rebuilt)
        key = os.urandom(32)
        _write_atomically(path, key)
        return key if _read_own(path) == key else None
    if os.path.lexists(path):
        return None  # someone else's file, or a link: no store
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o600)
    except FileExistsError:  # another process made it meanwhile
        key = _read_own(path)
        return key if key is not None and len(key) == 32 else None
    except OSError:
        return None
    key = os.urandom(32)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
    return key


def _mac(key: bytes, path: pathlib.Path, data: bytes) -> str:
    return hmac.new(key, path.name.encode() + b"\0" + data, hashlib.sha256).hexdigest()


def load_program(path: pathlib.Path) -> bytes | None:
    """A stored program's bytes when its digest (``PATH.mac``) matches under the store's key, else ``None``."""
    key = _store_key(path.parent)
    data = _read_own(path)
    mac = _read_own(path.with_name(path.name + ".mac"))
    if key is None or data is None or mac is None:
        return None
    return data if hmac.compare_digest(mac.decode("ascii", "replace").strip(), _mac(key, path, data)) else None


def store_program(path: pathlib.Path, data: bytes) -> None:
    """Stores a program and, apart from it, its digest (skipped when the store has no key)."""
    key = _store_key(path.parent)
    if key is None:
        return
    _write_atomically(path, data)
    _write_atomically(path.with_name(path.name + ".mac"), _mac(key, path, data).encode())


FAST_COMPILE_OPTIONS = {"xla_backend_optimization_level": 0}
"""XLA options of a ``fast_compile`` kernel on CPU: LLVM without optimisation passes."""


class StoredKernel:
    """A ``jit``-ed kernel whose exported program is stored beside the compilation cache.

    Call it like the function (positional pytree arguments of arrays; no static arguments). The
    result is the function's, whichever route runs it.

    Args:
      fn: a pure function of positional array pytrees returning arrays in tuples/lists/dicts.
      name: a stable name for the store's file names (letters, digits and underscores).
      fast_compile: compile on CPU with :data:`FAST_COMPILE_OPTIONS`, for kernels that run in
        milliseconds but take a second to compile (the Fisher kernel: compile 1.0 s -> 0.65 s, run
        2 ms -> 4 ms on 2 cores); other platforms compile as usual.

    Examples:
      >>> import jax.numpy as jnp
      >>> double = StoredKernel(lambda x: (2.0 * x,), "double")
      >>> [float(v) for v in double(jnp.arange(3.0))[0]]
      [0.0, 2.0, 4.0]
    """

    def __init__(self, fn, name: str, *, fast_compile: bool = False):
        if not name.replace("_", "").isalnum():
            raise ValueError(f"expected a kernel name of letters, digits and underscores, got {name!r}")
        self._fn = fn
        self._name = name
        self._fast_compile = fast_compile
        self._loaded: dict[str, object] = {}

    @functools.cached_property
    def _options(self) -> dict | None:
        return dict(FAST_COMPILE_OPTIONS) if self._fast_compile and jax.default_backend() == "cpu" else None

    @functools.cached_property
    def _jit(self):
        return jax.jit(self._fn, compiler_options=self._options)

    def __call__(self, *args):
        leaves, treedef = jax.tree_util.tree_flatten(args)
        folder = store_folder()
        if folder is None or any(isinstance(leaf, jax.core.Tracer) for leaf in leaves):
            return self._jit(*args)
        leaves = [jnp.asarray(leaf) for leaf in leaves]
        key = _signature(self._name, treedef, leaves)
        if key not in self._loaded:
            exported = self._load_or_export(folder, key, treedef, leaves)
            self._loaded[key] = jax.jit(exported.call, compiler_options=self._options)
        return self._loaded[key](*leaves)

    def _load_or_export(self, folder: pathlib.Path, key: str, treedef, leaves) -> jax.export.Exported:
        version = source_digest()[:16]
        path = folder / f"{self._name}-{version}-{key}.bin"
        data = load_program(path)
        if data is not None:
            try:
                return jax.export.deserialize(bytearray(data))
            except Exception:  # written by another version of JAX: rebuild
                pass

        def flat(*flat_leaves):
            return self._fn(*jax.tree_util.tree_unflatten(treedef, flat_leaves))

        exported = jax.export.export(jax.jit(flat))(
            *[jax.ShapeDtypeStruct(leaf.shape, leaf.dtype) for leaf in leaves])
        store_program(path, bytes(exported.serialize()))
        for old in folder.glob(f"{self._name}-*.bin*"):  # programs of other code versions: never read again
            if not old.name.startswith(f"{self._name}-{version}-"):
                with contextlib.suppress(OSError):
                    old.unlink(missing_ok=True)
        return exported

    def cache_size(self) -> int:
        """Programs this process holds: compiled by ``jit`` plus loaded or exported from the store."""
        jitted = self.__dict__.get("_jit")
        return (0 if jitted is None else jitted._cache_size()) + len(self._loaded)
