"""Small hand-made CRM records with results worked out by hand (see test_campaigns)."""

from __future__ import annotations

import pandas as pd

from crmkit.data import CustomerData


def toy_frames() -> dict[str, pd.DataFrame]:
    """Two campaigns, six customers.

    K1 (2024-03-01 .. 03-14, goals 2 conversions / 300 revenue, cost 50):
    customers 1 (mail + call), 2 (mail), 3 (call, touched 03-08) treated;
    4, 5 control (mail). K2 (2024-04-01 .. 04-10, no goals, no campaign
    cost): 1 and 6 treated (email, 1.0 each), 2 control.
    """
    d = pd.Timestamp
    tx = pd.DataFrame({
        "customer_id": [1, 1, 1, 2, 2, 3, 3, 4, 5, 6],
        "date": [d("2024-03-05"), d("2024-03-05"), d("2024-04-03"), d("2024-03-20"),
                 d("2024-04-05"), d("2024-03-10"), d("2024-03-12"), d("2024-03-02"),
                 d("2024-01-10"), d("2024-01-15")],
        "amount": [100.0, 20.0, 50.0, 70.0, 30.0, 80.0, -10.0, 40.0, 15.0, 25.0],
        "cost": [60.0, 10.0, 30.0, 40.0, 20.0, 50.0, 0.0, 25.0, 5.0, 10.0],
    })  # fmt: skip
    touches = pd.DataFrame({
        "campaign_id": ["K1"] * 6 + ["K2"] * 3,
        "customer_id": [1, 1, 2, 3, 4, 5, 1, 6, 2],
        "date": [d("2024-03-01"), d("2024-03-04"), d("2024-03-01"), d("2024-03-08"),
                 d("2024-03-01"), d("2024-03-01"), d("2024-04-01"), d("2024-04-01"),
                 d("2024-04-01")],
        "group": ["treatment"] * 4 + ["control"] * 2 + ["treatment", "treatment", "control"],
        "action": ["mail", "call", "mail", "call", "mail", "mail", "email", "email", "email"],
        "cost": [10.0, 10.0, 10.0, 10.0, 0.0, 0.0, 1.0, 1.0, 0.0],
    })  # fmt: skip
    campaigns = pd.DataFrame({
        "campaign_id": ["K1", "K2"], "name": ["Spring offer", "April mail"],
        "start": [d("2024-03-01"), d("2024-04-01")], "end": [d("2024-03-14"), d("2024-04-10")],
        "goal_conversions": [2.0, None], "goal_revenue": [300.0, None], "cost": [50.0, None],
    })  # fmt: skip
    customers = pd.DataFrame(
        {"customer_id": [1, 2, 3, 4, 5, 6], "industry": ["a", "b", "a", "a", "b", "b"]}
    )
    return {"transactions": tx, "touches": touches, "campaigns": campaigns, "customers": customers}


def toy_data(as_of: str = "2024-04-30") -> CustomerData:
    """The toy frames as CustomerData."""
    return CustomerData.from_frames(**toy_frames(), as_of=as_of)
