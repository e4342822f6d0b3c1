"""Customer totals are the same bit for bit whatever the order of the rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import crmkit
from crmkit.exceptions import SchemaError


def _records(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 4000
    return pd.DataFrame(
        {
            "customer_id": rng.integers(0, 60, n),
            # few distinct days: many customers buy several times on one day
            "date": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 20, n), "D"),
            "amount": rng.lognormal(3.0, 1.5, n).round(6),
            "cost": rng.lognormal(2.0, 1.5, n).round(6),
        }
    )


def test_revenue_spend_and_margin_do_not_depend_on_row_order() -> None:
    tx = _records(1)
    view = crmkit.summarize(tx, cost="cost", as_of="2024-01-31")
    for seed in range(5):
        shuffled = tx.sample(frac=1.0, random_state=seed)
        again = crmkit.summarize(shuffled, cost="cost", as_of="2024-01-31")
        pd.testing.assert_frame_equal(again, view, check_exact=True)


def test_the_sums_are_still_the_exact_totals() -> None:
    tx = _records(2)
    view = crmkit.summarize(tx, cost="cost", as_of="2024-01-31")
    by = tx.groupby("customer_id")
    np.testing.assert_allclose(view["revenue"], by["amount"].sum(), rtol=1e-12)
    np.testing.assert_allclose(
        view["margin"], by["amount"].sum() - by["cost"].sum(), rtol=1e-9, atol=1e-9
    )


def test_money_is_summed_in_exact_micro_units() -> None:
    # 0.1 + 0.2 is 0.30000000000000004 in floats; the exact decimal total is 0.3
    tx = pd.DataFrame(
        {
            "customer_id": [1, 1, 1, 2],
            "date": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-03", "2024-01-02"]),
            "amount": [0.1, 0.2, 0.3, 1.0000004],
        }
    )
    view = crmkit.summarize(tx, as_of="2024-01-05", time_unit="D")
    assert view["revenue"].tolist() == [0.6, 1.0]  # 1.0000004 rounds to 1.000000
    assert view["monetary_value"].tolist() == [0.3, 0.0]


def test_amounts_too_large_for_micro_units_are_refused() -> None:
    tx = pd.DataFrame(
        {
            "customer_id": [1, 2],
            "date": pd.to_datetime(["2024-01-01", "2024-01-02"]),
            "amount": [1.0, 2e13],
        }
    )
    with pytest.raises(SchemaError, match=r"transactions\['amount'\].*micro-units"):
        crmkit.summarize(tx)
