"""Benchmark: time to first answer of ``sgn certify markov-coop --json`` in fresh processes.

Whole processes, alternated, one thread each (``XLA_FLAGS``/``OMP_NUM_THREADS``), median of
``--repeats``: the command with an empty compile cache and with a warm one, the JAX import floor
(``python -c "import jax"``), and the certificate in a warm process. With ``--baseline PATH`` (a
checkout of another version of this repository, e.g. ``git archive <commit> | tar -x -C PATH``) the
same commands run from that tree in the same session, and the ratios are printed.

Usage: python benchmarks/markov_cold_start.py [--repeats 5] [--baseline /path/to/old/tree]
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

ROOT = pathlib.Path(__file__).resolve().parents[1]
CLI = "import sys; sys.argv = ['sgn', 'certify', 'markov-coop', '--json']; import _sgn_cli; _sgn_cli.main()"
WARM = ("import time, jax; jax.config.update('jax_enable_x64', True); import certify, games; "
        "g = games.get_game('markov-coop'); certify.certify(g); t = time.perf_counter(); "
        "[certify.certify(g) for _ in range(5)]; print('WARM', (time.perf_counter() - t) / 5)")


def _env(tree, cache):
    env = dict(os.environ, PYTHONPATH=str(tree), OMP_NUM_THREADS="1",
               XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
               SGN_COMPILATION_CACHE=str(cache))
    return env


def _time(code, tree, cache):
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], env=_env(tree, cache), cwd=tree, capture_output=True,
                         text=True, check=True, timeout=600)
    return time.perf_counter() - t, out.stdout


def measure(tree, repeats):
    """Median seconds of each case for the repository at ``tree``."""
    rows = {"import_jax": [], "cold_empty_cache": [], "cold_warm_cache": [], "warm_process": []}
    with tempfile.TemporaryDirectory() as warm_cache:
        _time(CLI, tree, warm_cache)  # fills the cache
        for _ in range(repeats):
            rows["import_jax"].append(_time("import jax", tree, "off")[0])
            with tempfile.TemporaryDirectory() as empty:
                rows["cold_empty_cache"].append(_time(CLI, tree, empty)[0])
            rows["cold_warm_cache"].append(_time(CLI, tree, warm_cache)[0])
            out = _time(WARM, tree, "off")[1]
            rows["warm_process"].append(float(out.split("WARM")[-1]))
    return {k: statistics.median(v) for k, v in rows.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--baseline", type=pathlib.Path, default=None)
    args = ap.parse_args()
    out = {"ours": measure(ROOT, args.repeats)}
    if args.baseline is not None:
        out["baseline"] = measure(args.baseline, args.repeats)
        out["ratio_baseline_over_ours"] = {k: out["baseline"][k] / out["ours"][k] for k in out["ours"]}
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
