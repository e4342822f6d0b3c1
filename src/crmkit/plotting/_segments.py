"""Plots of segments (and stages or portfolios): profiles and sizes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from crmkit.exceptions import SchemaError, SchemaFailure
from crmkit.plotting._common import ACCENT, ACTUAL, check_frame, get_ax, style_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["plot_segment_profiles", "plot_segment_sizes"]


def plot_segment_profiles(
    profile: Any,
    columns: Sequence[str] | None = None,
    *,
    annotate: bool = True,
    ax: Axes | None = None,
) -> Axes:
    """Heat map of segment profiles: each segment's mean of a column over the base mean.

    A lift of 2 means the segment's customers have twice the base's mean
    of that column; 0.5 half. Colours are on a log scale centred on 1, so
    above- and below-average segments read symmetrically.

    Parameters
    ----------
    profile : DataFrame
        As returned by :func:`crmkit.segmentation.profile_segments` or
        :func:`crmkit.analysis.decile_profiles`: one row per segment with
        ``lift_<col>`` columns.
    columns : sequence of str, optional
        The profiled columns to show (without the ``lift_`` prefix);
        default all of them.
    annotate : bool, default=True
        Write each lift in its cell.
    ax : matplotlib Axes, optional
        Where to draw; default a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        The image holds the lifts, shape ``(n_segments, n_columns)`` (NaN
        where a lift is undefined).

    Raises
    ------
    SchemaError
        When the profile has no ``lift_`` columns or lacks a requested one.

    Examples
    --------
    >>> import pandas as pd
    >>> from matplotlib.figure import Figure
    >>> prof = pd.DataFrame({"n_customers": [2, 1], "lift_revenue": [1.35, 0.3],
    ...                      "lift_frequency": [1.2, 0.6]},
    ...                     index=pd.Index(["high", "low"], name="segment"))
    >>> ax = plot_segment_profiles(prof, ax=Figure().subplots())
    >>> ax.images[0].get_array().tolist()
    [[1.35, 1.2], [0.3, 0.6]]
    """
    owner = "plot_segment_profiles"
    if not isinstance(profile, pd.DataFrame):
        check_frame(profile, [], owner, what="profile")
    available = [str(c)[5:] for c in profile.columns if str(c).startswith("lift_")]
    if columns is None:
        if not available:
            raise SchemaError(
                [
                    SchemaFailure(
                        frame="profile",
                        column="lift_*",
                        check="has no lift columns: pass the output of profile_segments",
                    )
                ]
            )
        columns = available
    names = [f"lift_{c}" for c in columns]
    check_frame(profile, names, owner, what="profile")
    lifts = profile[names].to_numpy(dtype=np.float64, na_value=np.nan)
    finite = lifts[np.isfinite(lifts) & (lifts > 0)]
    span = float(np.max(np.abs(np.log(finite)))) if finite.size else 1.0
    span = max(span, 0.1)
    from matplotlib.colors import LogNorm

    size = (max(5.0, 0.9 * len(names) + 2.5), max(2.5, 0.45 * len(profile) + 1.5))
    ax = get_ax(ax, figsize=size, owner="plot_segment_profiles")
    safe = np.where(np.isfinite(lifts) & (lifts > 0), lifts, np.nan)
    image = ax.imshow(
        safe,
        cmap="RdBu_r",
        aspect="auto",
        interpolation="nearest",
        norm=LogNorm(vmin=float(np.exp(-span)), vmax=float(np.exp(span))),
    )
    ax.figure.colorbar(image, ax=ax, label="lift over the base mean")
    ax.set_xticks(np.arange(len(names)), list(columns), rotation=40, ha="right")
    ax.set_yticks(np.arange(len(profile)), [str(s) for s in profile.index])
    if annotate:
        for (i, j), v in np.ndenumerate(lifts):
            text = "–" if not np.isfinite(v) else f"{v:.2f}"
            ax.text(j, i, text, ha="center", va="center", fontsize=8)
    ax.set_title("Segment profiles (lift over the base)")
    return ax


def plot_segment_sizes(
    labels: pd.Series,
    values: pd.Series | None = None,
    *,
    order: Sequence[Any] | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Customers per segment (or stage, or portfolio) and, optionally, their share of value.

    Parameters
    ----------
    labels : Series
        The segment of each customer (indexed by customer id).
    values : Series, optional
        A value per customer (revenue, clv ...), aligned on the index; its
        share per segment is drawn as a second bar.
    order : sequence, optional
        Segments in drawing order; default the categories of a categorical
        ``labels`` (empty ones included), else by size.
    ax : matplotlib Axes, optional
        Where to draw; default a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        Bar containers: the share of customers per segment, then (with
        ``values``) the share of value.

    Raises
    ------
    SchemaError
        For labels that are not a Series, missing labels, or values that do
        not cover every customer or are not numeric.

    Examples
    --------
    >>> import pandas as pd
    >>> from matplotlib.figure import Figure
    >>> labels = pd.Series(["A", "B", "B", "C"], index=[1, 2, 3, 4])
    >>> revenue = pd.Series([70.0, 10.0, 10.0, 10.0], index=[1, 2, 3, 4])
    >>> ax = plot_segment_sizes(labels, revenue, order=["A", "B", "C"],
    ...                         ax=Figure().subplots())
    >>> [[round(float(b.get_height()), 2) for b in c] for c in ax.containers]
    [[0.25, 0.5, 0.25], [0.7, 0.2, 0.1]]
    """
    owner = "plot_segment_sizes"
    if not isinstance(labels, pd.Series):
        raise SchemaError(
            [
                SchemaFailure(
                    frame="labels",
                    column="<frame>",
                    check=f"must be a pandas Series for {owner}; got {type(labels).__name__}",
                )
            ]
        )
    missing = labels.isna().to_numpy()
    if missing.any():
        raise SchemaError(
            [
                SchemaFailure(
                    frame="labels",
                    column=str(labels.name),
                    check="contains missing labels",
                    n_failing=int(missing.sum()),
                    rows=tuple(labels.index[missing][:5].tolist()),
                )
            ]
        )
    counts = labels.value_counts(sort=True)
    if order is None:
        if isinstance(labels.dtype, pd.CategoricalDtype):
            order = list(labels.cat.categories)
        else:
            order = list(counts.index)
    levels = pd.Index(list(order), dtype=object)
    counts = counts.reindex(levels, fill_value=0)
    n = max(int(counts.sum()), 1)
    x = np.arange(len(levels))
    with_values = values is not None
    width = 0.4 if with_values else 0.7
    ax = get_ax(ax, owner="plot_segment_sizes")
    bars = ax.bar(
        x - (width / 2 if with_values else 0.0),
        counts.to_numpy() / n,
        width,
        color=ACTUAL,
        label="share of customers",
    )
    ax.bar_label(bars, labels=[f"{c:,}" for c in counts.to_numpy()], fontsize=8, padding=2)
    if values is not None:
        frame = check_frame(pd.DataFrame({"value": values}), ["value"], owner, what="values")
        aligned = frame["value"].reindex(labels.index)
        lost = aligned.isna().to_numpy()
        if lost.any():
            raise SchemaError(
                [
                    SchemaFailure(
                        frame="values",
                        column=str(values.name),
                        check="has no value for some labelled customers",
                        n_failing=int(lost.sum()),
                        rows=tuple(labels.index[lost][:5].tolist()),
                    )
                ]
            )
        sums = aligned.groupby(labels.to_numpy(), sort=False).sum().reindex(levels, fill_value=0)
        total = float(sums.sum())
        share = sums.to_numpy(dtype=np.float64) / total if total != 0 else np.zeros(len(levels))
        ax.bar(
            x + width / 2, share, width, color=ACCENT, label=f"share of {values.name or 'value'}"
        )
    ax.set_xticks(x, [str(o) for o in levels])
    ax.set_ylabel("share")
    ax.set_title(
        "Customers" + (" and value" if with_values else "") + " by " + str(labels.name or "segment")
    )
    ax.legend(frameon=False)
    style_axes(ax)
    return ax
