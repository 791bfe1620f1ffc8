"""Host or device: pick NumPy for concrete host arrays and ``jax.numpy`` for JAX arrays and tracers.

Small dense certificate math (a 2x2 gain matrix, a Perron vector, a step size) runs fastest on the
host in float64 NumPy, with no XLA compilation at all; the same functions must still
``jit``/``vmap`` when called with JAX arrays. A function written against ``xp = namespace(*args)``
serves both. SciPy sparse matrices (many players) are recognised without importing SciPy: a
program that never imported ``scipy.sparse`` cannot hold one.
"""

from __future__ import annotations

import sys

import jax
import jax.numpy as jnp
import numpy as np


def namespace(*arrays):
    """``jax.numpy`` if any argument is a JAX array or tracer, else ``numpy``.

    Examples:
      >>> import numpy as np, jax.numpy as jnp
      >>> namespace(np.ones(2)).__name__, namespace(np.ones(2), jnp.ones(2)).__name__
      ('numpy', 'jax.numpy')
    """
    return jnp if any(isinstance(a, jax.Array) for a in arrays) else np


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
