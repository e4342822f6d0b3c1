"""Every error crmkit raises is a CrmkitError that is also the matching built-in.

Two checks: the classes of :mod:`crmkit.exceptions`, and a scan of the
source for ``raise`` statements of bare built-in exceptions (``raise
TypeError(...)`` in crmkit code escapes ``except CrmkitError``). The scan
allows only the documented exceptions to the rule (``ALLOWED``); defects in
packages still being finished are listed in ``KNOWN_DEFECTS`` and tested as
strict expected failures, so fixing one makes its test pass loudly.
"""

from __future__ import annotations

import ast
import builtins
import inspect
from pathlib import Path

import pytest

import crmkit
from crmkit import exceptions

SRC = Path(crmkit.__file__).parent

BUILTIN_ERRORS = frozenset(
    name
    for name, obj in vars(builtins).items()
    if isinstance(obj, type) and issubclass(obj, BaseException)
)

#: Built-in raises that are part of a documented contract, by (file, exception).
ALLOWED: dict[tuple[str, str], str] = {
    ("__init__.py", "AttributeError"): "module __getattr__ must raise AttributeError",
    ("lifecycle/_common.py", "ImportError"): "a packaging error detected at import time",
    ("engines/_score.py", "ImportError"): "an optional dependency (pyarrow) is missing",
    ("plotting/_common.py", "ImportError"): "the optional matplotlib extra is missing",
    ("data/_sql.py", "ImportError"): "the optional sql (or duckdb) extra is missing",
}
#: Whole directories whose built-in raises are their contract.
ALLOWED_DIRS: dict[tuple[str, str], str] = {
    ("testing", "AssertionError"): "the conformance battery fails checks with AssertionError",
}
#: Exceptions any module may raise: abstract hooks.
ALLOWED_ANYWHERE = frozenset({"NotImplementedError"})

#: Bare built-in raises in packages other helpers are still finishing.
KNOWN_DEFECTS: dict[str, str] = {}


def _bare_raises(path: Path) -> list[tuple[int, str]]:
    """(line, exception name) of every ``raise <built-in>`` in a source file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Raise) or node.exc is None:
            continue
        exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
        if isinstance(exc, ast.Name) and exc.id in BUILTIN_ERRORS:
            found.append((node.lineno, exc.id))
    return found


def _violations(rel: str) -> list[str]:
    top = rel.split("/", 1)[0]
    out = []
    for line, name in _bare_raises(SRC / rel):
        if name in ALLOWED_ANYWHERE or (rel, name) in ALLOWED or (top, name) in ALLOWED_DIRS:
            continue
        out.append(f"crmkit/{rel}:{line}: raise {name}")
    return out


SOURCES = sorted(p.relative_to(SRC).as_posix() for p in SRC.rglob("*.py"))
PACKAGES = sorted({rel.split("/", 1)[0] if "/" in rel else "<top>" for rel in SOURCES})


@pytest.mark.parametrize("package", PACKAGES)
def test_no_bare_builtin_raises(package: str) -> None:
    files = [
        rel
        for rel in SOURCES
        if (rel.split("/", 1)[0] if "/" in rel else "<top>") == package and rel not in KNOWN_DEFECTS
    ]
    found = [v for rel in files for v in _violations(rel)]
    assert not found, (
        "crmkit code raises bare built-in exceptions; raise the crmkit subclass "
        "(SchemaError, InvalidParameterError, ModelFileError ...) instead:\n" + "\n".join(found)
    )


@pytest.mark.parametrize(
    "rel",
    [
        pytest.param(rel, marks=pytest.mark.xfail(strict=True, reason=reason))
        for rel, reason in sorted(KNOWN_DEFECTS.items())
    ],
)
def test_known_bare_raises_in_unfinished_packages(rel: str) -> None:
    assert (SRC / rel).exists(), f"{rel} is gone: remove it from KNOWN_DEFECTS"
    assert not _violations(rel), "\n".join(_violations(rel))


def test_the_scan_finds_a_bare_raise(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        '"""Doc.\n\n>>> raise ValueError("in a docstring: ignored")\n"""\n'
        "def f(x):\n    if x:\n        raise KeyError(x)\n    raise NotImplementedError\n"
    )
    assert sorted(_bare_raises(sample)) == [(7, "KeyError"), (8, "NotImplementedError")]


def _error_classes() -> list[type[BaseException]]:
    return [
        obj
        for name in exceptions.__all__
        if inspect.isclass(obj := getattr(exceptions, name))
        and issubclass(obj, Exception)
        and not issubclass(obj, Warning)
    ]


@pytest.mark.parametrize("cls", _error_classes(), ids=lambda c: c.__name__)
def test_every_error_is_a_crmkit_error_and_a_builtin(cls: type[BaseException]) -> None:
    assert issubclass(cls, exceptions.CrmkitError)
    if cls is exceptions.CrmkitError:
        return
    builtin_bases = [
        b
        for b in cls.__mro__
        if b.__module__ == "builtins" and b not in (Exception, BaseException, object)
    ]
    assert builtin_bases, f"{cls.__name__} inherits no matching built-in exception"


@pytest.mark.parametrize(
    ("cls", "builtin"),
    [
        (exceptions.SchemaError, ValueError),
        (exceptions.InvalidParameterError, ValueError),
        (exceptions.InvalidParameterError, TypeError),
        (exceptions.NotFittedError, AttributeError),
        (exceptions.ModelFileError, ValueError),
        (exceptions.PluginNotFoundError, LookupError),
        (exceptions.CustomerNotFoundError, KeyError),
        (exceptions.ConvergenceError, RuntimeError),
    ],
)
def test_existing_except_clauses_keep_working(
    cls: type[BaseException], builtin: type[BaseException]
) -> None:
    assert issubclass(cls, builtin)


def test_customer_not_found_reads_like_a_message() -> None:
    tx = crmkit.datasets.make_crm(30, seed=1).data
    with pytest.raises(KeyError) as info:
        tx.for_customer("no such customer")
    assert isinstance(info.value, exceptions.CustomerNotFoundError)
    assert str(info.value) == "customer 'no such customer' has no transactions in this data"
