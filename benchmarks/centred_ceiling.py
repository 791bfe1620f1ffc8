r"""How much of the sampled margin a centred (mean-value) form could prove at best (issue 21).

A centred form bounds the Jacobian over the box :math:`X = c \pm r` by

.. math::

   DF(x) = DF(c) + \sum_k (x - c)_k\, H_k(c) + R(x), \qquad H_k = \partial_k DF,

and any test of the certificate (``lambda_min`` of a symmetrised block ``S``) then loses, by Weyl's
inequality, at most :math:`\sup_{\delta \in [-r, r]} \lVert \sum_k \delta_k A_k \rVert_2 + \sup \lVert R \rVert_2`
against its value at the centre (:math:`A_k` the symmetrised block of :math:`H_k(c)`). This script
measures, in float64 and **without soundness** (it is a ceiling analysis, not a bound), for each test
(``mu_i`` of every player and the direct test at ``w = 1``):

* ``centre``: :math:`\lambda_{\min}(S(c))`; ``sampled``: the minimum over the centre, random points and
  vertices of the box (what ``bounds="sampled"`` sees);
* the first-order term, four ways: ``sum`` :math:`=\sum_k r_k \lVert A_k\rVert_2` (one direction at a
  time, what a per-coordinate centred form pays), ``ball`` :math:`=\lVert r\rVert_2\,\lVert M\rVert_2`
  (:math:`M` the matrix of columns :math:`\mathrm{vec}\,A_k`: the box lies in the ball of radius
  :math:`\lVert r\rVert_2` and the spectral norm is at most the Frobenius norm), ``sdp``, the square
  root of the max-cut relaxation :math:`\max\{\operatorname{tr}(G X) : X \succeq 0,\ X_{kk} = 1\}` with
  :math:`G_{kl} = r_k r_l \langle A_k, A_l\rangle` (the squared Frobenius norm of the pencil is the convex
  quadratic :math:`s^\top G s` of the signs :math:`s = \delta / r`, largest at a vertex, and every vertex
  is feasible for the relaxation; solved by cvxpy), and ``vertex``, the
  largest :math:`\lVert\sum_k \pm r_k A_k\rVert_2` over sampled vertices (a *lower* estimate of the
  true supremum: no Weyl-type bound on this term can be smaller);
* ``rem``: the largest sampled :math:`\lVert R\rVert_2` (again a lower estimate);
* ``ceiling``: :math:`\lambda_{\min}(S(c)) - \min(\mathrm{sum}, \mathrm{ball}, \mathrm{sdp}) - \mathrm{rem}`, the best a
  centred form with the exact first-order term, these norms and a perfect remainder can prove, and
  ``weyl``: the same with ``vertex``; each also as a ratio to ``sampled``.

A ratio below 0.8 in ``weyl`` means no centred form of this kind reaches issue 21's target on that
test: the loss is the supremum of a matrix pencil over a high-dimensional box, where the sampled
minimum moves far less (the pencil's directions nearly cancel along the lowest eigenvector).

Run: .venv/bin/python benchmarks/centred_ceiling.py [--games neural-duel-w8,mlp-10] [--points 200]
"""

from __future__ import annotations

import argparse
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
GAMES = ("tanh-sin-1.5", "mlp-10", "mlp-93", "neural-duel-w8", "neural-duel-w16", "neural-duel-w8-d2")


def _game(name):
    import sound_tightness

    import games

    if name.startswith("mlp-"):
        return sound_tightness._game((name, {}))
    if name == "tanh-sin-1.5":
        return games.get_game("tanh-sin", coupling=1.5)
    parts = name.split("-")  # neural-duel-w<width>[-d<depth>]
    width = int(parts[2][1:])
    depth = int(parts[3][1:]) if len(parts) > 3 else 1
    return games.get_game("neural-duel", width=width, depth=depth)


def _sym(a):
    return (a + a.T) / 2


def _maxcut_bound(G) -> float:
    """``max tr(G X)`` over ``X >= 0`` (PSD) with unit diagonal: at least ``s^T G s`` for every sign vector ``s``."""
    import cvxpy as cp

    X = cp.Variable(G.shape, PSD=True)
    problem = cp.Problem(cp.Maximize(cp.trace(G @ X)), [cp.diag(X) == 1])
    problem.solve()
    return float(problem.value)


def _ratio(value, sampled):
    return value / sampled if sampled > 0 else float("nan")


def analyse(game, n_points: int, seed: int = 0) -> list[dict]:
    """One row per test of ``game`` (see the module notes)."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    region = game.default_region() if callable(game.default_region) else game.default_region
    lo, hi = np.asarray(region.lo, np.float64), np.asarray(region.hi, np.float64)
    c, r = (lo + hi) / 2, (hi - lo) / 2
    d = c.size
    F = game.pseudo_gradient
    jac = jax.jit(jax.jacfwd(F))
    J = np.asarray(jac(jnp.asarray(c)))
    H = np.asarray(jax.jit(jax.jacfwd(jax.jacfwd(F)))(jnp.asarray(c)))  # H[a, b, k] = d_k J_ab
    rng = np.random.default_rng(seed)
    signs = rng.choice([-1.0, 1.0], size=(n_points, d))
    pts = np.concatenate([c[None], c + signs * r, rng.uniform(lo, hi, size=(n_points, d))])
    Js = np.asarray(jax.vmap(jac)(jnp.asarray(pts)))
    offs = np.cumsum((0,) + tuple(game.dims))
    tests = [(f"mu_{i + 1}", slice(offs[i], offs[i + 1])) for i in range(len(game.dims))]
    tests.append(("direct (w = 1)", slice(0, d)))
    rows = []
    for name, s in tests:
        A = [_sym(H[s, s, k]) for k in range(d)]
        centre = float(np.linalg.eigvalsh(_sym(J[s, s]))[0])
        sampled = float(min(np.linalg.eigvalsh(_sym(Jx[s, s]))[0] for Jx in Js))
        lin_sum = float(sum(r[k] * np.linalg.norm(A[k], 2) for k in range(d)))
        M = np.stack([a.reshape(-1) for a in A], axis=1)
        lin_ball = float(np.linalg.norm(r) * np.linalg.norm(M, 2))
        G = np.einsum("kab,lab->kl", np.stack(A) * r[:, None, None], np.stack(A) * r[:, None, None])
        lin_sdp = _maxcut_bound(G) ** 0.5
        lin_vertex = float(max(np.linalg.norm(np.tensordot(sg * r, np.stack(A), axes=1), 2) for sg in signs))
        rem = float(max(np.linalg.norm(_sym((Jx - J - np.tensordot(H, x - c, axes=([2], [0])))[s, s]), 2)
                        for x, Jx in zip(pts, Js, strict=True)))  # fmt: skip
        ceiling = centre - min(lin_sum, lin_ball, lin_sdp) - rem
        weyl = centre - lin_vertex - rem
        rows.append({"test": name, "dim": d, "centre": centre, "sampled": sampled, "lin_sum": lin_sum,
                     "lin_ball": lin_ball, "lin_sdp": lin_sdp, "lin_vertex": lin_vertex, "rem": rem, "ceiling": ceiling,
                     "ceiling_ratio": _ratio(ceiling, sampled), "weyl": weyl,
                     "weyl_ratio": _ratio(weyl, sampled)})  # fmt: skip
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--games", default=",".join(GAMES), help=f"comma-separated, from {', '.join(GAMES)}")
    ap.add_argument("--points", type=int, default=200, help="sampled vertices and interior points, each")
    ap.add_argument("--json", default=None, help="also write the rows to this file")
    args = ap.parse_args(argv)
    names = [g for g in args.games.split(",") if g]
    unknown = sorted(set(names) - set(GAMES))
    if not names or unknown:
        ap.error(f"expected games from {', '.join(GAMES)}, got {', '.join(unknown) or 'none'}")
    if args.points < 1:
        ap.error(f"expected --points >= 1, got {args.points}")
    sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]  # the project and sound_tightness's games
    import jax

    jax.config.update("jax_enable_x64", True)
    head = (f"{'game':<18} {'test':<15} {'dim':>4} {'centre':>7} {'sampled':>7} | {'sum':>6} {'ball':>6} "
            f"{'sdp':>6} {'vertex':>6} {'rem':>6} | {'ceiling':>7} {'ratio':>5} | {'weyl':>6} {'ratio':>5}")
    print(head)
    print("-" * len(head))
    out = []
    for name in names:
        for row in analyse(_game(name), args.points):
            out.append({"game": name, **row})
            print(f"{name:<18} {row['test']:<15} {row['dim']:>4} {row['centre']:7.3f} {row['sampled']:7.3f} | "
                  f"{row['lin_sum']:6.3f} {row['lin_ball']:6.3f} {row['lin_sdp']:6.3f} {row['lin_vertex']:6.3f} "
                  f"{row['rem']:6.3f} | "
                  f"{row['ceiling']:7.3f} {row['ceiling_ratio']:5.2f} | {row['weyl']:6.3f} {row['weyl_ratio']:5.2f}",
                  flush=True)  # fmt: skip
    if args.json:
        import sound_tightness

        sound_tightness.write_json(args.json, out)


if __name__ == "__main__":
    main()
