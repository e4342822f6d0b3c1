"""PortfolioSegmenter: the A-D grid covers every customer exactly once."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings

from crmkit.exceptions import InvalidParameterError
from crmkit.segmentation import PORTFOLIOS, PortfolioSegmenter
from crmkit.testing import make_customer_view
from crmkit.testing.strategies import customer_views


def test_quantile_thresholds_and_rules() -> None:
    view = make_customer_view(300, requires=("clv",), seed=4)
    seg = PortfolioSegmenter().fit(view)
    t = seg.thresholds_
    assert t["value_low"] == pytest.approx(view["revenue"].quantile(0.5))
    assert t["value_high"] == pytest.approx(view["revenue"].quantile(0.8))
    assert t["potential_high"] == pytest.approx(view["clv"].quantile(0.8))
    labels = seg.assign(view)
    v, p = view["revenue"], view["clv"]
    expected = np.where(
        v >= t["value_high"],
        "A",
        np.where(
            p >= t["potential_high"],
            "B",
            np.where((v < t["value_low"]) & (p < t["potential_low"]), "D", "C"),
        ),
    )
    assert labels.astype(str).tolist() == expected.tolist()
    assert (labels == "A").mean() == pytest.approx(0.2, abs=0.01)
    assert list(labels.cat.categories) == ["A", "B", "C", "D"]


def test_absolute_thresholds_and_describe() -> None:
    view = pd.DataFrame(
        {"revenue": [1000.0, 10.0, 100.0, 5.0, 400.0], "wallet_gap": [0.0, 900.0, 50.0, 1.0, 1.0]},
        index=pd.Index(list("abcde"), name="customer_id"),
    )
    seg = PortfolioSegmenter(
        potential_column="wallet_gap",
        thresholds="absolute",
        value_cuts=(50, 500),
        potential_cuts=(10, 500),
    ).fit(view)
    assert seg.assign(view).tolist() == ["A", "B", "C", "D", "C"]
    described = seg.describe()
    assert described["n_customers"].tolist() == [1, 1, 2, 1]
    assert described["value_share"].sum() == pytest.approx(1.0)
    assert described.loc["A", "value_share"] == pytest.approx(1000 / 1515)
    assert described["description"].tolist() == list(PORTFOLIOS.values())


@settings(max_examples=25, deadline=None, database=None)
@given(customer_views(max_customers=15, requires=("clv",)))
def test_every_customer_is_in_exactly_one_portfolio(view: pd.DataFrame) -> None:
    seg = PortfolioSegmenter().fit(view)
    labels = seg.assign(view)
    assert labels.notna().all() and labels.index.equals(view.index)
    assert int(seg.describe()["n_customers"].sum()) == len(view)
    # A is exactly the customers at or above the high value threshold
    assert ((labels == "A") == (view["revenue"] >= seg.thresholds_["value_high"])).all()


@pytest.mark.parametrize(
    "params, match",
    [
        ({"value_cuts": (0.8, 0.5)}, "'value_cuts' parameter"),
        ({"value_cuts": (0.5, 1.5)}, "quantile levels in \\[0, 1\\]"),
        ({"thresholds": "median"}, "'thresholds' parameter"),
        ({"potential_cuts": (0.1,)}, "'potential_cuts' parameter"),
    ],
)
def test_invalid_parameters(params: dict[str, object], match: str) -> None:
    view = make_customer_view(20, requires=("clv",))
    with pytest.raises(InvalidParameterError, match=match):
        PortfolioSegmenter(**params).fit(view)  # type: ignore[arg-type]
