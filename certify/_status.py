"""One outcome vocabulary for the results of :mod:`certify` (certificates, checks, weight solves).

Every result that reports an outcome carries a ``status`` from :class:`Status` (a ``StrEnum``: it
compares equal to its string value) and, where one reads better, a boolean property derived from
it (``Certificate.certified``, ``VerifyReport.ok``, ``IntegrityResult.consistent``,
``WeightResult.ok``). Each result type names the subset it uses.
"""

from __future__ import annotations

import enum


class Status(enum.StrEnum):
    """Outcome of a result; compares equal to its string value (``"certified"``, ...).

    Certificates (:data:`CERTIFICATE`):

    * ``CERTIFIED``: the margin exceeds the tolerance; the claim of the certificate holds under its
      bounds (an estimate when the bounds were sampled).
    * ``NOT_CERTIFIED``: the test proved nothing (SGN is sufficient: never evidence of divergence),
      including when a sound method cannot enclose ``F`` as written (the reason names the construct).
    * ``INVALID``: the game's numbers are unusable on the region (``F`` or its Jacobian is, or for
      sound bounds may be, NaN/Inf somewhere on it).

    Checks of a certificate (:data:`CHECK`: :func:`certify.verify`, :func:`certify.check_certificate`):

    * ``CONSISTENT``: nothing contradicts the certificate (every simulated ratio within the
      certified factor; every field recomputes).
    * ``INCONSISTENT``: something does (a ratio above the factor; a field that disagrees).

    Weight solves (:data:`WEIGHTS`: :func:`certify.optimize_block_weights`):

    * ``OPTIMAL``: the weights and their exact margin were obtained.
    * ``SOLVER_FAILED``: no cvxpy solve succeeded (the weights are all ones).
    * ``MARGIN_MISMATCH``: the cvxpy weights' margin disagrees with the closed form.
    * ``INVALID_WEIGHTS``: the closed form returned non-finite or non-positive weights.
    * ``NOT_CONVERGED``: Noda's iteration did not close its bracket.

    Examples:
      >>> Status("certified") is Status.CERTIFIED, Status.NOT_CERTIFIED == "not_certified"
      (True, True)
      >>> Status.OPTIMAL in WEIGHTS, Status.OPTIMAL in CERTIFICATE
      (True, False)
    """

    CERTIFIED = "certified"
    NOT_CERTIFIED = "not_certified"
    INVALID = "invalid"
    CONSISTENT = "consistent"
    INCONSISTENT = "inconsistent"
    OPTIMAL = "optimal"
    SOLVER_FAILED = "solver_failed"
    MARGIN_MISMATCH = "margin_mismatch"
    INVALID_WEIGHTS = "invalid_weights"
    NOT_CONVERGED = "not_converged"


CERTIFICATE = (Status.CERTIFIED, Status.NOT_CERTIFIED, Status.INVALID)
"""The statuses of a :class:`certify.Certificate`."""
CHECK = (Status.CONSISTENT, Status.INCONSISTENT)
"""The statuses of a check of a certificate (:class:`certify.VerifyReport`, :class:`certify.IntegrityResult`)."""
WEIGHTS = (Status.OPTIMAL, Status.SOLVER_FAILED, Status.MARGIN_MISMATCH, Status.INVALID_WEIGHTS,
           Status.NOT_CONVERGED)
"""The statuses of a :class:`certify.WeightResult`."""


def coerce(value, allowed: tuple, what: str) -> Status:
    """``value`` as a :class:`Status` of ``allowed``; ``ValueError`` naming ``what`` otherwise.

    Examples:
      >>> coerce("consistent", CHECK, "check")
      <Status.CONSISTENT: 'consistent'>
      >>> coerce("optimal", CERTIFICATE, "certificate")
      Traceback (most recent call last):
      ...
      ValueError: expected certificate status in ['certified', 'not_certified', 'invalid'], got 'optimal'
    """
    try:
        status = Status(value)
    except ValueError:
        status = None
    if status not in allowed:
        raise ValueError(f"expected {what} status in {[s.value for s in allowed]}, got {value!r}")
    return status
