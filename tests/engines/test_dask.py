"""Dask (a 2-worker LocalCluster, threads) gives exactly the pandas results.

Run with ``-m dask``; skipped with the reason when dask.distributed is missing.
"""

from __future__ import annotations

from collections.abc import Iterator
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

dd = pytest.importorskip(
    "dask.dataframe", reason="dask is not installed (pip install crmkit[dask])"
)
distributed = pytest.importorskip(
    "distributed", reason="dask.distributed is not installed (pip install crmkit[dask])"
)

pytestmark = [
    pytest.mark.dask,
    # narwhals announces that its Dask support moves to the narwhals-dask package
    pytest.mark.filterwarnings("ignore:.*narwhals-dask.*:FutureWarning"),
]


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    import dask

    # two workers in this process (fast to start; Spark tests run real Python workers)
    with (
        dask.config.set({"dataframe.shuffle.method": "tasks"}),
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


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
def dask_view(client: Any, tx: pd.DataFrame) -> Any:
    # CDNOW has transactions after the calibration end: dropped with a warning
    with pytest.warns(DataWarning, match="dated after as_of"):
        return crmkit.summarize(dd.from_pandas(tx, npartitions=3), as_of=AS_OF, time_unit="W")


def test_summarize_matches_pandas(client: Any, view: pd.DataFrame, dask_view: Any) -> None:
    assert engine_of(dask_view) == "dask"
    assert_view_equal(dask_view.compute().reset_index(drop=True), view)


def test_stats_and_fit_on_the_lazy_view(
    client: Any, view: pd.DataFrame, dask_view: Any, models: Any
) -> None:
    stats = sufficient_stats(dask_view)
    pd.testing.assert_frame_equal(stats, sufficient_stats(view), check_exact=True)
    fitted = BetaGeo().fit(stats, weights=stats["weights"])
    assert fitted.params_ == models[0].params_


def test_scores_match_pandas(client: Any, view: pd.DataFrame, models: Any) -> None:
    frame = dd.from_pandas(view.reset_index(), npartitions=4)
    spend = sufficient_stats(frame, SPEND_COLUMNS)
    pd.testing.assert_frame_equal(spend, sufficient_stats(view, SPEND_COLUMNS), check_exact=True)
    got = score(frame, models[0], spend_model=models[1], **SCORE_OPTIONS)
    assert engine_of(got) == "dask"  # lazy: map_partitions
    assert_scores_equal(got.compute(), pandas_scores(view, models))


def test_bad_values_name_customers(client: Any, view: pd.DataFrame) -> None:
    bad = view.reset_index()
    bad.loc[bad["customer_id"] == "00004", "T"] = np.nan
    with pytest.raises(SchemaError, match="NaN") as info:
        sufficient_stats(dd.from_pandas(bad, npartitions=2))
    assert info.value.failures[0].rows == ("00004",)
