"""crmkit.testing's data makers obey the customer view's invariants."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings

from crmkit.data._columns import TIME_UNITS, VIEW_COLUMNS
from crmkit.plugins import STAGES
from crmkit.testing import make_customer_view
from crmkit.testing.strategies import customer_views, transactions


def _assert_valid_view(view: pd.DataFrame, unit: str = "W") -> None:
    assert view.index.name == "customer_id" and view.index.is_unique
    assert list(view.columns[: len(VIEW_COLUMNS)]) == list(VIEW_COLUMNS)
    f = view["frequency"]
    assert f.dtype == np.int64 and (f >= 0).all()
    assert ((view["recency"] >= 0) & (view["recency"] <= view["T"])).all()
    assert ((view["monetary_value"] == 0) == (f == 0)).all()
    assert (view["n_transactions"] > f).all()
    assert (view["revenue"] > 0).all()
    assert (view["tenure"] >= view["T"]).all()
    assert view["purchase_trend"].between(-1, 1).all()
    assert (view["n_products"] >= 1).all()
    assert (view["n_products"] <= view["n_transactions"]).all()
    days = TIME_UNITS[unit]
    np.testing.assert_allclose(view["days_since_last"], (view["T"] - view["recency"]) * days)
    span = (view["last_purchase"] - view["first_purchase"]).dt.days
    np.testing.assert_allclose(span, view["recency"] * days)
    ipt = view["mean_interpurchase"]
    assert (ipt.isna() == (f == 0)).all()
    np.testing.assert_allclose(ipt[f > 0], (view["recency"] / f)[f > 0])
    numeric = view.select_dtypes("number").drop(columns=["mean_interpurchase"], errors="ignore")
    nullable = [c for c in ("last_nps", "mean_csat", "days_since_address_change") if c in view]
    assert np.isfinite(numeric.drop(columns=nullable).to_numpy(dtype=float)).all()


@settings(max_examples=40, deadline=None, database=None)
@given(
    customer_views(
        requires=("clv", "last_nps", "stage", "n_contacts", "n_decision_makers", "custom_score")
    )
)
def test_customer_views_are_valid(view: pd.DataFrame) -> None:
    _assert_valid_view(view)
    assert 1 <= len(view) <= 20
    assert list(view["stage"].cat.categories) == list(STAGES)
    assert view["last_nps"].dropna().between(0, 10).all()
    assert (view["n_decision_makers"] <= view["n_contacts"]).all()
    assert (view["custom_score"] >= 0).all() and (view["clv"] >= 0).all()
    assert set(view["industry"].dropna()) <= {"manufacturing", "retail", "services", "it", "public"}
    assert view["key_account"].dtype == bool


@settings(max_examples=10, deadline=None, database=None)
@given(
    customer_views(
        min_customers=3,
        max_customers=3,
        attributes=False,
        allow_missing=False,
        time_unit="D",
        requires=("last_nps",),
    )
)
def test_customer_view_options(view: pd.DataFrame) -> None:
    _assert_valid_view(view, "D")
    assert len(view) == 3
    assert "industry" not in view.columns
    assert view["last_nps"].notna().all()


def test_make_customer_view() -> None:
    view = make_customer_view(300, requires=("mean_csat", "p_alive", "industry"), seed=4)
    _assert_valid_view(view)
    assert view.index.tolist() != sorted(view.index.tolist())  # shuffled ids
    assert view["p_alive"].between(0, 1).all()
    assert 0 < view["mean_csat"].isna().mean() < 0.25
    assert (view["frequency"] == 0).mean() > 0.2  # ties at zero are common
    pd.testing.assert_frame_equal(
        view, make_customer_view(300, requires=("mean_csat", "p_alive", "industry"), seed=4)
    )
    assert "industry" in make_customer_view(3, attributes=False, requires=("industry",))
    assert "industry" not in make_customer_view(3, attributes=False)


@settings(max_examples=30, deadline=None, database=None)
@given(transactions(refunds=True))
def test_transactions(frame: pd.DataFrame) -> None:
    assert frame.columns.tolist() == ["customer_id", "date", "amount", "product"]
    assert pd.api.types.is_datetime64_any_dtype(frame["date"])
    assert np.isfinite(frame["amount"]).all()
    assert frame["customer_id"].notna().all() and frame["product"].notna().all()
    assert 1 <= frame["customer_id"].nunique() <= 8


@settings(max_examples=10, deadline=None, database=None)
@given(transactions(products=(), min_customers=2))
def test_transactions_without_products(frame: pd.DataFrame) -> None:
    assert "product" not in frame.columns
    assert (frame["amount"] > 0).all()
