r"""Games defined in files: a Python module or factory, or a declarative TOML / JSON game.

A *game reference* names a game the way the ``sgn`` command line takes it:

* a registered name (``sgn-toy``; :func:`games.get_game`);
* ``path/to/file.py`` — a module that defines ``game`` (a :class:`games.Game`), or exactly one
  ``Game`` at top level;
* ``path/to/file.py:NAME`` — a factory ``NAME(**params)`` returning a ``Game`` (or a ``Game``
  named ``NAME``);
* ``package.module:NAME`` — the same in an importable module;
* ``path/to/game.toml`` / ``game.json`` — a declarative game (the schema below).

Python files are run by path under a private module name, with their folder *appended* to
``sys.path`` (sibling imports work; a user's ``games.py`` never shadows the ``games`` package).
Factory parameters are validated like those of registered games. The built game records its
source (:attr:`games.Game.source`: kind, path or module, factory, parameters and the SHA-256 of
the definition file), which certificates keep, so :func:`rebuild_game` rebuilds it and refuses,
naming the file, when the file changed. A changed file is refused *before* it is run.

**Declarative schema** (TOML or JSON, one document; every key is checked and errors name its
path, e.g. ``players[1].dim: expected a positive integer, got 0``):

* ``kind`` (required): ``"quadratic"``, ``"matrix"``, ``"polymatrix"`` or ``"markov"``;
  ``name`` (default: the file name without suffix) and ``description`` (strings), optional.
* ``quadratic`` — :math:`F(x) = Jx + b`: ``J`` (square matrix, required), ``b`` (vector),
  ``players`` (list of ``{dim, set}``; default one coordinate per player, unconstrained),
  ``region`` (``{lo, hi}``, numbers or vectors). A ``set`` is ``"unconstrained"``, ``"simplex"``,
  ``{type = "box", lo, hi}`` or ``{type = "ball", radius, center}``.
* ``matrix`` — entropy-regularised normal-form game (:func:`games.matrix_game`): ``tau`` (≥ 0,
  required) and either ``A`` (row player's payoffs) with optional ``B`` (zero-sum ``-A`` when
  omitted), or ``payoffs`` (one payoff tensor per player).
* ``polymatrix`` — pairwise interactions: ``players`` (list of ``{actions}``), ``payoffs`` (list of
  ``{players = [i, j], A}``: player ``i`` receives :math:`x_i^\top A x_j`), optional ``tau``: with
  it, the entropy-regularised game in the mirror geometry; without it :func:`games.polymatrix`.
* ``markov`` — tabular Markov game (:func:`games.markov_game`): ``transitions``
  ``(n_states, n_1, ..., n_N, n_states)``, ``rewards`` ``(N, n_states, n_1, ..., n_N)`` (or
  ``(n_states, n_1, n_2)``, zero-sum), ``gamma``, ``tau``, optional ``initial``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import importlib.machinery
import importlib.util
import json
import math
import os
import sys
import tomllib
import traceback
import types
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from games._constructors import polymatrix, quadratic
from games._game import Game
from games._markov import markov_game
from games._matrix import matrix_game
from games._region import Region
from games._registry import call_factory, check_dense_dim, did_you_mean, game_names, get_game
from games._sets import Ball, Box, Simplex, Unconstrained
from sgn import _checks

SUFFIXES = (".py", ".toml", ".json")
"""File suffixes of game definitions."""
MAX_FILE_BYTES = 16 * 2**20
"""Largest game definition file read (a hand-edited huge file is refused before it is parsed)."""
MAX_TENSOR = 10**6
"""Most payoff entries (all players' tensors together) a polymatrix game with entropy expands to."""
KINDS = ("quadratic", "matrix", "polymatrix", "markov")
"""The ``kind`` values of declarative game files."""
_DEFAULT_NAMES = {"custom", "quadratic", "bilinear", "bimatrix", "polymatrix", "matrix", "markov"}


class GameFileError(ValueError):
    """A game definition that cannot be read, run or validated (the message names the file)."""


# --- references --------------------------------------------------------------------------------


def _split_ref(ref: str):
    """``(kind, target, attr)`` with kind ``"file"`` or ``"module"``, or ``None`` when not a reference."""
    if ref.endswith(SUFFIXES) or os.path.isfile(ref):
        return "file", ref, None
    head, sep, tail = ref.rpartition(":")
    if sep and head and tail.isidentifier():
        if head.endswith(".py") or "/" in head or os.sep in head or os.path.isfile(head):
            return "file", head, tail
        if all(part.isidentifier() for part in head.split(".")):
            return "module", head, tail
    return None


def load_game(ref: str, /, **params) -> Game:
    r"""Builds the game a reference names: a registered name, a ``.py`` / ``.toml`` / ``.json`` file, a factory.

    Args:
      ref: a registered name, ``file.py``, ``file.py:NAME``, ``package.module:NAME``,
        ``file.toml`` or ``file.json`` (module docstring).
      **params: keyword parameters of a registered game or a factory.

    Returns:
      A :class:`games.Game`; a file game records how to rebuild it in ``Game.source``.

    Raises:
      ValueError: unknown name, missing or unreadable file, invalid definition (the message names
        the file and the key), a factory's unknown or ill-typed parameter.
      TypeError: a factory that returns something other than a ``Game``.

    Examples:
      >>> import pathlib, tempfile
      >>> path = pathlib.Path(tempfile.mkdtemp()) / "duo.toml"
      >>> _ = path.write_text('kind = "quadratic"\nJ = [[1.0, 10.0], [0.05, 1.0]]\n')
      >>> g = load_game(str(path))
      >>> g.name, g.dims, g.source["kind"], len(g.source["sha256"])
      ('duo', (1, 1), 'file', 64)
      >>> load_game("sgn-toy").name
      'sgn-toy'
    """
    if not isinstance(ref, str) or not ref:
        raise TypeError(f"expected a game name or reference as a non-empty str, got {ref!r}")
    if ref in game_names():
        return get_game(ref, **params)
    split = _split_ref(ref)
    if split is None:
        raise ValueError(f"expected a registered game ({', '.join(game_names())}), a game file "
                         f"(.py, .toml, .json) or MODULE:FACTORY, got {ref!r}{did_you_mean(ref)}")
    kind, target, attr = split
    if kind == "module":
        return _load_module(target, attr, params, expected_sha=None)
    return _load_file(Path(target), attr, params, expected_sha=None)


def rebuild_game(description: Mapping, *, game: str | None = None, allow_code: bool = False,
                 base: str | os.PathLike | None = None, announce=None) -> Game:
    """Rebuilds the game of a certificate's ``game`` entry (:meth:`games.Game.describe`), running no unnamed code.

    Registered games are rebuilt from name and parameters, declarative files (TOML / JSON) by
    parsing them: neither runs code. A game written in Python (a ``.py`` file or a module) is run
    only when the caller names it (``game``, e.g. the ``--game`` of ``sgn verify``) or opts in with
    ``allow_code``: a certificate is data, and whoever wrote it also wrote its hash. The recorded
    SHA-256 is required and is checked against exactly the bytes that run, before anything runs
    (no bytecode caches; a module's parent packages are hashed too).

    A file game is looked for at ``game`` when given, else at the path recorded relative to the
    certificate (``relative_path``, resolved against ``base``, the certificate's folder), then at
    the recorded absolute ``path``; the first file with the recorded SHA-256 is used.

    Args:
      description: the ``game`` entry of a certificate.
      game: the game definition the user names: ``FILE`` (``.py`` / ``.toml`` / ``.json``),
        ``FILE.py:FACTORY`` or ``MODULE:FACTORY``; it must have the recorded SHA-256.
      allow_code: run the Python code the certificate names (after checking its SHA-256).
      base: the folder the certificate was read from (for ``relative_path``).
      announce: called with one line saying which code is about to run (e.g. ``print``).

    Raises:
      ValueError: unknown game, a missing or changed definition file, malformed source, a
        missing SHA-256, Python code that was neither named nor allowed.

    Examples:
      >>> from games import get_game
      >>> rebuild_game(get_game("cyclic3").describe()).fingerprint() == get_game("cyclic3").fingerprint()
      True
    """
    if not isinstance(description, Mapping):
        raise ValueError(f"expected a game description object, got {type(description).__name__}")
    params = description.get("params", {})
    if not isinstance(params, Mapping):
        raise ValueError(f"expected game parameters as an object, got {type(params).__name__}")
    source = description.get("source")
    if source is None:
        name = description.get("name")
        if game is not None:
            raise ValueError(f"expected --game only for a game defined in a file or module, got the registered "
                             f"game {name!r}")
        if not isinstance(name, str) or name not in game_names():
            raise ValueError(f"expected a certificate for a registered game or a game file, got game name {name!r}")
        return get_game(name, **params)
    if not isinstance(source, Mapping):
        raise ValueError(f"expected the game source as an object, got {type(source).__name__}")
    kind, sha, factory = source.get("kind"), source.get("sha256"), source.get("factory")
    given = source.get("params", {})
    if not isinstance(given, Mapping) or not (factory is None or isinstance(factory, str)):
        raise ValueError(f"expected a game source with params (object) and factory (str or null), got "
                         f"{_shown(dict(source))}")
    if kind not in ("file", "module"):
        raise ValueError(f"expected a game source of kind 'file' (with path, sha256) or 'module' (with module, "
                         f"factory), got {_shown(dict(source))}")
    if not (isinstance(sha, str) and len(sha) == 64 and all(c in "0123456789abcdef" for c in sha)):
        raise ValueError(f"expected the certificate to record the SHA-256 of its game definition (source.sha256, "
                         f"64 hex digits), got {_shown(sha)}: without it the definition cannot be checked")
    stem = description.get("name") if isinstance(description.get("name"), str) else None
    request = _Request(dict(given), sha, stem, allow_code or game is not None, announce,
                       "named by --game" if game is not None else "allowed by --trust-recorded-code")
    if game is not None:
        return _rebuild_named(game, kind, source, factory, request)
    if kind == "module":
        module = source.get("module")
        if not (isinstance(module, str) and factory and all(p.isidentifier() for p in module.split("."))):
            raise ValueError(f"expected a module game source with module and factory, got {_shown(dict(source))}")
        _refuse_code(request, f"{module}:{factory}", f"--game {module}:{factory}")
        return _load_module(module, factory, request.params, expected_sha=sha, request=request,
                            packages=source.get("packages"))
    candidates = _recorded_paths(source, base)
    if not candidates:
        raise ValueError(f"expected a game source of kind 'file' with a path, got {_shown(dict(source))}")
    if any(p.suffix.lower() == ".py" for p in candidates):
        shown = f"{candidates[0]}{':' + factory if factory else ''}"
        _refuse_code(request, shown, f"--game {shown}")
    return _load_file(_first_matching(candidates, sha), factory, request.params, expected_sha=sha, request=request)


@dataclasses.dataclass(frozen=True)
class _Request:
    """How a certificate's game is rebuilt: its recorded parameters, hash and name, and whether code may run."""

    params: dict
    sha: str
    stem: str | None
    code_ok: bool
    announce: object
    why: str

    def running(self, what: str) -> None:
        if self.announce is not None:
            self.announce(f"running game code {what} (SHA-256 {self.sha[:16]}... checked; {self.why})")


def _refuse_code(request: _Request, what: str, how: str) -> None:
    if not request.code_ok:
        raise GameFileError(f"the certificate's game is Python code ({what}); verifying runs it only when you name "
                            f"it: {how}, or --trust-recorded-code (check the code first)")


def _recorded_paths(source: Mapping, base) -> list[Path]:
    """The game file recorded relative to the certificate (first), then at its absolute path."""
    out = []
    rel, path = source.get("relative_path"), source.get("path")
    if isinstance(rel, str) and rel and base is not None:
        out.append((Path(base) / rel).resolve())
    if isinstance(path, str) and path:
        out.append(Path(path).expanduser().resolve())
    for p in out:
        if p.suffix.lower() not in SUFFIXES:
            raise GameFileError(f"expected a game file ending in {', '.join(SUFFIXES)}, got {p}")
    return list(dict.fromkeys(out))


def _first_matching(candidates: list[Path], sha: str) -> Path:
    """The first candidate whose content has the SHA-256 ``sha`` (else the first that exists, or the last)."""
    existing = [p for p in candidates if p.is_file()]
    for p in existing:
        try:
            if _read(p, None)[1] == sha:
                return p
        except GameFileError:
            continue
    return existing[0] if existing else candidates[-1]


def _rebuild_named(ref: str, kind: str, source: Mapping, factory: str | None, request: _Request) -> Game:
    """Rebuilds from the definition the user named (``--game``), which must match the recorded one."""
    if not isinstance(ref, str) or not ref:
        raise ValueError(f"expected --game FILE or MODULE:FACTORY, got {ref!r}")
    split = _split_ref(ref)
    if split is None:
        raise ValueError(f"expected --game FILE (.py, .toml, .json), FILE.py:FACTORY or MODULE:FACTORY, got {ref!r}")
    named_kind, target, attr = split
    if attr is not None and attr != factory:
        raise ValueError(f"expected --game to name the certificate's factory {factory!r}, got {attr!r}")
    if named_kind != kind:
        recorded = source.get("module") if kind == "module" else source.get("path")
        raise ValueError(f"expected --game to name a {'module' if kind == 'module' else 'file'} like the "
                         f"certificate's game ({recorded}), got {ref!r}")
    if kind == "module":
        if target != source.get("module"):
            raise ValueError(f"expected --game to name the certificate's module {source.get('module')!r}, "
                             f"got {target!r}")
        return _load_module(target, factory, request.params, expected_sha=request.sha, request=request,
                            packages=source.get("packages"))
    return _load_file(Path(target), factory, request.params, expected_sha=request.sha, request=request)


def with_relative_path(description: Mapping, certificate_path: str | os.PathLike) -> dict:
    """The game entry with the definition file's path relative to the certificate's folder added.

    A certificate moved together with its game file (committed, checked out elsewhere, mailed)
    then still finds it (:func:`rebuild_game`); the SHA-256 guards the content.

    Examples:
      >>> d = {"name": "g", "source": {"kind": "file", "path": "/data/games/g.toml", "sha256": "0" * 64}}
      >>> with_relative_path(d, "/data/certs/g.cert.json")["source"]["relative_path"]
      '../games/g.toml'
    """
    source = description.get("source")
    if not isinstance(source, Mapping) or not isinstance(source.get("path"), str):
        return dict(description)
    folder = os.path.dirname(os.path.abspath(os.fspath(certificate_path)))
    try:
        rel = os.path.relpath(source["path"], folder)
    except ValueError:  # another drive (Windows): the absolute path is all there is
        return dict(description)
    return {**description, "source": {**source, "relative_path": Path(rel).as_posix()}}


# --- reading and checking files ---------------------------------------------------------------


def _read(path: Path, expected_sha: str | None) -> tuple[bytes, str]:
    if path.is_dir():
        raise GameFileError(f"expected a game file, got the directory {path}")
    if not path.is_file():
        what = "recorded in the certificate " if expected_sha else ""
        raise GameFileError(f"expected the game file {path} {what}to exist, got no such file")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise GameFileError(f"expected a game file of at most {MAX_FILE_BYTES // 2**20} MiB, got {path} "
                            f"of {size / 2**20:.1f} MiB")
    try:
        data = path.read_bytes()
    except OSError as err:
        raise GameFileError(f"cannot read game file {path}: {err.strerror}") from None
    sha = hashlib.sha256(data).hexdigest()
    if expected_sha is not None and sha != expected_sha:
        raise GameFileError(f"game file {path} changed since the certificate was issued "
                            f"(SHA-256 {expected_sha[:16]}... recorded, {sha[:16]}... now)")
    return data, sha


def _finish(game: Game, source: dict, *, stem: str, params: dict | None) -> Game:
    """Records the source; gives a constructor-default name the file's stem."""
    name = stem if game.name in _DEFAULT_NAMES else game.name
    changes = {"name": name, "source": source}
    if params is not None:
        changes["params"] = params
    return dataclasses.replace(game, **changes)


def _load_file(path: Path, attr: str | None, params: dict, *, expected_sha: str | None,
               request: _Request | None = None) -> Game:
    path = path.expanduser().resolve()
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise GameFileError(f"expected a game file ending in {', '.join(SUFFIXES)}, got {path}")
    if suffix != ".py" and attr is not None:
        raise GameFileError(f"expected FILE.py:NAME for a factory, got {path.name}:{attr} (a {suffix} file "
                            "defines one game)")
    if suffix == ".py" and request is not None:
        _refuse_code(request, str(path), f"--game {path}")
    data, sha = _read(path, expected_sha)
    stem = request.stem if request is not None and request.stem else path.stem
    source = {"kind": "file", "path": str(path), "factory": attr, "params": dict(params), "sha256": sha}
    if suffix == ".py":
        if request is not None:
            request.running(f"{path}{':' + attr if attr else ''}")
        module = _run_python(path, data)
        game, merged = _pick(module, attr, params, f"{path.name}:{attr}" if attr else path.name, path)
        return _finish(game, source, stem=stem, params=merged)
    if params:
        raise GameFileError(f"expected no parameters for the declarative game {path.name} (edit the file), "
                            f"got {sorted(params)}")
    doc = _parse(path, data)
    try:
        game = _declarative(doc, path.stem if request is None else stem)
    except (TypeError, ValueError, OverflowError, RecursionError) as err:
        raise GameFileError(f"{path.name}: {_input_error(err)}") from None
    return _finish(game, source, stem=stem, params=None)


def _module_name(path: Path) -> str:
    return "_sgn_game_" + hashlib.sha256(str(path).encode()).hexdigest()[:16]


def _user_error(err: BaseException, path: Path | None) -> str:
    where = ""
    if path is not None:
        frames = [f for f in traceback.extract_tb(err.__traceback__) if Path(f.filename) == path]
        if frames:
            where = f" (line {frames[-1].lineno})"
    return f"{type(err).__name__}: {err}{where}"


def _run_python(path: Path, data: bytes) -> types.ModuleType:
    """Runs the file's bytes (those that were hashed) as a module under a private name."""
    name = _module_name(path)
    module = types.ModuleType(name)
    module.__file__ = str(path)
    folder = str(path.parent)
    if folder not in sys.path:
        sys.path.append(folder)  # appended: sibling imports work, our packages stay first
    sys.modules[name] = module
    try:
        exec(compile(data, str(path), "exec"), module.__dict__)
    except Exception as err:  # the user's code: report it in one line, naming the file and line
        del sys.modules[name]
        raise GameFileError(f"running {path.name} raised {_user_error(err, path)}") from None
    return module


def _pick(module, attr, params, owner, path):
    """The game a module defines: ``attr`` (a factory or a Game), ``game``, or its one Game."""
    if attr is not None:
        if not hasattr(module, attr):
            raise GameFileError(f"expected {owner.split(':')[0]} to define {attr!r}, got no such name")
        obj = getattr(module, attr)
        if isinstance(obj, Game):
            if params:
                raise GameFileError(f"expected no parameters for the game object {owner}, got {sorted(params)}")
            return obj, dict(obj.params)
        if not callable(obj):
            raise GameFileError(f"expected {owner} to be a factory or a games.Game, got {type(obj).__name__}")
        try:
            return call_factory(owner, obj, params)
        except (TypeError, ValueError) as err:
            if _raised_in(err, path):
                raise GameFileError(f"{owner} raised {_user_error(err, path)}") from None
            raise
        except Exception as err:  # the user's factory failed: one line naming the file and line
            raise GameFileError(f"{owner} raised {_user_error(err, path)}") from None
    if params:
        raise GameFileError(f"expected FILE.py:FACTORY to pass parameters, got {owner} (a module with a game) and "
                            f"{sorted(params)}")
    found = getattr(module, "game", None)
    if isinstance(found, Game):
        return found, dict(found.params)
    if found is not None:
        raise GameFileError(f"expected `game` in {owner} to be a games.Game, got {type(found).__name__} {found!r:.60}")
    candidates = [k for k, v in vars(module).items() if isinstance(v, Game) and not k.startswith("_")]
    if len(candidates) != 1:
        got = f"{len(candidates)} ({', '.join(candidates)})" if candidates else "none"
        raise GameFileError(f"expected {owner} to define `game` (a games.Game) or exactly one Game, got {got}; "
                            f"name one, or a factory, as {owner}:NAME")
    obj = getattr(module, candidates[0])
    return obj, dict(obj.params)


def _raised_in(err: BaseException, path: Path | None) -> bool:
    """The exception came from the user's file (not from our validation of the parameters)."""
    return path is not None and any(Path(f.filename) == path for f in traceback.extract_tb(err.__traceback__))


def _locate_module(module_name: str) -> list[tuple[str, object]]:
    """``[(name, spec), ...]`` of the module and its parent packages, found on ``sys.path`` without running any.

    (``importlib.util.find_spec("pkg.mod")`` imports ``pkg`` first, running its ``__init__.py``.)
    """
    chain, search = [], None
    parts = module_name.split(".")
    for k in range(len(parts)):
        name = ".".join(parts[: k + 1])
        loaded = sys.modules.get(name)
        if loaded is not None and k < len(parts) - 1 and getattr(loaded, "__spec__", None) is not None:
            spec = loaded.__spec__
        else:
            try:
                spec = importlib.machinery.PathFinder.find_spec(name, search)
            except (ImportError, ValueError) as err:
                raise GameFileError(f"cannot import module {module_name!r}: {err}") from None
        if spec is None:
            raise GameFileError(f"expected an importable module {module_name!r} (run sgn from the folder that holds "
                                f"it, or install it), got none")
        if k < len(parts) - 1 and spec.submodule_search_locations is None:
            raise GameFileError(f"expected {name!r} to be a package holding {module_name!r}, got a module")
        chain.append((name, spec))
        search = list(spec.submodule_search_locations or [])
    return chain


def _source_file(spec) -> Path | None:
    origin = getattr(spec, "origin", None)
    if not origin or not os.path.isfile(origin) or not origin.endswith(".py"):
        return None
    return Path(origin).resolve()


def _load_module(module_name: str, attr: str, params: dict, *, expected_sha: str | None,
                 request: _Request | None = None, packages=None) -> Game:
    """Runs the module's hashed source (and its parent packages' hashed ``__init__.py``), never bytecode."""
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.append(cwd)  # appended: the user's packages import, ours are not shadowed
    chain = _locate_module(module_name)
    origin = _source_file(chain[-1][1])
    if origin is None:
        raise GameFileError(f"expected module {module_name!r} to come from a Python source file (its SHA-256 is "
                            f"recorded and checked), got {chain[-1][1].origin!r}")
    recorded = packages if isinstance(packages, Mapping) else {}
    if expected_sha is not None and packages is not None and not isinstance(packages, Mapping):
        raise GameFileError(f"expected source.packages as an object of SHA-256 digests, got {_shown(packages)}")
    hashed, texts = {}, []
    for name, spec in chain[:-1]:  # parent packages: hashed before any of them runs
        init = _source_file(spec)
        if init is None:
            continue  # a namespace package: no code
        data, sha = _read(init, recorded.get(name) if expected_sha is not None else None)
        if expected_sha is not None and name not in recorded and name not in sys.modules:
            raise GameFileError(f"expected the certificate to record the SHA-256 of package {name!r} ({init}), "
                                "which runs before the game's module, got none")
        hashed[name] = sha
        texts.append((name, spec, init, data))
    data, sha = _read(origin, expected_sha)
    texts.append((module_name, chain[-1][1], origin, data))
    if request is not None:
        request.running(f"{module_name}:{attr} ({origin})")
    module = None
    for name, spec, path, text in texts:
        module = _exec_module(name, spec, path, text, origin)
    game, merged = _pick(module, attr, params, f"{module_name}:{attr}", origin)
    source = {"kind": "module", "module": module_name, "path": str(origin), "factory": attr, "params": dict(params),
              "sha256": sha}
    if hashed:
        source["packages"] = hashed
    stem = request.stem if request is not None and request.stem else module_name.rpartition(".")[2]
    return _finish(game, source, stem=stem, params=merged)


def _exec_module(name: str, spec, path: Path, data: bytes, origin: Path):
    """The module ``name`` from exactly ``data`` (reused when already imported from a file with these bytes)."""
    loaded = sys.modules.get(name)
    if loaded is not None and getattr(loaded, "__file__", None):
        try:
            if Path(loaded.__file__).resolve() == path and Path(loaded.__file__).read_bytes() == data:
                return loaded
        except OSError:
            pass
    module = importlib.util.module_from_spec(spec)
    module.__file__ = str(path)
    module.__cached__ = None  # never read or written: the hashed source is what runs
    sys.modules[name] = module
    try:
        exec(compile(data, str(path), "exec"), module.__dict__)
    except Exception as err:  # the user's module failed to import: one line
        sys.modules.pop(name, None)
        raise GameFileError(f"importing {name} raised {_user_error(err, origin)}") from None
    parent, _, child = name.rpartition(".")
    if parent and parent in sys.modules:
        setattr(sys.modules[parent], child, module)
    return module


# --- declarative games --------------------------------------------------------------------------


MAX_DEPTH = 32
"""Deepest nesting of lists and tables a declarative game file may have (a payoff tensor of rank 30 is deep)."""


def _too_deep(doc, limit: int = MAX_DEPTH) -> bool:
    """Whether ``doc`` nests lists / tables deeper than ``limit`` (checked without recursion)."""
    stack = [(doc, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth >= limit:
                return True
            stack.extend((v, depth + 1) for v in (value.values() if isinstance(value, dict) else value))
    return False


def _input_error(err: BaseException) -> str:
    """A parser's or builder's complaint about malformed numbers or nesting, as one clear line."""
    if isinstance(err, RecursionError):
        return f"expected lists and tables nested at most {MAX_DEPTH} deep, got deeper nesting"
    if isinstance(err, OverflowError):
        return "expected numbers within float64 range (about 1.8e308), got a larger one"
    return str(err)


def _parse(path: Path, data: bytes) -> dict:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise GameFileError(f"expected a UTF-8 text file, got undecodable bytes in {path.name}") from None
    try:
        doc = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise GameFileError(f"{path.name}: invalid TOML ({err})") from None
    except json.JSONDecodeError as err:
        raise GameFileError(f"{path.name}: invalid JSON ({err.msg} at line {err.lineno}, column {err.colno})") from None
    except RecursionError as err:
        raise GameFileError(f"{path.name}: {_input_error(err)}") from None
    except ValueError as err:  # e.g. an integer of more digits than Python converts
        raise GameFileError(f"{path.name}: expected numbers of reasonable size, got {' '.join(str(err).split())}") \
            from None
    if not isinstance(doc, dict):
        raise GameFileError(f"{path.name}: expected a table/object at the top level, got {type(doc).__name__}")
    if _too_deep(doc):
        raise GameFileError(f"{path.name}: {_input_error(RecursionError())}")
    return doc


def _shown(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _keys(doc: dict, where: str, allowed: tuple, required: tuple = ()):
    unknown = sorted(set(doc) - set(allowed))
    if unknown:
        raise ValueError(f"{where}unknown key {unknown[0]!r} (expected keys: {', '.join(allowed)})")
    for key in required:
        if key not in doc:
            raise ValueError(f"{where}{key}: expected a value, got none (the key is required)")


def _is_number(x) -> bool:
    """A TOML/JSON number that is a float64 (an integer beyond float range is not)."""
    if isinstance(x, bool) or not isinstance(x, int | float):
        return False
    return not isinstance(x, int) or abs(x) < 2**1023


def _number(value, path: str, *, least: float | None = None, below: float | None = None) -> float:
    if not _is_number(value) or not math.isfinite(value):
        raise ValueError(f"{path}: expected a finite number, got {_shown(value)}")
    if least is not None and value < least:
        raise ValueError(f"{path}: expected a number >= {least:g}, got {value!r}")
    if below is not None and value >= below:
        raise ValueError(f"{path}: expected a number < {below:g}, got {value!r}")
    return float(value)


def _positive_int(value, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{path}: expected a positive integer, got {_shown(value)}")
    return value


def _array(value, path: str, ndim: int | None, what: str) -> np.ndarray:
    """Nested lists of finite numbers, rectangular, of rank ``ndim`` (any rank when ``None``)."""

    def leaves_ok(v):
        if isinstance(v, list):
            return all(leaves_ok(u) for u in v)
        return _is_number(v)

    if not isinstance(value, list) or not leaves_ok(value):
        raise ValueError(f"{path}: expected {what} (nested lists of numbers), got {_shown(value)}")
    try:
        arr = np.asarray(value, dtype=np.float64)
    except ValueError:
        raise ValueError(f"{path}: expected {what} with rows of equal length, got a ragged list") from None
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{path}: expected {what} (rank {ndim}), got an array of shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{path}: expected a non-empty {what}, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{path}: expected finite numbers, got NaN or Inf")
    return arr


def _vector_or_number(value, path: str, size: int) -> np.ndarray:
    if _is_number(value):
        return np.full(size, _number(value, path))
    arr = _array(value, path, 1, "a vector")
    if arr.shape != (size,):
        raise ValueError(f"{path}: expected a number or a vector of length {size}, got length {arr.shape[0]}")
    return arr


def _strategy_set(value, path: str, dim: int):
    if value in ("unconstrained", "simplex"):
        return Unconstrained() if value == "unconstrained" else Simplex()
    if not isinstance(value, dict):
        raise ValueError(f"{path}: expected \"unconstrained\", \"simplex\" or a table with type = \"box\" | "
                         f"\"ball\", got {_shown(value)}")
    kind = value.get("type")
    if kind == "box":
        _keys(value, f"{path}.", ("type", "lo", "hi"), ("lo", "hi"))
        lo = _vector_or_number(value["lo"], f"{path}.lo", dim)
        hi = _vector_or_number(value["hi"], f"{path}.hi", dim)
        _box(lo, hi, path, "box")
        scalar = _is_number(value["lo"]) and _is_number(value["hi"])
        return Box(float(lo[0]), float(hi[0])) if scalar else Box(tuple(lo.tolist()), tuple(hi.tolist()))
    if kind == "ball":
        _keys(value, f"{path}.", ("type", "radius", "center"), ("radius",))
        radius = _number(value["radius"], f"{path}.radius")
        if radius <= 0:
            raise ValueError(f"{path}.radius: expected a positive number, got {value['radius']!r}")
        center = _vector_or_number(value.get("center", 0.0), f"{path}.center", dim)
        return Ball(radius, tuple(center.tolist()))
    if kind in ("simplex", "unconstrained"):
        _keys(value, f"{path}.", ("type",))
        return Simplex() if kind == "simplex" else Unconstrained()
    raise ValueError(f"{path}.type: expected \"box\", \"ball\", \"simplex\" or \"unconstrained\", got {_shown(kind)}")


def _region(value, dim: int) -> Region:
    if not isinstance(value, dict):
        raise ValueError(f"region: expected a table {{lo = ..., hi = ...}}, got {_shown(value)}")
    _keys(value, "region.", ("lo", "hi"), ("lo", "hi"))
    lo = _vector_or_number(value["lo"], "region.lo", dim)
    hi = _vector_or_number(value["hi"], "region.hi", dim)
    _box(lo, hi, "region", "region")
    return Region(lo, hi)


def _box(lo, hi, path: str, what: str) -> None:
    """:func:`sgn._checks.check_box`, its message led by the file's ``path``."""
    try:
        _checks.check_box(lo, hi, what)
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from None


def _players(doc: dict, field: str) -> list:
    players = doc["players"]
    if not isinstance(players, list) or not players:
        raise ValueError(f"players: expected a non-empty list of tables, got {_shown(players)}")
    for i, p in enumerate(players):
        if not isinstance(p, dict):
            raise ValueError(f"players[{i}]: expected a table with {field!r}, got {_shown(p)}")
    return players


_COMMON = ("kind", "name", "description")


def _quadratic(doc: dict, name: str, description: str) -> Game:
    _keys(doc, "", (*_COMMON, "J", "b", "players", "region"), ("J",))
    jac = _array(doc["J"], "J", 2, "a square matrix")
    d = jac.shape[0]
    if jac.shape != (d, d):
        raise ValueError(f"J: expected a square matrix, got shape {jac.shape}")
    b = None if "b" not in doc else _vector_or_number(doc["b"], "b", d)
    if "players" in doc:
        players = _players(doc, "dim")
        dims, sets = [], []
        for i, p in enumerate(players):
            _keys(p, f"players[{i}].", ("dim", "set", "name"), ("dim",))
            dims.append(_positive_int(p["dim"], f"players[{i}].dim"))
            sets.append(_strategy_set(p.get("set", "unconstrained"), f"players[{i}].set", dims[-1]))
        if sum(dims) != d:
            raise ValueError(f"players: expected dims summing to {d} (the size of J), got {dims} (sum {sum(dims)})")
    else:
        dims, sets = [1] * d, None
    region = _region(doc["region"], d) if "region" in doc else None
    return quadratic(jac, b=b, dims=tuple(dims), sets=sets, name=name, region=region, description=description)


def _tau(doc: dict) -> float:
    return _number(doc["tau"], "tau", least=0.0)


def _matrix(doc: dict, name: str, description: str) -> Game:
    _keys(doc, "", (*_COMMON, "A", "B", "payoffs", "tau"), ("tau",))
    if ("A" in doc) == ("payoffs" in doc):
        raise ValueError("A / payoffs: expected exactly one of A (with optional B) and payoffs, got "
                         f"{'both' if 'A' in doc else 'neither'}")
    if "A" in doc:
        a = _array(doc["A"], "A", 2, "a payoff matrix")
        b = None if "B" not in doc else _array(doc["B"], "B", 2, "a payoff matrix")
        if b is not None and b.shape != a.shape:
            raise ValueError(f"B: expected the shape of A {a.shape}, got {b.shape}")
        return matrix_game(a, b, tau=_tau(doc), name=name, description=description)
    if "B" in doc:
        raise ValueError("B: expected B only beside A, got it beside payoffs")
    tensors = doc["payoffs"]
    if not isinstance(tensors, list) or len(tensors) < 2:
        raise ValueError(f"payoffs: expected a list of N >= 2 payoff tensors, got {_shown(tensors)}")
    arrays = [_array(t, f"payoffs[{k}]", len(tensors), f"a rank-{len(tensors)} payoff tensor")
              for k, t in enumerate(tensors)]
    for k, t in enumerate(arrays):
        if t.shape != arrays[0].shape:
            raise ValueError(f"payoffs[{k}]: expected shape {arrays[0].shape} like payoffs[0], got {t.shape}")
    return matrix_game(arrays, tau=_tau(doc), name=name, description=description)


def _polymatrix(doc: dict, name: str, description: str) -> Game:
    _keys(doc, "", (*_COMMON, "players", "payoffs", "tau"), ("players", "payoffs"))
    players = _players(doc, "actions")
    actions = []
    for i, p in enumerate(players):
        _keys(p, f"players[{i}].", ("actions", "name"), ("actions",))
        actions.append(_positive_int(p["actions"], f"players[{i}].actions"))
    check_dense_dim(sum(actions), "players: a polymatrix game")
    n = len(actions)
    edges = doc["payoffs"]
    if not isinstance(edges, list) or not edges:
        raise ValueError(f"payoffs: expected a non-empty list of tables {{players = [i, j], A = ...}}, got "
                         f"{_shown(edges)}")
    blocks = {}
    for k, e in enumerate(edges):
        where = f"payoffs[{k}]"
        if not isinstance(e, dict):
            raise ValueError(f"{where}: expected a table {{players = [i, j], A = ...}}, got {_shown(e)}")
        _keys(e, f"{where}.", ("players", "A"), ("players", "A"))
        pair = e["players"]
        if (not isinstance(pair, list) or len(pair) != 2 or any(isinstance(v, bool) or not isinstance(v, int)
                                                               or not 0 <= v < n for v in pair) or pair[0] == pair[1]):
            raise ValueError(f"{where}.players: expected two distinct player indices in [0, {n - 1}], got "
                             f"{_shown(pair)}")
        i, j = pair
        a = _array(e["A"], f"{where}.A", 2, "a payoff matrix")
        if a.shape != (actions[i], actions[j]):
            raise ValueError(f"{where}.A: expected shape {(actions[i], actions[j])} (actions of players {i} and {j}), "
                             f"got {a.shape}")
        if (i, j) in blocks:
            raise ValueError(f"{where}.players: expected each pair once, got {pair} again")
        blocks[(i, j)] = a
    if "tau" not in doc:
        return polymatrix(blocks, tuple(actions), name=name, description=description)
    size = math.prod(actions) * n
    if size > MAX_TENSOR:
        raise ValueError(f"players: expected at most {MAX_TENSOR} payoff entries in all with tau (players x "
                         f"joint action profiles), got {size}")
    tensors = []
    for i in range(n):
        t = np.zeros(actions)
        for (p, q), a in blocks.items():
            if p == i:
                shape = [1] * n
                shape[p], shape[q] = actions[p], actions[q]
                t = t + (a if p < q else a.T).reshape(shape)
        tensors.append(t)
    return matrix_game(tensors, tau=_tau(doc), name=name, description=description)


def _markov(doc: dict, name: str, description: str) -> Game:
    _keys(doc, "", (*_COMMON, "transitions", "rewards", "gamma", "tau", "initial"),
          ("transitions", "rewards", "gamma", "tau"))
    p = _array(doc["transitions"], "transitions", None, "a transition tensor")
    r = _array(doc["rewards"], "rewards", None, "a reward tensor")
    initial = None if "initial" not in doc else _array(doc["initial"], "initial", 1, "a probability vector")
    gamma = _number(doc["gamma"], "gamma", least=0.0, below=1.0)
    return markov_game(p, r, gamma=gamma, tau=_tau(doc), initial=initial, name=name, description=description)


_BUILDERS = {"quadratic": _quadratic, "matrix": _matrix, "polymatrix": _polymatrix, "markov": _markov}


def _declarative(doc: dict, stem: str) -> Game:
    kind = doc.get("kind")
    if kind not in _BUILDERS:
        raise ValueError(f"kind: expected one of {', '.join(repr(k) for k in KINDS)}, got {_shown(kind)}")
    name = doc.get("name", stem)
    description = doc.get("description", "")
    for key, value in (("name", name), ("description", description)):
        if not isinstance(value, str) or (key == "name" and not value):
            raise ValueError(f"{key}: expected a{' non-empty' if key == 'name' else ''} string, got {_shown(value)}")
    return _BUILDERS[kind](doc, name, description)
