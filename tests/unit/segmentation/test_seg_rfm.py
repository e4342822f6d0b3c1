"""RFMSegmenter: quantile scores, ties, the rule table, coverage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings

from crmkit.exceptions import InvalidParameterError, NotFittedError, SchemaError
from crmkit.segmentation import RFM_RULES, RFMSegmenter
from crmkit.segmentation._rfm import compile_rules
from crmkit.testing import make_customer_view
from crmkit.testing.strategies import customer_views


def _distinct_view(n: int = 500, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "days_since_last": rng.permutation(n) + rng.uniform(0, 0.5, n),
            "frequency": rng.permutation(n) * 1.0,
            "revenue": rng.lognormal(5, 1, n),
        },
        index=pd.Index([f"c{i}" for i in range(n)], name="customer_id"),
    )


def test_scores_match_pandas_qcut_on_distinct_values() -> None:
    view = _distinct_view()
    scores = RFMSegmenter().fit(view).scores(view)
    for col, score, flip in (
        ("days_since_last", "r_score", True),
        ("frequency", "f_score", False),
        ("revenue", "m_score", False),
    ):
        expected = pd.qcut(view[col], 5, labels=False).to_numpy() + 1
        if flip:
            expected = 6 - expected
        np.testing.assert_array_equal(scores[score].to_numpy(), expected)
    assert (scores["r_score"].value_counts() == 100).all()


def test_cell_and_segment_follow_the_rule_table() -> None:
    view = _distinct_view()
    seg = RFMSegmenter().fit(view)
    scores = seg.scores(view)
    names, table = compile_rules(RFM_RULES, 5)
    for (_, row), label in zip(scores.iterrows(), seg.assign(view), strict=True):
        r, f, m = int(row["r_score"]), int(row["f_score"]), int(row["m_score"])
        assert row["rfm_cell"] == f"{r}{f}{m}"
        assert label == names[table[r - 1, f - 1, m - 1]] == row["segment"]


def test_default_rules_cover_every_cell_with_the_named_segments() -> None:
    names, table = compile_rules(RFM_RULES, 5)
    assert (table >= 0).all()
    assert set(np.unique(table)) == set(range(len(names)))
    assert names[table[4, 4, 4]] == "champions"
    assert names[table[0, 4, 4]] == "can't lose"
    assert names[table[4, 0, 0]] == "new"
    assert names[table[0, 0, 0]] == "lost"
    for expected in (
        "loyal",
        "potential loyalists",
        "promising",
        "need attention",
        "at risk",
        "hibernating",
    ):
        assert expected in names


def test_every_customer_gets_a_segment() -> None:
    view = make_customer_view(400, seed=5)
    seg = RFMSegmenter().fit(view)
    labels = seg.assign(view)
    assert labels.notna().all() and len(labels) == len(view)
    assert labels.index.equals(view.index)
    assert list(labels.cat.categories) == list(dict.fromkeys(r[0] for r in RFM_RULES))
    assert seg.describe()["n_customers"].sum() == len(view)


@settings(max_examples=25, deadline=None, database=None)
@given(customer_views(max_customers=15))
def test_ties_share_a_score_and_everyone_is_covered(view: pd.DataFrame) -> None:
    seg = RFMSegmenter().fit(view)
    scores = seg.scores(view)
    assert scores["segment"].notna().all()
    for col, score in (
        ("days_since_last", "r_score"),
        ("frequency", "f_score"),
        ("revenue", "m_score"),
    ):
        per_value = scores[score].groupby(view[col].to_numpy()).nunique()
        assert (per_value == 1).all()  # equal values, equal score
        assert scores[score].between(1, 5).all()
    # higher value never gets a lower score (R: less time since last is better)
    order = np.argsort(view["frequency"].to_numpy(), kind="stable")
    assert (np.diff(scores["f_score"].to_numpy()[order]) >= 0).all()
    order = np.argsort(view["days_since_last"].to_numpy(), kind="stable")
    assert (np.diff(scores["r_score"].to_numpy()[order]) <= 0).all()


def test_cut_points_are_learned_in_fit_and_applied_in_assign() -> None:
    view = _distinct_view()
    seg = RFMSegmenter().fit(view)
    extremes = pd.DataFrame(
        {"days_since_last": [0.0, 1e9], "frequency": [1e9, 0.0], "revenue": [1e9, 0.0]},
        index=pd.Index(["best", "worst"], name="customer_id"),
    )
    scores = seg.scores(extremes)
    assert scores.loc["best", ["r_score", "f_score", "m_score"]].tolist() == [5, 5, 5]
    assert scores.loc["worst", ["r_score", "f_score", "m_score"]].tolist() == [1, 1, 1]
    assert scores["segment"].tolist() == ["champions", "lost"]


def test_recency_from_t_minus_recency() -> None:
    view = make_customer_view(200, seed=1)
    by_days = RFMSegmenter().fit(view).scores(view)["r_score"]
    seg = RFMSegmenter(recency_column=None)
    assert seg.requires == ("T", "recency", "frequency", "revenue")
    by_t = seg.fit(view.drop(columns="days_since_last")).scores(view)["r_score"]
    # T - recency is days_since_last in weeks: the same order, the same scores
    pd.testing.assert_series_equal(by_days, by_t)


def test_custom_rules_and_bins() -> None:
    rules = [
        ("best", (3, 3), (3, 3), (1, 3)),
        ("rest", (1, 3), (1, 3), (1, 3)),
    ]
    view = _distinct_view(90)
    seg = RFMSegmenter(bins=3, rules=rules).fit(view)
    labels = seg.assign(view)
    scores = seg.scores(view)
    assert list(labels.cat.categories) == ["best", "rest"]
    best = (scores["r_score"] == 3) & (scores["f_score"] == 3)
    assert ((labels == "best") == best).all()
    assert seg.describe().loc["best", "rule"] == "R 3-3, F 3-3, M 1-3"


@pytest.mark.parametrize(
    "params, match",
    [
        ({"bins": 3}, "written for bins=5"),
        ({"rules": [("a", (1, 5), (1, 5), (1, 4))]}, "leaves 25 cells without a segment"),
        ({"rules": [("a", (2, 1), (1, 5), (1, 5))]}, "range"),
        ({"rules": [("a", (1, 5), (1, 5))]}, r"each \(name, r_range, f_range, m_range\)"),
        ({"rules": []}, "non-empty"),
        ({"bins": 1}, "'bins' parameter"),
        ({"recency_column": ""}, "'recency_column'"),
    ],
)
def test_invalid_parameters(params: dict[str, object], match: str) -> None:
    with pytest.raises(InvalidParameterError, match=match):
        RFMSegmenter(**params).fit(make_customer_view(20))  # type: ignore[arg-type]


def test_errors_name_columns_and_unfitted_use_raises() -> None:
    view = make_customer_view(20)
    with pytest.raises(NotFittedError):
        RFMSegmenter().scores(view)
    broken = view.assign(revenue=view["revenue"].where(view["frequency"] > 0))
    with pytest.raises(SchemaError, match=r"view\['revenue'\]: contains missing values"):
        RFMSegmenter().fit(broken)
