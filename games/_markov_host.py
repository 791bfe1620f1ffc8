r"""Stationary points of small tabular games on the host, in float64 NumPy.

A certificate needs one equilibrium per game: a few hundred small dense steps that NumPy takes in
milliseconds, where the ``jit``-ed JAX solver (:func:`games.tabular.stationary_point`, the one to
``vmap`` over games or temperatures) costs a fresh process about a second of tracing and compiling.
This is the same iteration: policy extragradient from uniform logits, then safeguarded Newton steps
on :math:`\tau\theta - u(\theta)` in gauge-free coordinates. The Newton Jacobian comes from the
complex step :math:`J e_k = \operatorname{Im} r(\phi + \mathrm{i}h e_k)/h`, exact to rounding because
every operation of the payoffs (exponentials, logarithms, einsums, linear solves) is analytic; the
Newton loop stops once a step changes nothing.

References:
  Cen, Wei & Chi, `Fast Policy Extragradient Methods for Competitive Games with Entropy
  Regularization <https://arxiv.org/abs/2105.15186>`_, 2021.
  Squire & Trapp, Using complex variables to estimate derivatives of real functions, SIAM Review
  40(1), 1998 (complex-step differentiation).
"""

from __future__ import annotations

import numpy as np

from games._markov import TabularGame, block_basis, joint_spec, marginal_spec, player_letters, split_logits

_COMPLEX_STEP = 1e-30


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - np.max(z.real, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


def _log_softmax(z: np.ndarray) -> np.ndarray:
    s = z - np.max(z.real, axis=-1, keepdims=True)
    return s - np.log(np.sum(np.exp(s), axis=-1, keepdims=True))


def _entropies(probs) -> np.ndarray:
    """``(N, n_states)`` entropies, ``0 log 0 = 0`` (real or complex probabilities)."""
    out = []
    for p in probs:
        pos = p.real > 0
        out.append(-np.sum(np.where(pos, p * np.log(np.where(pos, p, 1.0)), 0.0), axis=-1))
    return np.stack(out)


def _payoffs(tg: TabularGame, probs) -> list[np.ndarray]:
    """Learner payoffs :math:`u_i` of :func:`games.tabular.policy_payoffs`, for NumPy policies."""
    n = len(probs)
    letters = player_letters(n)
    pi = np.einsum(joint_spec(n), *probs)
    p_pi = np.einsum(f"s{letters},s{letters}t->st", pi, tg.transitions)
    r_pi = np.einsum(f"s{letters},ps{letters}->ps", pi, tg.rewards)
    kappa = float(tg.discounted_entropy)
    if kappa:
        h = _entropies(probs)
        r_pi = r_pi + kappa * float(tg.tau) * (2.0 * h - np.sum(h, axis=0, keepdims=True))
    gamma = float(tg.gamma)
    a = np.eye(p_pi.shape[0]) - gamma * p_pi
    v = np.linalg.solve(a, r_pi.T).T
    d = (1.0 - gamma) * np.linalg.solve(a.T, tg.initial)
    q = tg.rewards + gamma * np.einsum(f"s{letters}t,pt->ps{letters}", tg.transitions, v)
    w = kappa + (1.0 - kappa) * d
    out = []
    for i in range(n):
        others = [p for j, p in enumerate(probs) if j != i]
        out.append(w[:, None] * np.einsum(marginal_spec(n, i), q[i], *others))
    return out


def _centre(z):
    return [zi - np.mean(zi, axis=-1, keepdims=True) for zi in z]


def _residual(tg: TabularGame, logits) -> float:
    tau = float(tg.tau)
    u = _payoffs(tg, [_softmax(z) for z in logits])
    return max(float(np.max(np.ptp(ui - tau * _log_softmax(z), axis=-1))) for z, ui in zip(logits, u, strict=True))


def host_stationary_point(tg: TabularGame, *, damping: float = 1.0, fixed_point_iters: int = 300,
                          newton_iters: int = 30) -> tuple[list[np.ndarray], float]:
    r"""A stationary point (regularised equilibrium / QRE) of a tabular game, in float64 NumPy on the host.

    The iteration of :func:`games.tabular.stationary_point` started from uniform logits (module
    docstring), for one concrete game: no tracing or compiling, so it is the fast route in a fresh
    process. Use the JAX solver to ``jit`` or ``vmap`` over games.

    Args:
      tg: game data, ``tau > 0`` (any dtype; computed in float64).
      damping: step multiplier :math:`\lambda \in (0, 1]` of the extragradient steps.
      fixed_point_iters: number of extragradient steps.
      newton_iters: largest number of Newton steps.

    Returns:
      ``(logits, residual)``: per-player centred ``(n_states, n_i)`` float64 logits and the
      residual of :func:`games.tabular.equilibrium_residual` (a float).

    Raises:
      ValueError: ``tau <= 0`` (the unregularised game has no unique logit equilibrium).

    Examples:
      >>> from games.tabular import tabular_from_matrix
      >>> a = [[2.0, 0.0], [0.0, 1.0]]
      >>> z, res = host_stationary_point(tabular_from_matrix([a, a], tau=1.0))
      >>> p = float(1.0 / (1.0 + np.exp(z[0][0, 1] - z[0][0, 0])))  # p = sigmoid(2p - (1 - p))
      >>> round(p, 12) == round(float(1.0 / (1.0 + np.exp(1.0 - 3.0 * p))), 12), res < 1e-12
      (True, True)
    """
    tg = TabularGame(*(np.asarray(a, dtype=np.float64) for a in tg))
    tau = float(tg.tau)
    if not tau > 0:
        raise ValueError(f"expected a temperature tau > 0, got {tau}")
    n_states = tg.initial.shape[0]
    shapes = [(n_states, n) for n in tg.rewards.shape[2:]]
    eta = damping / (tau + 2.0 * float(np.max(np.abs(tg.rewards))) / (1.0 - float(tg.gamma)))

    def payoffs(z):
        return _payoffs(tg, [_softmax(zi) for zi in z])

    z = [np.zeros(sh) for sh in shapes]
    for _ in range(fixed_point_iters):
        mid = _centre([(1 - eta * tau) * zi + eta * ui for zi, ui in zip(z, payoffs(z), strict=True)])
        z = _centre([(1 - eta * tau) * zi + eta * ui for zi, ui in zip(z, payoffs(mid), strict=True)])

    basis = block_basis(shapes)

    def residual(phi):
        th = split_logits(basis @ phi, shapes)
        return basis.T @ np.concatenate([(tau * t - u).ravel() for t, u in zip(th, payoffs(th), strict=True)])

    phi = basis.T @ np.concatenate([zi.ravel() for zi in z])
    res = residual(phi)
    eye = np.eye(phi.size) * _COMPLEX_STEP
    for _ in range(newton_iters if phi.size else 0):
        jac = np.stack([residual(phi + 1j * e).imag for e in eye], axis=1) / _COMPLEX_STEP
        try:
            step = np.linalg.solve(jac, res)
        except np.linalg.LinAlgError:
            break
        if not np.all(np.isfinite(step)):
            break
        cand = phi - step
        res_cand = residual(cand)
        if np.linalg.norm(res_cand) > np.linalg.norm(res):
            cand = phi - 0.25 * step
            res_cand = residual(cand)
        if np.array_equal(cand, phi):
            break
        phi, res = cand, res_cand
    logits = split_logits(basis @ phi, shapes)
    return logits, _residual(tg, logits)
