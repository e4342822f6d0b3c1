"""Segment plots: profile heat map and sizes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes

from crmkit.exceptions import SchemaError
from crmkit.plotting import plot_segment_profiles, plot_segment_sizes
from crmkit.segmentation import RFMSegmenter, profile_segments
from crmkit.testing import make_customer_view


@pytest.fixture(scope="module")
def view() -> pd.DataFrame:
    return make_customer_view(300, seed=11)


def test_profile_heatmap_holds_the_lifts(view: pd.DataFrame, ax: Axes) -> None:
    labels = RFMSegmenter().fit(view).assign(view)
    profile = profile_segments(view, labels, columns=["revenue", "frequency", "recency"])
    plot_segment_profiles(profile, ax=ax)
    image = np.ma.filled(ax.images[0].get_array(), np.nan)
    expected = profile[["lift_revenue", "lift_frequency", "lift_recency"]].to_numpy(float)
    np.testing.assert_allclose(image, np.where(expected > 0, expected, np.nan))
    assert [t.get_text() for t in ax.get_yticklabels()] == [str(s) for s in profile.index]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["revenue", "frequency", "recency"]
    assert len(ax.texts) == expected.size
    norm = ax.images[0].norm
    assert norm.vmin == pytest.approx(1.0 / norm.vmax)  # centred on a lift of 1


def test_profile_heatmap_column_choice_and_errors(view: pd.DataFrame, ax: Axes) -> None:
    labels = pd.Series(
        np.where(view["revenue"] > view["revenue"].median(), "hi", "lo"),
        index=view.index,
        name="segment",
    )
    profile = profile_segments(view, labels)
    plot_segment_profiles(profile, ["revenue"], annotate=False, ax=ax)
    assert np.asarray(ax.images[0].get_array()).shape == (2, 1)
    assert len(ax.texts) == 0
    with pytest.raises(SchemaError, match="lift_nope"):
        plot_segment_profiles(profile, ["nope"], ax=ax)
    with pytest.raises(SchemaError, match="no lift columns"):
        plot_segment_profiles(pd.DataFrame({"n_customers": [1]}), ax=ax)


def test_segment_sizes_keep_empty_categories_and_value_shares(ax: Axes) -> None:
    labels = pd.Series(
        pd.Categorical(["A", "A", "C", "D"], categories=["A", "B", "C", "D"]),
        index=[1, 2, 3, 4],
        name="portfolio",
    )
    clv = pd.Series([50.0, 30.0, 15.0, 5.0], index=[4, 3, 2, 1], name="clv")  # other order
    plot_segment_sizes(labels, clv, ax=ax)
    customers, value = ax.containers
    assert [float(b.get_height()) for b in customers] == [0.5, 0.0, 0.25, 0.25]
    np.testing.assert_allclose([b.get_height() for b in value], [0.2, 0.0, 0.3, 0.5])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["A", "B", "C", "D"]
    assert ax.get_title() == "Customers and value by portfolio"


def test_segment_sizes_reject_bad_input(ax: Axes) -> None:
    labels = pd.Series(["a", None], index=[1, 2])
    with pytest.raises(SchemaError, match="missing labels"):
        plot_segment_sizes(labels, ax=ax)
    with pytest.raises(SchemaError, match="Series"):
        plot_segment_sizes(["a"], ax=ax)  # type: ignore[arg-type]
    with pytest.raises(SchemaError, match="no value"):
        plot_segment_sizes(pd.Series(["a", "b"], index=[1, 2]), pd.Series([1.0], index=[1]), ax=ax)
