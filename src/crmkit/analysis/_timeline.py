"""One customer's company-wide picture: every record linked to it, in date order."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crmkit.data import CustomerData
from crmkit.exceptions import SchemaError, SchemaFailure

__all__ = ["customer_timeline"]

_TIMELINE = {
    "transactions": ("date", ("product", "amount", "channel")),
    "interactions": ("date", ("kind", "seller")),
    "feedback": ("date", ("kind", "score", "text")),
    "events": ("date", ("kind", "detail")),
    "touches": ("date", ("campaign_id", "group", "action")),
    "contacts": ("active_from", ("contact_id", "role", "decision_maker")),
}


def customer_timeline(data: CustomerData, customer_id: Any) -> pd.DataFrame:
    """Everything recorded about one customer, in date order: the company-wide picture.

    Parameters
    ----------
    data : CustomerData
        Validated records.
    customer_id : object
        The customer.

    Returns
    -------
    DataFrame
        Columns ``date``, ``record`` (record kind), ``detail`` (the record's
        main fields as text) and ``amount`` (transactions; NaN otherwise),
        sorted by date (stable within a day in the order transactions,
        interactions, feedback, events, touches, contacts).

    Raises
    ------
    SchemaError
        For a customer with no record at all.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": [1], "date": ["2025-01-02"], "amount": [10.0],
    ...                    "product": ["ink"]})
    >>> ix = pd.DataFrame({"customer_id": [1], "date": ["2025-01-01"], "kind": ["visit"],
    ...                    "seller": ["Ann"]})
    >>> data = CustomerData.from_frames(tx, interactions=ix, as_of="2025-01-31")
    >>> customer_timeline(data, 1)[["record", "detail", "amount"]]
             record                      detail  amount
    0  interactions  kind=visit; seller=Ann          NaN
    1  transactions  product=ink; amount=10.0      10.0
    """
    if not isinstance(data, CustomerData):
        raise SchemaError(
            [
                SchemaFailure(
                    frame="data",
                    column="<frame>",
                    check=f"is a {type(data).__name__}; customer_timeline needs CustomerData",
                )
            ]
        )
    parts = []
    for kind, (date_col, fields) in _TIMELINE.items():
        frame = data.get(kind)
        if frame is None or date_col not in frame.columns:
            continue
        rows = frame.loc[(frame["customer_id"] == customer_id).to_numpy()]
        if not len(rows):
            continue
        present = [f for f in fields if f in rows.columns]
        detail = [
            "; ".join(f"{f}={v}" for f, v in zip(present, vals, strict=True) if not pd.isna(v))
            for vals in rows[present].astype(object).itertuples(index=False, name=None)
        ]
        amount = (
            rows["amount"].to_numpy(dtype=np.float64, na_value=np.nan)
            if kind == "transactions"
            else np.full(len(rows), np.nan)
        )
        parts.append(
            pd.DataFrame(
                {
                    "date": pd.to_datetime(rows[date_col]).to_numpy(),
                    "record": kind,
                    "detail": detail,
                    "amount": amount,
                }
            )
        )
    if not parts:
        raise SchemaError(
            [
                SchemaFailure(
                    frame="data",
                    column="customer_id",
                    check="has no record of this customer",
                    n_failing=1,
                    rows=(),
                    values=(customer_id,),
                )
            ]
        )
    merged = pd.concat(parts, ignore_index=True)
    out: pd.DataFrame = merged.sort_values("date", kind="stable").reset_index(drop=True)
    return out
