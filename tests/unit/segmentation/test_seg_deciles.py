"""DecileSegmenter: 1 = top, shares as a direct numpy computation, ties."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crmkit.exceptions import DataWarning, InvalidParameterError
from crmkit.segmentation import DecileSegmenter
from crmkit.testing import make_customer_view


def _view(values: np.ndarray, column: str = "revenue") -> pd.DataFrame:
    ids = pd.Index([f"c{i:04d}" for i in range(len(values))], name="customer_id")
    return pd.DataFrame({column: values}, index=ids)


def test_shares_match_a_direct_numpy_computation() -> None:
    rng = np.random.default_rng(42)
    values = rng.pareto(1.2, 1000) * 100 + 1  # heavy tail, distinct values
    view = _view(values)
    described = DecileSegmenter().fit(view).describe()
    # direct: sort descending, ten groups of 100, each group's sum / total
    top_first = np.sort(values)[::-1].reshape(10, 100)
    share = top_first.sum(axis=1) / values.sum()
    np.testing.assert_allclose(described["value_share"].to_numpy(), share, rtol=1e-12)
    np.testing.assert_allclose(described["cum_value_share"].to_numpy(), np.cumsum(share))
    np.testing.assert_array_equal(described["n_customers"].to_numpy(), np.full(10, 100))
    np.testing.assert_allclose(described["cum_customer_share"].to_numpy(), np.arange(1, 11) / 10)
    # the 20/80 reading: the top two deciles' share of the value
    top20 = np.sort(values)[::-1][:200].sum() / values.sum()
    assert described.loc[2, "cum_value_share"] == pytest.approx(top20)


def test_label_one_is_the_top_and_bounds_hold() -> None:
    values = np.arange(1.0, 101.0)
    view = _view(values)
    seg = DecileSegmenter().fit(view)
    labels = seg.assign(view)
    assert labels.loc["c0099"] == 1 and labels.loc["c0000"] == 10
    assert list(labels.cat.categories) == list(range(1, 11))
    described = seg.describe()
    for label, row in described.iterrows():
        members = values[(labels == label).to_numpy()]
        assert (members > row["lower"]).all() and (members <= row["upper"]).all()
    assert described.loc[1, "upper"] == np.inf and described.loc[10, "lower"] == -np.inf


def test_any_column_and_n_groups() -> None:
    view = make_customer_view(60, requires=("clv",), seed=2)
    seg = DecileSegmenter(column="clv", n_groups=4, output_name="clv_quartile").fit(view)
    labels = seg.assign(view)
    assert labels.name == "clv_quartile" and seg.requires == ("clv",)
    assert labels.value_counts().sort_index().tolist() == [15, 15, 15, 15]
    means = view["clv"].groupby(labels.to_numpy()).mean()
    assert means.is_monotonic_decreasing


def test_ties_stay_together() -> None:
    values = np.array([5.0] * 30 + [1.0] * 60 + list(range(10, 20)), dtype=float)
    view = _view(values)
    labels = DecileSegmenter().fit(view).assign(view)
    assert labels[values == 5.0].nunique() == 1
    assert labels[values == 1.0].nunique() == 1
    assert labels.notna().all()
    counts = DecileSegmenter().fit(view).describe()["n_customers"]
    assert counts.sum() == len(values) and (counts == 0).any()  # ties leave groups empty


def test_new_views_use_the_fitted_cut_points() -> None:
    seg = DecileSegmenter().fit(_view(np.arange(1.0, 101.0)))
    labels = seg.assign(_view(np.array([1000.0, -5.0, 50.0])))
    assert labels.tolist() == [1, 10, 6]


def test_non_positive_total_warns_and_shares_are_nan() -> None:
    view = _view(np.array([-1.0, 0.0, -3.0]), column="margin")
    with pytest.warns(DataWarning, match="not positive"):
        seg = DecileSegmenter(column="margin", n_groups=2).fit(view)
    assert seg.describe()["value_share"].isna().all()
    assert seg.describe()["n_customers"].sum() == 3


def test_invalid_n_groups() -> None:
    with pytest.raises(InvalidParameterError, match="'n_groups' parameter"):
        DecileSegmenter(n_groups=1).fit(_view(np.arange(5.0)))
