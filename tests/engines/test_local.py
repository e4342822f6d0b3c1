"""polars and DuckDB inputs give exactly the pandas results (summarize, stats, fit, scores)."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

import crmkit
from crmkit.engines import SPEND_COLUMNS, engine_of, score, sufficient_stats
from crmkit.exceptions import DataWarning, InvalidParameterError
from crmkit.value._bgnbd import BetaGeo
from tests.engines._data import (
    AS_OF,
    SCORE_OPTIONS,
    assert_scores_equal,
    assert_view_equal,
    fitted_models,
    pandas_scores,
    pandas_view,
    transactions,
)

pl = pytest.importorskip("polars")
duckdb = pytest.importorskip("duckdb")
pytest.importorskip("pyarrow")

ENGINES: dict[str, tuple[Callable[[pd.DataFrame], Any], Callable[[Any], pd.DataFrame]]] = {
    "polars": (pl.from_pandas, lambda f: f.to_pandas()),
    "polars-lazy": (lambda d: pl.from_pandas(d).lazy(), lambda f: f.collect().to_pandas()),
    "duckdb": (lambda d: duckdb.from_df(d), lambda f: f.df()),
}


@pytest.fixture(scope="module")
def tx() -> pd.DataFrame:
    return transactions()


@pytest.fixture(scope="module")
def view(tx: pd.DataFrame) -> pd.DataFrame:
    return pandas_view(tx)


@pytest.fixture(scope="module")
def models(view: pd.DataFrame) -> tuple[Any, Any]:
    return fitted_models(view)


@pytest.mark.parametrize("engine", list(ENGINES))
def test_summarize_matches_pandas(engine: str, tx: pd.DataFrame, view: pd.DataFrame) -> None:
    make, collect = ENGINES[engine]
    with pytest.warns(DataWarning, match="dated after as_of"):
        got = crmkit.summarize(make(tx), as_of=AS_OF, time_unit="W")
    assert engine_of(got) == engine_of(make(tx.head(1)))
    assert_view_equal(collect(got), view)


@pytest.mark.parametrize("engine", list(ENGINES))
def test_stats_and_fit_match_pandas(engine: str, view: pd.DataFrame, models: Any) -> None:
    make, _ = ENGINES[engine]
    frame = make(view.reset_index())
    expected = sufficient_stats(view)
    got = sufficient_stats(frame)
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    assert int(got["weights"].sum()) == len(view)
    fitted = BetaGeo().fit(got, weights=got["weights"])
    assert fitted.params_ == models[0].params_  # bit for bit: the same table
    spend = sufficient_stats(frame, SPEND_COLUMNS)
    pd.testing.assert_frame_equal(spend, sufficient_stats(view, SPEND_COLUMNS), check_exact=True)


def test_stats_fit_equals_fit_on_every_customer(view: pd.DataFrame, models: Any) -> None:
    stats = sufficient_stats(view)
    assert len(stats) < len(view) / 2  # CDNOW: 2,357 customers
    direct = BetaGeo().fit(view)
    np.testing.assert_allclose(models[0].log_likelihood_, direct.log_likelihood_, rtol=1e-10)
    np.testing.assert_allclose(
        models[0].summary()["estimate"], direct.summary()["estimate"], rtol=1e-5
    )


@pytest.mark.parametrize("engine", list(ENGINES))
def test_scores_match_pandas(engine: str, view: pd.DataFrame, models: Any) -> None:
    make, collect = ENGINES[engine]
    expected = pandas_scores(view, models)
    frame = make(view.reset_index())
    got = score(frame, models[0], spend_model=models[1], batch_size=500, **SCORE_OPTIONS)
    assert engine_of(got) == engine_of(frame)
    assert type(got) is type(frame)  # lazy stays lazy
    out = collect(got)
    assert list(out.columns) == [
        "customer_id",
        *view.columns,
        "p_alive",
        "expected_purchases",
        "clv",
    ]
    assert_scores_equal(out, expected)


def test_full_pipeline_on_polars_lazy(tx: pd.DataFrame, view: pd.DataFrame, models: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        lazy_view = crmkit.summarize(pl.from_pandas(tx).lazy(), as_of=AS_OF)
    stats = sufficient_stats(lazy_view)
    bg = BetaGeo().fit(stats, weights=stats["weights"])
    assert bg.params_ == models[0].params_
    scored = score(lazy_view, bg, spend_model=models[1], **SCORE_OPTIONS).collect().to_pandas()
    expected = pandas_scores(view, models)
    got = scored.set_index("customer_id").sort_index()
    np.testing.assert_array_equal(got["p_alive"], expected["p_alive"])
    # monetary value is a float sum: the CLV agrees to rounding
    np.testing.assert_allclose(got["clv"], expected["clv"], rtol=1e-12)


@pytest.mark.parametrize("junk", [None, [1, 2], {"frequency": [1]}, "view.parquet"])
def test_engine_of_names_the_argument_for_a_non_frame(junk: Any) -> None:
    with pytest.raises(InvalidParameterError) as info:
        engine_of(junk)
    assert isinstance(info.value, TypeError)
    message = str(info.value)
    assert message.startswith("engine_of: 'frame' must be a data frame")
    assert message.endswith(f"; got {type(junk).__name__}")
