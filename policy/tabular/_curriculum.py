r"""Temperature curriculum: follow the QRE path as :math:`\tau` decreases and track the certificate.

Annealing the entropy temperature toward zero moves the logit QRE toward a Nash equilibrium (as
QARL anneals its adversary's rationality). Along the path a certifier passed by the caller (e.g.
``certify.certify``; ``policy`` never imports ``certify``) is run at every temperature and the first
temperature where the certificate is lost is reported; a learner (NPG at the certified
step) is warm-started from the previous temperature's iterate, so one can see whether it keeps
tracking the branch once the certificate is gone. On the 2x2 coordination game the certificate
is lost exactly at the QRE bifurcation :math:`\tau = 1`, below which the centroid branch is
unstable and two new QREs appear.

References:
  Reddi et al., `Robust Adversarial Reinforcement Learning via Bounded Rationality Curricula
  <https://arxiv.org/abs/2311.01642>`_, 2023 (QARL).
  McKelvey & Palfrey, Quantal response equilibria for normal form games, GEB 10, 1995.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from games import Game
from games.tabular import markov_game, matrix_game
from policy.tabular._learners import npg, run_learner
from policy.tabular._measures import kl_to_qre
from policy.tabular._qre import qre_path


def with_temperature(game: Game, tau: float) -> Game:
    """The same tabular game (from ``games.tabular.matrix_game`` / ``markov_game``) at temperature ``tau``.

    Args:
      game: a game built by :func:`games.tabular.matrix_game` or :func:`games.tabular.markov_game`.
      tau: the new entropy temperature.

    Returns:
      The rebuilt :class:`games.Game` (same name, description and, for a Markov game, entropy mode).

    Raises:
      ValueError: for a game that is not tabular.

    Examples:
      >>> from games.tabular import matrix_game
      >>> with_temperature(matrix_game([[1.0, -1.0], [-1.0, 1.0]], tau=0.5), 2.0).params
      {'tau': 2.0}
    """
    data = game.data
    if game.geometry == "mirror" and "payoffs" in data:
        p = np.asarray(data["payoffs"])
        if p.shape[0] == 2:
            return matrix_game(p[0], p[1], tau=tau, name=game.name, description=game.description)
        return matrix_game(list(p), tau=tau, name=game.name, description=game.description)
    if game.geometry == "fisher" and "transitions" in data:
        return markov_game(data["transitions"], data["rewards"], gamma=data["gamma"], tau=tau,
                           initial=data["initial"], entropy=data.get("entropy", "states"),
                           name=game.name, description=game.description)
    raise ValueError(f"expected a tabular game (matrix_game / markov_game), got geometry "
                     f"{game.geometry!r} without tabular data")


def _field(cert: Any, *paths: str):
    """First of the dotted ``paths`` (``"steps.euler_best_step"``) present on a certificate object or dict."""
    for path in paths:
        value = cert
        for name in path.split("."):
            value = value.get(name) if isinstance(value, dict) else getattr(value, name, None)
            if value is None:
                break
        if value is not None:
            return value
    return None


def _status(cert: Any) -> str:
    status = _field(cert, "status")
    return str(getattr(status, "value", status))


def temperature_curriculum(game: Game, taus, *, certifier: Callable[[Game], Any], learner_steps: int = 200,
                           perturbation: float = 1e-3) -> dict:
    r"""QRE path, certificate and a warm-started NPG learner along decreasing temperatures.

    Host-side driver (a Python loop over temperatures). The certifier is an argument so that
    ``policy`` does not depend on ``certify``: pass ``certify.certify``. Its result (a certificate
    object or a dict) must expose ``status`` (``"certified"`` when certified, or an enum whose
    ``value`` is that string) and ``margin``; the learner's step is the certificate's recommended step
    (``step`` or ``euler_best_step``) when certified and positive, else :math:`0.5/\tau`.

    Args:
      game: a tabular game.
      taus: decreasing positive temperatures.
      certifier: ``game -> certificate``, e.g. ``certify.certify``.
      learner_steps: NPG steps per temperature.
      perturbation: size of the deterministic perturbation added to the learner's warm start at
        every temperature, so that an unstable branch is visibly left.

    Returns:
      dict of lists: ``taus``, ``qre`` (per player, first state's probabilities), ``residual``,
      ``status``, ``margin``, ``step`` (the learner's step), ``learner_kl`` (KL of the learner to the
      tracked QRE after ``learner_steps``), and ``lost_at`` (first temperature not certified, or
      ``None``).

    Examples:
      With a stand-in certifier (certified iff :math:`\tau > 1`, the coordination game's bifurcation):

      >>> from games.tabular import matrix_game
      >>> game = matrix_game([[1.0, -1.0], [-1.0, 1.0]], [[1.0, -1.0], [-1.0, 1.0]], tau=2.0)
      >>> fake = lambda g: {"status": "certified" if g.params["tau"] > 1 else "not_certified",
      ...                   "margin": g.params["tau"] - 1.0}
      >>> out = temperature_curriculum(game, [2.0, 1.5, 0.8], certifier=fake, learner_steps=5)
      >>> out["status"], out["lost_at"]
      (['certified', 'certified', 'not_certified'], 0.8)
    """
    taus = np.asarray(taus, dtype=np.float64)
    tg = game.data["tabular"]
    path = qre_path(tg, taus)
    out = {"taus": taus.tolist(), "qre": [], "residual": np.asarray(path.residual).tolist(),
           "status": [], "margin": [], "step": [], "learner_kl": [], "lost_at": None}
    logits = [z[0] for z in path.logits]
    for k, tau in enumerate(taus):
        g_tau = with_temperature(game, float(tau))
        cert = certifier(g_tau)
        status = _status(cert)
        margin = _field(cert, "margin")
        out["status"].append(status)
        out["margin"].append(None if margin is None else float(margin))
        if status != "certified" and out["lost_at"] is None:
            out["lost_at"] = float(tau)
        qre = [z[k] for z in path.logits]
        out["qre"].append([np.asarray(jax.nn.softmax(z[0])).tolist() for z in qre])
        step = _field(cert, "step", "steps.euler_best_step") if status == "certified" else None
        step = float(step) if step is not None and float(step) > 0 else 0.5 / float(tau)
        out["step"].append(step)
        kick = [z + perturbation * jnp.arange(z.shape[-1], dtype=z.dtype)[None, :] for z in logits]
        state, _ = run_learner(npg(step=step), g_tau.data["tabular"], kick, n_steps=learner_steps)
        logits = list(state.logits)
        out["learner_kl"].append(float(kl_to_qre(logits, qre)))
    return out


def plot_curriculum(result: dict, *, path: str | None = None):
    """Plots the QRE path (first action's probability per player) and the margin against ``tau``.

    matplotlib is imported here only (the Agg backend). Returns the figure; saves it when ``path``
    is given.

    Args:
      result: the dict of :func:`temperature_curriculum`.
      path: optional file to save the figure to.

    Returns:
      The matplotlib figure.

    Examples:
      >>> fig = plot_curriculum({"taus": [2.0, 1.0], "qre": [[[0.5, 0.5]] * 2] * 2,
      ...                        "margin": [1.0, None], "lost_at": 1.0})
      >>> len(fig.axes)
      2
      >>> import matplotlib.pyplot as plt
      >>> plt.close(fig)
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
