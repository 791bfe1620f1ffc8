"""The paper's LQ sweep end to end: 61 values of lam in linspace(0, 2.5, 61), 64 dimensions.

Ours: :func:`certify.sweep.sweep_parameter` (one batched, sharded call per kernel: blockwise
``eigvalsh``/``svd``, dense Noda Perron weights, :math:`\\alpha_*(w)`, :math:`\\beta(w)`, the
Euclidean margin), float64. Baseline: the same computation in NumPy/SciPy, one value at a time
(blockwise ``eigvalsh``/``svd``, Perron vectors by ``scipy.linalg.eig``, ``eigvalsh`` of
:math:`S(w)`, ``svd`` of :math:`M^{1/2}JM^{-1/2}`). Both build the 61 Jacobians from the registry.
Cold = first call (ours includes tracing and compilation), warm = median of repeats. Asserts the
thresholds of spec-sgn-math §8.2: last certified lam = 1.375, last Euclidean-monotone lam = 1/6.
Peak memory: the process's maximum resident set size.

Usage: ``python benchmarks/lq_sweep.py [--quick] [--out out/bench_lq_sweep.json]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time

import jax
import numpy as np
import scipy.linalg as sla

import games
from certify.sweep import sweep_parameter

LAMS = np.linspace(0.0, 2.5, 61)


def numpy_sweep(lams, half=32):
    """Per-value NumPy/SciPy implementation of the same map."""
    out = {"margin": [], "euclidean": [], "beta": []}
    for lam in lams:
        jac = games.get_game("lq64", lam=float(lam), half=half).constant_jacobian
        b = [slice(0, half), slice(half, 2 * half)]
        mu = np.array([sla.eigvalsh(0.5 * (jac[s, s] + jac[s, s].T))[0] for s in b])
        c = np.zeros((2, 2))
        c[0, 1] = sla.svdvals(jac[b[0], b[1]])[0]
        c[1, 0] = sla.svdvals(jac[b[1], b[0]])[0]
        k = np.diag(mu) - c
        vals, left, right = sla.eig(k, left=True, right=True)
        i = int(np.argmin(vals.real))
        u, v = np.abs(right[:, i].real), np.abs(left[:, i].real)
        w = v / u if np.all(u > 0) else np.ones(2)
        w = w / w.min()
        r = np.sqrt(w)
        s = np.diag(mu) - 0.5 * (c * np.outer(r, 1 / r) + (c * np.outer(r, 1 / r)).T)
        out["margin"].append(sla.eigvalsh(s)[0])
        out["euclidean"].append(sla.eigvalsh(0.5 * (jac + jac.T))[0])
        sc = np.repeat(r, half)
        out["beta"].append(sla.svdvals(sc[:, None] * jac / sc[None, :])[0])
    return {k: np.asarray(v) for k, v in out.items()}


def _last(flags, values):
    stop = int(np.argmin(flags)) if not flags.all() else flags.size
    return float(values[stop - 1])


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer repeats")
    ap.add_argument("--out", default="out/bench_lq_sweep.json")
    args = ap.parse_args(argv)
    reps = 3 if args.quick else 7

    t0 = time.perf_counter()
    ours = sweep_parameter("lq64", "lam", LAMS)
    cold = time.perf_counter() - t0
    warm = []
    for _ in range(reps):
        t0 = time.perf_counter()
        ours = sweep_parameter("lq64", "lam", LAMS)
        warm.append(time.perf_counter() - t0)

    t0 = time.perf_counter()
    ref = numpy_sweep(LAMS)
    np_cold = time.perf_counter() - t0
    np_warm = []
    for _ in range(reps):
        t0 = time.perf_counter()
        ref = numpy_sweep(LAMS)
        np_warm.append(time.perf_counter() - t0)

    last_sgn = ours.last_certified()
    last_euc = ours.last_certified(euclidean=True)
    ref_last_sgn = _last(ref["margin"] > 1e-9, LAMS)
    ref_last_euc = _last(ref["euclidean"] > 0, LAMS)
    assert last_sgn == 1.375, last_sgn
    assert abs(last_euc - 1 / 6) < 1e-12, last_euc
    assert ref_last_sgn == 1.375
    assert abs(ref_last_euc - 1 / 6) < 1e-12
    agree = max(float(np.max(np.abs(ours.margin - ref["margin"]))),
                float(np.max(np.abs(ours.euclidean_margin - ref["euclidean"]))),
                float(np.max(np.abs(ours.beta - ref["beta"]))))
    res = {
        "device": str(jax.devices()[0]), "n_devices": jax.device_count(), "n_values": LAMS.size, "dim": 64,
        "ours_cold_s": cold, "ours_warm_s": float(np.median(warm)),
        "numpy_cold_s": np_cold, "numpy_warm_s": float(np.median(np_warm)),
        "speedup_warm_numpy_over_ours": float(np.median(np_warm) / np.median(warm)),
        "speedup_cold_numpy_over_ours": np_cold / cold,
        "cold_over_warm_ours": cold / float(np.median(warm)),
        "max_abs_diff_vs_numpy": agree,
        "last_certified_lam": last_sgn, "last_euclidean_lam": last_euc,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    print(json.dumps(res, indent=1))
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as fh:
        json.dump(res, fh, indent=1)
    return res


if __name__ == "__main__":
    main()
