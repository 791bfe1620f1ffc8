"""Temperature curriculum: follow the QRE path as :math:`\\tau` decreases and track the certificate.

Annealing the entropy temperature toward zero moves the logit QRE toward a Nash equilibrium (as
QARL anneals its adversary's rationality). Along the path we recompute the mirror/Fisher SGN
certificate at every temperature and report where it is lost; a learner (NPG at the certified
step) is warm-started from the previous temperature's iterate, so one can see whether it keeps
tracking the branch once the certificate is gone. On the 2x2 coordination game the certificate
is lost exactly at the QRE bifurcation :math:`\\tau = 1`, below which the centroid branch is
unstable and two new QREs appear.

References:
  Reddi et al., `Robust Adversarial Reinforcement Learning via Bounded Rationality Curricula
  <https://arxiv.org/abs/2311.01642>`_, 2023 (QARL).
  McKelvey & Palfrey, Quantal response equilibria for normal form games, GEB 10, 1995.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from games._game import Game
from games._markov import markov_game
from games._matrix import matrix_game
from policy._learners import npg, run_learner
from policy._measures import kl_to_qre
from policy._qre import qre_path


def with_temperature(game: Game, tau: float) -> Game:
    """The same tabular game (from :func:`games.matrix_game` / :func:`games.markov_game`) at temperature ``tau``.

    Raises:
      ValueError: for a game that is not tabular.
    """
    data = game.data
    if game.geometry == "mirror" and "payoffs" in data:
        p = np.asarray(data["payoffs"])
        if p.shape[0] == 2:
            return matrix_game(p[0], p[1], tau=tau, name=game.name, description=game.description)
        return matrix_game(list(p), tau=tau, name=game.name, description=game.description)
    if game.geometry == "fisher" and "transitions" in data:
        return markov_game(data["transitions"], data["rewards"], gamma=data["gamma"], tau=tau,
                           initial=data["initial"], name=game.name, description=game.description)
    raise ValueError(f"expected a tabular game (matrix_game / markov_game), got geometry "
                     f"{game.geometry!r} without tabular data")


def temperature_curriculum(game: Game, taus, *, learner_steps: int = 200,
                           certifier: Callable | None = None,
                           perturbation: float = 1e-3) -> dict:
    """QRE path, certificate and a warm-started NPG learner along decreasing temperatures.

    Host-side driver (a Python loop over temperatures; each certificate is one ``jit``-ed batch).

    Args:
      game: a tabular game.
      taus: decreasing positive temperatures.
      learner_steps: NPG steps per temperature (at the certified step, else ``0.5/tau``).
      certifier: ``game -> certify.Certificate``, e.g. ``certify.certify`` (``policy`` never
        imports ``certify`` itself).
      perturbation: size of the deterministic perturbation added to the learner's warm start at
        every temperature, so that an unstable branch is visibly left.

    Returns:
      dict of lists: ``taus``, ``qre`` (per player, first state's probabilities), ``residual``,
      ``status``, ``margin``, ``step_bound``, ``learner_kl`` (KL of the learner to the tracked QRE
      after ``learner_steps``), and ``lost_at`` (first temperature not certified, or ``None``).
    """
    if not callable(certifier):
        raise TypeError(f"expected a certifier callable game -> certify.Certificate (e.g. certify.certify), "
                        f"got {type(certifier).__name__}")
    taus = np.asarray(taus, dtype=np.float64)
    tg = game.data["tabular"]
    path = qre_path(tg, taus)
    out = {"taus": taus.tolist(), "qre": [], "residual": np.asarray(path.residual).tolist(),
           "status": [], "margin": [], "step_bound": [], "learner_kl": [], "lost_at": None}
    logits = [z[0] for z in path.logits]
    for k, tau in enumerate(taus):
        g_tau = with_temperature(game, float(tau))
        cert = certifier(g_tau)
        out["status"].append(str(cert.status))
        out["margin"].append(cert.margin)
        out["step_bound"].append(cert.euler_step)
        if cert.status != "certified" and out["lost_at"] is None:
            out["lost_at"] = float(tau)
        qre = [z[k] for z in path.logits]
        out["qre"].append([np.asarray(jax.nn.softmax(z[0])).tolist() for z in qre])
        step = cert.euler_best_step or 0.5 / float(tau)
        tg_tau = g_tau.data["tabular"]
        kick = [z + perturbation * jnp.arange(z.shape[-1], dtype=z.dtype)[None, :] for z in logits]
        state, _ = run_learner(npg(step=step), tg_tau, kick, n_steps=learner_steps)
        logits = list(state.logits)
        out["learner_kl"].append(float(kl_to_qre(logits, qre)))
    return out


def plot_curriculum(result: dict, *, path: str | None = None):
    """Plots the QRE path (first action's probability per player) and the margin against ``tau``.

    matplotlib is imported here only. Returns the figure; saves it when ``path`` is given.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    taus = np.asarray(result["taus"])
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.5))
    qre = result["qre"]
    for i in range(len(qre[0])):
        ax1.plot(taus, [q[i][0] for q in qre], label=f"player {i + 1}")
    ax1.set_xscale("log")
    ax1.set_xlabel(r"$\tau$")
    ax1.set_ylabel(r"$\pi_i(a_0)$ on the QRE path")
    ax1.legend()
    margins = [np.nan if m is None else m for m in result["margin"]]
    ax2.plot(taus, margins, marker=".")
    ax2.axhline(0.0, color="k", lw=0.8)
    if result["lost_at"] is not None:
        ax2.axvline(result["lost_at"], color="r", ls="--", label=f"lost at tau={result['lost_at']:.3g}")
        ax2.legend()
    ax2.set_xscale("log")
    ax2.set_xlabel(r"$\tau$")
    ax2.set_ylabel(r"SGN margin $\alpha_*$")
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig
