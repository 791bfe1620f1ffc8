"""``python -m certify.cli``: the same as the ``sgn`` console script (prefer ``sgn``: see the README).

The working folder, which ``python -m`` puts first on ``sys.path``, is taken off before anything
else is imported (:func:`certify._shadowing.protect_launch`): a ``numpy.py`` there is never run.
"""

import sys

from certify._shadowing import protect_launch

protect_launch()

from certify.cli import run  # noqa: E402  (after the guard)

sys.exit(run())
