"""Parsing of the CLI's values: ``--param KEY=VALUE``, swept ranges ``KEY=START:STOP:COUNT``, ``--region``."""

from __future__ import annotations

import json
import math
import re

import numpy as np

from games import Region

MAX_COUNT = 100_000
"""Most values one swept range may hold."""
MAX_SEED = 2**32 - 1
"""Largest ``--seed`` (seeds are 32-bit)."""


def check_seed(seed: int) -> None:
    """``--seed`` must be an integer in ``[0, MAX_SEED]``.

    Examples:
      >>> check_seed(10**20)
      Traceback (most recent call last):
        ...
      certify.cli._args.UsageError: expected --seed between 0 and 4294967295, got 100000000000000000000
    """
    if not 0 <= seed <= MAX_SEED:
        raise UsageError(f"expected --seed between 0 and {MAX_SEED}, got {seed}")


class UsageError(Exception):
    """A user mistake: printed as one line, exit code 2.

    Examples:
      >>> str(UsageError("expected --seed >= 0, got -1"))
      'expected --seed >= 0, got -1'
    """


def _parse_value(text: str):
    """A number where the text is one, ``true``/``false`` as booleans, else the text itself."""
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(text.lower(), text)


def parse_params(items) -> dict:
    """``["lam=0.5", "seed=3", "mode=fast"]`` -> ``{"lam": 0.5, "seed": 3, "mode": "fast"}``.

    Values are numbers where they read as one, ``true``/``false`` booleans, else strings; the
    game's factory checks them against its defaults.

    Examples:
      >>> parse_params(["lam=0.5", "seed=3", "mode=fast", "full=true"])
      {'lam': 0.5, 'seed': 3, 'mode': 'fast', 'full': True}
    """
    params = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise UsageError(f"expected --param KEY=VALUE, got {item!r}")
        if key.strip() in params:
            raise UsageError(f"expected each --param once, got {key.strip()!r} twice")
        params[key.strip()] = _parse_value(value.strip())
    return params


NEGATIVE_VALUE_OPTIONS = ("--region",)
"""Options whose value may start with a minus sign (``--region -1:1``)."""
_NEGATIVE = re.compile(r"^-[0-9.]")


def join_negative_values(argv: list[str]) -> list[str]:
    """``["--region", "-1:1"]`` -> ``["--region=-1:1"]`` so that argparse does not read ``-1:1`` as an option.

    Examples:
      >>> join_negative_values(["certify", "tanh-sin", "--region", "-1:1", "--json"])
      ['certify', 'tanh-sin', '--region=-1:1', '--json']
    """
    out, k = [], 0
    while k < len(argv):
        token = argv[k]
        if token in NEGATIVE_VALUE_OPTIONS and k + 1 < len(argv) and _NEGATIVE.match(argv[k + 1]):
            out.append(f"{token}={argv[k + 1]}")
            k += 2
        else:
            out.append(token)
            k += 1
    return out


def parse_range(item: str):
    """``"lam=0:2:61"`` -> ``("lam", linspace(0, 2, 61))``; raises :class:`UsageError` when malformed.

    Examples:
      >>> key, vals = parse_range("lam=0:2:5")
      >>> key, vals.tolist()
      ('lam', [0.0, 0.5, 1.0, 1.5, 2.0])
    """
    key, sep, spec = item.partition("=")
    key = key.strip()
    parts = spec.split(":")
    if not sep or not key or len(parts) != 3:
        raise UsageError(f"expected --param KEY=START:STOP:COUNT (e.g. lam=0:2:61), got {item!r}")
    try:
        start, stop = float(parts[0]), float(parts[1])
        count = int(parts[2])
    except ValueError:
        raise UsageError(f"expected numbers START:STOP and an integer COUNT in --param, got {item!r}") from None
    if not (math.isfinite(start) and math.isfinite(stop)):
        raise UsageError(f"expected finite START and STOP in --param, got {item!r}")
    if not 2 <= count <= MAX_COUNT:
        raise UsageError(f"expected COUNT between 2 and {MAX_COUNT} in --param, got {count}")
    return key, np.linspace(start, stop, count)


def split_sweep_params(items):
    """Exactly one swept ``KEY=START:STOP:COUNT`` among ``--param`` items; the rest fixed.

    Examples:
      >>> key, values, fixed = split_sweep_params(["lam=0:1:3", "half=4"])
      >>> key, values.tolist(), fixed
      ('lam', [0.0, 0.5, 1.0], {'half': 4})
    """
    ranges, fixed = [], []
    for item in items or []:
        (ranges if item.count(":") else fixed).append(item)
    if len(ranges) != 1:
        raise UsageError(f"expected exactly one --param KEY=START:STOP:COUNT to sweep, got {len(ranges)}")
    key, values = parse_range(ranges[0])
    params = parse_params(fixed)
    if key in params:
        raise UsageError(f"expected {key!r} either swept or fixed, got both")
    return key, values, params


def _floats(text: str, what: str):
    try:
        vals = [float(v) for v in text.split(",")]
    except ValueError:
        raise UsageError(f"expected comma-separated numbers for the region {what}, got {text!r}") from None
    if not all(math.isfinite(v) for v in vals):
        raise UsageError(f"expected finite region {what}, got {text!r}")
    return vals


def parse_region(text: str | None, dim: int):
    """Region from ``"lo:hi"`` (scalars broadcast), ``"a,b:c,d"`` or JSON ``{"lo":…, "hi":…}``.

    Examples:
      >>> parse_region("-1:1", 2).to_dict()
      {'lo': [-1.0, -1.0], 'hi': [1.0, 1.0]}
    """
    if text is None:
        return None
    text = text.strip()
    if text.startswith("{"):
        try:
            d = json.loads(text)
        except json.JSONDecodeError:
            raise UsageError(f"expected a JSON region like {{\"lo\": [..], \"hi\": [..]}}, got {text!r}") from None
        if not isinstance(d, dict) or set(d) != {"lo", "hi"}:
            extra = sorted(set(d) - {"lo", "hi"}) if isinstance(d, dict) else []
            got = f"unknown keys {extra}" if extra else repr(text)
            raise UsageError(f"expected a JSON region with exactly the keys 'lo' and 'hi', got {got}")
        lo, hi = d["lo"], d["hi"]
    else:
        lo_s, sep, hi_s = text.partition(":")
        if not sep:
            raise UsageError(f"expected --region LO:HI (e.g. -1:1 or -1,-2:1,2), got {text!r}")
        lo, hi = _floats(lo_s, "lower bounds"), _floats(hi_s, "upper bounds")
    lo = np.broadcast_to(np.asarray(lo, float), (dim,)) if np.size(lo) == 1 else np.asarray(lo, float)
    hi = np.broadcast_to(np.asarray(hi, float), (dim,)) if np.size(hi) == 1 else np.asarray(hi, float)
    if lo.shape != (dim,) or hi.shape != (dim,):
        raise UsageError(f"expected region bounds of length 1 or {dim}, got {lo.size} and {hi.size}")
    try:
        return Region(lo, hi)
    except (TypeError, ValueError) as err:
        raise UsageError(str(err)) from None
