"""The root conftest's ``SLOW_DOCTESTS`` names only doctests that exist (a stale name would silently
move nothing to the slow suite, or hide a renamed doctest's cost in the default one)."""

import ast
import importlib
import pathlib

import pytest

_ROOT = pathlib.Path(__file__).resolve().parents[2]


def _slow_doctests():
    """The names in the root conftest's ``SLOW_DOCTESTS`` literal (read, not imported: importing runs its setup)."""
    tree = ast.parse((_ROOT / "conftest.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "SLOW_DOCTESTS" for t in node.targets):
            return sorted(ast.literal_eval(node.value))
    raise AssertionError("conftest.py defines no SLOW_DOCTESTS literal")


def _resolve(dotted):
    """The object named ``package.module.Qualified.name``: the longest importable module prefix, then attributes."""
    parts = dotted.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(dotted)


def test_the_list_is_read():
    # the literal held 39 names when this test was written
    assert len(_slow_doctests()) >= 10


@pytest.mark.parametrize("name", _slow_doctests())
def test_every_slow_doctest_name_is_a_docstring_with_examples(name):
    obj = _resolve(name)
    doc = getattr(obj, "__doc__", None) or ""
    assert ">>>" in doc, f"{name} has no doctest examples: remove it from SLOW_DOCTESTS"
