r"""Optax adapter: adopt a certified step size (and optional per-player rates) in one line.

For a training loop over player parameters ``params = (theta_1, ..., theta_N)`` whose
"gradients" are each player's gradient of its own loss (the pseudo-gradient), the update
:math:`\theta_i \leftarrow \theta_i - h\,r_i\,F_i(\theta)` is projected-free gradient play at
the certified step :math:`h`; per-player rates :math:`r_i` chosen inside the timescale band keep
it contractive (see :func:`sgn.ttur_step_bound`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np


class CertifiedStepState(NamedTuple):
    """Stateless transformation: an empty state."""


def _positive_number(value, name: str) -> float:
    """``value`` as a float, if it is a real number that is finite and positive."""
    if isinstance(value, bool) or not (isinstance(value, int | float | np.integer | np.floating)
                                       or (hasattr(value, "shape") and np.shape(value) == ())):
        raise TypeError(f"expected {name} to be a real number, got {type(value).__name__} {value!r}")
    out = float(value)
    if not (math.isfinite(out) and out > 0):
        raise ValueError(f"expected a positive finite {name}, got {value!r}")
    return out


def certified_sgd(step_size, *, player_rates: Sequence[float] | None = None):
    """Gradient play at a certified step as an ``optax.GradientTransformation``.

    Args:
      step_size: the certified step ``h`` (e.g. ``certificate.steps.euler_best_step``).
      player_rates: optional per-player multipliers ``r_i``. When given, ``params`` and the
        updates must be a sequence (tuple/list) of one pytree per player.

    Returns:
      An ``optax.GradientTransformation`` mapping pseudo-gradients to updates ``-h r_i g_i``.

    Raises:
      TypeError: if ``step_size`` or a rate is not a real number.
      ValueError: if ``step_size`` or a rate is not positive and finite, or the number of rates
        does not match the number of players at update time.

    Examples:
      >>> import jax.numpy as jnp, optax
      >>> opt = certified_sgd(0.1, player_rates=[1.0, 2.0])
      >>> params = (jnp.array([1.0]), jnp.array([1.0]))
      >>> updates, _ = opt.update(params, opt.init(params))  # F(theta) = theta
      >>> [float(u[0]) for u in updates]
      [-0.1, -0.2]
    """
    step_size = _positive_number(step_size, "step_size")
    rates = None if player_rates is None else tuple(_positive_number(r, "player_rates") for r in player_rates)

    def init_fn(params):
        del params
        return CertifiedStepState()

    def update_fn(updates, state, params=None):
        del params
        if rates is None:
            return jax.tree_util.tree_map(lambda g: -step_size * g, updates), state
        if not isinstance(updates, list | tuple) or len(updates) != len(rates):
            raise ValueError(
                f"expected updates as a sequence of {len(rates)} per-player pytrees, "
                f"got {type(updates).__name__}"
            )
        scaled = [
            jax.tree_util.tree_map(lambda g, r=r: -step_size * r * jnp.asarray(g), u)
            for u, r in zip(updates, rates, strict=True)
        ]
        return type(updates)(scaled), state

    import optax  # imported when an optimiser is built, not with `import sgn`

    return optax.GradientTransformation(init_fn, update_fn)
