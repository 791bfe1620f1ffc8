r"""Benchmark: logit QREs, the QRE path and equilibrium enumeration, ours against pygambit.

Same random games (``numpy.random.default_rng(seed)``, standard normal payoffs) for both sides,
runs alternated in one session, one thread each (BLAS and XLA single-threaded; gambit's solvers are
single-threaded C++). pygambit is optional, never a dependency of ``sgn``: without it the script
prints one line and exits 0. Written against pygambit 17.0 (``StrategicGame.from_arrays``,
``LogitResult.equilibrium``) and 16.x (``Game.from_arrays``, ``.equilibria``).

Gambit's logit parameter :math:`\lambda` is our inverse temperature: :math:`p_i \propto e^{\lambda u_i}`
is the QRE :math:`\tau\theta_i = u_i` at :math:`\tau = 1/\lambda`.

(a) **Fixed-:math:`\lambda` QRE** (:func:`policy.tabular.solve_qre`, host NumPy data, against
    ``pygambit.qre.logit_solve_lambda``, which traces gambit's principal branch up to
    :math:`\lambda`): *warm* is the median in-process time, *cold* a fresh process that imports,
    builds the game and solves once (whole process timed). Accuracy is the same number for both:
    our equilibrium residual :math:`\max_{i}\operatorname{osc}(\tau\log p_i - u_i)` at the returned
    profile; ``same`` is the largest probability difference between the two answers.
(b) **Path to a Nash equilibrium** (:func:`policy.tabular.qre_path` from :math:`\tau = 10` to
    :math:`10^{-8}`, arclength continuation, against ``pygambit.nash.logit_solve``): time, and the
    largest regret :math:`\max_i(\max_a u_i(a) - p_i^\top u_i)` of the end point over the payoff range
    (gambit stops at :math:`10^{-8}` of it). "Reaches Nash" means a relative regret below
    :math:`10^{-6}`.
(c) **Enumeration** (:func:`games.tabular.bimatrix_nash`, vertex enumeration, against gambit's
    ``enummixed`` in exact rational and floating-point arithmetic and ``lcp``, which returns one
    equilibrium): time and number of equilibria on random 2x2..10x10 games and degenerate games;
    ``match`` says whether our set equals gambit's floating-point ``enummixed`` set to 1e-6. The exact
    ``enummixed`` runs up to ``--exact-max`` strategies (one run took 9.8 s at 8x8, 157 s at 10x10).

Ratios are gambit's time over ours (above 1: we are faster).

Usage: python benchmarks/qre_vs_gambit.py [--repeats 5] [--cold-repeats 3] [--parts a b c]
"""

import argparse
import os
import statistics
import subprocess
import sys
import time

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")

import numpy as np  # noqa: E402  (after the thread settings)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
QRE_CASES = [(10, 1.0), (10, 5.0), (30, 1.0), (30, 5.0)]
PATH_SIZES = [4, 10, 30]
ENUM_SIZES = [2, 3, 4, 6, 8, 10]
REL_NASH = 1e-6


def random_game(n, seed=None):
    """``(A, B)``: standard normal ``n x n`` payoffs from ``default_rng(seed)`` (seed ``1000 + n`` by default)."""
    rng = np.random.default_rng(1000 + n if seed is None else seed)
    return rng.normal(size=(n, n)), rng.normal(size=(n, n))


def degenerate_games():
    """Named degenerate bimatrix games (equilibria forming sets)."""
    return {"ones(2,2), I": (np.ones((2, 2)), np.eye(2)),
            "3x3 tied columns": (np.array([[1.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 1.0, 1.0]]),
                                 np.array([[1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 1.0]]))}


# --- pygambit, either release ------------------------------------------------------------------


def _pygambit():
    try:
        import pygambit
    except ImportError:
        return None
    return pygambit


def gambit_game(pg, a, b):
    maker = getattr(pg, "StrategicGame", None) or pg.Game
    return maker.from_arrays(a, b)


def gambit_probs(game, profile):
    """Per-player probability vectors of a gambit mixed-strategy profile."""
    return [np.array([float(p) for _, p in profile[label]]) for label in game.players]


def gambit_logit_end(result):
    return result.equilibrium if hasattr(result, "equilibrium") else result.equilibria[0]


# --- the shared measures -----------------------------------------------------------------------


def regret(a, b, probs):
    """Largest regret of the profile ``(p, q)`` over the payoff range (0 at a Nash equilibrium)."""
    p, q = probs
    u1, u2 = a @ q, b.T @ p
    span = max(a.max(), b.max()) - min(a.min(), b.min())
    return float(max(u1.max() - p @ u1, u2.max() - q @ u2) / span)


def qre_residual(a, b, lam, probs):
    r"""Our residual :math:`\max_i\operatorname{osc}(\tau\log p_i - u_i)` at ``tau = 1/lam`` (host NumPy)."""
    p, q = probs
    with np.errstate(divide="ignore"):
        r1 = np.log(p) / lam - a @ q
        r2 = np.log(q) / lam - b.T @ p
    return float(max(np.ptp(r1), np.ptp(r2)))


def ours_qre(a, b, lam):
    from games.tabular import tabular_from_matrix
    from policy.tabular import solve_qre

    res = solve_qre(tabular_from_matrix([a, b], tau=1.0 / lam))
    return [np.exp(z[0] - z[0].max()) / np.exp(z[0] - z[0].max()).sum() for z in res.logits]


def gambit_qre(pg, a, b, lam):
    game = gambit_game(pg, a, b)
    out = pg.qre.logit_solve_lambda(game, lam)
    out = out[0] if isinstance(out, list) else out
    return gambit_probs(game, out.profile)


def ours_path(a, b):
    from games.tabular import tabular_from_matrix
    from policy.tabular import qre_path

    path = qre_path(tabular_from_matrix([a, b], tau=1.0), np.geomspace(10.0, 1e-8, 10))
    return [np.exp(z[-1, 0] - z[-1, 0].max()) / np.exp(z[-1, 0] - z[-1, 0].max()).sum() for z in path.logits]


def gambit_path(pg, a, b):
    game = gambit_game(pg, a, b)
    return gambit_probs(game, gambit_logit_end(pg.nash.logit_solve(game)))


# --- timing ------------------------------------------------------------------------------------


def _timed(fn, *args):
    t = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - t, out


def alternate(repeats, **sides):
    """Median time and last result of each side, the sides called in turn ``repeats`` times after one
    untimed call each (imports and first-call set-up belong to the cold measurement)."""
    times = {k: [] for k in sides}
    outs = {k: fn(*args) for k, (fn, args) in sides.items()}
    for _ in range(repeats):
        for k, (fn, args) in sides.items():
            t, outs[k] = _timed(fn, *args)
            times[k].append(t)
    return {k: statistics.median(v) for k, v in times.items()}, outs


def _child(side, task, n, lam):
    """One cold solve in this (fresh) process."""
    a, b = random_game(n)
    if side == "ours":
        sys.path.insert(0, ROOT)
        ours_qre(a, b, lam) if task == "qre" else ours_path(a, b)
    else:
        pg = _pygambit()
        gambit_qre(pg, a, b, lam) if task == "qre" else gambit_path(pg, a, b)


def cold(repeats, task, n, lam):
    """Median whole-process times ``{ours, gambit}`` of one fresh-process solve, alternated."""
    times = {"ours": [], "gambit": []}
    for _ in range(repeats):
        for side in times:
            cmd = [sys.executable, os.path.abspath(__file__), "--child", side, task, str(n), str(lam)]
            path = os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")]))  # pygambit may live there
            t = time.perf_counter()
            subprocess.run(cmd, check=True, cwd=ROOT, env=dict(os.environ, PYTHONPATH=path))
            times[side].append(time.perf_counter() - t)
    return {k: statistics.median(v) for k, v in times.items()}


# --- the three parts ---------------------------------------------------------------------------


def part_a(pg, repeats, cold_repeats):
    rows = []
    for n, lam in QRE_CASES:
        a, b = random_game(n)
        warm, outs = alternate(repeats, ours=(ours_qre, (a, b, lam)), gambit=(gambit_qre, (pg, a, b, lam)))
        c = cold(cold_repeats, "qre", n, lam)
        same = max(float(np.abs(x - y).max()) for x, y in zip(outs["ours"], outs["gambit"], strict=True))
        rows.append({"game": f"{n}x{n}, lambda={lam:g}", "warm": warm, "cold": c, "same": same,
                     "res_ours": qre_residual(a, b, lam, outs["ours"]),
                     "res_gambit": qre_residual(a, b, lam, outs["gambit"])})
    return rows


def part_b(pg, repeats, cold_repeats):
    rows = []
    for n in PATH_SIZES:
        a, b = random_game(n)
        warm, outs = alternate(repeats, ours=(ours_path, (a, b)), gambit=(gambit_path, (pg, a, b)))
        c = cold(cold_repeats, "path", n, 0.0) if n == 10 else None
        same = max(float(np.abs(x - y).max()) for x, y in zip(outs["ours"], outs["gambit"], strict=True))
        rows.append({"game": f"{n}x{n}", "warm": warm, "cold": c, "same": same,
                     "regret_ours": regret(a, b, outs["ours"]), "regret_gambit": regret(a, b, outs["gambit"])})
    return rows


def _same_sets(ours, theirs, tol=1e-6):
    if len(ours) != len(theirs):
        return False
    flat = [np.concatenate(e) for e in theirs]
    return all(any(np.abs(np.concatenate(e) - f).max() <= tol for f in flat) for e in ours)


def part_c(pg, repeats, exact_max):
    from games.tabular import bimatrix_nash

    games = {f"random {n}x{n}": random_game(n) for n in ENUM_SIZES}
    games.update(degenerate_games())
    rows = []
    for name, (a, b) in games.items():
        g = gambit_game(pg, a, b)
        sides = {"ours": (bimatrix_nash, (a, b)),
                 "floating": (lambda g: pg.nash.enummixed_solve(g, rational=False).equilibria, (g,)),
                 "lcp": (lambda g: pg.nash.lcp_solve(g, rational=False).equilibria, (g,))}
        if max(a.shape) <= exact_max:  # exact arithmetic: 9.8 s at 8x8, 157 s at 10x10 (one run)
            sides["exact"] = (lambda g: pg.nash.enummixed_solve(g, rational=True).equilibria, (g,))
        t, outs = alternate(repeats, **sides)
        theirs = [gambit_probs(g, e) for e in outs["floating"]]
        rows.append({"game": name, "time": t, "count": {k: len(v) for k, v in outs.items()},
                     "match": _same_sets(outs["ours"], theirs)})
    return rows


def _fmt(t):
    if t < 1e-2:  # the tiny enumerations take tens of microseconds
        return f"{t * 1e3:.3f} ms"
    return f"{t * 1e3:.1f} ms" if t < 1.0 else f"{t:.2f} s"


def _pair(t):
    """``ours | gambit | gambit / ours`` for a timing pair (dashes where it was not measured)."""
    return f"{_fmt(t['ours'])} | {_fmt(t['gambit'])} | {t['gambit'] / t['ours']:.2f}" if t else "- | - | -"


def print_tables(pg_version, a_rows, b_rows, c_rows):
    print(f"\npygambit {pg_version}; ratio = gambit's time / ours (> 1: ours faster)\n")
    if a_rows:
        print("(a) fixed-lambda QRE | warm ours | warm gambit | ratio | cold ours | cold gambit | ratio | "
              "residual ours | residual gambit | max |p - p_gambit|")
        for r in a_rows:
            print(f"{r['game']} | {_pair(r['warm'])} | {_pair(r['cold'])} | "
                  f"{r['res_ours']:.1e} | {r['res_gambit']:.1e} | {r['same']:.1e}")
    if b_rows:
        print("\n(b) path to Nash | warm ours | warm gambit | ratio | cold ours | cold gambit | ratio | "
              "regret ours | regret gambit | both reach Nash | max |p - p_gambit|")
        for r in b_rows:
            reach = (r["regret_ours"] <= REL_NASH, r["regret_gambit"] <= REL_NASH)
            print(f"{r['game']} | {_pair(r['warm'])} | {_pair(r['cold'])} | {r['regret_ours']:.1e} | "
                  f"{r['regret_gambit']:.1e} | {reach[0]} / {reach[1]} | {r['same']:.1e}")
    if c_rows:
        print("\n(c) enumeration | ours | enummixed exact | enummixed float | lcp | ratio float/ours | "
              "ratio exact/ours | ratio lcp/ours | count ours/exact/float/lcp | set = float's")
        for r in c_rows:
            t, k = r["time"], r["count"]
            exact = (_fmt(t["exact"]), f"{t['exact'] / t['ours']:.2f}") if "exact" in t else ("-", "-")
            print(f"{r['game']} | {_fmt(t['ours'])} | {exact[0]} | {_fmt(t['floating'])} | "
                  f"{_fmt(t['lcp'])} | {t['floating'] / t['ours']:.2f} | {exact[1]} | "
                  f"{t['lcp'] / t['ours']:.3f} | {k['ours']}/{k.get('exact', '-')}/{k['floating']}/{k['lcp']} | "
                  f"{r['match']}")


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5]))
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--cold-repeats", type=int, default=3)
    ap.add_argument("--parts", nargs="+", default=["a", "b", "c"], choices=["a", "b", "c"])
    ap.add_argument("--exact-max", type=int, default=6, help="largest size for gambit's exact enummixed")
    args = ap.parse_args()
    pg = _pygambit()
    if pg is None:
        print("qre_vs_gambit: skipped (pygambit is not installed; pip install pygambit to compare)")
        return
    sys.path.insert(0, ROOT)
    a_rows = part_a(pg, args.repeats, args.cold_repeats) if "a" in args.parts else []
    b_rows = part_b(pg, args.repeats, args.cold_repeats) if "b" in args.parts else []
    c_rows = part_c(pg, args.repeats, args.exact_max) if "c" in args.parts else []
    print_tables(getattr(pg, "__version__", "?"), a_rows, b_rows, c_rows)


if __name__ == "__main__":
    main()
