"""Stages over time: staging the same records at several as-of dates, and prospects."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

import attrs
import numpy as np
import pandas as pd

from crmkit._params import NON_EMPTY_STR, Options, instance_of, parameter_error, validate_args
from crmkit._vocab import ACTIVE
from crmkit.data import CustomerData, summarize
from crmkit.exceptions import SchemaError, SchemaFailure
from crmkit.lifecycle._common import ACQUISITION, STAGE_DTYPE, STATUS_DTYPE, stage_series
from crmkit.plugins import Stager, default_registry

__all__ = ["PROSPECT_PREFIX", "stage_history", "stage_prospects"]

#: Prefix of the row labels of prospects in :func:`stage_history`.
PROSPECT_PREFIX = "prospect:"

# record kinds cut at each date, by their date column
_DATED = {
    "transactions": "date",
    "interactions": "date",
    "feedback": "date",
    "events": "date",
    "touches": "date",
}


def _date(value: Any, what: str) -> pd.Timestamp:
    if isinstance(value, (bool, int, float, np.number)):
        raise SchemaError(
            [
                SchemaFailure(
                    frame="arguments", column=what, check=f"is a number ({value!r}), not a date"
                )
            ]
        )
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError):
        raise SchemaError(
            [
                SchemaFailure(
                    frame="arguments", column=what, check=f"cannot be read as a date ({value!r})"
                )
            ]
        ) from None
    if pd.isna(ts):
        raise SchemaError(
            [SchemaFailure(frame="arguments", column=what, check="is a missing date")]
        )
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    out: pd.Timestamp = ts.normalize()
    return out


def _prospect_frame(prospects: object) -> pd.DataFrame:
    if not isinstance(prospects, pd.DataFrame):
        raise SchemaError(
            [
                SchemaFailure(
                    frame="prospects",
                    column="<frame>",
                    check=f"is not a pandas DataFrame (got {type(prospects).__name__})",
                )
            ]
        )
    failures = []
    if "prospect_id" not in prospects.columns:
        failures.append(SchemaFailure(frame="prospects", column="prospect_id", check="is missing"))
    else:
        ids = prospects["prospect_id"]
        null = ids.isna().to_numpy()
        if null.any():
            failures.append(
                SchemaFailure(
                    frame="prospects",
                    column="prospect_id",
                    check="contains missing ids",
                    n_failing=int(null.sum()),
                    rows=tuple(prospects.index[null][:5].tolist()),
                )
            )
        dup = ids.duplicated(keep=False).to_numpy() & ~null
        if dup.any():
            failures.append(
                SchemaFailure(
                    frame="prospects",
                    column="prospect_id",
                    check="has duplicate ids",
                    n_failing=int(dup.sum()),
                    rows=tuple(prospects.index[dup][:5].tolist()),
                    values=tuple(ids[dup][:5].tolist()),
                )
            )
    if "created" in prospects.columns:
        created = prospects["created"]
        if created.dtype.kind in "iufb":
            failures.append(
                SchemaFailure(
                    frame="prospects",
                    column="created",
                    check=f"holds numbers (dtype {created.dtype})",
                )
            )
        elif created.dtype.kind != "M":
            parsed = pd.to_datetime(created, errors="coerce", format="mixed")
            bad = parsed.isna().to_numpy() & created.notna().to_numpy()
            if bad.any():
                failures.append(
                    SchemaFailure(
                        frame="prospects",
                        column="created",
                        check="has values that are not dates",
                        n_failing=int(bad.sum()),
                        rows=tuple(prospects.index[bad][:5].tolist()),
                        values=tuple(created[bad][:5].tolist()),
                    )
                )
    if failures:
        raise SchemaError(failures)
    return prospects


def _created(prospects: pd.DataFrame) -> pd.Series | None:
    if "created" not in prospects.columns:
        return None
    created = prospects["created"]
    if created.dtype.kind != "M":
        created = pd.to_datetime(created, errors="coerce", format="mixed")
    if isinstance(created.dtype, pd.DatetimeTZDtype):
        created = created.dt.tz_convert("UTC").dt.tz_localize(None)
    out: pd.Series = created.dt.normalize()
    return out


def stage_prospects(
    prospects: pd.DataFrame, *, as_of: Any = None, exclude_converted: bool = True
) -> pd.Series:
    """Stage prospects (potential customers without a purchase): all in acquisition.

    Parameters
    ----------
    prospects : pandas.DataFrame
        Canonical ``prospects`` records (see
        ``crmkit.data.RECORD_SCHEMAS["prospects"]``): ``prospect_id`` and
        optionally ``created`` and ``converted_customer_id``.
    as_of : date-like, optional
        Leave out prospects created after this day.
    exclude_converted : bool, default=True
        Leave out prospects with a ``converted_customer_id`` (they are
        customers, staged from their purchases).

    Returns
    -------
    pandas.Series
        Categorical stage column (categories :data:`crmkit.plugins.STAGES`),
        all ``"acquisition"``, indexed by ``prospect_id``, named ``"stage"``.

    Raises
    ------
    SchemaError
        When ``prospect_id`` is missing, null or duplicated, or ``created``
        holds values that are not dates.

    Examples
    --------
    >>> import pandas as pd
    >>> p = pd.DataFrame({"prospect_id": ["L1", "L2", "L3"],
    ...                   "created": ["2024-01-05", "2024-03-01", "2024-01-20"],
    ...                   "converted_customer_id": [None, None, "C9"]})
    >>> stage_prospects(p, as_of="2024-02-01").astype(str)
    prospect_id
    L1    acquisition
    Name: stage, dtype: str
    """
    frame = _prospect_frame(prospects)
    keep = np.ones(len(frame), dtype=bool)
    if exclude_converted and "converted_customer_id" in frame.columns:
        keep &= frame["converted_customer_id"].isna().to_numpy()
    if as_of is not None:
        day = _date(as_of, "as_of")
        created = _created(frame)
        if created is not None:
            keep &= ~(created > day).to_numpy()
    ids = pd.Index(frame["prospect_id"].to_numpy()[keep], name="prospect_id")
    return stage_series(np.full(len(ids), ACQUISITION, dtype=np.intp), ids)


def _resolve_stager(stager: Any) -> Any:
    if isinstance(stager, str):
        return default_registry().get("stagers", stager)
    return stager


def _cut(data: CustomerData, day: pd.Timestamp) -> CustomerData:
    cutoff = day + pd.Timedelta(days=1)
    frames = {}
    for kind, frame in data.frames.items():
        column = _DATED.get(kind)
        if column is not None and column in frame.columns:
            frames[kind] = frame.loc[(frame[column] < cutoff).to_numpy()]
        else:
            frames[kind] = frame
    return attrs.evolve(data, frames=frames, as_of=day)


def _prospect_stages(prospects: pd.DataFrame, day: pd.Timestamp, customers: pd.Index) -> pd.Series:
    created = _created(prospects)
    keep = np.ones(len(prospects), dtype=bool)
    if created is not None:
        keep &= ~(created > day).to_numpy()
    ids = prospects["prospect_id"].astype(object)
    labels = ids.map(lambda v: f"{PROSPECT_PREFIX}{v}")
    if "converted_customer_id" in prospects.columns:
        conv = prospects["converted_customer_id"].astype(object)
        linked = conv.notna().to_numpy()
        labels = labels.where(~linked, conv)
        # a converted prospect is staged by its purchases once it has some
        keep &= ~(linked & conv.isin(customers).to_numpy())
    keys = pd.Index(labels.to_numpy()[keep], dtype=object)
    keys = keys[~keys.duplicated()]
    return stage_series(np.full(len(keys), ACQUISITION, dtype=np.intp), keys)


def _labels(stager: Any, view: pd.DataFrame, column: str) -> pd.Series:
    if column == "stage":
        result: pd.Series = stager.stage(view).astype(object)
        return result
    if callable(getattr(stager, "stage_frame", None)):
        result = stager.stage_frame(view)["status"].astype(object)
        return result
    return pd.Series(ACTIVE, index=view.index, dtype=object)


@validate_args(
    {
        "data": [instance_of(CustomerData, "CustomerData (CustomerData.from_frames)")],
        "stager": [
            NON_EMPTY_STR,
            instance_of(
                Stager,
                "a registry name (e.g. 'rules') or an object with requires, provides, fit "
                "and stage",
            ),
        ],
        "include_prospects": [bool],
        "include_records": [bool],
        "column": [Options(frozenset({"stage", "status"}))],
    }
)
def stage_history(
    data: CustomerData,
    at: Iterable[Any],
    *,
    stager: Any = "rules",
    include_prospects: bool = False,
    include_records: bool = True,
    column: str = "stage",
) -> pd.DataFrame:
    """Stage every customer at several as-of dates (or give its status then).

    For each date the records are cut at that day (transactions,
    interactions, feedback, events and touches after it are left out), the
    customer view is rebuilt with :func:`crmkit.data.summarize` as of that
    day, and a fresh copy of ``stager`` is fitted on it and stages it. No
    later information leaks into an earlier stage.

    Parameters
    ----------
    data : CustomerData
        The validated records (``CustomerData.from_frames``).
    at : iterable of date-like
        The as-of dates (distinct, on or before ``data.as_of``); the result
        has them in increasing order.
    stager : str or Stager, default="rules"
        A stager registry name (``"rules"``, ``"model"`` ...) or a stager
        object (never modified; copies are fitted).
    include_prospects : bool, default=False
        Add the prospects of ``data`` (``prospects`` records) as
        ``acquisition`` from their ``created`` day. A prospect with a
        ``converted_customer_id`` is listed under that customer id until
        the customer's first purchase; other prospects under
        ``"prospect:<prospect_id>"`` (prospect and customer ids may
        overlap).
    include_records : bool, default=True
        Build the views with the non-transaction aggregates (needed by
        stagers that read them; False is faster).
    column : {"stage", "status"}, default="stage"
        What to report per date: the stage, or the status (``"active"`` /
        ``"lapsed"``, from the stager's ``stage_frame``; a stager without
        one gives ``"active"``; prospects are ``"active"``).

    Returns
    -------
    pandas.DataFrame
        One row per customer (and prospect) present at any date, in order
        of appearance; one categorical column per date (categories
        :data:`crmkit.plugins.STAGES`, or :data:`crmkit.plugins.STATUSES`
        for ``column="status"``; columns a ``DatetimeIndex`` named
        ``"as_of"``). A missing value means the customer had not bought
        (or been identified) yet at that date.

    Raises
    ------
    SchemaError
        For a date that cannot be read, is after ``data.as_of`` or appears
        twice; for invalid prospect records; or from the stager.
    InvalidParameterError
        For ``data`` that is not a ``CustomerData``, an empty ``at``, an
        invalid ``stager`` or ``column``.
    PluginNotFoundError
        For an unknown stager name.

    See Also
    --------
    stage_migration : the transition matrix between two of the columns.

    Examples
    --------
    >>> import pandas as pd
    >>> from crmkit.data import CustomerData
    >>> tx = pd.DataFrame({"customer_id": ["a", "a", "a", "b"],
    ...                    "date": ["2024-01-02", "2024-02-01", "2024-03-01", "2024-05-01"],
    ...                    "amount": [10.0, 12.0, 9.0, 30.0]})
    >>> data = CustomerData.from_frames(transactions=tx, as_of="2024-12-31")
    >>> history = stage_history(data, ["2024-01-31", "2024-06-30", "2024-12-31"])
    >>> history
    as_of        2024-01-31   2024-06-30  2024-12-31
    customer_id
    a            onboarding  development   retention
    b                   NaN   onboarding  onboarding
    >>> stage_history(data, ["2024-01-31", "2024-06-30", "2024-12-31"], column="status")
    as_of       2024-01-31 2024-06-30 2024-12-31
    customer_id
    a               active     lapsed     lapsed
    b                  NaN     active     lapsed
    """
    if isinstance(at, (str, pd.Timestamp)) or not isinstance(at, Iterable):
        at = [at]
    days = [_date(v, "at") for v in at]
    if not days:
        raise parameter_error("stage_history", "at", "a date or a non-empty sequence of dates", at)
    failures = []
    late = [d for d in days if d > data.as_of]
    if late:
        failures.append(
            SchemaFailure(
                frame="arguments",
                column="at",
                check=f"has dates after the data's as_of={data.as_of.date()}",
                n_failing=len(late),
                values=tuple(str(d.date()) for d in late[:5]),
            )
        )
    seen = pd.Index(days)
    if seen.has_duplicates:
        dup = seen[seen.duplicated()].unique()
        failures.append(
            SchemaFailure(
                frame="arguments",
                column="at",
                check="repeats dates",
                n_failing=len(dup),
                values=tuple(str(d.date()) for d in dup[:5]),
            )
        )
    if failures:
        raise SchemaError(failures)
    template = _resolve_stager(stager)
    prospects = data.get("prospects") if include_prospects else None
    if prospects is not None:
        _prospect_frame(prospects)
    columns: dict[pd.Timestamp, pd.Series] = {}
    for day in sorted(days):
        cut = _cut(data, day)
        parts = []
        if len(cut.transactions):
            view = summarize(cut, include_records=include_records)
            fitted = copy.deepcopy(template).fit(view)
            parts.append(_labels(fitted, view, column))
            customers = view.index
        else:
            customers = pd.Index([])
        if prospects is not None:
            found = _prospect_stages(prospects, day, customers).astype(object)
            if column == "status":
                found = pd.Series(ACTIVE, index=found.index, dtype=object)
            parts.append(found)
        joined = pd.concat(parts) if parts else pd.Series([], dtype=object)
        columns[day] = joined
    indexes = [series.index for series in columns.values()]
    index = pd.Index(indexes[0].append(indexes[1:]).drop_duplicates(keep="first"))
    index = index.rename("customer_id")
    dtype = STAGE_DTYPE if column == "stage" else STATUS_DTYPE
    out: pd.DataFrame = pd.DataFrame(
        {day: series.reindex(index).astype(dtype) for day, series in columns.items()},
        index=index,
    )
    out.columns = pd.DatetimeIndex(list(columns), name="as_of")
    return out
