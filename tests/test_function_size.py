"""No function of crmkit grows past 120 lines of code (its docstring not counted).

A long function is one that writes its steps inline; the cure is a table of
small named functions (as ``crmkit.analysis.assess_maturity`` became). The
few functions still over the limit are listed in :data:`KNOWN_LONG`; the
test fails for any other. Cyclomatic complexity is reported by radon in CI
(``.ci/run``), not gated.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"

#: The most lines of code a function may have (docstring excluded).
MAX_LINES = 120

#: Functions still over the limit, to be split: ``"path:function"``.
KNOWN_LONG = frozenset({
})  # fmt: skip


def _code_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    assert node.end_lineno is not None
    lines = node.end_lineno - node.lineno + 1
    first = node.body[0]
    if (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    ):
        assert first.end_lineno is not None
        lines -= first.end_lineno - first.lineno + 1
    return lines


def long_functions() -> dict[str, int]:
    """Every function over :data:`MAX_LINES`: ``{"path:name": lines}``."""
    found = {}
    for path in sorted((SRC / "crmkit").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = _code_lines(node)
                if n > MAX_LINES:
                    found[f"{path.relative_to(SRC).as_posix()}:{node.name}"] = n
    return found


def test_no_new_function_over_the_limit() -> None:
    new = {k: v for k, v in long_functions().items() if k not in KNOWN_LONG}
    assert not new, (
        f"functions over {MAX_LINES} lines of code; split them into small named steps:\n"
        + "\n".join(f"  {k} ({v} lines)" for k, v in sorted(new.items()))
    )


def test_the_count_skips_the_docstring() -> None:
    tree = ast.parse('def f():\n    """Doc.\n\n    More.\n    """\n    return 1\n')
    node = tree.body[0]
    assert isinstance(node, ast.FunctionDef)
    assert _code_lines(node) == 2
