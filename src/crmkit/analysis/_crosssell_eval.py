"""Judging cross-sell recommendations against what customers bought next."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crmkit.analysis._inputs import check_int, frame_of, require_columns
from crmkit.data import CustomerData
from crmkit.exceptions import InvalidParameterError, SchemaError, SchemaFailure

__all__ = ["hit_rate", "new_purchases"]


def _day(value: Any, name: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(f"{name} must be a date; got {value!r}") from exc
    if ts is pd.NaT:
        raise InvalidParameterError(f"{name} must be a date; got {value!r}")
    result: pd.Timestamp = ts.normalize()
    return result


def new_purchases(data: CustomerData | pd.DataFrame, as_of: Any, end: Any = None) -> pd.DataFrame:
    """Products existing customers bought for the first time after ``as_of``.

    The hold-out truth for cross-sell: pairs (customer, product) with a
    purchase line (positive amount) dated after ``as_of`` (up to ``end``)
    where the customer bought something on or before ``as_of`` but never
    that product.

    Parameters
    ----------
    data : CustomerData or DataFrame
        Records or transactions (``customer_id``, ``date``, ``product``,
        ``amount``) covering both periods.
    as_of : date-like
        Last day of the history the recommendations were made from.
    end : date-like, optional
        Last day of the hold-out period; default no limit.

    Returns
    -------
    DataFrame
        Columns ``customer_id``, ``product`` and ``first_date`` (the first
        hold-out purchase of it), sorted by customer and product.

    Raises
    ------
    SchemaError
        For missing columns.
    InvalidParameterError
        For a bad date.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": [1, 1, 1, 2], "product": ["a", "a", "b", "c"],
    ...                    "amount": [1.0] * 4,
    ...                    "date": pd.to_datetime(["2024-01-01", "2024-03-01", "2024-03-02",
    ...                                            "2024-03-05"])})
    >>> new_purchases(tx, as_of="2024-02-01")
       customer_id product first_date
    0            1       b 2024-03-02
    """
    tx = frame_of(
        data, "transactions", "new_purchases", ["customer_id", "date", "product", "amount"]
    )
    cut = _day(as_of, "as_of")
    dates = pd.to_datetime(tx["date"])
    bought = (tx["amount"].to_numpy(dtype=np.float64, na_value=np.nan) > 0) & tx[
        "product"
    ].notna().to_numpy()
    before = bought & (dates <= cut).to_numpy()
    after = bought & (dates > cut).to_numpy()
    if end is not None:
        after &= (dates <= _day(end, "end")).to_numpy()
    cols = ["customer_id", "product"]
    old = tx.loc[before, cols].astype(object).drop_duplicates()
    later = pd.DataFrame(
        {
            "customer_id": tx["customer_id"].to_numpy()[after].astype(object),
            "product": tx["product"].to_numpy()[after].astype(object),
            "first_date": dates.to_numpy()[after],
        }
    )
    later = later.groupby(cols, sort=True)["first_date"].min().reset_index()
    known = later["customer_id"].isin(pd.unique(old["customer_id"].to_numpy()))
    seen = pd.MultiIndex.from_frame(old)
    fresh = ~pd.MultiIndex.from_frame(later[cols]).isin(seen)
    out: pd.DataFrame = later.loc[known.to_numpy() & fresh].reset_index(drop=True)
    return out


def hit_rate(recommendations: pd.DataFrame, actual: pd.DataFrame, k: int = 5) -> float:
    """Share of customers with a new purchase who got at least one of them recommended.

    Hit rate at ``k``: over the customers in ``actual``, the share whose top
    ``k`` recommendations (``rank <= k``) include a product they went on to
    buy. Customers without recommendations count as misses.

    Parameters
    ----------
    recommendations : DataFrame
        As from a recommender's ``recommend``: ``customer_id``, ``product``,
        ``rank``.
    actual : DataFrame
        ``customer_id`` and ``product`` of the new purchases (e.g. from
        :func:`new_purchases`).
    k : int, default=5
        Cut-off rank.

    Returns
    -------
    float
        In [0, 1].

    Raises
    ------
    SchemaError
        For missing columns or an empty ``actual``.
    InvalidParameterError
        For ``k < 1``.

    Examples
    --------
    >>> import pandas as pd
    >>> recs = pd.DataFrame({"customer_id": [1, 1, 2], "product": ["a", "b", "a"],
    ...                      "rank": [1, 2, 1]})
    >>> actual = pd.DataFrame({"customer_id": [1, 2, 3], "product": ["b", "c", "a"]})
    >>> round(hit_rate(recs, actual, k=2), 4)
    0.3333
    """
    k = check_int(k, "k", "hit_rate")
    require_columns(
        recommendations, "recommendations", ["customer_id", "product", "rank"], "hit_rate"
    )
    require_columns(actual, "actual", ["customer_id", "product"], "hit_rate")
    if len(actual) == 0:
        raise SchemaError(
            [
                SchemaFailure(
                    frame="actual",
                    column="<frame>",
                    check="is empty; hit_rate needs customers with new purchases",
                )
            ]
        )
    top = recommendations.loc[recommendations["rank"].to_numpy() <= k, ["customer_id", "product"]]
    hits = pd.MultiIndex.from_frame(actual[["customer_id", "product"]].astype(object)).isin(
        pd.MultiIndex.from_frame(top.astype(object))
    )
    customers = actual["customer_id"].astype(object)
    per_customer = pd.Series(hits, index=customers.to_numpy()).groupby(level=0).any()
    return float(per_customer.mean())
