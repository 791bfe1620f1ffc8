"""A user's ``games.py``, ``numpy.py`` or ``sgn.py`` must not replace the packages the command line imports.

Python puts the running script's folder (or, for ``python -m``, the current folder) first on
``sys.path``, so a file ``games.py`` (or ``numpy.py``, ``jax.py``) next to an experiment is what
``import games`` finds, also inside ``certify``. Two guards:

* the command line's launchers (the ``sgn`` console script and ``python -m certify.cli``) call
  :func:`protect_launch` before importing anything heavy: it takes the working folder off
  ``sys.path`` (game files load by path, and ``module:factory`` references append the working
  folder once our packages and their dependencies are imported), then raises if ``sgn``,
  ``games`` or ``policy`` still resolve elsewhere;
* ``import certify`` in a user's script only *checks* (it never rewrites ``sys.path``): a
  shadowing ``games.py``, ``sgn.py`` or ``policy.py`` raises ``ImportError`` naming the file and
  the fix (rename it, or run the ``sgn`` command). Under ``python -m certify.cli`` the check waits
  for the launcher.

(A file named ``certify.py`` is found instead of this package, before any of our code runs: the
error Python gives then names it; the README says so.)

Examples:
  >>> check_packages()  # in a clean environment, nothing to report
"""

from __future__ import annotations

import importlib.util
import os
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


def _raise_if_shadowed() -> None:
    bad = shadowing()
    if bad:
        name, path = next(iter(bad.items()))
        raise ImportError(f"a file of yours, {path}, shadows the package {name!r} that certify needs (Python puts "
                          f"the script's folder first on sys.path): rename it (e.g. my_{name}.py), or run the "
                          "`sgn` command")


def check_packages() -> None:
    """Raises when a module of the user's replaces ``sgn``, ``games`` or ``policy`` (``sys.path`` is left alone).

    Raises:
      ImportError: naming the shadowing file and the fix.
    """
    _raise_if_shadowed()


def protect_launch() -> None:
    """The command line's first step: the working folder off ``sys.path``, then :func:`check_packages`.

    Removes every entry that names the working folder (``""``, ``"."``, its absolute path: what
    ``python -m`` and some ``PYTHONPATH`` settings put there), so that no ``numpy.py``,
    ``jax.py`` or ``games.py`` of the user's is imported in place of a dependency.

    Raises:
      ImportError: a package of ours is still shadowed (e.g. through ``PYTHONPATH``).
    """
    cwd = os.path.realpath(os.getcwd())
    kept = [p for p in sys.path if os.path.realpath(p or ".") != cwd]
    if len(kept) != len(sys.path):
        sys.path[:] = kept
        importlib.invalidate_caches()
    _raise_if_shadowed()


if sys.argv[:1] != ["-m"]:  # `python -m certify.cli` is guarded by its launcher (certify/cli/__main__.py)
    check_packages()
