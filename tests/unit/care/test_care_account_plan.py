"""Account plans from a make_crm base, with and without a playbook."""

from __future__ import annotations

import json
import warnings
from typing import Any

import pandas as pd
import pytest

from crmkit.analysis import PopularityRecommender
from crmkit.care import contact_map
from crmkit.compose import Playbook, account_plan
from crmkit.data import CustomerData, summarize
from crmkit.datasets import make_crm
from crmkit.domain import AccountPlan
from crmkit.exceptions import DataWarning, InvalidParameterError, SchemaError


@pytest.fixture(scope="module")
def crm() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        made = make_crm(150, seed=8)
        made.data  # noqa: B018 - validate once, warnings silenced
    return made


@pytest.fixture(scope="module")
def playbook(crm: Any) -> Playbook:
    return Playbook().fit(crm.data)


def _some_customer(data: CustomerData) -> int:
    counts = data.transactions["customer_id"].value_counts()
    return int(counts.index[len(counts) // 3])


def test_plan_without_playbook(crm: Any) -> None:
    data = crm.data
    cid = _some_customer(data)
    plan = account_plan(data, cid)
    assert isinstance(plan, AccountPlan)
    history = data.for_customer(cid)
    view = summarize(history)
    assert plan.situation["revenue"] == pytest.approx(float(view["revenue"].iloc[0]))
    bought = set(history.transactions["product"].astype(str))
    assert set(plan.situation["products"]) == bought
    offered = [
        p.split(":")[0].removeprefix("Offer ")
        for p in plan.development_points
        if p.startswith("Offer ")
    ]
    assert offered and not set(offered) & bought
    active = contact_map(data, cid)
    active = active.loc[active["active"]]
    assert [c for c, _, _ in plan.buying_process] == active["name"].tolist()
    assert [d for _, _, d in plan.buying_process] == active["decision_maker"].tolist()
    assert plan.short_term_goals
    assert all(step.owner_role for step in plan.next_steps)
    json.dumps(plan.to_dict())  # JSON-ready
    text = plan.to_markdown()
    for section in (
        "## Current situation",
        "## Goals",
        "## Development points",
        "## Buying process",
        "## Next steps",
    ):
        assert section in text


def test_plan_with_playbook_follows_the_care_plan(crm: Any, playbook: Playbook) -> None:
    data = crm.data
    result = playbook.assess(data)
    at_risk = result.index[result["care_reasons"].str.startswith("churn risk")]
    assert len(at_risk) > 0
    cid = int(at_risk[0])
    plan = account_plan(data, cid, playbook=playbook)
    row = result.loc[cid]
    first = plan.next_steps[0]
    assert first.action == row["activities"].split("; ")[0]
    assert first.owner_role == row["owner_role"]
    assert first.due_in_days == row["cadence_days"]
    assert plan.short_term_goals[0].startswith("Secure the relationship")
    assert plan.situation["clv"] == pytest.approx(row["clv"])
    assert plan.situation["portfolio"] == row["portfolio"]
    assert any("predicted customer lifetime value" in g for g in plan.long_term_goals)


def test_recommender_and_view_are_used(crm: Any) -> None:
    data = crm.data
    cid = _some_customer(data)
    view = summarize(data)
    plan = account_plan(data, cid, view=view, recommender=PopularityRecommender(), n_products=2)
    offers = [p for p in plan.development_points if p.startswith("Offer ")]
    assert len(offers) <= 2 and all("bought by" in p for p in offers)
    assert plan.situation["revenue"] == pytest.approx(float(view.loc[cid, "revenue"]))
    none = account_plan(data, cid, n_products=0)
    assert not any(p.startswith("Offer ") for p in none.development_points)


def test_plan_of_a_base_without_products_or_contacts() -> None:
    tx = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b"],
            "date": pd.to_datetime(["2024-01-01", "2024-03-01", "2024-02-01"]),
            "amount": [5.0, 7.0, 3.0],
        }
    )
    plan = account_plan(CustomerData.from_frames(transactions=tx, as_of="2024-06-30"), "a")
    assert plan.situation["products"] == ()
    assert plan.buying_process == ()
    assert plan.situation["revenue_last_12_months"] == 12.0
    assert plan.short_term_goals == ("Keep the last 12 months' revenue of 12 and grow it",)


def test_errors(crm: Any) -> None:
    with pytest.raises(SchemaError, match="has no transactions of this customer"):
        account_plan(crm.data, -1)
    with pytest.raises(TypeError, match=r"account_plan: 'data' must be CustomerData"):
        account_plan(crm.frames["transactions"], 1)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match=r"'data' .*; got DataFrame$"):
        account_plan(crm.frames["transactions"], 1)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="n_products"):
        account_plan(crm.data, 1, n_products=-1)
    with pytest.raises(SchemaError, match="lacks the customer"):
        account_plan(crm.data, _some_customer(crm.data), view=summarize(crm.data).iloc[:0])
