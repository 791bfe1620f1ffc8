"""Points per second of the sampled-bound kernel: ours (batched, sharded) vs a Python loop vs NumPy.

Kernel: for P sample points, the Jacobian :math:`DF(x)` and per point
:math:`\\lambda_{\\min}(\\operatorname{sym}J_{ii})`, :math:`\\lVert J_{ij}\\rVert_2`,
:math:`\\lVert J\\rVert_2`, :math:`\\lambda_{\\min}(\\operatorname{sym}J)`, then their extremes
(:class:`certify.bounds.Sampled` with the points sharded over all devices, float64). Games: the 64-d LQ game ``lq64``
(two 32-d players) and the nonlinear 2-d ``tanh-sin``.

Baselines in the same run: a per-point Python loop (one jitted ``jacfwd`` call and NumPy
``eigvalsh``/``svd`` per point, on a subset of points) and hand-vectorised NumPy (batched
``numpy.linalg`` on all points; the Jacobian in closed form: constant for LQ,
:math:`[[1 + 0.3x^2, 0.5\\,\\mathrm{sech}^2 y], [-0.8\\cos x, 1]]` for tanh-sin). Cold = first call
for a shape (tracing + compilation), warm = median of repeats. Scaling with points (P) and
dimension (``half`` of lq64). Peak memory: maximum resident set size.

Usage: ``python benchmarks/bounds_scaling.py [--quick] [--out out/bench_bounds_scaling.json]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time

import jax
import jax.numpy as jnp
import numpy as np

import games
from certify.bounds import Sampled, sample_points
from certify.sweep import make_mesh


def _median_time(fn, reps):
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return float(np.median(ts))


def _numpy_quantities(jacs, dims):
    off = np.cumsum((0,) + tuple(dims))
    n = len(dims)
    mu = np.stack([np.linalg.eigvalsh(0.5 * (jacs[:, a:b, a:b] + np.swapaxes(jacs[:, a:b, a:b], 1, 2)))[:, 0]
                   for a, b in zip(off[:-1], off[1:], strict=True)], 1)
    cs = [np.linalg.norm(jacs[:, off[i]:off[i + 1], off[j]:off[j + 1]], 2, axis=(1, 2))
          for i in range(n) for j in range(n) if i != j]
    lip = np.linalg.norm(jacs, 2, axis=(1, 2))
    euc = np.linalg.eigvalsh(0.5 * (jacs + np.swapaxes(jacs, 1, 2)))[:, 0]
    return mu.min(0), np.max(cs, axis=1), lip.max(), euc.min()


def numpy_vectorised(game, points):
    if game.is_affine:
        jacs = np.broadcast_to(game.constant_jacobian, (points.shape[0],) + game.constant_jacobian.shape)
    else:  # tanh-sin, coupling = 1
        x, y = points[:, 0], points[:, 1]
        jacs = np.empty((points.shape[0], 2, 2))
        jacs[:, 0, 0] = 1 + 0.3 * x**2
        jacs[:, 0, 1] = 0.5 / np.cosh(y) ** 2
        jacs[:, 1, 0] = -0.8 * np.cos(x)
        jacs[:, 1, 1] = 1.0
    return _numpy_quantities(jacs, game.dims)


def python_loop(game, points, jac_one):
    out = [_numpy_quantities(np.asarray(jac_one(jnp.asarray(p)))[None], game.dims) for p in points]
    return out


def bench_game(game, sizes, reps, loop_points, tag):
    rows = []
    jac_one = jax.jit(jax.jacfwd(game.pseudo_gradient))
    region = game.default_region() or games.Region.around(np.zeros(game.dim), 1.0)
    mesh = make_mesh()
    for n in sizes:
        pts = sample_points(region, n_samples=n, seed=0)
        p = pts.shape[0]
        t0 = time.perf_counter()
        method = Sampled(n_samples=n, seed=0, mesh=mesh)
        method(game, region)
        cold = time.perf_counter() - t0
        warm = _median_time(lambda method=method: method(game, region), reps)
        vec = _median_time(lambda pts=pts: numpy_vectorised(game, pts), reps)
        sub = pts[:loop_points]
        python_loop(game, sub[:2], jac_one)  # compile the single-point kernel outside the timing
        loop = _median_time(lambda sub=sub: python_loop(game, sub, jac_one), 1) * p / sub.shape[0]
        row = {"game": tag, "dim": game.dim, "points": p, "ours_cold_s": cold, "ours_warm_s": warm,
               "ours_points_per_s": p / warm, "loop_points_per_s": p / loop, "numpy_points_per_s": p / vec,
               "speedup_vs_loop": loop / warm, "speedup_vs_numpy": vec / warm, "cold_over_warm": cold / warm}
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default="out/bench_bounds_scaling.json")
    args = ap.parse_args(argv)
    jax.config.update("jax_enable_x64", True)
    sizes = [256, 1024] if args.quick else [256, 1024, 4096, 16384]
    reps = 3 if args.quick else 5
    rows = []
    rows += bench_game(games.get_game("lq64", lam=1.0), sizes[:3], reps, 64, "lq64")
    rows += bench_game(games.get_game("tanh-sin"), sizes, reps, 256, "tanh-sin")
    dim_rows = []
    for half in ([4, 32] if args.quick else [4, 8, 16, 32, 64]):
        dim_rows += bench_game(games.get_game("lq64", lam=1.0, half=half), [1024], reps, 32, f"lq-half{half}")
    d = np.array([r["dim"] for r in dim_rows], float)
    t = np.array([r["ours_warm_s"] for r in dim_rows])
    res = {"device": str(jax.devices()[0]), "n_devices": jax.device_count(), "rows": rows, "dim_rows": dim_rows,
           "dim_growth_exponent": float(np.polyfit(np.log(d), np.log(t), 1)[0]),
           "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as fh:
        json.dump(res, fh, indent=1)
    print(json.dumps({"dim_growth_exponent": res["dim_growth_exponent"], "peak_rss_mb": res["peak_rss_mb"]}))
    return res


if __name__ == "__main__":
    main()
