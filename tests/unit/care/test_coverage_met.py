"""contact_coverage with interactions that name the contact met: decision makers reached."""

from __future__ import annotations

import pandas as pd
import pytest

from crmkit.care import COVERAGE_RISKS, contact_coverage, contact_map
from crmkit.compose import account_plan
from crmkit.data import CustomerData
from crmkit.exceptions import InvalidParameterError


def _data(named: bool = True) -> CustomerData:
    tx = pd.DataFrame({"customer_id": ["a", "b", "c"], "date": ["2024-01-01"] * 3,
                       "amount": [5.0, 5.0, 5.0]})
    ct = pd.DataFrame({
        "customer_id": ["a", "a", "b", "b", "c", "c"],
        "contact_id": ["p1", "p2", "p3", "p4", "p5", "p6"],
        "role": ["cfo", "buyer", "ceo", "buyer", "cfo", "buyer"],
        "decision_maker": [True, False, True, False, True, False],
    })
    ix = pd.DataFrame({
        "customer_id": ["a", "a", "b", "b", "c"],
        "date": pd.to_datetime(["2024-05-01", "2024-06-01", "2022-01-10", "2024-06-10",
                                "2024-06-15"]),
        "kind": "visit",
    })
    if named:
        ix["contact_id"] = ["p1", "p2", "p3", "p4", None]
    return CustomerData.from_frames(tx, contacts=ct, interactions=ix, as_of="2024-06-30")


def test_decision_makers_met_drive_the_risk() -> None:
    cov = contact_coverage(_data())
    assert cov["n_decision_makers_met"].to_dict() == {"a": 1, "b": 0, "c": 0}
    assert cov.loc["a", "last_decision_maker_met"] == pd.Timestamp("2024-05-01")
    assert cov.loc["a", "days_since_decision_maker_met"] == 60.0
    # b's CEO was last met in 2022: visits reach only the buyer
    assert cov.loc["b", "last_decision_maker_met"] == pd.Timestamp("2022-01-10")
    assert pd.isna(cov.loc["c", "last_decision_maker_met"])  # the visit names nobody
    assert cov["coverage_risk"].astype(str).to_dict() == {
        "a": "covered", "b": "decision makers not met", "c": "decision makers not met"}
    assert list(cov["coverage_risk"].cat.categories) == list(COVERAGE_RISKS)
    longer = contact_coverage(_data(), met_within_days=1000)
    assert longer.loc["b", "coverage_risk"] == "covered"
    people = contact_map(_data(), "b").set_index("contact_id")
    assert people.loc["p3", "last_interaction"] == pd.Timestamp("2022-01-10")


def test_without_named_contacts_nothing_changes() -> None:
    cov = contact_coverage(_data(named=False))
    assert (cov["coverage_risk"] == "covered").all()
    assert cov["n_decision_makers_met"].eq(0).all()
    assert cov["last_decision_maker_met"].isna().all()


def test_account_plan_asks_to_meet_the_decision_makers() -> None:
    plan = account_plan(_data(), "b")
    reasons = [step.reason for step in plan.next_steps]
    assert "contact coverage: decision makers not met" in reasons


@pytest.mark.parametrize("bad", [-1, 2.5, True])
def test_bad_met_within_days(bad: object) -> None:
    with pytest.raises(InvalidParameterError, match="met_within_days"):
        contact_coverage(_data(), met_within_days=bad)  # type: ignore[arg-type]
