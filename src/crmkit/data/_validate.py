"""Lazy validation of record frames: every problem collected, nothing mutated."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from crmkit._checks import first_labels as _first
from crmkit.data._columns import RECORD_SCHEMAS, ColumnMap, RoleSpec
from crmkit.data._dates import check_dates
from crmkit.exceptions import InvalidParameterError, SchemaFailure

__all__ = ["validate_frame", "to_pandas", "as_timestamp"]


def to_pandas(frame: Any, kind: str, *, collect: bool = False) -> pd.DataFrame:
    """Return a pandas DataFrame for a pandas, polars, DuckDB or other narwhals frame.

    Parameters
    ----------
    frame : DataFrame-like
        The user's records.
    kind : str
        Record kind, for messages.
    collect : bool, default=False
        Whether a distributed frame (Spark, Dask) may be collected onto
        this machine. Local lazy frames (polars LazyFrame, DuckDB) are
        always collected.

    Returns
    -------
    DataFrame
        The same frame (pandas input is returned as is, never modified).

    Raises
    ------
    InvalidParameterError
        When the object is not a data frame (also a :class:`TypeError`), or
        is a Spark or Dask frame and ``collect`` is False (the message points
        to :func:`crmkit.engines.assess` and :func:`crmkit.engines.fit`).

    Examples
    --------
    >>> to_pandas([1, 2], "transactions")
    Traceback (most recent call last):
    ...
    crmkit.exceptions.InvalidParameterError: transactions must be a data frame (...); got list
    """
    if isinstance(frame, pd.DataFrame):
        return frame
    try:
        import narwhals as nw

        native = nw.from_native(frame)
    except TypeError:
        raise InvalidParameterError(
            f"{kind} must be a data frame (pandas, polars, DuckDB ...); got {type(frame).__name__}"
        ) from None
    impl = native.implementation
    if not collect and (impl.is_dask() or impl.is_pyspark() or impl.is_pyspark_connect()):
        raise InvalidParameterError(
            f"{kind} is a {impl.value} frame: CustomerData holds pandas frames, so this would "
            "collect every row onto this machine. Run the Playbook inside the engine with "
            "crmkit.engines.assess(playbook, ...) and fit it with crmkit.engines.fit(...), "
            "build the customer view with crmkit.summarize(frame), or pass collect=True to "
            "collect the records on purpose"
        )
    if isinstance(native, nw.LazyFrame):
        native = native.collect()
    out: pd.DataFrame = native.to_pandas()
    return out


def _check_ids(
    kind: str, col: str, s: pd.Series, spec: RoleSpec, fails: list[SchemaFailure]
) -> pd.Series | None:
    if isinstance(s.dtype, pd.CategoricalDtype):
        cats = s.cat.categories
        if not s.isna().any():
            s = s.astype(cats.dtype)
        else:  # a missing category cannot be cast to integer categories
            s = s.astype(object)
    if s.dtype.kind == "b":
        fails.append(
            SchemaFailure(
                frame=kind,
                column=col,
                check="is boolean; ids must be integers or strings",
                n_failing=len(s),
                rows=tuple(s.index[:5].tolist()),
            )
        )
        return None
    if s.dtype.kind == "M" or s.dtype.kind == "m":
        fails.append(
            SchemaFailure(
                frame=kind,
                column=col,
                check=f"has dtype {s.dtype}; ids must be integers or strings",
                n_failing=len(s),
                rows=tuple(s.index[:5].tolist()),
            )
        )
        return None
    null = s.isna().to_numpy()
    if null.any():
        if not spec.nullable:
            fails.append(
                SchemaFailure(
                    frame=kind,
                    column=col,
                    check="contains null ids",
                    n_failing=int(null.sum()),
                    rows=_first(s.index, null),
                )
            )
            return None
    if isinstance(s.dtype, pd.StringDtype):
        return s
    if s.dtype.kind == "O":
        vals = s[~null]
        inferred = pd.api.types.infer_dtype(vals, skipna=True)
        if inferred == "string":
            return s
        if inferred == "integer":
            return s.astype(np.int64) if not null.any() else s
        types = vals.map(
            lambda v: (
                "str"
                if isinstance(v, str)
                else (
                    "int"
                    if isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))
                    else type(v).__name__
                )
            )
        )
        counts = types.value_counts()
        if len(counts) > 1:
            minority = counts.index[-1]
            bad = (types == minority).to_numpy()
            desc = ", ".join(f"{n} {t}" for t, n in counts.items())
            fails.append(
                SchemaFailure(
                    frame=kind,
                    column=col,
                    check=f"mixes id types ({desc}); one customer could be split in two "
                    "(e.g. 7 and '7'); convert all ids to one type",
                    n_failing=int(bad.sum()),
                    rows=_first(vals.index, bad),
                    values=tuple(vals[bad][:5].tolist()),
                )
            )
            return None
        if len(counts) == 1 and counts.index[0] not in ("str", "int"):
            fails.append(
                SchemaFailure(
                    frame=kind,
                    column=col,
                    check=f"holds {counts.index[0]} values; ids must be integers or strings",
                    n_failing=int(counts.iloc[0]),
                    rows=tuple(vals.index[:5].tolist()),
                )
            )
            return None
        if len(counts) == 1 and counts.index[0] == "int":
            return s.astype(np.int64) if not null.any() else s
    return s


def _check_numbers(
    kind: str, col: str, s: pd.Series, spec: RoleSpec, fails: list[SchemaFailure]
) -> pd.Series | None:
    if s.dtype.kind == "b" or s.dtype.kind not in "iuf":
        if s.dtype.kind == "O" or isinstance(s.dtype, pd.StringDtype):
            given = s.dropna()
            bad = pd.to_numeric(given, errors="coerce").isna().to_numpy()
            some = 0 < bad.sum() < len(given)
            hint = (
                f" ({int(bad.sum())} of {len(given)} values are not numbers, e.g. a "
                "decimal comma, a currency sign or a word: fix those rows)"
                if some
                else " (numbers stored as text: convert with pd.to_numeric)"
                if len(given) and not bad.any()
                else ""
            )
            shown = given[bad] if bad.any() else given
            fails.append(
                SchemaFailure(
                    frame=kind,
                    column=col,
                    check=f"must be numeric, got text{hint}",
                    n_failing=int(bad.sum()) if some else len(s),
                    rows=tuple(shown.index[:5].tolist()),
                    values=tuple(shown[:5].tolist()),
                )
            )
        else:
            fails.append(
                SchemaFailure(
                    frame=kind,
                    column=col,
                    check=f"must be numeric, got dtype {s.dtype}",
                    n_failing=len(s),
                    rows=tuple(s.index[:5].tolist()),
                )
            )
        return None
    arr = s.to_numpy(dtype=np.float64, na_value=np.nan)
    lo, hi = (float(arr.min()), float(arr.max())) if len(arr) else (0.0, 0.0)
    if not (np.isfinite(lo) and np.isfinite(hi)):  # NaN or inf somewhere: say where
        nan = np.isnan(arr)
        if nan.any() and not spec.nullable:
            fails.append(
                SchemaFailure(
                    frame=kind,
                    column=col,
                    check="contains NaN (a missing amount is not 0)",
                    n_failing=int(nan.sum()),
                    rows=_first(s.index, nan),
                )
            )
        inf = np.isinf(arr)
        if inf.any():
            fails.append(
                SchemaFailure(
                    frame=kind,
                    column=col,
                    check="contains infinite values",
                    n_failing=int(inf.sum()),
                    rows=_first(s.index, inf),
                    values=tuple(arr[inf][:5].tolist()),
                )
            )
    elif max(-lo, hi) <= 1e15:  # the usual case: two reductions, no row-sized buffers
        return s
    big = np.abs(np.where(np.isfinite(arr), arr, 0.0)) > 1e15
    if big.any():
        fails.append(
            SchemaFailure(
                frame=kind,
                column=col,
                check="has implausibly large values (> 1e15); sums would lose precision",
                n_failing=int(big.sum()),
                rows=_first(s.index, big),
                values=tuple(arr[big][:5].tolist()),
            )
        )
    return s


def _check_bool(
    kind: str, col: str, s: pd.Series, spec: RoleSpec, fails: list[SchemaFailure]
) -> pd.Series | None:
    if s.dtype.kind == "b":
        return s
    allowed = {True, False}
    vals = s.dropna()
    try:
        bad = ~vals.isin(list(allowed)).to_numpy()
    except TypeError:
        bad = np.ones(len(vals), dtype=bool)
    if bad.any():
        fails.append(
            SchemaFailure(
                frame=kind,
                column=col,
                check="must be boolean (True/False or 0/1)",
                n_failing=int(bad.sum()),
                rows=_first(vals.index, bad),
                values=tuple(vals[bad][:5].tolist()),
            )
        )
        return None
    return s.map(lambda v: None if pd.isna(v) else bool(v)).astype("boolean")


_CHECKS = {
    "id": _check_ids,
    "date": check_dates,
    "number": _check_numbers,
    "bool": _check_bool,
}


def validate_frame(
    frame: pd.DataFrame, kind: str, columns: ColumnMap, fails: list[SchemaFailure]
) -> pd.DataFrame:
    """Check one record frame and return a new frame with canonical column names.

    Problems are appended to ``fails`` (lazy validation); the caller raises
    one :class:`SchemaError` for all of them. Columns that are not roles are
    kept under their own names. The input is never modified.

    Parameters
    ----------
    frame : DataFrame
        The user's records.
    kind : str
        Record kind (a key of ``RECORD_SCHEMAS``).
    columns : ColumnMap
        The user's column names.
    fails : list of SchemaFailure
        Collector.

    Returns
    -------
    DataFrame
        Validated copy: canonical role names, dates as ``datetime64[ns]``
        (timezone-aware dates converted to naive UTC), the original index.

    Raises
    ------
    InvalidParameterError
        For an unknown ``kind``, ``columns`` that is not a ColumnMap,
        ``fails`` that is not a list, or a ``frame`` that is not a
        DataFrame (problems in the records go to ``fails`` instead).

    Examples
    --------
    >>> import pandas as pd
    >>> fails = []
    >>> df = pd.DataFrame({"id": [1, 2], "date": ["2024-01-01", "x"], "amount": [1.0, 2.0]})
    >>> _ = validate_frame(df, "transactions", ColumnMap({"customer_id": "id"}), fails)
    >>> print(fails[0].describe())
    transactions['date']: has values that are not dates (1 row; rows [1]; values ['x'])
    """
    if not isinstance(kind, str) or kind not in RECORD_SCHEMAS:
        raise InvalidParameterError(
            f"validate_frame: 'kind' must be one of {', '.join(RECORD_SCHEMAS)}; got {kind!r}"
        )
    if not isinstance(columns, ColumnMap):
        raise InvalidParameterError(
            f"validate_frame: 'columns' must be a ColumnMap; got {type(columns).__name__}"
        )
    if not isinstance(fails, list):
        raise InvalidParameterError(
            f"validate_frame: 'fails' must be a list to collect failures in; "
            f"got {type(fails).__name__}"
        )
    schema: Mapping[str, RoleSpec] = RECORD_SCHEMAS[kind]
    if not isinstance(frame, pd.DataFrame):
        raise InvalidParameterError(
            f"{kind} must be a pandas DataFrame; got {type(frame).__name__}"
        )
    if frame.columns.duplicated().any():
        dup = frame.columns[frame.columns.duplicated()].tolist()
        fails.append(
            SchemaFailure(
                frame=kind, column=str(dup[0]), check="appears more than once as a column"
            )
        )
        return frame
    out: dict[str, pd.Series] = {}
    used: set[str] = set()
    for role, spec in schema.items():
        col = columns.column_for(kind, role)
        if col not in frame.columns:
            if spec.required:
                hint = ""
                if role != col:
                    hint = f" (mapped from role {role!r})"
                avail = ", ".join(map(str, frame.columns[:12]))
                fails.append(
                    SchemaFailure(
                        frame=kind,
                        column=col,
                        check=f"is missing{hint}; columns present: {avail}. Map yours with "
                        f"columns={{{role!r}: 'your_column'}}",
                    )
                )
            continue
        used.add(col)
        s = frame[col]
        check = _CHECKS.get(spec.kind)
        checked = check(kind, col, s, spec, fails) if check else s
        if checked is not None:
            out[role] = checked
    for col in frame.columns:
        if col not in used and col not in out:
            out[str(col)] = frame[col]
    if len(frame) == 0 and not fails:
        pass
    # copy=False: no consolidation of the columns into new 2-D blocks (a copy of
    # every row); copy-on-write still keeps the caller's frame from any change
    result: pd.DataFrame = pd.DataFrame(out, index=frame.index, copy=False)
    return result


#: The first and last days a date argument may name (pandas' nanosecond range, whole days).
_FIRST_DAY = pd.Timestamp("1677-09-22")
_LAST_DAY = pd.Timestamp("2262-04-10")


def as_timestamp(value: Any, name: str) -> pd.Timestamp:
    """Read a date argument such as ``as_of`` into a naive :class:`pandas.Timestamp`.

    Date arguments are calendar days. A timezone-aware value keeps the day
    and time as written and loses its offset (``"2024-06-01T23:30-05:00"``
    is 1 June 2024 23:30, not 2 June in UTC): its day never shifts.

    Parameters
    ----------
    value : str, date, datetime or Timestamp
        The date.
    name : str
        The argument name, for messages.

    Returns
    -------
    Timestamp
        Naive, in nanoseconds.

    Raises
    ------
    InvalidParameterError
        For numbers or other non-dates, and for days outside the range
        pandas can compute with (1677-09-22 .. 2262-04-10) (also a
        :class:`TypeError`).

    Examples
    --------
    >>> as_timestamp("1997-09-30", "as_of")
    Timestamp('1997-09-30 00:00:00')
    >>> as_timestamp("2024-06-01T23:30-05:00", "as_of")
    Timestamp('2024-06-01 23:30:00')
    >>> as_timestamp("2300-01-01", "as_of")
    Traceback (most recent call last):
    ...
    crmkit.exceptions.InvalidParameterError: as_of='2300-01-01' is outside the dates crmkit ...
    """
    if isinstance(value, (bool, int, float, np.number)):
        raise InvalidParameterError(
            f"{name} must be a date (e.g. '2024-12-31'), got the number {value!r}"
        )
    try:
        ts: pd.Timestamp = pd.Timestamp(value)
    except (ValueError, TypeError, OverflowError) as exc:
        if isinstance(exc, (pd.errors.OutOfBoundsDatetime, OverflowError)):
            raise InvalidParameterError(_out_of_range(name, value)) from None
        raise InvalidParameterError(
            f"{name} must be a date (e.g. '2024-12-31'); got {value!r}"
        ) from exc
    if pd.isna(ts):
        raise InvalidParameterError(f"{name} must be a date; got a missing value")
    if ts.tzinfo is not None:
        ts = ts.tz_localize(None)  # the wall-clock time as written: the day never shifts
    if ts < _FIRST_DAY or ts >= _LAST_DAY + pd.Timedelta(days=1):
        raise InvalidParameterError(_out_of_range(name, value))
    out: pd.Timestamp = ts.as_unit("ns")
    return out


def _out_of_range(name: str, value: Any) -> str:
    return (
        f"{name}={value!r} is outside the dates crmkit can compute with "
        f"({_FIRST_DAY.date()} .. {_LAST_DAY.date()}); give a real "
        "analysis date, not a placeholder such as 9999-12-31"
    )
