"""Stored kernels (certify._exported): a second process loads the exported Fisher kernel instead of
tracing it, gets the numbers of the plain ``jit`` route, and survives a damaged store."""

import json
import shutil
import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from certify import _exported

SCRIPT = textwrap.dedent("""
    import json, sys
    import jax
    from certify import _runtime
    folder = _runtime.enable_compilation_cache({"SGN_COMPILATION_CACHE": sys.argv[1]})
    jax.config.update("jax_enable_x64", True)
    import games
    from certify.bounds import _tabular
    traced = []
    inner = _tabular.fisher_normalised_jacobians
    _tabular.fisher_normalised_jacobians = lambda tg, th: traced.append(1) or inner(tg, th)
    out = {}
    for n_samples in (0, 16):  # two input shapes: 256 and 272 points
        fb = _tabular.fisher_bounds(games.get_game("markov-coop"), n_samples=n_samples)
        out[str(n_samples)] = [fb.bounds.mu.tolist(), fb.bounds.coupling.tolist(),
                               fb.bounds.weighted_lipschitz([1.0, 2.0])]
    out["traced"] = len(traced)
    print("RESULT " + json.dumps(out))
""")


def _run(folder):
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(folder)], capture_output=True, text=True,
                          timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads([s for s in proc.stdout.splitlines() if s.startswith("RESULT ")][-1][len("RESULT "):])


def _numbers(out):
    return np.array([v for k in ("0", "16") for part in out[k] for v in np.ravel(part)], dtype=float)


@pytest.fixture(scope="module")
def first_store(tmp_path_factory):
    """A store written by a first process (shared: the tests below work on copies of it)."""
    folder = tmp_path_factory.mktemp("store")
    return folder, _run(folder)


def _copy_of(first_store, tmp_path):
    folder, first = first_store
    shutil.copytree(folder, tmp_path, dirs_exist_ok=True)
    return first


def test_second_process_loads_instead_of_tracing(first_store, tmp_path):
    first = _copy_of(first_store, tmp_path)
    stored = sorted((tmp_path / "exported").glob("*.bin"))
    assert len(stored) == 2  # one program per input shape
    assert first["traced"] == 2  # each shape traced once, while exporting
    second = _run(tmp_path)
    assert second["traced"] == 0  # both programs came from the store
    assert sorted((tmp_path / "exported").glob("*.bin")) == stored
    np.testing.assert_array_equal(_numbers(first), _numbers(second))
    # the plain jit route (no cache) gives the same bounds; the exported program may round differently
    np.testing.assert_allclose(_numbers(_run("off")), _numbers(first), rtol=1e-12, atol=1e-15)


def test_damaged_or_stale_store_is_rebuilt(first_store, tmp_path):
    first = _copy_of(first_store, tmp_path)
    folder = tmp_path / "exported"
    stored = sorted(folder.glob("*.bin"))
    stored[0].write_bytes(b"not a program")  # damaged
    name = stored[1].name.split("-")[0]
    stale = folder / f"{name}-0000000000000000-{'0' * 40}.bin"  # another source version
    stale.write_bytes(b"old")
    again = _run(tmp_path)
    assert again["traced"] == 1  # only the damaged program was traced again
    assert not stale.exists()  # programs of other source versions are removed when one is written
    assert sorted(folder.glob("*.bin")) == stored
    assert stored[0].stat().st_size > 1000
    np.testing.assert_array_equal(_numbers(first), _numbers(again))
    assert not list(folder.glob(".*.tmp"))  # no temporary file left behind


def test_traced_arguments_take_the_jit_route(tmp_path, monkeypatch):
    monkeypatch.setattr(_exported, "store_folder", lambda: tmp_path)
    kernel = _exported.StoredKernel(lambda x, y: {"sum": x + y["b"], "prod": x * y["b"]}, "test_kernel")
    x, y = jnp.arange(3.0), {"b": jnp.full(3, 2.0)}
    direct = kernel(x, y)  # stored: one file
    assert len(list(tmp_path.glob("test_kernel-*.bin"))) == 1
    assert direct["sum"].tolist() == [2.0, 3.0, 4.0]
    assert direct["prod"].tolist() == [0.0, 2.0, 4.0]
    # under an outer jit / vmap the arguments are tracers: plain jit, nothing stored
    inside = jax.jit(lambda a: kernel(a, y)["prod"])(x + 1.0)
    batched = jax.vmap(lambda a: kernel(a, y)["sum"])(jnp.ones((4, 3)))
    assert inside.tolist() == [2.0, 4.0, 6.0]
    assert batched.tolist() == [[3.0] * 3] * 4
    assert len(list(tmp_path.glob("test_kernel-*.bin"))) == 1
    assert kernel.cache_size() == 1  # the stored program; the traced calls compiled into the outer programs


def test_kernel_names_are_checked():
    with pytest.raises(ValueError, match="expected a kernel name of letters, digits and underscores, got 'a-b'"):
        _exported.StoredKernel(lambda x: x, "a-b")
