"""A deliberately naive reference implementation of the core customer view."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pandas as pd


def naive_summary(
    rows: list[tuple[Any, pd.Timestamp, float]], as_of: pd.Timestamp, unit_days: float
) -> dict[Any, dict[str, float]]:
    """Per customer: frequency, recency, T, monetary_value, revenue, n_transactions."""
    per_day: dict[Any, dict[pd.Timestamp, float]] = defaultdict(lambda: defaultdict(float))
    n_rows: dict[Any, int] = defaultdict(int)
    as_of = as_of.normalize()
    for cid, date, amount in rows:
        day = pd.Timestamp(date).normalize()
        if day > as_of:
            continue
        per_day[cid][day] += amount
        n_rows[cid] += 1
    out = {}
    for cid, days in per_day.items():
        ordered = sorted(days)
        first, last = ordered[0], ordered[-1]
        repeat = [days[d] for d in ordered[1:]]
        out[cid] = {
            "frequency": len(ordered) - 1,
            "recency": (last - first).days / unit_days,
            "T": (as_of - first).days / unit_days,
            "monetary_value": sum(repeat) / len(repeat) if repeat else 0.0,
            "revenue": sum(days.values()),
            "n_transactions": n_rows[cid],
        }
    return out
