"""Concentration measures: Pareto tables, Lorenz, Gini, HHI, top-n dependence."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit.analysis import (
    gini,
    herfindahl,
    lorenz_curve,
    pareto_customers,
    pareto_share,
    pareto_table,
    top_n_dependence,
)
from crmkit.datasets import load_cdnow
from crmkit.exceptions import DataWarning, InvalidParameterError, SchemaError


@pytest.fixture(scope="module")
def cdnow_revenue() -> pd.Series:
    tx = load_cdnow()
    revenue: pd.Series = tx.groupby("customer_id")["amount"].sum().rename("revenue")
    return revenue


def test_cdnow_pareto_table_matches_numpy(cdnow_revenue: pd.Series) -> None:
    view = cdnow_revenue.to_frame()
    table = pareto_table(view, by="revenue")
    x = np.sort(cdnow_revenue.to_numpy())[::-1]
    parts = np.array_split(x, 10)
    sums = np.array([p.sum() for p in parts])
    sizes = np.array([len(p) for p in parts])
    assert table.index.name == "decile"
    assert table.index.tolist() == list(range(1, 11))
    np.testing.assert_array_equal(table["n_customers"], sizes)
    np.testing.assert_allclose(table["value"], sums)
    np.testing.assert_allclose(table["value_share"], sums / x.sum())
    np.testing.assert_allclose(table["cum_value_share"], np.cumsum(sums) / x.sum())
    np.testing.assert_allclose(table["cum_customer_share"], np.cumsum(sizes) / len(x))
    np.testing.assert_allclose(table["min_value"], [p.min() for p in parts])
    np.testing.assert_allclose(table["max_value"], [p.max() for p in parts])
    assert table["cum_value_share"].iloc[-1] == pytest.approx(1.0)
    # the Series gives the same table as the view
    pd.testing.assert_frame_equal(pareto_table(cdnow_revenue), table)


def test_cdnow_gini_matches_mean_difference(cdnow_revenue: pd.Series) -> None:
    x = cdnow_revenue.to_numpy()
    n = len(x)
    direct = np.abs(x[:, None] - x[None, :]).sum() / (2.0 * n * n * x.mean())
    assert gini(cdnow_revenue) == pytest.approx(direct, rel=1e-12)
    # CDNOW revenue is strongly concentrated
    assert 0.5 < gini(cdnow_revenue) < 0.8


def test_cdnow_pareto_share_and_customers_match_numpy(cdnow_revenue: pd.Series) -> None:
    x = np.sort(cdnow_revenue.to_numpy())[::-1]
    total = x.sum()
    k = 0.2 * len(x)  # 471.4 customers: interpolate between 471 and 472
    lo = int(np.floor(k))
    expected = (x[:lo].sum() + (k - lo) * x[lo]) / total
    assert pareto_share(cdnow_revenue, 0.2) == pytest.approx(expected, rel=1e-12)
    needed = int(np.argmax(np.cumsum(x) >= 0.8 * total)) + 1
    assert pareto_customers(cdnow_revenue, 0.8) == pytest.approx(needed / len(x))
    # the two readings are consistent
    assert pareto_share(cdnow_revenue, pareto_customers(cdnow_revenue, 0.8)) >= 0.8 - 1e-12


def test_lorenz_curve_area_gives_gini(cdnow_revenue: pd.Series) -> None:
    curve = lorenz_curve(cdnow_revenue)
    assert len(curve) == len(cdnow_revenue) + 1
    assert curve.iloc[0].tolist() == [0.0, 0.0]
    assert curve.iloc[-1].tolist() == pytest.approx([1.0, 1.0])
    assert np.all(np.diff(curve["value_share"]) >= 0)
    y = curve["value_share"].to_numpy()
    area = np.sum((y[1:] + y[:-1]) / 2.0) / len(cdnow_revenue)
    assert 1.0 - 2.0 * area == pytest.approx(gini(cdnow_revenue), abs=1e-12)


def test_small_examples() -> None:
    assert gini([5.0, 5.0, 5.0]) == 0.0
    assert gini([0.0, 0.0, 0.0, 10.0]) == pytest.approx(0.75)
    assert gini([7.0]) == 0.0
    assert herfindahl([1.0] * 4) == pytest.approx(0.25)
    assert herfindahl([1.0] * 4, normalized=True) == pytest.approx(0.0)
    assert herfindahl([0.0, 0.0, 3.0], normalized=True) == pytest.approx(1.0)
    assert herfindahl([2.0]) == 1.0 and herfindahl([2.0], normalized=True) == 0.0
    x = np.array([10.0, 40.0, 50.0])
    assert herfindahl(x) == pytest.approx(np.sum((x / x.sum()) ** 2))
    assert pareto_share([10, 0, 0, 0, 0, 0, 0, 0, 0, 0], customers=0.1) == 1.0
    assert pareto_customers([1.0] * 10, share=0.8) == pytest.approx(0.8)
    assert pareto_customers([1.0] * 10, share=1.0) == pytest.approx(1.0)


def test_top_n_dependence_lists_the_largest_customers(cdnow_revenue: pd.Series) -> None:
    top = top_n_dependence(cdnow_revenue, n=5)
    expected = cdnow_revenue.sort_values(ascending=False, kind="stable").iloc[:5]
    assert top.index.tolist() == expected.index.tolist()
    np.testing.assert_allclose(top["value"], expected.to_numpy())
    np.testing.assert_allclose(top["share"], expected.to_numpy() / cdnow_revenue.sum())
    assert top["cum_share"].iloc[-1] == pytest.approx(expected.sum() / cdnow_revenue.sum())
    assert top["rank"].tolist() == [1, 2, 3, 4, 5]
    assert len(top_n_dependence([3.0, 1.0], n=10)) == 2


def test_negative_values_are_refused_or_clipped() -> None:
    values = pd.Series([100.0, -20.0, 50.0, -5.0], index=pd.Index(list("abcd"), name="cid"))
    for func in (gini, lorenz_curve, herfindahl, pareto_share, pareto_customers, top_n_dependence):
        with pytest.raises(SchemaError, match="negative") as err:
            func(values)
        assert err.value.failures[0].rows == ("b", "d")
    with pytest.warns(DataWarning, match="2 negative"):
        clipped = gini(values, negative="clip")
    assert clipped == pytest.approx(gini([100.0, 0.0, 50.0, 0.0]))
    with pytest.raises(InvalidParameterError):
        gini(values, negative="keep")


def test_pareto_table_keeps_loss_makers_as_a_whale_curve() -> None:
    margin = pd.Series([100.0, 60.0, 20.0, 10.0, -40.0, -50.0], name="margin")
    table = pareto_table(margin, q=3)
    # shares of the net total (100); the cumulative share peaks above 1 (the whale curve)
    np.testing.assert_allclose(table["value_share"], [1.6, 0.3, -0.9])
    np.testing.assert_allclose(table["cum_value_share"], [1.6, 1.9, 1.0])
    with pytest.raises(SchemaError, match="negative"):
        pareto_table(margin, q=3, negative="raise")
    with pytest.warns(DataWarning):
        clipped = pareto_table(margin, q=3, negative="clip")
    assert clipped["cum_value_share"].max() == pytest.approx(1.0)


def test_bad_inputs_name_the_problem() -> None:
    view = pd.DataFrame(
        {"revenue": [1.0, np.nan, 3.0], "name": ["x", "y", "z"]},
        index=pd.Index(["a", "b", "c"], name="customer_id"),
    )
    with pytest.raises(SchemaError, match="missing values") as err:
        pareto_table(view, q=2)
    assert err.value.failures[0].rows == ("b",)
    with pytest.raises(SchemaError, match=r"view\['margin'\]: is missing"):
        pareto_table(view, by="margin")
    with pytest.raises(SchemaError, match="not numeric"):
        pareto_table(view, by="name")
    with pytest.raises(SchemaError, match="needs at least q=10"):
        pareto_table(view.fillna(2.0))
    with pytest.raises(SchemaError, match="is empty"):
        gini([])
    with pytest.raises(SchemaError, match="not finite"):
        gini([1.0, np.inf])
    with pytest.raises(SchemaError, match="positive total"):
        gini([0.0, 0.0])
    with pytest.raises(SchemaError, match="not numeric"):
        gini(pd.Series(["a", "b"]))
    with pytest.raises(SchemaError, match="one-dimensional"):
        gini(np.ones((2, 2)))
    with pytest.raises(SchemaError):
        gini("abc")
    with pytest.raises(InvalidParameterError, match="'customers'"):
        pareto_share([1.0, 2.0], customers=0.0)
    with pytest.raises(InvalidParameterError, match="'share'"):
        pareto_customers([1.0, 2.0], share=1.5)
    with pytest.raises(InvalidParameterError, match="'q'"):
        pareto_table(view.fillna(2.0), q=0)
    with pytest.raises(InvalidParameterError, match="'n'"):
        top_n_dependence([1.0], n=0)
    with pytest.raises(InvalidParameterError, match="'normalized'"):
        herfindahl([1.0], normalized=1)  # type: ignore[arg-type]


def test_inputs_are_not_modified(cdnow_revenue: pd.Series) -> None:
    values = pd.Series([3.0, -1.0, 2.0], name="margin")
    before = values.copy()
    view = cdnow_revenue.to_frame()
    view_before = view.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        gini(values, negative="clip")
        pareto_table(values, q=3)
    pareto_table(view)
    pd.testing.assert_series_equal(values, before)
    pd.testing.assert_frame_equal(view, view_before)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(0.0, 1e6, allow_nan=False), min_size=1, max_size=60).filter(
        lambda v: sum(v) > 1e-6
    ),
    st.floats(0.01, 1000.0),
)
def test_properties(values: list[float], scale: float) -> None:
    x = np.asarray(values)
    n = len(x)
    g = gini(x)
    assert -1e-12 <= g <= 1.0 - 1.0 / n + 1e-9
    assert gini(x * scale) == pytest.approx(g, abs=1e-9)
    h = herfindahl(x)
    assert 1.0 / n - 1e-12 <= h <= 1.0 + 1e-12
    shares = [pareto_share(x, c) for c in (0.1, 0.2, 0.5, 1.0)]
    assert np.all(np.diff(shares) >= -1e-12)
    assert shares[-1] == pytest.approx(1.0)
    assert shares[1] >= 0.2 - 1e-9  # the top fifth holds at least a fifth
    c = pareto_customers(x, 0.8)
    assert 0.0 < c <= 1.0
    assert pareto_share(x, c) >= 0.8 - 1e-9
    if n >= 2:
        table = pareto_table(x, q=2)
        assert table["n_customers"].sum() == n
        assert table["cum_value_share"].iloc[-1] == pytest.approx(1.0)
        assert table["value"].iloc[0] >= table["value"].iloc[1]
