"""What each package pulls in when imported: the math, game and policy packages stay light, heavy modules load
only when used.

One fresh interpreter imports the packages one after the other in dependency order (``sgn``, ``games``,
``policy``, ``certify``, ``certify.cli``) and records after each step which watched modules are loaded.
No step before ``certify.cli`` may load any heavy module, so each step's set is what that package pulls
in on its own, as if it were imported first (one interpreter instead of one per package).
"""

import json
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import importlib, json, sys
    watched = ("games", "certify", "policy", "scipy", "cvxpy", "matplotlib", "flax", "optax", "tqdm")
    steps = {}
    for step in ("sgn", "games", "policy", "certify", "certify.cli"):
        importlib.import_module(step)
        if step == "policy":
            import policy.tokens, policy.tabular
        steps[step] = sorted(m for m in watched if m in sys.modules)
    print("RESULT " + json.dumps(steps))
""")


def test_each_package_pulls_in_only_what_it_needs():
    proc = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    steps = json.loads([s for s in proc.stdout.splitlines() if s.startswith("RESULT ")][-1][len("RESULT "):])
    assert steps["sgn"] == []  # the math package imports neither games nor certify, nor anything heavy
    assert steps["games"] == ["games"]  # games registers the neural games without importing flax
    # policy (with policy.tokens and policy.tabular) adds neither certify nor flax/optax (the RL example's)
    assert steps["policy"] == ["games", "policy"]
    # certify leaves out scipy, cvxpy, matplotlib and tqdm until a command needs them
    assert steps["certify"] == ["certify", "games", "policy"]
    # the command line loads the certify path: of the heavy modules at most scipy
    assert set(steps["certify.cli"]) - {"certify", "games", "policy"} <= {"scipy"}
