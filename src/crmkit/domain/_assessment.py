"""The assessment of one customer: the row of a playbook result as an object."""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import attrs

from crmkit._display import assessment_html
from crmkit.domain._fields import (
    fail,
    id_field,
    jsonable,
    parse_enum,
    real_field,
    str_tuple,
    text_field,
    to_tuple,
)
from crmkit.domain._lifecycle import CustomerStatus, LifecycleStage, LifecycleState
from crmkit.domain._plans import CarePlan

__all__ = ["CustomerAssessment"]


def _stage(value: LifecycleStage | str) -> LifecycleStage:
    return parse_enum(LifecycleStage, value, "CustomerAssessment", "stage")


def _status(value: CustomerStatus | str) -> CustomerStatus:
    return parse_enum(CustomerStatus, value, "CustomerAssessment", "status")


def _frozen_mapping(value: Any, kind: type, name: str) -> Mapping[str, Any]:
    """Freeze a mapping of str to ``kind`` (a read-only view of a checked copy)."""
    if value is None:
        value = {}
    if not isinstance(value, Mapping):
        raise fail(
            "CustomerAssessment", name, f"must be a mapping, got {type(value).__name__}", value
        )
    out: dict[str, Any] = {}
    for key, item in value.items():
        if not isinstance(key, str) or not key:
            raise fail("CustomerAssessment", name, "keys must be non-empty str", key)
        if kind is float:
            if isinstance(item, bool) or not isinstance(item, (int, float)):
                raise fail("CustomerAssessment", name, f"{key!r} must be a number", item)
            if not math.isfinite(float(item)):
                raise fail("CustomerAssessment", name, f"{key!r} must be finite", item)
            item = float(item)
        elif not isinstance(item, str):
            raise fail("CustomerAssessment", name, f"{key!r} must be a str", item)
        out[key] = item
    return MappingProxyType(out)


def _segments(value: Any) -> Mapping[str, str]:
    return _frozen_mapping(value, str, "segments")


def _reasons(value: Any) -> Mapping[str, str]:
    return _frozen_mapping(value, str, "reasons")


def _risks(value: Any) -> Mapping[str, float]:
    return _frozen_mapping(value, float, "churn_risks")


def _check_care_plan(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and not isinstance(value, CarePlan):
        raise fail(
            "CustomerAssessment",
            attribute.name,
            f"must be a CarePlan or None, got {type(value).__name__}",
            value,
        )


@attrs.frozen(kw_only=True)
class CustomerAssessment:
    """Everything crmkit concluded about one customer at one date (a value object).

    Parameters
    ----------
    customer_id : str or int
        The customer.
    stage : LifecycleStage or str
        Lifecycle stage (for a lapsed customer, the stage it lapsed from).
    status : CustomerStatus or str, default=CustomerStatus.ACTIVE
        Active or lapsed; a prospect (acquisition) cannot be lapsed.
    clv : float, optional
        Customer lifetime value.
    p_alive : float, optional
        Probability that the customer is still active, 0..1.
    loyalty : float, optional
        Loyalty index.
    segment : str, optional
        Segment label.
    portfolio : str, optional
        Portfolio (care model class), e.g. ``"A"`` .. ``"D"``.
    churn_risk : float, optional
        Churn risk, 0..1.
    churn_reasons : sequence of str, default=()
        The early-warning signals behind the risk (stored as a tuple).
    care_plan : CarePlan, optional
        How to look after the customer.
    expected_purchases : float, optional
        Purchases the purchase model expects over the playbook's horizon.
    stage_reasons : sequence of str, default=()
        Why the stage (and, for a lapsed customer, the status): the
        stager's clauses, e.g. ``("development: 4 purchases over 38 weeks,
        last 3.0 weeks ago", "lapsed: ...")``.
    segments : mapping of str to str, default={}
        Every segment column of the assessment (``{"portfolio": "B"}``),
        ``segment`` and ``portfolio`` included.
    reasons : mapping of str to str, default={}
        The full text of every ``*_reasons`` column of the assessment, by
        column (``stage_reasons``, ``portfolio_reasons``,
        ``churn_reasons``, ``care_reasons`` ...): a reason for every
        decision.
    churn_risks : mapping of str to float, default={}
        Each churn detector's risk, by detector name, when a playbook runs
        several (its ``churn_risk_<name>`` columns).

    Raises
    ------
    SchemaError
        For a bad field.
    InvalidTransitionError
        For a lapsed prospect.

    Examples
    --------
    >>> a = CustomerAssessment(customer_id="C1", stage="retention", p_alive=0.42,
    ...                        churn_risk=0.7, churn_reasons=["complaint open"])
    >>> a.to_dict()["stage"], a.stage_label
    ('retention', 'retention')
    >>> b = CustomerAssessment(customer_id="C2", stage="onboarding", status="lapsed",
    ...                        reasons={"stage_reasons": "onboarding: 1 purchase, 30 weeks ago"})
    >>> b.stage_label, b.reasons["stage_reasons"]
    ('onboarding (lapsed)', 'onboarding: 1 purchase, 30 weeks ago')
    """

    customer_id: str | int = attrs.field(validator=id_field())
    stage: LifecycleStage = attrs.field(converter=_stage)
    status: CustomerStatus = attrs.field(default=CustomerStatus.ACTIVE, converter=_status)
    clv: float | None = attrs.field(default=None, validator=real_field(optional=True))
    p_alive: float | None = attrs.field(
        default=None, validator=real_field(optional=True, low=0.0, high=1.0)
    )
    loyalty: float | None = attrs.field(default=None, validator=real_field(optional=True))
    segment: str | None = attrs.field(default=None, validator=text_field())
    portfolio: str | None = attrs.field(default=None, validator=text_field())
    churn_risk: float | None = attrs.field(
        default=None, validator=real_field(optional=True, low=0.0, high=1.0)
    )
    churn_reasons: tuple[str, ...] = attrs.field(
        default=(), converter=to_tuple, validator=str_tuple()
    )
    care_plan: CarePlan | None = attrs.field(default=None, validator=_check_care_plan)
    expected_purchases: float | None = attrs.field(
        default=None, validator=real_field(optional=True, low=0.0)
    )
    stage_reasons: tuple[str, ...] = attrs.field(
        default=(), converter=to_tuple, validator=str_tuple()
    )
    segments: Mapping[str, str] = attrs.field(factory=dict, converter=_segments, hash=False)
    reasons: Mapping[str, str] = attrs.field(factory=dict, converter=_reasons, hash=False)
    churn_risks: Mapping[str, float] = attrs.field(factory=dict, converter=_risks, hash=False)

    def __attrs_post_init__(self) -> None:
        LifecycleState(stage=self.stage, status=self.status)

    @property
    def state(self) -> LifecycleState:
        """Stage and status together.

        Returns
        -------
        LifecycleState

        Examples
        --------
        >>> CustomerAssessment(customer_id=1, stage="onboarding").state.label
        'onboarding'
        """
        return LifecycleState(stage=self.stage, status=self.status)

    @property
    def stage_label(self) -> str:
        """A display label: the stage, with ``" (lapsed)"`` for a lapsed customer.

        Returns
        -------
        str

        Examples
        --------
        >>> CustomerAssessment(customer_id=1, stage="retention", status="lapsed").stage_label
        'retention (lapsed)'
        """
        return self.state.label

    def _repr_html_(self) -> str:
        return assessment_html(self)

    def to_dict(self) -> dict[str, Any]:
        """The assessment as a JSON-ready dict (enums as their values).

        Returns
        -------
        dict
            Keys ``customer_id, stage, status, stage_label, clv, p_alive,
            expected_purchases, loyalty, segment, portfolio, segments,
            churn_risk, churn_risks, churn_reasons, stage_reasons, reasons,
            care_plan`` (the care plan as a dict, or None).

        Examples
        --------
        >>> d = CustomerAssessment(customer_id="C9", stage="development").to_dict()
        >>> d["status"], d["care_plan"], d["churn_reasons"]
        ('active', None, [])
        """
        return {
            "customer_id": jsonable(self.customer_id),
            "stage": self.stage.value,
            "status": self.status.value,
            "stage_label": self.stage_label,
            "clv": jsonable(self.clv),
            "p_alive": jsonable(self.p_alive),
            "expected_purchases": jsonable(self.expected_purchases),
            "loyalty": jsonable(self.loyalty),
            "segment": self.segment,
            "portfolio": self.portfolio,
            "segments": dict(self.segments),
            "churn_risk": jsonable(self.churn_risk),
            "churn_risks": dict(self.churn_risks),
            "churn_reasons": list(self.churn_reasons),
            "stage_reasons": list(self.stage_reasons),
            "reasons": dict(self.reasons),
            "care_plan": None if self.care_plan is None else self.care_plan.to_dict(),
        }
