"""``sgn sweep GAME --param lam=0:2:61``: a certification map over one game parameter.

One ``--param`` holds a range ``KEY=START:STOP:COUNT`` (``COUNT >= 2`` values of
``numpy.linspace(START, STOP, COUNT)``); other ``--param KEY=VALUE`` are fixed. The SGN margin
:math:`\\alpha_*(w)` at the Perron weights and the Euclidean margin
:math:`\\lambda_{\\min}(\\operatorname{sym}J)` are computed for every value in one batched call
(:func:`certify._sweep.sweep_parameter`) and printed as a table, optionally plotted and written as
JSON. Exit code 0 when at least one value is certified, 1 otherwise, 2 on bad input.
"""

from __future__ import annotations

import math
import sys

import numpy as np

MAX_COUNT = 100_000


def _usage(msg):
    from certify.cli import UsageError  # noqa: PLC0415

    return UsageError(msg)


def parse_range(item: str):
    """``"lam=0:2:61"`` -> ``("lam", linspace(0, 2, 61))``; raises ``UsageError`` when malformed.

    Examples:
      >>> key, vals = parse_range("lam=0:2:5")
      >>> key, vals.tolist()
      ('lam', [0.0, 0.5, 1.0, 1.5, 2.0])
    """
    key, sep, spec = item.partition("=")
    key = key.strip()
    parts = spec.split(":")
    if not sep or not key or len(parts) != 3:
        raise _usage(f"expected --param KEY=START:STOP:COUNT (e.g. lam=0:2:61), got {item!r}")
    try:
        start, stop = float(parts[0]), float(parts[1])
        count = int(parts[2])
    except ValueError:
        raise _usage(f"expected numbers START:STOP and an integer COUNT in --param, got {item!r}") from None
    if not (math.isfinite(start) and math.isfinite(stop)):
        raise _usage(f"expected finite START and STOP in --param, got {item!r}")
    if not 2 <= count <= MAX_COUNT:
        raise _usage(f"expected COUNT between 2 and {MAX_COUNT} in --param, got {count}")
    return key, np.linspace(start, stop, count)


def _split_params(items):
    from certify.cli import parse_params  # noqa: PLC0415

    ranges, fixed = [], []
    for item in items or []:
        (ranges if item.count(":") else fixed).append(item)
    if len(ranges) != 1:
        raise _usage(f"expected exactly one --param KEY=START:STOP:COUNT to sweep, got {len(ranges)}")
    key, values = parse_range(ranges[0])
    params = parse_params(fixed)
    if key in params:
        raise _usage(f"expected {key!r} either swept or fixed, got both")
    return key, values, params


def add_sweep_parser(subparsers):
    """Adds the ``sweep`` subcommand to the ``sgn`` CLI's subparsers."""
    s = subparsers.add_parser("sweep", help="certification map over a game parameter (batched, sharded)")
    s.add_argument("game", help="registered game, e.g. lq64")
    s.add_argument("--param", action="append", metavar="KEY=START:STOP:COUNT|KEY=VALUE",
                   help="the swept range (exactly one) and fixed parameters (repeatable)")
    s.add_argument("--samples", type=int, default=1024, help="sample points per value (non-affine games)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--json", action="store_true", help="print the map as JSON instead of a table")
    s.add_argument("--out", help="write the JSON map to FILE")
    s.add_argument("--plot", help="plot margins against the parameter to FILE")
    s.set_defaults(handler=run_sweep)
    return s


def plot_sweep(result, path):
    """Margins (SGN and Euclidean) against the swept parameter; matplotlib imported lazily."""
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(result.values, result.margin, "o-", ms=3, label="SGN margin α*(w), Perron w")
    ax.plot(result.values, result.euclidean_margin, "s-", ms=3, label="Euclidean margin λmin(sym J)")
    ax.fill_between(result.values, 0, 1, where=result.certified, transform=ax.get_xaxis_transform(),
                    alpha=0.12, color="tab:green", label="SGN certified")
    ax.axhline(0.0, color="k", lw=0.8)
    ax.set_xlabel(result.param)
    ax.set_ylabel("margin")
    ax.set_title(f"{result.game}: certification map")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def run_sweep(args) -> int:
    """Handler of ``sgn sweep``: returns the exit code."""
    from certify._sweep import sweep_parameter  # noqa: PLC0415

    key, values, params = _split_params(args.param)
    if args.samples < 1:
        raise _usage(f"expected --samples >= 1, got {args.samples}")
    try:
        result = sweep_parameter(args.game, key, values, params=params, n_samples=args.samples, seed=args.seed)
    except NotImplementedError as err:
        raise _usage(f"cannot sweep {args.game}: {err}") from None
    except (TypeError, ValueError) as err:
        raise _usage(str(err)) from None
    text = result.to_json()
    if args.out:
        try:
            with open(args.out, "w", encoding="utf-8") as fh:
                fh.write(text + "\n")
        except OSError as err:
            raise _usage(f"cannot write {args.out}: {err.strerror}") from None
    print(text if args.json else result.table())
    if args.plot:
        try:
            plot_sweep(result, args.plot)
        except OSError as err:
            raise _usage(f"cannot write {args.plot}: {err.strerror}") from None
        print(f"plot written to {args.plot}", file=sys.stderr)
    return 0 if result.certified.any() else 1
