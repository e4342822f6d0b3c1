"""Calibration/holdout split: the calibration view plus what happened next."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import numpy as np
import pandas as pd

from crmkit.data._columns import TIME_UNITS, ColumnMap
from crmkit.data._container import CustomerData
from crmkit.data._record_checks import as_of_timestamp
from crmkit.data._summarize import _view_from_data
from crmkit.exceptions import InvalidParameterError, SchemaError, SchemaFailure

__all__ = ["calibration_holdout"]


def calibration_holdout(
    transactions: Any,
    *,
    calibration_end: Any,
    holdout_end: Any,
    customer_id: str = "customer_id",
    date: str = "date",
    amount: str = "amount",
    columns: ColumnMap | Mapping[str, str] | None = None,
    time_unit: str = "W",
) -> pd.DataFrame:
    """The calibration customer view plus each customer's holdout purchases.

    Customers are those who bought on or before ``calibration_end``; their
    calibration columns are those of :func:`crmkit.summarize` at
    ``as_of=calibration_end``. Purchases after ``calibration_end`` up to and
    including ``holdout_end`` form the holdout.

    Parameters
    ----------
    transactions : DataFrame
        All transactions (both periods).
    calibration_end, holdout_end : date-like
        Last day of each period (``calibration_end < holdout_end``).
    customer_id, date, amount : str, default names
        Column names (or give ``columns``).
    columns : ColumnMap or mapping, optional
        Full column mapping.
    time_unit : {"D", "W", "M"}, default="W"
        Unit of recency, T and the holdout duration.

    Returns
    -------
    DataFrame
        The calibration view with ``frequency_holdout`` (distinct purchase
        days in the holdout), ``monetary_value_holdout`` (mean spend per
        holdout purchase day, 0 without purchases), ``revenue_holdout`` and
        ``duration_holdout`` (holdout length in time units).

    Raises
    ------
    SchemaError
        Invalid records, or ``holdout_end <= calibration_end``.
    InvalidParameterError
        An unknown ``time_unit`` or dates that are not dates (also a
        :class:`TypeError`).

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": [1, 1, 1, 2],
    ...                    "date": pd.to_datetime(["2024-01-01", "2024-01-08", "2024-02-05",
    ...                                            "2024-02-06"]),
    ...                    "amount": [5.0, 6.0, 7.0, 8.0]})
    >>> ch = calibration_holdout(tx, calibration_end="2024-01-31", holdout_end="2024-02-28")
    >>> ch.loc[1, ["frequency", "frequency_holdout", "monetary_value_holdout",
    ...            "duration_holdout"]].tolist()
    [1.0, 1.0, 7.0, 4.0]
    >>> list(ch.index)  # customer 2 first bought in the holdout
    [1]
    """
    cal_end = as_of_timestamp(calibration_end).normalize()
    hold_end = as_of_timestamp(holdout_end).normalize()
    if hold_end <= cal_end:
        raise SchemaError(
            [
                SchemaFailure(
                    frame="arguments",
                    column="holdout_end",
                    check=f"must be after calibration_end={cal_end.date()}; got {hold_end.date()}",
                )
            ]
        )
    if time_unit not in TIME_UNITS:
        raise InvalidParameterError(
            f"time_unit must be one of {sorted(TIME_UNITS)}; got {time_unit!r}"
        )
    mapping: dict[str, str] = {}
    if columns is not None:
        mapping.update(columns.mapping if isinstance(columns, ColumnMap) else dict(columns))
    for role, name in (("customer_id", customer_id), ("date", date), ("amount", amount)):
        if name != role:
            mapping.setdefault(f"transactions.{role}", name)
    full = CustomerData.from_frames(
        transactions=transactions, columns=ColumnMap(mapping), as_of=hold_end, time_unit=time_unit
    )
    tx = full.transactions
    is_cal = (tx["date"] < cal_end + pd.Timedelta(days=1)).to_numpy()
    if not is_cal.any():
        raise SchemaError(
            [
                SchemaFailure(
                    frame="transactions",
                    column="date",
                    check=f"has no purchases on or before calibration_end={cal_end.date()}",
                )
            ]
        )
    cal = attrs.evolve(full, frames={"transactions": tx.loc[is_cal]}, as_of=cal_end)
    view = _view_from_data(cal, include_records=False)
    hold = tx.loc[~is_cal]
    hold = hold.loc[hold["customer_id"].isin(view.index).to_numpy()]
    days = hold.assign(day=hold["date"].dt.normalize())
    per_day = days.groupby(["customer_id", "day"], sort=False)["amount"].sum()
    by_cust = per_day.groupby(level="customer_id", sort=False)
    n_days = by_cust.size().reindex(view.index).fillna(0).astype(np.int64)
    revenue = by_cust.sum().reindex(view.index).fillna(0.0)
    out: pd.DataFrame = view.copy()
    out["frequency_holdout"] = n_days
    out["revenue_holdout"] = revenue
    out["monetary_value_holdout"] = np.where(n_days > 0, revenue / np.maximum(n_days, 1), 0.0)
    out["duration_holdout"] = (hold_end - cal_end).days / TIME_UNITS[time_unit]
    return out
