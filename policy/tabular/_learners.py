r"""Policy learners for entropy-regularised tabular games: PG, NPG/MWU, extragradient, OMWU.

Every learner acts on tabular softmax logits :math:`\theta_i \in \mathbb R^{n_{\rm states}\times n_i}`
of a :class:`games.tabular.TabularGame` (a normal-form game is the one-state case) and uses the exact
per-state learner payoff :math:`u_i(s,\cdot)` of :func:`games.tabular.policy_payoffs` (linear solves,
no sampling): :math:`u_i = d^\pi(s)\bar Q_i(s,\cdot)` for the paper's state-summed entropy,
:math:`u_i = \bar Q^\tau_i(s,\cdot)` for Cen et al.'s discounted entropy. With
:math:`p = \pi_i(\cdot|s)` and step :math:`\eta`:

* softmax policy gradient (Euclidean PG in logits):
  :math:`\theta \leftarrow \theta + \eta(\operatorname{diag}p - pp^\top)(u - \tau\log p)` (the exact
  gradient for the state-summed entropy; for the discounted entropy the exact gradient carries an
  extra factor :math:`d^\pi(s)` per state, which this learner leaves out);
* natural policy gradient = multiplicative weights = mirror descent with KL:
  :math:`\theta \leftarrow (1 - \eta\tau)\theta + \eta u(\theta)`, i.e.
  :math:`\pi^+ \propto \pi^{1-\eta\tau}\exp(\eta u)` (the Fisher pseudo-inverse of the PG step);
* policy extragradient (PU, Cen, Wei & Chi 2021):
  :math:`\bar\theta = (1-\eta\tau)\theta + \eta u(\theta)`,
  :math:`\theta^+ = (1-\eta\tau)\theta + \eta u(\bar\theta)`;
* optimistic MWU (OMWU, same paper): :math:`\bar\theta^{t+1} = (1-\eta\tau)\theta^t + \eta u(\bar\theta^t)`,
  :math:`\theta^{t+1} = (1-\eta\tau)\theta^t + \eta u(\bar\theta^{t+1})` (one new payoff per step).

For the discounted entropy these are Cen et al.'s per-state Markov-game updates; for the paper's
state-summed entropy the payoff is the occupancy-weighted :math:`Q` of its objective; for a
normal-form game both are exactly Cen et al.'s algorithms. Each learner is an ``init``/``update``
pair of pure functions (optax style) with a :class:`LearnerState` ``NamedTuple``; both ``jit`` and
``vmap`` over seeds (initial logits) and over games (a stacked :class:`~games.tabular.TabularGame`).
Logits are re-centred per state after each step (this never changes the policy and keeps them
bounded).

References:
  Cen, Wei & Chi, `Fast Policy Extragradient Methods for Competitive Games with Entropy
  Regularization <https://arxiv.org/abs/2105.15186>`_, NeurIPS 2021.
  Agarwal et al., `On the Theory of Policy Gradient Methods <https://arxiv.org/abs/1908.00261>`_, 2021.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp

from games.tabular import TabularGame, policy_payoffs
from policy._core import log_softmax_temperature

LEARNERS = ("softmax_pg", "npg", "extragradient", "optimistic_mwu")


class LearnerState(NamedTuple):
    r"""State of a tabular learner.

    Attributes:
      logits: per-player logits, ``logits[i]`` of shape ``(n_states, n_i)``.
      memory: per-player stored payoffs (OMWU's :math:`u(\bar\theta^t)`); zeros otherwise.
      count: number of updates taken.

    Examples:
      >>> import jax.numpy as jnp
      >>> s = LearnerState((jnp.zeros((1, 2)),), (jnp.zeros((1, 2)),), jnp.asarray(0))
      >>> int(s.count), s.logits[0].shape
      (0, (1, 2))
    """

    logits: tuple
    memory: tuple
    count: jax.Array


class Learner(NamedTuple):
    """A pure ``init``/``update`` pair: ``init(logits, game)`` and ``update(state, game)``.

    Examples:
      >>> import jax.numpy as jnp
      >>> from games.tabular import tabular_from_matrix
      >>> lrn = npg(step=0.1)
      >>> tg = tabular_from_matrix([[[1.0, 0.0], [0.0, 1.0]]] * 2, tau=1.0)
      >>> int(lrn.update(lrn.init([jnp.zeros((1, 2))] * 2, tg), tg).count)
      1
    """

    init: Callable[[Sequence[jax.Array], TabularGame], LearnerState]
    update: Callable[[LearnerState, TabularGame], LearnerState]


def _probs(logits):
    return [jnp.exp(log_softmax_temperature(z)) for z in logits]


def _centre(z):
    return z - jnp.mean(z, axis=-1, keepdims=True)


def _grads(tg, logits):
    return policy_payoffs(tg, _probs(logits))


def _init(logits, tg):
    logits = tuple(jnp.asarray(z) for z in logits)
    return LearnerState(logits, tuple(jnp.zeros_like(z) for z in logits),
                        jnp.zeros((), jnp.int32))


def _mirror(z, g, tau, step):
    return _centre((1.0 - step * tau) * z + step * g)


def softmax_pg(*, step) -> Learner:
    r"""Euclidean policy gradient in logits on the regularised objective.

    Args:
      step: step size :math:`\eta` (may be a traced scalar).

    Returns:
      A :class:`Learner`.

    Examples:
      >>> import jax.numpy as jnp
      >>> from games.tabular import tabular_from_matrix
      >>> tg = tabular_from_matrix([jnp.array([[1.0, -1.0], [-1.0, 1.0]]),
      ...                           jnp.array([[-1.0, 1.0], [1.0, -1.0]])], tau=1.0)
      >>> lrn = softmax_pg(step=0.5)
      >>> s, _ = run_learner(lrn, tg, [jnp.array([[1.0, 0.0]]), jnp.zeros((1, 2))], n_steps=200)
      >>> abs(round(float(s.logits[0][0, 0]), 6))
      0.0
    """

    def update(state, tg):
        g = _grads(tg, state.logits)
        new = []
        for z, gi in zip(state.logits, g, strict=True):
            lp = log_softmax_temperature(z)
            p = jnp.exp(lp)
            u = gi - tg.tau * lp
            new.append(_centre(z + step * p * (u - jnp.sum(p * u, axis=-1, keepdims=True))))
        return state._replace(logits=tuple(new), count=state.count + 1)

    return Learner(_init, update)


def npg(*, step) -> Learner:
    r"""Natural policy gradient / multiplicative weights (entropic mirror descent).

    :math:`\theta \leftarrow (1-\eta\tau)\theta + \eta g(\theta)`; for ``step = 1/tau`` this is the
    smoothed best response :math:`\pi^+ = \operatorname{softmax}(g/\tau)`.

    Args:
      step: step size :math:`\eta`.

    Returns:
      A :class:`Learner`.

    Examples:
      >>> import jax.numpy as jnp
      >>> from games.tabular import tabular_from_matrix
      >>> tg = tabular_from_matrix([jnp.array([[1.0, -1.0], [-1.0, 1.0]])] * 2, tau=2.0)
      >>> lrn = npg(step=0.5)
      >>> s = lrn.update(lrn.init([jnp.array([[0.3, 0.0]]), jnp.array([[0.0, 0.0]])], tg), tg)
      >>> [round(float(v), 6) for v in s.logits[1][0]]  # softmax(g/tau) against player 1's mix
      [0.074443, -0.074443]
    """

    def update(state, tg):
        g = _grads(tg, state.logits)
        new = tuple(_mirror(z, gi, tg.tau, step) for z, gi in zip(state.logits, g, strict=True))
        return state._replace(logits=new, count=state.count + 1)

    return Learner(_init, update)


multiplicative_weights = npg


def extragradient(*, step) -> Learner:
    r"""Policy extragradient (Cen et al.'s PU): a midpoint step, then the step with the midpoint's gradient.

    Args:
      step: step size :math:`\eta`; Cen et al. (Thm 1) prove that the KL to the QRE of a two-player
        zero-sum matrix game contracts like :math:`(1-\eta\tau)^t` for
        :math:`\eta \le 1/(\tau + 2\lVert A\rVert_\infty)`.

    Returns:
      A :class:`Learner`.

    Examples:
      The uniform QRE of matching pennies is reached at Cen et al.'s step:

      >>> import jax.numpy as jnp
      >>> from games.tabular import tabular_from_matrix
      >>> a = [[1.0, -1.0], [-1.0, 1.0]]
      >>> tg = tabular_from_matrix([a, [[-1.0, 1.0], [1.0, -1.0]]], tau=0.5)
      >>> s, _ = run_learner(extragradient(step=0.4), tg, [jnp.array([[1.0, 0.0]])] * 2, n_steps=200)
      >>> [round(float(v), 8) + 0.0 for v in s.logits[0][0]]
      [0.0, 0.0]
    """

    def update(state, tg):
        g = _grads(tg, state.logits)
        mid = [_mirror(z, gi, tg.tau, step) for z, gi in zip(state.logits, g, strict=True)]
        g_mid = _grads(tg, mid)
        new = tuple(_mirror(z, gi, tg.tau, step) for z, gi in zip(state.logits, g_mid, strict=True))
        return state._replace(logits=new, count=state.count + 1)

    return Learner(_init, update)


def optimistic_mwu(*, step) -> Learner:
    r"""Optimistic multiplicative weights (Cen et al.'s OMWU): one new gradient per step.

    Args:
      step: step size :math:`\eta`; Cen et al. (Thm 1) prove a :math:`(1-\eta\tau)^t` KL contraction
        for :math:`\eta \le \min\{1/(2\lVert A\rVert_\infty + 2\tau), 1/(4\lVert A\rVert_\infty)\}`.

    Returns:
      A :class:`Learner` whose state's ``memory`` holds :math:`u(\bar\theta^t)`.

    Examples:
      Rock-paper-scissors with entropy: the state's memory is the payoff at the last midpoint.

      >>> import numpy as np
      >>> import jax.numpy as jnp
      >>> from games.tabular import tabular_from_matrix
      >>> rps = np.array([[0.0, -1.0, 1.0], [1.0, 0.0, -1.0], [-1.0, 1.0, 0.0]])
      >>> lrn = optimistic_mwu(step=0.2)
      >>> s, _ = run_learner(lrn, tabular_from_matrix([rps, -rps], tau=0.5), [jnp.array([[2.0, 0.0, 0.0]])] * 2,
      ...                    n_steps=300)
      >>> s.memory[0].shape, float(jnp.ptp(s.logits[0])) < 1e-9
      ((1, 3), True)
    """

    def init(logits, tg):
        state = _init(logits, tg)
        return state._replace(memory=tuple(_grads(tg, state.logits)))

    def update(state, tg):
        mid = [_mirror(z, m, tg.tau, step) for z, m in zip(state.logits, state.memory, strict=True)]
        g_mid = tuple(_grads(tg, mid))
        new = tuple(_mirror(z, gi, tg.tau, step) for z, gi in zip(state.logits, g_mid, strict=True))
        return LearnerState(new, g_mid, state.count + 1)

    return Learner(init, update)


def make_learner(name: str, *, step) -> Learner:
    """A learner by name (one of :data:`LEARNERS`).

    Args:
      name: ``"softmax_pg"``, ``"npg"``, ``"extragradient"`` or ``"optimistic_mwu"``.
      step: the step size.

    Returns:
      A :class:`Learner`.

    Raises:
      ValueError: for an unknown name.

    Examples:
      >>> make_learner("npg", step=0.1).update is not None
      True
    """
    table = {"softmax_pg": softmax_pg, "npg": npg, "extragradient": extragradient,
             "optimistic_mwu": optimistic_mwu}
    if name not in table:
        raise ValueError(f"expected a learner in {LEARNERS}, got {name!r}")
    return table[name](step=step)


def run_learner(learner: Learner, tg: TabularGame, logits0: Sequence[jax.Array], *,
                n_steps: int, measure: Callable | None = None):
    """Runs ``n_steps`` updates with ``lax.scan``; pure, so ``jit``/``vmap`` it as needed.

    Args:
      learner: an ``init``/``update`` pair.
      tg: game data.
      logits0: initial logits per player.
      n_steps: number of updates (static).
      measure: optional ``measure(logits) -> array`` recorded after every step.

    Returns:
      ``(final_state, trace)`` with ``trace`` the stacked measures (``None`` without ``measure``).

    Examples:
      >>> import jax.numpy as jnp
      >>> from games.tabular import tabular_from_matrix
      >>> tg = tabular_from_matrix([[[1.0, 0.0], [0.0, 1.0]]] * 2, tau=1.0)
      >>> s, trace = run_learner(npg(step=0.5), tg, [jnp.zeros((1, 2))] * 2, n_steps=3,
      ...                        measure=lambda z: z[0][0, 0])
      >>> int(s.count), trace.shape
      (3, (3,))
    """

    def body(state, _):
        state = learner.update(state, tg)
        return state, (None if measure is None else measure(state.logits))

    return jax.lax.scan(body, learner.init(logits0, tg), None, length=n_steps)
