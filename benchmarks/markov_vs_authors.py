r"""The paper's Markov experiment beside the authors' own code: a three-way NPG table and timing ratios.

**Table.** For each step multiplier ``m`` (``eta = m * eta_max``, ``eta_max = 2 alpha / beta^2`` of
each code's own certificate: theirs 0.269916 at their grid weight r = 0.977, ours 0.269971 at the
Perron weight r = 1; 0.02 % apart) on the paper's sweep grid ``logspace(-1, 1, 20)`` plus 4.78 (NPG's
linear stability limit, ``eta = 40/31``, is 4.7795 x ours and 4.7805 x theirs), three columns:

(a) **the authors' code** (``markov/experiment.py``: their equilibrium, certificate and ``run_npg``,
    their 20 seeds and 500 steps, their sweep rule ``converged or final distance < 1``), run by
    ``benchmarks/authors_markov_driver.py`` under their own environment;
(b) **exact NPG under the authors' rule**: our NPG (``theta_s <- theta_s + eta (u_s - tau theta_s)``,
    the natural gradient with the Fisher pseudo-inverse taken exactly) from *their* starting points,
    scored by their loop's rule (``benchmarks/markov_experiment.py --protocol authors``);
(c) **exact NPG under a rule that separates convergence from saturation** (``--protocol ours``):
    starts theta* + N(0, 1), 2000 steps, converged iff the final Lyapunov function
    ``sum_i w_i KL(pi_i* || pi_i)`` is below 1e-8.

Why the columns differ (measured 2026-12-06, their commit 451dfcd; the table is in the notes of issue 22):

1. *Up to the linear limit all three agree.* For m <= 3.79, (a) and (b) stop the same runs the same way
   (gradient / steps counts equal in every row): their lstsq natural gradient *is* exact NPG while the
   policies stay near uniform. Below m ~ 0.15 neither reaches |grad| < 1e-6 within 500 steps and both
   count those runs by the final-distance rule.
2. *Bounded is not converged (m = 4.78, 4.83).* Past the linear limit exact NPG settles on a period-2
   orbit around theta* (median distance 0.535 at 4.83 in (a), 0.54 in (b)); 4.78 is within 0.011 % of
   the limit (just above it with our eta_max, just below with theirs), where the period-2 mode changes
   by a factor 1 +- 2e-4 per step and barely moves in 500 steps. The authors' rule ("final distance < 1")
   counts both as converged in (a) and (b); (c) does not (final Lyapunov 1e-3 and 0.07 after 2000
   steps). So the paper's "NPG converges up to 4.83 x eta_max" measures boundedness, and at 4.83 the
   authors' code is exact NPG (no lstsq rank other than the true one in any run below m = 6).
3. *Their least squares departs from NPG once policies saturate (m >= 6.16).* Their NPG solves the
   singular Fisher system ``F_i d = g_i`` with ``torch.linalg.lstsq`` (gelsy, default rcond). The null
   direction ``1_s`` has eigenvalue zero only up to rounding; when a state's policy saturates, the
   other eigenvalue ``p(1 - p)`` is small enough that lstsq counts the rounding eigenvalue as rank
   (column ``rank>``: every run at m >= 6.16) and inverts it: the logits jump by tens along ``1_s``,
   which changes no policy but the raw distance, and the runs stop "diverged" at distance 100. (We
   also count ranks below the true one, which would zero a state's update: none occurred in this
   sweep.) Which runs stop by the gradient first depends on rounding (m = 7.848 vs 7.85: 1 vs 0 of 20).
4. *Saturation passes the gradient test (m = 7.85, 10).* Exact NPG is theta <- (1 - eta tau) theta +
   eta u: above eta = 2/tau (m > 7.41) the logits grow by |1 - eta tau| > 1 per step and the policy
   saturates; the gradient ``F (u - tau theta)`` vanishes like ``exp(-|theta|)``, faster than the
   logits grow, and falls below 1e-6 while the distance is still below 100 (median 39 and 79): (b)
   reports 20/20 "converged" for iterates that run off to infinity (the Lyapunov function in (c) is
   7.6e98 at 7.85 and overflows at 10). At 6.16 exact NPG stays bounded but farther than 1 (median 6.9):
   0/20 in (b), for a different reason than in (a).
5. *Distances.* The authors measure the raw logit distance; their minimum-norm update keeps the
   initial gauge component, so their converged runs end at 0.0177 (the median offset), where (b),
   which centres, ends at ~4e-6.
6. *eta_max.* Their weight ratio is the best of a 200-point grid (r = 0.977), ours the Perron optimum
   (r = 1): 0.269916 against 0.269971, and the multipliers are of each code's own eta_max.

(c) is the only column that reports the dynamics: converged for every m below the linear limit and
for no m above it.

**Timing** (``--timing``): whole processes, alternated, one thread each (``OMP_NUM_THREADS=1``,
``MKL_NUM_THREADS=1``, XLA single-threaded, ``torch.set_num_threads(1)``), medians of ``--repeats``:
``sgn certify markov-coop --json`` with an empty compile cache and with a warm one, against the
authors' import + equilibrium + 256-vertex certificate in a fresh process; and the certificate in a
warm process (ours ``certify.certify``, theirs ``find_equilibrium`` + ``compute_local_sgn``). The import
floors (``import jax``, ``import torch``) are timed beside them: the torch wheel of the default
registry is the CUDA build, whose import is slower than the CPU wheel's, so the fresh-process ratios
depend on which torch the authors' side has.

The authors' side runs only when a checkout of https://github.com/AashVed/SmallGainNash is given
(``--authors PATH`` or ``SGN_AUTHORS_CODE``) with a Python that has torch and tqdm
(``--authors-python`` or ``SGN_AUTHORS_PYTHON``, default ``PATH/.venv/bin/python``); otherwise column
(a) and the authors' timings are skipped with a message.

Usage: python benchmarks/markov_vs_authors.py [--authors PATH] [--authors-python PY] [--table] [--timing]
       [--repeats 5] (with neither --table nor --timing, both run; writes out/markov_vs_authors.json)
"""

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
DRIVER = HERE / "authors_markov_driver.py"
LINEAR_LIMIT_MULTIPLIER = 4.78
sys.path.insert(0, str(HERE))  # the sibling benchmark modules
STOPS = ("gradient", "diverged", "steps")
MULTIPLIERS = sorted([*np.logspace(-1, 1, 20).tolist(), LINEAR_LIMIT_MULTIPLIER])


def _one_thread_env(**more):
    return dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
                XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1", **more)


def _authors(args):
    """``(checkout, python)`` of the authors' code, or ``None`` with a printed reason."""
    path = args.authors or os.environ.get("SGN_AUTHORS_CODE")
    if not path:
        print("authors' code: skipped (give a SmallGainNash checkout with --authors PATH or SGN_AUTHORS_CODE)")
        return None
    checkout = pathlib.Path(path)
    if not (checkout / "markov" / "experiment.py").is_file():
        raise SystemExit(f"expected a SmallGainNash checkout with markov/experiment.py, got {checkout}")
    python = args.authors_python or os.environ.get("SGN_AUTHORS_PYTHON") or str(checkout / ".venv" / "bin" / "python")
    if not pathlib.Path(python).exists():
        raise SystemExit(f"expected a Python with torch for the authors' code (--authors-python), got {python}")
    return str(checkout), python


def _driver(authors, *args, timeout=3600):
    checkout, python = authors
    out = subprocess.run([python, str(DRIVER), checkout, *args], env=_one_thread_env(), capture_output=True,
                         text=True, check=True, timeout=timeout)
    return json.loads(out.stdout.strip().splitlines()[-1])


def table(authors, multipliers=MULTIPLIERS):
    """The three-way NPG table as a JSON-able dict (column (a) is ``None`` without the authors' code)."""
    import markov_experiment

    theirs, starts = None, None
    if authors is not None:
        theirs = _driver(authors, "sweep", "--multipliers", *map(repr, multipliers))
        starts = np.asarray(theirs["starts"])
    exact_authors = markov_experiment.run(protocol="authors", ratios=multipliers, starts=starts, plots=False)
    exact_ours = markov_experiment.run(protocol="ours", ratios=multipliers, plots=False)
    rows = []
    for k, m in enumerate(multipliers):
        row = {"multiplier": m,
               "exact_authors_rule": exact_authors["sweep_convergence"]["npg"][k],
               "exact_authors_rule_median_distance": exact_authors["sweep_final_median"]["npg"][k],
               "exact_authors_rule_stopped_by": exact_authors["sweep_stopped_by"]["npg"][k],
               "exact_ours": exact_ours["sweep_convergence"]["npg"][k],
               "exact_ours_median_lyapunov": exact_ours["sweep_final_median"]["npg"][k]}
        if theirs is not None:
            a = theirs["rows"][k]
            row.update({"authors_code": a["converged"],
                        "authors_code_median_distance": float(np.median(a["final_distance"])),
                        "authors_code_stopped_by": {s: a["stopped_by"].count(s) for s in STOPS},
                        "authors_code_runs_rank_low": a["runs_rank_low"],
                        "authors_code_runs_rank_high": a["runs_rank_high"]})
        rows.append(row)
    return {"eta_max_ours": exact_ours["certificate"]["eta_max"],
            "eta_max_authors": None if theirs is None else theirs["eta_max"],
            "eta_linear_over_eta_max_ours": exact_ours["eta_linear_over_eta_max"],
            "starts_of_b": "numpy seed 0 (no authors' code)" if theirs is None else "the authors' (torch seeds 42-61)",
            "rows": rows}


def _stops(d):
    return "/".join(str(d[k]) for k in STOPS)


def print_table(res):
    theirs = res["eta_max_authors"]
    print(f"eta_max: ours {res['eta_max_ours']:.6f}, authors' "
          f"{'(not run)' if theirs is None else f'{theirs:.6f}'}; linear limit "
          f"{res['eta_linear_over_eta_max_ours']:.4f} x ours; (b) starts: {res['starts_of_b']}")
    print("stops = runs stopped by gradient/diverged/steps; dist = median distance at the stop")
    head = f"{'m':>7} | {'(a) authors':>11} {'dist':>9} {'stops':>8} {'rank<':>5} {'rank>':>5} | " \
           f"{'(b) exact':>9} {'dist':>9} {'stops':>8} | {'(c) ours':>8} {'Lyapunov':>9}"
    print(head)
    print("-" * len(head))
    for r in res["rows"]:
        a = (f"{r['authors_code']:>11.2f} {r['authors_code_median_distance']:>9.3g} "
             f"{_stops(r['authors_code_stopped_by']):>8} {r['authors_code_runs_rank_low']:>5} "
             f"{r['authors_code_runs_rank_high']:>5}") if "authors_code" in r else f"{'skipped':>11} {'':>31}"
        dist = r["exact_authors_rule_median_distance"]
        lyap = r["exact_ours_median_lyapunov"]
        print(f"{r['multiplier']:>7.3f} | {a} | {r['exact_authors_rule']:>9.2f} "
              f"{'nan' if dist is None else f'{dist:.3g}':>9} {_stops(r['exact_authors_rule_stopped_by']):>8} | "
              f"{r['exact_ours']:>8.2f} {'nan' if lyap is None else f'{lyap:.2g}':>9}")


def _wall(cmd, env):
    t = time.perf_counter()
    out = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, check=True, timeout=600)
    return time.perf_counter() - t, out.stdout


def timing(authors, repeats=5):
    """Medians (seconds) of ours and the authors' cases, whole processes alternated; ratios theirs/ours."""
    from markov_cold_start import CLI, WARM  # the same command and warm-process measurement

    rows = {"ours_empty_cache": [], "ours_warm_cache": [], "ours_warm_process": [], "ours_import_jax": []}
    if authors is not None:
        rows.update(authors_fresh=[], authors_warm_process=[], authors_import_torch=[])
    load = [os.getloadavg()]
    with tempfile.TemporaryDirectory() as warm_cache:
        ours = [sys.executable, "-c", CLI]
        _wall(ours, _one_thread_env(PYTHONPATH=str(ROOT), SGN_COMPILATION_CACHE=warm_cache))  # fills the cache
        for _ in range(repeats):
            with tempfile.TemporaryDirectory() as empty:
                env = _one_thread_env(PYTHONPATH=str(ROOT), SGN_COMPILATION_CACHE=empty)
                rows["ours_empty_cache"].append(_wall(ours, env)[0])
            if authors is not None:
                rows["authors_fresh"].append(_wall([authors[1], str(DRIVER), authors[0], "time"], _one_thread_env())[0])
            env = _one_thread_env(PYTHONPATH=str(ROOT), SGN_COMPILATION_CACHE=warm_cache)
            rows["ours_warm_cache"].append(_wall(ours, env)[0])
            if authors is not None:
                rows["authors_fresh"].append(_wall([authors[1], str(DRIVER), authors[0], "time"], _one_thread_env())[0])
            env = _one_thread_env(PYTHONPATH=str(ROOT), SGN_COMPILATION_CACHE="off")
            rows["ours_warm_process"].append(float(_wall([sys.executable, "-c", WARM], env)[1].split("WARM")[-1]))
            if authors is not None:
                rows["authors_warm_process"].append(_driver(authors, "warm")["seconds"])
            rows["ours_import_jax"].append(_wall([sys.executable, "-c", "import jax"], _one_thread_env())[0])
            if authors is not None:
                rows["authors_import_torch"].append(_wall([authors[1], "-c", "import torch"], _one_thread_env())[0])
    load.append(os.getloadavg())
    res = {"median_s": {k: statistics.median(v) for k, v in rows.items()}, "samples_s": rows,
           "loadavg_before_after": load, "repeats": repeats}
    if authors is not None:
        med = res["median_s"]
        res["ratio_authors_over_ours"] = {"empty_cache": med["authors_fresh"] / med["ours_empty_cache"],
                                          "warm_cache": med["authors_fresh"] / med["ours_warm_cache"],
                                          "warm_process": med["authors_warm_process"] / med["ours_warm_process"]}
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--authors", default=None, help="SmallGainNash checkout (or SGN_AUTHORS_CODE)")
    ap.add_argument("--authors-python", default=None, help="a Python with torch for it (or SGN_AUTHORS_PYTHON)")
    ap.add_argument("--table", action="store_true", help="the three-way NPG table")
    ap.add_argument("--timing", action="store_true", help="the timing ratios")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    both = not (args.table or args.timing)
    authors = _authors(args)
    out = {}
    if args.table or both:
        out["table"] = table(authors)
        print_table(out["table"])
    if args.timing or both:
        out["timing"] = timing(authors, args.repeats)
        print(json.dumps({k: v for k, v in out["timing"].items() if k != "samples_s"}, indent=2))
    os.makedirs("out", exist_ok=True)
    with open("out/markov_vs_authors.json", "w") as f:
        json.dump(out, f, indent=2)


if __name__ == "__main__":
    main()
