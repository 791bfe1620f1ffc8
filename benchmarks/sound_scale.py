"""Sound bounds at size: what each mode costs on games above 32 dimensions (issue 14).

Cases: ``lq64`` with ``half=20`` on [-1, 1]^40 (affine: one interval box is exact), the
registered ``neural-duel`` game (two tanh MLPs, 66 parameters) and its width-4 variant (34
parameters). For each: the first ``sound_block_bounds`` call (trace + compile + run), a second
call with the same structure (cached compilation), the per-box cost of a batch of 32 boxes,
``refine`` with its default budget, and ``padded`` (refused above its grid budget).

Run: .venv/bin/python benchmarks/sound_scale.py   (CPU; writes out/bench_sound_scale.json)
"""

from __future__ import annotations

import json
import pathlib
import time

import jax
import numpy as np

jax.config.update("jax_enable_x64", True)

import games  # noqa: E402
from certify._interval import NotEnclosable  # noqa: E402
from certify.bounds._sound import (  # noqa: E402
    _Encloser,
    lipschitz_padded_bounds,
    refine_block_bounds,
    sound_block_bounds,
)


def _case(name, game, lo, hi):
    row = {"case": name, "dim": int(game.dim), "dims": list(game.dims)}
    F = game.pseudo_gradient
    t = time.perf_counter()
    b = sound_block_bounds(F, lo, hi, game.dims)
    row["interval_first_s"] = time.perf_counter() - t
    t = time.perf_counter()
    sound_block_bounds(F, lo, hi, game.dims)
    row["interval_cached_s"] = time.perf_counter() - t
    row["mu"] = [float(x) for x in b.mu]
    enc = _Encloser(F, game.dim, lo.dtype, assume_continuous=False)
    rng = np.random.default_rng(0)
    c = lo + (hi - lo) * rng.uniform(size=(32, game.dim))
    r = 0.1 * (hi - lo)
    enc(np.maximum(c - r, lo), np.minimum(c + r, hi))  # warm
    t = time.perf_counter()
    enc(np.maximum(c - r, lo), np.minimum(c + r, hi))
    row["per_box_ms"] = 1e3 * (time.perf_counter() - t) / 32
    t = time.perf_counter()
    rb, rec = refine_block_bounds(F, lo, hi, game.dims, decide=lambda b: False)
    row["refine_s"] = time.perf_counter() - t
    row["refine_boxes"] = int(rec.boxes)
    row["refine_mu"] = [float(x) for x in rb.mu]
    t = time.perf_counter()
    try:
        lipschitz_padded_bounds(F, lo, hi, game.dims)
        row["padded"] = "ran"
    except NotEnclosable as err:
        row["padded"] = f"refused ({err.kind}): {err.reason[:80]}"
    row["padded_s"] = time.perf_counter() - t
    return row


def main():
    out = []
    g = games.get_game("lq64", half=20)
    out.append(_case("lq64 half=20", g, -np.ones(g.dim), np.ones(g.dim)))
    for width in (4, 8):
        g = games.get_game("neural-duel", width=width)
        reg = g.default_region()
        out.append(_case(f"neural-duel width={width}", g, reg.lo, reg.hi))
    for r in out:
        print(f"{r['case']:<24} d={r['dim']:<3} interval first {r['interval_first_s']:7.2f}s cached "
              f"{r['interval_cached_s']:6.3f}s per box {r['per_box_ms']:7.3f}ms refine {r['refine_s']:6.2f}s "
              f"({r['refine_boxes']} boxes) padded {r['padded'][:30]}")  # fmt: skip
    path = pathlib.Path("out/bench_sound_scale.json")
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(out, indent=1))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
