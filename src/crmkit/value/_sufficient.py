"""Sufficient statistics of a customer view: counts per distinct model input.

The likelihood of the purchase models (BG/NBD, Pareto/NBD, MBG/NBD) depends
on a customer only through ``(frequency, recency, T)``, and that of the
Gamma-Gamma spend model through ``(frequency, monetary_value)``; customers
with the same values contribute the same factor. Counting the customers per
distinct value inside the engine that holds the view (Spark, Dask, DuckDB,
polars, pandas) and collecting only the counts gives a small pandas table on
which ``model.fit(stats, weights=stats["weights"])`` maximises exactly the
same likelihood as a fit on every customer.
"""

from __future__ import annotations

import math
import numbers
import operator
from collections.abc import Mapping, Sequence
from functools import reduce
from typing import Any

import narwhals as nw
import numpy as np
import pandas as pd

from crmkit._frames import first_rows, require_columns, to_narwhals
from crmkit.exceptions import InvalidParameterError, SchemaError, SchemaFailure

__all__ = ["PURCHASE_COLUMNS", "SPEND_COLUMNS", "sufficient_stats"]

#: Columns of the purchase models' likelihood (BG/NBD, Pareto/NBD, MBG/NBD).
PURCHASE_COLUMNS: tuple[str, ...] = ("frequency", "recency", "T")
#: Columns of the Gamma-Gamma spend model's likelihood.
SPEND_COLUMNS: tuple[str, ...] = ("frequency", "monetary_value")

_WHO = "sufficient_stats"


def _check_columns(columns: Any) -> tuple[str, ...]:
    if isinstance(columns, str) or not isinstance(columns, Sequence) or not columns:
        raise InvalidParameterError(
            f"{_WHO}: 'columns' must be a non-empty sequence of column names; got {columns!r}"
        )
    cols = tuple(columns)
    if not all(isinstance(c, str) for c in cols) or len(set(cols)) != len(cols):
        raise InvalidParameterError(
            f"{_WHO}: 'columns' must hold distinct column names (str); got {columns!r}"
        )
    if "weights" in cols:
        raise InvalidParameterError(
            f"{_WHO}: 'weights' is the name of the count column of the result and cannot be "
            "one of 'columns'"
        )
    return cols


def _positive(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return False
    return math.isfinite(float(value)) and float(value) > 0


def _resolutions(resolution: Any, cols: tuple[str, ...], integer: set[str]) -> dict[str, float]:
    """Per-column rounding steps (only for non-integer columns)."""
    if resolution is None:
        return {}
    if isinstance(resolution, Mapping):
        out: dict[str, float] = {}
        for name, step in resolution.items():
            if name not in cols:
                raise InvalidParameterError(
                    f"{_WHO}: 'resolution' names column {name!r}, which is not one of "
                    f"columns {list(cols)}"
                )
            if name in integer:
                raise InvalidParameterError(
                    f"{_WHO}: 'resolution' cannot round the whole-number column {name!r}: "
                    "rounding counts changes the model, not just its precision"
                )
            if not _positive(step):
                raise InvalidParameterError(
                    f"{_WHO}: the 'resolution' of {name!r} must be a finite float > 0; got {step!r}"
                )
            out[name] = float(step)
        return out
    if not _positive(resolution):
        raise InvalidParameterError(
            f"{_WHO}: 'resolution' must be None, a finite float > 0 or a mapping of column "
            f"to such floats; got {resolution!r}"
        )
    return {c: float(resolution) for c in cols if c not in integer}


def _checks(cols: tuple[str, ...], schema: Mapping[str, Any]) -> list[tuple[str, str, Any]]:
    """The row checks, as (column, problem, boolean expression) in a fixed order."""
    checks: list[tuple[str, str, Any]] = []
    for c in cols:
        col = nw.col(c)
        if schema[c].is_float():
            checks.append(
                (c, "has missing, NaN or infinite values", col.is_null() | ~col.is_finite())
            )
        else:
            checks.append((c, "has missing values", col.is_null()))
        checks.append((c, "is negative", col < 0))
        if c == "frequency" and schema[c].is_float():
            checks.append((c, "must hold whole numbers", col != col.floor()))
    if "recency" in cols and "T" in cols:
        over = nw.col("recency") > nw.col("T") * (1 + 1e-12) + 1e-12
        checks.append(("recency", "is greater than T", over))
    return checks


def _flags(checks: list[tuple[str, str, Any]]) -> Any:
    """One integer per row: bit ``i`` set when check ``i`` fails (null counts as passing)."""
    return reduce(
        operator.add,
        [nw.when(mask).then(1 << i).otherwise(0) for i, (_, _, mask) in enumerate(checks)],
    ).cast(nw.Int64)


def _report(f: Any, table: pd.DataFrame, checks: list[tuple[str, str, Any]]) -> None:
    """Raise for the failed checks found in the grouped table (ids fetched only then)."""
    if int(table["weights"].sum()) == 0:
        raise SchemaError(
            [
                SchemaFailure(
                    frame="view",
                    column="<frame>",
                    check=f"has no customers; {_WHO} needs at least one",
                )
            ]
        )
    flags = table["_flags"].to_numpy(dtype=np.int64)
    weights = table["weights"].to_numpy(dtype=np.int64)
    fails: list[SchemaFailure] = []
    for i, (column, problem, mask) in enumerate(checks):
        hit = (flags >> i) & 1 == 1
        n_bad = int(weights[hit].sum())
        if not n_bad or (problem == "is greater than T" and fails):
            continue  # recency vs T is only meaningful for otherwise clean values
        ids, values = first_rows(f, mask, column)
        fails.append(
            SchemaFailure(
                frame="view", column=column, check=problem, n_failing=n_bad, rows=ids, values=values
            )
        )
    if fails:
        raise SchemaError(fails)


def sufficient_stats(
    view: Any,
    columns: Sequence[str] = PURCHASE_COLUMNS,
    *,
    resolution: float | Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Count the customers per distinct model input, inside the view's engine.

    A purchase model's likelihood depends on a customer only through
    ``(frequency, recency, T)`` (the default ``columns``); the Gamma-Gamma
    model's through ``(frequency, monetary_value)``
    (``columns=SPEND_COLUMNS``). The view is validated and grouped by these
    columns where it lives (pandas, polars, DuckDB, Dask, PySpark ...) and
    only the distinct rows and their counts are collected, as a small pandas
    table. Fitting on it with ``weights=stats["weights"]`` maximises exactly
    the same likelihood as fitting on every customer, with orders of
    magnitude fewer rows.

    With ``resolution`` the non-integer columns are first rounded to the
    nearest multiple of that step (``floor(value / step + 0.5) * step``), so
    that fewer distinct rows remain; the fit is then an APPROXIMATION (the
    error is of the order of the step). Without ``resolution`` nothing is
    rounded and the statistics are exact. ``frequency`` (and any integer
    column) is never rounded.

    Parameters
    ----------
    view : DataFrame
        The customer view: a pandas DataFrame (e.g. from
        :func:`crmkit.summarize`) or any frame narwhals supports, eager or
        lazy (polars, DuckDB relation, Dask, PySpark).
    columns : sequence of str, default=PURCHASE_COLUMNS
        The model's input columns: ``("frequency", "recency", "T")`` for the
        purchase models, ``("frequency", "monetary_value")`` for Gamma-Gamma,
        ``("frequency", "recency", "periods")`` for BG/BB.
    resolution : float or mapping of str to float, optional
        Rounding step of every non-integer column, or per column. Default
        (None): exact, no rounding.

    Returns
    -------
    DataFrame
        One row per distinct combination, sorted by ``columns``, with the
        columns (``frequency`` as int64, other non-integer columns float64)
        and ``weights`` (int64, the number of customers); a ``RangeIndex``.
        ``stats["weights"].sum()`` is the number of customers.

    Raises
    ------
    SchemaError
        Missing or non-numeric columns, missing/NaN/infinite or negative
        values, a non-integer ``frequency``, ``recency > T``, or an empty
        view (every problem listed, with the first customer ids when the
        frame has a ``customer_id`` column or index).
    InvalidParameterError
        For bad ``columns`` or ``resolution``, or when ``view`` is not a data
        frame (also a ``TypeError``).

    See Also
    --------
    crmkit.engines.score : score every customer on the engine.

    Examples
    --------
    >>> import pandas as pd
    >>> view = pd.DataFrame({"frequency": [0, 2, 2, 0], "recency": [0.0, 5.0, 5.0, 0.0],
    ...                      "T": [10.0, 12.0, 12.0, 10.0]})
    >>> sufficient_stats(view)
       frequency  recency     T  weights
    0          0      0.0  10.0        2
    1          2      5.0  12.0        2

    The model is then fitted on the counts (the same likelihood):

    >>> from crmkit.value import BetaGeo
    >>> truth = BetaGeo.from_params(r=0.25, alpha=4.0, a=0.8, b=2.5)
    >>> customers = truth.sample(2000, 39.0, seed=0)
    >>> stats = sufficient_stats(customers)
    >>> len(stats) < len(customers)
    True
    >>> fitted = BetaGeo().fit(stats, weights=stats["weights"])
    >>> bool(abs(fitted.log_likelihood_ - BetaGeo().fit(customers).log_likelihood_) < 1e-6)
    True

    Rounding to a resolution (an approximation):

    >>> len(sufficient_stats(customers, resolution=1.0)) < len(stats)
    True
    """
    cols = _check_columns(columns)
    f = to_narwhals(view, _WHO, "view")
    schema = require_columns(f, cols, _WHO)
    integer = {c for c in cols if c == "frequency" or schema[c].is_integer()}
    steps = _resolutions(resolution, cols, integer)
    checks = _checks(cols, schema)
    flags = _flags(checks)
    ok = flags == 0
    keys = []
    for c in cols:
        # rows failing a check get key 0 (no NaN or null keys): they are counted by flag
        col = nw.when(ok).then(nw.col(c)).otherwise(0)
        if c in integer:
            keys.append(col.cast(nw.Int64).alias(c))
        else:
            col = col.cast(nw.Float64)
            if c in steps:
                # the step as a column: polars divides by a scalar through its reciprocal
                step = col * 0.0 + steps[c]
                col = (col / step + 0.5).floor() * steps[c]
            keys.append((col + 0.0).alias(c))  # + 0.0 turns -0.0 into 0.0
    grouped = (
        f.select(*keys, flags.alias("_flags"))
        .group_by(*cols, "_flags")
        .agg(nw.len().alias("weights"))
    )
    if isinstance(grouped, nw.LazyFrame):
        grouped = grouped.collect()
    table = grouped.to_pandas()
    if len(table) == 0 or (table["_flags"] != 0).any():
        _report(f, table, checks)
    table = table[table["_flags"] == 0]
    data = {c: table[c].to_numpy(dtype=np.int64 if c in integer else np.float64) for c in cols}
    data["weights"] = table["weights"].to_numpy(dtype=np.int64)
    out: pd.DataFrame = pd.DataFrame(data).sort_values(
        list(cols), kind="mergesort", ignore_index=True
    )
    return out
