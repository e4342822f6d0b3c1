"""``summarize`` for non-pandas frames, written once with narwhals.

The aggregation runs inside the frame's own engine (polars, DuckDB, Dask,
PySpark ...): a lazy frame in gives a lazy frame out. Only the validation
counts and the first/last day are computed eagerly, in one pass that
reads the needed columns and shuffles nothing.

The returned query reads the transactions once. On polars, DuckDB and Dask
it is one aggregation per customer and purchase day (per customer, day and
product with a product column; a window marks each product's first day),
the first day from a window per customer and one aggregation per customer.
On Spark, :mod:`crmkit.data._summarize_spark` shuffles the transactions
once into buckets of whole customers and runs the pandas code on each.
Spark and Dask views are not sorted (a global sort is a shuffle of its
own); polars and DuckDB views are sorted by ``customer_id``.

Money is summed exactly, as integers: every amount (and cost) is rounded to
an integer number of micro-units (``floor(amount * 1e6 + 0.5)``), summed in
64-bit integers and divided by 10^6 at the end, so ``revenue``,
``monetary_value`` and ``margin`` are identical bit for bit on every engine
and on pandas, whatever the order of the rows.

Every expression is backend-neutral: a day number comes from the calendar
year and day of the year (no timestamp arithmetic, which Spark lacks through
narwhals), aggregations inside ``group_by`` are plain column aggregations
(as Dask requires) and boolean counts are cast to integers before summing
(as Spark requires).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import narwhals as nw

from crmkit._checks import warn_user
from crmkit._frames import SPARK
from crmkit.data._columns import TIME_UNITS, ColumnMap
from crmkit.data._validate import as_timestamp
from crmkit.exceptions import DataWarning, InvalidParameterError, SchemaError, SchemaFailure

__all__ = ["MICRO", "MONEY_LIMIT", "is_narwhals_frame", "summarize_native"]

_EPOCH = dt.datetime(1970, 1, 1)
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()  # days from 0001-01-01 (day 1) to 1970-01-01
#: Money is summed in integer units of 1 / MICRO of the currency unit.
MICRO = 1_000_000.0
#: The largest absolute amount (or cost) a row may have: its micro-units fit an int64.
MONEY_LIMIT = 9.0e12
_SPARK = SPARK
_UNSORTED = (*_SPARK, nw.Implementation.DASK)


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
    return (
        365 * y
        + y // 4
        - y // 100
        + y // 400
        + date.dt.ordinal_day().cast(nw.Int64)
        - _EPOCH_ORDINAL
    ).cast(nw.Int64)


def _micro(money: Any) -> Any:
    """An amount as an integer number of micro-units (round half up, as on pandas)."""
    return (money.cast(nw.Float64) * MICRO + 0.5).floor().cast(nw.Int64)


def _validate_dtypes(f: Any, cols: dict[str, str]) -> None:
    fails: list[SchemaFailure] = []
    schema = f.collect_schema()
    for role in ("customer_id", "date", "amount"):
        name = cols[role]
        if name not in schema:
            fails.append(
                SchemaFailure(
                    frame="transactions",
                    column=str(name),
                    check=f"is missing; columns present: {', '.join(list(schema)[:12])}",
                )
            )
    if fails:
        raise SchemaError(fails)
    cid, date = cols["customer_id"], cols["date"]
    if schema[cid] in (nw.Boolean,) or schema[cid].is_float() or schema[cid].is_temporal():
        fails.append(
            SchemaFailure(
                frame="transactions",
                column=str(cid),
                check=f"has dtype {schema[cid]}; ids must be integers or strings",
            )
        )
    if not schema[date].is_temporal():
        fails.append(
            SchemaFailure(
                frame="transactions",
                column=str(date),
                check=f"has dtype {schema[date]}, not "
                "a date/datetime; cast it in your engine first (integers are "
                "never read as epoch nanoseconds)",
            )
        )
    for role in ("amount", "cost"):
        name = cols[role]
        if name in schema and (not schema[name].is_numeric() or schema[name] == nw.Boolean):
            fails.append(
                SchemaFailure(
                    frame="transactions",
                    column=str(name),
                    check=f"must be numeric, got {schema[name]}",
                )
            )
    if fails:
        raise SchemaError(fails)


def _check_exprs(cols: dict[str, str], schema: Any, as_of_day: int | None) -> dict[str, Any]:
    """The one-row validation pass: nulls, NaN/inf, huge money, first/last and late days."""
    checks: dict[str, Any] = {
        f"null_{role}": _count(nw.col(cols[role]).is_null())
        for role in ("customer_id", "date", "amount")
    }
    for role in ("amount", "cost"):
        name = cols[role]
        if name not in schema:
            continue
        if schema[name].is_float():
            checks[f"nonfinite_{role}"] = _count(~nw.col(name).is_finite())
        checks[f"huge_{role}"] = _count(nw.col(name).abs() > MONEY_LIMIT)
    if cols["cost"] in schema:
        checks["null_cost"] = _count(nw.col(cols["cost"]).is_null())
    day = _day_number(nw.col(cols["date"]))
    checks["n_rows"] = nw.len()
    checks["first_day"] = day.min()
    checks["last_day"] = day.max()
    if as_of_day is not None:
        checks["n_late"] = _count(day > as_of_day)
    return checks


def _validate_values(counts: dict[str, Any], cols: dict[str, str]) -> None:
    fails: list[SchemaFailure] = []
    for role in ("customer_id", "date", "amount"):
        name = cols[role]
        n_null = int(counts[f"null_{role}"] or 0)
        if n_null:
            what = {
                "customer_id": "null ids",
                "date": "missing dates",
                "amount": "missing amounts (a missing amount is not 0)",
            }[role]
            fails.append(
                SchemaFailure(
                    frame="transactions",
                    column=str(name),
                    check=f"contains {what}",
                    n_failing=n_null,
                )
            )
    for role in ("amount", "cost"):
        n_bad = int(counts.get(f"nonfinite_{role}") or 0)
        if n_bad:
            fails.append(
                SchemaFailure(
                    frame="transactions",
                    column=str(cols[role]),
                    check="contains NaN or infinite values",
                    n_failing=n_bad,
                )
            )
        n_huge = int(counts.get(f"huge_{role}") or 0)
        if n_huge:
            fails.append(
                SchemaFailure(
                    frame="transactions",
                    column=str(cols[role]),
                    check=f"has values beyond +-{MONEY_LIMIT:.0e}, which cannot be "
                    "summed exactly in integer micro-units",
                    n_failing=n_huge,
                )
            )
    if fails:
        raise SchemaError(fails)


def _analysis_day(counts: dict[str, Any], cols: dict[str, str], as_of_day: int | None) -> int:
    """``as_of`` as a day number (default the last day); refuse data all after it."""
    if as_of_day is None:
        as_of_day = int(counts["last_day"])
    if as_of_day < int(counts["first_day"]):
        raise SchemaError(
            [
                SchemaFailure(
                    frame="transactions",
                    column=str(cols["date"]),
                    check="all transactions are after as_of: nothing to analyse",
                )
            ]
        )
    return as_of_day


def _base(f: Any, cols: dict[str, str], has_product: bool, has_cost: bool) -> Any:
    """The transaction columns under their role names; money in micro-units."""
    exprs = [
        nw.col(cols["customer_id"]).alias("customer_id"),
        _day_number(nw.col(cols["date"])).alias("day"),
        nw.col(cols["date"]).alias("ts"),
        _micro(nw.col(cols["amount"])).alias("amount"),
    ]
    if has_product:
        exprs.append(nw.col(cols["product"]).alias("product"))
    if has_cost:
        # the margin of a row without a cost is unknown (null), and so is its customer's
        exprs.append(
            (_micro(nw.col(cols["amount"])) - _micro(nw.col(cols["cost"]))).alias("margin")
        )
        exprs.append(nw.col(cols["cost"]).is_null().cast(nw.Int64).alias("no_cost"))
    return f.select(*exprs)


def _day_aggs(has_cost: bool, partial: bool) -> list[Any]:
    """Sums per purchase day; ``partial`` re-aggregates already aggregated rows."""
    aggs = [
        nw.col("amount").sum(),
        (nw.col("n_rows").sum() if partial else nw.len()).alias("n_rows"),
        nw.col("ts_min" if partial else "ts").min().alias("ts_min"),
        nw.col("ts_max" if partial else "ts").max().alias("ts_max"),
    ]
    if has_cost:
        aggs += [nw.col("margin").sum(), nw.col("no_cost").sum()]
    return aggs


def _purchase_days(base: Any, has_product: bool, has_cost: bool) -> Any:
    """One row per customer and purchase day (with ``new_products`` for a product column).

    With a product column the rows are first summed per customer, day and
    product; a product is new on the first day the customer bought it (a
    window per customer and product), so the distinct products need no
    second pass over the transactions.
    """
    if not has_product:
        return base.group_by("customer_id", "day").agg(*_day_aggs(has_cost, False))
    # rows without a product form their own (null) group: they count for money and days
    lines = base.group_by("customer_id", "day", "product").agg(*_day_aggs(has_cost, False))
    first = nw.col("day") == nw.col("day").min().over("customer_id", "product")
    lines = lines.with_columns(new_products=(first & ~nw.col("product").is_null()).cast(nw.Int64))
    return lines.group_by("customer_id", "day").agg(
        *_day_aggs(has_cost, True), nw.col("new_products").sum()
    )


def _customer_stats(days: Any, as_of_day: int, has_cost: bool, has_product: bool) -> Any:
    """Per-customer totals of the purchase days; the first day from a window per customer."""
    repeat = nw.col("day") != nw.col("first_day")
    periods = days.with_columns(first_day=nw.col("day").min().over("customer_id")).with_columns(
        repeat_amount=nw.when(repeat).then(nw.col("amount")).otherwise(0),
        late=nw.when(repeat & (2 * nw.col("day") >= nw.col("first_day") + as_of_day))
        .then(1)
        .otherwise(0),
    )
    aggs = [
        nw.col("first_day").min(),
        nw.col("day").max().alias("last_day"),
        nw.len().alias("n_periods"),
        nw.col("amount").sum().alias("revenue"),
        nw.col("repeat_amount").sum(),
        nw.col("n_rows").sum().alias("n_transactions"),
        nw.col("late").sum().alias("n_late"),
        nw.col("ts_min").min(),
        nw.col("ts_max").max(),
    ]
    if has_cost:
        aggs += [nw.col("margin").sum(), nw.col("no_cost").sum()]
    if has_product:
        aggs.append(nw.col("new_products").sum().alias("n_products"))
    return periods.group_by("customer_id").agg(*aggs)


def _view(stats: Any, as_of_day: int, unit: float, has_cost: bool, has_product: bool) -> Any:
    """The view columns, in one select over the per-customer statistics.

    Chains of ``with_columns`` that reuse derived columns make Dask's
    expression optimiser blow up (it rewrites shared sub-expressions as a
    tree), so every column is written in terms of the statistics.
    """
    freq = (nw.col("n_periods") - 1).cast(nw.Int64)
    repeats = nw.col("n_periods") > 1
    # Divisors as full columns, not literals: polars divides by a scalar through its
    # reciprocal (off by an ulp), by a column exactly, like pandas, Dask, DuckDB, Spark.
    zero = nw.col("first_day").cast(nw.Float64) * 0.0
    unit_col, micro_col = zero + unit, zero + MICRO
    recency = (nw.col("last_day") - nw.col("first_day")).cast(nw.Float64) / unit_col
    T = (as_of_day - nw.col("first_day")).cast(nw.Float64) / unit_col
    # repeat periods in the later half minus those in the earlier half
    trend = (2 * nw.col("n_late").cast(nw.Int64) - freq).cast(nw.Float64)
    cols: dict[str, Any] = {
        "frequency": freq,
        "recency": recency,
        "T": T,
        "monetary_value": nw.when(repeats)
        .then(nw.col("repeat_amount").cast(nw.Float64) / (freq.cast(nw.Float64) * micro_col))
        .otherwise(0.0),
        "n_transactions": nw.col("n_transactions").cast(nw.Int64),
        "revenue": nw.col("revenue").cast(nw.Float64) / micro_col,
    }
    if has_cost:
        cols["margin"] = nw.when(nw.col("no_cost") == 0).then(
            nw.col("margin").cast(nw.Float64) / micro_col
        )
    cols.update(
        # the first/last transaction's timestamp truncated to its day is that day
        first_purchase=nw.col("ts_min").dt.truncate("1d").cast(nw.Datetime("us")),
        last_purchase=nw.col("ts_max").dt.truncate("1d").cast(nw.Datetime("us")),
        tenure=T,
        **({"n_products": nw.col("n_products").cast(nw.Int64)} if has_product else {}),
        purchase_trend=nw.when(repeats).then(trend / freq).otherwise(0.0),
        mean_interpurchase=nw.when(repeats).then(recency / freq),
        days_since_last=(as_of_day - nw.col("last_day")).cast(nw.Int64),
    )
    return stats.select("customer_id", **cols)


def _prepare(
    f: Any, columns: ColumnMap, as_of: Any
) -> tuple[dict[str, str], bool, bool, int, int, int]:
    """Validate in one pass: roles, product/cost present, ``as_of`` day, rows, late rows."""
    cols = {
        r: columns.column_for("transactions", r)
        for r in ("customer_id", "date", "amount", "product", "cost")
    }
    _validate_dtypes(f, cols)
    schema = f.collect_schema()
    as_of_day: int | None = None
    if as_of is not None:
        ts = as_timestamp(as_of, "as_of").normalize()
        as_of_day = int((ts - as_timestamp(_EPOCH, "epoch")).days)
    counts = _row(f, _check_exprs(cols, schema, as_of_day))
    _validate_values(counts, cols)
    day = _analysis_day(counts, cols, as_of_day)
    n_late = int(counts.get("n_late") or 0)
    if n_late:
        warn_user(
            f"crmkit dropped {n_late} transaction row{'s' if n_late != 1 else ''} "
            "dated after as_of",
            DataWarning,
        )
    n_no_cost = int(counts.get("null_cost") or 0)
    if n_no_cost:
        warn_user(
            f"crmkit: {n_no_cost} transaction rows have no cost; their customers' margin is null",
            DataWarning,
        )
    return (
        cols,
        cols["product"] in schema,
        cols["cost"] in schema,
        day,
        int(counts["n_rows"]),
        n_late,
    )


def summarize_native(
    frame: Any, columns: ColumnMap, *, as_of: Any = None, time_unit: str = "W"
) -> Any:
    """Customer view of a transactions frame of any narwhals-supported engine.

    Same definitions, column names and numbers as :func:`crmkit.summarize`
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
        Same kind as the input (lazy stays lazy), one row per customer;
        polars and DuckDB views are sorted by ``customer_id``, Spark and Dask
        views come in no particular order (sort them if you need to).

    Raises
    ------
    SchemaError
        Missing columns, wrong dtypes, nulls, NaN/inf or too large amounts,
        ``as_of`` before all data.

    Examples
    --------
    >>> import polars as pl, datetime as dt
    >>> tx = pl.DataFrame({"customer_id": [1, 1], "amount": [3.1, 4.2],
    ...                    "date": [dt.datetime(2024, 1, 1), dt.datetime(2024, 1, 8)]})
    >>> summarize_native(tx, ColumnMap(), as_of="2024-01-15")["frequency", "T", "revenue"].row(0)
    (1, 2.0, 7.3)
    """
    if time_unit not in TIME_UNITS:
        raise InvalidParameterError(
            f"time_unit must be one of {sorted(TIME_UNITS)}; got {time_unit!r}"
        )
    f = nw.from_native(frame)
    cols, has_product, has_cost, as_of_day, n_rows, n_late = _prepare(f, columns, as_of)
    order = [
        "customer_id",
        "frequency",
        "recency",
        "T",
        "monetary_value",
        "n_transactions",
        "revenue",
        *(["margin"] if has_cost else []),
        "first_purchase",
        "last_purchase",
        "tenure",
        *(["n_products"] if has_product else []),
        "purchase_trend",
        "mean_interpurchase",
        "days_since_last",
    ]
    if f.implementation in _SPARK:
        from crmkit.data._summarize_spark import summarize_spark

        if n_late:
            f = f.filter(_day_number(nw.col(cols["date"])) <= as_of_day)
        roles = {r: cols[r] for r in ("customer_id", "date", "amount")}
        roles.update(
            {r: cols[r] for r, has in (("product", has_product), ("cost", has_cost)) if has}
        )
        return summarize_spark(
            f.to_native(),
            roles,
            as_of_day=as_of_day,
            time_unit=time_unit,
            n_rows=n_rows - n_late,
            columns=order,
        )
    base = _base(f, cols, has_product, has_cost)
    if n_late:
        base = base.filter(nw.col("day") <= as_of_day)
    days = _purchase_days(base, has_product, has_cost)
    stats = _customer_stats(days, as_of_day, has_cost, has_product)
    view = _view(stats, as_of_day, TIME_UNITS[time_unit], has_cost, has_product)
    out = view.select(order)
    if f.implementation not in _UNSORTED:
        out = out.sort("customer_id")
    return out.to_native()
