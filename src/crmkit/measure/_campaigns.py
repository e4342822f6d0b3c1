"""Campaign reports: results per campaign, action, segment and customer, and against goals.

Seed 004: measure per customer, action, campaign and profile, and evaluate
every action against its goals. The tables sum the exposures of
:func:`crmkit.measure.campaign_exposures`.
"""

from __future__ import annotations

import warnings
from typing import Any

import attrs
import numpy as np
import pandas as pd

from crmkit._params import COLUMN_NAME, Options, instance_of, validate_params
from crmkit.data import CustomerData
from crmkit.exceptions import DataWarning
from crmkit.measure._exposures import (
    MARGIN,
    WINDOW,
    Exposures,
    campaign_exposures,
    campaign_records,
)
from crmkit.measure._inputs import as_data, fail, first_labels

__all__ = ["GOAL_BASES", "CampaignReport", "campaign_report", "summarise"]


@attrs.frozen(kw_only=True, eq=False)
class CampaignReport:
    """Campaign results per campaign, action, segment and customer, and against goals.

    Every table has, per group of treatment customers: ``n_touched``,
    ``n_responders`` (bought in the window), ``conversion_rate``,
    ``n_purchases``, ``revenue``, ``revenue_per_customer``, ``margin`` (when
    known), ``cost``, ``roi`` = (value - cost) / cost with value the margin
    when known and the revenue otherwise; and, from the control customers of
    the same group: ``n_control``, ``control_conversion_rate``,
    ``control_revenue_per_customer``, ``incremental_conversions`` =
    (rate - control rate) x n_touched, ``incremental_revenue``,
    ``incremental_margin`` (when known) and ``incremental_roi``.

    Missing values are documented, never silent: ``cost`` is NaN when no
    cost is known (no touch cost, no campaign cost); ``roi`` when the cost is
    unknown or 0; the control columns when the group has no control
    customers; ``margin`` when some transaction in a window has no cost.

    Parameters
    ----------
    campaigns : DataFrame
        One row per campaign (index ``campaign_id``): ``name``, ``start``,
        ``end`` (when the campaign records have them), ``window_start``,
        ``window_end`` (earliest and latest response-window days),
        ``complete`` (the last window ends on or before ``as_of``),
        ``cost_source`` (``"campaign"``, ``"touches"`` or ``"unknown"``) and
        the metrics above. The cost is the campaign record's when given.
    by_action : DataFrame
        One row per (``campaign_id``, ``action``); a customer touched with
        two actions counts (its response too) for both, with the cost of
        each action's own touches (the allocated campaign cost when the
        touches carry none).
    by_segment : DataFrame or None
        One row per (``campaign_id``, ``segment``) when ``by`` was given.
    by_customer : DataFrame
        The exposures (see :class:`Exposures`), plus ``segment`` with ``by``.
    goals : DataFrame
        One row per campaign and goal given (``goal_conversions``,
        ``goal_revenue``): ``campaign_id``, ``metric`` (``"conversions"``
        or ``"revenue"``), ``basis`` (``"incremental"`` or ``"gross"``, see
        ``goal_basis`` of :func:`campaign_report`), ``goal``, ``actual``
        (the incremental conversions or revenue over the control group, or
        the responders or revenue of the treatment customers), ``gross``
        (the latter, always), ``difference`` (actual - goal),
        ``attainment`` (actual / goal; NaN for a goal of 0) and ``met``.
    value_basis : {"margin", "revenue"}
        What ROI is computed on.
    window : str
        ``"campaign"`` or ``"<n> days"``.
    segment_name : str or None
        The name of the ``by`` labels.

    Examples
    --------
    See :func:`campaign_report`.
    """

    campaigns: pd.DataFrame
    by_action: pd.DataFrame
    by_segment: pd.DataFrame | None
    by_customer: pd.DataFrame
    goals: pd.DataFrame
    value_basis: str
    window: str
    segment_name: str | None = None


# ---------------------------------------------------------------- exposures
def _group_sums(frame: pd.DataFrame, keys: list[str], cols: list[str]) -> pd.DataFrame:
    """Per group: ``n`` (rows) and the sums of ``cols`` (NaN when a value is NaN)."""
    nums = frame[cols].astype(np.float64)
    by = [frame[k] for k in keys]
    total = nums.groupby(by, sort=True, observed=True).sum()
    unknown = nums.isna().groupby(by, sort=True, observed=True).any()
    out: pd.DataFrame = total.where(~unknown)
    out["n"] = frame.groupby(by, sort=True, observed=True).size().astype(np.float64)
    return out


def _ratio(num: pd.Series, den: pd.Series) -> pd.Series:
    den = den.astype(np.float64)
    out: pd.Series = num.astype(np.float64) / den.where(den > 0)
    return out


def summarise(table: pd.DataFrame, keys: list[str], basis: str) -> pd.DataFrame:
    """Campaign metrics of exposures grouped by ``keys`` (see :class:`CampaignReport`).

    Parameters
    ----------
    table : DataFrame
        Exposures (:attr:`Exposures.table`), possibly with more key columns.
    keys : list of str
        Grouping columns.
    basis : {"margin", "revenue"}
        The value ROI is computed on.

    Returns
    -------
    DataFrame
        Indexed by ``keys``; one row per group with treatment customers.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"campaign_id": ["K"] * 4, "group": ["treatment"] * 2 + ["control"] * 2,
    ...                   "converted": [True, True, True, False], "n_purchases": [1, 2, 1, 0],
    ...                   "revenue": [10.0, 30.0, 10.0, 0.0], "cost": [5.0, 5.0, 0.0, 0.0]})
    >>> s = summarise(t, ["campaign_id"], "revenue")
    >>> s[["conversion_rate", "roi", "incremental_conversions", "incremental_roi"]]
                 conversion_rate  roi  incremental_conversions  incremental_roi
    campaign_id
    K                        1.0  3.0                      1.0              2.0
    """
    is_treat = (table["group"] == "treatment").to_numpy()
    is_ctrl = (table["group"] == "control").to_numpy()
    values = ["revenue", "margin"] if basis == "margin" else ["revenue"]
    cols = ["converted", "n_purchases", *values, "cost"]
    t = _group_sums(table.loc[is_treat], keys, cols)
    c = _group_sums(table.loc[is_ctrl], keys, cols).reindex(t.index)
    n_t, n_c = t["n"], c["n"].fillna(0.0)
    out: pd.DataFrame = pd.DataFrame(
        {"n_touched": n_t.astype(np.int64), "n_responders": t["converted"].astype(np.int64)},
        index=t.index,
    )
    out["conversion_rate"] = _ratio(t["converted"], n_t)
    out["n_purchases"] = t["n_purchases"].astype(np.int64)
    out["revenue"] = t["revenue"]
    out["revenue_per_customer"] = _ratio(t["revenue"], n_t)
    if basis == "margin":
        out["margin"] = t["margin"]
    out["cost"] = t["cost"]
    out["roi"] = _ratio(t[basis] - t["cost"], t["cost"])
    out["n_control"] = n_c.astype(np.int64)
    out["control_conversion_rate"] = _ratio(c["converted"], n_c)
    out["control_revenue_per_customer"] = _ratio(c["revenue"], n_c)
    out["incremental_conversions"] = (out["conversion_rate"] - out["control_conversion_rate"]) * n_t
    for name in values:
        out[f"incremental_{name}"] = t[name] - _ratio(c[name], n_c) * n_t
    out["incremental_roi"] = _ratio(out[f"incremental_{basis}"] - t["cost"], t["cost"])
    return out


def _segment_labels(
    data: CustomerData, by: Any, view: pd.DataFrame | None, customers: pd.Series
) -> tuple[np.ndarray[Any, np.dtype[np.object_]], str]:
    if isinstance(by, str):
        if view is not None:
            source, where = view, "view"
        else:
            recs = data.get("customers")
            source = (
                recs.drop_duplicates("customer_id", keep="last").set_index("customer_id")
                if recs is not None
                else pd.DataFrame()
            )
            where = "customers"
        if by not in source.columns:
            avail = ", ".join(map(str, list(source.columns)[:15])) or "none"
            raise fail(
                where,
                by,
                f"is missing: cannot segment by it (columns present: "
                f"{avail}); pass view=<customer view> or the labels as a Series",
            )
        labels, name = source[by], by
    else:
        dup = by.index.duplicated()
        if dup.any():
            raise fail(
                "by",
                "<index>",
                "repeats customer ids",
                first_labels(by.index, dup),
                n=int(dup.sum()),
            )
        labels, name = by, str(by.name) if by.name is not None else "segment"
    mapped = labels.astype(object).reindex(pd.Index(customers.unique()))
    missing = mapped.isna().to_numpy()
    if missing.any():
        warnings.warn(
            f"crmkit: {int(missing.sum())} touched customers have no {name!r} "
            f"label (first {first_labels(mapped.index, missing)}); they are grouped "
            "as '(missing)'",
            DataWarning,
            stacklevel=3,
        )
    filled = mapped.where(~mapped.isna(), "(missing)")
    out: np.ndarray[Any, np.dtype[np.object_]] = customers.map(filled).to_numpy(dtype=object)
    return out, name


def _campaign_table(ex: Exposures, camp: pd.DataFrame | None, as_of: pd.Timestamp) -> pd.DataFrame:
    table = ex.table
    summary = summarise(table, ["campaign_id"], ex.value_basis)
    g = table.groupby("campaign_id", sort=True)
    info = pd.DataFrame(index=summary.index)
    has = camp if camp is not None else pd.DataFrame()
    names = summary.index.to_series().map(has["name"]) if "name" in has.columns else None
    info["name"] = (
        names.fillna(summary.index.to_series().astype(str))
        if names is not None
        else summary.index.astype(str)
    )
    for col in ("start", "end"):
        if col in has.columns:
            info[col] = summary.index.to_series().map(has[col])
    info["window_start"] = g["window_start"].min().reindex(summary.index)
    info["window_end"] = g["window_end"].max().reindex(summary.index)
    info["complete"] = info["window_end"] <= as_of
    source = pd.Series(
        np.where(summary["cost"].notna(), "touches", "unknown"), index=summary.index, dtype=object
    )
    if "cost" in has.columns:
        given = summary.index.to_series().map(has["cost"]).astype(np.float64)
        known = given.notna()
        summary.loc[known, "cost"] = given[known]
        source[known] = "campaign"
        value = summary[ex.value_basis]
        summary["roi"] = _ratio(value - summary["cost"], summary["cost"])
        inc = summary[f"incremental_{ex.value_basis}"]
        summary["incremental_roi"] = _ratio(inc - summary["cost"], summary["cost"])
    info["cost_source"] = source
    late = ~info["complete"].to_numpy(dtype=bool)
    if late.any():
        warnings.warn(
            f"crmkit: the response windows of campaign(s) "
            f"{first_labels(info.index, late)} end after as_of={as_of.date()}: their "
            "results are incomplete (build the data with a later as_of)",
            DataWarning,
            stacklevel=3,
        )
    joined: pd.DataFrame = info.join(summary)
    return joined


_GOAL_COLUMNS = ("goal", "actual", "gross", "difference", "attainment")

#: Goal bases of :func:`campaign_report`.
GOAL_BASES = ("auto", "incremental", "gross")


def _goal_actuals(
    campaigns: pd.DataFrame, gross_col: str, inc_col: str, basis: str
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Gross and evaluated actual of each campaign, and the basis used."""
    gross = campaigns[gross_col].astype(np.float64)
    incremental = campaigns[inc_col].astype(np.float64)
    has_control = (campaigns["n_control"] > 0) & incremental.notna()
    use_inc = has_control if basis == "auto" else pd.Series(basis == "incremental",
                                                             index=campaigns.index)
    actual = incremental.where(use_inc, gross)
    label = pd.Series(np.where(use_inc, "incremental", "gross"), index=campaigns.index,
                      dtype=object)
    return gross, actual, label


def _goals(campaigns: pd.DataFrame, camp: pd.DataFrame | None, basis: str) -> pd.DataFrame:
    rows: list[pd.DataFrame] = []
    for metric, goal_col, gross_col, inc_col in (
        ("conversions", "goal_conversions", "n_responders", "incremental_conversions"),
        ("revenue", "goal_revenue", "revenue", "incremental_revenue"),
    ):
        if camp is None or goal_col not in camp.columns:
            continue
        goal = campaigns.index.to_series().map(camp[goal_col]).astype(np.float64)
        keep = goal.notna().to_numpy()
        if not keep.any():
            continue
        gross, actual, label = _goal_actuals(campaigns, gross_col, inc_col, basis)
        g, actual = goal[keep], actual[keep]
        rows.append(
            pd.DataFrame(
                {
                    "campaign_id": campaigns.index[keep],
                    "metric": metric,
                    "basis": label[keep].to_numpy(),
                    "goal": g.to_numpy(),
                    "actual": actual.to_numpy(),
                    "gross": gross[keep].to_numpy(),
                    "difference": (actual - g).to_numpy(),
                    "attainment": _ratio(actual, g).to_numpy(),
                    "met": (actual >= g).to_numpy(),
                }
            )
        )
    if not rows:
        empty: pd.DataFrame = pd.DataFrame(
            {
                "campaign_id": pd.Series([], dtype=object),
                "metric": pd.Series([], dtype=object),
                "basis": pd.Series([], dtype=object),
                **{c: pd.Series([], dtype=np.float64) for c in _GOAL_COLUMNS},
                "met": pd.Series([], dtype=bool),
            }
        )
        return empty
    out: pd.DataFrame = pd.concat(rows, ignore_index=True)
    out = out.sort_values(["campaign_id", "metric"], kind="stable").reset_index(drop=True)
    return out


def campaign_report(
    data: CustomerData | Any,
    *,
    window: int | str = "campaign",
    by: str | pd.Series | None = None,
    margin: float | None = None,
    view: pd.DataFrame | None = None,
    goal_basis: str = "auto",
) -> CampaignReport:
    """Measure campaigns per campaign, action, segment and customer, and against their goals.

    Seed 004: measure per customer, action, campaign and profile, and
    evaluate every action against its goals. Responses are counted as in
    :func:`campaign_exposures`. Costs: a customer's cost is its touches'
    cost; when the touches carry no cost, the campaign's cost spread evenly
    over its treatment customers. A campaign's cost is its record's
    ``cost`` when given, else its treatment touches' cost. Control
    customers (``group == "control"``) are not counted as touched; they give
    each group's baseline and the incremental columns.

    Parameters
    ----------
    data : CustomerData or mapping of str to DataFrame
        Records with ``transactions``, ``touches`` (+ ``campaigns``,
        ``customers``). ``CustomerData.from_frames`` drops records after
        ``as_of``: use an ``as_of`` after the response windows (e.g. the
        holdout end), or raw frames (validated with ``as_of`` = the last
        transaction day). Windows ending after ``as_of`` are flagged
        (``complete`` False) with a :class:`~crmkit.exceptions.DataWarning`.
    window : int or "campaign", default="campaign"
        Response window: the campaign's dates, or days from the first touch.
    by : str or Series, optional
        Segment (profile) labels: a column of ``view`` (or, without
        ``view``, of the customers records, e.g. ``"industry"``), or a
        Series indexed by customer id. Customers without a label form the
        segment ``"(missing)"`` (with a warning).
    margin : float, optional
        Share of revenue kept as margin, in (0, 1]; default from the
        transactions' cost when present.
    view : DataFrame, optional
        A customer view (indexed by customer id) to take ``by`` from.
    goal_basis : {"auto", "incremental", "gross"}, default="auto"
        What the goals are evaluated on: the *incremental* conversions and
        revenue (treatment minus what the control group's rates predict —
        what the campaign caused), or the *gross* responders and revenue of
        the treatment customers (what happened during it, caused or not).
        ``"auto"`` uses the incremental result for campaigns with control
        customers and the gross result for the others; the goals table says
        which (``basis``) and keeps the gross figure (``gross``).

    Returns
    -------
    CampaignReport

    Raises
    ------
    SchemaError
        For missing touches or columns, or inconsistent records.
    InvalidParameterError
        For a bad ``window`` or ``margin``.
    InvalidParameterError
        For a ``by`` that is neither a name nor a Series (also a :class:`TypeError`).

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": [1, 2, 3, 4], "amount": [100.0, 60.0, 80.0, 5.0],
    ...                    "date": pd.to_datetime(["2024-03-05", "2024-03-09", "2024-03-06",
    ...                                            "2024-03-03"])})
    >>> touches = pd.DataFrame({"campaign_id": "K1", "customer_id": [1, 2, 3, 4],
    ...                         "date": pd.Timestamp("2024-03-01"), "action": "mail",
    ...                         "group": ["treatment", "treatment", "treatment", "control"],
    ...                         "cost": [10.0, 10.0, 10.0, 0.0]})
    >>> campaigns = pd.DataFrame({"campaign_id": ["K1"], "start": pd.Timestamp("2024-03-01"),
    ...                           "end": pd.Timestamp("2024-03-14"), "goal_conversions": [2.0],
    ...                           "goal_revenue": [300.0]})
    >>> data = CustomerData.from_frames(tx, touches=touches, campaigns=campaigns,
    ...                                 as_of="2024-03-31")
    >>> rep = campaign_report(data)
    >>> rep.campaigns[["n_touched", "n_responders", "revenue", "cost", "roi"]]
                 n_touched  n_responders  revenue  cost  roi
    campaign_id
    K1                   3             3    240.0  30.0  7.0
    >>> rep.goals[["metric", "basis", "goal", "actual", "gross", "met"]]
            metric        basis   goal  actual  gross    met
    0  conversions  incremental    2.0     0.0    3.0  False
    1      revenue  incremental  300.0   225.0  240.0  False

    The control customer bought too: the three responders are no more than
    the control group predicts, so the conversion goal is not met although
    three customers responded (``goal_basis="gross"`` counts them):

    >>> campaign_report(data, goal_basis="gross").goals["met"].tolist()
    [True, False]
    """
    validate_params(
        "campaign_report",
        {"window": window, "margin": margin, "view": view, "goal_basis": goal_basis, "by": by},
        {
            "window": WINDOW,
            "margin": MARGIN,
            "view": [None, instance_of(pd.DataFrame, "a DataFrame")],
            "goal_basis": [Options(frozenset(GOAL_BASES))],
            "by": [
                None,
                COLUMN_NAME,
                instance_of(pd.Series, "a Series of labels indexed by customer_id"),
            ],
        },
    )
    data = as_data(data, "campaign_report", ("touches", "campaigns", "customers"))
    ex = campaign_exposures(data, window=window, margin=margin)
    camp = campaign_records(data)
    table = ex.table
    campaigns = _campaign_table(ex, camp, data.as_of)
    own_cost = "cost" in ex.actions.columns  # each action's own touch cost, when known
    drop = ["action", "cost"] if own_cost else ["action"]
    joined = ex.actions.merge(table.drop(columns=drop), on=["campaign_id", "customer_id"])
    by_action = summarise(joined, ["campaign_id", "action"], ex.value_basis)
    by_segment, name = None, None
    if by is not None:
        labels, name = _segment_labels(data, by, view, table["customer_id"])
        table = table.assign(segment=labels)
        by_segment = summarise(table, ["campaign_id", "segment"], ex.value_basis)
    return CampaignReport(
        campaigns=campaigns,
        by_action=by_action,
        by_segment=by_segment,
        by_customer=table,
        goals=_goals(campaigns, camp, goal_basis),
        value_basis=ex.value_basis,
        window=ex.window,
        segment_name=name,
    )
