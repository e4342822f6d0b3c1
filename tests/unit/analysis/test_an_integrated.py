"""Integrated customer data: pivots, visit histories, seller coverage, timelines."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmkit.analysis import customer_timeline, seller_coverage, value_pivot, visit_history
from crmkit.data import CustomerData
from crmkit.datasets._synthetic import SyntheticCRM
from crmkit.exceptions import InvalidParameterError, SchemaError


def test_value_pivots_match_groupby(crm: SyntheticCRM) -> None:
    tx = crm.data.transactions
    before = tx.copy()
    money = value_pivot(crm.data, by="product")
    direct = (
        tx.groupby(["customer_id", "product"], observed=True)["amount"]
        .sum()
        .unstack(fill_value=0.0)
    )
    direct = direct.reindex(columns=money.columns, fill_value=0.0)
    np.testing.assert_allclose(money.to_numpy(), direct.reindex(money.index).to_numpy())
    margin = value_pivot(crm.data, by="channel", values="margin")
    np.testing.assert_allclose(margin.to_numpy().sum(), (tx["amount"] - tx["cost"]).sum())
    quarters = value_pivot(crm.data, by="quarter")
    assert quarters.columns[0] == "2023Q1"
    np.testing.assert_allclose(quarters.sum(axis=1), money.sum(axis=1))
    counts = value_pivot(crm.data, by="year", values="count")
    assert counts.to_numpy().sum() == int((tx["amount"] > 0).sum())
    assert tx.equals(before)


def test_value_pivot_errors() -> None:
    tx = pd.DataFrame(
        {
            "customer_id": [1, 2],
            "amount": [1.0, 2.0],
            "product": ["a", None],
            "cost": [0.5, None],
            "date": pd.to_datetime(["2025-01-01"] * 2),
        }
    )
    with pytest.raises(SchemaError, match="missing values") as err:
        value_pivot(tx, by="product")
    assert err.value.failures[0].rows == (1,)
    with pytest.raises(SchemaError, match="margin needs every cost"):
        value_pivot(tx, by="month", values="margin")
    with pytest.raises(SchemaError, match=r"transactions\['channel'\]: is missing"):
        value_pivot(tx, by="channel")
    with pytest.raises(InvalidParameterError, match="'values'"):
        value_pivot(tx, values="profit")


def test_visit_history_by_customer_and_seller(crm: SyntheticCRM) -> None:
    ix = crm.data.frames["interactions"]
    visits = ix.loc[ix["kind"] == "visit"]
    per_customer = visit_history(crm.data)
    # every customer is listed, visited or not
    assert len(per_customer) == crm.data.n_customers
    assert per_customer["n_visits"].sum() == len(visits)
    never = per_customer["n_visits"] == 0
    assert per_customer.loc[never, "last_visit"].isna().all()
    assert (per_customer.loc[never, "sellers"] == "").all()
    some = per_customer.index[per_customer["n_visits"] >= 2][0]
    mine = visits.loc[visits["customer_id"] == some]
    row = per_customer.loc[some]
    assert row["last_visit"] == mine["date"].max()
    assert row["days_since_last_visit"] == (crm.as_of - mine["date"].max()).days
    span = (mine["date"].max() - mine["date"].min()).days
    assert row["mean_days_between"] == pytest.approx(span / (len(mine) - 1))
    assert row["n_sellers"] == mine["seller"].nunique()
    per_seller = visit_history(crm.data, by="seller")
    assert per_seller["n_visits"].sum() == len(visits)
    direct = visits.groupby(visits["seller"].astype(object))["customer_id"].nunique()
    np.testing.assert_array_equal(per_seller["n_customers"], direct.reindex(per_seller.index))
    all_kinds = visit_history(crm.data, kind=None)
    assert all_kinds["n_visits"].sum() == len(ix)


def test_visit_history_small_and_errors() -> None:
    ix = pd.DataFrame(
        {
            "customer_id": [1, 1, 2],
            "seller": ["Ann", "Bo", "Ann"],
            "kind": ["visit", "visit", "call"],
            "date": pd.to_datetime(["2025-01-01", "2025-03-02", "2025-02-01"]),
        }
    )
    out = visit_history(ix, as_of="2025-03-31")
    assert out.loc[1, "main_seller"] == "Bo"  # one visit each: the latest wins
    assert out.loc[2, "n_visits"] == 0
    with pytest.raises(SchemaError, match=r"interactions\['seller'\]: is missing"):
        visit_history(ix.drop(columns="seller"), by="seller")
    with pytest.raises(SchemaError, match="kind=None"):
        visit_history(ix.drop(columns="kind"))
    with pytest.raises(InvalidParameterError, match="'by'"):
        visit_history(ix, by="region")
    tx = pd.DataFrame({"customer_id": [1], "date": ["2025-01-01"], "amount": [1.0]})
    with pytest.raises(SchemaError, match="needs interactions"):
        visit_history(CustomerData.from_frames(tx))


def test_seller_coverage(crm: SyntheticCRM) -> None:
    cov = seller_coverage(crm.data, days=90)
    customers = set(crm.data.transactions["customer_id"]) | set(
        crm.data.frames["customers"]["customer_id"]
    )
    assert cov["n_accounts"].sum() == len(customers)
    assert (cov["n_not_visited"] <= cov["n_accounts"]).all()
    np.testing.assert_allclose(cov["revenue"].sum(), crm.data.transactions["amount"].sum())
    if "(no seller)" in cov.index:
        row = cov.loc["(no seller)"]
        assert row["n_not_visited"] == row["n_accounts"]
    hist = visit_history(crm.data)
    recent = hist["days_since_last_visit"] < 90
    assert cov["n_not_visited"].sum() == int((~recent).sum())
    ix = crm.data.frames["interactions"]
    assert cov["n_visits"].sum() == int((ix["kind"] == "visit").sum())


def test_customer_timeline(crm: SyntheticCRM) -> None:
    cid = int(crm.data.frames["feedback"]["customer_id"].iloc[0])
    line = customer_timeline(crm.data, cid)
    assert line["date"].is_monotonic_increasing
    kinds = set(line["record"])
    assert {"transactions", "feedback"} <= kinds
    n_tx = int((crm.data.transactions["customer_id"] == cid).sum())
    assert int((line["record"] == "transactions").sum()) == n_tx
    np.testing.assert_allclose(
        line["amount"].sum(),
        crm.data.transactions.loc[crm.data.transactions["customer_id"] == cid, "amount"].sum(),
    )
    with pytest.raises(SchemaError, match="no record"):
        customer_timeline(crm.data, -1)
