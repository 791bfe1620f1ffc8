"""JSON for results: exact float round trip, non-finite floats as strings.

Floats are written with ``repr`` precision (Python's ``json`` does this), so they read back bit
for bit; NaN and infinities, which JSON cannot hold, are written as the strings ``"nan"``,
``"inf"`` and ``"-inf"`` and read back as floats. Arrays become nested lists.
"""

from __future__ import annotations

import math

import numpy as np

_SPECIAL = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def encode(obj):
    """A JSON-ready copy of ``obj`` (dicts, lists, tuples, NumPy arrays and scalars, floats).

    Examples:
      >>> encode({"a": np.array([1.0, np.nan]), "b": (float("inf"), 2)})
      {'a': [1.0, 'nan'], 'b': ['inf', 2]}
    """
    if isinstance(obj, dict):
        return {k: encode(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [encode(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return encode(obj.tolist())
    if isinstance(obj, np.generic):
        return encode(obj.item())
    if isinstance(obj, float) and not math.isfinite(obj):
        return "nan" if math.isnan(obj) else ("inf" if obj > 0 else "-inf")
    return obj


def decode(obj):
    """Inverse of :func:`encode` on the JSON side: the strings ``"nan"``, ``"inf"``, ``"-inf"`` become floats.

    Examples:
      >>> decode({"a": [1.0, "nan"], "b": "-inf", "c": "text"})
      {'a': [1.0, nan], 'b': -inf, 'c': 'text'}
    """
    if isinstance(obj, dict):
        return {k: decode(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [decode(v) for v in obj]
    if isinstance(obj, str) and obj in _SPECIAL:
        return _SPECIAL[obj]
    return obj
