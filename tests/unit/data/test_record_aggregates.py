"""Record aggregates of the customer view: one customer's summary is its bulk row.

``summarize(data.for_customer(id))`` (the path of services that assess one
customer at a time) must give exactly the customer's row of the bulk
summary, and both must equal a plain pandas groupby reference, for every
record kind and the dtypes validation lets through.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import attrs
import numpy as np
import pandas as pd
import pytest

from crmkit.data import CustomerData, summarize
from crmkit.datasets import make_crm
from crmkit.exceptions import DataWarning
from tests.unit.data._reference_aggregates import reference_view

pytestmark = pytest.mark.filterwarnings("ignore::crmkit.exceptions.DataWarning")

#: Columns a summary leaves out when none of its rows qualifies.
ABSENT_WHEN_NONE = {"days_since_complaint", "days_since_contact_left"}
#: Per record kind, a count that is positive for a customer who has such records.
KIND_COUNTS = {
    "customers": "key_account",
    "feedback": "n_feedback",
    "interactions": "n_interactions",
    "contacts": "n_contacts",
    "events": "n_address_changes",
    "touches": "n_campaign_touches",
}


def assert_same(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert list(got.columns) == list(expected.columns)
    assert got.columns.dtype == expected.columns.dtype
    assert got.index.name == expected.index.name == "customer_id"
    pd.testing.assert_frame_equal(got, expected, check_exact=True)


def assert_is_bulk_row(
    one: pd.DataFrame, bulk: pd.DataFrame, cid: Any, check_dtype: bool = True
) -> None:
    """One customer's summary is its bulk row (a bulk column can be wider: NaN for others)."""
    row = bulk.loc[[cid]]
    absent = [c for c in bulk.columns if c not in one.columns]
    assert set(absent) <= ABSENT_WHEN_NONE, absent
    assert row[absent].isna().all(axis=None)
    if check_dtype:
        assert_same(one, row.drop(columns=absent))
    else:
        pd.testing.assert_frame_equal(
            one, row.drop(columns=absent), check_exact=True, check_dtype=False
        )


@pytest.fixture(scope="module")
def crm() -> tuple[CustomerData, pd.DataFrame]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        data = make_crm(150, seed=3).data
    return data, summarize(data)


def _picks(bulk: pd.DataFrame) -> list[Any]:
    """Customers that between them have every record kind and every optional column."""
    wanted = [
        bulk["n_complaints"] > 0,
        bulk["n_contacts_left"] > 0,
        bulk["n_address_changes"] > 0,
        bulk["n_campaign_touches"] > 0,
        bulk["mean_ces"].notna(),
        bulk["last_nps"].notna(),
        bulk["key_account"],
        bulk["n_feedback"] == 0,
        bulk["n_complaints"] == 0,
    ]
    picks = [bulk.index[w.to_numpy()][0] for w in wanted if w.any()]
    return list(dict.fromkeys([*picks, bulk.index[0], bulk.index[-1]]))


def test_one_customer_summary_is_its_bulk_row(crm: tuple[CustomerData, pd.DataFrame]) -> None:
    data, bulk = crm
    picks = _picks(bulk)
    for kind, col in KIND_COUNTS.items():
        assert kind in data.frames
        assert (bulk.loc[picks, col] > 0).any(), kind  # every record kind is exercised
    for cid in picks:
        assert_is_bulk_row(summarize(data.for_customer(cid)), bulk, cid)


def test_bulk_and_subsets_match_the_groupby_reference(
    crm: tuple[CustomerData, pd.DataFrame],
) -> None:
    data, bulk = crm
    assert_same(bulk, reference_view(data))
    rng = np.random.default_rng(0)
    ids = rng.choice(bulk.index.to_numpy(), 12, replace=False)
    frames = {}
    for kind, frame in data.frames.items():
        if "customer_id" in frame.columns:
            frame = frame.loc[frame["customer_id"].isin(ids).to_numpy()]
            if kind != "transactions":  # the order of the other records must not matter
                frame = frame.iloc[rng.permutation(len(frame))]
        frames[kind] = frame
    part = attrs.evolve(data, frames=frames)
    got = summarize(part)
    assert_same(got, reference_view(part))
    assert_same(got, bulk.loc[np.sort(ids)])


# ----------------------------------------------------------------- edge cases
_SCORES: dict[str, Any] = {
    "float64": [9.0, 3.0, 4.5, np.nan, np.nan, 7.0, 1.1, 2.2],
    "int64": [9, 3, 4, 1, 2, 7, 1, 2],
    "uint8": np.array([9, 3, 4, 1, 2, 7, 1, 2], dtype=np.uint8),
    "Int64": pd.array([9, 3, 4, None, None, 7, 1, 2], dtype="Int64"),
    "float32": np.array([9, 3, 4.5, np.nan, np.nan, 7, 1.1, 2.2], dtype=np.float32),
}


def _records(score: Any = None, **frames: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Three customers with purchases; customer 4 has feedback but no transactions."""
    out = {
        "transactions": pd.DataFrame(
            {
                "customer_id": [1, 1, 2, 3],
                "date": pd.to_datetime(["2024-01-01", "2024-01-20", "2024-01-05", "2024-02-01"]),
                "amount": [1.0, 2.0, 3.0, 4.0],
            }
        ),
        "feedback": pd.DataFrame(
            {
                "customer_id": [1, 1, 1, 2, 2, 4, 1, 3],
                "date": pd.to_datetime(
                    [
                        "2024-01-02 10:00",
                        "2024-01-02 09:00",
                        "2024-02-02",
                        "2024-01-12",
                        "2024-02-29 20:00",
                        "2024-01-01",
                        "2024-02-02",
                        "2024-01-01",
                    ],
                    format="ISO8601",
                ),
                "kind": ["NPS", "nps", "csat", "complaint", "Suggestion", "nps", "csat", "ces"],
                "resolved_date": pd.to_datetime(
                    [None, None, None, "2024-02-01", "2024-03-05", None, None, None]
                ),
            }
        ),
        "contacts": pd.DataFrame(
            {
                "customer_id": [1, 1, 2, 5],
                "contact_id": ["p", "q", "r", "s"],
                "decision_maker": pd.array([True, None, True, True], dtype="boolean"),
                "left_date": pd.to_datetime(
                    ["2024-02-20", None, "2024-03-01 12:00", "2024-01-01"], format="ISO8601"
                ),
            }
        ),
        "customers": pd.DataFrame(
            {
                "customer_id": [1, 2, 2, 9],
                "industry": ["x", "y", "z", "w"],
                "key_account": [True, False, True, True],
                "region": pd.Categorical(["a", "b", "b", "c"]),
                "customer_since": pd.to_datetime(["2023-01-01", None, "2025-01-01", None]),
            }
        ),
        "events": pd.DataFrame(
            {
                "customer_id": [3, 3, 1],
                "date": pd.to_datetime(["2024-02-01", "2024-02-03", "2024-01-01"]),
                "kind": ["address_change", "ADDRESS", "name_change"],
            }
        ),
    }
    if score is not None:
        out["feedback"] = out["feedback"].assign(score=score)
    out.update(frames)
    return out


def _variants() -> dict[str, Callable[[dict[str, pd.DataFrame]], dict[str, pd.DataFrame]]]:
    def only(**kw: Callable[[pd.DataFrame], pd.DataFrame]) -> Any:
        return lambda r: {**r, **{k: f(r[k]) for k, f in kw.items()}}

    def scored(f: pd.DataFrame) -> pd.DataFrame:
        return f.loc[f["score"].notna().to_numpy()] if "score" in f.columns else f

    return {
        "all": lambda r: r,
        "no optional columns": only(
            feedback=lambda f: f.drop(columns=["resolved_date"]),
            contacts=lambda f: f.drop(columns=["left_date", "decision_maker"]),
            customers=lambda f: f.drop(columns=["customer_since"]),
        ),
        "empty frames": only(
            feedback=lambda f: f.iloc[:0],
            contacts=lambda f: f.iloc[:0],
            events=lambda f: f.iloc[:0],
            customers=lambda f: f.iloc[:0],
        ),
        "nothing qualifies": only(
            feedback=lambda f: f.loc[(f["kind"] != "complaint").to_numpy()],
            contacts=lambda f: f.assign(left_date=pd.NaT),
            events=lambda f: f.iloc[2:],
        ),
        "only nps": only(feedback=lambda f: scored(f).assign(kind="nps")),
        "only nps, 4 complains": only(
            feedback=lambda f: scored(f).assign(
                kind=np.where(scored(f)["customer_id"] == 4, "complaint", "nps")
            )
        ),
        "no ces": only(feedback=lambda f: f.loc[(f["kind"] != "ces").to_numpy()]),
    }


_DTYPE_VARIANTS = ("all", "only nps", "only nps, 4 complains", "no ces")
_CASES = (
    [("float64", v) for v in _variants()]
    + [(None, "all")]
    + [(score, v) for score in _SCORES if score != "float64" for v in _DTYPE_VARIANTS]
)


@pytest.mark.parametrize(("score", "variant"), _CASES)
def test_edge_cases_match_the_reference_in_bulk_and_one_by_one(
    score: str | None, variant: str
) -> None:
    records = _variants()[variant](_records(None if score is None else _SCORES[score]))
    data = CustomerData.from_frames(**records, as_of="2024-03-01")
    bulk = summarize(data)
    assert_same(bulk, reference_view(data))
    for cid in bulk.index:
        one = data.for_customer(cid)
        single = summarize(one)
        assert_same(single, reference_view(one))
        assert_is_bulk_row(single, bulk, cid, check_dtype=False)


def test_string_ids_and_an_as_of_within_the_day() -> None:
    records = _records(_SCORES["float64"])
    for kind, frame in records.items():
        records[kind] = frame.assign(customer_id=frame["customer_id"].map("c{}".format))
    data = CustomerData.from_frames(**records, as_of="2024-03-01")
    for d in (data, attrs.evolve(data, as_of=pd.Timestamp("2024-03-01 13:30"))):
        assert_same(summarize(d), reference_view(d))
        assert_is_bulk_row(summarize(d.for_customer("c2")), summarize(d), "c2", False)


def test_means_of_interleaved_fractional_scores_are_pandas_means() -> None:
    # pandas sums a group differently when every group's rows are adjacent, so the
    # bulk grouping must see the same rows in the same order as a plain groupby
    rng = np.random.default_rng(5)
    n = 300
    fb = pd.DataFrame(
        {
            "customer_id": rng.integers(1, 6, n),
            "date": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 50, n), unit="D"),
            "kind": rng.choice(["csat", "ces", "nps"], n),
            "score": rng.uniform(1, 5, n),
        }
    )
    tx = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4],
            "date": pd.to_datetime(["2024-01-01"] * 4),
            "amount": [1.0] * 4,
        }
    )
    data = CustomerData.from_frames(transactions=tx, feedback=fb, as_of="2024-03-01")
    assert_same(summarize(data), reference_view(data))
    for cid in (1, 2, 3, 4):
        one = data.for_customer(cid)
        assert_same(summarize(one), reference_view(one))
