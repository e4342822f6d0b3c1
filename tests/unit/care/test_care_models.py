"""Care models: tiers, churn override, budget shares, plan_one, errors."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest

from crmkit.care import (
    INTENSITY_DTYPE,
    PORTFOLIO_RULES,
    RETENTION_ACTIONS,
    CareModelBase,
    KeyAccountCare,
    LifecycleCare,
    PortfolioCare,
    care_plan_from_row,
)
from crmkit.domain import CarePlan
from crmkit.exceptions import InvalidParameterError, NotFittedError, SchemaError
from crmkit.plugins import CARE_PLAN_COLUMNS, default_registry
from crmkit.testing import make_customer_view, parametrize_with_checks


def _view(**columns: Any) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    index = pd.Index([f"c{i}" for i in range(n)], name="customer_id")
    return pd.DataFrame(columns, index=index)


def _portfolio_view() -> pd.DataFrame:
    return _view(
        portfolio=pd.Categorical(["A", "B", "C", "D", "A", "C"], categories=list("ABCD")),
        clv=[9000.0, 3000.0, 800.0, 10.0, 7000.0, np.nan],
        churn_risk=[0.1, 0.2, 0.3, 0.05, 0.9, 0.6],
        churn_reasons=["", "", "", "", "nps_detractor (0.60); overdue (0.10)", None],
    )


# ------------------------------------------------------------------- registry


def test_registry_offers_the_three_care_models() -> None:
    reg = default_registry()
    assert {"portfolio", "lifecycle", "key_accounts"} <= set(reg.available("care_models"))
    assert isinstance(reg.get("care_models", "portfolio"), PortfolioCare)
    assert isinstance(reg.get("care_models", "lifecycle"), LifecycleCare)
    assert isinstance(reg.get("care_models", "key_accounts"), KeyAccountCare)


@parametrize_with_checks(
    [
        KeyAccountCare(rule="value_share", share=0.8),
        PortfolioCare(churn_threshold=None, value_column="revenue"),
        LifecycleCare(priority_quantile=None, churn_threshold=0.3),
    ]
)
def test_other_configurations_conform(plugin: Any, check: Any) -> None:
    check(plugin)


# ------------------------------------------------------------------ portfolio


def test_portfolio_routine_rules_per_portfolio() -> None:
    view = _portfolio_view()
    plan = PortfolioCare().fit(view).plan(view)
    assert list(plan.columns) == list(CARE_PLAN_COLUMNS)
    assert plan.index.equals(view.index)
    for cid in ("c0", "c1", "c2", "c3"):
        letter = str(view.loc[cid, "portfolio"])
        rule = PORTFOLIO_RULES[letter]
        row = plan.loc[cid]
        assert row["care_model"] == letter
        assert row["intensity"] == rule["intensity"]
        assert row["cadence_days"] == rule["cadence_days"]
        assert row["owner_role"] == rule["owner_role"]
        assert row["activities"] == "; ".join(rule["activities"])
        assert row["care_reasons"] == rule["reason"]
    assert plan["intensity"].dtype == INTENSITY_DTYPE
    assert plan["cadence_days"].dtype == np.int64


def test_portfolio_intensity_follows_value_order() -> None:
    view = _portfolio_view()
    plan = PortfolioCare(churn_threshold=None).fit(view).plan(view)
    ranks = plan["intensity"].cat.codes
    assert ranks["c0"] > ranks["c1"] > ranks["c2"] > ranks["c3"]


@pytest.mark.parametrize(
    ("reason", "signal"),
    [
        ("nps_detractor (0.40); overdue (0.10)", "nps_detractor"),
        ("open_complaint (0.40)", "open_complaint"),
        ("key_contact_left (0.30); address_change (0.20)", "key_contact_left"),
        ("overdue (0.50)", "overdue"),
        ("falling_purchases (0.50)", "falling_purchases"),
        ("address_change (0.28); nps_detractor (0.09)", "address_change"),
        ("dropout (0.83)", "dropout"),
        ("something_new (0.70)", "default"),
        ("", "default"),
    ],
)
def test_churn_reason_selects_retention_action(reason: str, signal: str) -> None:
    view = _view(
        portfolio=["D", "D"], clv=[100.0, 100.0], churn_risk=[0.8, 0.2], churn_reasons=[reason, ""]
    )
    plan = PortfolioCare().fit(view).plan(view)
    action = RETENTION_ACTIONS[signal]
    at_risk, calm = plan.loc["c0"], plan.loc["c1"]
    assert at_risk["activities"].startswith(action["action"])
    assert at_risk["channel"] == action["channel"]
    assert at_risk["owner_role"] == action["owner_role"]
    assert at_risk["cadence_days"] == min(action["due_days"], PORTFOLIO_RULES["D"]["cadence_days"])
    assert at_risk["intensity"] == "high"  # raised from D's low
    assert at_risk["care_reasons"].startswith("churn risk 0.80 > 0.5")
    top = reason.split(" (")[0] if reason else "no reason given"
    assert f"({top})" in at_risk["care_reasons"]
    assert calm["activities"] == "; ".join(PORTFOLIO_RULES["D"]["activities"])
    assert calm["intensity"] == "low"


def test_churn_override_never_lowers_intensity_or_lengthens_cadence() -> None:
    view = _view(portfolio=["A"], clv=[5000.0], churn_risk=[0.95], churn_reasons=["overdue (0.9)"])
    row = PortfolioCare().fit(view).plan(view).iloc[0]
    assert row["intensity"] == "maximum"
    assert row["cadence_days"] == RETENTION_ACTIONS["overdue"]["due_days"]


def test_missing_or_low_risk_does_not_override() -> None:
    view = _view(portfolio=["C", "C", "C"], clv=[1.0, 1.0, 1.0], churn_risk=[np.nan, 0.5, 0.49])
    plan = PortfolioCare().fit(view).plan(view)
    assert (plan["care_model"] == "C").all()
    assert not plan["care_reasons"].str.contains("churn risk").any()


def test_without_reasons_column_the_default_action_is_used() -> None:
    view = _view(portfolio=["B"], clv=[1.0], churn_risk=[0.7])
    row = PortfolioCare().fit(view).plan(view).iloc[0]
    assert row["activities"].startswith(RETENTION_ACTIONS["default"]["action"])
    assert "(no reason given)" in row["care_reasons"]


def test_replacing_retention_actions_and_table() -> None:
    action = {"action": "Send flowers", "channel": "courier", "owner_role": "CEO", "due_days": 1}
    rule = {
        "intensity": "medium",
        "cadence_days": 60,
        "channel": "video call",
        "owner_role": "partner manager",
        "activities": ("Quarterly partner call",),
        "reason": "portfolio P: partners",
    }
    view = _view(
        portfolio=["P", "A"],
        clv=[10.0, 10.0],
        churn_risk=[0.1, 0.9],
        churn_reasons=["", "overdue (0.9)"],
    )
    care = PortfolioCare(table={"P": rule}, retention_actions={"overdue": action}).fit(view)
    plan = care.plan(view)
    assert plan.loc["c0", "owner_role"] == "partner manager"
    assert plan.loc["c1", "owner_role"] == "CEO"
    assert plan.loc["c1", "cadence_days"] == 1
    assert care.rules().index.tolist() == ["A", "B", "C", "D", "P"]


@pytest.mark.parametrize(
    "params",
    [
        {"table": {"A": {"intensity": "huge"}}},
        {"table": {"A": {**PORTFOLIO_RULES["A"], "cadence_days": 0}}},
        {"table": {"A": {**PORTFOLIO_RULES["A"], "activities": ("a; b",)}}},
        {"retention_actions": {"overdue": {"action": "x"}}},
        {"intensity_weights": {"low": -1.0}},
        {"intensity_weights": {"extreme": 2.0}},
        {"churn_threshold": 1.5},
        {"value_column": ""},
    ],
)
def test_invalid_parameters_raise_at_fit(params: dict[str, Any]) -> None:
    care = PortfolioCare(**params)  # __init__ stores only
    with pytest.raises(InvalidParameterError):
        care.fit(_portfolio_view())


def test_unknown_and_missing_labels_are_schema_errors() -> None:
    care = PortfolioCare().fit(_portfolio_view())
    bad = _view(portfolio=["A", "E", "E"], clv=[1.0, 1.0, 1.0], churn_risk=[0.1, 0.1, 0.1])
    with pytest.raises(
        SchemaError,
        match=r"view\['portfolio'\]: holds labels without a care "
        r"rule \('E'.*rows \['c1', 'c2'\]",
    ):
        care.plan(bad)
    missing = _view(portfolio=["A", None], clv=[1.0, 1.0], churn_risk=[0.1, 0.1])
    with pytest.raises(SchemaError, match=r"contains missing labels \(1 row; rows \['c1'\]\)"):
        care.plan(missing)


def test_bad_columns_are_schema_errors() -> None:
    care = PortfolioCare().fit(_portfolio_view())
    with pytest.raises(SchemaError, match=r"view\['churn_risk'\]: is not within \[0, 1\]"):
        care.plan(_view(portfolio=["A"], clv=[1.0], churn_risk=[1.2]))
    with pytest.raises(SchemaError, match=r"churn_risk.*is missing"):
        care.plan(_view(portfolio=["A"], clv=[1.0]))
    with pytest.raises(SchemaError, match="not numeric"):
        care.plan(_view(portfolio=["A"], clv=["lots"], churn_risk=[0.1]))
    with pytest.raises(SchemaError, match="not churn-reason texts"):
        care.plan(_view(portfolio=["A"], clv=[1.0], churn_risk=[0.9], churn_reasons=[3.0]))
    with pytest.raises(SchemaError, match="no customers"):
        PortfolioCare().fit(_portfolio_view().iloc[:0])


def test_unfitted_plan_raises() -> None:
    with pytest.raises(NotFittedError):
        PortfolioCare().plan(_portfolio_view())
    with pytest.raises(NotFittedError):
        PortfolioCare().plan_one({"portfolio": "A", "clv": 1.0, "churn_risk": 0.1})


# --------------------------------------------------------------------- budget


def test_budget_shares_sum_to_one_on_the_fitting_view_and_are_batch_free() -> None:
    view = make_customer_view(200, requires=PortfolioCare().requires, seed=11)
    care = PortfolioCare().fit(view)
    plan = care.plan(view)
    assert plan["budget_share"].sum() == pytest.approx(1.0, abs=1e-12)
    half = care.plan(view.iloc[::2])
    pd.testing.assert_series_equal(half["budget_share"], plan["budget_share"].iloc[::2])


def test_budget_share_grows_with_value_and_intensity() -> None:
    view = _view(
        portfolio=["C", "C", "A", "D"],
        clv=[100.0, 900.0, 100.0, 100.0],
        churn_risk=[0.0, 0.0, 0.0, 0.0],
    )
    plan = PortfolioCare().fit(view).plan(view)
    share = plan["budget_share"]
    assert share["c1"] > share["c0"]  # same portfolio, more value
    assert share["c2"] > share["c0"] > share["c3"]  # same value, more intensity
    weights = np.array(
        [2.0 * (1 + 100 / 300), 2.0 * (1 + 900 / 300), 8 * (1 + 100 / 300), 1 * (1 + 100 / 300)]
    )
    np.testing.assert_allclose(share.to_numpy(), weights / weights.sum(), rtol=1e-12)


def test_budget_share_is_capped_at_one() -> None:
    care = PortfolioCare().fit(_view(portfolio=["D"], clv=[1.0], churn_risk=[0.0]))
    big = _view(portfolio=["A"], clv=[1e9], churn_risk=[0.0])
    assert care.plan(big)["budget_share"].iloc[0] == 1.0


def test_zero_values_share_by_intensity_only() -> None:
    view = _view(portfolio=["A", "D"], clv=[0.0, 0.0], churn_risk=[0.0, 0.0])
    plan = PortfolioCare().fit(view).plan(view)
    np.testing.assert_allclose(plan["budget_share"], [8 / 9, 1 / 9])


# ------------------------------------------------------------------- plan_one


def test_plan_one_equals_bulk_row() -> None:
    view = _portfolio_view()
    care = PortfolioCare().fit(view)
    plan = care.plan(view)
    for cid in view.index:
        one = care.plan_one(view.loc[cid])
        assert isinstance(one, CarePlan)
        assert one == care_plan_from_row(plan.loc[cid])
        assert one.budget_share == plan.loc[cid, "budget_share"]
        assert "; ".join(one.activities) == plan.loc[cid, "activities"]


def test_care_plan_from_row_needs_every_column() -> None:
    with pytest.raises(SchemaError, match="budget_share"):
        care_plan_from_row({c: "x" for c in CARE_PLAN_COLUMNS if c != "budget_share"})


@pytest.mark.parametrize("model", [PortfolioCare, LifecycleCare, KeyAccountCare])
@pytest.mark.parametrize("row", [None, 3.5, "A", ["A", 1.0], np.array([1.0])])
def test_plan_one_refuses_a_row_that_is_not_a_mapping(model: Any, row: Any) -> None:
    view = make_customer_view(20, requires=model().requires, seed=1)
    for care in (model(), model().fit(view)):  # the row is checked before fitting is
        with pytest.raises(InvalidParameterError) as info:
            care.plan_one(row)
        assert isinstance(info.value, TypeError)
        message = str(info.value)
        assert message.startswith(f"The 'row' parameter of {model.__name__}.plan_one must be a")
        assert message.endswith(f"Got {row!r} instead.")


def test_care_plan_from_row_refuses_a_row_that_is_not_a_mapping() -> None:
    with pytest.raises(
        InvalidParameterError,
        match=r"The 'row' parameter of care_plan_from_row .*\. Got \('care_model', .* instead\.$",
    ):
        care_plan_from_row(tuple(CARE_PLAN_COLUMNS))  # type: ignore[arg-type]


def test_the_bare_base_class_cannot_be_fitted() -> None:
    view = make_customer_view(10, requires=PortfolioCare().requires)
    with pytest.raises(InvalidParameterError) as info:
        CareModelBase().fit(view)
    message = str(info.value)
    assert message.startswith("CareModelBase is not a complete care model")
    for name in ("'value_column'", "'table'", "_tier_columns", "_tiers", "PortfolioCare"):
        assert name in message


def test_an_incomplete_subclass_names_what_it_lacks() -> None:
    class NoTiers(PortfolioCare):
        _tiers = CareModelBase._tiers  # undo the tier rule

    with pytest.raises(InvalidParameterError, match=r"NoTiers .*lacks the methods _tiers;"):
        NoTiers().fit(_portfolio_view())


# ------------------------------------------------------------------ lifecycle


def test_lifecycle_actions_by_stage_priority_and_loyalty() -> None:
    view = _view(
        stage=pd.Categorical(["onboarding", "development", "retention", "retention", "retention"]),
        status=pd.Categorical(["active", "active", "active", "lapsed", "active"]),
        clv=[100.0, 200.0, 5000.0, 50.0, 300.0],
        churn_risk=[0.0, 0.0, 0.0, 0.0, 0.0],
        loyalty=[20.0, 90.0, np.nan, 10.0, 50.0],
    )
    care = LifecycleCare().fit(view)
    assert care.priority_value_ == pytest.approx(np.quantile(view["clv"], 0.8))
    plan = care.plan(view)
    # lapsed customers get the "lapsed" rule whatever their stage
    assert plan["care_model"].tolist() == [
        "onboarding", "development", "retention", "lapsed", "retention"
    ]  # fmt: skip
    assert plan.loc["c0", "activities"].startswith("Welcome call: make the whole offering known")
    assert "Strengthen loyalty" in plan.loc["c0", "activities"]
    assert "Ask for a recommendation" in plan.loc["c1", "activities"]
    assert plan.loc["c2", "intensity"] == "high"  # retention (medium) + top value
    assert "top value" in plan.loc["c2", "care_reasons"]
    assert "Strengthen loyalty" not in plan.loc["c3", "activities"]  # lapsed: win-back only
    assert plan.loc["c3", "activities"].startswith("Win-back offer")
    assert plan.loc["c4", "intensity"] == "medium"
    no_loyalty = care.plan(view.drop(columns="loyalty"))
    assert "Strengthen loyalty" not in no_loyalty.loc["c0", "activities"]


def test_lifecycle_priority_off() -> None:
    view = _view(stage=["retention", "retention"], clv=[1.0, 1e6], churn_risk=[0.0, 0.0])
    plan = LifecycleCare(priority_quantile=None).fit(view).plan(view)
    assert plan["intensity"].tolist() == ["medium", "medium"]


# ---------------------------------------------------------------- key accounts


def test_key_accounts_by_flag_and_the_rest_by_value() -> None:
    view = _view(
        key_account=pd.array([True, False, False, False, None], dtype="boolean"),
        clv=[5000.0, 3000.0, 1000.0, 10.0, 400.0],
        churn_risk=[0.1] * 5,
    )
    care = KeyAccountCare().fit(view)
    low, high = care.value_thresholds_
    assert (low, high) == pytest.approx(
        tuple(np.quantile([3000.0, 1000.0, 10.0, 400.0], [0.5, 0.8]))
    )
    plan = care.plan(view)
    assert plan["care_model"].tolist() == [
        "key account",
        "high value",
        "medium value",
        "low value",
        "low value",
    ]
    assert plan.loc["c0", "owner_role"] == "key account manager"
    new = _view(key_account=[0, 1], clv=[2500.0, 1.0], churn_risk=[0.1, 0.1])
    assert care.plan(new)["care_model"].tolist() == ["high value", "key account"]
    with pytest.raises(SchemaError, match="is not a true/false flag"):
        care.plan(_view(key_account=["yes"], clv=[1.0], churn_risk=[0.1]))


def test_key_accounts_by_value_share() -> None:
    view = _view(clv=[700.0, 200.0, 60.0, 40.0, 0.0], churn_risk=[0.0] * 5)
    care = KeyAccountCare(rule="value_share", share=0.8).fit(view)
    assert care.key_threshold_ == 200.0
    assert "key_account" not in care.requires
    plan = care.plan(view)
    assert plan["care_model"].tolist()[:2] == ["key account", "key account"]
    assert plan["care_model"].iloc[-1] == "low value"


def test_json_round_trip_of_fitted_state() -> None:
    view = _view(key_account=[True, False, False], clv=[5.0, 3.0, 1.0], churn_risk=[0.1] * 3)
    care = KeyAccountCare().fit(view)
    text = json.dumps(care.to_dict())
    restored = KeyAccountCare.from_dict(json.loads(text))
    assert restored.value_thresholds_ == care.value_thresholds_
    pd.testing.assert_frame_equal(restored.plan(view), care.plan(view))
