"""The ``sgn`` command: one parser for every subcommand, one-line errors, exit codes.

Exit codes: 0 certified (or verified), 1 not certified / invalid game output (or verification
failed), 2 bad input. Bad input prints one line ``sgn: error: ...`` on stderr, never a traceback;
a missing optional dependency and an unexpected internal failure are reported the same way
(set ``SGN_DEBUG=1`` to see the traceback of an internal failure).
"""

from __future__ import annotations

import argparse
import os
import sys

from certify import bounds as bounds_lib
from certify._runtime import configure_runtime
from certify._weights import WEIGHT_METHODS
from certify.cli._args import UsageError
from certify.cli._commands import EXIT_USAGE, cmd_certify, cmd_games, cmd_sweep, cmd_verify


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand (exposed for tests and docs).

    Examples:
      >>> build_parser().parse_args(["certify", "lq64", "--param", "lam=1.2"]).param
      ['lam=1.2']
    """
    p = _Parser(prog="sgn", description="Small-Gain Nash certificates for differentiable games.")
    sub = p.add_subparsers(dest="command", parser_class=_Parser)
    c = sub.add_parser("certify", help="certify a registered game (default sgn-toy)")
    c.add_argument("game", nargs="?", default="sgn-toy")
    c.add_argument("--param", action="append", metavar="KEY=VALUE", help="game parameter (repeatable)")
    c.add_argument("--region", help="box LO:HI, e.g. -1:1 or -1,-2:1,2, or JSON {\"lo\":[..],\"hi\":[..]}")
    c.add_argument("--method", default="perron", choices=list(WEIGHT_METHODS), help="block-weight optimiser")
    c.add_argument("--bounds", default="auto", choices=list(bounds_lib.NAMES))
    c.add_argument("--samples", type=int, default=None,
                   help="sample points for sampled / matrix-free bounds (default: the method's own)")
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--json", action="store_true", help="print the certificate as JSON")
    c.add_argument("--out", help="write the JSON certificate to FILE")
    c.add_argument("--plot", help="write the timescale-band plot (two players) to FILE")
    c.add_argument("--phase-plot", help="write a phase portrait (2-D games) to FILE")
    c.add_argument("--basin", action="store_true",
                   help="locate the solution, report the invariant W-ball and the Nash check")
    c.set_defaults(handler=cmd_certify)
    v = sub.add_parser("verify", help="recompute a certificate file and simulate it")
    v.add_argument("certificate")
    v.add_argument("--pairs", type=int, default=32)
    v.add_argument("--steps", type=int, default=100)
    v.set_defaults(handler=cmd_verify)
    g = sub.add_parser("games", help="list registered games")
    g.set_defaults(handler=cmd_games)
    s = sub.add_parser("sweep", help="certification map over a game parameter (batched, sharded)")
    s.add_argument("game", help="registered game, e.g. lq64")
    s.add_argument("--param", action="append", metavar="KEY=START:STOP:COUNT|KEY=VALUE",
                   help="the swept range (exactly one) and fixed parameters (repeatable)")
    s.add_argument("--samples", type=int, default=None, help="sample points per value (non-affine games)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--json", action="store_true", help="print the map as JSON instead of a table")
    s.add_argument("--out", help="write the JSON map to FILE")
    s.add_argument("--plot", help="plot margins against the parameter to FILE")
    s.set_defaults(handler=cmd_sweep)
    return p


def main(argv=None) -> int:
    """Entry point of the ``sgn`` console script; returns the exit code."""
    parser = build_parser()
    try:
        configure_runtime()  # compilation cache (no compile on a second run); many processes if asked
        args = parser.parse_args(argv)
        if args.command is None:
            raise UsageError("expected a command: certify, verify, games or sweep (see sgn --help)")
        return args.handler(args)
    except UsageError as err:
        return fail(str(err))
    except SystemExit as err:  # argparse --help / --version
        return err.code if isinstance(err.code, int) else EXIT_USAGE
    except ModuleNotFoundError as err:
        return fail(f"optional dependency {err.name!r} is not installed (e.g. pip install 'sgn[openspiel]' "
                    "for pyspiel)")
    except KeyboardInterrupt:
        print("sgn: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # last resort: one line, never a traceback
        if os.environ.get("SGN_DEBUG"):
            raise
        return fail(f"internal error ({type(err).__name__}: {err}); rerun with SGN_DEBUG=1 and report it")


def fail(message: str) -> int:
    """Prints ``sgn: error: MESSAGE`` as exactly one line on stderr and returns exit code 2."""
    line = " ".join(str(message).split())
    print(f"sgn: error: {line}", file=sys.stderr)
    return EXIT_USAGE
