"""Entities and records: validation, immutability, equality, from_row."""

from __future__ import annotations

import datetime as dt
import math

import attrs
import numpy as np
import pandas as pd
import pytest

from crmkit.data._columns import RECORD_SCHEMAS
from crmkit.domain import (
    Campaign,
    CampaignTouch,
    Contact,
    Customer,
    Feedback,
    FeedbackKind,
    Interaction,
    InteractionKind,
    NpsClass,
    PipelineStage,
    ProfileChange,
    Prospect,
    TouchGroup,
    Transaction,
)
from crmkit.exceptions import CrmkitError, SchemaError

D1 = dt.date(2024, 1, 1)
D2 = dt.date(2024, 6, 1)


def _message(exc: pytest.ExceptionInfo[BaseException]) -> str:
    return str(exc.value)


# ---- validation -------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "field", "value"),
    [
        (lambda: Transaction(customer_id="C1", date=D1, amount=1.0, quantity=-3), "quantity", "-3"),
        (lambda: Transaction(customer_id="C1", date=D1, amount=math.inf), "amount", "inf"),
        (lambda: Transaction(customer_id="C1", date=D1, amount="10"), "amount", "'10'"),
        (lambda: Transaction(customer_id="C1", date="2024-01-01", amount=1.0), "date", "'2024"),
        (lambda: Transaction(customer_id="", date=D1, amount=1.0), "customer_id", "''"),
        (lambda: Transaction(customer_id=True, date=D1, amount=1.0), "customer_id", "True"),
        (lambda: Transaction(customer_id=1, date=D1, amount=1.0, cost=-1.0), "cost", "-1.0"),
        (lambda: Transaction(customer_id=1, date=pd.NaT, amount=1.0), "date", "NaT"),
        (lambda: Customer(customer_id="C1", key_account=1), "key_account", "1"),
        (lambda: Customer(customer_id="C1", industry=5), "industry", "5"),
        (lambda: Contact(contact_id="P", customer_id="C", influence=1.5), "influence", "1.5"),
        (
            lambda: Contact(contact_id="P", customer_id="C", active_from=D2, left_date=D1),
            "left_date",
            "2024, 1, 1",
        ),
        (lambda: Interaction(customer_id=1, date=D1, kind="fax"), "kind", "'fax'"),
        (lambda: Feedback(customer_id=1, date=D1, kind="nps", score=11), "score", "11"),
        (lambda: Feedback(customer_id=1, date=D1, kind="nps", score=-1), "score", "-1"),
        (lambda: Feedback(customer_id=1, date=D1, kind="csat", score=0), "score", "0"),
        (lambda: Feedback(customer_id=1, date=D1, kind="ces", score=8), "score", "8"),
        (lambda: Feedback(customer_id=1, date=D1, kind="ces"), "score", "None"),
        (lambda: Feedback(customer_id=1, date=D1, kind="complaint", score=3), "score", "3"),
        (lambda: Feedback(customer_id=1, date=D1, kind="praise", score=3), "kind", "'praise'"),
        (
            lambda: Feedback(customer_id=1, date=D2, kind="complaint", resolved_date=D1),
            "resolved_date",
            "2024, 1, 1",
        ),
        (lambda: ProfileChange(customer_id=1, date=D1, kind=""), "kind", "''"),
        (lambda: Campaign(campaign_id="K", start=D2, end=D1), "end", "2024, 1, 1"),
        (lambda: Campaign(campaign_id="K", goals={"revenue": -5}), "goals['revenue']", "-5"),
        (lambda: Campaign(campaign_id="K", goals=[1]), "goals", "[1]"),
        (
            lambda: CampaignTouch(campaign_id="K", customer_id=1, date=D1, group="placebo"),
            "group",
            "'placebo'",
        ),
        (lambda: Prospect(prospect_id="L1", stage="won"), "stage", "'won'"),
    ],
)
def test_bad_fields_raise_a_schema_error_naming_field_and_value(
    build: object, field: str, value: str
) -> None:
    with pytest.raises(SchemaError) as exc:
        build()  # type: ignore[operator]
    assert isinstance(exc.value, CrmkitError) and isinstance(exc.value, ValueError)
    assert f"['{field}']" in _message(exc) or f'["{field}"]' in _message(exc)
    assert value in _message(exc)


def test_feedback_scales_accept_their_whole_range() -> None:
    for kind, (low, high) in {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}.items():
        for score in (low, high):
            assert Feedback(customer_id=1, date=D1, kind=kind, score=score).score == score


def test_numpy_values_are_accepted() -> None:
    t = Transaction(customer_id=np.int64(3), date=D1, amount=np.float64(2.5), quantity=np.int64(2))
    assert t.amount == 2.5
    c = Customer(customer_id="C1", key_account=np.True_)
    assert c.key_account


# ---- immutability and equality ----------------------------------------------


def test_objects_are_frozen_and_slotted() -> None:
    t = Transaction(customer_id="C1", date=D1, amount=1.0)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        t.amount = 2.0  # type: ignore[misc]
    assert not hasattr(t, "__dict__")
    c = Campaign(campaign_id="K", goals={"x": 1})
    with pytest.raises(TypeError):
        c.goals["x"] = 5  # type: ignore[index]


def test_evolve_validates_and_returns_a_new_object() -> None:
    c = Customer(customer_id="C1", address="Street 1")
    moved = attrs.evolve(c, address="Street 2")
    assert c.address == "Street 1" and moved.address == "Street 2"
    with pytest.raises(SchemaError):
        attrs.evolve(c, customer_since="yesterday")


@pytest.mark.parametrize(
    ("make", "other_id"),
    [
        (lambda i, n: Customer(customer_id=i, name=n), "C2"),
        (lambda i, n: Contact(contact_id=i, customer_id="X", role=n), "C2"),
        (lambda i, n: Prospect(prospect_id=i, industry=n), "C2"),
        (lambda i, n: Campaign(campaign_id=i, name=n), "C2"),
    ],
)
def test_entities_compare_and_hash_by_id(make: object, other_id: str) -> None:
    a = make("C1", "first")  # type: ignore[operator]
    b = make("C1", "second")  # type: ignore[operator]
    c = make(other_id, "first")  # type: ignore[operator]
    assert a == b and hash(a) == hash(b)
    assert a != c
    assert len({a, b, c}) == 2
    assert a != "C1"


def test_entities_of_different_types_with_same_id_differ() -> None:
    assert Customer(customer_id="X") != Prospect(prospect_id="X")


def test_records_compare_by_value() -> None:
    a = Transaction(customer_id="C1", date=D1, amount=1.0)
    assert a == Transaction(customer_id="C1", date=D1, amount=1.0)
    assert a != Transaction(customer_id="C1", date=D1, amount=2.0)
    assert len({a, Transaction(customer_id="C1", date=D1, amount=1.0)}) == 1


# ---- behaviour ---------------------------------------------------------------


def test_margin() -> None:
    assert Transaction(customer_id=1, date=D1, amount=10.0, cost=4.0).margin == 6.0
    assert Transaction(customer_id=1, date=D1, amount=10.0).margin is None


def test_contact_is_active_by_day() -> None:
    c = Contact(contact_id=1, customer_id=1, active_from=D1, left_date=D2)
    assert not c.is_active(dt.date(2023, 12, 31))
    assert c.is_active(D1)
    assert c.is_active(dt.datetime(2024, 5, 31, 23, 59))
    assert not c.is_active(D2)
    assert Contact(contact_id=1, customer_id=1, left_date=D2).is_active(dt.date(1990, 1, 1))
    with pytest.raises(SchemaError):
        c.is_active("2024-01-01")  # type: ignore[arg-type]


def test_nps_class_and_open_feedback() -> None:
    classes = [Feedback(customer_id=1, date=D1, kind="nps", score=s).nps_class for s in range(11)]
    assert classes == [NpsClass.DETRACTOR] * 7 + [NpsClass.PASSIVE] * 2 + [NpsClass.PROMOTER] * 2
    assert Feedback(customer_id=1, date=D1, kind="csat", score=2).nps_class is None
    open_c = Feedback(customer_id=1, date=D1, kind="complaint")
    closed = attrs.evolve(open_c, resolved_date=D2)
    assert open_c.is_open() and open_c.is_open(D2)
    assert not closed.is_open() and not closed.is_open(D2)
    assert closed.is_open(dt.date(2024, 3, 1))
    assert not closed.is_open(dt.date(2023, 1, 1))  # not given yet
    assert not Feedback(customer_id=1, date=D1, kind="nps", score=3).is_open()
    assert FeedbackKind.SUGGESTION.is_survey is False


def test_campaign_is_running() -> None:
    c = Campaign(campaign_id="K", start=D1, end=D2)
    assert [c.is_running(d) for d in (dt.date(2023, 12, 31), D1, D2, dt.date(2024, 6, 2))] == [
        False,
        True,
        True,
        False,
    ]


def test_pipeline_order() -> None:
    assert [s.rank for s in PipelineStage] == [0, 1, 2, 3, 4]


# ---- from_row ----------------------------------------------------------------

FROM_ROW = {
    "customers": Customer,
    "contacts": Contact,
    "transactions": Transaction,
    "interactions": Interaction,
    "feedback": Feedback,
    "events": ProfileChange,
    "campaigns": Campaign,
    "touches": CampaignTouch,
    "prospects": Prospect,
}

FULL_ROWS: dict[str, dict[str, object]] = {
    "customers": {
        "customer_id": "C1", "name": "Acme", "industry": "retail", "size_class": "small",
        "region": "Uusimaa", "address": "Street 1", "key_account": True,
        "customer_since": "2023-01-05",
    },
    "contacts": {
        "customer_id": "C1", "contact_id": "P1", "role": "ceo", "decision_maker": True,
        "influence": 0.8, "active_from": "2023-01-01", "left_date": "2024-01-01",
    },
    "transactions": {
        "customer_id": "C1", "date": "2024-01-05", "amount": 10.0, "product": "toner",
        "quantity": 2, "channel": "web", "cost": 6.0,
    },
    "interactions": {"customer_id": "C1", "date": "2024-01-05", "seller": "S1", "kind": "visit"},
    "feedback": {
        "customer_id": "C1", "date": "2024-01-05", "kind": "complaint", "score": None,
        "text": "late", "resolved_date": "2024-01-09",
    },
    "events": {"customer_id": "C1", "date": "2024-01-05", "kind": "address_change",
               "detail": "Street 2"},
    "campaigns": {
        "campaign_id": "K1", "name": "Spring", "start": "2024-03-01", "end": "2024-03-31",
        "goal_conversions": 40, "goal_revenue": 1000.0, "cost": 500.0,
    },
    "touches": {
        "campaign_id": "K1", "customer_id": "C1", "date": "2024-03-02", "group": "control",
        "action": "mail", "cost": 0.0,
    },
    "prospects": {
        "prospect_id": "L1", "industry": "retail", "size_class": "small", "region": "Uusimaa",
        "stage": "offer", "created": "2024-01-05", "converted_customer_id": "C1",
    },
}  # fmt: skip


def test_full_rows_cover_every_canonical_column() -> None:
    for kind, row in FULL_ROWS.items():
        assert set(row) == set(RECORD_SCHEMAS[kind]), kind


@pytest.mark.parametrize("kind", list(FROM_ROW))
def test_from_row_reads_every_canonical_column_and_ignores_extras(kind: str) -> None:
    cls = FROM_ROW[kind]
    row = {**FULL_ROWS[kind], "unrelated": object()}
    obj = cls.from_row(row)  # type: ignore[attr-defined]
    assert isinstance(obj, cls)
    # Round trip: every present cell ends up in the object (dates parsed).
    for column, value in FULL_ROWS[kind].items():
        if column.startswith("goal_"):
            assert obj.goals[column[5:]] == value
            continue
        got = getattr(obj, column)
        if hasattr(got, "value"):
            got = got.value
        if isinstance(got, dt.date):
            got = got.isoformat()
        assert got == value, (kind, column)


@pytest.mark.parametrize("kind", list(FROM_ROW))
def test_from_row_with_only_required_columns_gives_none_elsewhere(kind: str) -> None:
    cls = FROM_ROW[kind]
    required = {c for c, spec in RECORD_SCHEMAS[kind].items() if spec.required}
    row = {c: v for c, v in FULL_ROWS[kind].items() if c in required}
    if kind == "feedback":
        row["kind"] = "suggestion"
    obj = cls.from_row(row)  # type: ignore[attr-defined]
    for column in RECORD_SCHEMAS[kind]:
        if column in required:
            continue
        if column.startswith("goal_"):
            assert dict(obj.goals) == {}
        else:
            assert getattr(obj, column) is None, (kind, column)


@pytest.mark.parametrize("kind", list(FROM_ROW))
def test_from_row_missing_required_column_is_a_schema_error(kind: str) -> None:
    cls = FROM_ROW[kind]
    required = [c for c, spec in RECORD_SCHEMAS[kind].items() if spec.required]
    row = {c: v for c, v in FULL_ROWS[kind].items() if c != required[0]}
    with pytest.raises(SchemaError, match=required[0]):
        cls.from_row(row)  # type: ignore[attr-defined]


def test_from_row_reads_pandas_rows() -> None:
    df = pd.DataFrame(
        {
            "customer_id": [7, 8],
            "date": pd.to_datetime(["2024-01-05", "2024-02-01"]),
            "amount": [10.0, 3.5],
            "quantity": [np.nan, 2.0],
            "product": pd.Categorical(["a", None]),
        }
    )
    rows = [Transaction.from_row(row) for _, row in df.iterrows()]
    assert rows[0].customer_id == 7 and type(rows[0].customer_id) is int
    assert rows[0].date == dt.datetime(2024, 1, 5) and type(rows[0].date) is dt.datetime
    assert rows[0].quantity is None and rows[1].quantity == 2.0
    assert rows[1].product is None
    records = df.to_dict("records")
    assert Transaction.from_row(records[1]) == rows[1]
    stamp = np.datetime64("2024-03-01T00:00:00.000000000")
    assert Transaction.from_row({"customer_id": 1, "date": stamp, "amount": 1.0}).date == (
        dt.datetime(2024, 3, 1)
    )
    contact = Contact.from_row({"contact_id": 1, "customer_id": 1, "left_date": pd.NaT})
    assert contact.left_date is None


def test_from_row_bad_value_names_the_field() -> None:
    with pytest.raises(SchemaError, match=r"Feedback\['score'\].*\[12"):
        Feedback.from_row({"customer_id": 1, "date": "2024-01-01", "kind": "nps", "score": 12})
    with pytest.raises(SchemaError, match=r"Transaction\['date'\].*not a date"):
        Transaction.from_row({"customer_id": 1, "date": "not a date", "amount": 1})


def test_enum_fields_accept_members_and_values() -> None:
    call = Interaction(customer_id=1, date=D1, kind=InteractionKind.CALL)
    assert call.kind is InteractionKind.CALL
    assert CampaignTouch(campaign_id=1, customer_id=1, date=D1, group="TREATMENT").group is (
        TouchGroup.TREATMENT
    )
