"""Campaigns and the customers they touched (or held out as a control group)."""

from __future__ import annotations

import datetime as dt
import math
import types
from collections.abc import Mapping
from enum import Enum
from typing import Any

import attrs

from crmkit.domain._fields import (
    date_field,
    day_of,
    fail,
    id_field,
    is_number,
    parse_enum,
    read_row,
    real_field,
    text_field,
)

__all__ = ["Campaign", "CampaignTouch", "TouchGroup"]


def _goals(value: Mapping[str, float]) -> Mapping[str, float]:
    if not isinstance(value, Mapping):
        raise fail("Campaign", "goals", f"must be a mapping, got {type(value).__name__}", value)
    out: dict[str, float] = {}
    for key, goal in value.items():
        if not isinstance(key, str) or not key.strip():
            raise fail("Campaign", "goals", "keys must be non-empty str", key)
        ok = is_number(goal) and math.isfinite(float(goal)) and float(goal) >= 0
        if not ok:
            raise fail("Campaign", f"goals[{key!r}]", "must be a finite number >= 0", goal)
        out[key] = float(goal)
    return types.MappingProxyType(out)


_CAMPAIGN_COLUMNS = {
    "campaign_id": "id",
    "name": "text",
    "start": "date",
    "end": "date",
    "goal_conversions": "real",
    "goal_revenue": "real",
    "cost": "real",
}


@attrs.frozen(kw_only=True, eq=False)
class Campaign:
    """A marketing or sales campaign (an entity: equal when the ids are equal).

    Parameters
    ----------
    campaign_id : str or int
        The id.
    name : str, optional
        Display name.
    start, end : date or datetime, optional
        First and last day; ``end`` not before ``start``.
    goals : mapping of str to float, default={}
        Targets, each >= 0, e.g. ``{"conversions": 50, "revenue": 20000}``
        (stored read-only).
    cost : float, optional
        Total cost, >= 0.

    Raises
    ------
    SchemaError
        For a bad field, a negative goal or ``end`` before ``start``.

    Examples
    --------
    >>> c = Campaign(campaign_id="K1", start=dt.date(2024, 3, 1), end=dt.date(2024, 3, 31),
    ...              goals={"conversions": 40})
    >>> c.goals["conversions"], c.is_running(dt.date(2024, 3, 31))
    (40.0, True)
    """

    campaign_id: str | int = attrs.field(validator=id_field())
    name: str | None = attrs.field(default=None, validator=text_field())
    start: dt.date | None = attrs.field(default=None, validator=date_field(optional=True))
    end: dt.date | None = attrs.field(default=None, validator=date_field(optional=True))
    goals: Mapping[str, float] = attrs.field(factory=dict, converter=_goals)
    cost: float | None = attrs.field(default=None, validator=real_field(optional=True, low=0))

    def __attrs_post_init__(self) -> None:
        if (
            self.start is not None
            and self.end is not None
            and day_of(self.end) < day_of(self.start)
        ):
            raise fail(
                "Campaign",
                "end",
                f"must not be before start ({self.start.isoformat()})",
                self.end,
            )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Campaign):
            return NotImplemented
        return self.campaign_id == other.campaign_id

    def __hash__(self) -> int:
        return hash((Campaign, self.campaign_id))

    def is_running(self, on: dt.date) -> bool:
        """Whether day ``on`` lies within ``[start, end]`` (open ends are unbounded).

        Parameters
        ----------
        on : date or datetime
            The day.

        Returns
        -------
        bool

        Raises
        ------
        SchemaError
            If ``on`` is not a date.

        Examples
        --------
        >>> Campaign(campaign_id=1, start=dt.date(2024, 1, 1)).is_running(dt.date(2023, 12, 31))
        False
        """
        if not isinstance(on, dt.date):
            raise fail("Campaign", "is_running(on)", "must be a date", on)
        day = day_of(on)
        if self.start is not None and day < day_of(self.start):
            return False
        return self.end is None or day <= day_of(self.end)

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Campaign:
        """Build a campaign from a row with the canonical ``campaigns`` columns.

        ``goal_conversions`` and ``goal_revenue`` become the goals
        ``"conversions"`` and ``"revenue"`` when present.

        Parameters
        ----------
        row : mapping or pandas Series
            Unknown keys are ignored; missing or NaN optional cells give None.

        Returns
        -------
        Campaign

        Raises
        ------
        SchemaError
            For a bad or missing required value.

        Examples
        --------
        >>> Campaign.from_row({"campaign_id": "K1", "goal_revenue": 5000}).goals
        mappingproxy({'revenue': 5000.0})
        """
        v = read_row(row, _CAMPAIGN_COLUMNS)
        goals = {
            name: v[f"goal_{name}"]
            for name in ("conversions", "revenue")
            if v[f"goal_{name}"] is not None
        }
        return cls(
            campaign_id=v["campaign_id"],
            name=v["name"],
            start=v["start"],
            end=v["end"],
            goals=goals,
            cost=v["cost"],
        )


class TouchGroup(str, Enum):
    """Whether a customer was treated by a campaign or held out as a control.

    Examples
    --------
    >>> TouchGroup("control") is TouchGroup.CONTROL
    True
    """

    TREATMENT = "treatment"
    CONTROL = "control"


def _touch_group(value: TouchGroup | str | None) -> TouchGroup | None:
    if value is None:
        return None
    return parse_enum(TouchGroup, value, "CampaignTouch", "group")


_TOUCH_COLUMNS = {
    "campaign_id": "id",
    "customer_id": "id",
    "date": "date",
    "group": "enum",
    "action": "text",
    "cost": "real",
}


@attrs.frozen(kw_only=True)
class CampaignTouch:
    """One customer's part in a campaign: touched (treatment) or held out (control).

    Parameters
    ----------
    campaign_id : str or int
        The campaign.
    customer_id : str or int
        The customer.
    date : date or datetime
        When touched (or, for the control group, when it would have been).
    group : TouchGroup or str, optional
        Treatment or control.
    action : str, optional
        The action (mail, call, offer ...).
    cost : float, optional
        Cost of the touch, >= 0.

    Raises
    ------
    SchemaError
        For a bad field.

    Examples
    --------
    >>> CampaignTouch(campaign_id="K1", customer_id="C1", date=dt.date(2024, 3, 2),
    ...               group="treatment").group
    <TouchGroup.TREATMENT: 'treatment'>
    """

    campaign_id: str | int = attrs.field(validator=id_field())
    customer_id: str | int = attrs.field(validator=id_field())
    date: dt.date = attrs.field(validator=date_field())
    group: TouchGroup | None = attrs.field(default=None, converter=_touch_group)
    action: str | None = attrs.field(default=None, validator=text_field())
    cost: float | None = attrs.field(default=None, validator=real_field(optional=True, low=0))

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> CampaignTouch:
        """Build a touch from a row with the canonical ``touches`` columns.

        Parameters
        ----------
        row : mapping or pandas Series
            Unknown keys are ignored; missing or NaN optional cells give None.

        Returns
        -------
        CampaignTouch

        Raises
        ------
        SchemaError
            For a bad or missing required value.

        Examples
        --------
        >>> CampaignTouch.from_row({"campaign_id": 1, "customer_id": 2, "date": "2024-01-01",
        ...                         "group": "control"}).group.value
        'control'
        """
        v = read_row(row, _TOUCH_COLUMNS)
        return cls(
            campaign_id=v["campaign_id"],
            customer_id=v["customer_id"],
            date=v["date"],
            group=v["group"],
            action=v["action"],
            cost=v["cost"],
        )
