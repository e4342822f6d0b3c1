"""The aggregate analyses computed inside polars, DuckDB and Dask equal pandas exactly."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from crmkit.analysis import (
    composition_vs_market,
    decile_profiles,
    gini,
    pareto_table,
    value_pivot,
)
from crmkit.exceptions import DataWarning, SchemaError
from tests.engines._data import pandas_view, transactions

pl = pytest.importorskip("polars")
duckdb = pytest.importorskip("duckdb")
pytest.importorskip("pyarrow")


def _dask(frame: pd.DataFrame) -> Any:
    dd = pytest.importorskip("dask.dataframe")
    return dd.from_pandas(frame, npartitions=3)


ENGINES: dict[str, Callable[[pd.DataFrame], Any]] = {
    "polars": pl.from_pandas,
    "polars-lazy": lambda d: pl.from_pandas(d).lazy(),
    "duckdb": lambda d: duckdb.from_df(d),
    "dask": _dask,
}


@pytest.fixture(scope="module")
def view() -> pd.DataFrame:
    return pandas_view(transactions())


@pytest.mark.parametrize("engine", list(ENGINES))
@pytest.mark.parametrize(("by", "q"), [("revenue", 10), ("margin", 7), ("frequency", 4)])
def test_pareto_table_equals_pandas(engine: str, by: str, q: int, view: pd.DataFrame) -> None:
    expected = pareto_table(view, by=by, q=q)
    # row order never matters: shuffle before handing the view to the engine
    frame = view.reset_index().sample(frac=1.0, random_state=3)
    got = pareto_table(ENGINES[engine](frame), by=by, q=q)
    pd.testing.assert_frame_equal(got, expected, check_exact=True)


@pytest.mark.parametrize("engine", list(ENGINES))
def test_gini_equals_pandas(engine: str, view: pd.DataFrame) -> None:
    expected = gini(view["revenue"])
    assert gini(view) == expected
    assert gini(ENGINES[engine](view.reset_index())) == expected
    assert gini(ENGINES[engine](view.reset_index()), by="frequency") == gini(view["frequency"])


@pytest.mark.parametrize("engine", list(ENGINES))
def test_negative_values_raise_or_clip_as_on_pandas(engine: str) -> None:
    margin = pd.DataFrame(
        {"customer_id": list("abcdef"), "margin": [90.0, -5.0, 30.0, 0.0, -1.0, 12.5]}
    )
    frame = ENGINES[engine](margin)
    with pytest.raises(SchemaError, match="negative") as info:
        gini(frame, by="margin")
    assert info.value.failures[0].n_failing == 2
    assert sorted(info.value.failures[0].rows) == ["b", "e"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        expected = pareto_table(margin.set_index("customer_id"), by="margin", q=3,
                                negative="clip")
    with pytest.warns(DataWarning, match="2 negative margin"):
        got = pareto_table(frame, by="margin", q=3, negative="clip")
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    # kept (the whale curve): shares of the net total
    kept = pareto_table(frame, by="margin", q=3)
    pd.testing.assert_frame_equal(
        kept, pareto_table(margin.set_index("customer_id"), by="margin", q=3), check_exact=True
    )


@pytest.mark.parametrize("engine", list(ENGINES))
def test_bad_engine_views_name_the_problem(engine: str) -> None:
    bad = pd.DataFrame({"customer_id": [1, 2, 2], "revenue": [1.0, np.nan, 3.0]})
    with pytest.raises(SchemaError) as info:
        pareto_table(ENGINES[engine](bad), q=2)
    text = str(info.value)
    assert "revenue" in text and "customer_id" in text and "duplicate" in text
    with pytest.raises(SchemaError, match=r"'clv'.*missing"):
        gini(ENGINES[engine](bad), by="clv")
    with pytest.raises(SchemaError, match="at least q=5"):
        pareto_table(ENGINES[engine](bad.drop_duplicates("customer_id").fillna(1.0)), q=5)


@pytest.fixture(scope="module")
def tx() -> pd.DataFrame:
    return transactions()


@pytest.mark.parametrize("engine", list(ENGINES))
@pytest.mark.parametrize(
    ("by", "values"),
    [("product", "revenue"), ("quarter", "margin"), ("month", "count"), ("year", "quantity")],
)
def test_value_pivot_equals_pandas(engine: str, by: str, values: str, tx: pd.DataFrame) -> None:
    expected = value_pivot(tx, by=by, values=values)
    got = value_pivot(ENGINES[engine](tx.sample(frac=1.0, random_state=5)), by=by, values=values)
    pd.testing.assert_frame_equal(got, expected, check_exact=True)


@pytest.mark.parametrize("engine", list(ENGINES))
def test_value_pivot_refuses_missing_keys_and_costs(engine: str, tx: pd.DataFrame) -> None:
    bad = tx.head(20).astype({"cost": "float64"})
    bad.loc[bad.index[:3], "cost"] = np.nan
    bad.loc[bad.index[5], "product"] = None
    with pytest.raises(SchemaError) as info:
        value_pivot(ENGINES[engine](bad), by="product", values="margin")
    by_column = {f.column: f.n_failing for f in info.value.failures}
    assert by_column == {"product": 1, "cost": 3}
    with pytest.raises(SchemaError, match=r"'channel'.*missing"):
        value_pivot(ENGINES[engine](tx.head(5)), by="channel")


def _profiles() -> pd.DataFrame:
    rng = np.random.default_rng(8)
    n = 600
    return pd.DataFrame(
        {
            "customer_id": np.arange(n),
            "industry": rng.choice(
                ["ict", "retail", "health", "energy"], n, p=[0.4, 0.3, 0.2, 0.1]
            ),
            "size_class": rng.choice(["s", "m", "l"], n),
        }
    ).sample(frac=1.0, random_state=1)


@pytest.mark.parametrize("engine", list(ENGINES))
def test_composition_vs_market_equals_pandas(engine: str) -> None:
    base = _profiles()
    market = {"ict": 2000, "retail": 5000, "health": 3000, "energy": 1000}
    expected = composition_vs_market(base.set_index("customer_id"), market)
    got = composition_vs_market(ENGINES[engine](base), market)
    pd.testing.assert_frame_equal(got.table, expected.table, check_exact=True)
    assert (got.statistic, got.pvalue, got.dof, got.n_customers) == (
        expected.statistic, expected.pvalue, expected.dof, expected.n_customers)
    cells = pd.Series(
        1.0, index=pd.MultiIndex.from_product([["ict", "retail", "health", "energy"],
                                               ["s", "m", "l"]])
    )
    two = composition_vs_market(ENGINES[engine](base), cells, by=["industry", "size_class"])
    ref = composition_vs_market(base, cells, by=["industry", "size_class"])
    pd.testing.assert_frame_equal(two.table, ref.table, check_exact=True)


@pytest.mark.parametrize("engine", list(ENGINES))
def test_composition_refuses_duplicates_and_missing_profiles(engine: str) -> None:
    base = pd.DataFrame({"customer_id": [1, 1, 2], "industry": ["ict", None, "retail"]})
    with pytest.raises(SchemaError) as info:
        composition_vs_market(ENGINES[engine](base), {"ict": 0.5, "retail": 0.5})
    assert {f.column: f.n_failing for f in info.value.failures} == {
        "customer_id": 1, "industry": 1}


def _profiled_view(view: pd.DataFrame) -> pd.DataFrame:
    """The view with categorical columns (one with missing values) and no proportional margin.

    ``margin`` is 0.6 x ``revenue`` here: their lifts tie exactly, and engine
    means (summed in another order) could flip the tie in ``distinguishing``.
    """
    rng = np.random.default_rng(0)
    size = pd.Series(rng.choice(np.array(["s", "m", None], dtype=object), len(view)))
    return view.drop(columns="margin").assign(
        industry=rng.choice(["retail", "it", "services"], len(view)),
        size_class=size.to_numpy(),
    )


@pytest.mark.parametrize("engine", list(ENGINES))
@pytest.mark.parametrize(("by", "q"), [("revenue", 10), ("frequency", 4), ("days_since_last", 3)])
def test_decile_profiles_equal_pandas(engine: str, by: str, q: int, view: pd.DataFrame) -> None:
    profiled = _profiled_view(view)
    expected = decile_profiles(profiled, by, q)
    frame = profiled.reset_index().sample(frac=1.0, random_state=3)
    got = decile_profiles(ENGINES[engine](frame), by, q)
    # counts and texts exactly; sums, means and medians (midpoints) to float tolerance
    pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=1e-12)
    floats = ("mean_", "median_", "lift_", "value_", "cum_")
    exact = [c for c in expected.columns if not c.startswith(floats)]
    pd.testing.assert_frame_equal(got[exact], expected[exact], check_exact=True)


@pytest.mark.parametrize("engine", list(ENGINES))
def test_decile_profiles_cut_ties_by_customer_id(engine: str) -> None:
    view = pd.DataFrame(
        {"revenue": [5.0, 1.0, 5.0, 5.0, 2.0, 5.0, 0.0], "industry": list("abababa")},
        index=pd.Index([7, 3, 1, 9, 4, 2, 8], name="customer_id"),
    )
    expected = decile_profiles(view, "revenue", 3, columns=["revenue"], min_count=1)
    got = decile_profiles(ENGINES[engine](view.reset_index()), "revenue", 3, columns=["revenue"],
                          min_count=1)  # fmt: skip
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    with pytest.raises(SchemaError, match="needs at least q=8"):
        decile_profiles(ENGINES[engine](view.reset_index()), "revenue", 8)
