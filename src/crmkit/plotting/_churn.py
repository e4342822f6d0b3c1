"""Plots of churn scores against what happened: lift by decile and the ROC curve."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from crmkit._checks import as_values
from crmkit.exceptions import SchemaError, SchemaFailure
from crmkit.plotting._common import (
    ACCENT,
    ACTUAL,
    MUTED,
    PREDICTED,
    F,
    check_int,
    get_ax,
    style_axes,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["churn_lift_table", "plot_churn_lift", "plot_churn_roc", "roc_points"]


def _align(index: pd.Index, labels: pd.Series) -> tuple[pd.Series, np.ndarray[Any, Any]]:
    """``labels`` in the order of ``index`` and the mask of ``index`` entries without one.

    Positional when the two indexes are equal; otherwise one ``get_indexer``
    (a hash of the labels' index), never ``isin`` plus ``reindex``.
    """
    if labels.index.equals(index):
        return labels, np.zeros(len(index), dtype=bool)
    if labels.index.is_unique:
        pos = labels.index.get_indexer(index)
        missing = pos < 0
        taken = labels.iloc[np.where(missing, 0, pos)] if len(labels) else labels.reindex(index)
        return pd.Series(taken.to_numpy(), index=index, name=labels.name), missing
    return labels.reindex(index), ~index.isin(labels.index)


def _scores_labels(scores: Any, labels: Any, owner: str) -> tuple[F, np.ndarray[Any, Any]]:
    if isinstance(scores, pd.DataFrame):
        if "churn_risk" not in scores.columns:
            raise SchemaError(
                [
                    SchemaFailure(
                        frame="scores", column="churn_risk", check=f"is missing (needed by {owner})"
                    )
                ]
            )
        scores = scores["churn_risk"]
    if isinstance(scores, pd.Series) and isinstance(labels, pd.Series):
        labels, missing = _align(scores.index, labels)
        if missing.any():
            raise SchemaError(
                [
                    SchemaFailure(
                        frame="labels",
                        column=str(labels.name),
                        check="has no label for some scored customers",
                        n_failing=int(missing.sum()),
                        rows=tuple(scores.index[missing][:5].tolist()),
                    )
                ]
            )
    s, _ = as_values(scores, owner)
    y_raw = np.asarray(labels.to_numpy() if isinstance(labels, pd.Series) else labels)
    ok = y_raw.ndim == 1 and len(y_raw) == len(s)
    if ok:
        y_obj = pd.Series(y_raw)
        ok = bool((y_obj.isin([0, 1, True, False]) & y_obj.notna()).all())
    if not ok:
        raise SchemaError(
            [
                SchemaFailure(
                    frame="labels",
                    column="<values>",
                    check=f"must be one 0/1 or bool label per score ({len(s)}), none missing",
                )
            ]
        )
    y = y_raw.astype(bool)
    if y.all() or not y.any():
        raise SchemaError(
            [
                SchemaFailure(
                    frame="labels",
                    column="<values>",
                    check=f"hold a single class; {owner} needs churned and retained customers",
                )
            ]
        )
    return s, y


def churn_lift_table(scores: Any, labels: Any, n_bins: int = 10) -> pd.DataFrame:
    """Churn rate and lift per score group, riskiest group first.

    Customers are ranked by score (highest first) and cut into ``n_bins``
    groups of (nearly) equal size; each group's churn rate over the base
    rate is its lift (2 = twice as many churners as a random pick).

    Parameters
    ----------
    scores : Series, ndarray, list or DataFrame
        Churn risk per customer (or a frame with ``churn_risk``).
    labels : Series, ndarray or list of bool or 0/1
        Whether each customer churned; Series are aligned on the index.
    n_bins : int, default=10
        Number of groups (<= number of customers).

    Returns
    -------
    DataFrame
        Index ``group`` (1 = riskiest): ``n_customers``, ``churners``,
        ``churn_rate``, ``lift``, ``cum_lift`` (lift of groups 1..k
        together) and ``capture`` (share of all churners in groups 1..k).

    Raises
    ------
    SchemaError
        For missing or invalid scores or labels, a single class, or fewer
        customers than groups.
    InvalidParameterError
        For a bad ``n_bins``.

    Examples
    --------
    >>> churn_lift_table([0.9, 0.8, 0.3, 0.1], [1, 1, 0, 0], n_bins=2)
           n_customers  churners  churn_rate  lift  cum_lift  capture
    group
    1                2         2         1.0   2.0       2.0      1.0
    2                2         0         0.0   0.0       1.0      1.0
    """
    from crmkit.analysis import rank_groups

    owner = "churn_lift_table"
    n_bins = check_int(n_bins, "n_bins", owner, low=1)
    s, y = _scores_labels(scores, labels, owner)
    if len(s) < n_bins:
        raise SchemaError(
            [
                SchemaFailure(
                    frame="scores",
                    column="<values>",
                    check=f"has {len(s)} customers; {owner} needs at least n_bins={n_bins}",
                )
            ]
        )
    group = rank_groups(s, n_bins)
    n = np.bincount(group, minlength=n_bins).astype(np.int64)
    churners = np.bincount(group, weights=y.astype(np.float64), minlength=n_bins)
    base = float(y.mean())
    rate = churners / n
    cum_rate = np.cumsum(churners) / np.cumsum(n)
    table: pd.DataFrame = pd.DataFrame(
        {
            "n_customers": n,
            "churners": churners.astype(np.int64),
            "churn_rate": rate,
            "lift": rate / base,
            "cum_lift": cum_rate / base,
            "capture": np.cumsum(churners) / churners.sum(),
        },
        index=pd.Index(np.arange(1, n_bins + 1), name="group"),
    )
    return table


def roc_points(scores: Any, labels: Any) -> pd.DataFrame:
    """The ROC curve: false and true positive rates at every distinct score threshold.

    Parameters
    ----------
    scores : Series, ndarray, list or DataFrame
        Churn risk per customer (or a frame with ``churn_risk``).
    labels : Series, ndarray or list of bool or 0/1
        Whether each customer churned.

    Returns
    -------
    DataFrame
        ``threshold``, ``fpr``, ``tpr``: from (0, 0) (threshold +inf) to
        (1, 1), one row per distinct score (ties move diagonally).

    Raises
    ------
    SchemaError
        For missing or invalid scores or labels, or a single class.

    Examples
    --------
    >>> roc_points([0.9, 0.8, 0.3, 0.1], [1, 0, 1, 0])[["fpr", "tpr"]].values.tolist()
    [[0.0, 0.0], [0.0, 0.5], [0.5, 0.5], [0.5, 1.0], [1.0, 1.0]]
    """
    s, y = _scores_labels(scores, labels, "roc_points")
    order = np.argsort(-s, kind="stable")
    s_sorted, y_sorted = s[order], y[order]
    last_of_tie = np.r_[np.flatnonzero(np.diff(s_sorted) != 0), len(s_sorted) - 1]
    tp = np.cumsum(y_sorted)[last_of_tie]
    fp = (last_of_tie + 1) - tp
    frame: pd.DataFrame = pd.DataFrame(
        {
            "threshold": np.r_[np.inf, s_sorted[last_of_tie]],
            "fpr": np.r_[0.0, fp / (~y).sum()],
            "tpr": np.r_[0.0, tp / y.sum()],
        }
    )
    return frame


def plot_churn_lift(scores: Any, labels: Any, *, n_bins: int = 10, ax: Axes | None = None) -> Axes:
    """Lift of each churn-score group (bars) and the cumulative lift (line).

    Parameters
    ----------
    scores : Series, ndarray, list or DataFrame
        Churn risk per customer (or a frame with ``churn_risk``).
    labels : Series, ndarray or list of bool or 0/1
        Whether each customer churned (e.g. in a holdout period).
    n_bins : int, default=10
        Number of groups.
    ax : matplotlib Axes, optional
        Where to draw; default a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        One bar per group (heights: lift), the cumulative-lift line and the
        base line at 1.

    Raises
    ------
    SchemaError
        See :func:`churn_lift_table`.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> ax = plot_churn_lift([0.9, 0.8, 0.3, 0.1], [1, 1, 0, 0], n_bins=2,
    ...                      ax=Figure().subplots())
    >>> [float(p.get_height()) for p in ax.patches]
    [2.0, 0.0]
    """
    table = churn_lift_table(scores, labels, n_bins=n_bins)
    x = table.index.to_numpy()
    ax = get_ax(ax, owner="plot_churn_lift")
    ax.bar(x, table["lift"].to_numpy(), color=ACTUAL, label="lift of the group")
    ax.plot(x, table["cum_lift"].to_numpy(), color=ACCENT, marker="o", label="cumulative lift")
    ax.axhline(1.0, color=MUTED, linestyle=":", label="random pick")
    ax.set_xticks(x, [str(v) for v in x])
    ax.set_xlabel("churn-score group (1 = highest risk)")
    ax.set_ylabel("churn rate / base rate")
    ax.set_title("Churn lift by score group")
    ax.legend(frameon=True, framealpha=0.9, edgecolor="none", loc="upper right")
    style_axes(ax)
    return ax


def plot_churn_roc(scores: Any, labels: Any, *, ax: Axes | None = None) -> Axes:
    """ROC curve of churn scores, with the area under it in the legend.

    Parameters
    ----------
    scores : Series, ndarray, list, DataFrame or dict
        Churn risk per customer (or a frame with ``churn_risk``); a dict of
        name to scores draws one curve per entry (to compare detectors).
    labels : Series, ndarray or list of bool or 0/1
        Whether each customer churned.
    ax : matplotlib Axes, optional
        Where to draw; default a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        One line per ROC curve (see :func:`roc_points`), then the chance
        diagonal.

    Raises
    ------
    SchemaError
        For missing or invalid scores or labels, or a single class.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> ax = plot_churn_roc([0.9, 0.8, 0.3, 0.1], [1, 0, 1, 0], ax=Figure().subplots())
    >>> ax.lines[0].get_label()
    'ROC (AUC 0.75)'
    """
    from crmkit.analysis import roc_auc

    curves = dict(scores) if isinstance(scores, dict) else {"ROC": scores}
    if not curves:
        raise SchemaError(
            [
                SchemaFailure(
                    frame="scores", column="<values>", check="is an empty dict: nothing to draw"
                )
            ]
        )
    ax = get_ax(ax, figsize=(4.8, 4.5), owner="plot_churn_roc")
    for k, (name, values) in enumerate(curves.items()):
        points = roc_points(values, labels)
        s, y = _scores_labels(values, labels, "plot_churn_roc")
        auc = roc_auc(s, y.astype(np.int64))
        ax.plot(
            points["fpr"].to_numpy(),
            points["tpr"].to_numpy(),
            color=(ACTUAL, PREDICTED, ACCENT)[k % 3],
            label=f"{name} (AUC {auc:.2f})",
        )
    ax.plot([0.0, 1.0], [0.0, 1.0], color=MUTED, linestyle=":", label="chance")
    ax.set_xlim(0.0, 1.0)
    ax.set_ylim(0.0, 1.0)
    ax.set_xlabel("false positive rate (retained customers flagged)")
    ax.set_ylabel("true positive rate (churners flagged)")
    ax.set_title("Churn ROC curve")
    ax.legend(frameon=False, loc="lower right")
    style_axes(ax, grid="both")
    return ax
