"""Decile profiles: what unites the customers of each value decile, how deciles differ."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from crmkit.analysis._engine import is_engine_frame
from crmkit.analysis._inputs import check_int, rank_groups, view_values
from crmkit.analysis._profiles_engine import engine_decile_profiles
from crmkit.exceptions import SchemaError, SchemaFailure
from crmkit.segmentation import profile_segments

__all__ = ["decile_profiles"]

_MAX_LEVELS = 50


def _categorical_columns(view: pd.DataFrame, columns: Sequence[str] | None) -> list[str]:
    if columns is not None:
        missing = [c for c in columns if c not in view.columns]
        if missing:
            raise SchemaError(
                [
                    SchemaFailure(
                        frame="view", column=c, check="is missing (required by decile_profiles)"
                    )
                    for c in missing
                ]
            )
        return list(columns)
    out = []
    for c in view.columns:
        dtype = view[c].dtype
        if not isinstance(c, str) or pd.api.types.is_numeric_dtype(dtype):
            continue
        if pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype):
            continue
        if view[c].nunique(dropna=True) <= _MAX_LEVELS:
            out.append(c)
    return out


def _level_summaries(
    values: pd.Series, group: np.ndarray, q: int, min_count: int
) -> tuple[list[str], list[str]]:
    """Per group: the commonest level and the most over-represented one."""
    levels = values.astype(object).where(values.notna(), "(missing)").astype(str).to_numpy()
    return _summaries(pd.crosstab(group, levels).reindex(range(q), fill_value=0), q, min_count)


def _summaries(table: pd.DataFrame, q: int, min_count: int) -> tuple[list[str], list[str]]:
    """Per group (a row of customers per group x level): commonest, most over-represented."""
    base = table.sum(axis=0) / table.to_numpy().sum()
    top, over = [], []
    for g in range(q):
        row = table.loc[g]
        size = row.sum()
        share = row / size if size else row * 0.0
        ordered = share.sort_index(kind="stable").sort_values(ascending=False, kind="stable")
        top.append(f"{ordered.index[0]} ({ordered.iloc[0]:.0%})" if size else "")
        lift = (share / base)[row >= min_count]
        if size and len(lift):
            lift = lift.sort_index(kind="stable").sort_values(ascending=False, kind="stable")
            over.append(f"{lift.index[0]} ({lift.iloc[0]:.1f}x)")
        else:
            over.append("")
    return top, over


def decile_profiles(
    view: pd.DataFrame,
    by: str = "revenue",
    q: int = 10,
    *,
    columns: Sequence[str] | None = None,
    categorical: Sequence[str] | None = None,
    n_distinguishing: int = 3,
    min_count: int = 2,
) -> pd.DataFrame:
    """Profile the customers of each value decile: what unites them, how deciles differ.

    Customers are cut into ``q`` equal groups by ``by`` (1 = top; customers
    tied on ``by`` are ordered by customer id, so the groups never depend on
    row order) and each group is profiled with
    :func:`crmkit.segmentation.profile_segments` (size, value share, mean,
    median and lift of every numeric column, top industries). On top of that
    come the cumulative value share, for every categorical column its most
    common level (``top_<col>``) and its most over-represented level against
    the whole base (``over_<col>``, with the lift), and ``distinguishing``:
    the numeric columns whose decile mean is furthest (in ratio) from the
    base mean.

    Parameters
    ----------
    view : DataFrame
        Customer view indexed by customer id; a polars, DuckDB, Dask or
        Spark view (``customer_id`` a column) is profiled inside its engine:
        only the customer ids on the values a group boundary cuts through,
        one row of sums, means and medians per group and one row per
        (group, level) reach the driver. Counts, medians and texts equal the
        pandas result; sums and means to float precision (summed in another
        order).
    by : str, default="revenue"
        The value column (revenue, margin, clv ...). Profitability deciles:
        ``by="margin"``.
    q : int, default=10
        Number of groups.
    columns : sequence of str, optional
        Numeric columns to profile; default every numeric column.
    categorical : sequence of str, optional
        Categorical columns to summarise; default every non-numeric,
        non-date column with at most 50 levels.
    n_distinguishing : int, default=3
        How many columns ``distinguishing`` names.
    min_count : int, default=2
        Customers a level needs in a decile to be named over-represented.

    Returns
    -------
    DataFrame
        One row per group (index ``decile`` when ``q == 10``, else
        ``group``): the columns of
        :func:`~crmkit.segmentation.profile_segments`, then
        ``cum_value_share``, ``top_<col>`` and ``over_<col>`` per
        categorical column and ``distinguishing`` (e.g. ``"frequency
        x3.1; n_products x1.9; days_since_last x0.40"``).

    Raises
    ------
    SchemaError
        For a missing or non-numeric ``by`` or listed column, missing values
        in ``by``, or fewer than ``q`` customers.
    InvalidParameterError
        For a bad ``q``, ``n_distinguishing`` or ``min_count``.

    See Also
    --------
    pareto_table : the value shares alone.

    Examples
    --------
    >>> from crmkit.testing import make_customer_view
    >>> view = make_customer_view(200, seed=4)
    >>> prof = decile_profiles(view, by="revenue", q=5)
    >>> prof["n_customers"].tolist()
    [40, 40, 40, 40, 40]
    >>> bool(prof["mean_revenue"].is_monotonic_decreasing)
    True
    >>> "over_size_class" in prof.columns and "distinguishing" in prof.columns
    True
    """
    owner = "decile_profiles"
    q = check_int(q, "q", owner)
    n_distinguishing = check_int(n_distinguishing, "n_distinguishing", owner, low=0)
    min_count = check_int(min_count, "min_count", owner)
    name = "decile" if q == 10 else "group"
    if is_engine_frame(view):
        profile, tables = engine_decile_profiles(view, by, q, columns, categorical)
        profile.index = pd.Index(np.arange(1, q + 1), name=name)
        summaries = {c: _summaries(t, q, min_count) for c, t in tables.items()}
        return _finish(profile, by, q, summaries, n_distinguishing)
    if not isinstance(view, pd.DataFrame):
        raise SchemaError(
            [
                SchemaFailure(
                    frame="view",
                    column="<frame>",
                    check=f"is a {type(view).__name__}; {owner} needs a customer view DataFrame",
                )
            ]
        )
    x, _ = view_values(view, by, owner)
    if len(x) < q:
        raise SchemaError(
            [
                SchemaFailure(
                    frame="view",
                    column=by,
                    check=f"has {len(x)} customers; {owner} needs at least q={q}",
                )
            ]
        )
    cats = _categorical_columns(view, categorical)
    group = rank_groups(x, q, ties=view.index)
    labels = pd.Series(group + 1, index=view.index, name=name)
    profile = profile_segments(view, labels, value_column=by, columns=columns)
    profile = profile.reindex(pd.Index(np.arange(1, q + 1), name=name))
    summaries = {c: _level_summaries(view[c], group, q, min_count) for c in cats}
    return _finish(profile, by, q, summaries, n_distinguishing)


def _finish(
    profile: pd.DataFrame,
    by: str,
    q: int,
    summaries: dict[str, tuple[list[str], list[str]]],
    n_distinguishing: int,
) -> pd.DataFrame:
    """Add the cumulative value share, the level summaries and the distinguishing columns."""
    if "value_share" in profile.columns:
        profile["cum_value_share"] = profile["value_share"].cumsum()
    for c, (top, over) in summaries.items():
        profile[f"top_{c}"] = top
        profile[f"over_{c}"] = over
    lift_cols = [c for c in profile.columns if c.startswith("lift_") and c != f"lift_{by}"]
    notes = []
    for g in range(q):
        lifts = profile.iloc[g][lift_cols].astype(np.float64)
        lifts = lifts[np.isfinite(lifts.to_numpy()) & (lifts.to_numpy() > 0)]
        far = np.abs(np.log(lifts.to_numpy()))
        order = np.argsort(-far, kind="stable")[:n_distinguishing]
        notes.append(
            "; ".join(f"{lifts.index[i][5:]} x{lifts.iloc[i]:.2g}" for i in order if far[i] > 0)
        )
    profile["distinguishing"] = notes
    result: pd.DataFrame = profile
    return result
