"""Benchmark: bimatrix enumeration and the logit QRE path, ours against pygambit (skips without it).

Same random games for both, alternating calls in one process, median of ``--repeats``:

* extreme-equilibrium enumeration: :func:`games.tabular.bimatrix_nash` (vertex enumeration) against
  gambit's floating-point ``enummixed`` and ``lcp``; the counts must agree with ``enummixed``;
* the logit QRE branch to small temperature: :func:`policy.tabular.qre_path` (host, NumPy data)
  against gambit's ``logit`` path-following; the final NashConv of both is printed.

pygambit is optional (never a dependency of ``sgn``): without it only our side is timed and the
gambit columns read ``skipped``. pygambit's function names changed between releases; a missing one
is reported, not fatal.

Usage: python benchmarks/markov_gambit.py [--sizes 4 6 10] [--repeats 3]
"""

import argparse
import json
import statistics
import time

import numpy as np

from games.tabular import bimatrix_nash, nash_conv, tabular_from_matrix
from policy.tabular import qre_path


def _median_time(repeats, fn, *args, **kwargs):
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn(*args, **kwargs)
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def _gambit(name):
    """pygambit's solver ``name`` of ``pygambit.nash`` (``None`` when pygambit or the name is missing)."""
    try:
        import pygambit
    except ImportError:
        return None
    return getattr(pygambit.nash, name, None)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[4, 6, 10])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    rows = []
    for n in args.sizes:
        rng = np.random.default_rng(n)
        a, b = rng.normal(size=(n, n)), rng.normal(size=(n, n))
        row = {"n": n}
        row["ours_enum_s"], eqs = _median_time(args.repeats, bimatrix_nash, a, b)
        row["ours_enum_count"] = len(eqs)
        tg = tabular_from_matrix([a, b], tau=1.0)
        taus = np.geomspace(3.0, 1e-3, 40)
        row["ours_path_s"], path = _median_time(args.repeats, qre_path, tg, taus)
        probs = [np.exp(z[-1] - z[-1].max(-1, keepdims=True)) for z in path.logits]
        row["ours_path_nash_conv"] = float(nash_conv(tg, [p / p.sum(-1, keepdims=True) for p in probs]))
        enum, lcp, logit = _gambit("enummixed_solve"), _gambit("lcp_solve"), _gambit("logit_solve")
        if enum is None:
            row["gambit"] = "skipped (pygambit not installed or without these solvers)"
        else:
            import pygambit

            game = pygambit.Game.from_arrays(a, b)
            row["gambit_enum_s"], res = _median_time(args.repeats, enum, game, rational=False)
            row["gambit_enum_count"] = len(res.equilibria)
            if lcp is not None:
                row["gambit_lcp_s"], _ = _median_time(args.repeats, lcp, game, rational=False)
            if logit is not None:
                row["gambit_logit_s"], _ = _median_time(args.repeats, logit, game)
            row["enum_ratio_ours_over_gambit"] = row["ours_enum_s"] / row["gambit_enum_s"]
        rows.append(row)
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
