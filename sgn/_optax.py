r"""Optax adapter: adopt a certified step size (and optional per-player rates) in one line.

For a training loop over player parameters ``params = (theta_1, ..., theta_N)`` whose
"gradients" are each player's gradient of its own loss (the pseudo-gradient), the update
:math:`\theta_i \leftarrow \theta_i - h\,r_i\,F_i(\theta)` is projected-free gradient play at
the certified step :math:`h`; per-player rates :math:`r_i` chosen inside the timescale band keep
it contractive (see :func:`sgn.ttur_step_bound`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp


class CertifiedStepState(NamedTuple):
    """Stateless transformation: an empty state."""


def certified_sgd(step_size, *, player_rates: Sequence[float] | None = None):
    """Gradient play at a certified step as an ``optax.GradientTransformation``.

    Args:
      step_size: the certified step ``h`` (e.g. ``certificate.euler_best_step``).
      player_rates: optional per-player multipliers ``r_i``. When given, ``params`` and the
        updates must be a sequence (tuple/list) of one pytree per player.

    Returns:
      An ``optax.GradientTransformation`` mapping pseudo-gradients to updates ``-h r_i g_i``.

    Raises:
      ValueError: if ``step_size`` is not positive, or the number of rates does not match the
        number of players at update time.

    Examples:
      >>> import jax.numpy as jnp, optax
      >>> opt = certified_sgd(0.1, player_rates=[1.0, 2.0])
      >>> params = (jnp.array([1.0]), jnp.array([1.0]))
      >>> updates, _ = opt.update(params, opt.init(params))  # F(theta) = theta
      >>> [float(u[0]) for u in updates]
      [-0.1, -0.2]
    """
    if not float(step_size) > 0:
        raise ValueError(f"expected a positive step_size, got {step_size!r}")
    rates = None if player_rates is None else tuple(float(r) for r in player_rates)
    if rates is not None and any(not r > 0 for r in rates):
        raise ValueError(f"expected positive player_rates, got {rates}")

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
