"""Profiling segments: size, value share, means, medians, lift, top industries."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from crmkit._params import Interval, validate_args
from crmkit.exceptions import DataWarning, SchemaError, SchemaFailure
from crmkit.plugins import validate_view

__all__ = ["profile_segments", "align_labels"]


def _label_order(labels: pd.Series) -> list[object]:
    present = pd.unique(labels.to_numpy())
    if isinstance(labels.dtype, pd.CategoricalDtype):
        seen = set(present.tolist())
        return [c for c in labels.cat.categories if c in seen]
    try:
        return sorted(present.tolist())
    except TypeError:
        return sorted(present.tolist(), key=str)


def align_labels(view: pd.DataFrame, labels: object, owner: str) -> pd.Series:
    """Align segment labels with a view's customers, or explain why not.

    Parameters
    ----------
    view : pandas.DataFrame
        Customer view.
    labels : object
        A Series of segment labels indexed by customer id (any order).
    owner : str
        Function name for messages.

    Returns
    -------
    pandas.Series
        ``labels`` in the order of ``view.index``.

    Raises
    ------
    SchemaError
        When ``labels`` is not a Series, has duplicate or missing ids, ids the
        view lacks, or missing labels.

    Examples
    --------
    >>> view = pd.DataFrame({"revenue": [1.0, 2.0]}, index=pd.Index(["a", "b"], name="customer_id"))
    >>> align_labels(view, pd.Series(["x", "y"], index=["b", "a"]), "demo").tolist()
    ['y', 'x']
    """
    if not isinstance(labels, pd.Series):
        raise SchemaError(
            [
                SchemaFailure(
                    frame="labels",
                    column="<frame>",
                    check=f"is not a pandas Series (got {type(labels).__name__}); "
                    f"{owner} needs labels indexed by customer id",
                )
            ]
        )
    failures = []
    if not labels.index.is_unique:
        dup = np.asarray(labels.index.duplicated(keep=False))
        failures.append(
            SchemaFailure(
                frame="labels",
                column="<index>",
                check="has duplicate customer ids",
                n_failing=int(dup.sum()),
                rows=tuple(labels.index[dup][:5].tolist()),
            )
        )
    else:
        missing = view.index.difference(labels.index, sort=False)
        if len(missing):
            failures.append(
                SchemaFailure(
                    frame="labels",
                    column="<index>",
                    check="lacks customers of the view",
                    n_failing=len(missing),
                    rows=tuple(missing[:5].tolist()),
                )
            )
        extra = labels.index.difference(view.index, sort=False)
        if len(extra):
            failures.append(
                SchemaFailure(
                    frame="labels",
                    column="<index>",
                    check="has customers the view lacks",
                    n_failing=len(extra),
                    rows=tuple(extra[:5].tolist()),
                )
            )
    na = labels.isna().to_numpy()
    if na.any():
        failures.append(
            SchemaFailure(
                frame="labels",
                column=str(labels.name),
                check="contains missing labels",
                n_failing=int(na.sum()),
                rows=tuple(labels.index[na][:5].tolist()),
            )
        )
    if failures:
        raise SchemaError(failures)
    return labels.reindex(view.index)


def _top_levels(values: pd.Series, top_n: int) -> str:
    counts = values.fillna("(missing)").astype(str).value_counts()
    counts = counts.sort_index(kind="stable").sort_values(ascending=False, kind="stable")
    share = counts / counts.sum()
    return "; ".join(f"{name} ({s:.0%})" for name, s in share.iloc[:top_n].items())


@validate_args({"top_n": [Interval("int", 1, None)]})
def profile_segments(
    view: pd.DataFrame,
    labels: pd.Series,
    *,
    value_column: str = "revenue",
    columns: Sequence[str] | None = None,
    industry_column: str = "industry",
    top_n: int = 3,
) -> pd.DataFrame:
    """Profile each segment against the whole customer base.

    For every segment present: its size and share of customers, its share
    of ``value_column`` (the 20/80 reading of a decile table), the mean and
    median of each numeric column, the lift of each mean over the whole base
    (segment mean / base mean) and, when the view has ``industry_column``,
    its most common industries.

    Parameters
    ----------
    view : pandas.DataFrame
        Customer view indexed by customer id.
    labels : pandas.Series
        Segment of each customer of ``view`` (indexed by customer id, any
        order), e.g. the output of a segmenter's ``assign``.
    value_column : str, default="revenue"
        Column whose shares are reported as ``value_share``; skipped when the
        view lacks it.
    columns : sequence of str or None, default=None
        Numeric columns to profile; None takes every numeric (and bool)
        column of the view.
    industry_column : str, default="industry"
        Categorical column summarised in ``top_industries``.
    top_n : int, default=3
        Industries listed per segment.

    Returns
    -------
    pandas.DataFrame
        One row per segment (in category order for categorical labels, else
        sorted), indexed by segment, with ``n_customers``, ``customer_share``,
        ``value_share``, then ``mean_<col>``, ``median_<col>`` and
        ``lift_<col>`` per column, then ``top_industries`` (e.g.
        ``"retail (40%); it (35%); services (25%)"``). Means and medians
        ignore missing values; they are NaN only for a segment with no value
        in that column, and a lift is NaN where the base mean is 0 or NaN.

    Raises
    ------
    InvalidParameterError
        When ``top_n`` is not an int >= 1.
    SchemaError
        When the labels do not match the view's customers one to one, hold
        missing labels, or ``columns`` are missing or not numeric.

    Warns
    -----
    DataWarning
        When the total of ``value_column`` is not positive (value shares
        are then NaN).

    Examples
    --------
    >>> view = pd.DataFrame(
    ...     {"revenue": [100.0, 300.0, 600.0], "industry": ["it", "retail", "retail"]},
    ...     index=pd.Index(["a", "b", "c"], name="customer_id"))
    >>> labels = pd.Series(["low", "high", "high"], index=view.index, name="segment")
    >>> profile = profile_segments(view, labels)
    >>> profile[["n_customers", "value_share", "lift_revenue", "top_industries"]]
             n_customers  value_share  lift_revenue top_industries
    segment
    high               2          0.9          1.35   retail (100%)
    low                1          0.1          0.30       it (100%)
    """
    validate_view(
        view,
        "profile_segments",
        required=columns or (),
        numeric=columns or (),
        nullable=columns or (),
    )
    aligned = align_labels(view, labels, "profile_segments")
    if columns is None:
        columns = [
            c
            for c in view.columns
            if pd.api.types.is_numeric_dtype(view[c].dtype) and isinstance(c, str)
        ]
    order = _label_order(aligned)
    key = pd.Categorical(aligned.to_numpy(), categories=order)
    codes = np.asarray(key.codes)
    n = len(order)
    counts = np.bincount(codes, minlength=n)
    out: dict[str, object] = {
        "n_customers": counts.astype(np.int64),
        "customer_share": counts / max(len(view), 1),
    }
    if value_column in view.columns and pd.api.types.is_numeric_dtype(view[value_column].dtype):
        values = view[value_column].to_numpy(dtype=np.float64, na_value=np.nan)
        sums = np.bincount(codes, weights=np.nan_to_num(values, nan=0.0), minlength=n)
        total = float(sums.sum())
        if total > 0:
            out["value_share"] = sums / total
        else:
            warnings.warn(
                f"profile_segments: the total of {value_column!r} is not positive; "
                "value shares are NaN",
                DataWarning,
                stacklevel=2,
            )
            out["value_share"] = np.full(n, np.nan)
    groups = pd.Series(codes, index=view.index)
    for col in columns:
        series = view[col].astype(np.float64)
        grouped = series.groupby(groups.to_numpy())
        means = grouped.mean().reindex(range(n)).to_numpy()
        medians = grouped.median().reindex(range(n)).to_numpy()
        base = float(series.mean())
        out[f"mean_{col}"] = means
        out[f"median_{col}"] = medians
        with np.errstate(divide="ignore", invalid="ignore"):
            out[f"lift_{col}"] = means / base if base != 0 else np.full(n, np.nan)
    if industry_column in view.columns:
        ind = view[industry_column]
        out["top_industries"] = [_top_levels(ind[codes == i], top_n) for i in range(n)]
    name = aligned.name if aligned.name is not None else "segment"
    result: pd.DataFrame = pd.DataFrame(out, index=pd.Index(order, name=name))
    return result
