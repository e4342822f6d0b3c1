"""The table of persistable types: complete, correct, and the only way in (+ entry points)."""

from __future__ import annotations

import importlib
import json
import pkgutil
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import crmkit
from crmkit._persist import Persistable, from_dict
from crmkit._persist_types import NOT_LOADABLE, PERSISTABLE_TYPES, resolve_type
from crmkit.exceptions import ModelFileError
from tests.unit.persist import _plugin_dist

ROOT = Path(__file__).resolve().parents[3]


def _all_crmkit_persistables() -> dict[str, type]:
    """Every Persistable subclass defined by a crmkit module (doctest classes left out)."""
    for info in pkgutil.walk_packages(crmkit.__path__, "crmkit."):
        importlib.import_module(info.name)
    found: dict[str, type] = {}
    todo = list(Persistable.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        module = sys.modules.get(cls.__module__)
        if not cls.__module__.startswith("crmkit.") or getattr(
            module, cls.__qualname__, None
        ) is not cls:
            continue
        assert found.get(cls.model_type, cls) is cls, f"two classes claim {cls.model_type}"
        found[cls.model_type] = cls
    return found


def test_table_lists_every_persistable_class_of_crmkit() -> None:
    defined = _all_crmkit_persistables()
    assert not set(PERSISTABLE_TYPES) & set(NOT_LOADABLE)
    missing = sorted(set(defined) - set(PERSISTABLE_TYPES) - set(NOT_LOADABLE))
    assert not missing, f"add these to crmkit._persist_types.PERSISTABLE_TYPES: {missing}"
    stale = sorted((set(PERSISTABLE_TYPES) | set(NOT_LOADABLE)) - set(defined))
    assert not stale, f"no crmkit class has these model types: {stale}"


@pytest.mark.parametrize("model_type", sorted(PERSISTABLE_TYPES))
def test_each_entry_resolves_to_its_class(model_type: str) -> None:
    cls = resolve_type(model_type)
    assert cls.model_type == model_type
    module, _, name = PERSISTABLE_TYPES[model_type].partition(":")
    assert cls is getattr(importlib.import_module(module), name)
    assert cls.__name__ == model_type.rsplit(".", 1)[1]


@pytest.mark.parametrize("model_type", sorted(NOT_LOADABLE))
def test_bases_and_unsaved_classes_are_refused(model_type: str) -> None:
    expected = re.escape(f"cannot be loaded: {NOT_LOADABLE[model_type]}")
    with pytest.raises(ModelFileError, match=expected):
        resolve_type(model_type)


@pytest.mark.parametrize(
    "name",
    ["crmkit.value.Nope", "os.system", "builtins.eval", "tests.Scaled", 12, None, "", "x" * 300],
)
def test_unknown_names_are_refused(name: Any) -> None:
    with pytest.raises(ModelFileError, match=r"model type|model_type"):
        resolve_type(name)


def test_unknown_name_imports_nothing_in_a_fresh_process(tmp_path: Path) -> None:
    # a module the file names sits on sys.path: refusing it must not import it
    (tmp_path / "acme_evil.py").write_text(f"open({str(tmp_path / 'hit')!r}, 'w')\n")
    script = (
        "import sys, crmkit\n"
        "from crmkit.exceptions import ModelFileError\n"
        "before = set(sys.modules)\n"
        "for name in ('acme_evil.Model', 'crmkit.value.Nope', 'crmkit.value.ValueModel'):\n"
        "    try:\n"
        "        doc = {'schema_version': 1, 'model_type': name, 'params': {}}\n"
        "        crmkit._persist.from_dict(doc)\n"
        "    except ModelFileError:\n"
        "        pass\n"
        "new = sorted(m for m in set(sys.modules) - before if m.startswith(('crmkit', 'acme')))\n"
        "print(new)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
        env={"PYTHONPATH": f"{tmp_path}", "PATH": "/usr/bin:/bin"}, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
    assert not (tmp_path / "hit").exists()


def test_third_party_plugin_resolves_through_its_entry_point(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _plugin_dist.make_distribution(tmp_path)
    monkeypatch.syspath_prepend(str(root))
    monkeypatch.delitem(sys.modules, _plugin_dist.PACKAGE, raising=False)
    try:
        cls = resolve_type(_plugin_dist.MODEL_TYPE)
        assert cls.__module__ == _plugin_dist.PACKAGE and cls.__name__ == "Tiers"
        doc = json.loads(json.dumps(cls(n_tiers=4).to_dict()))
        assert from_dict(doc).n_tiers == 4
        # same package, another class name: found nowhere
        with pytest.raises(ModelFileError, match=r"unknown model type 'crmkit_acme_tiers\.Other'"):
            resolve_type(f"{_plugin_dist.PACKAGE}.Other")
    finally:
        sys.modules.pop(_plugin_dist.PACKAGE, None)


def test_broken_third_party_plugin_is_a_model_file_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _plugin_dist.make_distribution(tmp_path, broken=True)
    monkeypatch.syspath_prepend(str(root))
    try:
        with pytest.raises(ModelFileError, match=r"could not be loaded: .*acme is broken"):
            resolve_type(_plugin_dist.MODEL_TYPE)
    finally:
        sys.modules.pop(_plugin_dist.PACKAGE, None)


def test_class_load_accepts_its_own_files_and_names_a_mismatch(tmp_path: Path) -> None:
    from crmkit.value import BetaGeo, GammaGamma, ValueModel

    path = BetaGeo(penalizer=0.5).save(tmp_path / "bg.json")
    assert BetaGeo.load(path).penalizer == 0.5
    assert type(ValueModel.load(path)) is BetaGeo  # a base class accepts its subclasses
    with pytest.raises(ModelFileError, match=r"holds a 'crmkit\.value\.BetaGeo' model, not a"):
        GammaGamma.load(path)
