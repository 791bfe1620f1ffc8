"""What each package pulls in when imported: the math, game and policy packages stay light, heavy modules load
only when used.

One fresh interpreter imports the packages one after the other in dependency order (``sgn``, ``games``,
``policy``, ``certify``, ``certify.cli``) and records after each step which watched modules are loaded.
No step before ``certify.cli`` may load any heavy module, so each step's set is what that package pulls
in on its own, as if it were imported first (one interpreter instead of one per package).
Another fresh interpreter runs the NumPy host route of the tabular games (a QRE, a QRE path, an
enumeration) and must finish without importing JAX, checked against answers derived independently.
"""

import json
import subprocess
import sys
import textwrap

import numpy as np

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


HOST_SCRIPT = textwrap.dedent("""
    import json, sys
    import numpy as np
    from games.tabular import bimatrix_nash, tabular_from_matrix
    from policy.tabular import qre_path, solve_qre

    a, b = (np.array(m) for m in json.loads(sys.argv[1]))
    softmax = lambda z: (np.exp(z - z.max()) / np.exp(z - z.max()).sum()).tolist()
    qre = solve_qre(tabular_from_matrix([a, b], tau=1.0))
    path = qre_path(tabular_from_matrix([a, b], tau=1.0), [2.0, 1.0])
    bos = bimatrix_nash([[3.0, 0.0], [0.0, 2.0]], [[2.0, 0.0], [0.0, 3.0]])
    out = {"qre": [softmax(z[0]) for z in qre.logits], "converged": bool(qre.converged),
           "path": [[softmax(z[k, 0]) for z in path.logits] for k in range(2)],
           "path_converged": path.converged.tolist(),
           "nash": sorted([x.tolist(), y.tolist()] for x, y in bos),
           "heavy": [m for m in ("jax", "jaxlib", "ml_dtypes", "scipy", "flax", "optax") if m in sys.modules]}
    print("RESULT " + json.dumps(out))
""")


def _logit_response_qre(a, b, tau, iters=200):
    """The QRE ``p = softmax(A q / tau)``, ``q = softmax(B^T p / tau)`` by plain fixed-point iteration.

    A second implementation for the test below: with payoffs in [0, 1] and ``tau >= 1`` the iteration
    contracts (a softmax moves its probabilities by at most half the oscillation of its logits in l1, and
    ``osc(A dq) <= span(A) |dq|_1``: each player's response is 1/2-Lipschitz, the round trip 1/4), so its
    fixed point is the game's only QRE.
    """
    def softmax(z):
        e = np.exp(z - z.max())
        return e / e.sum()

    p = q = np.full(3, 1.0 / 3.0)
    for _ in range(iters):
        p = softmax(a @ q / tau)
        q = softmax(b.T @ p / tau)
    gap = max(np.abs(p - softmax(a @ q / tau)).max(), np.abs(q - softmax(b.T @ p / tau)).max())
    return p, q, gap


def test_host_tabular_route_imports_no_jax():
    """A fresh process that solves a 3x3 QRE and a bimatrix game on NumPy data imports neither JAX nor SciPy."""
    a = np.array([[1.0, 0.0, 0.5], [0.2, 0.8, 0.0], [0.0, 0.3, 0.9]])
    b = np.array([[0.1, 0.9, 0.4], [0.7, 0.0, 0.6], [0.5, 0.2, 1.0]])
    proc = subprocess.run([sys.executable, "-c", HOST_SCRIPT, json.dumps([a.tolist(), b.tolist()])],
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads([s for s in proc.stdout.splitlines() if s.startswith("RESULT ")][-1][len("RESULT "):])
    assert out["heavy"] == []
    for tau, probs, converged in ((1.0, out["qre"], out["converged"]), (2.0, out["path"][0], out["path_converged"][0]),
                                  (1.0, out["path"][1], out["path_converged"][1])):
        p, q, gap = _logit_response_qre(a, b, tau)
        assert gap < 1e-14  # the reference iteration reached its fixed point
        assert converged
        np.testing.assert_allclose(probs[0], p, rtol=0, atol=1e-12)
        np.testing.assert_allclose(probs[1], q, rtol=0, atol=1e-12)
    # battle of the sexes, by hand: the two pure equilibria and the mixed one where each player makes the other
    # indifferent (column: 2p = 3(1 - p), p = 3/5; row: 3q = 2(1 - q), q = 2/5)
    expected = sorted([[[1.0, 0.0], [1.0, 0.0]], [[0.0, 1.0], [0.0, 1.0]], [[0.6, 0.4], [0.4, 0.6]]])
    assert len(out["nash"]) == 3
    np.testing.assert_allclose(np.array(out["nash"]), np.array(expected), rtol=0, atol=1e-12)
