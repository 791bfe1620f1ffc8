"""Cold start of every command, as whole processes, against the floor of starting JAX at all.

Each command runs as a fresh process several times, alternating with the floor

    python -c "import jax, jax.numpy as jnp; jnp.ones(3).sum().block_until_ready()"

so that both see the same machine load; the table gives medians, the ratio of the medians, the
peak resident memory of the command (``ru_maxrss`` of the child) and the load average. Commands
that compile run twice per row: with an empty compilation cache (a fresh folder per run, "cold")
and with a cache filled by one earlier run ("warm"); ``SGN_COMPILATION_CACHE`` selects the folder.

Before timing, every command runs once so that Python's bytecode (``__pycache__``) exists, as it
does for any installed package: the children run without ``PYTHONDONTWRITEBYTECODE``.

Targets (issue 12): ``sgn certify sgn-toy --json`` <= 1.3x the floor; ``markov-coop`` <= 2x warm,
<= 4x cold; ``lq64 --param lam=1.2``, ``tanh-sin --bounds interval`` and ``sgn sweep lq64 --param
lam=0:2.5:61`` <= 2x warm; ``import certify`` <= 1.2x ``import jax``; ring n = 2,000 in seconds and
n = 20,000 in under a minute, with peak memory.

Usage: ``python benchmarks/cold_start.py [--reps 5] [--smoke] [--only TEXT] [--out out/bench_cold_start.json]``
(``--smoke``: one repetition of a few fast commands, for CI; ``--only``: the commands whose name
contains ``TEXT``, beside ``import jax``; no timing is asserted anywhere).
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

FLOOR = "import jax, jax.numpy as jnp; jnp.ones(3).sum().block_until_ready()"


def _sgn() -> list[str]:
    script = pathlib.Path(sys.executable).with_name("sgn")
    return [str(script)] if script.exists() else [sys.executable, "-m", "certify.cli"]


def _commands(smoke: bool):
    """``(name, argv, cache, target)``: cache is ``None`` (no compilation to speak of) or ``"both"``."""
    py, sgn = [sys.executable, "-c"], _sgn()
    rows = [
        ("import jax", py + ["import jax"], None, None),
        ("import certify", py + ["import certify"], None, ("import jax", 1.2)),
        ("import certify; certify.certify", py + ["import certify; certify.certify"], None, ("import jax", None)),
        ("sgn certify sgn-toy --json", sgn + ["certify", "sgn-toy", "--json"], None, ("floor", 1.3)),
        ("sgn certify lq64 --param lam=1.2", sgn + ["certify", "lq64", "--param", "lam=1.2"], "both", ("floor", 2.0)),
    ]
    if smoke:
        return rows
    return rows + [
        ("sgn certify markov-coop --json", sgn + ["certify", "markov-coop", "--json"], "both", ("floor", 2.0, 4.0)),
        ("sgn certify tanh-sin --bounds interval", sgn + ["certify", "tanh-sin", "--bounds", "interval"], "both",
         ("floor", 2.0)),
        ("sgn sweep lq64 --param lam=0:2.5:61", sgn + ["sweep", "lq64", "--param", "lam=0:2.5:61"], "both",
         ("floor", 2.0)),
        ("sgn certify ring --param n=2000 --json", sgn + ["certify", "ring", "--param", "n=2000", "--json"], "both",
         None),
        ("sgn certify ring --param n=20000 --json", sgn + ["certify", "ring", "--param", "n=20000", "--json"], "both",
         None),
        ("sgn certify erdos-renyi --param n=20000 --json",
         sgn + ["certify", "erdos-renyi", "--param", "n=20000", "--json"], "both", None),
    ]


def _run(argv, env) -> tuple[float, float, int]:
    """Wall seconds, peak resident MiB and exit code of one child process."""
    with tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)  # reaps the child: its own peak memory
        wall = time.perf_counter() - t0
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        if code not in (0, 1):  # 1: not certified, a valid answer
            err.seek(0)
            raise RuntimeError(f"{' '.join(argv)} failed ({code}): {err.read().decode(errors='replace')[-2000:]}")
    return wall, usage.ru_maxrss / 1024.0, code


def _env(cache: str | None) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "XLA_FLAGS")}
    env["JAX_PLATFORMS"] = "cpu"
    env["SGN_COMPILATION_CACHE"] = cache or "off"
    return env


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--smoke", action="store_true", help="one repetition of a few fast commands (CI)")
    ap.add_argument("--out", default="out/bench_cold_start.json")
    ap.add_argument("--only", default="", help="run only the commands whose name contains this text")
    args = ap.parse_args(argv)
    reps = 1 if args.smoke else max(1, args.reps)
    root = pathlib.Path(tempfile.mkdtemp(prefix="sgn_cold_start_"))
    floor_argv = [sys.executable, "-c", FLOOR]
    load_before = os.getloadavg()
    try:
        rows = []
        warm = root / "warm"
        commands = [c for c in _commands(args.smoke) if args.only in c[0] or c[0] == "import jax"]
        for _name, cmd, cache, _ in commands:  # bytecode, and the warm compilation cache
            _run(cmd, _env(str(warm) if cache else None))
        _run(floor_argv, _env(None))
        floors: list[float] = []
        for name, cmd, cache, target in commands:
            modes = ("warm", "cold") if cache else ("-",)
            for mode in modes:
                times, peaks, pair = [], [], []
                for rep in range(reps):
                    pair.append(_run(floor_argv, _env(None))[0])
                    folder = str(warm) if mode == "warm" else (str(root / f"cold_{len(rows)}_{rep}")
                                                               if mode == "cold" else None)
                    wall, peak, rc = _run(cmd, _env(folder))
                    times.append(wall)
                    peaks.append(peak)
                floors += pair
                rows.append({"command": name, "cache": mode, "median_s": float(np.median(times)),
                             "times_s": times, "floor_median_s": float(np.median(pair)),
                             "peak_rss_mib": float(max(peaks)), "exit_code": rc, "target": target})
                print(json.dumps(rows[-1]), flush=True)
        floor = float(np.median(floors))
        by_name = {(r["command"], r["cache"]): r for r in rows}
        jax_import = by_name[("import jax", "-")]["median_s"]
        for r in rows:
            r["ratio_vs_floor"] = r["median_s"] / floor
            r["ratio_vs_import_jax"] = r["median_s"] / jax_import
        result = {"floor_median_s": floor, "floor_times_s": floors, "reps": reps, "smoke": args.smoke,
                  "load_before": list(load_before), "load_after": list(os.getloadavg()),
                  "cpu_count": os.cpu_count(), "python": sys.version.split()[0], "rows": rows}
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"\nfloor {floor:.3f} s (median of {len(floors)}), load {load_before[0]:.2f} -> {os.getloadavg()[0]:.2f}")
    print(f"{'command':48s} {'cache':5s} {'median s':>9s} {'x floor':>8s} {'x jax':>7s} {'peak MiB':>9s}  target")
    for r in rows:
        target = r["target"]
        goal = "" if not target or target[1] is None else (
            f"<= {target[1]}x {target[0]}" + (f" warm, <= {target[2]}x cold" if len(target) > 2 else ""))
        print(f"{r['command']:48s} {r['cache']:5s} {r['median_s']:9.3f} {r['ratio_vs_floor']:8.2f} "
              f"{r['ratio_vs_import_jax']:7.2f} {r['peak_rss_mib']:9.0f}  {goal}")
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as fh:
        json.dump(result, fh, indent=1)
    return result


if __name__ == "__main__":
    main()
