"""track_plans: account-plan targets against the actuals of a later make_crm snapshot."""

from __future__ import annotations

import datetime as dt
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest

from crmkit import CustomerData
from crmkit.care import TRACKING_COLUMNS, track_plans
from crmkit.datasets import make_crm
from crmkit.domain import AccountPlan, PlanTarget
from crmkit.exceptions import DataWarning, InvalidParameterError, SchemaError

HALF = {"start": dt.date(2025, 7, 1), "due": dt.date(2025, 12, 31)}


@pytest.fixture(scope="module")
def crm() -> Any:
    return make_crm(400, seed=5)


def _later(crm: Any, as_of: Any, interactions: pd.DataFrame | None = None) -> CustomerData:
    frames = dict(crm.frames)
    if interactions is not None:
        frames["interactions"] = interactions
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        return CustomerData.from_frames(frames.pop("transactions"), **frames, as_of=as_of)


def _plans(crm: Any, ids: list[Any]) -> list[AccountPlan]:
    truth = crm.truth
    plans = []
    for cid in ids:
        # a target a little above or below what the customer will do
        revenue = max(1.0, float(truth.loc[cid, "holdout_revenue"]) * (0.8 if cid % 2 else 1.3))
        plans.append(AccountPlan(customer_id=cid, targets=[
            PlanTarget(metric="revenue", target=revenue, **HALF),
            PlanTarget(metric="purchases", target=6, **HALF),
            PlanTarget(metric="products", target=2, **HALF),
        ]))
    return plans


def test_actuals_match_the_truth_of_make_crm(crm: Any) -> None:
    ids = crm.truth.index[:60].tolist()
    table = track_plans(_plans(crm, ids), _later(crm, crm.holdout_end))
    assert table.columns.tolist() == list(TRACKING_COLUMNS)
    assert len(table) == 3 * len(ids)
    revenue = table[table["metric"] == "revenue"].set_index("customer_id")
    purchases = table[table["metric"] == "purchases"].set_index("customer_id")
    truth = crm.truth.loc[ids]
    np.testing.assert_allclose(revenue["actual"], truth["holdout_revenue"], atol=0.01)
    np.testing.assert_array_equal(purchases["actual"], truth["holdout_purchases"])
    # the period is over: every target is met or missed, as its attainment says
    assert set(table["status"]) <= {"met", "missed"}
    assert ((table["status"] == "met") == (table["actual"] >= table["target"])).all()
    np.testing.assert_allclose(table["attainment"], table["actual"] / table["target"])
    assert (table["elapsed"] == 1.0).all()
    buyers = revenue[revenue["actual"] > 0]
    assert (buyers.loc[[c for c in buyers.index if c % 2], "status"] == "met").all()
    assert (buyers.loc[[c for c in buyers.index if not c % 2], "status"] == "missed").all()


def test_midway_follow_up_is_on_track_or_behind(crm: Any) -> None:
    ids = crm.truth.index[:40].tolist()
    table = track_plans(_plans(crm, ids), _later(crm, "2025-09-30"))
    elapsed = (pd.Timestamp("2025-09-30") - pd.Timestamp("2025-07-01")).days + 1
    assert table["elapsed"].unique() == pytest.approx([elapsed / 184])
    open_rows = table[table["actual"] < table["target"]]
    expected = np.where(open_rows["actual"] >= open_rows["target"] * open_rows["elapsed"],
                        "on track", "behind")
    assert (open_rows["status"].to_numpy() == expected).all()
    assert {"on track", "behind"} & set(table["status"])
    later = track_plans(_plans(crm, ids), _later(crm, crm.holdout_end))
    assert (later["actual"].to_numpy() >= table["actual"].to_numpy()).all()


def test_before_the_start_nothing_is_counted(crm: Any) -> None:
    plan = AccountPlan(customer_id=int(crm.truth.index[0]), targets=[
        PlanTarget(metric="revenue", target=10.0, start=dt.date(2026, 1, 1),
                   due=dt.date(2026, 6, 30))])
    row = track_plans(plan, _later(crm, crm.holdout_end)).iloc[0]
    assert row["status"] == "not started" and row["actual"] == 0.0


def test_contacts_reached_needs_contact_ids(crm: Any) -> None:
    cid = int(crm.truth.index[0])
    plan = AccountPlan(customer_id=cid, targets=[
        PlanTarget(metric="contacts_reached", target=2, **HALF)])
    with pytest.raises(SchemaError, match=r"interactions\['contact_id'\]: is missing"):
        track_plans(plan, _later(crm, crm.holdout_end))
    met = crm.frames["interactions"].copy()
    contacts = crm.frames["contacts"]
    own = contacts.loc[contacts["customer_id"] == cid, "contact_id"].tolist()
    mine = (met["customer_id"] == cid).to_numpy()
    met["contact_id"] = None
    met.loc[mine, "contact_id"] = [own[i % len(own)] for i in range(int(mine.sum()))]
    window = met[mine & (met["date"] >= "2025-07-01") & (met["date"] <= "2025-12-31")]
    row = track_plans(plan, _later(crm, crm.holdout_end, met)).iloc[0]
    assert row["actual"] == window["contact_id"].nunique()


def test_rows_sorted_and_plans_order_free(crm: Any) -> None:
    ids = crm.truth.index[:20].tolist()
    data = _later(crm, crm.holdout_end)
    one = track_plans(_plans(crm, ids), data)
    two = track_plans(list(reversed(_plans(crm, ids))), data)
    pd.testing.assert_frame_equal(one, two)
    assert one["customer_id"].is_monotonic_increasing


def test_bad_inputs(crm: Any) -> None:
    data = _later(crm, crm.holdout_end)
    with pytest.raises(InvalidParameterError, match="AccountPlan objects"):
        track_plans(["plan"], data)  # type: ignore[list-item]
    with pytest.raises(InvalidParameterError, match="'data' parameter of track_plans"):
        track_plans([], crm.frames)  # type: ignore[arg-type]
    assert track_plans([AccountPlan(customer_id=1)], data).empty
    with pytest.raises(SchemaError, match=r"PlanTarget\['due'\]: must not be before start"):
        PlanTarget(metric="revenue", target=1.0, start=dt.date(2025, 2, 1),
                   due=dt.date(2025, 1, 1))
    with pytest.raises(SchemaError, match=r"PlanTarget\['target'\]: must be > 0"):
        PlanTarget(metric="revenue", target=0, **HALF)


def test_targets_in_plan_dict_and_markdown() -> None:
    plan = AccountPlan(customer_id="C1", targets=[
        PlanTarget(metric="revenue", target=5000.0, description="Grow toner", **HALF)])
    assert plan.to_dict()["targets"] == [{"metric": "revenue", "target": 5000.0,
                                          "start": "2025-07-01", "due": "2025-12-31",
                                          "description": "Grow toner"}]
    assert "| revenue | 5,000.00 | 2025-07-01 | 2025-12-31 | Grow toner |" in plan.to_markdown()
    with pytest.raises(SchemaError, match="items must be PlanTarget"):
        AccountPlan(customer_id="C1", targets=["grow"])
