"""stage_history, stage_prospects and stage_migration."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit.data import CustomerData, summarize
from crmkit.exceptions import InvalidParameterError, PluginNotFoundError, SchemaError
from crmkit.lifecycle import (
    GONE,
    NEW,
    PROSPECT_PREFIX,
    RuleStager,
    stage_history,
    stage_migration,
    stage_prospects,
)
from crmkit.plugins import STAGES, STATUSES


def _tx() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["a", "a", "a", "a", "b", "c", "c"],
            "date": pd.to_datetime(
                [
                    "2024-01-09",
                    "2024-01-16",
                    "2024-02-01",
                    "2024-11-20",
                    "2024-05-01",
                    "2024-03-01",
                    "2024-12-20",
                ]
            ),
            "amount": [10.0, 12.0, 9.0, 11.0, 30.0, 5.0, 6.0],
        }
    )


def _prospects() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "prospect_id": ["L1", "L2", "L3"],
            "created": pd.to_datetime(["2024-02-10", "2024-08-01", "2024-01-01"]),
            "converted_customer_id": [None, None, "c"],
        }
    )


@pytest.fixture(scope="module")
def data() -> CustomerData:
    return CustomerData.from_frames(transactions=_tx(), prospects=_prospects(), as_of="2024-12-31")


def test_history_by_hand(data: CustomerData) -> None:
    history = stage_history(data, ["2024-12-31", "2024-01-31", "2024-06-30"])
    assert list(history.columns) == list(pd.to_datetime(["2024-01-31", "2024-06-30", "2024-12-31"]))
    assert history.columns.name == "as_of" and history.index.name == "customer_id"
    got = history.astype(object).where(history.notna(), None).to_dict(orient="index")
    values = {k: list(v.values()) for k, v in got.items()}
    assert values == {
        # a: onboarding in January; in June tenure 25 weeks (development) but idle 21
        # weeks (lapsed); bought again in November, tenure 51 weeks: development
        "a": ["onboarding", "development", "development"],
        # b: one purchase on 2024-05-01; in December its 35 idle weeks are below
        # 3 x the typical rhythm (28.5 weeks): still onboarding, active
        "b": [None, "onboarding", "onboarding"],
        # c: one purchase in March, idle 17 weeks in June (> 13): onboarding, lapsed;
        # again in December
        "c": [None, "onboarding", "development"],
    }
    for column in history.columns:
        assert tuple(history[column].cat.categories) == STAGES
    status = stage_history(data, ["2024-01-31", "2024-06-30", "2024-12-31"], column="status")
    got = status.astype(object).where(status.notna(), None).to_dict(orient="index")
    assert {k: list(v.values()) for k, v in got.items()} == {
        "a": ["active", "lapsed", "active"],
        "b": [None, "active", "active"],
        "c": [None, "lapsed", "active"],
    }
    for column in status.columns:
        assert tuple(status[column].cat.categories) == STATUSES
    with pytest.raises(InvalidParameterError, match=r"one of \{'stage', 'status'\}"):
        stage_history(data, ["2024-06-30"], column="lapsed")


def test_history_matches_staging_each_date_from_scratch() -> None:
    from crmkit.datasets import make_crm

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        crm = make_crm(300, seed=4)
        data = crm.data
        dates = ["2023-09-30", "2024-09-30", str(data.as_of.date())]
        history = stage_history(data, dates, include_records=False)
        tx = crm.frames["transactions"]
        for day in dates:
            fresh = CustomerData.from_frames(transactions=tx, as_of=day)
            view = summarize(fresh, include_records=False)
            expected = RuleStager().fit(view).stage(view)
            column = history[pd.Timestamp(day)]
            present = column.dropna()
            assert present.index.sort_values().equals(view.index.sort_values())
            assert present.astype(str).to_dict() == expected.astype(str).to_dict()


def test_prospects_are_acquisition_until_their_first_purchase(data: CustomerData) -> None:
    history = stage_history(
        data, ["2024-01-31", "2024-06-30", "2024-12-31"], include_prospects=True
    )
    l1, l2 = f"{PROSPECT_PREFIX}L1", f"{PROSPECT_PREFIX}L2"
    assert history.loc[l1].astype(object).tolist()[1:] == ["acquisition", "acquisition"]
    assert pd.isna(history.loc[l1].iloc[0])  # created 2024-02-10
    assert pd.isna(history.loc[l2].iloc[1]) and history.loc[l2].iloc[2] == "acquisition"
    # L3 became customer c (first purchase 2024-03-01): acquisition in January
    assert history.loc["c"].astype(object).tolist() == [
        "acquisition", "onboarding", "development"
    ]  # fmt: skip
    m = stage_migration(history.iloc[:, 0], history.iloc[:, 1])
    assert m.counts.loc["acquisition", "onboarding"] == 1  # c: converted between
    assert m.counts.loc[NEW, "acquisition"] == 1  # L1 identified


def test_stage_history_leaves_the_stager_alone(data: CustomerData) -> None:
    stager = RuleStager(lapse_after=30.0)
    history = stage_history(data, ["2024-12-31"], stager=stager)
    assert not hasattr(stager, "typical_interpurchase_")
    assert history.shape == (3, 1)


def test_history_before_any_purchase_is_empty_of_customers(data: CustomerData) -> None:
    history = stage_history(data, ["2023-06-30", "2024-12-31"])
    assert history.iloc[:, 0].isna().all() and history.iloc[:, 1].notna().all()


def test_history_errors(data: CustomerData) -> None:
    with pytest.raises(SchemaError, match="after the data's as_of") as info:
        stage_history(data, ["2024-06-30", "2025-01-31"])
    assert info.value.failures[0].values == ("2025-01-31",)
    with pytest.raises(SchemaError, match="repeats dates"):
        stage_history(data, ["2024-06-30", "2024-06-30"])
    with pytest.raises(SchemaError, match="not a date"):
        stage_history(data, [20240630])
    with pytest.raises(SchemaError, match="cannot be read"):
        stage_history(data, ["next tuesday"])
    with pytest.raises(InvalidParameterError, match="a date or a non-empty sequence of dates"):
        stage_history(data, [])
    with pytest.raises(InvalidParameterError, match="CustomerData"):
        stage_history(_tx(), ["2024-06-30"])  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="stager"):
        stage_history(data, ["2024-06-30"], stager=42)
    with pytest.raises(PluginNotFoundError, match="rules"):
        stage_history(data, ["2024-06-30"], stager="no_such_stager")


def test_stage_prospects() -> None:
    prospects = _prospects()
    out = stage_prospects(prospects)
    assert out.index.tolist() == ["L1", "L2"] and out.index.name == "prospect_id"
    assert (out == "acquisition").all() and tuple(out.cat.categories) == STAGES
    assert stage_prospects(prospects, as_of="2024-03-01").index.tolist() == ["L1"]
    assert len(stage_prospects(prospects, exclude_converted=False)) == 3
    with pytest.raises(SchemaError, match="duplicate"):
        stage_prospects(pd.concat([prospects, prospects]))
    with pytest.raises(SchemaError, match="prospect_id"):
        stage_prospects(prospects.drop(columns="prospect_id"))
    with pytest.raises(SchemaError, match="not dates"):
        stage_prospects(prospects.assign(created=["soon", None, "2024-01-01"]))


# ----------------------------------------------------------------- migration
labels = st.sampled_from([*STAGES, None])


@settings(max_examples=60, deadline=None, database=None)
@given(
    before=st.lists(labels, min_size=0, max_size=30),
    after=st.lists(labels, min_size=0, max_size=30),
    categorical=st.booleans(),
)
def test_migration_matrix_sums(
    before: list[str | None], after: list[str | None], categorical: bool
) -> None:
    a = pd.Series(before, index=[f"c{i}" for i in range(len(before))], dtype=object)
    b = pd.Series(after, index=[f"c{i}" for i in range(len(after))], dtype=object)
    if categorical:
        a = a.astype(pd.CategoricalDtype(list(STAGES)))
        b = b.astype(pd.CategoricalDtype(list(STAGES)))
    m = stage_migration(a, b)
    counts = m.counts
    assert counts.index.tolist() == [*STAGES, NEW]
    assert counts.columns.tolist() == [*STAGES, GONE]
    present_a = set(a.dropna().index)
    present_b = set(b.dropna().index)
    assert m.n_customers == len(present_a | present_b) == int(counts.to_numpy().sum())
    rows = counts.sum(axis=1)
    cols = counts.sum(axis=0)
    for stage in STAGES:
        assert rows[stage] == int((a == stage).sum())
        assert cols[stage] == int((b == stage).sum())
    assert rows[NEW] == len(present_b - present_a)
    assert cols[GONE] == len(present_a - present_b)
    assert counts.loc[NEW, GONE] == 0
    share_sums = m.shares.sum(axis=1).to_numpy()
    assert np.allclose(share_sums[rows.to_numpy() > 0], 1.0)
    assert (share_sums[rows.to_numpy() == 0] == 0).all()
    same = sum(int(((a == s) & (b.reindex(a.index) == s)).sum()) for s in STAGES)
    assert m.n_stayed == same


def test_migration_on_history_columns_of_stages_and_statuses(data: CustomerData) -> None:
    history = stage_history(data, ["2024-06-30", "2024-12-31"])
    m = stage_migration(history.iloc[:, 0], history.iloc[:, 1])
    assert m.counts.loc["development", "development"] == 1  # a
    assert m.counts.loc["onboarding", "development"] == 1  # c came back
    assert m.counts.loc["onboarding", "onboarding"] == 1  # b
    assert m.irregular.empty and m.n_stayed == 2
    status = stage_history(data, ["2024-06-30", "2024-12-31"], column="status")
    s = stage_migration(status.iloc[:, 0], status.iloc[:, 1])
    assert s.counts.index.tolist() == [*STATUSES, NEW]
    assert s.counts.columns.tolist() == [*STATUSES, GONE]
    assert s.counts.loc["lapsed", "active"] == 2  # a and c came back
    assert s.counts.loc["active", "active"] == 1 and s.n_stayed == 1
    assert s.irregular.empty


def test_migration_irregular_moves() -> None:
    a = pd.Series(["retention", "onboarding", "development"], index=["c1", "c2", "c3"])
    b = pd.Series(["acquisition", "retention", "onboarding"], index=["c1", "c2", "c3"])
    assert stage_migration(a, b).irregular.to_dict(orient="records") == [
        {"from": "development", "to": "onboarding", "n_customers": 1},
        {"from": "retention", "to": "acquisition", "n_customers": 1},
    ]


def test_migration_validation() -> None:
    good = pd.Series(["onboarding"], index=["c1"])
    with pytest.raises(SchemaError, match="not stages") as info:
        stage_migration(pd.Series(["onboarding", "vip"], index=["c1", "c2"]), good)
    assert info.value.failures[0].rows == ("c2",)
    # statuses and stages do not mix; "lapsed" is named a status
    with pytest.raises(SchemaError, match="'lapsed' is a status, not a stage") as info:
        stage_migration(good, pd.Series(["lapsed"], index=["c1"]))
    assert info.value.failures[0].rows == ("c1",)
    with pytest.raises(SchemaError, match="duplicate"):
        stage_migration(good, pd.Series(["retention", "retention"], index=["c1", "c1"]))
    with pytest.raises(SchemaError, match="not a pandas Series"):
        stage_migration(["onboarding"], good)  # type: ignore[arg-type]
