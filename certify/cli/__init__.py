"""The ``sgn`` command line: ``sgn certify``, ``sgn verify``, ``sgn games``, ``sgn sweep``.

The public names load on first use, so that ``python -m certify.cli`` imports nothing heavy
before its launcher has taken the working folder off ``sys.path`` (:mod:`certify.cli.__main__`).

Examples:
  >>> main(["certify", "sgn-toy", "--json"]) == 0  # doctest: +ELLIPSIS
  {...
  True
"""

from sgn._lazy import lazy_exports as _lazy_exports

_EXPORTS = {"UsageError": "certify.cli._args", "build_parser": "certify.cli._main", "main": "certify.cli._main",
            "run": "certify.cli._main"}
__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = _lazy_exports(__name__, _EXPORTS)
