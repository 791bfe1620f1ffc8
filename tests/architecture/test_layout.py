"""The package layout: no import cycle, the dependency direction, no function-level imports of our own code.

The import graph is read statically (``ast``) from every module of ``sgn``, ``games``, ``certify``
and ``policy``: ``import a.b`` and ``from a import b`` (resolved to the module ``a.b`` when it is
one), at module level *and* inside functions, so a cycle cannot hide behind a lazy import. A package
``__init__`` that re-exports names on first use (PEP 562, ``_EXPORTS = {name: module}``) counts as
importing each of those modules at module level.
"""

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
PACKAGES = ("sgn", "games", "certify", "policy")
# Allowed direction (STYLE.md): sgn <- games <- certify, and policy may use sgn and games.
ALLOWED = {"sgn": {"sgn"}, "games": {"sgn", "games"}, "certify": {"sgn", "games", "certify"},
           "policy": {"sgn", "games", "policy"}}


def _modules():
    mods = {}
    for pkg in PACKAGES:
        for path in (ROOT / pkg).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            mods[name] = path
    return mods


MODULES = _modules()


def _resolve(name: str) -> str | None:
    """The longest prefix of a dotted name that is one of our modules."""
    parts = name.split(".")
    for k in range(len(parts), 0, -1):
        cand = ".".join(parts[:k])
        if cand in MODULES:
            return cand
    return None


def _imports(module: str):
    """``(target, lineno, at_module_level)`` for each import of our own code in ``module``."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    top = {id(n) for n in tree.body}
    package = module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]
    out = []
    for node in tree.body:  # lazily re-exported modules: edges as real as eager imports
        if (isinstance(node, ast.Assign) and [ast.unparse(t) for t in node.targets] == ["_EXPORTS"]
                and isinstance(node.value, ast.Dict)):
            out.extend((_resolve(v.value), node.lineno, True) for v in node.value.values)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                head = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(head + ([base] if base else []))
            names = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
        else:
            continue
        for name in names:
            target = _resolve(name)
            if target is not None and target != module:
                out.append((target, node.lineno, id(node) in top))
    return out


GRAPH = {m: sorted({t for t, _, _ in _imports(m)}) for m in MODULES}


def test_modules_found():
    assert {"sgn", "games", "certify", "certify.bounds", "certify.cli"} <= set(MODULES)


def test_no_import_cycle():
    state, stack, cycles = {}, [], []

    def visit(m):
        state[m] = "open"
        stack.append(m)
        for t in GRAPH[m]:
            # importing a submodule runs its parent packages' __init__ first: that is no cycle edge
            if state.get(t) == "open":
                cycles.append(stack[stack.index(t):] + [t])
            elif t not in state:
                visit(t)
        stack.pop()
        state[m] = "done"

    for m in sorted(MODULES):
        if m not in state:
            visit(m)
    assert cycles == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_dependency_direction(module):
    top = module.split(".")[0]
    bad = [t for t in GRAPH[module] if t.split(".")[0] not in ALLOWED[top]]
    assert bad == [], f"{module} imports {bad}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_function_level_imports_of_our_code(module):
    lazy = [(t, line) for t, line, at_top in _imports(module) if not at_top]
    assert lazy == [], f"{module} imports our own code inside functions: {lazy}"
