"""Properties of summarize under hypothesis-generated transactions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import crmkit
from tests.unit.data._reference import naive_summary

AS_OF = pd.Timestamp("2024-12-31")
pytestmark = pytest.mark.filterwarnings("ignore::crmkit.exceptions.DataWarning")


@st.composite
def transactions(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(1, 40))
    use_str = draw(st.booleans())
    raw_ids = draw(st.lists(st.integers(0, 8), min_size=n, max_size=n))
    ids = [f"c{i}" for i in raw_ids] if use_str else raw_ids
    days = draw(st.lists(st.integers(0, 700), min_size=n, max_size=n))
    hours = draw(st.lists(st.integers(0, 23), min_size=n, max_size=n))
    cents = draw(st.lists(st.integers(-5_000, 200_000), min_size=n, max_size=n))
    products = draw(st.lists(st.sampled_from(["a", "b", "c", None]), min_size=n, max_size=n))
    dates = pd.Timestamp("2023-01-01") + pd.to_timedelta(days, unit="D") + pd.to_timedelta(
        hours, unit="h")
    return pd.DataFrame({"customer_id": ids, "date": dates,
                         "amount": np.array(cents, dtype=float) / 100, "product": products})


def _view(tx: pd.DataFrame) -> pd.DataFrame:
    return crmkit.summarize(tx, as_of=AS_OF, time_unit="W")


@settings(max_examples=60, deadline=None)
@given(transactions(), st.randoms(use_true_random=False))
def test_invariant_to_row_order_index_and_extra_columns(tx: pd.DataFrame, rnd: object) -> None:
    base = _view(tx)
    perm = np.random.default_rng(len(tx)).permutation(len(tx))
    shuffled = tx.iloc[perm].copy()
    shuffled.index = pd.Index([f"r{i}" for i in range(len(tx))])
    shuffled["unrelated"] = "noise"
    shuffled["T"] = 99  # a column named like a view column is just an extra column
    other = _view(shuffled)
    pd.testing.assert_frame_equal(base, other, check_exact=False, rtol=1e-12, atol=1e-9)


@settings(max_examples=60, deadline=None)
@given(transactions())
def test_no_input_mutated(tx: pd.DataFrame) -> None:
    before = tx.copy(deep=True)
    _view(tx)
    pd.testing.assert_frame_equal(tx, before, check_exact=True)


@settings(max_examples=60, deadline=None)
@given(transactions())
def test_equals_naive_reference_and_invariants(tx: pd.DataFrame) -> None:
    view = _view(tx)
    rows = list(zip(tx["customer_id"], tx["date"], tx["amount"], strict=True))
    ref = naive_summary(rows, AS_OF, 7.0)
    assert set(view.index) == set(ref)
    for cid, expected in ref.items():
        for col, value in expected.items():
            assert view.loc[cid, col] == pytest.approx(value, rel=1e-9, abs=1e-9), (cid, col)
    assert (view["frequency"] >= 0).all()
    assert view["frequency"].dtype == np.int64
    assert ((view["recency"] >= 0) & (view["recency"] <= view["T"])).all()
    assert view["purchase_trend"].between(-1, 1).all()
    n_products = tx.dropna(subset=["product"]).groupby("customer_id")["product"].nunique()
    assert (view["n_products"] == n_products.reindex(view.index).fillna(0)).all()


@settings(max_examples=40, deadline=None)
@given(transactions())
def test_equivariant_to_id_relabelling(tx: pd.DataFrame) -> None:
    view = _view(tx)
    relabel = {cid: f"new-{cid}" for cid in tx["customer_id"].unique()}
    other = _view(tx.assign(customer_id=tx["customer_id"].map(relabel)))
    other = other.rename(index={v: k for k, v in relabel.items()}).loc[view.index]
    other.index = view.index
    pd.testing.assert_frame_equal(view, other, check_exact=False, rtol=1e-12, atol=1e-9)


@settings(max_examples=40, deadline=None)
@given(transactions())
def test_pandas_and_polars_agree(tx: pd.DataFrame) -> None:
    pl = pytest.importorskip("polars")
    expected = _view(tx).reset_index()
    got = crmkit.summarize(pl.from_pandas(tx), as_of=AS_OF, time_unit="W").to_pandas()
    for col in got.columns:
        if col == "customer_id":
            assert got[col].tolist() == expected[col].tolist()
        elif col in ("first_purchase", "last_purchase"):
            assert (pd.to_datetime(got[col]) == expected[col]).all()
        else:
            np.testing.assert_allclose(got[col].to_numpy(dtype=float),
                                       expected[col].to_numpy(dtype=float),
                                       rtol=1e-12, atol=1e-9, equal_nan=True, err_msg=col)


def test_duckdb_agrees_with_pandas() -> None:
    duckdb = pytest.importorskip("duckdb")
    pytest.importorskip("pyarrow")
    tx = crmkit.datasets.load_cdnow()
    tx_cal = tx[tx["date"] <= "1997-09-30"]
    expected = crmkit.summarize(tx_cal, as_of="1997-09-30")
    rel = duckdb.from_df(tx_cal)
    got = crmkit.summarize(rel, as_of="1997-09-30").df().set_index("customer_id")
    for col in ("frequency", "recency", "T", "monetary_value", "revenue", "n_transactions"):
        np.testing.assert_allclose(got[col].to_numpy(dtype=float),
                                   expected[col].to_numpy(dtype=float), rtol=1e-12, atol=1e-9)
