"""Two processes joined by jax.distributed: stdout holds only sgn's own output (no `[Gloo] ...` lines)."""

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_json_stdout_of_a_two_process_sweep_is_json():
    port = _free_port()
    procs = []
    for pid in range(2):
        env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
        env.update(JAX_PLATFORMS="cpu", SGN_COORDINATOR=f"127.0.0.1:{port}", SGN_NUM_PROCESSES="2",
                   SGN_PROCESS_ID=str(pid), SGN_COMPILATION_CACHE="off")
        procs.append(subprocess.Popen([sys.executable, "-m", "certify.cli", "sweep", "lq64", "--param", "lam=0:2.5:6",
                                       "--param", "half=4", "--json"], env=env, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True))
    outs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err for _, err in outs]
    data = json.loads(outs[0][0])  # process 0 reports: valid JSON, nothing else on stdout
    assert outs[1][0] == ""  # process 1 prints nothing
    lam = np.linspace(0.0, 2.5, 6)
    assert data["certified"] == [bool(v < np.sqrt(2.0)) for v in lam]  # lq64 (half=4) certified iff |lam| < sqrt 2
    assert all("[Gloo]" not in out for out, _ in outs)
    assert any("[Gloo]" in err for _, err in outs)  # the collective library still speaks, on stderr
