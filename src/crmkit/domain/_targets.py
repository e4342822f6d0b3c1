"""Measurable targets of an account plan: what, how much, from when to when."""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs

from crmkit.domain._fields import date_field, fail, is_number, jsonable, real_field, text_field

__all__ = ["PLAN_METRICS", "PlanTarget"]

#: What a plan target can measure, and how it is counted in the records.
PLAN_METRICS: dict[str, str] = {
    "revenue": "sum of the transaction amounts in the period",
    "purchases": "number of transactions in the period",
    "products": "number of distinct products bought in the period",
    "contacts_reached": "number of distinct contact persons met in the period "
    "(interactions with a contact_id)",
}


def _check_metric(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value not in PLAN_METRICS:
        raise fail(type(instance).__name__, attribute.name,
                   f"must be one of {', '.join(PLAN_METRICS)}", value)


def _to_float(value: Any) -> Any:
    return float(value) if is_number(value) else value


def _check_positive(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value == 0:
        raise fail(type(instance).__name__, attribute.name, "must be > 0", value)


def _check_due(instance: PlanTarget, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value < instance.start:
        raise fail("PlanTarget", attribute.name, f"must not be before start {instance.start}",
                   value)


@attrs.frozen(kw_only=True)
class PlanTarget:
    """One measurable goal of an account plan: reach ``target`` of ``metric`` by ``due``.

    Parameters
    ----------
    metric : {"revenue", "purchases", "products", "contacts_reached"}
        What is measured (:data:`PLAN_METRICS`).
    target : float
        How much, > 0.
    start : datetime.date
        First day counted.
    due : datetime.date
        Last day counted (not before ``start``).
    description : str, default=""
        The goal in words.

    Raises
    ------
    SchemaError
        For a bad field.

    Examples
    --------
    >>> import datetime as dt
    >>> goal = PlanTarget(metric="revenue", target=50_000.0, start=dt.date(2025, 1, 1),
    ...                   due=dt.date(2025, 12, 31), description="Grow toner sales")
    >>> goal.to_dict()["due"]
    '2025-12-31'
    >>> PlanTarget(metric="smiles", target=1.0, start=dt.date(2025, 1, 1),
    ...            due=dt.date(2025, 2, 1))
    Traceback (most recent call last):
    ...
    crmkit.exceptions.SchemaError: 1 problem in the input:
      - PlanTarget['metric']: must be one of revenue, purchases, products, contacts_reached ...
    """

    metric: str = attrs.field(validator=_check_metric)
    target: float = attrs.field(
        converter=_to_float, validator=[real_field(low=0.0), _check_positive]
    )
    start: dt.date = attrs.field(validator=date_field())
    due: dt.date = attrs.field(validator=[date_field(), _check_due])
    description: str = attrs.field(default="", validator=text_field(optional=False))

    def to_dict(self) -> dict[str, Any]:
        """The target as a JSON-ready dict (dates as ISO strings).

        Returns
        -------
        dict

        Examples
        --------
        >>> import datetime as dt
        >>> PlanTarget(metric="purchases", target=12, start=dt.date(2025, 1, 1),
        ...            due=dt.date(2025, 6, 30)).to_dict()["target"]
        12.0
        """
        return {
            "metric": self.metric,
            "target": float(self.target),
            "start": jsonable(self.start),
            "due": jsonable(self.due),
            "description": self.description,
        }
