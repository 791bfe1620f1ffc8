"""Host or device: pick NumPy for concrete host arrays and ``jax.numpy`` for JAX arrays and tracers.

Small dense certificate math (a 2x2 gain matrix, a Perron vector, a step size) runs fastest on the
host in float64 NumPy, with no XLA compilation at all; the same functions must still
``jit``/``vmap`` when called with JAX arrays. A function written against ``xp = namespace(*args)``
serves both. JAX arrays and SciPy sparse matrices (many players) are recognised without importing
JAX or SciPy: a program that never imported ``jax`` (``scipy.sparse``) cannot hold one, so the host
route of a fresh process imports NumPy only. Modules on that route take ``jax`` and ``jnp`` from here:
stand-ins (:class:`sgn._lazy.LazyModule`) that import JAX at their first use.
"""

from __future__ import annotations

import sys

import numpy as np

from sgn._lazy import LazyModule

jax = LazyModule("jax")
jnp = LazyModule("jax.numpy")


def _loaded_jax():
    """The ``jax`` module if this process imported it, else ``None`` (then no JAX array can exist)."""
    return sys.modules.get("jax")


def namespace(*arrays):
    """``jax.numpy`` if any argument is a JAX array or tracer, else ``numpy`` (JAX is never imported here).

    Examples:
      >>> import numpy as np, jax.numpy as jnp
      >>> namespace(np.ones(2)).__name__, namespace(np.ones(2), jnp.ones(2)).__name__
      ('numpy', 'jax.numpy')
    """
    loaded = _loaded_jax()
    if loaded is not None and any(isinstance(a, loaded.Array) for a in arrays):
        return loaded.numpy
    return np


def tree_namespace(tree):
    """:func:`namespace` of the leaves of the pytree ``tree`` (flattened by JAX only if JAX is loaded).

    Examples:
      >>> import numpy as np, jax.numpy as jnp
      >>> tree_namespace((np.ones(2), None)).__name__, tree_namespace([np.ones(2), (jnp.ones(2),)]).__name__
      ('numpy', 'jax.numpy')
    """
    loaded = _loaded_jax()
    return np if loaded is None else namespace(*loaded.tree_util.tree_leaves(tree))


def is_tracer(x) -> bool:
    """True for a JAX tracer (inside ``jit``/``vmap``/``grad``), checked without importing JAX.

    Examples:
      >>> import jax, numpy as np
      >>> is_tracer(np.ones(2)), bool(jax.jit(is_tracer)(1.0))
      (False, True)
    """
    loaded = _loaded_jax()
    return loaded is not None and isinstance(x, loaded.core.Tracer)


def finfo(dtype):
    """Machine limits of a float dtype: ``jax.numpy.finfo`` once JAX is loaded (it knows bfloat16), else NumPy's.

    Examples:
      >>> float(finfo(np.float64).eps) == 2.0**-52
      True
    """
    loaded = _loaded_jax()
    return (np if loaded is None else loaded.numpy).finfo(dtype)


def as_arrays(*arrays):
    """``(xp, *arrays)``: float64 NumPy arrays for host inputs, else JAX arrays (dtype kept).

    Examples:
      >>> import numpy as np, jax.numpy as jnp
      >>> xp, a, b = as_arrays([1, 2], 3.0)
      >>> xp.__name__, a.dtype, b.shape
      ('numpy', dtype('float64'), ())
      >>> as_arrays(jnp.ones(2), 3.0)[0].__name__
      'jax.numpy'
    """
    xp = namespace(*arrays)
    if xp is np:
        return (np, *(np.asarray(a, dtype=np.float64) for a in arrays))
    return (xp, *(xp.asarray(a) for a in arrays))


def is_sparse(x) -> bool:
    """True for a SciPy sparse matrix or array (checked without importing SciPy).

    Examples:
      >>> import numpy as np, scipy.sparse as sp
      >>> is_sparse(sp.eye(2, format="csr")), is_sparse(np.eye(2))
      (True, False)
    """
    sparse = sys.modules.get("scipy.sparse")
    return sparse is not None and sparse.issparse(x)
