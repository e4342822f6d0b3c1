"""Decile profiles of a polars, DuckDB, Dask or Spark customer view, computed in the engine.

The deciles are cut from the table of distinct values and their counts
(:func:`~crmkit.analysis._engine.engine_value_counts`): a customer's group
follows from its value alone, except on the few values a decile boundary
cuts through, where the customers are split by customer id (as the pandas
path orders ties). Only those ids, one row per decile of sums, means and
medians, and one row per (decile, level) of the categorical columns reach
the driver, never a row per customer.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import narwhals as nw
import numpy as np
import pandas as pd

from crmkit._frames import to_narwhals
from crmkit.analysis._engine import engine_value_counts
from crmkit.exceptions import DataWarning, SchemaError, SchemaFailure

__all__ = ["engine_decile_profiles"]

_MAX_LEVELS = 50
_ID = "customer_id"


def _collect(frame: Any) -> pd.DataFrame:
    table = frame.collect() if isinstance(frame, nw.LazyFrame) else frame
    native: pd.DataFrame = table.to_pandas() if hasattr(table, "to_pandas") else table.to_native()
    return native


def _group_expr(f: Any, by: str, values: np.ndarray, counts: np.ndarray, q: int) -> Any:
    """The 0-based group of each customer (0 = top), as ``rank_groups`` cuts with ties by id."""
    n = int(counts.sum())
    sizes = np.full(q, n // q, dtype=np.int64)
    sizes[: n % q] += 1
    desc_values, desc_counts = values[::-1], counts[::-1]
    above = np.cumsum(desc_counts) - desc_counts  # customers with a larger value
    x = nw.col(by).cast(nw.Float64)
    group = nw.lit(0, dtype=nw.Int64)
    for start in np.cumsum(sizes)[:-1].tolist():  # first rank of groups 1 .. q-1
        i = int(np.searchsorted(above, start, side="right")) - 1
        value, offset = float(desc_values[i]), int(start - above[i])
        later = x < value
        if offset:  # the boundary cuts the customers holding `value`: split them by id
            ids = _collect(f.filter(x == value).select(_ID))[_ID]
            first = _sorted_ids(pd.Index(ids))[offset]
            later = later | ((x == value) & (nw.col(_ID) >= first))
        else:
            later = later | (x == value)
        group = group + later.cast(nw.Int64)
    return group


def _sorted_ids(ids: pd.Index) -> list[Any]:
    try:
        return list(ids.sort_values())
    except TypeError:
        raise SchemaError(
            [
                SchemaFailure(
                    frame="view",
                    column=_ID,
                    check="mixes types; decile_profiles orders tied customers by id",
                )
            ]
        ) from None


def _columns(
    f: Any, by: str, columns: Sequence[str] | None, categorical: Sequence[str] | None
) -> tuple[list[str], list[str]]:
    """The numeric columns to profile and the categorical columns to summarise."""
    schema = f.collect_schema()
    listed = [*(columns or ()), *(categorical or ())]
    missing = [c for c in listed if c not in schema]
    if missing:
        raise SchemaError(
            [
                SchemaFailure(
                    frame="view", column=c, check="is missing (required by decile_profiles)"
                )
                for c in missing
            ]
        )
    numeric = [
        c
        for c, d in schema.items()
        if c != _ID and isinstance(c, str) and (d.is_numeric() or d == nw.Boolean)
    ]
    if columns is not None:
        bad = [c for c in columns if c not in numeric]
        if bad:
            raise SchemaError(
                [SchemaFailure(frame="view", column=c, check="is not numeric") for c in bad]
            )
        numeric = list(columns)
    if categorical is not None:
        return numeric, list(categorical)
    others = [
        c
        for c, d in schema.items()
        if c != _ID
        and isinstance(c, str)
        and not (d.is_numeric() or d == nw.Boolean or d.is_temporal())
    ]
    if not others:
        return numeric, []
    # distinct values counting a missing one (narwhals' n_unique), and the missing ones
    exprs = [nw.col(c).n_unique().alias(f"__u{i}") for i, c in enumerate(others)]
    exprs += [
        nw.col(c).is_null().cast(nw.Int64).sum().alias(f"__m{i}") for i, c in enumerate(others)
    ]
    row = _collect(f.select(*exprs)).iloc[0]
    levels = [int(row[f"__u{i}"]) - (int(row[f"__m{i}"] or 0) > 0) for i in range(len(others))]
    return numeric, [c for c, k in zip(others, levels, strict=True) if k <= _MAX_LEVELS]


def _level_table(g: Any, column: str, q: int) -> pd.DataFrame:
    """Customers per (group, level of ``column``): groups as rows, levels (text) as columns."""
    native = _collect(g.group_by("__g", column).agg(nw.len().alias("__n")))
    levels = native[column].astype(object).where(native[column].notna(), "(missing)").astype(str)
    table = pd.crosstab(
        native["__g"].to_numpy(), levels.to_numpy(), values=native["__n"].to_numpy(), aggfunc="sum"
    )
    out: pd.DataFrame = table.reindex(range(q)).fillna(0).astype(np.int64)
    return out


def _top_levels(counts: pd.Series, top_n: int = 3) -> str:
    """As ``profile_segments`` names the commonest industries of a segment."""
    counts = (
        counts[counts > 0].sort_index(kind="stable").sort_values(ascending=False, kind="stable")
    )
    share = counts / counts.sum()
    return "; ".join(f"{name} ({s:.0%})" for name, s in share.iloc[:top_n].items())


def _profile(g: Any, f: Any, by: str, numeric: list[str], n: int, q: int) -> pd.DataFrame:
    """The columns of ``profile_segments`` per group, from one aggregation in the engine."""
    # cast first: some engines (Dask) aggregate plain columns only
    casts = [nw.col(by).cast(nw.Float64).alias("__by")]
    casts += [nw.col(c).cast(nw.Float64).alias(f"__x{i}") for i, c in enumerate(numeric)]
    aggs = [nw.col("__by").count().alias("__n"), nw.col("__by").sum().alias("__sum")]
    for i in range(len(numeric)):
        x = nw.col(f"__x{i}")
        aggs += [x.mean().alias(f"__mean{i}"), x.median().alias(f"__median{i}")]
    grouped = g.select("__g", *casts).group_by("__g").agg(*aggs)
    per = _collect(grouped).set_index("__g").sort_index().reindex(range(q))
    means = [nw.col(c).cast(nw.Float64).mean().alias(f"__b{i}") for i, c in enumerate(numeric)]
    bases = _collect(f.select(*means)) if numeric else None
    counts = per["__n"].fillna(0).to_numpy(dtype=np.int64)
    out: dict[str, Any] = {"n_customers": counts, "customer_share": counts / max(n, 1)}
    sums = per["__sum"].fillna(0.0).to_numpy(dtype=np.float64)
    total = float(sums.sum())
    if total > 0:
        out["value_share"] = sums / total
    else:
        warnings.warn(
            f"profile_segments: the total of {by!r} is not positive; value shares are NaN",
            DataWarning,
            stacklevel=4,
        )
        out["value_share"] = np.full(q, np.nan)
    for i, c in enumerate(numeric):
        means = per[f"__mean{i}"].to_numpy(dtype=np.float64, na_value=np.nan)
        base = float(bases[f"__b{i}"].iloc[0]) if bases is not None else np.nan
        out[f"mean_{c}"] = means
        out[f"median_{c}"] = per[f"__median{i}"].to_numpy(dtype=np.float64, na_value=np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            out[f"lift_{c}"] = means / base if base != 0 else np.full(q, np.nan)
    profile: pd.DataFrame = pd.DataFrame(out, index=pd.RangeIndex(q))
    return profile


def engine_decile_profiles(
    frame: Any,
    by: str,
    q: int,
    columns: Sequence[str] | None,
    categorical: Sequence[str] | None,
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """The per-group profile and level tables of an engine view, computed in the engine.

    Parameters
    ----------
    frame : polars, DuckDB, Dask or PySpark frame
        A customer view, one row per customer, ``customer_id`` a column.
    by : str
        The value column.
    q : int
        Number of groups.
    columns, categorical : sequence of str, optional
        As :func:`~crmkit.analysis.decile_profiles`.

    Returns
    -------
    profile : DataFrame
        One row per group (0 = top): the columns of
        :func:`~crmkit.segmentation.profile_segments` (``top_industries``
        when the view has ``industry``).
    tables : dict of str to DataFrame
        Per categorical column, customers per (group, level).

    Raises
    ------
    SchemaError
        As the pandas path: a missing or non-numeric column, missing values
        in ``by``, duplicate ids, fewer than ``q`` customers.

    Examples
    --------
    >>> import polars as pl
    >>> view = pl.DataFrame({"customer_id": [1, 2, 3, 4], "revenue": [1.0, 5.0, 5.0, 2.0],
    ...                      "size": ["s", "l", "l", "s"]})
    >>> profile, tables = engine_decile_profiles(view, "revenue", 2, None, None)
    >>> profile["n_customers"].tolist(), profile["mean_revenue"].tolist()
    ([2, 2], [5.0, 1.5])
    >>> tables["size"].to_dict("list")
    {'l': [2, 0], 's': [0, 2]}
    """
    owner = "decile_profiles"
    values, counts = engine_value_counts(frame, by, owner, "keep")
    n = int(counts.sum())
    if n < q:
        raise SchemaError(
            [
                SchemaFailure(
                    frame="view",
                    column=by,
                    check=f"has {n} customers; {owner} needs at least q={q}",
                )
            ]
        )
    f = to_narwhals(frame, owner, "view")
    numeric, cats = _columns(f, by, columns, categorical)
    g = f.with_columns(_group_expr(f, by, values, counts, q).alias("__g"))
    profile = _profile(g, f, by, numeric, n, q)
    tables = {c: _level_table(g, c, q) for c in cats}
    if "industry" in f.collect_schema():
        industry = tables["industry"] if "industry" in tables else _level_table(g, "industry", q)
        profile["top_industries"] = [_top_levels(industry.loc[i]) for i in range(q)]
    return profile, tables
