"""Value objects for care and account planning: next steps, care plans, account plans.

An account plan is kept in the CRM for everyone who works with
the customer: short- and long-term goals, the current situation, development
points, how the customer's buying process works, and the next steps.
"""

from __future__ import annotations

import datetime as dt
import math
import types
from collections.abc import Iterable, Mapping
from enum import Enum
from typing import Any

import attrs

from crmkit._display import account_plan_html, care_plan_html
from crmkit.domain._fields import (
    fail,
    id_field,
    int_field,
    is_integer,
    is_number,
    jsonable,
    parse_enum,
    real_field,
    str_tuple,
    text_field,
    to_tuple,
)
from crmkit.domain._targets import PlanTarget

__all__ = ["NextStep", "CareIntensity", "CarePlan", "AccountPlan", "BuyingRole"]

#: One participant of a buying process: (contact, role, decision maker).
BuyingRole = tuple[str | int, str, bool]


@attrs.frozen(kw_only=True)
class NextStep:
    """One agreed action with a customer.

    Parameters
    ----------
    action : str
        What to do.
    owner_role : str
        Who does it (a role, e.g. ``"key account manager"``).
    due_in_days : int
        Days from now, >= 0.
    reason : str, default=""
        Why.

    Raises
    ------
    SchemaError
        For a bad field.

    Examples
    --------
    >>> NextStep(action="Offer service contract", owner_role="seller", due_in_days=14).to_dict()
    {'action': 'Offer service contract', 'owner_role': 'seller', 'due_in_days': 14, 'reason': ''}
    """

    action: str = attrs.field(validator=text_field(optional=False, nonempty=True))
    owner_role: str = attrs.field(validator=text_field(optional=False, nonempty=True))
    due_in_days: int = attrs.field(validator=int_field(low=0))
    reason: str = attrs.field(default="", validator=text_field(optional=False))

    def to_dict(self) -> dict[str, Any]:
        """The step as a JSON-ready dict.

        Returns
        -------
        dict

        Examples
        --------
        >>> NextStep(action="Call", owner_role="seller", due_in_days=0).to_dict()["due_in_days"]
        0
        """
        return {
            "action": self.action,
            "owner_role": self.owner_role,
            "due_in_days": int(self.due_in_days),
            "reason": self.reason,
        }


class CareIntensity(str, Enum):
    """How much effort a care model puts into a customer, in increasing order.

    Examples
    --------
    >>> CareIntensity.HIGH.rank > CareIntensity.LOW.rank
    True
    """

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    MAXIMUM = "maximum"

    @property
    def rank(self) -> int:
        """Position in increasing order, 0 for low.

        Returns
        -------
        int

        Examples
        --------
        >>> CareIntensity.MAXIMUM.rank
        3
        """
        return list(CareIntensity).index(self)


def _intensity(value: CareIntensity | str) -> CareIntensity:
    return parse_enum(CareIntensity, value, "CarePlan", "intensity")


@attrs.frozen(kw_only=True)
class CarePlan:
    """How a customer is looked after: the care model made concrete.

    Parameters
    ----------
    care_model : str
        The care model, e.g. a portfolio letter ``"A"`` .. ``"D"``.
    intensity : CareIntensity or str
        low, medium, high or maximum.
    cadence_days : int
        Days between planned contacts, >= 1.
    channel : str
        Main contact channel (visit, call, email ...).
    owner_role : str
        Who is responsible.
    activities : sequence of str, default=()
        Planned activities (stored as a tuple).
    budget_share : float, default=0.0
        Share of the care budget, 0..1.
    reasons : sequence of str, default=()
        Why this plan (stored as a tuple).

    Raises
    ------
    SchemaError
        For a bad field.

    Examples
    --------
    >>> p = CarePlan(care_model="A", intensity="high", cadence_days=30, channel="visit",
    ...              owner_role="key account manager", activities=["annual review"])
    >>> p.intensity, p.activities
    (<CareIntensity.HIGH: 'high'>, ('annual review',))
    """

    care_model: str = attrs.field(validator=text_field(optional=False, nonempty=True))
    intensity: CareIntensity = attrs.field(converter=_intensity)
    cadence_days: int = attrs.field(validator=int_field(low=1))
    channel: str = attrs.field(validator=text_field(optional=False, nonempty=True))
    owner_role: str = attrs.field(validator=text_field(optional=False, nonempty=True))
    activities: tuple[str, ...] = attrs.field(default=(), converter=to_tuple, validator=str_tuple())
    budget_share: float = attrs.field(default=0.0, validator=real_field(low=0.0, high=1.0))
    reasons: tuple[str, ...] = attrs.field(default=(), converter=to_tuple, validator=str_tuple())

    def _repr_html_(self) -> str:
        return care_plan_html(self)

    def to_dict(self) -> dict[str, Any]:
        """The plan as a JSON-ready dict.

        Returns
        -------
        dict

        Examples
        --------
        >>> CarePlan(care_model="D", intensity="low", cadence_days=180, channel="email",
        ...          owner_role="marketing").to_dict()["intensity"]
        'low'
        """
        return {
            "care_model": self.care_model,
            "intensity": self.intensity.value,
            "cadence_days": int(self.cadence_days),
            "channel": self.channel,
            "owner_role": self.owner_role,
            "activities": list(self.activities),
            "budget_share": float(self.budget_share),
            "reasons": list(self.reasons),
        }


def _situation_value(key: str, value: Any) -> Any:
    if value is None or isinstance(value, (str, bool, dt.date)):
        return value
    if is_number(value):
        if not math.isfinite(float(value)):
            raise fail("AccountPlan", f"situation[{key!r}]", "must be finite", value)
        return value
    if isinstance(value, (list, tuple)):
        return tuple(_situation_value(key, v) for v in value)
    raise fail(
        "AccountPlan",
        f"situation[{key!r}]",
        f"must be a str, number, bool, date, None or a list of those, got {type(value).__name__}",
        value,
    )


def _situation(value: Mapping[str, Any]) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise fail(
            "AccountPlan", "situation", f"must be a mapping, got {type(value).__name__}", value
        )
    out: dict[str, Any] = {}
    for key, item in value.items():
        if not isinstance(key, str) or not key.strip():
            raise fail("AccountPlan", "situation", "keys must be non-empty str", key)
        out[key] = _situation_value(key, item)
    return types.MappingProxyType(out)


def _buying_process(value: Iterable[BuyingRole]) -> tuple[BuyingRole, ...]:
    items: object = value
    if isinstance(items, (str, bytes)) or not isinstance(items, Iterable):
        raise fail(
            "AccountPlan",
            "buying_process",
            f"must be a list of (contact, role, decision_maker), got {type(value).__name__}",
            value,
        )
    out: list[BuyingRole] = []
    for item in items:
        ok = (
            isinstance(item, (tuple, list))
            and len(item) == 3
            and ((isinstance(item[0], str) and item[0].strip() != "") or is_integer(item[0]))
            and isinstance(item[1], str)
            and isinstance(item[2], bool)
        )
        if not ok:
            raise fail(
                "AccountPlan",
                "buying_process",
                "items must be (contact: str or int, role: str, decision_maker: bool)",
                item,
            )
        out.append((item[0], item[1], item[2]))
    return tuple(out)


def _check_targets(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    for item in value:
        if not isinstance(item, PlanTarget):
            raise fail("AccountPlan", attribute.name,
                       f"items must be PlanTarget, got {type(item).__name__}", item)


def _check_next_steps(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, tuple):
        raise fail("AccountPlan", attribute.name, "must be a list of NextStep", value)
    for item in value:
        if not isinstance(item, NextStep):
            raise fail(
                "AccountPlan",
                attribute.name,
                f"items must be NextStep, got {type(item).__name__}",
                item,
            )


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if is_integer(value):
        return f"{int(value):,}"
    if is_number(value):
        return f"{float(value):,.2f}"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple):
        return ", ".join(_cell(v) for v in value) if value else "–"
    return str(value).replace("|", "\\|").replace("\n", " ")


def _bullets(items: tuple[str, ...]) -> list[str]:
    return [f"- {_cell(item)}" for item in items] if items else ["_none_"]


@attrs.frozen(kw_only=True, unsafe_hash=False)
class AccountPlan:
    """A customer's account plan; a value object, not hashable.

    Parameters
    ----------
    customer_id : str or int
        The customer.
    short_term_goals, long_term_goals : sequence of str, default=()
        Goals (stored as tuples).
    situation : mapping of str to value, default={}
        The current situation: revenue, products, trend ... Values are str,
        numbers, bools, dates, None or lists of those (stored read-only,
        lists as tuples).
    development_points : sequence of str, default=()
        Products the customer lacks, how to help it succeed.
    buying_process : sequence of (contact, role, decision_maker), default=()
        Who takes part in buying and whether they decide (the
        decision-maker map).
    next_steps : sequence of NextStep, default=()
        Agreed actions.
    targets : sequence of PlanTarget, default=()
        The goals as measurable targets with dates (revenue, purchases,
        products, contacts reached), followed up with
        :func:`crmkit.care.track_plans`.

    Raises
    ------
    SchemaError
        For a bad field.

    Examples
    --------
    >>> plan = AccountPlan(customer_id="C1", short_term_goals=["Renew contract"],
    ...                    situation={"revenue": 12000.0, "products": ["toner", "paper"]},
    ...                    buying_process=[("Anna Virtanen", "purchaser", True)],
    ...                    next_steps=[NextStep(action="Visit", owner_role="seller",
    ...                                         due_in_days=7)])
    >>> plan.to_dict()["situation"]
    {'revenue': 12000.0, 'products': ['toner', 'paper']}
    >>> print(plan.to_markdown().splitlines()[0])
    # Account plan: C1
    """

    customer_id: str | int = attrs.field(validator=id_field())
    short_term_goals: tuple[str, ...] = attrs.field(
        default=(), converter=to_tuple, validator=str_tuple()
    )
    long_term_goals: tuple[str, ...] = attrs.field(
        default=(), converter=to_tuple, validator=str_tuple()
    )
    situation: Mapping[str, Any] = attrs.field(factory=dict, converter=_situation)
    development_points: tuple[str, ...] = attrs.field(
        default=(), converter=to_tuple, validator=str_tuple()
    )
    buying_process: tuple[BuyingRole, ...] = attrs.field(default=(), converter=_buying_process)
    next_steps: tuple[NextStep, ...] = attrs.field(
        default=(), converter=to_tuple, validator=_check_next_steps
    )
    targets: tuple[PlanTarget, ...] = attrs.field(
        default=(), converter=to_tuple, validator=_check_targets
    )

    def _repr_html_(self) -> str:
        return account_plan_html(self)

    def to_dict(self) -> dict[str, Any]:
        """The plan as a JSON-ready dict (dates as ISO strings, tuples as lists).

        Returns
        -------
        dict

        Examples
        --------
        >>> AccountPlan(customer_id=3, buying_process=[("CEO", "ceo", True)]).to_dict()[
        ...     "buying_process"]
        [{'contact': 'CEO', 'role': 'ceo', 'decision_maker': True}]
        """
        return {
            "customer_id": jsonable(self.customer_id),
            "short_term_goals": list(self.short_term_goals),
            "long_term_goals": list(self.long_term_goals),
            "situation": jsonable(self.situation),
            "development_points": list(self.development_points),
            "buying_process": [
                {"contact": jsonable(c), "role": r, "decision_maker": d}
                for c, r, d in self.buying_process
            ],
            "next_steps": [step.to_dict() for step in self.next_steps],
            "targets": [target.to_dict() for target in self.targets],
        }

    def to_markdown(self) -> str:
        """Render the plan as a Markdown document.

        Sections: current situation (a table), goals (short and long term),
        development points, buying process (a table) and next steps (a
        table). Empty sections say ``_none_``. Floats are shown with two
        decimals and thousands separators.

        Returns
        -------
        str

        Examples
        --------
        >>> print(AccountPlan(customer_id="C1", situation={"revenue": 1234.5}).to_markdown())
        # Account plan: C1
        <BLANKLINE>
        ## Current situation
        <BLANKLINE>
        | item | value |
        | --- | --- |
        | revenue | 1,234.50 |
        <BLANKLINE>
        ## Goals
        <BLANKLINE>
        ### Short term
        <BLANKLINE>
        _none_
        <BLANKLINE>
        ### Long term
        <BLANKLINE>
        _none_
        <BLANKLINE>
        ## Development points
        <BLANKLINE>
        _none_
        <BLANKLINE>
        ## Buying process
        <BLANKLINE>
        _none_
        <BLANKLINE>
        ## Next steps
        <BLANKLINE>
        _none_
        <BLANKLINE>
        """
        lines = [f"# Account plan: {_cell(str(self.customer_id))}", "", "## Current situation", ""]
        if self.situation:
            lines += ["| item | value |", "| --- | --- |"]
            lines += [f"| {_cell(k)} | {_cell(v)} |" for k, v in self.situation.items()]
        else:
            lines.append("_none_")
        lines += ["", "## Goals", "", "### Short term", ""]
        lines += _bullets(self.short_term_goals)
        lines += ["", "### Long term", ""]
        lines += _bullets(self.long_term_goals)
        lines += ["", "## Development points", ""]
        lines += _bullets(self.development_points)
        lines += ["", "## Buying process", ""]
        if self.buying_process:
            lines += ["| contact | role | decision maker |", "| --- | --- | --- |"]
            lines += [
                f"| {_cell(str(c))} | {_cell(r)} | {_cell(d)} |" for c, r, d in self.buying_process
            ]
        else:
            lines.append("_none_")
        lines += ["", "## Next steps", ""]
        if self.next_steps:
            lines += ["| action | owner | due in (days) | reason |", "| --- | --- | --- | --- |"]
            lines += [
                f"| {_cell(s.action)} | {_cell(s.owner_role)} | {s.due_in_days} "
                f"| {_cell(s.reason) if s.reason else '–'} |"
                for s in self.next_steps
            ]
        else:
            lines.append("_none_")
        if self.targets:
            lines += ["", "## Targets", "", "| metric | target | from | due | goal |",
                      "| --- | --- | --- | --- | --- |"]
            lines += [
                f"| {t.metric} | {_cell(t.target)} | {t.start} | {t.due} "
                f"| {_cell(t.description) if t.description else '–'} |"
                for t in self.targets
            ]
        return "\n".join(lines) + "\n"
