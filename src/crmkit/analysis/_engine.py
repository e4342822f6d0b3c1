"""Customer-value distributions from any engine: distinct values and their counts.

The concentration analyses (:func:`~crmkit.analysis.pareto_table`,
:func:`~crmkit.analysis.gini`) depend on the values only through their
sorted order, so they are computed from the table of distinct values and
how many customers hold each. On a polars, DuckDB, Dask or Spark view that
table is a ``group_by`` inside the engine (one pass to validate, one
aggregation); only the distinct values reach the driver, never a row per
customer. pandas input goes through the same table, so every engine gives
the identical numbers, whatever the order of the rows.
"""

from __future__ import annotations

import warnings
from typing import Any

import narwhals as nw
import numpy as np
import numpy.typing as npt
import pandas as pd

from crmkit._frames import to_narwhals
from crmkit.exceptions import DataWarning, SchemaError, SchemaFailure

__all__ = [
    "ValueCounts",
    "MICRO",
    "engine_pivot_long",
    "engine_profile_counts",
    "engine_value_counts",
    "gini_from_counts",
    "is_engine_frame",
    "micro_units",
    "pareto_groups",
    "value_counts",
]

F = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
#: Distinct values (ascending) and the number of customers holding each.
ValueCounts = tuple[F, I64]
_SHOWN = 5


def is_engine_frame(obj: object) -> bool:
    """Whether ``obj`` is a non-pandas data frame narwhals knows (polars, DuckDB, Dask, Spark).

    Parameters
    ----------
    obj : object
        Anything.

    Returns
    -------
    bool

    Examples
    --------
    >>> import pandas as pd
    >>> is_engine_frame(pd.DataFrame({"a": [1]})), is_engine_frame([1.0])
    (False, False)
    """
    if isinstance(obj, (pd.DataFrame, pd.Series, np.ndarray, list, tuple)):
        return False
    try:
        to_narwhals(obj, "is_engine_frame")
    except TypeError:
        return False
    return True


def value_counts(x: F) -> ValueCounts:
    """Distinct values of a float array (ascending) and their counts.

    Parameters
    ----------
    x : ndarray of float, shape (n,)
        Finite values.

    Returns
    -------
    values : ndarray of float
    counts : ndarray of int64

    Examples
    --------
    >>> v, c = value_counts(np.array([3.0, 1.0, 3.0]))
    >>> v.tolist(), c.tolist()
    ([1.0, 3.0], [1, 2])
    """
    values, counts = np.unique(x, return_counts=True)
    return values.astype(np.float64), counts.astype(np.int64)


def _collect(frame: Any) -> Any:
    return frame.collect() if isinstance(frame, nw.LazyFrame) else frame


def _count(mask: Any) -> Any:
    # Spark cannot sum booleans: count as integers
    return mask.cast(nw.Int64).sum()


def _checks(f: Any, column: str, owner: str) -> dict[str, Any]:
    """One pass: rows, distinct ids, nulls, NaN/inf and negatives of ``column``."""
    schema = f.collect_schema()
    if column not in schema:
        raise SchemaError(
            [
                SchemaFailure(
                    frame="view",
                    column=column,
                    check=f"is missing (required by {owner}); "
                    f"columns present: {', '.join(list(schema)[:12])}",
                )
            ]
        )
    dtype = schema[column]
    if not dtype.is_numeric() or dtype == nw.Boolean:
        raise SchemaError(
            [
                SchemaFailure(
                    frame="view", column=column, check=f"has dtype {dtype}; {owner} needs numbers"
                )
            ]
        )
    x = nw.col(column)
    exprs: dict[str, Any] = {
        "n": nw.len(),
        "null": _count(x.is_null()),
        "negative": _count(x < 0),
        "negative_total": nw.when(x < 0).then(x.cast(nw.Float64)).otherwise(0.0).sum(),
    }
    if dtype.is_float():
        exprs["nonfinite"] = _count(~x.is_finite())
    if "customer_id" in schema:
        exprs["ids"] = nw.col("customer_id").n_unique()
    out = _collect(f.select(**exprs))
    return dict(zip(exprs, out.row(0), strict=True))


def _first_negative(f: Any, column: str) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """The first few customers (ids, values) with a negative value."""
    cols = [c for c in ("customer_id", column) if c in f.collect_schema()]
    rows = _collect(f.filter(nw.col(column) < 0).select(cols).head(_SHOWN)).rows()
    if "customer_id" not in cols:
        return (), tuple(r[0] for r in rows)
    return tuple(r[0] for r in rows), tuple(r[1] for r in rows)


def _refuse(counts: dict[str, Any], column: str, owner: str) -> None:
    fails = []
    n = int(counts["n"])
    if n == 0:
        fails.append(
            SchemaFailure(frame="view", column=column, check=f"is empty; {owner} needs customers")
        )
    if int(counts["null"] or 0):
        fails.append(
            SchemaFailure(
                frame="view",
                column=column,
                check="contains missing values",
                n_failing=int(counts["null"]),
            )
        )
    if int(counts.get("nonfinite") or 0):
        fails.append(
            SchemaFailure(
                frame="view",
                column=column,
                check="contains NaN or infinite values",
                n_failing=int(counts["nonfinite"]),
            )
        )
    if "ids" in counts and int(counts["ids"]) != n:
        fails.append(
            SchemaFailure(
                frame="view",
                column="customer_id",
                check="has duplicate customer ids; one row per customer is needed",
                n_failing=n - int(counts["ids"]),
            )
        )
    if fails:
        raise SchemaError(fails)


def engine_value_counts(frame: Any, column: str, owner: str, negative: str) -> ValueCounts:
    """Validate ``column`` of an engine frame and count its distinct values inside the engine.

    Parameters
    ----------
    frame : polars, DuckDB, Dask or PySpark frame
        A customer view (one row per customer; ``customer_id`` a column).
    column : str
        The value column.
    owner : str
        Function name for messages.
    negative : {"keep", "clip", "raise"}
        Negative values: kept, counted as 0 (with a :class:`DataWarning`)
        or refused naming the first customers.

    Returns
    -------
    values : ndarray of float
        Distinct values, ascending.
    counts : ndarray of int64
        Customers holding each.

    Raises
    ------
    SchemaError
        For a missing or non-numeric column, missing or infinite values,
        duplicate customer ids, an empty view or negative values under
        ``"raise"``.

    Examples
    --------
    >>> import polars as pl
    >>> view = pl.DataFrame({"customer_id": [1, 2, 3], "revenue": [5.0, 1.0, 5.0]})
    >>> v, c = engine_value_counts(view, "revenue", "demo", "keep")
    >>> v.tolist(), c.tolist()
    ([1.0, 5.0], [1, 2])
    """
    f = to_narwhals(frame, owner, "view")
    counts = _checks(f, column, owner)
    _refuse(counts, column, owner)
    x = nw.col(column).cast(nw.Float64)
    n_neg = int(counts["negative"] or 0)
    if n_neg and negative == "raise":
        ids, vals = _first_negative(f, column)
        raise SchemaError(
            [
                SchemaFailure(
                    frame="values",
                    column=column,
                    check=f"has negative values; {owner} measures non-negative value "
                    "(pass negative='clip' to count loss-makers and refunds as 0)",
                    n_failing=n_neg,
                    rows=ids,
                    values=vals,
                )
            ]
        )
    if n_neg and negative == "clip":
        warnings.warn(
            f"{owner}: {n_neg} negative {column} (total "
            f"{float(counts['negative_total']):.6g}) clipped to 0",
            DataWarning,
            stacklevel=3,
        )
        x = nw.when(x < 0).then(0.0).otherwise(x)
    table = _collect(f.select(x.alias("value")).group_by("value").agg(nw.len().alias("n")))
    native = table.to_pandas() if hasattr(table, "to_pandas") else table.to_native()
    native = native.sort_values("value", kind="stable")
    return _merged(native["value"].to_numpy(dtype=np.float64), native["n"].to_numpy(dtype=np.int64))


def _merged(values: F, counts: I64) -> ValueCounts:
    """Sorted distinct values, merging those that compare equal (0.0 and -0.0, as np.unique)."""
    start = np.flatnonzero(np.r_[True, values[1:] != values[:-1]])
    merged: I64 = np.add.reduceat(counts, start).astype(np.int64) if len(values) else counts
    return values[start], merged


def pareto_groups(values: F, counts: I64, q: int) -> tuple[I64, F, F, F]:
    """Customers, value sum, min and max of ``q`` equal groups, top value first.

    The customers are ranked by value, highest first, and cut into ``q``
    groups (the first ``n % q`` one customer larger), as
    :func:`crmkit.analysis._inputs.rank_groups` does; tied customers are
    interchangeable, so the counts suffice.

    Parameters
    ----------
    values : ndarray of float
        Distinct values, ascending.
    counts : ndarray of int64
        Customers per value; their sum ``n >= q``.
    q : int
        Number of groups.

    Returns
    -------
    sizes : ndarray of int64, shape (q,)
    sums, mins, maxs : ndarray of float, shape (q,)

    Examples
    --------
    >>> sizes, sums, mins, maxs = pareto_groups(np.array([1.0, 5.0]), np.array([3, 1]), 2)
    >>> sizes.tolist(), sums.tolist(), mins.tolist(), maxs.tolist()
    ([2, 2], [6.0, 2.0], [1.0, 1.0], [5.0, 1.0])
    """
    v, c = values[::-1], counts[::-1]
    n = int(c.sum())
    sizes = np.full(q, n // q, dtype=np.int64)
    sizes[: n % q] += 1
    group_end, block_end = np.cumsum(sizes), np.cumsum(c)
    seg_end = np.union1d(group_end, block_end)
    seg_len = np.diff(seg_end, prepend=0)
    block = np.searchsorted(block_end, seg_end)
    group = np.searchsorted(group_end, seg_end)
    sums: F = np.bincount(group, weights=v[block] * seg_len, minlength=q).astype(np.float64)
    mins: F = np.full(q, np.inf)
    maxs: F = np.full(q, -np.inf)
    np.minimum.at(mins, group, v[block])
    np.maximum.at(maxs, group, v[block])
    return sizes.astype(np.int64), sums, mins, maxs


def gini_from_counts(values: F, counts: I64, total: float) -> float:
    """Gini coefficient ``sum_i (2 i - n - 1) x_(i) / (n sum x)`` from distinct values.

    Parameters
    ----------
    values : ndarray of float
        Distinct non-negative values, ascending.
    counts : ndarray of int64
        Customers per value.
    total : float
        The (positive) sum of all values.

    Returns
    -------
    float

    Examples
    --------
    >>> gini_from_counts(np.array([0.0, 4.0]), np.array([3, 1]), 4.0)
    0.75
    """
    n = int(counts.sum())
    start = np.cumsum(counts) - counts
    # ranks start+1 .. start+c share the value: sum of (2 i - n - 1) over them
    weight = (counts * (2 * start + counts - n)).astype(np.float64)
    return max(float(np.sum(weight * values) / (n * total)), 0.0)


#: Money is summed in whole micro-units, exactly, as ``crmkit.summarize`` does.
MICRO = 1_000_000.0
_MONEY_LIMIT = 9.0e12
_PERIOD_KEYS = ("month", "quarter", "year")


def micro_units(x: F) -> F:
    """Amounts as whole micro-units (round half up): their sums are exact in any order.

    Parameters
    ----------
    x : ndarray of float
        Amounts.

    Returns
    -------
    ndarray of float
        Integers held as floats.

    Examples
    --------
    >>> float(micro_units(np.array([0.1, 0.2])).sum() / MICRO)
    0.3
    """
    out: F = np.floor(x * MICRO + 0.5)
    return out


def _period_key(date: Any, by: str) -> Any:
    """``"2025"``, ``"2025Q1"`` or ``"2025-01"``: pandas' period labels, in the engine."""
    year = date.dt.year().cast(nw.String)
    if by == "year":
        return year
    month = date.dt.month().cast(nw.Int64)
    if by == "quarter":
        return nw.concat_str([year, nw.lit("Q"), ((month - 1) // 3 + 1).cast(nw.String)])
    padded = nw.when(month < 10).then(nw.concat_str([nw.lit("0"), month.cast(nw.String)]))
    return nw.concat_str([year, nw.lit("-"), padded.otherwise(month.cast(nw.String))])


def _pivot_weight(values: str) -> Any:
    amount = nw.col("amount").cast(nw.Float64)
    if values == "count":
        return (amount > 0).cast(nw.Int64)
    if values == "quantity":
        return (
            (nw.col("quantity").cast(nw.Float64).fill_null(0.0) * MICRO + 0.5)
            .floor()
            .cast(nw.Int64)
        )
    micro = (amount * MICRO + 0.5).floor().cast(nw.Int64)
    if values == "margin":
        return micro - (nw.col("cost").cast(nw.Float64) * MICRO + 0.5).floor().cast(nw.Int64)
    return micro


def engine_pivot_long(frame: Any, by: str, values: str, owner: str) -> pd.DataFrame:
    """Sums per customer and ``by`` level inside the engine, collected as a long table.

    Parameters
    ----------
    frame : polars, DuckDB, Dask or PySpark frame
        Transactions with canonical column names.
    by : str
        A transactions column, or ``"month"``, ``"quarter"``, ``"year"`` of
        the date.
    values : {"revenue", "count", "quantity", "margin"}
        What to add up (money and quantities in micro-units, exactly).
    owner : str
        Function name for messages.

    Returns
    -------
    DataFrame
        Columns ``customer_id``, ``key`` and ``total`` (float).

    Raises
    ------
    SchemaError
        Missing columns, missing ``by`` values or costs, amounts too large.

    Examples
    --------
    >>> import polars as pl
    >>> tx = pl.DataFrame({"customer_id": [1, 1], "amount": [0.1, 0.2], "product": ["a", "a"]})
    >>> engine_pivot_long(tx, "product", "revenue", "demo")["total"].tolist()
    [300000.0]
    """
    f = to_narwhals(frame, owner, "data")
    schema = f.collect_schema()
    needed = ["customer_id", "amount", "date" if by in _PERIOD_KEYS else by]
    needed += {"quantity": ["quantity"], "margin": ["cost"]}.get(values, [])
    missing = [c for c in dict.fromkeys(needed) if c not in schema]
    if missing:
        raise SchemaError(
            [
                SchemaFailure(
                    frame="transactions", column=c, check=f"is missing (required by {owner})"
                )
                for c in missing
            ]
        )
    key = _period_key(nw.col("date"), by) if by in _PERIOD_KEYS else nw.col(by)
    checks = {
        "key": _count(key.is_null()),
        "huge": _count(nw.col("amount").cast(nw.Float64).abs() > _MONEY_LIMIT),
    }
    if values == "margin":
        checks["cost"] = _count(nw.col("cost").is_null())
    row = dict(zip(checks, _collect(f.select(**checks)).row(0), strict=True))
    fails = []
    for name, column, what in (
        ("key", by, "contains missing values (fill them or drop those lines)"),
        ("cost", "cost", "contains missing values; margin needs every cost"),
        ("huge", "amount", "has values beyond +-9e12, which cannot be summed exactly"),
    ):
        if int(row.get(name) or 0):
            fails.append(
                SchemaFailure(
                    frame="transactions", column=column, check=what, n_failing=int(row[name])
                )
            )
    if fails:
        raise SchemaError(fails)
    long = (
        f.select(nw.col("customer_id"), key.alias("key"), _pivot_weight(values).alias("w"))
        .group_by("customer_id", "key")
        .agg(nw.col("w").sum().alias("total"))
    )
    long = _collect(long)
    out = long.to_pandas() if hasattr(long, "to_pandas") else long.to_native()
    cols: dict[str, Any] = {"total": out["total"].to_numpy(dtype=np.float64)}
    for c in ("customer_id", "key"):
        # Dask hands back pyarrow strings with pd.NA: pandas' default string dtype instead
        if isinstance(out[c].dtype, pd.StringDtype):
            cols[c] = out[c].astype("str")
    result: pd.DataFrame = out.assign(**cols)
    return result


def engine_profile_counts(frame: Any, by: list[str], owner: str) -> pd.Series:
    """Customers per profile (the ``by`` columns), counted inside the engine.

    Parameters
    ----------
    frame : polars, DuckDB, Dask or PySpark frame
        One row per customer (a ``customer_id`` column is checked for
        duplicates).
    by : list of str
        Profile columns.
    owner : str
        Function name for messages.

    Returns
    -------
    Series
        Float counts indexed by profile (a MultiIndex for several columns),
        sorted by profile.

    Raises
    ------
    SchemaError
        Missing columns, missing profile values, duplicate ids, no rows.

    Examples
    --------
    >>> import polars as pl
    >>> base = pl.DataFrame({"customer_id": [1, 2, 3], "industry": ["b", "a", "b"]})
    >>> engine_profile_counts(base, ["industry"], "demo").to_dict()
    {'a': 1.0, 'b': 2.0}
    """
    f = to_narwhals(frame, owner, "customers")
    schema = f.collect_schema()
    missing = [c for c in by if c not in schema]
    if missing:
        raise SchemaError(
            [
                SchemaFailure(
                    frame="customers", column=c, check=f"is missing (required by {owner})"
                )
                for c in missing
            ]
        )
    exprs: dict[str, Any] = {"n": nw.len()}
    exprs.update({f"null_{i}": _count(nw.col(c).is_null()) for i, c in enumerate(by)})
    if "customer_id" in schema:
        exprs["ids"] = nw.col("customer_id").n_unique()
    row = dict(zip(exprs, _collect(f.select(**exprs)).row(0), strict=True))
    fails = []
    if "ids" in row and int(row["ids"]) != int(row["n"]):
        fails.append(
            SchemaFailure(
                frame="customers",
                column="customer_id",
                check="has duplicate customer ids (each customer must be counted once)",
                n_failing=int(row["n"]) - int(row["ids"]),
            )
        )
    for i, c in enumerate(by):
        if int(row[f"null_{i}"] or 0):
            fails.append(
                SchemaFailure(
                    frame="customers",
                    column=c,
                    check="contains missing values (fill them, "
                    "e.g. with 'unknown', or drop those customers)",
                    n_failing=int(row[f"null_{i}"]),
                )
            )
    if not int(row["n"]):
        fails.append(
            SchemaFailure(
                frame="customers", column="<frame>", check=f"is empty; {owner} needs customers"
            )
        )
    if fails:
        raise SchemaError(fails)
    table = _collect(f.group_by(*by).agg(nw.len().alias("__n")))
    native = table.to_pandas() if hasattr(table, "to_pandas") else table.to_native()
    native = native.sort_values(by, kind="stable")
    keys = [native[c].astype(object).tolist() for c in by]
    index = pd.Index(keys[0], dtype=object) if len(by) == 1 else pd.MultiIndex.from_arrays(keys)
    counts: pd.Series = pd.Series(native["__n"].to_numpy(dtype=np.float64), index=index)
    return counts
