"""Dependency direction: the math, game and policy packages never pull in cvxpy or matplotlib."""

import subprocess
import sys


def test_core_packages_leave_cvxpy_and_matplotlib_out():
    code = ("import sys, sgn, games, policy; "
            "bad = [m for m in ('cvxpy', 'matplotlib') if m in sys.modules]; "
            "print(','.join(bad)); sys.exit(1 if bad else 0)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"imported: {proc.stdout.strip()} {proc.stderr[-500:]}"


def test_sgn_does_not_import_games_or_certify():
    code = "import sys, sgn; print([m for m in ('games', 'certify') if m in sys.modules])"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.stdout.strip() == "[]"
