"""PySpark (one local[2] session for the module) gives exactly the pandas results.

Run with ``-m spark``; skipped with the reason when pyspark or Java is missing.
"""

from __future__ import annotations

import os
import shutil
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest

import crmkit
from crmkit.engines import SPEND_COLUMNS, engine_of, score, sufficient_stats
from crmkit.exceptions import DataWarning, SchemaError
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

pyspark = pytest.importorskip(
    "pyspark", reason="pyspark is not installed (pip install crmkit[spark])"
)
if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
    pytest.skip(
        "Java is not installed (PySpark needs a JVM, e.g. OpenJDK 17)", allow_module_level=True
    )

pytestmark = [
    pytest.mark.spark,
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning"),
    # PySpark 4 passes pandas 3 a deprecated copy= keyword
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
]


@pytest.fixture(scope="module")
def tx() -> pd.DataFrame:
    return transactions()


@pytest.fixture(scope="module")
def view(tx: pd.DataFrame) -> pd.DataFrame:
    return pandas_view(tx)


@pytest.fixture(scope="module")
def models(view: pd.DataFrame) -> tuple[Any, Any]:
    return fitted_models(view)


@pytest.fixture(scope="module")
def spark_view(spark: Any, tx: pd.DataFrame) -> Any:
    # CDNOW has transactions after the calibration end: dropped with a warning
    with pytest.warns(DataWarning, match="dated after as_of"):
        return crmkit.summarize(spark.createDataFrame(tx), as_of=AS_OF, time_unit="W")


def test_summarize_matches_pandas(spark_view: Any, view: pd.DataFrame) -> None:
    assert engine_of(spark_view) == "pyspark"
    assert_view_equal(spark_view.toPandas(), view)


def test_stats_and_fit_on_the_lazy_view(spark_view: Any, view: pd.DataFrame, models: Any) -> None:
    stats = sufficient_stats(spark_view)
    pd.testing.assert_frame_equal(stats, sufficient_stats(view), check_exact=True)
    fitted = BetaGeo().fit(stats, weights=stats["weights"])
    assert fitted.params_ == models[0].params_


def test_scores_match_pandas(spark: Any, view: pd.DataFrame, models: Any) -> None:
    frame = spark.createDataFrame(view.reset_index())  # 2 partitions, batches of 500
    spend = sufficient_stats(frame, SPEND_COLUMNS)
    pd.testing.assert_frame_equal(spend, sufficient_stats(view, SPEND_COLUMNS), check_exact=True)
    got = score(frame, models[0], spend_model=models[1], **SCORE_OPTIONS)
    assert engine_of(got) == "pyspark"  # lazy: mapInPandas
    assert got.columns == ["customer_id", *view.columns, "p_alive", "expected_purchases", "clv"]
    assert {f.name: f.dataType.typeName() for f in got.schema.fields}["clv"] == "double"
    assert_scores_equal(got.toPandas(), pandas_scores(view, models))


def test_bad_values_name_customers(spark: Any, view: pd.DataFrame, models: Any) -> None:
    bad = view.reset_index().head(50)
    bad.loc[bad["customer_id"] == "00004", "recency"] = -2.0
    frame = spark.createDataFrame(bad)
    with pytest.raises(SchemaError, match="negative") as info:
        sufficient_stats(frame)
    assert info.value.failures[0].rows == ("00004",)
    assert info.value.failures[0].values == (-2.0,)
    # on the executors the same check fails inside the task; Spark reports its text
    with pytest.raises(Exception, match="SchemaError") as exc:
        score(frame, models[0], horizon=52).collect()
    assert "00004" in str(exc.value)


def test_spend_is_identical_on_every_engine(spark: Any, tx: pd.DataFrame) -> None:
    # the same transactions on pandas, polars, DuckDB, Dask and Spark: the money columns
    # (summed in integer micro-units) and the spend statistics agree bit for bit
    pl = pytest.importorskip("polars")
    duckdb = pytest.importorskip("duckdb")
    dd = pytest.importorskip("dask.dataframe")
    rng = np.random.default_rng(11)
    noisy = tx.assign(
        amount=tx["amount"] * rng.uniform(0.5, 1.5, len(tx)),
        cost=tx["amount"] * rng.uniform(0.1, 0.9, len(tx)),
    )
    noisy = noisy.sample(frac=1.0, random_state=2)
    frames = {
        "polars": lambda: pl.from_pandas(noisy).lazy(),
        "duckdb": lambda: duckdb.from_df(noisy),
        "dask": lambda: dd.from_pandas(noisy, npartitions=4),
        "spark": lambda: spark.createDataFrame(noisy),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        ref = crmkit.summarize(noisy.sort_values("date"), as_of=AS_OF, time_unit="W")
        views = {
            name: crmkit.summarize(make(), as_of=AS_OF, time_unit="W")
            for name, make in frames.items()
        }
    collect = {
        "polars": lambda v: v.collect().to_pandas(),
        "duckdb": lambda v: v.df(),
        "dask": lambda v: v.compute(),
        "spark": lambda v: v.toPandas(),
    }
    spend = sufficient_stats(ref, SPEND_COLUMNS)
    for name, view in views.items():
        got = collect[name](view).set_index("customer_id").sort_index()
        for col in ("revenue", "monetary_value", "margin"):
            np.testing.assert_array_equal(
                got[col].to_numpy(float), ref[col].to_numpy(float), err_msg=f"{name}: {col}"
            )
        pd.testing.assert_frame_equal(
            sufficient_stats(view, SPEND_COLUMNS), spend, check_exact=True, obj=name
        )


def test_analyses_inside_spark_equal_pandas(
    spark: Any, tx: pd.DataFrame, view: pd.DataFrame
) -> None:
    from crmkit.analysis import decile_profiles, gini, pareto_table, value_pivot

    frame = spark.createDataFrame(view.reset_index())
    for by, q in (("revenue", 10), ("margin", 3)):
        pd.testing.assert_frame_equal(
            pareto_table(frame, by=by, q=q), pareto_table(view, by=by, q=q), check_exact=True
        )
    assert gini(frame) == gini(view["revenue"])
    got = value_pivot(spark.createDataFrame(tx), by="quarter", values="margin")
    pd.testing.assert_frame_equal(
        got, value_pivot(tx, by="quarter", values="margin"), check_exact=True
    )
    profiled = view.drop(columns="margin").assign(  # margin = 0.6 x revenue: lifts tie
        industry=np.where(np.arange(len(view)) % 3 == 0, "retail", "it")
    )
    for by, q in (("revenue", 10), ("frequency", 4)):
        pd.testing.assert_frame_equal(
            decile_profiles(spark.createDataFrame(profiled.reset_index()), by, q),
            decile_profiles(profiled, by, q),
            check_exact=False,
            rtol=1e-12,
        )
