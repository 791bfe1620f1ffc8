"""Named example games, listed by ``sgn games`` and built by :func:`get_game`.

Each entry is a factory with keyword parameters (defaults reproduce the paper or the
literature) and a one-line description of what it demonstrates.

References:
  Vedula et al., `Small-Gain Nash <https://arxiv.org/abs/2512.06791>`_, 2025 (sgn-toy, lq64).
  Letcher et al., `Stable Opponent Shaping in Differentiable Games
  <https://arxiv.org/abs/1811.08469>`_, 2019 (tandem).
  Letcher, `On the Impossibility of Global Convergence in Multi-Loss Optimization
  <https://arxiv.org/abs/2005.12649>`_, 2021 (impossibility).
"""

from __future__ import annotations

import dataclasses
import difflib
import inspect
from collections.abc import Callable, Mapping

import numpy as np

from games._constructors import bilinear, bimatrix, from_losses, from_pseudo_gradient, quadratic
from games._game import Game
from games._region import Region
from sgn._backend import jnp

MEMORY_BUDGET = 2 * 2**30
"""Bytes a game's construction and certification may be estimated to need (2 GiB): larger sizes, set by a
parameter, a game file or a certificate, are refused before anything is allocated."""
DENSE_BYTES_PER_ENTRY = 32
"""Estimated bytes per entry of a dense ``d x d`` Jacobian, with the copies and workspace of its eigenvalues."""


def check_memory(estimate: float, what: str) -> None:
    """Refuses ``what`` when its estimated memory ``estimate`` (bytes) exceeds :data:`MEMORY_BUDGET`.

    Raises:
      ValueError: naming what was asked for, the estimate and the budget.

    Examples:
      >>> check_memory(1e6, "a small game")
      >>> check_memory(1e12, "a huge game")
      Traceback (most recent call last):
        ...
      ValueError: expected sizes that fit the memory budget of 2 GiB, got a huge game (about 931 GiB)
    """
    if not estimate <= MEMORY_BUDGET:
        raise ValueError(f"expected sizes that fit the memory budget of {MEMORY_BUDGET / 2**30:g} GiB, got {what} "
                         f"(about {estimate / 2**30:.3g} GiB)")


def check_dense_dim(dim: int, what: str) -> None:
    """Refuses a dense joint dimension whose Jacobian would not fit :data:`MEMORY_BUDGET`.

    Examples:
      >>> check_dense_dim(64, "lq64")
    """
    entries = float(min(int(dim), 10**15)) ** 2
    check_memory(DENSE_BYTES_PER_ENTRY * entries, f"{what} of joint dimension {dim} (dense Jacobian)")


@dataclasses.dataclass(frozen=True)
class _Entry:
    factory: Callable[..., Game]
    description: str


_REGISTRY: dict[str, _Entry] = {}


def register(name: str, description: str):
    """Decorator registering a game factory under ``name`` with a one-line description.

    Examples:
      >>> "sgn-toy" in game_names()
      True
    """

    def wrap(factory):
        old = _REGISTRY.get(name)
        # A module executed twice (e.g. by doctest collection) re-registers the same definition:
        # accept that; a different factory under a taken name is an error.
        same = old is not None and (old.factory.__module__, old.factory.__qualname__) == (
            factory.__module__, factory.__qualname__)
        if old is not None and not same:
            raise ValueError(f"expected a new game name, got duplicate {name!r}")
        if old is None:
            _REGISTRY[name] = _Entry(factory, description)
        return factory

    return wrap


def game_names() -> list[str]:
    """Registered game names, sorted.

    Examples:
      >>> import games  # the package registers every example
      >>> games.game_names()[:2]
      ['battle-of-sexes', 'biased-rps']
    """
    return sorted(_REGISTRY)


def game_description(name: str) -> str:
    """The one-line description of a registered game.

    Examples:
      >>> import games
      >>> games.game_description("rotation")
      "Curvature plus rotation: SGN's comparison matrix refuses; the direct Euclidean test certifies."
    """
    return _entry(name).description


REQUIRED = inspect.Parameter.empty
"""The "default" of a factory parameter that has none (it must be given)."""


def factory_parameters(factory: Callable) -> dict:
    """Keyword parameters of a game factory with their defaults (``REQUIRED`` where there is none).

    ``*args`` and ``**kwargs`` are not listed.

    Examples:
      >>> factory_parameters(lambda n, coupling=0.2: None)
      {'n': <class 'inspect._empty'>, 'coupling': 0.2}
    """
    sig = inspect.signature(factory)
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return {k: p.default for k, p in sig.parameters.items() if p.kind in kinds}


def game_parameters(name: str) -> dict:
    """Keyword parameters of a registered game with their defaults.

    Examples:
      >>> game_parameters("sgn-toy")
      {'a': 10.0, 'b': 0.05, 'mu1': 1.0, 'mu2': 1.0}
    """
    return factory_parameters(_entry(name).factory)


def did_you_mean(name: str) -> str:
    """`` (did you mean 'sgn-toy'?)`` for a near miss of a registered name, else ``""``.

    Examples:
      >>> did_you_mean("sgn_toy"), did_you_mean("zzzz")
      (" (did you mean 'sgn-toy'?)", '')
    """
    close = difflib.get_close_matches(str(name).lower(), game_names(), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _entry(name: str) -> _Entry:
    if name not in _REGISTRY:
        raise ValueError(f"expected a registered game ({', '.join(game_names())}), got {name!r}{did_you_mean(name)}")
    return _REGISTRY[name]


def call_factory(owner: str, factory: Callable, params: Mapping) -> tuple[Game, dict]:
    """Validates keyword ``params`` against a factory's signature, calls it, checks the result.

    Every parameter must be one of the factory's (unless it takes ``**kwargs``); a numeric default
    asks for a finite number (an integer where the default is an int), a boolean or string default
    for a value of that type; parameters without a default must be given.

    Args:
      owner: how errors name the factory (a registered name, ``file.py:make_game``, ...).
      factory: the callable.
      params: keyword arguments.

    Returns:
      ``(game, merged)``: the :class:`Game` and the parameters with the defaults filled in.

    Raises:
      ValueError, TypeError: unknown, missing or ill-typed parameters; a factory returning no game.

    Examples:
      >>> game, merged = call_factory("toy", _sgn_toy, {"a": 5})
      >>> merged, game.constant_jacobian.tolist()
      ({'a': 5, 'b': 0.05, 'mu1': 1.0, 'mu2': 1.0}, [[1.0, 5.0], [0.05, 1.0]])
      >>> call_factory("toy", _sgn_toy, {"z": 1})
      Traceback (most recent call last):
        ...
      ValueError: expected parameters of 'toy' among ['a', 'b', 'mu1', 'mu2'], got ['z']
    """
    allowed = factory_parameters(factory)
    open_ended = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in inspect.signature(factory).parameters.values())
    unknown = sorted(set(params) - set(allowed))
    if unknown and not open_ended:
        raise ValueError(f"expected parameters of {owner!r} among {sorted(allowed) or 'none'}, got {unknown}")
    missing = [k for k, default in allowed.items() if default is REQUIRED and k not in params]
    if missing:
        raise ValueError(f"expected a value for the required parameters {missing} of {owner!r}, got none")
    for key, value in params.items():
        _check_param(owner, key, value, allowed.get(key, REQUIRED))
    params = {key: _as_declared(value, allowed.get(key, REQUIRED)) for key, value in params.items()}
    game = factory(**params)
    if not isinstance(game, Game):
        raise TypeError(f"expected {owner!r} to return a games.Game, got {type(game).__name__}")
    return game, {**{k: v for k, v in allowed.items() if v is not REQUIRED}, **params}


def _as_declared(value, default):
    """A whole number given for an int parameter (``10.0``, ``np.int64(10)``) as a Python ``int``."""
    if isinstance(default, int) and not isinstance(default, bool) and not isinstance(value, bool):
        return int(value)
    return value


def get_game(name: str, **params) -> Game:
    """Builds a registered game.

    Args:
      name: a name from :func:`game_names`.
      **params: keyword parameters of that game (see :func:`game_parameters`).

    Raises:
      ValueError: for an unknown name or parameter.

    Examples:
      >>> get_game("sgn-toy").constant_jacobian.tolist()
      [[1.0, 10.0], [0.05, 1.0]]
    """
    entry = _entry(name)
    game, merged = call_factory(name, entry.factory, params)
    return dataclasses.replace(game, name=name, params=merged, description=entry.description)


def _check_param(game: str, key: str, value, default) -> None:
    """A numeric default asks for a finite number (an integer where the default is an int); bool and str alike."""
    if isinstance(default, bool) or isinstance(default, str):
        if not isinstance(value, type(default)):
            raise TypeError(f"expected a {type(default).__name__} for parameter {key!r} of {game!r}, "
                            f"got {type(value).__name__} {value!r}")
        return
    if not isinstance(default, int | float):
        return
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"expected a number for parameter {key!r} of {game!r}, got {type(value).__name__} {value!r}")
    if not np.isfinite(value):
        raise ValueError(f"expected a finite parameter {key!r} of {game!r}, got {value!r}")
    if isinstance(default, int) and float(value) != int(value):
        raise ValueError(f"expected an integer for parameter {key!r} of {game!r}, got {value!r}")


@register("sgn-toy", "Paper's 2-D toy: the Euclidean test fails (-4.025), SGN certifies with w ∝ (1, 200).")
def _sgn_toy(a: float = 10.0, b: float = 0.05, mu1: float = 1.0, mu2: float = 1.0) -> Game:
    return quadratic([[mu1, a], [b, mu2]], params={})


def lq_coupling_matrix(half: int, seed: int) -> np.ndarray:
    """The seeded random orthogonal ``R`` of the LQ family (QR with a sign fix).

    Examples:
      >>> import numpy as np
      >>> r = lq_coupling_matrix(4, 0)
      >>> bool(np.allclose(r @ r.T, np.eye(4)))  # orthogonal: ||R||_2 = 1
      True
    """
    rng = np.random.default_rng(seed)
    q, r = np.linalg.qr(rng.standard_normal((half, half)))
    return q * np.sign(np.diag(r))[None, :]


@register("lq64", "Paper's 64-d LQ family: SGN certifies exactly lam < sqrt(2); Euclidean only lam < 0.199.")
def _lq64(lam: float = 1.0, a: float = 10.0, b: float = 0.05, half: int = 32, seed: int = 12345) -> Game:
    half = int(half)
    if not 1 <= half <= 5000:  # joint dim <= 1e4: a larger dense QR/Jacobian would take minutes
        raise ValueError(f"expected half >= 1 and half <= 5000 (joint dim at most 1e4), got {half}")
    r = lq_coupling_matrix(half, int(seed))
    eye = np.eye(half)
    jac = np.block([[eye, lam * a * r], [lam * b * r.T, eye]])
    return quadratic(jac, dims=(half, half), params={})


@register("cyclic3", "Three players in a cycle of couplings (2, 2, 0.1): certified with w ∝ (1, 7.37, 54.3).")
def _cyclic3(l12: float = 2.0, l23: float = 2.0, l31: float = 0.1) -> Game:
    return quadratic([[1.0, l12, 0.0], [0.0, 1.0, l23], [l31, 0.0, 1.0]], params={})


@register("rotation", "Curvature plus rotation: SGN's comparison matrix refuses; the direct Euclidean test certifies.")
def _rotation(mu: float = 1.0, c: float = 2.0) -> Game:
    return quadratic([[mu, c], [-c, mu]], params={})


@register("saddle", "A true saddle (eigenvalues 4, -2): gradient play diverges and SGN refuses.")
def _saddle(mu: float = 1.0, c: float = 3.0) -> Game:
    return quadratic([[mu, c], [c, mu]], params={})


@register("bilinear", "min_x max_y xy: no curvature, gradient play spirals out; not certifiable.")
def _bilinear(mu: float = 0.0) -> Game:
    return bilinear([[1.0]], mu=mu)


@register("matching-pennies", "Matching pennies on simplices without entropy: zero curvature, refused.")
def _matching_pennies() -> Game:
    return bimatrix([[1.0, -1.0], [-1.0, 1.0]])


@register("rps", "Rock-paper-scissors on simplices without entropy: zero curvature, refused.")
def _rps() -> Game:
    return bimatrix([[0.0, -1.0, 1.0], [1.0, 0.0, -1.0], [-1.0, 1.0, 0.0]])


@register("tandem", "Letcher et al.'s tandem game (x+y)^2 - 2x, (x+y)^2 - 2y: on the small-gain boundary.")
def _tandem() -> Game:
    return from_losses([lambda z: (z[0] + z[1]) ** 2 - 2 * z[0],
                        lambda z: (z[0] + z[1]) ** 2 - 2 * z[1]], (1, 1),
                       region=Region([-2.0, -2.0], [2.0, 2.0]))


def _impossibility_losses():
    def shared(z):
        x, y = z[0], z[1]
        return 0.25 * (y**4 / (1 + x**2) - x**4 / (1 + y**2))

    def f1(z):
        x, y = z[0], z[1]
        return x**6 / 6 - x**2 / 2 + x * y + shared(z)

    def f2(z):
        x, y = z[0], z[1]
        return y**6 / 6 - y**2 / 2 - x * y - shared(z)

    return [f1, f2]


@register("impossibility", "Letcher's coercive game whose only critical point is a strict maximum: refused.")
def _impossibility(radius: float = 1.0) -> Game:
    return from_losses(_impossibility_losses(), (1, 1),
                       region=Region.around(np.zeros(2), radius))


@register("tanh-sin", "Nonlinear 2-player game F = (x + tanh(y)/2 + x^3/10, y - 0.8 sin x) on a box.")
def _tanh_sin(radius: float = 1.0, coupling: float = 1.0) -> Game:
    def pseudo_gradient(z):
        x, y = z[0], z[1]
        return jnp.stack([x + 0.5 * coupling * jnp.tanh(y) + 0.1 * x**3,
                          y - 0.8 * coupling * jnp.sin(x)])

    return from_pseudo_gradient(pseudo_gradient, (1, 1), region=Region.around(np.zeros(2), radius))
