"""Loss + gradient of sampled-token log-probs and full-vocabulary entropy: chunked vs plain jnp.

Loss: ``-mean(logp) - 0.01 * mean(H)`` at temperature 0.7, gradient w.r.t. the logits, for
[4, 512, 32768] and [2, 256, 151936] in float32 and bfloat16. Both versions are jitted with the
logits buffer donated (so the gradient may reuse it).

Peak memory is XLA's compile-time buffer assignment (``compiled.memory_analysis()``):
``peak = argument + output + temp - alias`` bytes, i.e. everything live during the call; it is
reported as a ratio to the logits' own size (target <= 1.5x). ``temp`` alone is the extra working
memory. Time is the median wall time of a few calls after a warm-up (CPU here).

bfloat16 logits travel through the chunk loops as their uint16 bit pattern (XLA's CPU backend
otherwise widens a bfloat16 loop buffer to float32: a float32 copy of all logits, peak 3x), one
panel of rows at a time (about 8 panels; one bit-pattern copy of all logits made the peak 2x).
Measured on the 2-core CPU of this project: float32 1.06x / 1.03x, bfloat16 1.25x / 1.19x for the
two shapes, against 6x / 12x for the plain version; time 0.24x / 0.23x (float32) and 0.43x / 0.55x
(bfloat16) of the plain version's. With the shifted, -inf-safe forms of the entropy (issue 23) the
peaks are unchanged (1.06x / 1.03x, 1.25x / 1.19x); one loaded-machine run gave time ratios 0.25x /
0.14x (float32) and 0.33x / 0.29x (bfloat16), against 0.23x / 0.11x and 0.16x / 0.23x for the
previous kernel in the run just before it (timings on this shared CPU vary by 2x).

Usage: ``python benchmarks/token_loss.py [--small] [--chunk 256]``.
"""

from __future__ import annotations

import argparse
import time

import jax
import jax.numpy as jnp
import numpy as np

from policy import entropy_from_logits, log_probs_from_logits
from policy.tokens import token_logp_entropy_chunked

TEMP = 0.7


def loss_plain(z, t):
    lp = log_probs_from_logits(z.astype(jnp.float32), t, temperature=TEMP)
    h = entropy_from_logits(z.astype(jnp.float32), temperature=TEMP)
    return -jnp.mean(lp) - 0.01 * jnp.mean(h)


def make_loss_chunked(chunk):
    def loss(z, t):
        lp, h = token_logp_entropy_chunked(z, t, temperature=TEMP, chunk_size=chunk)
        return -jnp.mean(lp) - 0.01 * jnp.mean(h)

    return loss


def measure(fn, shape, dtype, reps):
    zs = jax.ShapeDtypeStruct(shape, dtype)
    ts = jax.ShapeDtypeStruct(shape[:-1], jnp.int32)
    compiled = jax.jit(jax.value_and_grad(fn), donate_argnums=0).lower(zs, ts).compile()
    ma = compiled.memory_analysis()
    peak = (
        ma.argument_size_in_bytes + ma.output_size_in_bytes + ma.temp_size_in_bytes
        - ma.alias_size_in_bytes
    )
    key = jax.random.key(0)
    t = jax.random.randint(key, shape[:-1], 0, shape[-1])
    times = []
    val = None
    for _ in range(reps + 1):
        z = (3.0 * jax.random.normal(key, shape, jnp.float32)).astype(dtype)
        z.block_until_ready()
        t0 = time.perf_counter()
        val, g = compiled(z, t)
        g.block_until_ready()
        times.append(time.perf_counter() - t0)
        del z, g
    return peak, ma.temp_size_in_bytes, float(np.median(times[1:])), float(val)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--small", action="store_true", help="tiny shapes for a quick check")
    ap.add_argument("--chunk", type=int, default=None, help="rows per chunk (default: auto)")
    ap.add_argument("--reps", type=int, default=2)
    args = ap.parse_args(argv)
    shapes = [(4, 512, 32768), (2, 256, 151936)]
    if args.small:
        shapes = [(2, 64, 4096), (1, 32, 15193)]
    print(f"device: {jax.devices()[0].device_kind}, chunk={args.chunk}, T={TEMP}")
    hdr = ("shape", "dtype", "logits MiB", "peak plain/logits", "peak chunk/logits",
           "temp plain MiB", "temp chunk MiB", "mem ratio", "t plain s", "t chunk s", "time ratio")
    print(" | ".join(hdr))
    for shape in shapes:
        for dtype in (jnp.float32, jnp.bfloat16):
            logits_b = np.prod(shape) * jnp.dtype(dtype).itemsize
            pc, tc, sc, vc = measure(make_loss_chunked(args.chunk), shape, dtype, args.reps)
            pp, tp, sp, vp = measure(loss_plain, shape, dtype, args.reps)
            assert abs(vc - vp) <= 1e-3 * max(1.0, abs(vp)), (vc, vp)
            print(" | ".join([
                "x".join(map(str, shape)), jnp.dtype(dtype).name, f"{logits_b / 2**20:.0f}",
                f"{pp / logits_b:.2f}", f"{pc / logits_b:.2f}", f"{tp / 2**20:.0f}",
                f"{tc / 2**20:.0f}", f"{pc / pp:.2f}", f"{sp:.2f}", f"{sc:.2f}", f"{sc / sp:.2f}",
            ]), flush=True)


if __name__ == "__main__":
    main()
