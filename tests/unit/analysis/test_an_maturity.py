"""assess_maturity: Hellman's five levels from the records at hand."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from crmkit.analysis import MATURITY_LEVELS, MaturityAssessment, assess_maturity
from crmkit.data import CustomerData
from crmkit.datasets._synthetic import SyntheticCRM
from crmkit.domain import AccountPlan
from crmkit.exceptions import InvalidParameterError, SchemaError

IDS = [f"c{i}" for i in range(10)]


def _frames(cost: bool = True) -> dict[str, pd.DataFrame]:
    dates = pd.to_datetime(["2023-01-10", "2023-06-01", "2024-02-01", "2024-05-01"])
    rows = [(cid, d, 100.0 + i) for i, cid in enumerate(IDS) for d in dates[: 1 + i % 4]]
    tx = pd.DataFrame(rows, columns=["customer_id", "date", "amount"])
    if cost:
        tx["cost"] = tx["amount"] * 0.6
    return {"transactions": tx}


def _data(**frames: pd.DataFrame) -> CustomerData:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return CustomerData.from_frames(**frames, as_of="2024-06-30")


CUSTOMERS = pd.DataFrame({"customer_id": IDS, "key_account": [True, True] + [False] * 8})
CAMPAIGNS = pd.DataFrame({"campaign_id": ["K1"], "name": ["Offer"]})
TOUCHES = pd.DataFrame(
    {"campaign_id": ["K1"] * 3, "customer_id": IDS[:3], "date": pd.to_datetime(["2024-03-01"] * 3)}
)
CONTACTS = pd.DataFrame(
    {"customer_id": ["c0", "c1"], "contact_id": [1, 2], "decision_maker": [True, True]}
)
INTERACTIONS = pd.DataFrame(
    {
        "customer_id": ["c0", "c1"],
        "seller": ["Ann", "Bo"],
        "kind": ["visit", "call"],
        "date": pd.to_datetime(["2024-04-01", "2024-05-01"]),
    }
)


def test_levels_build_up_one_by_one() -> None:
    tx = _frames()["transactions"]
    only_tx = assess_maturity(_data(transactions=tx))
    assert isinstance(only_tx, MaturityAssessment)
    assert only_tx.level == 0 and only_tx.name == "none"
    assert "customer records" in only_tx.next_steps[0]
    level1 = assess_maturity(_data(transactions=tx, customers=CUSTOMERS))
    assert level1.level == 1
    assert level1.next_steps[0].startswith("record campaigns")
    level3 = assess_maturity(
        _data(transactions=tx, customers=CUSTOMERS, campaigns=CAMPAIGNS, touches=TOUCHES)
    )
    assert level3.level == 3 and level3.name == MATURITY_LEVELS[3]
    assert level3.levels["supported"].tolist() == [True, True, True, False, False]
    assert len(level3.next_steps) == 3  # goals, or decision makers + interactions
    full = dict(
        transactions=tx,
        customers=CUSTOMERS,
        campaigns=CAMPAIGNS,
        touches=TOUCHES,
        contacts=CONTACTS,
        interactions=INTERACTIONS,
    )
    level4 = assess_maturity(_data(**full))
    assert level4.level == 4
    assert level4.checks.loc["4b", "met"] and level4.checks.loc["4c", "met"]
    network = pd.DataFrame({"customer_id": ["c0", "c5"], "partner": ["P1", "P2"]})
    level5 = assess_maturity(_data(**full), network=network)
    assert level5.level == 5 and level5.next_steps == ()
    assert "2 links to 2 partners" in level5.checks.loc["5a", "evidence"]
    text = str(level5)
    assert text.startswith("Customer-management maturity: level 5 (network management)")


def test_each_level_includes_those_below() -> None:
    tx = _frames(cost=False)["transactions"]
    data = _data(
        transactions=tx,
        customers=CUSTOMERS,
        campaigns=CAMPAIGNS,
        touches=TOUCHES,
        contacts=CONTACTS,
        interactions=INTERACTIONS,
    )
    result = assess_maturity(data)
    # no costs: level 3 (profitability) fails, so level 4 data does not count
    assert not result.checks.loc["3c", "met"]
    assert result.levels.loc[4, "met"] and not result.levels.loc[4, "supported"]
    assert result.level == 2
    assert result.next_steps == (
        "record the cost of each transaction line (margin, profitability per customer)",
    )
    assert "[~] 4" in str(result)


def test_account_plans_and_thresholds() -> None:
    tx = _frames()["transactions"]
    base = dict(transactions=tx, customers=CUSTOMERS, campaigns=CAMPAIGNS, touches=TOUCHES)
    plans = [AccountPlan(customer_id=c, short_term_goals=["Renew"]) for c in ("c0", "c1")]
    with_plans = assess_maturity(_data(**base), account_plans=plans)
    assert with_plans.level == 4 and with_plans.checks.loc["4a", "met"]
    half = assess_maturity(_data(**base), account_plans=plans[:1])
    assert half.level == 3
    relaxed = assess_maturity(_data(**base), account_plans=plans[:1], coverage=0.5)
    assert relaxed.level == 4
    strict = assess_maturity(_data(**base), min_history_days=1000)
    assert strict.level == 2 and not strict.checks.loc["3a", "met"]
    given = assess_maturity(_data(**base), account_plans=plans, accounts=IDS)
    assert given.level == 3  # goals for 2 of 10 given accounts


def test_synthetic_crm_reaches_level_4(crm: SyntheticCRM) -> None:
    result = assess_maturity(crm.data)
    assert result.level == 4
    assert result.checks["met"].drop(["4a", "5a"]).all()


def test_errors() -> None:
    tx = _frames()["transactions"]
    with pytest.raises(SchemaError, match="needs CustomerData"):
        assess_maturity(tx)  # type: ignore[arg-type]
    with pytest.raises(SchemaError, match=r"network\['partner'\]: is missing"):
        assess_maturity(_data(transactions=tx), network=pd.DataFrame({"customer_id": ["c0"]}))
    with pytest.raises(InvalidParameterError, match="'coverage'"):
        assess_maturity(_data(transactions=tx), coverage=0.0)
    with pytest.raises(InvalidParameterError, match="'min_history_days'"):
        assess_maturity(_data(transactions=tx), min_history_days=-1)
