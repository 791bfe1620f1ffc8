"""``python -m certify.cli``: the same as the ``sgn`` console script."""

import sys

from certify.cli import main

sys.exit(main())
