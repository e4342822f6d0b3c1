"""sufficient_stats: exact counts per distinct model input, validation, rounding."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit.engines import PURCHASE_COLUMNS, SPEND_COLUMNS, sufficient_stats
from crmkit.exceptions import InvalidParameterError, SchemaError
from crmkit.value._bgnbd import BetaGeo
from crmkit.value._gammagamma import GammaGamma


def _view(**cols: list[float]) -> pd.DataFrame:
    n = len(next(iter(cols.values())))
    return pd.DataFrame(cols, index=pd.Index([f"c{i}" for i in range(n)], name="customer_id"))


@st.composite
def views(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(1, 60))
    x = draw(st.lists(st.integers(0, 4), min_size=n, max_size=n))
    T = draw(st.lists(st.sampled_from([10.0, 12.5, 20.0]), min_size=n, max_size=n))
    share = draw(st.lists(st.sampled_from([0.0, 0.25, 0.5, 1.0]), min_size=n, max_size=n))
    rec = [0.0 if xi == 0 else s * t for xi, s, t in zip(x, share, T, strict=True)]
    return _view(frequency=x, recency=rec, T=T)


@settings(max_examples=30, deadline=None)
@given(views())
def test_counts_reproduce_the_customers_exactly(view: pd.DataFrame) -> None:
    stats = sufficient_stats(view)
    assert list(stats.columns) == [*PURCHASE_COLUMNS, "weights"]
    assert int(stats["weights"].sum()) == len(view)
    assert (stats["weights"] > 0).all()
    assert not stats.duplicated(list(PURCHASE_COLUMNS)).any()
    expanded = stats.loc[stats.index.repeat(stats["weights"]), list(PURCHASE_COLUMNS)]
    ordered = view.sort_values(list(PURCHASE_COLUMNS)).reset_index(drop=True)
    pd.testing.assert_frame_equal(
        expanded.reset_index(drop=True), ordered, check_dtype=False, check_exact=True
    )
    assert stats["frequency"].dtype == np.int64 and stats["weights"].dtype == np.int64


@settings(max_examples=15, deadline=None)
@given(views())
def test_polars_gives_the_same_table(view: pd.DataFrame) -> None:
    pl = pytest.importorskip("polars")
    expected = sufficient_stats(view)
    frame = pl.from_pandas(view.reset_index())
    pd.testing.assert_frame_equal(sufficient_stats(frame), expected, check_exact=True)
    pd.testing.assert_frame_equal(sufficient_stats(frame.lazy()), expected, check_exact=True)


def test_fit_on_stats_is_the_exact_likelihood() -> None:
    truth = BetaGeo.from_params(r=0.25, alpha=4.0, a=0.8, b=2.5)
    customers = truth.sample(20_000, np.repeat([26.0, 39.0], 10_000), seed=3)
    stats = sufficient_stats(customers)
    assert len(stats) < len(customers) / 2
    on_stats = BetaGeo().fit(stats, weights=stats["weights"])
    on_all = BetaGeo().fit(customers)
    assert on_stats.n_customers_ == len(customers)
    np.testing.assert_allclose(on_stats.log_likelihood_, on_all.log_likelihood_, rtol=1e-10)
    np.testing.assert_allclose(
        on_stats.summary()["estimate"], on_all.summary()["estimate"], rtol=1e-5
    )
    # the likelihood of the full data evaluated at the stats' estimates is the same number
    ll_full = float(on_stats.log_likelihood(customers).sum())
    ll_stats = float((on_stats.log_likelihood(stats) * stats["weights"]).sum())
    np.testing.assert_allclose(ll_full, ll_stats, rtol=1e-12)


def test_spend_stats_fit_gamma_gamma() -> None:
    truth = GammaGamma.from_params(p=6.0, q=4.0, gamma=15.0)
    view = truth.sample(3000, frequency=[0, 1, 2, 5], seed=2)
    view["monetary_value"] = view["monetary_value"].round(0)  # whole dollars repeat
    stats = sufficient_stats(view, SPEND_COLUMNS)
    assert len(stats) < len(view)
    fitted = GammaGamma().fit(stats, weights=stats["weights"])
    direct = GammaGamma().fit(view)
    np.testing.assert_allclose(fitted.log_likelihood_, direct.log_likelihood_, rtol=1e-10)
    assert fitted.n_ignored_ == direct.n_ignored_ == float((view["frequency"] == 0).sum())


def test_resolution_rounds_only_continuous_columns() -> None:
    view = _view(frequency=[1, 1, 2], recency=[1.2, 1.4, 2.6], T=[10.26, 10.24, 10.0])
    exact = sufficient_stats(view)
    assert len(exact) == 3
    rounded = sufficient_stats(view, resolution=0.5)
    assert rounded["recency"].tolist() == [1.0, 1.5, 2.5]
    assert rounded["T"].tolist() == [10.5, 10.0, 10.0]
    assert rounded["frequency"].tolist() == [1, 1, 2]
    one = sufficient_stats(view, resolution={"T": 1.0})
    assert one["recency"].tolist() == [1.2, 1.4, 2.6] and one["T"].tolist() == [10.0] * 3
    # rounding keeps recency <= T (both rounded the same, monotone way)
    coarse = sufficient_stats(_view(frequency=[1], recency=[9.9], T=[10.1]), resolution=7.0)
    assert coarse["recency"].iloc[0] <= coarse["T"].iloc[0]


def test_negative_zero_is_zero() -> None:
    view = _view(frequency=[0, 0], recency=[0.0, -0.0], T=[5.0, 5.0])
    stats = sufficient_stats(view)
    assert stats["weights"].tolist() == [2]
    assert not np.signbit(stats["recency"].to_numpy()).any()


def test_every_problem_listed_with_customer_ids() -> None:
    view = _view(
        frequency=[1.0, 1.5, -1.0, 2.0], recency=[np.nan, 1.0, 1.0, 3.0], T=[5.0, 5.0, np.inf, 4.0]
    )
    with pytest.raises(SchemaError) as info:
        sufficient_stats(view)
    found = {(f.column, f.check): f for f in info.value.failures}
    assert found["frequency", "must hold whole numbers"].rows == ("c1",)
    assert found["frequency", "is negative"].rows == ("c2",)
    assert found["recency", "has missing, NaN or infinite values"].rows == ("c0",)
    assert found["T", "has missing, NaN or infinite values"].rows == ("c2",)
    bad_order = _view(frequency=[1, 1], recency=[2.0, 6.0], T=[5.0, 5.0])
    with pytest.raises(SchemaError, match="greater than T") as info2:
        sufficient_stats(bad_order)
    assert info2.value.failures[0].rows == ("c1",)
    assert info2.value.failures[0].values == (6.0,)


def test_polars_errors_name_customers() -> None:
    pl = pytest.importorskip("polars")
    frame = pl.DataFrame(
        {"customer_id": ["a", "b"], "frequency": [1, None], "recency": [1.0, 2.0], "T": [3.0, 3.0]}
    )
    with pytest.raises(SchemaError, match="missing values") as info:
        sufficient_stats(frame)
    assert info.value.failures[0].rows == ("b",)


def test_structural_errors() -> None:
    with pytest.raises(SchemaError, match="is missing"):
        sufficient_stats(_view(frequency=[1], recency=[1.0]))
    with pytest.raises(SchemaError, match="must be numeric"):
        sufficient_stats(_view(frequency=[True], recency=[1.0], T=[2.0]))
    with pytest.raises(SchemaError, match="no customers"):
        sufficient_stats(_view(frequency=[], recency=[], T=[]))
    with pytest.raises(InvalidParameterError, match=r"'view' must be a data frame.*; got dict"):
        sufficient_stats({"frequency": [1]})


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"columns": "frequency"}, "non-empty sequence"),
        ({"columns": []}, "non-empty sequence"),
        ({"columns": ["T", "T"]}, "distinct"),
        ({"columns": ["frequency", "weights"]}, "count column"),
        ({"resolution": 0.0}, "finite float > 0"),
        ({"resolution": float("nan")}, "finite float > 0"),
        ({"resolution": True}, "finite float > 0"),
        ({"resolution": {"frequency": 1.0}}, "whole-number column"),
        ({"resolution": {"monetary_value": 1.0}}, "not one of columns"),
        ({"resolution": {"T": -1}}, "finite float > 0"),
    ],
)
def test_bad_parameters(kwargs: dict[str, object], match: str) -> None:
    view = _view(frequency=[1], recency=[1.0], T=[2.0])
    with pytest.raises(InvalidParameterError, match=match):
        sufficient_stats(view, **kwargs)  # type: ignore[arg-type]


def test_view_not_mutated() -> None:
    view = _view(frequency=[1, 1], recency=[1.0, 1.0], T=[2.0, 2.0])
    before = view.copy(deep=True)
    sufficient_stats(view, resolution=0.5)
    pd.testing.assert_frame_equal(view, before)
