"""Sound region bounds: tightness against sampled extremes, and time per box.

Tightness = sound bound / sampled extreme per quantity (>= 1 for upper bounds L, Lip; <= 1 for
lower bounds mu, m_full); sampled extremes are inner estimates of the true inf / sup, so a
ratio of 1 means the sound bound is as good as dense sampling.

Cases (spec-sound-bounds.md section 2): the 2-D analytic game on [-1, 1]^2, a 4-D block game
A z + 0.3 tanh(B z) + 0.1 z^3 + 0.2 sin(P z) on [-1, 1]^4 (our own A, B), and the scaling game
A z + 0.3 tanh(B z) + 0.1 z^3 + 0.2 sin z on [-0.5, 0.5]^n, n = 4 ... 64, blocks = halves.

Run: .venv/bin/python benchmarks/sound_bounds.py   (CPU; writes out/bench_sound_bounds.json)
"""

from __future__ import annotations

import json
import pathlib
import time

import jax
import jax.numpy as jnp
import numpy as np

jax.config.update("jax_enable_x64", True)

from certify._interval import interval_jacobian  # noqa: E402
from certify._interval._matrix import interval_block_bounds  # noqa: E402
from certify.bounds._sound import (  # noqa: E402
    lipschitz_padded_bounds,
    refine_block_bounds,
    sound_block_bounds,
)

QUANTITIES = ("mu", "coupling", "lipschitz", "euclidean_margin")


def spec_game(z):
    x, y = z[0], z[1]
    return jnp.stack([x + 0.5 * jnp.tanh(y) + 0.1 * x**3, y - 0.8 * jnp.sin(x)])


A4 = jnp.array([[2.0, 0.3, 0.4, -0.2], [-0.1, 1.8, 0.1, 0.5], [0.3, -0.6, 2.2, 0.2], [0.2, 0.4, -0.3, 2.0]])
B4 = 0.7 * jax.random.normal(jax.random.PRNGKey(3), (4, 4), dtype=jnp.float64)


def block_game(z):
    return A4 @ z + 0.3 * jnp.tanh(B4 @ z) + 0.1 * z**3 + 0.2 * jnp.sin(z[::-1])


def scaling_game(n):
    ka, kb = jax.random.split(jax.random.PRNGKey(n))
    a = 2.0 * jnp.eye(n) + 0.5 * jax.random.normal(ka, (n, n), dtype=jnp.float64) / jnp.sqrt(n)
    b = 0.7 * jax.random.normal(kb, (n, n), dtype=jnp.float64)

    def F(z):
        return a @ z + 0.3 * jnp.tanh(b @ z) + 0.1 * z**3 + 0.2 * jnp.sin(z)

    return F


def sampled(F, points, dims):
    """Sampled extremes: exact per-point quantities, min / max over points (NOT sound)."""
    j = np.asarray(jax.jit(jax.vmap(jax.jacfwd(F)))(jnp.asarray(points)))
    return interval_block_bounds(j, j, dims, exact_max_dim=0)  # point matrices: exact values


def ratios(sound, ref):
    n = len(ref.mu)
    off = ~np.eye(n, dtype=bool)
    return {
        "mu": [float(s / r) for s, r in zip(sound.mu, ref.mu, strict=True)],
        "coupling": [float(x) for x in (sound.coupling[off] / ref.coupling[off])],
        "lipschitz": float(sound.lipschitz / ref.lipschitz),
        "euclidean_margin": float(sound.euclidean_margin / ref.euclidean_margin),
    }


def summary(b):
    n = len(b.mu)
    off = ~np.eye(n, dtype=bool)
    return {
        "mu": [float(x) for x in b.mu],
        "coupling": [float(x) for x in b.coupling[off]],
        "lipschitz": float(b.lipschitz),
        "euclidean_margin": float(b.euclidean_margin),
        "n_points": int(b.n_points),
    }


def timed(fn, repeats=3):
    fn()  # warm (compile)
    t = time.perf_counter()
    for _ in range(repeats):
        out = fn()
    return out, (time.perf_counter() - t) / repeats


def grid_points(lo, hi, k):
    axes = [np.linspace(lo[m], hi[m], k) for m in range(lo.shape[0])]
    return np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, lo.shape[0])


def small_case(name, F, lo, hi, dims, ref_points, subdivisions, grids):
    ref, t_ref = timed(lambda: sampled(F, ref_points, dims), repeats=1)
    rows = []
    for k in subdivisions:
        b, t = timed(lambda k=k: sound_block_bounds(F, lo, hi, dims, subdivisions=k))
        rows.append({"method": f"interval, {k}^{lo.shape[0]} boxes", "time_s": t,
                     "time_per_box_s": t / b.n_points, "bounds": summary(b),
                     "tightness": ratios(b, ref)})  # fmt: skip
    for g in grids:
        b, t = timed(lambda g=g: lipschitz_padded_bounds(F, lo, hi, dims, grid=g), repeats=1)
        rows.append({"method": f"padded grid {g}^{lo.shape[0]}", "time_s": t,
                     "bounds": summary(b), "tightness": ratios(b, ref)})  # fmt: skip
    return {"case": name, "reference": summary(ref), "reference_points": len(ref_points),
            "reference_time_s": t_ref, "rows": rows}  # fmt: skip


def certified(b):
    return bool(b.mu.min() > 0 and b.coupling[0, 1] * b.coupling[1, 0] < b.mu.prod())


def scaling_case(n, rng):
    F = scaling_game(n)
    lo, hi = -0.5 * np.ones(n), 0.5 * np.ones(n)
    dims = (n // 2, n - n // 2)
    one = jax.jit(lambda a, b: interval_jacobian(F, a, b))
    t0 = time.perf_counter()
    jlo, jhi = jax.block_until_ready(one(jnp.asarray(lo), jnp.asarray(hi)))
    cold = time.perf_counter() - t0
    _, warm = timed(lambda: jax.block_until_ready(one(jnp.asarray(lo), jnp.asarray(hi))), 20)
    jlo, jhi = np.asarray(jlo), np.asarray(jhi)
    b, t_red = timed(lambda: interval_block_bounds(jlo, jhi, dims), 3)
    pts = rng.uniform(-0.5, 0.5, (10_000, n))
    ref, t_s = timed(lambda: sampled(F, pts, dims), repeats=2)
    return {"n": n, "interval_cold_s": cold, "interval_warm_s": warm, "reduction_s": t_red,
            "sampled_10k_s": t_s, "mean_entry_width": float(np.mean(jhi - jlo)),
            "sound_certified": certified(b), "sampled_certified": certified(ref),
            "bounds": summary(b), "reference": summary(ref), "tightness": ratios(b, ref)}  # fmt: skip


def main():
    out = {}
    rng = np.random.default_rng(0)
    lo2, hi2 = -np.ones(2), np.ones(2)
    out["2d"] = small_case("2-D spec game", spec_game, lo2, hi2, (1, 1),
                           grid_points(lo2, hi2, 401), (1, 16, 64), (33, 129))  # fmt: skip
    lo4, hi4 = -np.ones(4), np.ones(4)
    ref4 = np.concatenate([grid_points(lo4, hi4, 21), rng.uniform(-1, 1, (100_000, 4))])
    out["4d"] = small_case("4-D block game", block_game, lo4, hi4, (2, 2), ref4, (1, 2, 4), (9,))

    # Branch and bound on the 2-D game, deciding "Lip <= 1.42" (true 1.4153).
    (b, rec), t = timed(lambda: refine_block_bounds(spec_game, lo2, hi2, (1, 1),
                        decide=lambda b: b.lipschitz <= 1.42, quantities=("lipschitz",)), 1)  # fmt: skip
    out["2d_refine"] = {"decided": rec.decided, "rounds": rec.rounds, "boxes": rec.boxes,
                        "evaluations": rec.evaluations, "time_s": t, "bounds": summary(b)}  # fmt: skip

    out["scaling"] = [scaling_case(n, rng) for n in (4, 8, 16, 32, 64)]
    out["device"] = str(jax.devices()[0])

    print_tables(out)
    path = pathlib.Path("out/bench_sound_bounds.json")
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(out, indent=1))
    print(f"wrote {path}")


def _fmt(t):
    mu = "/".join(f"{x:.3f}" for x in t["mu"])
    lc = "/".join(f"{x:.3f}" for x in t["coupling"])
    return f"mu {mu}  L {lc}  Lip {t['lipschitz']:.3f}  m_full {t['euclidean_margin']:.3f}"


def print_tables(out):
    for key in ("2d", "4d"):
        c = out[key]
        print(f"\n{c['case']}: sampled reference ({c['reference_points']} points, "
              f"{c['reference_time_s']:.2f} s): {_fmt(c['reference'])}")  # fmt: skip
        print(f"{'method':<26} {'time':>10} {'per box':>10}  tightness (sound / sampled)")
        for r in c["rows"]:
            per = f"{r['time_per_box_s'] * 1e3:.3f}ms" if "time_per_box_s" in r else "-"
            print(f"{r['method']:<26} {r['time_s']:>9.3f}s {per:>10}  {_fmt(r['tightness'])}")
    r = out["2d_refine"]
    print(f"\n2-D branch and bound to Lip <= 1.42: decided={r['decided']} rounds={r['rounds']} "
          f"boxes={r['boxes']} time={r['time_s']:.2f}s Lip={r['bounds']['lipschitz']:.4f}")  # fmt: skip
    print("\nscaling (one box [-0.5, 0.5]^n; tightness = sound / sampled 10^4 points)")
    print(f"{'n':>3} {'cold':>8} {'warm':>9} {'reduce':>9} {'sampled':>9}  cert s/S  tightness")
    for s in out["scaling"]:
        print(f"{s['n']:>3} {s['interval_cold_s']:>7.2f}s {s['interval_warm_s'] * 1e3:>7.3f}ms "
              f"{s['reduction_s'] * 1e3:>7.2f}ms {s['sampled_10k_s'] * 1e3:>7.1f}ms  "
              f"{int(s['sound_certified'])}/{int(s['sampled_certified'])}      "
              f"{_fmt(s['tightness'])}")  # fmt: skip


if __name__ == "__main__":
    main()
