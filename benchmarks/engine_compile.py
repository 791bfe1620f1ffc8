"""Cost of the sound interval engine's compiled program: HLO size, trace, compile and run time.

For each case (``tanh-sin``, the ``impossibility`` game of Letcher et al., ``neural-duel`` and a
few programs of the soundness fuzzer's grammar, ``tests/certify/sound_programs.py``) the engine
programs that the sound bounds compile (:class:`certify._interval._interpreter.CompiledEnclosure`:
the enclosure pass and the rounding pass, two programs, a batch of 32 boxes as the drivers use)
are built afresh and

* traced and lowered (``trace_s``; ``hlo_lines`` = lines of their StableHLO text),
* compiled by XLA (``compile_s``; per program ``enclosure_compile_s`` and ``rounding_compile_s``:
  a bound that certifies nothing compiles only the first),
* run once on 32 sub-boxes of the region (``run_s``);
* and the affine-form Jacobian program (:class:`certify.bounds._sound._AffineJacobian`, which the
  sound bounds intersect in on smooth float64 programs) traced, compiled and run on the same boxes
  (``affine_s``; ``all_s`` = ``engine_s + affine_s``);

``peak_mib`` is the process's peak resident memory after the case (``ru_maxrss``, so it only
grows across cases of one process; run one case per process to read it per case).

``--per-rule`` lowers one-operation programs of the rules that the cases use (one small input
shape, ``n = 4`` tangent columns) and prints their StableHLO line counts: which rules emit most.

``--compare REF`` times the code of git revision ``REF`` (its tree from ``git archive``)
against the working tree, alternating old and new in fresh processes case by case (``--repeat``
rounds), and prints the ratios old/new: compare only numbers from one such run.

Run: nice -n 19 .venv/bin/python benchmarks/engine_compile.py [--cases tanh-sin,impossibility]
     [--compare HEAD~3] [--repeat 2] [--per-rule]
"""

from __future__ import annotations

import argparse
import json
import pathlib
import resource
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
CASES = ("tanh-sin", "impossibility", "neural-duel", "fuzz-0", "fuzz-1", "fuzz-2", "fuzz-3")
BATCH = 32


def _setup(root=None):
    import jax

    jax.config.update("jax_enable_x64", True)
    sys.path.insert(0, str(root or ROOT))


def _fuzz_plan(k: int):
    """Program ``k`` of the fuzzer's grammar (fixed seed), with its region."""
    import importlib.util

    import numpy as np

    path = ROOT / "tests" / "certify" / "sound_programs.py"
    spec = importlib.util.spec_from_file_location("_sound_programs", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    names = sorted(mod.CONSTRUCTS)
    rng = np.random.default_rng(1919)
    plan = None
    for g in range(k + 1):
        plan = mod.draw_plan(rng, focus=names[(7 * g) % len(names)])
    return mod.build(plan, "jax"), plan.lo, plan.hi


def case_function(name: str):
    """``(F, lo, hi)`` of a case: the pseudo-gradient and the region."""
    import games

    if name.startswith("fuzz-"):
        return _fuzz_plan(int(name.split("-")[1]))
    game = games.get_game(name)
    return game.pseudo_gradient, game.region.lo, game.region.hi


def sub_boxes(lo, hi, m=BATCH):
    """``m`` sub-boxes of ``[lo, hi]``: slabs along the first coordinate."""
    import numpy as np

    t = np.linspace(0.0, 1.0, m + 1)
    blo = np.repeat(lo[None], m, 0)
    bhi = np.repeat(hi[None], m, 0)
    blo[:, 0] = lo[0] + t[:-1] * (hi[0] - lo[0])
    bhi[:, 0] = lo[0] + t[1:] * (hi[0] - lo[0])
    return blo, bhi


def _programs(comp, dyn, blo, bhi):
    """``[(pass, jitted, args)]``: the enclosure and rounding programs (one program with a flag before they split)."""
    import numpy as np

    if getattr(comp, "rounding_fn", None) is None:  # older trees: both passes in one program
        return [("both", comp.fn, (list(dyn), blo, bhi, np.bool_(True)))]
    return [("enclosure", comp.fn, (list(dyn), blo, bhi)), ("rounding", comp.rounding_fn, (list(dyn), blo, bhi))]


def measure(name: str) -> dict:
    """Trace, lower, compile and run the engine programs of one case (fresh, no cache).

    Totals over the enclosure and rounding programs; ``enclosure_compile_s`` and
    ``rounding_compile_s`` per program (a bound that certifies nothing compiles only the first).
    """
    import jax
    import numpy as np

    from certify._interval import _interpreter

    F, lo, hi = case_function(name)
    n = lo.shape[0]
    _interpreter._CACHE.clear()
    blo, bhi = sub_boxes(np.asarray(lo, np.float64), np.asarray(hi, np.float64))
    row = {"case": name, "n": int(n), "hlo_lines": 0, "trace_s": 0.0, "trace_cpu_s": 0.0, "compile_s": 0.0,
           "compile_cpu_s": 0.0, "run_s": 0.0}  # fmt: skip
    t0, c0 = time.perf_counter(), time.process_time()
    comp, dyn = _interpreter.compile_enclosure(F, n, np.float64, rounding=True)
    row["trace_s"], row["trace_cpu_s"] = time.perf_counter() - t0, time.process_time() - c0
    for label, fn, args in _programs(comp, dyn, blo, bhi):
        t0, c0 = time.perf_counter(), time.process_time()
        lowered = fn.lower(*args)
        row["trace_s"] += time.perf_counter() - t0
        row["trace_cpu_s"] += time.process_time() - c0
        row["hlo_lines"] += lowered.as_text().count("\n")
        t0, c0 = time.perf_counter(), time.process_time()
        compiled = lowered.compile(compiler_options=_options(blo))
        row[f"{label}_compile_s"] = round(time.perf_counter() - t0, 3)
        row["compile_s"] += time.perf_counter() - t0
        row["compile_cpu_s"] += time.process_time() - c0
        t0 = time.perf_counter()
        jax.block_until_ready(compiled(*args))
        row["run_s"] += time.perf_counter() - t0
    row["engine_s"] = row["trace_s"] + row["compile_s"] + row["run_s"]
    row["affine_s"] = _affine_seconds(F, n, blo, bhi)
    row["all_s"] = row["engine_s"] + row["affine_s"]
    row["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {k: round(v, 4 if k == "run_s" else 3) if isinstance(v, float) else v for k, v in row.items()}


def _options(blo):
    """The XLA options the engine compiles this batch with (earlier trees set them on the jit, or had none)."""
    from certify._interval import _interpreter

    choose = getattr(_interpreter, "compile_options", None)
    return choose(blo.shape[0]) if choose is not None else None


def _affine_seconds(F, n, blo, bhi) -> float:
    """Trace, compile and run of the affine-form Jacobian program on the boxes (0 where it does not apply)."""
    import jax
    import numpy as np

    try:
        from certify.bounds import _sound
        from certify.bounds._sound import _AFFINE_CACHE, _AffineJacobian
    except ImportError:  # trees before the affine form
        return 0.0
    _AFFINE_CACHE.clear()
    getattr(_sound, "_JACOBIAN_CACHE", {}).clear()  # the derivation of DF, cached per structure since 8de20de
    t0 = time.perf_counter()
    aff = _AffineJacobian.of(F, n, np.float64)
    if aff is not None:
        compiled, _ = aff._program(blo.shape[0], n)  # as the sound bounds compile it
        jax.block_until_ready(compiled(aff.dyn, blo, bhi))
    return time.perf_counter() - t0


# --------------------------------------------------------------------------------------------
# Per-rule HLO sizes.
# --------------------------------------------------------------------------------------------

_UNARY = ("sin", "cos", "tanh", "exp", "log", "sqrt", "logistic", "atan", "neg", "abs", "square", "integer_pow",
          "sign", "floor", "reduce_sum", "reduce_max", "cumsum", "sort", "transpose", "slice")  # fmt: skip
_BINARY = ("add", "sub", "mul", "div", "max", "min", "pow", "atan2", "rem", "lt", "dot_general", "select_n")


def _one_op(name):
    import jax.numpy as jnp
    from jax import lax

    unary = {
        "sin": jnp.sin, "cos": jnp.cos, "tanh": jnp.tanh, "exp": jnp.exp, "log": jnp.log, "sqrt": jnp.sqrt,
        "logistic": lax.logistic, "atan": jnp.arctan, "neg": lambda v: -v, "abs": jnp.abs,
        "square": lax.square, "integer_pow": lambda v: v**3, "sign": jnp.sign, "floor": jnp.floor,
        "reduce_sum": lambda v: jnp.sum(v, keepdims=True) + 0 * v, "reduce_max": lambda v: jnp.max(v) + 0 * v,
        "cumsum": lambda v: jnp.cumsum(v), "sort": jnp.sort, "transpose": lambda v: v[::-1],
        "slice": lambda v: jnp.concatenate([v[1:], v[:1]]),
    }  # fmt: skip
    binary = {
        "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b, "div": lambda a, b: a / b,
        "max": jnp.maximum, "min": jnp.minimum, "pow": lambda a, b: a**b, "atan2": jnp.arctan2,
        "rem": jnp.fmod, "lt": lambda a, b: jnp.where(a < b, a, b),
        "dot_general": lambda a, b: jnp.outer(a, b) @ a, "select_n": lambda a, b: jnp.where(a > 0, a, b),
    }  # fmt: skip
    if name in unary:
        return lambda x: unary[name](x)
    return lambda x: binary[name](x, x[::-1] + 2.0)


def per_rule() -> list[dict]:
    """StableHLO lines of the engine program (enclosure + rounding, batch 1) of one-op programs."""
    import numpy as np

    from certify._interval import _interpreter

    rows = []
    n = 4
    lo, hi = np.full(n, 0.5), np.full(n, 1.5)
    base = None
    for name in ("identity",) + _UNARY + _BINARY:
        F = (lambda x: x) if name == "identity" else _one_op(name)
        _interpreter._CACHE.clear()
        comp, dyn = _interpreter.compile_enclosure(F, n, np.float64, rounding=True)
        lines = sum(fn.lower(*args).as_text().count("\n") for _, fn, args in _programs(comp, dyn, lo[None], hi[None]))
        base = lines if base is None else base
        rows.append({"rule": name, "hlo_lines": lines, "over_identity": lines - base})
    return rows


# --------------------------------------------------------------------------------------------
# Old/new comparison.
# --------------------------------------------------------------------------------------------


def _export(ref: str) -> pathlib.Path:
    """The tree of revision ``ref`` in a temporary directory (whole: ``certify`` checks its siblings)."""
    d = pathlib.Path(tempfile.mkdtemp(prefix="engine_compile_"))
    tar = subprocess.run(["git", "archive", ref], cwd=ROOT, check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(d)], input=tar, check=True)
    return d


def _run_child(case: str, tree: pathlib.Path | None) -> dict:
    cmd = [sys.executable, str(pathlib.Path(__file__).resolve()), "--child", case]
    if tree is not None:
        cmd += ["--tree", str(tree)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def compare(ref: str, cases, repeat: int) -> None:
    """Alternates old (``ref``) and new (working tree) per case; prints medians and ratios old/new."""
    old_root = _export(ref)
    rows = []
    for case in cases:
        olds, news = [], []
        for _ in range(repeat):
            olds.append(_run_child(case, old_root))
            news.append(_run_child(case, None))
        med = {}
        for tag, rs in (("old", olds), ("new", news)):
            med[tag] = {k: sorted(r[k] for r in rs)[len(rs) // 2] for k in rs[0] if k not in ("case", "n")}
        ratio = {k: round(med["old"][k] / med["new"][k], 2) if med["new"][k] else None
                 for k in ("hlo_lines", "trace_s", "trace_cpu_s", "compile_s", "compile_cpu_s", "run_s", "engine_s",
                           "affine_s", "all_s", "peak_mib") if k in med["old"] and k in med["new"]}  # fmt: skip
        row = {"case": case, "old": med["old"], "new": med["new"], "old/new": ratio}
        rows.append(row)
        print(json.dumps(row), flush=True)
    print()
    cols = ("hlo_lines", "compile_cpu_s", "compile_s", "engine_s", "affine_s", "all_s")
    print(f"{'case':16s}" + "".join(f"{c + ' old/new':>28s}" for c in cols))
    for r in rows:
        o, n, q = r["old"], r["new"], r["old/new"]
        cells = (f"{o.get(c, 0):>10.6g}/{n.get(c, 0):<10.6g}" + (f"{q[c]:>6.2f}x" if q.get(c) else "     -")
                 for c in cols)  # fmt: skip
        print(f"{r['case']:16s}" + "".join(cells))


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", default=",".join(CASES), help="comma-separated cases")
    ap.add_argument("--compare", metavar="REF", help="git revision to compare against (alternated, ratios)")
    ap.add_argument("--repeat", type=int, default=1, help="rounds per case in --compare (median)")
    ap.add_argument("--per-rule", action="store_true", help="StableHLO lines of one-op programs per rule")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--tree", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        _setup(args.tree)  # an old tree replaces the working tree on the path
        print(json.dumps(measure(args.child)))
        return
    cases = [c for c in args.cases.split(",") if c]
    if args.compare:
        compare(args.compare, cases, args.repeat)
        return
    _setup()
    if args.per_rule:
        for r in per_rule():
            print(json.dumps(r), flush=True)
        return
    for c in cases:
        print(json.dumps(measure(c)), flush=True)


if __name__ == "__main__":
    main()
