"""The playbook's stager step with third-party stagers, and legacy assessment rows."""

from __future__ import annotations

import warnings
from typing import Any

import pandas as pd
import pytest

from crmkit.compose import Playbook, assessment_from_row
from crmkit.compose._staging import stager_columns
from crmkit.exceptions import SchemaError
from crmkit.plugins import STAGES, STATUSES, PluginBase


class OnlyStage(PluginBase):
    """A third-party stager with ``stage`` only: everyone with purchases develops."""

    requires = ("n_transactions",)
    provides = ("stage",)

    def fit(self, view: pd.DataFrame) -> OnlyStage:
        self.fitted_ = True
        return self

    def stage(self, view: pd.DataFrame) -> pd.Series:
        labels = ["development" if n > 0 else "acquisition" for n in view["n_transactions"]]
        return pd.Series(pd.Categorical(labels, categories=list(STAGES)), index=view.index)


class FiveStages(OnlyStage):
    """An old-style stager that still gives "lapsed" as a stage."""

    def stage(self, view: pd.DataFrame) -> pd.Series:
        labels = ["lapsed" if t > 30 else "development" for t in view["T"]]
        return pd.Series(labels, index=view.index, name="stage")


class HalfFrame(OnlyStage):
    """A stager whose ``stage_frame`` gives stage and status but no reasons."""

    def stage_frame(self, view: pd.DataFrame) -> pd.DataFrame:
        stage = self.stage(view)
        status = ["lapsed" if s == "development" else "active" for s in stage]
        return pd.DataFrame({"stage": stage, "status": status}, index=view.index)


@pytest.fixture(scope="module")
def data() -> Any:
    from crmkit.datasets import make_crm

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return make_crm(120, seed=8).data


def test_a_stager_with_only_stage_works_in_the_playbook(data: Any) -> None:
    pb = Playbook(stager=OnlyStage(), churn=None, care=None).fit(data)
    out = pb.assess(data)
    assert tuple(out["stage"].cat.categories) == STAGES
    assert tuple(out["status"].cat.categories) == STATUSES
    assert (out["status"] == "active").all()
    assert (out["stage_reasons"] == "development: staged by OnlyStage").all()
    one = pb.assess_one(data.for_customer(out.index[0]))
    assert one.stage_reasons == ("development: staged by OnlyStage",)


def test_missing_parts_of_a_stage_frame_are_filled(data: Any) -> None:
    view = pd.DataFrame({"n_transactions": [0, 3]}, index=pd.Index(["p", "c"]))
    out = stager_columns(HalfFrame(), view)
    assert out["status"].tolist() == ["active", "lapsed"]
    assert out["stage_reasons"].tolist() == [
        "acquisition: staged by HalfFrame",
        "development: staged by HalfFrame",
    ]


def test_lapsed_as_a_stage_is_refused_naming_rows(data: Any) -> None:
    view = pd.DataFrame({"n_transactions": [1, 1], "T": [10.0, 40.0]}, index=["a", "b"])
    with pytest.raises(SchemaError, match="'lapsed' is a status") as info:
        stager_columns(FiveStages(), view)
    failure = info.value.failures[0]
    assert failure.column == "stage" and failure.rows == ("b",) and failure.values == ("lapsed",)


def test_legacy_rows_with_a_lapsed_stage_still_read() -> None:
    a = assessment_from_row({"stage": "lapsed", "frequency": 0}, customer_id="c1")
    assert (a.stage.value, a.status.value) == ("onboarding", "lapsed")
    with pytest.raises(SchemaError, match="is not a status"):
        assessment_from_row({"stage": "retention", "status": "lost"}, customer_id="c1")
