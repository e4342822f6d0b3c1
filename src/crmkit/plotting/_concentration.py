"""Plots of value concentration: Pareto curve, Lorenz curve, decile bars."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from crmkit._checks import check_fraction
from crmkit.plotting._common import (
    ACCENT,
    ACTUAL,
    MUTED,
    PREDICTED,
    check_frame,
    get_ax,
    style_axes,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["plot_decile_bars", "plot_lorenz_curve", "plot_pareto_curve"]


def _values(data: Any, by: str, owner: str) -> Any:
    if isinstance(data, pd.DataFrame):
        check_frame(data, [by], owner, what="view")
        return data[by]
    return data


def plot_pareto_curve(
    data: Any,
    by: str = "revenue",
    *,
    mark: float = 0.2,
    negative: str = "clip",
    ax: Axes | None = None,
) -> Axes:
    """Cumulative share of value held by the top customers (the 20/80 curve).

    Customers are ranked from the highest value down; the curve gives, for
    each share of customers, the share of the total value they bring. The
    point at ``mark`` (20 % by default) is annotated: under the 20/80 rule
    it reads about 80 %.

    Parameters
    ----------
    data : DataFrame, Series, ndarray or list
        Customer view (the column ``by`` is read) or one value per customer.
    by : str, default="revenue"
        Value column of a view.
    mark : float, default=0.2
        Share of customers to annotate, in (0, 1).
    negative : {"clip", "raise"}, default="clip"
        Negative values (refunds, loss-makers) count as 0 (with a
        DataWarning) or are refused.
    ax : matplotlib Axes, optional
        Where to draw; default a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        First line: the curve (``n + 1`` points from (0, 0) to (1, 1));
        second: the diagonal of an even base.

    Raises
    ------
    SchemaError
        For a missing or non-numeric column, missing values, a total that is
        not positive, or negative values under ``negative="raise"``.
    InvalidParameterError
        For a bad ``mark`` or ``negative``.

    See Also
    --------
    crmkit.analysis.pareto_share : the number at the mark.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> ax = plot_pareto_curve([80.0, 5.0, 5.0, 5.0, 5.0], ax=Figure().subplots())
    >>> ax.lines[0].get_ydata().round(2).tolist()
    [0.0, 0.8, 0.85, 0.9, 0.95, 1.0]
    """
    from crmkit.analysis import lorenz_curve, pareto_share

    owner = "plot_pareto_curve"
    mark = check_fraction(mark, "mark", owner)
    values = _values(data, by, owner)
    lorenz = lorenz_curve(values, negative=negative)
    x = lorenz["customer_share"].to_numpy()
    y = 1.0 - lorenz["value_share"].to_numpy()[::-1]
    y[0] = 0.0
    share = pareto_share(values, customers=mark, negative=negative)
    ax = get_ax(ax, owner="plot_pareto_curve")
    ax.plot(x, y, color=ACTUAL, label="top customers' share of value")
    ax.plot([0.0, 1.0], [0.0, 1.0], color=MUTED, linestyle=":", label="even base")
    ax.plot([mark, mark, 0.0], [0.0, share, share], color=PREDICTED, linewidth=0.8, linestyle="--")
    ax.annotate(
        f"top {mark:.0%} bring {share:.0%}",
        (mark, share),
        xytext=(8, -14),
        textcoords="offset points",
        color=PREDICTED,
    )
    ax.set_xlim(0.0, 1.0)
    ax.set_ylim(0.0, 1.02)
    ax.set_xlabel("share of customers, highest value first")
    ax.set_ylabel("cumulative share of value")
    ax.set_title("Pareto curve")
    ax.legend(frameon=False, loc="lower right")
    style_axes(ax, grid="both")
    return ax


def plot_lorenz_curve(
    data: Any, by: str = "revenue", *, negative: str = "raise", ax: Axes | None = None
) -> Axes:
    """The Lorenz curve of customer value, with the Gini coefficient in the title.

    Parameters
    ----------
    data : DataFrame, Series, ndarray or list
        Customer view (the column ``by`` is read) or one value per customer.
    by : str, default="revenue"
        Value column of a view.
    negative : {"raise", "clip"}, default="raise"
        How negative values are handled (see :func:`crmkit.analysis.lorenz_curve`).
    ax : matplotlib Axes, optional
        Where to draw; default a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        First line: the Lorenz curve; second: the line of equality.

    Raises
    ------
    SchemaError
        For missing, non-numeric or negative values, or a zero total.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> ax = plot_lorenz_curve([1.0, 3.0], ax=Figure().subplots())
    >>> ax.lines[0].get_ydata().tolist(), ax.get_title()
    ([0.0, 0.25, 1.0], 'Lorenz curve (Gini 0.25)')
    """
    from crmkit.analysis import gini, lorenz_curve

    values = _values(data, by, "plot_lorenz_curve")
    lorenz = lorenz_curve(values, negative=negative)
    g = gini(values, negative=negative)
    x = lorenz["customer_share"].to_numpy()
    y = lorenz["value_share"].to_numpy()
    ax = get_ax(ax, owner="plot_lorenz_curve")
    ax.plot(x, y, color=ACTUAL, label="Lorenz curve")
    ax.plot([0.0, 1.0], [0.0, 1.0], color=MUTED, linestyle=":", label="equality")
    ax.fill_between(x, y, x, color=ACTUAL, alpha=0.12)
    ax.set_xlim(0.0, 1.0)
    ax.set_ylim(0.0, 1.0)
    ax.set_xlabel("share of customers, lowest value first")
    ax.set_ylabel("cumulative share of value")
    ax.set_title(f"Lorenz curve (Gini {g:.2f})")
    ax.legend(frameon=False, loc="upper left")
    style_axes(ax, grid="both")
    return ax


def plot_decile_bars(
    data: pd.DataFrame | pd.Series,
    by: str = "revenue",
    *,
    q: int = 10,
    ax: Axes | None = None,
) -> Axes:
    """Share of value per customer decile (bars) and the cumulative share (line).

    Parameters
    ----------
    data : DataFrame or Series
        A table from :func:`crmkit.analysis.pareto_table` (recognised by its
        ``value_share`` and ``cum_value_share`` columns), or a customer view
        / values from which one is computed with ``by`` and ``q``.
    by : str, default="revenue"
        Value column of a view.
    q : int, default=10
        Number of groups when the table is computed.
    ax : matplotlib Axes, optional
        Where to draw; default a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        One bar per group (heights: value shares, top group first) and one
        line (the cumulative shares).

    Raises
    ------
    SchemaError
        As :func:`crmkit.analysis.pareto_table`.
    InvalidParameterError
        For a bad ``q``.

    Examples
    --------
    >>> import pandas as pd
    >>> from matplotlib.figure import Figure
    >>> view = pd.DataFrame({"revenue": [500.0, 200.0, 100.0, 100.0, 50.0, 50.0]})
    >>> ax = plot_decile_bars(view, q=3, ax=Figure().subplots())
    >>> [round(float(p.get_height()), 2) for p in ax.patches], ax.lines[0].get_ydata().tolist()
    ([0.7, 0.2, 0.1], [0.7, 0.9, 1.0])
    """
    from crmkit.analysis import pareto_table

    is_table = isinstance(data, pd.DataFrame) and {"value_share", "cum_value_share"} <= set(
        data.columns
    )
    table = data if is_table else pareto_table(data, by=by, q=q)
    check_frame(table, ["value_share", "cum_value_share"], "plot_decile_bars", what="table")
    x = np.arange(1, len(table) + 1)
    shares = table["value_share"].to_numpy(dtype=np.float64)
    cum = table["cum_value_share"].to_numpy(dtype=np.float64)
    ax = get_ax(ax, owner="plot_decile_bars")
    bars = ax.bar(x, shares, color=ACTUAL, label="share of value")
    ax.bar_label(bars, labels=[f"{s:.0%}" for s in shares], fontsize=8, padding=2)
    ax.plot(x, cum, color=ACCENT, marker="o", label="cumulative share")
    ax.set_xticks(x, [str(v) for v in table.index])
    ax.set_xlabel(f"{table.index.name or 'group'} (1 = highest value)")
    ax.set_ylabel("share of value")
    ax.set_ylim(min(0.0, float(shares.min())), max(1.05, float(cum.max()) + 0.05))
    ax.set_title("Value by customer " + ("decile" if len(table) == 10 else "group"))
    ax.legend(frameon=False, loc="center right")
    style_axes(ax)
    return ax
