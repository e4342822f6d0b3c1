"""Shared data and comparisons for the engine tests (CDNOW, with product and cost)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

import crmkit
from crmkit.engines import SPEND_COLUMNS, score, sufficient_stats
from crmkit.exceptions import DataWarning
from crmkit.value._bgnbd import BetaGeo
from crmkit.value._gammagamma import GammaGamma

AS_OF = "1997-09-30"
HORIZON = 52.0
SCORE_OPTIONS: dict[str, Any] = {"horizon": HORIZON, "discount_rate": 0.1, "time_unit": "W"}
EXACT = (
    "frequency",
    "recency",
    "T",
    "tenure",
    "n_transactions",
    "n_products",
    "purchase_trend",
    "mean_interpurchase",
    "days_since_last",
)
SUMS = ("monetary_value", "revenue", "margin")


def transactions() -> pd.DataFrame:
    """All CDNOW transactions (some after AS_OF), with a product and a cost column."""
    tx = crmkit.datasets.load_cdnow()
    return tx.assign(product=(tx["quantity"] % 3).astype(str), cost=tx["amount"] * 0.6)


def pandas_view(tx: pd.DataFrame) -> pd.DataFrame:
    """The reference customer view, from the pandas implementation."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        view: pd.DataFrame = crmkit.summarize(tx, as_of=AS_OF, time_unit="W")
    return view


def fitted_models(view: pd.DataFrame) -> tuple[BetaGeo, GammaGamma]:
    """BG/NBD and Gamma-Gamma fitted on the pandas view's sufficient statistics."""
    stats = sufficient_stats(view)
    bg = BetaGeo().fit(stats, weights=stats["weights"])
    spend = sufficient_stats(view, SPEND_COLUMNS)
    gg = GammaGamma().fit(spend, weights=spend["weights"])
    return bg, gg


def pandas_scores(view: pd.DataFrame, models: tuple[BetaGeo, GammaGamma]) -> pd.DataFrame:
    """The reference scores, from the pandas path."""
    out: pd.DataFrame = score(view, models[0], spend_model=models[1], **SCORE_OPTIONS)
    return out


def by_customer(frame: pd.DataFrame) -> pd.DataFrame:
    """A collected engine result as pandas, indexed and sorted by customer id."""
    out = frame.set_index("customer_id").sort_index()
    out.index = out.index.astype(str)
    return out


def assert_view_equal(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    """Same customers and columns, every value identical (money too)."""
    got = by_customer(got)
    assert got.index.tolist() == expected.index.astype(str).tolist()
    assert list(got.columns) == list(expected.columns)
    for col in expected.columns:
        a = got[col]
        b = expected[col]
        if col in ("first_purchase", "last_purchase"):
            assert (
                pd.to_datetime(a).to_numpy("datetime64[ns]") == b.to_numpy("datetime64[ns]")
            ).all(), col
        elif col in EXACT:
            np.testing.assert_array_equal(a.to_numpy(float), b.to_numpy(float), err_msg=col)
        else:
            assert col in SUMS, col
            # money is summed in integer micro-units: identical whatever the engine's order
            np.testing.assert_array_equal(a.to_numpy(float), b.to_numpy(float), err_msg=col)


def assert_scores_equal(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    """Scores of an engine equal the pandas path's, bit for bit."""
    got = by_customer(got)
    assert got.index.tolist() == expected.index.astype(str).tolist()
    for col in ("p_alive", "expected_purchases", "clv"):
        np.testing.assert_array_equal(
            got[col].to_numpy(float), expected[col].to_numpy(float), err_msg=col
        )
    assert np.isfinite(got[["p_alive", "expected_purchases", "clv"]].to_numpy()).all()
