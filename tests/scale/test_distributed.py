"""Two local CPU processes joined by jax.distributed give the one-process sweep and region map.

Each worker runs ``sgn sweep`` (joined through ``SGN_COORDINATOR`` / ``SGN_NUM_PROCESSES`` /
``SGN_PROCESS_ID``, a coordinator on 127.0.0.1; process 0 alone prints and writes the output) and
then :func:`certify.certify_region_grid` on the same two-process mesh; the references are computed
here, in one process on one device.
"""

import json
import sys
import textwrap

import numpy as np
import pytest

import games
from certify import certify_region_grid, sweep_parameter
from certify._runtime import distributed_setting

WORKER = textwrap.dedent("""
    import json, sys
    from certify import cli
    prefix = sys.argv[1]
    rc = cli.main(["sweep", "lq64", "--param", "lam=0:2.5:61", "--json", "--out", prefix + "sweep.json"])
    import jax
    import games
    from certify import certify_region_grid
    m = certify_region_grid(games.get_game("tanh-sin", radius=1.5), divisions=3, n_samples=20, seed=2)
    with open(prefix + "grid.json", "w") as fh:
        json.dump({"rc": rc, "process_count": jax.process_count(), "map": m.to_dict()}, fh)
""")

LAMS = np.linspace(0.0, 2.5, 61)


def _max_diff(a: dict, b: dict, fields) -> float:
    return max(float(np.max(np.abs(np.asarray(a[f], float) - np.asarray(b[f], float)))) for f in fields)


@pytest.mark.slow
def test_two_processes_equal_one(tmp_path, two_processes):
    procs = two_processes(lambda pid: [sys.executable, "-c", WORKER, str(tmp_path / f"p{pid}_")])
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0, err[-3000:]
        outs.append(out)
    # process 0 alone prints the sweep and writes --out; process 1 computes its share silently.
    # (JAX's CPU collectives library may print a "[Gloo] Rank ..." line of its own first.)
    ours = [[line for line in out.splitlines() if not line.startswith("[Gloo]")] for out in outs]
    assert json.loads("\n".join(ours[0])) == json.loads((tmp_path / "p0_sweep.json").read_text())
    assert ours[1] == []
    assert not (tmp_path / "p1_sweep.json").exists()

    ref = sweep_parameter("lq64", "lam", LAMS).to_dict()
    grid_ref = certify_region_grid(games.get_game("tanh-sin", radius=1.5), divisions=3, n_samples=20,
                                   seed=2).to_dict()
    assert ref["n_devices"] == 1
    sweep = json.loads((tmp_path / "p0_sweep.json").read_text())
    for pid in range(2):
        out = json.loads((tmp_path / f"p{pid}_grid.json").read_text())
        assert out["rc"] == 0  # some lam is certified
        assert out["process_count"] == 2
        assert sweep["n_devices"] == 2
        assert out["map"]["n_devices"] == 2
        # items never interact: each process computes its share with the same per-item code
        assert _max_diff(sweep, ref, ["mu", "coupling", "weights", "margin", "euclidean_margin", "beta"]) <= 1e-13
        assert sweep["certified"] == ref["certified"]
        assert sweep["values"] == ref["values"]
        grid = out["map"]
        assert _max_diff(grid, grid_ref, ["mu", "coupling", "weights", "margin", "euclidean_margin", "beta"]) <= 1e-13
        assert grid["certified"] == grid_ref["certified"]


def test_distributed_setting_errors():
    with pytest.raises(ValueError, match="expected SGN_NUM_PROCESSES and SGN_PROCESS_ID"):
        distributed_setting({"SGN_COORDINATOR": "127.0.0.1:1234", "SGN_NUM_PROCESSES": "2"})
    with pytest.raises(ValueError, match="expected SGN_NUM_PROCESSES and SGN_PROCESS_ID"):
        distributed_setting({"SGN_COORDINATOR": "127.0.0.1:1234", "SGN_NUM_PROCESSES": "2", "SGN_PROCESS_ID": "2"})
