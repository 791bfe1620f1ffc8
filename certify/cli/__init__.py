"""The ``sgn`` command line: ``sgn certify``, ``sgn verify``, ``sgn games``, ``sgn sweep``.

Examples:
  >>> main(["certify", "sgn-toy", "--json"]) == 0  # doctest: +ELLIPSIS
  {...
  True
"""

from certify.cli._args import UsageError as UsageError
from certify.cli._main import build_parser as build_parser
from certify.cli._main import main as main
from certify.cli._main import run as run

__all__ = ["UsageError", "build_parser", "main", "run"]
