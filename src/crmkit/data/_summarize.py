"""``summarize``: records to the customer view."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from crmkit._checks import warn_user
from crmkit.data._aggregates import record_aggregates
from crmkit.data._columns import TIME_UNITS, ColumnMap
from crmkit.data._container import CustomerData
from crmkit.data._core import distinct_per_customer, factorize_sorted, purchase_stats
from crmkit.data._summarize_nw import MICRO, MONEY_LIMIT
from crmkit.exceptions import DataWarning, InvalidParameterError, SchemaError, SchemaFailure

__all__ = ["summarize"]

_EPOCH = np.datetime64("1970-01-01", "D")


def _days(dates: pd.Series) -> np.ndarray[Any, np.dtype[np.int32]]:
    """Days since the epoch (floored), as int32: every datetime64[ns] day fits."""
    ns = dates.to_numpy(dtype="datetime64[ns]").view(np.int64)
    out: np.ndarray[Any, np.dtype[np.int32]] = np.empty(len(ns), dtype=np.int32)
    np.floor_divide(ns, 86_400_000_000_000, out=out, casting="same_kind")
    return out


def _micro(money: np.ndarray[Any, np.dtype[np.float64]], column: str) -> np.ndarray[Any, Any]:
    """Money as whole micro-units (float64 holding integers): sums are exact in any order.

    Rounded half up, ``floor(x * 1e6 + 0.5)``, the same expression every engine
    evaluates (see ``crmkit.data._summarize_nw``); so revenue, spend and margin
    are identical bit for bit on pandas, polars, DuckDB, Dask and Spark.
    """
    inside = len(money) == 0 or (money.min() >= -MONEY_LIMIT and money.max() <= MONEY_LIMIT)
    huge = np.zeros(0, dtype=bool) if inside else np.abs(money) > MONEY_LIMIT  # NaN: not huge
    if huge.any():
        raise SchemaError(
            [
                SchemaFailure(
                    frame="transactions",
                    column=column,
                    check=f"has values beyond +-{MONEY_LIMIT:.0e}, which cannot be "
                    "summed exactly in integer micro-units",
                    n_failing=int(huge.sum()),
                )
            ]
        )
    out: np.ndarray[Any, Any] = money * MICRO
    out += 0.5  # in place: the same rounding as floor(money * MICRO + 0.5), one buffer
    np.floor(out, out=out)
    return out


def _view_from_data(data: CustomerData, include_records: bool) -> pd.DataFrame:
    tx = data.transactions
    unit = TIME_UNITS[data.time_unit]
    codes, uniques = factorize_sorted(tx["customer_id"])
    n = len(uniques)
    day = _days(tx["date"])
    amount = _micro(tx["amount"].to_numpy(dtype=np.float64), "amount")
    as_of_day = int((np.datetime64(data.as_of.date(), "D") - _EPOCH).astype(np.int64))
    missing: np.ndarray | None = None
    margin_rows: np.ndarray | None = None
    if "cost" in tx.columns:
        cost = tx["cost"].to_numpy(dtype=np.float64, na_value=np.nan)
        missing = np.isnan(cost)
        margin_rows = _micro(cost, "cost")  # NaN where missing: counted as 0
        if missing.any():
            margin_rows[missing] = 0.0
        np.subtract(amount, margin_rows, out=margin_rows)  # amount - cost, in place
        del cost
    # micro-units are whole numbers, never -0.0: exact sums in any order
    s = purchase_stats(codes, day, amount, n, as_of_day, margin_rows, whole=True)
    del day, amount, margin_rows  # the row-sized buffers, before the other aggregates
    frequency = s["n_periods"] - 1
    repeat_spend = s["revenue"] - s["first_amount"]
    with np.errstate(invalid="ignore", divide="ignore"):
        monetary = np.where(frequency > 0, repeat_spend / (np.maximum(frequency, 1) * MICRO), 0.0)
        recency = (s["last_day"] - s["first_day"]) / unit
        trend_den = s["n_late"] + s["n_early"]
        trend = np.where(
            trend_den > 0, (s["n_late"] - s["n_early"]) / np.maximum(trend_den, 1), 0.0
        )
        mean_gap = np.where(frequency > 0, recency / np.maximum(frequency, 1), np.nan)
    T = (as_of_day - s["first_day"]) / unit
    index = pd.Index(uniques, name="customer_id")
    cols: dict[str, Any] = {
        "frequency": frequency.astype(np.int64),
        "recency": recency,
        "T": T,
        "monetary_value": monetary,
        "n_transactions": s["n_rows"].astype(np.int64),
        "revenue": s["revenue"] / MICRO,
    }
    if missing is not None:
        margin = s["extra"] / MICRO
        unknown = np.bincount(codes[missing], minlength=n) > 0
        if unknown.any():
            warn_user(
                f"crmkit: {int(unknown.sum())} customers have transactions without "
                "cost; their margin is NaN",
                DataWarning,
            )
        cols["margin"] = np.where(unknown, np.nan, margin)
    first = (s["first_day"].astype("datetime64[D]")).astype("datetime64[ns]")
    last = (s["last_day"].astype("datetime64[D]")).astype("datetime64[ns]")
    cols["first_purchase"] = first
    cols["last_purchase"] = last
    cols["tenure"] = T
    if "product" in tx.columns:
        cols["n_products"] = distinct_per_customer(codes, tx["product"], n)
    cols["purchase_trend"] = trend
    cols["mean_interpurchase"] = mean_gap
    cols["days_since_last"] = (as_of_day - s["last_day"]).astype(np.int64)
    if include_records:
        extra = record_aggregates(dict(data.frames), index, data.as_of)
        since = extra.pop("customer_since", None)
        if since is not None:
            since = np.asarray(since, dtype="datetime64[ns]")
            start = np.minimum(np.where(np.isnat(since), first, since), first)
            tenure_days = (np.datetime64(data.as_of.date(), "ns") - start) / np.timedelta64(1, "D")
            cols["tenure"] = tenure_days / unit
        cols.update(extra)
    view: pd.DataFrame = pd.DataFrame(cols, index=index)
    return view


def summarize(
    records: Any,
    *,
    customer_id: str = "customer_id",
    date: str = "date",
    amount: str = "amount",
    product: str | None = None,
    cost: str | None = None,
    columns: ColumnMap | Mapping[str, str] | None = None,
    as_of: Any = None,
    time_unit: str = "W",
    include_records: bool = True,
) -> Any:
    """Build the customer view: one row per customer, standard column names.

    Parameters
    ----------
    records : CustomerData or DataFrame
        Validated records, or a plain transactions frame (pandas, polars,
        DuckDB, Dask or Spark). A non-pandas frame is aggregated inside its
        own engine and the view comes back as the same kind of frame.
    customer_id, date, amount : str, default names
        Column names of a plain transactions frame.
    product, cost : str, optional
        Optional columns of a plain transactions frame.
    columns : ColumnMap or mapping, optional
        A full column mapping instead of the keywords above.
    as_of : date-like, optional
        Analysis date (for a plain frame; default the last transaction day).
    time_unit : {"D", "W", "M"}, default="W"
        Unit of recency, T and tenure (for a plain frame).
    include_records : bool, default=True
        Add customer attributes and feedback/interaction/contact/event
        aggregates when those records exist.

    Returns
    -------
    DataFrame
        Indexed by ``customer_id`` (ids kept exactly, sorted), with
        ``frequency`` (distinct purchase days after the first), ``recency``
        (first to last purchase day), ``T`` (first purchase day to
        ``as_of``), ``monetary_value`` (mean spend per repeat purchase day; 0
        without repeats), ``n_transactions``, ``revenue``, ``margin`` (with a
        cost column), ``first_purchase``, ``last_purchase``, ``tenure``,
        ``n_products`` (with a product column), ``purchase_trend`` (in
        [-1, 1]: repeat purchase days in the later minus the earlier half of
        ``[first purchase, as_of]``, over their sum), ``mean_interpurchase``
        (NaN without repeats) and ``days_since_last``; plus aggregates of the
        other records. Money is summed exactly in whole micro-units (amounts
        rounded to 6 decimals), so ``revenue``, ``monetary_value`` and
        ``margin`` are the same bit for bit for any row order and on every
        engine. A polars or DuckDB view is sorted by ``customer_id``; a
        Spark or Dask view comes in no particular order.

    Raises
    ------
    SchemaError
        For invalid records (every problem listed), including amounts or
        costs beyond +-9e12 (their micro-units would overflow 64 bits).
    InvalidParameterError
        For records that are not a data frame, an unknown ``time_unit`` or an
        ``as_of`` that is not a date (also a :class:`TypeError`).

    See Also
    --------
    CustomerData.from_frames : validation and column mapping.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"id": [1, 1, 1, 2],
    ...                    "date": ["2024-01-01", "2024-01-01", "2024-01-15", "2024-01-08"],
    ...                    "amount": [10.0, 5.0, 20.0, 7.0]})
    >>> view = summarize(tx, customer_id="id", as_of="2024-01-29", time_unit="W")
    >>> view[["frequency", "recency", "T", "monetary_value"]]
                 frequency  recency    T  monetary_value
    customer_id
    1                    1      2.0  4.0            20.0
    2                    0      0.0  3.0             0.0
    """
    if isinstance(records, CustomerData):
        return _view_from_data(records, include_records)
    mapping: dict[str, str] = {}
    if columns is not None:
        mapping.update(columns.mapping if isinstance(columns, ColumnMap) else dict(columns))
    for role, name in (
        ("customer_id", customer_id),
        ("date", date),
        ("amount", amount),
        ("product", product),
        ("cost", cost),
    ):
        if name is not None and name != role:
            mapping.setdefault(f"transactions.{role}", name)
    if not isinstance(records, pd.DataFrame):
        from crmkit.data._summarize_nw import is_narwhals_frame, summarize_native

        if is_narwhals_frame(records):
            return summarize_native(records, ColumnMap(mapping), as_of=as_of, time_unit=time_unit)
        raise InvalidParameterError(
            "summarize expects CustomerData or a transactions data frame (pandas, polars, "
            f"DuckDB); got {type(records).__name__}"
        )
    data = CustomerData.from_frames(
        transactions=records, columns=ColumnMap(mapping), as_of=as_of, time_unit=time_unit
    )
    return _view_from_data(data, include_records)
