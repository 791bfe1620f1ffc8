"""Deferred imports: JAX and a package's re-exported names are loaded on first use, not on import.

``import jax`` costs about a second (jaxlib, ml_dtypes), more than a small game solved on the host in
NumPy takes. The host routes (:mod:`sgn._backend`: NumPy data, float64, nothing compiled) never need
it, so the modules on those routes bind JAX to a :class:`LazyModule` (imported at its first attribute
access), create their ``jax.jit`` wrappers with :class:`LazyJit` (built at the first call), and the
package ``__init__`` files re-export their names through :func:`lazy_exports` (PEP 562
``__getattr__``): a process that only touches NumPy data never imports JAX. Whether JAX data can be
present at all is decided from ``sys.modules`` (:func:`sgn._backend.namespace`): a process that never
imported JAX holds no JAX array.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping


class LazyModule:
    """Stands for the module ``name``: the first attribute access imports it, later ones read it.

    ``jnp = LazyModule("jax.numpy")`` at module level, then ``jnp.einsum(...)`` in functions, behaves
    as ``import jax.numpy as jnp`` except that JAX is imported when a function first uses it.

    Examples:
      >>> LazyModule("math").sqrt(4.0)
      2.0
      >>> LazyModule("math")
      <module 'math' (imported on first use)>
    """

    __slots__ = ("_name", "_module")

    def __init__(self, name: str):
        self._name = name
        self._module = None

    def __getattr__(self, attr: str):
        module = self._module
        if module is None:
            module = self._module = importlib.import_module(self._name)
        return getattr(module, attr)

    def __repr__(self) -> str:
        return f"<module {self._name!r} (imported on first use)>"


class LazyJit:
    """``jax.jit(fun, **options)``, created at the first call (or attribute access such as ``.lower``).

    A module-level ``f = LazyJit(g, static_argnums=(1,))`` compiles and caches as
    ``f = jax.jit(g, static_argnums=(1,))`` does, without importing JAX when the module is imported.

    Examples:
      >>> import jax.numpy as jnp
      >>> f = LazyJit(lambda x, n: x * n, static_argnums=(1,))
      >>> float(f(jnp.asarray(2.0), 3)), f(jnp.asarray(1.0), 3).shape
      (6.0, ())
    """

    __slots__ = ("_fun", "_options", "_jitted")

    def __init__(self, fun: Callable, **options):
        self._fun = fun
        self._options = options
        self._jitted = None

    def _compiled(self):
        if self._jitted is None:
            import jax  # deferred to the first call (usually with JAX data, so JAX is loaded already)

            self._jitted = jax.jit(self._fun, **self._options)
        return self._jitted

    def __call__(self, *args, **kwargs):
        return self._compiled()(*args, **kwargs)

    def __getattr__(self, attr: str):
        return getattr(self._compiled(), attr)


def lazy_exports(package: str, exports: Mapping[str, str], *, together: bool = False):
    """PEP 562 ``(__getattr__, __dir__)`` for a package ``__init__`` that re-exports names on first use.

    Args:
      package: the package's ``__name__``.
      exports: public name -> the module that defines it; a submodule's own name maps to the
        submodule (``"tokens": "policy.tokens"``).
      together: the first name used imports every module of ``exports`` and binds all their names,
        as an eager ``__init__`` would (for modules that register something when imported).

    Returns:
      The package's ``__getattr__`` and ``__dir__``.

    Examples:
      >>> import types
      >>> pkg = sys.modules["_demo_pkg"] = types.ModuleType("_demo_pkg")
      >>> pkg.__getattr__, pkg.__dir__ = lazy_exports("_demo_pkg", {"sqrt": "math", "pi": "math"})
      >>> "sqrt" in vars(pkg), pkg.sqrt(9.0), "sqrt" in vars(pkg), "pi" in vars(pkg), "pi" in dir(pkg)
      (False, 3.0, True, False, True)
      >>> del sys.modules["_demo_pkg"]
    """
    namespace = vars(sys.modules[package])

    def bind(name: str) -> None:
        module = importlib.import_module(exports[name])
        namespace[name] = module if exports[name] == f"{package}.{name}" else getattr(module, name)

    def __getattr__(name: str):
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        for each in exports if together else (name,):
            bind(each)
        return namespace[name]

    def __dir__():  # the public names, loaded or not (private helpers stay out)
        return sorted({k for k in namespace if not k.startswith("_") or k.startswith("__")} | set(exports))

    return __getattr__, __dir__
