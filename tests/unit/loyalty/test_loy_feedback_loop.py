"""The feedback loop: answered shares, answer times, open items and their age."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from crmkit.data import summarize
from crmkit.datasets import make_crm
from crmkit.exceptions import DataWarning, SchemaError
from crmkit.loyalty import FeedbackLoopReport, feedback_loop


def _records() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [1, 1, 2, 2, 3, 4],
            "date": pd.to_datetime(
                ["2024-01-01", "2024-02-01", "2024-01-10", "2024-03-01", "2024-03-05", "2024-02-15"]
            ),
            "kind": ["complaint", "suggestion", "complaint", "suggestion", "nps", "Complaint"],
            "score": [np.nan, np.nan, np.nan, np.nan, 9.0, np.nan],
            "text": ["late", "idea", "broken", "idea 2", None, "rude"],
            "resolved_date": pd.to_datetime(
                ["2024-01-05", None, "2024-01-30", "2024-03-21", None, None]
            ),
        }
    )


def test_summary_by_hand() -> None:
    loop = feedback_loop(_records(), as_of="2024-03-31")
    assert isinstance(loop, FeedbackLoopReport)
    assert loop.as_of == pd.Timestamp("2024-03-31")
    s = loop.summary
    assert s.index.tolist() == ["complaint", "suggestion", "all"]
    c, g, a = s.loc["complaint"], s.loc["suggestion"], s.loc["all"]
    assert (c["n"], c["n_answered"], c["n_open"]) == (3, 2, 1)
    assert c["share_answered"] == pytest.approx(2 / 3)
    assert c["median_days_to_answer"] == 12.0 and c["mean_days_to_answer"] == 12.0
    assert c["max_open_age_days"] == 45.0  # 2024-02-15 .. 2024-03-31
    assert (g["n"], g["n_answered"], g["median_days_to_answer"]) == (2, 1, 20.0)
    assert g["median_open_age_days"] == 59.0  # 2024-02-01 .. 2024-03-31
    assert (a["n"], a["n_answered"], a["n_open"], a["n_customers_open"]) == (5, 3, 2, 2)
    assert a["median_days_to_answer"] == 20.0  # 4, 20, 20


def test_per_customer_and_open_items() -> None:
    loop = feedback_loop(_records(), as_of="2024-03-31")
    cust = loop.customers
    assert cust.index.tolist() == [1, 2, 4]
    assert cust.loc[1, ["n_complaints", "n_suggestions", "n_answered", "n_open"]].tolist() == [
        1,
        1,
        1,
        1,
    ]
    assert cust.loc[1, "oldest_open_days"] == 59.0
    assert np.isnan(cust.loc[2, "oldest_open_days"])
    assert cust.loc[2, "mean_days_to_answer"] == 20.0  # 20 and 20 days
    assert np.isnan(cust.loc[4, "mean_days_to_answer"])
    assert loop.open_items["customer_id"].tolist() == [1, 4]
    assert loop.open_items["age_days"].tolist() == [59.0, 45.0]
    assert loop.open_items["text"].tolist() == ["idea", "rude"]


def test_a_resolution_after_as_of_is_still_open() -> None:
    loop = feedback_loop(_records(), as_of="2024-03-10")
    # the suggestion of 2024-03-01 is answered on 2024-03-21: open on 2024-03-10
    assert loop.summary.loc["suggestion", "n_open"] == 2
    assert loop.customers.loc[2, "n_open_suggestions"] == 1


def test_default_as_of_of_a_frame_is_the_last_date_or_resolution() -> None:
    assert feedback_loop(_records()).as_of == pd.Timestamp("2024-03-21")


def test_items_after_as_of_are_left_out_with_a_warning() -> None:
    with pytest.warns(DataWarning, match="dated after as_of"):
        loop = feedback_loop(_records(), as_of="2024-01-31")
    assert loop.summary.loc["all", "n"] == 2


def test_resolution_before_the_item_is_a_schema_error() -> None:
    fb = _records().assign(
        resolved_date=pd.to_datetime(["2023-12-01", None, None, None, None, None])
    )
    with pytest.raises(SchemaError, match="before the item's date"):
        feedback_loop(fb)


def test_input_is_not_modified() -> None:
    fb = _records()
    before = fb.copy()
    feedback_loop(fb, as_of="2024-03-31")
    pd.testing.assert_frame_equal(fb, before)


def test_agrees_with_the_open_complaints_of_the_customer_view() -> None:
    crm = make_crm(400, seed=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        data = crm.data
        view = summarize(data)
    loop = feedback_loop(data)
    assert loop.as_of == data.as_of
    open_c = loop.customers["n_open_complaints"].reindex(view.index, fill_value=0)
    np.testing.assert_array_equal(open_c.to_numpy(), view["n_complaints_open"].to_numpy())
    open_s = loop.customers["n_open_suggestions"].reindex(view.index, fill_value=0)
    np.testing.assert_array_equal(open_s.to_numpy(), view["n_suggestions_open"].to_numpy())
    assert 0 < loop.summary.loc["all", "share_answered"] < 1
