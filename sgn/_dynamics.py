r"""Discrete gradient play on product sets, as ``lax.scan`` loops returning trajectories.

All schemes move against the pseudo-gradient :math:`F` and project blockwise onto the strategy
set :math:`X = X_1\times\dots\times X_N` (the projection in :math:`M(w)` equals the blockwise
Euclidean one because :math:`M(w)` is block-scalar, spec-sgn-math §3.3):

* projected Euler: :math:`x^+ = \Pi_X(x - hF(x))`;
* RK4: one classical Runge–Kutta step of :math:`\dot x = -F(x)`, projected after the step;
* extragradient: :math:`y = \Pi_X(x - hF(x))`, :math:`x^+ = \Pi_X(x - hF(y))`;
* optimistic gradient: :math:`x^+ = \Pi_X(x - h(2F(x_k) - F(x_{k-1})))`.

``step`` is a scalar or a ``(dim,)`` vector of per-coordinate steps (per-player rates, TTUR).

References:
  Korpelevich, The extragradient method for finding saddle points, 1976.
  Popov, A modification of the Arrow–Hurwicz method, 1980 (optimistic gradient).
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from sgn import _checks


def _identity(x):
    return x


def _scan(step_fn, carry, n_steps):
    def body(c, _):
        c = step_fn(c)
        return c, c[0]

    _, xs = jax.lax.scan(body, carry, None, length=n_steps)
    return jnp.concatenate([carry[0][None], xs], axis=0)


def _check_n_steps(n_steps):
    _checks.check_int(n_steps, "n_steps", least=0)


def _checked(pseudo_gradient, x0, step, n_steps):
    """``x0`` as a float ``(dim,)`` array, after checking ``step`` and the shape of ``F(x0)`` up front.

    ``step`` must be positive and finite (checked when concrete; under ``jit`` it is the caller's),
    a scalar or ``(dim,)``; ``F`` must map ``(dim,)`` to ``(dim,)`` (checked abstractly with
    ``jax.eval_shape``, no FLOPs).
    """
    _check_n_steps(n_steps)
    x0 = jnp.asarray(x0)
    if x0.ndim != 1 or x0.shape[0] == 0:
        raise ValueError(f"expected x0 of shape (dim,), got shape {x0.shape}")
    if not jnp.issubdtype(x0.dtype, jnp.floating):
        x0 = x0.astype(jnp.result_type(float))
    if isinstance(step, str | bytes | bool) or not (np.ndim(step) == 0 or np.shape(step) == x0.shape):
        raise ValueError(f"expected step to be a scalar or of shape {x0.shape}, got {step!r}")
    if not isinstance(step, jax.core.Tracer):
        values = np.asarray(step, dtype=float)
        if not np.all(np.isfinite(values) & (values > 0)):
            raise ValueError(f"expected positive finite step sizes, got {step!r}")
    try:
        out = jax.eval_shape(pseudo_gradient, jax.ShapeDtypeStruct(x0.shape, x0.dtype))
    except Exception as err:  # an error inside the user's F, reported as bad input
        first = str(err).splitlines()[0] if str(err) else ""
        raise ValueError(f"expected a pseudo-gradient F that evaluates on x0 of shape {x0.shape}, got "
                         f"{type(err).__name__}: {first}") from err
    if getattr(out, "shape", None) != x0.shape:
        raise ValueError(f"expected F to map x0 of shape {x0.shape} to the same shape, got "
                         f"{getattr(out, 'shape', type(out).__name__)}")
    return x0


def projected_euler(
    pseudo_gradient: Callable, x0, *, step, n_steps: int, project: Callable | None = None
):
    r"""Projected Euler gradient play :math:`x_{k+1} = \Pi_X(x_k - hF(x_k))`.

    Args:
      pseudo_gradient: ``F: (dim,) -> (dim,)``.
      x0: ``(dim,)`` starting point.
      step: scalar or ``(dim,)`` step sizes.
      n_steps: number of steps (static).
      project: blockwise projection onto ``X`` (identity if ``None``).

    Returns:
      ``(n_steps + 1, dim)`` trajectory including ``x0``.

    Examples:
      >>> import jax.numpy as jnp
      >>> xs = projected_euler(lambda x: x, jnp.array([1.0]), step=0.5, n_steps=2)
      >>> xs[:, 0].tolist()
      [1.0, 0.5, 0.25]
    """
    x0 = _checked(pseudo_gradient, x0, step, n_steps)
    project = project or _identity
    return _scan(lambda c: (project(c[0] - step * pseudo_gradient(c[0])),), (x0,), n_steps)


def projected_rk4(
    pseudo_gradient: Callable, x0, *, step, n_steps: int, project: Callable | None = None
):
    r"""Classical RK4 on :math:`\dot x = -F(x)`, projected after each full step.

    Args:
      pseudo_gradient: ``F: (dim,) -> (dim,)``.
      x0: ``(dim,)`` starting point.
      step: scalar or ``(dim,)`` step sizes.
      n_steps: number of steps (static).
      project: blockwise projection onto ``X`` (identity if ``None``).

    Returns:
      ``(n_steps + 1, dim)`` trajectory.

    Examples:
      >>> import jax.numpy as jnp
      >>> xs = projected_rk4(lambda x: x, jnp.array([1.0]), step=1.0, n_steps=1)
      >>> round(float(xs[1, 0]), 6)  # 1 - 1 + 1/2 - 1/6 + 1/24
      0.375
    """
    x0 = _checked(pseudo_gradient, x0, step, n_steps)
    project = project or _identity

    def rk4(c):
        x = c[0]
        k1 = -pseudo_gradient(x)
        k2 = -pseudo_gradient(x + 0.5 * step * k1)
        k3 = -pseudo_gradient(x + 0.5 * step * k2)
        k4 = -pseudo_gradient(x + step * k3)
        return (project(x + step * (k1 + 2 * k2 + 2 * k3 + k4) / 6),)

    return _scan(rk4, (x0,), n_steps)


def extragradient(
    pseudo_gradient: Callable, x0, *, step, n_steps: int, project: Callable | None = None
):
    """Projected extragradient: extrapolate, then update with the gradient at the lookahead.

    Examples:
      >>> import jax.numpy as jnp
      >>> F = lambda x: jnp.array([x[1], -x[0]])  # bilinear min-max: plain play cycles out
      >>> xs = extragradient(F, jnp.array([1.0, 0.0]), step=0.5, n_steps=200)
      >>> bool(jnp.linalg.norm(xs[-1]) < 1e-3)
      True
    """
    x0 = _checked(pseudo_gradient, x0, step, n_steps)
    project = project or _identity

    def eg(c):
        x = c[0]
        y = project(x - step * pseudo_gradient(x))
        return (project(x - step * pseudo_gradient(y)),)

    return _scan(eg, (x0,), n_steps)


def optimistic_gradient(
    pseudo_gradient: Callable, x0, *, step, n_steps: int, project: Callable | None = None
):
    r"""Projected optimistic gradient :math:`x^+ = \Pi_X(x_k - h(2F(x_k) - F(x_{k-1})))`.

    The first step uses :math:`F(x_{-1}) = F(x_0)` (a plain Euler step).

    Examples:
      >>> import jax.numpy as jnp
      >>> F = lambda x: jnp.array([x[1], -x[0]])
      >>> xs = optimistic_gradient(F, jnp.array([1.0, 0.0]), step=0.3, n_steps=300)
      >>> bool(jnp.linalg.norm(xs[-1]) < 1e-3)
      True
    """
    x0 = _checked(pseudo_gradient, x0, step, n_steps)
    project = project or _identity
    x0 = jnp.asarray(x0)

    def og(c):
        x, g_prev = c
        g = pseudo_gradient(x)
        return project(x - step * (2 * g - g_prev)), g

    return _scan(og, (x0, pseudo_gradient(x0)), n_steps)
