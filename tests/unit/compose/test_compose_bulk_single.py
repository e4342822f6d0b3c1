"""Bulk ``Playbook.assess`` and ``Playbook.assess_one`` agree on every field, every customer.

On 200 customers of the synthetic CRM (full B2B records) and of the CDNOW sample
(transactions only): every column of the bulk row is compared with the
assessment's field, and a column the assessment does not carry fails the test.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from crmkit import CustomerData
from crmkit.compose import Playbook
from crmkit.domain import CustomerAssessment
from crmkit.plugins import CARE_PLAN_COLUMNS, STAGES, STATUSES

N_CUSTOMERS = 200

_SCALARS = ("clv", "p_alive", "expected_purchases", "loyalty", "churn_risk")


def _same_number(bulk: Any, single: float | None) -> bool:
    if bulk is None or (isinstance(bulk, float) and math.isnan(bulk)):
        return single is None
    return single is not None and float(bulk) == single


def _split(text: Any) -> tuple[str, ...]:
    return tuple(p for p in str(text).split("; ") if p) if isinstance(text, str) else ()


def _differences(row: pd.Series, one: CustomerAssessment, segments: list[str]) -> list[str]:
    """Every column of ``row`` whose value ``one`` does not carry exactly."""
    bad: list[str] = []
    plan = one.care_plan
    care = {
        "care_model": None if plan is None else plan.care_model,
        "intensity": None if plan is None else plan.intensity.value,
        "cadence_days": None if plan is None else plan.cadence_days,
        "channel": None if plan is None else plan.channel,
        "owner_role": None if plan is None else plan.owner_role,
        "activities": None if plan is None else plan.activities,
        "budget_share": None if plan is None else plan.budget_share,
    }
    for column, value in row.items():
        column = str(column)
        if column == "stage":
            ok = one.stage.value == value
        elif column == "status":
            ok = one.status.value == value
        elif column in _SCALARS:
            ok = _same_number(value, getattr(one, column))
        elif column.endswith("_reasons"):
            ok = one.reasons.get(column) == value
            if column == "churn_reasons":
                ok = ok and one.churn_reasons == _split(value)
            if column == "stage_reasons":
                ok = ok and one.stage_reasons == _split(value)
            if column == "care_reasons":
                ok = ok and plan is not None and plan.reasons == _split(value)
        elif column in segments:
            ok = one.segments.get(column) == str(value)
            if column in ("segment", "portfolio"):
                ok = ok and getattr(one, column) == str(value)
        elif column.startswith("churn_risk_"):
            ok = _same_number(value, one.churn_risks.get(column[len("churn_risk_") :]))
        elif column in CARE_PLAN_COLUMNS:
            want = _split(value) if column == "activities" else value
            ok = care[column] == want
        else:
            ok = False  # a column the assessment does not carry
        if not ok:
            bad.append(column)
    return bad


def _check_all(playbook: Playbook, data: CustomerData, ids: list[Any]) -> None:
    bulk = playbook.assess(data)
    assert set(bulk["stage"].astype(object).unique()) <= set(STAGES)
    assert set(bulk["status"].astype(object).unique()) <= set(STATUSES)
    reasons = [c for c in bulk.columns if str(c).endswith("_reasons")]
    assert {"stage_reasons", "churn_reasons", "care_reasons"} <= set(reasons)
    segments = [
        c
        for s in playbook._steps()
        if s.group == "segmenter"
        for c in s.provides
        if not c.endswith("_reasons")
    ]
    failures: dict[Any, list[str]] = {}
    for cid in ids:
        one = playbook.assess_one(data.for_customer(cid))
        assert one.customer_id == cid
        bad = _differences(bulk.loc[cid], one, segments)
        if bad:
            failures[cid] = bad
        # a reason for every decision, for every customer
        assert all(one.reasons.get(c) for c in reasons if c != "churn_reasons"), cid
    assert not failures, f"bulk and single differ (customer: columns): {failures}"


@pytest.fixture(scope="module")
def crm_data() -> CustomerData:
    from crmkit.datasets import make_crm

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return make_crm(400, seed=3).data


@pytest.fixture(scope="module")
def cdnow_data() -> CustomerData:
    from crmkit.datasets import load_cdnow

    tx = load_cdnow()
    calibration = tx[tx["date"] <= "1997-09-30"]
    return CustomerData.from_frames(transactions=calibration, as_of="1997-09-30")


@pytest.fixture(scope="module")
def apparel_data() -> CustomerData:
    """The apparel retailer's calibration period (read from ../shared/data, never shipped)."""
    path = Path(__file__).resolve().parents[3].parent / "shared" / "data"
    path = path / "apparel_transactions.csv"
    if not path.exists():
        pytest.skip(f"the apparel retailer data is not at {path}")
    raw = pd.read_csv(path, parse_dates=["Date"])
    tx = raw.rename(columns={"Id": "customer_id", "Date": "date", "Price": "amount"})
    calibration = tx[tx["date"] <= "2006-12-31"]
    return CustomerData.from_frames(transactions=calibration, as_of="2006-12-31")


def test_bulk_equals_single_on_make_crm(crm_data: CustomerData) -> None:
    playbook = Playbook().fit(crm_data)
    ids = sorted(playbook.assess(crm_data).index.tolist())[:N_CUSTOMERS]
    _check_all(playbook, crm_data, ids)


def test_bulk_equals_single_on_cdnow(cdnow_data: CustomerData) -> None:
    playbook = Playbook().fit(cdnow_data)
    index = playbook.assess(cdnow_data).index
    # 200 customers spread over the base (every stage and status occurs)
    ids = index[np.linspace(0, len(index) - 1, N_CUSTOMERS).astype(int)].tolist()
    _check_all(playbook, cdnow_data, ids)


def test_bulk_equals_single_on_apparel(apparel_data: CustomerData) -> None:
    playbook = Playbook().fit(apparel_data)
    index = playbook.assess(apparel_data).index
    ids = index[np.linspace(0, len(index) - 1, N_CUSTOMERS).astype(int)].tolist()
    _check_all(playbook, apparel_data, ids)


def test_the_comparison_catches_a_difference(crm_data: CustomerData) -> None:
    playbook = Playbook(churn=None, care=None).fit(crm_data)
    cid = playbook.assess(crm_data).index[0]
    row = playbook.assess(crm_data).loc[cid]
    one = playbook.assess_one(crm_data.for_customer(cid))
    assert _differences(row, one, ["portfolio"]) == []
    other = "retention" if row["stage"] != "retention" else "development"
    assert _differences(row.copy().replace({row["stage"]: other}), one, ["portfolio"]) != []
    changed = row.copy()
    changed["stage_reasons"] = "something else"
    assert _differences(changed, one, ["portfolio"]) == ["stage_reasons"]
    changed["brand_new_column"] = 1.0
    assert "brand_new_column" in _differences(changed, one, ["portfolio"])
