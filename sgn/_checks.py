"""Input checks shared by the public functions: clear errors before any tracing happens.

Every check works on static information (shapes, dtypes) or, when the input is concrete
(not a tracer), on its values. Inside ``jit`` value checks are skipped and data-dependent
failures are reported through results (NaN margins, statuses) instead.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import numpy as np


def is_concrete(x) -> bool:
    """True when ``x`` holds values we can inspect on the host (not a JAX tracer)."""
    return not isinstance(x, jax.core.Tracer)


def as_float_array(x, name: str):
    """Converts ``x`` to a float array (NumPy for host values, unchanged for JAX arrays)."""
    if isinstance(x, jax.Array | jax.core.Tracer):
        if not np.issubdtype(x.dtype, np.floating):
            x = x.astype(jax.numpy.result_type(float))
        return x
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(f"expected {name} to be an array of numbers, got {type(x).__name__}") from err
    return arr


def check_rank(x, rank: int, name: str) -> None:
    """Raises ``ValueError`` unless ``x`` has the given rank."""
    if np.ndim(x) != rank:
        raise ValueError(f"expected {name} of rank {rank}, got shape {np.shape(x)}")


def check_finite(x, name: str) -> None:
    """Raises ``ValueError`` if a concrete ``x`` holds NaN or Inf."""
    if is_concrete(x) and not np.all(np.isfinite(np.asarray(x))):
        raise ValueError(f"expected finite values in {name}, got NaN or Inf")


def check_nonnegative(x, name: str) -> None:
    """Raises ``ValueError`` if a concrete ``x`` has negative entries."""
    if is_concrete(x) and np.any(np.asarray(x) < 0):
        raise ValueError(f"expected nonnegative {name}, got min {float(np.min(x))!r}")


def check_positive(x, name: str) -> None:
    """Raises ``ValueError`` if a concrete ``x`` has entries that are not > 0."""
    if is_concrete(x) and np.any(~(np.asarray(x) > 0)):
        raise ValueError(f"expected positive {name}, got min {float(np.min(x))!r}")


def check_bounds_pair(mu, coupling) -> None:
    """Checks curvature ``mu`` (n,) and coupling ``L`` (n, n) for shape and finiteness."""
    check_rank(mu, 1, "mu")
    check_rank(coupling, 2, "L")
    n = np.shape(mu)[0]
    if np.shape(coupling) != (n, n):
        raise ValueError(f"expected L of shape ({n}, {n}) to match mu, got {np.shape(coupling)}")
    if n == 0:
        raise ValueError("expected at least one player, got mu of length 0")
    check_finite(mu, "mu")
    check_finite(coupling, "L")
    check_nonnegative(coupling, "L")


def check_dims(dims: Sequence[int], total: int | None = None) -> tuple[int, ...]:
    """Validates block sizes and, if given, that they add up to ``total``."""
    try:
        dims = tuple(int(d) for d in dims)
    except TypeError as err:
        raise TypeError(f"expected dims to be a sequence of ints, got {dims!r}") from err
    if not dims or any(d <= 0 for d in dims):
        raise ValueError(f"expected positive block sizes, got dims={dims}")
    if total is not None and sum(dims) != total:
        raise ValueError(f"expected block sizes summing to {total}, got dims={dims} (sum {sum(dims)})")
    return dims


def check_weights(weights, n: int):
    """Checks a weight vector of length ``n`` with positive finite entries."""
    check_rank(weights, 1, "weights")
    if np.shape(weights)[0] != n:
        raise ValueError(f"expected {n} weights, got {np.shape(weights)[0]}")
    check_finite(weights, "weights")
    check_positive(weights, "weights")
