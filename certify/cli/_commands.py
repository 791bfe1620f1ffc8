"""The CLI's subcommands: ``certify``, ``verify``, ``games``, ``sweep``; each returns an exit code.

Every command checks its options against the game first (an option that does not apply is an
error naming it, never silently ignored), computes, stages its output files, renames them into
place together (:class:`certify.cli._outputs.Outputs`) and then prints.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import sys

import jax

import certify
import games
from certify import bounds as bounds_lib
from certify import plots
from certify._integrity import method_memory
from certify._progress import run_bar
from certify._sweep_source import game_family
from certify.cli._args import UsageError, check_seed, parse_params, parse_region, split_sweep_params
from certify.cli._outputs import Outputs
from certify.cli._report import basin_text, describe_game, format_report
from games._files import with_relative_path
from games._registry import check_memory

EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2
MAX_SAMPLES = 1_000_000
MAX_PAIRS, MAX_STEPS = 10_000, 100_000


@contextlib.contextmanager
def _as_usage_error(unsupported: str):
    """Library errors about the user's input become one-line usage errors (``unsupported: why``)."""
    try:
        yield
    except NotImplementedError as err:
        raise UsageError(f"{unsupported}: {err}") from None
    except (TypeError, ValueError) as err:
        raise UsageError(str(err)) from None


def _game_files(game) -> list[str]:
    """The files a game was built from (its definition), which no output may replace."""
    path = (game.source or {}).get("path")
    return [path] if path else []


def _build_game(ref, params):
    with _as_usage_error(f"cannot build {ref}"):
        return games.load_game(ref, **params)


def _check_samples(samples, seed):
    """Ranges the command line allows (a method's own least number of points is its rule, see ``resolve``)."""
    if samples is not None and not 0 <= samples <= MAX_SAMPLES:
        raise UsageError(f"expected --samples between 0 and {MAX_SAMPLES}, got {samples}")
    if seed is not None:
        check_seed(seed)


def _show_progress(args) -> bool:
    """The progress bar: on a terminal, never under ``--json``."""
    try:
        return not args.json and sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


FLAGS = {"bounds": "--bounds", "region": "--region", "n_samples": "--samples", "seed": "--seed"}
"""The command line's names for the options of :func:`certify.bounds.resolve`."""


def check_options(game, args):
    """The ``--bounds`` method for ``game``; ``--samples``, ``--seed``, ``--region`` refused where they do not apply.

    One rule with the library: :func:`certify.bounds.resolve` derives "does not apply" from what
    each bound method declares (geometry, region, settings); here its message names the flags. A
    nonlinear game without a region of its own also needs ``--region``.

    Returns:
      The resolved :class:`certify.bounds.BoundsMethod` (the command passes it on: resolved once).

    Raises:
      UsageError: naming the option that does not apply, and what would.
    """
    given_region = args.region is not None or None  # only whether it was given matters here
    try:
        method = bounds_lib.resolve(args.bounds, game, region=given_region, n_samples=args.samples, seed=args.seed)
    except bounds_lib.NotApplicable as err:
        raise UsageError(err.text(FLAGS)) from None
    except (TypeError, ValueError) as err:
        raise UsageError(f"cannot use --bounds {args.bounds}: {err}") from None
    method = _with_refine_budget(method, args)
    needs_region = method.takes_region and method.geometry == "euclidean"
    if needs_region and args.region is None and game.default_region() is None:
        raise UsageError(f"{game.name} has no region of its own and its strategy sets are unbounded: use --region "
                         "LO:HI (e.g. --region -1:1)")
    return method


def _relocatable(cert, path):
    """The certificate with its game file's path relative to ``path`` recorded too (issue 24)."""
    return dataclasses.replace(cert, game=with_relative_path(cert.game, path))


def _check_memory(game, method, n_samples) -> None:
    """Sample counts that would not fit the memory budget are refused before any work (issue 25)."""
    if n_samples is None or method.geometry != "euclidean":
        return
    with _as_usage_error(f"cannot use --samples {n_samples}"):
        check_memory(method_memory(method.name, method.settings(), game.dim),
                     f"--bounds {method.name} with --samples {n_samples} in dimension {game.dim}")


MAX_REFINE_ROUNDS, MAX_REFINE_BOXES = 64, 10**6


def _with_refine_budget(method, args):
    """``method`` with the budget of ``--max-rounds/--max-boxes`` (options of ``--bounds refine`` only)."""
    rounds, boxes = getattr(args, "max_rounds", None), getattr(args, "max_boxes", None)
    if rounds is None and boxes is None:
        return method
    if method.name != "refine":
        given = "--max-rounds" if rounds is not None else "--max-boxes"
        raise UsageError(f"{given} does not apply to --bounds {args.bounds}: it is the budget of --bounds refine")
    if rounds is not None and not 0 <= rounds <= MAX_REFINE_ROUNDS:
        raise UsageError(f"expected --max-rounds between 0 and {MAX_REFINE_ROUNDS}, got {rounds}")
    if boxes is not None and not 1 <= boxes <= MAX_REFINE_BOXES:
        raise UsageError(f"expected --max-boxes between 1 and {MAX_REFINE_BOXES}, got {boxes}")
    return dataclasses.replace(method, max_rounds=method.max_rounds if rounds is None else rounds,
                               max_boxes=method.max_boxes if boxes is None else boxes)


def _cert_json(cert, basin) -> str:
    if basin is None:
        return cert.to_json()
    return json.dumps({**cert.to_dict(), "basin": basin.to_dict()}, indent=2, sort_keys=True, allow_nan=False)


def cmd_certify(args) -> int:
    """``sgn certify [GAME]``: 0 certified, 1 not certified, 2 bad input."""
    with Outputs({"--out": args.out, "--plot": args.plot, "--phase-plot": args.phase_plot}) as outputs:
        game = _build_game(args.game, parse_params(args.param))
        outputs.check_inputs(_game_files(game))
        _check_samples(args.samples, args.seed)
        method = check_options(game, args)
        _check_memory(game, method, args.samples)
        _check_plots(outputs, game)
        region = parse_region(args.region, game.dim)
        if not args.json:
            print(f"certifying {game.name}: bounds={args.bounds}, weight_method={args.weight_method} ...",
                  file=sys.stderr)
        with run_bar(f"certify {game.name}", enabled=_show_progress(args)) as bar:
            with _as_usage_error(f"cannot bound {game.name} with --bounds {args.bounds}"):
                cert = certify.certify(game, region=region, bounds=method, weight_method=args.weight_method,
                                       progress=bar is not None)
            basin = certify.certified_basin(cert, game) if args.basin else None
            if outputs.wants("--out"):  # what --json prints, with the game path relative to the file too
                outputs.stage_text("--out", _cert_json(_relocatable(cert, args.out), basin) + "\n")
            _stage_plots(outputs, cert, game, basin)
        outputs.commit()
    print(_cert_json(cert, basin) if args.json else format_report(cert, full=args.full))
    if basin is not None and not args.json:
        print(basin_text(basin, full=args.full))
    sys.stdout.flush()
    outputs.announce()
    return EXIT_OK if cert.certified else EXIT_REFUSED


def _check_plots(outputs, game) -> None:
    """Plots that cannot be drawn for this game are refused before any work."""
    if outputs.wants("--plot") and game.n_players != 2:
        raise UsageError(f"--plot draws the timescale band of a two-player game, got {game.n_players} players")
    if outputs.wants("--phase-plot") and (game.dim != 2 or game.geometry != "euclidean"):
        raise UsageError(f"--phase-plot draws a two-dimensional Euclidean game, got dimension {game.dim} "
                         f"({game.geometry} geometry)")


def _stage_plots(outputs, cert, game, basin) -> None:
    if outputs.wants("--plot"):
        if cert.status == certify.Status.INVALID:
            print("note: --plot skipped: the certificate is invalid (no bounds to draw)", file=sys.stderr)
        else:
            outputs.stage("--plot", lambda path: plots.plot_band(cert, path))
    if outputs.wants("--phase-plot"):
        if cert.certified:
            outputs.stage("--phase-plot", lambda path: plots.plot_phase(cert, game, path, basin=basin))
        else:
            print(f"note: --phase-plot skipped: the game is {cert.status}, there is no certified metric to draw",
                  file=sys.stderr)


MAX_CERTIFICATE_BYTES = 64 * 2**20
"""Largest certificate file ``sgn verify`` reads."""


def _read_certificate(path):
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_CERTIFICATE_BYTES + 1)
        if len(raw) > MAX_CERTIFICATE_BYTES:
            raise UsageError(f"invalid certificate {path}: expected at most {MAX_CERTIFICATE_BYTES // 2**20} MiB, "
                             "got a larger file")
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as err:
        detail = getattr(err, "strerror", None) or err
        raise UsageError(f"cannot read certificate {path}: {detail}") from None
    if str(path).lower().endswith((".py", ".toml")):
        raise UsageError(f"{path} is a game definition, not a certificate: certify it first "
                         f"(sgn certify {path} --out cert.json), then sgn verify cert.json")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise UsageError(f"invalid certificate {path}: expected a JSON certificate, got unreadable text "
                         f"({err.msg})") from None
    except RecursionError:
        raise UsageError(f"invalid certificate {path}: expected a JSON certificate, got nesting too deep") from None
    except ValueError as err:  # an integer of more digits than Python converts
        raise UsageError(f"invalid certificate {path}: expected numbers of reasonable size, got "
                         f"{' '.join(str(err).split())}") from None
    if isinstance(data, dict) and "schema_version" not in data and "kind" in data:
        raise UsageError(f"{path} is a game definition, not a certificate: certify it first "
                         f"(sgn certify {path} --out cert.json), then sgn verify cert.json")
    if isinstance(data, dict):
        data.pop("basin", None)  # `sgn certify --json --basin` adds it; it is derived, not certified
    try:
        return certify.Certificate.from_dict(data)
    except (TypeError, ValueError, KeyError, OverflowError, RecursionError) as err:
        raise UsageError(f"invalid certificate {path}: {err}") from None


def cmd_verify(args) -> int:
    """``sgn verify CERT.json [--game FILE]``: 0 consistent, 1 contraction violated, 2 bad or tampered file.

    Recomputes with no compilation cache or stored program (:func:`certify.cli._main.main` turns
    them off for ``verify``) and runs Python game code only when named (``--game``) or allowed
    (``--trust-recorded-code``), saying what it runs.
    """
    if not 1 <= args.pairs <= MAX_PAIRS or not 1 <= args.steps <= MAX_STEPS:
        raise UsageError(f"expected --pairs in [1, {MAX_PAIRS}] and --steps in [1, {MAX_STEPS}], "
                         f"got {args.pairs} and {args.steps}")
    cert = _read_certificate(args.certificate)
    base = os.path.dirname(os.path.abspath(args.certificate))
    try:
        result = certify.check_certificate(cert, game=args.game, allow_code=args.trust_recorded_code, base=base,
                                           announce=print)
    except (TypeError, ValueError, KeyError, OverflowError, RecursionError) as err:
        raise UsageError(f"cannot verify {args.certificate}: {err}") from None
    if not result.consistent:
        raise UsageError(f"certificate {args.certificate} does not follow from its game: {result.message}")
    print(f"certificate {args.certificate}: recomputed and consistent ({cert.status}).")
    if cert.certified and cert.settings.geometry == "euclidean":
        try:
            report = certify.verify(cert, result.game, n_pairs=args.pairs, n_steps=args.steps)
        except ValueError as err:
            if "memory budget" not in str(err):
                raise UsageError(f"cannot simulate {args.certificate}: {err}") from None
            # the trajectories would not fit: say so, keep the recomputation's answer
            print(f"note: simulation skipped: {err}; lower --pairs or --steps", file=sys.stderr)
            return EXIT_OK
        print(f"simulated {report.n_pairs} trajectory pairs x {report.n_steps} Euler steps at h = {report.step:.6g}: "
              f"worst ratio {report.worst_ratio:.6f} <= certified {report.certified_factor:.6f}: "
              f"{'OK' if report.ok else 'VIOLATED'}")
        return EXIT_OK if report.ok else EXIT_REFUSED
    return EXIT_OK


def cmd_games(args) -> int:
    """``sgn games``: every registered game with its parameters; ``sgn games NAME``: one game."""
    if args.name:
        parameters = games.game_parameters(args.name) if args.name in games.game_names() else None
        game = _build_game(args.name, {})
        print(describe_game(game, parameters, ref=args.name))
        return EXIT_OK
    names = games.game_names()
    width = max(len(n) for n in names)
    for name in names:
        print(f"{name:{width}s}  {games.game_description(name)}")
        params = games.game_parameters(name)
        if params:
            print(f"{'':{width}s}    " + "  ".join(f"{k}={v!r}" for k, v in params.items()))
    print("\nsgn games NAME describes one game; sgn certify also takes FILE.py[:FACTORY], MODULE:FACTORY, "
          "FILE.toml and FILE.json (README: 'Your own game').")
    return EXIT_OK


def cmd_sweep(args) -> int:
    """``sgn sweep GAME --param KEY=START:STOP:COUNT``: 0 when some value is certified, 1 when none, 2 bad input."""
    with Outputs({"--out": args.out, "--plot": args.plot}) as outputs:
        key, values, params = split_sweep_params(args.param)
        _check_samples(args.samples, args.seed)
        with _as_usage_error(f"cannot sweep {args.game}"):
            family = game_family(args.game, key, params)
            first = family.build(values[0].item())
        outputs.check_inputs(family.files or _game_files(first))
        check_options(first, args)
        region = parse_region(args.region, first.dim)
        with run_bar(f"sweep {args.game}", enabled=_show_progress(args)) as bar:
            with _as_usage_error(f"cannot sweep {args.game}"):
                result = certify.sweep_parameter(args.game, key, values, params=params, n_samples=args.samples,
                                                 seed=args.seed, bounds=args.bounds, region=region,
                                                 progress=bar is not None)
            text = result.to_json()
            primary = jax.process_index() == 0  # in a multi-process run, one process reports and writes
            if primary and outputs.wants("--out"):
                outputs.stage_text("--out", text + "\n")
            if primary and outputs.wants("--plot"):
                outputs.stage("--plot", lambda path: plots.plot_sweep(result, path))
        if primary:
            outputs.commit()
    if primary:
        print(text if args.json else result.table())
        sys.stdout.flush()
        outputs.announce()
    return EXIT_OK if result.certified.any() else EXIT_REFUSED
