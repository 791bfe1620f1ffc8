"""A user's ``games.py``, ``policy.py`` or ``sgn.py`` must not silently replace the packages ``certify`` uses.

Python puts the running script's folder (or, for ``python -m``, the current folder) first on
``sys.path``, so a file ``games.py`` next to an experiment is what ``import games`` finds, also
inside ``certify``. This module, imported first by ``certify`` (before anything else of ours),
checks where ``sgn``, ``games`` and ``policy`` come from:

* under ``python -m certify.cli`` the current folder was put first only by ``-m``: it is taken off
  ``sys.path`` (the command line wants its own packages; game files load by path, and
  ``module:factory`` references append the current folder once our packages are imported), so
  ``python -m certify.cli certify mygame.py`` works next to a ``games.py``;
* otherwise a shadowing file raises ``ImportError`` naming the file and the fix (rename it, or run
  the ``sgn`` command, whose path never starts with the current folder).

(A file named ``certify.py`` is found instead of this package, before any of our code runs: the
error Python gives then names it; the README says so.)

The check runs when this module is imported.

Examples:
  >>> check_packages()  # in a clean environment, nothing to report
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
"""The folder that holds the packages ``sgn``, ``games``, ``certify`` and ``policy``."""
GUARDED = ("sgn", "games", "policy")


def _origin(name: str) -> str | None:
    module = sys.modules.get(name)
    if module is not None:
        return getattr(module, "__file__", None)
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    return None if spec is None else spec.origin


def shadowing() -> dict:
    """``{name: path}`` of the guarded packages that resolve to something other than ours.

    Examples:
      >>> shadowing()
      {}
    """
    out = {}
    for name in GUARDED:
        origin = _origin(name)
        if origin is not None and Path(origin).resolve() != ROOT / name / "__init__.py":
            out[name] = origin
    return out


def check_packages() -> None:
    """Moves ``python -m``'s current folder to the end of ``sys.path``, or raises naming a shadowing file.

    Raises:
      ImportError: a module of the user's replaces ``sgn``, ``games`` or ``policy``.
    """
    bad = shadowing()
    if not bad:
        return
    first = sys.path[0] if sys.path else None
    if sys.argv[:1] == ["-m"] and first is not None and Path(first or ".").resolve() == Path.cwd().resolve():
        del sys.path[0]  # `python -m certify.cli` from the user's folder (game files load by path)
        importlib.invalidate_caches()
        bad = shadowing()
    if bad:
        name, path = next(iter(bad.items()))
        raise ImportError(f"a file of yours, {path}, shadows the package {name!r} that certify needs (Python puts "
                          f"the script's folder first on sys.path): rename it (e.g. my_{name}.py), or run the "
                          "`sgn` command")


check_packages()
