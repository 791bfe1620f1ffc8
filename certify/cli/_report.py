"""The CLI's text reports: a certificate (the Euclidean test beside SGN), its basin, a game's description.

Games with more than ``SUMMARY_PLAYERS`` players are summarised (sizes, extremes, the strongest
couplings, the weight range) unless ``full`` is asked for; the JSON always holds everything.
"""

from __future__ import annotations

import math

import numpy as np

import certify

SUMMARY_PLAYERS = 8
"""Above this many players a report summarises the vectors and the coupling matrix."""
STRONGEST = 5
"""Couplings listed in a summary."""
ESTIMATE = "ESTIMATE: sampled bounds, not a guarantee"


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


def span(values) -> str:
    """``min .. max`` of a vector with the (1-based) players attaining them.

    Examples:
      >>> span([1.5, 1.0, 3.0])
      '1 (player 2) .. 3 (player 3)'
    """
    v = np.asarray(values, dtype=float)
    if not np.any(np.isfinite(v)):
        return "—"
    lo, hi = int(np.nanargmin(v)), int(np.nanargmax(v))
    return f"{fmt(v[lo])} (player {lo + 1}) .. {fmt(v[hi])} (player {hi + 1})"


def _offdiagonal(coupling):
    """``(n, rows, cols, values)`` of the stored off-diagonal nonzeros (NaN counts), row-major.

    ``coupling`` is a nested list / array, or a ``scipy.sparse`` matrix (many players).
    """
    if hasattr(coupling, "tocoo"):
        coo = coupling.tocoo()
        rows, cols, values = coo.row, coo.col, np.asarray(coo.data, dtype=float)
        n = coupling.shape[0]
    else:
        c = np.array(coupling, dtype=float)
        n = c.shape[0]
        rows, cols = np.indices(c.shape).reshape(2, -1)
        values = c.ravel()
    keep = (rows != cols) & (values != 0)
    rows, cols, values = rows[keep], cols[keep], values[keep]
    order = np.lexsort((cols, rows))
    return n, rows[order], cols[order], values[order]


def coupling_summary(coupling, *, strongest: int = STRONGEST) -> str:
    """Size, sparsity and the strongest entries of a coupling matrix ``L`` (dense or ``scipy.sparse``).

    Examples:
      >>> coupling_summary([[0, 0.5, 0], [0.2, 0, 0], [0, 0.9, 0]], strongest=2)
      '3 x 3, 3 of 6 off-diagonal nonzero; strongest L_3,2 = 0.9, L_1,2 = 0.5'
    """
    n, rows, cols, values = _offdiagonal(coupling)
    order = np.argsort(-np.nan_to_num(values, nan=-np.inf), kind="stable")[:strongest]
    top = ", ".join(f"L_{rows[k] + 1},{cols[k] + 1} = {fmt(values[k])}" for k in order)
    return f"{n} x {n}, {len(values)} of {n * (n - 1)} off-diagonal nonzero" + (f"; strongest {top}" if top else "")


def _coupling_entries(coupling) -> str:
    """Every off-diagonal nonzero ``L_i,j = v`` (the full report of a sparse coupling matrix)."""
    _, rows, cols, values = _offdiagonal(coupling)
    return "; ".join(f"L_{i + 1},{j + 1} = {fmt(v)}" for i, j, v in zip(rows, cols, values, strict=True)) or "all zero"


def _dims(dims) -> str:
    if len(dims) <= SUMMARY_PLAYERS:
        return f"with dims {tuple(dims)}"
    sizes = sorted(set(dims))
    each = f"{sizes[0]} each" if len(sizes) == 1 else f"{sizes[0]} .. {sizes[-1]}"
    return f"with dims {each} (joint dimension {sum(dims)})"


def _blocks(cert, full: bool) -> list[str]:
    """The ``mu`` and ``L`` lines: in full, or summarised for many players."""
    coupling = cert.coupling_matrix()
    if full or len(cert.bounds.mu) <= SUMMARY_PLAYERS:
        table = (_coupling_entries(coupling) if hasattr(coupling, "tocoo")
                 else "; ".join(vector(row) for row in coupling))
        return [f"mu        {vector(cert.bounds.mu)}", "L         " + table]
    return [f"mu        {span(cert.bounds.mu)}", f"L         {coupling_summary(coupling)}",
            "          (summary of many players: --full prints every entry; --json holds them all)"]


def _weights(cert, full: bool) -> str:
    w = cert.weights.values
    return vector(w) if full or len(w) <= SUMMARY_PLAYERS else span(w)


def _band(cert) -> list[str]:
    """The timescale-band line (two players whose small-gain test passed), else none."""
    band = cert.weights.band
    return [] if band is None else [f"timescale band          r = w2/w1 in ({fmt(band[0])}, {fmt(band[1])})"]


def _header(cert) -> list[str]:
    g = cert.game
    params = ", ".join(f"{k}={v}" for k, v in g.get("params", {}).items() if not isinstance(v, list | dict))
    source = g.get("source")
    origin = ""
    if source:
        origin = f"  [from {source.get('path') or source.get('module')}"
        origin += f":{source['factory']}]" if source.get("factory") else "]"
    region = cert.region
    if region and len(region["lo"]) > SUMMARY_PLAYERS:
        where = f" over a box in R^{len(region['lo'])}, lo in [{fmt(min(region['lo']))}, {fmt(max(region['lo']))}]," \
                f" hi in [{fmt(min(region['hi']))}, {fmt(max(region['hi']))}]"
    elif region:
        where = f" over region lo={vector(region['lo'])}, hi={vector(region['hi'])}"
    else:
        where = " (constant Jacobian: global)"
    return [f"game      {g['name']}" + (f" ({params})" if params else "") + origin,
            f"players   {len(cert.bounds.mu)} {_dims(g['dims'])}",
            f"bounds    {cert.bounds.kind}" + where]


def _format_tabular(cert, lines, full) -> str:
    """Report for entropy-regularised games certified in the mirror (KL) or Fisher geometry."""
    geometry = cert.settings.geometry
    step_name = "mirror-descent step" if geometry == "mirror" else "NPG step"
    verdict = "certified" if cert.certified else "not certified"
    if cert.is_estimate:
        verdict += f" ({ESTIMATE})"
    lines += [f"geometry  {geometry} (SGN with per-player {'l1/KL' if geometry == 'mirror' else 'Fisher'}"
              " norms, spec-sgn-math §7)", *_blocks(cert, full),
              f"weights   {_weights(cert, full)}",
              f"margin    {fmt(cert.margin)}  ->  {verdict}"]
    if cert.certified:
        lines.append(f"{step_name:24s}h < {fmt(cert.steps.euler_step)} (recommended {fmt(cert.steps.euler_best_step)})")
        lines += _band(cert)
        if cert.extra.get("lyapunov"):
            lines.append(f"Lyapunov function       {cert.extra['lyapunov']}")
        if cert.bounds.kind == "sampled":
            lines.append("note                    bounds sampled on the logit cube as in the paper (an estimate);"
                         " the metric-derivative term is reported under 'riemannian' in the JSON.")
    else:
        lines.append(f"reason                  {cert.reason}")
    return "\n".join(lines)


def format_report(cert, *, full: bool = False) -> str:
    """Human report of a certificate: the Euclidean test beside SGN, then steps and the band.

    Args:
      cert: a :class:`certify.Certificate`.
      full: print every entry of ``mu``, ``L`` and the weights even for many players.

    Examples:
      >>> import games
      >>> print(format_report(certify.certify(games.get_game("sgn-toy"))).splitlines()[0])
      game      sgn-toy (a=10.0, b=0.05, mu1=1.0, mu2=1.0)
    """
    lines = _header(cert)
    if cert.status == certify.Status.INVALID:
        lines.append(f"status    INVALID: {cert.reason}")
        return "\n".join(lines)
    if cert.settings.geometry != "euclidean":
        return _format_tabular(cert, lines, full)
    lines += _blocks(cert, full)
    euc_ok = cert.bounds.euclidean_margin > 0
    sgn_word = "certifies" if cert.certified else "not certified"
    if cert.is_estimate:
        sgn_word = f"certifies ({ESTIMATE})"
    many = len(cert.weights.values) > SUMMARY_PLAYERS and not full
    w = cert.weights.values
    sgn_head = "SGN (w from " + span(w) + ")" if many else "SGN (w ∝ " + vector(w) + ")"
    lines += [
        "",
        f"{'':24s}{'Euclidean (w = 1)':>22s}    {sgn_head}",
        f"{'margin alpha':24s}{fmt(cert.bounds.euclidean_margin):>22s}    {fmt(cert.margin)}",
        f"{'verdict':24s}{('passes' if euc_ok else 'fails'):>22s}    {sgn_word}",
        "",
    ]
    if cert.certified:
        proved_by = cert.proved_by
        if proved_by == "small-gain":
            lines.append(f"loop gain rho(D^-1 L)   {fmt(cert.bounds.gain)} < 1")
        else:  # the comparison matrix refused; lambda_min(sym(W^1/2 DF W^-1/2)) > 0 proved it
            lines.append(f"proved by               the {proved_by} monotonicity test: lambda_min(sym(W^1/2 DF "
                         f"W^-1/2)) >= {fmt(cert.margin)} (small-gain test: loop gain {fmt(cert.bounds.gain)})")
        lines.append(f"contraction rate        {fmt(cert.margin)} (flow, in the W-norm)")
        lines.append(f"beta (W-Lipschitz)      {fmt(cert.bounds.weighted_lipschitz)}")
        steps = cert.steps
        lines.append(f"Euler step              h < {steps.euler_step:.6f}  (best h* = {fmt(steps.euler_best_step)},"
                     f" factor {fmt(steps.euler_factor)} per step)")
        rk4 = (f"RK4 guideline           h <= {fmt(steps.rk4_step_guideline)}"
               "  (2.5/beta; exact only for metric-normal linear games")
        if not math.isnan(steps.rk4_guideline_factor):
            rk4 += f"; exact factor here {fmt(steps.rk4_guideline_factor)}"
        lines.append(rk4 + ")")
        lines.append(f"RK4 rigorous            h <= {fmt(steps.rk4_step)}")
        if "rounding_radius" in (cert.extra or {}):  # issue 19: F as JAX computes it (certify._rounding)
            lines.append(f"rounding                |F as computed - F| <= {fmt(cert.extra['rounding_error'])}: Euler"
                         f" iterates reach a ball of radius {fmt(cert.extra['rounding_radius'])} around the solution")
        lines += _band(cert)
    else:
        lines.append(f"reason                  {cert.reason}")
        lines.append("note                    SGN is a sufficient test: a refusal is not evidence of divergence.")
    refine = (cert.extra or {}).get("refine")
    if refine:
        lines.append(refine_text(refine))
    if cert.is_estimate:
        lines.append("warning                 bounds were SAMPLED: the certificate is an estimate;"
                     " use --bounds interval for a guarantee.")
    return "\n".join(lines)


_STOPPED = {
    "decided": "the small-gain test certified with these bounds",
    "max_rounds": "the round budget was spent before the small-gain test decided (raise it with --max-rounds)",
    "max_boxes": "the box budget was spent before the small-gain test decided (raise it with --max-boxes)",
    "unsplittable": "no box could be bisected further",
}


def refine_text(refine: dict) -> str:
    """The ``refinement`` line of a ``--bounds refine`` report: rounds, boxes, budget, why it stopped.

    Examples:
      >>> print(refine_text({"rounds": 0, "boxes": 1, "evaluations": 1, "max_rounds": 16, "max_boxes": 4096,
      ...                    "stopped": "decided", "budget_spent": False}))  # doctest: +NORMALIZE_WHITESPACE
      refinement              0 of 16 rounds, 1 of 4096 boxes (1 evaluated);
      stopped: the small-gain test certified with these bounds
    """
    why = _STOPPED.get(refine.get("stopped"), str(refine.get("stopped")))
    if refine.get("tightened_rounds"):
        why += f", then {refine['tightened_rounds']} more round(s) tightened its margin"
    return (f"{'refinement':24s}{refine['rounds']} of {refine['max_rounds']} rounds, {refine['boxes']} of "
            f"{refine['max_boxes']} boxes ({refine['evaluations']} evaluated); stopped: {why}")


def _point(x, full: bool) -> str:
    if full or len(x) <= SUMMARY_PLAYERS:
        return vector(x)
    return "(" + ", ".join(fmt(v) for v in x[:4]) + f", ...: {len(x)} coordinates, all in --json)"


def basin_text(basin, *, full: bool = False) -> str:
    """Lines on the located solution, its residual, the invariant W-ball and the Nash check of a :class:`certify.Basin`.

    Nothing is claimed invariant, and no Nash check is reported as passed, when the located point
    lies outside the region.

    Examples:
      >>> import games
      >>> g = games.get_game("sgn-toy")
      >>> print(basin_text(certify.certified_basin(certify.certify(g), g)).splitlines()[1])
      certified basin         W-ball of radius inf around x* (forward-invariant)
    """
    check = f"Nash check              {basin.nash_check} ({'sound' if basin.nash_sound else 'estimate'})"
    if not basin.certified:
        return f"{check}: {basin.notes[-1] if basin.notes else ''}".rstrip(": ")
    where = f"  (residual {fmt(basin.residual)}, after {basin.steps} certified Euler steps)"
    if not basin.in_region:
        return "\n".join([f"solution                x = {_point(basin.solution, full)}{where}",
                          "certified basin         none: the located point lies OUTSIDE the region, where the "
                          "bounds do not hold; no ball is claimed invariant",
                          "Nash check              not applicable (the point is outside the region)"])
    return "\n".join([f"solution                x* = {_point(basin.solution, full)}{where}",
                      f"certified basin         W-ball of radius {fmt(basin.radius)} around x* (forward-invariant)",
                      check])


def describe_game(game, parameters: dict | None = None, *, ref: str | None = None) -> str:
    """A game's description for ``sgn games NAME``: what it is, its parameters and how it is certified.

    Examples:
      >>> import games
      >>> print(describe_game(games.get_game("rotation"), games.game_parameters("rotation")))
      ... # doctest: +NORMALIZE_WHITESPACE
      rotation — Curvature plus rotation: SGN's comparison matrix refuses; the direct Euclidean test certifies.
      parameters  mu = 1.0   c = 2.0
      players     2 with dims (1, 1); joint dimension 2
      geometry    euclidean; affine (exact, global bounds)
      try         sgn certify rotation --param mu=1.0
    """
    lines = [f"{game.name} — {game.description or '(no description)'}"]
    if parameters:
        lines.append("parameters  " + "   ".join(f"{k} = {v!r}" if v is not None else k
                                               for k, v in parameters.items()))
    dims = _dims(game.dims)
    joint = "" if "joint dimension" in dims else f"; joint dimension {game.dim}"
    lines.append(f"players     {game.n_players} {dims}{joint}")
    if game.geometry != "euclidean":
        how = "mirror (KL): exact global bounds" if game.geometry == "mirror" else "Fisher: sampled logit-box bounds"
    elif game.is_affine:
        how = "affine (exact, global bounds)"
    else:
        region = game.default_region()
        how = "nonlinear (sampled bounds by default; --bounds interval for sound ones); region " + (
            f"lo={region.lo.tolist()}, hi={region.hi.tolist()}" if region is not None and game.dim <= SUMMARY_PLAYERS
            else "none: pass --region LO:HI" if region is None else f"a box in R^{game.dim}")
    lines.append(f"geometry    {game.geometry}; {how}" if game.geometry == "euclidean" else f"geometry    {how}")
    if game.source:
        lines.append(f"source      {game.source.get('path') or game.source.get('module')}")
    first = next(iter((parameters or {}).items()), None)
    lines.append(f"try         sgn certify {ref or game.name}" + (f" --param {first[0]}={first[1]!r}" if first else ""))
    return "\n".join(lines)
