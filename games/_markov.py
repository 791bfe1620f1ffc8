r"""Tabular Markov games with entropy regularisation, evaluated exactly by linear solves.

``N`` players move simultaneously in ``n_states`` states; player :math:`i` plays a tabular softmax
policy :math:`\pi_i(\cdot|s) = \operatorname{softmax}(\theta_i(s, \cdot))`. For the joint policy
:math:`\pi(a|s) = \prod_i \pi_i(a_i|s)`, with :math:`P_\pi(s, s') = \sum_a \pi(a|s) P(s'|s, a)`,

.. math::

   V_i = (I - \gamma P_\pi)^{-1} r_{\pi, i}, \qquad
   d^\pi = (1-\gamma)(I - \gamma P_\pi^\top)^{-1}\mu_0, \qquad
   Q_i(s, a) = R_i(s, a) + \gamma \sum_{s'} P(s'|s, a) V_i(s').

Two entropy regularisations are offered (``entropy=`` of :func:`markov_game`):

* ``"states"`` (the SGN paper's Markov experiment, the authors' ``markov/env.py``): the entropy is
  summed over states *unweighted*,

  .. math::

     U_i(\theta) = (1-\gamma)\,\mu_0^\top V_i + \tau \sum_s H(\pi_i(\cdot|s))
     = \sum_{s,a} d^\pi(s)\pi(a|s) R_i(s, a) + \tau \sum_s H(\pi_i(\cdot|s));

* ``"discounted"`` (Cen, Wei & Chi's entropy-regularised zero-sum Markov games): the entropies are
  part of every step's reward, player :math:`i` of a two-player game collecting
  :math:`R_i(s, a) + \tau H(\pi_i(\cdot|s)) - \tau H(\pi_{-i}(\cdot|s))`, so that
  :math:`U_i = (1-\gamma)\mu_0^\top V^\tau_i` and a zero-sum game stays zero-sum
  (:math:`V^\tau_1 = -V^\tau_2` is their :math:`V_\tau`).

Player :math:`i` minimises :math:`f_i = -U_i`. The policy-gradient theorem gives the exact per-state
"payoff gradient" :math:`g_i(s, a_i) = d^\pi(s)\,\bar Q_i(s, a_i)`, with :math:`\bar Q_i` the joint
:math:`Q_i` (regularised in the discounted case) averaged over the other players' actions. The logit
pseudo-gradient is

.. math::

   F_i(s,\cdot) = -(\operatorname{diag} p - p p^\top)\big(g_i(s,\cdot) - \tau\log p\big)
   \quad\text{(states)},\qquad
   F_i(s,\cdot) = -d^\pi(s)(\operatorname{diag} p - p p^\top)\big(\bar Q_i(s,\cdot) - \tau\log p\big)
   \quad\text{(discounted)}.

Both vanish exactly where :math:`\tau\,\theta_i(s,\cdot) = u_i(s,\cdot)` up to a constant per state, with
the *learner payoff* :math:`u_i = g_i` (states) or :math:`u_i = \bar Q_i` (discounted), see
:func:`policy_payoffs`: these stationary points are the entropy-regularised equilibria (quantal
response equilibria for normal-form games, which are the case ``n_states = 1``, :math:`\gamma = 0`,
where both regularisations coincide). :func:`stationary_point` finds one by policy-extragradient
iterations followed by Newton steps in gauge-free coordinates, with a residual check. No Monte
Carlo anywhere: every quantity is a linear solve.

Game data are stored as float64 NumPy arrays, built from the user's numbers whatever JAX's default
precision; they become JAX arrays of the current default dtype when a function uses them (float64
under ``jax.enable_x64``), so ``0.9`` is never rounded to float32 before x64 is switched on.

References:
  Vedula et al., `Small-Gain Nash <https://arxiv.org/abs/2512.06791>`_, 2025 (Markov experiment).
  Cen, Wei & Chi, `Fast Policy Extragradient Methods for Competitive Games with Entropy
  Regularization <https://arxiv.org/abs/2105.15186>`_, 2021 (discounted entropy).
  Sutton et al., Policy gradient methods for reinforcement learning with function approximation,
  NeurIPS 2000 (policy-gradient theorem).
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from games._game import Game
from games._registry import register
from games._sets import Unconstrained
from sgn import _checks
from sgn._backend import is_tracer, jax, jnp

_LETTERS = string.ascii_lowercase.replace("s", "").replace("t", "")
_PROB_TOL = 1e-8
ENTROPY_MODES = ("states", "discounted")


class TabularGame(NamedTuple):
    r"""Array data of a tabular (Markov or normal-form) game: a pytree, so ``vmap`` works over games.

    The constructors (:func:`markov_game`, :func:`tabular_from_matrix`) store float64 NumPy arrays;
    functions of this module convert them to JAX arrays of the default dtype when used.

    Attributes:
      transitions: ``(n_states, n_1, ..., n_N, n_states)`` transition probabilities.
      rewards: ``(N, n_states, n_1, ..., n_N)`` per-player rewards.
      initial: ``(n_states,)`` initial distribution :math:`\mu_0`.
      gamma: scalar discount in ``[0, 1)``.
      tau: scalar entropy temperature :math:`\tau \ge 0`.
      discounted_entropy: ``0.0`` for the paper's state-summed entropy, ``1.0`` for Cen et al.'s
        discounted entropy (module docstring); a number, so games of both kinds stack under ``vmap``.

    Examples:
      >>> tg = tabular_from_matrix([[[1.0, -1.0], [-1.0, 1.0]]] * 2, tau=0.5)
      >>> tg.rewards.shape, float(tg.tau), float(tg.discounted_entropy)
      ((2, 1, 2, 2), 0.5, 0.0)
    """

    transitions: jax.Array
    rewards: jax.Array
    initial: jax.Array
    gamma: jax.Array
    tau: jax.Array
    discounted_entropy: jax.Array | float = 0.0


def _as_jax(tg: TabularGame) -> TabularGame:
    """The game's leaves as JAX arrays of the default dtype (float64 under x64)."""
    return jax.tree_util.tree_map(jnp.asarray, tg)


def n_actions(tg: TabularGame) -> tuple[int, ...]:
    """Action counts ``(n_1, ..., n_N)`` (static, read off the shapes).

    Examples:
      >>> n_actions(tabular_from_matrix([[[1.0, 0.0, 0.0]], [[0.0, 0.0, 1.0]]], tau=1.0))
      (1, 3)
    """
    return tuple(int(n) for n in np.shape(tg.rewards)[2:])


def player_letters(n_players: int) -> str:
    """One einsum letter per player (``s`` and ``t`` are kept for states).

    Examples:
      >>> player_letters(3)
      'abc'
    """
    return _LETTERS[:n_players]


def joint_policy(probs: Sequence[jax.Array]) -> jax.Array:
    r"""Product policy :math:`\pi(a|s) = \prod_i \pi_i(a_i|s)`, shape ``(n_states, n_1, ..., n_N)``.

    Examples:
      >>> import jax.numpy as jnp
      >>> joint_policy([jnp.array([[0.5, 0.5]]), jnp.array([[1.0, 0.0]])]).tolist()
      [[[0.5, 0.0], [0.5, 0.0]]]
    """
    return jnp.einsum(joint_spec(len(probs)), *probs)


def joint_spec(n_players: int) -> str:
    """The einsum of :func:`joint_policy`: ``"sa,sb->sab"`` for two players.

    Examples:
      >>> joint_spec(3)
      'sa,sb,sc->sabc'
    """
    letters = player_letters(n_players)
    return ",".join("s" + c for c in letters) + "->s" + letters


def marginal_spec(n_players: int, i: int) -> str:
    """The einsum of :func:`marginal_q`: player ``i``'s values, then the others' policies in order.

    Examples:
      >>> marginal_spec(3, 1)
      'sabc,sa,sc->sb'
    """
    letters = player_letters(n_players)
    others = ["s" + c for j, c in enumerate(letters) if j != i]
    return ",".join(["s" + letters] + others) + "->s" + letters[i]


def solve_diagonally_dominant(a: jax.Array, b: jax.Array) -> jax.Array:
    r"""Solves :math:`a x = b` by Gauss-Jordan elimination without pivoting.

    Stable for row- or column-diagonally-dominant ``a`` such as :math:`I - \gamma P` and its
    transpose (Wilkinson); a ``fori_loop`` over columns that compiles much faster than
    ``jnp.linalg.solve`` and is differentiable in both modes.

    Args:
      a: ``(n, n)`` diagonally dominant matrix.
      b: ``(n,)`` or ``(n, k)`` right-hand side.

    Returns:
      ``x`` with the shape of ``b``.

    Examples:
      >>> import jax.numpy as jnp
      >>> [round(float(v), 12) for v in solve_diagonally_dominant(jnp.array([[2.0, 1.0], [1.0, 3.0]]),
      ...                                               jnp.array([3.0, 5.0]))]
      [0.8, 1.4]
    """
    n = a.shape[0]
    rhs = b[:, None] if b.ndim == 1 else b
    aug = jnp.concatenate([a, rhs], axis=1)

    def body(k, m):
        row = m[k] / m[k, k]
        m = m - m[:, k][:, None] * row[None, :]
        return m.at[k].set(row)

    x = jax.lax.fori_loop(0, n, body, aug)[:, n:]
    return x[:, 0] if b.ndim == 1 else x


def _solve(xp, a, b):
    """``a x = b``: LAPACK on the host (real or complex), :func:`solve_diagonally_dominant` in JAX."""
    return np.linalg.solve(a, b) if xp is np else solve_diagonally_dominant(a, b)


def _state_entropies(xp, probs) -> jax.Array:
    """``(..., N, n_states)`` entropies of per-state probability vectors (``0 log 0 = 0``).

    On the host the probabilities may be complex (complex-step derivatives): the guard looks at the
    real part.
    """
    if xp is not np:
        return jnp.stack([jnp.sum(jax.scipy.special.entr(p), axis=-1) for p in probs], axis=-2)
    out = []
    for p in probs:
        pos = p.real > 0
        out.append(-np.sum(np.where(pos, p * np.log(np.where(pos, p, 1.0)), 0.0), axis=-1))
    return np.stack(out, axis=-2)


def _evaluate(xp, tg: TabularGame, probs, regularised: bool):
    """:func:`evaluate` written once against the array namespace ``xp`` (NumPy on the host, or JAX).

    Policies may carry leading batch axes ``(..., n_states, n_i)`` (used on the host, where one
    call evaluates many points or complex-step directions); the results then carry them too.
    """
    n = len(probs)
    ls = player_letters(n)
    pi = xp.einsum(",".join("...s" + c for c in ls) + "->...s" + ls, *probs)
    n_states = tg.initial.shape[0]
    p_pi = xp.einsum(f"...s{ls},s{ls}t->...st", pi, tg.transitions)
    r_pi = xp.einsum(f"...s{ls},ps{ls}->...ps", pi, tg.rewards)
    if regularised:
        h = _state_entropies(xp, probs)
        r_pi = r_pi + tg.discounted_entropy * tg.tau * (2.0 * h - xp.sum(h, axis=-2, keepdims=True))
    a = xp.eye(n_states, dtype=p_pi.dtype) - tg.gamma * p_pi
    v = xp.swapaxes(_solve(xp, a, xp.swapaxes(r_pi, -1, -2)), -1, -2)
    mu0 = xp.broadcast_to(tg.initial, a.shape[:-1])[..., None]
    d = (1.0 - tg.gamma) * _solve(xp, xp.swapaxes(a, -1, -2), mu0)[..., 0]
    q = tg.rewards + tg.gamma * xp.einsum(f"s{ls}t,...pt->...ps{ls}", tg.transitions, v)
    return d, v, q


def evaluate(tg: TabularGame, probs: Sequence[jax.Array], *, regularised: bool = False):
    r"""Exact evaluation of a product policy by linear solves.

    Args:
      tg: the game data.
      probs: per-player policies, ``probs[i]`` of shape ``(n_states, n_i)``.
      regularised: static flag; ``True`` adds the discounted entropy rewards of a game with
        ``entropy="discounted"`` to the values (no effect on a state-summed game, whose entropy is
        not part of the values). ``False`` gives the unregularised game's values.

    Returns:
      ``(d, v, q)``: normalised discounted occupancy ``(n_states,)``, values ``(N, n_states)``
      and joint action values ``(N, n_states, n_1, ..., n_N)``.

    Examples:
      >>> import jax.numpy as jnp
      >>> tg = tabular_from_matrix([[[1.0, -1.0], [-1.0, 1.0]], [[-1.0, 1.0], [1.0, -1.0]]], tau=0.0)
      >>> d, v, q = evaluate(tg, [jnp.full((1, 2), 0.5)] * 2)
      >>> float(d[0]), float(v[0, 0])
      (1.0, 0.0)
    """
    return _evaluate(jnp, _as_jax(tg), list(probs), regularised)


def marginal_q(q_i: jax.Array, probs: Sequence[jax.Array], i: int) -> jax.Array:
    """Player ``i``'s action values averaged over the others' policies, ``(n_states, n_i)``.

    Examples:
      >>> import jax.numpy as jnp
      >>> q = jnp.array([[[1.0, -1.0], [-1.0, 1.0]]])
      >>> marginal_q(q, [jnp.array([[0.5, 0.5]]), jnp.array([[1.0, 0.0]])], 0).tolist()
      [[1.0, -1.0]]
    """
    others = [p for j, p in enumerate(probs) if j != i]
    return jnp.einsum(marginal_spec(len(probs), i), q_i, *others)


def _marginals(xp, tg, probs):
    if xp is np and float(tg.gamma) == 0.0:  # normal-form stages: d = mu_0 and Q = R exactly, no solves
        d, q = np.broadcast_to(tg.initial, probs[0].shape[:-1]), tg.rewards
    else:
        d, _, q = _evaluate(xp, tg, probs, True)
    n = len(probs)
    ls = player_letters(n)
    out = []
    for i in range(n):
        others = [j for j in range(n) if j != i]
        spec = ",".join(["...s" + ls] + ["...s" + ls[j] for j in others]) + "->...s" + ls[i]
        out.append(xp.einsum(spec, q[(Ellipsis, i) + (slice(None),) * (n + 1)], *[probs[j] for j in others]))
    return d, tuple(out)


def payoff_gradients(tg: TabularGame, probs: Sequence[jax.Array]) -> tuple[jax.Array, ...]:
    r"""Exact :math:`g_i(s, a_i) = d^\pi(s)\,\bar Q_i(s, a_i)`, per player ``(n_states, n_i)``.

    :math:`\bar Q_i` is regularised for a game with ``entropy="discounted"``. For a state-summed game
    :math:`g_i = \partial J_i / \partial\pi_i(a_i|s)` of the unregularised return (policy-gradient
    theorem); for a normal-form game (one state, :math:`\gamma = 0`) it is the expected payoff of each
    pure action against the others' mixed strategies.

    Examples:
      >>> import jax.numpy as jnp
      >>> tg = tabular_from_matrix([[[1.0, -1.0], [-1.0, 1.0]]] * 2, tau=1.0)
      >>> g = payoff_gradients(tg, [jnp.array([[1.0, 0.0]]), jnp.array([[0.25, 0.75]])])
      >>> [float(v) for v in g[0][0]]
      [-0.5, 0.5]
    """
    d, qbar = _marginals(jnp, _as_jax(tg), list(probs))
    return tuple(d[:, None] * qi for qi in qbar)


def payoffs_and_weights(xp, tg: TabularGame, probs):
    r"""Learner payoffs :math:`u_i` and the per-state factor :math:`v(s)` of the pseudo-gradient.

    Written once against the array namespace ``xp`` (:mod:`sgn._backend`): NumPy on the host (real or
    complex float64, for complex-step derivatives) or ``jax.numpy`` (``jit``/``vmap``/autodiff).
    :math:`u_i = w(s)\bar Q_i` with :math:`w = d^\pi` (states) or :math:`1` (discounted), and
    :math:`F_i = -v(s)(\operatorname{diag} p - pp^\top)(u_i - \tau\log p)` with :math:`v = 1` (states)
    or :math:`d^\pi` (discounted).

    Args:
      xp: ``numpy`` or ``jax.numpy``; the game's arrays and ``probs`` must belong to it.
      tg: game data.
      probs: per-player policies ``(n_states, n_i)``.

    Returns:
      ``(u, v)``: a tuple of per-player ``(n_states, n_i)`` payoffs and ``(n_states,)`` factors.

    Examples:
      >>> tg = tabular_from_matrix([[[2.0, 0.0], [0.0, 1.0]]] * 2, tau=1.0)
      >>> u, v = payoffs_and_weights(np, tg, [np.full((1, 2), 0.5)] * 2)
      >>> u[0].tolist(), v.tolist()
      ([[1.0, 0.5]], [1.0])
    """
    d, qbar = _marginals(xp, tg, list(probs))
    k = tg.discounted_entropy
    w = k + (1.0 - k) * d  # u_i = w(s) Qbar_i: d Qbar (states), Qbar (discounted)
    v = k * d + (1.0 - k)  # F_i = -v(s) (diag p - pp^T)(u_i - tau log p)
    return tuple(w[..., None] * qi for qi in qbar), v


def _payoffs_and_weights(tg, probs):
    return payoffs_and_weights(jnp, _as_jax(tg), probs)


def policy_payoffs(tg: TabularGame, probs: Sequence[jax.Array]) -> tuple[jax.Array, ...]:
    r"""Learner payoffs :math:`u_i(s, \cdot)`: the regularised equilibria solve :math:`\tau\theta_i = u_i + c(s)`.

    :math:`u_i = d^\pi(s)\bar Q_i` (:func:`payoff_gradients`) for the paper's state-summed entropy and
    :math:`u_i = \bar Q^\tau_i` for the discounted entropy (Cen et al.'s per-state NPG payoff). The
    tabular learners of :mod:`policy.tabular` step along these.

    Examples:
      >>> import jax.numpy as jnp
      >>> tg = tabular_from_matrix([[[2.0, 0.0], [0.0, 1.0]]] * 2, tau=1.0)
      >>> [float(v) for v in policy_payoffs(tg, [jnp.array([[0.5, 0.5]])] * 2)[0][0]]
      [1.0, 0.5]
    """
    return _payoffs_and_weights(tg, probs)[0]


def _softmax_entropy(logits: jax.Array) -> jax.Array:
    # logsumexp form (no 0 log 0); policy._core.entropy_from_logits is the shared version, but
    # games may not import policy (dependencies point sgn <- games <- policy).
    lse = jax.nn.logsumexp(logits, axis=-1, keepdims=True)
    p = jnp.exp(logits - lse)
    return jnp.squeeze(lse, -1) - jnp.sum(p * logits, axis=-1)


def objectives(tg: TabularGame, logits: Sequence[jax.Array]) -> jax.Array:
    r"""Regularised objectives :math:`U_i`, shape ``(N,)`` (module docstring).

    .. math::

       U_i = (1-\gamma)\mu_0^\top V_i + \tau\sum_s H(\pi_i(\cdot|s)) \ \text{(states)},\qquad
       U_i = (1-\gamma)\mu_0^\top V^\tau_i \ \text{(discounted)}.

    Examples:
      >>> import jax.numpy as jnp
      >>> tg = tabular_from_matrix([[[1.0, 0.0], [0.0, 1.0]]] * 2, tau=1.0)
      >>> [round(float(u), 6) for u in objectives(tg, [jnp.zeros((1, 2))] * 2)]  # 1/2 + log 2
      [1.193147, 1.193147]
    """
    tg = _as_jax(tg)
    probs = [jax.nn.softmax(z, axis=-1) for z in logits]
    _, v, _ = evaluate(tg, probs, regularised=True)
    ent = jnp.stack([jnp.sum(_softmax_entropy(z)) for z in logits])
    return (1.0 - tg.gamma) * (v @ tg.initial) + (1.0 - tg.discounted_entropy) * tg.tau * ent


def pseudo_gradient_in(xp, tg: TabularGame, logits):
    """:func:`logit_pseudo_gradient` in the namespace ``xp`` (leading batch axes allowed on the host)."""
    logp = [log_softmax(xp, z) for z in logits]
    probs = [xp.exp(lp) for lp in logp]
    u, v = payoffs_and_weights(xp, tg, probs)
    out = []
    for lp, p, ui in zip(logp, probs, u, strict=True):
        e = ui - tg.tau * lp
        out.append(-v[..., None] * p * (e - xp.sum(p * e, axis=-1, keepdims=True)))
    return tuple(out)


def logit_pseudo_gradient(tg: TabularGame, logits: Sequence[jax.Array]) -> tuple[jax.Array, ...]:
    r""":math:`F_i = \nabla_{\theta_i} f_i` per state (module docstring), per player ``(n_states, n_i)``.

    Examples:
      >>> import jax.numpy as jnp
      >>> tg = tabular_from_matrix([[[1.0, -1.0], [-1.0, 1.0]]] * 2, tau=1.0)
      >>> f = logit_pseudo_gradient(tg, [jnp.array([[1.0, 0.0]]), jnp.zeros((1, 2))])
      >>> [round(float(v), 6) for v in f[0][0]]  # g = 0: F = (s(1-s), -s(1-s)), s = sigmoid(1)
      [0.196612, -0.196612]
    """
    return pseudo_gradient_in(jnp, _as_jax(tg), [jnp.asarray(z) for z in logits])


def split_logits(theta: jax.Array, shapes: Sequence[tuple[int, int]]) -> list[jax.Array]:
    """Splits a flat joint logit vector into per-player ``(n_states, n_i)`` arrays.

    Examples:
      >>> import jax.numpy as jnp
      >>> [z.shape for z in split_logits(jnp.arange(10.0), [(2, 2), (2, 3)])]
      [(2, 2), (2, 3)]
    """
    out, o = [], 0
    for s, n in shapes:  # leading batch axes are kept: (..., dim) -> (..., s, n)
        out.append(theta[..., o:o + s * n].reshape(*theta.shape[:-1], s, n))
        o += s * n
    return out


def flatten_logits(logits: Sequence[jax.Array]) -> jax.Array:
    """Inverse of :func:`split_logits`.

    Examples:
      >>> import jax.numpy as jnp
      >>> flatten_logits([jnp.zeros((2, 2)), jnp.ones((2, 3))]).shape
      (10,)
    """
    return jnp.concatenate([jnp.ravel(z) for z in logits])


def logit_shapes(tg: TabularGame) -> list[tuple[int, int]]:
    """Per-player logit shapes ``(n_states, n_i)``.

    Examples:
      >>> logit_shapes(tabular_from_matrix([[[1.0, 0.0, 0.0]], [[0.0, 0.0, 1.0]]], tau=1.0))
      [(1, 1), (1, 3)]
    """
    s = int(np.shape(tg.initial)[0])
    return [(s, n) for n in n_actions(tg)]


def log_softmax(xp, z):
    """Log-softmax over the last axis in the namespace ``xp`` (on the host also for complex ``z``).

    Examples:
      >>> [round(float(v), 6) for v in np.exp(log_softmax(np, np.array([0.0, np.log(3.0)])))]
      [0.25, 0.75]
    """
    if xp is not np:
        return jax.nn.log_softmax(z, axis=-1)
    s = z - np.max(z.real, axis=-1, keepdims=True)
    return s - np.log(np.sum(np.exp(s), axis=-1, keepdims=True))


def residual_in(xp, tg: TabularGame, logits):
    """:func:`equilibrium_residual` in the namespace ``xp`` (``tg`` and ``logits`` belong to it)."""
    probs = [xp.exp(log_softmax(xp, z)) for z in logits]
    u, _ = payoffs_and_weights(xp, tg, probs)
    res = [xp.max(xp.ptp(ui - tg.tau * log_softmax(xp, z), axis=-1)) for z, ui in zip(logits, u, strict=True)]
    return xp.max(xp.stack(res))


def equilibrium_residual(tg: TabularGame, logits: Sequence[jax.Array]) -> jax.Array:
    r"""Largest per-state oscillation of :math:`u_i - \tau\log\pi_i` (0 exactly at a stationary point).

    Examples:
      >>> import jax.numpy as jnp
      >>> tg = tabular_from_matrix([[[1.0, -1.0], [-1.0, 1.0]]] * 2, tau=1.0)
      >>> float(equilibrium_residual(tg, [jnp.array([[1.0, 0.0]]), jnp.zeros((1, 2))]))  # osc(log p1)
      1.0
    """
    return residual_in(jnp, _as_jax(tg), [jnp.asarray(z) for z in logits])


def gauge_basis(n: int, dtype=None) -> jax.Array:
    r"""Orthonormal basis ``(n, n-1)`` of :math:`\{v : 1^\top v = 0\}` (Helmert contrasts).

    ``dtype`` defaults to JAX's default float (float64 under x64).

    Examples:
      >>> b = gauge_basis(3)
      >>> [round(float(v), 12) for v in b.sum(axis=0)], [round(float(v), 12) for v in (b.T @ b).ravel()]
      ([0.0, 0.0], [1.0, 0.0, 0.0, 1.0])
    """
    return jnp.asarray(helmert_basis(n), dtype=dtype)


def helmert_basis(n: int) -> np.ndarray:
    """:func:`gauge_basis` as a float64 NumPy array (for host-side work).

    Examples:
      >>> helmert_basis(2).round(6).tolist()
      [[0.707107], [-0.707107]]
    """
    h = np.zeros((n, n - 1))
    for k in range(1, n):
        h[:k, k - 1] = 1.0
        h[k, k - 1] = -float(k)
        h[:, k - 1] /= np.sqrt(k * (k + 1))
    return h


def reduced_basis(tg: TabularGame, dtype=None) -> jax.Array:
    """Block basis ``(dim, dim_reduced)`` of the gauge-free logit subspace (per player, per state).

    Examples:
      >>> reduced_basis(tabular_from_matrix([[[1.0, 0.0], [0.0, 1.0]]] * 2, tau=1.0)).shape
      (4, 2)
    """
    blocks = []
    for s, n in logit_shapes(tg):
        blocks.append(jnp.kron(jnp.eye(s, dtype=dtype), gauge_basis(n, dtype)))
    return jax.scipy.linalg.block_diag(*blocks)


def block_basis(shapes: Sequence[tuple[int, int]]) -> np.ndarray:
    r""":func:`reduced_basis` for logit shapes ``(n_states, n_i)`` as a float64 NumPy array, for host work.

    The same entries (inside the kernels :func:`reduced_basis` builds them with JAX operations).
    Block diagonal: per player, :math:`I_{n_{\rm states}} \otimes` :func:`helmert_basis` ``(n_i)``.

    Examples:
      >>> block_basis([(2, 2), (1, 3)]).shape
      (7, 4)
    """
    blocks = [np.kron(np.eye(s), helmert_basis(n)) for s, n in shapes]
    out = np.zeros((sum(b.shape[0] for b in blocks), sum(b.shape[1] for b in blocks)))
    r = c = 0
    for b in blocks:
        out[r:r + b.shape[0], c:c + b.shape[1]] = b
        r, c = r + b.shape[0], c + b.shape[1]
    return out


def best_response_values(tg: TabularGame, probs: Sequence[jax.Array], *, iters: int = 60):
    r"""Exact unregularised best-response values, shape ``(N,)``.

    .. math:: \max_{\pi_i'} (1-\gamma)\mu_0^\top V_i^{\pi_i', \pi_{-i}}.

    Policy iteration on each player's induced MDP (each evaluation a linear solve), a fixed number
    of rounds (``iters``; policy iteration terminates exactly after at most as many rounds as there
    are deterministic policies, typically a handful).

    Returns:
      ``(N,)`` best-response values.

    Examples:
      >>> import jax.numpy as jnp
      >>> tg = tabular_from_matrix([[[1.0, -1.0], [-1.0, 1.0]], [[-1.0, 1.0], [1.0, -1.0]]], tau=0.0)
      >>> [float(v) for v in best_response_values(tg, [jnp.array([[1.0, 0.0]]), jnp.array([[0.5, 0.5]])])]
      [0.0, 1.0]
    """
    tg = _as_jax(tg)
    n = len(probs)
    letters = player_letters(n)
    n_states = tg.initial.shape[0]
    eye = jnp.eye(n_states, dtype=tg.rewards.dtype)
    out = []
    for i in range(n):
        ops_p, specs = [tg.transitions], ["s" + letters + "t"]
        ops_r, specs_r = [tg.rewards[i]], ["s" + letters]
        for j, p in enumerate(probs):
            if j != i:
                ops_p.append(p)
                specs.append("s" + letters[j])
                ops_r.append(p)
                specs_r.append("s" + letters[j])
        p_i = jnp.einsum(",".join(specs) + "->s" + letters[i] + "t", *ops_p)  # (S, n_i, S)
        r_i = jnp.einsum(",".join(specs_r) + "->s" + letters[i], *ops_r)  # (S, n_i)

        def improve(_, v, p_i=p_i, r_i=r_i):
            q = r_i + tg.gamma * jnp.einsum("sat,t->sa", p_i, v)
            a = jnp.argmax(q, axis=-1)
            pol = jax.nn.one_hot(a, q.shape[-1], dtype=q.dtype)
            p_pol = jnp.einsum("sa,sat->st", pol, p_i)
            r_pol = jnp.sum(pol * r_i, axis=-1)
            return solve_diagonally_dominant(eye - tg.gamma * p_pol, r_pol)

        v = jax.lax.fori_loop(0, iters, improve, jnp.zeros(n_states, tg.rewards.dtype))
        out.append((1.0 - tg.gamma) * tg.initial @ v)
    return jnp.stack(out)


def nash_conv(tg: TabularGame, probs: Sequence[jax.Array]) -> jax.Array:
    r"""Unregularised NashConv :math:`\sum_i (\max_{\pi_i'} J_i(\pi_i', \pi_{-i}) - J_i(\pi))`.

    Values are normalised by :math:`1-\gamma` (so for a normal-form game they are expected payoffs,
    matching OpenSpiel's ``nash_conv``). For two-player zero-sum games OpenSpiel's exploitability
    is ``nash_conv / 2``.

    Examples:
      >>> import jax.numpy as jnp
      >>> tg = tabular_from_matrix([[[1.0, -1.0], [-1.0, 1.0]], [[-1.0, 1.0], [1.0, -1.0]]], tau=0.0)
      >>> float(nash_conv(tg, [jnp.array([[1.0, 0.0]]), jnp.array([[0.5, 0.5]])]))
      1.0
    """
    tg = _as_jax(tg)
    _, v, _ = evaluate(tg, probs)
    on_policy = (1.0 - tg.gamma) * (v @ tg.initial)
    return jnp.sum(best_response_values(tg, probs) - on_policy)


# ----------------------------------------------------------------------------------------------
# Construction and validation
# ----------------------------------------------------------------------------------------------


def _array(x, name):
    try:
        a = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(f"expected {name} to be an array of numbers, got {type(x).__name__}") from err
    return a


def check_gamma_tau(gamma, tau) -> tuple[float, float]:
    r"""Validates :math:`\gamma \in [0, 1)` and :math:`\tau \ge 0` (finite); returns them as floats.

    Raises:
      ValueError: outside those ranges.

    Examples:
      >>> check_gamma_tau(0.9, 1)
      (0.9, 1.0)
    """
    gamma, tau = float(gamma), float(tau)
    if not (0.0 <= gamma < 1.0):
        raise ValueError(f"expected gamma in [0, 1), got {gamma!r}")
    if not (np.isfinite(tau) and tau >= 0.0):
        raise ValueError(f"expected tau >= 0 (finite), got {tau!r}")
    return gamma, tau


def _check_entropy(entropy: str, n_players: int) -> float:
    if entropy not in ENTROPY_MODES:
        raise ValueError(f"expected entropy in {ENTROPY_MODES}, got {entropy!r}")
    if entropy == "discounted" and n_players != 2:
        raise ValueError(f"expected a two-player game for entropy='discounted' (Cen et al.), got "
                         f"{n_players} players")
    return 1.0 if entropy == "discounted" else 0.0


def tabular_from_matrix(payoffs, *, tau) -> TabularGame:
    """A normal-form game as one-state :class:`TabularGame` (``gamma = 0``).

    Concrete inputs are stored as float64 NumPy arrays (traced ones stay JAX arrays, so this can be
    called inside ``jit``/``vmap``). Only the shapes are checked here (the solvers check values).

    Args:
      payoffs: ``N`` payoff tensors, each of shape ``(n_1, ..., n_N)``.
      tau: entropy temperature.

    Returns:
      The :class:`TabularGame` with one state and one absorbing transition.

    Raises:
      ValueError: unless every payoff tensor has one axis per player and all have the same shape.

    Examples:
      >>> tg = tabular_from_matrix([[[1.0, 0.0], [0.0, 1.0]]] * 2, tau=0.9)
      >>> tg.rewards.dtype, float(tg.tau) == 0.9
      (dtype('float64'), True)
    """
    traced = any(is_tracer(p) for p in payoffs) or is_tracer(tau)
    xp = jnp if traced else np
    tensors = [xp.asarray(p, dtype=None if traced else np.float64) for p in payoffs]
    shapes = [tuple(t.shape) for t in tensors]
    if not tensors or any(len(sh) != len(tensors) or sh != shapes[0] or 0 in sh for sh in shapes):
        raise ValueError(f"expected N payoff tensors of one shape (n_1, ..., n_N) with every n_i >= 1, one axis "
                         f"per player, got {len(tensors)} of shapes {shapes}")
    r = xp.stack(tensors)[:, None]
    shape = r.shape[2:]
    dtype = r.dtype
    return TabularGame(transitions=xp.ones((1, *shape, 1), dtype), rewards=r,
                       initial=xp.ones(1, dtype), gamma=xp.asarray(0.0, dtype),
                       tau=xp.asarray(tau, dtype), discounted_entropy=xp.asarray(0.0, dtype))


def validate_markov(transitions, rewards, *, gamma, tau, initial=None):
    """Checks and converts Markov-game data (host side, float64); see :func:`markov_game`.

    Returns:
      ``(transitions, rewards, initial, gamma, tau)`` as float64 NumPy arrays and floats.

    Raises:
      ValueError: as :func:`markov_game`.
      TypeError: for non-numeric data.

    Examples:
      >>> p, r, mu0, gamma, tau = validate_markov(coop_transitions(), np.zeros((2, 2, 2)), gamma=0.9,
      ...                                         tau=1.0)
      >>> r.shape, mu0.tolist(), gamma
      ((2, 2, 2, 2), [1.0, 0.0], 0.9)
    """
    p = _array(transitions, "transitions")
    r = _array(rewards, "rewards")
    gamma, tau = check_gamma_tau(gamma, tau)
    if p.ndim < 4:
        raise ValueError(
            "expected transitions of shape (n_states, n_1, ..., n_N, n_states) with N >= 2, "
            f"got shape {p.shape}")
    n_states = p.shape[0]
    actions = p.shape[1:-1]
    if p.shape[-1] != n_states:
        raise ValueError(f"expected the last axis of transitions to have n_states={n_states}, "
                         f"got shape {p.shape}")
    if any(a < 1 for a in actions) or n_states < 1:
        raise ValueError(f"expected non-empty transitions, got shape {p.shape}")
    _checks.check_finite(p, "transitions")
    if np.any(p < 0):
        raise ValueError(f"expected nonnegative transition probabilities, got min {p.min()!r}")
    sums = p.sum(axis=-1)
    if np.max(np.abs(sums - 1.0)) > _PROB_TOL:
        bad = np.unravel_index(int(np.argmax(np.abs(sums - 1.0))), sums.shape)
        raise ValueError(f"expected transition rows summing to 1, got {float(sums[bad])!r} "
                         f"at (state, actions) {tuple(int(b) for b in bad)}")
    n_players = len(actions)
    if r.shape == (n_states, *actions) and n_players == 2:
        r = np.stack([r, -r])
    if r.shape != (n_players, n_states, *actions):
        raise ValueError(f"expected rewards of shape {(n_players, n_states, *actions)} "
                         f"(or {(n_states, *actions)} for two-player zero-sum), got {r.shape}")
    _checks.check_finite(r, "rewards")
    if initial is None:
        mu0 = np.zeros(n_states)
        mu0[0] = 1.0
    else:
        mu0 = _array(initial, "initial")
        if mu0.shape != (n_states,):
            raise ValueError(f"expected initial of shape ({n_states},), got {mu0.shape}")
        _checks.check_finite(mu0, "initial")
        if np.any(mu0 < 0) or abs(mu0.sum() - 1.0) > _PROB_TOL:
            raise ValueError(f"expected initial to be a probability vector, got {mu0.tolist()}")
    return p, r, mu0, gamma, tau


def markov_game(transitions, rewards, *, gamma, tau, initial=None, entropy: str = "states",
                name: str = "markov", description: str = "") -> Game:
    r"""A tabular Markov game with simultaneous moves and softmax policies in logits.

    The joint coordinate is the flat logit vector :math:`\theta = (\theta_1, \dots, \theta_N)`,
    :math:`\theta_i \in \mathbb R^{n_{\rm states} \times n_i}` (row-major); player ``i`` minimises
    :math:`f_i = -U_i` (module docstring). The game has ``geometry="fisher"``: ``certify`` uses the
    Fisher-metric SGN route. ``data`` holds the float64 arrays and the :class:`TabularGame`
    (``data["tabular"]``), built in float64 from the given numbers whatever JAX's default dtype.

    Args:
      transitions: ``(n_states, n_1, ..., n_N, n_states)``, rows summing to 1.
      rewards: ``(N, n_states, n_1, ..., n_N)``; or ``(n_states, n_1, n_2)`` for a two-player
        zero-sum game (player 2 receives the negation).
      gamma: discount in ``[0, 1)``.
      tau: entropy temperature ``>= 0``.
      initial: ``(n_states,)`` initial distribution; ``None`` means :math:`\delta_{s_0}` (the paper's).
      entropy: ``"states"`` (the paper's state-summed entropy) or ``"discounted"`` (Cen et al.'s
        per-step entropy rewards; two players only).
      name: game name.
      description: one line.

    Returns:
      A :class:`games.Game`.

    Raises:
      ValueError: rows not summing to 1, negative probabilities, gamma outside ``[0, 1)``,
        ``tau < 0``, shape mismatches, NaN/Inf entries, an unknown ``entropy`` ("expected ..., got ...").
      TypeError: for non-numeric data.

    Examples:
      >>> g = markov_coop_game()
      >>> g.dims, g.geometry, g.data["tabular"].gamma.dtype
      ((4, 4), 'fisher', dtype('float64'))
    """
    p, r, mu0, gamma, tau = validate_markov(transitions, rewards, gamma=gamma, tau=tau,
                                            initial=initial)
    kappa = _check_entropy(entropy, r.shape[0])
    tg = TabularGame(p, r, mu0, np.float64(gamma), np.float64(tau), np.float64(kappa))
    shapes = [(p.shape[0], n) for n in p.shape[1:-1]]
    dims = tuple(s * n for s, n in shapes)

    def as_dtype(x):
        return jax.tree_util.tree_map(lambda a: jnp.asarray(a, x.dtype), tg)

    def pseudo_gradient(theta):
        return flatten_logits(logit_pseudo_gradient(as_dtype(theta), split_logits(theta, shapes)))

    def make_loss(i):
        def loss(theta):
            return -objectives(as_dtype(theta), split_logits(theta, shapes))[i]
        return loss

    return Game(name=name, dims=dims, pseudo_gradient=pseudo_gradient,
                strategy_sets=(Unconstrained(),) * len(dims),
                params={"gamma": gamma, "tau": tau, "entropy": entropy}, description=description,
                losses=tuple(make_loss(i) for i in range(len(dims))), geometry="fisher",
                data={"transitions": p, "rewards": r, "initial": mu0, "gamma": gamma, "tau": tau,
                      "entropy": entropy, "tabular": tg, "logit_shapes": shapes})


def coop_transitions(stay: float = 0.9) -> np.ndarray:
    """Transitions of the paper's cooperative game: (0,0) -> s0 and (1,1) -> s1 w.p. ``stay``.

    Examples:
      >>> coop_transitions()[0, 0, 0].tolist(), coop_transitions()[1, 0, 1].tolist()
      ([0.9, 0.09999999999999998], [0.5, 0.5])
    """
    p = np.zeros((2, 2, 2, 2))
    for s in range(2):
        p[s, 0, 0] = [stay, 1 - stay]
        p[s, 1, 1] = [1 - stay, stay]
        p[s, 0, 1] = p[s, 1, 0] = [0.5, 0.5]
    return p


@register("markov-coop", "Paper's cooperative 2-state Markov game (gamma=0.9, tau=1): Fisher SGN for NPG.")
def markov_coop_game(gamma: float = 0.9, tau: float = 1.0, stay: float = 0.9,
                     entropy: str = "states") -> Game:
    """The SGN paper's cooperative 2-player, 2-state, 2-action Markov game (spec §7.1).

    Examples:
      >>> markov_coop_game().params
      {'gamma': 0.9, 'tau': 1.0, 'entropy': 'states'}
    """
    match = np.array([[1.0, -1.0], [-1.0, 1.0]])
    r = np.broadcast_to(match, (2, 2, 2, 2)).copy()  # (player, state, a1, a2)
    return markov_game(coop_transitions(stay), r, gamma=gamma, tau=tau, entropy=entropy,
                       name="markov-coop")


@register("markov-zerosum", "2-state zero-sum Markov game (pennies / biased pennies), gamma=0.9, tau=1.")
def markov_zerosum_game(gamma: float = 0.9, tau: float = 1.0, switch: float = 0.7,
                        entropy: str = "states") -> Game:
    """Two-state zero-sum game: matching pennies in s0, biased pennies in s1; mismatches switch state.

    Examples:
      >>> markov_zerosum_game(entropy="discounted").data["tabular"].discounted_entropy
      np.float64(1.0)
    """
    r = np.array([[[1.0, -1.0], [-1.0, 1.0]], [[2.0, -1.0], [-1.0, 0.5]]])
    p = np.zeros((2, 2, 2, 2))
    for s in range(2):
        for a in range(2):
            for b in range(2):
                move = switch if a != b else 1.0 - switch
                p[s, a, b, 1 - s] = move
                p[s, a, b, s] = 1.0 - move
    return markov_game(p, r, gamma=gamma, tau=tau, entropy=entropy, name="markov-zerosum")
