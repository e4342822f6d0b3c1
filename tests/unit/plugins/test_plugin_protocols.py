"""Protocols are structural; PluginBase supplies parameters and persistence; view checks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmkit.exceptions import SchemaError
from crmkit.plugins import (
    CARE_PLAN_COLUMNS,
    CareModel,
    ChurnDetector,
    Plugin,
    PluginBase,
    Segmenter,
    Stager,
    validate_view,
)
from crmkit.segmentation import RFMSegmenter


class PlainSegmenter:
    """Satisfies Segmenter without inheriting anything."""

    requires = ("revenue",)
    provides = ("segment",)

    def fit(self, view: pd.DataFrame) -> PlainSegmenter:
        return self

    def assign(self, view: pd.DataFrame) -> pd.Series:
        return pd.Series(pd.Categorical(["all"] * len(view)), index=view.index, name="segment")

    def describe(self) -> pd.DataFrame:
        return pd.DataFrame()


class PlainStager:
    requires = ()
    provides = ("stage",)

    def fit(self, view: pd.DataFrame) -> PlainStager:
        return self

    def stage(self, view: pd.DataFrame) -> pd.Series:
        raise NotImplementedError


def test_protocols_are_structural() -> None:
    assert isinstance(PlainSegmenter(), Segmenter)
    assert isinstance(PlainSegmenter(), Plugin)
    assert not isinstance(PlainSegmenter(), Stager)
    assert not isinstance(PlainSegmenter(), ChurnDetector)
    assert isinstance(PlainStager(), Stager)
    assert not isinstance(PlainStager(), Segmenter)
    assert not isinstance(object(), Plugin)
    assert not isinstance(PlainStager(), CareModel)


def test_builtin_segmenter_satisfies_only_segmenter() -> None:
    seg = RFMSegmenter()
    assert isinstance(seg, Segmenter)
    assert not any(isinstance(seg, p) for p in (ChurnDetector, CareModel, Stager))


def test_care_plan_columns() -> None:
    assert CARE_PLAN_COLUMNS[0] == "care_model"
    assert len(set(CARE_PLAN_COLUMNS)) == 8


class Scaled(PluginBase):
    model_type = "tests.Scaled"

    def __init__(self, *, factor: float = 2.0) -> None:
        self.factor = factor

    @property
    def provides(self) -> tuple[str, ...]:
        return ("scaled",)

    def _get_state(self) -> dict[str, object] | None:
        return {"seen": self.seen_} if hasattr(self, "seen_") else None

    def _set_state(self, state: dict[str, object]) -> None:
        self.seen_ = state["seen"]


def test_plugin_base_gives_params_and_persistence(tmp_path: object) -> None:
    p = Scaled(factor=3.5)
    assert p.get_params() == {"factor": 3.5}
    assert p.set_params(factor=1.0) is p and p.factor == 1.0
    p.seen_ = np.array([1.5, 2.5])
    back = Scaled.from_dict(p.to_dict())
    assert back.factor == 1.0
    np.testing.assert_array_equal(back.seen_, p.seen_)
    assert (p.requires, p.provides) == ((), ("scaled",))


def _view() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "revenue": [1.0, np.nan, np.inf, 4.0],
            "industry": ["a", "b", "c", "d"],
            "nps": [np.nan, 1.0, 2.0, 3.0],
        },
        index=pd.Index(["c1", "c2", "c3", "c1"], name="customer_id"),
    )


def test_validate_view_lists_every_problem() -> None:
    with pytest.raises(SchemaError) as info:
        validate_view(
            _view(),
            "Demo",
            required=("revenue", "T", "industry"),
            numeric=("revenue", "industry", "nps"),
            nullable=("nps",),
            min_customers=5,
        )
    found = {(f.column, f.check.split(" (")[0]) for f in info.value.failures}
    assert found == {
        ("T", "is missing"),
        ("<index>", "has duplicate customer ids"),
        ("revenue", "contains missing values"),
        ("revenue", "is not finite"),
        ("industry", "is not numeric"),
        ("<frame>", "has 4 customers; Demo needs at least 5"),
    }
    failures = {f.check: f for f in info.value.failures}
    assert failures["contains missing values"].rows == ("c2",)
    assert failures["is not finite"].values == (np.inf,)
    assert failures["has duplicate customer ids"].rows == ("c1", "c1")


def test_validate_view_accepts_a_good_view_and_returns_it() -> None:
    view = _view().iloc[[0, 3]].set_axis(["a", "b"])
    assert validate_view(view, "Demo", required=("revenue",), numeric=("revenue",)) is view


def test_validate_view_refuses_non_frames() -> None:
    with pytest.raises(SchemaError, match="not a pandas DataFrame"):
        validate_view([1, 2], "Demo")
