"""Entities for the parties of a customership: customers, their contacts, prospects.

Entities compare and hash by their id alone (``eq=False`` plus an explicit
``__eq__``/``__hash__``): a customer whose address changed is still the same
customer. Changes are made with :func:`attrs.evolve`, which returns a new
object.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from enum import Enum
from typing import Any

import attrs

from crmkit.domain._fields import (
    bool_field,
    date_field,
    day_of,
    fail,
    id_field,
    parse_enum,
    read_row,
    real_field,
    text_field,
)

__all__ = ["Customer", "Contact", "Prospect", "PipelineStage"]

_CUSTOMER_COLUMNS = {
    "customer_id": "id",
    "name": "text",
    "industry": "text",
    "size_class": "text",
    "region": "text",
    "address": "text",
    "key_account": "bool",
    "customer_since": "date",
}


@attrs.frozen(kw_only=True, eq=False)
class Customer:
    """A B2B customer account (an entity: equal when the ids are equal).

    Parameters
    ----------
    customer_id : str or int
        The id.
    name : str, optional
        Display name.
    industry : str, optional
        Industry.
    size_class : str, optional
        Company size class, e.g. ``"micro"``, ``"small"``, ``"medium"``,
        ``"large"``.
    region : str, optional
        Region.
    address : str, optional
        Current address.
    key_account : bool, optional
        Whether it is a key account (None: unknown).
    customer_since : date or datetime, optional
        Start of the customership.

    Raises
    ------
    SchemaError
        For a bad field, naming the field and the value.

    Examples
    --------
    >>> a = Customer(customer_id="C1", name="Acme Oy", region="Uusimaa")
    >>> b = attrs.evolve(a, region="Pirkanmaa")
    >>> a == b, b.region
    (True, 'Pirkanmaa')
    """

    customer_id: str | int = attrs.field(validator=id_field())
    name: str | None = attrs.field(default=None, validator=text_field())
    industry: str | None = attrs.field(default=None, validator=text_field())
    size_class: str | None = attrs.field(default=None, validator=text_field())
    region: str | None = attrs.field(default=None, validator=text_field())
    address: str | None = attrs.field(default=None, validator=text_field())
    key_account: bool | None = attrs.field(default=None, validator=bool_field(optional=True))
    customer_since: dt.date | None = attrs.field(default=None, validator=date_field(optional=True))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Customer):
            return NotImplemented
        return self.customer_id == other.customer_id

    def __hash__(self) -> int:
        return hash((Customer, self.customer_id))

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Customer:
        """Build a customer from a row with the canonical ``customers`` columns.

        Parameters
        ----------
        row : mapping or pandas Series
            Unknown keys are ignored; missing or NaN optional cells give None.

        Returns
        -------
        Customer

        Raises
        ------
        SchemaError
            For a bad or missing required value.

        Examples
        --------
        >>> Customer.from_row({"customer_id": 7, "industry": "retail", "extra": 1}).industry
        'retail'
        """
        v = read_row(row, _CUSTOMER_COLUMNS)
        return cls(
            customer_id=v["customer_id"],
            name=v["name"],
            industry=v["industry"],
            size_class=v["size_class"],
            region=v["region"],
            address=v["address"],
            key_account=v["key_account"],
            customer_since=v["customer_since"],
        )


_CONTACT_COLUMNS = {
    "contact_id": "id",
    "customer_id": "id",
    "role": "text",
    "decision_maker": "bool",
    "influence": "real",
    "active_from": "date",
    "left_date": "date",
}


@attrs.frozen(kw_only=True, eq=False)
class Contact:
    """A person at a customer account (an entity: equal when the contact ids are equal).

    Parameters
    ----------
    contact_id : str or int
        The person's id.
    customer_id : str or int
        The account.
    role : str, optional
        Role in the buying process (``"purchaser"``, ``"ceo"`` ...).
    decision_maker : bool, optional
        Whether the person decides purchases (None: unknown).
    influence : float, optional
        Influence on the buying decision, 0..1.
    active_from : date or datetime, optional
        Since when the person is our contact.
    left_date : date or datetime, optional
        When the person left (None: still there); not before ``active_from``.

    Raises
    ------
    SchemaError
        For a bad field, or ``left_date`` before ``active_from``.

    Examples
    --------
    >>> c = Contact(contact_id="P1", customer_id="C1", decision_maker=True,
    ...             active_from=dt.date(2023, 1, 1), left_date=dt.date(2024, 6, 30))
    >>> c.is_active(dt.date(2024, 1, 1)), c.is_active(dt.date(2024, 6, 30))
    (True, False)
    """

    contact_id: str | int = attrs.field(validator=id_field())
    customer_id: str | int = attrs.field(validator=id_field())
    role: str | None = attrs.field(default=None, validator=text_field())
    decision_maker: bool | None = attrs.field(default=None, validator=bool_field(optional=True))
    influence: float | None = attrs.field(
        default=None, validator=real_field(optional=True, low=0.0, high=1.0)
    )
    active_from: dt.date | None = attrs.field(default=None, validator=date_field(optional=True))
    left_date: dt.date | None = attrs.field(default=None, validator=date_field(optional=True))

    def __attrs_post_init__(self) -> None:
        if (
            self.active_from is not None
            and self.left_date is not None
            and day_of(self.left_date) < day_of(self.active_from)
        ):
            raise fail(
                "Contact",
                "left_date",
                f"must not be before active_from ({self.active_from.isoformat()})",
                self.left_date,
            )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Contact):
            return NotImplemented
        return self.contact_id == other.contact_id

    def __hash__(self) -> int:
        return hash((Contact, self.contact_id))

    def is_active(self, on: dt.date) -> bool:
        """Whether the person is our contact on day ``on``.

        Active from ``active_from`` (inclusive; unknown means always) until
        ``left_date`` (exclusive). Compared by calendar day.

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
        >>> Contact(contact_id=1, customer_id=1).is_active(dt.date(2000, 1, 1))
        True
        """
        if not isinstance(on, dt.date):
            raise fail("Contact", "is_active(on)", "must be a date", on)
        day = day_of(on)
        if self.active_from is not None and day < day_of(self.active_from):
            return False
        return self.left_date is None or day < day_of(self.left_date)

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Contact:
        """Build a contact from a row with the canonical ``contacts`` columns.

        Parameters
        ----------
        row : mapping or pandas Series
            Unknown keys are ignored; missing or NaN optional cells give None.

        Returns
        -------
        Contact

        Raises
        ------
        SchemaError
            For a bad or missing required value.

        Examples
        --------
        >>> Contact.from_row({"contact_id": "P1", "customer_id": "C1",
        ...                   "left_date": "2024-05-01"}).left_date
        datetime.date(2024, 5, 1)
        """
        v = read_row(row, _CONTACT_COLUMNS)
        return cls(
            contact_id=v["contact_id"],
            customer_id=v["customer_id"],
            role=v["role"],
            decision_maker=v["decision_maker"],
            influence=v["influence"],
            active_from=v["active_from"],
            left_date=v["left_date"],
        )


class PipelineStage(str, Enum):
    """How far a prospect got in the sales pipeline, in order.

    Examples
    --------
    >>> PipelineStage.OFFER.rank > PipelineStage.MARKETING.rank
    True
    """

    IDENTIFIED = "identified"
    MARKETING = "marketing"
    OFFER = "offer"
    NEGOTIATION = "negotiation"
    ORDER = "order"

    @property
    def rank(self) -> int:
        """Position in the pipeline, 0 for identified.

        Returns
        -------
        int

        Examples
        --------
        >>> PipelineStage.ORDER.rank
        4
        """
        return list(PipelineStage).index(self)


def _pipeline_stage(value: PipelineStage | str | None) -> PipelineStage | None:
    if value is None:
        return None
    return parse_enum(PipelineStage, value, "Prospect", "stage")


_PROSPECT_COLUMNS = {
    "prospect_id": "id",
    "industry": "text",
    "size_class": "text",
    "region": "text",
    "stage": "enum",
    "created": "date",
    "converted_customer_id": "id",
}


@attrs.frozen(kw_only=True, eq=False)
class Prospect:
    """A potential customer in the acquisition stage (equal when the ids are equal).

    Parameters
    ----------
    prospect_id : str or int
        The id.
    industry, size_class, region : str, optional
        Firmographics, as for :class:`Customer`.
    stage : PipelineStage or str, optional
        Pipeline stage reached.
    created : date or datetime, optional
        When the prospect was identified.
    converted_customer_id : str or int, optional
        The customer it became, if any.

    Raises
    ------
    SchemaError
        For a bad field.

    Examples
    --------
    >>> Prospect(prospect_id="L1", stage="offer").stage
    <PipelineStage.OFFER: 'offer'>
    """

    prospect_id: str | int = attrs.field(validator=id_field())
    industry: str | None = attrs.field(default=None, validator=text_field())
    size_class: str | None = attrs.field(default=None, validator=text_field())
    region: str | None = attrs.field(default=None, validator=text_field())
    stage: PipelineStage | None = attrs.field(default=None, converter=_pipeline_stage)
    created: dt.date | None = attrs.field(default=None, validator=date_field(optional=True))
    converted_customer_id: str | int | None = attrs.field(
        default=None, validator=id_field(optional=True)
    )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Prospect):
            return NotImplemented
        return self.prospect_id == other.prospect_id

    def __hash__(self) -> int:
        return hash((Prospect, self.prospect_id))

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Prospect:
        """Build a prospect from a row with the canonical ``prospects`` columns.

        Parameters
        ----------
        row : mapping or pandas Series
            Unknown keys are ignored; missing or NaN optional cells give None.

        Returns
        -------
        Prospect

        Raises
        ------
        SchemaError
            For a bad or missing required value.

        Examples
        --------
        >>> Prospect.from_row({"prospect_id": "L9", "stage": "negotiation"}).stage.rank
        3
        """
        v = read_row(row, _PROSPECT_COLUMNS)
        return cls(
            prospect_id=v["prospect_id"],
            industry=v["industry"],
            size_class=v["size_class"],
            region=v["region"],
            stage=v["stage"],
            created=v["created"],
            converted_customer_id=v["converted_customer_id"],
        )
