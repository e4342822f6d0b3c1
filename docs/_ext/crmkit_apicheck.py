"""Check that every public name of crmkit appears in the API reference.

A public module is ``crmkit`` or any module below it whose dotted name has no
component starting with an underscore. Its public names are its ``__all__``.
A name counts as documented when an ``autosummary`` block of a page under
``docs/api`` lists it, or a ``py:data``/``autodata``/``autoclass`` ... directive
describes it (relative to the page's ``currentmodule``/``module``/
``automodule``, or as a full dotted name); a public submodule counts as
documented when a page declares it with ``module``, ``automodule`` or
``currentmodule``.

Used by ``docs/conf.py`` (a warning per missing name, so ``sphinx-build -W``
fails) and by ``tests/integration/test_docs_build.py``.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import types
from pathlib import Path

_MODULE_DIRECTIVE = re.compile(r"^\s*\.\.\s+(?:py:)?(?:currentmodule|module|automodule)::\s*(\S+)")
_AUTOSUMMARY = re.compile(r"^(\s*)\.\.\s+autosummary::")
_DESCRIBED = re.compile(
    r"^\s*\.\.\s+(?:py:)?(?:auto)?(?:data|class|function|exception|attribute)::\s*(\S+)"
)


def public_modules(root: str = "crmkit") -> list[str]:
    """Return the dotted names of ``root`` and its public submodules, sorted."""
    package = importlib.import_module(root)
    names = {root}
    for info in pkgutil.walk_packages(package.__path__, prefix=root + ".", onerror=lambda _: None):
        if not any(part.startswith("_") for part in info.name.split(".")):
            names.add(info.name)
    # subpackages re-exported through __all__ (namespace packages too)
    for name in getattr(package, "__all__", ()):
        if isinstance(getattr(package, name, None), types.ModuleType):
            names.add(f"{root}.{name}")
    return sorted(names)


def public_names(module_name: str) -> list[str] | None:
    """Return ``__all__`` of a module, or None when it defines none."""
    module = importlib.import_module(module_name)
    names = getattr(module, "__all__", None)
    return None if names is None else [str(n) for n in names]


def documented(api_dir: Path) -> tuple[set[str], set[str]]:
    """Return (documented objects as full dotted names, documented modules)."""
    objects: set[str] = set()
    modules: set[str] = set()
    for page in sorted(api_dir.glob("*.rst")):
        current = ""
        lines = page.read_text(encoding="utf-8").splitlines()
        i = 0
        while i < len(lines):
            line = lines[i]
            match = _MODULE_DIRECTIVE.match(line)
            if match:
                current = match.group(1)
                modules.add(current)
            described = _DESCRIBED.match(line)
            if described:
                name = described.group(1)
                objects.add(name if name.startswith("crmkit") else f"{current}.{name}")
            block = _AUTOSUMMARY.match(line)
            if block:
                indent = len(block.group(1))
                i += 1
                while i < len(lines):
                    entry = lines[i]
                    stripped = entry.strip()
                    if stripped and len(entry) - len(entry.lstrip()) <= indent:
                        break
                    if stripped and not stripped.startswith(":"):
                        name = stripped.lstrip("~")
                        full = name if name.startswith("crmkit") else f"{current}.{name}"
                        objects.add(full)
                    i += 1
                continue
            i += 1
    return objects, modules


def _resolve(full: str) -> object:
    module_name, _, name = full.rpartition(".")
    try:
        return getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError):
        return None


def missing_public_names(api_dir: Path, root: str = "crmkit") -> list[str]:
    """Return one message per public name (or module) absent from the API pages.

    A class or function re-exported under a second public name (``crmkit.summarize``
    is ``crmkit.data.summarize``) counts as documented when either name is.
    """
    objects, modules = documented(api_dir)
    aliases = {id(obj) for obj in map(_resolve, objects) if _is_named(obj)}
    problems: list[str] = []
    for module_name in public_modules(root):
        if module_name not in modules:
            problems.append(f"module {module_name} has no API page")
        names = public_names(module_name)
        if names is None:
            problems.append(f"module {module_name} defines no __all__")
            continue
        module = importlib.import_module(module_name)
        for name in names:
            full = f"{module_name}.{name}"
            if isinstance(getattr(module, name, None), types.ModuleType):
                if full not in modules:
                    problems.append(f"public module {full} has no API page")
            elif full not in objects and not (
                _is_named(getattr(module, name, None)) and id(getattr(module, name)) in aliases
            ):
                problems.append(f"public name {full} is missing from the API reference")
    return problems


def _is_named(obj: object) -> bool:
    """Classes and functions: objects whose identity is their name."""
    return isinstance(obj, type) or inspect.isfunction(obj)
