"""Reading feedback records (CustomerData or a frame) and grouping them."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from crmkit._checks import raise_if
from crmkit._params import Predicate, instance_of, validate_params
from crmkit.data import ColumnMap, CustomerData, to_pandas, validate_frame
from crmkit.domain import SCORE_SCALES
from crmkit.exceptions import DataWarning, SchemaError, SchemaFailure

__all__ = ["FeedbackRecords", "read_feedback", "group_keys", "PERIOD_FREQS"]

#: Accepted ``freq`` values for grouping over time (pandas period aliases).
PERIOD_FREQS: frozenset[str] = frozenset({"D", "W", "M", "Q", "Y"})

#: What the feedback argument of the loyalty measures accepts.
_SOURCE = Predicate(
    lambda v: isinstance(v, CustomerData) or (not isinstance(v, Mapping) and hasattr(v, "columns")),
    "CustomerData or a feedback data frame",
)

#: How the loyalty measures group customers.
_BY = instance_of((str, pd.Series), "a column name or a Series mapping customer_id to a segment")


class FeedbackRecords(NamedTuple):
    """Validated feedback with a lower-case ``kind`` and the context around it.

    Attributes
    ----------
    frame : DataFrame
        Canonical columns; ``kind`` as lower-case str; ``score`` float (NaN
        when the records have no score column); ``resolved_date`` datetime
        (NaT when absent); other columns kept.
    as_of : Timestamp
        ``CustomerData.as_of``, or the last feedback day of a plain frame.
    customers : DataFrame or None
        The customer records, when the input was CustomerData.
    """

    frame: pd.DataFrame
    as_of: pd.Timestamp
    customers: pd.DataFrame | None


def _fail(column: str, check: str, rows: Any = (), values: Any = (), n: int = 0) -> SchemaError:
    rows_t, values_t = tuple(rows)[:5], tuple(values)[:5]
    return SchemaError(
        [
            SchemaFailure(
                frame="feedback",
                column=column,
                check=check,
                n_failing=n or len(rows_t),
                rows=rows_t,
                values=values_t,
            )
        ]
    )


def _check_scales(fb: pd.DataFrame, kind: pd.Series) -> None:
    fails: list[SchemaFailure] = []
    score = fb["score"].to_numpy(dtype=np.float64, na_value=np.nan)
    for name, (low, high) in SCORE_SCALES.items():
        mask = (kind == name).to_numpy(dtype=bool)
        bad = mask & (np.isnan(score) | (score < low) | (score > high))
        if bad.any():
            fails.append(
                SchemaFailure(
                    frame="feedback",
                    column="score",
                    check=f"{name} scores must be in {low}..{high} (and present)",
                    n_failing=int(bad.sum()),
                    rows=tuple(fb.index[bad][:5].tolist()),
                    values=tuple(score[bad][:5].tolist()),
                )
            )
    raise_if(fails)


def read_feedback(source: Any, who: str) -> FeedbackRecords:
    """Validate feedback records from CustomerData or a feedback frame.

    Parameters
    ----------
    source : CustomerData or DataFrame
        Validated records (their ``feedback``), or a feedback frame with
        crmkit's canonical columns (customer_id, date, kind, score, text,
        resolved_date); pandas, polars or DuckDB frames are accepted.
    who : str
        The caller, for messages.

    Returns
    -------
    FeedbackRecords

    Raises
    ------
    SchemaError
        Missing feedback, missing columns, bad dates, scores off their scale.
    InvalidParameterError
        For anything that is not CustomerData or a data frame (also a
        :class:`TypeError`).

    Examples
    --------
    >>> import pandas as pd
    >>> fb = pd.DataFrame({"customer_id": [1], "date": ["2024-01-05"], "kind": ["NPS"],
    ...                    "score": [9]})
    >>> rec = read_feedback(fb, "nps")
    >>> rec.frame["kind"].tolist(), rec.as_of.date()
    (['nps'], datetime.date(2024, 1, 5))
    """
    customers: pd.DataFrame | None = None
    if isinstance(source, CustomerData):
        raw = source.get("feedback")
        if raw is None:
            raise _fail(
                "<frame>",
                f"is missing: {who} needs feedback records (give "
                "feedback=... to CustomerData.from_frames)",
            )
        fb = raw
        as_of: pd.Timestamp | None = source.as_of
        customers = source.get("customers")
    else:
        validate_params(who, {"feedback": source}, {"feedback": [_SOURCE]})
        fails: list[SchemaFailure] = []
        fb = validate_frame(to_pandas(source, "feedback"), "feedback", ColumnMap(), fails)
        raise_if(fails)
        as_of = None
    kind = fb["kind"].astype("string").str.strip().str.lower()
    if kind.isna().any():
        bad = kind.isna().to_numpy(dtype=bool)
        raise _fail("kind", "contains missing values", fb.index[bad], n=int(bad.sum()))
    out = fb.assign(kind=kind.astype(str).to_numpy(dtype=object))
    if "score" not in out.columns:
        out = out.assign(score=np.nan)
    else:
        out = out.assign(score=out["score"].to_numpy(dtype=np.float64, na_value=np.nan))
    if "resolved_date" not in out.columns:
        out = out.assign(resolved_date=pd.Series(pd.NaT, index=out.index, dtype="datetime64[ns]"))
    _check_scales(out, out["kind"])
    if as_of is None:
        if len(out) == 0:
            raise _fail("<frame>", f"is empty: {who} has nothing to measure")
        as_of = pd.Timestamp(out["date"].max()).normalize()
    return FeedbackRecords(out, as_of, customers)


def _segment_from(
    fb: pd.DataFrame, by: Any, customers: pd.DataFrame | None, who: str
) -> tuple[str, pd.Series]:
    validate_params(who, {"by": by}, {"by": [_BY]})
    if isinstance(by, str):
        if by in fb.columns:
            return by, fb[by]
        if customers is not None and by in customers.columns:
            cust = customers.loc[~customers["customer_id"].duplicated(keep="last").to_numpy()]
            mapping = pd.Series(cust[by].to_numpy(), index=cust["customer_id"].to_numpy())
            return by, pd.Series(fb["customer_id"].map(mapping).to_numpy(), index=fb.index)
        where = "the feedback records" + (
            " or the customer records" if customers is not None else ""
        )
        raise _fail(
            by,
            f"is missing: {who}(by={by!r}) looks for it in {where}; columns "
            f"present: {', '.join(map(str, fb.columns[:12]))}",
        )
    if not by.index.is_unique:
        dup = by.index[by.index.duplicated()].tolist()
        raise SchemaError(
            [
                SchemaFailure(
                    frame="segments",
                    column="<index>",
                    check="has duplicate customer ids; a customer can be in one segment only",
                    n_failing=len(dup),
                    rows=tuple(dup[:5]),
                )
            ]
        )
    name = str(by.name) if by.name is not None else "segment"
    return name, pd.Series(fb["customer_id"].map(by).to_numpy(), index=fb.index)


def group_keys(
    fb: pd.DataFrame, by: Any, freq: str | None, customers: pd.DataFrame | None, who: str
) -> tuple[pd.DataFrame, list[str]]:
    """Attach grouping keys (segment and/or period) to feedback rows.

    Rows whose segment is unknown are left out with a
    :class:`~crmkit.exceptions.DataWarning` (never put in a silent group).

    Parameters
    ----------
    fb : DataFrame
        Feedback rows (from :func:`read_feedback`).
    by : str, Series or None
        A column of the feedback (or customer) records, or a Series mapping
        customer_id to a segment.
    freq : {"D", "W", "M", "Q", "Y"} or None
        Period of the ``period`` key.
    customers : DataFrame or None
        Customer records, to look ``by`` up in.
    who : str
        The caller, for messages.

    Returns
    -------
    frame : DataFrame
        ``fb`` with the key columns added (rows without a segment dropped).
    keys : list of str
        The key column names (empty: one overall group).

    Examples
    --------
    >>> import pandas as pd
    >>> fb = pd.DataFrame({"customer_id": [1, 2], "date": pd.to_datetime(["2024-01-05",
    ...                    "2024-02-05"]), "region": ["N", "S"]})
    >>> out, keys = group_keys(fb, "region", "M", None, "nps")
    >>> keys, out["period"].astype(str).tolist()
    (['region', 'period'], ['2024-01', '2024-02'])
    """
    keys: list[str] = []
    out = fb
    if by is not None:
        name, labels = _segment_from(fb, by, customers, who)
        if name == "period":
            raise _fail(name, "is reserved for the time key; rename the segment")
        missing = labels.isna().to_numpy(dtype=bool)
        if missing.any():
            ids = fb["customer_id"].to_numpy()[missing]
            warnings.warn(
                f"crmkit {who}: {int(missing.sum())} feedback rows have no segment "
                f"in {name!r} and were left out (first customers "
                f"{list(pd.unique(ids)[:5])})",
                DataWarning,
                stacklevel=3,
            )
        out = out.assign(**{name: labels}).loc[~missing]
        keys.append(name)
    if freq is not None:
        out = out.assign(period=out["date"].dt.to_period(freq))
        keys.append("period")
    return out, keys
