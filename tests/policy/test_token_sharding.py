"""Selections are global: a batch sharded over 4 virtual CPU devices gives the 1-device result."""

import os
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent(
    """
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import numpy as np
    from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
    from policy import tokens
    from policy.tokens import top_entropy_mask, kl_cov_mask, clip_cov_mask, lp_reg_mask

    assert len(jax.devices()) == 4, jax.devices()
    rng = np.random.default_rng(0)
    B, T = 8, 16
    lp = -rng.exponential(1.0, (B, T))
    olp = lp + rng.normal(0, 0.2, (B, T))
    adv = np.repeat(rng.normal(size=(B, 1)), T, 1)
    m = (rng.random((B, T)) > 0.2).astype(float)
    h = rng.exponential(1.0, (B, T))
    key = jax.random.key(5)

    def f(lp, olp, adv, m, h):
        out = {}
        out["top_entropy"] = top_entropy_mask(h, m, keep_fraction=0.2)
        out["kl_cov_sel"] = kl_cov_mask(lp, adv, m, fraction=0.05)[0]
        out["clip_cov_keep"] = clip_cov_mask(logp=lp, old_logp=olp, advantages=adv, mask=m, key=key, fraction=0.05,
                                             cov_low=-5.0, cov_high=5.0)[0]
        out["lp_reg_sel"] = lp_reg_mask(lp, lp + 0.5, -jnp.abs(adv), m, neg_fraction=0.1)
        out["clip_cov_loss"] = tokens.clip_cov(fraction=0.05, cov_low=-5.0)(logp=lp, old_logp=olp, advantages=adv,
                                                                            mask=m, key=key)[0]
        out["kl_cov_loss"] = tokens.kl_cov(fraction=0.05)(logp=lp, old_logp=olp, advantages=adv, mask=m)[0]
        out["lp_reg_loss"] = tokens.lp_reg(neg_fraction=0.1)(logp=lp, old_logp=olp, advantages=-jnp.abs(adv), mask=m,
                                                             proxy_logp=lp + 0.5)[0]
        out["dapo_loss"] = tokens.dapo()(logp=lp, old_logp=olp, advantages=adv, mask=m)[0]
        return out

    args = [jnp.asarray(x) for x in (lp, olp, adv, m, h)]
    one = jax.jit(f)(*args)
    mesh = Mesh(np.array(jax.devices()), ("data",))
    shard = NamedSharding(mesh, P("data", None))
    sharded_args = [jax.device_put(x, shard) for x in args]
    many = jax.jit(f)(*sharded_args)
    assert len(sharded_args[0].sharding.device_set) == 4
    for k in one:
        a, b = np.asarray(one[k]), np.asarray(many[k])
        if k.endswith("loss"):
            np.testing.assert_allclose(a, b, rtol=1e-12, err_msg=k)
        else:
            np.testing.assert_array_equal(a, b, err_msg=k)
            assert 0 < a.sum() < a.size or k == "clip_cov_keep", k
    # also: micro-batch split (2 x 4 rows) with the global denominator reproduces the batch loss
    n = float(m.sum())
    parts = [tokens.dapo()(logp=args[0][i:i + 4], old_logp=args[1][i:i + 4], advantages=args[2][i:i + 4],
                           mask=args[3][i:i + 4],
                           denominator=n)[0] for i in (0, 4)]
    np.testing.assert_allclose(float(sum(parts)), float(one["dapo_loss"]), rtol=1e-12)
    print("OK", sorted(one))
    """
)


@pytest.mark.slow
def test_selection_invariant_to_sharding_over_4_devices():
    env = dict(os.environ)
    env["XLA_FLAGS"] = "--xla_force_host_platform_device_count=4"
    env["JAX_PLATFORMS"] = "cpu"
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    res = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True,
                         timeout=300, cwd=root)
    assert res.returncode == 0, res.stderr[-3000:]
    assert res.stdout.startswith("OK")
