"""The CLI's subcommands: ``certify``, ``verify``, ``games``, ``sweep``; each returns an exit code."""

from __future__ import annotations

import contextlib
import sys

import certify
import games
from certify import plots
from certify.cli._args import UsageError, parse_params, parse_region, split_sweep_params
from certify.cli._report import basin_text, format_report

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


def _build_game(name, params):
    try:
        return games.get_game(name, **params)
    except (TypeError, ValueError) as err:
        raise UsageError(str(err)) from None


def _write(path, text):
    try:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as err:
        raise UsageError(f"cannot write {path}: {err.strerror}") from None


def _plot(fn, path, *args):
    try:
        fn(*args, path)
    except (OSError, ValueError) as err:
        raise UsageError(f"cannot write plot {path}: {getattr(err, 'strerror', None) or err}") from None


def _check_samples(samples):
    if samples is not None and not 1 <= samples <= MAX_SAMPLES:
        raise UsageError(f"expected --samples between 1 and {MAX_SAMPLES}, got {samples}")


def cmd_certify(args) -> int:
    """``sgn certify [GAME]``: 0 certified, 1 not certified, 2 bad input."""
    params = parse_params(args.param)
    game = _build_game(args.game, params)
    region = parse_region(args.region, game.dim)
    _check_samples(args.samples)
    if args.seed < 0:
        raise UsageError(f"expected --seed >= 0, got {args.seed}")
    if not args.json:
        print(f"certifying {game.name}: bounds={args.bounds}, weights={args.method} ...", file=sys.stderr)
    with _as_usage_error(f"cannot bound this game with --bounds {args.bounds}"):
        cert = certify.certify(game, region=region, bounds=args.bounds, weights=args.method,
                               n_samples=args.samples, seed=args.seed, progress=not args.json)
    text = cert.to_json()
    if args.out:
        _write(args.out, text + "\n")
    if args.json:
        print(text)
    else:
        print(format_report(cert))
        if args.basin:
            print(basin_text(cert, game))
    if args.plot:
        if len(cert.mu) == 2 and cert.status != certify.Status.INVALID:
            _plot(plots.plot_band, args.plot, cert)
        else:
            print("note: --plot draws the two-player band; skipped for this game", file=sys.stderr)
    if args.phase_plot:
        if game.dim == 2 and cert.certified:
            _plot(plots.plot_phase, args.phase_plot, cert, game)
        else:
            print("note: --phase-plot needs a certified 2-D game; skipped", file=sys.stderr)
    return EXIT_OK if cert.certified else EXIT_REFUSED


def cmd_verify(args) -> int:
    """``sgn verify CERT.json``: 0 consistent, 1 contraction violated, 2 bad or tampered file."""
    if not 1 <= args.pairs <= MAX_PAIRS or not 1 <= args.steps <= MAX_STEPS:
        raise UsageError(f"expected --pairs in [1, {MAX_PAIRS}] and --steps in [1, {MAX_STEPS}], "
                         f"got {args.pairs} and {args.steps}")
    try:
        with open(args.certificate, encoding="utf-8") as fh:
            text = fh.read()
    except (OSError, UnicodeDecodeError) as err:
        detail = getattr(err, "strerror", None) or err
        raise UsageError(f"cannot read certificate {args.certificate}: {detail}") from None
    try:
        cert = certify.Certificate.from_json(text)
        result = certify.check_certificate(cert)
    except (TypeError, ValueError, KeyError) as err:
        raise UsageError(f"invalid certificate {args.certificate}: {err}") from None
    if not result.consistent:
        raise UsageError(f"certificate {args.certificate} does not follow from its game: {result.message}")
    print(f"certificate {args.certificate}: recomputed and consistent ({cert.status}).")
    if cert.certified and cert.geometry == "euclidean":
        report = certify.verify(cert, result.game, n_pairs=args.pairs, n_steps=args.steps)
        print(f"simulated {report.n_pairs} trajectory pairs x {report.n_steps} Euler steps at h = {report.step:.6g}: "
              f"worst ratio {report.worst_ratio:.6f} <= certified {report.certified_factor:.6f}: "
              f"{'OK' if report.ok else 'VIOLATED'}")
        return EXIT_OK if report.ok else EXIT_REFUSED
    return EXIT_OK


def cmd_games(args) -> int:
    """``sgn games``: one line per registered game."""
    names = games.game_names()
    width = max(len(n) for n in names)
    for name in names:
        print(f"{name:{width}s}  {games.game_description(name)}")
    return EXIT_OK


def cmd_sweep(args) -> int:
    """``sgn sweep GAME --param KEY=START:STOP:COUNT``: 0 when some value is certified, else 1."""
    key, values, params = split_sweep_params(args.param)
    _check_samples(args.samples)
    with _as_usage_error(f"cannot sweep {args.game}"):
        result = certify.sweep_parameter(args.game, key, values, params=params,
                                         n_samples=1024 if args.samples is None else args.samples, seed=args.seed)
    text = result.to_json()
    if args.out:
        _write(args.out, text + "\n")
    print(text if args.json else result.table())
    if args.plot:
        _plot(plots.plot_sweep, args.plot, result)
        print(f"plot written to {args.plot}", file=sys.stderr)
    return EXIT_OK if result.certified.any() else EXIT_REFUSED
