"""Customer-view columns from the non-transaction records.

Each aggregate is a numpy reduction over the rows' positions in the view's
index (``bincount``, a sort, ``maximum.at``): its cost follows the number of
rows, with no fixed per-call pandas groupby/merge overhead, so summarising one
customer's records (``data.for_customer(id)``) is cheap. The values are those
of a pandas ``groupby("customer_id")`` reindexed to the view; the score means
are computed by pandas itself (see ``_Located.mean``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmkit.data._core import distinct_per_customer

__all__ = ["record_aggregates"]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]

_NS_PER_DAY = 86_400_000_000_000
_NAT = np.iinfo(np.int64).min
_LAST = np.iinfo(np.int64).max


def _ns(values: pd.Series) -> IntArray:
    """Nanoseconds since the epoch (NaT as the smallest int64)."""
    out: IntArray = values.to_numpy(dtype="datetime64[ns]").view(np.int64)
    return out


class _Kinds:
    """Each row's kind, matched lower-cased against names through its distinct values.

    ``kinds.rows(name)`` is a table look-up of the row codes: no per-row text.
    """

    def __init__(self, kind: pd.Series) -> None:
        if isinstance(kind.dtype, pd.CategoricalDtype):
            codes, uniques = kind.array.codes, kind.dtype.categories
        else:
            codes, uniques = pd.factorize(kind)
        if all(isinstance(u, str) and u.isascii() for u in uniques):
            labels = [u.lower() for u in uniques]  # for ASCII text, what pandas' str.lower gives
        else:
            labels = pd.Index(uniques).astype(str).str.lower().tolist()
        self.labels = np.array([*labels, None], dtype=object)  # code -1 (missing): None
        self.codes = codes

    def rows(self, name: str) -> BoolArray:
        """Whether each row's kind, lower-cased, is ``name``."""
        table = np.array([label == name for label in self.labels], dtype=bool)
        out: BoolArray = table[self.codes]
        return out


def _take(values: pd.Series, rows: IntArray) -> Any:
    """``values`` at ``rows``, missing where a row is -1 (dtype as in a reindex)."""
    source = (
        values.array
        if isinstance(values.dtype, pd.api.extensions.ExtensionDtype)
        else values.to_numpy()
    )
    return pd.api.extensions.take(source, rows, allow_fill=True)


def _positions(index: pd.Index, ids: npt.NDArray[Any]) -> IntArray:
    """``index.get_indexer(ids)``; integers in a compact range by a table look-up."""
    keys = index.to_numpy()
    if keys.dtype.kind == "i" and ids.dtype.kind == "i" and len(keys) and len(ids):
        lo = min(int(keys.min()), int(ids.min()), 0)
        hi = max(int(keys.max()), int(ids.max()))
        if hi - lo < 4 * len(keys) + (1 << 16):  # a table of the ids' range: no hashing
            table = np.full(hi - lo + 1, -1, dtype=np.int64)
            table[keys - lo] = np.arange(len(keys))
            out: IntArray = table[ids if lo == 0 else ids.astype(np.int64) - lo]
            return out
    found: IntArray = index.get_indexer(pd.Index(ids, copy=False)).astype(np.int64)
    return found


class _Located:
    """The rows of one record frame, located in the view (position -1: not in it)."""

    def __init__(self, frame: pd.DataFrame, index: pd.Index, as_of: pd.Timestamp) -> None:
        self.frame = frame
        self.index = index
        self.n = len(index)
        self.ids = frame["customer_id"].to_numpy()
        self.pos: IntArray = _positions(index, self.ids)
        self.in_view: BoolArray = self.pos >= 0
        self.as_of = as_of
        try:  # as_of for comparisons with datetime64[ns] values, capped to their range
            self.as_of_ns = int(as_of.as_unit("ns").value)
        except pd.errors.OutOfBoundsDatetime:
            self.as_of_ns = _LAST if as_of > pd.Timestamp(0) else _NAT

    def count(self, mask: BoolArray | None = None) -> IntArray:
        """Rows per customer (where ``mask``)."""
        keep = self.in_view if mask is None else self.in_view & mask
        return np.bincount(self.pos[keep], minlength=self.n).astype(np.int64)

    def days_since_last(self, column: str, mask: BoolArray | None = None) -> FloatArray:
        """Whole days from the customer's latest ``column`` date to as_of (NaN: none)."""
        stamp = _ns(self.frame[column])
        keep = self.in_view & (stamp != _NAT)
        if mask is not None:
            keep &= mask
        latest = np.full(self.n, _NAT, dtype=np.int64)
        np.maximum.at(latest, self.pos[keep], stamp[keep])
        has = latest != _NAT
        out = np.full(self.n, np.nan)
        as_of_ns = self.as_of.as_unit("ns").value  # beyond the ns range: pandas' error
        out[has] = (as_of_ns - latest[has]) // _NS_PER_DAY  # floor, like Timedelta.days
        return out

    def last_row(self, order: IntArray, mask: BoolArray) -> IntArray:
        """Per customer, the row (where ``mask``) that comes last by ``order``, or -1."""
        rows = np.flatnonzero(self.in_view & mask)
        rows = rows[np.lexsort((order[rows], self.pos[rows]))]  # stable: ties keep row order
        out = np.full(self.n, -1, dtype=np.int64)
        if len(rows):
            pos = self.pos[rows]
            end = np.append(pos[1:] != pos[:-1], True)
            out[pos[end]] = rows[end]
        return out

    def mean(self, values: pd.Series, mask: BoolArray) -> Any:
        """Per-customer mean of ``values`` (where ``mask``); missing where none.

        pandas computes it, with the rows grouped by customer id exactly as in a
        ``groupby("customer_id")`` of the frame (customers outside the view
        included): pandas sums a group differently depending on whether every
        group's rows are adjacent, so this keeps the means bit for bit.
        """
        rows = np.flatnonzero(mask)
        if not len(rows) and values.dtype == np.float64:
            return np.full(self.n, np.nan)
        means = values.iloc[rows].groupby(self.ids[rows], sort=False).mean()
        return _take(means, pd.Index(means.index).get_indexer(self.index))


def _feedback(fb: _Located) -> dict[str, Any]:
    frame = fb.frame
    kind = _Kinds(frame["kind"])
    out: dict[str, Any] = {"n_feedback": fb.count()}
    if "score" in frame.columns:
        score = frame["score"]
        is_nps = kind.rows("nps")
        # the latest NPS score by date (NaT sorts last; ties: the later row)
        stamp = _ns(frame["date"])
        order = np.where(stamp == _NAT, _LAST, stamp)
        rows = fb.last_row(order, is_nps & score.notna().to_numpy())
        if isinstance(score.dtype, np.dtype) and score.dtype.kind in "iu" and (rows >= 0).all():
            # an integer column stays integer only if every customer with feedback
            # (in the view or not) has an NPS score, as in a pandas reindex
            scored = pd.unique(fb.ids[is_nps])
            if len(scored) < len(pd.unique(fb.ids)):
                score = score.astype(np.float64)
        out["last_nps"] = _take(score, rows)
        for name in ("csat", "ces"):
            out[f"mean_{name}"] = fb.mean(score, kind.rows(name))
    is_complaint = kind.rows("complaint")
    out["n_complaints"] = fb.count(is_complaint)
    if "resolved_date" in frame.columns:
        resolved = _ns(frame["resolved_date"])
        open_ = (resolved == _NAT) | (resolved > fb.as_of_ns)
        out["n_complaints_open"] = fb.count(is_complaint & open_)
        out["n_suggestions_open"] = fb.count(kind.rows("suggestion") & open_)
    if is_complaint.any():
        out["days_since_complaint"] = fb.days_since_last("date", is_complaint)
    return out


def _interactions(ix: _Located) -> dict[str, Any]:
    frame = ix.frame
    out: dict[str, Any] = {
        "n_interactions": ix.count(),
        "days_since_contact": ix.days_since_last("date"),
    }
    if "kind" in frame.columns:
        out["n_visits"] = ix.count(_Kinds(frame["kind"]).rows("visit"))
    if "seller" in frame.columns:
        out["n_sellers"] = distinct_per_customer(ix.pos, frame["seller"], ix.n)
    return out


def _contacts(ct: _Located) -> dict[str, Any]:
    frame = ct.frame
    if "left_date" in frame.columns:
        left_at = _ns(frame["left_date"])
        left = (left_at != _NAT) & (left_at <= ct.as_of_ns)
    else:
        left = np.zeros(len(frame), dtype=bool)
    dm = (
        frame["decision_maker"].fillna(False).astype(bool).to_numpy()
        if "decision_maker" in frame.columns
        else np.zeros(len(frame), dtype=bool)
    )
    out: dict[str, Any] = {
        "n_contacts": ct.count(~left),
        "n_contacts_left": ct.count(left),
        "n_decision_makers": ct.count(dm & ~left),
        "n_decision_makers_left": ct.count(dm & left),
    }
    if left.any():
        out["days_since_contact_left"] = ct.days_since_last("left_date", left)
    return out


def _events(ev: _Located) -> dict[str, Any]:
    kind = _Kinds(ev.frame["kind"])
    moves = kind.rows("address_change") | kind.rows("address")
    return {
        "n_address_changes": ev.count(moves),
        "days_since_address_change": ev.days_since_last("date", moves),
    }


def _touches(tc: _Located) -> dict[str, Any]:
    return {"n_campaign_touches": tc.count()}


def _attributes(cust: pd.DataFrame, index: pd.Index) -> dict[str, Any]:
    ids = cust["customer_id"]
    kept = np.flatnonzero(~ids.duplicated(keep="last").to_numpy())  # the last row per id
    found = pd.Index(ids.iloc[kept]).get_indexer(index)
    rows = np.full(len(index), -1, dtype=np.int64)
    rows[found >= 0] = kept[found[found >= 0]]
    return {
        col: _take(cust[col], rows)
        for col in ("industry", "size_class", "region", "key_account", "customer_since")
        if col in cust.columns
    }


_BUILDERS = {
    "feedback": _feedback,
    "interactions": _interactions,
    "contacts": _contacts,
    "events": _events,
    "touches": _touches,
}


def record_aggregates(
    frames: dict[str, pd.DataFrame], index: pd.Index, as_of: pd.Timestamp
) -> dict[str, Any]:
    """Customer attributes and feedback/interaction/contact/event aggregates.

    Counts are 0 for customers without records; "last"/"mean"/"days since"
    columns are NaN where there is nothing to measure (documented, never
    imputed). ``days_since_complaint`` and ``days_since_contact_left`` are
    left out when no row at all qualifies.

    Parameters
    ----------
    frames : dict of str to DataFrame
        Validated records by kind.
    index : Index
        The customer ids of the view (unique).
    as_of : Timestamp
        Analysis day.

    Returns
    -------
    dict of str to array
        Columns in view order, each aligned with ``index``: the customer
        attributes (``industry``, ``size_class``, ``region``,
        ``key_account``, ``customer_since``), then the feedback, interaction,
        contact, event and campaign-touch aggregates.

    Examples
    --------
    >>> import pandas as pd
    >>> fb = pd.DataFrame({"customer_id": [1, 1], "kind": ["nps", "complaint"],
    ...                    "score": [3.0, None], "date": pd.to_datetime(["2024-01-01"] * 2),
    ...                    "resolved_date": pd.NaT})
    >>> agg = record_aggregates({"feedback": fb}, pd.Index([1, 2]), pd.Timestamp("2024-02-01"))
    >>> agg["last_nps"].tolist(), agg["n_complaints_open"].tolist()
    ([3.0, nan], [1, 0])
    """
    out: dict[str, Any] = {}
    if "customers" in frames:
        out.update(_attributes(frames["customers"], index))
    for kind, build in _BUILDERS.items():
        if kind in frames:
            out.update(build(_Located(frames[kind], index, as_of)))
    return out
