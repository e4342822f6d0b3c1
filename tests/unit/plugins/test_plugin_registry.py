"""PluginRegistry: registration, lookup, lazy filling and entry points."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from crmkit.exceptions import InvalidParameterError, PluginNotFoundError
from crmkit.plugins import (
    ENTRY_POINT_GROUPS,
    KINDS,
    PluginRegistry,
    Segmenter,
    default_registry,
)
from crmkit.plugins._builtins import BUILTINS
from crmkit.segmentation import DecileSegmenter, RFMSegmenter
from crmkit.testing import check_plugin, make_customer_view

THIRD_PARTY_MODULE = '''
"""A throw-away third-party segmenter package."""
import numpy as np
import pandas as pd

from crmkit._estimator import check_is_fitted
from crmkit.exceptions import SchemaError, SchemaFailure
from crmkit.plugins import PluginBase, validate_view


class EvenOdd(PluginBase):
    """Splits customers by whether their frequency is even."""

    def __init__(self, *, column="frequency", output_name="parity"):
        self.column = column
        self.output_name = output_name

    @property
    def requires(self):
        return (self.column,)

    @property
    def provides(self):
        return (self.output_name,)

    def fit(self, view):
        self._validate_params()
        validate_view(view, "EvenOdd", required=self.requires, numeric=self.requires,
                      min_customers=1)
        self.n_fitted_ = len(view)
        return self

    def assign(self, view):
        check_is_fitted(self, "n_fitted_")
        validate_view(view, "EvenOdd", required=self.requires, numeric=self.requires)
        odd = view[self.column].to_numpy() % 2 == 1
        labels = pd.Categorical.from_codes(odd.astype(int), categories=["even", "odd"])
        return pd.Series(labels, index=view.index, name=self.output_name)

    def describe(self):
        check_is_fitted(self, "n_fitted_")
        return pd.DataFrame({"n_fitted": [self.n_fitted_]})

    def _get_state(self):
        return None if not hasattr(self, "n_fitted_") else {"n": self.n_fitted_}

    def _set_state(self, state):
        self.n_fitted_ = int(state["n"])


def broken(**params):
    raise RuntimeError("this factory always fails")
'''


def _install_third_party(root: Path, entry_points: str) -> None:
    """Write a module and its dist-info (METADATA + entry_points.txt) under root."""
    (root / "thirdparty_x.py").write_text(THIRD_PARTY_MODULE, encoding="utf-8")
    info = root / "thirdparty_x-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: thirdparty_x\nVersion: 0.1\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(textwrap.dedent(entry_points), encoding="utf-8")


@pytest.fixture
def third_party(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    _install_third_party(
        tmp_path,
        """
        [crmkit.segmenters]
        parity = thirdparty_x:EvenOdd
        rfm = thirdparty_x:EvenOdd
        broken_import = thirdparty_missing_module:Nothing

        [crmkit.stagers]
        not_a_stager = thirdparty_x:EvenOdd
        """,
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    sys.modules.pop("thirdparty_x", None)


def test_register_get_available() -> None:
    reg = PluginRegistry()
    assert all(reg.available(kind) == () for kind in KINDS)
    reg.register("segmenters", "q", DecileSegmenter)
    seg = reg.get("segmenters", "q", n_groups=4, column="margin")
    assert isinstance(seg, DecileSegmenter)
    assert seg.get_params() == {"column": "margin", "n_groups": 4, "output_name": "segment"}
    assert reg.get("segmenters", "q") is not reg.get("segmenters", "q")
    assert reg.available("segmenters") == ("q",)
    assert reg.available("stagers") == ()
    assert reg.origin("segmenters", "q") == "registered"


def test_unknown_name_lists_what_exists() -> None:
    reg = PluginRegistry(builtins=True)
    with pytest.raises(PluginNotFoundError) as info:
        reg.get("segmenters", "nope")
    message = str(info.value)
    for name in BUILTINS["segmenters"]:
        assert name in message
    with pytest.raises(PluginNotFoundError, match=r"available: \(none\)"):
        PluginRegistry().get("stagers", "x")


def test_unknown_kind() -> None:
    reg = PluginRegistry()
    for call in (
        lambda: reg.get("segmentors", "rfm"),
        lambda: reg.available("segmentors"),
        lambda: reg.register("segmentors", "x", DecileSegmenter),
    ):
        with pytest.raises(PluginNotFoundError, match="segmenters, churn_detectors"):
            call()


def test_register_refuses_duplicates_unless_replace() -> None:
    reg = PluginRegistry(builtins=True)
    with pytest.raises(InvalidParameterError, match="already registered"):
        reg.register("segmenters", "rfm", DecileSegmenter)
    reg.register("segmenters", "rfm", DecileSegmenter, replace=True)
    assert isinstance(reg.get("segmenters", "rfm"), DecileSegmenter)


@pytest.mark.parametrize("name, factory", [("", DecileSegmenter), ("x", 42)])
def test_register_validates(name: str, factory: Any) -> None:
    with pytest.raises(InvalidParameterError):
        PluginRegistry().register("segmenters", name, factory)


def test_bad_parameters_are_a_crmkit_error() -> None:
    reg = PluginRegistry(builtins=True)
    with pytest.raises(InvalidParameterError, match="binz"):
        reg.get("segmenters", "rfm", binz=3)


def test_object_not_satisfying_the_protocol_is_refused() -> None:
    reg = PluginRegistry()
    reg.register("churn_detectors", "seg", DecileSegmenter)
    with pytest.raises(PluginNotFoundError, match=r"ChurnDetector protocol \(missing: score\)"):
        reg.get("churn_detectors", "seg")


def test_builtins_are_lazy_and_complete() -> None:
    code = (
        "import sys\n"
        "from crmkit.plugins import default_registry\n"
        "reg = default_registry()\n"
        "print('crmkit.segmentation' in sys.modules)\n"
        "print(','.join(reg.available('segmenters')))\n"
        "print('crmkit.segmentation' in sys.modules)\n"
        "reg.get('segmenters', 'rfm')\n"
        "print('crmkit.segmentation' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out[0] == "False"  # importing crmkit.plugins imports no plugin
    assert out[1].split(",") == sorted(BUILTINS["segmenters"])
    assert out[2] == "False"  # listing names imports no plugin module
    assert out[3] == "True"


def test_default_registry_is_shared_and_holds_builtins() -> None:
    reg = default_registry()
    assert reg is default_registry()
    assert set(BUILTINS["segmenters"]) <= set(reg.available("segmenters"))
    assert isinstance(reg.get("segmenters", "rfm"), RFMSegmenter)


def test_every_builtin_satisfies_its_protocol() -> None:
    reg = PluginRegistry(builtins=True)
    for kind, table in BUILTINS.items():
        for name in table:
            reg.get(kind, name)  # raises unless the protocol is satisfied


def test_entry_point_plugin_is_found_and_conforms(third_party: Path) -> None:
    reg = PluginRegistry(builtins=True, entry_points=True)
    with pytest.warns(UserWarning, match="name 'rfm' is already taken by built-in"):
        names = reg.available("segmenters")
    assert "parity" in names
    assert reg.origin("segmenters", "parity").startswith(
        f"entry point {ENTRY_POINT_GROUPS['segmenters']}:parity of thirdparty_x"
    )
    plugin = reg.get("segmenters", "parity", output_name="odd_or_even")
    assert isinstance(plugin, Segmenter)
    assert type(plugin).__module__ == "thirdparty_x"
    view = make_customer_view(30)
    labels = plugin.fit(view).assign(view)
    assert labels.name == "odd_or_even"
    assert (labels == "odd").tolist() == (view["frequency"] % 2 == 1).tolist()
    # the built-in keeps its name
    assert isinstance(reg.get("segmenters", "rfm"), RFMSegmenter)
    check_plugin(plugin)


def test_entry_point_errors_are_plugin_errors(third_party: Path) -> None:
    reg = PluginRegistry(entry_points=True)
    with pytest.raises(PluginNotFoundError, match="could not be loaded from"):
        reg.get("segmenters", "broken_import")
    with pytest.raises(PluginNotFoundError, match="Stager protocol"):
        reg.get("stagers", "not_a_stager")


def test_default_registry_finds_entry_points_in_a_fresh_process(tmp_path: Path) -> None:
    _install_third_party(tmp_path, "[crmkit.segmenters]\nparity = thirdparty_x:EvenOdd\n")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(tmp_path), env.get("PYTHONPATH", "")])
    code = (
        "from crmkit.plugins import default_registry\n"
        "reg = default_registry()\n"
        "print(type(reg.get('segmenters', 'parity')).__name__)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.strip() == "EvenOdd"


def test_repr_shows_pending_sources() -> None:
    reg = PluginRegistry(builtins=True)
    assert "built-ins pending" in repr(reg)
    reg.available("segmenters")
    assert "pending" not in repr(reg)
    assert f"segmenters={len(BUILTINS['segmenters'])}" in repr(reg)
