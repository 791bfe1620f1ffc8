"""The ``sgn`` command line: ``sgn certify``, ``sgn verify``, ``sgn games``, ``sgn sweep``.

The public names load on first use, so that ``python -m certify.cli`` imports nothing heavy
before its launcher has taken the working folder off ``sys.path`` (:mod:`certify.cli.__main__`).

Examples:
  >>> main(["certify", "sgn-toy", "--json"]) == 0  # doctest: +ELLIPSIS
  {...
  True
"""

_EXPORTS = {"UsageError": "certify.cli._args", "build_parser": "certify.cli._main", "main": "certify.cli._main",
            "run": "certify.cli._main"}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    """Loads a public name on first access."""
    if name not in _EXPORTS:
        raise AttributeError(f"module 'certify.cli' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted([*globals(), *_EXPORTS])
