"""``python -m certify.cli``: the same as the ``sgn`` console script (prefer ``sgn``: see the README)."""

import sys

from certify.cli import run

sys.exit(run())
