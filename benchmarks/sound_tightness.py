"""Sound against sampled margins: how much of the sampled estimate the sound bounds prove (issue 21).

For each game, ``certify.certify`` runs with ``sampled`` (an estimate), ``interval``, ``refine`` and
``padded`` (sound), each in a fresh process under a time limit (the first answer includes compilation, as a
user sees it). Printed per game: every method's margin, verdict, the test that proved it and wall
time, the ratio sound/sampled margin (the best sound method) and the ratio of its wall time to
the sampled one.

Families:

* ``neural-duel`` (two tanh MLPs, ridge-regularised, bilinear interaction), widths 8, 16, 32 and
  depths 1, 2, on its default box of radius 0.05;
* ``tanh-sin`` with couplings 0.5, 1.0, 1.5, 2.0;
* three MLP games of our own (:func:`mlp_game`): two players of 5 parameters (10 in all), three
  players of 31 (93), two players of 241 (482). Each player fits its own target with a tanh MLP
  under weight decay 1; each pair of neighbours on the ring meets through ``c * mean(g_i g_j)``,
  with ``+`` for the first and ``-`` for the second (zero-sum per pair, as in ``neural-duel``).

Targets (issue 21): median sound/sampled ratio >= 0.8; every game that ``sampled`` certifies with
margin >= 0.2 certified by ``interval`` or ``refine``; ``neural-duel`` certified by ``interval`` at
>= 0.8x the sampled margin within 2x the sampled wall time.

Run: .venv/bin/python benchmarks/sound_tightness.py [--quick] [--games LABEL ...] [--limit SECONDS]
[--json out/bench_sound_tightness.json] (``--quick``: widths 8 and depth 1 only, tanh-sin 0.5 and 2.0, the
10-parameter game; ``--games``: the cases whose label starts with one of the given prefixes.)
"""

from __future__ import annotations

import argparse
import json
import math
import os
import pathlib
import statistics
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]


def mlp_game(sizes, *, width, in_dim, n_inputs=12, coupling=0.4, seed=0, radius=0.05):
    """A ring of tanh-MLP players: player ``i`` fits its target and meets ``i + 1`` through ``±c mean(g_i g_j)``."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    from games._neural import _mlp_class, from_pytree_losses

    n = len(sizes)
    keys = jax.random.split(jax.random.PRNGKey(seed), 2 * n + 1)
    z = jax.random.normal(keys[-1], (n_inputs, in_dim), jnp.float32)
    models = [_mlp_class()(int(width), int(depth)) for depth in sizes]
    params = [jax.tree_util.tree_map(lambda a: np.asarray(a, np.float64), m.init(keys[i], z))
              for i, m in enumerate(models)]
    targets = [jnp.sin(z @ jax.random.normal(keys[n + i], (in_dim,))) for i in range(n)]

    edges = sorted({tuple(sorted((i, (i + 1) % n))) for i in range(n)})  # the ring, each pair once

    def loss(i):
        def f(*ps):
            zz = z.astype(jnp.float64)
            out = [models[k].apply(ps[k], zz) for k in range(n)]
            sq = sum(jnp.sum(leaf**2) for leaf in jax.tree_util.tree_leaves(ps[i]))
            inter = sum((1.0 if a == i else -1.0) * jnp.mean(out[a] * out[b]) for a, b in edges if i in (a, b))
            return 0.5 * jnp.mean((out[i] - targets[i]) ** 2) + 0.5 * sq + coupling * inter
        return f

    return from_pytree_losses([loss(i) for i in range(n)], params, name=f"mlp-ring-{n}x{width}", radius=radius)


OWN = {  # name: (depths per player, width, inputs)
    "mlp-10": ((1, 1), 1, 2),
    "mlp-93": ((1, 1, 1), 6, 3),
    "mlp-482": ((1, 1), 40, 4),
}


def _game(spec):
    import games

    family, kw = spec
    if family in OWN:
        depths, width, in_dim = OWN[family]
        return mlp_game(depths, width=width, in_dim=in_dim)
    return games.get_game(family, **kw)


def _one(spec, method):
    """Child process: certify one game with one method; print one JSON line."""
    import jax

    jax.config.update("jax_enable_x64", True)
    import certify

    t = time.perf_counter()
    game = _game(spec)
    try:
        c = certify.certify(game, bounds=method)
        row = {"status": str(c.status), "margin": float(c.margin), "proved_by": c.proved_by or "",
               "reason": (c.reason or "")[:120], "dim": int(game.dim)}
    except Exception as err:  # a refusal raised as an error is a result of the benchmark, reported as such
        row = {"status": "error", "margin": math.nan, "proved_by": "", "reason": f"{type(err).__name__}: {err}"[:160],
               "dim": int(game.dim)}
    row["wall_s"] = time.perf_counter() - t
    print(json.dumps(row))


def _run(spec, method, limit):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    t = time.perf_counter()
    try:
        out = subprocess.run([sys.executable, __file__, "--child", json.dumps([spec, method])], capture_output=True,
                             text=True, timeout=limit, env=env, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return {"status": "timeout", "margin": math.nan, "proved_by": "", "reason": f"over {limit:.0f} s",
                "wall_s": time.perf_counter() - t}
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        return {"status": "crash", "margin": math.nan, "proved_by": "", "reason": out.stderr.strip()[-160:],
                "wall_s": time.perf_counter() - t}
    row = json.loads(lines[-1])
    row["process_s"] = time.perf_counter() - t
    return row


def cases(quick):
    widths, depths = ((8,), (1,)) if quick else ((8, 16, 32), (1, 2))
    out = [(f"neural-duel w{w} d{d}", ("neural-duel", {"width": w, "depth": d})) for d in depths for w in widths]
    out += [(f"tanh-sin c={k}", ("tanh-sin", {"coupling": k})) for k in ((0.5, 2.0) if quick else (0.5, 1.0, 1.5, 2.0))]
    out += [(name, (name, {})) for name in (("mlp-10",) if quick else OWN)]
    return out


def write_json(file, rows) -> None:
    """Writes ``rows`` to ``file`` whole or not at all (a temporary file renamed over it)."""
    path = pathlib.Path(file)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(rows, indent=1))
    tmp.replace(path)
    print(f"wrote {path}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--limit", type=float, default=600.0, help="seconds per certify process")
    ap.add_argument("--json", default=str(ROOT / "out" / "bench_sound_tightness.json"))
    ap.add_argument("--games", nargs="*", help="only the cases whose label starts with one of these")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        spec, method = json.loads(args.child)
        _one(tuple(spec), method)
        return
    rows = []
    head = (f"{'game':<22} {'dim':>4} | {'sampled':>17} | {'interval':>17} | {'refine':>17} | {'padded':>17} "
            f"| ratio  time")
    print(head)
    print("-" * len(head))
    for label, spec in cases(args.quick):
        if args.games and not any(label.startswith(g) for g in args.games):
            continue
        res = {m: _run(spec, m, args.limit) for m in ("sampled", "interval", "refine", "padded")}
        sound = max((res[m] for m in ("interval", "refine", "padded")),
                    key=lambda r: r["margin"] if math.isfinite(r["margin"]) else -math.inf)
        s = res["sampled"]
        ratio = sound["margin"] / s["margin"] if s["margin"] > 0 and math.isfinite(sound["margin"]) else math.nan
        tratio = sound["wall_s"] / s["wall_s"]

        def cell(r):
            mark = {"certified": "C", "not_certified": "-", "invalid": "I"}.get(r["status"], r["status"][:4])
            return f"{r['margin']:7.3f} {mark:>4} {r['wall_s']:5.0f}s"

        print(f"{label:<22} {s.get('dim', 0):>4} | {cell(s)} | {cell(res['interval'])} | {cell(res['refine'])} | "
              f"{cell(res['padded'])} | {ratio:5.2f} {tratio:5.1f}x", flush=True)
        rows.append({"game": label, "spec": spec, **{m: res[m] for m in res}, "ratio": ratio, "time_ratio": tratio})
    ratios = [r["ratio"] for r in rows if math.isfinite(r["ratio"])]
    missed = [r["game"] for r in rows if r["sampled"]["status"] == "certified" and r["sampled"]["margin"] >= 0.2
              and "certified" not in (r[m]["status"] for m in ("interval", "refine", "padded"))]
    print(f"\nmedian sound/sampled margin ratio: {statistics.median(ratios) if ratios else math.nan:.3f} "
          f"(target >= 0.8) over {len(ratios)} games")
    print(f"sampled certifies with margin >= 0.2 but no sound method does: {missed or 'none'}")
    for r in rows:
        for m in ("interval", "refine", "padded"):
            if r[m]["status"] != "certified" and r[m]["reason"]:
                print(f"  {r['game']} {m}: {r[m]['reason']}")
    write_json(args.json, rows)


if __name__ == "__main__":
    main()
