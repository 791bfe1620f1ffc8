"""``import policy`` adds neither certify nor flax/optax (the RL example's dependencies)."""

import subprocess
import sys


def test_policy_imports_neither_certify_nor_flax_nor_optax():
    # games is imported first: games/__init__ registers the neural-network games, which use flax;
    # what is checked is what policy itself pulls in on top of games.
    code = ("import sys, games; before = set(sys.modules); import policy, policy.tokens, policy.tabular; "
            "new = set(sys.modules) - before; "
            "print(','.join(m for m in ('certify', 'flax', 'optax', 'cvxpy', 'matplotlib') if m in new "
            "or (m == 'certify' and m in sys.modules)))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-1000:]
    assert proc.stdout.strip() == ""
