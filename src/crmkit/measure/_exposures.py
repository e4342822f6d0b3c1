"""Campaign exposures: each customer of each campaign, and what it bought in its window.

The unit of measurement is one customer in one campaign (an *exposure*): the
customer's touches of that campaign, its group (treatment or control) and
the purchases it made in its response window. The campaign tables
(:func:`crmkit.measure.campaign_report`) and the uplift tests sum exposures.
"""

from __future__ import annotations

import warnings
from typing import Any

import attrs
import numpy as np
import pandas as pd

from crmkit._params import Constraint, Interval, Options, validate_params
from crmkit.data import CustomerData
from crmkit.exceptions import DataWarning
from crmkit.measure._inputs import as_data, day_numbers, fail, first_labels, require_records

__all__ = ["Exposures", "campaign_exposures", "campaign_records", "MARGIN", "WINDOW"]

_GROUPS = ("treatment", "control")
WINDOW: list[Constraint] = [Interval("int", 1, None), Options(frozenset({"campaign"}))]
MARGIN: list[Constraint] = [Interval("real", 0, 1, closed="right"), None]


@attrs.frozen(kw_only=True, eq=False)
class Exposures:
    """Customers exposed to campaigns, with what they bought in their response windows.

    Built by :func:`campaign_exposures`; the input of every campaign table
    and of the uplift tests.

    Parameters
    ----------
    table : DataFrame
        One row per (campaign, customer): ``campaign_id``, ``customer_id``,
        ``group`` (``"treatment"`` or ``"control"``), ``action`` (of the
        first touch; ``"unspecified"`` when the touches have no action),
        ``first_touch``, ``n_touches``, ``window_start``, ``window_end``
        (days, both inclusive), ``converted`` (bought in the window),
        ``n_purchases`` (distinct purchase days in the window), ``revenue``
        (net amount in the window), ``margin`` (when known) and ``cost``
        (NaN when unknown).
    actions : DataFrame
        The distinct (``campaign_id``, ``customer_id``, ``action``) of the
        touches, with ``cost`` (of that action's touches) when the touches
        have a cost column.
    value_basis : {"margin", "revenue"}
        Whether ``margin`` is known (ROI is computed on margin) or not (ROI
        on revenue).
    window : str
        ``"campaign"`` or ``"<n> days"``.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": [1, 2], "date": ["2024-01-05", "2024-01-02"],
    ...                    "amount": [50.0, 20.0]})
    >>> touches = pd.DataFrame({"campaign_id": ["K", "K"], "customer_id": [1, 2],
    ...                         "date": ["2024-01-03", "2024-01-03"]})
    >>> data = CustomerData.from_frames(tx, touches=touches, as_of="2024-02-01")
    >>> campaign_exposures(data, window=14).table[["customer_id", "converted", "revenue"]]
       customer_id  converted  revenue
    0            1       True     50.0
    1            2      False      0.0
    """

    table: pd.DataFrame
    actions: pd.DataFrame
    value_basis: str
    window: str


def _groups(touches: pd.DataFrame) -> np.ndarray[Any, np.dtype[np.object_]]:
    if "group" not in touches.columns:
        return np.full(len(touches), "treatment", dtype=object)
    raw = touches["group"]
    text = raw.astype("string").str.strip().str.lower()
    known = text.isin(_GROUPS).to_numpy(dtype=bool, na_value=False)
    null = raw.isna().to_numpy()
    bad = ~known & ~null
    if bad.any():
        raise fail(
            "touches",
            "group",
            "must be 'treatment' or 'control' (missing means treatment)",
            first_labels(touches.index, bad),
            tuple(raw[bad][:5].tolist()),
            n=int(bad.sum()),
        )
    out: np.ndarray[Any, np.dtype[np.object_]] = np.where(
        null, "treatment", text.fillna("treatment").to_numpy(dtype=object)
    ).astype(object)
    return out


def campaign_records(data: CustomerData) -> pd.DataFrame | None:
    """The campaign records indexed by campaign id, or None; repeated ids are refused.

    Parameters
    ----------
    data : CustomerData
        Validated records.

    Returns
    -------
    DataFrame or None

    Raises
    ------
    SchemaError
        When a campaign id repeats.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": [1], "date": ["2024-01-01"], "amount": [1.0]})
    >>> camp = pd.DataFrame({"campaign_id": ["K"], "name": ["Spring"]})
    >>> campaign_records(CustomerData.from_frames(tx, campaigns=camp))["name"].to_dict()
    {'K': 'Spring'}
    """
    camp = data.get("campaigns")
    if camp is None:
        return None
    dup = camp["campaign_id"].duplicated().to_numpy()
    if dup.any():
        raise fail(
            "campaigns",
            "campaign_id",
            "repeats a campaign id",
            first_labels(camp.index, dup),
            tuple(camp["campaign_id"][dup][:5]),
            n=int(dup.sum()),
        )
    indexed: pd.DataFrame = camp.set_index("campaign_id")
    return indexed


def _windows(
    units: pd.DataFrame, camp: pd.DataFrame | None, window: int | str
) -> tuple[pd.Series, pd.Series]:
    if window != "campaign":
        start = units["first_touch"]
        return start, start + pd.Timedelta(days=int(window) - 1)
    needed = ("start", "end")
    if camp is None or any(c not in camp.columns for c in needed):
        raise fail(
            "campaigns",
            "start/end",
            "are needed for window='campaign' (the response "
            "window is the campaign's start..end); give the campaigns records with "
            "start and end, or a window in days, e.g. window=30",
        )
    ids = units["campaign_id"]
    start = ids.map(camp["start"])
    end = ids.map(camp["end"])
    unknown = (start.isna() | end.isna()).to_numpy()
    if unknown.any():
        missing = list(dict.fromkeys(ids[unknown].tolist()))
        raise fail(
            "campaigns",
            "start/end",
            "are missing for touched campaigns (needed for "
            "window='campaign'; or give a window in days)",
            tuple(missing),
            n=len(missing),
        )
    backwards = (end < start).to_numpy()
    if backwards.any():
        bad = list(dict.fromkeys(ids[backwards].tolist()))
        raise fail("campaigns", "end", "is before start", tuple(bad), n=len(bad))
    return start.dt.normalize(), end.dt.normalize()


def _unit_table(touches: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    day = touches["date"].dt.normalize().to_numpy()
    has_action = "action" in touches.columns
    action = (
        touches["action"].astype("string").fillna("unspecified").to_numpy(dtype=object)
        if has_action
        else np.full(len(touches), "unspecified", dtype=object)
    )
    frame = pd.DataFrame({
        "campaign_id": touches["campaign_id"].to_numpy(),
        "customer_id": touches["customer_id"].to_numpy(),
        "date": day, "group": _groups(touches), "action": action,
    })  # fmt: skip
    if "cost" in touches.columns:
        cost = touches["cost"].to_numpy(dtype=np.float64, na_value=np.nan)
        frame["cost"] = np.nan_to_num(cost, nan=0.0)
        frame["cost_unknown"] = np.isnan(cost)
    frame = frame.sort_values(["campaign_id", "customer_id", "date"], kind="stable")
    keys = ["campaign_id", "customer_id"]
    grouped = frame.groupby(keys, sort=True)
    units = grouped.agg(
        first_touch=("date", "min"),
        n_touches=("date", "size"),
        group=("group", "first"),
        n_groups=("group", "nunique"),
        action=("action", "first"),
    )
    mixed = (units["n_groups"] > 1).to_numpy()
    if mixed.any():
        raise fail(
            "touches",
            "group",
            "puts one customer in both treatment and control of a campaign",
            tuple(units.index[mixed][:5]),
            n=int(mixed.sum()),
        )
    if "cost" in frame.columns:
        units["cost"] = grouped["cost"].sum()
        units.loc[grouped["cost_unknown"].any(), "cost"] = np.nan
    by_action = frame.groupby([*keys, "action"], sort=True)
    actions = by_action.size().rename("n").reset_index().drop(columns="n")
    if "cost" in frame.columns:
        cost = by_action["cost"].sum().where(~by_action["cost_unknown"].any())
        actions["cost"] = cost.to_numpy()
    return units.drop(columns=["n_groups"]).reset_index(), actions


def _outcomes(
    units: pd.DataFrame, tx: pd.DataFrame, margin: float | None
) -> tuple[dict[str, np.ndarray[Any, Any]], str]:
    n = len(units)
    ws = day_numbers(units["window_start"])
    we = day_numbers(units["window_end"])
    tday_all = day_numbers(tx["date"])
    near = (tday_all >= ws.min()) & (tday_all <= we.max())
    near &= tx["customer_id"].isin(units["customer_id"].unique()).to_numpy()
    cols = ["customer_id", "amount", *(["cost"] if "cost" in tx.columns else [])]
    sub = tx.loc[near, cols].assign(day=tday_all[near])
    if len(sub) == 0 and not tx["customer_id"].isin(units["customer_id"]).any():
        warnings.warn(
            "crmkit: none of the touched customers has any transaction; check that "
            "touches and transactions use the same customer ids (e.g. 7 vs '7')",
            DataWarning,
            stacklevel=4,
        )
    key = pd.DataFrame(
        {"customer_id": units["customer_id"].to_numpy(), "unit": np.arange(n), "ws": ws, "we": we}
    )
    if len(sub) == 0:
        sub = pd.DataFrame(
            {
                "customer_id": key["customer_id"].iloc[:0],
                "amount": 0.0,
                "day": np.zeros(0, dtype=np.int64),
                **({"cost": 0.0} if "cost" in sub.columns else {}),
            }
        )
    rows = sub.merge(key, on="customer_id", how="inner")
    inside = ((rows["day"] >= rows["ws"]) & (rows["day"] <= rows["we"])).to_numpy()
    rows = rows.loc[inside]
    unit = rows["unit"].to_numpy(dtype=np.int64)
    amount = rows["amount"].to_numpy(dtype=np.float64)
    day = rows["day"].to_numpy(dtype=np.int64)
    bought = amount > 0
    span = int(day.max() - day.min() + 1) if len(day) else 1
    pairs = np.unique(unit[bought] * span + (day[bought] - (day.min() if len(day) else 0)))
    n_purchases = np.bincount(pairs // span, minlength=n).astype(np.int64)
    revenue = np.bincount(unit, weights=amount, minlength=n)
    out: dict[str, np.ndarray[Any, Any]] = {
        "converted": n_purchases > 0,
        "n_purchases": n_purchases,
        "revenue": revenue,
    }
    if margin is not None:
        out["margin"] = revenue * float(margin)
        return out, "margin"
    if "cost" not in rows.columns:
        return out, "revenue"
    cost = rows["cost"].to_numpy(dtype=np.float64, na_value=np.nan)
    unknown = np.bincount(unit[np.isnan(cost)], minlength=n) > 0
    value = np.bincount(unit, weights=amount - np.nan_to_num(cost, nan=0.0), minlength=n)
    if unknown.any():
        warnings.warn(
            f"crmkit: {int(unknown.sum())} exposures have window transactions "
            "without cost; their margin is NaN (give margin=<share> to use a "
            "margin rate instead)",
            DataWarning,
            stacklevel=4,
        )
    out["margin"] = np.where(unknown, np.nan, value)
    return out, "margin"


def _allocate_campaign_cost(units: pd.DataFrame, camp: pd.DataFrame | None) -> pd.Series:
    treat = (units["group"] == "treatment").to_numpy()
    if camp is None or "cost" not in camp.columns:
        unknown: pd.Series = pd.Series(np.nan, index=units.index)
        return unknown
    n_treat = units.loc[treat].groupby("campaign_id").size()
    total = units["campaign_id"].map(camp["cost"]).astype(np.float64)
    per = total / units["campaign_id"].map(n_treat).astype(np.float64)
    return pd.Series(np.where(treat, per.to_numpy(), 0.0), index=units.index)


def campaign_exposures(
    data: CustomerData | Any,
    *,
    window: int | str = "campaign",
    margin: float | None = None,
    campaign_ids: Any = None,
) -> Exposures:
    """Each touched (or held-out) customer of each campaign, with its response.

    A customer's response window is, with ``window="campaign"``, the
    campaign's ``start`` .. ``end`` (the same calendar days for treatment
    and control customers, so their purchases compare fairly; a purchase
    inside the campaign period counts even when it precedes the customer's
    own touch); with ``window=n`` the ``n`` days from the customer's first
    touch of the campaign (the touch day included). A customer *converts*
    when it buys (a transaction with a positive amount) in its window;
    revenue is the net amount (refunds included) in the window.

    Parameters
    ----------
    data : CustomerData or mapping of str to DataFrame
        Records with ``touches`` (and ``campaigns`` for
        ``window="campaign"``, goals and campaign costs). Records after
        ``data.as_of`` were dropped by :meth:`CustomerData.from_frames`:
        build it with an ``as_of`` after the campaigns' response windows
        (e.g. the holdout end), or pass the raw frames, which are validated
        with ``as_of`` = the last transaction day.
    window : int or "campaign", default="campaign"
        The response window (days, >= 1).
    margin : float, optional
        Share of revenue kept as margin, in (0, 1]. Default: the
        transactions' ``cost`` when present (margin = amount - cost),
        otherwise no margin.
    campaign_ids : sequence, optional
        Only these campaigns.

    Returns
    -------
    Exposures

    Raises
    ------
    SchemaError
        Missing touches, unknown groups, a customer in both groups, missing
        campaign dates with ``window="campaign"``, unknown campaign ids.
    InvalidParameterError
        For a bad ``window`` or ``margin``.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": [1, 1], "date": ["2024-01-05", "2024-03-01"],
    ...                    "amount": [50.0, 9.0], "cost": [30.0, 5.0]})
    >>> touches = pd.DataFrame({"campaign_id": ["K"], "customer_id": [1],
    ...                         "date": ["2024-01-03"], "cost": [2.0]})
    >>> data = CustomerData.from_frames(tx, touches=touches, as_of="2024-03-31")
    >>> ex = campaign_exposures(data, window=30)
    >>> ex.value_basis
    'margin'
    >>> ex.table[["n_purchases", "revenue", "margin", "cost"]]
       n_purchases  revenue  margin  cost
    0            1     50.0    20.0   2.0
    """
    validate_params(
        "campaign_exposures",
        {"window": window, "margin": margin},
        {"window": WINDOW, "margin": MARGIN},
    )
    data = as_data(data, "campaign_exposures", ("touches", "campaigns"))
    touches = require_records(data, "touches", "campaign measurement")
    if campaign_ids is not None:
        wanted = list(campaign_ids) if np.ndim(campaign_ids) else [campaign_ids]
        keep = touches["campaign_id"].isin(wanted).to_numpy()
        found = set(touches["campaign_id"][keep].tolist())
        absent = [c for c in wanted if c not in found]
        if absent:
            known = list(dict.fromkeys(touches["campaign_id"].tolist()))[:10]
            raise fail(
                "touches",
                "campaign_id",
                f"has no touches of campaign(s) {absent}; campaigns touched: {known}",
            )
        touches = touches.loc[keep]
    camp = campaign_records(data)
    units, actions = _unit_table(touches)
    units["window_start"], units["window_end"] = _windows(units, camp, window)
    results, basis = _outcomes(units, data.transactions, margin)
    for name, values in results.items():
        units[name] = values
    if "cost" not in units.columns:
        units["cost"] = _allocate_campaign_cost(units, camp).to_numpy()
    cols = ["campaign_id", "customer_id", "group", "action", "first_touch", "n_touches",
            "window_start", "window_end", "converted", "n_purchases", "revenue",
            *(["margin"] if basis == "margin" else []), "cost"]  # fmt: skip
    label = "campaign" if window == "campaign" else f"{int(window)} days"
    return Exposures(
        table=units[cols].reset_index(drop=True), actions=actions, value_basis=basis, window=label
    )


# ---------------------------------------------------------------- summaries
