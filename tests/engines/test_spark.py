"""PySpark (one local[2] session for the module) gives exactly the pandas results.

Run with ``-m spark``; skipped with the reason when pyspark or Java is missing.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from typing import Any

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
def spark() -> Iterator[Any]:
    from pyspark.sql import SparkSession

    # executors must run the same Python, with crmkit installed
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    session = (
        SparkSession.builder.master("local[2]")
        .appName("crmkit-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", "500")
        # short jobs: the C1 JIT starts the JVM faster
        .config("spark.driver.extraJavaOptions", "-XX:TieredStopAtLevel=1")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


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
