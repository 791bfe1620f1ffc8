"""Weight optimisation for N = 2 … 2000 players on ring, grid and Erdős–Rényi networks.

Methods (all maximise :math:`\\alpha_*(w)`, supremum :math:`\\lambda_P(K)`):

* ``auto`` — :func:`certify.optimize_block_weights` with ``weight_method="auto"``;
* ``sparse`` — the closed form on the sparse couplings, i.e. the sparse Noda iteration (``weight_method="perron"``);
* ``dense`` — the dense route of :func:`sgn.perron_weights` at any N (``numpy.linalg.eig``), N <= 512;
* ``lp`` — the sparse two-sided LP by bisection (HiGHS), N <= 1000 (256 with --quick);
* ``sdp`` — the LMI by bisection (Clarabel), N <= 16 (8 with --quick).

For each, the time (median of repeats for fast methods) and the exact margin of its weights,
and the agreement ``|margin - margin_sparse|``. The growth exponent is the least-squares slope
of log(time) against log(N) over N >= 64. Peak memory: maximum resident set size.

Usage: ``python benchmarks/many_players.py [--quick] [--out out/bench_many_players.json]``.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import resource
import time

import numpy as np

import games
from certify import optimize_block_weights
from games import network_bounds
from sgn._weights import dense_perron_weights

GRAPHS = ("ring", "grid", "erdos-renyi")


def _time(fn, reps):
    best = []
    out = None
    for _ in range(reps):
        t0 = time.perf_counter()
        out = fn()
        best.append(time.perf_counter() - t0)
    return float(np.median(best)), out


def _slope(ns, ts):
    ns, ts = np.asarray(ns, float), np.asarray(ts, float)
    keep = (ns >= 64) & np.isfinite(ts) & (ts > 0)
    if keep.sum() < 2:
        return float("nan")
    return float(np.polyfit(np.log(ns[keep]), np.log(ts[keep]), 1)[0])


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="N up to 512, fewer solver runs")
    ap.add_argument("--out", default="out/bench_many_players.json")
    args = ap.parse_args(argv)
    ns = [2, 4, 8, 16, 32, 64, 128, 256, 512] + ([] if args.quick else [1024, 2000])
    lp_max, sdp_max, dense_max = (256, 8, 256) if args.quick else (1000, 16, 512)
    rows = []
    for graph in GRAPHS:
        for n in ns:
            mu, coupling = network_bounds(games.get_game(graph, n=n, seed=0))
            row = {"graph": graph, "n": n, "edges": int(coupling.nnz)}
            t, r = _time(functools.partial(optimize_block_weights, mu, coupling, weight_method="perron"), 3)
            row["sparse_s"], row["sparse_margin"] = t, r.margin
            ref = r.margin
            t, r = _time(functools.partial(optimize_block_weights, mu, coupling), 3)
            row["auto_s"], row["auto_method"], row["auto_margin"] = t, r.method, r.margin
            row["auto_diff"] = abs(r.margin - ref)
            if n <= dense_max:
                t, (w, m) = _time(functools.partial(dense_perron_weights, mu, coupling.toarray()), 1)
                row["dense_s"], row["dense_margin"], row["dense_diff"] = t, m, abs(m - ref)
            if n <= lp_max:
                t, r = _time(functools.partial(optimize_block_weights, mu, coupling, weight_method="lp", tol=1e-6), 1)
                row["lp_s"], row["lp_margin"], row["lp_diff"] = t, r.margin, abs(r.margin - ref)
            if n <= sdp_max:
                t, r = _time(functools.partial(optimize_block_weights, mu, coupling, weight_method="sdp", tol=1e-5), 1)
                row["sdp_s"], row["sdp_margin"], row["sdp_diff"] = t, r.margin, abs(r.margin - ref)
            rows.append(row)
            print(json.dumps(row), flush=True)
    exps = {}
    for graph in GRAPHS:
        sub = [r for r in rows if r["graph"] == graph]
        for m in ("sparse", "auto", "dense", "lp"):
            pts = [(r["n"], r[f"{m}_s"]) for r in sub if f"{m}_s" in r]
            exps[f"{graph}/{m}"] = _slope(*zip(*pts, strict=True)) if pts else float("nan")
    largest = max(ns)
    speed = {}
    for graph in GRAPHS:
        sub = {r["n"]: r for r in rows if r["graph"] == graph}
        nd = max(n for n in ns if "dense_s" in sub[n])
        nl = max(n for n in ns if "lp_s" in sub[n])
        speed[graph] = {"dense_over_sparse_at": nd, "dense_over_sparse": sub[nd]["dense_s"] / sub[nd]["sparse_s"],
                        "lp_over_sparse_at": nl, "lp_over_sparse": sub[nl]["lp_s"] / sub[nl]["sparse_s"]}
    res = {"rows": rows, "growth_exponent": exps, "ratios": speed, "largest_n": largest,
           "max_auto_diff": max(r["auto_diff"] for r in rows),
           "max_lp_diff": max(r.get("lp_diff", 0.0) for r in rows),
           "max_sdp_diff": max(r.get("sdp_diff", 0.0) for r in rows),
           "max_dense_shortfall": max(r.get("dense_diff", 0.0) for r in rows),
           "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    print(json.dumps({k: v for k, v in res.items() if k != "rows"}, indent=1))
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as fh:
        json.dump(res, fh, indent=1)
    return res


if __name__ == "__main__":
    main()
