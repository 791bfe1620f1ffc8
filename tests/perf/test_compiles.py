"""Cold-start properties: the small dense path compiles nothing and the batched Fisher kernel is compiled
once per shape (heavy modules load only when used: ``tests/architecture/test_imports.py``)."""

import json
import subprocess
import sys
import textwrap

import jax.numpy as jnp
import numpy as np
import pytest

import games
import sgn
from certify.bounds import _tabular

COUNT = textwrap.dedent("""
    import json, jax
    compiles = []
    jax.monitoring.register_event_duration_secs_listener(
        lambda event, secs, **kw: compiles.append(event) if event.endswith("backend_compile_duration") else None)
    import numpy as np
    import certify, games, sgn
    out = {}
    for name, params in [("sgn-toy", {}), ("lq64", {"lam": 1.2}), ("ring", {"n": 300}), ("saddle", {})]:
        c = certify.certify(games.get_game(name, **params))
        out[name] = [str(c.status), len(compiles)]
    mu, L, w = np.ones(2), np.array([[0, 10.0], [0.05, 0]]), np.array([1.0, 200.0])
    sgn.small_gain_margin(mu, L, w), sgn.timescale_band(mu, L), sgn.rk4_step_bound(0.3, 1.7)
    out["sgn"] = len(compiles)
    print("RESULT " + json.dumps(out))
""")


def _result(code):
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads([s for s in proc.stdout.splitlines() if s.startswith("RESULT ")][-1][len("RESULT "):])


@pytest.mark.slow
def test_host_path_compiles_nothing():
    out = _result(COUNT)
    # every number of these certificates is host float64 NumPy/SciPy: zero XLA compilations
    assert all(count == 0 for _, count in (out[k] for k in ("sgn-toy", "lq64", "ring", "saddle"))), out
    assert out["sgn-toy"][0] == "certified"
    assert out["sgn"] == 0


@pytest.mark.slow
def test_markov_certificate_compiles_nothing():
    # the equilibrium and the 256-vertex Fisher bounds of a small tabular game run on the host
    code = COUNT.replace('[("sgn-toy", {}), ("lq64", {"lam": 1.2}), ("ring", {"n": 300}), ("saddle", {})]',
                         '[("markov-coop", {}), ("markov-zerosum", {"entropy": "discounted"})]')
    out = _result(code)
    assert out["markov-coop"] == ["certified", 0], out
    assert out["markov-zerosum"][1] == 0, out


@pytest.mark.slow
def test_fisher_kernel_compiled_once_per_shape():
    # JAX game data take the compiled route: one program per shape, the host's numbers to rounding
    import jax

    g = games.get_game("markov-coop")
    tg = jax.tree_util.tree_map(jnp.asarray, g.data["tabular"])
    pts = np.random.default_rng(0).normal(size=(16, 8))
    start = _tabular._normalised_batch._cache_size()  # other tests may have compiled other shapes
    a = _tabular.normalised_points(tg, jnp.asarray(pts))
    first = _tabular._normalised_batch._cache_size()
    b = _tabular.normalised_points(tg, jnp.asarray(0.5 * pts))  # (adding a constant would change nothing: gauge)
    assert first - start <= 1
    assert _tabular._normalised_batch._cache_size() == first
    host = _tabular.normalised_points(g.data["tabular"], pts)
    for x, y in zip(a, host, strict=True):
        np.testing.assert_allclose(x, y, atol=1e-12 if x.dtype == np.float64 else 1e-4)
    assert not np.allclose(a[0], b[0])


def test_host_and_jax_inputs_agree():
    # the same public functions on host arrays (NumPy) and JAX arrays (jax.numpy) give the same numbers
    mu, L, w = np.array([1.0, 1.5]), np.array([[0, 10.0], [0.05, 0]]), np.array([1.0, 200.0])
    host = [float(sgn.small_gain_margin(mu, L, w)), float(sgn.euler_step_bound(0.3, 1.7)),
            float(sgn.rk4_step_bound(0.3, 1.7)), float(sgn.block_lipschitz_bound(np.ones(2), L, w)),
            *map(float, sgn.timescale_band(mu, L))]
    dev = [float(sgn.small_gain_margin(jnp.asarray(mu), jnp.asarray(L), jnp.asarray(w))),
           float(sgn.euler_step_bound(jnp.asarray(0.3), 1.7)), float(sgn.rk4_step_bound(jnp.asarray(0.3), 1.7)),
           float(sgn.block_lipschitz_bound(jnp.ones(2), jnp.asarray(L), jnp.asarray(w))),
           *map(float, sgn.timescale_band(jnp.asarray(mu), jnp.asarray(L)))]
    np.testing.assert_allclose(host, dev, rtol=1e-12)
    assert isinstance(sgn.small_gain_margin(mu, L, w), np.floating)  # host in, host out
