"""Sampled-bound throughput: one jitted vmap kernel vs a per-point Python loop calling jax.jacfwd.

For the 64-d LQ game and the nonlinear 2-player `tanh-sin` game, estimates mu_i, L_ij, block
norms, ||DF|| and lambda_min(sym DF) over sampled points of a box, and reports points/s of
``certify.bounds.sampled_block_bounds`` (cold = first call incl. compilation; warm = later calls) against a
baseline that loops over points in Python, calls ``jax.jacfwd`` per point and reduces with NumPy.
Both compute the same numbers (checked). Ratios are measured in one run.

Usage: python benchmarks/bounds.py [--points 4096] [--loop-points 200] [--json out/bench_bounds.json]
"""

from __future__ import annotations

import argparse
import json
import pathlib
import resource
import time

import jax
import numpy as np

jax.config.update("jax_enable_x64", True)

import certify  # noqa: E402
import games  # noqa: E402


def loop_bounds(game, points):
    offsets = np.cumsum((0,) + game.dims)
    n = game.n_players
    mu, block, coupling = np.full(n, np.inf), np.zeros(n), np.zeros((n, n))
    lip, euc = 0.0, np.inf
    jac_fn = jax.jacfwd(game.pseudo_gradient)
    for x in points:
        J = np.asarray(jac_fn(x))
        for i in range(n):
            bi = slice(offsets[i], offsets[i + 1])
            Jii = J[bi, bi]
            mu[i] = min(mu[i], np.linalg.eigvalsh(0.5 * (Jii + Jii.T))[0])
            block[i] = max(block[i], np.linalg.norm(Jii, 2))
            for j in range(n):
                if i != j:
                    coupling[i, j] = max(coupling[i, j], np.linalg.norm(J[bi, offsets[j]:offsets[j + 1]], 2))
        lip = max(lip, np.linalg.norm(J, 2))
        euc = min(euc, np.linalg.eigvalsh(0.5 * (J + J.T))[0])
    return mu, coupling, block, lip, euc


def bench(name, game, region, n_points, n_loop):
    t0 = time.perf_counter()
    b = certify.bounds.sampled_block_bounds(game, region, n_samples=n_points, seed=0, vertices=False)
    cold = time.perf_counter() - t0
    reps = 3
    t0 = time.perf_counter()
    for _ in range(reps):
        b = certify.bounds.sampled_block_bounds(game, region, n_samples=n_points, seed=0, vertices=False)
    warm = (time.perf_counter() - t0) / reps
    pts = certify.bounds.sample_points(region, n_samples=n_loop, seed=0, vertices=False)
    t0 = time.perf_counter()
    ref = loop_bounds(game, pts)
    loop = time.perf_counter() - t0
    small = certify.bounds.sampled_block_bounds(game, region, n_samples=n_loop, seed=0, vertices=False)
    agree = bool(np.allclose(small.mu, ref[0], atol=1e-10) and np.allclose(small.coupling, ref[1], atol=1e-10)
                 and np.isclose(small.lipschitz, ref[3], atol=1e-10))
    n_total = b.n_points
    row = {
        "game": name, "dim": game.dim, "points": n_total, "loop_points": len(pts),
        "kernel_cold_s": cold, "kernel_warm_s": warm,
        "kernel_warm_points_per_s": n_total / warm, "kernel_cold_points_per_s": n_total / cold,
        "loop_points_per_s": len(pts) / loop,
        "speedup_warm": (n_total / warm) / (len(pts) / loop),
        "speedup_cold": (n_total / cold) / (len(pts) / loop),
        "agree_with_loop": agree,
    }
    return row


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--points", type=int, default=4096)
    p.add_argument("--loop-points", type=int, default=200)
    p.add_argument("--json", default="out/bench_bounds.json")
    args = p.parse_args()
    cases = [
        ("lq64", games.get_game("lq64", lam=1.0), games.Region.around(np.zeros(64), 1.0)),
        ("tanh-sin", games.get_game("tanh-sin"), None),
    ]
    rows = []
    for name, game, region in cases:
        rows.append(bench(name, game, region or game.default_region(), args.points, args.loop_points))
    print(f"{'game':10s} {'dim':>4s} {'kernel warm pts/s':>18s} {'kernel cold pts/s':>18s} "
          f"{'loop pts/s':>11s} {'warm x':>8s} {'cold x':>8s} agree")
    for r in rows:
        print(f"{r['game']:10s} {r['dim']:4d} {r['kernel_warm_points_per_s']:18.0f} "
              f"{r['kernel_cold_points_per_s']:18.0f} {r['loop_points_per_s']:11.1f} "
              f"{r['speedup_warm']:8.1f} {r['speedup_cold']:8.1f} {r['agree_with_loop']}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:.0f} MiB (ru_maxrss, whole process)")
    path = pathlib.Path(args.json)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"rows": rows, "peak_rss_mib": peak, "backend": jax.default_backend()}, indent=2))


if __name__ == "__main__":
    main()
