"""Runs the SGN paper authors' own Markov code (github.com/AashVed/SmallGainNash, ``markov/``) and prints JSON.

This file imports their modules from a checkout given on the command line and calls their functions
unchanged; it contains none of their code. It runs under *their* environment (torch, numpy, tqdm),
not ours, and is started by ``benchmarks/markov_vs_authors.py``:

* ``sweep``: their equilibrium, their certificate (``SGNCertifier.compute_local_sgn``) and their NPG
  (``markov.experiment.run_npg``) at ``eta = m * eta_max`` for each multiplier ``m``, over their
  seeds (``torch.manual_seed(s)``, ``theta0 = 0.01 * randn``, 500 steps), scored by their sweep rule
  (``converged or final distance < 1``). ``torch.linalg.lstsq`` is wrapped (not changed) to count
  the runs in which it reports a rank other than the Fisher block's true rank (one per state): below
  it (a state's update is dropped) or above it (the null direction ``1_s`` is inverted).
* ``time``: import + equilibrium + certificate, wall seconds, in this (fresh) process.
* ``warm``: equilibrium + certificate repeated in one process (after one untimed call).
* ``gradient``: their pseudo-gradient at a given point (to check that the two games agree).

Usage: python authors_markov_driver.py CHECKOUT {sweep,time,warm,gradient} [options]
"""

import argparse
import contextlib
import io
import json
import sys
import time

T0 = time.perf_counter()


def _load(checkout):
    sys.path.insert(0, checkout)
    import torch

    torch.set_num_threads(1)
    from markov.config import MarkovConfig
    from markov.env import TabularMarkovGame
    from markov.sgn_theory import SGNCertifier

    game = TabularMarkovGame(MarkovConfig())
    return torch, game, SGNCertifier(game)


def _certificate(certifier):
    with contextlib.redirect_stdout(io.StringIO()):  # their DEBUG lines
        theta_star = certifier.find_equilibrium()
        data = certifier.compute_local_sgn(theta_star)
    return theta_star, data


def sweep(checkout, multipliers, n_seeds, n_steps):
    torch, game, certifier = _load(checkout)
    from markov.experiment import run_npg

    theta_star, data = _certificate(certifier)
    alpha, beta, best_r = data["alpha"], data["beta"], data["best_r"]
    eta_max = 2 * alpha / beta**2
    seeds = range(game.cfg.seed, game.cfg.seed + n_seeds)
    lstsq = torch.linalg.lstsq
    true_rank = game.cfg.n_states * (game.cfg.n_actions - 1)
    wrong_rank = {"low": 0, "high": 0}

    def counting_lstsq(a, b, *args, **kwargs):
        out = lstsq(a, b, *args, **kwargs)
        if out.rank.numel() and int(out.rank) != true_rank:
            wrong_rank["low" if int(out.rank) < true_rank else "high"] += 1
        return out

    starts = []
    for s in seeds:  # as their sweep draws them
        torch.manual_seed(s)
        starts.append((torch.randn_like(theta_star) * 0.01).tolist())
    rows = []
    torch.linalg.lstsq = counting_lstsq
    try:
        for m in multipliers:
            ok, final, stop, runs_low, runs_high = [], [], [], 0, 0
            for x0 in starts:
                wrong_rank.update(low=0, high=0)
                h = run_npg(game, torch.tensor(x0, dtype=game.dtype), theta_star, m * eta_max, (1.0, best_r), n_steps)
                ok.append(bool(h["converged"] or h["dist"][-1] < 1.0))
                final.append(h["dist"][-1])
                stop.append("gradient" if h["converged"] else ("diverged" if len(h["dist"]) < n_steps else "steps"))
                runs_low += wrong_rank["low"] > 0
                runs_high += wrong_rank["high"] > 0
            rows.append({"multiplier": m, "converged": sum(ok) / len(ok), "final_distance": final,
                         "stopped_by": stop, "runs_rank_low": runs_low, "runs_rank_high": runs_high})
    finally:
        torch.linalg.lstsq = lstsq
    return {"alpha": alpha, "beta": beta, "best_r": best_r, "eta_max": eta_max, "theta_star": theta_star.tolist(),
            "starts": starts, "steps": n_steps, "rows": rows}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkout")
    ap.add_argument("mode", choices=("sweep", "time", "warm", "gradient"))
    ap.add_argument("--multipliers", type=float, nargs="*", default=[1.0])
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--point", type=float, nargs="*", default=None)
    args = ap.parse_args()
    if args.mode == "sweep":
        out = sweep(args.checkout, args.multipliers, args.seeds, args.steps)
    elif args.mode == "time":
        _, _, certifier = _load(args.checkout)
        _, data = _certificate(certifier)
        out = {"seconds": time.perf_counter() - T0, "eta_max": 2 * data["alpha"] / data["beta"] ** 2}
    elif args.mode == "warm":
        _, _, certifier = _load(args.checkout)
        _certificate(certifier)
        t = time.perf_counter()
        for _ in range(args.repeats):
            _certificate(certifier)
        out = {"seconds": (time.perf_counter() - t) / args.repeats}
    else:
        torch, game, _ = _load(args.checkout)
        theta = torch.tensor(args.point, dtype=game.dtype, requires_grad=True)
        l1, l2 = game.get_loss(theta)
        half = theta.numel() // 2
        g1 = torch.autograd.grad(l1, theta, retain_graph=True)[0][:half]
        g2 = torch.autograd.grad(l2, theta)[0][half:]
        out = {"pseudo_gradient": torch.cat([g1, g2]).tolist()}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
