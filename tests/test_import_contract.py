"""The import contract of crmkit: layers, no cycles, no private reach-ins.

Every module of ``src/crmkit`` is parsed (no import happens) and each of its
``import`` statements becomes an edge ``module -> target``. An import inside
a function is an edge too: a lazy import is still a dependency. Only imports
under ``if TYPE_CHECKING:`` are exempt from the layer and cycle rules (they
exist for the type checker alone).

The rules (written down in ``docs/design.rst``):

``upward``
    A module imports only from its own layer or a lower one (the table
    :data:`LAYERS`, lowest first).
``cycle``
    The components (a subpackage, or a kernel module) form no import cycle.
``private``
    ``crmkit.x._y`` is imported only from inside ``crmkit.x``; other
    components use the public names ``crmkit.x`` re-exports.

Each violation prints as ``module -> target (rule)``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

#: The layers, lowest first. A component is a subpackage ``crmkit.x`` or a
#: module ``crmkit._x`` of the package root; ``crmkit`` itself (its
#: ``__init__``, the lazy facade) is a surface.
LAYERS: tuple[tuple[str, frozenset[str]], ...] = (
    (
        "kernel",
        frozenset({
            "exceptions", "_estimator", "_params", "_persist", "_vocab", "_version",
            "_checks", "_display", "_frames", "_text", "plugins",
        }),
    ),
    ("domain", frozenset({"domain"})),
    ("data", frozenset({"data", "datasets"})),
    ("scoring", frozenset({"value", "loyalty", "lifecycle"})),
    ("plugins", frozenset({"segmentation", "churn", "care"})),
    ("composition", frozenset({"compose", "analysis", "measure", "engines"})),
    (
        "surfaces",
        frozenset({"crmkit", "io", "plotting", "report", "_cli", "cli", "_export", "testing"}),
    ),
)

#: Modules of the package root that belong to one component with another
#: (the persistence kernel is split over three files).
COMPONENT_OF: dict[str, str] = {"_persist_read": "_persist", "_persist_types": "_persist"}

#: Edges that break the contract in files whose owners are still at work,
#: each with what fixes it. The test fails when one of them disappears, so
#: the list only shrinks.
PENDING: dict[tuple[str, str, str], str] = {}


def _modules() -> dict[str, tuple[Path, bool]]:
    found = {}
    for path in sorted((SRC / "crmkit").rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        found[".".join(parts)] = (path, is_package)
    return found


MODULES = _modules()


def component(module: str) -> str:
    """The component of a module: ``crmkit.value._bgnbd`` -> ``value``."""
    parts = module.split(".")
    if len(parts) == 1:
        return "crmkit"
    return COMPONENT_OF.get(parts[1], parts[1])


def layer(module: str) -> int:
    """The rank of a module's layer (0 = kernel; above every layer when unplaced)."""
    name = component(module)
    for rank, (_, members) in enumerate(LAYERS):
        if name in members:
            return rank
    return len(LAYERS)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(node: ast.AST, typing_only: bool = False) -> Iterator[tuple[ast.stmt, bool]]:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            yield child, typing_only
        elif isinstance(child, ast.If) and _is_type_checking(child.test):
            for stmt in child.body:
                yield from _imports(ast.Module(body=[stmt], type_ignores=[]), True)
            for stmt in child.orelse:
                yield from _imports(ast.Module(body=[stmt], type_ignores=[]), typing_only)
        else:
            yield from _imports(child, typing_only)


def _targets(module: str, is_package: bool, stmt: ast.stmt) -> list[str]:
    if isinstance(stmt, ast.Import):
        return [alias.name for alias in stmt.names]
    assert isinstance(stmt, ast.ImportFrom)
    if stmt.level:
        base = module.split(".")[: len(module.split(".")) - stmt.level + int(is_package)]
        prefix = ".".join(base + ([stmt.module] if stmt.module else []))
    else:
        prefix = stmt.module or ""
    # ``from crmkit.value import _clv`` imports the module crmkit.value._clv
    return [
        f"{prefix}.{alias.name}" if f"{prefix}.{alias.name}" in MODULES else prefix
        for alias in stmt.names
    ]


def edges() -> list[tuple[str, str, bool]]:
    """Every import of a crmkit module by a crmkit module: ``(module, target, typing_only)``."""
    out = set()
    for module, (path, is_package) in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for stmt, typing_only in _imports(tree):
            for target in _targets(module, is_package, stmt):
                if target == "crmkit" or target.startswith("crmkit."):
                    out.add((module, target, typing_only))
    return sorted(out)


def _private_reach_in(module: str, target: str) -> bool:
    parts = target.split(".")
    return (
        len(parts) > 2
        and component(target) != component(module)
        and any(p.startswith("_") and p != "__init__" for p in parts[2:])
    )


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one member (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            members = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                members.append(w)
                if w == v:
                    break
            if len(members) > 1:
                found.append(sorted(members))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def violations() -> list[tuple[str, str, str]]:
    """Every edge that breaks the contract: ``(module, target, rule)``."""
    out = []
    graph: dict[str, set[str]] = {}
    witness: dict[tuple[str, str], tuple[str, str]] = {}
    for module, target, typing_only in edges():
        if _private_reach_in(module, target):
            out.append((module, target, "private"))
        if typing_only:
            continue
        if layer(target) > layer(module):
            out.append((module, target, "upward"))
        a, b = component(module), component(target)
        if a != b:
            graph.setdefault(a, set()).add(b)
            witness.setdefault((a, b), (module, target))
    for members in _cycles(graph):
        for a in members:
            for b in sorted(graph[a] & set(members)):
                module, target = witness[(a, b)]
                out.append((module, target, f"cycle {' <-> '.join(members)}"))
    return sorted(set(out))


def _show(rows: list[tuple[str, str, str]]) -> str:
    return "\n".join(f"{m} -> {t} ({rule})" for m, t, rule in rows)


def test_every_component_has_a_layer() -> None:
    unplaced = sorted({component(m) for m in MODULES} - set().union(*(s for _, s in LAYERS)))
    assert not unplaced, f"place these in LAYERS (and docs/design.rst): {unplaced}"


def test_the_parser_sees_lazy_and_typing_only_imports() -> None:
    tree = ast.parse(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from crmkit.compose import Playbook\n"
        "def f():\n    from crmkit.value._clv import clv\n"
    )
    found = [(_targets("crmkit.data._x", False, s), t) for s, t in _imports(tree)]
    assert found == [
        (["typing"], False),
        (["crmkit.compose"], True),
        (["crmkit.value._clv"], False),
    ]
    assert _private_reach_in("crmkit.data._x", "crmkit.value._clv")
    assert not _private_reach_in("crmkit.value._bgnbd", "crmkit.value._clv")
    assert not _private_reach_in("crmkit.value._bgnbd", "crmkit._params")
    assert _cycles({"a": {"b"}, "b": {"a"}, "c": {"a"}}) == [["a", "b"]]


@pytest.mark.parametrize("rule", ["upward", "cycle", "private"])
def test_import_contract(rule: str) -> None:
    found = [v for v in violations() if v[2].startswith(rule)]
    pending = [v for v in found if (v[0], v[1], v[2].split(" ")[0]) in PENDING]
    new = [v for v in found if v not in pending]
    assert not new, f"{len(new)} import(s) break the contract:\n{_show(new)}"


def test_pending_exceptions_still_needed() -> None:
    current = {(m, t, rule.split(" ")[0]) for m, t, rule in violations()}
    stale = sorted(set(PENDING) - current)
    assert not stale, f"fixed, remove from PENDING: {stale}"
