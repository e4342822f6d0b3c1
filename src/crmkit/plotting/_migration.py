"""Plots of migration between stages or segments: heat map and flow diagram."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from crmkit.exceptions import SchemaError, SchemaFailure
from crmkit.plotting._common import get_ax

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["migration_counts", "plot_migration_flow", "plot_migration_heatmap"]


def migration_counts(migration: Any, *, drop_empty: bool = True) -> pd.DataFrame:
    """The count matrix of a migration, checked (and optionally without empty rows/columns).

    Parameters
    ----------
    migration : StageMigration, SegmentMigration or DataFrame
        Anything with a ``counts`` table (rows: before, columns: after), or
        that table itself.
    drop_empty : bool, default=True
        Leave out rows and columns without customers.

    Returns
    -------
    DataFrame
        Non-negative integer counts.

    Raises
    ------
    SchemaError
        For a table that is not numeric, holds negative or missing counts, or
        has no customers.

    Examples
    --------
    >>> import pandas as pd
    >>> counts = pd.DataFrame([[3, 0], [0, 0]], index=["a", "b"], columns=["a", "c"])
    >>> migration_counts(counts)
       a
    a  3
    """
    counts = getattr(migration, "counts", migration)
    if not isinstance(counts, pd.DataFrame):
        raise SchemaError(
            [
                SchemaFailure(
                    frame="migration",
                    column="<frame>",
                    check="must be a StageMigration, "
                    "SegmentMigration or a DataFrame of counts; got "
                    f"{type(migration).__name__}",
                )
            ]
        )
    try:
        values = counts.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError):
        raise SchemaError(
            [SchemaFailure(frame="migration", column="counts", check="must be numeric")]
        ) from None
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        raise SchemaError(
            [
                SchemaFailure(
                    frame="migration",
                    column="counts",
                    check="must be finite counts >= 0",
                    n_failing=int(bad.sum()),
                )
            ]
        )
    if values.sum() <= 0:
        raise SchemaError(
            [SchemaFailure(frame="migration", column="counts", check="has no customers to draw")]
        )
    if np.array_equal(values, np.round(values)):
        values = values.astype(np.int64)
    out = pd.DataFrame(values, index=counts.index, columns=counts.columns)
    if drop_empty:
        out = out.loc[out.sum(axis=1) > 0, out.sum(axis=0) > 0]
    result: pd.DataFrame = out
    return result


def plot_migration_heatmap(
    migration: Any,
    *,
    normalize: bool = True,
    drop_empty: bool = True,
    ax: Axes | None = None,
) -> Axes:
    """Heat map of a migration matrix: from (rows) to (columns), counts in the cells.

    Parameters
    ----------
    migration : StageMigration, SegmentMigration or DataFrame
        From :func:`crmkit.lifecycle.stage_migration`,
        :func:`crmkit.segmentation.segment_migration` or a count table.
    normalize : bool, default=True
        Colour by the share of each row (where the customers of a stage went);
        False colours by counts.
    drop_empty : bool, default=True
        Leave out rows and columns without customers.
    ax : matplotlib Axes, optional
        Where to draw; default a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        The image holds the row shares (or counts); each cell is annotated
        with its count.

    Raises
    ------
    SchemaError
        See :func:`migration_counts`.

    Examples
    --------
    >>> import pandas as pd
    >>> from matplotlib.figure import Figure
    >>> counts = pd.DataFrame([[3, 1], [0, 4]], index=["a", "b"], columns=["a", "b"])
    >>> ax = plot_migration_heatmap(counts, ax=Figure().subplots())
    >>> ax.images[0].get_array().tolist()
    [[0.75, 0.25], [0.0, 1.0]]
    """
    counts = migration_counts(migration, drop_empty=drop_empty)
    values = counts.to_numpy()
    totals = values.sum(axis=1, keepdims=True)
    shown = values / np.where(totals > 0, totals, 1.0) if normalize else values
    size = (max(5.0, 0.8 * counts.shape[1] + 2.5), max(3.0, 0.5 * counts.shape[0] + 1.5))
    ax = get_ax(ax, figsize=size, owner="plot_migration_heatmap")
    image = ax.imshow(
        shown,
        cmap="Blues",
        aspect="auto",
        interpolation="nearest",
        vmin=0.0,
        vmax=1.0 if normalize else None,
    )
    ax.figure.colorbar(image, ax=ax, label="share of the row" if normalize else "customers")
    top = float(shown.max()) if shown.size else 1.0
    for (i, j), c in np.ndenumerate(values):
        colour = "white" if shown[i, j] > 0.6 * top else "black"
        ax.text(j, i, f"{int(c):,}", ha="center", va="center", fontsize=8, color=colour)
    ax.set_xticks(
        np.arange(counts.shape[1]), [str(c) for c in counts.columns], rotation=30, ha="right"
    )
    ax.set_yticks(np.arange(counts.shape[0]), [str(r) for r in counts.index])
    ax.set_xlabel("after")
    ax.set_ylabel("before")
    ax.set_title("Migration" + (" (row shares)" if normalize else ""))
    return ax


def _smoothstep(n: int) -> np.ndarray[Any, np.dtype[np.float64]]:
    u = np.linspace(0.0, 1.0, n)
    out: np.ndarray[Any, np.dtype[np.float64]] = u * u * (3.0 - 2.0 * u)
    return out


def plot_migration_flow(migration: Any, *, gap: float = 0.02, ax: Axes | None = None) -> Axes:
    """Flow diagram of a migration: stacked groups before (left) and after (right), bands between.

    Each band carries the customers who moved from one group to another;
    its width is their share of all customers.

    Parameters
    ----------
    migration : StageMigration, SegmentMigration or DataFrame
        From :func:`crmkit.lifecycle.stage_migration`,
        :func:`crmkit.segmentation.segment_migration` or a count table.
    gap : float, default=0.02
        Space between stacked groups, as a share of the height (0 <= gap < 0.2).
    ax : matplotlib Axes, optional
        Where to draw; default a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        One rectangle per non-empty group on each side (patches, heights =
        share of customers) and one band per non-empty cell (collections).

    Raises
    ------
    SchemaError
        See :func:`migration_counts`.
    InvalidParameterError
        For a bad ``gap``.

    Examples
    --------
    >>> import pandas as pd
    >>> from matplotlib.figure import Figure
    >>> counts = pd.DataFrame([[3, 1], [0, 4]], index=["a", "b"], columns=["a", "b"])
    >>> ax = plot_migration_flow(counts, ax=Figure().subplots())
    >>> len(ax.collections), [round(float(p.get_height()), 2) for p in ax.patches]
    (3, [0.49, 0.49, 0.37, 0.61])
    """
    from matplotlib.patches import Rectangle

    from crmkit._params import Interval, validate_params

    validate_params(
        "plot_migration_flow", {"gap": gap}, {"gap": [Interval("real", 0, 0.2, closed="left")]}
    )
    counts = migration_counts(migration, drop_empty=True)
    values = counts.to_numpy()
    total = float(values.sum())
    n_rows, n_cols = values.shape
    scale_left = (1.0 - gap * (n_rows - 1)) / total
    scale_right = (1.0 - gap * (n_cols - 1)) / total
    ax = get_ax(ax, figsize=(7.0, 4.5), owner="plot_migration_flow")
    from matplotlib import colormaps

    cmap = colormaps["tab10"]
    names = list(dict.fromkeys([*map(str, counts.index), *map(str, counts.columns)]))
    colour = {name: cmap(k % 10) for k, name in enumerate(names)}
    width = 0.06

    def blocks(totals: np.ndarray[Any, np.dtype[np.float64]], scale: float) -> list[float]:
        tops, y = [], 1.0
        for t in totals:
            tops.append(y)
            y -= t * scale + gap
        return tops

    left_tops = blocks(values.sum(axis=1), scale_left)
    right_tops = blocks(values.sum(axis=0), scale_right)
    for i, name in enumerate(counts.index):
        h = values[i].sum() * scale_left
        ax.add_patch(Rectangle((0.0, left_tops[i] - h), width, h, color=colour[str(name)]))
        ax.text(
            -0.01,
            left_tops[i] - h / 2,
            f"{name} ({int(values[i].sum()):,})",
            ha="right",
            va="center",
            fontsize=8,
        )
    for j, name in enumerate(counts.columns):
        h = values[:, j].sum() * scale_right
        ax.add_patch(Rectangle((1.0 - width, right_tops[j] - h), width, h, color=colour[str(name)]))
        ax.text(
            1.01,
            right_tops[j] - h / 2,
            f"{name} ({int(values[:, j].sum()):,})",
            ha="left",
            va="center",
            fontsize=8,
        )
    xs = np.linspace(width, 1.0 - width, 40)
    ease = _smoothstep(len(xs))
    left_used = list(left_tops)
    right_used = list(right_tops)
    for i in range(n_rows):
        for j in range(n_cols):
            c = values[i, j]
            if c <= 0:
                continue
            hl, hr = c * scale_left, c * scale_right
            top = left_used[i] + (right_used[j] - left_used[i]) * ease
            bottom = (left_used[i] - hl) + ((right_used[j] - hr) - (left_used[i] - hl)) * ease
            ax.fill_between(
                xs, bottom, top, color=colour[str(counts.index[i])], alpha=0.35, linewidth=0
            )
            left_used[i] -= hl
            right_used[j] -= hr
    ax.set_xlim(-0.35, 1.35)
    ax.set_ylim(-0.02, 1.02)
    ax.set_axis_off()
    ax.text(width / 2, 1.04, "before", ha="center", va="bottom", fontsize=9)
    ax.text(1.0 - width / 2, 1.04, "after", ha="center", va="bottom", fontsize=9)
    ax.set_title("Migration flow", pad=18)
    return ax
