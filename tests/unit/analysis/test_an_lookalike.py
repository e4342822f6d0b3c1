"""Look-alike prospects and the rank-statistic ROC AUC."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit.analysis import lookalike_profile, lookalike_scores, roc_auc
from crmkit.datasets._synthetic import SyntheticCRM
from crmkit.exceptions import InvalidParameterError, SchemaError


def _view() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "margin": [900.0, 800.0, 700.0, 60.0, 50.0, 40.0, -30.0, -20.0, -10.0, 300.0],
            "size_class": [
                "large",
                "large",
                "medium",
                "small",
                "small",
                "medium",
                "micro",
                "micro",
                "small",
                "medium",
            ],
            "industry": [
                "ict",
                "retail",
                "ict",
                "retail",
                "ict",
                "retail",
                "retail",
                "ict",
                "retail",
                "ict",
            ],
            "employees": [500.0, 400.0, 300.0, 20.0, 10.0, 50.0, 2.0, 3.0, 8.0, 120.0],
        },
        index=pd.Index([f"c{i}" for i in range(10)], name="customer_id"),
    )


def test_profile_weights_follow_the_formula() -> None:
    view = _view()
    prof = lookalike_profile(
        view, "margin", attributes=["size_class"], best_q=0.3, worst_q=0.3, smoothing=2.0
    )
    n, n_levels = 10, 4
    counts = {"large": 2, "medium": 3, "micro": 2, "small": 3}
    best = {"large": 2, "medium": 1, "micro": 0, "small": 0}
    worst = {"large": 0, "medium": 0, "micro": 2, "small": 1}
    for level in counts:
        pi = (counts[level] + 1) / (n + n_levels)
        pb = (best[level] + 2 * pi) / (3 + 2)
        pw = (worst[level] + 2 * pi) / (3 + 2)
        row = prof.loc[("size_class", level)]
        assert row["share_all"] == pytest.approx(pi)
        assert row["share_best"] == pytest.approx(pb)
        assert row["share_worst"] == pytest.approx(pw)
        assert row["weight"] == pytest.approx(np.log(pb / pw))
    no_worst = lookalike_profile(
        view, "margin", attributes=["size_class"], best_q=0.3, worst_q=None, smoothing=2.0
    )
    assert no_worst["share_worst"].isna().all()
    pi = (2 + 1) / 14
    assert no_worst.loc[("size_class", "large"), "weight"] == pytest.approx(
        np.log(((2 + 2 * pi) / 5) / pi)
    )
    loss = lookalike_profile(view, "margin", attributes=["size_class"], worst_q="loss")
    assert loss.loc[("size_class", "micro"), "weight"] < 0


def test_scores_are_sums_of_explained_contributions() -> None:
    view = _view()
    prospects = pd.DataFrame(
        {
            "prospect_id": [11, 12, 13],
            "size_class": ["large", "micro", "unknown"],
            "industry": ["ict", "retail", "ict"],
            "employees": [450.0, 1.0, 60.0],
            "stage": ["offer", "identified", "marketing"],
        }
    )
    before = prospects.copy()
    scores = lookalike_scores(prospects, view, "margin", best_q=0.3, worst_q=0.3)
    pd.testing.assert_frame_equal(prospects, before)
    assert scores.index.tolist() == [11, 12, 13]
    contrib = scores.filter(like="contrib_")
    # default attributes: the shared columns (stage is not in the view)
    assert contrib.columns.tolist() == [
        "contrib_size_class",
        "contrib_industry",
        "contrib_employees",
    ]
    np.testing.assert_allclose(contrib.sum(axis=1), scores["score"])
    assert scores["rank"].tolist() == [1, 3, 2]
    assert scores.loc[13, "contrib_size_class"] == 0.0  # an unseen level is no evidence
    assert "size_class=large" in scores.loc[11, "reason"]
    assert "employees=(" in scores.loc[11, "reason"]
    joint = lookalike_scores(prospects, view, "margin", attributes=[("size_class", "industry")])
    assert joint.columns.tolist() == ["score", "rank", "contrib_size_class+industry", "reason"]
    assert "size_class+industry=large & ict" in joint.loc[11, "reason"]


def test_lookalikes_find_good_fit_prospects(crm: SyntheticCRM, crm_view: pd.DataFrame) -> None:
    """Acceptance: prospects with prospect_truth.good_fit rank above the rest (AUC > 0.6)."""
    prospects = crm.frames["prospects"]
    truth = crm.prospect_truth["good_fit"]
    aucs = {}
    for value in ("revenue", "margin"):
        scores = lookalike_scores(prospects, crm_view, value=value)
        aucs[value] = roc_auc(scores["score"], truth)
    print("look-alike ROC AUC:", {k: round(v, 3) for k, v in aucs.items()})
    assert aucs["revenue"] > 0.6
    assert aucs["margin"] > 0.6
    # the customers-in-CustomerData route gives the same scores for the prospects it holds
    from_data = lookalike_scores(crm.data, crm_view)
    direct = lookalike_scores(crm.data.frames["prospects"], crm_view)
    pd.testing.assert_frame_equal(from_data, direct)


def test_errors() -> None:
    view = _view()
    prospects = pd.DataFrame({"size_class": ["large"]})
    with pytest.raises(SchemaError, match=r"view\['clv'\]: is missing"):
        lookalike_scores(prospects, view, value="clv")
    with pytest.raises(SchemaError, match=r"prospects\['region'\]: is missing"):
        lookalike_scores(prospects, view.assign(region="x"), "margin", attributes=["region"])
    with pytest.raises(SchemaError, match="shares no attribute"):
        lookalike_scores(pd.DataFrame({"x": [1]}), view, "margin")
    with pytest.raises(SchemaError, match="overlap"):
        lookalike_scores(prospects, view, "margin", best_q=0.6, worst_q=0.6)
    with pytest.raises(SchemaError, match="no loss-making"):
        lookalike_scores(prospects, view.assign(margin=1.0), "margin", worst_q="loss")
    with pytest.raises(SchemaError, match="duplicate ids"):
        lookalike_scores(
            pd.DataFrame({"prospect_id": [1, 1], "size_class": ["a", "b"]}), view, "margin"
        )
    with pytest.raises(InvalidParameterError, match="'best_q'"):
        lookalike_scores(prospects, view, "margin", best_q=1.5)
    with pytest.raises(InvalidParameterError, match="'smoothing'"):
        lookalike_scores(prospects, view, "margin", smoothing=0.0)
    with pytest.raises(SchemaError, match=r"prospects\['employees'\]: is not numeric"):
        lookalike_scores(
            pd.DataFrame({"employees": ["many"]}), view, "margin", attributes=["employees"]
        )
    with pytest.raises(InvalidParameterError, match="attributes"):
        lookalike_profile(view, "margin")


def test_roc_auc_small_cases() -> None:
    assert roc_auc([3.0, 2.0, 1.0], [1, 0, 0]) == 1.0
    assert roc_auc([1.0, 2.0, 3.0], [True, False, False]) == 0.0
    assert roc_auc([1.0, 1.0], [1, 0]) == 0.5
    s = pd.Series([0.9, 0.1], index=["x", "y"])
    assert roc_auc(s, pd.Series([0, 1], index=["y", "x"])) == 1.0  # aligned by index
    with pytest.raises(SchemaError, match="single class"):
        roc_auc([1.0, 2.0], [1, 1])
    with pytest.raises(SchemaError, match="0/1"):
        roc_auc([1.0, 2.0], [1, 2])
    with pytest.raises(SchemaError, match="one label per score"):
        roc_auc([1.0, 2.0], [1])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.booleans()), min_size=2, max_size=40))
def test_roc_auc_equals_pairwise_probability(pairs: list[tuple[int, bool]]) -> None:
    scores = np.array([float(s) for s, _ in pairs])
    labels = np.array([y for _, y in pairs])
    if labels.all() or not labels.any():
        return
    pos, neg = scores[labels], scores[~labels]
    diff = pos[:, None] - neg[None, :]
    expected = ((diff > 0).sum() + 0.5 * (diff == 0).sum()) / diff.size
    assert roc_auc(scores, labels) == pytest.approx(expected)
