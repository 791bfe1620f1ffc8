"""Every public name is documented with a runnable example; each package declares its API.

A public name is one listed in a package's ``__all__``. Functions and classes need a docstring
with an ``Examples:`` section (the doctests run in the suite); constants are documented in their
module. (What each package pulls in when imported: ``test_imports.py``.)
"""

import importlib
import inspect

import pytest

PUBLIC_MODULES = ("sgn", "games", "games.tabular", "certify", "certify.bounds", "certify.sweep",
                  "certify.plots", "certify.cli", "policy", "policy.tabular", "policy.tokens")


def _public(module_name):
    module = importlib.import_module(module_name)
    return [(module_name, name, getattr(module, name)) for name in module.__all__]


NAMES = [entry for m in PUBLIC_MODULES for entry in _public(m)]


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_module_has_docstring_and_all(module_name):
    module = importlib.import_module(module_name)
    assert (module.__doc__ or "").strip()
    assert sorted(module.__all__) == sorted(set(module.__all__))
    missing = [n for n in module.__all__ if not hasattr(module, n)]
    assert missing == []


@pytest.mark.parametrize(("module_name", "name", "obj"), NAMES, ids=[f"{m}.{n}" for m, n, _ in NAMES])
def test_public_callable_has_docstring_with_example(module_name, name, obj):
    if inspect.ismodule(obj):
        assert "Examples:" in (obj.__doc__ or ""), name
        return
    if not (inspect.isfunction(obj) or inspect.isclass(obj)):
        return  # constants: documented where they are defined
    doc = inspect.getdoc(obj) or ""
    assert doc.strip(), f"{module_name}.{name} has no docstring"
    assert "Examples:" in doc, f"{module_name}.{name} has no Examples section"

