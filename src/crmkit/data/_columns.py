"""The tabular contract: record kinds, column roles and customer-view columns."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import attrs

from crmkit.exceptions import InvalidParameterError

__all__ = [
    "RECORD_KINDS",
    "RoleSpec",
    "RECORD_SCHEMAS",
    "VIEW_COLUMNS",
    "ColumnMap",
    "TIME_UNITS",
    "TimeUnit",
]

Kind = Literal["id", "date", "number", "text", "bool", "category"]
TimeUnit = Literal["D", "W", "M"]

#: Length of one time unit in days ("M" is an average month).
TIME_UNITS: Mapping[str, float] = {"D": 1.0, "W": 7.0, "M": 365.25 / 12.0}


@attrs.frozen
class RoleSpec:
    """What one column role must hold.

    Parameters
    ----------
    kind : {"id", "date", "number", "text", "bool", "category"}
        The logical type checked by validation.
    required : bool, default=False
        Whether the record kind cannot be used without it.
    nullable : bool, default=True
        Whether missing values are allowed (ids, required dates and amounts
        never are).
    doc : str, default=""
        One line for the docs.

    Examples
    --------
    >>> RoleSpec("date", required=True).required
    True
    """

    kind: Kind
    required: bool = False
    nullable: bool = True
    doc: str = ""


def _req(kind: Kind, doc: str) -> RoleSpec:
    return RoleSpec(kind, required=True, nullable=False, doc=doc)


def _opt(kind: Kind, doc: str) -> RoleSpec:
    return RoleSpec(kind, doc=doc)


#: For every record kind, its column roles (canonical names) and their rules.
RECORD_SCHEMAS: Mapping[str, Mapping[str, RoleSpec]] = {
    "transactions": {
        "customer_id": _req("id", "the customer who bought"),
        "date": _req("date", "when"),
        "amount": _req("number", "revenue of the line (refunds negative)"),
        "product": _opt("category", "product or product group"),
        "quantity": _opt("number", "units"),
        "channel": _opt("category", "sales channel"),
        "cost": _opt("number", "cost of goods, for margin"),
    },
    "customers": {
        "customer_id": _req("id", "the customer"),
        "name": _opt("text", "display name"),
        "industry": _opt("category", "industry (B2B)"),
        "size_class": _opt("category", "company size class"),
        "region": _opt("category", "region"),
        "address": _opt("text", "current address"),
        "key_account": _opt("bool", "key-account flag"),
        "customer_since": _opt("date", "start of the customership, if known"),
    },
    "contacts": {
        "customer_id": _req("id", "the account"),
        "contact_id": _req("id", "the person"),
        "role": _opt("category", "role in the buying process"),
        "decision_maker": _opt("bool", "whether the person decides"),
        "influence": _opt("number", "influence on the decision, 0..1"),
        "active_from": _opt("date", "since when the person is our contact"),
        "left_date": _opt("date", "when the person left (missing = still there)"),
    },
    "interactions": {
        "customer_id": _req("id", "the customer"),
        "date": _req("date", "when"),
        "seller": _opt("category", "who met the customer"),
        "kind": _opt("category", "visit, call, email or meeting"),
    },
    "feedback": {
        "customer_id": _req("id", "the customer"),
        "date": _req("date", "when given"),
        "kind": _req("category", "nps, csat, ces, complaint or suggestion"),
        "score": _opt("number", "NPS 0..10, CSAT 1..5, CES 1..7"),
        "text": _opt("text", "free text"),
        "resolved_date": _opt("date", "when a complaint/suggestion was answered"),
    },
    "events": {
        "customer_id": _req("id", "the customer"),
        "date": _req("date", "when"),
        "kind": _req("category", "e.g. address_change"),
        "detail": _opt("text", "free text"),
    },
    "campaigns": {
        "campaign_id": _req("id", "the campaign"),
        "name": _opt("text", "display name"),
        "start": _opt("date", "first day"),
        "end": _opt("date", "last day"),
        "goal_conversions": _opt("number", "target number of converting customers"),
        "goal_revenue": _opt("number", "target revenue"),
        "cost": _opt("number", "total cost"),
    },
    "touches": {
        "campaign_id": _req("id", "the campaign"),
        "customer_id": _req("id", "the customer touched (or held out)"),
        "date": _req("date", "when"),
        "group": _opt("category", "treatment or control"),
        "action": _opt("category", "the action (mail, call, offer ...)"),
        "cost": _opt("number", "cost of the touch"),
    },
    "prospects": {
        "prospect_id": _req("id", "the prospect"),
        "industry": _opt("category", "industry"),
        "size_class": _opt("category", "company size class"),
        "region": _opt("category", "region"),
        "stage": _opt("category", "pipeline stage reached"),
        "created": _opt("date", "when identified"),
        "converted_customer_id": _opt("id", "the customer it became, if any"),
    },
}

RECORD_KINDS: tuple[str, ...] = tuple(RECORD_SCHEMAS)

#: The standard columns of the customer view, with their meaning.
VIEW_COLUMNS: Mapping[str, str] = {
    "frequency": "repeat purchase periods (distinct purchase periods after the first)",
    "recency": "time from the first to the last purchase period (t_x), in time units",
    "T": "time from the first purchase period to as_of, in time units",
    "monetary_value": "mean spend per repeat purchase period (0 without repeats)",
    "n_transactions": "transaction rows",
    "revenue": "total amount",
    "margin": "total amount minus cost (only with a cost column)",
    "first_purchase": "date of the first purchase",
    "last_purchase": "date of the last purchase",
    "tenure": "time from customer_since (or the first purchase) to as_of, in time units",
    "n_products": "distinct products bought (only with a product column)",
    "purchase_trend": (
        "(late - early) / (late + early) repeat purchase periods, halves of [first, as_of]"
    ),
    "mean_interpurchase": "recency / frequency (NaN without repeats)",
    "days_since_last": "days from the last purchase to as_of",
}


def _as_dict(mapping: Mapping[str, str]) -> dict[str, str]:
    return dict(mapping)


@attrs.frozen
class ColumnMap:
    """Maps the user's column names to crmkit's column roles.

    Keys are either a role (``"customer_id"``: applies to every record kind
    that has the role) or ``"kind.role"`` (``"transactions.amount"``: only
    that kind). Values are the user's column names. Roles not mapped are
    looked up under their own name.

    Parameters
    ----------
    mapping : mapping of str to str, default={}
        ``{role or kind.role: user column}``.

    Raises
    ------
    InvalidParameterError
        For a key or value that is not a string, an unknown record kind or an
        unknown role.

    Examples
    --------
    >>> cm = ColumnMap({"customer_id": "id", "transactions.amount": "value"})
    >>> cm.column_for("transactions", "amount"), cm.column_for("feedback", "customer_id")
    ('value', 'id')
    >>> cm.column_for("transactions", "date")
    'date'
    """

    mapping: Mapping[str, str] = attrs.field(factory=dict, converter=_as_dict)

    def __attrs_post_init__(self) -> None:
        for key, value in self.mapping.items():
            if not isinstance(key, str) or not isinstance(value, str):
                raise InvalidParameterError(
                    f"ColumnMap keys and values must be str; got {key!r}: {value!r}"
                )
            kind, _, role = key.rpartition(".")
            known_roles = {r for spec in RECORD_SCHEMAS.values() for r in spec}
            if kind and kind not in RECORD_SCHEMAS:
                raise InvalidParameterError(
                    f"ColumnMap key {key!r}: unknown record kind {kind!r}; "
                    f"kinds: {', '.join(RECORD_KINDS)}"
                )
            if role not in (RECORD_SCHEMAS[kind] if kind else known_roles):
                raise InvalidParameterError(f"ColumnMap key {key!r}: unknown role {role!r}")

    def column_for(self, kind: str, role: str) -> str:
        """The user's column for ``role`` in records of ``kind``.

        Parameters
        ----------
        kind : str
            Record kind, e.g. ``"transactions"``.
        role : str
            Column role, e.g. ``"amount"``.

        Returns
        -------
        str

        Examples
        --------
        >>> ColumnMap().column_for("transactions", "amount")
        'amount'
        """
        return self.mapping.get(f"{kind}.{role}", self.mapping.get(role, role))
