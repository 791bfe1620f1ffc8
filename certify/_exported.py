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
programs of other source versions. Files are written atomically (a temporary file, then a
rename); an unreadable file is rebuilt. Without a persistent cache (a library user who did not
set one, ``SGN_COMPILATION_CACHE=off``), in a multi-process run, under an outer transformation,
or when serialisation is unavailable, the kernel is plain :func:`jax.jit`.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import os
import pathlib

import jax
import jax.numpy as jnp
import jaxlib

import games
import sgn

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
    single-process run, with ``flatbuffers`` (JAX's serialisation) installed.

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
    return pathlib.Path(folder) / SUBFOLDER


def _signature(name: str, treedef, leaves) -> str:
    parts = [name, str(treedef), jax.default_backend(), str(jax.config.jax_enable_x64), jax.__version__,
             jaxlib.__version__, source_digest()]
    parts += [f"{leaf.shape}:{leaf.dtype}" for leaf in leaves]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:40]


def _write_atomically(path: pathlib.Path, data: bytes) -> None:
    """Writes ``data`` to a temporary file beside ``path``, then renames it (skipped if unwritable)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)


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
        try:
            return jax.export.deserialize(bytearray(path.read_bytes()))
        except Exception:  # missing, truncated or written by another version: rebuild
            pass

        def flat(*flat_leaves):
            return self._fn(*jax.tree_util.tree_unflatten(treedef, flat_leaves))

        exported = jax.export.export(jax.jit(flat))(
            *[jax.ShapeDtypeStruct(leaf.shape, leaf.dtype) for leaf in leaves])
        _write_atomically(path, bytes(exported.serialize()))
        for old in folder.glob(f"{self._name}-*.bin"):  # programs of other code versions: never read again
            if not old.name.startswith(f"{self._name}-{version}-"):
                with contextlib.suppress(OSError):
                    old.unlink(missing_ok=True)
        return exported

    def cache_size(self) -> int:
        """Programs this process holds: compiled by ``jit`` plus loaded or exported from the store."""
        jitted = self.__dict__.get("_jit")
        return (0 if jitted is None else jitted._cache_size()) + len(self._loaded)
