"""``summarize`` for non-pandas frames, written once with narwhals.

The aggregation runs inside the frame's own engine (polars, DuckDB, Dask,
PySpark ...): a lazy frame in gives a lazy frame out. Only the validation
counts and the first/last day are computed eagerly, in one pass.

Every expression is backend-neutral: a day number comes from the calendar
year and day of the year (no timestamp arithmetic, which Spark lacks through
narwhals), a customer's first day is joined back instead of taken with a
window, aggregations inside ``group_by`` are plain column aggregations (as
Dask requires) and boolean counts are cast to integers before summing (as
Spark requires).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import narwhals as nw

from crmkit._checks import warn_user
from crmkit.data._columns import TIME_UNITS, ColumnMap
from crmkit.data._validate import as_timestamp
from crmkit.exceptions import DataWarning, InvalidParameterError, SchemaError, SchemaFailure

__all__ = ["is_narwhals_frame", "summarize_native"]

_EPOCH = dt.datetime(1970, 1, 1)
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()  # days from 0001-01-01 (day 1) to 1970-01-01


def is_narwhals_frame(obj: Any) -> bool:
    """Whether narwhals can wrap ``obj`` as a data frame or lazy frame.

    Parameters
    ----------
    obj : object
        Anything.

    Returns
    -------
    bool

    Examples
    --------
    >>> is_narwhals_frame([1, 2])
    False
    """
    try:
        nw.from_native(obj)
    except TypeError:
        return False
    return True


def _row(frame: Any, exprs: dict[str, Any]) -> dict[str, Any]:
    """Evaluate scalar aggregations in one pass (one job on Spark/Dask)."""
    out = frame.select(**exprs)
    if isinstance(out, nw.LazyFrame):
        out = out.collect()
    return dict(zip(exprs, out.row(0), strict=True))


def _count(mask: Any) -> Any:
    # Spark cannot sum booleans: count as integers
    return mask.cast(nw.Int64).sum()


def _day_number(date: Any) -> Any:
    """Days since 1970-01-01 of a date/datetime, from its year and day of year."""
    y = date.dt.year().cast(nw.Int64) - 1
    return (365 * y + y // 4 - y // 100 + y // 400 + date.dt.ordinal_day().cast(nw.Int64)
            - _EPOCH_ORDINAL).cast(nw.Int64)


def _validate_dtypes(f: Any, cols: dict[str, str]) -> None:
    fails: list[SchemaFailure] = []
    schema = f.collect_schema()
    for role in ("customer_id", "date", "amount"):
        name = cols[role]
        if name not in schema:
            fails.append(SchemaFailure("transactions", str(name), f"is missing; columns "
                                       f"present: {', '.join(list(schema)[:12])}"))
    if fails:
        raise SchemaError(fails)
    cid, date, amount = cols["customer_id"], cols["date"], cols["amount"]
    if schema[cid] in (nw.Boolean,) or schema[cid].is_float() or schema[cid].is_temporal():
        fails.append(SchemaFailure("transactions", str(cid),
                                   f"has dtype {schema[cid]}; ids must be integers or strings"))
    if not schema[date].is_temporal():
        fails.append(SchemaFailure("transactions", str(date), f"has dtype {schema[date]}, not "
                                   "a date/datetime; cast it in your engine first (integers are "
                                   "never read as epoch nanoseconds)"))
    if not schema[amount].is_numeric() or schema[amount] == nw.Boolean:
        fails.append(SchemaFailure("transactions", str(amount),
                                   f"must be numeric, got {schema[amount]}"))
    if fails:
        raise SchemaError(fails)


def _validate_values(counts: dict[str, Any], cols: dict[str, str]) -> None:
    fails: list[SchemaFailure] = []
    for role in ("customer_id", "date", "amount"):
        name = cols[role]
        n_null = int(counts[f"null_{role}"] or 0)
        if n_null:
            what = {"customer_id": "null ids", "date": "missing dates",
                    "amount": "missing amounts (a missing amount is not 0)"}[role]
            fails.append(SchemaFailure("transactions", str(name), f"contains {what}", n_null))
    n_bad = int(counts.get("nonfinite") or 0)
    if n_bad:
        fails.append(SchemaFailure("transactions", str(cols["amount"]),
                                   "contains NaN or infinite values", n_bad))
    if fails:
        raise SchemaError(fails)


def summarize_native(
    frame: Any, columns: ColumnMap, *, as_of: Any = None, time_unit: str = "W"
) -> Any:
    """Customer view of a transactions frame of any narwhals-supported engine.

    Same definitions and column names as :func:`crmkit.summarize`
    (transaction columns only).

    Parameters
    ----------
    frame : polars, DuckDB, Dask or PySpark frame
        Transactions (any frame narwhals supports).
    columns : ColumnMap
        Column names by role.
    as_of : date-like, optional
        Analysis day (default: the last transaction day).
    time_unit : {"D", "W", "M"}, default="W"
        Unit of recency, T and tenure.

    Returns
    -------
    frame
        Same kind as the input (lazy stays lazy), one row per customer,
        sorted by ``customer_id``.

    Raises
    ------
    SchemaError
        Missing columns, wrong dtypes, nulls, NaN/inf amounts, ``as_of``
        before all data.

    Examples
    --------
    >>> import polars as pl, datetime as dt
    >>> tx = pl.DataFrame({"customer_id": [1, 1], "amount": [3.0, 4.0],
    ...                    "date": [dt.datetime(2024, 1, 1), dt.datetime(2024, 1, 8)]})
    >>> summarize_native(tx, ColumnMap(), as_of="2024-01-15")["frequency", "T"].row(0)
    (1, 2.0)
    """
    if time_unit not in TIME_UNITS:
        raise InvalidParameterError(
            f"time_unit must be one of {sorted(TIME_UNITS)}; got {time_unit!r}"
        )
    unit = TIME_UNITS[time_unit]
    f = nw.from_native(frame)
    cols = {r: columns.column_for("transactions", r) for r in
            ("customer_id", "date", "amount", "product", "cost")}
    _validate_dtypes(f, cols)
    schema = f.collect_schema()
    has_product = cols["product"] in schema
    has_cost = cols["cost"] in schema
    base = f.select(
        nw.col(cols["customer_id"]).alias("customer_id"),
        _day_number(nw.col(cols["date"])).alias("day"),
        nw.col(cols["date"]).alias("ts"),
        nw.col(cols["amount"]).cast(nw.Float64).alias("amount"),
        *([nw.col(cols["product"]).alias("product")] if has_product else []),
        *([nw.col(cols["cost"]).cast(nw.Float64).alias("cost")] if has_cost else []),
    )
    as_of_day: int | None = None
    if as_of is not None:
        ts = as_timestamp(as_of, "as_of").normalize()
        as_of_day = int((ts - as_timestamp(_EPOCH, "epoch")).days)
    checks: dict[str, Any] = {
        f"null_{role}": _count(nw.col(cols[role]).is_null())
        for role in ("customer_id", "date", "amount")
    }
    if schema[cols["amount"]].is_float():
        checks["nonfinite"] = _count(~nw.col(cols["amount"]).is_finite())
    checks["first_day"] = _day_number(nw.col(cols["date"])).min()
    checks["last_day"] = _day_number(nw.col(cols["date"])).max()
    if as_of_day is not None:
        checks["n_late"] = _count(_day_number(nw.col(cols["date"])) > as_of_day)
    counts = _row(f, checks)
    _validate_values(counts, cols)
    if as_of_day is None:
        as_of_day = int(counts["last_day"])
    if as_of_day < int(counts["first_day"]):
        raise SchemaError([SchemaFailure("transactions", str(cols["date"]),
                                         "all transactions are after as_of: nothing to "
                                         "analyse")])
    n_late = int(counts.get("n_late") or 0)
    if n_late:
        warn_user(f"crmkit dropped {n_late} transaction row{'s' if n_late != 1 else ''} "
                  "dated after as_of", DataWarning)
        base = base.filter(nw.col("day") <= as_of_day)
    firsts = base.group_by("customer_id").agg(nw.col("day").min().alias("first_day"))
    periods = (
        base.group_by("customer_id", "day")
        .agg(nw.col("amount").sum(), nw.len().alias("n_rows"),
             nw.col("ts").min().alias("ts_min"), nw.col("ts").max().alias("ts_max"))
        .join(firsts, on="customer_id", how="inner")
        .with_columns(
            repeat_amount=nw.when(nw.col("day") != nw.col("first_day"))
            .then(nw.col("amount")).otherwise(0.0),
            late=nw.when((nw.col("day") != nw.col("first_day"))
                         & (2 * nw.col("day") >= nw.col("first_day") + as_of_day))
            .then(1).otherwise(0),
        )
    )
    stats = periods.group_by("customer_id").agg(
        nw.col("first_day").min(),
        nw.col("day").max().alias("last_day"),
        nw.len().alias("n_periods"),
        nw.col("amount").sum().alias("revenue"),
        nw.col("repeat_amount").sum(),
        nw.col("n_rows").sum().alias("n_transactions"),
        nw.col("late").sum().alias("n_late"),
        nw.col("ts_min").min(),
        nw.col("ts_max").max(),
    )
    extras = []
    if has_product:
        # distinct (customer, product) pairs, counted: n_unique inside a Dask group_by
        # adds up the distinct values of each partition
        extras.append(
            base.filter(~nw.col("product").is_null())
            .group_by("customer_id", "product").agg(nw.len().alias("n_rows"))
            .group_by("customer_id").agg(nw.len().alias("n_products"))
        )
    if has_cost:
        extras.append(
            base.with_columns(m=nw.col("amount") - nw.col("cost"))
            .group_by("customer_id").agg(nw.col("m").sum().alias("margin"))
        )
    # One select over the per-customer statistics, every column written in terms of
    # them: chains of with_columns that reuse derived columns make Dask's expression
    # optimiser blow up (it rewrites the shared sub-expressions as a tree).
    freq = (nw.col("n_periods") - 1).cast(nw.Int64)
    repeats = nw.col("n_periods") > 1
    # The unit as a full column, not a literal: polars divides by a scalar through its
    # reciprocal (off by an ulp), by a column exactly, like pandas, Dask, DuckDB, Spark.
    unit_col = nw.col("first_day").cast(nw.Float64) * 0.0 + unit
    recency = (nw.col("last_day") - nw.col("first_day")).cast(nw.Float64) / unit_col
    T = (as_of_day - nw.col("first_day")).cast(nw.Float64) / unit_col
    # repeat periods in the later half minus those in the earlier half
    trend = (2 * nw.col("n_late").cast(nw.Int64) - freq).cast(nw.Float64)
    view = stats.select(
        "customer_id",
        "revenue",
        frequency=freq,
        recency=recency,
        T=T,
        monetary_value=nw.when(repeats).then(nw.col("repeat_amount") / freq).otherwise(0.0),
        n_transactions=nw.col("n_transactions").cast(nw.Int64),
        # the first/last transaction's timestamp truncated to its day is that day
        first_purchase=nw.col("ts_min").dt.truncate("1d").cast(nw.Datetime("us")),
        last_purchase=nw.col("ts_max").dt.truncate("1d").cast(nw.Datetime("us")),
        tenure=T,
        purchase_trend=nw.when(repeats).then(trend / freq).otherwise(0.0),
        mean_interpurchase=nw.when(repeats).then(recency / freq),
        days_since_last=(as_of_day - nw.col("last_day")).cast(nw.Int64),
    )
    for extra in extras:
        view = view.join(extra, on="customer_id", how="left")
    if has_product:
        view = view.with_columns(nw.col("n_products").fill_null(0).cast(nw.Int64))
    order = ["customer_id", "frequency", "recency", "T", "monetary_value", "n_transactions",
             "revenue", *(["margin"] if has_cost else []), "first_purchase", "last_purchase",
             "tenure", *(["n_products"] if has_product else []), "purchase_trend",
             "mean_interpurchase", "days_since_last"]
    out = view.select(order).sort("customer_id")
    return out.to_native()
