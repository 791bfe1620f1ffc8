"""Sharded results equal single-device ones, with 4 virtual CPU devices (run in a subprocess).

``--xla_force_host_platform_device_count`` must be set before jax is imported; the test process
has already imported jax, so the check runs in a fresh interpreter.
"""

import json
import os
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent("""
    import json, os
    os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=4"
    import jax
    jax.config.update("jax_enable_x64", True)
    jax.config.update("jax_numpy_rank_promotion", "raise")
    import chex
    import numpy as np
    import certify, certify.sweep, games
    from certify.sweep import certify_region_grid, make_mesh, sweep_parameter

    devs = jax.devices()
    one, four = make_mesh(devs[:1]), make_mesh(devs)
    out = {"n_devices": len(devs)}
    lams = np.linspace(0.0, 2.5, 61)  # 61 values: padded to 64 on 4 devices
    a = sweep_parameter("lq64", "lam", lams, mesh=four)
    b = sweep_parameter("lq64", "lam", lams, mesh=one)
    fields = ["mu", "coupling", "weights", "margin", "perron_lower", "euclidean_margin", "beta"]
    out["sweep_maxdiff"] = max(float(np.max(np.abs(getattr(a, f) - getattr(b, f)))) for f in fields)
    out["sweep_same_flags"] = bool((a.certified == b.certified).all())
    out["sweep_devices"] = [a.n_devices, b.n_devices]
    out["last"] = [a.last_certified(), a.last_certified(euclidean=True)]
    # the same shapes again: no kernel may be traced a second time (each per-item function wrapped by chex)
    sharded = certify.sweep._sharded
    certify.sweep._sharded = lambda fn, mesh, n_in: sharded(chex.assert_max_traces(fn, n=1), mesh, n_in)
    certify.sweep._kernel.cache_clear()
    sweep_parameter("lq64", "lam", lams, mesh=four)
    try:
        sweep_parameter("lq64", "lam", lams + 0.01, mesh=four)
        out["retraced"] = False
    except AssertionError:
        out["retraced"] = True
    certify.sweep._sharded = sharded
    certify.sweep._kernel.cache_clear()

    g = games.get_game("tanh-sin", radius=1.5)
    ma = certify_region_grid(g, divisions=3, n_samples=20, seed=2, mesh=four)  # 9 tiles
    mb = certify_region_grid(g, divisions=3, n_samples=20, seed=2, mesh=one)
    out["grid_maxdiff"] = max(float(np.max(np.abs(getattr(ma, f) - getattr(mb, f))))
                              for f in ["mu", "coupling", "weights", "margin", "beta", "euclidean_margin"])

    ba = certify.bounds.Sampled(n_samples=999, seed=3, mesh=four)(g)  # 4 vertices + 999 + the centre: 251 per device
    bb = certify.bounds.Sampled(n_samples=999, seed=3, mesh=one)(g)
    ref = certify.bounds.Sampled(n_samples=999, seed=3)(g)
    out["bounds_maxdiff"] = max(float(np.max(np.abs(np.asarray(getattr(ba, f)) - np.asarray(getattr(x, f)))))
                                for f in ["mu", "coupling", "block_norm", "lipschitz", "euclidean_margin"]
                                for x in (bb, ref))
    w = np.array([1.0, 3.0])
    out["weighted_maxdiff"] = max(float(np.max(np.abs(np.subtract(ba.at_weights(w), x.at_weights(w)))))
                                  for x in (bb, ref))
    print("RESULT " + json.dumps(out))
""")


@pytest.mark.slow
def test_sharded_equals_single_device():
    env = dict(os.environ)
    env.pop("XLA_FLAGS", None)
    env["JAX_PLATFORMS"] = "cpu"
    proc = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=300,
                          check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = [s for s in proc.stdout.splitlines() if s.startswith("RESULT ")][-1]
    out = json.loads(line[len("RESULT "):])
    assert out["n_devices"] == 4
    assert out["sweep_devices"] == [4, 1]
    # items never interact, so every device runs the same per-item code: equal to rounding
    assert out["sweep_maxdiff"] <= 1e-13
    assert out["sweep_same_flags"]
    assert out["last"][0] == 1.375
    assert abs(out["last"][1] - 1 / 6) < 1e-15
    assert not out["retraced"]
    assert out["grid_maxdiff"] <= 1e-13
    assert out["bounds_maxdiff"] <= 1e-13
    assert out["weighted_maxdiff"] <= 1e-13
