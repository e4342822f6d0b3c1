"""The CDNOW calibration summary, built directly with pandas (test fixture).

Fader & Hardie's public CDNOW sample: 2,357 customers; repeat purchases are
distinct purchase days after the first; calibration ends 1997-09-30; time
unit weeks. ``cdnow_summary(rounded=True)`` rounds ``recency`` and ``T`` to
2 decimals as in the published summary the papers fit on.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pandas as pd

# The copy bundled with crmkit (identical to ../shared/data/cdnow_sample.txt).
DATA = Path(__file__).resolve().parents[3] / "src/crmkit/datasets/data/cdnow_sample.txt"
CALIBRATION_END = pd.Timestamp("1997-09-30")


@lru_cache(maxsize=2)
def _summary(rounded: bool) -> pd.DataFrame:
    raw = pd.read_csv(
        DATA,
        sep=r"\s+",
        header=None,
        names=["master_id", "sample_id", "date", "cds", "dollars"],
        dtype={"master_id": str, "date": str},
    )
    raw["date"] = pd.to_datetime(raw["date"], format="%Y%m%d")
    days = raw.groupby(["master_id", "date"], as_index=False)["dollars"].sum()
    first = days.groupby("master_id")["date"].min()
    cal = days[days["date"] <= CALIBRATION_END]
    g = cal.groupby("master_id")
    last = g["date"].max()
    n_days = g["date"].nunique()
    repeat = cal[cal["date"] > cal["master_id"].map(first)]
    spend = repeat.groupby("master_id")["dollars"].mean()
    out = pd.DataFrame(
        {
            "frequency": (n_days - 1).astype("int64"),
            "recency": (last - first).dt.days / 7.0,
            "T": (CALIBRATION_END - first).dt.days / 7.0,
        }
    )
    out["monetary_value"] = spend.reindex(out.index).fillna(0.0)
    out.index.name = "customer_id"
    if rounded:
        out["recency"] = out["recency"].round(2)
        out["T"] = out["T"].round(2)
    return out


def cdnow_summary(rounded: bool = True) -> pd.DataFrame:
    """Return a fresh copy of the CDNOW calibration summary (one row per customer)."""
    return _summary(rounded).copy()
