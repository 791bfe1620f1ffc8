"""Input checks shared by the public functions: clear errors before any tracing happens.

Every check works on static information (shapes, dtypes) or, when the input is concrete
(not a tracer), on its values. Inside ``jit`` value checks are skipped and data-dependent
failures are reported through results (NaN margins, statuses) instead.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sgn._backend import is_sparse, is_tracer, jax


def is_concrete(x) -> bool:
    """True when ``x`` holds values we can inspect on the host (not a JAX tracer)."""
    return not is_tracer(x)


def check_rank(x, rank: int, name: str) -> None:
    """Raises ``ValueError`` unless ``x`` has the given rank."""
    if np.ndim(x) != rank:
        raise ValueError(f"expected {name} of rank {rank}, got shape {np.shape(x)}")


def _values(x):
    """The stored values of ``x``: its ``data`` for a ``scipy.sparse`` matrix, else ``x`` as an array."""
    return np.asarray(x.data) if is_sparse(x) else np.asarray(x)


def check_finite(x, name: str) -> None:
    """Raises ``ValueError`` if a concrete ``x`` (dense or ``scipy.sparse``) holds NaN or Inf."""
    if is_concrete(x) and not np.all(np.isfinite(_values(x))):
        raise ValueError(f"expected finite values in {name}, got NaN or Inf")


def check_nonnegative(x, name: str) -> None:
    """Raises ``ValueError`` if a concrete ``x`` (dense or ``scipy.sparse``) has negative entries."""
    values = _values(x) if is_concrete(x) else None
    if values is not None and np.any(values < 0):
        raise ValueError(f"expected nonnegative {name}, got min {float(np.min(values))!r}")


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


def _as_int(value, name: str) -> int:
    """``value`` as an ``int`` if it is an integer number (``2`` or ``2.0``), else ``TypeError``/``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"expected {name} to be an integer, got {type(value).__name__} {value!r}")
    if not (np.isfinite(value) and float(value) == int(value)):
        raise ValueError(f"expected {name} to be an integer, got {value!r}")
    return int(value)


def check_dims(dims: Sequence[int], total: int | None = None) -> tuple[int, ...]:
    """Validates block sizes (positive integers) and, if given, that they add up to ``total``."""
    if isinstance(dims, str | bytes | dict) or not hasattr(dims, "__iter__"):
        raise TypeError(f"expected dims to be a sequence of ints, got {type(dims).__name__} {dims!r}")
    dims = tuple(_as_int(d.item() if hasattr(d, "item") else d, "each block size in dims") for d in dims)
    if not dims or any(d <= 0 for d in dims):
        raise ValueError(f"expected positive block sizes, got dims={dims}")
    if total is not None and sum(dims) != total:
        raise ValueError(f"expected block sizes summing to {total}, got dims={dims} (sum {sum(dims)})")
    return dims


def check_int(value, name: str, least: int | None = None, most: int | None = None) -> int:
    """The one check of an integer option (a count, a seed, a size): an ``int`` or NumPy integer in range.

    ``bool`` and integral floats such as ``2.0`` are refused: options are counted, not measured.

    Raises:
      ValueError: naming the expected range and the value got.

    Examples:
      >>> check_int(3, "n_samples", least=1)
      3
      >>> check_int(True, "seed", least=0)
      Traceback (most recent call last):
      ...
      ValueError: expected a nonnegative int seed, got True
    """
    ok = isinstance(value, int | np.integer) and not isinstance(value, bool)
    if not ok or (least is not None and value < least) or (most is not None and value > most):
        if most is not None:
            expected = f"an int {name} in [{least}, {most}]" if least is not None else f"an int {name} <= {most}"
        elif least in (0, 1):
            expected = f"a {('nonnegative', 'positive')[least]} int {name}"
        else:
            expected = f"an int {name}" + ("" if least is None else f" >= {least}")
        raise ValueError(f"expected {expected}, got {value!r}")
    return int(value)


def check_box(lo, hi, what: str = "region") -> tuple[np.ndarray, np.ndarray]:
    """The one check of a box ``[lo, hi]``: numeric, equal 1-D shapes of positive length, finite, ``lo <= hi``.

    Returns the corners as float64 1-D arrays (a scalar corner becomes one coordinate).

    Raises:
      TypeError: for non-numeric corners.
      ValueError: for mismatched or empty shapes, NaN/Inf, or ``lo > hi`` (naming the first coordinate).

    Examples:
      >>> check_box([0.0, 1.0], [1.0, 1.0])
      (array([0., 1.]), array([1., 1.]))
      >>> check_box([0.0, 2.0], [1.0, 1.0], "box")
      Traceback (most recent call last):
      ...
      ValueError: expected lo <= hi for a box in every coordinate, got lo[1]=2.0 > hi[1]=1.0
    """
    try:
        lo_a = np.atleast_1d(np.asarray(lo, dtype=np.float64))
        hi_a = np.atleast_1d(np.asarray(hi, dtype=np.float64))
    except (TypeError, ValueError) as err:
        raise TypeError(f"expected numeric {what} bounds, got lo={lo!r}, hi={hi!r}") from err
    if lo_a.ndim != 1 or lo_a.shape != hi_a.shape:
        raise ValueError(f"expected lo and hi of equal 1-D shape, got {lo_a.shape} and {hi_a.shape}")
    if lo_a.size == 0:
        raise ValueError(f"expected a {what} of positive dimension, got an empty box")
    if not (np.all(np.isfinite(lo_a)) and np.all(np.isfinite(hi_a))):
        raise ValueError(f"expected finite {what} bounds, got NaN or Inf")
    if np.any(lo_a > hi_a):
        k = int(np.argmax(lo_a > hi_a))
        raise ValueError(f"expected lo <= hi for a {what} in every coordinate, got lo[{k}]={lo_a[k]} > "
                         f"hi[{k}]={hi_a[k]}")
    return lo_a, hi_a


def check_pseudo_gradient(pseudo_gradient, dim: int, dtype=np.float64) -> None:
    """Traces ``F`` abstractly (``jax.eval_shape``: no FLOPs) and checks it maps ``(dim,)`` to ``(dim,)`` floats.

    A pseudo-gradient that raises while tracing, returns another shape, a non-array or integers
    is a programming error: it is reported as ``ValueError`` before any bound is computed.
    """
    try:
        out = jax.eval_shape(pseudo_gradient, jax.ShapeDtypeStruct((dim,), dtype))
    except Exception as err:  # any failure inside user code is reported, chained
        raise ValueError(f"expected a pseudo-gradient F that evaluates on a ({dim},) vector, got "
                         f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}") from err
    if not isinstance(out, jax.ShapeDtypeStruct):
        raise ValueError(f"expected F to return one ({dim},) array, got {type(out).__name__}")
    if out.shape != (dim,):
        raise ValueError(f"expected F to map ({dim},) to ({dim},), got output shape {out.shape}")
    if not np.issubdtype(out.dtype, np.floating):
        raise ValueError(f"expected F to return floats, got dtype {out.dtype}")


def check_weights(weights, n: int):
    """Checks a weight vector of length ``n`` with positive finite entries."""
    check_rank(weights, 1, "weights")
    if np.shape(weights)[0] != n:
        raise ValueError(f"expected {n} weights, got {np.shape(weights)[0]}")
    check_finite(weights, "weights")
    check_positive(weights, "weights")


DENSE_EIG_MAX = 64
"""Above this size, Perron roots of nonnegative matrices use sparse ARPACK iterations."""
POWER_STEPS = 64
"""Power steps behind the Collatz–Wielandt upper bound used when ARPACK does not converge."""


def spectral_radius_nonnegative(p) -> float:
    r"""Spectral radius of a nonnegative square matrix, dense or ``scipy.sparse`` (host-side).

    Dense ``eigvals`` up to ``DENSE_EIG_MAX``; beyond, ARPACK's eigenvalue of largest real part
    (for a nonnegative matrix the spectral radius is itself an eigenvalue and no other has a
    larger real part). A sparse matrix is never made dense: should ARPACK fail, the answer is the
    Collatz–Wielandt upper bound :math:`\rho(P) \le \max_i (Px)_i/x_i` at
    :math:`x = (I + P)^k\mathbf 1 > 0` (conservative: a loop gain is never under-reported).

    Examples:
      >>> import numpy as np, scipy.sparse as sp
      >>> round(spectral_radius_nonnegative(np.array([[0.0, 2.0], [0.5, 0.0]])), 12)
      1.0
      >>> round(spectral_radius_nonnegative(sp.diags([np.full(99, 0.5), np.full(99, 0.5)], [-1, 1])), 6)
      0.999516
    """
    sparse = is_sparse(p)
    n = p.shape[0]
    if not sparse:
        p = np.asarray(p, dtype=np.float64)
        if n <= DENSE_EIG_MAX:
            return float(np.max(np.abs(np.linalg.eigvals(p))))
    import scipy.sparse as sp
    from scipy.sparse.linalg import ArpackError, ArpackNoConvergence, eigs

    mat = sp.csr_matrix(p, dtype=np.float64)
    if mat.nnz == 0:
        return 0.0
    try:
        vals = eigs(mat, k=1, which="LR", tol=1e-13, maxiter=20 * n, return_eigenvectors=False, v0=np.ones(n))
        return float(np.max(np.abs(vals)))
    except (ArpackNoConvergence, ArpackError):
        if not sparse:
            return float(np.max(np.abs(np.linalg.eigvals(p))))
    x = np.ones(n)
    for _ in range(POWER_STEPS):
        x = x + mat @ x
        x /= x.max()
    return float(np.max((mat @ x) / x))
