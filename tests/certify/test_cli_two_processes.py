"""Two processes joined by jax.distributed: stdout holds only sgn's own output (no `[Gloo] ...` lines)."""

import json
import sys

import numpy as np
import pytest


@pytest.mark.slow
def test_json_stdout_of_a_two_process_sweep_is_json(two_processes):
    procs = two_processes(lambda pid: [sys.executable, "-m", "certify.cli", "sweep", "lq64", "--param",
                                       "lam=0:2.5:6", "--param", "half=4", "--json"])
    outs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err for _, err in outs]
    data = json.loads(outs[0][0])  # process 0 reports: valid JSON, nothing else on stdout
    assert outs[1][0] == ""  # process 1 prints nothing
    lam = np.linspace(0.0, 2.5, 6)
    assert data["certified"] == [bool(v < np.sqrt(2.0)) for v in lam]  # lq64 (half=4) certified iff |lam| < sqrt 2
    assert all("[Gloo]" not in out for out, _ in outs)
    assert any("[Gloo]" in err for _, err in outs)  # the collective library still speaks, on stderr
