"""profile_segments and segment_migration."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmkit.exceptions import SchemaError
from crmkit.segmentation import (
    GONE,
    NEW,
    DecileSegmenter,
    profile_segments,
    segment_migration,
)
from crmkit.testing import make_customer_view


def test_profile_matches_a_direct_groupby() -> None:
    view = make_customer_view(200, seed=11)
    labels = DecileSegmenter(n_groups=5).fit(view).assign(view)
    shuffled = labels.sample(frac=1.0, random_state=1)  # alignment is by id, not position
    profile = profile_segments(view, shuffled)
    groups = view.groupby(labels.to_numpy())
    assert profile.index.tolist() == [1, 2, 3, 4, 5]
    assert profile.index.name == "segment"
    np.testing.assert_array_equal(profile["n_customers"], groups.size().to_numpy())
    np.testing.assert_allclose(profile["customer_share"], groups.size().to_numpy() / 200)
    revenue = groups["revenue"].sum().to_numpy()
    np.testing.assert_allclose(profile["value_share"], revenue / revenue.sum())
    for col in ("frequency", "revenue", "mean_interpurchase", "key_account"):
        means = groups[col].mean().to_numpy(dtype=float)
        np.testing.assert_allclose(profile[f"mean_{col}"], means)
        np.testing.assert_allclose(
            profile[f"median_{col}"], groups[col].median().to_numpy(dtype=float)
        )
        base = view[col].astype(float).mean()
        np.testing.assert_allclose(profile[f"lift_{col}"], means / base)
    # the top quintile holds more than its share of revenue
    assert profile.loc[1, "lift_revenue"] > 1 > profile.loc[5, "lift_revenue"]
    assert "mean_first_purchase" not in profile.columns  # dates are not profiled


def test_top_industries() -> None:
    view = pd.DataFrame(
        {"revenue": [1.0, 2.0, 3.0, 4.0, 5.0], "industry": ["it", "it", "retail", None, "retail"]},
        index=pd.Index(list("abcde"), name="customer_id"),
    )
    labels = pd.Series(["x", "x", "x", "y", "y"], index=view.index, name="tier")
    profile = profile_segments(view, labels, top_n=1)
    assert profile.index.name == "tier"
    assert profile.loc["x", "top_industries"] == "it (67%)"
    assert profile.loc["y", "top_industries"] == "(missing) (50%)"
    assert profile_segments(view, labels, columns=["revenue"]).columns.tolist() == [
        "n_customers",
        "customer_share",
        "value_share",
        "mean_revenue",
        "median_revenue",
        "lift_revenue",
        "top_industries",
    ]


def test_profile_refuses_mismatched_labels() -> None:
    view = make_customer_view(5)
    labels = pd.Series(["a"] * 5, index=view.index)
    with pytest.raises(SchemaError, match="lacks customers of the view"):
        profile_segments(view, labels.iloc[:4])
    with pytest.raises(SchemaError, match="has customers the view lacks"):
        profile_segments(view.iloc[:4], labels)
    with pytest.raises(SchemaError, match="missing labels"):
        profile_segments(view, labels.where(labels.index != view.index[0]))
    with pytest.raises(SchemaError, match="not a pandas Series"):
        profile_segments(view, labels.to_list())  # type: ignore[arg-type]


def test_migration_counts_shares_and_one_sided_customers() -> None:
    before = pd.Series(
        pd.Categorical(["A", "A", "B", "B", "C"], categories=["A", "B", "C", "D"]),
        index=["c1", "c2", "c3", "c4", "c5"],
    )
    after = pd.Series(["B", "A", "B", "A", "A"], index=["c1", "c2", "c3", "c6", "c7"])
    m = segment_migration(before, after)
    assert m.counts.index.tolist() == ["A", "B", "C", "D", NEW]
    assert m.counts.columns.tolist() == ["A", "B", GONE]
    expected = np.array([[1, 1, 0], [0, 1, 1], [0, 0, 1], [0, 0, 0], [2, 0, 0]])
    np.testing.assert_array_equal(m.counts.to_numpy(), expected)
    np.testing.assert_allclose(m.shares.loc["A"].to_numpy(), [0.5, 0.5, 0.0])
    np.testing.assert_allclose(m.shares.loc["D"].to_numpy(), [0.0, 0.0, 0.0])
    assert m.counts.to_numpy().sum() == len(before.index.union(after.index))
    assert m.n_stayed == 2


def test_migration_with_deciles_from_two_dates() -> None:
    view = make_customer_view(100, seed=3)
    later = view.assign(revenue=view["revenue"] * np.linspace(0.5, 1.5, 100))
    seg = DecileSegmenter().fit(view)
    m = segment_migration(seg.assign(view), seg.assign(later))
    assert m.counts.shape == (11, 11)
    assert m.counts.loc[NEW].sum() == 0 and m.counts[GONE].sum() == 0
    np.testing.assert_allclose(m.shares.iloc[:10].sum(axis=1), 1.0)


def test_migration_refuses_bad_labels() -> None:
    good = pd.Series(["A"], index=["c1"])
    with pytest.raises(SchemaError, match="duplicate customer ids"):
        segment_migration(pd.Series(["A", "B"], index=["c1", "c1"]), good)
    with pytest.raises(SchemaError, match="reserved label"):
        segment_migration(good, pd.Series([NEW], index=["c1"]))
    with pytest.raises(SchemaError, match="missing labels"):
        segment_migration(good, pd.Series([None], index=["c1"]))


def test_profile_refuses_a_bad_top_n() -> None:
    from crmkit.exceptions import InvalidParameterError

    view = make_customer_view(5)
    labels = pd.Series(["a"] * 5, index=view.index)
    with pytest.raises(InvalidParameterError, match="'top_n' parameter"):
        profile_segments(view, labels, top_n=0)
