"""The annual customer programme: every planned touchpoint of a year (seed 004).

Seed 004 plans the customer journey's touchpoints for a positive
experience, in an annual customer programme that covers sales, marketing,
communication, service and personal meetings. Here the programme is built
from two sources:

* each customer's care plan (the output of a care-model plugin, seed 003):
  a contact every ``cadence_days`` by the plan's ``owner_role`` through its
  ``channel``, the plan's ``activities`` taken in turn; the first contact is
  staggered within the first cadence (by the plan's row position, with the
  golden-ratio sequence) so that an owner's work is spread over the year
  rather than piled on its first day;
* company-wide streams (:class:`ProgrammeStream`): newsletters, bulletins,
  surveys ... sent to all customers of the named care models on the same
  days.

Every touch is filed under an area (sales, marketing, communication,
service, personal meetings) by its channel.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import numpy as np
import pandas as pd

from crmkit._params import (
    COLUMN_NAME,
    NON_EMPTY_STR,
    Interval,
    Predicate,
    field_validator,
    instance_of,
    validate_args,
)
from crmkit.data import as_timestamp
from crmkit.exceptions import SchemaError, SchemaFailure
from crmkit.measure._inputs import first_labels

__all__ = ["AREAS", "DEFAULT_CHANNEL_AREAS", "DEFAULT_STREAMS", "AnnualProgramme",
           "ProgrammeStream", "annual_programme"]  # fmt: skip

#: The touchpoint areas of the annual customer programme.
AREAS: tuple[str, ...] = ("sales", "marketing", "communication", "service", "personal meetings")

#: The area of common channels (keys lower case); extend it with ``channels=``.
DEFAULT_CHANNEL_AREAS: Mapping[str, str] = {
    "visit": "personal meetings", "meeting": "personal meetings",
    "video meeting": "personal meetings", "call": "sales", "phone": "sales",
    "offer": "sales", "email": "communication", "letter": "communication",
    "magazine": "communication", "web": "communication", "newsletter": "marketing",
    "mail": "marketing", "event": "marketing", "webinar": "marketing", "seminar": "marketing",
    "chat": "service", "support": "service", "portal": "service", "survey": "service",
}  # fmt: skip

_PHI = (math.sqrt(5.0) - 1.0) / 2.0
_EPOCH = np.datetime64("1970-01-01", "D")


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


_TEXT = field_validator(NON_EMPTY_STR)


def _models(value: Any) -> tuple[str, ...]:
    items = (value,) if isinstance(value, str) else tuple(value)
    return tuple(str(v) for v in items)


@attrs.frozen(kw_only=True)
class ProgrammeStream:
    """A company-wide stream of touchpoints, sent on the same days to many customers.

    Parameters
    ----------
    area : str
        Programme area (see :data:`AREAS`).
    channel : str
        The channel.
    owner_role : str
        Who sends it.
    cadence_days : int
        Days between sends (>= 1); the first on the programme's first day.
    activity : str
        What is sent.
    care_models : sequence of str, default=()
        The care models (or segments) that receive it; empty: everyone.

    Raises
    ------
    InvalidParameterError
        For an empty text or a cadence below 1.

    Examples
    --------
    >>> ProgrammeStream(area="marketing", channel="email", owner_role="marketing",
    ...                 cadence_days=30, activity="newsletter", care_models=["A", "B"]).care_models
    ('A', 'B')
    """

    area: str = attrs.field(converter=_strip, validator=_TEXT)
    channel: str = attrs.field(converter=_strip, validator=_TEXT)
    owner_role: str = attrs.field(converter=_strip, validator=_TEXT)
    cadence_days: int = attrs.field(validator=field_validator(Interval("int", 1, None)))
    activity: str = attrs.field(converter=_strip, validator=_TEXT)
    care_models: tuple[str, ...] = attrs.field(default=(), converter=_models)


#: A modest default: a monthly newsletter, a quarterly bulletin, a half-yearly survey.
DEFAULT_STREAMS: tuple[ProgrammeStream, ...] = (
    ProgrammeStream(area="marketing", channel="newsletter", owner_role="marketing",
                    cadence_days=30, activity="newsletter"),
    ProgrammeStream(area="communication", channel="email", owner_role="communications",
                    cadence_days=91, activity="customer bulletin"),
    ProgrammeStream(area="service", channel="survey", owner_role="customer service",
                    cadence_days=182, activity="satisfaction survey"),
)  # fmt: skip


@attrs.frozen(kw_only=True, eq=False)
class AnnualProgramme:
    """A year of planned touchpoints and the contact load they make.

    Parameters
    ----------
    touches : DataFrame
        One row per planned touch: ``customer_id``, ``date``, ``area``,
        ``channel``, ``owner_role``, ``activity``, ``segment`` (the care
        model) and ``source`` (``"care plan"`` or ``"stream"``); sorted by
        date and customer.
    by_role_month : DataFrame
        Contact load per ``owner_role`` and ``month`` (a Period):
        ``n_touches``, ``n_customers``.
    by_segment : DataFrame
        Per ``segment`` and ``area``: ``n_customers`` (in the segment),
        ``n_touches`` and ``touches_per_customer``.
    year_start, year_end : Timestamp
        First and last day of the programme.

    Examples
    --------
    See :func:`annual_programme`.
    """

    touches: pd.DataFrame
    by_role_month: pd.DataFrame
    by_segment: pd.DataFrame
    year_start: pd.Timestamp
    year_end: pd.Timestamp


def _check_plans(plans: pd.DataFrame, segment: str | None) -> tuple[pd.DataFrame, str]:
    if segment is None:
        segment = "care_model" if "care_model" in plans.columns else "segment"
    fails: list[SchemaFailure] = []
    for col in (segment, "cadence_days", "channel", "owner_role"):
        if col not in plans.columns:
            fails.append(
                SchemaFailure(
                    frame="plans",
                    column=col,
                    check="is missing; care plans need care_model "
                    "(or segment), cadence_days, channel, owner_role (+ "
                    "activities)",
                )
            )
    dup = plans.index.duplicated()
    if dup.any():
        fails.append(
            SchemaFailure(
                frame="plans",
                column="<index>",
                check="repeats customer ids",
                n_failing=int(dup.sum()),
                rows=first_labels(plans.index, dup),
            )
        )
    if fails:
        raise SchemaError(fails)
    cad = plans["cadence_days"]
    if cad.dtype.kind not in "iuf" or cad.dtype.kind == "b":
        fails.append(
            SchemaFailure(
                frame="plans",
                column="cadence_days",
                check=f"must be numeric, got dtype {cad.dtype}",
            )
        )
    else:
        v = cad.to_numpy(dtype=np.float64, na_value=np.nan)
        bad = ~np.isfinite(v) | (v < 1) | (v != np.round(v))
        if bad.any():
            fails.append(
                SchemaFailure(
                    frame="plans",
                    column="cadence_days",
                    check="must be whole days >= 1",
                    n_failing=int(bad.sum()),
                    rows=first_labels(plans.index, bad),
                    values=tuple(v[bad][:5].tolist()),
                )
            )
    for col in (segment, "channel", "owner_role"):
        s = plans[col]
        text = s.astype("string").str.strip()
        bad = (s.isna() | (text == "")).to_numpy(dtype=bool, na_value=True)
        if bad.any():
            fails.append(
                SchemaFailure(
                    frame="plans",
                    column=col,
                    check="has missing or empty values",
                    n_failing=int(bad.sum()),
                    rows=first_labels(plans.index, bad),
                )
            )
    if fails:
        raise SchemaError(fails)
    return plans, segment


def _areas(channels: Mapping[str, str] | None) -> dict[str, str]:
    table = dict(DEFAULT_CHANNEL_AREAS)
    for key, area in (channels or {}).items():
        table[key.strip().lower()] = area.strip()
    return table


def _area_of(channel: pd.Series, table: dict[str, str], frame: str) -> np.ndarray[Any, Any]:
    key = channel.astype("string").str.strip().str.lower()
    area = key.map(table)
    bad = area.isna().to_numpy()
    if bad.any():
        unknown = sorted(set(key[bad].tolist()))
        raise SchemaError(
            [
                SchemaFailure(
                    frame=frame,
                    column="channel",
                    check=f"has channels without a programme area: {unknown}; give "
                    f"channels={{'{unknown[0]}': 'service', ...}} (areas: "
                    f"{', '.join(AREAS)}; known channels: {', '.join(sorted(table))})",
                    n_failing=int(bad.sum()),
                    rows=first_labels(channel.index, bad),
                )
            ]
        )
    return area.to_numpy(dtype=object)


def _workday(days: np.ndarray[Any, Any], last: int) -> np.ndarray[Any, Any]:
    weekday = (days + 3) % 7  # 1970-01-01 was a Thursday; Monday is 0
    forward = np.where(weekday == 5, 2, np.where(weekday == 6, 1, 0))
    back = np.where(weekday == 5, -1, np.where(weekday == 6, -2, 0))
    moved = days + forward
    out: np.ndarray[Any, Any] = np.where(moved > last, days + back, moved)
    return out


def _plan_touches(plans: pd.DataFrame, segment: str, n_days: int) -> pd.DataFrame:
    cadence = plans["cadence_days"].to_numpy(dtype=np.float64).astype(np.int64)
    pos = np.arange(1, len(plans) + 1, dtype=np.float64)
    offset = np.floor(np.mod(pos * _PHI, 1.0) * cadence).astype(np.int64)
    count = np.maximum(0, -(-(n_days - offset) // cadence))
    owner = np.repeat(np.arange(len(plans)), count)
    k = np.arange(len(owner)) - np.repeat(np.cumsum(count) - count, count)
    day = offset[owner] + k * cadence[owner]
    acts = (
        plans["activities"].astype("string").fillna("")
        if "activities" in plans.columns
        else pd.Series("", index=plans.index, dtype="string")
    )
    codes, uniques = pd.factorize(acts.to_numpy(dtype=object))
    activity = np.empty(len(owner), dtype=object)
    row_code = codes[owner]
    for c, text in enumerate(uniques):
        items = [a.strip() for a in str(text).split(";") if a.strip()] or ["care contact"]
        sel = row_code == c
        activity[sel] = np.asarray(items, dtype=object)[k[sel] % len(items)]
    frame: pd.DataFrame = pd.DataFrame({
        "customer_id": plans.index.to_numpy()[owner], "day": day,
        "channel": plans["channel"].astype("string").str.strip().to_numpy(dtype=object)[owner],
        "owner_role": plans["owner_role"].astype("string").str.strip()
        .to_numpy(dtype=object)[owner],
        "activity": activity,
        "segment": plans[segment].astype("string").to_numpy(dtype=object)[owner],
        "source": "care plan",
    })  # fmt: skip
    return frame


def _stream_touches(
    plans: pd.DataFrame, segment: str, streams: Sequence[ProgrammeStream], n_days: int
) -> list[pd.DataFrame]:
    seg = plans[segment].astype("string").to_numpy(dtype=object)
    out = []
    for s in streams:
        members = (
            np.ones(len(plans), dtype=bool)
            if not s.care_models
            else np.isin(seg, list(s.care_models))
        )
        send = np.arange(0, n_days, s.cadence_days)
        who = np.flatnonzero(members)
        out.append(pd.DataFrame({
            "customer_id": np.repeat(plans.index.to_numpy()[who], len(send)),
            "day": np.tile(send, len(who)), "channel": s.channel, "owner_role": s.owner_role,
            "activity": s.activity, "segment": np.repeat(seg[who], len(send)),
            "source": "stream", "stream_area": s.area,
        }))  # fmt: skip
    return out


def _is_channel_table(value: Any) -> bool:
    return isinstance(value, Mapping) and all(
        isinstance(k, str) and isinstance(a, str) and bool(a.strip()) for k, a in value.items()
    )


def _is_streams(value: Any) -> bool:
    return isinstance(value, (tuple, list)) and all(isinstance(s, ProgrammeStream) for s in value)


@validate_args(
    {
        "plans": [instance_of(pd.DataFrame, "a DataFrame indexed by customer_id")],
        "channels": [
            None,
            Predicate(_is_channel_table, "a mapping of channel names to area names (str)"),
        ],
        "streams": [Predicate(_is_streams, "a sequence (tuple or list) of ProgrammeStream")],
        "segment": [None, COLUMN_NAME],
        "workdays": [bool],
    }
)
def annual_programme(
    plans: pd.DataFrame,
    *,
    year_start: Any,
    channels: Mapping[str, str] | None = None,
    streams: Sequence[ProgrammeStream] = DEFAULT_STREAMS,
    segment: str | None = None,
    workdays: bool = True,
) -> AnnualProgramme:
    """Plan a year of touchpoints from per-customer care plans (the annual customer programme).

    See the module notes: care-plan contacts every ``cadence_days``
    (staggered, activities in turn) plus company-wide ``streams``; each
    touch's area comes from its channel (a stream's from the stream).

    Parameters
    ----------
    plans : DataFrame
        Indexed by customer id: ``care_model`` (or ``segment``),
        ``cadence_days`` (whole days >= 1), ``channel``, ``owner_role`` and
        optionally ``activities`` (``"; "``-joined; none gives "care
        contact") -- the output of a care-model plugin.
    year_start : date-like
        First day of the programme year (the year runs to the day before
        the same date a year later).
    channels : mapping of str to str, optional
        Channel -> area, added to (and overriding)
        :data:`DEFAULT_CHANNEL_AREAS`; matching ignores case.
    streams : sequence of ProgrammeStream, default=DEFAULT_STREAMS
        Company-wide streams; ``()`` for the care plans alone.
    segment : str, optional
        The plans' segment column; default ``care_model``, else ``segment``.
    workdays : bool, default=True
        Move touches that fall on a weekend to the Monday after (the Friday
        before at the end of the year).

    Returns
    -------
    AnnualProgramme

    Raises
    ------
    SchemaError
        For missing or invalid plan columns, repeated customer ids or a
        channel without an area.
    InvalidParameterError
        For a bad ``channels`` mapping or argument.

    Examples
    --------
    >>> import pandas as pd
    >>> plans = pd.DataFrame({"care_model": ["A", "D"], "cadence_days": [91, 365],
    ...                       "channel": ["visit", "email"],
    ...                       "owner_role": ["key account manager", "marketing"],
    ...                       "activities": ["business review; offer", "check-in"]},
    ...                      index=pd.Index([101, 102], name="customer_id"))
    >>> prog = annual_programme(plans, year_start="2026-01-01", streams=())
    >>> prog.touches[["customer_id", "date", "area", "activity"]]
       customer_id       date               area         activity
    0          101 2026-02-26  personal meetings  business review
    1          102 2026-03-30      communication         check-in
    2          101 2026-05-28  personal meetings            offer
    3          101 2026-08-27  personal meetings  business review
    4          101 2026-11-26  personal meetings            offer
    >>> prog.by_segment
                                 n_customers  n_touches  touches_per_customer
    segment area
    A       personal meetings            1          4                   4.0
    D       communication                1          1                   1.0
    """
    plans, seg_col = _check_plans(plans, segment)
    start = as_timestamp(year_start, "year_start").normalize()
    end = start + pd.DateOffset(years=1) - pd.Timedelta(days=1)
    n_days = int((end - start).days) + 1
    table = _areas(channels)
    parts = [
        _plan_touches(plans, seg_col, n_days),
        *_stream_touches(plans, seg_col, streams, n_days),
    ]
    touches = pd.concat(parts, ignore_index=True)
    area = np.empty(len(touches), dtype=object)
    planned = (touches["source"] == "care plan").to_numpy()
    area[planned] = _area_of(touches.loc[planned, "channel"], table, "plans")
    if "stream_area" in touches.columns:
        area[~planned] = touches.loc[~planned, "stream_area"].to_numpy(dtype=object)
    first = int((np.datetime64(start.date(), "D") - _EPOCH).astype(np.int64))
    day = touches["day"].to_numpy(dtype=np.int64) + first
    if workdays:
        day = _workday(day, first + n_days - 1)
    out = pd.DataFrame({
        "customer_id": touches["customer_id"].to_numpy(),
        "date": (_EPOCH + day.astype("timedelta64[D]")).astype("datetime64[ns]"),
        "area": area, "channel": touches["channel"].to_numpy(dtype=object),
        "owner_role": touches["owner_role"].to_numpy(dtype=object),
        "activity": touches["activity"].to_numpy(dtype=object),
        "segment": touches["segment"].to_numpy(dtype=object),
        "source": touches["source"].to_numpy(dtype=object),
    })  # fmt: skip
    out = out.sort_values(["date", "customer_id"], kind="stable").reset_index(drop=True)
    month = out["date"].dt.to_period("M").rename("month")
    g = out.groupby(["owner_role", month], sort=True)
    by_role = pd.DataFrame({"n_touches": g.size(), "n_customers": g["customer_id"].nunique()})
    size = plans[seg_col].astype("string").value_counts()
    gs = out.groupby(["segment", "area"], sort=True)
    by_seg = pd.DataFrame({"n_touches": gs.size()})
    by_seg.insert(
        0,
        "n_customers",
        by_seg.index.get_level_values("segment").map(size).to_numpy(dtype=np.int64),
    )
    by_seg["touches_per_customer"] = by_seg["n_touches"] / by_seg["n_customers"]
    return AnnualProgramme(
        touches=out, by_role_month=by_role, by_segment=by_seg, year_start=start, year_end=end
    )
