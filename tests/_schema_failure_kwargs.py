"""Find and rewrite ``SchemaFailure(...)`` calls with positional arguments.

A :class:`crmkit.exceptions.SchemaFailure` has six fields (frame, column,
check, n_failing, rows, values); a call that passes them by position reads
as ``SchemaFailure("view", c, "is missing", 3, rows)``. House rule: every
call names them. :func:`positional_calls` lists the calls that do not (the
validation contract test uses it); :func:`to_keywords` rewrites them and
checks that the new source parses to the same calls (each argument the same
expression, now under its field's name).

Run as a script over files or folders to rewrite them in place::

    python tests/_schema_failure_kwargs.py src/crmkit/value src/crmkit/data
    python tests/_schema_failure_kwargs.py --check src/crmkit   # list, exit 1 if any
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

#: The fields of SchemaFailure, in the order of its positional parameters.
FIELDS = ("frame", "column", "check", "n_failing", "rows", "values")


def _is_schema_failure(node: ast.AST) -> bool:
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
    return name == "SchemaFailure"


def positional_calls(source: str) -> list[int]:
    """Line numbers of ``SchemaFailure`` calls that pass an argument by position."""
    tree = ast.parse(source)
    return sorted(
        node.lineno
        for node in ast.walk(tree)
        if _is_schema_failure(node) and node.args  # type: ignore[attr-defined]
    )


def _offsets(source: str) -> list[int]:
    starts = [0]
    for line in source.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    return starts


def _char_pos(source_lines: list[str], starts: list[int], lineno: int, col: int) -> int:
    # ast columns count UTF-8 bytes; the text is indexed by characters
    line = source_lines[lineno - 1]
    return starts[lineno - 1] + len(line.encode("utf-8")[:col].decode("utf-8"))


def _calls(tree: ast.AST) -> Iterator[ast.Call]:
    for node in ast.walk(tree):
        if _is_schema_failure(node):
            assert isinstance(node, ast.Call)
            yield node


def to_keywords(source: str) -> str:
    """``source`` with every positional ``SchemaFailure`` argument named.

    Raises
    ------
    ValueError
        For a call it cannot rewrite safely (``*args``, too many
        arguments) or when the result does not parse to the same calls.
    """
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    starts = _offsets(source)
    inserts: list[tuple[int, str]] = []
    before: list[list[tuple[str, str]]] = []
    for call in _calls(tree):
        if any(isinstance(a, ast.Starred) for a in call.args) or len(call.args) > len(FIELDS):
            raise ValueError(f"line {call.lineno}: cannot name the arguments of this call")
        named = [(f, ast.dump(a)) for f, a in zip(FIELDS, call.args, strict=False)]
        named += [(k.arg or "**", ast.dump(k.value)) for k in call.keywords]
        before.append(sorted(named))
        assert call.func.end_lineno is not None and call.func.end_col_offset is not None
        open_paren = source.index(
            "(", _char_pos(lines, starts, call.func.end_lineno, call.func.end_col_offset)
        )
        for field, arg in zip(FIELDS, call.args, strict=False):
            pos = _char_pos(lines, starts, arg.lineno, arg.col_offset)
            while True:  # step out of parentheses around the argument
                back = pos - 1
                while source[back].isspace():
                    back -= 1
                if source[back] == "(" and back != open_paren:
                    pos = back
                    continue
                break
            inserts.append((pos, f"{field}="))
    out = source
    for pos, text in sorted(inserts, reverse=True):
        out = out[:pos] + text + out[pos:]
    after = [
        sorted([(k.arg or "**", ast.dump(k.value)) for k in call.keywords])
        for call in _calls(ast.parse(out))
    ]
    if after != before or positional_calls(out):
        raise ValueError("the rewritten source does not make the same calls")
    return out


def _files(paths: list[str]) -> Iterator[Path]:
    for p in map(Path, paths):
        yield from sorted(p.rglob("*.py")) if p.is_dir() else [p]


def main(argv: list[str]) -> int:
    """Rewrite (or with ``--check`` list) the positional calls under ``argv``."""
    check = "--check" in argv
    found = 0
    for path in _files([a for a in argv if a != "--check"]):
        text = path.read_text(encoding="utf-8")
        lines = positional_calls(text)
        if not lines:
            continue
        found += len(lines)
        if check:
            print(f"{path}: {len(lines)} positional SchemaFailure calls (lines {lines})")
        else:
            path.write_text(to_keywords(text), encoding="utf-8")
            print(f"{path}: named the arguments of {len(lines)} calls")
    return 1 if check and found else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
