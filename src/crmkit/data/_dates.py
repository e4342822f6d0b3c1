"""Reading a date column of the records: parsing, mixed formats, ranges (for ``validate_frame``)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from crmkit._checks import first_labels as _first
from crmkit.data._columns import RoleSpec
from crmkit.exceptions import SchemaFailure

__all__ = ["check_dates"]


def check_dates(
    kind: str, col: str, s: pd.Series, spec: RoleSpec, fails: list[SchemaFailure]
) -> pd.Series | None:
    if s.dtype.kind in "iuf" or s.dtype.kind == "b":
        fails.append(
            SchemaFailure(
                frame=kind,
                column=col,
                check=f"holds numbers (dtype {s.dtype}), not dates; integers are not read as "
                "epoch nanoseconds — convert explicitly, e.g. pd.to_datetime(col, unit='s')",
                n_failing=len(s),
                rows=tuple(s.index[:5].tolist()),
                values=tuple(s[:5].tolist()),
            )
        )
        return None
    null = s.isna().to_numpy()
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        out = s.dt.tz_convert("UTC").dt.tz_localize(None)
    elif s.dtype.kind == "M":
        out = s
    else:
        vals = s[~null]
        mixed = _object_dates_failure(kind, col, vals) if vals.dtype == object else None
        if mixed is not None:
            fails.append(mixed)
            return None
        one_format = _parse_one_format(s)
        if one_format is not None:
            parsed = one_format
        else:
            try:
                parsed = pd.to_datetime(s, errors="coerce", format="mixed", utc=False)
            except (ValueError, TypeError):
                try:
                    parsed = pd.to_datetime(s, errors="coerce", utc=True)
                except (ValueError, TypeError) as exc:
                    fails.append(
                        SchemaFailure(
                            frame=kind,
                            column=col,
                            check=f"cannot be read as dates ({exc})",
                            n_failing=len(s),
                            rows=tuple(s.index[:5].tolist()),
                        )
                    )
                    return None
        if isinstance(parsed.dtype, pd.DatetimeTZDtype):
            parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
        unparsed = parsed.isna().to_numpy() & ~null
        if unparsed.any():
            fails.append(
                SchemaFailure(
                    frame=kind,
                    column=col,
                    check="has values that are not dates",
                    n_failing=int(unparsed.sum()),
                    rows=_first(s.index, unparsed),
                    values=tuple(s[unparsed][:5].tolist()),
                )
            )
            return None
        ambiguous = _ambiguous_day_month(s) if one_format is None else np.zeros(len(s), bool)
        if ambiguous.any():
            fails.append(
                SchemaFailure(
                    frame=kind,
                    column=col,
                    check="mixes date formats, and these dates read differently day-first "
                    "and month-first (01/02 is 1 February or 2 January); parse the column "
                    "yourself, e.g. pd.to_datetime(col, format='%d/%m/%Y')",
                    n_failing=int(ambiguous.sum()),
                    rows=_first(s.index, ambiguous),
                    values=tuple(s[ambiguous][:5].tolist()),
                )
            )
            return None
        out = parsed
    if null.any() and not spec.nullable:
        fails.append(
            SchemaFailure(
                frame=kind,
                column=col,
                check="contains missing dates (NaT/None)",
                n_failing=int(null.sum()),
                rows=_first(s.index, null),
            )
        )
        return None
    outside = (out.notna() & ((out < pd.Timestamp.min) | (out > pd.Timestamp.max))).to_numpy()
    if outside.any():
        fails.append(
            SchemaFailure(
                frame=kind,
                column=col,
                check=f"has dates outside the supported range {pd.Timestamp.min.date()} .. "
                f"{pd.Timestamp.max.date()} (placeholders such as 9999-12-31?); drop or correct "
                "these rows",
                n_failing=int(outside.sum()),
                rows=_first(s.index, outside),
                values=tuple(out[outside][:5].astype(str).tolist()),
            )
        )
        return None
    result: pd.Series = out.astype("datetime64[ns]") if out.dtype != "datetime64[ns]" else out
    return result


def _object_dates_failure(kind: str, col: str, vals: pd.Series) -> SchemaFailure | None:
    """The failure of an object column of dates holding numbers, or mixing aware and naive."""
    if not len(vals):
        return None
    kinds = vals.map(
        lambda v: (
            "aware"
            if getattr(v, "tzinfo", None) is not None and v.tzinfo.utcoffset(v) is not None
            else type(v).__name__
        )
    )
    nonstr = kinds[kinds.isin(["int", "float", "bool"])]
    if len(nonstr):
        bad = kinds.isin(["int", "float", "bool"]).to_numpy()
        return SchemaFailure(
            frame=kind,
            column=col,
            check="holds numbers among dates",
            n_failing=int(bad.sum()),
            rows=_first(vals.index, bad),
            values=tuple(vals[bad][:5].tolist()),
        )
    aware = (kinds == "aware").to_numpy()
    if aware.any() and not aware.all():
        return SchemaFailure(
            frame=kind,
            column=col,
            check="mixes timezone-aware and naive dates; make them all aware or all naive",
            n_failing=int((~aware).sum()),
            rows=_first(vals.index, ~aware),
            values=tuple(vals[~aware][:5].tolist()),
        )
    return None


def _parse_one_format(s: pd.Series) -> pd.Series | None:
    """Parse dates in one format (ISO 8601, or the format of the first value), or None.

    A column in one format is read consistently. Only a column that mixes
    formats is parsed value by value (see :func:`_ambiguous_day_month`).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for how in ("ISO8601", None):
            try:
                parsed = pd.to_datetime(s, errors="coerce", format=how)
            except (ValueError, TypeError, OverflowError):
                continue
            if not (parsed.isna() & s.notna()).any():
                return parsed
    return None


def _ambiguous_day_month(s: pd.Series) -> np.ndarray[Any, np.dtype[np.bool_]]:
    """Text dates of a column mixing formats whose day/month order is ambiguous.

    Parsed value by value, ``01/02/2023`` would be read month first and
    ``13/01/2023`` day first: two conventions in one column, silently. Values
    that read differently day-first and month-first (ISO 8601 aside) are
    flagged.
    """
    out = np.zeros(len(s), dtype=bool)
    is_text = np.array([isinstance(v, str) for v in s.to_numpy(dtype=object)], dtype=bool)
    if not is_text.any():
        return out
    text = s[is_text].astype(object)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        iso = pd.to_datetime(text, errors="coerce", format="ISO8601").notna().to_numpy()
        month_first = pd.to_datetime(text, errors="coerce", format="mixed")
        day_first = pd.to_datetime(text, errors="coerce", format="mixed", dayfirst=True)
    differ = (month_first.notna() & day_first.notna() & (month_first != day_first)).to_numpy()
    out[np.flatnonzero(is_text)] = differ & ~iso
    return out
