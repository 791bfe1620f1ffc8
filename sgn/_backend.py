"""Host or device: pick NumPy for concrete host arrays and ``jax.numpy`` for JAX arrays and tracers.

Small dense certificate math (a 2x2 gain matrix, a Perron vector) runs fastest on the host in
float64 NumPy; the same functions must still ``jit``/``vmap`` when called with JAX arrays. A
function written against ``xp = namespace(*args)`` serves both.
"""

from __future__ import annotations

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
