"""Plots of a purchase model against what happened: tracking and holdout checks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from crmkit._params import Interval, validate_args
from crmkit.exceptions import SchemaError, SchemaFailure
from crmkit.plotting._common import ACTUAL, MUTED, PREDICTED, check_frame, get_ax, style_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["plot_holdout_by_frequency", "plot_tracking"]


@validate_args(
    {"cumulative": [bool], "calibration_end": [None, Interval("real", None, None, finite=True)]}
)
def plot_tracking(
    tracking: pd.DataFrame,
    *,
    cumulative: bool = True,
    calibration_end: float | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Repeat purchases over time, actual vs predicted (cumulative or per period).

    Parameters
    ----------
    tracking : DataFrame
        As returned by :func:`crmkit.value.tracking_series`: indexed by time
        ``t``, with ``actual``, ``predicted``, ``actual_cumulative`` and
        ``predicted_cumulative``.
    cumulative : bool, default=True
        Plot the cumulated series (True) or the purchases per period.
    calibration_end : float, optional
        Time (same origin and unit as the index) where the calibration
        period ends; drawn as a vertical line.
    ax : matplotlib Axes, optional
        Where to draw; default a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        Two lines, ``actual`` then ``predicted``.

    Raises
    ------
    SchemaError
        For a frame without the columns, or a non-numeric index.
    InvalidParameterError
        For a non-bool ``cumulative`` or a non-finite ``calibration_end``.

    References
    ----------
    .. [1] Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005). "'Counting
       your customers' the easy way: an alternative to the Pareto/NBD
       model". Marketing Science 24(2), 275-284 (figures 2 and 3).

    Examples
    --------
    >>> import pandas as pd
    >>> from matplotlib.figure import Figure
    >>> tr = pd.DataFrame({"actual": [0.0, 2.0], "predicted": [1.0, 1.0],
    ...                    "actual_cumulative": [0.0, 2.0], "predicted_cumulative": [1.0, 2.0]},
    ...                   index=pd.Index([1.0, 2.0], name="t"))
    >>> ax = plot_tracking(tr, ax=Figure().subplots())
    >>> [line.get_ydata().tolist() for line in ax.lines]
    [[0.0, 2.0], [1.0, 2.0]]
    """
    owner = "plot_tracking"
    cols = ["actual_cumulative", "predicted_cumulative"] if cumulative else ["actual", "predicted"]
    check_frame(tracking, cols, owner, what="tracking")
    if not pd.api.types.is_numeric_dtype(tracking.index.dtype):
        raise SchemaError(
            [
                SchemaFailure(
                    frame="tracking",
                    column="<index>",
                    check=f"must be numeric times (t); got dtype {tracking.index.dtype}",
                )
            ]
        )
    t = tracking.index.to_numpy(dtype=np.float64)
    ax = get_ax(ax, figsize=(7.0, 3.8), owner="plot_tracking")
    ax.plot(t, tracking[cols[0]].to_numpy(dtype=np.float64), color=ACTUAL, label="actual")
    ax.plot(
        t,
        tracking[cols[1]].to_numpy(dtype=np.float64),
        color=PREDICTED,
        linestyle="--",
        label="predicted",
    )
    if calibration_end is not None:
        ax.axvline(float(calibration_end), color=MUTED, linestyle=":", label="end of calibration")
    name = tracking.index.name
    ax.set_xlabel(str(name) if name not in (None, "t") else "time")
    ax.set_ylabel("cumulative repeat purchases" if cumulative else "repeat purchases per period")
    ax.set_title(
        "Tracking: "
        + ("cumulative repeat purchases" if cumulative else "repeat purchases per period")
    )
    ax.legend(frameon=False)
    style_axes(ax, grid="both")
    return ax


def plot_holdout_by_frequency(evaluation: Any, *, ax: Axes | None = None) -> Axes:
    """Mean holdout purchases by calibration frequency: actual vs predicted.

    Fader, Hardie & Lee's conditional-expectations check: customers are
    grouped by how often they bought in the calibration period; for each
    group the mean number of purchases in the holdout is compared with the
    model's conditional expectation.

    Parameters
    ----------
    evaluation : HoldoutEvaluation or DataFrame
        The result of :func:`crmkit.value.evaluate_holdout`, or its
        ``by_frequency`` table (index: frequency groups; ``actual``,
        ``predicted``).
    ax : matplotlib Axes, optional
        Where to draw; default a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        Two lines, ``actual`` then ``predicted``, one point per group.

    Raises
    ------
    SchemaError
        For a table without ``actual``/``predicted``.

    Examples
    --------
    >>> import pandas as pd
    >>> from matplotlib.figure import Figure
    >>> table = pd.DataFrame({"n_customers": [5, 3], "actual": [0.2, 1.5],
    ...                       "predicted": [0.25, 1.4]},
    ...                      index=pd.Index(["0", "1+"], name="frequency"))
    >>> ax = plot_holdout_by_frequency(table, ax=Figure().subplots())
    >>> ax.lines[1].get_ydata().tolist()
    [0.25, 1.4]
    """
    table = getattr(evaluation, "by_frequency", evaluation)
    check_frame(table, ["actual", "predicted"], "plot_holdout_by_frequency", what="by_frequency")
    x = np.arange(len(table))
    ax = get_ax(ax, owner="plot_holdout_by_frequency")
    ax.plot(x, table["actual"].to_numpy(dtype=np.float64), marker="o", color=ACTUAL, label="actual")
    ax.plot(
        x,
        table["predicted"].to_numpy(dtype=np.float64),
        marker="s",
        linestyle="--",
        color=PREDICTED,
        label="predicted",
    )
    ax.set_xticks(x, [str(v) for v in table.index])
    ax.set_xlabel("repeat purchases in the calibration period")
    ax.set_ylabel("mean purchases in the holdout")
    ax.set_title("Holdout purchases by calibration frequency")
    ax.legend(frameon=False)
    style_axes(ax, grid="both")
    return ax
