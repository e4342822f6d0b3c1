"""Dated records of what happened with a customer: purchases, contacts, feedback, changes.

These are value objects: two records with the same fields are equal.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from enum import Enum
from typing import Any

import attrs

from crmkit.domain._fields import (
    date_field,
    day_of,
    fail,
    id_field,
    parse_enum,
    read_row,
    real_field,
    text_field,
)

__all__ = [
    "Transaction",
    "Interaction",
    "InteractionKind",
    "Feedback",
    "FeedbackKind",
    "NpsClass",
    "SCORE_SCALES",
    "ProfileChange",
]

_TRANSACTION_COLUMNS = {
    "customer_id": "id",
    "date": "date",
    "amount": "real",
    "product": "text",
    "quantity": "real",
    "channel": "text",
    "cost": "real",
}


@attrs.frozen(kw_only=True)
class Transaction:
    """One purchase line.

    Parameters
    ----------
    customer_id : str or int
        Who bought.
    date : date or datetime
        When.
    amount : float
        Revenue of the line (refunds negative).
    product : str, optional
        Product or product group.
    quantity : float, optional
        Units, >= 0.
    channel : str, optional
        Sales channel.
    cost : float, optional
        Cost of goods, >= 0.

    Raises
    ------
    SchemaError
        For a bad field, naming it and the value.

    Examples
    --------
    >>> t = Transaction(customer_id="C1", date=dt.date(2024, 2, 1), amount=120.0, cost=80.0)
    >>> t.margin
    40.0
    >>> Transaction(customer_id="C1", date=dt.date(2024, 2, 1), amount=1.0, quantity=-3)
    Traceback (most recent call last):
    ...
    crmkit.exceptions.SchemaError: 1 problem in the input:
      - Transaction['quantity']: must be >= 0 (values [-3])
    """

    customer_id: str | int = attrs.field(validator=id_field())
    date: dt.date = attrs.field(validator=date_field())
    amount: float = attrs.field(validator=real_field())
    product: str | None = attrs.field(default=None, validator=text_field())
    quantity: float | None = attrs.field(default=None, validator=real_field(optional=True, low=0))
    channel: str | None = attrs.field(default=None, validator=text_field())
    cost: float | None = attrs.field(default=None, validator=real_field(optional=True, low=0))

    @property
    def margin(self) -> float | None:
        """Amount minus cost, or None without a cost.

        Returns
        -------
        float or None

        Examples
        --------
        >>> Transaction(customer_id=1, date=dt.date(2024, 1, 1), amount=5.0).margin is None
        True
        """
        if self.cost is None:
            return None
        return float(self.amount) - float(self.cost)

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Transaction:
        """Build a transaction from a row with the canonical ``transactions`` columns.

        Parameters
        ----------
        row : mapping or pandas Series
            Unknown keys are ignored; missing or NaN optional cells give None.

        Returns
        -------
        Transaction

        Raises
        ------
        SchemaError
            For a bad or missing required value.

        Examples
        --------
        >>> Transaction.from_row({"customer_id": "C1", "date": "2024-01-05",
        ...                       "amount": 10, "quantity": float("nan")}).quantity is None
        True
        """
        v = read_row(row, _TRANSACTION_COLUMNS)
        return cls(
            customer_id=v["customer_id"],
            date=v["date"],
            amount=v["amount"],
            product=v["product"],
            quantity=v["quantity"],
            channel=v["channel"],
            cost=v["cost"],
        )


class InteractionKind(str, Enum):
    """How a seller was in touch with a customer.

    Examples
    --------
    >>> [k.value for k in InteractionKind]
    ['visit', 'call', 'email', 'meeting']
    """

    VISIT = "visit"
    CALL = "call"
    EMAIL = "email"
    MEETING = "meeting"


def _interaction_kind(value: InteractionKind | str | None) -> InteractionKind | None:
    if value is None:
        return None
    return parse_enum(InteractionKind, value, "Interaction", "kind")


_INTERACTION_COLUMNS = {"customer_id": "id", "date": "date", "seller": "text", "kind": "enum"}


@attrs.frozen(kw_only=True)
class Interaction:
    """A seller's visit, call, e-mail or meeting with a customer.

    Parameters
    ----------
    customer_id : str or int
        The customer.
    date : date or datetime
        When.
    seller : str, optional
        Who was in touch.
    kind : InteractionKind or str, optional
        Visit, call, email or meeting.

    Raises
    ------
    SchemaError
        For a bad field.

    Examples
    --------
    >>> Interaction(customer_id="C1", date=dt.date(2024, 3, 1), seller="S1", kind="visit").kind
    <InteractionKind.VISIT: 'visit'>
    """

    customer_id: str | int = attrs.field(validator=id_field())
    date: dt.date = attrs.field(validator=date_field())
    seller: str | None = attrs.field(default=None, validator=text_field())
    kind: InteractionKind | None = attrs.field(default=None, converter=_interaction_kind)

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Interaction:
        """Build an interaction from a row with the canonical ``interactions`` columns.

        Parameters
        ----------
        row : mapping or pandas Series
            Unknown keys are ignored; missing or NaN optional cells give None.

        Returns
        -------
        Interaction

        Raises
        ------
        SchemaError
            For a bad or missing required value.

        Examples
        --------
        >>> Interaction.from_row({"customer_id": 3, "date": "2024-01-02", "kind": "call"}).kind
        <InteractionKind.CALL: 'call'>
        """
        v = read_row(row, _INTERACTION_COLUMNS)
        return cls(customer_id=v["customer_id"], date=v["date"], seller=v["seller"], kind=v["kind"])


class FeedbackKind(str, Enum):
    """What kind of feedback a customer gave.

    Examples
    --------
    >>> FeedbackKind.NPS.is_survey, FeedbackKind.COMPLAINT.is_survey
    (True, False)
    """

    NPS = "nps"
    CSAT = "csat"
    CES = "ces"
    COMPLAINT = "complaint"
    SUGGESTION = "suggestion"

    @property
    def is_survey(self) -> bool:
        """Whether the kind is a scored survey answer (NPS, CSAT, CES).

        Returns
        -------
        bool

        Examples
        --------
        >>> FeedbackKind.CES.is_survey
        True
        """
        return self.value in SCORE_SCALES


#: Score scale ``(low, high)`` of each survey kind: NPS 0..10 (likelihood to
#: recommend), CSAT 1..5 (satisfaction), CES 1..7 (agreement that the company
#: made it easy; higher is easier).
SCORE_SCALES: Mapping[str, tuple[int, int]] = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}


class NpsClass(str, Enum):
    """Net Promoter class of an NPS answer: 9-10 promoter, 7-8 passive, 0-6 detractor.

    Examples
    --------
    >>> NpsClass.of(6), NpsClass.of(9)
    (<NpsClass.DETRACTOR: 'detractor'>, <NpsClass.PROMOTER: 'promoter'>)
    """

    PROMOTER = "promoter"
    PASSIVE = "passive"
    DETRACTOR = "detractor"

    @classmethod
    def of(cls, score: float) -> NpsClass:
        """Classify an NPS score (0..10).

        Parameters
        ----------
        score : float
            The answer.

        Returns
        -------
        NpsClass

        Examples
        --------
        >>> NpsClass.of(7).value
        'passive'
        """
        if score >= 9:
            return cls.PROMOTER
        if score >= 7:
            return cls.PASSIVE
        return cls.DETRACTOR


def _feedback_kind(value: FeedbackKind | str) -> FeedbackKind:
    return parse_enum(FeedbackKind, value, "Feedback", "kind")


_FEEDBACK_COLUMNS = {
    "customer_id": "id",
    "date": "date",
    "kind": "enum",
    "score": "real",
    "text": "text",
    "resolved_date": "date",
}


@attrs.frozen(kw_only=True)
class Feedback:
    """A survey answer, complaint or suggestion.

    Survey kinds need a score on their scale (:data:`SCORE_SCALES`);
    complaints and suggestions carry no score but may carry a
    ``resolved_date`` (when they were answered).

    Parameters
    ----------
    customer_id : str or int
        The customer.
    date : date or datetime
        When given.
    kind : FeedbackKind or str
        nps, csat, ces, complaint or suggestion.
    score : float, optional
        The answer; required for survey kinds, refused for the others.
    text : str, optional
        Free text.
    resolved_date : date or datetime, optional
        When answered; not before ``date``.

    Raises
    ------
    SchemaError
        For a bad field, a score off the kind's scale, a missing survey score,
        a score on a complaint or suggestion, or a resolution before the date.

    Examples
    --------
    >>> f = Feedback(customer_id="C1", date=dt.date(2024, 4, 1), kind="nps", score=5)
    >>> f.nps_class
    <NpsClass.DETRACTOR: 'detractor'>
    >>> Feedback(customer_id="C1", date=dt.date(2024, 4, 1), kind="csat", score=7)
    Traceback (most recent call last):
    ...
    crmkit.exceptions.SchemaError: 1 problem in the input:
      - Feedback['score']: must be within [1, 5] for csat (values [7])
    """

    customer_id: str | int = attrs.field(validator=id_field())
    date: dt.date = attrs.field(validator=date_field())
    kind: FeedbackKind = attrs.field(converter=_feedback_kind)
    score: float | None = attrs.field(default=None, validator=real_field(optional=True))
    text: str | None = attrs.field(default=None, validator=text_field())
    resolved_date: dt.date | None = attrs.field(default=None, validator=date_field(optional=True))

    def __attrs_post_init__(self) -> None:
        scale = SCORE_SCALES.get(self.kind.value)
        if scale is not None:
            if self.score is None:
                raise fail("Feedback", "score", f"is required for {self.kind.value}", None)
            low, high = scale
            if not low <= self.score <= high:
                raise fail(
                    "Feedback",
                    "score",
                    f"must be within [{low}, {high}] for {self.kind.value}",
                    self.score,
                )
        elif self.score is not None:
            raise fail("Feedback", "score", f"must be None for a {self.kind.value}", self.score)
        if self.resolved_date is not None and day_of(self.resolved_date) < day_of(self.date):
            raise fail(
                "Feedback",
                "resolved_date",
                f"must not be before date ({self.date.isoformat()})",
                self.resolved_date,
            )

    @property
    def nps_class(self) -> NpsClass | None:
        """Promoter, passive or detractor for an NPS answer; None for other kinds.

        Returns
        -------
        NpsClass or None

        Examples
        --------
        >>> Feedback(customer_id=1, date=dt.date(2024, 1, 1), kind="nps", score=10).nps_class
        <NpsClass.PROMOTER: 'promoter'>
        """
        if self.kind is not FeedbackKind.NPS or self.score is None:
            return None
        return NpsClass.of(self.score)

    def is_open(self, on: dt.date | None = None) -> bool:
        """Whether a complaint or suggestion is still unanswered.

        Parameters
        ----------
        on : date or datetime, optional
            The day to look from; None means now (only ``resolved_date``
            being empty counts). A resolution after ``on`` is still open on
            ``on``.

        Returns
        -------
        bool
            Always False for survey answers.

        Examples
        --------
        >>> c = Feedback(customer_id=1, date=dt.date(2024, 1, 1), kind="complaint",
        ...              resolved_date=dt.date(2024, 2, 1))
        >>> c.is_open(), c.is_open(dt.date(2024, 1, 15))
        (False, True)
        """
        if self.kind.is_survey:
            return False
        if on is not None and not isinstance(on, dt.date):
            raise fail("Feedback", "is_open(on)", "must be a date", on)
        if on is not None and day_of(on) < day_of(self.date):
            return False
        if self.resolved_date is None:
            return True
        return on is not None and day_of(on) < day_of(self.resolved_date)

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Feedback:
        """Build feedback from a row with the canonical ``feedback`` columns.

        Parameters
        ----------
        row : mapping or pandas Series
            Unknown keys are ignored; missing or NaN optional cells give None.

        Returns
        -------
        Feedback

        Raises
        ------
        SchemaError
            For a bad or missing required value.

        Examples
        --------
        >>> Feedback.from_row({"customer_id": 1, "date": "2024-01-01", "kind": "complaint",
        ...                    "score": float("nan")}).is_open()
        True
        """
        v = read_row(row, _FEEDBACK_COLUMNS)
        return cls(
            customer_id=v["customer_id"],
            date=v["date"],
            kind=v["kind"],
            score=v["score"],
            text=v["text"],
            resolved_date=v["resolved_date"],
        )


_EVENT_COLUMNS = {"customer_id": "id", "date": "date", "kind": "text", "detail": "text"}


@attrs.frozen(kw_only=True)
class ProfileChange:
    """A change in a customer's profile (an ``events`` record), e.g. an address change.

    Parameters
    ----------
    customer_id : str or int
        The customer.
    date : date or datetime
        When.
    kind : str
        What changed, e.g. ``"address_change"``.
    detail : str, optional
        Free text, e.g. the new address.

    Raises
    ------
    SchemaError
        For a bad field.

    Examples
    --------
    >>> ProfileChange(customer_id="C1", date=dt.date(2024, 5, 1), kind="address_change").kind
    'address_change'
    """

    customer_id: str | int = attrs.field(validator=id_field())
    date: dt.date = attrs.field(validator=date_field())
    kind: str = attrs.field(validator=text_field(optional=False, nonempty=True))
    detail: str | None = attrs.field(default=None, validator=text_field())

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> ProfileChange:
        """Build a profile change from a row with the canonical ``events`` columns.

        Parameters
        ----------
        row : mapping or pandas Series
            Unknown keys are ignored; missing or NaN optional cells give None.

        Returns
        -------
        ProfileChange

        Raises
        ------
        SchemaError
            For a bad or missing required value.

        Examples
        --------
        >>> ProfileChange.from_row({"customer_id": 1, "date": "2024-05-01",
        ...                         "kind": "address_change"}).detail is None
        True
        """
        v = read_row(row, _EVENT_COLUMNS)
        return cls(customer_id=v["customer_id"], date=v["date"], kind=v["kind"], detail=v["detail"])
