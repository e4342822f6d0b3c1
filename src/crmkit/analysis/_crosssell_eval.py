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
    customer, customers = _sorted_codes(tx["customer_id"], before | after)
    product, products = _sorted_codes(tx["product"], before | after)
    n_p = max(len(products), 1)
    # (customer, product) pairs as integers, in the order of the sorted values
    before &= customer >= 0
    old = customer[before] * n_p + product[before]
    had_history = np.zeros(len(customers), dtype=bool)
    had_history[customer[before]] = True
    later = after & (customer >= 0)
    key = customer[later] * n_p + product[later]
    first = pd.Series(dates.to_numpy()[later]).groupby(key, sort=True).min()
    pairs = first.index.to_numpy(dtype=np.int64)
    known = had_history[pairs // n_p]
    if len(customers) * n_p <= 2 * len(old) + 1024:  # a dense mark of the pairs bought before
        seen = np.zeros(len(customers) * n_p, dtype=bool)
        seen[old] = True
        fresh = ~seen[pairs]
    else:
        fresh = ~pd.Index(pairs).isin(pd.unique(old))
    keep = known & fresh
    out: pd.DataFrame = pd.DataFrame(
        {
            # the dtype inferred from the values (as the groupby keys of a frame would)
            "customer_id": pd.Series(customers[pairs[keep] // n_p]).infer_objects(),
            "product": pd.Series(products[pairs[keep] % n_p]).infer_objects(),
            "first_date": first.to_numpy()[keep],
        }
    )
    return out


def _sorted_codes(values: pd.Series, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes of ``values`` (-1 outside ``rows`` or missing) ranked as the values sort.

    The levels are sorted as objects (as a groupby on the values would), and
    returned as an object array.
    """
    codes, uniques = pd.factorize(values[rows])
    levels = np.asarray(uniques, dtype=object)
    rank, sorted_levels = pd.factorize(levels, sort=True)
    out = np.full(len(values), -1, dtype=np.int64)
    out[rows] = np.where(codes >= 0, rank[np.maximum(codes, 0)], -1)
    return out, np.asarray(sorted_levels, dtype=object)


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
