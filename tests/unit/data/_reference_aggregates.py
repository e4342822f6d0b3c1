"""A plain pandas groupby reference for the record aggregates of the customer view.

One ``groupby("customer_id")`` per aggregate, reindexed to the view: slow on
small inputs, but its meaning is plain. ``crmkit.summarize`` must give
exactly these columns, dtypes and values.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crmkit.data import TIME_UNITS, CustomerData, summarize


def _days_since(dates: pd.Series, as_of: pd.Timestamp) -> pd.Series:
    out: pd.Series = (as_of - dates).dt.days.astype("float64")
    return out


def _feedback(fb: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    fb = fb.assign(_kind=fb["kind"].astype(str).str.lower())
    g = fb.groupby("customer_id", sort=False)
    out = pd.DataFrame({"n_feedback": g.size()})
    if "score" in fb.columns:
        nps = fb.loc[fb["_kind"] == "nps"].sort_values("date", kind="stable")
        out["last_nps"] = nps.groupby("customer_id", sort=False)["score"].last()
        for kind in ("csat", "ces"):
            sub = fb.loc[fb["_kind"] == kind]
            out[f"mean_{kind}"] = sub.groupby("customer_id", sort=False)["score"].mean()
    complaints = fb.loc[fb["_kind"] == "complaint"]
    out["n_complaints"] = complaints.groupby("customer_id", sort=False).size()
    if "resolved_date" in fb.columns:
        open_ = fb["resolved_date"].isna() | (fb["resolved_date"] > as_of)
        for kind, name in (
            ("complaint", "n_complaints_open"),
            ("suggestion", "n_suggestions_open"),
        ):
            sub = fb.loc[(fb["_kind"] == kind) & open_]
            out[name] = sub.groupby("customer_id", sort=False).size()
    if len(complaints):
        last = complaints.groupby("customer_id", sort=False)["date"].max()
        out["days_since_complaint"] = _days_since(last, as_of)
    return out


def _interactions(ix: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    g = ix.groupby("customer_id", sort=False)
    out = pd.DataFrame(
        {"n_interactions": g.size(), "days_since_contact": _days_since(g["date"].max(), as_of)}
    )
    if "kind" in ix.columns:
        visits = ix.loc[ix["kind"].astype(str).str.lower() == "visit"]
        out["n_visits"] = visits.groupby("customer_id", sort=False).size()
    if "seller" in ix.columns:
        out["n_sellers"] = g["seller"].nunique()
    return out


def _contacts(ct: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    left = (
        (ct["left_date"].notna() & (ct["left_date"] <= as_of))
        if "left_date" in ct
        else (pd.Series(False, index=ct.index))
    )
    dm = (
        ct["decision_maker"].fillna(False).astype(bool)
        if "decision_maker" in ct
        else (pd.Series(False, index=ct.index))
    )
    frame = pd.DataFrame(
        {"customer_id": ct["customer_id"], "left": left.to_numpy(), "dm": dm.to_numpy()}
    )
    frame["active"] = ~frame["left"]
    frame["dm_active"] = frame["dm"] & frame["active"]
    frame["dm_left"] = frame["dm"] & frame["left"]
    g = frame.groupby("customer_id", sort=False)
    out = pd.DataFrame(
        {
            "n_contacts": g["active"].sum(),
            "n_contacts_left": g["left"].sum(),
            "n_decision_makers": g["dm_active"].sum(),
            "n_decision_makers_left": g["dm_left"].sum(),
        }
    )
    if "left_date" in ct.columns:
        leavers = ct.loc[left.to_numpy()]
        if len(leavers):
            last = leavers.groupby("customer_id", sort=False)["left_date"].max()
            out["days_since_contact_left"] = _days_since(last, as_of)
    return out


def _events(ev: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    kind = ev["kind"].astype(str).str.lower()
    moves = ev.loc[kind.isin(["address_change", "address"]).to_numpy()]
    g = moves.groupby("customer_id", sort=False)
    return pd.DataFrame(
        {
            "n_address_changes": g.size(),
            "days_since_address_change": _days_since(g["date"].max(), as_of),
        }
    )


def reference_aggregates(
    frames: dict[str, pd.DataFrame], index: pd.Index, as_of: pd.Timestamp
) -> pd.DataFrame:
    """The record aggregates (and ``customer_since``) of the view, indexed like ``index``."""
    parts: list[pd.DataFrame] = []
    builders = {
        "feedback": _feedback,
        "interactions": _interactions,
        "contacts": _contacts,
        "events": _events,
    }
    for kind, build in builders.items():
        if kind in frames:
            parts.append(build(frames[kind], as_of))
    if "touches" in frames:
        t = frames["touches"]
        parts.append(
            pd.DataFrame({"n_campaign_touches": t.groupby("customer_id", sort=False).size()})
        )
    out = pd.DataFrame(index=index)
    if "customers" in frames:
        cust = frames["customers"]
        cust = cust.loc[~cust["customer_id"].duplicated(keep="last").to_numpy()]
        cust = cust.set_index("customer_id")
        for col in ("industry", "size_class", "region", "key_account", "customer_since"):
            if col in cust.columns:
                out[col] = cust[col].reindex(index)
    for part in parts:
        part = part.reindex(index)
        for col in part.columns:
            values = part[col]
            if col.startswith("n_"):
                values = values.fillna(0).astype(np.int64)
            out[col] = values
    return out


def reference_view(data: CustomerData) -> pd.DataFrame:
    """``summarize(data)`` rebuilt from the transaction view and the reference aggregates."""
    view = summarize(data, include_records=False)
    extra = reference_aggregates(dict(data.frames), view.index, data.as_of)
    if "customer_since" in extra.columns:
        since = extra.pop("customer_since")
        start = np.minimum(
            since.fillna(view["first_purchase"]).to_numpy("datetime64[ns]"),
            view["first_purchase"].to_numpy("datetime64[ns]"),
        )
        days = (np.datetime64(data.as_of.date(), "ns") - start) / np.timedelta64(1, "D")
        view["tenure"] = days / TIME_UNITS[data.time_unit]
    for col in extra.columns:
        view[col] = extra[col]
    return view
