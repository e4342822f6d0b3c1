"""Input checks of :func:`crmkit.lifecycle.pipeline_report` (every problem listed)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from crmkit._checks import SHOWN, failure_at, first_labels
from crmkit.domain import PipelineStage
from crmkit.exceptions import SchemaError, SchemaFailure

__all__ = ["PIPELINE_STAGES", "STATUSES", "first_rows", "read_status", "stage_map", "validate"]

#: The default pipeline (seed 003): identification, marketing actions, offer,
#: negotiation, order; by default each stage's date column has its name.
PIPELINE_STAGES: tuple[str, ...] = tuple(s.value for s in PipelineStage)

#: Opportunity statuses, in code order (0 open, 1 won, 2 lost).
STATUSES: tuple[str, ...] = ("open", "won", "lost")

_MAX_SHOWN = SHOWN


#: The first (at most 5) labels of an index where a mask holds (the kernel's
#: :func:`crmkit._checks.first_labels`, under the name this package uses).
first_rows = first_labels


def stage_map(stage_dates: Mapping[str, str] | Sequence[str] | None) -> dict[str, str]:
    """Read the ``stage_dates`` argument into ``{stage name: date column}``.

    Parameters
    ----------
    stage_dates : mapping, sequence of str or None
        As given to :func:`crmkit.lifecycle.pipeline_report`.

    Returns
    -------
    dict of str to str
        In pipeline order.

    Raises
    ------
    SchemaError
        For another type, fewer than two stages or a repeated column.

    Examples
    --------
    >>> stage_map(["lead", "won"])
    {'lead': 'lead', 'won': 'won'}
    >>> list(stage_map(None))
    ['identified', 'marketing', 'offer', 'negotiation', 'order']
    """
    if stage_dates is None:
        return {s: s for s in PIPELINE_STAGES}
    if isinstance(stage_dates, Mapping):
        mapping = {str(k): v for k, v in stage_dates.items()}
    elif isinstance(stage_dates, Sequence) and not isinstance(stage_dates, str):
        mapping = {str(c): c for c in stage_dates}
    else:
        raise SchemaError(
            [
                SchemaFailure(
                    frame="arguments",
                    column="stage_dates",
                    check="must be a mapping of stage name to date column, or a sequence of date "
                    f"columns in pipeline order; got {type(stage_dates).__name__}",
                )
            ]
        )
    columns = list(mapping.values())
    if len(mapping) < 2 or len(set(columns)) != len(columns):
        raise SchemaError(
            [
                SchemaFailure(
                    frame="arguments",
                    column="stage_dates",
                    check="must name at least two stages with distinct date columns",
                )
            ]
        )
    return mapping


def _parse_dates(frame: pd.DataFrame, column: str, failures: list[SchemaFailure]) -> Any:
    s = frame[column]
    if s.dtype.kind in "iufb":
        failures.append(
            SchemaFailure(
                frame="opportunities",
                column=column,
                check=f"holds numbers (dtype {s.dtype}), not dates",
            )
        )
        return None
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        s = s.dt.tz_convert("UTC").dt.tz_localize(None)
    elif s.dtype.kind != "M":
        parsed = pd.to_datetime(s, errors="coerce", format="mixed")
        bad = parsed.isna().to_numpy() & s.notna().to_numpy()
        if bad.any():
            failures.append(
                SchemaFailure(
                    frame="opportunities",
                    column=column,
                    check="has values that are not dates",
                    n_failing=int(bad.sum()),
                    rows=first_rows(frame.index, bad),
                    values=tuple(s[bad][:_MAX_SHOWN].tolist()),
                )
            )
            return None
        s = parsed
    return s.dt.normalize().to_numpy(dtype="datetime64[ns]")


def read_status(
    frame: pd.DataFrame, status: str, ordered: npt.NDArray[np.bool_], fails: list[SchemaFailure]
) -> npt.NDArray[np.int64]:
    """Status codes (0 open, 1 won, 2 lost) of the opportunities; problems go to ``fails``.

    Parameters
    ----------
    frame : pandas.DataFrame
        The opportunities.
    status : str
        The status column: open, won or lost in any case, or missing (won
        with an order date, else open).
    ordered : numpy.ndarray of bool
        Whether each opportunity has an order date.
    fails : list of SchemaFailure
        Collects unknown statuses and statuses contradicting the order date.

    Returns
    -------
    numpy.ndarray of int64

    Examples
    --------
    >>> f = pd.DataFrame({"s": ["Lost", None, "open"]})
    >>> read_status(f, "s", np.array([False, True, False]), []).tolist()
    [2, 1, 0]
    """
    raw = frame[status]
    text = raw.astype(object).where(raw.notna(), None)
    lowered = np.asarray(
        [None if v is None else str(v).strip().lower() for v in text], dtype=object
    )
    known = np.asarray([v is None or v in STATUSES for v in lowered])
    if not known.all():
        fails.append(
            SchemaFailure(
                frame="opportunities",
                column=status,
                check=f"holds values other than {', '.join(STATUSES)} (or missing)",
                n_failing=int((~known).sum()),
                rows=first_rows(frame.index, ~known),
                values=tuple(raw[~known][:_MAX_SHOWN].tolist()),
            )
        )
    code = np.where(ordered, 1, 0).astype(np.int64)  # 0 open, 1 won, 2 lost
    code = np.where(lowered == "lost", 2, code)
    clash = ordered & np.isin(lowered, ["open", "lost"])
    if clash.any():
        fails.append(
            SchemaFailure(
                frame="opportunities",
                column=status,
                check="says open or lost for opportunities with an order date",
                n_failing=int(clash.sum()),
                rows=first_rows(frame.index, clash),
            )
        )
    unordered_win = ~ordered & (lowered == "won")
    if unordered_win.any():
        fails.append(
            SchemaFailure(
                frame="opportunities",
                column=status,
                check="says won for opportunities without an order date",
                n_failing=int(unordered_win.sum()),
                rows=first_rows(frame.index, unordered_win),
            )
        )
    return code


def _as_of_day(as_of: Any, dates: Any, present: Any) -> Any:
    """The analysis day: ``as_of`` read as a date, or the last stage date."""
    if as_of is None:
        day = pd.Timestamp(dates[present].max()) if present.any() else pd.Timestamp("1970-01-01")
    else:
        try:
            day = pd.Timestamp(as_of)
        except (TypeError, ValueError):
            day = pd.NaT
        if pd.isna(day) or isinstance(as_of, (bool, int, float, np.number)):
            raise SchemaError(
                [
                    SchemaFailure(
                        frame="arguments",
                        column="as_of",
                        check=f"cannot be read as a date ({as_of!r})",
                    )
                ]
            )
        day = day.tz_convert("UTC").tz_localize(None) if day.tzinfo is not None else day
    return day.normalize() if not pd.isna(day) else day


def validate(
    opportunities: object,
    mapping: dict[str, str],
    as_of: Any,
    value: str | None,
    status: str | None,
) -> tuple[pd.DataFrame, npt.NDArray[Any], pd.Timestamp]:
    """Check the opportunities frame and read its stage dates.

    Parameters
    ----------
    opportunities : object
        The candidate frame, one row per opportunity.
    mapping : dict of str to str
        ``{stage name: date column}`` in pipeline order.
    as_of : date-like or None
        The report date (None: the latest date in the frame).
    value, status : str or None
        Optional value and status columns.

    Returns
    -------
    frame : pandas.DataFrame
        ``opportunities`` itself.
    dates : numpy.ndarray of datetime64[ns], shape (n_opportunities, n_stages)
        The stage dates (days), NaT where not reached.
    as_of : pandas.Timestamp
        The report day.

    Raises
    ------
    SchemaError
        Listing every problem (see :func:`crmkit.lifecycle.pipeline_report`).

    Examples
    --------
    >>> f = pd.DataFrame({"a": ["2024-01-01"], "b": ["2023-12-01"]}, index=["o1"])
    >>> validate(f, {"a": "a", "b": "b"}, None, None, None)
    Traceback (most recent call last):
    ...
    crmkit.exceptions.SchemaError: 1 problem in the input:
      - opportunities['b']: is earlier than the date of an earlier stage (dates out of order) \
(1 row; rows ['o1'])
    """
    if not isinstance(opportunities, pd.DataFrame):
        raise SchemaError(
            [
                SchemaFailure(
                    frame="opportunities",
                    column="<frame>",
                    check=f"is not a pandas DataFrame (got {type(opportunities).__name__})",
                )
            ]
        )
    frame = opportunities
    fails: list[SchemaFailure] = []
    wanted = [*mapping.values(), *(c for c in (value, status) if c is not None)]
    for column in wanted:
        if column not in frame.columns:
            fails.append(SchemaFailure(frame="opportunities", column=column, check="is missing"))
    if not frame.index.is_unique:
        dup = np.asarray(frame.index.duplicated(keep=False))
        fails.append(
            failure_at(
                frame="opportunities",
                column="<index>",
                check="has duplicate opportunity ids",
                mask=dup,
                labels=frame.index,
            )
        )
    if len(frame) == 0:
        fails.append(
            SchemaFailure(frame="opportunities", column="<frame>", check="has no opportunities")
        )
    if fails:
        raise SchemaError(fails)
    parsed = [_parse_dates(frame, c, fails) for c in mapping.values()]
    if fails:
        raise SchemaError(fails)
    dates = np.column_stack(parsed)
    present = ~np.isnat(dates)
    none = ~present.any(axis=1)
    if none.any():
        fails.append(
            failure_at(
                frame="opportunities",
                column="<frame>",
                check="has opportunities without any stage date",
                mask=none,
                labels=frame.index,
            )
        )
    stamps = np.where(present, dates.view(np.int64), np.iinfo(np.int64).min)
    before = np.maximum.accumulate(stamps, axis=1)
    columns = list(mapping.values())
    for k in range(1, len(columns)):
        bad = present[:, k] & (stamps[:, k] < before[:, k - 1])
        if bad.any():
            fails.append(
                failure_at(
                    frame="opportunities",
                    column=columns[k],
                    check="is earlier than the date of an earlier stage (dates out of order)",
                    mask=bad,
                    labels=frame.index,
                )
            )
    day = _as_of_day(as_of, dates, present)
    if not pd.isna(day):
        for k, column in enumerate(columns):
            late = present[:, k] & (dates[:, k] > np.datetime64(day))
            if late.any():
                fails.append(
                    failure_at(
                        frame="opportunities",
                        column=column,
                        check=f"has dates after as_of={day.date()}",
                        mask=late,
                        labels=frame.index,
                    )
                )
    if value is not None:
        v = frame[value]
        if not pd.api.types.is_numeric_dtype(v.dtype) or v.dtype.kind == "b":
            fails.append(
                SchemaFailure(
                    frame="opportunities", column=value, check=f"is not numeric (dtype {v.dtype})"
                )
            )
        else:
            arr = v.to_numpy(dtype=np.float64, na_value=np.nan)
            bad = np.isinf(arr) | (arr < 0)
            if bad.any():
                fails.append(
                    failure_at(
                        frame="opportunities",
                        column=value,
                        check="holds negative or infinite values",
                        mask=bad,
                        labels=frame.index,
                        values=arr,
                    )
                )
    if fails:
        raise SchemaError(fails)
    return frame, dates, day
