r"""The one decision: the margins of every test -> certified, which test proved it, the margin.

Three tests prove strong monotonicity of :math:`F` on a convex region in a block metric
:math:`M(w)`; each yields a margin :math:`\alpha` with
:math:`\langle F(x)-F(y), M(w)(x-y)\rangle \ge \alpha\lVert x-y\rVert^2_{M(w)}`:

* ``"small-gain"``: :math:`\alpha_*(w) = \lambda_{\min}(S(w))` of the comparison matrix at the
  optimal (SGN) weights (spec-sgn-math §3);
* ``"direct (w = 1)"``: :math:`\inf_K\lambda_{\min}(\operatorname{sym}DF)` (Rosen's test);
* ``"direct (SGN weights)"``: :math:`\inf_K\lambda_{\min}(\operatorname{sym}(M^{1/2}DF M^{-1/2}))`
  at the SGN weights (never below :math:`\alpha_*(w)`: it keeps the sign structure the
  comparison matrix discards).

A test passes when its margin is finite and exceeds the tolerance
:math:`\text{tol} = \text{margin\_tol}\cdot\max(1, |\mu_i|, L_{ij})`, applied *against*
certifying; the small-gain test also needs cleanly obtained weights. The certificate reports the
strongest passing test: the largest margin (the flow's contraction rate), ties going to the
earlier test in :data:`TESTS`. Every route (:func:`certify.certify`, the sweeps, the region grid,
the refine stopping rule) decides here, batched over a leading axis; steps then follow from
``sgn.*_step_bound`` with the chosen test's margin and :math:`\beta`. Host NumPy, float64.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from sgn._backend import is_sparse

MARGIN_TOL = 1e-9
"""Relative tolerance against certifying: a test passes iff ``margin > MARGIN_TOL * max(1, |mu|, L)``."""

SMALL_GAIN, DIRECT_EUCLIDEAN, DIRECT_WEIGHTED = "small-gain", "direct (w = 1)", "direct (SGN weights)"
TESTS = (SMALL_GAIN, DIRECT_EUCLIDEAN, DIRECT_WEIGHTED)
"""The tests, in tie-break order: the columns of :func:`decide`'s ``margins``."""


def tolerance_scale(mu, coupling) -> np.ndarray:
    """``max(1, |mu_i|, L_ij)`` per item: the scale the relative margin tolerance applies to.

    ``mu`` is ``(..., n)`` and ``coupling`` ``(..., n, n)`` (or one ``scipy.sparse`` matrix, whose
    stored entries are the only nonzero couplings); NaN entries are ignored.

    Examples:
      >>> import numpy as np
      >>> float(tolerance_scale(np.ones(2), np.array([[0, 10.0], [0.05, 0]])))
      10.0
      >>> tolerance_scale(np.array([[1.0, np.nan], [3.0, 1.0]]), np.zeros((2, 2, 2)))
      array([1., 3.])
    """
    mu = np.abs(np.asarray(mu, dtype=np.float64))
    if is_sparse(coupling):
        data = np.abs(np.asarray(coupling.data, dtype=np.float64))
        values = np.concatenate([mu.ravel(), data])
        return np.asarray(max(1.0, float(np.nanmax(values, initial=0.0))))
    coupling = np.abs(np.asarray(coupling, dtype=np.float64))
    batch = mu.shape[:-1]
    flat = np.concatenate([mu.reshape(batch + (-1,)), coupling.reshape(batch + (-1,))], axis=-1)
    return np.fmax(1.0, np.nanmax(np.where(np.isnan(flat), -np.inf, flat), axis=-1, initial=-np.inf))


@dataclasses.dataclass(frozen=True)
class Decision:
    """What :func:`decide` found, per item of the batch.

    Attributes:
      test: ``(B,)`` index into :data:`TESTS` of the proving test, ``-1`` where none passes.
      margins: ``(B, 3)`` the margins of the tests (NaN where a test was not run).
      passed: ``(B, 3)`` which tests pass.
      tol: ``(B,)`` the absolute tolerance each margin had to exceed.
    """

    test: np.ndarray
    margins: np.ndarray
    passed: np.ndarray
    tol: np.ndarray

    @property
    def certified(self) -> np.ndarray:
        """``(B,)`` some test passes."""
        return self.test >= 0

    @property
    def proved_by(self) -> np.ndarray:
        """``(B,)`` the proving test's name, ``""`` where not certified."""
        names = np.asarray(("",) + TESTS)
        return names[self.test + 1]

    @property
    def margin(self) -> np.ndarray:
        """``(B,)`` the proving test's margin; the small-gain margin where nothing is certified."""
        return self.choose(self.margins[:, 0], self.margins[:, 1], self.margins[:, 2])

    def choose(self, small_gain, euclidean, weighted) -> np.ndarray:
        r"""Per item, the value belonging to the proving test (the small-gain value where not certified).

        Each argument is ``(B, ...)`` (or broadcastable to it): e.g. the weights or :math:`\\beta` of
        each test.
        """
        parts = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64) for v in (small_gain, euclidean, weighted)))
        pick = self.test.reshape(self.test.shape + (1,) * (parts[0].ndim - 1))
        return np.where(pick == 1, parts[1], np.where(pick == 2, parts[2], parts[0]))


def decide(margins, mu, coupling, *, margin_tol: float = MARGIN_TOL, weights_ok=True,
           strongest: bool = True) -> Decision:
    r"""Decides "certified" from the margins of every test: the only place a margin meets a tolerance.

    Args:
      margins: ``(B, 3)`` margins of :data:`TESTS` (small-gain, direct at ``w = 1``, direct at the
        SGN weights); NaN for a test that was not run.
      mu: ``(B, n)`` curvature bounds (or ``(n,)`` with ``B = 1``).
      coupling: ``(B, n, n)`` coupling bounds (or one ``(n, n)`` matrix, dense or ``scipy.sparse``).
      margin_tol: relative tolerance against certifying.
      weights_ok: ``(B,)`` (or scalar) whether the SGN weights were obtained cleanly; the
        small-gain test needs them.
      strongest: the largest passing margin wins (ties: the earlier test). ``False`` is the rule of
        schema-version-1 certificates: the small-gain test when it passes, else the larger direct
        margin (used to recompute old files).

    Returns:
      :class:`Decision`.

    Examples:
      >>> import numpy as np
      >>> d = decide([[0.0513, 0.557, 0.4], [-1.0, 1.0, float("nan")], [-1.0, -2.0, -0.5]],
      ...            np.ones((3, 2)), np.zeros((3, 2, 2)))
      >>> d.proved_by.tolist(), d.margin.tolist()
      (['direct (w = 1)', 'direct (w = 1)', ''], [0.557, 1.0, -1.0])
      >>> decide([[0.0513, 0.557, 0.4]], np.ones(2), np.zeros((2, 2)), strongest=False).proved_by.tolist()
      ['small-gain']
    """
    margins = np.atleast_2d(np.asarray(margins, dtype=np.float64))
    if margins.ndim != 2 or margins.shape[1] != len(TESTS):
        raise ValueError(f"expected margins of shape (B, {len(TESTS)}), got {margins.shape}")
    b = margins.shape[0]
    scale = np.broadcast_to(tolerance_scale(mu, coupling), (b,))
    tol = float(margin_tol) * scale
    passed = np.isfinite(margins) & (margins > tol[:, None])
    passed[:, 0] &= np.broadcast_to(np.asarray(weights_ok, dtype=bool), (b,))
    ranked = np.where(passed, margins, -np.inf)
    if not strongest:  # version 1: the small-gain test first, the direct tests only where it refuses
        ranked[:, 0] = np.where(passed[:, 0], np.inf, -np.inf)
    best = np.argmax(ranked, axis=1)  # first maximum: ties go to the earlier test
    test = np.where(passed.any(axis=1), best, -1)
    return Decision(test=test, margins=margins, passed=passed, tol=tol)
