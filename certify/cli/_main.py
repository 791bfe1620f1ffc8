"""The ``sgn`` command: one parser for every subcommand, one-line errors, exit codes.

Exit codes: 0 certified (or verified; a sweep with some certified value), 1 not certified /
invalid game output (or verification failed; a sweep with none certified), 2 bad input, 130
interrupted. Bad input prints one line ``sgn: error: ...`` on stderr, never a traceback; a missing
optional dependency and an unexpected internal failure are reported the same way (set
``SGN_DEBUG=1`` to see the traceback of an internal failure). :func:`run` is the console script:
:func:`main` with Ctrl-C handled at any moment (:mod:`certify.cli._signals`).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import sys
import traceback

from certify import bounds as bounds_lib
from certify._runtime import configure_runtime
from certify._weights import WEIGHT_METHODS
from certify.cli import _signals
from certify.cli._args import UsageError, join_negative_values
from certify.cli._commands import EXIT_USAGE, cmd_certify, cmd_games, cmd_sweep, cmd_verify

EXIT_BROKEN_PIPE = 141
"""Exit code when stdout is closed early (128 + SIGPIPE, as a shell reports a process killed by it)."""
GAME_HELP = ("a registered game (sgn games), FILE.py (defining `game`), FILE.py:FACTORY, MODULE:FACTORY, "
             "FILE.toml or FILE.json")


EXIT_CODES = """exit codes:
  0    certified (verify: consistent; sweep: some value certified)
  1    not certified (verify: contraction violated; sweep: no value certified)
  2    bad input, or an output that cannot be written (one line 'sgn: error: ...' on stderr)
  130  interrupted (Ctrl-C); no output file is changed
set SGN_DEBUG=1 to see the traceback behind an error (also for errors in your own game code)."""


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("epilog", EXIT_CODES)
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message):
        raise UsageError(message)


def version() -> str:
    """The installed package's version (``unknown`` when run from a source tree that is not installed).

    Examples:
      >>> version().count(".") >= 1 or version() == "unknown"
      True
    """
    try:
        return importlib.metadata.version("sgn")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand (exposed for tests and docs).

    Examples:
      >>> build_parser().parse_args(["certify", "lq64", "--param", "lam=1.2"]).param
      ['lam=1.2']
    """
    p = _Parser(prog="sgn", description="Small-Gain Nash certificates for differentiable games.")
    p.add_argument("--version", action="version", version=f"sgn {version()}")
    sub = p.add_subparsers(dest="command", parser_class=_Parser)
    c = sub.add_parser("certify", help="certify a game: registered, or defined in a .py/.toml/.json file")
    c.add_argument("game", nargs="?", default="sgn-toy", help=GAME_HELP + " (default sgn-toy)")
    c.add_argument("--param", action="append", metavar="KEY=VALUE",
                   help="game or factory parameter (repeatable)")
    c.add_argument("--region", help="box LO:HI, e.g. -1:1 or -1,-2:1,2, or JSON {\"lo\":[..],\"hi\":[..]}")
    c.add_argument("--weight-method", default="perron", choices=list(WEIGHT_METHODS),
                   help="block-weight optimiser (the certificate's weights.method)")
    c.add_argument("--bounds", default="auto", choices=list(bounds_lib.NAMES),
                   help="how the Jacobian is bounded: auto (exact for affine games, else sampled), exact, sampled "
                        "(an estimate), interval / padded / refine (sound), matrix_free (an estimate)")
    c.add_argument("--samples", type=int, default=None,
                   help="sample points for sampled / matrix-free bounds (default: the method's own)")
    c.add_argument("--seed", type=int, default=None,
                   help="seed of the sample points (sampled / matrix-free bounds; default 0)")
    c.add_argument("--max-rounds", type=int, default=None, metavar="N",
                   help=f"--bounds refine: most bisection rounds (default {bounds_lib.Refine.max_rounds})")
    c.add_argument("--max-boxes", type=int, default=None, metavar="N",
                   help=f"--bounds refine: most boxes in the partition (default {bounds_lib.Refine.max_boxes})")
    c.add_argument("--json", action="store_true", help="print the certificate as JSON")
    c.add_argument("--full", action="store_true", help="print every entry of mu, L and the weights (many players)")
    c.add_argument("--out", metavar="FILE", help="write the JSON certificate (what --json prints) to FILE")
    c.add_argument("--plot", metavar="FILE",
                   help="write the timescale-band plot (two players) to FILE (.png, .pdf, .svg)")
    c.add_argument("--phase-plot", metavar="FILE",
                   help="write a phase portrait (2-D games) to FILE (.png, .pdf, .svg)")
    c.add_argument("--basin", action="store_true",
                   help="locate the solution, report the invariant W-ball and the Nash check (JSON: key 'basin')")
    c.set_defaults(handler=cmd_certify)
    v = sub.add_parser("verify", help="recompute a certificate file (rebuilding its game) and simulate it")
    v.add_argument("certificate", help="a certificate written by sgn certify --out (JSON)")
    v.add_argument("--pairs", type=int, default=32, help="trajectory pairs simulated (default 32)")
    v.add_argument("--steps", type=int, default=100, help="Euler steps per trajectory (default 100)")
    v.add_argument("--game", metavar="FILE|MODULE:FACTORY",
                   help="the game definition to rebuild from (it must have the recorded SHA-256); a game written "
                        "in Python runs only when named here or with --trust-recorded-code")
    v.add_argument("--trust-recorded-code", action="store_true",
                   help="run the Python game file or module the certificate records (after checking its SHA-256)")
    v.set_defaults(handler=cmd_verify)
    g = sub.add_parser("games", help="list registered games and their parameters, or describe one")
    g.add_argument("name", nargs="?", help="a registered game or a game file to describe")
    g.set_defaults(handler=cmd_games)
    s = sub.add_parser("sweep", help="certification map over a game parameter (batched, sharded)")
    s.add_argument("game", help="a registered game (e.g. lq64), FILE.py:FACTORY, MODULE:FACTORY, FILE.toml or "
                   "FILE.json (sweep any numeric key, e.g. tau or J[0][1])")
    s.add_argument("--param", action="append", metavar="KEY=START:STOP:COUNT|KEY=VALUE",
                   help="the swept range (exactly one) and fixed parameters (repeatable)")
    s.add_argument("--bounds", default="auto", choices=list(bounds_lib.NAMES),
                   help="bound method per value, as for certify (auto: one batched exact call for affine games)")
    s.add_argument("--region", help="box LO:HI for every value, as for certify")
    s.add_argument("--samples", type=int, default=None, help="sample points per value (non-affine games)")
    s.add_argument("--seed", type=int, default=None,
                   help="seed of the sample points per value (sampled / matrix-free bounds; default 0)")
    s.add_argument("--json", action="store_true", help="print the map as JSON instead of a table")
    s.add_argument("--out", metavar="FILE", help="write the JSON map (what --json prints) to FILE")
    s.add_argument("--plot", metavar="FILE", help="plot margins against the parameter to FILE (.png, .pdf, .svg)")
    s.set_defaults(handler=cmd_sweep)
    return p


def main(argv=None) -> int:
    """Entry point of the ``sgn`` console script; returns the exit code.

    Examples:
      >>> main(["certify", "sgn-toy", "--json"]) == 0  # doctest: +ELLIPSIS
      {...
      True
    """
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        args = parser.parse_args(join_negative_values(argv))
        # compilation cache (no compile on a second run); many processes if asked. `verify` trusts no cache.
        configure_runtime(caches=args.command != "verify")
        if args.command is None:
            raise UsageError("expected a command: certify, verify, games or sweep (see sgn --help)")
        return args.handler(args)
    except UsageError as err:
        if os.environ.get("SGN_DEBUG"):
            _print_cause(err)
        return fail(str(err))
    except SystemExit as err:  # argparse --help / --version
        return err.code if isinstance(err.code, int) else EXIT_USAGE
    except ModuleNotFoundError as err:
        return fail(f"optional dependency {err.name!r} is not installed (e.g. pip install 'sgn[openspiel]' "
                    "for pyspiel)")
    except BrokenPipeError:  # the reader of our output went away (e.g. `| head`): stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        print("sgn: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # last resort: one line, never a traceback
        if os.environ.get("SGN_DEBUG"):
            raise
        return fail(f"internal error ({type(err).__name__}: {err}); rerun with SGN_DEBUG=1 and report it")


def run(argv=None) -> int:
    """The ``sgn`` console script: :func:`main` with Ctrl-C ending the run with exit code 130 at any moment.

    Installs the process-wide interrupt handling of :mod:`certify.cli._signals`; call it once per
    process (tests call :func:`main`).

    Examples:
      The console script runs it in a fresh process (here a subprocess of the doctest):

      >>> import subprocess, sys
      >>> code = "import sys; from certify.cli import run; sys.exit(run(['games', 'sgn-toy']))"
      >>> subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=300).returncode
      0
    """
    _signals.install()
    _keep_stdout_ours()
    code = main(argv)
    sys.stdout.flush()
    sys.stderr.flush()
    return code


def _keep_stdout_ours() -> None:
    """Points file descriptor 1 at stderr and keeps ``sys.stdout`` on the real standard output.

    Native libraries write to descriptor 1 directly (in a multi-process run the collective library
    prints ``[Gloo] Rank 0 is connected to 1 peer ranks ...``); those lines now land on stderr, and
    stdout holds only what the command prints (``--json`` stays valid JSON).
    """
    try:
        sys.stdout.flush()
        real = os.dup(1)
        os.dup2(2, 1)
    except (OSError, ValueError, AttributeError):  # no usable descriptors (embedded interpreters)
        return
    old = sys.stdout
    sys.stdout = open(real, "w", encoding=getattr(old, "encoding", None) or "utf-8",
                      errors=getattr(old, "errors", None) or "strict", buffering=1 if os.isatty(real) else -1,
                      closefd=True)


def _print_cause(err: BaseException) -> None:
    """Prints the traceback of the innermost exception behind ``err`` (e.g. the user's game code raising)."""
    inner = err
    while inner.__cause__ is not None or inner.__context__ is not None:
        inner = inner.__cause__ or inner.__context__
    if inner is not err:
        traceback.print_exception(type(inner), inner, inner.__traceback__, file=sys.stderr)


def fail(message: str) -> int:
    """Prints ``sgn: error: MESSAGE`` as exactly one line on stderr and returns exit code 2."""
    line = " ".join(str(message).split())
    print(f"sgn: error: {line}", file=sys.stderr)
    return EXIT_USAGE
