"""Consumer care tables versus the business-to-business defaults, and the ``"auto"`` choice."""

from __future__ import annotations

import pandas as pd
import pytest

from crmkit.care import (
    CONSUMER_LIFECYCLE_RULES,
    CONSUMER_PORTFOLIO_RULES,
    CONSUMER_RETENTION_ACTIONS,
    LIFECYCLE_RULES,
    PORTFOLIO_RULES,
    RETENTION_ACTIONS,
    LifecycleCare,
    PortfolioCare,
)
from crmkit.compose._defaults import RecordsProfile, Resolution, resolve_care

B2B_ROLES = {"key account manager", "account manager", "inside sales", "seller"}
CONSUMER_CHANNELS = {"email", "app", "call"}

CONSUMER = RecordsProfile(False, "the records hold no firmographics and no contacts", (), {})
BUSINESS = RecordsProfile(True, "the records hold contact records", (), {})


def _view() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "portfolio": ["A", "B", "C", "D", "C"],
            "stage": pd.Categorical(
                ["retention", "development", "onboarding", "development", "retention"]
            ),
            "clv": [900.0, 300.0, 50.0, 5.0, 40.0],
            "churn_risk": [0.1, 0.2, 0.1, 0.05, 0.9],
            "churn_reasons": ["", "", "", "", "dropout (0.90): P(no purchase in 52 weeks) 0.90"],
        },
        index=pd.Index(list("abcde"), name="customer_id"),
    )


def test_consumer_tables_cover_every_tier_and_signal_of_the_defaults() -> None:
    assert set(CONSUMER_PORTFOLIO_RULES) == set(PORTFOLIO_RULES)
    assert set(CONSUMER_LIFECYCLE_RULES) >= set(LIFECYCLE_RULES) - {"lapsed"}
    assert set(CONSUMER_RETENTION_ACTIONS) == set(RETENTION_ACTIONS)


@pytest.mark.parametrize(
    "rules",
    [
        PortfolioCare(table=CONSUMER_PORTFOLIO_RULES).rules(),
        LifecycleCare(table=CONSUMER_LIFECYCLE_RULES).rules(),
    ],
    ids=["portfolio", "lifecycle"],
)
def test_consumer_tables_use_consumer_roles_and_channels(rules: pd.DataFrame) -> None:
    assert not set(rules["owner_role"]) & B2B_ROLES
    assert set(rules["channel"]) <= CONSUMER_CHANNELS
    assert "visit" not in set(rules["channel"])


def test_consumer_retention_actions_reach_consumers() -> None:
    for signal, action in CONSUMER_RETENTION_ACTIONS.items():
        assert action["owner_role"] not in B2B_ROLES, signal
        assert action["channel"] != "visit", signal
    assert "Win-back" in CONSUMER_RETENTION_ACTIONS["dropout"]["action"]
    assert CONSUMER_RETENTION_ACTIONS["open_complaint"]["owner_role"] == "service desk"


def test_auto_care_is_consumer_without_firmographics_or_contacts() -> None:
    said = Resolution()
    care = resolve_care("auto", CONSUMER, ["portfolio", "clv"], True, said)
    assert isinstance(care, PortfolioCare)
    plan = care.fit(_view()).plan(_view())
    assert not set(plan["owner_role"].astype(str)) & B2B_ROLES
    assert plan.loc["e", "owner_role"] == "marketing"  # the win-back of the at-risk customer
    assert plan.loc["e", "activities"].startswith("Win-back offer")
    assert "consumer tables" in said.resolved["care"]


def test_auto_care_keeps_key_account_care_for_business_records() -> None:
    said = Resolution()
    care = resolve_care("auto", BUSINESS, ["portfolio", "clv"], True, said)
    plan = care.fit(_view()).plan(_view())
    assert plan.loc["a", "owner_role"] == "key account manager"
    assert plan.loc["a", "channel"] == "visit"
    assert "business-to-business" in said.resolved["care"]


def test_auto_care_without_portfolios_cares_by_stage_and_revenue() -> None:
    care = resolve_care("auto", CONSUMER, ["stage", "revenue"], False, Resolution())
    assert isinstance(care, LifecycleCare)
    assert care.value_column == "revenue" and care.churn_threshold is None
    assert care.table is CONSUMER_LIFECYCLE_RULES


def test_the_tables_stay_replaceable() -> None:
    mine = {**CONSUMER_PORTFOLIO_RULES, "A": {**CONSUMER_PORTFOLIO_RULES["A"], "channel": "sms"}}
    plan = PortfolioCare(table=mine).fit(_view()).plan(_view())
    assert plan.loc["a", "channel"] == "sms"
    assert resolve_care("lifecycle", CONSUMER, [], True, Resolution()) == "lifecycle"
