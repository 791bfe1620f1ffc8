"""Soundness fuzzer: certificates built on sound bounds hold, checked by sampling and local search.

Random nonlinear games (seeded; 2-4 players, player dims 1-3) are drawn from one template per
player-dims configuration, with random coefficients switching on random subsets of: a linear
part, polynomials, trig with large arguments, ``exp``/``log``/``sqrt``/fractional powers whose
domains may cross the box, ``0 * log`` and ``0 * exp(800 x)``, NaN guards, continuous kinks and
jumps written with ``jnp.where``, ``abs``/``max``, division, ``softplus``/``relu``/``sigmoid``/
``tanh``, softmax and logsumexp couplings, a ``custom_jvp`` whose rule is not the derivative and
``stop_gradient``. Boxes are wide or tiny.

Each game goes through the three sound modes (``interval``, ``refine``, ``padded``); bounds become
a certificate with the pipeline's formulas (Perron weights, margin :math:`\\alpha_*(w)`,
:math:`\\beta(w)` from the same boxes, Euler step :math:`h^*=\\alpha/\\beta^2` and factor
:math:`q^*=\\sqrt{1-\\alpha^2/\\beta^2}`; spec-sgn-math §3-§6). Every certified claim is then
checked against an independent oracle, ``F`` written without ``custom_jvp`` and
``stop_gradient`` (same values, true derivative), by dense sampling followed by a batched local
search (hill climbing from the worst samples):

* :math:`\\lambda_{\\min}(\\operatorname{sym}J_{ii}(x))\\ge\\mu_i`, :math:`\\lVert J_{ij}(x)\\rVert\\le
  L_{ij}`, :math:`\\lVert M^{1/2}J(x)M^{-1/2}\\rVert\\le\\beta` and ``F(x)`` finite;
* :math:`\\langle F(x)-F(y),M(x-y)\\rangle\\ge\\alpha\\lVert x-y\\rVert_M^2` (weighted monotonicity);
* :math:`\\lVert\\Pi(x-hF(x))-\\Pi(y-hF(y))\\rVert_M\\le q\\lVert x-y\\rVert_M` at :math:`h^*`.

No false certificate is allowed. Tolerances: :math:`10^{-9}` relative for pointwise quantities
(JAX's float64 Jacobian rounds at ~1e-15), and for pair ratios the float error of a difference
quotient, :math:`64\\varepsilon(\\lVert F(x)\\rVert+\\lVert F(y)\\rVert)/\\lVert x-y\\rVert` extra.
RK4 is left out (its region hypothesis is being fixed in the pipeline).
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import certify
import sgn
from certify._interval import NotEnclosable, interval_weighted_lipschitz
from certify.bounds._sound import _evaluate, lipschitz_padded_bounds, refine_block_bounds, sound_block_bounds

EPS = float(np.finfo(np.float64).eps)
POINT_TOL = 1e-9
MODES = ("interval", "refine", "padded")
OMEGA = 8.0 * math.pi


@jax.custom_jvp
def wiggle(t, amp):
    """``t + amp sin(8 pi t)``; its custom rule claims the derivative ``1 + 8 pi amp`` (wrong)."""
    return t + amp * jnp.sin(OMEGA * t)


@wiggle.defjvp
def _wiggle_jvp(primals, tangents):
    t, amp = primals
    return wiggle(t, amp), (1.0 + OMEGA * amp) * tangents[0] + jnp.sin(OMEGA * t) * tangents[1]


def wiggle_true(t, amp):
    return t + amp * jnp.sin(OMEGA * t)


# --------------------------------------------------------------------------------------------
# Templates: one program structure per (family, dims), compiled once; the coefficients of a game
# are one array (switched-off terms have zero coefficients and safe domain shifts).
# --------------------------------------------------------------------------------------------

SAFE = 3.0  # a domain shift that keeps x + shift > 0 on every box drawn below


def _sg(true):
    return (lambda v: v) if true else jax.lax.stop_gradient


# term -> (vector params with defaults, matrix params, f(x, g, true))
TERMS = {
    "poly": ({"c3": 0.0, "e2": 0.0, "p4": 0.0}, ("R",),
             lambda x, g, t: g("c3") * x**3 + g("e2") * (g("R") @ x) ** 2 + g("p4") * x**4),
    "trig": ({"v": 0.0, "omega": 0.0, "ph": 0.0}, ("P",),
             lambda x, g, t: g("v") * jnp.sin(g("omega") * (g("P") @ x) + g("ph"))),
    "tanh": ({"u": 0.0, "b": 0.0}, ("B",), lambda x, g, t: g("u") * jnp.tanh(g("B") @ x + g("b"))),
    "soft": ({"sp": 0.0, "sg": 0.0}, ("C",),
             lambda x, g, t: g("sp") * jax.nn.softplus(g("C") @ x) + g("sg") * jax.nn.sigmoid(x)),
    "softmax": ({"sm": 0.0, "ls": 0.0}, ("Q",),
                lambda x, g, t: g("sm") * jax.nn.softmax(g("Q") @ x) + g("ls") * jax.nn.logsumexp(g("Q") @ x)),
    "div": ({"dv": 0.0, "dt": SAFE}, (), lambda x, g, t: g("dv") * x / (x * x + g("dt"))),
    "relu": ({"rl": 0.0, "ab": 0.0, "mx": 0.0}, ("E", "G"),
             lambda x, g, t: g("rl") * jax.nn.relu(g("E") @ x) + g("ab") * jnp.abs(g("G") @ x)
             + g("mx") * jnp.maximum(x, 0.5 - x)),
    "kink": ({"ka": 0.0, "kb": 0.0}, (),
             lambda x, g, t: jnp.where(x > 0.25, g("ka") * (x - 0.25), g("kb") * (x - 0.25))),
    "jump": ({"jm": 0.0, "fl": 0.0}, (),
             lambda x, g, t: g("jm") * jnp.where(x > -0.5, 1.0, 0.0) + g("fl") * jnp.floor(2.0 * x)),
    "sort": ({"so": 0.0}, (), lambda x, g, t: g("so") * jnp.sort(x)),
    "roots": ({"sq": 0.0, "pw": 0.0, "shift": SAFE}, (),
              lambda x, g, t: g("sq") * jnp.sqrt(x + g("shift")) + g("pw") * (x + g("shift")) ** 1.5),
    "logexp": ({"lg": 0.0, "tshift": SAFE, "ex": 0.0, "kx": 0.0}, (),
               lambda x, g, t: g("lg") * jnp.log(x + g("tshift")) + g("ex") * jnp.exp(g("kx") * x)),
    "guard": ({"gd": 0.0, "gs": SAFE}, (),
              lambda x, g, t: jnp.where(jnp.isnan(jnp.sqrt(x + g("gs"))), -g("gd") * (x + g("gs")), 0.0)),
    "zero_inf": ({"zs": SAFE, "zk": 0.0}, (),
                 lambda x, g, t: 0.0 * jnp.log(x + g("zs")) + 0.0 * jnp.exp(g("zk") * x)),
    "custom": ({"cw": 0.0, "amp": 0.0, "sgw": 0.0}, (),
               lambda x, g, t: g("cw") * (wiggle_true if t else wiggle)(x, g("amp")) + g("sgw") * x * _sg(t)(x)),
}
FAMILIES = {
    "smooth": ("poly", "trig", "tanh", "div"),
    "kinks": ("poly", "relu", "kink", "jump", "sort"),
    "domains": ("roots", "logexp", "guard", "zero_inf", "custom"),
    "nets": ("tanh", "soft", "softmax"),
}


@functools.cache
def layout(family, d):
    offs, k = {"A": (0, (d, d))}, d * d
    for term in FAMILIES[family]:
        vecs, mats, _ = TERMS[term]
        for name in mats:
            offs[name] = (k, (d, d))
            k += d * d
        for name in vecs:
            offs[name] = (k, (d,))
            k += d
    return offs, max(k, 17)  # > 16 entries: passed to the compiled enclosure as an argument


def template(x, theta, family, d, *, true):
    offs, _ = layout(family, d)

    def g(name):
        k, shape = offs[name]
        return theta[k:k + math.prod(shape)].reshape(shape)

    out = g("A") @ x
    for term in FAMILIES[family]:
        out = out + TERMS[term][2](x, g, true)
    return out


@functools.cache
def functions(family, dims):
    """Model (engine) and oracle (true derivative) pseudo-gradients and jitted checks."""
    d = sum(dims)

    def model(theta):
        return lambda x: template(x, theta, family, d, true=False)

    def oracle(x, theta):
        return template(x, theta, family, d, true=True)

    values = _padded(jax.jit(jax.vmap(oracle, in_axes=(0, None))))
    jac = _padded(jax.jit(jax.vmap(jax.jacfwd(oracle), in_axes=(0, None))))
    return model, values, jac


def _padded(fn):
    """Calls a jitted batched function with the batch padded to a power of two (few compilations)."""

    def call(x, theta):
        x = np.asarray(x)
        n = x.shape[0]
        size = 1 << max(5, math.ceil(math.log2(max(n, 1))))
        xp = np.concatenate([x, np.repeat(x[:1], size - n, axis=0)]) if size > n else x
        return np.asarray(fn(jnp.asarray(xp), theta))[:n]

    return call


def _activate(rng, term, d, scale):
    """Random parameters of one switched-on term (domain shifts may cross the box)."""
    u = functools.partial(rng.uniform, size=d)
    return {
        "poly": lambda: {"c3": scale * u(0, 1), "e2": scale * u(-0.5, 0.5), "p4": scale * u(0, 0.3)},
        "trig": lambda: {"v": scale * u(-1, 1), "omega": rng.choice([1.0, 5.0, 40.0]) * u(0.5, 1), "ph": u(-3, 3)},
        "tanh": lambda: {"u": scale * u(-1, 1), "b": u(-1, 1)},
        "soft": lambda: {"sp": scale * u(-1, 1), "sg": scale * u(-1, 1)},
        "softmax": lambda: {"sm": scale * u(-1, 1), "ls": scale * u(-1, 1)},
        "div": lambda: {"dv": scale * u(-1, 1), "dt": u(-0.2, 1.0)},
        "relu": lambda: {"rl": scale * u(-1, 1), "ab": scale * u(0, 1), "mx": scale * u(0, 1)},
        "kink": lambda: {"ka": u(0, 1), "kb": u(0, 1)},
        "jump": lambda: {"jm": scale * rng.choice([-1.0, 1.0], d), "fl": scale * u(0, 0.5) * (rng.uniform() < 0.5)},
        "sort": lambda: {"so": scale * u(-1, 1)},
        "roots": lambda: {"sq": scale * u(0, 1), "pw": scale * u(-1, 1), "shift": u(0.0, 3.0)},
        "logexp": lambda: {"lg": scale * u(-1, 1), "tshift": u(0.0, 3.0), "ex": scale * u(-0.5, 0.5),
                           "kx": u(-2, 2)},
        "guard": lambda: {"gd": u(0.5, 3.0), "gs": u(-0.5, 2.0)},
        "zero_inf": lambda: {"zs": u(0.0, 3.0), "zk": 800.0 * (rng.uniform() < 0.5) * np.ones(d)},
        "custom": lambda: {"cw": u(0.2, 1.0), "amp": u(0.0, 0.2), "sgw": scale * u(-1, 1)},
    }[term]()


def draw_game(rng, family, dims):
    """Random coefficients (a random subset of the family's terms) and a wide or tiny box."""
    d = sum(dims)
    offs, size = layout(family, d)
    th = np.zeros(size)

    def put(name, val):
        k, shape = offs[name]
        th[k:k + math.prod(shape)] = np.broadcast_to(val, shape).ravel()

    a = np.zeros((d, d))
    off = np.concatenate([[0], np.cumsum(dims)])
    for i in range(len(dims)):
        s = slice(off[i], off[i + 1])
        h = rng.normal(size=(dims[i], dims[i]))
        a[s, s] = rng.uniform(0.5, 2.5) * np.eye(dims[i]) + 0.2 * (h + h.T)
    put("A", a + rng.uniform(0.0, 1.2) * rng.normal(size=(d, d)) / np.sqrt(d) * (1 - np.eye(d)))
    scale = rng.uniform(0.05, 0.6)
    for term in FAMILIES[family]:
        vecs, mats, _ = TERMS[term]
        for name, default in vecs.items():
            put(name, default)
        for name in mats:
            put(name, rng.normal(size=(d, d)) / np.sqrt(d))
        if rng.uniform() < 0.4:
            for name, val in _activate(rng, term, d, scale).items():
                put(name, val)
    centre = rng.uniform(-1.0, 1.0, d)
    tiny = rng.uniform() < 0.5
    half = np.exp(rng.uniform(np.log(1e-4), np.log(1.5), d)) if tiny else rng.uniform(0.05, 1.5, d)
    return jnp.asarray(th), centre - half, centre + half


# --------------------------------------------------------------------------------------------
# Certificates from bounds (the pipeline's formulas).
# --------------------------------------------------------------------------------------------


def _scale(b):
    return max([1.0, *np.abs(b.mu).tolist(), *np.abs(b.coupling).ravel().tolist()])


def certificate(F, b, lo, hi, dims, boxes=None):
    """``(alpha, weights, beta, h, q)`` if the sound bounds certify, else None."""
    if not (np.all(np.isfinite(b.mu)) and np.all(np.isfinite(b.coupling)) and np.isfinite(b.lipschitz)):
        return None
    w = certify.optimize_block_weights(b.mu, b.coupling, method="perron")
    alpha = float(w.margin)
    if not (w.status == "optimal" and alpha > certify.MARGIN_TOL * _scale(b)):
        return None
    weights = np.asarray(w.weights, dtype=np.float64)
    blo, bhi = (lo[None], hi[None]) if boxes is None else boxes
    jlo, jhi = _evaluate(F, blo, bhi, assume_continuous=False)
    beta = min(float(sgn.block_lipschitz_bound(b.block_norm, b.coupling, weights)),
               interval_weighted_lipschitz(jlo, jhi, dims, weights))  # fmt: skip
    h = float(sgn.euler_best_step(alpha, beta))
    q = float(sgn.euler_contraction_factor(h, alpha, beta))
    return alpha, weights, beta, h, q


def _decider(b):
    if not (np.all(np.isfinite(b.mu)) and np.all(b.mu > 0) and np.all(np.isfinite(b.coupling))):
        return False
    return sgn.perron_value(b.mu, b.coupling) > certify.MARGIN_TOL * _scale(b)


def run_mode(mode, F, lo, hi, dims, budget):
    """Sound bounds and boxes of one mode, or None when the mode refuses."""
    try:
        if mode == "interval":
            return sound_block_bounds(F, lo, hi, dims), None
        if mode == "refine":
            b, rec = refine_block_bounds(F, lo, hi, dims, decide=_decider, max_rounds=budget["rounds"],
                                         max_boxes=budget["boxes"])  # fmt: skip
            return b, (rec.box_lo, rec.box_hi)
        return lipschitz_padded_bounds(F, lo, hi, dims, max_points=budget["points"]), None
    except NotEnclosable:
        return None


# --------------------------------------------------------------------------------------------
# Checks of a certificate.
# --------------------------------------------------------------------------------------------


def _slices(dims):
    off = np.concatenate([[0], np.cumsum(dims)])
    return [slice(int(off[i]), int(off[i + 1])) for i in range(len(dims))]


def point_slack(jac_fn, values_fn, theta, x, b, cert, dims):
    """Per point: the smallest normalised slack over all pointwise claims (< 0 = violated)."""
    _, weights, beta, _, _ = cert
    j = np.asarray(jac_fn(jnp.asarray(x), theta))
    f = np.asarray(values_fn(jnp.asarray(x), theta))
    finite = np.all(np.isfinite(j), axis=(1, 2)) & np.all(np.isfinite(f), axis=1)
    j = np.where(finite[:, None, None], j, 0.0)
    sl = _slices(dims)
    out = []
    for i, si in enumerate(sl):
        jii = j[:, si, si]
        lam = np.linalg.eigvalsh(0.5 * (jii + np.swapaxes(jii, 1, 2)))[:, 0]
        out.append((lam - b.mu[i]) / (1.0 + abs(b.mu[i])))
        for k, sk in enumerate(sl):
            if k != i:
                nrm = np.linalg.norm(j[:, si, sk], 2, axis=(1, 2))
                out.append((b.coupling[i, k] - nrm) / (1.0 + b.coupling[i, k]))
    s = np.repeat(np.sqrt(weights), dims)
    wj = s[None, :, None] * j / s[None, None, :]
    out.append((beta - np.linalg.norm(wj, 2, axis=(1, 2))) / (1.0 + beta))
    slack = np.min(np.stack(out), axis=0) + POINT_TOL
    return np.where(finite, slack, -np.inf)


def pair_slack(values_fn, theta, x, y, lo, hi, cert, dims):
    """Per pair: normalised slack of monotonicity and of the Euler contraction (< 0 = violated)."""
    alpha, weights, _, h, q = cert
    m = np.repeat(weights, dims)
    fx = np.asarray(values_fn(jnp.asarray(x), theta))
    fy = np.asarray(values_fn(jnp.asarray(y), theta))
    dl = x - y
    nd = np.sqrt(np.sum(m * dl * dl, axis=1))
    ok = nd > 0
    nd = np.where(ok, nd, 1.0)
    tol = 1e-9 + 64 * EPS * (np.linalg.norm(fx, axis=1) + np.linalg.norm(fy, axis=1)) * np.sqrt(
        m.max() / m.min()) / np.maximum(np.linalg.norm(dl, axis=1), 1e-300)  # fmt: skip
    mono = np.sum((fx - fy) * m * dl, axis=1) / nd**2 - alpha
    xp = np.clip(x - h * fx, lo, hi)
    yp = np.clip(y - h * fy, lo, hi)
    ratio = np.sqrt(np.sum(m * (xp - yp) ** 2, axis=1)) / nd
    slack = np.minimum(mono / (1.0 + abs(alpha)), q - ratio) + tol
    finite = np.all(np.isfinite(fx), axis=1) & np.all(np.isfinite(fy), axis=1)
    return np.where(ok & finite, slack, np.where(ok, -np.inf, np.inf))


def _hill_climb(objective, starts, lo, hi, rng, rounds=10, proposals=12):
    """Batched local search minimising ``objective`` from ``starts`` (rows), inside the box."""
    best = starts.copy()
    val = objective(best)
    radius = 0.25 * (hi - lo)
    for _ in range(rounds):
        cand = best[:, None, :] + radius * rng.normal(size=(best.shape[0], proposals, best.shape[1]))
        cand = np.clip(cand, lo, hi).reshape(-1, best.shape[1])
        cv = objective(cand).reshape(best.shape[0], proposals)
        k = np.argmin(cv, axis=1)
        better = cv[np.arange(best.shape[0]), k] < val
        best[better] = cand.reshape(best.shape[0], proposals, -1)[np.arange(best.shape[0]), k][better]
        val = np.minimum(val, cv[np.arange(best.shape[0]), k])
        radius = radius * 0.6
    return float(val.min())


def check_certificate(values_fn, jac_fn, theta, lo, hi, b, cert, dims, rng):
    """The smallest slack found over points and pairs (< 0 means a false certificate)."""
    d = lo.shape[0]
    n_corners = min(2**d, 64)
    corners = np.where(rng.uniform(size=(n_corners, d)) < 0.5, lo, hi)
    x = np.concatenate([lo + (hi - lo) * rng.uniform(size=(384, d)), corners])
    ps = point_slack(jac_fn, values_fn, theta, x, b, cert, dims)
    starts = x[np.argsort(ps)[:8]]
    worst_point = min(float(ps.min()), _hill_climb(
        lambda z: point_slack(jac_fn, values_fn, theta, z, b, cert, dims), starts, lo, hi, rng))  # fmt: skip
    width = hi - lo
    xa = lo + width * rng.uniform(size=(256, d))
    ya = lo + width * rng.uniform(size=(256, d))
    u = rng.normal(size=(128, d))
    xn = lo + width * rng.uniform(size=(128, d))
    yn = np.clip(xn + 1e-3 * width * u / np.linalg.norm(u, axis=1, keepdims=True), lo, hi)
    xs, ys = np.concatenate([xa, xn, corners]), np.concatenate([ya, yn, x[:n_corners]])
    keep = np.linalg.norm(xs - ys, axis=1) >= 1e-4 * np.linalg.norm(width)
    xs, ys = xs[keep], ys[keep]
    pslack = pair_slack(values_fn, theta, xs, ys, lo, hi, cert, dims)
    lo2, hi2 = np.concatenate([lo, lo]), np.concatenate([hi, hi])

    def pair_obj(z):
        s = pair_slack(values_fn, theta, z[:, :d], z[:, d:], lo, hi, cert, dims)
        close = np.linalg.norm(z[:, :d] - z[:, d:], axis=1) < 1e-4 * np.linalg.norm(width)
        return np.where(close, np.inf, s)

    order = np.argsort(pslack)[:8]
    starts = np.concatenate([xs[order], ys[order]], axis=1)
    worst_pair = min(float(pslack.min()), _hill_climb(pair_obj, starts, lo2, hi2, rng))
    return min(worst_point, worst_pair)


# --------------------------------------------------------------------------------------------
# The fuzz loop.
# --------------------------------------------------------------------------------------------


def fuzz(n_games, plan, seed, budget, padded_every=1):
    """Runs ``n_games`` games cycling through ``plan`` = ((family, dims), ...).

    Every game goes through interval and refine bounds, every ``padded_every``-th game through
    padded bounds too (their grid and second-order enclosure cost most).
    """
    stats = {"games": 0, "violations": [], "min_slack": np.inf}
    for key in ("certified", "refused", "invalid"):
        stats.update({f"{key}_{m}": 0 for m in MODES})
    rng = np.random.default_rng(seed)
    for g in range(n_games):
        family, dims = plan[g % len(plan)]
        model, values_fn, jac_fn = functions(family, dims)
        theta, lo, hi = draw_game(rng, family, dims)
        F = model(theta)
        stats["games"] += 1
        for mode in MODES:
            if mode == "padded" and g % padded_every:
                continue
            res = run_mode(mode, F, lo, hi, dims, budget)
            if res is None:
                stats[f"refused_{mode}"] += 1
                continue
            b, boxes = res
            if np.any(np.isnan(b.mu)):
                stats[f"invalid_{mode}"] += 1
                continue
            cert = certificate(F, b, lo, hi, dims, boxes)
            if cert is None:
                continue
            stats[f"certified_{mode}"] += 1
            slack = check_certificate(values_fn, jac_fn, theta, lo, hi, b, cert, dims, rng)
            stats["min_slack"] = min(stats["min_slack"], slack)
            if slack < 0:
                stats["violations"].append((g, family, dims, mode, slack))
    print(f"\nsound fuzz: {stats}")
    return stats


DEFAULT_PLAN = (("smooth", (1, 2)), ("kinks", (1, 1, 1)), ("domains", (1, 1)))
SLOW_PLANS = (
    (("smooth", (2, 1)), ("kinks", (1, 2, 1)), ("domains", (1, 1, 1, 1)), ("nets", (3, 2))),
    (("smooth", (1, 1, 1, 1)), ("kinks", (3, 2)), ("domains", (2, 1)), ("nets", (1, 2, 1)),
     ("smooth", (2, 3, 1, 1))),
)


def test_sound_fuzz_default():
    stats = fuzz(200, DEFAULT_PLAN, seed=2024, budget={"rounds": 4, "boxes": 64, "points": 256}, padded_every=4)
    assert stats["violations"] == []
    for mode in MODES:  # the property is exercised in every mode, and refusals happen too
        assert stats[f"certified_{mode}"] >= (5 if mode == "padded" else 40), stats
    assert stats["refused_interval"] >= 5, stats
    assert stats["invalid_interval"] >= 5, stats


SLOW_BUDGET = {"rounds": 6, "boxes": 128, "points": 1024}


def run_slow_shard(shard):
    """2500 games of one half of the slow plan (the other half runs from a second file, so that
    ``pytest -n 2 --dist loadfile`` runs both halves in parallel)."""
    stats = fuzz(2500, SLOW_PLANS[shard], seed=7 + shard, budget=SLOW_BUDGET)
    assert stats["games"] == 2500
    assert stats["violations"] == []
    for mode in MODES:
        assert stats[f"certified_{mode}"] >= 100, stats


@pytest.mark.slow
def test_sound_fuzz_many_first_half():
    run_slow_shard(0)


def test_checker_detects_an_overstated_certificate():
    # F = J x with J = [[1, 2], [-2, 1]]: alpha_true = 1, beta = sqrt 5; claiming alpha = 1.1
    # (mu = 1.1, L = 0) must fail the monotonicity check, alpha = 1 passes it.
    dims = (1, 1)
    _, size = layout("kinks", 2)
    th = np.zeros(size)
    th[:4] = [1.0, 2.0, -2.0, 1.0]  # A comes first; every other kinks term is off at zero
    _, values_fn, jac_fn = functions("kinks", dims)
    theta = jnp.asarray(th)
    lo, hi = -np.ones(2), np.ones(2)
    rng = np.random.default_rng(0)
    for claimed, violated in ((1.0, False), (1.1, True)):
        b = certify.bounds.BlockBounds(np.array([1.0, 1.0]), np.array([[0.0, 2.0], [2.0, 0.0]]), np.ones(2), 5**0.5,
                                1.0, kind="sound")  # fmt: skip
        beta = 5**0.5
        h = claimed / beta**2
        cert = (claimed, np.ones(2), beta, h, math.sqrt(1 - claimed**2 / beta**2))
        slack = check_certificate(values_fn, jac_fn, theta, lo, hi, b, cert, dims, rng)
        assert (slack < 0) == violated, (claimed, slack)
