"""Hand-made customer views for the lifecycle tests."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def view_of(rows: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """A customer view from ``{customer id: {column: value}}``.

    Missing ``tenure`` defaults to ``T``, ``purchase_trend`` to 0 and
    ``n_transactions`` to ``frequency + 1``.
    """
    records = []
    for cid, cols in rows.items():
        row = dict(cols)
        row.setdefault("n_transactions", int(row.get("frequency", 0)) + 1)
        row.setdefault("tenure", row.get("T"))
        row.setdefault("purchase_trend", 0.0)
        records.append({"customer_id": cid, **row})
    frame = pd.DataFrame(records).set_index("customer_id")
    for col in ("recency", "T", "tenure", "purchase_trend"):
        frame[col] = frame[col].astype(np.float64)
    return frame
