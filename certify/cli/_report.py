"""The CLI's text reports: a certificate (the Euclidean test beside SGN), its basin, a sweep's table."""

from __future__ import annotations

import math

import certify
from certify._basin import nash_check


def fmt(x, digits=6) -> str:
    """A number for a report: ``—`` for missing values.

    Examples:
      >>> fmt(0.29289321881345254), fmt(float("nan")), fmt(None)
      ('0.292893', '—', '—')
    """
    if x is None:
        return "—"
    if isinstance(x, float) and math.isnan(x):
        return "—"
    return f"{x:.{digits}g}"


def vector(w) -> str:
    """``(a, b, ...)`` with :func:`fmt` entries.

    Examples:
      >>> vector([1.0, 200.0])
      '(1, 200)'
    """
    return "(" + ", ".join(fmt(v) for v in w) + ")"


def _format_tabular(cert, lines) -> str:
    """Report for entropy-regularised games certified in the mirror (KL) or Fisher geometry."""
    step_name = "mirror-descent step" if cert.geometry == "mirror" else "NPG step"
    lines += [f"geometry  {cert.geometry} (SGN with per-player {'l1/KL' if cert.geometry == 'mirror' else 'Fisher'}"
              " norms, spec-sgn-math §7)",
              f"mu        {vector(cert.mu)}",
              "L         " + "; ".join(vector(row) for row in cert.coupling),
              f"weights   {vector(cert.weights)}",
              f"margin    {fmt(cert.margin)}  ->  {'certified' if cert.certified else 'not certified'}"]
    if cert.certified:
        lines.append(f"{step_name:24s}h < {fmt(cert.euler_step)} (recommended {fmt(cert.euler_best_step)})")
        if cert.band is not None:
            lines.append(f"timescale band          r = w2/w1 in ({fmt(cert.band[0])}, {fmt(cert.band[1])})")
        if cert.extra.get("lyapunov"):
            lines.append(f"Lyapunov function       {cert.extra['lyapunov']}")
        if cert.bounds_kind == "sampled":
            lines.append("note                    bounds sampled on the logit cube as in the paper (an estimate);"
                         " the metric-derivative term is reported under 'riemannian' in the JSON.")
    else:
        lines.append(f"reason                  {cert.reason}")
    return "\n".join(lines)


def format_report(cert) -> str:
    """Human report of a certificate: the Euclidean test beside SGN, then steps and the band.

    Examples:
      >>> import games
      >>> print(format_report(certify.certify(games.get_game("sgn-toy"))).splitlines()[0])
      game      sgn-toy (a=10.0, b=0.05, mu1=1.0, mu2=1.0)
    """
    g = cert.game
    params = ", ".join(f"{k}={v}" for k, v in g.get("params", {}).items() if not isinstance(v, list))
    lines = [f"game      {g['name']}" + (f" ({params})" if params else ""),
             f"players   {len(cert.mu)} with dims {tuple(g['dims'])}",
             f"bounds    {cert.bounds_kind}" + (f" over region lo={cert.region['lo']}, hi={cert.region['hi']}"
                                                  if cert.region else " (constant Jacobian: global)")]
    if cert.status == certify.Status.INVALID:
        lines.append(f"status    INVALID: {cert.reason}")
        return "\n".join(lines)
    if cert.geometry != "euclidean":
        return _format_tabular(cert, lines)
    lines.append(f"mu        {vector(cert.mu)}")
    lines.append("L         " + "; ".join(vector(row) for row in cert.coupling))
    euc_ok = cert.euclidean_margin > 0
    sgn_word = "certifies" if cert.certified else "not certified"
    if cert.is_estimate:
        sgn_word = "certifies (ESTIMATE: sampled bounds, not a guarantee)"
    lines += [
        "",
        f"{'':24s}{'Euclidean (w = 1)':>22s}    {'SGN (w ∝ ' + vector(cert.weights) + ')'}",
        f"{'margin alpha':24s}{fmt(cert.euclidean_margin):>22s}    {fmt(cert.margin)}",
        f"{'verdict':24s}{('passes' if euc_ok else 'fails'):>22s}    {sgn_word}",
        "",
    ]
    if cert.certified:
        lines.append(f"loop gain rho(D^-1 L)   {fmt(cert.gain)} < 1")
        lines.append(f"contraction rate        {fmt(cert.margin)} (flow, in the W-norm)")
        lines.append(f"beta (W-Lipschitz)      {fmt(cert.weighted_lipschitz)}")
        lines.append(f"Euler step              h < {cert.euler_step:.6f}  (best h* = {fmt(cert.euler_best_step)},"
                     f" factor {fmt(cert.euler_factor)} per step)")
        rk4 = (f"RK4 guideline           h <= {fmt(cert.rk4_step_guideline)}"
               "  (2.5/beta; exact only for metric-normal linear games")
        if not math.isnan(cert.rk4_guideline_factor):
            rk4 += f"; exact factor here {fmt(cert.rk4_guideline_factor)}"
        lines.append(rk4 + ")")
        lines.append(f"RK4 rigorous            h <= {fmt(cert.rk4_step)}")
        if cert.band is not None:
            lines.append(f"timescale band          r = w2/w1 in ({fmt(cert.band[0])}, {fmt(cert.band[1])})")
    else:
        lines.append(f"reason                  {cert.reason}")
        lines.append("note                    SGN is a sufficient test: a refusal is not evidence of divergence.")
    if cert.is_estimate:
        lines.append("warning                 bounds were SAMPLED: the certificate is an estimate;"
                     " use --bounds interval for a guarantee.")
    return "\n".join(lines)


def basin_text(cert, game) -> str:
    """Lines on the located solution, its residual, the invariant W-ball and the Nash check."""
    if not cert.certified or cert.geometry != "euclidean":
        check = nash_check(cert)
        return f"Nash check              {check.verdict} ({'sound' if check.sound else 'estimate'}): {check.note}"
    basin = certify.certified_basin(cert, game)
    lines = [f"solution                x* = {vector(basin.solution) if basin.solution is not None else '—'}"
             f"  (residual {fmt(basin.residual)}, after {basin.steps} certified Euler steps)",
             f"certified basin         W-ball of radius {fmt(basin.radius)} around x* (forward-invariant)"]
    lines.append(f"Nash check              {basin.nash_check} ({'sound' if basin.nash_sound else 'estimate'})")
    return "\n".join(lines)
