"""The feedback loop: are complaints and suggestions heard and answered?"""

from __future__ import annotations

import warnings
from typing import Any

import attrs
import numpy as np
import pandas as pd

from crmkit.data import CustomerData, as_timestamp
from crmkit.exceptions import DataWarning, SchemaError, SchemaFailure
from crmkit.loyalty._inputs import read_feedback

__all__ = ["FeedbackLoopReport", "feedback_loop", "LOOP_KINDS"]

#: The feedback kinds that expect an answer.
LOOP_KINDS: tuple[str, ...] = ("complaint", "suggestion")


@attrs.frozen(eq=False)
class FeedbackLoopReport:
    """How complaints and suggestions were answered, as of one day.

    Parameters
    ----------
    summary : DataFrame
        Index ``kind`` (``complaint``, ``suggestion``, ``all``): ``n``,
        ``n_answered``, ``n_open``, ``share_answered`` (0..1),
        ``median_days_to_answer``, ``mean_days_to_answer`` (answered items),
        ``n_customers_open`` (customers waiting for an answer),
        ``median_open_age_days`` and ``max_open_age_days`` (open items).
        Medians and means are NaN where there is nothing to measure (no
        answered or no open items).
    customers : DataFrame
        Per customer with complaints or suggestions (index ``customer_id``):
        ``n_complaints``, ``n_suggestions``, ``n_answered``, ``n_open``,
        ``n_open_complaints``, ``n_open_suggestions``, ``oldest_open_days``
        (NaN when nothing is open), ``mean_days_to_answer`` (NaN when nothing
        was answered).
    open_items : DataFrame
        The unanswered items, oldest first: ``customer_id``, ``kind``,
        ``date``, ``age_days`` (+ ``text`` when present); the index is the
        feedback row label.
    as_of : Timestamp
        The day the loop was looked at.

    Notes
    -----
    Compares by identity (it holds data frames).

    Examples
    --------
    >>> import pandas as pd
    >>> fb = pd.DataFrame({"customer_id": [1], "date": ["2024-01-01"], "kind": ["complaint"],
    ...                    "resolved_date": [None]})
    >>> feedback_loop(fb, as_of="2024-01-31").summary.loc["all", "n_open"]
    np.int64(1)
    """

    summary: pd.DataFrame
    customers: pd.DataFrame
    open_items: pd.DataFrame
    as_of: pd.Timestamp


def _summary_row(items: pd.DataFrame) -> dict[str, Any]:
    answered = items["answered"].to_numpy(dtype=bool)
    days = items["days_to_answer"].to_numpy(dtype=np.float64)[answered]
    ages = items["age_days"].to_numpy(dtype=np.float64)[~answered]
    n = len(items)
    return {
        "n": n,
        "n_answered": int(answered.sum()),
        "n_open": int((~answered).sum()),
        "share_answered": float(answered.mean()) if n else np.nan,
        "median_days_to_answer": float(np.median(days)) if len(days) else np.nan,
        "mean_days_to_answer": float(days.mean()) if len(days) else np.nan,
        "n_customers_open": int(items.loc[~answered, "customer_id"].nunique()),
        "median_open_age_days": float(np.median(ages)) if len(ages) else np.nan,
        "max_open_age_days": float(ages.max()) if len(ages) else np.nan,
    }


def _per_customer(items: pd.DataFrame) -> pd.DataFrame:
    is_c = (items["kind"] == "complaint").to_numpy(dtype=bool)
    answered = items["answered"].to_numpy(dtype=bool)
    frame = pd.DataFrame(
        {
            "customer_id": items["customer_id"].to_numpy(),
            "n_complaints": is_c.astype(np.int64),
            "n_suggestions": (~is_c).astype(np.int64),
            "n_answered": answered.astype(np.int64),
            "n_open": (~answered).astype(np.int64),
            "n_open_complaints": (is_c & ~answered).astype(np.int64),
            "n_open_suggestions": (~is_c & ~answered).astype(np.int64),
            "open_age": np.where(answered, np.nan, items["age_days"].to_numpy(np.float64)),
            "answer_days": np.where(answered, items["days_to_answer"].to_numpy(np.float64), np.nan),
        }
    )
    g = frame.groupby("customer_id", sort=True)
    names = [
        "n_complaints",
        "n_suggestions",
        "n_answered",
        "n_open",
        "n_open_complaints",
        "n_open_suggestions",
    ]
    counts: pd.DataFrame = g[names].sum()
    counts["oldest_open_days"] = g["open_age"].max()
    counts["mean_days_to_answer"] = g["answer_days"].mean()
    return counts


def feedback_loop(feedback: Any, as_of: Any = None) -> FeedbackLoopReport:
    """Complaints and suggestions with their answers: share answered, answer time, open items.

    An item is answered when its ``resolved_date`` is on or before
    ``as_of`` (day precision); otherwise it is open, and its age is the days
    from its date to ``as_of``. Time to answer is in days (fractional when
    the records carry times of day).

    Parameters
    ----------
    feedback : CustomerData or DataFrame
        Records with feedback, or a feedback frame with the canonical columns
        (customer_id, date, kind, resolved_date, text).
    as_of : date-like, optional
        The day to look from; default ``CustomerData.as_of``, or for a plain
        frame the last date or resolution date in it. Items dated after it
        are left out with a DataWarning.

    Returns
    -------
    FeedbackLoopReport
        ``summary`` per kind and overall, ``customers`` (open items and their
        age per customer) and the ``open_items`` list.

    Raises
    ------
    SchemaError
        For missing feedback or a ``resolved_date`` before the item's date.
    InvalidParameterError
        For an ``as_of`` that is not a date (also a :class:`TypeError`).

    Examples
    --------
    >>> import pandas as pd
    >>> fb = pd.DataFrame({
    ...     "customer_id": [1, 1, 2, 3],
    ...     "date": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-01-10", "2024-03-01"]),
    ...     "kind": ["complaint", "suggestion", "complaint", "nps"],
    ...     "score": [float("nan")] * 3 + [9.0],
    ...     "resolved_date": pd.to_datetime(["2024-01-05", None, "2024-01-30", None])})
    >>> loop = feedback_loop(fb, as_of="2024-03-01")
    >>> loop.summary[["n", "n_answered", "median_days_to_answer", "max_open_age_days"]]
                n  n_answered  median_days_to_answer  max_open_age_days
    kind
    complaint   2           2                   12.0                NaN
    suggestion  1           0                    NaN               29.0
    all         3           2                   12.0               29.0
    >>> loop.customers[["n_open", "oldest_open_days"]]
                 n_open  oldest_open_days
    customer_id
    1                 1              29.0
    2                 0               NaN
    """
    rec = read_feedback(feedback, "feedback_loop")
    fb = rec.frame
    items = fb.loc[fb["kind"].isin(LOOP_KINDS).to_numpy(dtype=bool)]
    if as_of is not None:
        day = as_timestamp(as_of, "as_of").normalize()
    elif isinstance(feedback, CustomerData):
        day = rec.as_of
    else:
        last = pd.concat([fb["date"], fb["resolved_date"]]).max()
        day = pd.Timestamp(last).normalize()
    start = items["date"].dt.normalize()
    late = (start > day).to_numpy(dtype=bool)
    if late.any():
        warnings.warn(
            f"crmkit feedback_loop: {int(late.sum())} complaints/suggestions are "
            f"dated after as_of={day.date()} and were left out (first rows "
            f"{items.index[late][:5].tolist()})",
            DataWarning,
            stacklevel=2,
        )
        items = items.loc[~late]
        start = start.loc[~late]
    resolved = items["resolved_date"]
    days = ((resolved - items["date"]) / pd.Timedelta(days=1)).to_numpy(np.float64, na_value=np.nan)
    before = days < 0
    if before.any():
        raise SchemaError(
            [
                SchemaFailure(
                    frame="feedback",
                    column="resolved_date",
                    check="is before the item's date",
                    n_failing=int(before.sum()),
                    rows=tuple(items.index[before][:5].tolist()),
                    values=tuple(resolved[before][:5].astype(str).tolist()),
                )
            ]
        )
    answered = (resolved.notna() & (resolved.dt.normalize() <= day)).to_numpy(dtype=bool)
    items = items.assign(
        answered=answered,
        days_to_answer=np.where(answered, days, np.nan),
        age_days=((day - start).dt.days).to_numpy(dtype=np.float64),
    )
    rows = {
        kind: _summary_row(items.loc[(items["kind"] == kind).to_numpy(dtype=bool)])
        for kind in LOOP_KINDS
    }
    rows["all"] = _summary_row(items)
    summary = pd.DataFrame.from_dict(rows, orient="index")
    summary.index.name = "kind"
    customers = _per_customer(items)
    cols = ["customer_id", "kind", "date", "age_days", *(["text"] if "text" in items else [])]
    open_items = items.loc[~answered, cols].sort_values("age_days", ascending=False, kind="stable")
    return FeedbackLoopReport(
        summary=summary, customers=customers, open_items=open_items, as_of=day
    )
