"""Coverage table and cost of the program fuzzer (issue 19), reproducible from a seed.

Runs ``fuzz_families`` of ``tests/certify/test_sound_fuzz_programs.py``: ``--families`` generated
programs (``sound_programs.py``'s grammar, every construct and categorical value forced in turn),
each checked over ``--boxes`` region boxes with one compilation of the interval engine (a *case* is
one program on one box), a few boxes per program certified with every claim of the certificate
checked. Prints the counts (cases enclosed / NaN / unbounded / refused, certificates certified /
not_certified / invalid, violations), the wall and CPU seconds, the CPU seconds per case and per
program, and the coverage table: for every rule of the engine's table and every pattern, the number of
programs (families) and cases that used it, and how many cases were enclosed finitely and certified.

Run: .venv/bin/python benchmarks/fuzz_coverage.py [--families 160 --boxes 64 --seed 19]
(the defaults are the slow test's run; ``--families 5 --boxes 64 --max-steps 1`` the default suite's).
"""

from __future__ import annotations

import argparse
import importlib.util
import pathlib
import sys
import warnings

import jax

jax.config.update("jax_enable_x64", True)

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _load():
    sys.path.insert(0, str(ROOT))
    path = ROOT / "tests" / "certify" / "test_sound_fuzz_programs.py"
    spec = importlib.util.spec_from_file_location("_fuzz_programs", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--families", type=int, default=160, help="generated programs (default 160)")
    ap.add_argument("--boxes", type=int, default=64, help="region boxes per program, a multiple of 32 (default 64)")
    ap.add_argument("--certify-enclosed", type=int, default=4, help="finite-enclosure boxes certified per program")
    ap.add_argument("--max-steps", type=int, default=3, help="constructs per program, at most (default 3)")
    ap.add_argument("--seed", type=int, default=19)
    args = ap.parse_args(argv)
    if args.families < 1 or args.boxes < 1 or args.boxes % 32:
        print(f"error: expected --families >= 1 and --boxes a positive multiple of 32, got {args.families} and "
              f"{args.boxes}", file=sys.stderr)  # fmt: skip
        return 2
    fuzz = _load()
    warnings.filterwarnings("ignore", message="invalid value encountered in cast", category=RuntimeWarning)
    stats, table = fuzz.fuzz_families(args.families, args.seed, boxes=args.boxes,
                                      certify_enclosed=args.certify_enclosed, max_steps=args.max_steps)  # fmt: skip
    violations = stats.pop("violations")
    print({k: v for k, v in stats.items()})
    print(f"CPU seconds per case {stats['cpu_seconds'] / stats['cases']:.4f}, "
          f"per program {stats['cpu_seconds'] / stats['families']:.2f}")
    print(f"violations: {len(violations)}")
    for v in violations:
        print("  ", v)
    print(fuzz.format_table(table))
    return 1 if violations else 0


if __name__ == "__main__":
    raise SystemExit(main())
