"""Plot of the customer pulse: a rolling CX metric with its interval and drop alarms."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from crmkit.exceptions import SchemaError, SchemaFailure
from crmkit.plotting._common import ACTUAL, MUTED, PREDICTED, check_frame, get_ax, style_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["plot_nps_pulse"]

_LABELS = {"nps": "NPS (points)", "csat": "CSAT (% satisfied)", "ces": "CES (mean, 1-7)"}


def plot_nps_pulse(pulse: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """The customer pulse over time: the metric, its interval and significant drops.

    Parameters
    ----------
    pulse : DataFrame
        As returned by :func:`crmkit.loyalty.cx_pulse`: indexed by date, with
        ``value``, ``low`` and ``high`` (and ``significant_drop``; its
        ``attrs["metric"]`` names the metric, NPS by default).
    ax : matplotlib Axes, optional
        Where to draw; default a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        First line: the metric; the interval as a shaded band; significant
        drops as markers (a second line, present only when there are drops).

    Raises
    ------
    SchemaError
        For a frame without the columns or a non-date index.

    Examples
    --------
    >>> import pandas as pd
    >>> from matplotlib.figure import Figure
    >>> pulse = pd.DataFrame({"value": [40.0, 10.0], "low": [30.0, 0.0], "high": [50.0, 20.0],
    ...                       "significant_drop": [False, True]},
    ...                      index=pd.DatetimeIndex(["2024-01-31", "2024-02-29"], name="date"))
    >>> ax = plot_nps_pulse(pulse, ax=Figure().subplots())
    >>> ax.lines[0].get_ydata().tolist(), ax.lines[1].get_ydata().tolist()
    ([40.0, 10.0], [10.0])
    """
    owner = "plot_nps_pulse"
    check_frame(pulse, ["value", "low", "high"], owner, what="pulse")
    if not isinstance(pulse.index, pd.DatetimeIndex):
        raise SchemaError(
            [
                SchemaFailure(
                    frame="pulse",
                    column="<index>",
                    check="must be a DatetimeIndex (the output of cx_pulse)",
                )
            ]
        )
    metric = str(pulse.attrs.get("metric", "nps"))
    dates = pulse.index.to_numpy()
    value = pulse["value"].to_numpy(dtype=np.float64, na_value=np.nan)
    ax = get_ax(ax, figsize=(7.0, 3.5), owner="plot_nps_pulse")
    ax.plot(dates, value, color=ACTUAL, marker=".", label=metric.upper())
    ax.fill_between(
        dates,
        pulse["low"].to_numpy(dtype=np.float64, na_value=np.nan),
        pulse["high"].to_numpy(dtype=np.float64, na_value=np.nan),
        color=ACTUAL,
        alpha=0.15,
        linewidth=0,
        label="confidence interval",
    )
    if "significant_drop" in pulse.columns:
        drop = pulse["significant_drop"].fillna(False).to_numpy(dtype=bool)
        if drop.any():
            ax.plot(
                dates[drop],
                value[drop],
                linestyle="none",
                marker="v",
                markersize=9,
                color=PREDICTED,
                label="significant drop",
            )
    if metric == "nps":
        ax.axhline(0.0, color=MUTED, linewidth=0.8)
    window = pulse.attrs.get("window_days")
    ax.set_ylabel(_LABELS.get(metric, metric))
    ax.set_title("Customer pulse" + (f" ({window}-day window)" if window else ""))
    ax.legend(frameon=False, loc="best")
    ax.figure.autofmt_xdate()
    style_axes(ax, grid="both")
    return ax
