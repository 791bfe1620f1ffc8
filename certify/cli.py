"""Command line: ``sgn certify [GAME]``, ``sgn verify CERT.json``, ``sgn games``.

Exit codes: 0 certified (or verified), 1 not certified / invalid game output (or verification
failed), 2 bad input. Bad input prints one line ``sgn: error: ...`` on stderr, never a traceback;
a missing optional dependency and an unexpected internal failure are reported the same way
(set ``SGN_DEBUG=1`` to see the traceback of an internal failure).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys

import numpy as np

EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2
MAX_SAMPLES = 1_000_000
MAX_PAIRS, MAX_STEPS = 10_000, 100_000


class UsageError(Exception):
    """A user mistake: printed as one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


def _parse_value(text: str):
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    raise UsageError(f"expected a number in --param, got {text!r}")


def parse_params(items) -> dict:
    """``["lam=0.5", "seed=3"]`` -> ``{"lam": 0.5, "seed": 3}``."""
    params = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise UsageError(f"expected --param KEY=VALUE, got {item!r}")
        params[key.strip()] = _parse_value(value.strip())
    return params


def _floats(text: str, what: str):
    try:
        vals = [float(v) for v in text.split(",")]
    except ValueError:
        raise UsageError(f"expected comma-separated numbers for the region {what}, got {text!r}") from None
    if not all(math.isfinite(v) for v in vals):
        raise UsageError(f"expected finite region {what}, got {text!r}")
    return vals


def parse_region(text: str | None, dim: int):
    """Region from ``"lo:hi"`` (scalars broadcast), ``"a,b:c,d"`` or JSON ``{"lo":…, "hi":…}``."""
    from games import Region  # noqa: PLC0415

    if text is None:
        return None
    text = text.strip()
    if text.startswith("{"):
        try:
            d = json.loads(text)
        except json.JSONDecodeError:
            raise UsageError(f"expected a JSON region like {{\"lo\": [..], \"hi\": [..]}}, got {text!r}") from None
        lo, hi = d.get("lo") if isinstance(d, dict) else None, d.get("hi") if isinstance(d, dict) else None
        if lo is None or hi is None:
            raise UsageError(f"expected a JSON region with 'lo' and 'hi', got {text!r}")
    else:
        lo_s, sep, hi_s = text.partition(":")
        if not sep:
            raise UsageError(f"expected --region LO:HI (e.g. -1:1 or -1,-2:1,2), got {text!r}")
        lo, hi = _floats(lo_s, "lower bounds"), _floats(hi_s, "upper bounds")
    lo = np.broadcast_to(np.asarray(lo, float), (dim,)) if np.size(lo) == 1 else np.asarray(lo, float)
    hi = np.broadcast_to(np.asarray(hi, float), (dim,)) if np.size(hi) == 1 else np.asarray(hi, float)
    if lo.shape != (dim,) or hi.shape != (dim,):
        raise UsageError(f"expected region bounds of length 1 or {dim}, got {lo.size} and {hi.size}")
    try:
        return Region(lo, hi)
    except (TypeError, ValueError) as err:
        raise UsageError(str(err)) from None


def _fmt(x, digits=6) -> str:
    if x is None:
        return "—"
    if isinstance(x, float) and math.isnan(x):
        return "—"
    return f"{x:.{digits}g}"


def _weights_text(w) -> str:
    return "(" + ", ".join(_fmt(v) for v in w) + ")"


def _format_tabular(cert, lines) -> str:
    """Report for entropy-regularised games certified in the mirror (KL) or Fisher geometry."""
    step_name = "mirror-descent step" if cert.geometry == "mirror" else "NPG step"
    lines += [f"geometry  {cert.geometry} (SGN with per-player {'l1/KL' if cert.geometry == 'mirror' else 'Fisher'}"
              " norms, spec-sgn-math §7)",
              f"mu        {_weights_text(cert.mu)}",
              "L         " + "; ".join(_weights_text(row) for row in cert.coupling),
              f"weights   {_weights_text(cert.weights)}",
              f"margin    {_fmt(cert.margin)}  ->  {'certified' if cert.certified else 'not certified'}"]
    if cert.certified:
        lines.append(f"{step_name:24s}h < {_fmt(cert.euler_step)} (recommended {_fmt(cert.euler_best_step)})")
        if cert.band is not None:
            lines.append(f"timescale band          r = w2/w1 in ({_fmt(cert.band[0])}, {_fmt(cert.band[1])})")
        if cert.extra.get("lyapunov"):
            lines.append(f"Lyapunov function       {cert.extra['lyapunov']}")
        if cert.bounds_kind == "sampled":
            lines.append("note                    bounds sampled on the logit cube as in the paper (an estimate);"
                         " the metric-derivative term is reported under 'riemannian' in the JSON.")
    else:
        lines.append(f"reason                  {cert.reason}")
    return "\n".join(lines)


def format_report(cert) -> str:
    """Human report: the Euclidean test beside SGN, then steps and the band."""
    g = cert.game
    params = ", ".join(f"{k}={v}" for k, v in g.get("params", {}).items() if not isinstance(v, list))
    lines = [f"game      {g['name']}" + (f" ({params})" if params else ""),
             f"players   {len(cert.mu)} with dims {tuple(g['dims'])}",
             f"bounds    {cert.bounds_kind}" + (f" over region lo={cert.region['lo']}, hi={cert.region['hi']}"
                                                  if cert.region else " (constant Jacobian: global)")]
    if cert.status == "invalid":
        lines.append(f"status    INVALID: {cert.reason}")
        return "\n".join(lines)
    if cert.geometry != "euclidean":
        return _format_tabular(cert, lines)
    lines.append(f"mu        {_weights_text(cert.mu)}")
    lines.append("L         " + "; ".join(_weights_text(row) for row in cert.coupling))
    euc_ok = cert.euclidean_margin > 0
    sgn_word = "certifies" if cert.certified else "not certified"
    if cert.is_estimate:
        sgn_word = "certifies (ESTIMATE: sampled bounds, not a guarantee)"
    lines += [
        "",
        f"{'':24s}{'Euclidean (w = 1)':>22s}    {'SGN (w ∝ ' + _weights_text(cert.weights) + ')'}",
        f"{'margin alpha':24s}{_fmt(cert.euclidean_margin):>22s}    {_fmt(cert.margin)}",
        f"{'verdict':24s}{('passes' if euc_ok else 'fails'):>22s}    {sgn_word}",
        "",
    ]
    if cert.certified:
        lines.append(f"loop gain rho(D^-1 L)   {_fmt(cert.gain)} < 1")
        lines.append(f"contraction rate        {_fmt(cert.margin)} (flow, in the W-norm)")
        lines.append(f"beta (W-Lipschitz)      {_fmt(cert.weighted_lipschitz)}")
        lines.append(f"Euler step              h < {cert.euler_step:.6f}  (best h* = {_fmt(cert.euler_best_step)},"
                     f" factor {_fmt(cert.euler_factor)} per step)")
        rk4 = (f"RK4 guideline           h <= {_fmt(cert.rk4_step_guideline)}"
               "  (2.5/beta; exact only for metric-normal linear games")
        if not math.isnan(cert.rk4_guideline_factor):
            rk4 += f"; exact factor here {_fmt(cert.rk4_guideline_factor)}"
        lines.append(rk4 + ")")
        lines.append(f"RK4 rigorous            h <= {_fmt(cert.rk4_step)}")
        if cert.band is not None:
            lines.append(f"timescale band          r = w2/w1 in ({_fmt(cert.band[0])}, {_fmt(cert.band[1])})")
    else:
        lines.append(f"reason                  {cert.reason}")
        lines.append("note                    SGN is a sufficient test: a refusal is not evidence of divergence.")
    if cert.is_estimate:
        lines.append("warning                 bounds were SAMPLED: the certificate is an estimate;"
                     " use --bounds interval for a guarantee.")
    return "\n".join(lines)


def _build_game(name, params):
    import games  # noqa: PLC0415

    try:
        return games.get_game(name, **params)
    except (TypeError, ValueError) as err:
        raise UsageError(str(err)) from None


def _basin_text(cert, game) -> str:
    """Lines on the located solution, its residual, the invariant W-ball and the Nash check."""
    import certify  # noqa: PLC0415

    if not cert.certified or cert.geometry != "euclidean":
        check, sound, why = certify.nash_check(cert)
        return f"Nash check              {check} ({'sound' if sound else 'estimate'}): {why}"
    basin = certify.certified_basin(cert, game)
    lines = [f"solution                x* = {_weights_text(basin.solution) if basin.solution is not None else '—'}"
             f"  (residual {_fmt(basin.residual)}, after {basin.steps} certified Euler steps)",
             f"certified basin         W-ball of radius {_fmt(basin.radius)} around x* (forward-invariant)"]
    lines.append(f"Nash check              {basin.nash_check} ({'sound' if basin.nash_sound else 'estimate'})")
    return "\n".join(lines)


def _cmd_certify(args) -> int:
    import certify  # noqa: PLC0415

    params = parse_params(args.param)
    game = _build_game(args.game, params)
    region = parse_region(args.region, game.dim)
    if not 1 <= args.samples <= MAX_SAMPLES:
        raise UsageError(f"expected --samples between 1 and {MAX_SAMPLES}, got {args.samples}")
    if args.seed < 0:
        raise UsageError(f"expected --seed >= 0, got {args.seed}")
    if not args.json:
        print(f"certifying {game.name}: bounds={args.bounds}, weights={args.method} ...", file=sys.stderr)
    try:
        cert = certify.certify(game, region=region, bounds=args.bounds, weights=args.method,
                               n_samples=args.samples, seed=args.seed,
                               progress=not args.json)
    except NotImplementedError as err:
        raise UsageError(f"cannot bound this game with --bounds {args.bounds}: {err}") from None
    except (TypeError, ValueError) as err:
        raise UsageError(str(err)) from None
    text = cert.to_json()
    if args.out:
        _write(args.out, text + "\n")
    if args.json:
        print(text)
    else:
        print(format_report(cert))
        if args.basin:
            print(_basin_text(cert, game))
    if args.plot:
        if len(cert.mu) == 2 and cert.status != "invalid":
            _plot(certify.plot_band, args.plot, cert)
        else:
            print("note: --plot draws the two-player band; skipped for this game", file=sys.stderr)
    if args.phase_plot:
        if game.dim == 2 and cert.certified:
            _plot(certify.plot_phase, args.phase_plot, cert, game)
        else:
            print("note: --phase-plot needs a certified 2-D game; skipped", file=sys.stderr)
    return EXIT_OK if cert.certified else EXIT_REFUSED


def _plot(fn, path, *args):
    try:
        fn(*args, path)
    except (OSError, ValueError) as err:
        raise UsageError(f"cannot write plot {path}: {getattr(err, 'strerror', None) or err}") from None


def _write(path, text):
    try:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as err:
        raise UsageError(f"cannot write {path}: {err.strerror}") from None


def _cmd_verify(args) -> int:
    import certify  # noqa: PLC0415

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


def _cmd_games(args) -> int:
    import games  # noqa: PLC0415

    names = games.game_names()
    width = max(len(n) for n in names)
    for name in names:
        print(f"{name:{width}s}  {games.game_description(name)}")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and docs)."""
    p = _Parser(prog="sgn", description="Small-Gain Nash certificates for differentiable games.")
    sub = p.add_subparsers(dest="command", parser_class=_Parser)
    c = sub.add_parser("certify", help="certify a registered game (default sgn-toy)")
    c.add_argument("game", nargs="?", default="sgn-toy")
    c.add_argument("--param", action="append", metavar="KEY=VALUE", help="game parameter (repeatable)")
    c.add_argument("--region", help="box LO:HI, e.g. -1:1 or -1,-2:1,2, or JSON {\"lo\":[..],\"hi\":[..]}")
    c.add_argument("--method", default="perron", choices=["perron", "sdp", "lp"], help="block-weight optimiser")
    c.add_argument("--bounds", default="auto",
                   choices=["auto", "exact", "sampled", "interval", "padded", "refine", "matrix_free"])
    c.add_argument("--samples", type=int, default=1024, help="sample points for sampled bounds")
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--json", action="store_true", help="print the certificate as JSON")
    c.add_argument("--out", help="write the JSON certificate to FILE")
    c.add_argument("--plot", help="write the timescale-band plot (two players) to FILE")
    c.add_argument("--phase-plot", help="write a phase portrait (2-D games) to FILE")
    c.add_argument("--basin", action="store_true",
                   help="locate the solution, report the invariant W-ball and the Nash check")
    v = sub.add_parser("verify", help="recompute a certificate file and simulate it")
    v.add_argument("certificate")
    v.add_argument("--pairs", type=int, default=32)
    v.add_argument("--steps", type=int, default=100)
    sub.add_parser("games", help="list registered games")
    try:
        from certify._sweep_cli import add_sweep_parser  # noqa: PLC0415
    except ImportError:
        pass
    else:
        add_sweep_parser(sub)
    return p


def main(argv=None) -> int:
    """Entry point of the ``sgn`` console script."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            raise UsageError("expected a command: certify, verify or games (see sgn --help)")
        handlers = {"certify": _cmd_certify, "verify": _cmd_verify, "games": _cmd_games}
        handler = getattr(args, "handler", None) or handlers[args.command]
        return handler(args)
    except UsageError as err:
        return _fail(str(err))
    except SystemExit as err:  # argparse --help / --version
        return err.code if isinstance(err.code, int) else EXIT_USAGE
    except ModuleNotFoundError as err:
        return _fail(f"optional dependency {err.name!r} is not installed (e.g. pip install 'sgn[openspiel]' "
                     "for pyspiel)")
    except KeyboardInterrupt:
        print("sgn: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # noqa: BLE001  (last resort: one line, never a traceback)
        if os.environ.get("SGN_DEBUG"):
            raise
        return _fail(f"internal error ({type(err).__name__}: {err}); rerun with SGN_DEBUG=1 and report it")


def _fail(message: str) -> int:
    """Prints ``sgn: error: MESSAGE`` as exactly one line on stderr and returns exit code 2."""
    line = " ".join(str(message).split())
    print(f"sgn: error: {line}", file=sys.stderr)
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
