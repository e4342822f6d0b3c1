"""RuleStager: each rule, the thresholds, prospects, validation, conformance."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from crmkit.exceptions import InvalidParameterError, NotFittedError, SchemaError
from crmkit.lifecycle import RuleStager
from crmkit.plugins import STAGES, default_registry
from crmkit.testing import check_plugin, make_customer_view

from ._views import view_of


def _stages(stager: RuleStager, view: pd.DataFrame) -> dict[str, str]:
    """Stage of each customer, with " (lapsed)" for lapsed ones (LifecycleState.label)."""
    out = stager.fit(view).stage_frame(view)
    assert out["stage"].astype(object).tolist() == stager.stage(view).astype(object).tolist()
    return {
        str(k): str(st) + (" (lapsed)" if status == "lapsed" else "")
        for k, st, status in zip(out.index, out["stage"], out["status"], strict=True)
    }


def _lapsed(label: str) -> bool:
    return label.endswith("(lapsed)")


BASE = {
    # 20 repeat purchases over 95 weeks: rhythm 4.75 weeks, idle 1 week
    "steady": {"frequency": 19, "recency": 95.0, "T": 96.0},
    # young customer: first purchase 8 weeks ago
    "young": {"frequency": 3, "recency": 6.0, "T": 8.0},
    # one purchase, 5 weeks ago
    "single": {"frequency": 0, "recency": 0.0, "T": 5.0},
    # tenure 30 weeks, stable: still development (below retention_tenure)
    "building": {"frequency": 10, "recency": 29.0, "T": 30.0},
}


def test_each_rule_gives_its_stage() -> None:
    rows = {
        **BASE,
        "prospect": {"n_transactions": 0, "frequency": 0, "recency": None, "T": None},
        "growing": {"frequency": 19, "recency": 95.0, "T": 96.0, "purchase_trend": 0.5},
        "overdue": {"frequency": 10, "recency": 40.0, "T": 60.0},  # idle 20 > 3 * 4 and > 13
    }
    got = _stages(RuleStager(), view_of(rows))
    assert got == {
        "steady": "retention",
        "young": "onboarding",
        "single": "onboarding",
        "building": "development",
        "prospect": "acquisition",
        "growing": "development",
        "overdue": "retention (lapsed)",
    }


def test_output_contract() -> None:
    view = make_customer_view(50, seed=3)
    out = RuleStager().fit(view).stage(view)
    assert out.name == "stage"
    assert isinstance(out.dtype, pd.CategoricalDtype)
    assert tuple(out.cat.categories) == STAGES
    assert out.index.equals(view.index)
    assert not out.isna().any()


def test_rhythm_rule_uses_own_rhythm_and_grace() -> None:
    # rhythm 2 weeks: 3 x 2 = 6 < grace 13, so the grace decides
    rows = {
        "pause_10": {"frequency": 10, "recency": 20.0, "T": 30.0},
        "pause_14": {"frequency": 10, "recency": 20.0, "T": 34.0},
        # rhythm 10 weeks: idle 25 < 30 is fine, idle 31 > 30 lapses
        "slow_25": {"frequency": 5, "recency": 50.0, "T": 75.0},
        "slow_31": {"frequency": 5, "recency": 50.0, "T": 81.0},
    }
    got = _stages(RuleStager(lapse_after=None), view_of(rows))
    assert not _lapsed(got["pause_10"]) and _lapsed(got["pause_14"])
    assert got["pause_14"] == "development (lapsed)"  # keeps its stage
    assert not _lapsed(got["slow_25"]) and _lapsed(got["slow_31"])
    relaxed = _stages(RuleStager(lapse_after=None, lapse_grace=20.0), view_of(rows))
    assert not _lapsed(relaxed["pause_14"])


def test_single_buyers_use_the_fitted_typical_rhythm() -> None:
    rows = {
        # repeaters with rhythms 5, 6 and 7 weeks: median 6, so 3 x 6 = 18
        "r5": {"frequency": 10, "recency": 50.0, "T": 51.0},
        "r6": {"frequency": 10, "recency": 60.0, "T": 61.0},
        "r7": {"frequency": 10, "recency": 70.0, "T": 71.0},
        "once_17": {"frequency": 0, "recency": 0.0, "T": 17.0},
        "once_19": {"frequency": 0, "recency": 0.0, "T": 19.0},
    }
    stager = RuleStager(lapse_after=None).fit(view_of(rows))
    assert stager.typical_interpurchase_ == pytest.approx(6.0)
    got = stager.stage_frame(view_of(rows))
    assert got.loc["once_17", "status"] == "active" and got.loc["once_19", "status"] == "lapsed"
    assert (got["stage"][["once_17", "once_19"]] == "onboarding").all()
    assert "3.2x the base's usual gap of 6.0 weeks" in got.loc["once_19", "stage_reasons"]


def test_no_repeaters_fall_back_to_the_grace() -> None:
    rows = {
        "a": {"frequency": 0, "recency": 0.0, "T": 12.0},
        "b": {"frequency": 0, "recency": 0.0, "T": 14.0},
    }
    stager = RuleStager(lapse_after=None).fit(view_of(rows))
    assert stager.typical_interpurchase_ is None
    assert stager.stage(view_of(rows)).tolist() == ["onboarding", "onboarding"]
    assert stager.stage_frame(view_of(rows))["status"].tolist() == ["active", "lapsed"]


def test_absolute_limit_and_disabling_rules() -> None:
    # rhythm 20 weeks (3 x 20 = 60): idle 55 lapses only by the absolute limit
    rows = {"slow": {"frequency": 3, "recency": 60.0, "T": 115.0}}
    got = RuleStager(lapse_after=52.0).fit(view_of(rows)).stage_frame(view_of(rows))
    assert got.loc["slow", "status"] == "lapsed"
    assert "beyond the 52-week limit" in got.loc["slow", "stage_reasons"]
    assert _stages(RuleStager(), view_of(rows))["slow"] == "retention"  # default: no limit
    both_off = RuleStager(lapse_after=None, lapse_factor=None)
    idle = {"gone": {"frequency": 3, "recency": 10.0, "T": 200.0}}
    assert _stages(both_off, view_of(idle))["gone"] == "retention"


def test_p_alive_must_agree_with_the_rhythm() -> None:
    assert "p_alive" not in RuleStager().requires  # read when present
    rows = {
        # rhythm 4 weeks, idle 20 > 13: the rhythm says lapsed
        "quiet_low": {"frequency": 10, "recency": 40.0, "T": 60.0},
        "quiet_high": {"frequency": 10, "recency": 40.0, "T": 60.0},
        # idle 1 week: the rhythm says active whatever P(alive) says
        "busy_low": {"frequency": 10, "recency": 59.0, "T": 60.0},
        # one-time buyers idle 40 weeks (typical gap 4 weeks): BG/NBD's P(alive) = 1 is no
        # evidence, Pareto/NBD's 0.7 is
        "once_bgnbd": {"frequency": 0, "recency": 0.0, "T": 40.0},
        "once_pnbd": {"frequency": 0, "recency": 0.0, "T": 40.0},
    }
    view = view_of(rows).assign(p_alive=[0.2, 0.8, 0.1, 1.0, 0.7])
    got = RuleStager().fit(view).stage_frame(view)
    assert got["status"].tolist() == ["lapsed", "active", "active", "lapsed", "active"]
    reasons = got["stage_reasons"]
    assert reasons["quiet_low"].endswith("lapsed: no purchase for 20 weeks, 5.0x its usual gap of "
                                         "4.0 weeks, P(alive) 0.20")  # fmt: skip
    assert "but the purchase model disagrees" in reasons["quiet_high"]
    assert "P(alive)" not in reasons["once_bgnbd"]  # not evidence, not shown
    # without the column, or with the threshold off, the rhythm alone decides
    alone = RuleStager().fit(view_of(rows)).stage_frame(view_of(rows))
    assert alone["status"].tolist() == ["lapsed", "lapsed", "active", "lapsed", "lapsed"]
    off = RuleStager(p_alive_threshold=None).fit(view).stage_frame(view)
    assert off["status"].tolist() == alone["status"].tolist()
    # without the rhythm, the model alone decides (its informative values)
    model_only = RuleStager(lapse_factor=None).fit(view).stage_frame(view)
    assert model_only["status"].tolist() == ["lapsed", "active", "lapsed", "active", "active"]


def test_onboarding_window_and_purchases() -> None:
    view = view_of(BASE)
    assert _stages(RuleStager(onboarding_window=4.0), view)["young"] == "development"
    three = _stages(RuleStager(onboarding_purchases=5), view)
    assert three["young"] == "onboarding"  # 4 purchase periods < 5
    one = _stages(RuleStager(onboarding_purchases=1, onboarding_window=0.0), view)
    assert one["single"] == "development"


def test_growth_and_breadth_rules() -> None:
    rows = {
        "flat": {"frequency": 19, "recency": 95.0, "T": 96.0, "n_products": 3},
        "broadening": {"frequency": 19, "recency": 95.0, "T": 96.0, "n_products": 15},
        "rising": {
            "frequency": 19,
            "recency": 95.0,
            "T": 96.0,
            "n_products": 3,
            "purchase_trend": 0.3,
        },
    }
    view = view_of(rows)
    assert _stages(RuleStager(), view) == {
        "flat": "retention",
        "broadening": "development",  # 14 new products over 19 repeats > 0.5
        "rising": "development",
    }
    no_breadth = _stages(RuleStager(breadth_growth=None), view)
    assert no_breadth["broadening"] == "retention"
    strict = _stages(RuleStager(growth_threshold=0.5, breadth_growth=0.8), view)
    assert strict == {"flat": "retention", "broadening": "retention", "rising": "retention"}
    # without n_products the breadth rule is simply not applied
    assert _stages(RuleStager(), view.drop(columns="n_products"))["broadening"] == "retention"


def test_retention_tenure_reads_tenure_not_T() -> None:
    rows = {"contract": {"frequency": 10, "recency": 29.0, "T": 30.0, "tenure": 200.0}}
    assert _stages(RuleStager(), view_of(rows))["contract"] == "retention"
    assert _stages(RuleStager(retention_tenure=250.0), view_of(rows))["contract"] == ("development")


def test_prospect_rows_may_hold_missing_values_but_customers_may_not() -> None:
    rows = {
        "p": {"n_transactions": 0, "frequency": 0, "recency": None, "T": None},
        "c": {"frequency": 2, "recency": None, "T": 10.0},
    }
    with pytest.raises(SchemaError) as info:
        RuleStager().fit(view_of(rows))
    failure = info.value.failures[0]
    assert failure.column == "recency" and failure.rows == ("c",)
    assert "customers with purchases" in failure.check


@pytest.mark.parametrize(
    ("column", "value", "words"),
    [
        ("recency", 20.0, "exceeds T"),
        ("frequency", 1.5, "whole number"),
        ("frequency", -1, "whole number"),
        ("T", -3.0, "negative"),
        ("n_transactions", -1, "negative"),
        ("n_products", -2, "negative"),
        ("purchase_trend", float("inf"), "not finite"),
    ],
)
def test_invalid_values_name_column_and_row(column: str, value: float, words: str) -> None:
    view = view_of(BASE).assign(n_products=2)
    view[column] = view[column].astype(np.float64)
    view.loc["young", column] = value
    with pytest.raises(SchemaError, match=words) as info:
        RuleStager().fit(view)
    hit = [f for f in info.value.failures if f.column == column]
    assert hit and "young" in hit[0].rows


def test_not_a_frame_and_missing_columns() -> None:
    with pytest.raises(SchemaError, match="not a pandas DataFrame"):
        RuleStager().fit([1, 2])  # type: ignore[arg-type]
    with pytest.raises(SchemaError, match="tenure"):
        RuleStager().fit(view_of(BASE).drop(columns="tenure"))


@pytest.mark.parametrize(
    "params",
    [
        {"onboarding_purchases": 0},
        {"onboarding_purchases": 2.5},
        {"growth_threshold": 2.0},
        {"lapse_factor": 0.0},
        {"lapse_after": -1.0},
        {"p_alive_threshold": 1.5},
        {"breadth_growth": "wide"},
        {"lapse_grace": -1.0},
        {"time_unit": "Y"},
    ],
)
def test_invalid_parameters_are_refused_at_fit(params: dict[str, object]) -> None:
    stager = RuleStager(**params)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match=next(iter(params))):
        stager.fit(view_of(BASE))


def test_unfitted_and_persistence() -> None:
    view = make_customer_view(30, seed=2)
    with pytest.raises(NotFittedError):
        RuleStager().stage(view)
    stager = RuleStager(lapse_after=40.0).fit(view)
    restored = RuleStager.from_dict(stager.to_dict())
    pd.testing.assert_series_equal(stager.stage(view), restored.stage(view))
    assert restored.typical_interpurchase_ == stager.typical_interpurchase_


@pytest.mark.parametrize(
    "stager",
    [
        RuleStager(p_alive_threshold=0.4, breadth_growth=None),
        RuleStager(lapse_factor=None, lapse_after=None, onboarding_purchases=1),
    ],
    ids=repr,
)
def test_non_default_stagers_pass_the_battery(stager: RuleStager) -> None:
    check_plugin(stager)


def test_registry_name_and_default() -> None:
    reg = default_registry()
    assert reg.origin("stagers", "rules") == "built-in"
    assert isinstance(reg.get("stagers", "rules", lapse_after=30.0), RuleStager)


def test_stage_distribution_on_make_crm_is_sensible() -> None:
    from crmkit.data import summarize
    from crmkit.datasets import make_crm

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        crm = make_crm(600, seed=11)
        view = summarize(crm.data, include_records=False)
    out = RuleStager().fit(view).stage_frame(view)
    counts = out["stage"].value_counts()
    for stage in ("onboarding", "development", "retention"):
        assert counts[stage] >= 0.04 * len(view), counts
    assert (out["status"] == "lapsed").mean() >= 0.04
    # lapsed customers are mostly truly dead, and most dead customers are lapsed
    alive = crm.truth["alive_at_as_of"].reindex(view.index).to_numpy()
    lapsed = (out["status"] == "lapsed").to_numpy()
    assert (~alive[lapsed]).mean() > 0.75
    assert lapsed[~alive].mean() > 0.75


def test_reasons_state_each_customers_own_numbers() -> None:
    rows = {
        **BASE,
        "prospect": {"n_transactions": 0, "frequency": 0, "recency": None, "T": None},
        "growing": {"frequency": 19, "recency": 95.0, "T": 96.0, "purchase_trend": 0.5},
        "overdue": {"frequency": 10, "recency": 40.0, "T": 60.0},
    }
    view = view_of(rows)
    out = RuleStager().fit(view).stage_frame(view)
    reasons = out["stage_reasons"].to_dict()
    assert reasons == {
        "steady": "retention: 20 purchases over 96 weeks, last 1.0 weeks ago, mature: tenure "
        "96 weeks, purchases steady (trend +0.00)",
        "young": "onboarding: 4 purchases over 8.0 weeks, last 2.0 weeks ago, within the first "
        "13 weeks",
        "single": "onboarding: 1 purchase, 5.0 weeks ago, no repeat purchase yet",
        "building": "development: 11 purchases over 30 weeks, last 1.0 weeks ago, tenure 30 "
        "weeks, under the 52 weeks of a mature customer",
        "prospect": "acquisition: no purchase yet",
        "growing": "development: 20 purchases over 96 weeks, last 1.0 weeks ago, purchases "
        "growing (trend +0.50)",
        "overdue": "retention: 11 purchases over 60 weeks, last 20 weeks ago, mature: tenure "
        "60 weeks, purchases steady (trend +0.00); lapsed: no purchase for 20 weeks, 5.0x its "
        "usual gap of 4.0 weeks",
    }
    # histories that differ get reasons that differ
    assert len(set(reasons.values())) == len(reasons)
    # the unit of the view names the times
    days = RuleStager(time_unit="D").fit(view).stage_frame(view)["stage_reasons"]
    assert days["single"] == "onboarding: 1 purchase, 5.0 days ago, no repeat purchase yet"


def test_breadth_and_prospect_reasons() -> None:
    rows = {
        "broad": {"frequency": 4, "recency": 80.0, "T": 90.0, "n_products": 5},
        "p": {"n_transactions": 0, "frequency": 0, "recency": None, "T": None},
    }
    out = RuleStager().fit(view_of(rows)).stage_frame(view_of(rows))
    assert out.loc["broad", "stage_reasons"].endswith("1.0 new products per repeat purchase")
    assert out.loc["p", "status"] == "active"  # prospects never lapse


def test_staging_does_not_depend_on_row_order() -> None:
    view = make_customer_view(80, seed=9).assign(p_alive=np.linspace(0.05, 1.0, 80), n_products=3)
    out = RuleStager().fit(view).stage_frame(view)
    shuffled = view.sample(frac=1.0, random_state=3)
    again = RuleStager().fit(shuffled).stage_frame(shuffled)
    pd.testing.assert_frame_equal(again.loc[out.index], out)
    for i in (0, 40, 79):  # one row alone gives its row of the batch
        pd.testing.assert_frame_equal(RuleStager().fit(view).stage_frame(view.iloc[[i]]),
                                      out.iloc[[i]])  # fmt: skip


def test_input_is_never_mutated() -> None:
    view = view_of(BASE).assign(p_alive=[0.9, 0.2, 0.5, 0.1])
    before = view.copy()
    RuleStager().fit(view).stage_frame(view)
    pd.testing.assert_frame_equal(view, before)


class _LostStatus(RuleStager):
    """A stager whose stage_frame invents a third status: the battery must refuse it."""

    def stage_frame(self, view: pd.DataFrame) -> pd.DataFrame:
        out = super().stage_frame(view)
        status = pd.Categorical(["lost"] * len(out), categories=["active", "lapsed", "lost"])
        return out.assign(status=status)


class _NoReason(RuleStager):
    """A stager whose stage_frame leaves reasons empty: the battery must refuse it."""

    def stage_frame(self, view: pd.DataFrame) -> pd.DataFrame:
        return super().stage_frame(view).assign(stage_reasons="")


@pytest.mark.parametrize(
    ("stager", "words"),
    [(_LostStatus(), "status must be categorical"), (_NoReason(), "a reason for every customer")],
)
def test_battery_checks_the_stage_frame(stager: RuleStager, words: str) -> None:
    with pytest.raises(AssertionError, match=words):
        check_plugin(stager)
