"""Cold-start properties: the small dense path compiles nothing and the batched Fisher kernel is compiled
once per shape (heavy modules load only when used: ``tests/architecture/test_imports.py``)."""

import json
import subprocess
import sys
import textwrap

import jax.numpy as jnp
import numpy as np

import games
import sgn
from certify.bounds import _tabular
from certify.bounds._tabular import fisher_bounds

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


def test_host_path_compiles_nothing():
    out = _result(COUNT)
    # every number of these certificates is host float64 NumPy/SciPy: zero XLA compilations
    assert all(count == 0 for _, count in (out[k] for k in ("sgn-toy", "lq64", "ring", "saddle"))), out
    assert out["sgn-toy"][0] == "certified"
    assert out["sgn"] == 0


def test_fisher_kernel_compiled_once_per_shape():
    g = games.get_game("markov-coop")
    start = _tabular._normalised_batch.cache_size()  # other tests may have compiled other shapes
    a = fisher_bounds(g)
    first = _tabular._normalised_batch.cache_size()
    b = fisher_bounds(g, n_samples=0, seed=1)
    w = np.array([1.0, 2.0])
    assert a.bounds.weighted_lipschitz(w) == b.bounds.weighted_lipschitz(w)  # weights: host NumPy only
    assert first - start <= 1
    assert _tabular._normalised_batch.cache_size() == first
    np.testing.assert_array_equal(a.bounds.mu, b.bounds.mu)


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
