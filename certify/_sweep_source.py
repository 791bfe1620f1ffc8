r"""The game family a sweep runs over: every game form :func:`certify.certify`'s CLI takes, one parameter free.

* a registered name (``lq64``): its parameters (:func:`games.game_parameters`);
* a factory — ``duel.py:make_game``, ``package.module:make_game``, or a Python callable — called as
  ``factory(**params, KEY=value)`` with its parameters checked as for ``sgn certify``;
* a declarative file (``firms.toml`` / ``firms.json``): any *numeric* key, named by its path in the
  document — ``tau``, ``gamma``, ``J[0][1]`` (an entry of a matrix), ``players[1].set.radius``.

File games record their source (path, factory, SHA-256 of the definition) as certificates do; a
declarative file is read and hashed once, and every value is built from those same bytes.

Examples:
  >>> fam = game_family("lq64", "lam", {"half": 2})
  >>> fam.name, fam.build(0.5).params["lam"], fam.source is None
  ('lq64', 0.5, True)
  >>> key_path("J[0][1]"), key_path("players[1].set.radius")
  (('J', 0, 1), ('players', 1, 'set', 'radius'))
"""

from __future__ import annotations

import copy
import dataclasses
import re
from collections.abc import Callable
from pathlib import Path

import games
from games import Game, _files
from games._registry import call_factory, did_you_mean

_TOKEN = re.compile(r"([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+)\]|(\.)")


def key_path(key: str) -> tuple:
    """``"J[0][1]"`` -> ``("J", 0, 1)``: the path of a key in a declarative game document.

    Raises:
      ValueError: a malformed path.
    """
    parts, pos, need_name = [], 0, True
    while pos < len(key):
        m = _TOKEN.match(key, pos)
        if m is None or (m.group(3) and need_name) or (m.group(1) and not need_name):
            raise ValueError(f"expected a key such as tau, J[0][1] or players[1].set.radius, got {key!r}")
        if m.group(1):
            parts.append(m.group(1))
            need_name = False
        elif m.group(2):
            parts.append(int(m.group(2)))
        else:
            need_name = True
        pos = m.end()
    if not parts or need_name or not isinstance(parts[0], str):
        raise ValueError(f"expected a key such as tau, J[0][1] or players[1].set.radius, got {key!r}")
    return tuple(parts)


def _numeric_keys(node, prefix="") -> list[str]:
    """Every numeric key path of a document (for the error that lists what may be swept)."""
    if isinstance(node, dict):
        return [k for key, v in node.items() for k in _numeric_keys(v, f"{prefix}.{key}" if prefix else key)]
    if isinstance(node, list):
        return [k for i, v in enumerate(node) for k in _numeric_keys(v, f"{prefix}[{i}]")]
    return [prefix] if isinstance(node, int | float) and not isinstance(node, bool) else []


def _set(doc: dict, path: tuple, value: float, name: str, key: str) -> dict:
    out = copy.deepcopy(doc)
    node = out
    for step in path[:-1]:
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            node = None
            break
    last = path[-1]
    old = None
    if isinstance(node, dict) and isinstance(last, str):
        old = node.get(last)
    elif isinstance(node, list) and isinstance(last, int) and last < len(node):
        old = node[last]
    if not isinstance(old, int | float) or isinstance(old, bool):
        keys = _numeric_keys(doc)
        shown = ", ".join(keys[:12]) + (f", ... ({len(keys)} in all)" if len(keys) > 12 else "")
        raise ValueError(f"expected a numeric key of {name} to sweep (one of {shown}), got {key!r}")
    node[last] = int(value) if isinstance(old, int) and float(value).is_integer() else float(value)
    return out


@dataclasses.dataclass(frozen=True)
class GameFamily:
    """A game as a function of one parameter.

    Attributes:
      name: what the sweep reports (registered name, or the game's own name).
      param: the swept parameter (a key path for declarative files).
      build: ``value -> games.Game``.
      source: the definition's record (kind, path or module, factory, SHA-256), ``None`` for
        registered games and Python callables.
      files: definition files read (no output may replace them).
    """

    name: str
    param: str
    build: Callable[[float], Game]
    source: dict | None
    files: tuple = ()


def _declarative_family(path: Path, param: str, params: dict) -> GameFamily:
    if params:
        raise ValueError(f"expected no fixed parameters for the declarative game {path.name} (edit the file), "
                         f"got {sorted(params)}")
    path = path.expanduser().resolve()
    data, sha = _files._read(path, None)
    doc = _files._parse(path, data)
    where = key_path(param)
    source = {"kind": "file", "path": str(path), "factory": None, "params": {}, "sha256": sha}

    def build(value: float) -> Game:
        varied = _set(doc, where, value, path.name, param)
        try:
            game = _files._declarative(varied, path.stem)
        except (TypeError, ValueError) as err:
            raise ValueError(f"{path.name} with {param} = {value:g}: {err}") from None
        return _files._finish(game, {**source, "params": {param: value}}, stem=path.stem, params={param: value})

    first = _files._declarative(doc, path.stem)  # the file as written is a valid game
    return GameFamily(first.name if first.name not in _files._DEFAULT_NAMES else path.stem, param, build,
                      source, (str(path),))


def game_family(game, param: str, params: dict | None = None) -> GameFamily:
    """The family ``value -> game`` of a sweep over ``param`` with the other ``params`` fixed.

    Args:
      game: a registered name, ``FILE.py:FACTORY``, ``MODULE:FACTORY``, ``FILE.toml``/``FILE.json``,
        or a Python callable returning a :class:`games.Game`.
      param: the swept parameter (a factory keyword, or a key path of a declarative file).
      params: fixed parameters (factories and registered games only).

    Raises:
      ValueError: an unknown game, parameter or key; TypeError: another kind of ``game``.
    """
    params = dict(params or {})
    if callable(game) and not isinstance(game, str | Game):
        owner = getattr(game, "__name__", type(game).__name__)
        return GameFamily(owner, param, lambda v: call_factory(owner, game, {**params, param: v})[0], None)
    if not isinstance(game, str) or not game:
        raise TypeError(f"expected a game name, a game file reference or a factory to sweep, got "
                        f"{type(game).__name__}")
    if game in games.game_names():
        allowed = games.game_parameters(game)
        if param not in allowed:
            raise ValueError(f"expected a parameter of {game!r} among {sorted(allowed)}, got {param!r}")
        return GameFamily(game, param, lambda v: games.get_game(game, **{**params, param: v}), None)
    if game.lower().endswith((".toml", ".json")):
        return _declarative_family(Path(game), param, params)
    if ":" not in game:
        why = " (a game file without a factory has no parameter to vary)" if game.endswith(".py") else ""
        raise ValueError(f"expected a registered game ({', '.join(games.game_names())}), FILE.py:FACTORY, "
                         f"MODULE:FACTORY, FILE.toml or FILE.json to sweep, got {game!r}{why}{did_you_mean(game)}")
    return GameFamily(game, param, lambda v: games.load_game(game, **{**params, param: v}), None)


def recorded_source(family: GameFamily, built: list[Game]) -> dict | None:
    """The definition a sweep ran on: the family's, or the file games' own (one SHA-256 for all values).

    Raises:
      ValueError: the definition file changed between two values of the sweep.
    """
    if family.source is not None or not built or not built[0].source:
        return family.source
    shas = {g.source.get("sha256") for g in built}
    if len(shas) > 1:
        raise ValueError(f"expected the definition of {family.name} to stay the same during the sweep, got "
                         f"{len(shas)} different SHA-256 digests")
    source = {k: v for k, v in built[0].source.items() if k != "params"}
    return {**source, "params": {k: v for k, v in built[0].source.get("params", {}).items() if k != family.param}}
