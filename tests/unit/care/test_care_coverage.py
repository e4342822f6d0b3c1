"""Contact coverage and the decision-maker map."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmkit.care import COVERAGE_RISKS, contact_coverage, contact_map
from crmkit.data import CustomerData
from crmkit.exceptions import InvalidParameterError, SchemaError

NaT = pd.NaT


def _data(interactions: pd.DataFrame | None = None) -> CustomerData:
    tx = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d", "e", "f"],
            "date": pd.to_datetime(["2024-01-05"] * 6),
            "amount": [10.0] * 6,
        }
    )
    contacts = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "b", "c", "d", "d", "e", "e"],
            "contact_id": ["a1", "a2", "a3", "b1", "c1", "d1", "d2", "e1", "e2"],
            "role": ["ceo", "cfo", "buyer", "buyer", "ceo", "ceo", "buyer", "user", None],
            "decision_maker": [True, True, False, False, True, True, False, False, False],
            "influence": [0.9, 0.7, 0.3, 0.5, 0.8, 0.9, 0.2, 0.1, 0.4],
            "left_date": pd.to_datetime(
                [NaT, "2023-10-01", NaT, NaT, "2023-12-01", "2023-11-01", NaT, NaT, NaT]
            ),
        }
    )
    customers = pd.DataFrame({"customer_id": ["a", "b", "c", "d", "e", "f", "g"]})
    return CustomerData.from_frames(
        transactions=tx,
        contacts=contacts,
        customers=customers,
        interactions=interactions,
        as_of="2024-02-01",
    )


def test_coverage_flags_each_situation() -> None:
    ix = pd.DataFrame(
        {
            "customer_id": ["a", "a", "b"],
            "date": pd.to_datetime(["2024-01-01", "2024-01-21", "2023-12-02"]),
        }
    )
    cov = contact_coverage(_data(ix))
    assert cov.index.tolist() == list("abcdefg")
    assert cov.loc[
        "a", ["n_contacts", "n_contacts_left", "n_decision_makers", "n_decision_makers_left"]
    ].tolist() == [2, 1, 1, 1]
    assert cov.loc["a", "decision_makers"] == "a1 (ceo)"
    assert cov["coverage_risk"].astype(str).to_dict() == {
        "a": "covered",
        "b": "single-threaded",
        "c": "only contact left",
        "d": "all decision makers left",
        "e": "no decision maker known",
        "f": "no contact known",
        "g": "no contact known",
    }
    assert cov["single_threaded"].tolist() == [False, True, False, True, False, False, False]
    assert cov.loc["c", "only_contact_left"] and not cov.loc["f", "only_contact_left"]
    assert cov.loc["d", "all_decision_makers_left"] and cov.loc["c", "all_decision_makers_left"]
    assert cov.loc["a", "last_interaction"] == pd.Timestamp("2024-01-21")
    assert cov.loc["a", "days_since_interaction"] == 11.0
    assert np.isnan(cov.loc["c", "days_since_interaction"])
    assert list(cov["coverage_risk"].cat.categories) == list(COVERAGE_RISKS)


def test_contact_map_orders_and_marks_contacts() -> None:
    people = contact_map(_data(), "a")
    assert people["contact_id"].tolist() == ["a1", "a3", "a2"]  # active DM, active, left
    assert people["active"].tolist() == [True, True, False]
    assert people["decision_maker"].tolist() == [True, False, True]
    everyone = contact_map(_data())
    assert everyone.loc[everyone["contact_id"] == "e2", "role"].item() == ""
    assert everyone["last_interaction"].isna().all()  # interactions name no contact


def test_contact_map_reads_contact_ids_of_interactions() -> None:
    ix = pd.DataFrame(
        {
            "customer_id": ["a", "a", "a"],
            "contact_id": ["a1", "a1", "a3"],
            "date": pd.to_datetime(["2024-01-01", "2024-01-11", "2023-12-01"]),
        }
    )
    people = contact_map(_data(ix), "a").set_index("contact_id")
    assert people.loc["a1", "last_interaction"] == pd.Timestamp("2024-01-11")
    assert people.loc["a1", "days_since_interaction"] == 21.0
    assert pd.isna(people.loc["a2", "last_interaction"])


def test_coverage_needs_contacts_and_customer_data() -> None:
    tx = pd.DataFrame({"customer_id": ["a"], "date": ["2024-01-01"], "amount": [1.0]})
    with pytest.raises(SchemaError, match=r"contacts\['<frame>'\]: is missing"):
        contact_coverage(CustomerData.from_frames(transactions=tx))
    with pytest.raises(TypeError, match=r"'data' parameter of contact_coverage must be Cu"):
        contact_coverage(tx)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match=r"of contact_map .* Got a dict instead\.$"):
        contact_map({"contacts": tx})  # type: ignore[arg-type]


def test_input_frames_are_not_changed() -> None:
    data = _data()
    before = {k: v.copy(deep=True) for k, v in data.frames.items()}
    contact_coverage(data)
    contact_map(data)
    for kind, frame in data.frames.items():
        pd.testing.assert_frame_equal(frame, before[kind])
