"""The CDNOW calibration summary equals the papers' definitions."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import crmkit
from crmkit.datasets import CDNOW_CALIBRATION_END, load_cdnow
from crmkit.exceptions import DataWarning
from tests.unit.data._reference import naive_summary


@pytest.fixture(scope="module")
def cdnow_view() -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        return crmkit.summarize(load_cdnow(), as_of=CDNOW_CALIBRATION_END, time_unit="W")


def test_published_counts(cdnow_view: pd.DataFrame) -> None:
    # Fader, Hardie & Lee (2005): 2,357 customers, 1,411 of them without repeat purchases.
    assert len(cdnow_view) == 2357
    assert int((cdnow_view["frequency"] > 0).sum()) == 946
    assert int((cdnow_view["frequency"] == 0).sum()) == 1411
    # the cohort bought first in Q1 1997: T is between 26 and 38.86 weeks
    assert cdnow_view["T"].max() == pytest.approx(38.857, abs=0.005)
    assert cdnow_view["T"].min() > 26


def test_published_first_rows(cdnow_view: pd.DataFrame) -> None:
    # the first customers of the published summary (ID 1, 2, 6 of the papers' file)
    assert cdnow_view.loc["00004", ["frequency", "recency", "T"]].tolist() == pytest.approx(
        [2, 30.43, 38.86], abs=0.005
    )
    assert cdnow_view.loc["00021", ["frequency", "recency", "T"]].tolist() == pytest.approx(
        [1, 1.71, 38.86], abs=0.005
    )


def test_equals_naive_reference(cdnow_view: pd.DataFrame) -> None:
    tx = load_cdnow()
    rows = list(zip(tx["customer_id"], tx["date"], tx["amount"], strict=True))
    ref = naive_summary(rows, pd.Timestamp(CDNOW_CALIBRATION_END), 7.0)
    assert set(ref) == set(cdnow_view.index)
    for col in ("frequency", "recency", "T", "monetary_value", "revenue", "n_transactions"):
        expected = np.array([ref[c][col] for c in cdnow_view.index])
        tol = 0.005 if col in ("recency", "T") else 0.01
        np.testing.assert_allclose(cdnow_view[col].to_numpy(dtype=float), expected, atol=tol)
        np.testing.assert_allclose(cdnow_view[col].to_numpy(dtype=float), expected, rtol=1e-12,
                                   atol=1e-9)


def test_ids_kept_exactly(cdnow_view: pd.DataFrame) -> None:
    assert cdnow_view.index.name == "customer_id"
    assert cdnow_view.index[0] == "00004"
    assert cdnow_view.index.is_monotonic_increasing
    assert cdnow_view.index.is_unique


def test_dropped_rows_are_reported() -> None:
    tx = load_cdnow()
    n_late = int((tx["date"] > pd.Timestamp(CDNOW_CALIBRATION_END)).sum())
    with pytest.warns(DataWarning, match=f"dropped {n_late} transaction rows"):
        data = crmkit.CustomerData.from_frames(transactions=tx, as_of=CDNOW_CALIBRATION_END)
    assert data.report.n_dropped == n_late
    assert data.report.dropped[0].kind == "transactions"
